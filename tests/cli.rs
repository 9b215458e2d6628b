//! The `ecpa` command's forms, output and exit codes: other tools depend on them.

use std::process::{Command, Output};

fn ecpa(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecpa"))
        .args(args)
        .output()
        .expect("the ecpa binary runs")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn id_check_json_answers_each_input_in_order() {
    let out = ecpa(&[
        "id",
        "check",
        "--json",
        "A123456789",
        "AC01234567",
        "A800000014",
        "AB12345678",
        "A12345678",
    ]);
    assert_eq!(out.status.code(), Some(1), "any invalid ID makes the answer negative");
    let v = json(&out);
    let rows = v.as_array().expect("an array");
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0]["input"], "A123456789");
    assert_eq!(rows[0]["valid"], true);
    assert_eq!(rows[0]["kind"], "national");
    assert_eq!(rows[0]["sex"], "male");
    assert_eq!(rows[0]["error"], serde_json::Value::Null);
    assert_eq!(rows[1]["kind"], "resident_old");
    assert_eq!(rows[2]["kind"], "resident_new");
    assert_eq!(rows[3]["valid"], false);
    assert_eq!(rows[3]["error"], "E1002 national_id_checksum");
    assert_eq!(rows[3]["error_code"], 1002);
    assert_eq!(rows[4]["error"], "E1001 national_id_invalid");
}

#[test]
fn id_check_exit_codes() {
    assert_eq!(ecpa(&["id", "check", "A123456789"]).status.code(), Some(0));
    assert_eq!(ecpa(&["id", "check", "A123456780"]).status.code(), Some(1));
    assert_eq!(ecpa(&["id", "check"]).status.code(), Some(2), "usage error");
    assert_eq!(ecpa(&["no-such-command"]).status.code(), Some(2));
}

#[test]
fn id_check_human_output_masks_ids() {
    let out = ecpa(&["id", "check", "A123456789", "F223456786"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("A12345****") && text.contains("F22345****"), "{text}");
    assert!(
        !text.contains("A123456789") && !text.contains("F223456786"),
        "a full ID was printed: {text}"
    );
    assert!(text.contains("國民身分證"), "zh-TW by default: {text}");
    let en = ecpa(&["id", "check", "--lang", "en", "A123456789"]);
    assert!(String::from_utf8_lossy(&en.stdout).contains("valid"));
}

#[test]
fn demo_runs_the_whole_flow() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("demo.db");
    let out = ecpa(&["demo", "--json", "--db", db.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    let steps = v["steps"].as_array().expect("steps");
    assert!(steps.len() >= 17, "{} steps", steps.len());
    let all = serde_json::to_string(&v).expect("serialises");
    for code in [
        "E5001", "E5002", "E5003", "E5004", "E7002", "E5020", "E6012", "E5043", "E5041", "E6002", "E6004", "E5055",
    ] {
        assert!(all.contains(code), "the demo shows {code}");
    }
    for full_id in ["A123456789", "F223456786", "F128765439"] {
        assert!(!all.contains(full_id), "the demo printed a full ID");
    }
    // Beside the printed lines, each step's results as data.
    for step in steps {
        assert!(step["data"].is_object(), "step {} has no data: {step}", step["number"]);
    }
    let refused = steps[5]["data"]["refused"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = refused.iter().filter_map(|e| e["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "nhi_card_not_registered",
            "registration_password_wrong",
            "account_not_found",
            "account_disabled"
        ]
    );
    assert_eq!(steps[5]["data"]["session"]["national_id"], "A12345****");
    assert_eq!(steps[10]["data"]["report"]["issued"], 5);
    assert!(db.exists(), "the demo used the given database");
}

#[test]
fn demo_speaks_english_on_request() {
    let out = ecpa(&["demo", "--lang", "en"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Consent to electronic award orders"), "{text}");
    // English as English: no stable names or action codes, no fullwidth punctuation, plurals,
    // Gregorian dates beside the ROC ones.
    for code in [
        "registration_password_wrong",
        "consent.withdraw_refused",
        "award.issue",
        "via nhi_card",
        "（",
        "1 orders",
        "1 corrections",
    ] {
        assert!(!text.contains(code), "the English run shows {code:?}: {text}");
    }
    assert!(text.contains("2023-12-20 (ROC 112/12/20)"), "{text}");
    assert!(text.contains("1 × major merit"), "{text}");
}

#[path = "support/vectors.rs"]
mod vectors;

#[test]
fn cert_verify_answers_valid_or_unknown_issuer() {
    let Some(dir) = vectors::dir("taiwan-pki") else {
        return;
    };
    let f = |n: &str| dir.join(n).to_string_lossy().into_owned();
    let (g1, g2) = (f("GRCA-G1.pem"), f("GRCA-G2.pem"));
    let at = "2026-01-01T00:00:00Z";
    let ok = ecpa(&[
        "cert",
        "verify",
        &f("MOICA-G2.pem"),
        "--anchors",
        &g1,
        &g2,
        "--at",
        at,
        "--json",
    ]);
    assert_eq!(ok.status.code(), Some(0));
    let v = json(&ok);
    assert_eq!(v["valid"], true);
    assert_eq!(v["path"][1], "C=TW, O=Government Root Certification Authority");

    let bad = ecpa(&[
        "cert",
        "verify",
        &f("MOICA-G3.pem"),
        "--anchors",
        &g1,
        &g2,
        "--at",
        at,
        "--json",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    let v = json(&bad);
    assert_eq!(v["valid"], false);
    assert_eq!(v["error_code"], 4013);
    assert_eq!(v["error"], "unknown_issuer");

    let policy = ecpa(&[
        "cert",
        "verify",
        &f("MOICA-G2.pem"),
        "--anchors",
        &g2,
        "--at",
        at,
        "--policy",
        "1.2.3",
    ]);
    assert_eq!(policy.status.code(), Some(1), "a policy the path lacks");
    let missing = ecpa(&[
        "cert",
        "verify",
        &f("MOICA-G2.pem"),
        "--anchors",
        "/nonexistent/anchors.pem",
    ]);
    assert_eq!(missing.status.code(), Some(2), "I/O error");
    let bad_time = ecpa(&[
        "cert",
        "verify",
        &f("MOICA-G2.pem"),
        "--anchors",
        &g2,
        "--at",
        "yesterday",
    ]);
    assert_eq!(bad_time.status.code(), Some(2), "usage error");
}
