//! A software NHI card.

use crate::error::Result;
use crate::types::NhiCardData;

/// A software stand-in for an NHI card (健保卡): it holds the 57-byte basic-data record a real
/// card returns, and "reading" it runs the same parser as a real read. Only the demo and tests
/// use it; nothing installs it by default.
#[derive(Clone)]
pub struct SoftNhiCard {
    record: [u8; 57],
}

impl std::fmt::Debug for SoftNhiCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SoftNhiCard(..)")
    }
}

impl SoftNhiCard {
    /// A card holding this basic data.
    pub fn new(data: &NhiCardData) -> Self {
        SoftNhiCard {
            record: data.to_bytes(),
        }
    }

    /// A card holding a raw record, valid or not (to test what a damaged card does).
    pub fn from_record(record: [u8; 57]) -> Self {
        SoftNhiCard { record }
    }

    /// Reads the basic data, as a reader would from a real card.
    pub fn read(&self) -> Result<NhiCardData> {
        NhiCardData::parse(&self.record)
    }
}
