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
//! what the directory holds. The whole file is one transaction: every error is reported with
//! its line, and nothing is written unless every line is good.

// foldhash's maps: an import hashes every national ID and unit several times, and SipHash
// was a twentieth of its time. The keys come from the operator's own file.
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::io::Read;

use serde::{Deserialize, Serialize};

use super::auth::SessionToken;
use super::csvfile::{self, Record};
use super::env::millis;
use super::local::LocalPortal;
use super::proofing::ProofingCategory;
use crate::db::employees;
use crate::error::{Error, ErrorCode, Result};
use crate::store::{Dialect, Row, StoreExt, Tx, Value, for_batches, values_rows};
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

/// The columns of [`NewEmployee::birth_date`] and [`NewEmployee::household`], in the order
/// both writers of the employees table bind them.
const PERSONAL_COLUMNS: &str =
    "birth_date, household_number, household_county, household_township, household_village, household_neighbourhood";

/// `column = COALESCE(given, column)` for each of [`PERSONAL_COLUMNS`]: a value not given
/// leaves the one held. `given` names where the new value is, with `{}` for the column.
fn keep_unless_given(given: &str) -> String {
    PERSONAL_COLUMNS
        .split(", ")
        .map(|c| format!("{c} = COALESCE({}, employees.{c})", given.replace("{}", c)))
        .collect::<Vec<_>>()
        .join(", ")
}

impl NewEmployee {
    /// The values of [`PERSONAL_COLUMNS`] (NULL: not given).
    fn personal_values(&self) -> [Value<'_>; 6] {
        let (number, address) = match &self.household {
            Some((n, a)) => (Some(n), Some(a)),
            None => (None, None),
        };
        [
            Value::from(self.birth_date.map(|d| d.to_iso())),
            Value::from(number.map(HouseholdNumber::as_str)),
            Value::from(address.map(|a| a.county.as_str())),
            Value::from(address.map(|a| a.township.as_str())),
            Value::from(address.map(|a| a.village.as_str())),
            Value::from(address.map(|a| i64::from(a.neighbourhood))),
        ]
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

pub(crate) fn upsert_agency(tx: &mut dyn Tx, code: &AgencyCode, name: &str) -> Result<bool> {
    let name = text_field("機關名稱 agency name", name, 100)?;
    let n = tx.execute(
        "INSERT INTO agencies (code, name) VALUES (?, ?)
         ON CONFLICT (code) DO UPDATE SET name = excluded.name WHERE agencies.name <> excluded.name",
        &[Value::from(code.as_str()), Value::from(name)],
    )?;
    Ok(n > 0)
}

fn unit_id(tx: &mut dyn Tx, agency: &AgencyCode, unit: &str) -> Result<i64> {
    let unit = text_field("單位 unit", unit, 100)?;
    tx.execute(
        "INSERT INTO units (agency_code, name) VALUES (?, ?) ON CONFLICT (agency_code, name) DO NOTHING",
        &[Value::from(agency.as_str()), Value::from(&unit)],
    )?;
    tx.query_int(
        "SELECT id FROM units WHERE agency_code = ? AND name = ?",
        &[Value::from(agency.as_str()), Value::from(&unit)],
    )
}

/// Creates or updates an employee; returns (id, created).
pub(crate) fn upsert_employee(tx: &mut dyn Tx, e: &NewEmployee, now_ms: i64) -> Result<(i64, bool)> {
    let name = text_field("姓名 name", &e.name, 40)?;
    let title = text_field("職稱 title", &e.title, 60)?;
    if tx
        .query_opt(
            "SELECT 1 FROM agencies WHERE code = ?",
            &[Value::from(e.agency.as_str())],
        )?
        .is_none()
    {
        return Err(Error::with(
            ErrorCode::AgencyNotFound,
            e.agency.as_str().to_owned(),
            e.agency.as_str().to_owned(),
        ));
    }
    let unit = e.unit.as_deref().map(|u| unit_id(tx, &e.agency, u)).transpose()?;
    let (status, left_on, left_reason) = match &e.status {
        EmployeeStatus::Current => ("current", None, None),
        EmployeeStatus::Left { on, reason } => (
            "left",
            Some(on.to_iso()),
            Some(text_field("卸職原因 reason", reason, 100)?),
        ),
    };
    let existing = employees::by_national_id(tx, &e.national_id)?.map(|p| p.id);
    let email = e.email.as_ref().map(Email::as_str);
    // The same nine columns, set on a new row or an existing one.
    let fields = [
        Value::from(&name),
        Value::from(e.agency.as_str()),
        Value::from(unit),
        Value::from(&title),
        Value::from(email),
        Value::from(status),
        Value::from(left_on),
        Value::from(left_reason),
        Value::Int(now_ms),
    ];
    let (id, created) = match existing {
        Some(id) => {
            let params: Vec<Value<'_>> = fields
                .into_iter()
                .chain(e.personal_values())
                .chain([Value::Int(id)])
                .collect();
            tx.execute(
                &format!(
                    "UPDATE employees SET name = ?, agency_code = ?, unit_id = ?, title = ?, email = ?, status = ?,
                     left_on = ?, left_reason = ?, updated_at = ?, {} WHERE id = ?",
                    keep_unless_given("?")
                ),
                &params,
            )?;
            (id, false)
        }
        None => {
            let params: Vec<Value<'_>> = [Value::from(e.national_id.reveal())]
                .into_iter()
                .chain(fields)
                .chain(e.personal_values())
                .collect();
            let id = tx.insert(
                &format!(
                    "INSERT INTO employees (national_id, name, agency_code, unit_id, title, email, status, left_on, left_reason,
                         updated_at, {PERSONAL_COLUMNS})
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                ),
                &params,
            )?;
            (id, true)
        }
    };
    // A person leaving office is no longer anyone's officer, and an officer's role is tied to
    // the agency they serve in.
    tx.execute(
        "DELETE FROM officers WHERE employee_id = ? AND (agency_code <> ? OR ? <> 'current')",
        &[Value::Int(id), Value::from(e.agency.as_str()), Value::from(status)],
    )?;
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
    tx.execute(
        "INSERT INTO officers (employee_id, agency_code) VALUES (?, ?)
         ON CONFLICT (employee_id) DO UPDATE SET agency_code = excluded.agency_code",
        &[Value::Int(person.id), Value::from(person.agency_code)],
    )?;
    Ok(())
}

struct CsvRow {
    line: u64,
    agency_name: String,
    employee: NewEmployee,
    /// `Some` when the file has an `officer` column: the role is set or removed to match.
    officer: Option<bool>,
}

csvfile::columns! {
    /// The columns of a staff file.
    struct StaffColumns {
        agency_code, agency_name, unit, national_id, name, title, email, status, left_on, left_reason, officer,
        birth_date, household_number, county, township, village, neighbourhood,
    }
}

fn parse_row(c: &StaffColumns, r: &Record<'_>) -> Result<(String, NewEmployee, Option<bool>)> {
    let agency = AgencyCode::parse(r.get(c.agency_code))?;
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
    Ok((r.get(c.agency_name).to_owned(), employee, officer))
}

/// Reads and checks the whole file before anything is written.
fn read_csv(input: impl Read) -> Result<Vec<CsvRow>> {
    let required = ["agency_code", "agency_name", "national_id", "name", "title"];
    Ok(csvfile::read(input, &required, |header| {
        let columns = StaffColumns::of(header);
        move |r| parse_row(&columns, r)
    })?
    .into_iter()
    .map(|(line, (agency_name, employee, officer))| CsvRow {
        line,
        agency_name,
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
            crate::db::audit::record(tx, now, None, "directory.agency", None, Some(code.as_str()), None)
        })
    }

    /// Creates or updates an employee; returns whether they were new.
    pub fn add_employee(&self, employee: &NewEmployee) -> Result<bool> {
        let now = millis(self.now());
        self.store.write(|tx| {
            let (id, created) = upsert_employee(tx, employee, now)?;
            crate::db::audit::record(tx, now, None, "directory.employee", Some(id), None, None)?;
            Ok(created)
        })
    }

    /// Makes an employee a personnel officer of the agency they serve in.
    pub fn set_officer(&self, national_id: &NationalId) -> Result<()> {
        let now = millis(self.now());
        self.store.write(|tx| {
            set_officer(tx, national_id)?;
            crate::db::audit::record(tx, now, None, "directory.officer", None, None, None)
        })
    }

    /// Records that an employee has left office: their sessions end at their next call.
    pub fn mark_left(&self, national_id: &NationalId, on: RocDate, reason: &str) -> Result<()> {
        let now = millis(self.now());
        let reason = text_field("卸職原因 reason", reason, 100)?;
        self.store.write(|tx| {
            let id = employee_id(tx, national_id)?;
            tx.execute(
                "UPDATE employees SET status = 'left', left_on = ?, left_reason = ?, updated_at = ? WHERE id = ?",
                &[
                    Value::from(on.to_iso()),
                    Value::from(&reason),
                    Value::Int(now),
                    Value::Int(id),
                ],
            )?;
            tx.execute("DELETE FROM officers WHERE employee_id = ?", &[Value::Int(id)])?;
            crate::db::audit::record(tx, now, None, "directory.left", Some(id), None, None)
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
            crate::db::audit::record(
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
                let before = tx.query_int("PRAGMA cache_size", &[])?;
                tx.execute(&format!("PRAGMA cache_size = {IMPORT_CACHE_KIB}"), &[])?;
                Some(before)
            } else {
                None
            };
            let stored = tx.query_int("SELECT count(*) FROM employees", &[])?;
            let report = if sqlite && bulk_load(stored, checked.len()) {
                without_indexes(tx, "employees", |tx| import_rows(tx, &checked, stored, now))?
            } else {
                import_rows(tx, &checked, stored, now)?
            };
            let detail = format!(
                "{} rows, {} created, {} updated, {} agencies, {} officers",
                report.rows, report.created, report.updated, report.agencies, report.officers
            );
            match operator {
                Some(name) => {
                    crate::db::audit::record_operator(tx, now, name, "directory.import", None, None, Some(&detail))?
                }
                None => crate::db::audit::record(tx, now, None, "directory.import", None, None, Some(&detail))?,
            }
            if let Some(before) = cache {
                tx.execute(&format!("PRAGMA cache_size = {before}"), &[])?;
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

/// Runs `f` with `table`'s secondary indexes (those made by `CREATE INDEX`) dropped, and makes
/// them again from their stored definitions after it, in the same SQLite transaction.
///
/// A bulk load inserted row by row lands all over an index whose order is not the file's
/// (`employees_agency` by agency and status: a file of 100,000 people cycling through 100
/// agencies split a page at almost every row), which doubled the time of a first import; an
/// index made at the end sorts its keys once. The transaction holds SQLite's only write lock
/// and readers keep their snapshot, so no one sees the table without its indexes; a failure
/// rolls the drop back with everything else. The unique constraints stay: they check the rows.
fn without_indexes<T>(tx: &mut dyn Tx, table: &str, f: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
    let indexes = tx.query(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        &[Value::from(table)],
    )?;
    for index in &indexes {
        tx.execute(&format!("DROP INDEX \"{}\"", index.text(0)?.replace('"', "\"\"")), &[])?;
    }
    let out = f(tx)?;
    for index in &indexes {
        tx.execute(&index.text(1)?, &[])?;
    }
    Ok(out)
}

/// One CSV line with its fields checked as [`upsert_agency`], [`upsert_employee`] and
/// [`set_officer`] check them, in their order.
struct CheckedRow<'a> {
    agency: &'a str,
    agency_name: &'a str,
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
    personal: Option<Box<[Value<'a>; 6]>>,
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

/// `?, ?, ?`: the placeholders of an `IN` list of `n` values.
fn in_list(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// Runs `sql` (with `{}` where the `IN` list goes) for `keys`, a batch at a time, and collects
/// its rows.
fn query_in(tx: &mut dyn Tx, sql: &str, keys: &[Value<'_>]) -> Result<Vec<Row>> {
    let mut out = Vec::new();
    for_batches(keys, |chunk| {
        out.extend(tx.query(&sql.replace("{}", &in_list(chunk.len())), chunk)?);
        Ok(())
    })?;
    Ok(out)
}

/// Runs a statement with `VALUES {}` over `rows` of `width` values each, a batch of rows per
/// statement: on PostgreSQL one network round trip per batch, on SQLite one pass through the
/// virtual machine (measured: a third faster than a prepared one-row statement per row).
fn write_rows(tx: &mut dyn Tx, sql: &str, width: usize, rows: &[Vec<Value<'_>>]) -> Result<()> {
    for_batches(rows, |chunk| {
        let sql = sql.replace("{}", &values_rows(chunk.len(), width));
        let params: Vec<Value<'_>> = chunk.iter().flatten().cloned().collect();
        tx.execute(&sql, &params).map(drop)
    })
}

/// The stored number of each of these national IDs that the directory holds.
fn employee_ids(tx: &mut dyn Tx, national_ids: &[Value<'_>]) -> Result<HashMap<String, i64>> {
    let mut ids = HashMap::with_capacity(national_ids.len());
    for r in query_in(
        tx,
        "SELECT id, national_id FROM employees WHERE national_id IN ({})",
        national_ids,
    )? {
        ids.insert(r.text(1)?, r.int(0)?);
    }
    Ok(ids)
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
    let code_values: Vec<Value<'_>> = codes.iter().map(|c| Value::from(*c)).collect();
    let mut names: HashMap<String, String> = HashMap::new();
    for r in query_in(tx, "SELECT code, name FROM agencies WHERE code IN ({})", &code_values)? {
        names.insert(r.text(0)?, r.text(1)?);
    }
    for r in rows {
        if names.get(r.agency).map(String::as_str) != Some(r.agency_name) {
            report.agencies += 1;
            names.insert(r.agency.to_owned(), r.agency_name.to_owned());
        }
    }
    let agencies: Vec<Vec<Value<'_>>> = codes
        .iter()
        .map(|c| vec![Value::from(*c), Value::from(names.get(*c).cloned())])
        .collect();
    write_rows(
        tx,
        "INSERT INTO agencies (code, name) VALUES {}
         ON CONFLICT (code) DO UPDATE SET name = excluded.name WHERE agencies.name <> excluded.name",
        2,
        &agencies,
    )?;

    // Units, then their numbers.
    let units = first_seen(rows.iter().filter_map(|r| r.unit.map(|u| (r.agency, u))));
    let unit_rows: Vec<Vec<Value<'_>>> = units
        .iter()
        .map(|(a, u)| vec![Value::from(*a), Value::from(*u)])
        .collect();
    write_rows(
        tx,
        "INSERT INTO units (agency_code, name) VALUES {} ON CONFLICT (agency_code, name) DO NOTHING",
        2,
        &unit_rows,
    )?;
    let unit_agencies: Vec<Value<'_>> = first_seen(units.iter().map(|(a, _)| *a))
        .into_iter()
        .map(Value::from)
        .collect();
    let mut stored: HashMap<(String, String), i64> = HashMap::new();
    for r in query_in(
        tx,
        "SELECT id, agency_code, name FROM units WHERE agency_code IN ({})",
        &unit_agencies,
    )? {
        stored.insert((r.text(1)?, r.text(2)?), r.int(0)?);
    }
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
        let id_values: Vec<Value<'_>> = people.iter().map(|(r, _)| Value::from(r.national_id)).collect();
        employee_ids(tx, &id_values)?
    };
    let known: Vec<Value<'_>> = existing.values().map(|id| Value::Int(*id)).collect();
    let mut was_officer: HashMap<i64, String> = HashMap::new();
    for r in query_in(
        tx,
        "SELECT employee_id, agency_code FROM officers WHERE employee_id IN ({})",
        &known,
    )? {
        was_officer.insert(r.int(0)?, r.text(1)?);
    }
    report.created = people.len() - existing.len();
    report.updated = rows.len() - report.created;

    // Each person's values, a batch at a time (all of them at once would be 50 MB).
    let employee_row =
        |r: &CheckedRow<'a>, given: &[Option<&Value<'a>>; 6], personal: bool| -> Result<Vec<Value<'a>>> {
            let unit = match r.unit {
                Some(u) => {
                    let id = unit_ids.get(&(r.agency, u));
                    Some(*id.ok_or_else(|| Error::internal(format!("unit {u} of {} not stored", r.agency)))?)
                }
                None => None,
            };
            let mut row = Vec::with_capacity(16);
            row.extend([
                Value::from(r.national_id),
                Value::from(r.name),
                Value::from(r.agency),
                Value::from(unit),
                Value::from(r.title),
                Value::from(r.email),
                Value::from(r.status),
                Value::from(r.left_on.clone()),
                Value::from(r.left_reason),
                Value::Int(now_ms),
            ]);
            if personal {
                row.extend(given.iter().map(|v| v.cloned().unwrap_or(Value::Null)));
            }
            Ok(row)
        };
    // Those not stored yet by a plain insert (each person is here once, and who is stored was
    // read in this transaction: on SQLite under its one write lock; on PostgreSQL a concurrent
    // import of the same person fails one of the two transactions whole), the others by an
    // upsert. A person whose lines give none of the personal columns is written without them
    // (six values fewer a row): a new one leaves them empty, a stored one keeps them.
    let post = "national_id, name, agency_code, unit_id, title, email, status, left_on, left_reason, updated_at";
    let post_update = "name = excluded.name, agency_code = excluded.agency_code, unit_id = excluded.unit_id,
         title = excluded.title, email = excluded.email, status = excluded.status, left_on = excluded.left_on,
         left_reason = excluded.left_reason, updated_at = excluded.updated_at";
    // The four groups, [stored][personal], in one pass.
    let mut groups: [[Vec<_>; 2]; 2] = Default::default();
    for person @ (r, given) in &people {
        let stored = existing.contains_key(r.national_id);
        groups[usize::from(stored)][usize::from(given.iter().any(Option::is_some))].push(person);
    }
    for (stored, by_personal) in [false, true].into_iter().zip(&groups) {
        for (personal, group) in [false, true].into_iter().zip(by_personal) {
            let (columns, width) = if personal {
                (format!("{post}, {PERSONAL_COLUMNS}"), 16)
            } else {
                (post.to_owned(), 10)
            };
            let mut sql = format!("INSERT INTO employees ({columns}) VALUES {{}}");
            if stored {
                sql.push_str(" ON CONFLICT (national_id) DO UPDATE SET ");
                sql.push_str(post_update);
                if personal {
                    sql.push_str(", ");
                    sql.push_str(&keep_unless_given("excluded.{}"));
                }
            }
            for_batches(group, |chunk| {
                let rows = chunk
                    .iter()
                    .map(|(r, given)| employee_row(r, given, personal))
                    .collect::<Result<Vec<_>>>()?;
                write_rows(tx, &sql, width, &rows)
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
            (None, Some(id)) if before.is_some() => removed.push(Value::Int(id)),
            (Some(agency), _) if before != Some(agency) => set.push((at, r.national_id, agency)),
            _ => {}
        }
    }
    for_batches(&removed, |chunk| {
        let sql = format!("DELETE FROM officers WHERE employee_id IN ({})", in_list(chunk.len()));
        tx.execute(&sql, chunk).map(drop)
    })?;
    // The numbers of the new officers (few: one in a hundred people), now that all are stored.
    let new: Vec<Value<'_>> = set
        .iter()
        .filter(|(at, _, _)| ids[*at].is_none())
        .map(|(_, n, _)| Value::from(*n))
        .collect();
    let stored = employee_ids(tx, &new)?;
    let officer_rows = set
        .iter()
        .map(|&(at, n, agency)| {
            let id = match ids[at] {
                Some(id) => id,
                None => *stored
                    .get(n)
                    .ok_or_else(|| Error::internal(format!("employee {} not stored", n.len())))?,
            };
            Ok(vec![Value::Int(id), Value::from(agency)])
        })
        .collect::<Result<Vec<_>>>()?;
    write_rows(
        tx,
        "INSERT INTO officers (employee_id, agency_code) VALUES {}
         ON CONFLICT (employee_id) DO UPDATE SET agency_code = excluded.agency_code",
        2,
        &officer_rows,
    )?;

    Ok(report)
}

pub(crate) fn agency_employees(p: &LocalPortal, token: &SessionToken) -> Result<Vec<EmployeeSummary>> {
    // An agency's people are an officer's to see at the level of every other officer function
    // (the proofing site's), not with an account password.
    let c = super::apps::caller_for(p, token, super::apps::PROOFING_SITE)?;
    let agency = c.officer_agency()?.to_owned();
    let now = millis(p.now());
    p.store.write(|tx| {
        let rows = tx.query(
            "SELECT e.national_id, e.name, u.name, e.title, e.status, e.email IS NOT NULL, c.employee_id IS NOT NULL
             FROM employees e LEFT JOIN units u ON u.id = e.unit_id LEFT JOIN consents c ON c.employee_id = e.id
             WHERE e.agency_code = ? ORDER BY u.name, e.name",
            &[Value::from(agency.as_str())],
        )?;
        crate::db::audit::record(
            tx,
            now,
            Some(c.employee_id),
            "directory.list",
            None,
            Some(&agency),
            None,
        )?;
        rows.iter()
            .map(|r| {
                Ok(EmployeeSummary {
                    national_id: r.parsed(0, NationalId::parse)?.masked(),
                    name: r.text(1)?,
                    unit: r.opt_text(2)?,
                    title: r.text(3)?,
                    status: r.text(4)?,
                    has_email: r.bool(5)?,
                    consented: r.bool(6)?,
                })
            })
            .collect()
    })
}
