//! Bad input over HTTP: malformed JSON, oversized bodies, wrong types, unknown fields, wrong
//! content types, invalid IDs and dates, bad path parameters, unknown routes. Each must be a 4xx
//! with a typed error body; never a 500, never a dropped connection.
#![cfg(feature = "http")]

mod support;

use ecpa::http::server::ENDPOINTS;
use ecpa::portal::Portal;
use serde_json::{Value, json};
use support::http::{HttpFixture, test_server_config};
use support::{Who, person};

struct Probe {
    h: HttpFixture,
    http: reqwest::blocking::Client,
    token: String,
}

impl Probe {
    fn new() -> Probe {
        let mut server = test_server_config();
        server.body_limit_bytes = 16 * 1024;
        let h = HttpFixture::with(support::fast_config(), server);
        let token = h.ready(Who::OfficerA).expose().to_owned();
        Probe {
            h,
            http: reqwest::blocking::Client::new(),
            token,
        }
    }

    fn send(&self, method: &str, path: &str, content_type: Option<&str>, body: Vec<u8>) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut r = self
            .http
            .request(m, format!("{}{path}", self.h.url()))
            .bearer_auth(&self.token)
            .body(body);
        if let Some(ct) = content_type {
            r = r.header("content-type", ct);
        }
        let resp = r
            .send()
            .unwrap_or_else(|e| panic!("{method} {path}: connection failed: {e}"));
        let status = resp.status().as_u16();
        let text = resp.text().expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, json)
    }

    /// Asserts a typed 4xx with this status and error name.
    #[track_caller]
    fn expect(&self, got: (u16, Value), status: u16, name: &str) {
        let (s, j) = got;
        assert_eq!((s, j["name"].as_str().unwrap_or("")), (status, name), "{j}");
        assert_eq!(
            j["code"]
                .as_u64()
                .and_then(|n| ecpa::ErrorCode::from_number(n as u32))
                .map(|c| c.name()),
            Some(name)
        );
        assert!(j["message_zh"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(j["message_en"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

/// What is sent (label, content type, body) and the status and error name it must get.
type Case = (&'static str, Option<&'static str>, Vec<u8>, u16, &'static str);

fn concrete(path: &str) -> String {
    path.replace("{id}", "1")
        .replace("{code}", "B5")
        .replace("{category}", "current_post")
        .replace("{field}", "email")
}

#[test]
fn every_body_endpoint_refuses_garbage_with_a_typed_4xx() {
    let p = Probe::new();
    let json_ct = Some("application/json");
    for e in ENDPOINTS.iter().filter(|e| e.request.is_some()) {
        let path = concrete(e.path);
        let cases: Vec<Case> = vec![
            ("malformed", json_ct, b"{\"card\": ".to_vec(), 400, "request_invalid"),
            ("not an object", json_ct, b"42".to_vec(), 400, "request_invalid"),
            ("array", json_ct, b"[]".to_vec(), 400, "request_invalid"),
            ("empty", json_ct, Vec::new(), 400, "request_invalid"),
            (
                "unknown field only",
                json_ct,
                br#"{"surprise": 1}"#.to_vec(),
                400,
                "request_invalid",
            ),
            ("not UTF-8", json_ct, vec![0xff, 0xfe, 0x7b], 400, "request_invalid"),
            ("no content type", None, b"{}".to_vec(), 415, "content_type_invalid"),
            (
                "text/plain",
                Some("text/plain"),
                b"{}".to_vec(),
                415,
                "content_type_invalid",
            ),
            (
                "oversized",
                json_ct,
                vec![b' '; 16 * 1024 + 1],
                413,
                "request_too_large",
            ),
        ];
        for (what, ct, body, status, name) in cases {
            let got = p.send(e.method, &path, ct, body);
            assert!(got.0 < 500, "{} {path} {what}: {got:?}", e.method);
            p.expect(got, status, name);
        }
    }
}

#[test]
fn wrong_types_and_unknown_fields_in_real_bodies() {
    let p = Probe::new();
    let card = ecpa::http::wire::CardWire::from(&person(Who::Wang).card_data());
    let mut login = json!({ "card": card, "password": "Ecpa#2026ok" });
    let post = |path: &str, v: &Value| p.send("POST", path, Some("application/json"), v.to_string().into_bytes());

    // Unknown field next to valid ones, at the top and nested.
    let mut extra = login.clone();
    extra["remember_me"] = json!(true);
    p.expect(post("/api/v1/login/nhi-card", &extra), 400, "request_invalid");
    let mut nested = login.clone();
    nested["card"]["photo"] = json!("…");
    p.expect(post("/api/v1/login/nhi-card", &nested), 400, "request_invalid");
    // Wrong types.
    login["password"] = json!(123456);
    p.expect(post("/api/v1/login/nhi-card", &login), 400, "request_invalid");
    let mut sex = json!({ "card": card, "password": "Ecpa#2026ok" });
    sex["card"]["sex"] = json!("x");
    p.expect(post("/api/v1/login/nhi-card", &sex), 400, "request_invalid");
    let order = |patch: &dyn Fn(&mut Value)| {
        let mut o = json!(ecpa::http::wire::AwardOrderWire::from(&support::order(
            Who::Wang,
            "114/05/20",
            "北市勞人字第11460000001號",
            ecpa::portal::AwardKind::Commendation,
            1
        )));
        patch(&mut o);
        o
    };
    p.expect(
        post("/api/v1/award-orders", &order(&|o| o["count"] = json!(-1))),
        400,
        "request_invalid",
    );
    p.expect(
        post("/api/v1/award-orders", &order(&|o| o["count"] = json!(300))),
        400,
        "request_invalid",
    );
    p.expect(
        post("/api/v1/award-orders", &order(&|o| o["kind"] = json!("medal"))),
        400,
        "request_invalid",
    );
    p.expect(
        post("/api/v1/award-orders", &order(&|o| o["special"] = json!("yes"))),
        400,
        "request_invalid",
    );
    p.expect(
        post("/api/v1/award-orders/bulk", &json!({ "orders": {} })),
        400,
        "request_invalid",
    );
    p.expect(
        post(
            "/api/v1/proofing/corrections/1/process",
            &json!({ "decision": "maybe" }),
        ),
        400,
        "request_invalid",
    );

    // Invalid IDs and dates get their own codes, 422.
    let mut bad_id = json!({ "card": card, "password": "Ecpa#2026ok" });
    bad_id["card"]["national_id"] = json!("A123456788");
    p.expect(post("/api/v1/login/nhi-card", &bad_id), 422, "national_id_checksum");
    bad_id["card"]["national_id"] = json!("A12345");
    p.expect(post("/api/v1/login/nhi-card", &bad_id), 422, "national_id_invalid");
    let mut bad_date = json!({ "card": card, "password": "Ecpa#2026ok" });
    bad_date["card"]["birth_date"] = json!("2019-02-30");
    p.expect(post("/api/v1/login/nhi-card", &bad_date), 422, "date_invalid");
    bad_date["card"]["birth_date"] = json!("000/01/01");
    p.expect(post("/api/v1/login/nhi-card", &bad_date), 422, "date_invalid");
    let mut bad_card = json!({ "card": card, "password": "Ecpa#2026ok" });
    bad_card["card"]["card_number"] = json!("12ab");
    p.expect(post("/api/v1/login/nhi-card", &bad_card), 422, "card_number_invalid");
    p.expect(
        post(
            "/api/v1/award-orders",
            &order(&|o| o["national_id"] = json!("Z999999999")),
        ),
        422,
        "national_id_checksum",
    );
    p.expect(
        post(
            "/api/v1/award-orders",
            &order(&|o| o["approved_on"] = json!("114/13/01")),
        ),
        422,
        "date_invalid",
    );
    p.expect(
        post(
            "/api/v1/award-orders",
            &order(&|o| o["document_number"] = json!("第1號")),
        ),
        422,
        "document_number_invalid",
    );
    p.expect(
        post("/api/v1/proofing/query", &json!({ "from": "2025-13-01" })),
        422,
        "date_invalid",
    );
    p.expect(
        post("/api/v1/proofing/query", &json!({ "agency": "x" })),
        422,
        "agency_code_invalid",
    );
    p.expect(post("/api/v1/audit", &json!({ "to": "soon" })), 422, "date_invalid");
    let mut reg = json!(ecpa::http::wire::RegistrationWire::from(&p.h.fx.form(Who::Lin)));
    reg["household_number"] = json!("12345678");
    p.expect(post("/api/v1/registrations", &reg), 422, "household_number_invalid");
    reg["household_number"] = json!("F1234567");
    reg["password"] = json!("a b<c>");
    p.expect(post("/api/v1/registrations", &reg), 422, "password_policy");
    reg["password"] = json!("Ecpa#2026ok");
    reg["email"] = json!("not-an-address");
    p.expect(post("/api/v1/registrations", &reg), 422, "email_invalid");
    let mut bulk = json!({ "orders": [order(&|_| {}), order(&|o| o["national_id"] = json!("A1"))] });
    let (s, j) = post("/api/v1/award-orders/bulk", &bulk);
    assert_eq!(s, 422);
    assert!(j["message_en"].as_str().unwrap_or("").contains("order 2"), "{j}");
    bulk["orders"] = json!([]);
    assert!(post("/api/v1/award-orders/bulk", &bulk).0 < 500);
}

#[test]
fn bad_paths_methods_and_tokens() {
    let p = Probe::new();
    p.expect(
        p.send("POST", "/api/v1/award-orders/abc/view", None, Vec::new()),
        400,
        "request_invalid",
    );
    p.expect(
        p.send(
            "POST",
            "/api/v1/award-orders/99999999999999999999/view",
            None,
            Vec::new(),
        ),
        400,
        "request_invalid",
    );
    p.expect(
        p.send("GET", "/api/v1/proofing/submissions/-1/corrections", None, Vec::new()),
        404,
        "correction_not_found",
    );
    p.expect(
        p.send("DELETE", "/api/v1/proofing/corrections/hobbies/email", None, Vec::new()),
        422,
        "proofing_field_unknown",
    );
    p.expect(
        p.send("GET", "/api/v2/session", None, Vec::new()),
        404,
        "endpoint_unknown",
    );
    p.expect(p.send("GET", "/", None, Vec::new()), 404, "endpoint_unknown");
    p.expect(
        p.send("DELETE", "/api/v1/session", None, Vec::new()),
        405,
        "method_not_allowed",
    );
    p.expect(
        p.send("GET", "/api/v1/login/nhi-card", None, Vec::new()),
        405,
        "method_not_allowed",
    );

    // Malformed or foreign tokens are a plain 401, never a 500.
    let http = reqwest::blocking::Client::new();
    for auth in [
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer \u{7}",
        "Bearer x",
        &format!("Bearer {}", "a".repeat(10_000)),
    ] {
        let r = http
            .get(format!("{}/api/v1/session", p.h.url()))
            .header("authorization", auth)
            .send();
        if let Ok(r) = r {
            assert!(r.status().as_u16() < 500);
            let status = r.status().as_u16();
            let j: Value = r.json().unwrap_or(Value::Null);
            assert!(status == 401 || status == 400 || status == 431, "{auth}: {status} {j}");
        }
    }
    // The client refuses the same bad values before sending: typed, no panic.
    support::expect_code(
        p.h.remote.view_award_order(&ecpa::portal::SessionToken::new("x"), 1),
        ecpa::ErrorCode::SessionInvalid,
    );
}

#[test]
fn random_bytes_never_make_a_500() {
    let p = Probe::new();
    // A deterministic generator, so a failure reproduces.
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let fragments: [&[u8]; 10] = [
        b"{",
        b"}",
        b"\"card\":",
        b"\"national_id\":\"A123456789\"",
        b"[",
        b"null",
        b"1e999",
        b"\"\\ud800\"",
        b",",
        b"\xe4\xbd",
    ];
    for e in ENDPOINTS.iter().filter(|e| e.request.is_some()) {
        let path = concrete(e.path);
        for _ in 0..20 {
            let mut body = Vec::new();
            for _ in 0..(next() % 12) {
                body.extend_from_slice(fragments[(next() % fragments.len() as u64) as usize]);
            }
            let (status, j) = p.send(e.method, &path, Some("application/json"), body.clone());
            assert!(
                (400..500).contains(&status) || (200..300).contains(&status),
                "{} {path} {:?}: {status} {j}",
                e.method,
                String::from_utf8_lossy(&body)
            );
        }
    }
    // The server still serves.
    assert!(p.h.remote.consent_text().is_ok());
}

#[test]
fn a_client_trickling_its_headers_is_cut_off_and_others_are_still_served() {
    use std::io::{Read, Write};
    let mut server = test_server_config();
    server.header_timeout_ms = 300;
    let h = HttpFixture::with(support::fast_config(), server);
    let addr = h.server.addr();
    let mut slow = std::net::TcpStream::connect(addr).expect("connect");
    slow.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("read timeout");
    slow.write_all(b"GET /api/v1/ping HTTP/1.1\r\nHost: x\r\n")
        .expect("half the headers");
    // The rest never comes: the server closes the connection (after at most a 408) instead of
    // holding it open.
    let mut rest = Vec::new();
    slow.read_to_end(&mut rest)
        .expect("the server closes the connection before the client's 10 s read timeout");
    assert!(
        rest.is_empty() || rest.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&rest)
    );
    // The service itself is unaffected.
    h.remote.consent_text().expect("another client is served");
}
