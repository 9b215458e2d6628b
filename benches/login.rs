//! Certificate-login verification per core: the challenge signature (CMS SignedData or raw
//! PKCS#1), then the path to the anchor with the intermediate link cached and revocation looked
//! up in a 400,000-entry MOICA-like CRL from the intermediate plus the root's CRL. Against
//! `openssl speed -seconds 3 -mr rsa2048` (single-threaded) in the same run, and our own raw
//! RSA-2048 verify (aws-lc-rs) for context. Goal: at least 0.7x of OpenSSL's verify rate.
//!
//! `cargo bench --bench login` (set `ECPA_LOGIN_BENCH_CRL_ENTRIES` for another CRL size).
//! Each figure is measured on 200 citizen certificates in turn, from the certificate's DER as it
//! arrives: "first-time" parses it and runs the full [`Validator::validate`] (the leaf's
//! signature verified; each CRL's signature is verified once per key and remembered), "cached
//! path" goes through [`CertificateTrust`] with its path cache warm (the returning user's
//! certificate is not parsed again; revocation is still looked up).

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::Criterion;
use der::Encode;
use ecpa::pki::crlgen::{self, CrlSpec};
use ecpa::pki::testpki::{EndEntitySpec, TestPki};
use ecpa::pki::{
    Certificate, Crl, Hash, KeyUsages, SignatureAlgorithm, Signer, TrustAnchor, ValidationOptions, Validator, sign_cms,
    verify_cms, verify_raw_pkcs1,
};
use ecpa::portal::CertificateTrust;
use time::OffsetDateTime;

const USERS: usize = 200;
const CHALLENGE: &[u8] = b"ecpa-login:bench-challenge-0123456789abcdef";
const GOAL: f64 = 0.7;

/// One measured operation on one login.
type Case = fn(&Setup, &Login);

struct Login {
    cert: Certificate,
    cms: Vec<u8>,
    raw: Vec<u8>,
}

struct Setup {
    trust: CertificateTrust,
    validator: Validator,
    opts: ValidationOptions,
    logins: Vec<Login>,
    now: OffsetDateTime,
    crl_entries: usize,
}

fn setup() -> Setup {
    let entries = std::env::var("ECPA_LOGIN_BENCH_CRL_ENTRIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400_000);
    let pki = TestPki::new().expect("test PKI");
    let now = OffsetDateTime::now_utc();
    let mut spec = CrlSpec::new(entries);
    spec.this_update = now - time::Duration::hours(1);
    spec.next_update = Some(now + time::Duration::days(1));
    let issuer = pki.intermediate.subject_name().to_der().expect("issuer name");
    let big = crlgen::generate_for_issuer(&pki.intermediate_key, &issuer, &spec).expect("CRL");
    let root = pki
        .root_crl(&[], now - time::Duration::hours(1), now + time::Duration::days(1))
        .expect("root CRL");
    let crls = vec![
        Crl::from_der(&big).expect("parse CRL"),
        Crl::from_der(&root).expect("parse root CRL"),
    ];
    let trust =
        CertificateTrust::new(vec![TrustAnchor::new(pki.root.clone())]).with_intermediates([pki.intermediate.clone()]);
    trust.set_crls(crls.clone());
    let mut validator = Validator::new(vec![TrustAnchor::new(pki.root.clone())]);
    validator.add_intermediates([pki.intermediate.clone()]);
    let opts = ValidationOptions {
        crls,
        key_usage: KeyUsages {
            digital_signature: true,
            ..KeyUsages::default()
        },
        ..ValidationOptions::login(now)
    };
    let logins = (0..USERS)
        .map(|i| {
            let spec = EndEntitySpec::citizen(format!("使用者{i}"), format!("{i:016}"), Some("1234"));
            let (cert, key) = pki.issue(&spec).expect("citizen");
            let cms = sign_cms(CHALLENGE, &key, &cert, now).expect("CMS");
            let raw = key.sign(CHALLENGE).expect("raw signature");
            Login { cert, cms, raw }
        })
        .collect();
    Setup {
        trust,
        validator,
        opts,
        logins,
        now,
        crl_entries: entries,
    }
}

fn cms_first(s: &Setup, l: &Login) {
    let v = verify_cms(&l.cms, Some(CHALLENGE)).expect("CMS verifies");
    s.validator.validate(&v.signer, &s.opts).expect("path validates");
}

fn cms_cached(s: &Setup, l: &Login) {
    let v = s.trust.verify_cms(&l.cms, Some(CHALLENGE)).expect("CMS verifies");
    s.trust.validate(&v.signer, s.now).expect("path validates");
}

fn raw_first(s: &Setup, l: &Login) {
    let cert = Certificate::from_der(l.cert.der()).expect("certificate");
    verify_raw_pkcs1(CHALLENGE, &l.raw, &cert).expect("signature verifies");
    s.validator.validate(&cert, &s.opts).expect("path validates");
}

fn raw_cached(s: &Setup, l: &Login) {
    let cert = s.trust.certificate(l.cert.der()).expect("certificate");
    verify_raw_pkcs1(CHALLENGE, &l.raw, &cert).expect("signature verifies");
    s.trust.validate(&cert, s.now).expect("path validates");
}

fn raw_verify(_: &Setup, l: &Login) {
    let key = l.cert.public_key().expect("key");
    key.verify(SignatureAlgorithm::RsaPkcs1(Hash::Sha256), CHALLENGE, &l.raw)
        .expect("signature verifies");
}

/// Operations per second of `f` over the logins in turn, for about `time`.
fn rate(s: &Setup, f: Case, time: Duration) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < time {
        for l in &s.logins {
            f(s, black_box(l));
        }
        n += s.logins.len() as u64;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// RSA-2048 verifications per second by `openssl speed` (one process, one thread).
fn openssl_verify_rate() -> Option<f64> {
    let out = Command::new("openssl")
        .args(["speed", "-seconds", "3", "-mr", "rsa2048"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // Machine-readable: "+F2:<n>:<bits>:<sign>:<verify>", rates per second in OpenSSL 3 (seconds
    // per operation in 1.x, told apart by size).
    text.lines()
        .filter_map(|l| l.strip_prefix("+F2:"))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.get(1) == Some(&"2048")).then(|| f.get(3)?.trim().parse::<f64>().ok())?
        })
        .next()
        .filter(|t| *t > 0.0)
        .map(|t| if t < 1.0 { 1.0 / t } else { t })
}

fn main() {
    let s = setup();
    // Warm the path cache and the validator's intermediate link.
    for l in &s.logins {
        raw_cached(&s, l);
    }
    assert_eq!(s.trust.cached_paths(), USERS);

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    let cases: [(&str, Case); 5] = [
        ("login/cms_first_time", cms_first),
        ("login/cms_cached_path", cms_cached),
        ("login/raw_first_time", raw_first),
        ("login/raw_cached_path", raw_cached),
        ("login/aws_lc_rsa2048_verify", raw_verify),
    ];
    for (name, f) in cases {
        let mut i = 0usize;
        c.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 1) % s.logins.len();
                f(&s, black_box(&s.logins[i]))
            })
        });
    }
    c.final_summary();

    let rates: Vec<(&str, f64)> = cases
        .iter()
        .map(|(name, f)| (*name, rate(&s, *f, Duration::from_secs(3))))
        .collect();
    let openssl = openssl_verify_rate();
    println!();
    println!(
        "Certificate login, one core, {USERS} citizen certificates, CRLs: {} entries (intermediate) + root",
        s.crl_entries
    );
    println!();
    println!("| measurement | verifications/s | vs openssl rsa2048 verify | goal ≥ {GOAL}x |");
    println!("|---|---:|---:|---|");
    for (name, r) in &rates {
        match openssl {
            Some(o) => println!(
                "| {name} | {r:.0} | {:.2}x | {} |",
                r / o,
                if r / o >= GOAL { "met" } else { "not met" }
            ),
            None => println!("| {name} | {r:.0} | n/a | |"),
        }
    }
    match openssl {
        Some(o) => println!("| `openssl speed -seconds 3 -mr rsa2048` verify | {o:.0} | baseline | |"),
        None => println!("| `openssl speed` | not available | | |"),
    }
}
