//! Smart cards.
//!
//! Reading real cards over PC/SC and signing with the citizen card over PKCS#11 belong to the
//! `card` feature. What is here needs no hardware: [`SoftNhiCard`], a software NHI card that
//! the demo and the tests insert where a person would insert theirs.

#[cfg(feature = "card")]
pub mod pkcs11;
mod soft;

#[cfg(feature = "card")]
pub use pkcs11::{CardSigner, PinState, Pkcs11Module, TokenCertificate, TokenInfo};
pub use soft::SoftNhiCard;
