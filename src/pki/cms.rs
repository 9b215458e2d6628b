//! CMS SignedData (RFC 5652): signing a login challenge with a [`Signer`], and verifying by hand
//! what a citizen card's middleware returns.
//!
//! [`sign_cms`] writes an attached SignedData (version 1, SHA-256, the signer's certificate,
//! signed attributes contentType, messageDigest and signingTime). [`verify_cms`] decodes with the
//! `cms` crate's types and checks: the content's digest against messageDigest, contentType
//! against eContentType, the signer found among the included certificates by
//! issuerAndSerialNumber or subjectKeyIdentifier, and the signature, over the signed attributes
//! re-encoded as a DER `SET OF` (tag 0x31, not the `[0]` they are carried under), with that
//! certificate's key. Whether the certificate itself is trusted is the caller's question: pass
//! [`VerifiedCms::signer`] to a [`crate::pki::Validator`].
//!
//! [`verify_raw_pkcs1`] checks the bare PKCS#1 v1.5 SHA-256 signature the HiPKI local sign
//! server returns.

use der::asn1::ObjectIdentifier as Oid;
use der::{Decode, Encode, Tag, Tagged};
use spki::AlgorithmIdentifierOwned;
use time::OffsetDateTime;

use super::cert::Certificate;
use super::derw::{context, null, octets, oid, seq, set_of, small_uint, time, tlv};
use super::sig::{Hash, SignatureAlgorithm, oids as sig_oids};
use super::signer::Signer;
use crate::error::{Error, ErrorCode, Result};

/// OIDs of CMS (RFC 5652) and PKCS#9.
pub mod oids {
    use der::asn1::ObjectIdentifier as Oid;

    /// id-data.
    pub const DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
    /// id-signedData.
    pub const SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
    /// id-contentType.
    pub const CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
    /// id-messageDigest.
    pub const MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
    /// id-signingTime.
    pub const SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");
}

/// What a verified SignedData says.
#[derive(Debug, Clone)]
pub struct VerifiedCms {
    /// The certificate whose key verified the signature (not yet validated to an anchor).
    pub signer: Certificate,
    /// The signed content (encapsulated, or the detached content given).
    pub content: Vec<u8>,
    /// The signingTime attribute, if present.
    pub signing_time: Option<OffsetDateTime>,
    /// Every certificate the SignedData carries, the signer's included.
    pub certificates: Vec<Certificate>,
}

fn malformed(what: impl std::fmt::Display) -> Error {
    Error::with(ErrorCode::CmsMalformed, what.to_string(), what.to_string())
}

/// How the SignerInfo names its certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SignerId {
    IssuerAndSerial,
    #[cfg_attr(not(test), allow(dead_code))]
    KeyId,
}

/// Options of the builder beyond the public function's (tests use the other variants).
#[derive(Debug, Clone, Copy)]
struct Build {
    sid: SignerId,
    #[cfg_attr(not(test), allow(dead_code))]
    include_certificate: bool,
    /// Signed attributes in reverse DER order (as a sloppy BER encoder might write them).
    #[cfg_attr(not(test), allow(dead_code))]
    unsorted_attributes: bool,
}

fn algorithm_identifier(alg: SignatureAlgorithm) -> Result<Vec<u8>> {
    let unsupported = || {
        Error::with(
            ErrorCode::SignatureAlgorithmUnsupported,
            "CMS 簽章不支援此演算法",
            "This signature algorithm is not supported for CMS signing",
        )
    };
    Ok(match alg {
        SignatureAlgorithm::RsaPkcs1(h) => {
            let o = match h {
                Hash::Sha1 => return Err(unsupported()),
                Hash::Sha256 => sig_oids::SHA256_RSA,
                Hash::Sha384 => sig_oids::SHA384_RSA,
                Hash::Sha512 => sig_oids::SHA512_RSA,
            };
            seq(&[&oid(&o), &null()])
        }
        SignatureAlgorithm::Ecdsa(h) => {
            let o = match h {
                Hash::Sha1 => return Err(unsupported()),
                Hash::Sha256 => sig_oids::ECDSA_SHA256,
                Hash::Sha384 => sig_oids::ECDSA_SHA384,
                Hash::Sha512 => sig_oids::ECDSA_SHA512,
            };
            seq(&[&oid(&o)])
        }
        SignatureAlgorithm::RsaPss(_) => return Err(unsupported()),
    })
}

fn attribute(id: &Oid, value: Vec<u8>) -> Vec<u8> {
    seq(&[&oid(id), &set_of(vec![value])])
}

/// Signs `content` as an attached CMS SignedData (DER ContentInfo): version 1, SHA-256, the
/// signer's certificate included, the signer named by issuerAndSerialNumber, signed attributes
/// contentType (id-data), messageDigest and signingTime.
pub fn sign_cms(
    content: &[u8],
    signer: &dyn Signer,
    certificate: &Certificate,
    signing_time: OffsetDateTime,
) -> Result<Vec<u8>> {
    build(
        content,
        signer,
        certificate,
        signing_time,
        Build {
            sid: SignerId::IssuerAndSerial,
            include_certificate: true,
            unsorted_attributes: false,
        },
    )
}

fn build(
    content: &[u8],
    signer: &dyn Signer,
    certificate: &Certificate,
    signing_time: OffsetDateTime,
    opts: Build,
) -> Result<Vec<u8>> {
    let digest = Hash::Sha256.digest(content);
    let attrs = vec![
        attribute(&oids::CONTENT_TYPE, oid(&oids::DATA)),
        attribute(&oids::MESSAGE_DIGEST, octets(&digest)),
        attribute(&oids::SIGNING_TIME, time(signing_time)),
    ];
    let attrs = if opts.unsorted_attributes {
        let mut sorted = attrs;
        sorted.sort();
        sorted.reverse();
        tlv(0x31, &sorted.concat())
    } else {
        set_of(attrs)
    };
    let signature = signer.sign(&attrs)?;
    // The signed attributes travel as [0] IMPLICIT: the same bytes under another tag.
    let mut implicit = attrs;
    implicit[0] = 0xa0;
    let (version, sid) = match opts.sid {
        SignerId::IssuerAndSerial => (1, seq(&[&certificate.issuer_der(), &tlv(0x02, certificate.serial())])),
        SignerId::KeyId => {
            let ski = certificate.subject_key_id().ok_or_else(|| {
                Error::with(
                    ErrorCode::CmsSignerNotFound,
                    "簽章者憑證沒有金鑰識別碼",
                    "The signer's certificate has no subject key identifier",
                )
            })?;
            (3, tlv(0x80, ski))
        }
    };
    let sha256 = seq(&[&oid(&sig_oids::SHA256)]);
    let signer_info = seq(&[
        &small_uint(version),
        &sid,
        &sha256,
        &implicit,
        &algorithm_identifier(signer.algorithm())?,
        &octets(&signature),
    ]);
    let encap = seq(&[&oid(&oids::DATA), &context(0, &octets(content))]);
    let mut signed_data = vec![small_uint(version), set_of(vec![sha256]), encap];
    if opts.include_certificate {
        signed_data.push(context(0, certificate.der()));
    }
    signed_data.push(set_of(vec![signer_info]));
    let signed_data = tlv(0x30, &signed_data.concat());
    Ok(seq(&[&oid(&oids::SIGNED_DATA), &context(0, &signed_data)]))
}

/// The one value of a signed attribute, or an error if it is missing, repeated or multi-valued.
fn single_value<'a>(attrs: &'a x509_cert::attr::Attributes, id: &Oid) -> Result<Option<&'a der::Any>> {
    let mut found = attrs.iter().filter(|a| a.oid == *id);
    let Some(attr) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() {
        return Err(malformed(format!("attribute {id} appears twice")));
    }
    let mut values = attr.values.iter();
    match (values.next(), values.next()) {
        (Some(v), None) => Ok(Some(v)),
        _ => Err(malformed(format!("attribute {id} must have one value"))),
    }
}

fn signature_algorithm(alg: &AlgorithmIdentifierOwned, digest: Hash) -> Result<SignatureAlgorithm> {
    if alg.oid == sig_oids::RSA {
        // rsaEncryption: PKCS#1 v1.5 with the SignerInfo's digest algorithm.
        let null_or_absent = alg
            .parameters
            .as_ref()
            .is_none_or(|p| p.tag() == Tag::Null && p.value().is_empty());
        if !null_or_absent {
            return Err(Error::with(
                ErrorCode::SignatureAlgorithmUnsupported,
                "rsaEncryption 參數錯誤",
                "rsaEncryption with parameters",
            ));
        }
        return Ok(SignatureAlgorithm::RsaPkcs1(digest));
    }
    SignatureAlgorithm::from_identifier(alg)
}

/// One definite-length TLV at the start of `buf`: its tag, header length and total length.
fn next_tlv(buf: &[u8]) -> Option<(u8, usize, usize)> {
    let (&tag, rest) = buf.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (header, len) = if first < 0x80 {
        (2, usize::from(first))
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        (
            2 + n,
            rest[..n].iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b)),
        )
    };
    let total = header.checked_add(len)?;
    (total <= buf.len()).then_some((tag, header, total))
}

/// The signed attributes of the first SignerInfo exactly as they came, retagged as a SET OF:
/// the bytes the signer signed, even if their order is not DER's (which the decoder re-sorts).
fn raw_signed_attributes(der: &[u8]) -> Option<Vec<u8>> {
    let inside = |buf: &[u8], tag: u8| -> Option<Vec<u8>> {
        let (t, header, total) = next_tlv(buf)?;
        (t == tag).then(|| buf[header..total].to_vec())
    };
    let skip = |buf: &[u8]| -> Option<usize> { next_tlv(buf).map(|(_, _, total)| total) };
    let content_info = inside(der, 0x30)?;
    let mut at = skip(&content_info)?;
    let explicit = inside(content_info.get(at..)?, 0xa0)?;
    let signed_data = inside(&explicit, 0x30)?;
    at = 0;
    for _ in 0..3 {
        at += skip(signed_data.get(at..)?)?;
    }
    while matches!(signed_data.get(at), Some(0xa0 | 0xa1)) {
        at += skip(signed_data.get(at..)?)?;
    }
    let infos = inside(signed_data.get(at..)?, 0x31)?;
    let info = inside(&infos, 0x30)?;
    at = 0;
    for _ in 0..3 {
        at += skip(info.get(at..)?)?;
    }
    let (tag, _, total) = next_tlv(info.get(at..)?)?;
    if tag != 0xa0 {
        return None;
    }
    let mut raw = info.get(at..at + total)?.to_vec();
    raw[0] = 0x31;
    Some(raw)
}

/// Verifies a DER CMS SignedData (ContentInfo) with one signer, as described in the module
/// documentation. `detached_content` is the content when the SignedData does not carry it; if
/// it carries content too, the two must be equal.
pub fn verify_cms(der: &[u8], detached_content: Option<&[u8]>) -> Result<VerifiedCms> {
    let info = cms::content_info::ContentInfo::from_der(der).map_err(|e| malformed(format!("ContentInfo: {e}")))?;
    if info.content_type != oids::SIGNED_DATA {
        return Err(malformed(format!(
            "content type {} is not signedData",
            info.content_type
        )));
    }
    let sd: cms::signed_data::SignedData = info
        .content
        .decode_as()
        .map_err(|e| malformed(format!("SignedData: {e}")))?;

    let encapsulated = match &sd.encap_content_info.econtent {
        Some(any) if any.tag() == Tag::OctetString => Some(any.value()),
        Some(_) => return Err(malformed("eContent is not an OCTET STRING")),
        None => None,
    };
    let content = match (encapsulated, detached_content) {
        (Some(e), Some(d)) if e != d => {
            return Err(Error::with(
                ErrorCode::CmsDigestMismatch,
                "附加內容與另給的內容不同",
                "The encapsulated content differs from the detached content given",
            ));
        }
        (Some(c), _) | (None, Some(c)) => c.to_vec(),
        (None, None) => return Err(malformed("no content: detached and none given")),
    };

    let mut certificates = Vec::new();
    for choice in sd.certificates.iter().flat_map(|s| s.0.iter()) {
        if let cms::cert::CertificateChoices::Certificate(c) = choice {
            let der = c.to_der().map_err(|e| malformed(format!("certificate: {e}")))?;
            certificates.push(Certificate::from_der(&der)?);
        }
    }

    let mut infos = sd.signer_infos.0.iter();
    let si = match (infos.next(), infos.next()) {
        (Some(si), None) => si,
        (None, _) => return Err(malformed("no SignerInfo")),
        (Some(_), Some(_)) => return Err(malformed("more than one SignerInfo")),
    };

    let signer = certificates
        .iter()
        .find(|c| match &si.sid {
            cms::signed_data::SignerIdentifier::IssuerAndSerialNumber(ias) => {
                ias.serial_number.as_bytes() == c.serial()
                    && ias.issuer.to_der().is_ok_and(|issuer| issuer == c.issuer_der())
            }
            cms::signed_data::SignerIdentifier::SubjectKeyIdentifier(ski) => {
                c.subject_key_id() == Some(ski.0.as_bytes())
            }
        })
        .cloned()
        .ok_or_else(|| {
            Error::with(
                ErrorCode::CmsSignerNotFound,
                "CMS 未附簽章者憑證",
                "The signer's certificate is not among those the CMS carries",
            )
        })?;

    let digest_params_ok = si
        .digest_alg
        .parameters
        .as_ref()
        .is_none_or(|p| p.tag() == Tag::Null && p.value().is_empty());
    let digest = Hash::from_oid(&si.digest_alg.oid)
        .filter(|h| digest_params_ok && *h != Hash::Sha1)
        .ok_or_else(|| {
            Error::with(
                ErrorCode::SignatureAlgorithmUnsupported,
                format!("不支援的摘要演算法 {}", si.digest_alg.oid),
                format!("digest algorithm {} is not supported", si.digest_alg.oid),
            )
        })?;
    let alg = signature_algorithm(&si.signature_algorithm, digest)?;

    let (message, signing_time) = match &si.signed_attrs {
        Some(attrs) => {
            let content_type = single_value(attrs, &oids::CONTENT_TYPE)?
                .ok_or_else(|| malformed("no contentType attribute"))?
                .decode_as::<Oid>()
                .map_err(|_| malformed("contentType is not an OID"))?;
            if content_type != sd.encap_content_info.econtent_type {
                return Err(malformed("contentType attribute differs from eContentType"));
            }
            let md = single_value(attrs, &oids::MESSAGE_DIGEST)?.ok_or_else(|| malformed("no messageDigest"))?;
            if md.tag() != Tag::OctetString {
                return Err(malformed("messageDigest is not an OCTET STRING"));
            }
            if md.value() != digest.digest(&content).as_slice() {
                return Err(Error::with(
                    ErrorCode::CmsDigestMismatch,
                    "簽章內容的摘要與 messageDigest 不符",
                    "The content's digest differs from the messageDigest attribute",
                ));
            }
            let signing_time = single_value(attrs, &oids::SIGNING_TIME)?
                .map(|v| {
                    let t: x509_cert::time::Time = v.decode_as().map_err(|_| malformed("signingTime"))?;
                    super::cert::time(&t).map_err(|_| malformed("signingTime out of range"))
                })
                .transpose()?;
            // Signed as a SET OF (tag 0x31), whatever tag it travels under: the bytes as they
            // came when they can be found, else re-encoded (identical for DER input).
            let set = match raw_signed_attributes(der) {
                Some(raw) => raw,
                None => attrs
                    .to_der()
                    .map_err(|e| malformed(format!("signed attributes: {e}")))?,
            };
            (set, signing_time)
        }
        None => {
            if sd.encap_content_info.econtent_type != oids::DATA {
                return Err(malformed("no signed attributes with a content type other than id-data"));
            }
            (content.clone(), None)
        }
    };
    signer.public_key()?.verify(alg, &message, si.signature.as_bytes())?;
    Ok(VerifiedCms {
        signer,
        content,
        signing_time,
        certificates,
    })
}

/// Verifies a bare RSA PKCS#1 v1.5 SHA-256 signature of `content` with `certificate`'s key: what
/// the HiPKI local sign server returns.
pub fn verify_raw_pkcs1(content: &[u8], signature: &[u8], certificate: &Certificate) -> Result<()> {
    certificate
        .public_key()?
        .verify(SignatureAlgorithm::RsaPkcs1(Hash::Sha256), content, signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::SoftwareKey;
    use crate::pki::testpki::{EndEntitySpec, TestPki};
    use time::macros::datetime;

    const WHEN: OffsetDateTime = datetime!(2026-06-01 10:00:00 UTC);
    const CONTENT: &[u8] = b"login-challenge-0123456789abcdef";

    fn citizen(pki: &TestPki) -> (Certificate, SoftwareKey) {
        pki.issue(&EndEntitySpec::citizen("王小明", "0000000012345678", Some("6789")))
            .expect("issues")
    }

    fn find(hay: &[u8], needle: &[u8]) -> usize {
        hay.windows(needle.len()).position(|w| w == needle).expect("found")
    }

    #[test]
    fn signed_data_round_trips_and_tampering_is_caught() {
        let pki = TestPki::new().expect("pki");
        let (cert, key) = citizen(&pki);
        let der = sign_cms(CONTENT, &key, &cert, WHEN).expect("signs");
        let v = verify_cms(&der, None).expect("verifies");
        assert_eq!(v.content, CONTENT);
        assert_eq!(v.signer.der(), cert.der());
        assert_eq!(v.signing_time, Some(WHEN));
        assert_eq!(v.certificates.len(), 1);
        verify_cms(&der, Some(CONTENT)).expect("same detached content");
        assert_eq!(
            verify_cms(&der, Some(b"other")).expect_err("differs").code(),
            ErrorCode::CmsDigestMismatch
        );

        let mut tampered = der.clone();
        let at = find(&tampered, CONTENT);
        tampered[at] ^= 1;
        assert_eq!(
            verify_cms(&tampered, None).expect_err("content changed").code(),
            ErrorCode::CmsDigestMismatch
        );

        let mut tampered = der.clone();
        let at = find(&tampered, b"260601100000Z");
        tampered[at + 11] = b'1';
        let err = verify_cms(&tampered, None).expect_err("signingTime changed");
        assert_eq!(err.code(), ErrorCode::SignatureInvalid);

        assert_eq!(
            verify_cms(&der[..der.len() - 1], None).expect_err("truncated").code(),
            ErrorCode::CmsMalformed
        );
    }

    #[test]
    fn a_signer_named_by_key_identifier_verifies() {
        let pki = TestPki::new().expect("pki");
        let (cert, key) = citizen(&pki);
        let opts = Build {
            sid: SignerId::KeyId,
            include_certificate: true,
            unsorted_attributes: false,
        };
        let der = build(CONTENT, &key, &cert, WHEN, opts).expect("signs");
        let v = verify_cms(&der, None).expect("verifies");
        assert_eq!(v.signer.der(), cert.der());
    }

    #[test]
    fn a_missing_or_wrong_certificate_is_signer_not_found_or_invalid() {
        let pki = TestPki::new().expect("pki");
        let (cert, key) = citizen(&pki);
        let opts = Build {
            sid: SignerId::IssuerAndSerial,
            include_certificate: false,
            unsorted_attributes: false,
        };
        let der = build(CONTENT, &key, &cert, WHEN, opts).expect("signs");
        assert_eq!(
            verify_cms(&der, None).expect_err("no certificate").code(),
            ErrorCode::CmsSignerNotFound
        );
        // Another key signing in the name of this certificate.
        let other = SoftwareKey::generate_rsa2048().expect("key");
        let der = sign_cms(CONTENT, &other, &cert, WHEN).expect("signs");
        assert_eq!(
            verify_cms(&der, None).expect_err("wrong key").code(),
            ErrorCode::SignatureInvalid
        );
    }

    #[test]
    fn a_raw_pkcs1_signature_verifies_with_the_certificate() {
        let pki = TestPki::new().expect("pki");
        let (cert, key) = citizen(&pki);
        let sig = key.sign(CONTENT).expect("signs");
        verify_raw_pkcs1(CONTENT, &sig, &cert).expect("verifies");
        assert_eq!(
            verify_raw_pkcs1(b"other", &sig, &cert)
                .expect_err("other content")
                .code(),
            ErrorCode::SignatureInvalid
        );
    }

    #[test]
    fn signed_attributes_out_of_der_order_verify_as_they_were_signed() {
        let pki = TestPki::new().expect("pki");
        let (cert, key) = citizen(&pki);
        let opts = Build {
            sid: SignerId::IssuerAndSerial,
            include_certificate: true,
            unsorted_attributes: true,
        };
        let der = build(CONTENT, &key, &cert, WHEN, opts).expect("signs");
        let v = verify_cms(&der, None).expect("verifies");
        assert_eq!(v.signing_time, Some(WHEN));
    }
}
