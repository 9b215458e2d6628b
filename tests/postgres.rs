//! PostgreSQL as two service processes see it: two portals (each its own connection pool) on
//! one real database, racing where people race: two officers deciding one correction, one
//! person signing for one order from two windows, two outbox workers. Each happens once. And
//! the server restarted under a running store: the transaction in flight fails with a typed
//! error and leaves nothing behind; the store reconnects by itself.
//!
//! The database is on the server `ECPA_TEST_PG` names (`scripts/test` starts one), or, when it is
//! not set, on a server these tests start themselves; where PostgreSQL is not installed at all
//! they say so and skip.

mod support;

use std::collections::HashMap;

use ecpa::ErrorCode;
use ecpa::portal::{
    AwardKind, CorrectionDecision, LocalPortal, ManualClock, Portal, ProofingCategory, SmtpConfig, SmtpMailer,
};
use ecpa::store::{PostgresStore, StoreExt, Value, open_url};
use support::pg::{PgServer, TestDatabase, server_url};
use support::smtp::SmtpServer;
use support::{Fixture, START, Who, count, expect_code, fast_config, order, outcomes, race};

/// A server to test on: the shared one, or one of our own (kept alive by the returned guard).
fn server() -> Option<(String, Option<PgServer>)> {
    if let Some(url) = server_url() {
        return Some((url, None));
    }
    let own = PgServer::start()?;
    Some((own.url(), Some(own)))
}

/// A fixture on a fresh database of the server.
fn pg_fixture(admin_url: &str) -> Fixture {
    let fx = support::fixture_on(fast_config(), Some(TestDatabase::create(admin_url)));
    assert!(fx.is_postgres());
    fx
}

/// A second portal on the fixture's database, as another `ecpa serve` process would be.
fn second_process(fx: &Fixture) -> LocalPortal {
    let p = fx.reopen(fast_config());
    assert!(fx.url.starts_with("postgres://"));
    p
}

#[test]
fn two_officers_deciding_one_correction_decide_it_once() {
    let Some((url, _own)) = server() else { return };
    let fx = pg_fixture(&url);
    let other = second_process(&fx);
    let officer = fx.enrol(Who::OfficerA);
    let wang = fx.enrol(Who::Wang);
    // A second officer of agency A, logged in on the other process.
    fx.portal.set_officer(&support::person(Who::Lin).id).expect("officer");
    let lin = fx.enrol(Who::Lin);
    for round in 0..5 {
        fx.portal
            .stage_correction(
                &wang,
                ProofingCategory::CurrentPost,
                "office_phone",
                &format!("02-2720-8889#{round}"),
            )
            .expect("staged");
        let submission = fx.portal.complete_proofing(&wang).expect("complete");
        let corrections = fx
            .portal
            .submission_corrections(&officer, submission.id)
            .expect("corrections");
        let id = corrections[0].id;
        let results = race(2, |i| {
            if i == 0 {
                fx.portal.process_correction(&officer, id, &CorrectionDecision::Approve)
            } else {
                other.process_correction(
                    &lin,
                    id,
                    &CorrectionDecision::Reject {
                        reason: "重複".into()
                    },
                )
            }
        });
        let (ok, codes) = outcomes(&results);
        assert_eq!(ok, 1, "round {round}: {codes:?}");
        assert_eq!(codes, vec![ErrorCode::CorrectionAlreadyProcessed], "round {round}");
        let decided = fx.sql_int(&format!(
            "SELECT count(*) FROM audit WHERE action = 'proofing.process' AND object = 'correction:{id}'"
        ));
        assert_eq!(decided, 1, "round {round}: one decision recorded");
        let pending = fx.sql_int(&format!(
            "SELECT pending FROM proofing_submissions WHERE id = {}",
            submission.id
        ));
        assert_eq!(pending, 0, "round {round}: counted down once, not twice");
        assert!(fx.portal.officer_todos(&officer).expect("todos").is_empty());
    }
}

#[test]
fn one_order_signed_for_from_two_processes_is_signed_once() {
    let Some((url, _own)) = server() else { return };
    let fx = pg_fixture(&url);
    let other = second_process(&fx);
    let officer = fx.enrol(Who::OfficerA);
    let here = fx.ready(Who::Wang);
    let there = fx.login(Who::Wang);
    for round in 0..5 {
        let issued = fx
            .portal
            .issue_award_order(
                &officer,
                &order(
                    Who::Wang,
                    "114/05/02",
                    &format!("北市勞人字第11460001{round}0號"),
                    AwardKind::Commendation,
                    1,
                ),
            )
            .expect("issued");
        let results = race(2, |i| {
            if i == 0 {
                fx.portal.view_award_order(&here, issued.summary.id)
            } else {
                other.view_award_order(&there, issued.summary.id)
            }
        });
        let (ok, codes) = outcomes(&results);
        assert_eq!((ok, codes), (2, vec![]), "round {round}: both windows show the order");
        let signs = fx.sql_int(&format!(
            "SELECT count(*) FROM audit WHERE action = 'award.sign' AND object = 'award_order:{}'",
            issued.summary.id
        ));
        assert_eq!(signs, 1, "round {round}: signed for once");
        let viewed: Vec<_> = results
            .iter()
            .map(|r| r.as_ref().map(|o| o.summary.viewed_at))
            .collect();
        assert_eq!(viewed[0].as_ref().ok(), viewed[1].as_ref().ok(), "one signing time");
    }
    assert!(fx.portal.unviewed_award_orders(&here).expect("list").is_empty());
}

#[test]
fn two_outbox_workers_send_each_mail_once() {
    let Some((url, _own)) = server() else { return };
    let fx = pg_fixture(&url);
    let other = second_process(&fx);
    let officer = fx.enrol(Who::OfficerA);
    fx.ready(Who::Wang);
    fx.ready(Who::Lin);
    fx.deliver();
    let smtp = SmtpServer::start(None);
    let mailer = SmtpMailer::new(&SmtpConfig::plain("127.0.0.1", smtp.port())).expect("mailer");
    let orders: Vec<_> = (0..30)
        .map(|i| {
            let who = if i % 2 == 0 { Who::Wang } else { Who::Lin };
            order(
                who,
                "114/05/02",
                &format!("北市勞人字第1146002{i:03}號"),
                AwardKind::Commendation,
                1,
            )
        })
        .collect();
    fx.portal.issue_award_orders(&officer, &orders).expect("issued");
    let reports = race(2, |i| {
        let portal = if i == 0 { &fx.portal } else { &other };
        let mut sent = 0;
        // Small rounds, so the two workers interleave over the queue.
        for _ in 0..30 {
            sent += portal.deliver_outbox(&mailer, 3).expect("delivers").sent;
        }
        sent
    });
    assert_eq!(reports.iter().sum::<usize>(), 30, "{reports:?}");
    let mails = smtp.mails();
    let mut per_id: HashMap<String, usize> = HashMap::new();
    for m in &mails {
        let raw = String::from_utf8_lossy(&m.raw);
        let id = raw
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: "))
            .expect("message id")
            .to_owned();
        *per_id.entry(id).or_default() += 1;
    }
    assert_eq!(mails.len(), 30);
    assert!(per_id.values().all(|n| *n == 1), "{per_id:?}");
    assert_eq!(count(&fx, "outbox WHERE sent_at IS NULL"), 0);
}

#[test]
fn a_restarted_server_fails_the_transaction_in_flight_and_the_store_reconnects() {
    // A server of our own: the shared one must not restart under other tests.
    let Some(mut server) = PgServer::start() else { return };
    let db = TestDatabase::create(&server.url());
    let store = PostgresStore::connect(&db.url).expect("connects");
    store
        .write(|tx| tx.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT NOT NULL)", &[]))
        .expect("create");
    store
        .write(|tx| tx.execute("INSERT INTO t VALUES (1, 'before')", &[]))
        .expect("insert");

    // Stop the server in the middle of a transaction that has already written.
    let mut stopped = false;
    let r: ecpa::Result<()> = store.write(|tx| {
        tx.execute("INSERT INTO t VALUES (2, 'half')", &[])?;
        if !stopped {
            server.stop();
            stopped = true;
        }
        tx.execute("INSERT INTO t VALUES (3, 'half')", &[])?;
        Ok(())
    });
    expect_code(r, ErrorCode::StorageUnavailable);
    // While it is down: typed errors, not panics, not hangs.
    expect_code(
        store.read(|tx| tx.query_int("SELECT count(*) FROM t", &[])),
        ErrorCode::StorageUnavailable,
    );

    server.start_again();
    // The pool's dead connections are replaced without the caller noticing.
    let rows = store
        .read(|tx| tx.query("SELECT id, v FROM t ORDER BY id", &[]))
        .expect("reconnected");
    let rows: Vec<(i64, String)> = rows
        .iter()
        .map(|r| (r.int(0).expect("id"), r.text(1).expect("v")))
        .collect();
    assert_eq!(rows, vec![(1, "before".to_owned())], "nothing half-written");
    store
        .write(|tx| tx.execute("INSERT INTO t VALUES (?, ?)", &[Value::Int(2), Value::from("after")]))
        .expect("writes again");

    // The whole portal too: it works again after a restart, without being reopened.
    let pdb = TestDatabase::create(&server.url());
    let clock = std::sync::Arc::new(ManualClock::new(START));
    let portal = support::open_portal_url(&pdb.url, fast_config(), clock).expect("portal");
    portal
        .import_directory_csv(support::directory_csv().as_bytes())
        .expect("imports");
    server.stop();
    expect_code(
        portal.import_directory_csv(support::directory_csv().as_bytes()),
        ErrorCode::StorageUnavailable,
    );
    server.start_again();
    let again = portal
        .import_directory_csv(support::directory_csv().as_bytes())
        .expect("imports after the restart");
    assert_eq!(again.rows, Who::DIRECTORY.len());
    drop(portal);
    drop(store);
    drop(pdb);
    drop(db);
}

#[test]
fn the_schema_is_migrated_once_by_processes_starting_together() {
    let Some((url, _own)) = server() else { return };
    let db = TestDatabase::create(&url);
    let results = race(4, |_| open_url(&db.url).map(|s| s.dialect()));
    assert!(results.iter().all(|r| r.is_ok()), "{:?}", outcomes(&results));
    let store = open_url(&db.url).expect("opens");
    let versions = store
        .read(|tx| tx.query_int("SELECT count(*) FROM schema_migrations", &[]))
        .expect("count");
    assert_eq!(versions, ecpa::store::schema::MIGRATIONS.len() as i64);
    // A database from a newer ecpa is refused, as on SQLite.
    store
        .write(|tx| {
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)",
                &[Value::Int(ecpa::store::schema::latest_version() + 1)],
            )
        })
        .expect("insert");
    expect_code(PostgresStore::connect(&db.url), ErrorCode::SchemaTooNew);
}

#[test]
fn a_failed_statement_the_caller_ignores_is_not_reported_as_committed() {
    let Some((url, _own)) = server() else { return };
    let db = TestDatabase::create(&url);
    let store = PostgresStore::connect(&db.url).expect("connects");
    store
        .write(|tx| tx.execute("CREATE TABLE t (id BIGINT PRIMARY KEY)", &[]))
        .expect("create");
    // PostgreSQL aborts the whole transaction at the failed statement and answers a later
    // COMMIT with a silent ROLLBACK: the store must say so, not return Ok.
    let r: ecpa::Result<()> = store.write(|tx| {
        tx.execute("INSERT INTO t VALUES (1)", &[])?;
        let _ignored = tx.execute("INSERT INTO t VALUES (1)", &[]);
        Ok(())
    });
    expect_code(r, ErrorCode::StorageFailure);
    let n = store
        .read(|tx| tx.query_int("SELECT count(*) FROM t", &[]))
        .expect("count");
    assert_eq!(n, 0, "nothing committed");
}

#[test]
fn the_operator_commands_work_on_postgresql_too() {
    let Some((url, _own)) = server() else { return };
    let fx = pg_fixture(&url);
    let now = fx.clock_now();
    // Maintenance reasons, withdrawal, announcements.
    let w = fx
        .portal
        .announce_maintenance_for(
            now + time::Duration::hours(1),
            now + time::Duration::hours(2),
            Some("配合戶政系統維護"),
        )
        .expect("announced");
    assert_eq!(fx.portal.maintenance_windows().expect("listed"), vec![w.clone()]);
    fx.portal.remove_maintenance(w.id).expect("removed");
    let a = fx
        .portal
        .add_announcement("系統公告", "本週六停機", None)
        .expect("added");
    assert_eq!(fx.portal.announcements().expect("current"), vec![a.clone()]);
    fx.portal.remove_announcement(a.id).expect("removed");
    // An import naming its operator, a session ended, then a purge.
    fx.portal
        .import_directory_csv_as(support::directory_csv().as_bytes(), "人事處 張三")
        .expect("imports");
    let s = fx.enrol(Who::Lin);
    fx.portal.logout(&s).expect("logged out");
    let r = fx.portal.purge(5, "ops").expect("purged");
    assert!(r.sessions >= 1, "{r:?}");
    assert_eq!(fx.portal.purge(5, "ops").expect("again").sessions, 0);
    assert_eq!(
        fx.portal.schema_version().expect("version"),
        ecpa::store::schema::latest_version()
    );
    // PostgreSQL has its own backup tool.
    let dir = tempfile::tempdir().expect("tempdir");
    expect_code(
        fx.portal.backup_to(&dir.path().join("x.db"), false, "ops"),
        ErrorCode::StorageFailure,
    );
}
