//! Public-key infrastructure for the citizen-certificate login: signatures, certificates of the
//! MOICA profile, path validation to a GRCA anchor with CRLs, CMS SignedData,
//! and a test-PKI builder for demos and tests.

pub mod cert;
pub mod cms;
pub mod crlgen;
mod derw;
pub mod path;
mod sig;
pub mod signer;
pub mod testpki;
pub(crate) mod tlv;

pub use cert::{Certificate, CertificateProfile, KeyUsages, Purpose};
pub(crate) use cms::verify_cms_with;
pub use cms::{VerifiedCms, sign_cms, verify_cms, verify_raw_pkcs1};
pub(crate) use path::ALL_REASONS;
pub use path::{
    Crl, CrlOptions, PeerName, Revocation, RevocationReason, TrustAnchor, ValidatedPath, ValidationOptions, Validator,
};
pub use sig::{Hash, KeyKind, PublicKey, SignatureAlgorithm, oids};
pub use signer::{Signer, SoftwareKey};
