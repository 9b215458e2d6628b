//! kill -9 of a real `ecpa serve` process during a bulk issuance over HTTP, then a restart on
//! the same files: no order lost, none issued twice, and every notification mailed exactly once.
#![cfg(feature = "http")]

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ecpa::ErrorCode;
use ecpa::http::RemotePortal;
use ecpa::portal::{
    AwardKind, FileMailer, LocalPortal, ManualClock, NewAwardOrder, OsRandomness, Portal, SessionToken,
};
use ecpa::store::SqliteStore;
use ecpa::types::{DocumentNumber, RocDate};
use support::{Who, directory_csv, fast_config, form, open_read_only, person};

const BATCHES: usize = 40;
const PER_BATCH: usize = 25;

/// Registers, confirms, logs in and consents in process (system clock), as the agency would
/// have done before the service ran; returns the session token.
fn enrol(portal: &LocalPortal, mailer: &FileMailer, who: Who) -> SessionToken {
    let p = person(who);
    portal.start_nhi_registration(&form(who)).expect("registration");
    portal.deliver_outbox(mailer, 100).expect("delivered");
    let mail = mailer
        .messages()
        .expect("mail")
        .into_iter()
        .rev()
        .find(|m| m.to == p.reg_email)
        .expect("link mail");
    portal
        .confirm_nhi_registration(&p.card_data(), mail.link_token().expect("token"))
        .expect("confirmed");
    let s = portal.login_nhi_card(&p.card_data(), &p.pw()).expect("login").token;
    let text = portal.consent_text().expect("text");
    portal.give_consent(&s, &text.version).expect("consent");
    s
}

fn batch(i: usize) -> Vec<NewAwardOrder> {
    (0..PER_BATCH)
        .map(|j| {
            let who = if j % 2 == 0 { Who::Wang } else { Who::Lin };
            let approved_on = RocDate::parse("114/05/20").expect("date");
            NewAwardOrder {
                national_id: person(who).id,
                approving_agency: support::AGENCY_A_NAME.into(),
                approved_on,
                document_number: DocumentNumber::parse(&format!("北市勞人字第114{:03}{:04}號", i, j))
                    .expect("document number"),
                reason: "辦理勞動檢查專案績效卓著".into(),
                legal_basis: "公務人員考績法第12條".into(),
                kind: AwardKind::Commendation,
                count: 1,
                special: false,
                rating_year: 114,
            }
        })
        .collect()
}

/// Starts `ecpa serve` on the files and returns the child and its URL.
fn serve(dir: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecpa"))
        .args(["serve", "--json", "--listen", "127.0.0.1:0", "--config"])
        .arg(dir.join("ecpa.toml"))
        .arg("--db")
        .arg(dir.join("ecpa.db"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("ecpa serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("listening line");
    let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    (child, v["listening"].as_str().expect("url").to_owned())
}

fn notices(maildir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(maildir.join("new"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn kill_9_during_bulk_issuance_loses_and_repeats_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ecpa.db");
    let maildir = dir.path().join("mail");
    std::fs::write(
        dir.path().join("ecpa.toml"),
        format!(
            "[mail]\nkind = \"file\"\ndir = {:?}\npoll_ms = 20\nbatch = 50\n\n[portal]\nargon2_memory_kib = 1024\nargon2_iterations = 1\n",
            maildir.display().to_string()
        ),
    )
    .expect("config");

    // The agency's directory and two consenting employees, set up in process.
    let officer = {
        let portal =
            LocalPortal::with_store(Box::new(SqliteStore::open(&db).expect("db")), fast_config()).expect("portal");
        portal
            .import_directory_csv(directory_csv().as_bytes())
            .expect("directory");
        let setup_mail = FileMailer::new(dir.path().join("setup-mail")).expect("maildir");
        enrol(&portal, &setup_mail, Who::Wang);
        enrol(&portal, &setup_mail, Who::Lin);
        enrol(&portal, &setup_mail, Who::OfficerA)
    };

    // Bulk issuance over HTTP; kill -9 the service once ten batches are in.
    let (mut child, url) = serve(dir.path());
    let acked = Arc::new(AtomicUsize::new(0));
    let sender = {
        let (acked, officer, url) = (acked.clone(), officer.clone(), url.clone());
        std::thread::spawn(move || {
            let remote = RemotePortal::new(&url).expect("client");
            for i in 0..BATCHES {
                match remote.issue_award_orders(&officer, &batch(i)) {
                    Ok(report) => {
                        assert_eq!(report.electronic, PER_BATCH);
                        acked.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(e) => return (i, Some(e.code())),
                }
            }
            (BATCHES, None)
        })
    };
    let started = Instant::now();
    while acked.load(Ordering::SeqCst) < 10 {
        assert!(started.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_millis(7));
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let (first_unacked, error) = sender.join().expect("sender");
    assert!(first_unacked < BATCHES, "the kill came too late to interrupt anything");
    let error = error.expect("a failed call");
    assert!(
        matches!(
            error,
            ErrorCode::HttpUnreachable | ErrorCode::HttpBadResponse | ErrorCode::HttpTimeout
        ),
        "{error:?}"
    );
    let delivered_before = notices(&maildir).len();

    // Restart on the same files; send again every batch not acknowledged. The one in flight
    // was committed whole or not at all: a duplicate now means all of it is in.
    let (mut child, url) = serve(dir.path());
    let remote = RemotePortal::new(&url).expect("client");
    let mut duplicates = Vec::new();
    for i in first_unacked..BATCHES {
        match remote.issue_award_orders(&officer, &batch(i)) {
            Ok(report) => assert_eq!(report.issued, PER_BATCH),
            Err(e) if e.code() == ErrorCode::AwardOrderDuplicate => duplicates.push(i),
            Err(e) => panic!("batch {i}: {e}"),
        }
    }
    assert!(duplicates.is_empty() || duplicates == [first_unacked], "{duplicates:?}");
    eprintln!(
        "killed during batch {first_unacked} ({error:?}); it was {} before the kill; {delivered_before} notices mailed before it",
        if duplicates.is_empty() {
            "not committed"
        } else {
            "committed"
        }
    );

    // The restarted worker delivers what is due.
    let total = BATCHES * PER_BATCH;
    let started = Instant::now();
    let mut last = (0, Instant::now());
    loop {
        let n = notices(&maildir).len();
        if n == total {
            break;
        }
        if n != last.0 {
            last = (n, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(3) {
            break; // the rest are claimed by the killed worker
        }
        assert!(started.elapsed() < Duration::from_secs(180), "delivery stalled at {n}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let delivered_by_service = notices(&maildir).len();
    eprintln!("the restarted service mailed {delivered_by_service} of {total} notices");
    // Only what the killed worker had claimed (one round, `batch = 50`) may wait for its claim.
    assert!(
        delivered_by_service + 50 >= total,
        "the service's worker mailed {delivered_by_service}"
    );
    child.kill().expect("stop");
    child.wait().expect("reaped");

    // Mails the killed worker had claimed become due again after the claim (5 minutes): deliver
    // them as a worker would then, with a clock 6 minutes ahead.
    let later = Arc::new(ManualClock::new(
        time::OffsetDateTime::now_utc() + time::Duration::minutes(6),
    ));
    let portal = LocalPortal::with_parts(
        Box::new(SqliteStore::open(&db).expect("db")),
        fast_config(),
        later,
        Arc::new(OsRandomness),
    )
    .expect("portal");
    portal
        .deliver_outbox(&FileMailer::new(&maildir).expect("maildir"), 100_000)
        .expect("delivered");

    // Count: every order once, every notice once, nothing pending.
    let sql = open_read_only(&db);
    let int = |q: &str| -> i64 { sql.query_row(q, [], |r| r.get(0)).expect(q) };
    assert_eq!(
        int("SELECT count(*) FROM award_orders"),
        total as i64,
        "orders lost or repeated"
    );
    assert_eq!(
        int("SELECT count(DISTINCT document_number || '/' || employee_id) FROM award_orders"),
        total as i64
    );
    let award_mails = int("SELECT count(*) FROM outbox WHERE kind = 'award_notice'");
    assert_eq!(award_mails, total as i64, "one notice per order");
    assert_eq!(
        int("SELECT count(*) FROM outbox WHERE sent_at IS NULL"),
        0,
        "mail left behind"
    );
    let files = notices(&maildir);
    assert_eq!(
        files.len(),
        total,
        "one file per notice (delivered before the kill: {delivered_before})"
    );
    let mut ids: Vec<i64> = sql
        .prepare("SELECT id FROM outbox WHERE kind = 'award_notice' ORDER BY id")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("ids");
    ids.sort_unstable();
    let expected: Vec<String> = ids.iter().map(|id| format!("{id:012}.ecpa")).collect();
    assert_eq!(files, expected, "the maildir holds exactly the notices, once each");
}
