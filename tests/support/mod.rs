//! Shared fixture of the integration tests: a portal on a temporary database with a
//! [`ManualClock`], two agencies with their officers and employees, software NHI cards, and
//! helpers that register, confirm and log people in by reading the mail the portal sends.
//!
//! The database is a temporary SQLite file, or, when `ECPA_TEST_PG` holds a PostgreSQL URL
//! (`scripts/test` starts a server and sets it), a fresh PostgreSQL database per fixture,
//! dropped at the end. So the same tests run against both backends.
#![allow(dead_code)]

// Its fixture signs certificate logins with a `TestPki` (feature `testing`).
#[cfg(all(feature = "http", feature = "testing"))]
pub mod http;
pub mod pg;
#[cfg(feature = "http")]
pub mod serve;
pub mod smtp;
pub mod tls;

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt::Debug;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ecpa::card::SoftNhiCard;
use ecpa::portal::{
    AwardKind, FileMailer, LocalPortal, ManualClock, NewAwardOrder, OsRandomness, Portal, PortalConfig, ReceivedMail,
    RegistrationForm, SessionToken,
};
use ecpa::store::{Row, SqliteStore, Store, StoreExt, Value, open_url};
use ecpa::types::{
    CardNumber, DocumentNumber, Email, HouseholdAddress, HouseholdNumber, NationalId, NhiCardData, Password,
    PersonName, RocDate, Sex,
};
use ecpa::{Error, ErrorCode, Result};
use time::OffsetDateTime;
use time::macros::datetime;

/// Where every test's clock starts: a Monday morning in Taipei (民國114年6月2日 10:00).
pub const START: OffsetDateTime = datetime!(2025-06-02 10:00 +8);

/// 臺北市政府勞動局.
pub const AGENCY_A: &str = "379130000C";
/// Its name.
pub const AGENCY_A_NAME: &str = "臺北市政府勞動局";
/// 臺北市政府.
pub const AGENCY_B: &str = "379000000A";
/// Its name.
pub const AGENCY_B_NAME: &str = "臺北市政府";

/// The letter codes of the national ID checksum, written out from DOMAIN.md.
fn letter_code(letter: u8) -> u32 {
    const TABLE: [u32; 26] = [
        10, 11, 12, 13, 14, 15, 16, 17, 34, 18, 19, 20, 21, 22, 35, 23, 24, 25, 26, 27, 28, 29, 32, 30, 31, 33,
    ];
    TABLE[usize::from(letter - b'A')]
}

/// A valid national ID from a letter and eight digits (sex digit and seven more): the check
/// digit is computed here, independently of the crate.
pub fn make_id(letter: char, digits: &str) -> String {
    assert!(letter.is_ascii_uppercase() && digits.len() == 8 && digits.bytes().all(|b| b.is_ascii_digit()));
    let code = letter_code(letter as u8);
    let mut sum = code / 10 + 9 * (code % 10);
    for (i, d) in digits.bytes().enumerate() {
        sum += (8 - i as u32) * u32::from(d - b'0');
    }
    let check = (10 - sum % 10) % 10;
    format!("{letter}{digits}{check}")
}

/// The people of the fixture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Who {
    /// 陳美玲, personnel officer of agency A (人事室).
    OfficerA,
    /// 王小明, employee of agency A (勞動檢查處).
    Wang,
    /// 林怡君, employee of agency A (勞動條件科).
    Lin,
    /// 黃建國, employee of agency A without an e-mail address.
    NoMail,
    /// 吳志豪, left agency A (卸職, retired).
    Retired,
    /// 張志明, personnel officer of agency B (人事處).
    OfficerB,
    /// 李淑芬, employee of agency B (秘書處).
    Li,
    /// 趙大同: holds an NHI card, serves in no agency.
    Outsider,
}

impl Who {
    /// Everyone in the directory.
    pub const DIRECTORY: [Who; 7] = [
        Who::OfficerA,
        Who::Wang,
        Who::Lin,
        Who::NoMail,
        Who::Retired,
        Who::OfficerB,
        Who::Li,
    ];
}

/// One person of the fixture.
#[derive(Debug, Clone)]
pub struct Person {
    /// Who.
    pub who: Who,
    /// The full national ID.
    pub id: NationalId,
    /// Name.
    pub name: &'static str,
    /// Agency code, if in the directory.
    pub agency: Option<&'static str>,
    /// Unit.
    pub unit: &'static str,
    /// Title.
    pub title: &'static str,
    /// The directory's e-mail address (where award notices go).
    pub email: Option<&'static str>,
    /// Serving (`在職`) or not.
    pub current: bool,
    /// Personnel officer.
    pub officer: bool,
    /// The NHI card.
    pub card: SoftNhiCard,
    /// The NHI registration password.
    pub password: &'static str,
    /// The e-mail address given at NHI registration.
    pub reg_email: String,
}

impl Person {
    /// The card as a reader would return it.
    pub fn card_data(&self) -> NhiCardData {
        self.card.read().expect("the software card reads")
    }

    /// The registration password.
    pub fn pw(&self) -> Password {
        Password::new(self.password).expect("password policy")
    }

    /// The masked national ID, as the portal shows it.
    pub fn masked(&self) -> String {
        self.id.masked()
    }
}

#[allow(clippy::too_many_arguments)]
fn build(
    who: Who,
    id: String,
    name: &'static str,
    card_number: &str,
    agency: Option<&'static str>,
    unit: &'static str,
    title: &'static str,
    email: Option<&'static str>,
) -> Person {
    let id = NationalId::parse(&id).expect("computed ID is valid");
    let sex = if id.reveal().as_bytes()[1] == b'1' {
        Sex::Male
    } else {
        Sex::Female
    };
    let data = NhiCardData {
        card_number: CardNumber::parse(card_number).expect("card number"),
        name: PersonName::new(name).expect("name"),
        national_id: id,
        birth_date: RocDate::parse("075/03/15").expect("date"),
        sex,
        issue_date: RocDate::parse("110/06/01").expect("date"),
    };
    let key = format!("{who:?}").to_lowercase();
    Person {
        who,
        id,
        name,
        agency,
        unit,
        title,
        email,
        current: who != Who::Retired,
        officer: matches!(who, Who::OfficerA | Who::OfficerB),
        card: SoftNhiCard::new(&data),
        password: "Ecpa#2026ok",
        reg_email: email.map_or_else(|| format!("{key}@example.com.tw"), str::to_owned),
    }
}

/// The person `who`.
pub fn person(who: Who) -> Person {
    match who {
        Who::OfficerA => build(
            who,
            make_id('F', "22345678"),
            "陳美玲",
            "000011110001",
            Some(AGENCY_A),
            "人事室",
            "人事管理員",
            Some("chen.meiling@mail.taipei.gov.tw"),
        ),
        Who::Wang => build(
            who,
            make_id('A', "12345678"),
            "王小明",
            "000011110002",
            Some(AGENCY_A),
            "勞動檢查處",
            "科員",
            Some("wang.hsiaoming@mail.taipei.gov.tw"),
        ),
        Who::Lin => build(
            who,
            make_id('B', "22003344"),
            "林怡君",
            "000011110003",
            Some(AGENCY_A),
            "勞動條件科",
            "技士",
            Some("lin.yichun@mail.taipei.gov.tw"),
        ),
        Who::NoMail => build(
            who,
            make_id('C', "13579246"),
            "黃建國",
            "000011110004",
            Some(AGENCY_A),
            "勞動檢查處",
            "技正",
            None,
        ),
        Who::Retired => build(
            who,
            make_id('D', "11122233"),
            "吳志豪",
            "000011110005",
            Some(AGENCY_A),
            "勞動檢查處",
            "專員",
            Some("wu.chihhao@mail.taipei.gov.tw"),
        ),
        Who::OfficerB => build(
            who,
            make_id('E', "12223334"),
            "張志明",
            "000011110006",
            Some(AGENCY_B),
            "人事處",
            "專員",
            Some("chang.chiming@mail.taipei.gov.tw"),
        ),
        Who::Li => build(
            who,
            make_id('H', "24681357"),
            "李淑芬",
            "000011110007",
            Some(AGENCY_B),
            "秘書處",
            "科員",
            Some("li.shufen@mail.taipei.gov.tw"),
        ),
        Who::Outsider => build(
            who,
            make_id('K', "10203040"),
            "趙大同",
            "000011110008",
            None,
            "",
            "",
            Some("chao.tatung@example.com.tw"),
        ),
    }
}

/// The directory of the fixture as the CSV the import reads.
pub fn directory_csv() -> String {
    let mut csv =
        String::from("agency_code,agency_name,unit,national_id,name,title,email,status,left_on,left_reason,officer\n");
    for who in Who::DIRECTORY {
        let p = person(who);
        let agency = p.agency.expect("in the directory");
        let agency_name = if agency == AGENCY_A {
            AGENCY_A_NAME
        } else {
            AGENCY_B_NAME
        };
        let (status, left_on, reason) = if p.current {
            ("在職", "", "")
        } else {
            ("卸職", "113/12/31", "退休")
        };
        csv.push_str(&format!(
            "{agency},{agency_name},{},{},{},{},{},{status},{left_on},{reason},{}\n",
            p.unit,
            p.id.reveal(),
            p.name,
            p.title,
            p.email.unwrap_or(""),
            if p.officer { "Y" } else { "" }
        ));
    }
    csv
}

/// The test configuration: production values except a cheap argon2id, for speed.
pub fn fast_config() -> PortalConfig {
    PortalConfig {
        argon2_memory_kib: 1024,
        argon2_iterations: 1,
        ..PortalConfig::default()
    }
}

/// A portal on a temporary database, its clock, its maildir.
pub struct Fixture {
    /// The temporary folder (database, maildir); removed on drop.
    pub dir: tempfile::TempDir,
    /// The SQLite database file (unused when the fixture runs on PostgreSQL).
    pub db: PathBuf,
    /// The store's URL, for [`ecpa::store::open_url`]: `sqlite:…` or `postgres://…`.
    pub url: String,
    /// The clock the portal reads.
    pub clock: Arc<ManualClock>,
    /// The portal.
    pub portal: LocalPortal,
    /// The maildir the outbox is delivered to.
    pub mailer: FileMailer,
    seen: RefCell<HashSet<PathBuf>>,
    /// A second handle on the database, for checks the API does not expose.
    checks: Box<dyn Store>,
    /// The PostgreSQL database, dropped last.
    pg: Option<pg::TestDatabase>,
}

impl Fixture {
    /// A portal with the fast configuration and the fixture's directory imported.
    pub fn new() -> Fixture {
        Fixture::with_config(fast_config())
    }

    /// A portal with `config` and the fixture's directory imported.
    pub fn with_config(config: PortalConfig) -> Fixture {
        let fx = Fixture::empty(config);
        fx.portal
            .import_directory_csv(directory_csv().as_bytes())
            .expect("the fixture's directory imports");
        fx
    }

    /// A portal with `config` and an empty directory, on the backend the environment names.
    pub fn empty(config: PortalConfig) -> Fixture {
        let pg = pg::TestDatabase::from_env();
        Fixture::on(config, pg)
    }

    /// A portal on SQLite whatever the environment says (for tests of SQLite itself: files,
    /// killed processes).
    pub fn sqlite(config: PortalConfig) -> Fixture {
        fixture_on(config, None)
    }

    fn on(config: PortalConfig, pg: Option<pg::TestDatabase>) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("ecpa.db");
        let url = match &pg {
            Some(d) => d.url.clone(),
            None => format!("sqlite:{}", db.display()),
        };
        let clock = Arc::new(ManualClock::new(START));
        let portal = open_portal_url(&url, config, clock.clone()).expect("portal opens");
        let mailer = FileMailer::new(dir.path().join("mail")).expect("maildir");
        let checks = open_url(&url).expect("second handle opens");
        Fixture {
            dir,
            db,
            url,
            clock,
            portal,
            mailer,
            seen: RefCell::new(HashSet::new()),
            checks,
            pg,
        }
    }

    /// Whether the fixture runs on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    /// Another portal on the same database (as a second process would be), with `config`.
    pub fn reopen(&self, config: PortalConfig) -> LocalPortal {
        open_portal_url(&self.url, config, self.clock.clone()).expect("portal reopens")
    }

    /// The fixture's own handle on the database.
    pub fn store(&self) -> &dyn Store {
        self.checks.as_ref()
    }

    /// Moves the clock.
    pub fn advance(&self, by: time::Duration) {
        self.clock.advance(by);
    }

    /// Today in Taiwan, by the portal's clock.
    pub fn today(&self) -> RocDate {
        RocDate::today_in_taiwan(self.clock_now())
    }

    /// The portal's current time.
    pub fn clock_now(&self) -> OffsetDateTime {
        use ecpa::portal::Clock;
        self.clock.now()
    }

    /// Delivers the outbox to the maildir and returns the mails not returned before.
    pub fn deliver(&self) -> Vec<ReceivedMail> {
        self.portal
            .deliver_outbox(&self.mailer, 100_000)
            .expect("outbox delivers");
        self.new_mail()
    }

    /// Mails in the maildir not returned before, oldest first.
    pub fn new_mail(&self) -> Vec<ReceivedMail> {
        let mut names: Vec<PathBuf> = fs::read_dir(self.mailer.dir().join("new"))
            .expect("maildir")
            .map(|e| e.expect("entry").path())
            .collect();
        names.sort();
        let mut seen = self.seen.borrow_mut();
        names
            .into_iter()
            .filter(|n| seen.insert(n.clone()))
            .map(|n| ReceivedMail::parse(&fs::read(&n).expect("mail file")).expect("mail parses"))
            .collect()
    }

    /// Delivers the outbox and returns the token of the newest link mailed to `to`.
    pub fn link_to(&self, to: &str) -> String {
        let mails = self.deliver();
        let mail = mails
            .iter()
            .rev()
            .find(|m| m.to == to && m.link_token().is_some())
            .unwrap_or_else(|| panic!("no link mailed to {to}; new mail: {mails:?}"));
        mail.link_token().expect("link").to_owned()
    }

    /// The registration form of a person (registration e-mail, household data of the fixture).
    pub fn form(&self, who: Who) -> RegistrationForm {
        form(who)
    }

    /// Registers the person's NHI card and confirms it through the link mailed to their official
    /// mailbox; a person the directory has no mailbox for is registered at the counter.
    pub fn register(&self, who: Who) {
        let p = person(who);
        if p.email.is_none() {
            self.portal
                .register_nhi_card_in_person(&self.form(who), "counter")
                .expect("registered at the counter");
            return;
        }
        self.portal
            .start_nhi_registration(&self.form(who))
            .expect("registration starts");
        let token = self.link_to(&self.mailbox_of(who));
        self.portal
            .confirm_nhi_registration(&p.card_data(), &token)
            .expect("registration confirmed");
    }

    /// The person's official mailbox, as the directory holds it now: where registration links
    /// go.
    pub fn mailbox_of(&self, who: Who) -> String {
        self.sql_text(
            "SELECT email FROM employees WHERE national_id = ?",
            person(who).id.reveal(),
        )
        .unwrap_or_else(|| panic!("{who:?} has no mailbox in the directory"))
    }

    /// Logs in with the NHI card and registered password (already registered).
    pub fn login(&self, who: Who) -> SessionToken {
        let p = person(who);
        self.portal
            .login_nhi_card(&p.card_data(), &p.pw())
            .unwrap_or_else(|e| panic!("{who:?} logs in: {e}"))
            .token
    }

    /// Registers and logs in.
    pub fn enrol(&self, who: Who) -> SessionToken {
        self.register(who);
        self.login(who)
    }

    /// Registers, logs in and consents to electronic award orders.
    pub fn ready(&self, who: Who) -> SessionToken {
        let s = self.enrol(who);
        let text = self.portal.consent_text().expect("consent text");
        self.portal.give_consent(&s, &text.version).expect("consent");
        s
    }

    /// The rows of a query (portable SQL, `?` placeholders), for checks the API does not expose.
    pub fn rows(&self, sql: &str, params: &[Value<'_>]) -> Vec<Row> {
        self.checks
            .read(|tx| tx.query(sql, params))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Runs a statement behind the portal's back (to set up an unusual state).
    pub fn exec(&self, sql: &str, params: &[Value<'_>]) -> u64 {
        self.checks
            .write(|tx| tx.execute(sql, params))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// One integer from a query.
    pub fn sql_int(&self, sql: &str) -> i64 {
        let rows = self.rows(sql, &[]);
        rows.first()
            .unwrap_or_else(|| panic!("{sql}: no row"))
            .int(0)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// One optional text from a query.
    pub fn sql_text(&self, sql: &str, param: &str) -> Option<String> {
        let rows = self.rows(sql, &[Value::from(param)]);
        rows.first()
            .unwrap_or_else(|| panic!("{sql}: no row"))
            .opt_text(0)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

/// A fixture (directory imported) on PostgreSQL database `pg`, or on SQLite with `None`.
pub fn fixture_on(config: PortalConfig, pg: Option<pg::TestDatabase>) -> Fixture {
    let fx = Fixture::on(config, pg);
    fx.portal
        .import_directory_csv(directory_csv().as_bytes())
        .expect("the fixture's directory imports");
    fx
}

/// The registration form of a person (registration e-mail, household data of the fixture).
pub fn form(who: Who) -> RegistrationForm {
    let p = person(who);
    RegistrationForm {
        card: p.card_data(),
        household_number: household_number(),
        address: household_address(),
        password: p.pw(),
        confirmation: p.pw(),
        phone: Some("02-2720-8889".into()),
        mobile: Some("0912-345-678".into()),
        email: Email::parse(&p.reg_email).expect("email"),
        spare_email: None,
        terms_version: ecpa::portal::registration_terms().version,
    }
}

/// Opens the portal on an SQLite database file with the given configuration and clock.
pub fn open_portal(db: &Path, config: PortalConfig, clock: Arc<ManualClock>) -> Result<LocalPortal> {
    LocalPortal::with_parts(Box::new(SqliteStore::open(db)?), config, clock, Arc::new(OsRandomness))
}

/// Opens the portal on the database a URL names (see [`ecpa::store::open_url`]).
pub fn open_portal_url(url: &str, config: PortalConfig, clock: Arc<ManualClock>) -> Result<LocalPortal> {
    LocalPortal::with_parts(open_url(url)?, config, clock, Arc::new(OsRandomness))
}

/// A read-only connection to a database file.
pub fn open_read_only(db: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("database opens")
}

/// The household number of every fixture registration.
pub fn household_number() -> HouseholdNumber {
    HouseholdNumber::parse("F1234567").expect("household number")
}

/// The household address of every fixture registration (臺北市, a township, a village, 鄰 12).
pub fn household_address() -> HouseholdAddress {
    HouseholdAddress::new("63000", "63000010", "63000010001", 12).expect("address")
}

/// An ordinary award order of agency A for `who`.
pub fn order(who: Who, approved: &str, doc: &str, kind: AwardKind, count: u8) -> NewAwardOrder {
    let approved_on = RocDate::parse(approved).expect("date");
    NewAwardOrder {
        national_id: person(who).id,
        approving_agency: AGENCY_A_NAME.into(),
        approved_on,
        document_number: DocumentNumber::parse(doc).expect("document number"),
        reason: "辦理勞動檢查專案績效卓著".into(),
        legal_basis: "公務人員考績法第12條、同法施行細則第13條".into(),
        kind,
        count,
        special: false,
        rating_year: approved_on.roc_year(),
    }
}

/// Asserts that `r` failed with `code`, and returns the error for further checks.
#[track_caller]
pub fn expect_code<T: Debug>(r: Result<T>, code: ErrorCode) -> Error {
    match r {
        Ok(v) => panic!("expected {code}, got Ok({v:?})"),
        Err(e) => {
            assert_eq!(e.code(), code, "expected {code}, got {e}");
            e
        }
    }
}

/// A password, checked by the policy.
pub fn pw(s: &str) -> Password {
    Password::new(s).expect("password policy")
}

/// Counts rows of a table.
pub fn count(fx: &Fixture, table: &str) -> i64 {
    fx.sql_int(&format!("SELECT count(*) FROM {table}"))
}

/// Runs `f` on `n` threads released at the same moment; returns their results in thread order.
pub fn race<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let barrier = std::sync::Barrier::new(n);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (barrier, f) = (&barrier, &f);
                scope.spawn(move || {
                    barrier.wait();
                    f(i)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    })
}

/// How many results are `Ok`, and the codes of the others.
pub fn outcomes<T>(results: &[Result<T>]) -> (usize, Vec<ErrorCode>) {
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let codes = results
        .iter()
        .filter_map(|r| r.as_ref().err().map(Error::code))
        .collect();
    (ok, codes)
}
