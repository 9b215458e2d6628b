//! The PC/SC probe of `ecpa doctor`, over `crate::card`'s reader functions (which answer
//! `card_support_missing` in a build without the `card` feature).

use std::time::Duration;

use super::{ProbedReader, ReaderProbe};
use crate::card::CardKind;
use crate::error::Result;

/// The real probe: lists readers and reads the NHI card through the PC/SC daemon.
struct PcscProbe;

/// The probe over PC/SC.
pub(super) fn pcsc_probe() -> Box<dyn ReaderProbe> {
    Box::new(PcscProbe)
}

impl ReaderProbe for PcscProbe {
    fn readers(&self, timeout: Duration) -> Result<Vec<ProbedReader>> {
        Ok(crate::card::list_readers(timeout)?
            .into_iter()
            .map(|r| ProbedReader {
                name: r.name,
                kind: match r.kind {
                    CardKind::Nhi => "nhi",
                    CardKind::Moica => "moica",
                    CardKind::Unknown => "unknown",
                    CardKind::Empty => "empty",
                }
                .to_owned(),
                atr_hex: r.atr.map(hex::encode_upper),
            })
            .collect())
    }

    fn read_nhi(&self, reader: &str, timeout: Duration) -> Result<String> {
        let data = crate::card::read_nhi(Some(reader), timeout)?;
        Ok(format!(
            "{} {} {}",
            data.name,
            data.national_id.masked(),
            data.card_number.masked()
        ))
    }
}
