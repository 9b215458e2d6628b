//! `ecpa serve` under load: throughput and p99 latency of the four calls that matter, each as a
//! ratio of an empty endpoint (`GET /api/v1/ping`) of the same server in the same run.
//!
//! The portal holds 100,000 employees and 1,000,000 award orders (change with
//! `ECPA_BENCH_EMPLOYEES` and `ECPA_BENCH_ORDERS`); the database is built once through the public
//! API and cached under `target/ecpa-bench/`. The server runs in this process on its own tokio
//! runtime (2 worker threads); the load comes from a small closed-loop HTTP/1.1 keep-alive client
//! on plain threads (no client library, so the client costs little), `ECPA_BENCH_CONNECTIONS`
//! connections (default 16) for `ECPA_BENCH_SECONDS` seconds (default 5) per scenario. Client and
//! server share the machine's cores, as a load test on one machine must.
//!
//! Scenarios:
//! - `empty`: `GET /api/v1/ping`, the baseline.
//! - `list`: `GET /api/v1/award-orders/unviewed` by one of 100 employees with 10 unviewed orders
//!   each (goal: at least 0.3x of empty, p99 under 20 ms).
//! - `sign`: `POST /api/v1/award-orders/{id}/view`, each call signing for a different order.
//! - `nhi_login`: `POST /api/v1/login/nhi-card` with the production argon2id cost (19 MiB, 2 passes).
//! - `cert_login`: `POST /api/v1/login/certificate/challenge` and `POST /api/v1/login/certificate`
//!   with an RSA-2048 PKCS#1 signature (goal: 2,000 logins/s on two cores). The challenge each
//!   login answers was fetched and signed before the clock started, so the client's RSA signing
//!   does not share the two cores with the server; each login still makes both calls. The trust
//!   comes from a `[trust]` configuration as `ecpa serve` loads it: anchor, intermediate and both
//!   CAs' CRLs (10,000 entries for the intermediate) as files.
//! - `log`: `empty` and `cert_login` against a twin server on the same portal that writes the
//!   request log (one text line per request, into a file, as `ecpa serve` writes to standard
//!   error), pair by pair for `ECPA_BENCH_LOG_ROUNDS` rounds (default 3) with the order
//!   alternating; the median ratio logged / not logged is the log's cost (goal: at most 5% fewer
//!   requests per second).
//!
//! `ECPA_BENCH_ONLY=list,cert_login` runs only those scenarios (and the empty baseline).
//!
//! Run: `cargo bench --features http --bench http`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64ct::{Base64, Encoding};
use ecpa::card::SoftNhiCard;
use ecpa::config::{LogConfig, ServerConfig, TrustConfig};
use ecpa::http::ServiceOptions;
use ecpa::http::wire::CardWire;
use ecpa::pki::testpki::{EndEntitySpec, TestPki};
use ecpa::pki::{Certificate, Signer, SoftwareKey};
use ecpa::portal::{
    AwardKind, CertificateResponse, FileMailer, LocalPortal, LoginSignature, NewAwardOrder, Portal, PortalConfig,
    RegistrationForm,
};
use ecpa::store::SqliteStore;
use ecpa::types::{
    CardNumber, DocumentNumber, Email, HouseholdAddress, HouseholdNumber, NationalId, NhiCardData, Password,
    PersonName, RocDate, Sex,
};

/// The allocator of the `ecpa` command, so the server here is the one `ecpa serve` runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const AGENCY_CODE: &str = "379130000C";
const AGENCY_NAME: &str = "臺北市政府勞動局";
const PASSWORD: &str = "Bench#2026ok";
/// Employees whose unviewed orders are listed (10 each), and who log in with their NHI card.
const LISTERS: usize = 100;
/// Employees who sign for orders (2,000 unviewed each, so no call repeats a signature).
const SIGNERS: usize = 100;
const SIGN_EACH: usize = 2_000;
/// Orders each signer has to sign for: [`SIGN_EACH`], or fewer in a small database.
fn sign_each(orders: usize) -> usize {
    SIGN_EACH
        .min(orders.saturating_sub(LISTERS * 10) / (2 * SIGNERS))
        .max(1)
}
/// Employees who log in with a citizen certificate.
const CERT_USERS: usize = 20;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn national_id(n: usize) -> NationalId {
    let second = 1 + (n % 2) as u32;
    let serial = format!("{n:07}");
    let mut sum = 1 + 8 * second;
    for (weight, digit) in (1..=7u32).rev().zip(serial.bytes()) {
        sum += weight * u32::from(digit - b'0');
    }
    let check = (10 - sum % 10) % 10;
    NationalId::parse(&format!("A{second}{serial}{check}")).expect("valid ID")
}

fn card(n: usize) -> NhiCardData {
    let data = NhiCardData {
        card_number: CardNumber::parse(&format!("{:012}", 600_000_000 + n)).expect("card number"),
        name: PersonName::new(&format!("員工{n:06}")).expect("name"),
        national_id: national_id(n),
        birth_date: RocDate::new(75, 3, 15).expect("date"),
        sex: if n.is_multiple_of(2) { Sex::Male } else { Sex::Female },
        issue_date: RocDate::new(110, 6, 1).expect("date"),
    };
    SoftNhiCard::new(&data).read().expect("card reads")
}

fn email(n: usize) -> Email {
    Email::parse(&format!("emp{n:06}@mail.taipei.gov.tw")).expect("email")
}

/// Person 0 is the officer; 1..=LISTERS list; then SIGNERS sign; then CERT_USERS; then the rest.
fn lister(i: usize) -> usize {
    1 + i
}
fn signer(i: usize) -> usize {
    1 + LISTERS + i
}
fn cert_user(i: usize) -> usize {
    1 + LISTERS + SIGNERS + i
}

fn order(n: usize, g: usize) -> NewAwardOrder {
    let approved_on = RocDate::new(113, 1 + (g % 12) as u8, 1 + (g % 28) as u8).expect("date");
    NewAwardOrder {
        national_id: national_id(n),
        approving_agency: AGENCY_NAME.into(),
        approved_on,
        document_number: DocumentNumber::parse(&format!("北市勞人字第{:011}號", 11_300_000_000u64 + g as u64))
            .expect("document number"),
        reason: "辦理業務認真負責，績效良好".into(),
        legal_basis: "公務人員考績法第12條".into(),
        kind: AwardKind::Commendation,
        count: 1,
        special: false,
        rating_year: 113,
    }
}

fn registration(n: usize) -> RegistrationForm {
    let pw = Password::new(PASSWORD).expect("password");
    RegistrationForm {
        card: card(n),
        household_number: HouseholdNumber::parse("F1234567").expect("household"),
        address: HouseholdAddress::new("63000", "63000010", "63000010001", 12).expect("address"),
        password: pw.clone(),
        confirmation: pw,
        phone: Some("02-2720-8889".into()),
        mobile: Some("0912-345-678".into()),
        email: email(n),
        spare_email: None,
        terms_version: ecpa::portal::registration_terms().version,
    }
}

fn open(path: &Path) -> LocalPortal {
    LocalPortal::with_store(Box::new(SqliteStore::open(path).expect("db")), PortalConfig::default()).expect("portal")
}

/// Registers, confirms and consents everyone who logs in during the bench.
fn enrol(portal: &LocalPortal, people: &[usize], scratch: &Path) {
    for &n in people {
        portal.start_nhi_registration(&registration(n)).expect("registration");
    }
    let mailer = FileMailer::new(scratch.join("mail")).expect("maildir");
    portal.deliver_outbox(&mailer, people.len() * 2).expect("mail");
    let mails = mailer.messages().expect("mails");
    for &n in people {
        let m = mails
            .iter()
            .rev()
            .find(|m| m.to == email(n).as_str())
            .expect("link mail");
        portal
            .confirm_nhi_registration(&card(n), m.link_token().expect("token"))
            .expect("confirmed");
        let s = portal
            .login_nhi_card(&card(n), &Password::new(PASSWORD).expect("pw"))
            .expect("login")
            .token;
        let v = portal.consent_text().expect("text").version;
        portal.give_consent(&s, &v).expect("consent");
    }
}

fn build(path: &Path, employees: usize, orders: usize) {
    eprintln!("building {} ({employees} employees, {orders} orders)…", path.display());
    let scratch = tempfile::tempdir_in(path.parent().expect("folder")).expect("scratch");
    let tmp = scratch.path().join("build.db");
    let portal = open(&tmp);
    let mut csv = String::from("agency_code,agency_name,unit,national_id,name,title,email,status,officer\n");
    for n in 0..employees {
        let officer = if n == 0 { "Y" } else { "" };
        csv.push_str(&format!(
            "{AGENCY_CODE},{AGENCY_NAME},勞動檢查處,{},員工{n:06},科員,{},在職,{officer}\n",
            national_id(n).reveal(),
            email(n).as_str()
        ));
    }
    portal.import_directory_csv(csv.as_bytes()).expect("directory");
    let mut people: Vec<usize> = vec![0];
    people.extend((0..LISTERS).map(lister));
    people.extend((0..SIGNERS).map(signer));
    people.extend((0..CERT_USERS).map(cert_user));
    enrol(&portal, &people, scratch.path());
    let officer = portal
        .login_nhi_card(&card(0), &Password::new(PASSWORD).expect("pw"))
        .expect("officer")
        .token;
    // Electronic orders for the listers (10 each) and signers (SIGN_EACH each); the rest on
    // paper to everyone else, up to `orders` in all.
    let mut recipients: Vec<usize> = Vec::with_capacity(orders);
    for i in 0..LISTERS {
        recipients.extend(std::iter::repeat_n(lister(i), 10));
    }
    for i in 0..SIGNERS {
        recipients.extend(std::iter::repeat_n(signer(i), sign_each(orders)));
    }
    let first_rest = 1 + LISTERS + SIGNERS + CERT_USERS;
    let rest = employees.saturating_sub(first_rest).max(1);
    let mut k = 0;
    while recipients.len() < orders {
        recipients.push(first_rest + k % rest);
        k += 1;
    }
    for (b, chunk) in recipients.chunks(50_000).enumerate() {
        let batch: Vec<NewAwardOrder> = chunk
            .iter()
            .enumerate()
            .map(|(j, &n)| order(n, b * 50_000 + j))
            .collect();
        portal.issue_award_orders(&officer, &batch).expect("bulk issuance");
        eprint!(".");
    }
    eprintln!();
    drop(portal);
    std::fs::rename(&tmp, path).expect("cache the database");
}

/// A keep-alive HTTP/1.1 connection that sends one request and reads one response at a time.
struct Conn {
    w: TcpStream,
    r: BufReader<TcpStream>,
    host: String,
}

impl Conn {
    fn new(addr: SocketAddr) -> Conn {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_nodelay(true).expect("nodelay");
        Conn {
            r: BufReader::new(s.try_clone().expect("clone")),
            w: s,
            host: addr.to_string(),
        }
    }

    fn call(&mut self, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> (u16, Vec<u8>) {
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        if let Some(t) = token {
            req.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        let body = body.unwrap_or("");
        if method != "GET" {
            req.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        req.push_str("\r\n");
        req.push_str(body);
        self.w.write_all(req.as_bytes()).expect("write");
        let mut line = String::new();
        self.r.read_line(&mut line).expect("status line");
        let status: u16 = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let mut len = 0usize;
        loop {
            line.clear();
            self.r.read_line(&mut line).expect("header");
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        let mut buf = vec![0; len];
        self.r.read_exact(&mut buf).expect("body");
        (status, buf)
    }
}

struct Figure {
    name: &'static str,
    per_second: f64,
    p50: Duration,
    p99: Duration,
    errors: usize,
}

/// One call of a scenario, given the connection and the call's number: whether it succeeded, or
/// `None` when the scenario's prepared work has run out (the thread then stops).
type Op = Arc<dyn Fn(&mut Conn, usize) -> Option<bool> + Send + Sync>;

/// Runs `op` on `connections` threads for `seconds`, or until its work runs out.
fn load(name: &'static str, addr: SocketAddr, connections: usize, seconds: f64, op: Op) -> Figure {
    eprintln!("{name}…");
    let counter = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let threads: Vec<_> = (0..connections)
        .map(|_| {
            let (op, counter) = (op.clone(), counter.clone());
            std::thread::spawn(move || {
                let mut conn = Conn::new(addr);
                let mut lat = Vec::new();
                let mut errors = 0;
                while Instant::now() < deadline {
                    let i = counter.fetch_add(1, Ordering::Relaxed);
                    let t0 = Instant::now();
                    let Some(done) = op(&mut conn, i) else { break };
                    lat.push(t0.elapsed());
                    errors += usize::from(!done);
                }
                (lat, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for t in threads {
        let (l, e) = t.join().expect("load thread");
        all.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pick = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
            .copied()
    };
    Figure {
        name,
        per_second: all.len() as f64 / elapsed,
        p50: pick(0.50).unwrap_or_default(),
        p99: pick(0.99).unwrap_or_default(),
        errors,
    }
}

/// `n` certificate-login answers (request bodies), each over its own fresh challenge, signed on
/// two threads. The challenges are issued to the loopback address the bench's connections come
/// from, as the server would issue them (a challenge answers only for its client's network).
fn signed_challenges(portal: &LocalPortal, certs: &[(Certificate, SoftwareKey)], n: usize) -> Vec<String> {
    let client = Some(std::net::IpAddr::from([127, 0, 0, 1]));
    let challenges: Vec<_> = (0..n)
        .map(|_| portal.begin_certificate_login_from(client).expect("challenge"))
        .collect();
    let sign = |part: &[ecpa::portal::CertificateChallenge], offset: usize| -> Vec<String> {
        part.iter()
            .enumerate()
            .map(|(k, ch)| {
                let (cert, key) = &certs[(offset + k) % certs.len()];
                let sig = key.sign(ch.to_sign.as_bytes()).expect("sign");
                serde_json::json!({
                    "challenge_id": ch.challenge_id,
                    "certificate": Base64::encode_string(cert.der()),
                    "signature_kind": "raw_pkcs1",
                    "signature": Base64::encode_string(&sig),
                })
                .to_string()
            })
            .collect()
    };
    let (a, b) = challenges.split_at(n / 2);
    std::thread::scope(|s| {
        let second = s.spawn(|| sign(b, n / 2));
        let mut all = sign(a, 0);
        all.extend(second.join().expect("signing thread"));
        all
    })
}

/// The test PKI as an operator's `[trust]` files: the root and the intermediate, the root's CRL
/// and the intermediate's with 10,000 entries.
fn trust_files(dir: &Path, pki: &TestPki) -> TrustConfig {
    let now = time::OffsetDateTime::now_utc();
    let (from, until) = (now - time::Duration::hours(1), now + time::Duration::days(1));
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("write");
        path
    };
    let root = write("grca.der", pki.root.der());
    let intermediate = write("moica.der", pki.intermediate.der());
    let root_crl = write("grca.crl", &pki.root_crl(&[], from, until).expect("CRL"));
    let mut spec = ecpa::pki::crlgen::CrlSpec::new(10_000);
    spec.this_update = from;
    spec.next_update = Some(until);
    let crl = ecpa::pki::crlgen::generate_for_issuer(&pki.intermediate_key, pki.intermediate.subject_der(), &spec)
        .expect("CRL");
    let moica_crl = write("moica.crl", &crl);
    TrustConfig {
        anchors: vec![root],
        intermediates: vec![intermediate],
        crls: vec![root_crl, moica_crl],
        ..TrustConfig::default()
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a list; this bench has no criterion entries.
    }
    let employees = env_usize("ECPA_BENCH_EMPLOYEES", 100_000);
    let orders = env_usize("ECPA_BENCH_ORDERS", 1_000_000);
    let connections = env_usize("ECPA_BENCH_CONNECTIONS", 16);
    let seconds = env_usize("ECPA_BENCH_SECONDS", 5) as f64;
    let smoke = std::env::args().any(|a| a == "--test");
    let (employees, orders, seconds) = if smoke {
        (300, 3_000, 0.3)
    } else {
        (employees, orders, seconds)
    };
    assert!(employees > 1 + LISTERS + SIGNERS + CERT_USERS, "too few employees");

    let dir: PathBuf = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/ecpa-bench");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let cached = dir.join(format!("http-v1-{employees}-{orders}.db"));
    if !cached.exists() {
        build(&cached, employees, orders);
    }
    // Each run works on a copy: signing changes the database.
    let run_dir = tempfile::tempdir_in(&dir).expect("run dir");
    let db = run_dir.path().join("ecpa.db");
    std::fs::copy(&cached, &db).expect("copy");

    let pki = TestPki::new().expect("test PKI");
    let trust_config = trust_files(run_dir.path(), &pki);
    let (trust, feed) = ecpa::http::server::load_trust(&trust_config)
        .expect("trust loads")
        .expect("trust configured");
    assert!(
        feed.status(time::OffsetDateTime::now_utc()).fresh,
        "the CRLs are current"
    );
    let portal = Arc::new(open(&db).with_certificate_trust(trust));
    let mut server = ServerConfig {
        listen: "127.0.0.1:0".into(),
        worker_threads: Some(2),
        ..ServerConfig::default()
    };
    server.rate_limit.login_per_minute = u32::MAX / 2;
    server.rate_limit.login_burst = u32::MAX / 2;
    let quiet = ServiceOptions {
        trust: Some(feed.clone()),
        log_requests: false,
    };
    let running = ecpa::http::start_with(portal.clone(), &server, quiet).expect("server");
    let addr = running.addr();
    // The twin that logs every request, into a file (as a service's standard error would be).
    let log_file = std::fs::File::create(run_dir.path().join("requests.log")).expect("log file");
    let _log = ecpa::http::server::init_logging_to(&LogConfig::default(), Box::new(log_file)).expect("logging");
    let logged = ServiceOptions {
        trust: Some(feed),
        log_requests: true,
    };
    let running_logged = ecpa::http::start_with(portal.clone(), &server, logged).expect("server");
    let addr_logged = running_logged.addr();

    // Sessions, orders to sign, and bound certificates, prepared before any timing.
    let pw = Password::new(PASSWORD).expect("pw");
    let list_tokens: Arc<Vec<String>> = Arc::new(
        (0..LISTERS)
            .map(|i| {
                portal
                    .login_nhi_card(&card(lister(i)), &pw)
                    .expect("login")
                    .token
                    .expose()
                    .to_owned()
            })
            .collect(),
    );
    let mut sign_work: Vec<(String, i64)> = Vec::new();
    for i in 0..SIGNERS {
        let t = portal.login_nhi_card(&card(signer(i)), &pw).expect("login").token;
        for o in portal.unviewed_award_orders(&t).expect("unviewed") {
            sign_work.push((t.expose().to_owned(), o.id));
        }
    }
    // Interleave people so concurrent calls sign for different persons.
    sign_work.sort_by_key(|(_, id)| *id % SIGNERS as i64);
    let sign_work = Arc::new(sign_work);
    let certs: Arc<Vec<(Certificate, SoftwareKey)>> = Arc::new(
        (0..CERT_USERS)
            .map(|i| {
                let n = cert_user(i);
                let id = national_id(n);
                let (cert, key) = pki
                    .issue(&EndEntitySpec::citizen(
                        format!("員工{n:06}"),
                        format!("{:0>16}", n),
                        Some(id.last_four()),
                    ))
                    .expect("certificate");
                let c = portal.begin_certificate_login().expect("challenge");
                portal
                    .complete_certificate_login(&CertificateResponse {
                        challenge_id: c.challenge_id.clone(),
                        certificate: cert.der().to_vec(),
                        signature: LoginSignature::RawPkcs1(key.sign(c.to_sign.as_bytes()).expect("sign")),
                        identify: Some(id.reveal().to_owned()),
                    })
                    .expect("binding login");
                (cert, key)
            })
            .collect(),
    );
    let nhi_bodies: Arc<Vec<String>> = Arc::new(
        (0..LISTERS)
            .map(|i| serde_json::json!({ "card": CardWire::from(&card(lister(i))), "password": PASSWORD }).to_string())
            .collect(),
    );

    let ok = |s: u16| (200..300).contains(&s);
    let empty: Op = Arc::new(move |c, _| Some(ok(c.call("GET", "/api/v1/ping", None, None).0)));
    let tokens = list_tokens.clone();
    let work = sign_work.clone();
    let bodies = nhi_bodies.clone();
    let scenarios: Vec<(&'static str, Op)> = vec![
        ("empty", empty.clone()),
        (
            "list",
            Arc::new(move |c, i| {
                let token = &tokens[i % tokens.len()];
                let (s, body) = c.call("GET", "/api/v1/award-orders/unviewed", Some(token), None);
                Some(ok(s) && body.len() > 100)
            }),
        ),
        (
            "sign",
            Arc::new(move |c, i| {
                let (token, id) = work.get(i)?;
                let path = format!("/api/v1/award-orders/{id}/view");
                Some(ok(c.call("POST", &path, Some(token), None).0))
            }),
        ),
        (
            "nhi_login",
            Arc::new(move |c, i| {
                let body = &bodies[i % bodies.len()];
                Some(ok(c.call("POST", "/api/v1/login/nhi-card", None, Some(body)).0))
            }),
        ),
    ];
    let only = std::env::var("ECPA_BENCH_ONLY").unwrap_or_default();
    let wanted = |name: &str| name == "empty" || only.is_empty() || only.split(',').any(|o| o == name);
    let mut figures: Vec<Figure> = scenarios
        .into_iter()
        .filter(|(name, _)| wanted(name))
        .map(|(name, op)| load(name, addr, connections, seconds, op))
        .collect();
    // Each timed login makes both calls; the challenge it answers was fetched and signed before
    // the clock started (the one it fetches is left to expire), so the figure is the server's,
    // not the client's RSA signing on the same two cores.
    let cert_login = |name: &'static str, at: SocketAddr| {
        let answers = Arc::new(signed_challenges(&portal, &certs, (seconds * 4_000.0) as usize));
        load(
            name,
            at,
            connections,
            seconds,
            Arc::new(move |c, i| {
                let answer = answers.get(i)?;
                let fresh = ok(c.call("POST", "/api/v1/login/certificate/challenge", None, Some("")).0);
                Some(fresh && ok(c.call("POST", "/api/v1/login/certificate", None, Some(answer)).0))
            }),
        )
    };
    if wanted("cert_login") {
        figures.push(cert_login("cert_login", addr));
    }
    // The request log's cost: each pair run back to back on the twin servers, the order
    // alternating by round, so a drift in the machine's load falls on both sides.
    let rounds = env_usize("ECPA_BENCH_LOG_ROUNDS", 3);
    let mut log_ratios: Vec<(&str, Vec<f64>)> = vec![("empty", Vec::new()), ("cert_login", Vec::new())];
    if wanted("log") {
        for round in 0..rounds {
            for (name, ratios) in &mut log_ratios {
                let run = |at: SocketAddr| match *name {
                    "empty" => load("empty (log pair)", at, connections, seconds, empty.clone()),
                    _ => cert_login("cert_login (log pair)", at),
                };
                let (plain, logged) = if round % 2 == 0 {
                    let p = run(addr);
                    (p, run(addr_logged))
                } else {
                    let l = run(addr_logged);
                    (run(addr), l)
                };
                assert_eq!(plain.errors + logged.errors, 0, "errors in the log pair");
                ratios.push(logged.per_second / plain.per_second);
            }
        }
    }
    running.shutdown().expect("server stops");
    running_logged.shutdown().expect("server stops");

    let empty = figures[0].per_second;
    println!(
        "\necpa serve under load: {employees} employees, {orders} orders, {connections} connections, {seconds} s per scenario, 2 server worker threads"
    );
    println!(
        "{:<12} {:>10} {:>9} {:>10} {:>10} {:>7}",
        "scenario", "req/s", "x empty", "p50 ms", "p99 ms", "errors"
    );
    for f in &figures {
        println!(
            "{:<12} {:>10.0} {:>9.3} {:>10.3} {:>10.3} {:>7}",
            f.name,
            f.per_second,
            f.per_second / empty,
            f.p50.as_secs_f64() * 1e3,
            f.p99.as_secs_f64() * 1e3,
            f.errors
        );
    }
    for (name, ratios) in &mut log_ratios {
        if ratios.is_empty() {
            continue;
        }
        ratios.sort_by(f64::total_cmp);
        let median = ratios[ratios.len() / 2];
        let shown: Vec<String> = ratios.iter().map(|r| format!("{r:.3}")).collect();
        println!(
            "request log, {name}: logged / not logged = {} (median {median:.3}, {:+.1}% requests per second)",
            shown.join(", "),
            (median - 1.0) * 100.0
        );
    }
    println!(
        "goals: list >= 0.3x empty with p99 < 20 ms; cert_login >= 2000/s on two cores; the request log costs <= 5%"
    );
}
