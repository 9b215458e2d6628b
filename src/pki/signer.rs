//! Who signs: the citizen card (over PKCS#11) or a software key, behind one small trait.
//!
//! The CMS builder and the certificate login take a [`Signer`]; the card module implements it
//! with the token's signing key (the PIN given once, never kept), and [`SoftwareKey`] with a key
//! in memory: the demo's software card and the tests' PKI use it.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use zeroize::Zeroizing;

use super::sig::{Hash, SignatureAlgorithm};
use crate::error::{Error, ErrorCode, Result};

/// Something that signs with one key.
pub trait Signer: Send + Sync {
    /// The algorithm its signatures use.
    fn algorithm(&self) -> SignatureAlgorithm;
    /// The public key as a DER SubjectPublicKeyInfo.
    fn public_key_der(&self) -> Result<Vec<u8>>;
    /// Signs `message` (the signer hashes it).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>>;
}

/// An RSA key in memory, signing PKCS#1 v1.5 with SHA-256 as the citizen card does.
pub struct SoftwareKey {
    pair: KeyPair,
}

impl std::fmt::Debug for SoftwareKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SoftwareKey(RSA, private part hidden)")
    }
}

fn key_error(what: &str) -> Error {
    Error::with(ErrorCode::PublicKeyUnsupported, what.to_owned(), what.to_owned())
}

impl SoftwareKey {
    /// A fresh RSA-2048 key, like a citizen card's.
    pub fn generate_rsa2048() -> Result<Self> {
        Ok(SoftwareKey {
            pair: KeyPair::generate(KeySize::Rsa2048).map_err(|_| key_error("RSA key generation failed"))?,
        })
    }

    /// A key from its PKCS#8 DER.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self> {
        Ok(SoftwareKey {
            pair: KeyPair::from_pkcs8(der).map_err(|_| key_error("PKCS#8 RSA key does not parse"))?,
        })
    }

    /// The private key as PKCS#8 DER (for importing into a PKCS#11 token), zeroized on drop.
    pub fn to_pkcs8(&self) -> Result<Zeroizing<Vec<u8>>> {
        let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der<'static>>::as_der(&self.pair)
            .map_err(|_| key_error("PKCS#8 encoding failed"))?;
        Ok(Zeroizing::new(der.as_ref().to_vec()))
    }
}

impl Signer for SoftwareKey {
    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::RsaPkcs1(Hash::Sha256)
    }

    fn public_key_der(&self) -> Result<Vec<u8>> {
        let der = AsDer::<aws_lc_rs::encoding::PublicKeyX509Der<'static>>::as_der(self.pair.public_key())
            .map_err(|_| key_error("public key encoding failed"))?;
        Ok(der.as_ref().to_vec())
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut sig)
            .map_err(|_| Error::internal("RSA signing failed"))?;
        Ok(sig)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::PublicKey;

    #[test]
    fn a_software_signature_verifies_and_a_changed_message_does_not() {
        let key = SoftwareKey::generate_rsa2048().expect("key");
        let public = PublicKey::from_spki_der(&key.public_key_der().expect("spki")).expect("parses");
        let sig = key.sign(b"challenge").expect("signs");
        public.verify(key.algorithm(), b"challenge", &sig).expect("verifies");
        assert_eq!(
            public
                .verify(key.algorithm(), b"challengf", &sig)
                .expect_err("no")
                .code(),
            ErrorCode::SignatureInvalid
        );
        let again = SoftwareKey::from_pkcs8(&key.to_pkcs8().expect("pkcs8")).expect("reads back");
        assert_eq!(
            again.public_key_der().expect("spki"),
            key.public_key_der().expect("spki")
        );
    }
}
