//! 400 NHI-card logins at once against a real `ecpa serve` with production argon2id: the hash
//! gate keeps the server answering (every login checked or turned away busy, none a server
//! error) and its memory bounded; the peak is printed. In its own test binary, so its hashes do
//! not share the cores with the connection tests' timings.
#![cfg(feature = "http")]

mod support;

use std::time::Duration;

use support::serve::ServeProcess;

/// The peak resident memory of a process, from `/proc` (Linux), in MiB.
fn peak_rss_mib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

#[test]
fn four_hundred_logins_at_once_are_answered_without_a_server_error() {
    // Production argon2id (19 MiB a hash): each login of an unknown card runs one hash, as a
    // wrong password does, so 400 at once from four addresses are 400 hashes asked for at once.
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("ecpa.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\nworker_threads = 2\n\
             [server.rate_limit]\nlogin_per_minute = 100000\nlogin_burst = 10000\n\
             [database]\nurl = \"sqlite:{db}\"\n[mail]\nkind = \"file\"\ndir = \"{mail}\"\n",
            db = dir.path().join("ecpa.db").display(),
            mail = dir.path().join("mail").display(),
        ),
    )
    .expect("config");
    let serve = ServeProcess::start(&config, &dir.path().join("serve.log"), &[]);
    let url = format!("{}/api/v1/login/nhi-card", serve.url.trim_end_matches('/'));
    let base = support::person(support::Who::Outsider).card_data();
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let calls: Vec<_> = (0..400)
            .map(|i| {
                let (url, base) = (&url, &base);
                s.spawn(move || {
                    let card = ecpa::types::NhiCardData {
                        card_number: ecpa::types::CardNumber::parse(&format!("0000{:08}", 9_000_000 + i))
                            .expect("card number"),
                        ..base.clone()
                    };
                    let from: std::net::IpAddr = format!("127.0.0.{}", 1 + i % 4).parse().expect("address");
                    let client = reqwest::blocking::Client::builder()
                        .local_address(from)
                        .timeout(Duration::from_secs(60))
                        .build()
                        .expect("client");
                    let body = serde_json::json!({
                        "card": ecpa::http::wire::CardWire::from(&card),
                        "password": "Guess#2026",
                    });
                    client.post(url).json(&body).send().map_or(0, |r| r.status().as_u16())
                })
            })
            .collect();
        calls.into_iter().map(|c| c.join().expect("thread")).collect()
    });
    let count = |code: u16| statuses.iter().filter(|s| **s == code).count();
    // Each is "not registered" (checked, one hash) or "busy, retry in a moment" (no slot within
    // the wait): nothing else, and no server error.
    assert_eq!(count(401) + count(503), 400, "{statuses:?}");
    assert!(count(401) > 0, "{statuses:?}");
    let peak = peak_rss_mib(serve.pid());
    println!(
        "400 logins at once: {} answered, {} busy; ecpa serve's peak memory {} MiB",
        count(401),
        count(503),
        peak.map_or_else(|| "?".to_owned(), |m| m.to_string())
    );
    // The service still answers.
    let ping = reqwest::blocking::get(format!("{}/api/v1/ping", serve.url.trim_end_matches('/'))).expect("answered");
    assert_eq!(ping.status().as_u16(), 200);
}
