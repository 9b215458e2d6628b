//! TLS through rustls: `ecpa serve` with a certificate and key speaks HTTPS only, and
//! `RemotePortal` trusts a private CA when told to. The certificate is made by the `openssl`
//! command (Debian's), so the test uses a certificate from outside the project.
#![cfg(feature = "http")]

mod support;

use std::process::Command;

use ecpa::ErrorCode;
use ecpa::http::RemotePortal;
use ecpa::portal::Portal;
use support::http::{HttpFixture, test_server_config};
use support::{Who, expect_code};

#[test]
fn https_with_a_private_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = |name: &str| dir.path().join(name);
    let (ca, ca_key, csr, cert, key, ext) = (
        path("ca.pem"),
        path("ca.key"),
        path("leaf.csr"),
        path("cert.pem"),
        path("key.pem"),
        path("leaf.ext"),
    );
    let openssl = |args: &[&std::ffi::OsStr]| Command::new("openssl").args(args).output();
    let os = |s: &str| std::ffi::OsString::from(s);
    // A private CA, and a server certificate for 127.0.0.1 issued by it.
    let Ok(made) = openssl(&[
        &os("req"),
        &os("-x509"),
        &os("-newkey"),
        &os("rsa:2048"),
        &os("-nodes"),
        &os("-days"),
        &os("2"),
        &os("-subj"),
        &os("/CN=ecpa test CA"),
        &os("-keyout"),
        ca_key.as_os_str(),
        &os("-out"),
        ca.as_os_str(),
    ]) else {
        eprintln!("SKIPPED: the openssl command is not installed");
        return;
    };
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let made = openssl(&[
        &os("req"),
        &os("-newkey"),
        &os("rsa:2048"),
        &os("-nodes"),
        &os("-subj"),
        &os("/CN=127.0.0.1"),
        &os("-keyout"),
        key.as_os_str(),
        &os("-out"),
        csr.as_os_str(),
    ])
    .expect("openssl");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    std::fs::write(
        &ext,
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .expect("ext");
    let made = openssl(&[
        &os("x509"),
        &os("-req"),
        &os("-in"),
        csr.as_os_str(),
        &os("-CA"),
        ca.as_os_str(),
        &os("-CAkey"),
        ca_key.as_os_str(),
        &os("-CAcreateserial"),
        &os("-days"),
        &os("2"),
        &os("-extfile"),
        ext.as_os_str(),
        &os("-out"),
        cert.as_os_str(),
    ])
    .expect("openssl");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));

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
