//! Malformed certificates never panic: truncated and bit-flipped copies of real certificates
//! (GRCA, MOICA, the synthetic MOICA-like user) thrown at the parser, the profile and the
//! signature check.

#[path = "support/vectors.rs"]
mod vectors;

use ecpa::ErrorCode;
use ecpa::pki::Certificate;
use proptest::prelude::*;

fn samples() -> Vec<Vec<u8>> {
    let Some(dir) = vectors::dir("taiwan-pki") else {
        return Vec::new();
    };
    ["GRCA-G2.pem", "MOICA-G2.pem", "MOICA-G3.pem", "synthetic-test-user.pem"]
        .iter()
        .map(|f| {
            Certificate::parse(&std::fs::read(dir.join(f)).expect("reads"))
                .expect("parses")
                .der()
                .to_vec()
        })
        .collect()
}

/// Everything a caller may do with a parsed certificate, so a panic anywhere shows.
fn exercise(bytes: &[u8], issuer: &Certificate) {
    match Certificate::from_der(bytes) {
        Ok(c) => {
            let _ = c.profile();
            let _ = c.subject();
            let _ = c.issuer();
            let _ = c.id_last_four();
            if let Ok(key) = issuer.public_key() {
                let _ = c.verify_signed_by(key);
            }
        }
        Err(e) => assert_eq!(e.code(), ErrorCode::CertificateMalformed, "{e}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn truncated_certificates_are_refused(which in 0usize..4, cut in 0usize..2000) {
        let certs = samples();
        if let Some(der) = certs.get(which) {
            let cut = cut % der.len();
            let e = Certificate::from_der(&der[..cut]).expect_err("a truncated certificate does not parse");
            prop_assert_eq!(e.code(), ErrorCode::CertificateMalformed);
        }
    }

    #[test]
    fn bit_flipped_certificates_never_panic(which in 0usize..4, flips in prop::collection::vec((0usize..2000, 0u8..8), 1..4)) {
        let certs = samples();
        if let Some(der) = certs.get(which) {
            let mut bytes = der.clone();
            for (at, bit) in flips {
                let at = at % bytes.len();
                bytes[at] ^= 1 << bit;
            }
            let issuer = Certificate::from_der(&certs[0]).expect("GRCA G2 parses");
            exercise(&bytes, &issuer);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = Certificate::from_der(&bytes);
        let _ = Certificate::parse(&bytes);
        let _ = Certificate::parse_all(&bytes);
    }
}
