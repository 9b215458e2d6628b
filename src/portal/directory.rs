//! The directory: agencies (機關), their units (單位), employees current or left office, and the
//! personnel officers (人事人員) of each agency.
//!
//! The directory is maintained by whoever runs the portal (inherent methods of
//! [`LocalPortal`], one at a time or in bulk from CSV); officers read their own agency's part
//! through [`Portal::agency_employees`](super::Portal::agency_employees).
//!
//! The CSV import reads a header row with these columns (any order; extra columns are
//! ignored): `agency_code, agency_name, unit, national_id, name, title, email, status, left_on,
//! left_reason, officer`. `status` is `在職`/`current` or `卸職`/`left`; `left_on` a ROC date;
//! `officer` is `Y`/`是` for a personnel officer (any other value removes the role; without the
//! column, roles are left as they are). Optional columns hold what an NHI-card registration is
//! checked against: `birth_date` (ROC date), `household_number` (戶號) and the household
//! address `county, township, village, neighbourhood` (all four or none); an empty cell leaves
//! what the directory holds. `parent_agency` is the agency's parent (上級機關, e.g. 臺北市政府
//! above its bureaus), whose personnel office then queries and processes its proofing: an
//! agency of the file or of the directory, never the agency itself or a circle. The whole
//! file is one transaction: every error is reported with its line, and nothing is written
//! unless every line is good.

// foldhash's maps: an import hashes every national ID and unit several times, and SipHash
// was a twentieth of its time. The keys come from the operator's own file.
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::io::Read;

use serde::{Deserialize, Serialize};

use super::auth::SessionToken;
use super::csvfile::{self, Record};
use super::env::millis;
use super::local::LocalPortal;
use super::paging::{Page, PageRequest};
use super::proofing::ProofingCategory;
use crate::db::audit::Touched;
use crate::db::{self, employees};
use crate::error::{Error, ErrorCode, Result};
use crate::store::{Dialect, StoreExt, Tx, Value, for_batches};
use crate::types::text::{checked_text, text_field};
use crate::types::{AgencyCode, Email, HouseholdAddress, HouseholdNumber, NationalId, RocDate};

/// Whether a person is serving or has left office; only current employees may log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmployeeStatus {
    /// 在職.
    Current,
    /// 卸職: left office on a day, for a reason.
    Left {
        /// The day they left.
        on: RocDate,
        /// Why (e.g. 退休, 辭職, 調職).
        reason: String,
    },
}

/// One employee as the directory records them.
#[derive(Debug, Clone)]
pub struct NewEmployee {
    /// National ID or resident certificate number.
    pub national_id: NationalId,
    /// Name.
    pub name: String,
    /// The agency they serve in.
    pub agency: AgencyCode,
    /// Their unit, if the agency has units.
    pub unit: Option<String>,
    /// Job title (職稱).
    pub title: String,
    /// Where award-order notifications go; without one, orders go on paper.
    pub email: Option<Email>,
    /// Serving or left office.
    pub status: EmployeeStatus,
    /// Birth date, as the household register has it: an NHI-card registration's card must
    /// agree. `None` leaves what the directory holds.
    pub birth_date: Option<RocDate>,
    /// 戶號 and the household address, which a registration's form must agree with. `None`
    /// leaves what the directory holds.
    pub household: Option<(HouseholdNumber, HouseholdAddress)>,
}

impl NewEmployee {
    /// The stored form of [`NewEmployee::birth_date`] and [`NewEmployee::household`].
    fn personal_values(&self) -> employees::Personal<'_> {
        employees::personal_values(self.birth_date, self.household.as_ref())
    }
}

/// One employee as an officer sees them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct EmployeeSummary {
    /// Masked national ID.
    pub national_id: String,
    /// Name.
    pub name: String,
    /// Unit name.
    pub unit: Option<String>,
    /// Title.
    pub title: String,
    /// `current` or `left`.
    pub status: String,
    /// Whether an e-mail address is on record.
    pub has_email: bool,
    /// Whether they consented to electronic award orders.
    pub consented: bool,
}

/// What a CSV import did.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct DirectoryImport {
    /// Data lines read.
    pub rows: usize,
    /// Agencies created or renamed.
    pub agencies: usize,
    /// Employees created.
    pub created: usize,
    /// Employees updated.
    pub updated: usize,
    /// Personnel officers set.
    pub officers: usize,
}

/// Creates an agency or renames it; `true` if either happened.
pub(crate) fn upsert_agency(tx: &mut dyn Tx, code: &AgencyCode, name: &str) -> Result<bool> {
    let name = text_field("機關名稱 agency name", name, 100)?;
    employees::upsert_agency(tx, code.as_str(), &name)
}

/// Creates or updates an employee; returns (id, created).
pub(crate) fn upsert_employee(tx: &mut dyn Tx, e: &NewEmployee, now_ms: i64) -> Result<(i64, bool)> {
    let name = text_field("姓名 name", &e.name, 40)?;
    let title = text_field("職稱 title", &e.title, 60)?;
    if !employees::agency_exists(tx, e.agency.as_str())? {
        return Err(Error::with(
            ErrorCode::AgencyNotFound,
            e.agency.as_str().to_owned(),
            e.agency.as_str().to_owned(),
        ));
    }
    let unit_id = match e.unit.as_deref() {
        Some(u) => Some(employees::unit_id(
            tx,
            e.agency.as_str(),
            &text_field("單位 unit", u, 100)?,
        )?),
        None => None,
    };
    let (status, left_on, left_reason) = match &e.status {
        EmployeeStatus::Current => ("current", None, None),
        EmployeeStatus::Left { on, reason } => (
            "left",
            Some(on.to_iso()),
            Some(text_field("卸職原因 reason", reason, 100)?),
        ),
    };
    let post = employees::Post {
        national_id: e.national_id.reveal(),
        name: &name,
        agency: e.agency.as_str(),
        unit_id,
        title: &title,
        email: e.email.as_ref().map(Email::as_str),
        status,
        left_on: left_on.as_deref(),
        left_reason: left_reason.as_deref(),
    };
    let (id, created) = match employees::by_national_id(tx, &e.national_id)? {
        Some(person) => {
            employees::update(tx, person.id, &post, e.personal_values(), now_ms)?;
            (person.id, false)
        }
        None => (employees::insert(tx, &post, e.personal_values(), now_ms)?, true),
    };
    // A person leaving office is no longer anyone's officer, and an officer's role is tied to
    // the agency they serve in.
    employees::drop_officer_unless_serving(tx, id, e.agency.as_str(), status)?;
    Ok((id, created))
}

/// The directory's number for a national ID.
fn employee_id(tx: &mut dyn Tx, national_id: &NationalId) -> Result<i64> {
    let person = employees::by_national_id(tx, national_id)?;
    Ok(person.ok_or_else(|| Error::new(ErrorCode::EmployeeNotFound))?.id)
}

/// Makes an employee a personnel officer of the agency they serve in.
pub(crate) fn set_officer(tx: &mut dyn Tx, national_id: &NationalId) -> Result<()> {
    let person = employees::by_national_id(tx, national_id)?.ok_or_else(|| Error::new(ErrorCode::EmployeeNotFound))?;
    if !person.is_current() {
        return Err(Error::new(ErrorCode::AccountDisabled));
    }
    employees::set_officer(tx, person.id, &person.agency_code)
}

struct CsvRow {
    line: u64,
    agency_name: String,
    /// The agency's parent (上級機關), when the line gives one.
    parent_agency: Option<AgencyCode>,
    employee: NewEmployee,
    /// `Some` when the file has an `officer` column: the role is set or removed to match.
    officer: Option<bool>,
}

csvfile::columns! {
    /// The columns of a staff file.
    struct StaffColumns {
        agency_code, agency_name, unit, national_id, name, title, email, status, left_on, left_reason, officer,
        birth_date, household_number, county, township, village, neighbourhood, parent_agency,
    }
}

/// What one line of a staff file says: its agency's name and parent, the person, the role.
type ParsedRow = (String, Option<AgencyCode>, NewEmployee, Option<bool>);

fn parse_row(c: &StaffColumns, r: &Record<'_>) -> Result<ParsedRow> {
    let agency = AgencyCode::parse(r.get(c.agency_code))?;
    let parent = Some(r.get(c.parent_agency))
        .filter(|p| !p.is_empty())
        .map(AgencyCode::parse)
        .transpose()?;
    if parent.as_ref() == Some(&agency) {
        return Err(Error::with(
            ErrorCode::FieldInvalid,
            "上級機關不可為機關本身",
            "an agency cannot be its own parent",
        ));
    }
    let status = match r.get(c.status) {
        "" | "在職" | "current" => EmployeeStatus::Current,
        "卸職" | "left" => EmployeeStatus::Left {
            on: RocDate::parse(r.get(c.left_on))?,
            reason: r.get(c.left_reason).to_owned(),
        },
        other => {
            return Err(Error::with(
                ErrorCode::FieldInvalid,
                format!("狀態應為「在職」或「卸職」，不是「{other}」"),
                format!("status must be current or left, not {other:?}"),
            ));
        }
    };
    let email = match r.get(c.email) {
        "" => None,
        e => Some(Email::parse(e)?),
    };
    let unit = Some(r.get(c.unit)).filter(|u| !u.is_empty()).map(str::to_owned);
    let birth_date = Some(r.get(c.birth_date))
        .filter(|d| !d.is_empty())
        .map(RocDate::parse)
        .transpose()?;
    let household = match r.get(c.household_number) {
        "" => None,
        number => {
            let neighbourhood = r.get(c.neighbourhood);
            let neighbourhood: u16 = neighbourhood.parse().map_err(|_| {
                Error::with(
                    ErrorCode::FieldInvalid,
                    format!("鄰應為 1 至 999 的數字，不是「{neighbourhood}」"),
                    format!("neighbourhood must be a number from 1 to 999, not {neighbourhood:?}"),
                )
            })?;
            let address = HouseholdAddress::new(r.get(c.county), r.get(c.township), r.get(c.village), neighbourhood)?;
            Some((HouseholdNumber::parse(number)?, address))
        }
    };
    let employee = NewEmployee {
        national_id: NationalId::parse(r.get(c.national_id))?,
        name: r.get(c.name).to_owned(),
        agency,
        unit,
        title: r.get(c.title).to_owned(),
        email,
        status,
        birth_date,
        household,
    };
    let officer = c.officer.present().then(|| r.yes(c.officer));
    Ok((r.get(c.agency_name).to_owned(), parent, employee, officer))
}

/// Reads and checks the whole file before anything is written.
fn read_csv(input: impl Read) -> Result<Vec<CsvRow>> {
    let required = ["agency_code", "agency_name", "national_id", "name", "title"];
    Ok(csvfile::read(input, &required, |header| {
        let columns = StaffColumns::of(header);
        move |r| parse_row(&columns, r)
    })?
    .into_iter()
    .map(|(line, (agency_name, parent_agency, employee, officer))| CsvRow {
        line,
        agency_name,
        parent_agency,
        employee,
        officer,
    })
    .collect())
}

impl LocalPortal {
    /// Creates an agency or renames it.
    pub fn add_agency(&self, code: &AgencyCode, name: &str) -> Result<()> {
        let now = millis(self.now());
        self.store.write(|tx| {
            upsert_agency(tx, code, name)?;
            db::audit::record(tx, now, None, "directory.agency", None, Some(code.as_str()), None)
        })
    }

    /// Creates or updates an employee; returns whether they were new.
    pub fn add_employee(&self, employee: &NewEmployee) -> Result<bool> {
        let now = millis(self.now());
        self.store.write(|tx| {
            let (id, created) = upsert_employee(tx, employee, now)?;
            db::audit::record(tx, now, None, "directory.employee", Some(id), None, None)?;
            Ok(created)
        })
    }

    /// Makes an employee a personnel officer of the agency they serve in.
    pub fn set_officer(&self, national_id: &NationalId) -> Result<()> {
        let now = millis(self.now());
        self.store.write(|tx| {
            set_officer(tx, national_id)?;
            db::audit::record(tx, now, None, "directory.officer", None, None, None)
        })
    }

    /// Records that an employee has left office: their sessions end at their next call.
    pub fn mark_left(&self, national_id: &NationalId, on: RocDate, reason: &str) -> Result<()> {
        let now = millis(self.now());
        let reason = text_field("卸職原因 reason", reason, 100)?;
        self.store.write(|tx| {
            let id = employee_id(tx, national_id)?;
            employees::mark_left(tx, id, &on.to_iso(), &reason, now)?;
            db::audit::record(tx, now, None, "directory.left", Some(id), None, None)
        })
    }

    /// Sets one field of an employee's personal record (as the personnel system of record has it).
    pub fn set_record_field(
        &self,
        national_id: &NationalId,
        category: ProofingCategory,
        field: &str,
        value: &str,
    ) -> Result<()> {
        let now = millis(self.now());
        self.store.write(|tx| {
            let id = employee_id(tx, national_id)?;
            super::proofing::write_field(tx, id, category, field, value)?;
            db::audit::record(
                tx,
                now,
                None,
                "record.set",
                Some(id),
                Some(&format!("{}.{field}", category.as_str())),
                None,
            )
        })
    }

    /// Imports agencies, units, employees and officers from CSV (see the module documentation).
    ///
    /// Every line is checked before anything is written (the first bad line is the error, as
    /// if the lines were written one by one); then each table is written with multi-row
    /// statements ([`BATCH_ROWS`](crate::store::BATCH_ROWS) rows each), the outcome exactly that of the lines applied
    /// one after the other: a later line about the same person or agency wins, and a person's
    /// officer role follows every line about them. The import writes nothing into people's
    /// records: their current post is read from the directory until a correction is approved.
    pub fn import_directory_csv(&self, input: impl Read) -> Result<DirectoryImport> {
        self.import_directory(input, None)
    }

    /// [`LocalPortal::import_directory_csv`] for an operator: the audit row of the import names
    /// them (`ecpa directory import --operator NAME`, else their login on the machine), since
    /// the import changes many people's personal data at once.
    pub fn import_directory_csv_as(&self, input: impl Read, operator: &str) -> Result<DirectoryImport> {
        let operator = super::audit::operator_name(operator)?;
        self.import_directory(input, Some(&operator))
    }

    fn import_directory(&self, input: impl Read, operator: Option<&str>) -> Result<DirectoryImport> {
        let rows = read_csv(input)?;
        // Every bad line is reported, not only the first.
        let mut checked = Vec::with_capacity(rows.len());
        let mut bad = Vec::new();
        for r in &rows {
            match check_row(r) {
                Ok(c) => checked.push(c),
                Err(e) => match csvfile::line_error(r.line, &e) {
                    Error::CsvLines { lines } => bad.extend(lines),
                    other => return Err(other),
                },
            }
        }
        if !bad.is_empty() {
            return Err(Error::CsvLines { lines: bad });
        }
        let now = millis(self.now());
        let sqlite = self.store.dialect() == Dialect::Sqlite;
        self.store.write(|tx| {
            // One transaction writes every person's rows: with SQLite's default 2 MiB page cache a
            // large file's changed pages spilled to the log and were read back, which doubled the
            // time of a 100,000-person import. The connection gets room for them during the import
            // and its own size back after it (changed pages stay until the commit either way).
            let cache = if sqlite {
                let before = db::sqlite_cache_size(tx)?;
                db::set_sqlite_cache_size(tx, IMPORT_CACHE_KIB)?;
                Some(before)
            } else {
                None
            };
            let stored = employees::count(tx)?;
            let report = if sqlite && bulk_load(stored, checked.len()) {
                employees::without_indexes(tx, |tx| import_rows(tx, &checked, stored, now))?
            } else {
                import_rows(tx, &checked, stored, now)?
            };
            let detail = format!(
                "{} rows, {} created, {} updated, {} agencies, {} officers",
                report.rows, report.created, report.updated, report.agencies, report.officers
            );
            match operator {
                Some(name) => db::audit::record_operator(tx, now, name, "directory.import", None, None, Some(&detail))?,
                None => db::audit::record(tx, now, None, "directory.import", None, None, Some(&detail))?,
            }
            if let Some(before) = cache {
                db::set_sqlite_cache_size(tx, before)?;
            }
            Ok(report)
        })
    }
}

/// The SQLite page cache a directory import may use, in SQLite's notation (negative: KiB).
const IMPORT_CACHE_KIB: i64 = -64 * 1024;

/// The fewest lines that make an import a bulk load (see [`bulk_load`]).
const BULK_LOAD_LINES: usize = 10_000;

/// Whether an import of `lines` lines into a table of `stored` people is a bulk load: a long
/// file into a table holding fewer people than the file has lines (the first load of a civil
/// service, or of a large agency).
fn bulk_load(stored: i64, lines: usize) -> bool {
    lines >= BULK_LOAD_LINES && stored < lines as i64
}

/// One CSV line with its fields checked as [`upsert_agency`], [`upsert_employee`] and
/// [`set_officer`] check them, in their order.
struct CheckedRow<'a> {
    agency: &'a str,
    agency_name: &'a str,
    parent: Option<&'a str>,
    national_id: &'a str,
    name: &'a str,
    /// The unit's name as stored (trimmed).
    unit: Option<&'a str>,
    title: &'a str,
    email: Option<&'a str>,
    status: &'static str,
    left_on: Option<String>,
    left_reason: Option<&'a str>,
    officer: Option<bool>,
    /// [`NewEmployee::personal_values`], when the line gives any (most lines give none, and a
    /// staff file's lines are held in memory together).
    personal: Option<Box<employees::Personal<'a>>>,
}

fn check_row(r: &CsvRow) -> Result<CheckedRow<'_>> {
    let e = &r.employee;
    let agency_name = checked_text("機關名稱 agency name", &r.agency_name, 100)?;
    let name = checked_text("姓名 name", &e.name, 40)?;
    let title = checked_text("職稱 title", &e.title, 60)?;
    let unit = e
        .unit
        .as_deref()
        .map(|u| checked_text("單位 unit", u, 100))
        .transpose()?;
    let (status, left_on, left_reason) = match &e.status {
        EmployeeStatus::Current => ("current", None, None),
        EmployeeStatus::Left { on, reason } => (
            "left",
            Some(on.to_iso()),
            Some(checked_text("卸職原因 reason", reason, 100)?),
        ),
    };
    if r.officer == Some(true) && status != "current" {
        return Err(Error::new(ErrorCode::AccountDisabled));
    }
    Ok(CheckedRow {
        agency: e.agency.as_str(),
        agency_name,
        parent: r.parent_agency.as_ref().map(AgencyCode::as_str),
        national_id: e.national_id.reveal(),
        name,
        unit,
        title,
        email: e.email.as_ref().map(Email::as_str),
        status,
        left_on,
        left_reason,
        officer: r.officer,
        personal: Some(e.personal_values())
            .filter(|values| values.iter().any(|v| !matches!(v, Value::Null)))
            .map(Box::new),
    })
}

/// Sets the parent agency (上級機關) the lines give (the last line about an agency wins). A
/// parent must be an agency of the file or of the directory, and the parents must not go
/// round in a circle.
fn set_parents(tx: &mut dyn Tx, rows: &[CheckedRow<'_>], names: &HashMap<String, String>) -> Result<()> {
    let mut given: Vec<(&str, &str)> = Vec::new();
    let mut at: HashMap<&str, usize> = HashMap::new();
    for r in rows {
        if let Some(parent) = r.parent {
            match at.get(r.agency) {
                Some(&i) => given[i].1 = parent,
                None => {
                    at.insert(r.agency, given.len());
                    given.push((r.agency, parent));
                }
            }
        }
    }
    if given.is_empty() {
        return Ok(());
    }
    let codes: Vec<&str> = given.iter().map(|(a, _)| *a).collect();
    let stored = employees::agency_parents(tx, &codes)?;
    for &(agency, parent) in &given {
        if !names.contains_key(parent) && !employees::agency_exists(tx, parent)? {
            return Err(Error::with(
                ErrorCode::AgencyNotFound,
                format!("機關 {agency} 的上級機關 {parent} 不存在"),
                format!("the parent {parent} of agency {agency} does not exist"),
            ));
        }
        if stored.get(agency).map(String::as_str) != Some(parent) {
            employees::set_agency_parent(tx, agency, Some(parent))?;
        }
    }
    // No circles: walking up from each agency set never comes back to it.
    for &(agency, _) in &given {
        let mut up = agency.to_owned();
        for _ in 0..32 {
            match employees::agency_parents(tx, &[up.as_str()])?.remove(&up) {
                Some(parent) if parent == agency => {
                    return Err(Error::with(
                        ErrorCode::FieldInvalid,
                        format!("機關 {agency} 的上級機關形成循環"),
                        format!("the parents of agency {agency} go round in a circle"),
                    ));
                }
                Some(parent) => up = parent,
                None => break,
            }
        }
    }
    Ok(())
}

/// The distinct items of `items` in the order they first appear.
fn first_seen<K: Eq + std::hash::Hash + Clone>(items: impl IntoIterator<Item = K>) -> Vec<K> {
    let mut seen = HashSet::new();
    items.into_iter().filter(|k| seen.insert(k.clone())).collect()
}

/// Writes checked lines as [`upsert_agency`], [`upsert_employee`], [`set_officer`] and the
/// officer removal would have one by one, with a few multi-row statements per table, into a
/// table already holding `held` people.
fn import_rows<'a>(tx: &mut dyn Tx, rows: &[CheckedRow<'a>], held: i64, now_ms: i64) -> Result<DirectoryImport> {
    let mut report = DirectoryImport {
        rows: rows.len(),
        ..Default::default()
    };

    // Agencies: a line counts when it creates its agency or changes its name; the last name wins.
    let codes = first_seen(rows.iter().map(|r| r.agency));
    let mut names = employees::agency_names(tx, &codes)?;
    for r in rows {
        if names.get(r.agency).map(String::as_str) != Some(r.agency_name) {
            report.agencies += 1;
            names.insert(r.agency.to_owned(), r.agency_name.to_owned());
        }
    }
    let agencies: Vec<(&str, &str)> = codes
        .iter()
        .filter_map(|c| Some((*c, names.get(*c)?.as_str())))
        .collect();
    employees::upsert_agencies(tx, &agencies)?;
    set_parents(tx, rows, &names)?;

    // Units, then their numbers.
    let units = first_seen(rows.iter().filter_map(|r| r.unit.map(|u| (r.agency, u))));
    employees::insert_units(tx, &units)?;
    let stored = employees::unit_ids(tx, &first_seen(units.iter().map(|(a, _)| *a)))?;
    // Keyed by the file's own text, so each line's lookup allocates nothing.
    let unit_ids: HashMap<(&str, &str), i64> = units
        .iter()
        .filter_map(|&(a, u)| Some(((a, u), *stored.get(&(a.to_owned(), u.to_owned()))?)))
        .collect();

    // Each person once, in the order they first appear, with their last line and the birth
    // date and household any line gave (a line without them keeps what an earlier line gave).
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(rows.len());
    let mut people: Vec<(&CheckedRow<'a>, [Option<&Value<'a>>; 6])> = Vec::with_capacity(rows.len());
    // Each line's person, as an index into `people`.
    let mut person_of = Vec::with_capacity(rows.len());
    for r in rows {
        let at = *index.entry(r.national_id).or_insert_with(|| {
            people.push((r, [None; 6]));
            people.len() - 1
        });
        person_of.push(at);
        let (line, given) = &mut people[at];
        *line = r;
        for (g, v) in given.iter_mut().zip(r.personal.iter().flat_map(|p| p.iter())) {
            if !matches!(v, Value::Null) {
                *g = Some(v);
            }
        }
    }

    // Who is there already, and their officer role. A line counts as created when it is the
    // first of a person not yet stored.
    let existing = if held == 0 {
        // The first load of a directory: no one to look up.
        HashMap::new()
    } else {
        employees::ids_of(tx, &people.iter().map(|(r, _)| r.national_id).collect::<Vec<_>>())?
    };
    let was_officer = employees::officer_agencies(tx, &existing.values().copied().collect::<Vec<_>>())?;
    report.created = people.len() - existing.len();
    report.updated = rows.len() - report.created;

    // Those not stored yet by a plain insert (each person is here once, and who is stored was
    // read in this transaction: on SQLite under its one write lock; on PostgreSQL a concurrent
    // import of the same person fails one of the two transactions whole), the others by an
    // upsert. A person whose lines give none of the personal columns is written without them
    // (six values fewer a row): a new one leaves them empty, a stored one keeps them.
    // The four groups, [stored][personal], in one pass.
    let mut groups: [[Vec<_>; 2]; 2] = Default::default();
    for person @ (r, given) in &people {
        let stored = existing.contains_key(r.national_id);
        groups[usize::from(stored)][usize::from(given.iter().any(Option::is_some))].push(person);
    }
    for (stored, by_personal) in [false, true].into_iter().zip(&groups) {
        for (personal, group) in [false, true].into_iter().zip(by_personal) {
            let writer = employees::StaffWriter::new(stored, personal);
            for_batches(group, |chunk| {
                let posts = chunk
                    .iter()
                    .map(|(r, given)| Ok((post_of(r, &unit_ids)?, *given)))
                    .collect::<Result<Vec<_>>>()?;
                writer.write(tx, posts.into_iter(), now_ms)
            })?;
        }
    }

    // Officer roles, line by line in memory: a line moving the person to another agency or out
    // of office ends the role; `officer` sets or removes it.
    let ids: Vec<Option<i64>> = people
        .iter()
        .map(|(r, _)| existing.get(r.national_id).copied())
        .collect();
    let mut officer: Vec<Option<&str>> = ids
        .iter()
        .map(|id| id.and_then(|id| was_officer.get(&id)).map(String::as_str))
        .collect();
    for (r, &at) in rows.iter().zip(&person_of) {
        let now = &mut officer[at];
        if now.is_some_and(|a| a != r.agency || r.status != "current") {
            *now = None;
        }
        match r.officer {
            Some(true) => {
                *now = Some(r.agency);
                report.officers += 1;
            }
            Some(false) => *now = None,
            None => {}
        }
    }
    let mut removed = Vec::new();
    let mut set = Vec::new();
    for (at, (r, _)) in people.iter().enumerate() {
        let before = ids[at].and_then(|id| was_officer.get(&id)).map(String::as_str);
        match (officer[at], ids[at]) {
            (None, Some(id)) if before.is_some() => removed.push(id),
            (Some(agency), _) if before != Some(agency) => set.push((at, r.national_id, agency)),
            _ => {}
        }
    }
    employees::drop_officers(tx, &removed)?;
    // The numbers of the new officers (few: one in a hundred people), now that all are stored.
    let new: Vec<&str> = set
        .iter()
        .filter(|(at, _, _)| ids[*at].is_none())
        .map(|(_, n, _)| *n)
        .collect();
    let stored = employees::ids_of(tx, &new)?;
    let officers = set
        .iter()
        .map(|&(at, n, agency)| {
            let id = match ids[at] {
                Some(id) => id,
                None => *stored
                    .get(n)
                    .ok_or_else(|| Error::internal(format!("employee {} not stored", n.len())))?,
            };
            Ok((id, agency))
        })
        .collect::<Result<Vec<_>>>()?;
    employees::set_officers(tx, &officers)?;

    Ok(report)
}

/// A checked line's post, with its unit's number (each person's post is made a batch at a time:
/// all of them at once would be 50 MB).
fn post_of<'b>(r: &'b CheckedRow<'_>, unit_ids: &HashMap<(&str, &str), i64>) -> Result<employees::Post<'b>> {
    let unit_id = match r.unit {
        Some(u) => {
            let id = unit_ids.get(&(r.agency, u));
            Some(*id.ok_or_else(|| Error::internal(format!("unit {u} of {} not stored", r.agency)))?)
        }
        None => None,
    };
    Ok(employees::Post {
        national_id: r.national_id,
        name: r.name,
        agency: r.agency,
        unit_id,
        title: r.title,
        email: r.email,
        status: r.status,
        left_on: r.left_on.as_deref(),
        left_reason: r.left_reason,
    })
}

/// An agency, as an officer picks it on the query screen (機關代號).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct AgencySummary {
    /// 機關代號.
    pub code: String,
    /// 機關名稱.
    pub name: String,
    /// The agency above it, if it has one.
    pub parent_code: Option<String>,
}

pub(crate) fn officer_agencies(p: &LocalPortal, token: &SessionToken) -> Result<Vec<AgencySummary>> {
    let c = super::apps::caller_for(p, token, super::apps::PROOFING_SITE)?;
    c.officer_agency()?;
    p.store.read(|tx| {
        let scope = super::proofing::officer_scope(tx, &c)?;
        let mut found = employees::agencies(tx, &scope)?;
        // The officer's own first, then as the tree goes.
        found.sort_by_key(|a| scope.iter().position(|s| *s == a.code));
        Ok(found
            .into_iter()
            .map(|a| AgencySummary {
                code: a.code,
                name: a.name,
                parent_code: a.parent_code,
            })
            .collect())
    })
}

pub(crate) fn agency_employees(
    p: &LocalPortal,
    token: &SessionToken,
    page: PageRequest,
) -> Result<Page<EmployeeSummary>> {
    page.check()?;
    // An agency's people are an officer's to see at the level of every other officer function
    // (the proofing site's), not with an account password.
    let c = super::apps::caller_for(p, token, super::apps::PROOFING_SITE)?;
    let agency = c.officer_agency()?.to_owned();
    let now = millis(p.now());
    p.store.write(|tx| {
        let (staff, total) = employees::staff_of(tx, &agency, page.offset(), page.per_page)?;
        // A read of each person on the page.
        let touched: Vec<_> = staff
            .iter()
            .map(|s| Touched {
                subject: s.id,
                agency_code: &agency,
                object: Some(agency.clone()),
                detail: Some(format!("page {}", page.page)),
            })
            .collect();
        db::audit::record_many(tx, now, c.employee_id, "directory.list", &touched)?;
        let items = staff
            .into_iter()
            .map(|s| EmployeeSummary {
                national_id: s.national_id.masked(),
                name: s.name,
                unit: s.unit,
                title: s.title,
                status: s.status,
                has_email: s.has_email,
                consented: s.consented,
            })
            .collect();
        Ok(Page::of(page, items, total))
    })
}
