//! Public-key infrastructure for the citizen-certificate login: signatures, certificates of the
//! MOICA profile, and (in later steps) path validation to a GRCA anchor, CRLs and CMS.

pub mod cert;
mod sig;

pub use cert::{Certificate, CertificateProfile, KeyUsages, Purpose};
pub use sig::{Hash, KeyKind, PublicKey, SignatureAlgorithm, oids};
