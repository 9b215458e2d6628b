//! `ecpa doctor` on a machine with nothing configured: every missing part is a row that fails
//! or warns with its fix, the command exits 1, and it does not hang.
#![cfg(feature = "cli")]

use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn with_nothing_the_rows_fail_with_fixes_quickly() {
    let dir = tempfile::tempdir().expect("dir");
    // A port that was just free: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_ecpa"))
        // pcsc-lite's client looks for the daemon's socket here: none, as if pcscd were stopped
        // (the test script runs one for the other tests).
        .env("PCSCLITE_CSOCK_NAME", dir.path().join("pcscd.comm"))
        .args(["doctor", "--json", "--timeout", "1"])
        .arg("--pkcs11-module")
        .arg(dir.path().join("libHicos_p11v1.so"))
        .arg("--anchors")
        .arg(dir.path().join("no-anchors"))
        .arg("--portal")
        .arg(format!("http://127.0.0.1:{closed}/ecpa"))
        .output()
        .expect("ecpa runs");
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["ok"], false);
    let rows = v["rows"].as_array().expect("rows");
    let row = |id: &str| {
        rows.iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no row {id}: {v}"))
            .clone()
    };
    for r in rows {
        for field in ["title", "found", "expected"] {
            assert!(
                r[field]["zh-TW"].is_string() && r[field]["en"].is_string(),
                "{field} in both languages: {r}"
            );
        }
        let status = r["status"].as_str().expect("status");
        assert!(["ok", "warn", "fail"].contains(&status), "{r}");
        if status == "fail" {
            assert!(r["fix"]["en"].is_string(), "a failed row says how to fix it: {r}");
        }
    }
    let module = row("pkcs11.module");
    if cfg!(feature = "card") {
        assert_eq!(module["status"], "fail");
        assert!(
            module["found"]["en"].as_str().expect("found").contains("E2101"),
            "{module}"
        );
        assert!(module["fix"]["en"].as_str().expect("fix").contains("HiCOS"), "{module}");
    } else {
        assert_eq!(
            module["status"], "warn",
            "a build without the card feature says so: {module}"
        );
    }
    assert_eq!(row("anchors")["status"], "fail");
    assert_eq!(row("portal")["status"], "fail");
    // The PC/SC rows either fail (no pcscd) with what to install, or warn (no PC/SC in this
    // build); the pcscd hint is there on Linux either way.
    let service = row("pcsc.service");
    assert_ne!(service["status"], "ok", "{service}");
    if cfg!(target_os = "linux") {
        assert!(
            service["fix"]["en"]
                .as_str()
                .expect("fix")
                .contains("apt-get install pcscd"),
            "{service}"
        );
    }

    // Human output, English: the same rows, and the exit code.
    let out = Command::new(env!("CARGO_BIN_EXE_ecpa"))
        .args(["doctor", "--lang", "en", "--timeout", "1"])
        .arg("--pkcs11-module")
        .arg(dir.path().join("libHicos_p11v1.so"))
        .arg("--anchors")
        .arg(dir.path().join("no-anchors"))
        .output()
        .expect("ecpa runs");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    if cfg!(feature = "card") {
        assert!(text.contains("[FAIL] citizen card PKCS#11 module"), "{text}");
    }
    assert!(text.contains("[FAIL] GRCA trust anchors"), "{text}");
    assert!(text.contains("Some checks failed."), "{text}");
}

#[test]
fn a_bad_timeout_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_ecpa"))
        .args(["doctor", "--timeout", "0"])
        .output()
        .expect("ecpa runs");
    assert_eq!(out.status.code(), Some(2));
}
