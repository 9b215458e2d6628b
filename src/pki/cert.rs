//! Certificates, read once into the fields the MOICA profile and path validation need.
//!
//! A [`Certificate`] keeps its original DER (the signed bytes are checked as they came, never
//! re-encoded) and decodes every extension up front, so a malformed extension is an error at
//! parse time rather than a surprise during validation. Names are shown in their written
//! order, as Taiwan's CAs print them: `C=TW, O=行政院, OU=內政部憑證管理中心`.

use std::fmt::Write as _;

use base64ct::Encoding as _;
use der::asn1::ObjectIdentifier as Oid;
use der::{Decode, Reader, SliceReader, Tag, Tagged};
use serde::Serialize;
use time::OffsetDateTime;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, CertificatePolicies, CrlDistributionPoints,
    ExtendedKeyUsage, KeyUsage, SubjectDirectoryAttributes, SubjectKeyIdentifier,
};
use x509_cert::name::Name;

use super::sig::{PublicKey, SignatureAlgorithm};
use crate::error::{Error, ErrorCode, Result};

/// OIDs of the MOICA profile and the extensions read here.
pub mod oids {
    use der::asn1::ObjectIdentifier as Oid;

    /// Government PKI assurance class 3: required of citizen-certificate logins.
    pub const GPKI_CLASS3: Oid = Oid::new_unwrap("2.16.886.101.0.3.3");
    /// The last four digits of the holder's national ID, in subjectDirectoryAttributes.
    pub const ID_LAST_FOUR: Oid = Oid::new_unwrap("2.16.886.1.100.2.51");
    /// subjectKeyIdentifier.
    pub const SKI: Oid = Oid::new_unwrap("2.5.29.14");
    /// authorityKeyIdentifier.
    pub const AKI: Oid = Oid::new_unwrap("2.5.29.35");
    /// basicConstraints.
    pub const BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
    /// keyUsage.
    pub const KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
    /// extKeyUsage.
    pub const EXT_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
    /// certificatePolicies.
    pub const POLICIES: Oid = Oid::new_unwrap("2.5.29.32");
    /// cRLDistributionPoints.
    pub const CRL_DP: Oid = Oid::new_unwrap("2.5.29.31");
    /// authorityInfoAccess.
    pub const AIA: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.1.1");
    /// subjectDirectoryAttributes.
    pub const SUBJECT_DIRECTORY_ATTRIBUTES: Oid = Oid::new_unwrap("2.5.29.9");
    /// id-ad-ocsp.
    pub const AD_OCSP: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1");
    /// id-ad-caIssuers.
    pub const AD_CA_ISSUERS: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.2");
    /// The subject's serialNumber attribute.
    pub const SERIAL_NUMBER_ATTR: Oid = Oid::new_unwrap("2.5.4.5");
    /// The subject's commonName attribute.
    pub const COMMON_NAME: Oid = Oid::new_unwrap("2.5.4.3");
}

fn malformed(what: impl std::fmt::Display) -> Error {
    Error::with(ErrorCode::CertificateMalformed, what.to_string(), what.to_string())
}

/// The key usages a certificate allows (absent extension: any).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KeyUsages {
    /// digitalSignature.
    pub digital_signature: bool,
    /// nonRepudiation (contentCommitment).
    pub non_repudiation: bool,
    /// keyEncipherment.
    pub key_encipherment: bool,
    /// dataEncipherment.
    pub data_encipherment: bool,
    /// keyAgreement.
    pub key_agreement: bool,
    /// keyCertSign.
    pub key_cert_sign: bool,
    /// cRLSign.
    pub crl_sign: bool,
}

/// What a citizen card's certificate is for: the card holds one of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// A CA certificate (keyCertSign).
    Ca,
    /// The signing certificate (digitalSignature or nonRepudiation, no encipherment): logins use this one.
    Signing,
    /// The encryption certificate (keyEncipherment or dataEncipherment).
    Encryption,
    /// No keyUsage extension, or another combination.
    Unspecified,
}

/// A certificate and everything read from it. Cloning it is cheap (the parsed fields are
/// shared), so paths, caches and login results hand certificates around freely.
#[derive(Debug, Clone)]
pub struct Certificate(std::sync::Arc<Fields>);

/// What [`Certificate`] read from the DER.
#[derive(Debug)]
struct Fields {
    der: Vec<u8>,
    /// SHA-256 of `der`, computed when first asked (caches are keyed by it).
    sha256: std::sync::OnceLock<Vec<u8>>,
    tbs: std::ops::Range<usize>,
    /// Where the issuer's and the subject's Names lie in `der`, as encoded.
    issuer: std::ops::Range<usize>,
    subject: std::ops::Range<usize>,
    inner: x509_cert::Certificate,
    /// The public key, if its type is one we verify with.
    key: Result<PublicKey, ErrorCode>,
    ski: Option<Vec<u8>>,
    aki: Option<Vec<u8>>,
    basic_constraints: Option<BasicConstraints>,
    key_usage: Option<KeyUsages>,
    ext_key_usage: Option<Vec<Oid>>,
    policies: Option<Vec<Oid>>,
    crl_urls: Vec<String>,
    ocsp_urls: Vec<String>,
    ca_issuer_urls: Vec<String>,
    id_last_four: Option<String>,
    critical: Vec<Oid>,
}

impl Fields {
    fn read_extensions(&mut self) -> Result<()> {
        let Some(exts) = self.inner.tbs_certificate().extensions() else {
            return Ok(());
        };
        let mut seen: Vec<Oid> = Vec::new();
        for ext in exts.iter() {
            if seen.contains(&ext.extn_id) {
                return Err(malformed(format!("extension {} appears twice", ext.extn_id)));
            }
            seen.push(ext.extn_id);
            if ext.critical {
                self.critical.push(ext.extn_id);
            }
            let v = ext.extn_value.as_bytes();
            let bad = |what: &str| malformed(format!("extension {what} does not decode"));
            match ext.extn_id {
                oids::SKI => {
                    self.ski = Some(
                        SubjectKeyIdentifier::from_der(v)
                            .map_err(|_| bad("subjectKeyIdentifier"))?
                            .0
                            .as_bytes()
                            .to_vec(),
                    )
                }
                oids::AKI => {
                    let aki = AuthorityKeyIdentifier::from_der(v).map_err(|_| bad("authorityKeyIdentifier"))?;
                    self.aki = aki.key_identifier.map(|k| k.as_bytes().to_vec());
                }
                oids::BASIC_CONSTRAINTS => {
                    self.basic_constraints = Some(BasicConstraints::from_der(v).map_err(|_| bad("basicConstraints"))?)
                }
                oids::KEY_USAGE => {
                    let ku = KeyUsage::from_der(v).map_err(|_| bad("keyUsage"))?;
                    self.key_usage = Some(KeyUsages {
                        digital_signature: ku.digital_signature(),
                        non_repudiation: ku.non_repudiation(),
                        key_encipherment: ku.key_encipherment(),
                        data_encipherment: ku.data_encipherment(),
                        key_agreement: ku.key_agreement(),
                        key_cert_sign: ku.key_cert_sign(),
                        crl_sign: ku.crl_sign(),
                    });
                }
                oids::EXT_KEY_USAGE => {
                    self.ext_key_usage = Some(ExtendedKeyUsage::from_der(v).map_err(|_| bad("extKeyUsage"))?.0)
                }
                oids::POLICIES => {
                    let p = CertificatePolicies::from_der(v).map_err(|_| bad("certificatePolicies"))?;
                    self.policies = Some(p.0.iter().map(|i| i.policy_identifier).collect());
                }
                oids::CRL_DP => {
                    let dps = CrlDistributionPoints::from_der(v).map_err(|_| bad("cRLDistributionPoints"))?;
                    for dp in dps.0 {
                        if let Some(DistributionPointName::FullName(names)) = dp.distribution_point {
                            self.crl_urls.extend(names.iter().filter_map(uri));
                        }
                    }
                }
                oids::AIA => {
                    let aia = AuthorityInfoAccessSyntax::from_der(v).map_err(|_| bad("authorityInfoAccess"))?;
                    for ad in aia.0 {
                        let Some(u) = uri(&ad.access_location) else { continue };
                        match ad.access_method {
                            oids::AD_OCSP => self.ocsp_urls.push(u),
                            oids::AD_CA_ISSUERS => self.ca_issuer_urls.push(u),
                            _ => {}
                        }
                    }
                }
                oids::SUBJECT_DIRECTORY_ATTRIBUTES => {
                    let sda = SubjectDirectoryAttributes::from_der(v).map_err(|_| bad("subjectDirectoryAttributes"))?;
                    self.id_last_four = sda
                        .0
                        .iter()
                        .filter(|a| a.oid == oids::ID_LAST_FOUR)
                        .flat_map(|a| a.values.iter())
                        .find_map(string_value);
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Decodes an attribute value of any of the directory string types.
pub(crate) fn string_value(any: &der::Any) -> Option<String> {
    let bytes = any.value();
    match any.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::VisibleString | Tag::NumericString => {
            std::str::from_utf8(bytes).ok().map(str::to_owned)
        }
        // TeletexString is ISO 8859-1 in practice.
        Tag::TeletexString => Some(bytes.iter().map(|&b| char::from(b)).collect()),
        Tag::BmpString => {
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

fn attribute_name(oid: &Oid) -> String {
    match oid.to_string().as_str() {
        "2.5.4.6" => "C".into(),
        "2.5.4.10" => "O".into(),
        "2.5.4.11" => "OU".into(),
        "2.5.4.3" => "CN".into(),
        "2.5.4.5" => "serialNumber".into(),
        "2.5.4.7" => "L".into(),
        "2.5.4.8" => "ST".into(),
        "1.2.840.113549.1.9.1" => "emailAddress".into(),
        other => other.to_owned(),
    }
}

fn atv(a: &AttributeTypeAndValue) -> String {
    let value = string_value(&a.value).unwrap_or_else(|| format!("#{}", hex::encode(a.value.value())));
    format!("{}={value}", attribute_name(&a.oid))
}

/// A name in written order: `C=TW, O=行政院, OU=內政部憑證管理中心`.
pub fn name_to_string(name: &Name) -> String {
    let mut out = String::new();
    for rdn in name.as_ref().iter() {
        for a in rdn.as_ref().iter() {
            if !out.is_empty() {
                out.push_str(", ");
            }
            out.push_str(&atv(a));
        }
    }
    out
}

fn uri(g: &GeneralName) -> Option<String> {
    match g {
        GeneralName::UniformResourceIdentifier(u) => Some(u.as_str().to_owned()),
        _ => None,
    }
}

pub(crate) fn time(t: &x509_cert::time::Time) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(t.to_unix_duration().as_secs() as i64)
        .map_err(|_| malformed("time out of range"))
}

/// The DER of every PEM block labelled `label`. Lenient about line length: CAs publish PEM
/// with 64- and 76-character lines alike.
pub fn pem_blocks(bytes: &[u8], label: &str) -> Result<Vec<Vec<u8>>> {
    let text = std::str::from_utf8(bytes).map_err(|_| malformed("PEM is not text"))?;
    let (begin, end) = (format!("-----BEGIN {label}-----"), format!("-----END {label}-----"));
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&begin) {
        let body = &rest[start + begin.len()..];
        let stop = body.find(&end).ok_or_else(|| malformed(format!("PEM: no {end}")))?;
        let b64: String = body[..stop].chars().filter(|c| !c.is_ascii_whitespace()).collect();
        out.push(base64ct::Base64::decode_vec(&b64).map_err(|_| malformed("PEM: invalid Base64"))?);
        rest = &body[stop + end.len()..];
    }
    if out.is_empty() {
        return Err(malformed(format!("no {begin} block")));
    }
    Ok(out)
}

/// The byte range of the first element inside the outer SEQUENCE: what the signature covers.
pub(crate) fn signed_range(der: &[u8]) -> Result<std::ops::Range<usize>> {
    let mut r = SliceReader::new(der).map_err(|_| malformed("empty"))?;
    let outer = der::Header::decode(&mut r).map_err(|_| malformed("outer header"))?;
    if outer.tag() != Tag::Sequence {
        return Err(malformed("not a SEQUENCE"));
    }
    let start = u32::from(r.position()) as usize;
    let tbs = r.tlv_bytes().map_err(|_| malformed("signed part"))?;
    Ok(start..start + tbs.len())
}

/// Where the issuer's and the subject's Names lie in `der`, given the signed part's range:
/// TBSCertificate is [0] version (optional), serial, signature, issuer, validity, subject.
fn name_ranges(der: &[u8], tbs: &std::ops::Range<usize>) -> Result<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    let outer = super::tlv::read(der, tbs.start).map_err(|_| malformed("signed part"))?;
    let mut parts = super::tlv::Walk::new(der, outer.value);
    let mut next = || match parts.next() {
        Some(Ok(t)) => Ok(t),
        _ => Err(malformed("TBSCertificate")),
    };
    if next()?.tag == 0xa0 {
        next()?; // the serial, after the version
    }
    next()?; // signature
    let issuer = next()?.whole;
    next()?; // validity
    Ok((issuer, next()?.whole))
}

impl Certificate {
    /// Reads a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let inner = x509_cert::Certificate::from_der(der).map_err(|e| malformed(format!("DER: {e}")))?;
        let tbs = signed_range(der)?;
        let (issuer, subject) = name_ranges(der, &tbs)?;
        let mut fields = Fields {
            der: der.to_vec(),
            sha256: std::sync::OnceLock::new(),
            tbs,
            issuer,
            subject,
            key: PublicKey::from_spki(inner.tbs_certificate().subject_public_key_info()).map_err(|e| e.code()),
            inner,
            ski: None,
            aki: None,
            basic_constraints: None,
            key_usage: None,
            ext_key_usage: None,
            policies: None,
            crl_urls: Vec::new(),
            ocsp_urls: Vec::new(),
            ca_issuer_urls: Vec::new(),
            id_last_four: None,
            critical: Vec::new(),
        };
        fields.read_extensions()?;
        Ok(Certificate(std::sync::Arc::new(fields)))
    }

    /// Reads a certificate in DER or PEM.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let mut all = Self::parse_all(bytes)?;
        match all.len() {
            1 => Ok(all.remove(0)),
            n => Err(malformed(format!("expected one certificate, found {n}"))),
        }
    }

    /// Reads every certificate of a PEM bundle (or the one DER certificate).
    pub fn parse_all(bytes: &[u8]) -> Result<Vec<Self>> {
        if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
            pem_blocks(bytes, "CERTIFICATE")?
                .iter()
                .map(|der| Self::from_der(der))
                .collect()
        } else {
            Ok(vec![Self::from_der(bytes)?])
        }
    }

    /// The certificate as it came, in DER.
    pub fn der(&self) -> &[u8] {
        &self.0.der
    }

    /// The bytes its issuer signed.
    pub fn signed_bytes(&self) -> &[u8] {
        &self.0.der[self.0.tbs.clone()]
    }

    /// The parsed structure, for what this type does not expose.
    pub fn x509(&self) -> &x509_cert::Certificate {
        &self.0.inner
    }

    /// The subject name (raw).
    pub fn subject_name(&self) -> &Name {
        self.0.inner.tbs_certificate().subject()
    }

    /// The issuer name (raw).
    pub fn issuer_name(&self) -> &Name {
        self.0.inner.tbs_certificate().issuer()
    }

    /// The subject in written order.
    pub fn subject(&self) -> String {
        name_to_string(self.subject_name())
    }

    /// The issuer in written order.
    pub fn issuer(&self) -> String {
        name_to_string(self.issuer_name())
    }

    /// The subject's DER as the certificate encodes it, for comparing names byte for byte.
    pub fn subject_der(&self) -> &[u8] {
        &self.0.der[self.0.subject.clone()]
    }

    /// The issuer's DER as the certificate encodes it (what a CMS issuerAndSerialNumber copies).
    pub fn issuer_der(&self) -> &[u8] {
        &self.0.der[self.0.issuer.clone()]
    }

    /// The serial number's bytes (big-endian, as encoded).
    pub fn serial(&self) -> &[u8] {
        self.0.inner.tbs_certificate().serial_number().as_bytes()
    }

    /// The serial number in upper-case hex, as OpenSSL prints it.
    pub fn serial_hex(&self) -> String {
        hex::encode_upper(self.serial())
    }

    /// The first subject attribute of a type, as text.
    fn subject_attribute(&self, oid: Oid) -> Option<String> {
        self.subject_name()
            .as_ref()
            .iter()
            .flat_map(|rdn| rdn.as_ref().iter())
            .find(|a| a.oid == oid)
            .and_then(|a| string_value(&a.value))
    }

    /// The subject's serialNumber attribute (MOICA: 16 characters), if any.
    pub fn subject_serial_number(&self) -> Option<String> {
        self.subject_attribute(oids::SERIAL_NUMBER_ATTR)
    }

    /// The subject's commonName: on a citizen certificate, the holder's name.
    pub fn common_name(&self) -> Option<String> {
        self.subject_attribute(oids::COMMON_NAME)
    }

    /// The last four digits of the holder's national ID (2.16.886.1.100.2.51), if present.
    pub fn id_last_four(&self) -> Option<&str> {
        self.0.id_last_four.as_deref()
    }

    /// Start of validity.
    pub fn not_before(&self) -> Result<OffsetDateTime> {
        time(&self.0.inner.tbs_certificate().validity().not_before)
    }

    /// End of validity.
    pub fn not_after(&self) -> Result<OffsetDateTime> {
        time(&self.0.inner.tbs_certificate().validity().not_after)
    }

    /// The subject public key, or why it is not usable.
    pub fn public_key(&self) -> Result<&PublicKey> {
        self.0.key.as_ref().map_err(|code| Error::new(*code))
    }

    /// The algorithm the issuer signed with.
    pub fn signature_algorithm(&self) -> Result<SignatureAlgorithm> {
        SignatureAlgorithm::from_identifier(self.0.inner.signature_algorithm())
    }

    /// The issuer's signature.
    pub fn signature(&self) -> Result<&[u8]> {
        self.0
            .inner
            .signature()
            .as_bytes()
            .ok_or_else(|| malformed("signature has unused bits"))
    }

    /// Whether `issuer`'s key signed this certificate.
    pub fn verify_signed_by(&self, issuer: &PublicKey) -> Result<()> {
        issuer.verify(self.signature_algorithm()?, self.signed_bytes(), self.signature()?)
    }

    /// subjectKeyIdentifier.
    pub fn subject_key_id(&self) -> Option<&[u8]> {
        self.0.ski.as_deref()
    }

    /// authorityKeyIdentifier's keyIdentifier.
    pub fn authority_key_id(&self) -> Option<&[u8]> {
        self.0.aki.as_deref()
    }

    /// basicConstraints: (cA, pathLenConstraint), if present.
    pub fn basic_constraints(&self) -> Option<(bool, Option<u8>)> {
        self.0.basic_constraints.as_ref().map(|b| (b.ca, b.path_len_constraint))
    }

    /// keyUsage, if present.
    pub fn key_usage(&self) -> Option<KeyUsages> {
        self.0.key_usage
    }

    /// extKeyUsage purposes, if present.
    pub fn ext_key_usage(&self) -> Option<&[Oid]> {
        self.0.ext_key_usage.as_deref()
    }

    /// certificatePolicies identifiers, if present.
    pub fn policies(&self) -> Option<&[Oid]> {
        self.0.policies.as_deref()
    }

    /// Extensions marked critical.
    pub fn critical_extensions(&self) -> &[Oid] {
        &self.0.critical
    }

    /// CRL distribution point URLs.
    pub fn crl_urls(&self) -> &[String] {
        &self.0.crl_urls
    }

    /// OCSP responder URLs (AIA).
    pub fn ocsp_urls(&self) -> &[String] {
        &self.0.ocsp_urls
    }

    /// Issuer certificate URLs (AIA caIssuers).
    pub fn ca_issuer_urls(&self) -> &[String] {
        &self.0.ca_issuer_urls
    }

    /// Whether the subject and issuer names are the same (a self-issued certificate).
    pub fn is_self_issued(&self) -> bool {
        self.subject_der() == self.issuer_der()
    }

    /// What the certificate is for, by its keyUsage.
    pub fn purpose(&self) -> Purpose {
        match self.0.key_usage {
            Some(k) if k.key_cert_sign => Purpose::Ca,
            Some(k) if (k.digital_signature || k.non_repudiation) && !k.key_encipherment && !k.data_encipherment => {
                Purpose::Signing
            }
            Some(k) if k.key_encipherment || k.data_encipherment => Purpose::Encryption,
            _ => Purpose::Unspecified,
        }
    }

    /// The SHA-256 of the DER, computed once: what caches of certificates are keyed by.
    pub fn sha256(&self) -> &[u8] {
        self.0
            .sha256
            .get_or_init(|| super::sig::Hash::Sha256.digest(&self.0.der))
    }

    /// The SHA-256 of the DER as colon-separated hex: the certificate's fingerprint.
    pub fn fingerprint(&self) -> String {
        let digest = self.sha256();
        let mut out = String::with_capacity(95);
        for (i, b) in digest.iter().enumerate() {
            if i > 0 {
                out.push(':');
            }
            let _ = write!(out, "{b:02X}");
        }
        out
    }

    /// The MOICA-profile view, for showing and for JSON.
    pub fn profile(&self) -> Result<CertificateProfile> {
        Ok(CertificateProfile {
            subject: self.subject(),
            issuer: self.issuer(),
            serial: self.serial_hex(),
            subject_serial_number: self.subject_serial_number(),
            id_last_four: self.0.id_last_four.clone(),
            not_before: self
                .not_before()?
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            not_after: self
                .not_after()?
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            purpose: self.purpose(),
            key_usage: self.0.key_usage,
            ca: self.basic_constraints().map(|(ca, _)| ca),
            path_len: self.basic_constraints().and_then(|(_, p)| p),
            policies: self
                .0
                .policies
                .as_ref()
                .map(|p| p.iter().map(ToString::to_string).collect())
                .unwrap_or_default(),
            public_key: match &self.0.key {
                Ok(k) => k.kind().to_string(),
                Err(code) => code.to_string(),
            },
            crl_urls: self.0.crl_urls.clone(),
            ocsp_urls: self.0.ocsp_urls.clone(),
            ca_issuer_urls: self.0.ca_issuer_urls.clone(),
            subject_key_id: self.0.ski.as_deref().map(hex::encode_upper),
            authority_key_id: self.0.aki.as_deref().map(hex::encode_upper),
            sha256_fingerprint: self.fingerprint(),
        })
    }
}

/// A certificate's MOICA-profile fields, as `ecpa cert show` prints them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CertificateProfile {
    /// Subject, in written order.
    pub subject: String,
    /// Issuer, in written order.
    pub issuer: String,
    /// Serial number, upper-case hex.
    pub serial: String,
    /// The subject's serialNumber attribute.
    pub subject_serial_number: Option<String>,
    /// The last four digits of the holder's national ID.
    pub id_last_four: Option<String>,
    /// Start of validity (RFC 3339, UTC).
    pub not_before: String,
    /// End of validity (RFC 3339, UTC).
    pub not_after: String,
    /// Signing, encryption, CA or unspecified.
    pub purpose: Purpose,
    /// keyUsage bits.
    pub key_usage: Option<KeyUsages>,
    /// basicConstraints cA.
    pub ca: Option<bool>,
    /// basicConstraints pathLenConstraint.
    pub path_len: Option<u8>,
    /// Policy OIDs.
    pub policies: Vec<String>,
    /// Key type and size, or why it is unsupported.
    pub public_key: String,
    /// CRL distribution points.
    pub crl_urls: Vec<String>,
    /// OCSP responders.
    pub ocsp_urls: Vec<String>,
    /// Issuer certificate locations.
    pub ca_issuer_urls: Vec<String>,
    /// subjectKeyIdentifier, hex.
    pub subject_key_id: Option<String>,
    /// authorityKeyIdentifier, hex.
    pub authority_key_id: Option<String>,
    /// SHA-256 fingerprint.
    pub sha256_fingerprint: String,
}
