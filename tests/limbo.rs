//! x509-limbo: every case is run and compared with its expected result. The cases where we
//! differ are listed, each with its reason, in `docs/x509-limbo-divergences.md`; the test fails
//! if that list is out of date, if agreement drops below 95%, or if a case panics or takes long.
//!
//! `ECPA_LIMBO_WRITE=1 cargo test --test limbo` rewrites the list, keeping the reasons already
//! written and marking new divergences `TODO` (which fails the test until a reason is given).

#[path = "support/vectors.rs"]
mod vectors;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ecpa::pki::cert::KeyUsages;
use ecpa::pki::path::{PeerName, oids};
use ecpa::pki::{Certificate, Crl, TrustAnchor, ValidationOptions, Validator};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const DIVERGENCES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/x509-limbo-divergences.md");

fn pems(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn certs(v: &Value) -> Result<Vec<Certificate>, String> {
    pems(v)
        .into_iter()
        .map(|p| Certificate::parse(p.as_bytes()).map_err(|e| e.to_string()))
        .collect()
}

/// Runs one case: `Ok(())` if the peer validates, else why not.
fn run(case: &Value) -> Result<(), String> {
    let anchors = certs(&case["trusted_certs"])?;
    let intermediates = certs(&case["untrusted_intermediates"])?;
    let leaf = Certificate::parse(case["peer_certificate"].as_str().unwrap_or_default().as_bytes())
        .map_err(|e| e.to_string())?;
    let at = match case["validation_time"].as_str() {
        Some(t) => OffsetDateTime::parse(t, &Rfc3339).map_err(|e| e.to_string())?,
        None => OffsetDateTime::now_utc(),
    };
    let mut opts = ValidationOptions::at(at);
    for p in pems(&case["crls"]) {
        opts.crls
            .extend(Crl::parse_all(p.as_bytes()).map_err(|e| e.to_string())?);
    }
    let mut ku = KeyUsages::default();
    for u in pems(&case["key_usage"]) {
        match u {
            "digitalSignature" => ku.digital_signature = true,
            "contentCommitment" => ku.non_repudiation = true,
            "keyEncipherment" => ku.key_encipherment = true,
            "dataEncipherment" => ku.data_encipherment = true,
            "keyAgreement" => ku.key_agreement = true,
            "keyCertSign" => ku.key_cert_sign = true,
            "cRLSign" => ku.crl_sign = true,
            other => return Err(format!("key usage {other} not supported")),
        }
    }
    opts.key_usage = ku;
    for e in pems(&case["extended_key_usage"]) {
        opts.ext_key_usage.push(match e {
            "serverAuth" => oids::SERVER_AUTH,
            "clientAuth" => oids::CLIENT_AUTH,
            other => return Err(format!("extended key usage {other} not supported")),
        });
    }
    let peer = &case["expected_peer_name"];
    opts.peer_name = match (peer["kind"].as_str(), peer["value"].as_str()) {
        (Some("DNS"), Some(v)) => Some(PeerName::Dns(v.to_owned())),
        (Some("IP"), Some(v)) => Some(PeerName::Ip(v.parse().map_err(|_| format!("IP {v}"))?)),
        (Some(k), _) => return Err(format!("peer name kind {k} not supported")),
        _ => None,
    };
    opts.max_intermediates = case["max_chain_depth"].as_u64().map(|d| d as usize);
    let mut v = Validator::new(anchors.into_iter().map(TrustAnchor::new).collect());
    v.add_intermediates(intermediates);
    v.validate(&leaf, &opts).map(|_| ()).map_err(|e| {
        let detail = e.detail().map(|d| d.en.to_string()).unwrap_or_default();
        format!("{} {detail}", e.code())
    })
}

/// The divergence file's rows: id → (expected, got, reason).
fn read_rows() -> BTreeMap<String, (String, String, String)> {
    let text = std::fs::read_to_string(DIVERGENCES).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split(" | ").collect();
            let id = cells.first()?.strip_prefix("| `")?.strip_suffix('`')?;
            let reason = cells.get(3)?.strip_suffix(" |")?;
            Some((id.to_owned(), (cells[1].into(), cells[2].into(), reason.into())))
        })
        .collect()
}

fn write_rows(rows: &BTreeMap<String, (String, String, String)>, total: usize) {
    let mut out = String::from(
        "# x509-limbo divergences\n\nCases of `limbo-regenerated-no-bettertls.json` where `ecpa`'s path validation \
         disagrees with the expected result, one reason each. `tests/limbo.rs` checks this list is exactly the \
         set of divergences; `ECPA_LIMBO_WRITE=1 cargo test --test limbo` regenerates it, keeping the reasons.\n\n",
    );
    out.push_str(&format!(
        "{} of {total} cases diverge; agreement {:.1}%.\n\n| case | expected | got | reason |\n|---|---|---|---|\n",
        rows.len(),
        100.0 * (total - rows.len()) as f64 / total as f64
    ));
    for (id, (e, g, r)) in rows {
        out.push_str(&format!("| `{id}` | {e} | {g} | {r} |\n"));
    }
    std::fs::write(DIVERGENCES, out).expect("writes the divergence list");
}

#[test]
fn limbo() {
    let Some(dir) = vectors::dir("x509-limbo") else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("limbo-regenerated-no-bettertls.json")).expect("reads");
    let suite: Value = serde_json::from_str(&text).expect("JSON");
    let cases = suite["testcases"].as_array().expect("testcases");
    let old = read_rows();
    let mut rows = BTreeMap::new();
    let mut slow = Vec::new();
    let mut panics = Vec::new();
    for case in cases {
        let id = case["id"].as_str().unwrap_or_default().to_owned();
        let expected = case["expected_result"].as_str().unwrap_or_default().to_owned();
        let started = Instant::now();
        let outcome = std::panic::catch_unwind(|| run(case)).unwrap_or_else(|_| {
            panics.push(id.clone());
            Err("PANIC".into())
        });
        if started.elapsed() > Duration::from_secs(5) {
            slow.push(format!("{id}: {:?}", started.elapsed()));
        }
        let got = if outcome.is_ok() { "SUCCESS" } else { "FAILURE" };
        if got != expected {
            let reason = old
                .get(&id)
                .map(|r| r.2.clone())
                .unwrap_or_else(|| format!("TODO ({})", outcome.err().unwrap_or_default().replace('|', "/")));
            rows.insert(id, (expected, got.to_owned(), reason));
        }
    }
    let agreement = 100.0 * (cases.len() - rows.len()) as f64 / cases.len() as f64;
    println!(
        "x509-limbo: {} cases, {} diverge, agreement {agreement:.1}%",
        cases.len(),
        rows.len()
    );
    if std::env::var_os("ECPA_LIMBO_WRITE").is_some() {
        write_rows(&rows, cases.len());
    }
    assert!(panics.is_empty(), "cases panicked: {panics:?}");
    assert!(slow.is_empty(), "slow cases: {slow:?}");
    assert_eq!(cases.len(), 208, "the suite has 208 cases");
    let stale: Vec<_> = rows
        .iter()
        .filter(|(id, (e, g, _))| old.get(*id).is_none_or(|o| (&o.0, &o.1) != (e, g)))
        .map(|(id, _)| id.clone())
        .chain(old.keys().filter(|id| !rows.contains_key(*id)).cloned())
        .collect();
    assert!(
        stale.is_empty(),
        "docs/x509-limbo-divergences.md is out of date: {stale:?}"
    );
    assert!(
        !rows.values().any(|r| r.2.starts_with("TODO")),
        "a divergence has no reason yet"
    );
    assert!(agreement >= 95.0, "agreement {agreement:.1}% is below 95%");
}
