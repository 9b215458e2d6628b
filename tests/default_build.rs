//! The `ecpa` a newcomer gets from `cargo build --release` or `cargo install`: the default
//! features, without cards. `scripts/test` runs this file in that build (`cargo test --test
//! default_build`, no `--all-features`); in a build with cards the card checks are skipped.

use std::process::{Command, Output};

fn ecpa(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecpa"))
        .args(args)
        .env_remove("ECPA_PKCS11_MODULE")
        .output()
        .expect("ecpa runs")
}

#[test]
fn the_default_build_has_serve_and_the_operator_commands() {
    let out = ecpa(&["serve", "--help"]);
    assert!(out.status.success(), "{out:?}");
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("--config") && help.contains("--listen") && help.contains("--db"),
        "{help}"
    );
    assert!(ecpa(&["config", "check", "--help"]).status.success());
}

#[cfg(not(feature = "card"))]
#[test]
fn without_cards_the_card_commands_and_the_doctor_say_so_plainly() {
    for args in [&["card", "list"][..], &["card", "read"]] {
        let out = ecpa(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("E2090 card_support_missing") && err.contains("--features card"),
            "{err}"
        );
    }
    let out = ecpa(&["doctor", "--json", "--timeout", "1"]);
    assert_eq!(out.status.code(), Some(1), "rows that cannot be checked fail: {out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["ok"], false);
    let row = |id: &str| {
        report["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no row {id}"))
    };
    for id in ["pcsc.service", "pkcs11.module"] {
        assert_eq!(row(id)["status"], "fail", "{id}");
        let fix = row(id)["fix"]["en"].as_str().unwrap_or("").to_owned();
        assert!(
            fix.contains("--features card") && fix.contains("libpcsclite-dev"),
            "{id}: {fix}"
        );
    }
    for lang in ["zh-TW", "en"] {
        let out = ecpa(&["doctor", "--lang", lang, "--timeout", "1"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            !text.contains("所有項目皆通過") && !text.contains("All checks passed"),
            "{text}"
        );
    }
}
