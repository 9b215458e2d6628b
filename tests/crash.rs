//! A killed process never leaves an order without its notice, a partial batch, or a
//! half-applied correction.
//!
//! `killed_mid_write_leaves_whole_transactions` re-runs this test binary as a child process
//! (only the test `crash_child`, which does nothing unless `ECPA_CRASH_DB` is set) that issues
//! large batches of award orders, or submits and processes proofing corrections, in a loop; the
//! parent kills it with SIGKILL after a varied delay and checks the database file directly.
//! The in-process tests make a transaction fail at a chosen statement and show that nothing of
//! it remains.

mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ecpa::ErrorCode;
use ecpa::portal::{
    AwardKind, CorrectionDecision, LocalPortal, ManualClock, NewAwardOrder, OsRandomness, Portal, ProofingCategory,
    SessionToken,
};
use ecpa::store::{Dialect, Row, SqliteStore, Store, Tx, Value};
use support::{Fixture, START, Who, count, expect_code, fast_config, open_portal, open_read_only, order};

/// Orders per bulk issuance in the child.
const BATCH: usize = 20_000;
const ENV_DB: &str = "ECPA_CRASH_DB";
const ENV_MODE: &str = "ECPA_CRASH_MODE";
const ENV_RUN: &str = "ECPA_CRASH_RUN";
const ENV_OFFICER: &str = "ECPA_CRASH_OFFICER";
const ENV_EMPLOYEE: &str = "ECPA_CRASH_EMPLOYEE";
const READY: &str = "CRASH-CHILD-READY";

/// The people of the child's orders: electronic (Wang, Lin), no e-mail, left office.
const RECIPIENTS: [Who; 4] = [Who::Wang, Who::Lin, Who::NoMail, Who::Retired];

/// The fields the child corrects, each with a fresh value every time.
const FIELDS: [(ProofingCategory, &str); 3] = [
    (ProofingCategory::CurrentPost, "office_phone"),
    (ProofingCategory::CurrentPost, "concurrent_title"),
    (ProofingCategory::Basic, "mailing_address"),
];

fn batch(run: u32, iteration: u32) -> Vec<NewAwardOrder> {
    batch_of(BATCH, run, iteration)
}

fn batch_of(size: usize, run: u32, iteration: u32) -> Vec<NewAwardOrder> {
    (0..size)
        .map(|i| {
            let who = RECIPIENTS[i % RECIPIENTS.len()];
            let kind = if (i / RECIPIENTS.len()).is_multiple_of(2) {
                AwardKind::Commendation
            } else {
                AwardKind::Reprimand
            };
            order(
                who,
                "114/05/02",
                &format!("北市勞人字第{run:02}{iteration:03}{i:05}號"),
                kind,
                1,
            )
        })
        .collect()
}

/// The child: does nothing unless started by the parent with the database in `ECPA_CRASH_DB`.
#[test]
fn crash_child() {
    let Ok(db) = std::env::var(ENV_DB) else {
        return;
    };
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by the parent"));
    let mode = var(ENV_MODE);
    let run: u32 = var(ENV_RUN).parse().expect("run number");
    let officer = SessionToken::new(var(ENV_OFFICER));
    let employee = SessionToken::new(var(ENV_EMPLOYEE));
    let portal = open_portal(Path::new(&db), fast_config(), Arc::new(ManualClock::new(START))).expect("opens");
    println!("{READY}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut iteration = 0u32;
    while Instant::now() < deadline {
        match mode.as_str() {
            "issue" => {
                let orders = batch(run, iteration);
                let report = portal.issue_award_orders(&officer, &orders).expect("batch issued");
                assert_eq!(report.issued, BATCH);
                println!("batch {iteration} committed");
            }
            "process" => {
                for (k, (category, field)) in FIELDS.iter().enumerate() {
                    portal
                        .stage_correction(&employee, *category, field, &format!("R{run}-{iteration}-{k}"))
                        .expect("staged");
                }
                let submission = portal.complete_proofing(&employee).expect("submitted");
                for (k, c) in portal
                    .submission_corrections(&officer, submission.id)
                    .expect("corrections")
                    .iter()
                    .enumerate()
                {
                    let decision = if (iteration as usize + k) % 3 == 2 {
                        CorrectionDecision::Reject {
                            reason: "與人事資料不符".into(),
                        }
                    } else {
                        CorrectionDecision::Approve
                    };
                    portal.process_correction(&officer, c.id, &decision).expect("processed");
                }
            }
            other => panic!("unknown mode {other}"),
        }
        iteration += 1;
    }
    panic!("the parent never killed this child");
}

/// What the invariants found.
#[derive(Debug, Default)]
struct Seen {
    orders: i64,
    electronic: usize,
    submissions: i64,
    processed: i64,
}

fn rows<T>(conn: &rusqlite::Connection, sql: &str, f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>) -> Vec<T> {
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    stmt.query_map([], f)
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows")
}

fn one(conn: &rusqlite::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Every invariant a killed writer must not break, checked on the file with plain SQL.
fn check_invariants(db: &Path, batch: usize) -> Seen {
    let conn = open_read_only(db);
    let quick: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0)).expect("check");
    assert_eq!(quick, "ok");

    // Bulk issuance: whole batches only, each with its audit entry.
    let orders = one(&conn, "SELECT count(*) FROM award_orders");
    assert_eq!(orders % batch as i64, 0, "a partial batch: {orders} orders");
    let batches = one(&conn, "SELECT count(*) FROM audit WHERE action = 'award.bulk_issue'");
    assert_eq!(orders, batches * batch as i64);

    // Every electronic order has exactly one notice; no notice without its electronic order.
    let mut notices: HashMap<i64, u32> = HashMap::new();
    for id in rows(&conn, "SELECT ref_id FROM outbox WHERE kind = 'award_notice'", |r| {
        r.get::<_, i64>(0)
    }) {
        *notices.entry(id).or_default() += 1;
    }
    let electronic = rows(
        &conn,
        "SELECT id FROM award_orders WHERE delivery = 'electronic'",
        |r| r.get::<_, i64>(0),
    );
    for id in &electronic {
        assert_eq!(
            notices.get(id),
            Some(&1),
            "order {id} has {:?} notices",
            notices.get(id)
        );
    }
    assert_eq!(notices.len(), electronic.len(), "a notice without its electronic order");
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM award_orders WHERE delivery = 'paper' AND paper_reason IS NULL"
        ),
        0
    );

    // Proofing: counters, to-dos and statuses agree; approved values are applied.
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM proofing_submissions s WHERE s.corrections <>
                 (SELECT count(*) FROM proofing_corrections c WHERE c.submission_id = s.id)"
        ),
        0,
        "a submission without all its corrections"
    );
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM proofing_submissions s WHERE s.pending <>
                 (SELECT count(*) FROM proofing_corrections c WHERE c.submission_id = s.id AND c.status = 'pending')"
        ),
        0,
        "a pending counter out of step"
    );
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM proofing_submissions s WHERE s.corrections > 0 AND
                 (SELECT count(*) FROM todos t WHERE t.kind = 'proofing' AND t.ref_id = s.id) <> 1"
        ),
        0,
        "a submission without its to-do"
    );
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM proofing_submissions s WHERE (s.pending > 0) <>
                 (SELECT count(*) FROM todos t WHERE t.kind = 'proofing' AND t.ref_id = s.id AND t.done_at IS NULL)"
        ),
        0,
        "a to-do open after its submission was done, or closed too early"
    );
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM proofing_corrections WHERE status <> 'pending' AND
                 (processed_at IS NULL OR processed_by IS NULL OR (status = 'rejected') <> (reject_reason IS NOT NULL))"
        ),
        0
    );
    let processed = one(
        &conn,
        "SELECT count(*) FROM proofing_corrections WHERE status <> 'pending'",
    );
    assert_eq!(
        processed,
        one(&conn, "SELECT count(*) FROM audit WHERE action = 'proofing.process'"),
        "a decision without its audit entry"
    );
    // The field holds the value of its most recent approval (in commit order: the audit's).
    for (after, value) in rows(
        &conn,
        "WITH approvals AS (
             SELECT a.id AS seq, c.employee_id, c.category, c.field, c.after_value
             FROM audit a JOIN proofing_corrections c ON a.object = 'correction:' || c.id
             WHERE a.action = 'proofing.process' AND a.detail = 'approved' AND c.status = 'approved')
         SELECT p.after_value,
                CASE WHEN p.category = 'current_post' AND p.field = 'email' THEN e.email
                     WHEN p.category = 'current_post' AND p.field = 'title' THEN e.title
                     ELSE r.value END
         FROM approvals p JOIN employees e ON e.id = p.employee_id
         LEFT JOIN record_fields r ON r.employee_id = p.employee_id AND r.category = p.category AND r.field = p.field
         WHERE p.seq = (SELECT max(q.seq) FROM approvals q WHERE q.employee_id = p.employee_id
                        AND q.category = p.category AND q.field = p.field)",
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)),
    ) {
        assert_eq!(
            Some(after.clone()),
            value,
            "approved {after} but the field holds {value:?}"
        );
    }
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM proofing_corrections c WHERE c.status = 'approved' AND NOT EXISTS
                 (SELECT 1 FROM audit a WHERE a.action = 'proofing.process' AND a.object = 'correction:' || c.id)"
        ),
        0
    );
    Seen {
        orders,
        electronic: electronic.len(),
        submissions: one(&conn, "SELECT count(*) FROM proofing_submissions"),
        processed,
    }
}

/// The child process, killed through its own handle if the parent gives up before the kill.
struct ChildGuard(std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// One child run: what it does, which line of its output starts the timer, how long until the kill.
struct Run {
    mode: &'static str,
    after: &'static str,
    delay: Duration,
}

/// Runs the child, kills it `run.delay` after it printed `run.after`, and waits for it.
fn run_and_kill(db: &Path, number: u32, run: &Run, officer: &SessionToken, employee: &SessionToken) {
    let mut guard = ChildGuard(
        Command::new(std::env::current_exe().expect("test binary"))
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(ENV_DB, db)
            .env(ENV_MODE, run.mode)
            .env(ENV_RUN, number.to_string())
            .env(ENV_OFFICER, officer.expose())
            .env(ENV_EMPLOYEE, employee.expose())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("child starts"),
    );
    let child = &mut guard.0;
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    loop {
        line.clear();
        let n = stdout.read_line(&mut line).expect("child output");
        if line.contains(run.after) {
            break;
        }
        if n == 0 {
            let mut err = String::new();
            let _ = child.stderr.take().expect("stderr").read_to_string(&mut err);
            let _ = child.wait();
            panic!("the child ended before printing {:?}: {err}", run.after);
        }
    }
    std::thread::sleep(run.delay);
    if let Some(status) = child.try_wait().expect("child status") {
        let mut err = String::new();
        let _ = child.stderr.take().expect("stderr").read_to_string(&mut err);
        panic!("the child stopped on its own ({status}) before the kill: {err}");
    }
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("reaped");
    assert!(!status.success());
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "killed by SIGKILL: {status}");
    }
}

#[test]
fn killed_mid_write_leaves_whole_transactions() {
    let fx = Fixture::sqlite(fast_config());
    let officer = fx.enrol(Who::OfficerA);
    let employee = fx.ready(Who::Wang);
    fx.ready(Who::Lin);
    fx.ready(Who::NoMail);

    // How long a batch takes here (timed on a tenth of one, elsewhere), so the kills land
    // early in a batch, in its middle and after a commit.
    let per_batch = {
        let other = Fixture::sqlite(fast_config());
        let officer = other.enrol(Who::OfficerA);
        other.ready(Who::Wang);
        let timer = Instant::now();
        other
            .portal
            .issue_award_orders(&officer, &batch_of(BATCH / 10, 0, 0))
            .expect("issued");
        timer.elapsed() * 10
    };
    eprintln!("a batch of {BATCH} orders takes about {per_batch:?}");
    let part = |f: f64| per_batch.mul_f64(f);
    let plan = [
        Run {
            mode: "issue",
            after: READY,
            delay: part(0.3),
        },
        Run {
            mode: "process",
            after: READY,
            delay: Duration::from_millis(30),
        },
        Run {
            mode: "issue",
            after: "batch 0 committed",
            delay: part(0.5),
        },
        Run {
            mode: "process",
            after: READY,
            delay: Duration::from_millis(170),
        },
        Run {
            mode: "issue",
            after: READY,
            delay: Duration::from_millis(20),
        },
        Run {
            mode: "process",
            after: READY,
            delay: Duration::from_millis(400),
        },
    ];
    let mut last = check_invariants(&fx.db, BATCH);
    for (number, run) in (1..).zip(&plan) {
        run_and_kill(&fx.db, number, run, &officer, &employee);
        let seen = check_invariants(&fx.db, BATCH);
        eprintln!(
            "run {number} ({}, killed {:?} after {:?}): {seen:?}",
            run.mode, run.delay, run.after
        );
        assert!(seen.orders >= last.orders && seen.processed >= last.processed);
        last = seen;
    }
    // The children did real work between the kills.
    assert!(last.orders >= BATCH as i64, "{last:?}");
    assert_eq!(last.electronic, last.orders as usize / 4);
    assert!(last.submissions > 1 && last.processed > 1, "{last:?}");

    // The portal opens the file again and carries on.
    drop(fx.portal);
    let portal = open_portal(&fx.db, fast_config(), fx.clock.clone()).expect("reopens");
    let stats = portal.outbox_stats().expect("stats");
    assert!(stats.pending >= last.electronic as i64);
    let todos = portal.officer_todos(&officer).expect("todos");
    for t in &todos {
        let c = portal
            .submission_corrections(&officer, t.submission_id)
            .expect("corrections");
        let c = c
            .iter()
            .find(|c| c.status == ecpa::portal::CorrectionStatus::Pending)
            .expect("a pending one");
        portal
            .process_correction(&officer, c.id, &CorrectionDecision::Approve)
            .expect("processed after the crash");
    }
    let after = check_invariants(&fx.db, BATCH);
    assert_eq!(after.processed, last.processed + todos.len() as i64);
}

/// A store that fails the `nth` statement containing `pattern` inside a write transaction, as
/// if the process died there (the transaction is never committed).
struct Faulty {
    inner: SqliteStore,
    trap: Mutex<Option<(String, usize)>>,
}

impl Faulty {
    fn arm(&self, pattern: &str, nth: usize) {
        *self.trap.lock().expect("lock") = Some((pattern.to_owned(), nth));
    }

    fn disarm(&self) -> bool {
        self.trap.lock().expect("lock").take().is_some()
    }
}

struct TrapTx<'a, 'b> {
    inner: &'a mut (dyn Tx + 'b),
    trap: &'a Mutex<Option<(String, usize)>>,
}

impl TrapTx<'_, '_> {
    fn check(&self, sql: &str) -> ecpa::Result<()> {
        let mut trap = self.trap.lock().expect("lock");
        if let Some((pattern, nth)) = trap.as_mut()
            && sql.contains(pattern.as_str())
        {
            if *nth <= 1 {
                *trap = None;
                return Err(ecpa::Error::new(ErrorCode::StorageFailure));
            }
            *nth -= 1;
        }
        Ok(())
    }
}

impl Tx for TrapTx<'_, '_> {
    fn execute(&mut self, sql: &str, params: &[Value<'_>]) -> ecpa::Result<u64> {
        self.check(sql)?;
        self.inner.execute(sql, params)
    }

    fn query(&mut self, sql: &str, params: &[Value<'_>]) -> ecpa::Result<Vec<Row>> {
        self.check(sql)?;
        self.inner.query(sql, params)
    }
}

/// The [`Store`] the faulty portal runs on.
struct FaultyStore(Arc<Faulty>);

impl Store for FaultyStore {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn read_tx(&self, f: &mut dyn FnMut(&mut dyn Tx) -> ecpa::Result<()>) -> ecpa::Result<()> {
        self.0.inner.read_tx(f)
    }

    fn write_tx(&self, f: &mut dyn FnMut(&mut dyn Tx) -> ecpa::Result<()>) -> ecpa::Result<()> {
        self.0.inner.write_tx(&mut |tx| {
            let mut trapped = TrapTx {
                inner: tx,
                trap: &self.0.trap,
            };
            f(&mut trapped)
        })
    }
}

/// A second portal on the fixture's file whose writes can be made to fail.
fn faulty_portal(fx: &Fixture) -> (Arc<Faulty>, LocalPortal) {
    let faulty = Arc::new(Faulty {
        inner: SqliteStore::open(&fx.db).expect("opens"),
        trap: Mutex::new(None),
    });
    let portal = LocalPortal::with_parts(
        Box::new(FaultyStore(faulty.clone())),
        fast_config(),
        fx.clock.clone(),
        Arc::new(OsRandomness),
    )
    .expect("portal");
    (faulty, portal)
}

#[test]
fn a_bulk_issuance_failing_midway_leaves_nothing() {
    let fx = Fixture::sqlite(fast_config());
    let officer = fx.enrol(Who::OfficerA);
    fx.ready(Who::Wang);
    fx.ready(Who::Lin);
    // More orders than one multi-row statement takes (ecpa::store::BATCH_ROWS, where the
    // backend writes several rows per statement), so the failure below strikes between
    // statements of one transaction whichever way they are written.
    let orders: Vec<_> = (0..1_200)
        .map(|i| {
            order(
                if i % 2 == 0 { Who::Wang } else { Who::Lin },
                "114/05/02",
                &format!("北市勞人字第11460{i:05}號"),
                AwardKind::Commendation,
                1,
            )
        })
        .collect();
    let state = |fx: &Fixture| (count(fx, "award_orders"), count(fx, "outbox"), count(fx, "audit"));
    let before = state(&fx);

    // The last order repeats the first.
    let mut duplicate = orders.clone();
    duplicate.push(orders[0].clone());
    expect_code(
        fx.portal.issue_award_orders(&officer, &duplicate),
        ErrorCode::AwardOrderDuplicate,
    );
    assert_eq!(state(&fx), before);

    // The storage fails at the second statement writing notices, after orders and notices
    // were written.
    let (faulty, portal) = faulty_portal(&fx);
    faulty.arm("INSERT INTO outbox", 2);
    expect_code(portal.issue_award_orders(&officer, &orders), ErrorCode::StorageFailure);
    assert!(!faulty.disarm(), "the trap was sprung");
    assert_eq!(state(&fx), before);
    // The same failure on a single order.
    faulty.arm("INSERT INTO outbox", 1);
    expect_code(
        portal.issue_award_order(&officer, &orders[0]),
        ErrorCode::StorageFailure,
    );
    assert_eq!(state(&fx), before);

    let report = portal.issue_award_orders(&officer, &orders).expect("issued");
    assert_eq!(report.issued, 1_200);
    check_invariants(&fx.db, 1_200);
}

#[test]
fn an_approval_failing_midway_applies_nothing() {
    let fx = Fixture::sqlite(fast_config());
    let officer = fx.enrol(Who::OfficerA);
    let wang = fx.enrol(Who::Wang);
    let (faulty, portal) = faulty_portal(&fx);
    portal
        .stage_correction(
            &wang,
            ProofingCategory::CurrentPost,
            "email",
            "new.wang@mail.taipei.gov.tw",
        )
        .expect("staged");
    portal
        .stage_correction(&wang, ProofingCategory::CurrentPost, "office_phone", "02-2720-1234")
        .expect("staged");

    // 校對完成 failing at the to-do: no submission, and the drafts are still there.
    faulty.arm("INSERT INTO todos", 1);
    expect_code(portal.complete_proofing(&wang), ErrorCode::StorageFailure);
    assert_eq!(count(&fx, "proofing_submissions"), 0);
    assert_eq!(count(&fx, "proofing_corrections"), 0);
    assert_eq!(count(&fx, "proofing_drafts"), 2);
    let submission = portal.complete_proofing(&wang).expect("submitted");

    let email = fx
        .portal
        .submission_corrections(&officer, submission.id)
        .expect("corrections")
        .into_iter()
        .find(|c| c.field == "email")
        .expect("the e-mail correction");
    // Fail after the status was set and the new address written, at the pending counter.
    for (pattern, nth) in [
        ("UPDATE proofing_submissions SET pending", 1),
        ("UPDATE employees SET email", 1),
        ("INSERT INTO audit", 1),
    ] {
        let audit = count(&fx, "audit");
        faulty.arm(pattern, nth);
        expect_code(
            portal.process_correction(&officer, email.id, &CorrectionDecision::Approve),
            ErrorCode::StorageFailure,
        );
        assert!(!faulty.disarm(), "{pattern} was reached");
        assert_eq!(
            count(&fx, "audit"),
            audit,
            "{pattern}: no audit entry of an act that did not happen"
        );
        let c = fx
            .portal
            .submission_corrections(&officer, submission.id)
            .expect("corrections")
            .into_iter()
            .find(|c| c.id == email.id)
            .expect("still there");
        assert_eq!(c.status, ecpa::portal::CorrectionStatus::Pending, "{pattern}");
        assert_eq!(
            fx.sql_text(
                "SELECT email FROM employees WHERE national_id = ?",
                support::person(Who::Wang).id.reveal()
            )
            .as_deref(),
            Some("wang.hsiaoming@mail.taipei.gov.tw"),
            "{pattern}"
        );
        assert_eq!(fx.portal.officer_todos(&officer).expect("todos")[0].pending, 2);
        check_invariants(&fx.db, BATCH);
    }
    // Without the fault, the approval goes through whole.
    portal
        .process_correction(&officer, email.id, &CorrectionDecision::Approve)
        .expect("approved");
    assert_eq!(fx.portal.officer_todos(&officer).expect("todos")[0].pending, 1);
    assert_eq!(
        fx.sql_text(
            "SELECT email FROM employees WHERE national_id = ?",
            support::person(Who::Wang).id.reveal()
        )
        .as_deref(),
        Some("new.wang@mail.taipei.gov.tw")
    );
    check_invariants(&fx.db, BATCH);
}
