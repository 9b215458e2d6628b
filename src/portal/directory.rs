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
//! column, roles are left as they are). The whole file is one transaction: every
//! error is reported with its line, and nothing is written unless every line is good.

use std::collections::HashMap;
use std::io::Read;

use serde::{Deserialize, Serialize};

use super::LocalPortal;
use super::auth::{SessionToken, caller};
use super::csvfile::{self, Record};
use super::env::millis;
use super::proofing::{ProofingCategory, seed_current_post};
use crate::error::{Error, ErrorCode, Result};
use crate::store::{Dialect, StoreExt, Tx, Value};
use crate::types::{AgencyCode, Email, NationalId, RocDate};

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
}

/// One employee as an officer sees them.
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// Checks a required free-text field: trimmed, 1 to `max` characters, no control characters.
pub(crate) fn text_field(name: &'static str, value: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(Error::with(
            ErrorCode::FieldInvalid,
            format!("{name} 不可空白、不可超過 {max} 字、不可含控制字元"),
            format!("{name} must be 1 to {max} characters without control characters"),
        ));
    }
    Ok(v.to_owned())
}

/// The SQLite page cache a directory import may use, in SQLite's notation (negative: KiB).
const IMPORT_CACHE_KIB: i64 = -64 * 1024;

/// What one directory transaction has looked up or written already, so a bulk import asks the
/// database once per agency and unit, and once for all existing employees, instead of once per
/// line for each (a 100,000-person import spent most of its time on those repeated lookups).
#[derive(Debug, Default)]
pub(crate) struct Known {
    /// Agencies and their names as this transaction has them.
    agencies: HashMap<String, String>,
    /// Unit numbers by agency code and unit name.
    units: HashMap<(String, String), i64>,
    /// Employee numbers by national ID; `None`: each is looked up when needed.
    employees: Option<HashMap<String, i64>>,
}

impl Known {
    /// For a bulk import: every employee's number read up front, in one query.
    fn with_all_employees(tx: &mut dyn Tx) -> Result<Self> {
        let mut employees = HashMap::new();
        for r in tx.query("SELECT national_id, id FROM employees", &[])? {
            employees.insert(r.text(0)?, r.int(1)?);
        }
        Ok(Known {
            employees: Some(employees),
            ..Known::default()
        })
    }

    /// The agency's name, if the agency exists.
    fn agency_name(&mut self, tx: &mut dyn Tx, code: &AgencyCode) -> Result<Option<String>> {
        if let Some(name) = self.agencies.get(code.as_str()) {
            return Ok(Some(name.clone()));
        }
        let row = tx.query_opt(
            "SELECT name FROM agencies WHERE code = ?",
            &[Value::from(code.as_str())],
        )?;
        let name = row.map(|r| r.text(0)).transpose()?;
        if let Some(n) = &name {
            self.agencies.insert(code.as_str().to_owned(), n.clone());
        }
        Ok(name)
    }

    /// The employee's number, if they are in the directory.
    fn employee(&self, tx: &mut dyn Tx, national_id: &NationalId) -> Result<Option<i64>> {
        match &self.employees {
            Some(map) => Ok(map.get(national_id.reveal()).copied()),
            None => tx
                .query_opt(
                    "SELECT id FROM employees WHERE national_id = ?",
                    &[Value::from(national_id.reveal())],
                )?
                .map(|r| r.int(0))
                .transpose(),
        }
    }
}

/// Creates an agency or renames it; returns whether anything changed.
pub(crate) fn upsert_agency(tx: &mut dyn Tx, known: &mut Known, code: &AgencyCode, name: &str) -> Result<bool> {
    let name = text_field("機關名稱 agency name", name, 100)?;
    if known.agencies.get(code.as_str()) == Some(&name) {
        return Ok(false);
    }
    let n = tx.execute(
        "INSERT INTO agencies (code, name) VALUES (?, ?)
         ON CONFLICT (code) DO UPDATE SET name = excluded.name WHERE agencies.name <> excluded.name",
        &[Value::from(code.as_str()), Value::from(&name)],
    )?;
    known.agencies.insert(code.as_str().to_owned(), name);
    Ok(n > 0)
}

fn unit_id(tx: &mut dyn Tx, known: &mut Known, agency: &AgencyCode, unit: &str) -> Result<i64> {
    let unit = text_field("單位 unit", unit, 100)?;
    let key = (agency.as_str().to_owned(), unit);
    if let Some(id) = known.units.get(&key) {
        return Ok(*id);
    }
    tx.execute(
        "INSERT INTO units (agency_code, name) VALUES (?, ?) ON CONFLICT (agency_code, name) DO NOTHING",
        &[Value::from(agency.as_str()), Value::from(&key.1)],
    )?;
    let id = tx.query_int(
        "SELECT id FROM units WHERE agency_code = ? AND name = ?",
        &[Value::from(agency.as_str()), Value::from(&key.1)],
    )?;
    known.units.insert(key, id);
    Ok(id)
}

/// Creates or updates an employee; returns (id, created).
pub(crate) fn upsert_employee(tx: &mut dyn Tx, known: &mut Known, e: &NewEmployee, now_ms: i64) -> Result<(i64, bool)> {
    let name = text_field("姓名 name", &e.name, 40)?;
    let title = text_field("職稱 title", &e.title, 60)?;
    let Some(agency_name) = known.agency_name(tx, &e.agency)? else {
        return Err(Error::with(
            ErrorCode::AgencyNotFound,
            e.agency.as_str().to_owned(),
            e.agency.as_str().to_owned(),
        ));
    };
    let unit = e
        .unit
        .as_deref()
        .map(|u| unit_id(tx, known, &e.agency, u))
        .transpose()?;
    let (status, left_on, left_reason) = match &e.status {
        EmployeeStatus::Current => ("current", None, None),
        EmployeeStatus::Left { on, reason } => (
            "left",
            Some(on.to_iso()),
            Some(text_field("卸職原因 reason", reason, 100)?),
        ),
    };
    let existing = known.employee(tx, &e.national_id)?;
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
            let params: Vec<Value<'_>> = fields.into_iter().chain([Value::Int(id)]).collect();
            tx.execute(
                "UPDATE employees SET name = ?, agency_code = ?, unit_id = ?, title = ?, email = ?, status = ?,
                 left_on = ?, left_reason = ?, updated_at = ? WHERE id = ?",
                &params,
            )?;
            (id, false)
        }
        None => {
            let params: Vec<Value<'_>> = [Value::from(e.national_id.reveal())]
                .into_iter()
                .chain(fields)
                .collect();
            let id = tx.insert(
                "INSERT INTO employees (national_id, name, agency_code, unit_id, title, email, status, left_on, left_reason, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &params,
            )?;
            if let Some(map) = known.employees.as_mut() {
                map.insert(e.national_id.reveal().to_owned(), id);
            }
            (id, true)
        }
    };
    // A person leaving office is no longer anyone's officer, and an officer's role is tied to
    // the agency they serve in. (Someone just created has no role yet.)
    if !created {
        tx.execute(
            "DELETE FROM officers WHERE employee_id = ? AND (agency_code <> ? OR ? <> 'current')",
            &[Value::Int(id), Value::from(e.agency.as_str()), Value::from(status)],
        )?;
    }
    seed_current_post(tx, id, &agency_name, e.unit.as_deref())?;
    Ok((id, created))
}

/// The directory's number for a national ID.
fn employee_id(tx: &mut dyn Tx, national_id: &NationalId) -> Result<i64> {
    tx.query_opt(
        "SELECT id FROM employees WHERE national_id = ?",
        &[Value::from(national_id.reveal())],
    )?
    .ok_or_else(|| Error::new(ErrorCode::EmployeeNotFound))?
    .int(0)
}

/// Makes an employee a personnel officer of the agency they serve in.
pub(crate) fn set_officer(tx: &mut dyn Tx, national_id: &NationalId) -> Result<()> {
    let row = tx
        .query_opt(
            "SELECT id, agency_code, status FROM employees WHERE national_id = ?",
            &[Value::from(national_id.reveal())],
        )?
        .ok_or_else(|| Error::new(ErrorCode::EmployeeNotFound))?;
    if row.text(2)? != "current" {
        return Err(Error::new(ErrorCode::AccountDisabled));
    }
    tx.execute(
        "INSERT INTO officers (employee_id, agency_code) VALUES (?, ?)
         ON CONFLICT (employee_id) DO UPDATE SET agency_code = excluded.agency_code",
        &[Value::Int(row.int(0)?), Value::from(row.text(1)?)],
    )?;
    Ok(())
}

struct CsvRow {
    line: u64,
    agency: AgencyCode,
    agency_name: String,
    employee: NewEmployee,
    /// `Some` when the file has an `officer` column: the role is set or removed to match.
    officer: Option<bool>,
}

fn parse_row(r: &Record<'_>) -> Result<(AgencyCode, String, NewEmployee, Option<bool>)> {
    let get = |name: &str| r.get(name);
    let agency = AgencyCode::parse(get("agency_code"))?;
    let status = match get("status") {
        "" | "在職" | "current" => EmployeeStatus::Current,
        "卸職" | "left" => EmployeeStatus::Left {
            on: RocDate::parse(get("left_on"))?,
            reason: get("left_reason").to_owned(),
        },
        other => {
            return Err(Error::with(
                ErrorCode::FieldInvalid,
                format!("狀態應為「在職」或「卸職」，不是「{other}」"),
                format!("status must be current or left, not {other:?}"),
            ));
        }
    };
    let email = match get("email") {
        "" => None,
        e => Some(Email::parse(e)?),
    };
    let unit = Some(get("unit")).filter(|u| !u.is_empty()).map(str::to_owned);
    let employee = NewEmployee {
        national_id: NationalId::parse(get("national_id"))?,
        name: get("name").to_owned(),
        agency: agency.clone(),
        unit,
        title: get("title").to_owned(),
        email,
        status,
    };
    let officer = r.has("officer").then(|| r.yes("officer"));
    Ok((agency, get("agency_name").to_owned(), employee, officer))
}

/// Reads and checks the whole file before anything is written.
fn read_csv(input: impl Read) -> Result<Vec<CsvRow>> {
    let required = ["agency_code", "agency_name", "national_id", "name", "title"];
    Ok(csvfile::read(input, &required, parse_row)?
        .into_iter()
        .map(|(line, (agency, agency_name, employee, officer))| CsvRow {
            line,
            agency,
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
            upsert_agency(tx, &mut Known::default(), code, name)?;
            super::audit::record(tx, now, None, "directory.agency", None, Some(code.as_str()), None)
        })
    }

    /// Creates or updates an employee; returns whether they were new.
    pub fn add_employee(&self, employee: &NewEmployee) -> Result<bool> {
        let now = millis(self.now());
        self.store.write(|tx| {
            let (id, created) = upsert_employee(tx, &mut Known::default(), employee, now)?;
            super::audit::record(tx, now, None, "directory.employee", Some(id), None, None)?;
            Ok(created)
        })
    }

    /// Makes an employee a personnel officer of the agency they serve in.
    pub fn set_officer(&self, national_id: &NationalId) -> Result<()> {
        let now = millis(self.now());
        self.store.write(|tx| {
            set_officer(tx, national_id)?;
            super::audit::record(tx, now, None, "directory.officer", None, None, None)
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
            super::audit::record(tx, now, None, "directory.left", Some(id), None, None)
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
            super::audit::record(
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
        let now = millis(self.now());
        let sqlite = self.store.dialect() == Dialect::Sqlite;
        self.store.write(|tx| {
            let mut report = DirectoryImport {
                rows: rows.len(),
                ..Default::default()
            };
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
            let mut known = Known::with_all_employees(tx)?;
            for r in &rows {
                let with_line = |e: Error| csvfile::line_error(r.line, &e);
                if upsert_agency(tx, &mut known, &r.agency, &r.agency_name).map_err(with_line)? {
                    report.agencies += 1;
                }
                let (id, created) = upsert_employee(tx, &mut known, &r.employee, now).map_err(with_line)?;
                if created {
                    report.created += 1;
                } else {
                    report.updated += 1;
                }
                match r.officer {
                    Some(true) => {
                        set_officer(tx, &r.employee.national_id).map_err(with_line)?;
                        report.officers += 1;
                    }
                    // Someone just created has no role to remove.
                    Some(false) if !created => {
                        tx.execute("DELETE FROM officers WHERE employee_id = ?", &[Value::Int(id)])?;
                    }
                    Some(false) => {}
                    None => {}
                }
            }
            let detail = format!(
                "{} rows, {} created, {} updated, {} agencies, {} officers",
                report.rows, report.created, report.updated, report.agencies, report.officers
            );
            match operator {
                Some(name) => super::audit::record_operator(tx, now, name, "directory.import", None, Some(&detail))?,
                None => super::audit::record(tx, now, None, "directory.import", None, None, Some(&detail))?,
            }
            if let Some(before) = cache {
                tx.execute(&format!("PRAGMA cache_size = {before}"), &[])?;
            }
            Ok(report)
        })
    }
}

pub(crate) fn agency_employees(p: &LocalPortal, token: &SessionToken) -> Result<Vec<EmployeeSummary>> {
    let c = caller(p, token)?;
    let agency = c.officer_agency()?.to_owned();
    let now = millis(p.now());
    p.store.write(|tx| {
        let rows = tx.query(
            "SELECT e.national_id, e.name, u.name, e.title, e.status, e.email IS NOT NULL, c.employee_id IS NOT NULL
             FROM employees e LEFT JOIN units u ON u.id = e.unit_id LEFT JOIN consents c ON c.employee_id = e.id
             WHERE e.agency_code = ? ORDER BY u.name, e.name",
            &[Value::from(agency.as_str())],
        )?;
        super::audit::record(
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
