//! `ecpa card list` and `ecpa card read` where no PC/SC service answers, and in a build without
//! the `card` feature. (With a real pcscd and virtual cards: card_pcscd.rs.)
#![cfg(feature = "cli")]

use std::process::{Command, Output};

/// Runs ecpa with the PC/SC client pointed at a socket nobody listens on, so the answer does
/// not depend on whether this machine runs a pcscd.
fn ecpa(args: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    Command::new(env!("CARGO_BIN_EXE_ecpa"))
        .args(args)
        .env("PCSCLITE_CSOCK_NAME", dir.path().join("no-pcscd.comm"))
        .output()
        .expect("the ecpa binary runs")
}

#[cfg(feature = "card")]
#[test]
fn without_a_pcsc_service_the_commands_say_so() {
    for args in [
        &["card", "list"][..],
        &["card", "read"],
        &["card", "read", "--reader", "X", "--wait", "0.2"],
    ] {
        let out = ecpa(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("E2001 pcsc_unavailable"), "{args:?}: {err}");
        assert!(err.contains("pcscd"), "{err}");
    }
    let out = ecpa(&["card", "list", "--json", "--lang", "en"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["error_code"], 2001);
    assert_eq!(v["error"], "E2001 pcsc_unavailable");
    assert!(v["message"].as_str().unwrap_or_default().contains("not running"));
}

#[cfg(feature = "card")]
#[test]
fn bad_arguments_are_usage_errors() {
    assert_eq!(ecpa(&["card", "read", "--wait", "-1"]).status.code(), Some(2));
    assert_eq!(ecpa(&["card", "list", "--timeout", "nan"]).status.code(), Some(2));
    assert_eq!(ecpa(&["card", "frobnicate"]).status.code(), Some(2));
}

#[cfg(not(feature = "card"))]
#[test]
fn a_build_without_card_support_says_so() {
    for args in [&["card", "list"][..], &["card", "read", "--reveal"]] {
        let out = ecpa(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("E2090 card_support_missing"), "{err}");
    }
}
