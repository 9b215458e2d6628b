//! CMS SignedData and the HiPKI local sign server's raw signature: interop with outside
//! fixtures and robustness against malformed input.

#[path = "support/vectors.rs"]
mod vectors;

use base64ct::Encoding as _;
use ecpa::ErrorCode;
use ecpa::pki::cms::{sign_cms, verify_cms, verify_raw_pkcs1};
use ecpa::pki::testpki::{EndEntitySpec, TestPki};
use ecpa::pki::{Certificate, Purpose, SoftwareKey};
use proptest::prelude::*;
use time::macros::datetime;

#[test]
fn the_hipki_sign_response_carries_a_certificate_and_a_256_byte_signature() {
    let Some(dir) = vectors::dir("taiwan-pki") else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("synthetic-hipki-sign-response.json")).expect("reads");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(json["ret_code"], 0);
    let der = base64ct::Base64::decode_vec(json["certb64"].as_str().expect("certb64")).expect("Base64");
    let cert = Certificate::from_der(&der).expect("parses");
    assert_eq!(cert.subject_serial_number().as_deref(), Some("0000000000000000"));
    assert_eq!(cert.purpose(), Purpose::Signing);
    let sig = base64ct::Base64::decode_vec(json["signature"].as_str().expect("signature")).expect("Base64");
    assert_eq!(sig.len(), 256);
    // What was signed is not in the fixture: only a wrong message can be checked.
    assert_eq!(
        verify_raw_pkcs1(b"not what was signed", &sig, &cert)
            .expect_err("other message")
            .code(),
        ErrorCode::SignatureInvalid
    );
}

fn signed() -> &'static (Vec<u8>, Certificate, SoftwareKey) {
    static SIGNED: std::sync::OnceLock<(Vec<u8>, Certificate, SoftwareKey)> = std::sync::OnceLock::new();
    SIGNED.get_or_init(|| {
        let pki = TestPki::new().expect("pki");
        let (cert, key) = pki
            .issue(&EndEntitySpec::citizen("王小明", "0000000012345678", Some("6789")))
            .expect("issues");
        let der = sign_cms(b"challenge", &key, &cert, datetime!(2026-06-01 10:00 UTC)).expect("signs");
        (der, cert, key)
    })
}

#[test]
fn openssl_reads_what_sign_cms_writes() {
    let (der, cert, _) = signed();
    let dir = tempfile::tempdir().expect("tempdir");
    let (p7, out) = (dir.path().join("s.p7"), dir.path().join("out"));
    std::fs::write(&p7, der).expect("writes");
    let Ok(status) = std::process::Command::new("openssl")
        .args(["cms", "-verify", "-noverify", "-inform", "DER", "-binary", "-in"])
        .arg(&p7)
        .arg("-out")
        .arg(&out)
        .status()
    else {
        eprintln!("SKIPPED: no openssl");
        return;
    };
    assert!(status.success(), "openssl cms -verify failed");
    assert_eq!(std::fs::read(&out).expect("reads"), b"challenge");
    assert!(cert.id_last_four().is_some());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn truncated_cms_never_panics(cut in 0usize..4096) {
        let (der, _, _) = signed();
        let cut = cut % der.len();
        prop_assert!(verify_cms(&der[..cut], None).is_err());
    }

    #[test]
    fn bit_flipped_cms_never_panics_and_never_verifies_changed_content(
        flips in proptest::collection::vec((0usize..4096, 0u8..8), 1..4),
        detached in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..16)),
    ) {
        let (der, _, _) = signed();
        let mut bad = der.clone();
        for (at, bit) in flips {
            let at = at % bad.len();
            bad[at] ^= 1 << bit;
        }
        if let Ok(v) = verify_cms(&bad, detached.as_deref()) {
            // Some flips only touch bytes outside the signature's reach (the unsigned
            // certificate copy's own signature, or a BER-tolerant spot): the content holds.
            prop_assert_eq!(v.content, b"challenge".to_vec());
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = verify_cms(&bytes, None);
        let _ = verify_cms(&bytes, Some(b"x"));
    }
}

#[test]
fn verify_cms_reads_what_openssl_signs_by_serial_and_by_key_id() {
    let (_, cert, key) = signed();
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert_pem, key_der, data) = (
        dir.path().join("c.pem"),
        dir.path().join("k.der"),
        dir.path().join("data"),
    );
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        base64ct::Base64::encode_string(cert.der())
    );
    std::fs::write(&cert_pem, pem).expect("writes");
    std::fs::write(&key_der, key.to_pkcs8().expect("pkcs8").as_slice()).expect("writes");
    std::fs::write(&data, b"openssl content").expect("writes");
    for extra in [&[][..], &["-keyid"][..]] {
        let out = dir.path().join("s.p7");
        let Ok(status) = std::process::Command::new("openssl")
            .args([
                "cms",
                "-sign",
                "-binary",
                "-nodetach",
                "-outform",
                "DER",
                "-md",
                "sha256",
            ])
            .args(extra)
            .arg("-signer")
            .arg(&cert_pem)
            .args(["-keyform", "DER", "-inkey"])
            .arg(&key_der)
            .arg("-in")
            .arg(&data)
            .arg("-out")
            .arg(&out)
            .status()
        else {
            eprintln!("SKIPPED: no openssl");
            return;
        };
        assert!(status.success(), "openssl cms -sign {extra:?}");
        let v = verify_cms(&std::fs::read(&out).expect("reads"), None).expect("verifies");
        assert_eq!(v.content, b"openssl content");
        assert_eq!(v.signer.der(), cert.der());
        assert!(v.signing_time.is_some());
    }
    // Detached: the content comes from the caller.
    let out = dir.path().join("d.p7");
    let status = std::process::Command::new("openssl")
        .args(["cms", "-sign", "-binary", "-outform", "DER", "-md", "sha256", "-signer"])
        .arg(&cert_pem)
        .args(["-keyform", "DER", "-inkey"])
        .arg(&key_der)
        .arg("-in")
        .arg(&data)
        .arg("-out")
        .arg(&out)
        .status()
        .expect("openssl ran before");
    assert!(status.success(), "openssl cms -sign detached");
    let detached = std::fs::read(&out).expect("reads");
    let v = verify_cms(&detached, Some(b"openssl content")).expect("verifies");
    assert_eq!(v.content, b"openssl content");
    assert_eq!(
        verify_cms(&detached, None).expect_err("no content").code(),
        ErrorCode::CmsMalformed
    );
    assert_eq!(
        verify_cms(&detached, Some(b"other content"))
            .expect_err("other content")
            .code(),
        ErrorCode::CmsDigestMismatch
    );
}
