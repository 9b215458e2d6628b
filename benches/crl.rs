//! CRL loading at scale: a 2,000,000-entry CRL (about 100 MB) from the test PKI, parsed,
//! verified and indexed, against `openssl crl -inform DER -noout -in FILE` on the same file in
//! the same run; lookups (hit and miss); and the extra memory a load takes against the file's size.
//!
//! `cargo bench --bench crl` (set `ECPA_CRL_BENCH_ENTRIES` for another size). The CRL and its
//! issuer certificate are generated once and cached under `target/crl-bench/`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::Criterion;
use ecpa::pki::crlgen::{self, CrlSpec};
use ecpa::pki::{Certificate, Crl, CrlOptions, SoftwareKey};

const SEED: u64 = 2026;
const RUNS: usize = 5;

fn entries() -> usize {
    std::env::var("ECPA_CRL_BENCH_ENTRIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000_000)
}

/// The cached CRL and issuer certificate, generated if missing.
fn fixture(n: usize) -> (PathBuf, PathBuf) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/crl-bench");
    std::fs::create_dir_all(&dir).expect("cache directory");
    let crl = dir.join(format!("crl-{n}.der"));
    let cert = dir.join(format!("crl-{n}-issuer.der"));
    if !crl.exists() || !cert.exists() {
        let start = Instant::now();
        let key = SoftwareKey::generate_rsa2048().expect("key");
        let mut spec = CrlSpec::new(n);
        spec.seed = SEED;
        // Current for years, so the cached file stays usable.
        spec.next_update = Some(spec.this_update + time::Duration::days(3650));
        let der = crlgen::generate(&key, &spec).expect("CRL");
        let issuer = crlgen::issuer_certificate(
            &key,
            &spec.issuer_cn,
            spec.this_update - time::Duration::days(1),
            spec.this_update + time::Duration::days(3650),
        )
        .expect("issuer");
        std::fs::write(&crl, der).expect("write CRL");
        std::fs::write(&cert, issuer).expect("write issuer");
        eprintln!("generated {n} entries in {:.2?}", start.elapsed());
    }
    (crl, cert)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Peak RSS (VmHWM) in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn load(crl: &[u8], issuer: &Certificate) -> Crl {
    let at = time::OffsetDateTime::now_utc();
    Crl::load_verified(crl, issuer.public_key().expect("key"), &CrlOptions::at(at)).expect("loads")
}

/// In a child process: read the file, then load it; print the peak RSS growth the load caused.
fn child(crl: &str, cert: &str) {
    let issuer = Certificate::from_der(&std::fs::read(cert).expect("issuer")).expect("issuer parses");
    let bytes = std::fs::read(crl).expect("CRL");
    let before = peak_rss_kib();
    let loaded = load(&bytes, &issuer);
    let after = peak_rss_kib();
    println!("{} {} {}", (after - before) * 1024, loaded.index_bytes(), loaded.len());
}

fn main() {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some("--crl-memory-child") {
        let (crl, cert) = (args.next().expect("crl"), args.next().expect("cert"));
        child(&crl, &cert);
        return;
    }
    let n = entries();
    let (crl_path, cert_path) = fixture(n);
    let bytes = std::fs::read(&crl_path).expect("CRL");
    let issuer = Certificate::from_der(&std::fs::read(&cert_path).expect("issuer")).expect("issuer parses");
    let size = bytes.len();

    let openssl = median(
        (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                let status = Command::new("openssl")
                    .args(["crl", "-inform", "DER", "-noout", "-in"])
                    .arg(&crl_path)
                    .status()
                    .expect("openssl runs");
                assert!(status.success(), "openssl crl failed");
                start.elapsed()
            })
            .collect(),
    );
    let ours = median(
        (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                black_box(load(&bytes, &issuer));
                start.elapsed()
            })
            .collect(),
    );

    let crl = load(&bytes, &issuer);
    assert_eq!(crl.len(), n);
    let hits: Vec<[u8; 16]> = (0..1024)
        .map(|i| crlgen::serial(SEED, i * (n / 1024).max(1) % n.max(1)))
        .collect();
    let misses: Vec<[u8; 16]> = (0..1024).map(|i| crlgen::serial(SEED + 1, i)).collect();
    let per_lookup = |keys: &[[u8; 16]], want: bool| {
        let rounds = 1000;
        let start = Instant::now();
        for _ in 0..rounds {
            for k in keys {
                assert_eq!(black_box(crl.lookup(black_box(k))).is_some(), want);
            }
        }
        start.elapsed().as_nanos() as f64 / (rounds * keys.len()) as f64
    };
    let (hit_ns, miss_ns) = (per_lookup(&hits, true), per_lookup(&misses, false));

    let mut c = Criterion::default().configure_from_args().sample_size(20);
    c.bench_function("crl_lookup_hit", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % hits.len();
            black_box(crl.lookup(&hits[i]))
        })
    });
    c.bench_function("crl_lookup_miss", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % misses.len();
            black_box(crl.lookup(&misses[i]))
        })
    });

    let exe = std::env::current_exe().expect("bench binary");
    let out = Command::new(exe)
        .arg("--crl-memory-child")
        .arg(&crl_path)
        .arg(&cert_path)
        .output()
        .expect("memory child");
    let text = String::from_utf8_lossy(&out.stdout);
    let nums: Vec<usize> = text.split_whitespace().filter_map(|s| s.parse().ok()).collect();
    let (peak, index) = (nums.first().copied().unwrap_or(0), nums.get(1).copied().unwrap_or(0));

    let mb = |b: usize| b as f64 / 1_048_576.0;
    let ratio = ours.as_secs_f64() / openssl.as_secs_f64();
    println!();
    println!("CRL load: {n} entries, {:.1} MiB file, median of {RUNS} runs", mb(size));
    println!("| measure | value | goal | met |");
    println!("|---|---|---|---|");
    println!("| `openssl crl -inform DER -noout` (process wall time) | {openssl:.2?} | baseline | |");
    println!("| ecpa parse + verify + index | {ours:.2?} | | |");
    println!(
        "| ratio ecpa / openssl | {ratio:.3}x | ≤ 0.25x | {} |",
        ok(ratio <= 0.25)
    );
    let extra = peak as f64 / size as f64;
    println!(
        "| extra memory (peak RSS growth during load) | {:.1} MiB = {extra:.2}x file | < 2x file | {} |",
        mb(peak),
        ok(extra < 2.0)
    );
    println!(
        "| index kept after load | {:.1} MiB = {:.2}x file | | |",
        mb(index),
        index as f64 / size as f64
    );
    println!(
        "| lookup, listed serial | {hit_ns:.0} ns | < 1 µs | {} |",
        ok(hit_ns < 1000.0)
    );
    println!(
        "| lookup, unlisted serial | {miss_ns:.0} ns | < 1 µs | {} |",
        ok(miss_ns < 1000.0)
    );
    c.final_summary();
}

fn ok(met: bool) -> &'static str {
    if met { "yes" } else { "no" }
}
