//! Domain types: identifiers, ROC dates, codes, secrets and the NHI card record.
//!
//! Every value that comes from a person, a card or a form is checked here once, at the edge, so
//! the rest of the crate works with types that cannot hold a malformed ID, a date before the
//! Republic or a password that breaks the policy. Each rule (the ID checksum, the password
//! policy, the PIN policy, the household-number format) lives in exactly one function.
//!
//! Personal identifiers print masked in `Debug` and `Display` (`A12345****`); the full value is
//! behind a deliberately greppable method such as [`NationalId::reveal`]. Secrets
//! ([`Password`], [`Pin`]) are zeroized on drop and never printed.
//!
//! This module does no I/O and depends on nothing else in the crate but [`crate::error`].
//!
//! ```
//! use ecpa::types::{NationalId, RocDate};
//!
//! let id = NationalId::parse(" a123456789 ")?;
//! assert_eq!(id.to_string(), "A12345****");
//! assert_eq!(id.reveal(), "A123456789");
//!
//! let day = RocDate::parse("民國108年4月3日")?;
//! assert_eq!((day.to_slash(), day.to_compact()), ("108/04/03".to_owned(), "1080403".to_owned()));
//! assert_eq!(day.to_iso(), "2019-04-03");
//! # Ok::<(), ecpa::Error>(())
//! ```

/// Lets the string-like code types travel through serde as plain strings, validated on the way
/// in.
macro_rules! serde_as_validated_str {
    ($ty:ty) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                <$ty>::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

mod codes;
mod email;
mod household;
mod lang;
mod national_id;
mod nhi;
mod roc;
mod secret;
pub(crate) mod text;

pub use codes::{AgencyCode, DocumentNumber};
pub use email::{Email, EmailWarning};
pub use household::{CountyCode, HouseholdAddress, HouseholdNumber, TownshipCode, VillageCode};
pub use lang::{AssuranceLevel, Lang};
pub use national_id::{IdKind, NationalId, Sex};
pub use nhi::{CardNumber, NhiCardData, PersonName, names_agree};
pub use roc::{RocDate, RocDateTime};
pub use secret::{Password, Pin, Strength, password_strength};

/// The text of a fixed-size ASCII buffer that a constructor has already checked.
///
/// Types such as [`NationalId`] keep their value in a byte array so that they can be `Copy`;
/// their constructors only store ASCII, so the fallback is never taken.
fn ascii_str(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or("")
}
