//! The same engine on its two backends, measured in the same run: one
//! [`Portal::issue_award_orders`] call issuing 10,000 award orders (with the outbox mail of each
//! electronic one, in the same transaction) on an SQLite file, and on PostgreSQL. The SQLite
//! figure is the baseline; the summary prints PostgreSQL as a ratio of it.
//!
//! PostgreSQL is the server `ECPA_TEST_PG` names, or one this bench starts itself (initdb into a
//! temp dir, as the tests do; `fsync=off`, like the test server, so the figure is the engine and
//! the protocol, not the disk). Setup (directory, registrations, consents) is the integration
//! tests' fixture and is not timed; each sample issues fresh document numbers into the same
//! database. Run with `cargo bench --bench store`; `-- --test` runs each once.

#[path = "../tests/support/mod.rs"]
#[allow(missing_docs, clippy::unwrap_used)]
mod support;

use std::cell::RefCell;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode};
use ecpa::portal::{AwardKind, NewAwardOrder, Portal, SessionToken};
use support::pg::{PgServer, TestDatabase, server_url};
use support::{Fixture, Who, fast_config, fixture_on, order};

/// Orders per bulk call.
const ORDERS: usize = 10_000;

/// A fixture with two consenting employees and a logged-in officer.
fn prepared(fx: Fixture) -> (Fixture, SessionToken) {
    let officer = fx.enrol(Who::OfficerA);
    fx.ready(Who::Wang);
    fx.ready(Who::Lin);
    fx.deliver();
    (fx, officer)
}

/// `ORDERS` orders with document numbers never used before (`batch` makes them unique).
fn batch(batch: usize) -> Vec<NewAwardOrder> {
    (0..ORDERS)
        .map(|i| {
            let who = if i % 2 == 0 { Who::Wang } else { Who::Lin };
            let serial = batch * ORDERS + i;
            order(
                who,
                "114/05/02",
                &format!("北市勞人字第114{serial:07}號"),
                AwardKind::Commendation,
                1,
            )
        })
        .collect()
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let own;
    let admin = match server_url() {
        Some(u) => u,
        None => {
            own = PgServer::start().expect("PostgreSQL is installed (scripts/test installs it)");
            own.url()
        }
    };
    let backends = [
        ("sqlite", prepared(Fixture::sqlite(fast_config()))),
        (
            "postgres",
            prepared(fixture_on(fast_config(), Some(TestDatabase::create(&admin)))),
        ),
    ];
    let times: [RefCell<Vec<Duration>>; 2] = Default::default();
    let next = RefCell::new(0usize);
    let mut group = c.benchmark_group("bulk_issuance_10k");
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    for (k, (name, (fx, officer))) in backends.iter().enumerate() {
        group.bench_function(*name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let n = {
                        let mut n = next.borrow_mut();
                        *n += 1;
                        *n
                    };
                    let orders = batch(n);
                    let start = Instant::now();
                    let report = fx.portal.issue_award_orders(officer, &orders).expect("issued");
                    let took = start.elapsed();
                    assert_eq!(report.issued, ORDERS);
                    times[k].borrow_mut().push(took);
                    total += took;
                }
                total
            });
        });
    }
    group.finish();
    c.final_summary();
    let sqlite = median(&mut times[0].borrow_mut());
    let pg = median(&mut times[1].borrow_mut());
    println!();
    println!("bulk issuance of {ORDERS} award orders (with their outbox mail), medians of every timed call:");
    println!("| backend | time | orders/s | ratio to SQLite |");
    println!("|---|---|---|---|");
    for (name, t) in [("SQLite file (WAL)", sqlite), ("PostgreSQL (loopback)", pg)] {
        let rate = ORDERS as f64 / t.as_secs_f64().max(1e-9);
        let ratio = t.as_secs_f64() / sqlite.as_secs_f64().max(1e-9);
        println!("| {name} | {t:.2?} | {rate:.0} | {ratio:.2}x |");
    }
}
