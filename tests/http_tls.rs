//! TLS through rustls: `ecpa serve` with a certificate and key speaks HTTPS only, and
//! `RemotePortal` trusts a private CA when told to (the certificates: `support::tls`).
#![cfg(feature = "http")]

mod support;

use ecpa::ErrorCode;
use ecpa::http::RemotePortal;
use ecpa::portal::Portal;
use support::http::{HttpFixture, test_server_config};
use support::{Who, expect_code};

#[test]
fn https_with_a_private_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let support::tls::PrivateCa { ca, cert, key } = support::tls::private_ca(dir.path());

    let mut server = test_server_config();
    server.tls_cert = Some(cert.clone());
    server.tls_key = Some(key.clone());
    let h = HttpFixture::with(support::fast_config(), server);
    assert!(h.url().starts_with("https://"));

    // Trusting the CA: the whole API works.
    let pem = std::fs::read(&ca).expect("ca");
    let remote = RemotePortal::builder(&h.url())
        .add_root_pem(&pem)
        .build()
        .expect("client");
    assert!(!remote.consent_text().expect("text over TLS").version.is_empty());
    h.fx.register(Who::Wang);
    let p = support::person(Who::Wang);
    let s = remote.login_nhi_card(&p.card_data(), &p.pw()).expect("login over TLS");
    // The session cookie is Secure under TLS.
    let client = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("pem"))
        .build()
        .expect("client");
    let r = client
        .post(format!("{}/api/v1/login/nhi-card", h.url()))
        .json(&serde_json::json!({ "card": ecpa::http::wire::CardWire::from(&p.card_data()), "password": p.password }))
        .send()
        .expect("login");
    // Browsers are told to come back over HTTPS only.
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    assert!(
        r.headers()
            .get_all("set-cookie")
            .iter()
            .all(|v| v.to_str().unwrap_or("").contains("; Secure"))
    );
    remote.logout(&s.token).expect("logout");

    // Not trusting it: refused, with a transport code, not a panic.
    let untrusting = RemotePortal::builder(&h.url()).retries(0).build().expect("client");
    let e = untrusting.consent_text().expect_err("untrusted certificate");
    assert!(
        matches!(e.code(), ErrorCode::HttpUnreachable | ErrorCode::HttpBadResponse),
        "{e}"
    );
    // Plain HTTP to the TLS port gets nothing usable.
    let plain = RemotePortal::builder(&h.url().replace("https://", "http://"))
        .retries(0)
        .build()
        .expect("client");
    assert!(plain.consent_text().is_err());

    // A missing or mismatched key is a typed error at start.
    let mut bad = test_server_config();
    bad.tls_cert = Some(cert);
    bad.tls_key = Some(dir.path().join("missing.pem"));
    let portal = std::sync::Arc::new(ecpa::portal::LocalPortal::in_memory().expect("portal"));
    expect_code(ecpa::http::start(portal, &bad), ErrorCode::TlsFailed);
}
