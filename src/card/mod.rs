//! Smart cards: APDUs, transports, card detection and the NHI card.
//!
//! - [`apdu`]: commands, responses, typed status words, and the one [`apdu::transmit`] routine
//!   (GET RESPONSE on `61xx`, re-send on `6Cxx`, PIN errors on `63Cx` / `6983`).
//! - [`Transport`]: the small trait card logic runs over; the PC/SC backend ([`PcscContext`],
//!   [`PcscCard`], feature `card`) and the recording and replay transports ([`replay`]).
//! - [`detect`]: which card is in a reader ([`CardKind`]).
//! - [`nhi`]: reading the NHI card's basic data (the login with it is the engine's,
//!   [`crate::portal::card_login`]: this layer knows nothing of the portal).
//! - [`SoftNhiCard`]: a software NHI card for the demo and tests, needing no hardware.
//!
//! Without the `card` feature the crate has no PC/SC dependency; [`list_readers`] and
//! [`read_nhi`] then answer [`ErrorCode::CardSupportMissing`].

pub mod apdu;
pub mod detect;
pub mod nhi;
#[cfg(feature = "card")]
#[path = "pcsc.rs"]
mod pcsc_backend;
#[cfg(feature = "card")]
pub mod pkcs11;
pub mod replay;
mod soft;
mod transport;

use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, ErrorCode, Result};

/// The port a browser's pages call the local card service on: the vendor's HiPKI local sign
/// server's, which `ecpa agent` takes by default so pages written for it work unchanged.
pub const AGENT_PORT: u16 = 61161;

pub use detect::CardKind;
pub use nhi::{NhiCardView, read_nhi, read_nhi_card};
#[cfg(feature = "card")]
pub use pcsc_backend::{CardEvent, PcscCard, PcscContext, Slot};
#[cfg(feature = "card")]
pub use pkcs11::{CardSigner, PinState, Pkcs11Module, TokenCertificate, TokenInfo};
pub use soft::SoftNhiCard;
pub use transport::Transport;

/// A reader and what it holds: the rows of `ecpa card list` and of `ecpa doctor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReaderStatus {
    /// The reader's name as PC/SC gives it.
    pub name: String,
    /// The kind of card in it ([`CardKind::Empty`] when none).
    pub kind: CardKind,
    /// The card's ATR, when a card is present (in JSON: upper-case hex).
    #[serde(serialize_with = "atr_hex")]
    pub atr: Option<Vec<u8>>,
}

fn atr_hex<S: serde::Serializer>(atr: &Option<Vec<u8>>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match atr {
        Some(a) => s.serialize_str(&hex::encode_upper(a)),
        None => s.serialize_none(),
    }
}

/// An NHI card's basic data and the reader it was read in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NhiReading {
    /// The reader's name.
    pub reader: String,
    /// The card's basic data.
    pub data: crate::types::NhiCardData,
}

/// The readers and the kind of card in each, within `timeout`: the whole probe runs on its own
/// thread, so a stuck PC/SC service makes this return [`ErrorCode::CardTimeout`] instead of
/// hanging the caller. No readers is an empty list; no service is
/// [`ErrorCode::PcscUnavailable`]; a build without the `card` feature is
/// [`ErrorCode::CardSupportMissing`].
pub fn list_readers(timeout: Duration) -> Result<Vec<ReaderStatus>> {
    #[cfg(feature = "card")]
    {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("ecpa-card-list".into())
            .spawn(move || {
                let _ = tx.send(probe_readers());
            })
            .map_err(|e| Error::internal(format!("cannot start the reader probe: {e}")))?;
        rx.recv_timeout(timeout).unwrap_or_else(|_| {
            let secs = timeout.as_secs_f64();
            Err(Error::with(
                ErrorCode::CardTimeout,
                format!("智慧卡服務在 {secs:.1} 秒內未回應"),
                format!("the smart card service did not answer within {secs:.1} s"),
            ))
        })
    }
    #[cfg(not(feature = "card"))]
    {
        let _ = timeout;
        Err(Error::new(ErrorCode::CardSupportMissing))
    }
}

#[cfg(feature = "card")]
fn probe_readers() -> Result<Vec<ReaderStatus>> {
    let ctx = PcscContext::establish()?;
    let mut out = Vec::new();
    for slot in ctx.slots()? {
        let kind = match &slot.atr {
            None => CardKind::Empty,
            Some(atr) => match ctx.connect(&slot.reader) {
                Ok(mut card) => {
                    let kind = detect::detect(&mut card);
                    // What the card said decides; a failed disconnect after it changes nothing.
                    let _ = card.disconnect();
                    kind?
                }
                // Held exclusively by another program, or pulled out meanwhile: judge by the ATR.
                Err(e) if e.code() == ErrorCode::CardInUse => detect::kind_by_atr(atr).unwrap_or(CardKind::Unknown),
                Err(e) if matches!(e.code(), ErrorCode::CardAbsent | ErrorCode::CardRemoved) => CardKind::Empty,
                Err(e) => return Err(e),
            },
        };
        out.push(ReaderStatus {
            name: slot.reader,
            atr: if kind == CardKind::Empty { None } else { slot.atr },
            kind,
        });
    }
    Ok(out)
}

/// Picks the readers `wanted` names: the exact name, else the one reader whose name starts with
/// it. Without a name, every reader.
#[cfg(feature = "card")]
fn choose_readers(names: Vec<String>, wanted: Option<&str>) -> Result<Vec<String>> {
    if names.is_empty() {
        return Err(Error::new(ErrorCode::ReaderNotFound));
    }
    let Some(wanted) = wanted else {
        return Ok(names);
    };
    if names.iter().any(|n| n == wanted) {
        return Ok(vec![wanted.to_owned()]);
    }
    let prefixed: Vec<String> = names.iter().filter(|n| n.starts_with(wanted)).cloned().collect();
    if prefixed.len() == 1 {
        return Ok(prefixed);
    }
    let list = names.join(", ");
    Err(Error::with(
        ErrorCode::ReaderNotFound,
        format!("找不到名為「{wanted}」的讀卡機（現有：{list}）"),
        format!("no reader is named \"{wanted}\" (readers: {list})"),
    ))
}

#[cfg(feature = "card")]
fn read_nhi_pcsc(reader: Option<&str>, timeout: Duration) -> Result<NhiReading> {
    let ctx = PcscContext::establish()?;
    let readers = choose_readers(ctx.reader_names()?, reader)?;
    let mut present: Vec<Slot> = ctx
        .slots()?
        .into_iter()
        .filter(|s| s.atr.is_some() && readers.contains(&s.reader))
        .collect();
    if present.is_empty() {
        let name = ctx
            .wait_for(&readers, CardEvent::Inserted, timeout)
            .map_err(|e| match e.code() {
                ErrorCode::CardTimeout => Error::with(
                    ErrorCode::CardAbsent,
                    format!("已等候 {:.1} 秒", timeout.as_secs_f64()),
                    format!("waited {:.1} s", timeout.as_secs_f64()),
                ),
                _ => e,
            })?;
        present = vec![Slot {
            reader: name,
            atr: None,
        }];
    }
    // The reader whose ATR is the NHI card's goes first; the others are tried after it.
    present.sort_by_key(|s| s.atr.as_deref().and_then(detect::kind_by_atr) != Some(CardKind::Nhi));
    let mut last = None;
    for slot in present {
        let mut card = ctx.connect(&slot.reader)?;
        let read = nhi::read_basic_data(&mut card);
        // The read decides: a disconnect failing after a card was pulled out says nothing new.
        let _ = card.disconnect();
        match read {
            Ok(data) => {
                return Ok(NhiReading {
                    reader: slot.reader,
                    data,
                });
            }
            Err(e) if e.code() == ErrorCode::CardUnsupported => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::new(ErrorCode::CardAbsent)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(not(feature = "card"))]
    #[test]
    fn without_the_feature_the_card_calls_say_so() {
        let code = |e: Error| e.code();
        assert_eq!(
            list_readers(Duration::ZERO).map_err(code),
            Err(ErrorCode::CardSupportMissing)
        );
        assert_eq!(
            read_nhi(None, Duration::ZERO).map_err(code),
            Err(ErrorCode::CardSupportMissing)
        );
    }

    #[test]
    fn reader_status_json() {
        let r = ReaderStatus {
            name: "R 00 00".into(),
            kind: CardKind::Nhi,
            atr: Some(vec![0x3B, 0xEE]),
        };
        let v = serde_json::to_value(&r).unwrap_or_default();
        assert_eq!(v["atr"], "3BEE");
        assert_eq!(v["kind"], "nhi");
        let empty = ReaderStatus {
            name: "R".into(),
            kind: CardKind::Empty,
            atr: None,
        };
        assert_eq!(
            serde_json::to_value(&empty).unwrap_or_default()["atr"],
            serde_json::Value::Null
        );
    }
}
