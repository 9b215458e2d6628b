//! Reading the NHI card (健保卡) over any [`Transport`]: SELECT its application, READ the 57-byte
//! basic data, parse it with [`NhiCardData::parse`] (lenient Big5 name with raw bytes kept, both
//! ROC dates from their own fields, the ID validated).
//!
//! The NHI card signs nothing for its holder: an NHI-card login is "this card is present and
//! read" plus the password registered for its number; the engine's
//! [`card_login`](crate::portal::card_login) does it with the card.

use std::time::Duration;

use crate::error::{Error, ErrorCode, Result};
use crate::types::NhiCardData;

use super::NhiReading;
use super::apdu::{Command, StatusWord, transmit};
use super::transport::Transport;

/// The NHI card application's identifier.
pub const NHI_AID: [u8; 16] = [
    0xD1, 0x58, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x00,
];

/// SELECT the NHI application: `00 A4 04 00 10 <AID>`.
pub fn select_command() -> Command {
    Command::new(0x00, 0xA4, 0x04, 0x00).with_data(NHI_AID)
}

/// READ the basic data: `00 CA 11 00 02 00 00 00`.
pub fn read_basic_command() -> Command {
    Command::new(0x00, 0xCA, 0x11, 0x00)
        .with_data([0x00, 0x00])
        .with_le(256)
}

/// Reads the basic data from the card behind `transport`. A card whose NHI application does not
/// answer SELECT is [`ErrorCode::CardUnsupported`].
pub fn read_basic_data(transport: &mut dyn Transport) -> Result<NhiCardData> {
    let selected = transmit(transport, &select_command())?;
    if selected.sw != StatusWord::Success {
        return Err(Error::with(
            ErrorCode::CardUnsupported,
            format!("選取健保卡應用程式失敗（狀態碼 {}）", selected.sw),
            format!(
                "the NHI application did not answer SELECT (status word {})",
                selected.sw
            ),
        ));
    }
    let data = transmit(transport, &read_basic_command())?.into_data("READ")?;
    NhiCardData::parse(&data)
}

/// Reads the NHI card in `reader` (or, without a name, in whichever reader holds one), waiting
/// up to `timeout` for a card to be inserted. Without the `card` feature this is
/// [`ErrorCode::CardSupportMissing`].
pub fn read_nhi(reader: Option<&str>, timeout: Duration) -> Result<NhiCardData> {
    read_nhi_card(reader, timeout).map(|r| r.data)
}

/// [`read_nhi`], also saying which reader the card was found in.
pub fn read_nhi_card(reader: Option<&str>, timeout: Duration) -> Result<NhiReading> {
    #[cfg(feature = "card")]
    {
        super::read_nhi_pcsc(reader, timeout)
    }
    #[cfg(not(feature = "card"))]
    {
        let _ = (reader, timeout);
        Err(Error::new(ErrorCode::CardSupportMissing))
    }
}

/// An NHI card's data as it is shown (`ecpa card read --json`, the C ABI's
/// `ecpa_nhi_card_json`): the card number and national ID masked unless revealed, dates in the
/// ROC form with their ISO twin, the name's Big5 bytes beside the decoded text.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NhiCardView {
    /// The reader it was read in; `None` for data not read from a reader.
    pub reader: Option<String>,
    /// 卡號, masked unless revealed.
    pub card_number: String,
    /// 姓名 as decoded.
    pub name: String,
    /// The name's Big5 bytes on the card, upper-case hex.
    pub name_raw: String,
    /// Whether some of the name's bytes could not be decoded.
    pub name_lossy: bool,
    /// 身分證號, masked (`A12345****`) unless revealed.
    pub national_id: String,
    /// 出生日期, ROC `yyy/mm/dd`.
    pub birth_date: String,
    /// The same date, ISO.
    pub birth_date_iso: String,
    /// `male` or `female`.
    pub sex: &'static str,
    /// 發卡日期, ROC `yyy/mm/dd`.
    pub issue_date: String,
    /// The same date, ISO.
    pub issue_date_iso: String,
}

impl NhiCardView {
    /// The view of `data`, read in `reader` if any; identifiers in full only when `reveal`.
    pub fn of(reader: Option<&str>, data: &NhiCardData, reveal: bool) -> Self {
        NhiCardView {
            reader: reader.map(str::to_owned),
            card_number: if reveal {
                data.card_number.to_string()
            } else {
                data.card_number.masked()
            },
            name: data.name.text.clone(),
            name_raw: hex::encode_upper(&data.name.raw),
            name_lossy: data.name.lossy,
            national_id: if reveal {
                data.national_id.reveal().to_owned()
            } else {
                data.national_id.masked()
            },
            birth_date: data.birth_date.to_slash(),
            birth_date_iso: data.birth_date.to_iso(),
            sex: data.sex.as_str(),
            issue_date: data.issue_date.to_slash(),
            issue_date_iso: data.issue_date.to_iso(),
        }
    }
}
