//! Public-key infrastructure for the citizen-certificate login: signatures, certificates of the
//! MOICA profile, path validation to a GRCA anchor with CRLs, and (in later steps) CMS.

pub mod cert;
pub mod crlgen;
pub mod path;
mod sig;
pub mod signer;
pub(crate) mod tlv;

pub use cert::{Certificate, CertificateProfile, KeyUsages, Purpose};
pub use path::{
    Crl, CrlOptions, PeerName, Revocation, RevocationReason, TrustAnchor, ValidatedPath, ValidationOptions, Validator,
};
pub use sig::{Hash, KeyKind, PublicKey, SignatureAlgorithm, oids};
pub use signer::{Signer, SoftwareKey};
