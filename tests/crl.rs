//! CRLs at the edges: malformed input never panics (and is refused exactly when x509-cert
//! refuses it), and `ecpa crl check` answers with the documented JSON and exit codes.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;

use der::Decode;
use ecpa::pki::crlgen::{self, CrlSpec};
use ecpa::pki::{Crl, Signer, SoftwareKey};
use proptest::prelude::*;

struct Fixture {
    key: SoftwareKey,
    spec: CrlSpec,
    der: Vec<u8>,
    issuer: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let key = SoftwareKey::generate_rsa2048().expect("key");
        let mut spec = CrlSpec::new(12);
        spec.seed = 3;
        spec.reason_every = 3;
        let der = crlgen::generate(&key, &spec).expect("CRL");
        let issuer = crlgen::issuer_certificate(
            &key,
            &spec.issuer_cn,
            spec.this_update - time::Duration::days(1),
            spec.this_update + time::Duration::days(365),
        )
        .expect("issuer");
        Fixture { key, spec, der, issuer }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn truncated_crls_are_refused_without_panicking(cut in 0usize..2000) {
        let der = &fixture().der;
        let cut = cut % der.len();
        prop_assert!(Crl::from_der(&der[..cut]).is_err());
    }

    #[test]
    fn bit_flipped_crls_never_panic_and_agree_with_x509_cert(flips in proptest::collection::vec((0usize..4000, 0u8..8), 1..4)) {
        let mut der = fixture().der.clone();
        for (at, bit) in flips {
            let at = at % der.len();
            der[at] ^= 1 << bit;
        }
        let ours = Crl::from_der(&der);
        let reference = x509_cert::crl::CertificateList::<x509_cert::certificate::Rfc5280>::from_der(&der);
        // Like the reader it replaced, ours also refuses a signature with unused bits and an
        // issuingDistributionPoint that does not decode.
        let idp_ok = |r: &x509_cert::crl::CertificateList| {
            r.tbs_cert_list.crl_extensions.iter().flatten().all(|e| {
                e.extn_id.to_string() != "2.5.29.28"
                    || x509_cert::ext::pkix::crl::dp::IssuingDistributionPoint::from_der(e.extn_value.as_bytes()).is_ok()
            })
        };
        let reference = reference
            .ok()
            .filter(|r| r.signature.as_bytes().is_some() && idp_ok(r))
            .ok_or(());
        prop_assert_eq!(ours.is_ok(), reference.is_ok(), "ours: {:?}", ours.as_ref().err());
        if let (Ok(ours), Ok(reference)) = (ours, reference) {
            let listed = reference.tbs_cert_list.revoked_certificates.unwrap_or_default();
            for r in &listed {
                prop_assert!(ours.lookup(r.serial_number.as_bytes()).is_some());
            }
        }
    }
}

fn ecpa(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecpa"))
        .args(args)
        .output()
        .expect("ecpa runs")
}

fn hex_serial(i: usize) -> String {
    hex::encode_upper(crlgen::serial(fixture().spec.seed, i))
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write");
    p.to_string_lossy().into_owned()
}

#[test]
fn crl_check_answers_per_serial_in_json() {
    let f = fixture();
    let dir = tempfile::tempdir().expect("dir");
    let crl = write(dir.path(), "list.crl", &f.der);
    let issuer = write(dir.path(), "ca.der", &f.issuer);
    let miss = format!("0x{}", hex::encode(crlgen::serial(99, 0)));
    let (first, second) = (hex_serial(0), hex_serial(1).to_lowercase());
    let out = ecpa(&[
        "--json", "crl", "check", &crl, &first, &second, &miss, "--issuer", &issuer,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let answers = json.as_array().expect("array");
    assert_eq!(answers.len(), 3);
    assert_eq!(answers[0]["serial"], first.as_str());
    assert_eq!(answers[0]["revoked"], true);
    assert_eq!(answers[0]["reason"], "keyCompromise");
    let date = crlgen::revocation_date(&f.spec, 0)
        .format(&time::format_description::well_known::Rfc3339)
        .expect("date");
    assert_eq!(answers[0]["date"], date.as_str());
    assert_eq!(answers[1]["serial"], hex_serial(1).as_str());
    assert_eq!(answers[1]["revoked"], true);
    assert!(answers[1]["reason"].is_null());
    assert_eq!(answers[2]["revoked"], false);
    assert!(answers[2]["reason"].is_null() && answers[2]["date"].is_null());

    // Only unlisted serials: exit 0. PEM works as DER does.
    let pem = format!(
        "-----BEGIN X509 CRL-----\n{}\n-----END X509 CRL-----\n",
        <base64ct::Base64 as base64ct::Encoding>::encode_string(&f.der)
    );
    let pem = write(dir.path(), "list.pem", pem.as_bytes());
    let out = ecpa(&["--lang", "en", "crl", "check", &pem, &miss, "--issuer", &issuer]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("not revoked"));
}

#[test]
fn crl_check_without_issuer_says_so() {
    let f = fixture();
    let dir = tempfile::tempdir().expect("dir");
    let crl = write(dir.path(), "list.crl", &f.der);
    let out = ecpa(&["--lang", "en", "crl", "check", &crl, "01"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not verified"));
}

#[test]
fn crl_check_refuses_stale_wrongly_signed_and_malformed_lists() {
    let f = fixture();
    let dir = tempfile::tempdir().expect("dir");
    let crl = write(dir.path(), "list.crl", &f.der);
    let issuer = write(dir.path(), "ca.der", &f.issuer);
    let error = |out: &Output| -> serde_json::Value { serde_json::from_slice(&out.stdout).expect("JSON") };

    let later = (f.spec.this_update + time::Duration::days(30))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("date");
    let out = ecpa(&[
        "--json", "crl", "check", &crl, "01", "--issuer", &issuer, "--at", &later,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(error(&out)["error_code"], 4021);
    let out = ecpa(&[
        "crl",
        "check",
        &crl,
        "01",
        "--issuer",
        &issuer,
        "--at",
        &later,
        "--allow-stale",
    ]);
    assert_eq!(out.status.code(), Some(0));

    let other = SoftwareKey::generate_rsa2048().expect("key");
    let now = time::OffsetDateTime::now_utc();
    let other = crlgen::issuer_certificate(
        &other,
        &f.spec.issuer_cn,
        now - time::Duration::days(1),
        now + time::Duration::days(9),
    )
    .expect("cert");
    let other = write(dir.path(), "other.der", &other);
    let out = ecpa(&["--json", "crl", "check", &crl, "01", "--issuer", &other]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(error(&out)["error_code"], 4022);

    let broken = write(dir.path(), "broken.crl", &f.der[..f.der.len() / 2]);
    let out = ecpa(&["--json", "crl", "check", &broken, "01"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(error(&out)["error_code"], 4020);

    let out = ecpa(&["crl", "check", &crl, "xyz"]);
    assert_eq!(out.status.code(), Some(2));
    let out = ecpa(&["crl", "check", &dir.path().join("absent.crl").to_string_lossy(), "01"]);
    assert_eq!(out.status.code(), Some(2));
    // The key is only used to build the fixture.
    let _ = &f.key;
}

/// A CRL remembers which keys its signature was checked against; the remembered answers must be
/// each key's own, in any order and for every clone.
#[test]
fn remembered_signature_checks_keep_each_keys_answer() {
    let f = fixture();
    let crl = Crl::from_der(&f.der).expect("CRL");
    let right = ecpa::pki::Certificate::from_der(&f.issuer).expect("issuer");
    let right = right.public_key().expect("issuer key");
    let other = SoftwareKey::generate_rsa2048().expect("other key");
    let other = ecpa::pki::PublicKey::from_spki_der(&other.public_key_der().expect("spki")).expect("key");
    let clone = crl.clone();
    for _ in 0..2 {
        assert!(crl.verify_signed_by(&other).is_err());
        assert!(crl.verify_signed_by(right).is_ok());
        assert!(clone.verify_signed_by(&other).is_err());
        assert!(clone.verify_signed_by(right).is_ok());
    }
}
