//! The catalogue as eCPA has it and single sign-on, over HTTP (issue 14 item 10; the engine's
//! side is in `tests/apps.rs`).
//!
//! The catalogue: groups in order, each entry with its level and, where configured, its address.
//!
//! Single sign-on, end to end: a real `ecpa serve` on loopback opens B5A and B3 for a
//! person logged in over HTTP, the "browser" (this test) posts the assertion to a small
//! relying application running in the test, and that application does what a real one
//! would: it fetches the portal's keys from `/.well-known/jwks.json`, verifies the assertion
//! with a JOSE library (`jsonwebtoken`) against its own code and the portal as issuer, then
//! redeems it once with `POST /api/v1/sso/redeem`. A replayed, expired, other application's
//! or forged assertion is refused, by the application or by the portal, with the typed error.
#![cfg(feature = "http")]

mod support;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use ecpa::ErrorCode;
use ecpa::portal::{ApplicationLink, Portal, PortalConfig, SessionToken, sso::ASSERTION_FIELD};
use serde_json::{Value, json};
use support::http::{HttpFixture, test_server_config};
use support::{Who, expect_code, fast_config, person};

/// The portal's name as the applications know it (`iss`).
const ISSUER: &str = "https://ecpa.example.gov.tw";

/// A relying application on loopback: `POST /{code}` takes the form field `assertion` for the
/// application `code`, checks it and redeems it with the portal.
struct RelyingApp {
    base: String,
    _runtime: tokio::runtime::Runtime,
}

struct AppState {
    portal: String,
    http: reqwest::Client,
}

type Answer = (StatusCode, axum::Json<Value>);

fn refused(why: impl Into<String>) -> Answer {
    (StatusCode::UNAUTHORIZED, axum::Json(json!({ "refused": why.into() })))
}

/// One value of an `application/x-www-form-urlencoded` body.
fn form_value(body: &str, key: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| {
            let bytes = v.replace('+', " ").into_bytes();
            let mut out = Vec::with_capacity(bytes.len());
            let mut i = 0;
            while i < bytes.len() {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
                    (b'%', Some(b)) => {
                        out.push(b);
                        i += 3;
                    }
                    (b, _) => {
                        out.push(b);
                        i += 1;
                    }
                }
            }
            String::from_utf8_lossy(&out).into_owned()
        })
    })
}

/// What the application does with a posted assertion: verify, then redeem.
async fn sign_in(State(st): State<Arc<AppState>>, Path(code): Path<String>, body: String) -> Answer {
    let Some(token) = form_value(&body, ASSERTION_FIELD) else {
        return refused("no assertion");
    };
    // The portal's keys, as any application finds them.
    let jwks = match st.http.get(format!("{}/.well-known/jwks.json", st.portal)).send().await {
        Ok(r) => r.json::<jsonwebtoken::jwk::JwkSet>().await,
        Err(e) => return refused(format!("jwks: {e}")),
    };
    let Ok(jwks) = jwks else {
        return refused("jwks does not decode");
    };
    let Ok(header) = jsonwebtoken::decode_header(&token) else {
        return refused("not a JWT");
    };
    let Some(jwk) = header.kid.as_deref().and_then(|kid| jwks.find(kid)) else {
        return refused("unknown key");
    };
    let Ok(key) = jsonwebtoken::DecodingKey::from_jwk(jwk) else {
        return refused("unusable key");
    };
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    v.set_audience(&[&code]);
    v.set_issuer(&[ISSUER]);
    v.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
    v.leeway = 0;
    if let Err(e) = jsonwebtoken::decode::<Value>(&token, &key, &v) {
        return refused(format!("verification: {:?}", e.kind()));
    }
    // Verified here; now once, with the portal.
    let redeemed = st
        .http
        .post(format!("{}/api/v1/sso/redeem", st.portal))
        .json(&json!({ "token": token, "audience": code }))
        .send()
        .await;
    let Ok(r) = redeemed else {
        return refused("the portal is unreachable");
    };
    let ok = r.status().is_success();
    let Ok(body) = r.json::<Value>().await else {
        return refused("the portal's answer does not decode");
    };
    if !ok {
        return refused(body["name"].as_str().unwrap_or("?"));
    }
    (
        StatusCode::OK,
        axum::Json(json!({
            "welcome": body["name"],
            "sub": body["sub"],
            "auth_level": body["auth_level"],
            "aud": body["aud"],
        })),
    )
}

impl RelyingApp {
    /// Serves the application on `listener` (bound before the portal was configured with its
    /// address), talking to the portal at `portal`.
    fn start(listener: std::net::TcpListener, portal: String) -> RelyingApp {
        let base = format!("http://{}", listener.local_addr().expect("address"));
        listener.set_nonblocking(true).expect("non-blocking");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let state = Arc::new(AppState {
            portal,
            http: reqwest::Client::new(),
        });
        let router = Router::new().route("/{code}", post(sign_in)).with_state(state);
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            axum::serve(listener, router).await.expect("serves");
        });
        RelyingApp {
            base,
            _runtime: runtime,
        }
    }

    fn url(&self, code: &str) -> String {
        format!("{}/{code}", self.base)
    }
}

/// The portal served over HTTP with B5A and B3 opened into the relying application, and the
/// application running.
fn world() -> (HttpFixture, RelyingApp) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port for the application");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let config = PortalConfig {
        portal_url: ISSUER.into(),
        applications: vec![
            ApplicationLink::new("B5A", &format!("{base}/B5A")).expect("link"),
            ApplicationLink::new("B3", &format!("{base}/B3")).expect("link"),
        ],
        ..fast_config()
    };
    let h = HttpFixture::with(config, test_server_config());
    // The application checks the expiry by its own clock, the real one: the portal's starts now.
    h.fx.clock.set(time::OffsetDateTime::now_utc());
    let app = RelyingApp::start(listener, h.url());
    (h, app)
}

/// Registers `who`'s card and logs them in, over HTTP.
fn enrol(h: &HttpFixture, who: Who) -> SessionToken {
    h.register(who);
    h.login(who)
}

/// The browser's part: posts the form with the assertion to the application's address.
fn post_assertion(url: &str, token: &str) -> (u16, Value) {
    let r = reqwest::blocking::Client::new()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("{ASSERTION_FIELD}={token}"))
        .send()
        .expect("posted");
    let status = r.status().as_u16();
    (status, r.json().expect("JSON"))
}

/// Opens `code` over HTTP for the session: the assertion and where to post it.
fn open(h: &HttpFixture, s: &SessionToken, code: &str) -> (String, String) {
    h.remote.add_my_application(s, code).expect("added");
    let app = h.remote.open_application(s, code).expect("opens");
    let sso = app.sso.expect("an assertion");
    (sso.url, sso.token)
}

#[test]
fn the_catalogue_over_http_is_in_ecpas_groups() {
    let (h, app) = world();
    let wang = enrol(&h, Who::Wang);
    let apps = h.remote.applications(&wang).expect("catalogue");
    let rows: Vec<(&str, &str, bool)> = apps
        .iter()
        .map(|a| (a.group.code.as_str(), a.code.as_str(), a.usable))
        .collect();
    assert_eq!(
        rows,
        [
            ("A", "A1", false),
            ("B", "B5", true),
            ("B", "B5A", true),
            ("B", "B6", false),
            ("D", "B3", true),
            ("X", "C1", true),
            ("X", "WebHR", false),
        ]
    );
    let b = apps.iter().find(|a| a.code == "B5A").expect("B5A");
    assert_eq!(
        (b.group.name_zh.as_str(), b.name_zh.as_str()),
        ("人事資料服務", "個人簡要自述")
    );
    assert_eq!(b.url.as_deref(), Some(app.url("B5A").as_str()));
    assert!(
        apps.iter()
            .filter(|a| a.code != "B5A" && a.code != "B3")
            .all(|a| a.url.is_none())
    );
    // The former code A2 is WebHR over the wire too; without an address B5 opens as metadata.
    h.remote.add_my_application(&wang, "A2").expect("A2");
    h.remote.add_my_application(&wang, "B5").expect("B5");
    let mine: Vec<String> = h
        .remote
        .my_applications(&wang)
        .expect("mine")
        .into_iter()
        .map(|a| a.code)
        .collect();
    assert_eq!(mine, ["B5", "WebHR"]);
    let b5 = h.remote.open_application(&wang, "B5").expect("opens");
    assert!(b5.sso.is_none() && b5.url.is_none());
}

#[test]
fn a_relying_application_verifies_and_redeems_once() {
    let (h, app) = world();
    let wang = enrol(&h, Who::Wang);

    // The answer of opening, as JSON on the wire: the entry, its group and the assertion.
    h.remote.add_my_application(&wang, "B5A").expect("added");
    let raw: Value = reqwest::blocking::Client::new()
        .post(format!("{}/api/v1/applications/B5A/open", h.url()))
        .bearer_auth(wang.expose())
        .send()
        .expect("sent")
        .json()
        .expect("JSON");
    assert_eq!(raw["code"], "B5A");
    assert_eq!(raw["group"]["code"], "B");
    assert_eq!(raw["url"], app.url("B5A"));
    assert_eq!(raw["sso"]["url"], app.url("B5A"));
    let token = raw["sso"]["token"].as_str().expect("token").to_owned();
    assert!(raw["sso"]["expires_at"].is_string() || raw["sso"]["expires_at"].is_object());

    // The national ID is nowhere in what the browser carries.
    let wang_id = person(Who::Wang).id;
    let claims = jsonwebtoken::dangerous::insecure_decode_claims::<Value>(&token).expect("claims");
    assert!(!claims.to_string().contains(wang_id.reveal()), "{claims}");
    assert!(!token.contains(wang_id.reveal()));

    let (status, welcome) = post_assertion(&app.url("B5A"), &token);
    assert_eq!(status, 200, "{welcome}");
    assert_eq!(welcome["welcome"], "王小明");
    assert_eq!(welcome["auth_level"], "nhi_card");
    assert_eq!(welcome["aud"], "B5A");
    assert_eq!(welcome["sub"], claims["sub"]);

    // The same assertion again: the signature still verifies, the portal refuses the replay.
    let (status, again) = post_assertion(&app.url("B5A"), &token);
    assert_eq!(
        (status, again["refused"].as_str()),
        (401, Some("sso_assertion_replayed"))
    );
    // And through the client, as the typed error.
    expect_code(
        h.remote.redeem_sso_assertion(&token, "B5A"),
        ErrorCode::SsoAssertionReplayed,
    );

    // Next time: a fresh assertion, the same person id for this application.
    let (url, next) = open(&h, &wang, "B5A");
    let (status, second) = post_assertion(&url, &next);
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["sub"], welcome["sub"]);
}

#[test]
fn the_keys_are_published_without_the_private_part() {
    let (h, _app) = world();
    let r = reqwest::blocking::get(format!("{}/.well-known/jwks.json", h.url())).expect("served");
    assert_eq!(r.status().as_u16(), 200);
    let cache = r
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_eq!(cache.as_deref(), Some("public, max-age=300"));
    let jwks: Value = r.json().expect("JSON");
    let key = &jwks["keys"][0];
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(1));
    for (field, want) in [("kty", "EC"), ("crv", "P-256"), ("alg", "ES256"), ("use", "sig")] {
        assert_eq!(key[field], want, "{jwks}");
    }
    assert!(key["kid"].as_str().is_some_and(|k| k.len() == 43), "{jwks}");
    assert!(key.get("d").is_none(), "the private key must not be published: {jwks}");
    // The client gets the same keys.
    assert_eq!(
        serde_json::to_value(h.remote.sso_keys().expect("keys")).expect("JSON"),
        jwks
    );
}

#[test]
fn an_assertion_for_another_application_is_refused_by_both() {
    let (h, app) = world();
    let wang = enrol(&h, Who::Wang);
    let (_, token) = open(&h, &wang, "B5A");
    // Posted to B3: the application's own check refuses it.
    let (status, body) = post_assertion(&app.url("B3"), &token);
    assert_eq!(status, 401);
    assert_eq!(body["refused"], "verification: InvalidAudience");
    // An application that skipped that check is still refused by the portal.
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/api/v1/sso/redeem", h.url()))
        .json(&json!({ "token": token, "audience": "B3" }))
        .send()
        .expect("sent");
    assert_eq!(r.status().as_u16(), 401);
    let e: Value = r.json().expect("JSON");
    assert_eq!(e["name"], "sso_audience_mismatch");
    assert_eq!(e["code"], 5056);
    // Neither spent it: B5A still signs the person in.
    let (status, welcome) = post_assertion(&app.url("B5A"), &token);
    assert_eq!(status, 200, "{welcome}");
}

#[test]
fn an_expired_assertion_is_refused() {
    let (h, _app) = world();
    let wang = enrol(&h, Who::Wang);
    let (url, token) = open(&h, &wang, "B5A");
    h.fx.advance(time::Duration::seconds(61));
    let (status, body) = post_assertion(&url, &token);
    assert_eq!((status, body["refused"].as_str()), (401, Some("sso_assertion_expired")));
    expect_code(
        h.remote.redeem_sso_assertion(&token, "B5A"),
        ErrorCode::SsoAssertionExpired,
    );
}

#[test]
fn a_forged_assertion_is_refused_by_both() {
    let (h, _app) = world();
    let wang = enrol(&h, Who::Wang);
    let (url, token) = open(&h, &wang, "B5A");
    let header = jsonwebtoken::decode_header(&token).expect("header");
    let claims = jsonwebtoken::dangerous::insecure_decode_claims::<Value>(&token).expect("claims");
    // Someone else's P-256 key, claiming the portal's key id and another person's id.
    let other = aws_lc_rs::signature::EcdsaKeyPair::generate(&aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING)
        .and_then(|k| k.to_pkcs8v1())
        .expect("another key");
    let mut claims = claims;
    claims["sub"] = json!("forged-person");
    let forged = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_ec_der(other.as_ref()),
    )
    .expect("signed");
    let (status, body) = post_assertion(&url, &forged);
    assert_eq!(
        (status, body["refused"].as_str()),
        (401, Some("verification: InvalidSignature"))
    );
    expect_code(
        h.remote.redeem_sso_assertion(&forged, "B5A"),
        ErrorCode::SsoAssertionInvalid,
    );
    // The real one is untouched.
    let (status, welcome) = post_assertion(&url, &token);
    assert_eq!(status, 200, "{welcome}");
}
