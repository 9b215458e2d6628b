//! The authorization matrix over HTTP: every endpoint of `ENDPOINTS` × (no session, employee,
//! other employee, officer of the agency, officer of another agency, too low an assurance
//! level). Every cell has an expected answer; every forbidden cell must be refused with the
//! right status and code. The test prints the whole matrix.
#![cfg(feature = "http")]

mod support;

use std::collections::BTreeMap;

use ecpa::http::server::{Access, ENDPOINTS};
use ecpa::portal::{AwardKind, CorrectionDecision, Portal, ProofingCategory};
use serde_json::{Value, json};
use support::http::HttpFixture;
use support::{AGENCY_A, AGENCY_B, Who, order, person, pw};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    NoSession,
    LowAssurance,
    OtherEmployee,
    OfficerOther,
    Employee,
    OfficerSame,
}

/// In the order the cells run: those that may change the shared resources last.
const ROLES: [Role; 6] = [
    Role::NoSession,
    Role::LowAssurance,
    Role::OtherEmployee,
    Role::OfficerOther,
    Role::Employee,
    Role::OfficerSame,
];

impl Role {
    fn label(self) -> &'static str {
        match self {
            Role::NoSession => "none",
            Role::Employee => "employee",
            Role::OtherEmployee => "other-emp",
            Role::OfficerSame => "officer-A",
            Role::OfficerOther => "officer-B",
            Role::LowAssurance => "password",
        }
    }
}

/// What a cell must answer: success, or this status and error name.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Want {
    Ok,
    Err(u16, &'static str),
}

const NO_SESSION: Want = Want::Err(401, "session_invalid");
const TOO_LOW: Want = Want::Err(403, "assurance_too_low");
const NOT_OFFICER: Want = Want::Err(403, "not_personnel_officer");

struct World {
    h: HttpFixture,
    http: reqwest::blocking::Client,
    order_id: i64,
    submission_id: i64,
    correction_id: i64,
    consent_version: String,
}

fn world() -> World {
    let h = HttpFixture::new();
    for who in [Who::Wang, Who::Lin, Who::OfficerA, Who::OfficerB] {
        let s = h.ready(who);
        h.remote.add_my_application(&s, "B5").expect("add B5");
    }
    let wang = h.login(Who::Wang);
    h.remote
        .set_account(&wang, "wang.low", &pw("Acct#2026ok"))
        .expect("account");
    let officer = h.login(Who::OfficerA);
    let issued = h
        .remote
        .issue_award_order(
            &officer,
            &order(
                Who::Wang,
                "114/05/20",
                "北市勞人字第11460009999號",
                AwardKind::Commendation,
                1,
            ),
        )
        .expect("order");
    h.remote
        .stage_correction(
            &wang,
            ProofingCategory::CurrentPost,
            "email",
            "wang.m@mail.taipei.gov.tw",
        )
        .expect("staged");
    let submission = h.remote.complete_proofing(&wang).expect("submitted");
    let correction = h
        .remote
        .submission_corrections(&officer, submission.id)
        .expect("corrections")[0]
        .id;
    let consent_version = h.remote.consent_text().expect("text").version;
    World {
        h,
        http: reqwest::blocking::Client::new(),
        order_id: issued.summary.id,
        submission_id: submission.id,
        correction_id: correction,
        consent_version,
    }
}

impl World {
    /// A fresh session for the role (so logout and the like cannot spoil other cells).
    fn token(&self, role: Role) -> Option<String> {
        let r = &self.h.remote;
        let s = match role {
            Role::NoSession => return None,
            Role::Employee => self.h.login(Who::Wang),
            Role::OtherEmployee => self.h.login(Who::Lin),
            Role::OfficerSame => self.h.login(Who::OfficerA),
            Role::OfficerOther => self.h.login(Who::OfficerB),
            Role::LowAssurance => {
                r.login_account("wang.low", &pw("Acct#2026ok"))
                    .expect("account login")
                    .token
            }
        };
        Some(s.expose().to_owned())
    }

    /// The path and body of a call to `operation` as `role` (unique values per cell).
    fn request(&self, operation: &str, role: Role, n: usize) -> (String, Option<Value>) {
        let outsider = person(Who::Outsider).card_data();
        let card = ecpa::http::wire::CardWire::from(&outsider);
        let wang_order = |doc: usize| {
            json!(ecpa::http::wire::AwardOrderWire::from(&order(
                Who::Wang,
                "114/05/21",
                &format!("北市勞人字第1146{:07}號", doc),
                AwardKind::Commendation,
                1
            )))
        };
        let p = |s: &str| s.to_owned();
        match operation {
            "start_nhi_registration" => (
                p("/api/v1/registrations"),
                // Someone the directory does not know: the same answer whoever asks (a form that
                // could succeed would succeed once, then be pending).
                Some(json!(ecpa::http::wire::RegistrationWire::from(
                    &self.h.fx.form(Who::Outsider)
                ))),
            ),
            "resend_confirmation" => (p("/api/v1/registrations/resend"), Some(json!({ "card": card }))),
            "confirm_nhi_registration" => (
                p("/api/v1/registrations/confirm"),
                Some(json!({ "card": card, "token": "00" })),
            ),
            "request_password_reset" => (
                p("/api/v1/password-resets"),
                Some(json!({ "card": card, "delivery": { "to": "registered_address" } })),
            ),
            "complete_password_reset" => (
                p("/api/v1/password-resets/complete"),
                Some(
                    json!({ "card": card, "token": "00", "new_password": "New#2026ok", "confirmation": "New#2026ok" }),
                ),
            ),
            "request_registration_deletion" => (p("/api/v1/registrations/deletions"), Some(json!({ "card": card }))),
            "complete_registration_deletion" => (
                p("/api/v1/registrations/deletions/complete"),
                Some(json!({ "card": card, "token": "00" })),
            ),
            "change_registration_password" => (
                p("/api/v1/registrations/password"),
                Some(
                    json!({ "card": card, "old_password": "Ecpa#2026ok", "new_password": "New#2026ok", "confirmation": "New#2026ok" }),
                ),
            ),
            "change_registration_details" => (
                p("/api/v1/registrations/details"),
                Some(json!({ "card": card, "password": "Ecpa#2026ok", "email": "someone@example.com.tw" })),
            ),
            "complete_email_change" => (
                p("/api/v1/registrations/email-change/complete"),
                Some(json!({ "card": card, "token": "00" })),
            ),
            "request_account_recovery" => (
                p("/api/v1/account-recoveries"),
                Some(json!({ "national_id": person(Who::Outsider).id.reveal() })),
            ),
            "complete_account_recovery" => (
                p("/api/v1/account-recoveries/complete"),
                Some(json!({ "token": "00", "new_password": "New#2026ok", "confirmation": "New#2026ok" })),
            ),
            "maintenance_windows" => (p("/api/v1/maintenance-windows"), None),
            "announcements" => (p("/api/v1/announcements"), None),
            "login_nhi_card" => (
                p("/api/v1/login/nhi-card"),
                Some(json!({ "card": card, "password": "Ecpa#2026ok" })),
            ),
            "begin_certificate_login" => (p("/api/v1/login/certificate/challenge"), None),
            "complete_certificate_login" => (
                p("/api/v1/login/certificate"),
                Some(
                    json!({ "challenge_id": "nope", "certificate": "AAAA", "signature_kind": "raw_pkcs1", "signature": "AAAA" }),
                ),
            ),
            "login_account" => (
                p("/api/v1/login/account"),
                Some(json!({ "account": "nobody.here", "password": "Acct#2026ok" })),
            ),
            "set_account" => (
                p("/api/v1/account"),
                // Wang's two roles keep the account name the low-assurance login uses.
                Some(match role {
                    Role::Employee | Role::LowAssurance => json!({ "account": "wang.low", "password": "Acct#2026ok" }),
                    _ => json!({ "account": format!("acct.{}.{n}", role.label()), "password": "Acct#2026ok" }),
                }),
            ),
            "session_info" => (p("/api/v1/session"), None),
            "logout" => (p("/api/v1/logout"), None),
            "applications" => (p("/api/v1/applications"), None),
            "my_applications" => (p("/api/v1/my-applications"), None),
            "add_my_application" => (p("/api/v1/my-applications"), Some(json!({ "code": "B3" }))),
            "open_application" => (p("/api/v1/applications/B5/open"), None),
            "sso_keys" => (p("/.well-known/jwks.json"), None),
            // An assertion no portal signed: refused alike whoever posts it.
            "redeem_sso_assertion" => (
                p("/api/v1/sso/redeem"),
                Some(json!({ "token": "eyJhbGciOiJFUzI1NiJ9.e30.AAAA", "audience": "B5A" })),
            ),
            "consent_text" => (p("/api/v1/consent/text"), None),
            "registration_terms" => (p("/api/v1/registrations/terms"), None),
            "consent_status" => (p("/api/v1/consent"), None),
            "give_consent" => (p("/api/v1/consent"), Some(json!({ "version": self.consent_version }))),
            "withdraw_consent" => (p("/api/v1/consent"), None),
            "issue_award_order" => (p("/api/v1/award-orders"), Some(wang_order(n))),
            "issue_award_orders" => (
                p("/api/v1/award-orders/bulk"),
                Some(json!({ "orders": [wang_order(n + 5000)] })),
            ),
            "unviewed_award_orders" => (p("/api/v1/award-orders/unviewed"), None),
            "view_award_order" => (format!("/api/v1/award-orders/{}/view", self.order_id), None),
            "award_history" => (p("/api/v1/award-orders/history"), None),
            "unsigned_award_orders" => (p("/api/v1/award-orders/unsigned/list"), Some(json!({}))),
            "personal_record" => (p("/api/v1/personal-record"), None),
            "my_corrections" => (p("/api/v1/proofing/my-corrections"), None),
            "stage_correction" => (
                p("/api/v1/proofing/corrections"),
                Some(
                    json!({ "category": "current_post", "field": "office_phone", "new_value": format!("02-2720-{n:04}") }),
                ),
            ),
            "discard_correction" => (p("/api/v1/proofing/corrections/current_post/office_phone"), None),
            "complete_proofing" => (p("/api/v1/proofing/complete"), None),
            "proofing_query" => (p("/api/v1/proofing/query"), Some(json!({ "agency": AGENCY_A }))),
            "officer_todos" => (p("/api/v1/proofing/todos"), None),
            "officer_agencies" => (p("/api/v1/agency/agencies"), None),
            "submission_corrections" => (
                format!("/api/v1/proofing/submissions/{}/corrections", self.submission_id),
                None,
            ),
            "process_correction" => (
                format!("/api/v1/proofing/corrections/{}/process", self.correction_id),
                Some(json!(ecpa::http::wire::DecisionWire::from(
                    &CorrectionDecision::Approve
                ))),
            ),
            "agency_employees" => (p("/api/v1/agency/employees/list"), Some(json!({ "per_page": 10 }))),
            "audit_trail" => (p("/api/v1/audit"), Some(json!({}))),
            // Huang of agency A, who has neither a card registered nor a certificate bound here:
            // the officer's removal finds nothing, and no role's own session is touched.
            "stop_nhi_registration" => (
                p("/api/v1/agency/nhi-registrations/stop"),
                Some(json!({ "national_id": person(Who::NoMail).id.reveal() })),
            ),
            "remove_certificate_binding" => (
                p("/api/v1/agency/certificate-bindings/remove"),
                Some(json!({ "national_id": person(Who::NoMail).id.reveal() })),
            ),
            "ping" => (p("/api/v1/ping"), None),
            other => panic!("no request for {other}: add it to the matrix"),
        }
    }

    fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut r = self.http.request(method, format!("{}{path}", self.h.url()));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.json(b);
        }
        let resp = r.send().expect("sent");
        let status = resp.status().as_u16();
        let text = resp.text().expect("body");
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text}"))
        };
        (status, json)
    }
}

/// The expected answer of each session or officer endpoint for each role.
fn expected(operation: &str, access: Access, role: Role) -> Want {
    use Role::*;
    if role == NoSession {
        return NO_SESSION;
    }
    // Operations behind the proofing site (B5) need at least an NHI-card login.
    let behind_b5 = matches!(
        operation,
        "consent_status"
            | "give_consent"
            | "withdraw_consent"
            | "issue_award_order"
            | "issue_award_orders"
            | "unviewed_award_orders"
            | "view_award_order"
            | "award_history"
            | "unsigned_award_orders"
            | "personal_record"
            | "my_corrections"
            | "stage_correction"
            | "discard_correction"
            | "complete_proofing"
            | "proofing_query"
            | "officer_todos"
            | "officer_agencies"
            | "submission_corrections"
            | "process_correction"
            | "open_application"
            | "agency_employees"
            | "stop_nhi_registration"
            | "remove_certificate_binding"
    );
    if role == LowAssurance && behind_b5 {
        return TOO_LOW;
    }
    let officer = matches!(role, OfficerSame | OfficerOther);
    if access == Access::Officer && !officer {
        return NOT_OFFICER;
    }
    match (operation, role) {
        // Consent is final, for everyone who gave it.
        ("withdraw_consent", _) => Want::Err(409, "consent_final"),
        // Wang's order is Wang's alone.
        ("view_award_order", Employee) => Want::Ok,
        ("view_award_order", _) => Want::Err(404, "award_order_not_found"),
        // Agency A's people and data are agency A's officers' alone.
        ("issue_award_order" | "issue_award_orders", OfficerOther) => Want::Err(403, "employee_not_in_agency"),
        ("proofing_query", OfficerOther) => Want::Err(403, "access_denied"),
        ("submission_corrections" | "process_correction", OfficerOther) => Want::Err(404, "correction_not_found"),
        ("stop_nhi_registration" | "remove_certificate_binding", OfficerOther) => {
            Want::Err(403, "employee_not_in_agency")
        }
        _ => Want::Ok,
    }
}

fn outcome(status: u16, body: &Value) -> String {
    if (200..300).contains(&status) {
        format!("{status}")
    } else {
        format!("{status} {}", body["name"].as_str().unwrap_or("?"))
    }
}

#[test]
fn every_endpoint_for_every_role() {
    let w = world();
    let mut failures = Vec::new();
    let mut table: BTreeMap<(usize, Role), String> = BTreeMap::new();
    let mut n = 0;
    for (i, e) in ENDPOINTS.iter().enumerate() {
        let mut public_answer: Option<(u16, String)> = None;
        for role in ROLES {
            n += 1;
            let token = w.token(role);
            let (path, body) = w.request(e.operation, role, n);
            let (status, json) = w.call(e.method, &path, token.as_deref(), body.as_ref());
            assert!(status < 500, "{} {} as {:?}: {status} {json}", e.method, e.path, role);
            if !(200..300).contains(&status) {
                for field in ["code", "name", "message_zh", "message_en"] {
                    assert!(
                        !json[field].is_null(),
                        "{} {}: untyped error body {json}",
                        e.method,
                        e.path
                    );
                }
            }
            table.insert((i, role), outcome(status, &json));
            let name = json["name"].as_str().unwrap_or("").to_owned();
            if e.access == Access::Public {
                // A public endpoint answers every role alike, and never asks for a session.
                let got = (status, name.clone());
                match &public_answer {
                    None => public_answer = Some(got),
                    Some(first) => {
                        if *first != got {
                            failures.push(format!(
                                "{} {} as {:?}: {got:?}, unlike {first:?}",
                                e.method, e.path, role
                            ));
                        }
                    }
                }
                if name == "session_invalid" || name == "csrf_rejected" {
                    failures.push(format!("{} {} as {:?}: public but {name}", e.method, e.path, role));
                }
                continue;
            }
            let want = expected(e.operation, e.access, role);
            let ok = match &want {
                Want::Ok => (200..300).contains(&status),
                Want::Err(s, code) => status == *s && name == *code,
            };
            if !ok {
                failures.push(format!(
                    "{} {} as {:?}: want {want:?}, got {status} {json}",
                    e.method, e.path, role
                ));
            }
        }
    }

    // The matrix, printed (cargo test -- --nocapture shows it).
    let mut out = format!("{:<58}", "endpoint");
    for role in ROLES {
        out.push_str(&format!("{:<30}", role.label()));
    }
    out.push('\n');
    for (i, e) in ENDPOINTS.iter().enumerate() {
        out.push_str(&format!("{:<58}", format!("{} {}", e.method, e.path)));
        for role in ROLES {
            out.push_str(&format!("{:<30}", table.get(&(i, role)).map_or("-", String::as_str)));
        }
        out.push('\n');
    }
    println!("{out}");
    assert!(
        failures.is_empty(),
        "{} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // The forbidden cells did nothing: only officer A's issuances exist besides the setup's.
    let orders = w.h.fx.sql_int("SELECT count(*) FROM award_orders");
    assert_eq!(orders, 3, "one setup order and one per allowed issuance cell");
    let _ = AGENCY_B;
}

#[test]
fn cookie_sessions_need_the_csrf_token_and_bearer_does_not() {
    let mut server = support::http::test_server_config();
    server.secure_cookies = Some(true);
    let h = HttpFixture::with(support::fast_config(), server);
    h.ready(Who::Wang);
    let http = reqwest::blocking::Client::new();
    let p = person(Who::Wang);
    let resp = http
        .post(format!("{}/api/v1/login/nhi-card", h.url()))
        .json(&json!({ "card": ecpa::http::wire::CardWire::from(&p.card_data()), "password": p.password }))
        .send()
        .expect("login");
    assert_eq!(resp.status().as_u16(), 200);
    let cookies: Vec<String> = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().expect("ascii").to_owned())
        .collect();
    // Secure cookies carry the `__Host-` prefix: this host only, HTTPS only, no subdomain
    // may set them (so none can plant one).
    let session_cookie = cookies
        .iter()
        .find(|c| c.starts_with("__Host-ecpa_session="))
        .expect("session cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/;"] {
        assert!(session_cookie.contains(flag), "{session_cookie} lacks {flag}");
    }
    assert!(!session_cookie.contains("Domain"), "{session_cookie}");
    let csrf_cookie = cookies
        .iter()
        .find(|c| c.starts_with("__Host-ecpa_csrf="))
        .expect("CSRF cookie");
    assert!(
        csrf_cookie.contains("Secure") && csrf_cookie.contains("Path=/;"),
        "{csrf_cookie}"
    );
    let body: Value = resp.json().expect("json");
    let token = body["token"].as_str().expect("token").to_owned();
    let csrf = body["csrf_token"].as_str().expect("csrf").to_owned();
    let cookie = format!("__Host-ecpa_session={token}");
    // The prefix is the name: the unprefixed cookie is not a session here.
    let r = http
        .get(format!("{}/api/v1/session", h.url()))
        .header("cookie", format!("ecpa_session={token}"))
        .send()
        .expect("sent");
    assert_eq!(r.status().as_u16(), 401);
    // What the token used to be, a hash anyone can compute from the session token, is no token:
    // it is keyed now, with a key only the servers have.
    let unkeyed = {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(b"ecpa-csrf\0");
        h.update(token.as_bytes());
        hex::encode(h.finalize())
    };
    let consent = json!({ "version": h.remote.consent_text().expect("text").version });

    // Reads with the cookie alone are fine.
    let r = http
        .get(format!("{}/api/v1/session", h.url()))
        .header("cookie", &cookie)
        .send()
        .expect("sent");
    assert_eq!(r.status().as_u16(), 200);
    // Changes without the token, or with a wrong one, are refused: 403 csrf_rejected.
    for header in [None, Some("0".repeat(64)), Some(unkeyed)] {
        let mut req = http
            .post(format!("{}/api/v1/consent", h.url()))
            .header("cookie", &cookie)
            .json(&consent);
        if let Some(v) = &header {
            req = req.header("x-csrf-token", v);
        }
        let r = req.send().expect("sent");
        assert_eq!(r.status().as_u16(), 403, "{header:?}");
        let j: Value = r.json().expect("json");
        assert_eq!(j["code"], 5046);
        assert_eq!(j["name"], "csrf_rejected");
    }
    // With the token, it goes through.
    let r = http
        .post(format!("{}/api/v1/consent", h.url()))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&consent)
        .send()
        .expect("sent");
    assert_eq!(r.status().as_u16(), 200);
    // Bearer requests are exempt: a browser never adds that header on its own.
    let r = http
        .post(format!("{}/api/v1/consent", h.url()))
        .bearer_auth(&token)
        .json(&consent)
        .send()
        .expect("sent");
    assert_eq!(r.status().as_u16(), 200);
    // Logging out clears the cookies.
    let r = http
        .post(format!("{}/api/v1/logout", h.url()))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .expect("sent");
    assert_eq!(r.status().as_u16(), 204);
    assert!(
        r.headers()
            .get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().unwrap_or("").contains("__Host-ecpa_session=;"))
    );
}

#[test]
fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket_and_others_cannot_forge_one() {
    let http = reqwest::blocking::Client::new();
    let card = ecpa::http::wire::CardWire::from(&person(Who::Outsider).card_data());
    let login = json!({ "card": card, "password": "Ecpa#2026ok" });
    let statuses = |h: &HttpFixture, forwarded_for: &str| -> Vec<u16> {
        (0..3)
            .map(|_| {
                http.post(format!("{}/api/v1/login/nhi-card", h.url()))
                    .header("X-Forwarded-For", forwarded_for)
                    .json(&login)
                    .send()
                    .expect("sent")
                    .status()
                    .as_u16()
            })
            .collect()
    };
    let mut server = support::http::test_server_config();
    server.rate_limit.login_per_minute = 1;
    server.rate_limit.login_burst = 2;
    // The test's own address is the load balancer in front of the service.
    server.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
    let h = HttpFixture::with(support::fast_config(), server.clone());
    assert_eq!(statuses(&h, "203.0.113.7"), [401, 401, 429]);
    // Another client behind the same proxy still has its whole burst; a forged entry left of
    // the real client changes nothing.
    assert_eq!(statuses(&h, "198.51.100.1, 203.0.113.8"), [401, 401, 429]);
    assert_eq!(statuses(&h, "198.51.100.2, 203.0.113.8"), [429, 429, 429]);

    // Without trusted proxies the header is the client's own word, and ignored.
    server.trusted_proxies.clear();
    let h = HttpFixture::with(support::fast_config(), server);
    assert_eq!(statuses(&h, "203.0.113.7"), [401, 401, 429]);
    assert_eq!(statuses(&h, "203.0.113.9"), [429, 429, 429]);
}

#[test]
fn logins_and_registrations_are_rate_limited_per_address() {
    let mut server = support::http::test_server_config();
    server.rate_limit.login_per_minute = 1;
    server.rate_limit.login_burst = 3;
    server.rate_limit.registration_per_minute = 1;
    server.rate_limit.registration_burst = 2;
    let h = HttpFixture::with(support::fast_config(), server);
    let http = reqwest::blocking::Client::new();
    let card = ecpa::http::wire::CardWire::from(&person(Who::Outsider).card_data());
    let login = json!({ "card": card, "password": "Ecpa#2026ok" });
    let mut statuses = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let r = http
            .post(format!("{}/api/v1/login/nhi-card", h.url()))
            .json(&login)
            .send()
            .expect("sent");
        statuses.push(r.status().as_u16());
        last = Some(r);
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
    let r = last.expect("a response");
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=60).contains(&retry), "{retry}");
    let j: Value = r.json().expect("typed body");
    assert_eq!(j["code"], 5047);
    assert_eq!(j["name"], "rate_limited");
    assert_eq!(j["retry_after"].as_u64(), Some(retry));
    // Through the client: the same code.
    support::expect_code(
        h.remote
            .login_nhi_card(&person(Who::Outsider).card_data(), &pw("Ecpa#2026ok")),
        ecpa::ErrorCode::RateLimited,
    );
    // Registration has its own bucket; other endpoints are not limited.
    let reg = json!(ecpa::http::wire::RegistrationWire::from(&h.fx.form(Who::Lin)));
    let codes: Vec<u16> = (0..3)
        .map(|_| {
            http.post(format!("{}/api/v1/registrations", h.url()))
                .json(&reg)
                .send()
                .expect("sent")
                .status()
                .as_u16()
        })
        .collect();
    // A registration still waiting for its confirmation is not started again (409), and the
    // third try is over the limit.
    assert_eq!(codes, [200, 409, 429]);
    for _ in 0..10 {
        let r = http
            .get(format!("{}/api/v1/consent/text", h.url()))
            .send()
            .expect("sent");
        assert_eq!(r.status().as_u16(), 200);
    }
}
