//! Public-key infrastructure for the citizen-certificate login: signatures, certificates of the
//! MOICA profile, path validation to a GRCA anchor with CRLs, CMS SignedData,
//! and (feature `testing`) a test-PKI builder and a CRL generator for demos and tests.

pub mod cert;
pub mod cms;
// The certificate and CRL factories: only in builds that ask for them (and the crate's own unit
// tests, which use them whatever the features).
#[cfg(any(test, feature = "testing"))]
pub mod crlgen;
mod derw;
pub mod path;
mod sig;
pub mod signer;
#[cfg(any(test, feature = "testing"))]
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
