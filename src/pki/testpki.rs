//! Test PKIs: a GRCA-like root, a MOICA-like intermediate, and citizen certificates issued on
//! demand, for the `ecpa demo` and the tests.
//!
//! **Never trusted by default**: nothing in this crate adds these anchors to a validator on its
//! own; a caller who wants the test PKI trusted passes [`TestPki::root`] explicitly. Keys are
//! fresh RSA-2048 keys made on each [`TestPki::new`]; validity dates are fixed (CAs
//! 2020-01-01 to 2040-01-01, citizens 2025-01-01 to 2035-01-01) so that tests are reproducible.
//!
//! Certificates are assembled here with a small DER writer and signed with our own [`Signer`]
//! (PKCS#1 v1.5 with SHA-256), then read back with [`Certificate::from_der`].

use std::sync::atomic::{AtomicU64, Ordering};

use der::asn1::ObjectIdentifier as Oid;
use time::OffsetDateTime;
use time::macros::datetime;

use super::cert::{Certificate, Purpose, oids as cert_oids};
use super::derw::{bits, context, null, octets, oid, printable, seq, set_of, small_uint, time, tlv, true_, uint, utf8};
use super::sig::{Hash, oids as sig_oids};
use super::signer::{Signer, SoftwareKey};
use crate::error::{Error, ErrorCode, Result};

/// OIDs used by the builder.
mod oids {
    use der::asn1::ObjectIdentifier as Oid;

    pub const C: Oid = Oid::new_unwrap("2.5.4.6");
    pub const O: Oid = Oid::new_unwrap("2.5.4.10");
    pub const OU: Oid = Oid::new_unwrap("2.5.4.11");
    pub const CN: Oid = Oid::new_unwrap("2.5.4.3");
    pub const CRL_NUMBER: Oid = Oid::new_unwrap("2.5.29.20");
}

/// The name of the GRCA-like root (GRCA G1 and G2 share it).
pub const ROOT_NAME: &str = "C=TW, O=Government Root Certification Authority";
/// The name of the MOICA-like intermediate (every MOICA generation shares it).
pub const INTERMEDIATE_NAME: &str = "C=TW, O=行政院, OU=內政部憑證管理中心";

/// Start of the CAs' validity.
pub const CA_NOT_BEFORE: OffsetDateTime = datetime!(2020-01-01 00:00 UTC);
/// End of the CAs' validity.
pub const CA_NOT_AFTER: OffsetDateTime = datetime!(2040-01-01 00:00 UTC);

/// Serial numbers, unique within the process (and, with the random prefix, across test PKIs).
static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

fn serial() -> Result<Vec<u8>> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes[..8]).map_err(|_| Error::internal("no randomness for a serial number"))?;
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    bytes[8..].copy_from_slice(&NEXT_SERIAL.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    Ok(bytes.to_vec())
}

/// A test PKI: a GRCA-like root and a MOICA-like intermediate under it, with their keys.
#[derive(Debug)]
pub struct TestPki {
    /// The self-signed root, `C=TW, O=Government Root Certification Authority`.
    pub root: Certificate,
    /// The root's key.
    pub root_key: SoftwareKey,
    /// The intermediate, `C=TW, O=行政院, OU=內政部憑證管理中心`, issued by the root.
    pub intermediate: Certificate,
    /// The intermediate's key: it issues citizens' certificates and CRLs.
    pub intermediate_key: SoftwareKey,
}

/// What a citizen certificate should say.
#[derive(Debug, Clone)]
pub struct EndEntitySpec {
    /// The holder's name (subject CN).
    pub name: String,
    /// The subject serialNumber: 16 characters on a citizen card.
    pub serial_number: String,
    /// The last four digits of the national ID (subjectDirectoryAttributes 2.16.886.1.100.2.51).
    pub id_last_four: Option<String>,
    /// [`Purpose::Signing`] (digitalSignature + nonRepudiation) or [`Purpose::Encryption`]
    /// (keyEncipherment + dataEncipherment); anything else gets no keyUsage extension.
    pub purpose: Purpose,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// The certificate policy (`None`: no certificatePolicies extension).
    pub policy: Option<Oid>,
}

impl EndEntitySpec {
    /// A citizen's signing certificate: 2025-01-01 to 2035-01-01, class-3 policy.
    pub fn citizen(name: impl Into<String>, serial_number: impl Into<String>, id_last_four: Option<&str>) -> Self {
        EndEntitySpec {
            name: name.into(),
            serial_number: serial_number.into(),
            id_last_four: id_last_four.map(str::to_owned),
            purpose: Purpose::Signing,
            not_before: datetime!(2025-01-01 00:00 UTC),
            not_after: datetime!(2035-01-01 00:00 UTC),
            policy: Some(cert_oids::GPKI_CLASS3),
        }
    }
}

/// One relative distinguished name: an attribute and its encoded value.
fn rdn(attr: &Oid, value: Vec<u8>) -> Vec<u8> {
    set_of(vec![seq(&[&oid(attr), &value])])
}

fn name(rdns: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &rdns.concat())
}

fn root_name() -> Vec<u8> {
    name(&[
        rdn(&oids::C, printable("TW")),
        rdn(&oids::O, utf8("Government Root Certification Authority")),
    ])
}

fn intermediate_name() -> Vec<u8> {
    name(&[
        rdn(&oids::C, printable("TW")),
        rdn(&oids::O, utf8("行政院")),
        rdn(&oids::OU, utf8("內政部憑證管理中心")),
    ])
}

fn sha256_rsa() -> Vec<u8> {
    seq(&[&oid(&sig_oids::SHA256_RSA), &null()])
}

fn extension(id: &Oid, critical: bool, value: &[u8]) -> Vec<u8> {
    if critical {
        seq(&[&oid(id), &true_(), &octets(value)])
    } else {
        seq(&[&oid(id), &octets(value)])
    }
}

/// The key identifier of a SubjectPublicKeyInfo: the first 160 bits of its SHA-256.
fn key_id(spki: &[u8]) -> Vec<u8> {
    Hash::Sha256.digest(spki)[..20].to_vec()
}

fn key_usage(bits_set: &[u8]) -> Vec<u8> {
    let byte = bits_set.iter().fold(0u8, |acc, &b| acc | (0x80 >> b));
    let unused = if byte == 0 { 0 } else { byte.trailing_zeros() as u8 };
    bits(&[byte], unused)
}

fn policies(policy: &Oid) -> Vec<u8> {
    seq(&[&seq(&[&oid(policy)])])
}

/// Everything a certificate needs besides its issuer's key.
struct Tbs<'a> {
    issuer: &'a [u8],
    subject: &'a [u8],
    spki: &'a [u8],
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    extensions: Vec<Vec<u8>>,
}

fn sign_certificate(tbs: &Tbs<'_>, issuer_key: &dyn Signer) -> Result<Certificate> {
    let tbs_der = seq(&[
        &context(0, &small_uint(2)),
        &uint(&serial()?),
        &sha256_rsa(),
        tbs.issuer,
        &seq(&[&time(tbs.not_before), &time(tbs.not_after)]),
        tbs.subject,
        tbs.spki,
        &context(3, &tlv(0x30, &tbs.extensions.concat())),
    ]);
    let signature = issuer_key.sign(&tbs_der)?;
    Certificate::from_der(&seq(&[&tbs_der, &sha256_rsa(), &bits(&signature, 0)]))
}

fn ca(subject: &[u8], issuer: &[u8], key: &SoftwareKey, issuer_key: &SoftwareKey, root: bool) -> Result<Certificate> {
    let spki = key.public_key_der()?;
    let ski = key_id(&spki);
    let aki = key_id(&issuer_key.public_key_der()?);
    let mut extensions = Vec::new();
    if root {
        extensions.push(extension(&cert_oids::BASIC_CONSTRAINTS, true, &seq(&[&true_()])));
        extensions.push(extension(&cert_oids::KEY_USAGE, true, &key_usage(&[5, 6])));
    } else {
        extensions.push(extension(
            &cert_oids::BASIC_CONSTRAINTS,
            true,
            &seq(&[&true_(), &small_uint(0)]),
        ));
        extensions.push(extension(&cert_oids::KEY_USAGE, true, &key_usage(&[5, 6])));
        extensions.push(extension(&cert_oids::AKI, false, &seq(&[&tlv(0x80, &aki)])));
        extensions.push(extension(
            &cert_oids::POLICIES,
            false,
            &policies(&cert_oids::GPKI_CLASS3),
        ));
    }
    extensions.push(extension(&cert_oids::SKI, false, &octets(&ski)));
    sign_certificate(
        &Tbs {
            issuer,
            subject,
            spki: &spki,
            not_before: CA_NOT_BEFORE,
            not_after: CA_NOT_AFTER,
            extensions,
        },
        issuer_key,
    )
}

fn crl_by(
    issuer: &Certificate,
    issuer_name: &[u8],
    key: &dyn Signer,
    revoked: &[(&Certificate, OffsetDateTime)],
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
) -> Result<Vec<u8>> {
    let entries: Vec<Vec<u8>> = revoked
        .iter()
        .map(|(c, at)| seq(&[&tlv(0x02, c.serial()), &time(*at)]))
        .collect();
    // cRLNumber: the time of issue in seconds, so that later CRLs carry larger numbers.
    let number = u64::try_from(this_update.unix_timestamp()).unwrap_or(0);
    let mut extensions = vec![extension(&oids::CRL_NUMBER, false, &small_uint(number))];
    if let Some(ski) = issuer.subject_key_id() {
        extensions.insert(0, extension(&cert_oids::AKI, false, &seq(&[&tlv(0x80, ski)])));
    }
    let mut tbs = vec![
        small_uint(1),
        sha256_rsa(),
        issuer_name.to_vec(),
        time(this_update),
        time(next_update),
    ];
    if !entries.is_empty() {
        tbs.push(tlv(0x30, &entries.concat()));
    }
    tbs.push(context(0, &tlv(0x30, &extensions.concat())));
    let tbs_der = tlv(0x30, &tbs.concat());
    let signature = key.sign(&tbs_der)?;
    Ok(seq(&[&tbs_der, &sha256_rsa(), &bits(&signature, 0)]))
}

impl TestPki {
    /// A fresh root and intermediate (two RSA-2048 keys).
    pub fn new() -> Result<TestPki> {
        let root_key = SoftwareKey::generate_rsa2048()?;
        let root = ca(&root_name(), &root_name(), &root_key, &root_key, true)?;
        let intermediate_key = SoftwareKey::generate_rsa2048()?;
        let intermediate = ca(&intermediate_name(), &root_name(), &intermediate_key, &root_key, false)?;
        Ok(TestPki {
            root,
            root_key,
            intermediate,
            intermediate_key,
        })
    }

    /// Another self-signed root with the same name and another key, like GRCA G1 beside G2:
    /// trusting only it must not validate this PKI's certificates.
    pub fn second_root_same_name() -> Result<(Certificate, SoftwareKey)> {
        let key = SoftwareKey::generate_rsa2048()?;
        let cert = ca(&root_name(), &root_name(), &key, &key, true)?;
        Ok((cert, key))
    }

    /// A citizen certificate by the intermediate, with a fresh key.
    pub fn issue(&self, spec: &EndEntitySpec) -> Result<(Certificate, SoftwareKey)> {
        self.issue_with_crl_url(spec, None)
    }

    /// [`TestPki::issue`], with a cRLDistributionPoints URL when `crl_url` is given.
    pub fn issue_with_crl_url(
        &self,
        spec: &EndEntitySpec,
        crl_url: Option<&str>,
    ) -> Result<(Certificate, SoftwareKey)> {
        if spec.serial_number.chars().count() != 16 || !spec.serial_number.is_ascii() {
            return Err(Error::with(
                ErrorCode::FieldInvalid,
                "憑證序號應為 16 個英數字元",
                "The subject serialNumber must be 16 ASCII characters",
            ));
        }
        let key = SoftwareKey::generate_rsa2048()?;
        let spki = key.public_key_der()?;
        let subject = name(&[
            rdn(&oids::C, printable("TW")),
            rdn(&oids::CN, utf8(&spec.name)),
            rdn(&cert_oids::SERIAL_NUMBER_ATTR, printable(&spec.serial_number)),
        ]);
        let aki = self
            .intermediate
            .subject_key_id()
            .ok_or_else(|| Error::internal("test intermediate without SKI"))?;
        let mut extensions = vec![
            extension(&cert_oids::AKI, false, &seq(&[&tlv(0x80, aki)])),
            extension(&cert_oids::SKI, false, &octets(&key_id(&spki))),
        ];
        match spec.purpose {
            Purpose::Signing => extensions.push(extension(&cert_oids::KEY_USAGE, true, &key_usage(&[0, 1]))),
            Purpose::Encryption => extensions.push(extension(&cert_oids::KEY_USAGE, true, &key_usage(&[2, 3]))),
            Purpose::Ca | Purpose::Unspecified => {}
        }
        if let Some(policy) = &spec.policy {
            extensions.push(extension(&cert_oids::POLICIES, false, &policies(policy)));
        }
        if let Some(url) = crl_url {
            let dp = seq(&[&seq(&[&context(0, &context(0, &tlv(0x86, url.as_bytes())))])]);
            extensions.push(extension(&cert_oids::CRL_DP, false, &dp));
        }
        if let Some(four) = &spec.id_last_four {
            let attr = seq(&[&oid(&cert_oids::ID_LAST_FOUR), &set_of(vec![printable(four)])]);
            extensions.push(extension(
                &cert_oids::SUBJECT_DIRECTORY_ATTRIBUTES,
                false,
                &seq(&[&attr]),
            ));
        }
        let cert = sign_certificate(
            &Tbs {
                issuer: &intermediate_name(),
                subject: &subject,
                spki: &spki,
                not_before: spec.not_before,
                not_after: spec.not_after,
                extensions,
            },
            &self.intermediate_key,
        )?;
        Ok((cert, key))
    }

    /// A DER CRL by the intermediate, with cRLNumber and authorityKeyIdentifier, revoking
    /// `revoked` (each at its time).
    pub fn crl(
        &self,
        revoked: &[(&Certificate, OffsetDateTime)],
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
    ) -> Result<Vec<u8>> {
        crl_by(
            &self.intermediate,
            &intermediate_name(),
            &self.intermediate_key,
            revoked,
            this_update,
            next_update,
        )
    }

    /// A DER CRL by the root (for the intermediate's revocation status: a validator given CRLs
    /// wants one for every certificate on the path).
    pub fn root_crl(
        &self,
        revoked: &[(&Certificate, OffsetDateTime)],
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
    ) -> Result<Vec<u8>> {
        crl_by(
            &self.root,
            &root_name(),
            &self.root_key,
            revoked,
            this_update,
            next_update,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{Crl, TrustAnchor, ValidationOptions, Validator};

    const AT: OffsetDateTime = datetime!(2026-06-01 00:00 UTC);

    fn validator(anchor: &Certificate, pki: &TestPki) -> Validator {
        let mut v = Validator::new(vec![TrustAnchor::new(anchor.clone())]);
        v.add_intermediates([pki.intermediate.clone()]);
        v
    }

    #[test]
    fn a_citizen_certificate_reads_back_and_validates_to_the_root_only() {
        let pki = TestPki::new().expect("pki");
        assert_eq!(pki.root.subject(), ROOT_NAME);
        assert_eq!(pki.intermediate.subject(), INTERMEDIATE_NAME);
        assert_eq!(pki.intermediate.basic_constraints(), Some((true, Some(0))));
        let spec = EndEntitySpec::citizen("王小明", "0000000012345678", Some("6789"));
        let (cert, key) = pki.issue(&spec).expect("issues");
        assert_eq!(cert.subject(), "C=TW, CN=王小明, serialNumber=0000000012345678");
        assert_eq!(cert.id_last_four(), Some("6789"));
        assert_eq!(cert.subject_serial_number().as_deref(), Some("0000000012345678"));
        assert_eq!(cert.purpose(), Purpose::Signing);
        assert_eq!(cert.authority_key_id(), pki.intermediate.subject_key_id());
        assert_eq!(
            cert.public_key().expect("key"),
            &crate::pki::PublicKey::from_spki_der(&key.public_key_der().expect("spki")).expect("spki")
        );
        let path = validator(&pki.root, &pki)
            .validate(&cert, &ValidationOptions::login(AT))
            .expect("validates");
        assert_eq!(path.certificates.len(), 3);

        let (g1, _) = TestPki::second_root_same_name().expect("second root");
        assert_eq!(g1.subject(), pki.root.subject());
        let err = validator(&g1, &pki)
            .validate(&cert, &ValidationOptions::login(AT))
            .expect_err("same name, other key");
        assert!(
            matches!(err.code(), ErrorCode::SignatureInvalid | ErrorCode::UnknownIssuer),
            "{err:?}"
        );

        let (other, _) = pki.issue(&spec).expect("issues again");
        assert_ne!(other.serial(), cert.serial());
    }

    #[test]
    fn encryption_certificates_and_other_policies() {
        let pki = TestPki::new().expect("pki");
        let mut spec = EndEntitySpec::citizen("王小明", "0000000012345678", None);
        spec.purpose = Purpose::Encryption;
        spec.policy = Some(Oid::new_unwrap("2.16.886.101.0.3.1"));
        let (cert, _) = pki
            .issue_with_crl_url(&spec, Some("http://crl.example/moica.crl"))
            .expect("issues");
        assert_eq!(cert.purpose(), Purpose::Encryption);
        assert_eq!(cert.id_last_four(), None);
        assert_eq!(cert.crl_urls(), ["http://crl.example/moica.crl".to_owned()]);
        let err = validator(&pki.root, &pki)
            .validate(&cert, &ValidationOptions::login(AT))
            .expect_err("class 1 is not enough");
        assert_eq!(err.code(), ErrorCode::PolicyNotAcceptable);
        spec.serial_number = "short".into();
        assert!(pki.issue(&spec).is_err());
    }

    #[test]
    fn the_crl_revokes_the_certificate() {
        let pki = TestPki::new().expect("pki");
        let (cert, _) = pki
            .issue(&EndEntitySpec::citizen("王小明", "0000000012345678", Some("6789")))
            .expect("issues");
        let (kept, _) = pki
            .issue(&EndEntitySpec::citizen("李小華", "0000000087654321", Some("1234")))
            .expect("issues");
        let this = datetime!(2026-05-31 00:00 UTC);
        let next = datetime!(2026-06-07 00:00 UTC);
        let crl = pki
            .crl(&[(&cert, datetime!(2026-05-30 12:00 UTC))], this, next)
            .expect("crl");
        let root_crl = pki.root_crl(&[], this, next).expect("root crl");
        let mut opts = ValidationOptions::login(AT);
        opts.crls = vec![
            Crl::from_der(&crl).expect("parses"),
            Crl::from_der(&root_crl).expect("parses"),
        ];
        let v = validator(&pki.root, &pki);
        assert_eq!(
            v.validate(&cert, &opts).expect_err("revoked").code(),
            ErrorCode::CertificateRevoked
        );
        v.validate(&kept, &opts).expect("not revoked");
    }
}
