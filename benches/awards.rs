//! Award orders at scale, each figure against a raw SQLite baseline measured in the same run.
//!
//! Two benchmarks, both on SQLite files (WAL, `synchronous = NORMAL`, as the engine runs them):
//!
//! - **bulk issuance** (`bulk_issuance/engine`): one [`Portal::issue_award_orders`] call issuing
//!   100,000 orders to 1,000 consenting employees in one transaction, into a fresh copy of a
//!   prepared portal database. About nine in ten orders are rewards and go electronically, so
//!   the outbox mail each of them gets (in the same transaction) is part of what is timed.
//!   Baseline (`bulk_issuance/raw_insert`): a prepared rusqlite `INSERT` loop writing the same
//!   columns into a table with the same definition and indexes as `award_orders`, in one
//!   transaction. A second, informative baseline (`bulk_issuance/raw_insert_with_mail`) also
//!   inserts an outbox row of the same shape for each electronic order, which is the work the
//!   engine must do at the least.
//! - **listing** (`listing/engine`): [`Portal::unviewed_award_orders`] for one logged-in employee
//!   who has 10 unviewed orders in a database of 1,000,000 orders. Baseline (`listing/raw_select`):
//!   the same `SELECT` (same columns, join and `WHERE` as the engine's query) prepared once and
//!   run with rusqlite on the same file.
//!
//! Goals (from the issue): bulk issuance within 3x of the raw insert loop; a listing under 1 ms.
//! After criterion's own report, a summary table of medians, ratios and goals is printed.
//!
//! Setup is never timed. The prepared portal (directory, registrations, consents) and the
//! million-order database are built once through the public API and cached under
//! `target/ecpa-bench/`, keyed by [`CACHE_VERSION`] and the schema version; delete that folder
//! (or bump the version) to rebuild them. The first run builds them (about a minute or two).
//! Run with `cargo bench --bench awards`; `cargo bench --bench awards -- --test` runs a small
//! smoke version of everything once.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode};
use ecpa::card::SoftNhiCard;
use ecpa::portal::awards::notification_subject;
use ecpa::portal::{
    AwardKind, Delivery, FileMailer, LocalPortal, NewAwardOrder, Portal, PortalConfig, RegistrationForm, SessionToken,
};
use ecpa::store::{SqliteStore, schema};
use ecpa::types::{
    CardNumber, DocumentNumber, Email, HouseholdAddress, HouseholdNumber, NationalId, NhiCardData, Password,
    PersonName, RocDate, Sex,
};
use rusqlite::config::DbConfig;
use rusqlite::{Connection, TransactionBehavior, params};

/// Bump when the cached databases' content changes shape (sizes are part of the key already).
const CACHE_VERSION: &str = "awards-v1";

/// The one agency of the directory.
const AGENCY_CODE: &str = "379130000C";
/// Its name, also the approving agency of every order.
const AGENCY_NAME: &str = "臺北市政府勞動局";
/// Everyone's registration password (the hash cost is lowered, see [`config`]).
const PASSWORD: &str = "Bench#2026ok";
/// Unit and title of every employee.
const UNIT: &str = "勞動檢查處";
/// Title of every employee.
const TITLE: &str = "科員";
/// Reason of every order.
const REASON: &str = "辦理業務認真負責，績效良好";
/// Legal basis of every order.
const LEGAL_BASIS: &str = "公務人員考績法第12條、同法施行細則第13條";

/// How big everything is.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    /// Consenting employees the orders are spread over (plus one personnel officer).
    employees: usize,
    /// Orders per bulk call.
    bulk: usize,
    /// Bulk calls that fill the listing database (`bulk * batches` orders in all).
    batches: usize,
    /// Unviewed orders the listed person keeps.
    unviewed: usize,
}

/// The figures of the issue.
const FULL: Sizes = Sizes {
    employees: 1_000,
    bulk: 100_000,
    batches: 10,
    unviewed: 10,
};

/// `--test` (criterion's smoke mode): everything once, small.
const SMOKE: Sizes = Sizes {
    employees: 20,
    bulk: 1_000,
    batches: 2,
    unviewed: 5,
};

// ---------------------------------------------------------------------------------------------
// People, orders and the prepared portal
// ---------------------------------------------------------------------------------------------

/// The engine's settings for the benchmark. Password hashing is not what is measured, and
/// registering a thousand people at the production argon2id cost (19 MiB, 2 passes) would take
/// minutes, so the cost is lowered to argon2's minimum-ish; nothing else differs from the defaults.
fn config() -> PortalConfig {
    PortalConfig {
        argon2_memory_kib: 64,
        argon2_iterations: 1,
        ..PortalConfig::default()
    }
}

/// Opens the portal on a database file, as [`LocalPortal::open`] does but with [`config`].
fn open_portal(path: &Path) -> LocalPortal {
    let store = SqliteStore::open(path).expect("the benchmark database opens");
    LocalPortal::with_store(Box::new(store), config()).expect("the portal opens on its database")
}

/// A valid national ID for person `n`: `A`, then 1 or 2, seven digits of `n`, and the check
/// digit that makes the weighted sum a multiple of ten (A = 10, weighted 1 and 9).
fn national_id(n: usize) -> NationalId {
    let second = 1 + (n % 2) as u32;
    let serial = format!("{n:07}");
    let mut sum = 1 + 8 * second;
    for (weight, digit) in (1..=7u32).rev().zip(serial.bytes()) {
        sum += weight * u32::from(digit - b'0');
    }
    let check = (10 - sum % 10) % 10;
    NationalId::parse(&format!("A{second}{serial}{check}")).expect("the generated ID has a valid check digit")
}

/// Person `n`'s name.
fn name(n: usize) -> String {
    format!("員工{n:05}")
}

/// Person `n`'s e-mail address.
fn email(n: usize) -> Email {
    Email::parse(&format!("emp{n:05}@mail.taipei.gov.tw")).expect("a valid address")
}

/// Person `n`'s NHI card, read through a software card as a reader would.
fn card(n: usize) -> NhiCardData {
    let id = national_id(n);
    let data = NhiCardData {
        card_number: CardNumber::parse(&format!("{:012}", 500_000_000 + n)).expect("twelve digits"),
        name: PersonName::new(&name(n)).expect("a valid name"),
        national_id: id,
        birth_date: RocDate::new(75, 3, 15).expect("a date"),
        sex: if n.is_multiple_of(2) { Sex::Male } else { Sex::Female },
        issue_date: RocDate::new(110, 6, 1).expect("a date"),
    };
    SoftNhiCard::new(&data).read().expect("the software card reads back")
}

/// The person who issues orders: person 0, the agency's personnel officer.
const OFFICER: usize = 0;
/// The person whose unviewed orders are listed: the first employee.
const LISTED: usize = 1;

/// The directory: the officer, then `employees` employees, all of one agency, all with e-mail.
fn directory_csv(sizes: Sizes) -> String {
    let mut csv = String::from("agency_code,agency_name,unit,national_id,name,title,email,status,officer\n");
    for n in 0..=sizes.employees {
        let (unit, title, officer) = if n == OFFICER {
            ("人事室", "人事管理員", "Y")
        } else {
            (UNIT, TITLE, "")
        };
        csv.push_str(&format!(
            "{AGENCY_CODE},{AGENCY_NAME},{unit},{},{},{title},{},在職,{officer}\n",
            national_id(n).reveal(),
            name(n),
            email(n).as_str(),
        ));
    }
    csv
}

/// The employee (1..=employees) who receives order number `g`.
fn recipient(g: usize, sizes: Sizes) -> usize {
    1 + g % sizes.employees
}

/// Order number `g`: nine in ten are rewards (electronic, with a mail), one in ten a reprimand
/// (paper). Document numbers are unique across all orders.
fn order(g: usize, sizes: Sizes) -> NewAwardOrder {
    let kind = match g % 10 {
        0..=5 => AwardKind::Commendation,
        6 | 7 => AwardKind::Merit,
        8 => AwardKind::MajorMerit,
        _ => AwardKind::Reprimand,
    };
    let approved_on = RocDate::new(113 + (g % 2) as i32, 1 + (g % 12) as u8, 1 + (g % 28) as u8).expect("a date");
    NewAwardOrder {
        national_id: national_id(recipient(g, sizes)),
        approving_agency: AGENCY_NAME.into(),
        approved_on,
        document_number: DocumentNumber::parse(&format!("北市勞人字第{:011}號", 11_300_000_000u64 + g as u64))
            .expect("a valid document number"),
        reason: REASON.into(),
        legal_basis: LEGAL_BASIS.into(),
        kind,
        count: 1 + (g % 2) as u8,
        special: false,
        rating_year: approved_on.roc_year(),
    }
}

/// Orders `from..to`.
fn orders(from: usize, to: usize, sizes: Sizes) -> Vec<NewAwardOrder> {
    (from..to).map(|g| order(g, sizes)).collect()
}

/// The registration form of person `n`.
fn registration(n: usize) -> RegistrationForm {
    let password = Password::new(PASSWORD).expect("the password meets the policy");
    RegistrationForm {
        card: card(n),
        household_number: HouseholdNumber::parse("F1234567").expect("a household number"),
        address: HouseholdAddress::new("63000", "63000010", "63000010001", 12).expect("an address"),
        password: password.clone(),
        confirmation: password,
        phone: Some("02-2720-8889".into()),
        mobile: Some("0912-345-678".into()),
        email: email(n),
        spare_email: None,
        terms_version: ecpa::portal::registration_terms().version,
    }
}

/// Logs person `n` in with their NHI card.
fn login(portal: &LocalPortal, n: usize) -> SessionToken {
    let password = Password::new(PASSWORD).expect("the password meets the policy");
    portal
        .login_nhi_card(&card(n), &password)
        .expect("a registered employee logs in")
        .token
}

/// Builds the prepared portal at `path`: the directory imported from CSV, every person's NHI
/// card registered (confirmation link read back from the maildir), every employee logged in
/// once and consenting to electronic orders. Only the public API is used.
fn build_template(path: &Path, sizes: Sizes) {
    let scratch = tempfile::tempdir_in(path.parent().expect("a folder")).expect("a scratch folder");
    let portal = open_portal(path);
    let import = portal
        .import_directory_csv(directory_csv(sizes).as_bytes())
        .expect("the directory imports");
    assert_eq!(import.created, sizes.employees + 1);
    for n in 0..=sizes.employees {
        portal
            .start_nhi_registration(&registration(n))
            .expect("the registration starts");
    }
    let mailer = FileMailer::new(scratch.path().join("mail")).expect("a maildir");
    let sent = portal
        .deliver_outbox(&mailer, sizes.employees + 1)
        .expect("the confirmation mails go out");
    assert_eq!(sent.sent, sizes.employees + 1, "one confirmation mail per person");
    let tokens: HashMap<String, String> = mailer
        .messages()
        .expect("the maildir reads")
        .into_iter()
        .map(|m| {
            let token = m.link_token().expect("a confirmation link").to_owned();
            (m.to, token)
        })
        .collect();
    let version = portal.consent_text().expect("the consent text").version;
    for n in 0..=sizes.employees {
        let token = &tokens[email(n).as_str()];
        portal
            .confirm_nhi_registration(&card(n), token)
            .expect("the registration confirms");
        if n != OFFICER {
            let session = login(&portal, n);
            portal.give_consent(&session, &version).expect("the employee consents");
            portal.logout(&session).expect("logout");
        }
    }
    drop(portal);
    seal(path);
}

/// Fills a copy of the prepared portal with `bulk * batches` orders issued in bulk, then has
/// the listed person sign for (view) all but `unviewed` of their electronic orders.
fn build_listing(path: &Path, template: &Path, sizes: Sizes) {
    fs::copy(template, path).expect("the template copies");
    let portal = open_portal(path);
    let officer = login(&portal, OFFICER);
    for b in 0..sizes.batches {
        let start = Instant::now();
        let batch = orders(b * sizes.bulk, (b + 1) * sizes.bulk, sizes);
        let report = portal.issue_award_orders(&officer, &batch).expect("the batch issues");
        assert_eq!(report.issued, sizes.bulk);
        eprintln!(
            "  listing database: batch {}/{} issued in {:.1?}",
            b + 1,
            sizes.batches,
            start.elapsed()
        );
    }
    let me = login(&portal, LISTED);
    let mine = portal.unviewed_award_orders(&me).expect("the list");
    assert!(mine.len() > sizes.unviewed, "the listed person has enough orders");
    for o in &mine[..mine.len() - sizes.unviewed] {
        portal.view_award_order(&me, o.id).expect("the order is viewed");
    }
    portal.logout(&me).expect("logout");
    drop(portal);
    seal(path);
}

/// Folds the WAL into the main file and leaves it a single self-contained file (the engine
/// switches it back to WAL when it opens it).
fn seal(path: &Path) {
    let conn = Connection::open(path).expect("the database opens");
    conn.pragma_update(None, "journal_mode", "DELETE")
        .expect("the WAL folds into the file");
}

/// The folder holding the cached databases and the scratch copies.
fn bench_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("ecpa-bench");
    fs::create_dir_all(&dir).expect("the benchmark folder is writable");
    dir
}

/// The cached database `what`, built by `build` into a temporary name and renamed when done,
/// so an interrupted build is never taken for a finished one.
fn cached(dir: &Path, what: &str, sizes: Sizes, build: impl FnOnce(&Path)) -> PathBuf {
    let key = format!(
        "{CACHE_VERSION}-schema{}-{}e-{}x{}-{}u",
        schema::latest_version(),
        sizes.employees,
        sizes.bulk,
        sizes.batches,
        sizes.unviewed
    );
    let done = dir.join(format!("{what}-{key}.sqlite"));
    if done.exists() {
        eprintln!("using cached {}", done.display());
        return done;
    }
    let building = dir.join(format!("{what}-{key}.building"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = fs::remove_file(format!("{}{suffix}", building.display()));
    }
    eprintln!("building {} (once; cached for later runs)", done.display());
    let start = Instant::now();
    build(&building);
    fs::rename(&building, &done).expect("the finished database is renamed into place");
    eprintln!("built {} in {:.1?}", done.display(), start.elapsed());
    done
}

// ---------------------------------------------------------------------------------------------
// The raw baselines
// ---------------------------------------------------------------------------------------------

/// `award_orders` and its indexes exactly as `src/store/schema.rs` defines them for SQLite
/// (checked against the engine's own database at start-up, see [`check_baseline_schema`]),
/// with a stand-in `employees` table so the foreign key is enforced as in the engine.
const RAW_SCHEMA: &str = "
CREATE TABLE employees (id INTEGER PRIMARY KEY);
CREATE TABLE award_orders (
    id INTEGER PRIMARY KEY,
    employee_id INTEGER NOT NULL REFERENCES employees(id),
    agency_code TEXT NOT NULL,
    approving_agency TEXT NOT NULL,
    approved_on TEXT NOT NULL,
    document_number TEXT NOT NULL,
    person_name TEXT NOT NULL,
    unit_name TEXT NOT NULL,
    title TEXT NOT NULL,
    reason TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    kind TEXT NOT NULL,
    count INTEGER NOT NULL,
    special INTEGER NOT NULL,
    rating_year INTEGER NOT NULL,
    delivery TEXT NOT NULL,
    paper_reason TEXT,
    issued_by INTEGER NOT NULL,
    issued_at INTEGER NOT NULL,
    viewed_at INTEGER,
    UNIQUE (document_number, employee_id)
);
CREATE INDEX award_orders_unviewed ON award_orders (employee_id) WHERE viewed_at IS NULL AND delivery = 'electronic';
CREATE INDEX award_orders_person_year ON award_orders (employee_id, rating_year);
CREATE INDEX award_orders_agency_unsigned ON award_orders (agency_code) WHERE viewed_at IS NULL AND delivery = 'electronic';
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    kind TEXT NOT NULL,
    ref_id INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    sent_at INTEGER,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;
";

/// Whitespace-insensitive form of a statement, to compare definitions.
fn normalise(sql: &str) -> String {
    sql.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("( ", "(")
        .replace(" )", ")")
}

/// Fails loudly if the baseline's copy of `award_orders` and `outbox` (and their indexes) no
/// longer matches what the engine created in `engine_db`: a stale baseline would make the
/// ratio meaningless.
fn check_baseline_schema(engine_db: &Path) {
    let engine = Connection::open(engine_db).expect("the engine database opens");
    let raw = Connection::open_in_memory().expect("memory database");
    raw.execute_batch(RAW_SCHEMA).expect("the baseline schema is valid");
    let definitions = |conn: &Connection| -> Vec<(String, String)> {
        let mut stmt = conn
            .prepare(
                "SELECT name, sql FROM sqlite_master WHERE tbl_name IN ('award_orders', 'outbox') AND sql IS NOT NULL
                 ORDER BY name",
            )
            .expect("sqlite_master");
        stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, normalise(&r.get::<_, String>(1)?))))
            .expect("the definitions")
            .collect::<rusqlite::Result<_>>()
            .expect("the definitions read")
    };
    assert_eq!(
        definitions(&raw),
        definitions(&engine),
        "RAW_SCHEMA in benches/awards.rs must mirror award_orders and outbox in src/store/schema.rs"
    );
}

/// A baseline connection with the engine's settings (see `connect` in `src/store/sqlite.rs`):
/// WAL, `synchronous = NORMAL`, foreign keys enforced, stable query plans.
fn raw_connection(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("the baseline database opens");
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
        .expect("the pragmas apply");
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
        .expect("the planner setting applies");
    conn
}

/// A fresh baseline database with the engine's connection settings.
fn raw_database(path: &Path, sizes: Sizes) -> Connection {
    let conn = raw_connection(path);
    conn.execute_batch(RAW_SCHEMA).expect("the baseline schema");
    let tx = conn.unchecked_transaction().expect("a transaction");
    for id in 1..=sizes.employees as i64 + 1 {
        tx.execute("INSERT INTO employees (id) VALUES (?)", [id])
            .expect("an employee");
    }
    tx.commit().expect("commit");
    conn
}

/// The notice's body, built the way the engine builds one (same size, same formatting work).
fn raw_notice_body(approving_agency: &str, approved_on: RocDate) -> String {
    let url = "http://127.0.0.1:8080";
    format!(
        "您好：\n\n{approving_agency}已於{date_zh}核定您的獎勵令。請登入 eCPA 人事服務網（{url}），\
         進入「B5 公務人員個人資料校對網站」的「未檢視獎令」檢視並簽收。\n\n\
         本信由系統自動寄送，非社交工程演練；信中不含獎勵令內容，請勿直接回覆。\n\n\
         ----\n\
         Hello,\n\n{approving_agency} approved an award order for you on {date_iso}. Log in to the eCPA \
         portal ({url}) and open \"B5 personal data proofing site\" > \"unviewed award orders\" to read and \
         sign for it.\n\nThis mail was sent automatically and is not a phishing drill. It does not contain \
         the order; please do not reply.\n",
        date_zh = approved_on.to_zh(),
        date_iso = approved_on.to_iso(),
    )
}

/// The raw insert loop: the same rows as the engine writes, one prepared statement, one
/// transaction; with `mail`, an outbox row per electronic order as well. Returns the time of
/// the transaction (begin to commit).
fn raw_bulk_once(dir: &Path, orders: &[NewAwardOrder], sizes: Sizes, mail: bool) -> Duration {
    let scratch = tempfile::tempdir_in(dir).expect("a scratch folder");
    let mut conn = raw_database(&scratch.path().join("raw.sqlite"), sizes);
    let names: Vec<String> = (0..=sizes.employees).map(name).collect();
    let emails: Vec<Email> = (0..=sizes.employees).map(email).collect();
    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let officer_id = OFFICER as i64 + 1;
    let start = Instant::now();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .expect("a write transaction");
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO award_orders (employee_id, agency_code, approving_agency, approved_on, document_number,
                     person_name, unit_name, title, reason, legal_basis, kind, count, special, rating_year, delivery,
                     paper_reason, issued_by, issued_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .expect("the insert prepares");
        let mut outbox = tx
            .prepare(
                "INSERT INTO outbox (created_at, to_addr, subject, body, kind, ref_id, next_attempt_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .expect("the outbox insert prepares");
        for (g, o) in orders.iter().enumerate() {
            let person = recipient(g, sizes);
            let electronic = o.kind.is_reward();
            let (delivery, paper_reason) = if electronic {
                ("electronic", None)
            } else {
                ("paper", Some("punishment"))
            };
            insert
                .execute(params![
                    person as i64 + 1,
                    AGENCY_CODE,
                    o.approving_agency,
                    o.approved_on.to_iso(),
                    o.document_number.as_str(),
                    names[person],
                    UNIT,
                    TITLE,
                    o.reason,
                    o.legal_basis,
                    o.kind.as_str(),
                    i64::from(o.count),
                    o.special,
                    i64::from(o.rating_year),
                    delivery,
                    paper_reason,
                    officer_id,
                    now,
                ])
                .expect("a row inserts");
            if mail && electronic {
                let id = tx.last_insert_rowid();
                outbox
                    .execute(params![
                        now,
                        emails[person].as_str(),
                        notification_subject(&o.approving_agency, o.approved_on),
                        raw_notice_body(&o.approving_agency, o.approved_on),
                        "award_notice",
                        id,
                        now,
                    ])
                    .expect("a mail inserts");
            }
        }
    }
    tx.commit().expect("commit");
    let elapsed = start.elapsed();
    drop(conn);
    elapsed
}

/// The engine's listing query (`unviewed` in `src/portal/awards.rs`), columns, join and all.
const LISTING_SQL: &str =
    "SELECT o.id, o.document_number, o.approving_agency, o.approved_on, o.kind, o.count, o.special,
     o.rating_year, o.delivery, o.paper_reason, o.viewed_at, o.person_name, e.national_id, o.unit_name, o.title,
     o.reason, o.legal_basis, o.issued_at
     FROM award_orders o JOIN employees e ON e.id = o.employee_id
     WHERE o.employee_id = ? AND o.viewed_at IS NULL AND o.delivery = 'electronic' ORDER BY o.id";

/// What the raw listing decodes per row: the fields of an `AwardOrderSummary`.
type RawSummary = (
    i64,
    String,
    String,
    String,
    String,
    i64,
    bool,
    i64,
    String,
    Option<String>,
    Option<i64>,
);

/// Runs the prepared listing query once and decodes the summary fields of each row.
fn raw_list(stmt: &mut rusqlite::CachedStatement<'_>, employee_id: i64) -> Vec<RawSummary> {
    stmt.query_map([employee_id], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
            r.get(8)?,
            r.get(9)?,
            r.get(10)?,
        ))
    })
    .expect("the query runs")
    .collect::<rusqlite::Result<_>>()
    .expect("the rows decode")
}

// ---------------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------------

/// Every call criterion made of one benchmark's routine: (iterations, time).
type Calls = RefCell<Vec<(u64, Duration)>>;

/// The median time per iteration over the last `samples` calls (criterion's samples; the calls
/// before them are its warm-up).
fn median(calls: &Calls, samples: usize) -> Option<Duration> {
    let calls = calls.borrow();
    let from = calls.len().saturating_sub(samples);
    let mut per_iter: Vec<f64> = calls[from..]
        .iter()
        .map(|(iters, t)| t.as_secs_f64() / *iters as f64)
        .collect();
    if per_iter.is_empty() {
        return None;
    }
    per_iter.sort_by(f64::total_cmp);
    let mid = per_iter.len() / 2;
    let m = if per_iter.len().is_multiple_of(2) {
        (per_iter[mid - 1] + per_iter[mid]) / 2.0
    } else {
        per_iter[mid]
    };
    Some(Duration::from_secs_f64(m))
}

/// The medians the summary reports.
#[derive(Debug, Default)]
struct Figures {
    bulk_engine: Option<Duration>,
    bulk_raw: Option<Duration>,
    bulk_raw_mail: Option<Duration>,
    electronic_share: f64,
    list_engine: Option<Duration>,
    list_raw: Option<Duration>,
    list_rows: usize,
    list_plan: Vec<String>,
}

/// Samples per bulk benchmark: each is one 100,000-order transaction on a fresh file.
const BULK_SAMPLES: usize = 10;
/// Samples per listing benchmark.
const LIST_SAMPLES: usize = 50;

fn bench_bulk(c: &mut Criterion, dir: &Path, template: &Path, sizes: Sizes, figures: &mut Figures) {
    let batch = orders(0, sizes.bulk, sizes);
    let engine_calls = Calls::default();
    let raw_calls = Calls::default();
    let raw_mail_calls = Calls::default();
    let mut electronic = 0;
    let mut group = c.benchmark_group("bulk_issuance");
    group
        .sample_size(BULK_SAMPLES)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(20));
    group.bench_function("engine", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                // Untimed: a fresh copy of the prepared portal, and the officer's login.
                let scratch = tempfile::tempdir_in(dir).expect("a scratch folder");
                let db = scratch.path().join("engine.sqlite");
                fs::copy(template, &db).expect("the template copies");
                let portal = open_portal(&db);
                let officer = login(&portal, OFFICER);
                let start = Instant::now();
                let report = portal.issue_award_orders(&officer, &batch).expect("the orders issue");
                total += start.elapsed();
                assert_eq!(report.issued, sizes.bulk);
                electronic = report.orders.iter().filter(|(_, d)| *d == Delivery::Electronic).count();
                black_box(report);
            }
            engine_calls.borrow_mut().push((iters, total));
            total
        });
    });
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("raw_insert", |b| {
        b.iter_custom(|iters| {
            let total = (0..iters).map(|_| raw_bulk_once(dir, &batch, sizes, false)).sum();
            raw_calls.borrow_mut().push((iters, total));
            total
        });
    });
    group.bench_function("raw_insert_with_mail", |b| {
        b.iter_custom(|iters| {
            let total = (0..iters).map(|_| raw_bulk_once(dir, &batch, sizes, true)).sum();
            raw_mail_calls.borrow_mut().push((iters, total));
            total
        });
    });
    group.finish();
    figures.bulk_engine = median(&engine_calls, BULK_SAMPLES);
    figures.bulk_raw = median(&raw_calls, BULK_SAMPLES);
    figures.bulk_raw_mail = median(&raw_mail_calls, BULK_SAMPLES);
    figures.electronic_share = electronic as f64 / sizes.bulk as f64;
}

fn bench_listing(c: &mut Criterion, listing: &Path, sizes: Sizes, figures: &mut Figures) {
    let portal = open_portal(listing);
    let me = login(&portal, LISTED);
    let expected = portal.unviewed_award_orders(&me).expect("the list");
    assert_eq!(expected.len(), sizes.unviewed, "the listed person's unviewed orders");
    figures.list_rows = expected.len();

    let conn = raw_connection(listing);
    let my_id: i64 = conn
        .query_row(
            "SELECT id FROM employees WHERE national_id = ?",
            [national_id(LISTED).reveal()],
            |r| r.get(0),
        )
        .expect("the listed person's row");
    let mut stmt = conn.prepare_cached(LISTING_SQL).expect("the listing query prepares");
    let raw = raw_list(&mut stmt, my_id);
    assert_eq!(
        raw.iter().map(|r| r.0).collect::<Vec<_>>(),
        expected.iter().map(|o| o.id).collect::<Vec<_>>(),
        "the raw query returns the engine's rows"
    );
    let mut plan = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {LISTING_SQL}"))
        .expect("the plan prepares");
    figures.list_plan = plan
        .query_map([my_id], |r| r.get::<_, String>(3))
        .expect("the plan")
        .collect::<rusqlite::Result<_>>()
        .expect("the plan reads");

    let engine_calls = Calls::default();
    let raw_calls = Calls::default();
    let mut group = c.benchmark_group("listing");
    group
        .sample_size(LIST_SAMPLES)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("engine", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(portal.unviewed_award_orders(&me).expect("the list"));
            }
            let t = start.elapsed();
            engine_calls.borrow_mut().push((iters, t));
            t
        });
    });
    group.bench_function("raw_select", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(raw_list(&mut stmt, my_id));
            }
            let t = start.elapsed();
            raw_calls.borrow_mut().push((iters, t));
            t
        });
    });
    group.finish();
    portal.logout(&me).expect("logout");
    figures.list_engine = median(&engine_calls, LIST_SAMPLES);
    figures.list_raw = median(&raw_calls, LIST_SAMPLES);
}

// ---------------------------------------------------------------------------------------------
// The summary
// ---------------------------------------------------------------------------------------------

/// A duration in the unit that reads best.
fn show(d: Option<Duration>) -> String {
    match d {
        None => "not run".into(),
        Some(d) if d >= Duration::from_secs(1) => format!("{:.3} s", d.as_secs_f64()),
        Some(d) if d >= Duration::from_millis(1) => format!("{:.2} ms", d.as_secs_f64() * 1e3),
        Some(d) => format!("{:.1} µs", d.as_secs_f64() * 1e6),
    }
}

/// `a / b`, if both were measured.
fn ratio(a: Option<Duration>, b: Option<Duration>) -> Option<f64> {
    Some(a?.as_secs_f64() / b?.as_secs_f64())
}

fn show_ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "-".into(), |r| format!("{r:.2}x"))
}

fn met(ok: Option<bool>) -> &'static str {
    match ok {
        Some(true) => "yes",
        Some(false) => "NO",
        None => "-",
    }
}

/// A count with thousands separators.
fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn print_summary(f: &Figures, sizes: Sizes) {
    let bulk_ratio = ratio(f.bulk_engine, f.bulk_raw);
    let bulk_mail_ratio = ratio(f.bulk_engine, f.bulk_raw_mail);
    let list_ratio = ratio(f.list_engine, f.list_raw);
    let per_order = |d: Option<Duration>| d.map(|d| d / sizes.bulk as u32);
    let total = sizes.bulk * sizes.batches;
    println!();
    println!("ecpa award-order benchmarks: medians (criterion samples), engine against raw SQLite in the same run");
    println!(
        "{:<52} {:>11} {:>13} {:>8} {:>9} {:>4}",
        "what", "engine", "raw baseline", "ratio", "goal", "met"
    );
    println!(
        "{:<52} {:>11} {:>13} {:>8} {:>9} {:>4}",
        format!("bulk issuance, {} orders, one transaction", thousands(sizes.bulk)),
        show(f.bulk_engine),
        show(f.bulk_raw),
        show_ratio(bulk_ratio),
        "<= 3x",
        met(bulk_ratio.map(|r| r <= 3.0)),
    );
    println!(
        "{:<52} {:>11} {:>13} {:>8} {:>9} {:>4}",
        "  per order",
        show(per_order(f.bulk_engine)),
        show(per_order(f.bulk_raw)),
        "",
        "",
        ""
    );
    println!(
        "{:<52} {:>11} {:>13} {:>8} {:>9} {:>4}",
        "  raw baseline incl. an outbox row per e-order",
        "",
        show(f.bulk_raw_mail),
        show_ratio(bulk_mail_ratio),
        "(info)",
        ""
    );
    println!(
        "{:<52} {:>11} {:>13} {:>8} {:>9} {:>4}",
        format!("listing {} unviewed among {} orders", f.list_rows, thousands(total)),
        show(f.list_engine),
        show(f.list_raw),
        show_ratio(list_ratio),
        "< 1 ms",
        met(f.list_engine.map(|d| d < Duration::from_millis(1))),
    );
    println!(
        "electronic share of the bulk orders: {:.0}% (each with its outbox mail in the same transaction)",
        f.electronic_share * 100.0
    );
    if !f.list_plan.is_empty() {
        println!("listing query plan: {}", f.list_plan.join("; "));
    }
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--test" || a == "--list");
    let sizes = if smoke { SMOKE } else { FULL };
    let dir = bench_dir();
    let template = cached(&dir, "template", sizes, |p| build_template(p, sizes));
    check_baseline_schema(&template);
    let listing = cached(&dir, "listing", sizes, |p| build_listing(p, &template, sizes));

    let mut c = Criterion::default().configure_from_args();
    let mut figures = Figures::default();
    bench_bulk(&mut c, &dir, &template, sizes, &mut figures);
    bench_listing(&mut c, &listing, sizes, &mut figures);
    c.final_summary();
    print_summary(&figures, sizes);
}
