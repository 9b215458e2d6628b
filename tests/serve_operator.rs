//! `ecpa serve` as an operator runs it: a configuration file with `[trust]`, certificate logins
//! signed by the `openssl` command, CRLs from a distribution point that goes away and comes back
//! revoking the certificate, `/readyz` and `/metrics` telling the CRLs' freshness, the request
//! log without a full national ID, and `ecpa config check` on good and broken files.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64ct::{Base64, Encoding};
use ecpa::http::RemotePortal;
use ecpa::pki::testpki::{EndEntitySpec, TestPki};
use ecpa::pki::{Certificate, SoftwareKey};
use ecpa::portal::{FileMailer, Portal};
use serde_json::{Value, json};
use support::serve::{FileServer, ServeProcess, wait_for};
use support::{Who, fast_config, person};
use time::OffsetDateTime;

fn have_openssl() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The files of a test PKI, as an operator would have them: anchor, intermediate, the root's
/// CRL, and a citizen's signing certificate with its key (PKCS#8 DER) for openssl.
struct PkiFiles {
    pki: TestPki,
    root: PathBuf,
    intermediate: PathBuf,
    root_crl: PathBuf,
    cert: Certificate,
    key_file: PathBuf,
}

fn pki_files(dir: &Path, who: Who) -> PkiFiles {
    let pki = TestPki::new().expect("test PKI");
    let p = person(who);
    let (cert, key): (Certificate, SoftwareKey) = pki
        .issue(&EndEntitySpec::citizen(
            p.name,
            format!("{:0>16}", p.id.last_four()),
            Some(p.id.last_four()),
        ))
        .expect("certificate");
    let root = dir.join("grca.der");
    let intermediate = dir.join("moica.der");
    let root_crl = dir.join("grca.crl");
    let key_file = dir.join("citizen.key.der");
    std::fs::write(&root, pki.root.der()).expect("write");
    std::fs::write(&intermediate, pki.intermediate.der()).expect("write");
    let now = OffsetDateTime::now_utc();
    let crl = pki
        .root_crl(&[], now - time::Duration::hours(1), now + time::Duration::days(7))
        .expect("root CRL");
    std::fs::write(&root_crl, crl).expect("write");
    std::fs::write(&key_file, key.to_pkcs8().expect("PKCS#8").as_slice()).expect("write");
    PkiFiles {
        pki,
        root,
        intermediate,
        root_crl,
        cert,
        key_file,
    }
}

/// The configuration of a portal in `dir` (SQLite file, maildir, fast argon2id) with `trust`.
fn write_config(dir: &Path, trust: &str, log_format: &str) -> PathBuf {
    let c = fast_config();
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nworker_threads = 2\n\
         [server.rate_limit]\nlogin_per_minute = 100000\nlogin_burst = 10000\n\
         registration_per_minute = 100000\nregistration_burst = 10000\n\
         [database]\nurl = \"sqlite:{db}\"\n\
         [mail]\nkind = \"file\"\ndir = \"{mail}\"\npoll_ms = 100\n\
         [portal]\nargon2_memory_kib = {m}\nargon2_iterations = {i}\n\
         [log]\nformat = \"{log_format}\"\n{trust}",
        db = dir.join("ecpa.db").display(),
        mail = dir.join("mail").display(),
        m = c.argon2_memory_kib,
        i = c.argon2_iterations,
    );
    let path = dir.join("ecpa.toml");
    std::fs::write(&path, text).expect("config");
    path
}

/// The directory of the fixture imported into the portal's database before the service starts.
fn import_directory(dir: &Path) {
    let portal = ecpa::portal::LocalPortal::open(dir.join("ecpa.db")).expect("portal");
    portal
        .import_directory_csv(support::directory_csv().as_bytes())
        .expect("directory");
}

fn toml_path(p: &Path) -> String {
    format!("\"{}\"", p.display())
}

struct Client {
    http: reqwest::blocking::Client,
    base: String,
}

impl Client {
    fn new(base: &str) -> Client {
        Client {
            http: reqwest::blocking::Client::new(),
            base: base.to_owned(),
        }
    }

    fn get(&self, path: &str) -> (u16, String) {
        let r = self.http.get(format!("{}{path}", self.base)).send().expect("GET");
        (r.status().as_u16(), r.text().expect("body"))
    }

    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .expect("POST");
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }

    /// A certificate login whose challenge is signed by `openssl dgst -sha256 -sign`.
    fn certificate_login(&self, files: &PkiFiles, dir: &Path, identify: Option<&str>) -> (u16, Value) {
        let (status, challenge) = self.post("/api/v1/login/certificate/challenge", &json!({}));
        assert_eq!(status, 200, "{challenge}");
        let to_sign = dir.join("to_sign.txt");
        let sig = dir.join("sig.bin");
        std::fs::write(&to_sign, challenge["to_sign"].as_str().expect("to_sign")).expect("write");
        let out = Command::new("openssl")
            .args(["dgst", "-sha256", "-keyform", "DER", "-sign"])
            .arg(&files.key_file)
            .arg("-out")
            .arg(&sig)
            .arg(&to_sign)
            .output()
            .expect("openssl");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let signature = std::fs::read(&sig).expect("signature");
        self.post(
            "/api/v1/login/certificate",
            &json!({
                "challenge_id": challenge["challenge_id"],
                "certificate": Base64::encode_string(files.cert.der()),
                "signature_kind": "raw_pkcs1",
                "signature": Base64::encode_string(&signature),
                "identify": identify,
            }),
        )
    }
}

/// Registers `who`'s NHI card through the service (its outbox worker mails the link to the
/// maildir) and logs in with it.
fn nhi_login(url: &str, maildir: &Path, who: Who) -> ecpa::portal::Session {
    let remote = RemotePortal::new(url).expect("client");
    let p = person(who);
    remote
        .start_nhi_registration(&support::form(who))
        .expect("registration starts");
    let mailer = FileMailer::new(maildir).expect("maildir");
    let token = wait_for(Duration::from_secs(10), || {
        mailer
            .messages()
            .ok()?
            .into_iter()
            .find(|m| m.to == p.reg_email)
            .and_then(|m| m.link_token().map(str::to_owned))
    })
    .expect("the confirmation link is mailed");
    remote
        .confirm_nhi_registration(&p.card_data(), &token)
        .expect("confirmed");
    remote.login_nhi_card(&p.card_data(), &p.pw()).expect("NHI-card login")
}

#[test]
fn certificate_login_with_trust_from_the_configuration_signed_by_openssl() {
    if !have_openssl() {
        eprintln!("SKIPPED: no openssl command (scripts/test installs it)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let files = pki_files(dir.path(), Who::Wang);
    import_directory(dir.path());
    let trust = format!(
        "[trust]\nanchors = [{}]\nintermediates = [{}]\n",
        toml_path(&files.root),
        toml_path(&files.intermediate)
    );
    let config = write_config(dir.path(), &trust, "text");
    let serve = ServeProcess::start(&config, &dir.path().join("serve.log"), &[]);
    let c = Client::new(&serve.url);
    let wang = person(Who::Wang);

    // First login: not bound yet, then bound by the national ID's last four digits.
    let (status, body) = c.certificate_login(&files, dir.path(), None);
    assert_eq!(
        (status, body["name"].as_str()),
        (401, Some("certificate_not_bound")),
        "{body}"
    );
    let (status, body) = c.certificate_login(&files, dir.path(), Some(wang.id.reveal()));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["info"]["level"], "certificate", "{body}");
    let (status, body) = c.certificate_login(&files, dir.path(), None);
    assert_eq!(status, 200, "a bound certificate goes straight in: {body}");

    // A certificate from a PKI the portal does not trust is refused.
    let lin = person(Who::Lin);
    let other_dir = dir.path().join("other");
    std::fs::create_dir(&other_dir).expect("mkdir");
    let other = pki_files(&other_dir, Who::Lin);
    let (status, body) = c.certificate_login(&other, dir.path(), Some(lin.id.reveal()));
    assert_eq!(status, 401, "a certificate from an untrusted PKI: {body}");

    let (status, ready) = c.get("/readyz");
    assert_eq!(status, 200, "{ready}");
    let ready: Value = serde_json::from_str(&ready).expect("JSON");
    assert_eq!(ready["certificate_login"], "ok", "{ready}");
    assert_eq!(ready["trust"]["anchors"], 1);

    // The request log: a line per request, with the route, never the full national ID.
    let log = wait_for(Duration::from_secs(5), || {
        let log = serve.log_text();
        log.contains("ecpa serve started").then_some(log)
    })
    .expect("start-up line");
    assert!(log.contains("ecpa::request"), "{log}");
    let login_line = log
        .lines()
        .find(|l| l.contains("route=/api/v1/login/certificate ") && l.contains("status=200"))
        .unwrap_or_else(|| panic!("no request line for the certificate login:\n{log}"));
    assert!(login_line.contains("request_id="), "{login_line}");
    assert!(
        log.contains("database=\"sqlite\"") || log.contains("database=sqlite"),
        "{log}"
    );
    for who in [Who::Wang, Who::Lin] {
        assert!(
            !log.contains(person(who).id.reveal()),
            "a full national ID in the log:\n{log}"
        );
    }
}

#[test]
fn a_crl_from_a_url_goes_stale_then_revokes_and_readyz_says_so() {
    if !have_openssl() {
        eprintln!("SKIPPED: no openssl command (scripts/test installs it)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let files = pki_files(dir.path(), Who::Wang);
    import_directory(dir.path());
    let now = OffsetDateTime::now_utc();
    // A CRL that is current for a few seconds only, served by a distribution point.
    let short = files
        .pki
        .crl(&[], now - time::Duration::minutes(1), now + time::Duration::seconds(6))
        .expect("CRL");
    let next_update = now + time::Duration::seconds(6);
    let mut point = FileServer::start(short);
    let trust = format!(
        "[trust]\nanchors = [{}]\nintermediates = [{}]\ncrls = [{}]\ncrl_urls = [\"{}\"]\ncrl_refresh_minutes = 0.01\n",
        toml_path(&files.root),
        toml_path(&files.intermediate),
        toml_path(&files.root_crl),
        point.url("moica.crl"),
    );
    let config = write_config(dir.path(), &trust, "json");
    let serve = ServeProcess::start(&config, &dir.path().join("serve.log"), &[]);
    let c = Client::new(&serve.url);
    let wang = person(Who::Wang);
    let (status, body) = c.certificate_login(&files, dir.path(), Some(wang.id.reveal()));
    assert_eq!(status, 200, "fresh CRLs: {body}");

    // The distribution point goes away; once the CRL's nextUpdate has passed, certificate
    // logins fail as stale, and readiness says which CRL.
    point.stop();
    let wait = (next_update - OffsetDateTime::now_utc()).unsigned_abs() + Duration::from_secs(1);
    std::thread::sleep(wait);
    let (status, body) = c.certificate_login(&files, dir.path(), None);
    assert_eq!((status, body["name"].as_str()), (401, Some("crl_stale")), "{body}");
    let (status, ready) = c.get("/readyz");
    assert_eq!(status, 200, "a stale CRL does not take the service out: {ready}");
    let ready: Value = serde_json::from_str(&ready).expect("JSON");
    assert_eq!(ready["status"], "degraded", "{ready}");
    assert_eq!(ready["certificate_login"], "degraded", "{ready}");
    let stale: Vec<&Value> = ready["trust"]["crls"]
        .as_array()
        .expect("crls")
        .iter()
        .filter(|c| c["fresh"] == false)
        .collect();
    assert_eq!(stale.len(), 1, "{ready}");
    assert_eq!(stale[0]["source"], point.url("moica.crl"));
    assert!(
        stale[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("http_unreachable")),
        "{ready}"
    );
    let (_, metrics) = c.get("/metrics");
    let fresh_zero = metrics
        .lines()
        .any(|l| l.starts_with("ecpa_crl_fresh{") && l.contains("moica.crl") && l.ends_with(" 0"));
    assert!(fresh_zero, "{metrics}");
    assert!(
        metrics
            .contains("ecpa_http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/v1/login/certificate\"")
    );

    // NHI-card logins are not taken down with it.
    let session = nhi_login(&serve.url, &dir.path().join("mail"), Who::Lin);
    assert_eq!(session.info.level, ecpa::types::AssuranceLevel::NhiCard);

    // The point comes back with a CRL revoking the certificate: the next refresh takes it.
    let now = OffsetDateTime::now_utc();
    let revoking = files
        .pki
        .crl(
            &[(&files.cert, now - time::Duration::minutes(1))],
            now,
            now + time::Duration::days(1),
        )
        .expect("CRL");
    point.set_body(revoking);
    point.restart();
    let refused = wait_for(Duration::from_secs(15), || {
        let (status, body) = c.certificate_login(&files, dir.path(), None);
        (body["name"] == "certificate_revoked").then_some(status)
    });
    assert_eq!(refused, Some(401), "the revoking CRL was not taken");
    let (_, ready) = c.get("/readyz");
    let ready: Value = serde_json::from_str(&ready).expect("JSON");
    assert_eq!(ready["status"], "ok", "{ready}");

    // JSON log lines: each parses, the request lines name their route.
    let log = serve.log_text();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["route"] == "/api/v1/login/nhi-card" && l["status"] == 200),
        "{log}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["message"].as_str().is_some_and(|m| m.contains("CRL refresh failed")))
    );
    for who in [Who::Wang, Who::Lin] {
        assert!(!log.contains(person(who).id.reveal()), "a full national ID in the log");
    }
}

#[test]
fn a_forged_or_older_crl_from_the_url_is_not_taken() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = pki_files(dir.path(), Who::Wang);
    let now = OffsetDateTime::now_utc();
    let good = files
        .pki
        .crl(&[], now - time::Duration::minutes(1), now + time::Duration::days(1))
        .expect("CRL");
    let point = FileServer::start(good);
    let config = ecpa::config::TrustConfig {
        anchors: vec![files.root.clone()],
        intermediates: vec![files.intermediate.clone()],
        crls: vec![files.root_crl.clone()],
        crl_urls: vec![point.url("moica.crl")],
        ..Default::default()
    };
    let (trust, feed) = ecpa::http::server::load_trust(&config)
        .expect("loads")
        .expect("configured");
    assert!(feed.status(now).fresh);
    // A CRL of the same name signed by another key (a forged distribution point).
    let other = TestPki::new().expect("another PKI");
    point.set_body(other.crl(&[], now, now + time::Duration::days(1)).expect("CRL"));
    let report = feed.refresh(&trust);
    assert_eq!(report.failed, [point.url("moica.crl")]);
    let status = feed.status(now);
    let held = status
        .crls
        .iter()
        .find(|c| c.source == point.url("moica.crl"))
        .expect("held");
    assert!(
        held.fresh
            && held
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("crl_signature_invalid"))
    );
    // An older CRL of the right issuer (a replay) is not taken either.
    point.set_body(
        files
            .pki
            .crl(&[], now - time::Duration::hours(2), now + time::Duration::days(1))
            .expect("CRL"),
    );
    assert_eq!(feed.refresh(&trust).failed.len(), 1);
    // Garbage is refused too, and the good CRL stays.
    point.set_body(b"not a CRL".to_vec());
    assert_eq!(feed.refresh(&trust).failed.len(), 1);
    assert!(feed.status(now).crls.iter().all(|c| c.fresh));
}

#[test]
fn with_crl_sources_but_none_fetched_certificate_logins_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = pki_files(dir.path(), Who::Wang);
    let config = ecpa::config::TrustConfig {
        anchors: vec![files.root.clone()],
        intermediates: vec![files.intermediate.clone()],
        // Nothing listens there.
        crl_urls: vec!["http://127.0.0.1:9/moica.crl".into()],
        ..Default::default()
    };
    let (trust, feed) = ecpa::http::server::load_trust(&config)
        .expect("loads")
        .expect("configured");
    let status = feed.status(OffsetDateTime::now_utc());
    assert!(!status.fresh);
    let e = trust
        .validate(&files.cert, OffsetDateTime::now_utc())
        .expect_err("no CRL, no login");
    assert_eq!(e.code(), ecpa::ErrorCode::CrlMissing);
}

fn config_check(config: &Path) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_ecpa"))
        .args(["config", "check", "--json", "--config"])
        .arg(config)
        .env_remove("ECPA_DATABASE_URL")
        .env("ECPA_SMTP_PASSWORD", "hunter2-secret")
        .output()
        .expect("ecpa config check");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!stdout.contains("hunter2-secret"), "a secret printed: {stdout}");
    let json = serde_json::from_str(stdout.lines().last().unwrap_or("null")).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), json)
}

#[test]
fn config_check_on_good_and_broken_configurations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = pki_files(dir.path(), Who::Wang);
    // SMTP settings whose password comes from the environment (masked in the output).
    let trust = format!(
        "[smtp]\nhost = \"mx.example.gov.tw\"\nusername = \"ecpa\"\n[trust]\nanchors = [{}]\nintermediates = [{}]\ncrls = [{}]\n",
        toml_path(&files.root),
        toml_path(&files.intermediate),
        toml_path(&files.root_crl),
    );
    let good = write_config(dir.path(), &trust, "text");
    let (code, json) = config_check(&good);
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["ok"], true);
    let setting = |key: &str| {
        json["settings"]
            .as_array()
            .expect("settings")
            .iter()
            .find(|s| s["key"] == key)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(setting("trust.anchors")["source"], "file");
    assert_eq!(setting("server.body_limit_bytes")["source"], "default");
    assert_eq!(setting("smtp.password")["source"], "env");

    // Human output in English names the sources too.
    let out = Command::new(env!("CARGO_BIN_EXE_ecpa"))
        .args(["config", "check", "--lang", "en", "--config"])
        .arg(&good)
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("server.listen = \"127.0.0.1:0\"    (file)"), "{text}");
    assert!(text.contains("The configuration is usable."), "{text}");

    // Broken: an unknown key, a missing anchor file, an expired CRL, a bad policy.
    let write = |name: &str, text: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p
    };
    let base = std::fs::read_to_string(&good).expect("read");
    let typo = write("typo.toml", base.replace("[trust]\nanchors", "[trust]\nanchor"));
    let (code, json) = config_check(&typo);
    assert_eq!(code, 1, "{json}");
    let missing = write("missing.toml", base.replace("grca.der", "nowhere.der"));
    let (code, json) = config_check(&missing);
    assert_eq!(code, 1, "{json}");
    assert!(json["checks"].to_string().contains("nowhere.der"), "{json}");
    let now = OffsetDateTime::now_utc();
    let old = files
        .pki
        .root_crl(&[], now - time::Duration::days(10), now - time::Duration::days(3))
        .expect("CRL");
    std::fs::write(dir.path().join("old.crl"), old).expect("write");
    let stale = write("stale.toml", base.replace("grca.crl", "old.crl"));
    let (code, json) = config_check(&stale);
    assert_eq!(code, 1, "a stale CRL is a problem: {json}");
    let policy = write("policy.toml", format!("{base}policy = \"x.y\"\n"));
    assert_eq!(config_check(&policy).0, 1);
}

#[test]
fn config_check_checks_the_single_sign_on_applications() {
    let dir = tempfile::tempdir().expect("tempdir");
    // (`config_check` gives the SMTP password in the environment: the section it belongs to.)
    let smtp = "[smtp]\nhost = \"mx.example.gov.tw\"\nusername = \"ecpa\"\n";
    let apps = format!("{smtp}[[portal.applications]]\ncode = \"B5A\"\nurl = \"https://b5a.example.gov.tw/sso\"\n");
    let good = write_config(dir.path(), &apps, "text");
    let finding = |json: &Value| {
        json["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["id"] == "applications")
            .cloned()
            .unwrap_or(Value::Null)
    };
    // No database yet: the form is checked, the codes when the service starts.
    let (code, json) = config_check(&good);
    assert_eq!(code, 0, "{json}");
    assert_eq!(finding(&json)["ok"], true);
    assert!(
        finding(&json)["detail"]
            .as_str()
            .is_some_and(|d| d.contains("ecpa serve")),
        "{json}"
    );
    let shown = json["settings"]
        .as_array()
        .expect("settings")
        .iter()
        .find(|s| s["key"] == "portal.applications")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(shown["source"], "file");
    // On a database at this build's schema, against its catalogue.
    drop(ecpa::portal::LocalPortal::open(dir.path().join("ecpa.db")).expect("database"));
    let (code, json) = config_check(&good);
    assert_eq!(code, 0, "{json}");
    assert_eq!(finding(&json)["detail"], "B5A → https://b5a.example.gov.tw/sso");
    let unknown = write_config(dir.path(), &apps.replace("B5A", "Z9"), "text");
    let (code, json) = config_check(&unknown);
    assert_eq!(code, 1, "{json}");
    assert_eq!(finding(&json)["ok"], false);
    assert!(
        finding(&json)["detail"].as_str().is_some_and(|d| d.contains("Z9")),
        "{json}"
    );
    // Plain HTTP to another host is refused with the file itself.
    let plain = write_config(dir.path(), &apps.replace("https://b5a", "http://b5a"), "text");
    assert_eq!(config_check(&plain).0, 1);
    // No entry: applications open as their catalogue entry, which is fine.
    let none = write_config(dir.path(), smtp, "text");
    let (code, json) = config_check(&none);
    assert_eq!((code, finding(&json)["ok"].clone()), (0, Value::Bool(true)), "{json}");
}

#[test]
fn healthz_fails_while_the_database_cannot_be_written() {
    let fx = support::Fixture::sqlite(fast_config());
    let portal =
        std::sync::Arc::new(support::open_portal_url(&fx.url, fast_config(), fx.clock.clone()).expect("portal"));
    let mut server_config = support::http::test_server_config();
    server_config.request_timeout_ms = 1500;
    let server = ecpa::http::start(portal, &server_config).expect("server");
    let c = Client::new(&server.url());
    assert_eq!(c.get("/healthz").0, 200);
    assert_eq!(c.get("/readyz").0, 200);
    // Another process holds the database's write lock (a stuck backup, a crashed tool).
    let other = rusqlite::Connection::open(&fx.db).expect("second connection");
    other.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    let (status, body) = c.get("/healthz");
    assert_eq!(status, 503, "{body}");
    let (status, body) = c.get("/readyz");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("\"unavailable\""), "{body}");
    // Reads still work meanwhile (the liveness check is about writing).
    assert_eq!(c.get("/api/v1/consent/text").0, 200);
    other.execute_batch("ROLLBACK").expect("unlock");
    let healthy = wait_for(Duration::from_secs(15), || (c.get("/healthz").0 == 200).then_some(()));
    assert!(healthy.is_some(), "healthz recovers once the lock is gone");
}

#[test]
fn refreshing_the_crls_does_not_hold_up_logins_in_flight() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = pki_files(dir.path(), Who::Wang);
    let now = OffsetDateTime::now_utc();
    let moica_crl = dir.path().join("moica.crl");
    std::fs::write(
        &moica_crl,
        files
            .pki
            .crl(&[], now - time::Duration::minutes(1), now + time::Duration::days(1))
            .expect("CRL"),
    )
    .expect("write");
    let config = ecpa::config::TrustConfig {
        anchors: vec![files.root.clone()],
        intermediates: vec![files.intermediate.clone()],
        crls: vec![files.root_crl.clone(), moica_crl],
        ..Default::default()
    };
    let (trust, feed) = ecpa::http::server::load_trust(&config)
        .expect("loads")
        .expect("configured");
    let trust = std::sync::Arc::new(trust);
    let refreshes = std::sync::atomic::AtomicUsize::new(0);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let validations = std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                assert!(feed.refresh(&trust).failed.is_empty());
                refreshes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        });
        // Validate on while at least 20 refreshes swap the CRL set underneath.
        let mut n = 0;
        while n < 300 || refreshes.load(std::sync::atomic::Ordering::Relaxed) < 20 {
            trust
                .validate(&files.cert, OffsetDateTime::now_utc())
                .expect("every validation during refreshes succeeds");
            n += 1;
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        n
    });
    assert!(validations >= 300);
}
