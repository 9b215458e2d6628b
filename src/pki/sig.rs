//! Signature verification: the algorithms this PKI accepts, and the one function that checks them.
//!
//! The backend is `aws-lc-rs`: a citizen-certificate login verifies at least two RSA signatures
//! (the response and, unless cached, the chain), and the portal must keep up with thousands
//! of logins a second on two cores. RustCrypto's `rsa` verifies three to ten times slower than
//! OpenSSL; aws-lc-rs runs AWS-LC's assembly and is close to OpenSSL's own rate. `ring` would
//! do too, but aws-lc-rs also carries RSA-PSS with every hash and ECDSA over P-256 and P-384
//! with any SHA-2, which the conformance suites use.
//!
//! Accepted: RSA PKCS#1 v1.5 with SHA-256/384/512 (and SHA-1, which only anchors' own
//! self-signatures and legacy CAs use; callers decide whether to allow it), RSA-PSS with
//! SHA-256/384/512, MGF1 with the same hash and a salt as long as the hash, and ECDSA with
//! P-256 or P-384 and SHA-256/384/512. RSA keys must be 2048 to 8192 bits.

use aws_lc_rs::signature::{self, ParsedPublicKey, UnparsedPublicKey, VerificationAlgorithm};
use der::asn1::ObjectIdentifier as Oid;
use der::{Decode, Sequence, Tagged};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::error::{Error, ErrorCode, Result};

/// OIDs of the algorithms below (RFC 3279, 4055, 5480, 5758).
pub mod oids {
    use der::asn1::ObjectIdentifier as Oid;

    /// rsaEncryption.
    pub const RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    /// id-RSASSA-PSS.
    pub const RSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
    /// sha1WithRSAEncryption.
    pub const SHA1_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
    /// sha256WithRSAEncryption.
    pub const SHA256_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
    /// sha384WithRSAEncryption.
    pub const SHA384_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
    /// sha512WithRSAEncryption.
    pub const SHA512_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
    /// id-mgf1.
    pub const MGF1: Oid = Oid::new_unwrap("1.2.840.113549.1.1.8");
    /// id-ecPublicKey.
    pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    /// prime256v1 (P-256).
    pub const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
    /// secp384r1 (P-384).
    pub const P384: Oid = Oid::new_unwrap("1.3.132.0.34");
    /// ecdsa-with-SHA256.
    pub const ECDSA_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
    /// ecdsa-with-SHA384.
    pub const ECDSA_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
    /// ecdsa-with-SHA512.
    pub const ECDSA_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
    /// id-sha1.
    pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
    /// id-sha256.
    pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
    /// id-sha384.
    pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
    /// id-sha512.
    pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
}

/// A hash of the SHA family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hash {
    /// SHA-1: anchors' self-signatures and legacy signatures only.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl Hash {
    /// The hash of an `id-shaN` OID.
    pub fn from_oid(oid: &Oid) -> Option<Hash> {
        match *oid {
            oids::SHA1 => Some(Hash::Sha1),
            oids::SHA256 => Some(Hash::Sha256),
            oids::SHA384 => Some(Hash::Sha384),
            oids::SHA512 => Some(Hash::Sha512),
            _ => None,
        }
    }

    /// Output length in bytes.
    pub fn len(self) -> usize {
        match self {
            Hash::Sha1 => 20,
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }

    /// Never zero; here for symmetry with [`Hash::len`].
    pub fn is_empty(self) -> bool {
        false
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        self.digest_value(data).as_ref().to_vec()
    }

    /// The digest of `data`, for [`PublicKey::verify_digest`].
    pub(crate) fn digest_value(self, data: &[u8]) -> aws_lc_rs::digest::Digest {
        use aws_lc_rs::digest;
        let alg = match self {
            Hash::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            Hash::Sha256 => &digest::SHA256,
            Hash::Sha384 => &digest::SHA384,
            Hash::Sha512 => &digest::SHA512,
        };
        digest::digest(alg, data)
    }
}

/// A signature algorithm this PKI accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// RSA PKCS#1 v1.5 with the given hash.
    RsaPkcs1(Hash),
    /// RSA-PSS with the given hash, MGF1 with the same hash, salt as long as the hash.
    RsaPss(Hash),
    /// ECDSA (DER-encoded signature) with the given hash.
    Ecdsa(Hash),
}

/// RSASSA-PSS-params (RFC 4055), with the defaults made explicit by the caller.
#[derive(Sequence)]
struct PssParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mask_gen: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    salt_len: Option<u32>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    trailer: Option<u32>,
}

fn unsupported(what: impl std::fmt::Display) -> Error {
    Error::with(
        ErrorCode::SignatureAlgorithmUnsupported,
        what.to_string(),
        what.to_string(),
    )
}

/// The hash inside an `AlgorithmIdentifier` whose parameters must be absent or NULL.
fn hash_id(alg: &AlgorithmIdentifierOwned) -> Result<Hash> {
    let params_ok = alg
        .parameters
        .as_ref()
        .is_none_or(|p| p.tag() == der::Tag::Null && p.value().is_empty());
    match Hash::from_oid(&alg.oid) {
        Some(h) if params_ok => Ok(h),
        _ => Err(unsupported(format!("hash {}", alg.oid))),
    }
}

impl SignatureAlgorithm {
    /// The hash the algorithm signs with.
    pub fn hash(self) -> Hash {
        match self {
            SignatureAlgorithm::RsaPkcs1(h) | SignatureAlgorithm::RsaPss(h) | SignatureAlgorithm::Ecdsa(h) => h,
        }
    }

    /// The algorithm an `AlgorithmIdentifier` names, with its parameters checked.
    pub fn from_identifier(alg: &AlgorithmIdentifierOwned) -> Result<Self> {
        let null_or_absent = alg
            .parameters
            .as_ref()
            .is_none_or(|p| p.tag() == der::Tag::Null && p.value().is_empty());
        let absent = alg.parameters.is_none();
        let rsa = |h| {
            if null_or_absent {
                Ok(SignatureAlgorithm::RsaPkcs1(h))
            } else {
                Err(unsupported("RSA parameters"))
            }
        };
        let ecdsa = |h| {
            if absent {
                Ok(SignatureAlgorithm::Ecdsa(h))
            } else {
                Err(unsupported("ECDSA parameters"))
            }
        };
        match alg.oid {
            oids::SHA1_RSA => rsa(Hash::Sha1),
            oids::SHA256_RSA => rsa(Hash::Sha256),
            oids::SHA384_RSA => rsa(Hash::Sha384),
            oids::SHA512_RSA => rsa(Hash::Sha512),
            oids::ECDSA_SHA256 => ecdsa(Hash::Sha256),
            oids::ECDSA_SHA384 => ecdsa(Hash::Sha384),
            oids::ECDSA_SHA512 => ecdsa(Hash::Sha512),
            oids::RSA_PSS => {
                let params = alg
                    .parameters
                    .as_ref()
                    .ok_or_else(|| unsupported("RSA-PSS without parameters"))?;
                let p = params
                    .decode_as::<PssParams>()
                    .map_err(|_| unsupported("RSA-PSS parameters"))?;
                // The defaults (SHA-1, MGF1-SHA-1, 20) are SHA-1 PSS, which we do not accept.
                let hash = p
                    .hash
                    .as_ref()
                    .map(hash_id)
                    .transpose()?
                    .ok_or_else(|| unsupported("RSA-PSS with SHA-1"))?;
                let mgf = p
                    .mask_gen
                    .as_ref()
                    .ok_or_else(|| unsupported("RSA-PSS with MGF1-SHA-1"))?;
                let mgf_hash = mgf
                    .parameters
                    .as_ref()
                    .and_then(|p| p.decode_as::<AlgorithmIdentifierOwned>().ok())
                    .map(|a| hash_id(&a))
                    .transpose()?;
                if hash == Hash::Sha1
                    || mgf.oid != oids::MGF1
                    || mgf_hash != Some(hash)
                    || p.salt_len.unwrap_or(20) as usize != hash.len()
                    || p.trailer.unwrap_or(1) != 1
                {
                    return Err(unsupported(
                        "RSA-PSS parameters other than hash = MGF1 hash, salt = hash length",
                    ));
                }
                Ok(SignatureAlgorithm::RsaPss(hash))
            }
            other => Err(unsupported(format!("signature algorithm {other}"))),
        }
    }
}

/// A public key, ready for verification.
///
/// The key is parsed into aws-lc's form once, for the first algorithm it verifies with, and kept
/// (a CA key or a returning user's key verifies many signatures; parsing an RSA key and setting
/// up its Montgomery context each time would cost a tenth of a verification).
#[derive(Clone)]
pub struct PublicKey {
    kind: KeyKind,
    /// RSAPublicKey DER for RSA, the uncompressed point for EC.
    bytes: Vec<u8>,
    parsed: std::sync::OnceLock<(SignatureAlgorithm, Option<ParsedPublicKey>)>,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKey")
            .field("kind", &self.kind)
            .field("bytes", &hex::encode(&self.bytes))
            .finish()
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.bytes == other.bytes
    }
}

impl Eq for PublicKey {}

/// The kind of a public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// RSA, with its modulus size in bits.
    Rsa {
        /// Modulus size.
        bits: usize,
    },
    /// ECDSA over P-256.
    EcP256,
    /// ECDSA over P-384.
    EcP384,
}

impl std::fmt::Display for KeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyKind::Rsa { bits } => write!(f, "RSA-{bits}"),
            KeyKind::EcP256 => f.write_str("ECDSA P-256"),
            KeyKind::EcP384 => f.write_str("ECDSA P-384"),
        }
    }
}

fn key_unsupported(what: impl std::fmt::Display) -> Error {
    Error::with(ErrorCode::PublicKeyUnsupported, what.to_string(), what.to_string())
}

/// The bit length of an RSAPublicKey's modulus.
fn rsa_bits(rsa_public_key: &[u8]) -> Result<usize> {
    #[derive(Sequence)]
    struct RsaPublicKey<'a> {
        modulus: der::asn1::UintRef<'a>,
        _exponent: der::asn1::UintRef<'a>,
    }
    let key = RsaPublicKey::from_der(rsa_public_key).map_err(|_| key_unsupported("RSA key does not parse"))?;
    let m = key.modulus.as_bytes();
    let lead = m.first().map_or(0, |b| 8 - b.leading_zeros() as usize);
    Ok(m.len().saturating_sub(1) * 8 + lead)
}

impl PublicKey {
    /// The key of a SubjectPublicKeyInfo.
    pub fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<Self> {
        let bytes = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| key_unsupported("public key bit string has unused bits"))?
            .to_vec();
        let kind = match spki.algorithm.oid {
            oids::RSA => {
                let bits = rsa_bits(&bytes)?;
                if !(2048..=8192).contains(&bits) {
                    return Err(key_unsupported(format!("RSA-{bits} (2048 to 8192 bits are accepted)")));
                }
                KeyKind::Rsa { bits }
            }
            oids::EC_PUBLIC_KEY => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.decode_as::<Oid>().ok())
                    .ok_or_else(|| key_unsupported("EC key without a named curve"))?;
                match curve {
                    oids::P256 => KeyKind::EcP256,
                    oids::P384 => KeyKind::EcP384,
                    other => return Err(key_unsupported(format!("curve {other}"))),
                }
            }
            other => return Err(key_unsupported(format!("key algorithm {other}"))),
        };
        Ok(PublicKey {
            kind,
            bytes,
            parsed: std::sync::OnceLock::new(),
        })
    }

    /// The key of a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<Self> {
        let spki = SubjectPublicKeyInfoOwned::from_der(der)
            .map_err(|_| key_unsupported("SubjectPublicKeyInfo does not parse"))?;
        Self::from_spki(&spki)
    }

    /// What kind of key it is.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The aws-lc algorithm for `alg` with this key.
    fn algorithm(&self, alg: SignatureAlgorithm) -> Result<&'static dyn VerificationAlgorithm> {
        use SignatureAlgorithm::*;
        Ok(match (alg, self.kind) {
            (RsaPkcs1(Hash::Sha1), KeyKind::Rsa { .. }) => &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            (RsaPkcs1(Hash::Sha256), KeyKind::Rsa { .. }) => &signature::RSA_PKCS1_2048_8192_SHA256,
            (RsaPkcs1(Hash::Sha384), KeyKind::Rsa { .. }) => &signature::RSA_PKCS1_2048_8192_SHA384,
            (RsaPkcs1(Hash::Sha512), KeyKind::Rsa { .. }) => &signature::RSA_PKCS1_2048_8192_SHA512,
            (RsaPss(Hash::Sha256), KeyKind::Rsa { .. }) => &signature::RSA_PSS_2048_8192_SHA256,
            (RsaPss(Hash::Sha384), KeyKind::Rsa { .. }) => &signature::RSA_PSS_2048_8192_SHA384,
            (RsaPss(Hash::Sha512), KeyKind::Rsa { .. }) => &signature::RSA_PSS_2048_8192_SHA512,
            (Ecdsa(Hash::Sha256), KeyKind::EcP256) => &signature::ECDSA_P256_SHA256_ASN1,
            (Ecdsa(Hash::Sha384), KeyKind::EcP256) => &signature::ECDSA_P256_SHA384_ASN1,
            (Ecdsa(Hash::Sha512), KeyKind::EcP256) => &signature::ECDSA_P256_SHA512_ASN1,
            (Ecdsa(Hash::Sha256), KeyKind::EcP384) => &signature::ECDSA_P384_SHA256_ASN1,
            (Ecdsa(Hash::Sha384), KeyKind::EcP384) => &signature::ECDSA_P384_SHA384_ASN1,
            (Ecdsa(Hash::Sha512), KeyKind::EcP384) => &signature::ECDSA_P384_SHA512_ASN1,
            (alg, kind) => return Err(unsupported(format!("{alg:?} with a {kind:?} key"))),
        })
    }

    /// Checks `signature` over `message` with algorithm `alg`: the one place signatures are verified.
    pub fn verify(&self, alg: SignatureAlgorithm, message: &[u8], sig: &[u8]) -> Result<()> {
        let verified = match self.parsed(alg)? {
            (_, Some(key)) => key.verify_sig(message, sig),
            (algorithm, None) => UnparsedPublicKey::new(algorithm, &self.bytes).verify(message, sig),
        };
        verified.map_err(|_| Error::new(ErrorCode::SignatureInvalid))
    }

    /// The aws-lc algorithm for `alg`, and the key parsed for it when it is the algorithm the
    /// key was first used with.
    fn parsed(
        &self,
        alg: SignatureAlgorithm,
    ) -> Result<(&'static dyn VerificationAlgorithm, Option<&ParsedPublicKey>)> {
        let algorithm = self.algorithm(alg)?;
        let (first, parsed) = self
            .parsed
            .get_or_init(|| (alg, UnparsedPublicKey::new(algorithm, &self.bytes).parse().ok()));
        Ok((algorithm, parsed.as_ref().filter(|_| *first == alg)))
    }

    /// Checks `signature` over a message whose digest (by `alg`'s hash) is `digest`: what lets a
    /// CRL of 100 MB be checked against several candidate keys without keeping its bytes.
    pub(crate) fn verify_digest(
        &self,
        alg: SignatureAlgorithm,
        digest: &aws_lc_rs::digest::Digest,
        sig: &[u8],
    ) -> Result<()> {
        let verified = match self.parsed(alg)? {
            (_, Some(key)) => key.verify_digest_sig(digest, sig),
            (algorithm, None) => UnparsedPublicKey::new(algorithm, &self.bytes).verify_digest(digest, sig),
        };
        verified.map_err(|_| Error::new(ErrorCode::SignatureInvalid))
    }
}
