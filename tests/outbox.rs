//! The outbox: failures are retried with growing delays, every mail is sent exactly once, a
//! claimed mail is not taken by a second worker, and the maildir names files by outbox number.

mod support;

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;

use ecpa::portal::{AwardKind, FileMailer, LocalPortal, Mailer, OutgoingMail, Portal};
use ecpa::{Error, ErrorCode, Result};
use support::{Fixture, Who, count, order};
use time::Duration;

/// A mailer that refuses every mail, counting the attempts.
#[derive(Default)]
struct Refusing {
    tries: Mutex<Vec<i64>>,
}

impl Mailer for Refusing {
    fn send(&self, mail: &OutgoingMail) -> Result<()> {
        self.tries.lock().expect("lock").push(mail.id);
        Err(Error::with(ErrorCode::MailFailed, "連線被拒", "connection refused"))
    }
}

/// A mailer that accepts everything and remembers how often it saw each mail.
#[derive(Default)]
struct Recording {
    seen: Mutex<HashMap<i64, u32>>,
}

impl Mailer for Recording {
    fn send(&self, mail: &OutgoingMail) -> Result<()> {
        *self.seen.lock().expect("lock").entry(mail.id).or_default() += 1;
        Ok(())
    }
}

impl Recording {
    fn total(&self) -> u32 {
        self.seen.lock().expect("lock").values().sum()
    }
}

/// Queues three award notices for Wang and returns the fixture (everything earlier delivered).
fn three_notices() -> Fixture {
    let fx = Fixture::new();
    let officer = fx.enrol(Who::OfficerA);
    fx.ready(Who::Wang);
    fx.deliver();
    let orders: Vec<_> = (1..=3)
        .map(|i| {
            order(
                Who::Wang,
                "114/05/02",
                &format!("北市勞人字第114600000{i}號"),
                AwardKind::Commendation,
                1,
            )
        })
        .collect();
    fx.portal.issue_award_orders(&officer, &orders).expect("issued");
    assert_eq!(fx.portal.outbox_stats().expect("stats").pending, 3);
    fx
}

fn attempts(fx: &Fixture) -> Vec<(i64, i64, bool)> {
    fx.rows(
        "SELECT attempts, next_attempt_at, CASE WHEN last_error IS NULL THEN 0 ELSE 1 END FROM outbox WHERE sent_at IS NULL ORDER BY id",
        &[],
    )
    .iter()
    .map(|r| (r.int(0).expect("int"), r.int(1).expect("int"), r.bool(2).expect("bool")))
    .collect()
}

fn millis(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

#[test]
fn failures_back_off_then_each_mail_is_sent_once() {
    let fx = three_notices();
    let refusing = Refusing::default();
    let report = fx.portal.deliver_outbox(&refusing, 100).expect("round");
    assert_eq!((report.sent, report.failed), (0, 3));
    let retry = millis(fx.clock_now() + Duration::minutes(1));
    assert_eq!(attempts(&fx), vec![(1, retry, true); 3]);
    assert_eq!(fx.portal.outbox_stats().expect("stats").pending, 3);

    // Not due again before the retry time, whoever tries.
    let ok = Recording::default();
    fx.advance(Duration::seconds(59));
    assert_eq!(fx.portal.deliver_outbox(&ok, 100).expect("round").sent, 0);
    assert_eq!(fx.portal.deliver_outbox(&refusing, 100).expect("round").failed, 0);
    assert_eq!(refusing.tries.lock().expect("lock").len(), 3);

    // Due at the retry time; a second failure doubles the delay.
    fx.advance(Duration::seconds(1));
    assert_eq!(fx.portal.deliver_outbox(&refusing, 100).expect("round").failed, 3);
    let retry = millis(fx.clock_now() + Duration::minutes(2));
    assert_eq!(attempts(&fx), vec![(2, retry, true); 3]);
    fx.advance(Duration::minutes(1));
    assert_eq!(fx.portal.deliver_outbox(&ok, 100).expect("round").sent, 0);

    fx.advance(Duration::minutes(1));
    let report = fx.portal.deliver_outbox(&ok, 100).expect("round");
    assert_eq!((report.sent, report.failed), (3, 0));
    assert!(ok.seen.lock().expect("lock").values().all(|n| *n == 1));
    // Sent mail is never sent again.
    fx.advance(Duration::days(1));
    assert_eq!(fx.portal.deliver_outbox(&ok, 100).expect("round").sent, 0);
    assert_eq!(ok.total(), 3);
    let stats = fx.portal.outbox_stats().expect("stats");
    assert_eq!(stats.pending, 0);
    assert_eq!(stats.oldest_pending, None);
    assert_eq!(
        fx.sql_int("SELECT max(attempts) FROM outbox WHERE kind = 'award_notice'"),
        3
    );
}

#[test]
fn the_limit_leaves_the_rest_for_the_next_round() {
    let fx = three_notices();
    let ok = Recording::default();
    assert_eq!(fx.portal.deliver_outbox(&ok, 2).expect("round").sent, 2);
    assert_eq!(fx.portal.deliver_outbox(&ok, 2).expect("round").sent, 1);
    assert_eq!(fx.portal.deliver_outbox(&ok, 2).expect("round").sent, 0);
    assert_eq!(ok.total(), 3);
}

/// A second worker running while the first is sending: it must not take the same mail.
struct Reentrant<'a> {
    portal: &'a LocalPortal,
    inner: Recording,
    outer: Recording,
}

impl Mailer for Reentrant<'_> {
    fn send(&self, mail: &OutgoingMail) -> Result<()> {
        self.portal.deliver_outbox(&self.inner, 100)?;
        self.outer.send(mail)
    }
}

#[test]
fn a_claimed_mail_is_not_taken_by_another_worker() {
    let fx = three_notices();
    let worker = Reentrant {
        portal: &fx.portal,
        inner: Recording::default(),
        outer: Recording::default(),
    };
    let report = fx.portal.deliver_outbox(&worker, 1).expect("round");
    assert_eq!(report.sent, 1);
    // While the first worker held one mail, the second took only the other two.
    assert_eq!(worker.inner.total(), 2);
    assert_eq!(worker.outer.total(), 1);
    let mut all: Vec<i64> = worker.inner.seen.lock().expect("lock").keys().copied().collect();
    all.extend(worker.outer.seen.lock().expect("lock").keys());
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 3, "each mail by exactly one worker");
    assert_eq!(fx.portal.outbox_stats().expect("stats").pending, 0);
}

/// A worker that dies while sending (after claiming the mail).
struct Dying;

impl Mailer for Dying {
    fn send(&self, _mail: &OutgoingMail) -> Result<()> {
        panic!("the worker dies mid-send");
    }
}

#[test]
fn a_worker_dying_mid_send_loses_no_mail() {
    let fx = three_notices();
    let died = catch_unwind(AssertUnwindSafe(|| fx.portal.deliver_outbox(&Dying, 1)));
    assert!(died.is_err());
    let ok = Recording::default();
    // The two unclaimed mails go at once; the claimed one waits for its claim to lapse.
    assert_eq!(fx.portal.deliver_outbox(&ok, 100).expect("round").sent, 2);
    fx.advance(Duration::minutes(4));
    assert_eq!(fx.portal.deliver_outbox(&ok, 100).expect("round").sent, 0);
    fx.advance(Duration::minutes(1));
    assert_eq!(fx.portal.deliver_outbox(&ok, 100).expect("round").sent, 1);
    assert_eq!(ok.total(), 3);
    assert!(ok.seen.lock().expect("lock").values().all(|n| *n == 1));
}

#[test]
fn the_maildir_holds_each_mail_once_named_by_outbox_number() {
    let fx = three_notices();
    fx.deliver();
    fx.deliver();
    let sent = count(&fx, "outbox WHERE sent_at IS NOT NULL");
    assert_eq!(sent, count(&fx, "outbox"));
    let mut names: Vec<String> = std::fs::read_dir(fx.mailer.dir().join("new"))
        .expect("maildir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let ids: Vec<i64> = fx
        .rows("SELECT id FROM outbox ORDER BY id", &[])
        .iter()
        .map(|r| r.int(0).expect("id"))
        .collect();
    assert_eq!(names, ids.iter().map(|id| format!("{id:012}.ecpa")).collect::<Vec<_>>());
    assert!(
        std::fs::read_dir(fx.mailer.dir().join("tmp"))
            .expect("tmp")
            .next()
            .is_none(),
        "nothing left half-written"
    );

    // A repeat of a mail (a worker killed after sending, before marking) replaces the file.
    let mailer = FileMailer::new(fx.dir.path().join("other")).expect("maildir");
    let mail = OutgoingMail {
        id: 42,
        from: fx.portal.config().mail_from.clone(),
        to: "wang.hsiaoming@mail.taipei.gov.tw".into(),
        subject: "臺北市政府勞動局114/05/02個人獎勵令通知信(非社交工程演練)".into(),
        body: "您好".into(),
    };
    mailer.send(&mail).expect("sent");
    mailer.send(&mail).expect("sent again");
    let got = mailer.messages().expect("messages");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].subject, mail.subject);
    assert_eq!(got[0].to, mail.to);
}
