//! Wycheproof RSA PKCS#1 v1.5 verification vectors: every `valid` verifies, every `invalid`
//! does not, and we disagree with none.
//!
//! `acceptable` vectors (legacy encodings some libraries allow) are rejected: a login
//! signature has no reason to use a legacy encoding, so the stricter answer is the safe one.

#[path = "support/vectors.rs"]
mod vectors;

use ecpa::pki::{Hash, PublicKey, SignatureAlgorithm};

fn run(file: &str) -> (usize, Vec<String>) {
    let Some(dir) = vectors::dir("wycheproof") else {
        return (0, Vec::new());
    };
    let text = std::fs::read_to_string(dir.join(file)).expect("vector file reads");
    let v: serde_json::Value = serde_json::from_str(&text).expect("vector file is JSON");
    let mut checked = 0;
    let mut disagreements = Vec::new();
    for group in v["testGroups"].as_array().expect("groups") {
        let hash = match group["sha"].as_str() {
            Some("SHA-256") => Hash::Sha256,
            Some("SHA-384") => Hash::Sha384,
            Some("SHA-512") => Hash::Sha512,
            other => panic!("unexpected hash {other:?}"),
        };
        let key_der = hex::decode(group["publicKeyDer"].as_str().expect("key")).expect("hex");
        let key = PublicKey::from_spki_der(&key_der);
        for t in group["tests"].as_array().expect("tests") {
            checked += 1;
            let id = t["tcId"].as_u64().unwrap_or(0);
            let msg = hex::decode(t["msg"].as_str().expect("msg")).expect("hex");
            let sig = hex::decode(t["sig"].as_str().expect("sig")).expect("hex");
            let accepted = key
                .as_ref()
                .is_ok_and(|k| k.verify(SignatureAlgorithm::RsaPkcs1(hash), &msg, &sig).is_ok());
            let expected = t["result"] == "valid";
            if accepted != expected {
                disagreements.push(format!(
                    "{file} tcId {id}: expected {}, accepted {accepted}",
                    t["result"]
                ));
            }
        }
    }
    (checked, disagreements)
}

#[test]
fn rsa_pkcs1_2048_sha256() {
    let (n, bad) = run("rsa_signature_2048_sha256_test.json");
    assert!(bad.is_empty(), "{bad:#?}");
    eprintln!("{n} vectors checked");
}

#[test]
fn rsa_pkcs1_2048_sha512() {
    let (n, bad) = run("rsa_signature_2048_sha512_test.json");
    assert!(bad.is_empty(), "{bad:#?}");
    eprintln!("{n} vectors checked");
}

#[test]
fn rsa_pkcs1_4096_sha256() {
    let (n, bad) = run("rsa_signature_4096_sha256_test.json");
    assert!(bad.is_empty(), "{bad:#?}");
    eprintln!("{n} vectors checked");
}

/// A missing suite is a skip on a clone without `../shared`, and a failure where the suites are
/// required (`ECPA_REQUIRE_VECTORS=1`, as CI runs): this binary runs one of its own vector tests
/// again, pointed at a folder that does not exist.
#[test]
fn a_missing_suite_is_skipped_unless_required() {
    if std::env::var_os("ECPA_VECTORS_PROBE").is_some() {
        return;
    }
    let run = |require: &str| {
        std::process::Command::new(std::env::current_exe().expect("this test binary"))
            .args(["--exact", "rsa_pkcs1_2048_sha256", "--test-threads=1", "--nocapture"])
            .env("ECPA_VECTORS", "/nonexistent/ecpa-vectors")
            .env("ECPA_REQUIRE_VECTORS", require)
            .env("ECPA_VECTORS_PROBE", "1")
            .output()
            .expect("the test binary runs")
    };
    let said = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    let skipped = run("0");
    assert!(skipped.status.success(), "{}", said(&skipped));
    assert!(said(&skipped).contains("SKIPPED"), "{}", said(&skipped));
    let required = run("1");
    assert!(
        !required.status.success(),
        "a missing suite passed with ECPA_REQUIRE_VECTORS=1"
    );
    assert!(
        said(&required).contains("ECPA_REQUIRE_VECTORS=1 requires"),
        "{}",
        said(&required)
    );
}
