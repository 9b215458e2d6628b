//! CMS SignedData (RFC 5652): signing a login challenge with a [`Signer`], and verifying by hand
//! what a citizen card's middleware returns.
//!
//! [`sign_cms`] writes an attached SignedData (version 1, SHA-256, the signer's certificate,
//! signed attributes contentType, messageDigest and signingTime). [`verify_cms`] walks the DER
//! itself (strict: definite, minimal lengths) and checks the content's digest against
//! messageDigest, contentType against eContentType, finds the signer among the included
//! certificates by issuerAndSerialNumber or subjectKeyIdentifier, and verifies the signature with
//! that certificate's key over the signed attributes as they came, retagged as a `SET OF` (0x31,
//! not the `[0]` they are carried under). Whether the certificate itself is trusted is the
//! caller's question: pass [`VerifiedCms::signer`] to a [`crate::pki::Validator`].
//!
//! [`verify_raw_pkcs1`] checks the bare PKCS#1 v1.5 SHA-256 signature the HiPKI local sign
//! server returns.
//!
//! Why not the `cms` crate: its `SignedDataBuilder` signs through RustCrypto's
//! `signature::Signer` with a key it can hold, while ours signs through [`Signer`], whose key may
//! sit on a card behind one PKCS#11 `C_Sign` per login, and its decoder re-encodes the carried
//! certificates that the login path takes as bytes from the cache. Writing the one SignedData
//! shape we make (and reading the ones we verify) is small here; `tests/cms.rs` has `openssl cms
//! -verify` read what we write, and feeds the reader malformed inputs. So the crate is not a
//! dependency.

use der::asn1::ObjectIdentifier as Oid;
use der::{Decode, Tag, Tagged};
use spki::AlgorithmIdentifierOwned;
use time::OffsetDateTime;

use super::cert::Certificate;
use super::derw::{context, null, octets, oid, seq, set_of, small_uint, time, tlv};
use super::sig::{Hash, SignatureAlgorithm, oids as sig_oids};
use super::signer::Signer;
use super::tlv::{self as walk, Tlv};
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
        SignerId::IssuerAndSerial => (1, seq(&[certificate.issuer_der(), &tlv(0x02, certificate.serial())])),
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

/// The elements inside one constructed element, read in order.
struct Elements<'a> {
    der: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Elements<'a> {
    fn inside(der: &'a [u8], parent: &Tlv) -> Self {
        Elements {
            der,
            pos: parent.value.start,
            end: parent.value.end,
        }
    }

    /// The next element, which must carry `tag`.
    fn take(&mut self, tag: u8, what: &str) -> Result<Tlv> {
        self.optional(tag, what)?
            .ok_or_else(|| malformed(format!("{what}: missing or unexpected element")))
    }

    /// The next element if it carries `tag`.
    fn optional(&mut self, tag: u8, what: &str) -> Result<Option<Tlv>> {
        if self.pos >= self.end || self.der[self.pos] != tag {
            return Ok(None);
        }
        self.next(what).map(Some)
    }

    /// The next element, whatever its tag.
    fn next(&mut self, what: &str) -> Result<Tlv> {
        if self.pos >= self.end {
            return Err(malformed(format!("{what}: missing")));
        }
        let t = walk::read(&self.der[..self.end], self.pos).map_err(|e| malformed(format!("{what}: {e:?}")))?;
        self.pos = t.whole.end;
        Ok(t)
    }

    /// What is left, as elements (an error ends the walk).
    fn rest(&mut self, what: &str) -> Result<Vec<Tlv>> {
        let mut all = Vec::new();
        while self.pos < self.end {
            all.push(self.next(what)?);
        }
        Ok(all)
    }

    /// Nothing may follow.
    fn finish(&self, what: &str) -> Result<()> {
        if self.pos == self.end {
            Ok(())
        } else {
            Err(malformed(format!("{what}: unexpected trailing data")))
        }
    }
}

/// The one value of the signed attribute `id`, or an error if it is repeated or multi-valued.
fn single_value(der: &[u8], attrs: &[(Tlv, Tlv)], id: &Oid) -> Result<Option<Tlv>> {
    let mut found = attrs.iter().filter(|(oid, _)| &der[oid.value.clone()] == id.as_bytes());
    let Some((_, values)) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() {
        return Err(malformed(format!("attribute {id} appears twice")));
    }
    match Elements::inside(der, values).rest("attribute values")?.as_slice() {
        [one] => Ok(Some(one.clone())),
        _ => Err(malformed(format!("attribute {id} must have one value"))),
    }
}

fn signature_algorithm(alg: &AlgorithmIdentifierOwned, digest: Hash) -> Result<SignatureAlgorithm> {
    if alg.oid == sig_oids::RSA {
        // rsaEncryption: PKCS#1 v1.5 with the SignerInfo's digest algorithm.
        if !null_or_absent(alg) {
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

fn null_or_absent(alg: &AlgorithmIdentifierOwned) -> bool {
    alg.parameters
        .as_ref()
        .is_none_or(|p| p.tag() == Tag::Null && p.value().is_empty())
}

fn algorithm_at(der: &[u8], t: &Tlv, what: &str) -> Result<AlgorithmIdentifierOwned> {
    AlgorithmIdentifierOwned::from_der(&der[t.whole.clone()]).map_err(|e| malformed(format!("{what}: {e}")))
}

/// How a SignerInfo names its certificate.
enum Sid<'a> {
    IssuerAndSerial { issuer: &'a [u8], serial: &'a [u8] },
    KeyId(&'a [u8]),
}

/// Verifies a DER CMS SignedData (ContentInfo) with one signer, as described in the module
/// documentation. `detached_content` is the content when the SignedData does not carry it; if
/// it carries content too, the two must be equal.
///
/// It walks the DER itself (a login verifies one of these per request, and decoding the whole
/// SignedData into owned structures, certificates included, cost more than the RSA verification).
pub fn verify_cms(der: &[u8], detached_content: Option<&[u8]>) -> Result<VerifiedCms> {
    verify_cms_with(der, detached_content, &Certificate::from_der)
}

/// [`verify_cms`] with the carried certificates read by `read` (which may take them from a cache).
pub(crate) fn verify_cms_with(
    der: &[u8],
    detached_content: Option<&[u8]>,
    read: &dyn Fn(&[u8]) -> Result<Certificate>,
) -> Result<VerifiedCms> {
    let top = walk::read(der, 0).map_err(|e| malformed(format!("ContentInfo: {e:?}")))?;
    if top.tag != 0x30 || top.whole.end != der.len() {
        return Err(malformed("ContentInfo: not one SEQUENCE"));
    }
    let mut content_info = Elements::inside(der, &top);
    let content_type = content_info.take(0x06, "contentType")?;
    if &der[content_type.value.clone()] != oids::SIGNED_DATA.as_bytes() {
        return Err(malformed("content type is not signedData"));
    }
    let explicit = content_info.take(0xa0, "content")?;
    content_info.finish("ContentInfo")?;
    let mut explicit = Elements::inside(der, &explicit);
    let signed_data = explicit.take(0x30, "SignedData")?;
    explicit.finish("content")?;

    let mut sd = Elements::inside(der, &signed_data);
    sd.take(0x02, "SignedData version")?;
    sd.take(0x31, "digestAlgorithms")?;
    let encap = sd.take(0x30, "encapContentInfo")?;
    let certificate_set = sd.optional(0xa0, "certificates")?;
    sd.optional(0xa1, "crls")?;
    let signer_infos = sd.take(0x31, "signerInfos")?;
    sd.finish("SignedData")?;

    let mut encap = Elements::inside(der, &encap);
    let econtent_type = &der[encap.take(0x06, "eContentType")?.value];
    let encapsulated = match encap.optional(0xa0, "eContent")? {
        Some(explicit) => {
            let mut inner = Elements::inside(der, &explicit);
            let octets = inner
                .optional(0x04, "eContent")?
                .ok_or_else(|| malformed("eContent is not an OCTET STRING"))?;
            inner.finish("eContent")?;
            Some(&der[octets.value])
        }
        None => None,
    };
    encap.finish("encapContentInfo")?;
    let content = match (encapsulated, detached_content) {
        (Some(e), Some(d)) if e != d => {
            return Err(Error::with(
                ErrorCode::CmsDigestMismatch,
                "附加內容與另給的內容不同",
                "The encapsulated content differs from the detached content given",
            ));
        }
        (Some(c), _) | (None, Some(c)) => c,
        (None, None) => return Err(malformed("no content: detached and none given")),
    };

    let mut certificates = Vec::new();
    if let Some(set) = &certificate_set {
        for choice in Elements::inside(der, set).rest("certificates")? {
            // Other CertificateChoices (attribute certificates, …) are not signers' certificates.
            if choice.tag == 0x30 {
                certificates.push(read(&der[choice.whole])?);
            }
        }
    }

    let si = match Elements::inside(der, &signer_infos).rest("signerInfos")?.as_slice() {
        [si] if si.tag == 0x30 => si.clone(),
        [] => return Err(malformed("no SignerInfo")),
        [_] => return Err(malformed("SignerInfo is not a SEQUENCE")),
        _ => return Err(malformed("more than one SignerInfo")),
    };
    let mut si = Elements::inside(der, &si);
    si.take(0x02, "SignerInfo version")?;
    let sid = si.next("sid")?;
    let sid = match sid.tag {
        0x30 => {
            let mut ias = Elements::inside(der, &sid);
            let issuer = &der[ias.take(0x30, "issuer")?.whole];
            let serial = &der[ias.take(0x02, "serialNumber")?.value];
            ias.finish("issuerAndSerialNumber")?;
            Sid::IssuerAndSerial { issuer, serial }
        }
        0x80 => Sid::KeyId(&der[sid.value]),
        _ => {
            return Err(malformed(
                "sid is neither issuerAndSerialNumber nor subjectKeyIdentifier",
            ));
        }
    };
    let digest_alg = algorithm_at(der, &si.take(0x30, "digestAlgorithm")?, "digestAlgorithm")?;
    let signed_attrs = si.optional(0xa0, "signedAttrs")?;
    let signature_alg = algorithm_at(der, &si.take(0x30, "signatureAlgorithm")?, "signatureAlgorithm")?;
    let signature = &der[si.take(0x04, "signature")?.value];
    si.optional(0xa1, "unsignedAttrs")?;
    si.finish("SignerInfo")?;

    let signer = certificates
        .iter()
        .find(|c| match sid {
            Sid::IssuerAndSerial { issuer, serial } => c.serial() == serial && c.issuer_der() == issuer,
            Sid::KeyId(ski) => c.subject_key_id() == Some(ski),
        })
        .cloned()
        .ok_or_else(|| {
            Error::with(
                ErrorCode::CmsSignerNotFound,
                "CMS 未附簽章者憑證",
                "The signer's certificate is not among those the CMS carries",
            )
        })?;

    let digest = Hash::from_oid(&digest_alg.oid)
        .filter(|h| null_or_absent(&digest_alg) && *h != Hash::Sha1)
        .ok_or_else(|| {
            Error::with(
                ErrorCode::SignatureAlgorithmUnsupported,
                format!("不支援的摘要演算法 {}", digest_alg.oid),
                format!("digest algorithm {} is not supported", digest_alg.oid),
            )
        })?;
    let alg = signature_algorithm(&signature_alg, digest)?;

    let mut signing_time = None;
    match &signed_attrs {
        Some(attrs_tlv) => {
            let mut attrs = Vec::new();
            for attr in Elements::inside(der, attrs_tlv).rest("signedAttrs")? {
                let mut parts = Elements::inside(der, &attr);
                let oid = parts.take(0x06, "attribute type")?;
                let values = parts.take(0x31, "attribute values")?;
                parts.finish("attribute")?;
                attrs.push((oid, values));
            }
            let content_type =
                single_value(der, &attrs, &oids::CONTENT_TYPE)?.ok_or_else(|| malformed("no contentType attribute"))?;
            if content_type.tag != 0x06 {
                return Err(malformed("contentType is not an OID"));
            }
            if &der[content_type.value] != econtent_type {
                return Err(malformed("contentType attribute differs from eContentType"));
            }
            let md = single_value(der, &attrs, &oids::MESSAGE_DIGEST)?.ok_or_else(|| malformed("no messageDigest"))?;
            if md.tag != 0x04 {
                return Err(malformed("messageDigest is not an OCTET STRING"));
            }
            if der[md.value] != digest.digest(content) {
                return Err(Error::with(
                    ErrorCode::CmsDigestMismatch,
                    "簽章內容的摘要與 messageDigest 不符",
                    "The content's digest differs from the messageDigest attribute",
                ));
            }
            if let Some(t) = single_value(der, &attrs, &oids::SIGNING_TIME)? {
                let t = x509_cert::time::Time::from_der(&der[t.whole]).map_err(|_| malformed("signingTime"))?;
                signing_time = Some(super::cert::time(&t).map_err(|_| malformed("signingTime out of range"))?);
            }
            // Signed as a SET OF (tag 0x31), not under the [0] they travel with: the bytes as
            // they came (a sloppy encoder's order is what it signed).
            let mut set = der[attrs_tlv.whole.clone()].to_vec();
            set[0] = 0x31;
            signer.public_key()?.verify(alg, &set, signature)?;
        }
        None => {
            if econtent_type != oids::DATA.as_bytes() {
                return Err(malformed("no signed attributes with a content type other than id-data"));
            }
            signer.public_key()?.verify(alg, content, signature)?;
        }
    }
    Ok(VerifiedCms {
        signer,
        content: content.to_vec(),
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
