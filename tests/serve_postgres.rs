//! Two `ecpa serve` processes on one PostgreSQL database behave as one portal: the real
//! `ecpa` binary started twice (`ecpa serve --json --config FILE`, each on a free port with its
//! own maildir and its own outbox worker), driven over HTTP with `RemotePortal`.
//!
//! - A session opened on one process is valid on the other, and ended on the other.
//! - Every outbox mail is delivered exactly once though both workers poll the same outbox:
//!   each lands in exactly one of the two maildirs.
//! - A certificate-login challenge begun on one process and answered on the other logs in once;
//!   a replay on either is `challenge_replayed`. This needs the `[trust]` section of the
//!   configuration; a build whose configuration has none yet says so and skips that part.
//!
//! Runs on the server `ECPA_TEST_PG` names (scripts/test sets it on its second pass); without
//! it the tests are skipped with a message.
#![cfg(feature = "http")]

mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ecpa::ErrorCode;
use ecpa::http::RemotePortal;
use ecpa::pki::Signer;
use ecpa::pki::testpki::{EndEntitySpec, TestPki};
use ecpa::portal::{AwardKind, CertificateResponse, LocalPortal, LoginSignature, Portal, ReceivedMail};
use ecpa::store::{StoreExt, open_url};
use support::pg::TestDatabase;
use support::{Who, directory_csv, expect_code, fast_config, form, order, person};

/// One `ecpa serve` process, stopped (SIGTERM, then waited for; SIGKILL if it hangs) when
/// dropped, whether the test passed or not.
struct Serve {
    child: Child,
    url: String,
    mail: PathBuf,
    stderr: PathBuf,
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let pid = self.child.id().to_string();
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(&pid)
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Why a process did not start: what it printed on stderr.
struct StartFailure(String);

impl Serve {
    /// Starts `ecpa serve` on the database at `url`, with its own maildir under `dir/name` and
    /// the configuration text `extra` appended (e.g. a `[trust]` section).
    fn start(dir: &Path, name: &str, url: &str, extra: &str) -> Result<Serve, StartFailure> {
        let home = dir.join(name);
        std::fs::create_dir_all(&home).expect("process folder");
        let mail = home.join("mail");
        let config = home.join("ecpa.toml");
        let text = format!(
            r#"[server]
listen = "127.0.0.1:0"
worker_threads = 2

[server.rate_limit]
login_per_minute = 100000
login_burst = 10000
registration_per_minute = 100000
registration_burst = 10000

[database]
url = "{url}"
pool_size = 4

[mail]
kind = "file"
dir = "{mail}"
poll_ms = 50

[portal]
argon2_memory_kib = 1024
argon2_iterations = 1
{extra}
"#,
            mail = mail.display(),
        );
        std::fs::write(&config, text).expect("configuration file");
        let stderr = home.join("stderr.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_ecpa"))
            .args(["serve", "--json", "--config"])
            .arg(&config)
            .current_dir(&home)
            .env_remove("ECPA_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("ecpa serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            // Keep reading, so the process never writes into a closed pipe.
            for _ in lines {}
        });
        let mut serve = Serve {
            child,
            url: String::new(),
            mail,
            stderr,
        };
        let line = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        match v["listening"].as_str() {
            Some(url) => {
                serve.url = url.to_owned();
                assert!(
                    !line.contains("password"),
                    "the start-up line shows no password: {line}"
                );
                Ok(serve)
            }
            // It refused to start (`--json` prints the error on stdout) or never said anything.
            None => {
                let _ = serve.child.kill();
                let _ = serve.child.wait();
                let stderr = std::fs::read_to_string(&serve.stderr).unwrap_or_default();
                Err(StartFailure(format!("{line}\n{stderr}")))
            }
        }
    }

    fn client(&self) -> RemotePortal {
        RemotePortal::new(&self.url).expect("client")
    }

    /// The raw mails in this process's maildir.
    fn mails(&self) -> Vec<Vec<u8>> {
        let Ok(entries) = std::fs::read_dir(self.mail.join("new")) else {
            return Vec::new();
        };
        entries
            .map(|e| std::fs::read(e.expect("entry").path()).expect("mail file"))
            .collect()
    }
}

/// A database of the test's own on the `ECPA_TEST_PG` server, with the fixture's directory
/// imported, or `None` (with a message) without one.
fn database() -> Option<TestDatabase> {
    let Some(db) = TestDatabase::from_env() else {
        eprintln!("SKIPPED: ECPA_TEST_PG is not set (scripts/test sets it on its PostgreSQL pass)");
        return None;
    };
    let portal = LocalPortal::with_store(open_url(&db.url).expect("opens"), fast_config()).expect("portal");
    portal
        .import_directory_csv(directory_csv().as_bytes())
        .expect("the directory imports");
    Some(db)
}

/// The outbox number of a raw mail (its `Message-ID: <ecpa-outbox-N@…>`).
fn outbox_id(raw: &[u8]) -> u64 {
    let text = String::from_utf8_lossy(raw);
    let at = text.find("<ecpa-outbox-").expect("an outbox Message-ID") + "<ecpa-outbox-".len();
    let digits: String = text[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().expect("a number")
}

/// Waits until the two maildirs hold `n` mails between them (a little longer, to catch a
/// second delivery), and returns them.
fn wait_for_mail(a: &Serve, b: &Serve, n: usize) -> Vec<Vec<u8>> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let all: Vec<Vec<u8>> = a.mails().into_iter().chain(b.mails()).collect();
        if all.len() >= n {
            // Both workers poll every 50 ms: a duplicate would show up within a few rounds.
            std::thread::sleep(Duration::from_millis(500));
            return a.mails().into_iter().chain(b.mails()).collect();
        }
        assert!(Instant::now() < deadline, "{} of {n} mails delivered", all.len());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The registration link token mailed to `to`, from whichever process delivered it.
fn link_to(a: &Serve, b: &Serve, to: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        for raw in a.mails().into_iter().chain(b.mails()) {
            let m = ReceivedMail::parse(&raw).expect("mail parses");
            if m.to == to
                && let Some(t) = m.link_token()
            {
                return t.to_owned();
            }
        }
        assert!(Instant::now() < deadline, "no link mailed to {to}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Registers `who` (started on `on`, confirmed on `then`): the link comes by mail from either.
fn register(a: &Serve, b: &Serve, on: &RemotePortal, then: &RemotePortal, who: Who) {
    let p = person(who);
    on.start_nhi_registration(&form(who))
        .unwrap_or_else(|e| panic!("{who:?} registers: {e}"));
    let token = link_to(a, b, &p.reg_email);
    then.confirm_nhi_registration(&p.card_data(), &token)
        .unwrap_or_else(|e| panic!("{who:?} confirms: {e}"));
}

#[test]
fn two_processes_share_sessions_and_deliver_each_mail_once() {
    let Some(db) = database() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let a = Serve::start(dir.path(), "a", &db.url, "").unwrap_or_else(|f| panic!("ecpa serve a: {}", f.0));
    let b = Serve::start(dir.path(), "b", &db.url, "").unwrap_or_else(|f| panic!("ecpa serve b: {}", f.0));
    let (ra, rb) = (a.client(), b.client());

    // A session opened on A (NHI card and password) is valid on B, and ended there for both.
    register(&a, &b, &ra, &rb, Who::Wang);
    let wang = person(Who::Wang);
    let session = ra
        .login_nhi_card(&wang.card_data(), &wang.pw())
        .expect("login on A")
        .token;
    assert_eq!(rb.session_info(&session).expect("valid on B").name, wang.name);
    let text = rb.consent_text().expect("consent text");
    rb.give_consent(&session, &text.version).expect("consent on B");
    assert!(ra.session_info(&session).is_ok());
    rb.logout(&session).expect("logout on B");
    expect_code(ra.session_info(&session), ErrorCode::SessionInvalid);

    // Mail: an officer on B issues 60 electronic orders to two consenting people; with the
    // registration mails, every outbox row is delivered exactly once by one of the workers.
    register(&a, &b, &rb, &ra, Who::OfficerA);
    register(&a, &b, &ra, &rb, Who::Lin);
    let lin = person(Who::Lin);
    let lin_session = rb
        .login_nhi_card(&lin.card_data(), &lin.pw())
        .expect("Lin logs in")
        .token;
    ra.give_consent(&lin_session, &text.version).expect("Lin consents");
    let officer_p = person(Who::OfficerA);
    let officer = rb
        .login_nhi_card(&officer_p.card_data(), &officer_p.pw())
        .expect("officer logs in")
        .token;
    let orders: Vec<_> = (0..60)
        .map(|i| {
            order(
                if i % 2 == 0 { Who::Wang } else { Who::Lin },
                "114/05/02",
                &format!("北市勞人字第11470{i:05}號"),
                AwardKind::Commendation,
                1,
            )
        })
        .collect();
    let report = rb.issue_award_orders(&officer, &orders).expect("issued on B");
    assert_eq!(report.electronic, 60);
    let store = open_url(&db.url).expect("a handle for checks");
    let count = |sql: &str| store.read(|tx| tx.query_int(sql, &[])).expect(sql);
    let outbox_rows = usize::try_from(count("SELECT count(*) FROM outbox")).expect("a count");
    assert_eq!(outbox_rows, 3 + 60, "three registrations and sixty notices");
    let mails = wait_for_mail(&a, &b, outbox_rows);
    assert_eq!(count("SELECT count(*) FROM outbox WHERE sent_at IS NULL"), 0);
    let mut seen: HashMap<u64, usize> = HashMap::new();
    for raw in &mails {
        *seen.entry(outbox_id(raw)).or_default() += 1;
    }
    let repeated: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "delivered more than once: {repeated:?}");
    assert_eq!(mails.len(), outbox_rows, "each outbox row in exactly one maildir");
    eprintln!("mails delivered by A: {}, by B: {}", a.mails().len(), b.mails().len());
    // Each order's notice, once; and the orders are listed on A as they were issued on B.
    let wang_again = ra.login_nhi_card(&wang.card_data(), &wang.pw()).expect("login").token;
    assert_eq!(rb.unviewed_award_orders(&wang_again).expect("list on B").len(), 30);
}

#[test]
fn a_certificate_challenge_begun_on_one_process_is_answered_on_the_other_once() {
    let Some(db) = database() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = TestPki::new().expect("test PKI");
    let root = dir.path().join("root.der");
    let intermediate = dir.path().join("intermediate.pem");
    std::fs::write(&root, pki.root.der()).expect("root file");
    std::fs::write(&intermediate, pem("CERTIFICATE", pki.intermediate.der())).expect("intermediate file");
    let trust = format!(
        "\n[trust]\nanchors = [\"{}\"]\nintermediates = [\"{}\"]\npolicy = \"2.16.886.101.0.3.3\"\n",
        root.display(),
        intermediate.display()
    );
    let a = Serve::start(dir.path(), "a", &db.url, &trust).unwrap_or_else(|f| panic!("ecpa serve a: {}", f.0));
    let b = Serve::start(dir.path(), "b", &db.url, &trust).unwrap_or_else(|f| panic!("ecpa serve b: {}", f.0));
    let (ra, rb) = (a.client(), b.client());
    register(&a, &b, &ra, &rb, Who::Wang);
    let wang = person(Who::Wang);
    let (cert, key) = pki
        .issue(&EndEntitySpec::citizen(
            wang.name,
            format!("{:0>16}", wang.id.last_four()),
            Some(wang.id.last_four()),
        ))
        .expect("certificate");

    // Begun on A, answered on B (binding the certificate to Wang): one login.
    let challenge = ra.begin_certificate_login().expect("challenge on A");
    let answer = CertificateResponse {
        challenge_id: challenge.challenge_id.clone(),
        certificate: cert.der().to_vec(),
        signature: LoginSignature::RawPkcs1(key.sign(challenge.to_sign.as_bytes()).expect("signs")),
        identify: Some(wang.id.reveal().to_owned()),
    };
    let session = rb.complete_certificate_login(&answer).expect("completed on B");
    assert_eq!(ra.session_info(&session.token).expect("valid on A").name, wang.name);
    // The same answer again, on either process: refused.
    expect_code(rb.complete_certificate_login(&answer), ErrorCode::ChallengeReplayed);
    expect_code(ra.complete_certificate_login(&answer), ErrorCode::ChallengeReplayed);

    // And the other way round, now that the certificate is bound: begun on B, answered on A.
    let challenge = rb.begin_certificate_login().expect("challenge on B");
    let answer = CertificateResponse {
        challenge_id: challenge.challenge_id.clone(),
        certificate: cert.der().to_vec(),
        signature: LoginSignature::RawPkcs1(key.sign(challenge.to_sign.as_bytes()).expect("signs")),
        identify: None,
    };
    ra.complete_certificate_login(&answer).expect("completed on A");
    expect_code(rb.complete_certificate_login(&answer), ErrorCode::ChallengeReplayed);
}

/// DER as PEM, so the test gives `[trust]` both forms.
fn pem(label: &str, der: &[u8]) -> String {
    use base64ct::{Base64, Encoding};
    let b64 = Base64::encode_string(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
