//! Which card sits in a reader: by its ATR, and by whether the NHI application answers SELECT.
//!
//! The NHI card is recognised by SELECT of its application (an ATR alone can be shared by other
//! cards of the same chip). The citizen card's applet is not publicly specified, so it is
//! recognised by the ATRs seen in the field (DOMAIN.md "The cards") and by the `MOICA` /
//! `CHTGPKI` marks in their historical bytes.

use serde::Serialize;

use crate::error::Result;
use crate::types::Lang;

use super::apdu::{StatusWord, transmit};
use super::nhi;
use super::transport::Transport;

/// The ATR of the NHI card (健保卡).
pub const NHI_ATR: [u8; 23] = [
    0x3B, 0xEE, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x45, 0x80, 0x31, 0x80, 0x66, 0x40, 0x90, 0x93, 0x06, 0x0F, 0x17, 0x83,
    0x0F, 0x90, 0x00, 0xF3,
];

/// ATRs of citizen digital certificate cards (自然人憑證) seen in the field.
pub const MOICA_ATRS: [&[u8]; 3] = [
    &[
        0x3B, 0x8B, 0x80, 0x01, 0x00, 0x31, 0xC1, 0x64, 0x08, 0x40, 0x21, 0x30, 0x00, 0x90, 0x00, 0x57,
    ],
    &[
        0x3B, 0xB8, 0x13, 0x00, 0x81, 0x31, 0xFA, 0x52, 0x43, 0x48, 0x54, 0x4D, 0x4F, 0x49, 0x43, 0x41, 0xA5,
    ],
    &[
        0x3B, 0xD8, 0x96, 0x00, 0x81, 0xB1, 0xFE, 0x45, 0x1F, 0x07, 0x43, 0x48, 0x54, 0x47, 0x50, 0x4B, 0x49, 0x4A,
        0xDD,
    ],
];

/// The kind of card in a reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CardKind {
    /// An NHI card (健保卡): its application answered SELECT.
    Nhi,
    /// A citizen digital certificate card (自然人憑證, MOICA), by its ATR.
    Moica,
    /// Some other card.
    Unknown,
    /// No card in the reader.
    Empty,
}

impl CardKind {
    /// `nhi`, `moica`, `unknown` or `empty`: the form `ecpa card list --json` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            CardKind::Nhi => "nhi",
            CardKind::Moica => "moica",
            CardKind::Unknown => "unknown",
            CardKind::Empty => "empty",
        }
    }

    /// The kind for people.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            CardKind::Nhi => lang.pick("健保卡", "NHI card"),
            CardKind::Moica => lang.pick("自然人憑證", "citizen digital certificate"),
            CardKind::Unknown => lang.pick("無法辨識的卡片", "unknown card"),
            CardKind::Empty => lang.pick("無卡片", "no card"),
        }
    }
}

/// What the ATR alone says: `Some(Moica)` for a citizen-card ATR, `Some(Nhi)` for the NHI
/// card's ATR (still to be confirmed by SELECT), `None` when the ATR is not one we know.
pub fn kind_by_atr(atr: &[u8]) -> Option<CardKind> {
    let has = |mark: &[u8]| atr.windows(mark.len()).any(|w| w == mark);
    if MOICA_ATRS.contains(&atr) || has(b"MOICA") || has(b"CHTGPKI") {
        Some(CardKind::Moica)
    } else if atr == NHI_ATR {
        Some(CardKind::Nhi)
    } else {
        None
    }
}

/// The kind of the connected card: a citizen card by its ATR; otherwise an NHI card if its
/// application answers SELECT with `9000`; otherwise unknown. Transport failures (card
/// removed, service gone) are errors, not "unknown".
pub fn detect(transport: &mut dyn Transport) -> Result<CardKind> {
    if kind_by_atr(transport.atr()) == Some(CardKind::Moica) {
        return Ok(CardKind::Moica);
    }
    match transmit(transport, &nhi::select_command()) {
        Ok(r) if r.sw == StatusWord::Success => Ok(CardKind::Nhi),
        Ok(_) => Ok(CardKind::Unknown),
        Err(e) if e.code().number() < 3000 => Err(e),
        // A PIN status to a SELECT is not an NHI card.
        Err(_) => Ok(CardKind::Unknown),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn atrs() {
        assert_eq!(kind_by_atr(&NHI_ATR), Some(CardKind::Nhi));
        for atr in MOICA_ATRS {
            assert_eq!(kind_by_atr(atr), Some(CardKind::Moica));
        }
        assert_eq!(kind_by_atr(&[0x3B, 0x00]), None);
        assert_eq!(kind_by_atr(&[]), None);
        assert_eq!(CardKind::Empty.as_str(), "empty");
        assert_eq!(serde_json::to_string(&CardKind::Moica).unwrap(), "\"moica\"");
    }
}
