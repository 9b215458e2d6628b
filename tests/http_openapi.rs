//! The OpenAPI document: the served one is the committed `docs/openapi.json`, and it lists
//! every endpoint, which in turn covers every `Portal` operation.
//!
//! After changing the API, regenerate the committed file with
//! `ECPA_BLESS=1 cargo test --all-features --test http_openapi`.
#![cfg(feature = "http")]

mod support;

use std::collections::BTreeSet;

use ecpa::http::server::ENDPOINTS;
use support::http::HttpFixture;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json");

#[test]
fn the_served_document_is_the_committed_one() {
    let h = HttpFixture::new();
    let resp = reqwest::blocking::get(format!("{}/api/v1/openapi.json", h.url())).expect("served");
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"))
    );
    let served = resp.text().expect("text");
    if std::env::var_os("ECPA_BLESS").is_some() {
        std::fs::write(COMMITTED, &served).expect("write docs/openapi.json");
    }
    let committed = std::fs::read_to_string(COMMITTED).expect("docs/openapi.json is committed");
    assert!(
        served == committed,
        "the served OpenAPI document differs from docs/openapi.json: regenerate it with ECPA_BLESS=1 cargo test --all-features --test http_openapi"
    );
    let doc: serde_json::Value = serde_json::from_str(&served).expect("JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    for e in ENDPOINTS {
        let op = &doc["paths"][e.path][e.method.to_lowercase()];
        assert_eq!(op["operationId"], e.operation, "{} {}", e.method, e.path);
        if let Some(req) = e.request {
            assert!(doc["components"]["schemas"][req].is_object(), "schema {req}");
        }
    }
}

#[test]
fn every_portal_operation_has_exactly_one_endpoint() {
    // The methods of `ecpa::portal::Portal`; `RemotePortal` implementing the trait keeps this
    // list honest at compile time, the flow tests keep each path honest at run time.
    let portal_methods: BTreeSet<&str> = [
        "start_nhi_registration",
        "resend_confirmation",
        "confirm_nhi_registration",
        "request_password_reset",
        "complete_password_reset",
        "request_registration_deletion",
        "complete_registration_deletion",
        "change_registration_password",
        "change_registration_details",
        "complete_email_change",
        "request_account_recovery",
        "complete_account_recovery",
        "maintenance_windows",
        "announcements",
        "login_nhi_card",
        "begin_certificate_login",
        "complete_certificate_login",
        "login_account",
        "set_account",
        "session_info",
        "logout",
        "applications",
        "add_my_application",
        "my_applications",
        "open_application",
        "sso_keys",
        "redeem_sso_assertion",
        "registration_terms",
        "consent_text",
        "consent_status",
        "give_consent",
        "withdraw_consent",
        "issue_award_order",
        "issue_award_orders",
        "unviewed_award_orders",
        "view_award_order",
        "award_history",
        "unsigned_award_orders",
        "personal_record",
        "my_corrections",
        "stage_correction",
        "discard_correction",
        "complete_proofing",
        "proofing_query",
        "officer_todos",
        "officer_agencies",
        "submission_corrections",
        "process_correction",
        "agency_employees",
        "audit_trail",
        "stop_nhi_registration",
        "remove_certificate_binding",
    ]
    .into_iter()
    .collect();
    let mut seen = BTreeSet::new();
    for e in ENDPOINTS.iter().filter(|e| e.operation != "ping") {
        assert!(seen.insert(e.operation), "{} twice", e.operation);
    }
    assert_eq!(seen, portal_methods);
    // Every path answers on its method (not 404/405) over a real server.
    let h = HttpFixture::new();
    let http = reqwest::blocking::Client::new();
    for e in ENDPOINTS {
        let path = e
            .path
            .replace("{id}", "1")
            .replace("{code}", "B5")
            .replace("{category}", "current_post")
            .replace("{field}", "email");
        let m = reqwest::Method::from_bytes(e.method.as_bytes()).expect("method");
        let r = http.request(m, format!("{}{path}", h.url())).send().expect("sent");
        let j: serde_json::Value = r.json().unwrap_or(serde_json::Value::Null);
        assert!(
            j["name"] != "endpoint_unknown" && j["name"] != "method_not_allowed",
            "{} {path}: {j}",
            e.method
        );
    }
}

/// Every `$ref` in `v`, with where it was found.
fn refs<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
    match v {
        serde_json::Value::Object(m) => {
            if let Some(serde_json::Value::String(r)) = m.get("$ref") {
                out.push(r);
            }
            m.values().for_each(|x| refs(x, out));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[test]
fn every_schema_is_typed_and_every_reference_resolves() {
    let doc: serde_json::Value = serde_json::from_str(&ecpa::http::openapi::document_text()).expect("JSON");
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for (name, schema) in schemas {
        // An object schema without its fields (what the responses used to be) types nothing;
        // `Empty` (ping's `{}`) is the one object that has none.
        let fields = schema["properties"].as_object().map_or(0, |p| p.len());
        let shaped = fields > 0 || schema.get("oneOf").is_some() || schema.get("enum").is_some();
        assert!(
            shaped || schema.get("type").is_some_and(|t| t != "object") || name == "Empty",
            "schema {name} says nothing of its fields: {schema}"
        );
    }
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 100, "the document refers to its schemas");
    for r in found {
        let target = r.strip_prefix('#').and_then(|p| doc.pointer(p));
        assert!(target.is_some(), "{r} does not resolve");
    }
    // The constraints the server checks are in the document.
    assert_eq!(schemas["NationalId"]["pattern"], "^[A-Za-z][1289A-Da-d][0-9]{8}$");
    assert_eq!(schemas["Password"]["maxLength"], 12);
    assert_eq!(
        schemas["CardWire"]["properties"]["card_number"]["pattern"],
        "^[0-9]{12}$"
    );
    assert!(schemas["ProofingCategory"].to_string().contains("rewards_punishments"));
    // Every operation with a session answers 401 with the error body.
    for e in ENDPOINTS
        .iter()
        .filter(|e| e.access != ecpa::http::server::Access::Public)
    {
        let op = &doc["paths"][e.path][e.method.to_lowercase()];
        assert_eq!(
            op["responses"]["401"]["$ref"], "#/components/responses/E401",
            "{}",
            e.path
        );
    }
}
