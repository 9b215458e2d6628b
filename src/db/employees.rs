//! The directory's tables: agencies (機關), their units (單位), employees and personnel
//! officers. Every lookup of a person by national ID, number or account goes through here.

use foldhash::{HashMap, HashMapExt};

use crate::db::{query_in, write_rows};
use crate::error::Result;
use crate::store::{Tx, Value, for_batches, values_rows};
use crate::types::{HouseholdAddress, HouseholdNumber, NationalId, RocDate};

use crate::db::in_list;

crate::db::row! {
    /// A person as the directory holds them. The household columns are what the NHI card's
    /// registration is checked against (a value the directory lacks is not checked).
    pub(crate) struct Employee {
        pub id: i64 = "id",
        pub national_id: NationalId = "national_id",
        pub name: String = "name",
        pub agency_code: String = "agency_code",
        pub email: Option<String> = "email",
        /// `current` or `left`.
        pub status: String = "status",
        pub birth_date: Option<String> = "birth_date",
        pub household_number: Option<String> = "household_number",
        pub household_county: Option<String> = "household_county",
        pub household_township: Option<String> = "household_township",
        pub household_village: Option<String> = "household_village",
        pub household_neighbourhood: Option<i64> = "household_neighbourhood",
        /// When the person last logged in, if ever.
        pub last_login_at: Option<time::OffsetDateTime> = "last_login_at",
    }
}

impl Employee {
    /// Whether the person serves (has not left office): only they may log in.
    pub(crate) fn is_current(&self) -> bool {
        self.status == "current"
    }
}

fn one_by(tx: &mut dyn Tx, column: &str, value: Value<'_>) -> Result<Option<Employee>> {
    let sql = format!("SELECT {} FROM employees WHERE {column} = ?", Employee::COLUMNS);
    tx.query_opt(&sql, &[value])?.map(Employee::from_row).transpose()
}

/// The person a national ID belongs to, if the directory has them.
pub(crate) fn by_national_id(tx: &mut dyn Tx, id: &NationalId) -> Result<Option<Employee>> {
    one_by(tx, "national_id", Value::from(id.reveal()))
}

/// The person with the directory's number `id`.
pub(crate) fn by_id(tx: &mut dyn Tx, id: i64) -> Result<Option<Employee>> {
    one_by(tx, "id", Value::Int(id))
}

/// The person who holds the eCPA account `name`.
pub(crate) fn by_account(tx: &mut dyn Tx, name: &str) -> Result<Option<Employee>> {
    one_by(tx, "account_name", Value::from(name))
}

/// Records a login of the person at `at_ms`: their last one from now on.
pub(crate) fn set_last_login(tx: &mut dyn Tx, id: i64, at_ms: i64) -> Result<()> {
    tx.execute(
        "UPDATE employees SET last_login_at = ? WHERE id = ?",
        &[Value::Int(at_ms), Value::Int(id)],
    )
    .map(drop)
}

/// The number and password hash of the eCPA account `name`, if someone holds it (the hash is
/// `None` until they set a password).
pub(crate) fn account_password(tx: &mut dyn Tx, name: &str) -> Result<Option<(i64, Option<String>)>> {
    let row = tx.query_opt(
        "SELECT id, account_password_hash FROM employees WHERE account_name = ?",
        &[Value::from(name)],
    )?;
    row.map(|r| Ok((r.int(0)?, r.opt_text(1)?))).transpose()
}

/// The eCPA account name of the employee `id`, if they have one.
pub(crate) fn account_name(tx: &mut dyn Tx, id: i64) -> Result<Option<String>> {
    let rows = tx.query(
        "SELECT account_name FROM employees WHERE id = ? AND account_name IS NOT NULL",
        &[Value::Int(id)],
    )?;
    crate::db::first(rows)
}

/// Sets the password of the employee `id`'s eCPA account.
pub(crate) fn set_account_password(tx: &mut dyn Tx, id: i64, hash: &str, now_ms: i64) -> Result<()> {
    tx.execute(
        "UPDATE employees SET account_password_hash = ?, updated_at = ? WHERE id = ?",
        &[Value::from(hash), Value::Int(now_ms), Value::Int(id)],
    )
    .map(drop)
}

/// Gives an employee the eCPA account `name` with the password `hash`.
pub(crate) fn set_account(tx: &mut dyn Tx, id: i64, name: &str, hash: &str, now_ms: i64) -> Result<()> {
    tx.execute(
        "UPDATE employees SET account_name = ?, account_password_hash = ?, updated_at = ? WHERE id = ?",
        &[Value::from(name), Value::from(hash), Value::Int(now_ms), Value::Int(id)],
    )
    .map(drop)
}

crate::db::row! {
    /// Who a session belongs to: the person, the agency they serve in, and whether they are
    /// one of its personnel officers.
    pub(crate) struct Serving {
        pub name: String = "e.name",
        pub national_id: NationalId = "e.national_id",
        pub agency_code: String = "e.agency_code",
        pub agency_name: String = "a.name",
        pub officer: bool = "o.employee_id IS NOT NULL",
    }
}

/// The person with the directory's number `id`, their agency and whether they are its officer.
pub(crate) fn serving(tx: &mut dyn Tx, id: i64) -> Result<Option<Serving>> {
    let sql = format!(
        "SELECT {} FROM employees e JOIN agencies a ON a.code = e.agency_code
         LEFT JOIN officers o ON o.employee_id = e.id AND o.agency_code = e.agency_code
         WHERE e.id = ?",
        Serving::COLUMNS
    );
    tx.query_opt(&sql, &[Value::Int(id)])?
        .map(Serving::from_row)
        .transpose()
}

// The directory's writers: one person at a time (the operator's commands) and in bulk (the
// CSV import, which is the reason for the batched forms below).

/// The columns of the birth date and household, in the order both writers bind them.
const PERSONAL_COLUMNS: &str =
    "birth_date, household_number, household_county, household_township, household_village, household_neighbourhood";

/// The six values of the birth date and household (NULL: not given, which keeps the one held).
pub(crate) type Personal<'a> = [Value<'a>; 6];

/// The [`Personal`] values of a birth date and household.
pub(crate) fn personal_values<'a>(
    birth_date: Option<RocDate>,
    household: Option<&'a (HouseholdNumber, HouseholdAddress)>,
) -> Personal<'a> {
    let (number, address) = match household {
        Some((n, a)) => (Some(n), Some(a)),
        None => (None, None),
    };
    [
        Value::from(birth_date.map(|d| d.to_iso())),
        Value::from(number.map(HouseholdNumber::as_str)),
        Value::from(address.map(|a| a.county.as_str())),
        Value::from(address.map(|a| a.township.as_str())),
        Value::from(address.map(|a| a.village.as_str())),
        Value::from(address.map(|a| i64::from(a.neighbourhood))),
    ]
}

/// `column = COALESCE(given, column)` for each of [`PERSONAL_COLUMNS`]: a value not given
/// leaves the one held. `given` names where the new value is, with `{}` for the column.
fn keep_unless_given(given: &str) -> String {
    PERSONAL_COLUMNS
        .split(", ")
        .map(|c| format!("{c} = COALESCE({}, employees.{c})", given.replace("{}", c)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A person's post as the directory writes it: where they serve and whether they still do.
pub(crate) struct Post<'a> {
    pub national_id: &'a str,
    pub name: &'a str,
    pub agency: &'a str,
    pub unit_id: Option<i64>,
    pub title: &'a str,
    pub email: Option<&'a str>,
    /// `current` or `left`.
    pub status: &'a str,
    /// ISO date.
    pub left_on: Option<&'a str>,
    pub left_reason: Option<&'a str>,
}

impl<'a> Post<'a> {
    /// The values of the post's columns after the national ID, then `updated_at`.
    fn values(&self, now_ms: i64) -> [Value<'a>; 9] {
        [
            Value::from(self.name),
            Value::from(self.agency),
            Value::from(self.unit_id),
            Value::from(self.title),
            Value::from(self.email),
            Value::from(self.status),
            Value::from(self.left_on),
            Value::from(self.left_reason),
            Value::Int(now_ms),
        ]
    }
}

/// Creates an agency or renames it; `true` if either happened.
pub(crate) fn upsert_agency(tx: &mut dyn Tx, code: &str, name: &str) -> Result<bool> {
    let n = tx.execute(
        "INSERT INTO agencies (code, name) VALUES (?, ?)
         ON CONFLICT (code) DO UPDATE SET name = excluded.name WHERE agencies.name <> excluded.name",
        &[Value::from(code), Value::from(name)],
    )?;
    Ok(n > 0)
}

/// Whether the agency `code` exists.
pub(crate) fn agency_exists(tx: &mut dyn Tx, code: &str) -> Result<bool> {
    Ok(tx
        .query_opt("SELECT 1 FROM agencies WHERE code = ?", &[Value::from(code)])?
        .is_some())
}

/// The number of an agency's unit, created if it is new.
pub(crate) fn unit_id(tx: &mut dyn Tx, agency: &str, unit: &str) -> Result<i64> {
    tx.execute(
        "INSERT INTO units (agency_code, name) VALUES (?, ?) ON CONFLICT (agency_code, name) DO NOTHING",
        &[Value::from(agency), Value::from(unit)],
    )?;
    tx.query_int(
        "SELECT id FROM units WHERE agency_code = ? AND name = ?",
        &[Value::from(agency), Value::from(unit)],
    )
}

/// Writes a stored person's post and the personal values given.
pub(crate) fn update(tx: &mut dyn Tx, id: i64, post: &Post<'_>, personal: Personal<'_>, now_ms: i64) -> Result<()> {
    let params: Vec<Value<'_>> = post
        .values(now_ms)
        .into_iter()
        .chain(personal)
        .chain([Value::Int(id)])
        .collect();
    let sql = format!(
        "UPDATE employees SET name = ?, agency_code = ?, unit_id = ?, title = ?, email = ?, status = ?,
         left_on = ?, left_reason = ?, updated_at = ?, {} WHERE id = ?",
        keep_unless_given("?")
    );
    tx.execute(&sql, &params).map(drop)
}

/// Stores a new person; returns their number.
pub(crate) fn insert(tx: &mut dyn Tx, post: &Post<'_>, personal: Personal<'_>, now_ms: i64) -> Result<i64> {
    let params: Vec<Value<'_>> = [Value::from(post.national_id)]
        .into_iter()
        .chain(post.values(now_ms))
        .chain(personal)
        .collect();
    tx.insert(
        &format!(
            "INSERT INTO employees (national_id, name, agency_code, unit_id, title, email, status, left_on, left_reason,
                 updated_at, {PERSONAL_COLUMNS})
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        &params,
    )
}

/// Records that a person left office on `on` (ISO date) and ends their officer role.
pub(crate) fn mark_left(tx: &mut dyn Tx, id: i64, on: &str, reason: &str, now_ms: i64) -> Result<()> {
    tx.execute(
        "UPDATE employees SET status = 'left', left_on = ?, left_reason = ?, updated_at = ? WHERE id = ?",
        &[Value::from(on), Value::from(reason), Value::Int(now_ms), Value::Int(id)],
    )?;
    tx.execute("DELETE FROM officers WHERE employee_id = ?", &[Value::Int(id)])
        .map(drop)
}

/// Makes a person an officer of `agency`.
pub(crate) fn set_officer(tx: &mut dyn Tx, id: i64, agency: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO officers (employee_id, agency_code) VALUES (?, ?)
         ON CONFLICT (employee_id) DO UPDATE SET agency_code = excluded.agency_code",
        &[Value::Int(id), Value::from(agency)],
    )
    .map(drop)
}

/// Ends a person's officer role unless they serve (`status` is `current`) in the agency of it.
pub(crate) fn drop_officer_unless_serving(tx: &mut dyn Tx, id: i64, agency: &str, status: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM officers WHERE employee_id = ? AND (agency_code <> ? OR ? <> 'current')",
        &[Value::Int(id), Value::from(agency), Value::from(status)],
    )
    .map(drop)
}

/// How many people the directory holds.
pub(crate) fn count(tx: &mut dyn Tx) -> Result<i64> {
    tx.query_int("SELECT count(*) FROM employees", &[])
}

/// The stored agencies' names among `codes`.
pub(crate) fn agency_names(tx: &mut dyn Tx, codes: &[&str]) -> Result<HashMap<String, String>> {
    let keys: Vec<Value<'_>> = codes.iter().map(|c| Value::from(*c)).collect();
    let mut names = HashMap::new();
    for r in query_in(tx, "SELECT code, name FROM agencies WHERE code IN ({})", &keys)? {
        names.insert(r.text(0)?, r.text(1)?);
    }
    Ok(names)
}

/// The agency `code` and every agency below it (children, their children, …), `code` first.
/// A cycle in the parents (which the import refuses) cannot make it loop: the walk stops at 32
/// levels.
pub(crate) fn agency_subtree(tx: &mut dyn Tx, code: &str) -> Result<Vec<String>> {
    let rows = tx.query(
        "WITH RECURSIVE tree(code, depth) AS (
             SELECT code, 0 FROM agencies WHERE code = ?
             UNION SELECT a.code, t.depth + 1 FROM agencies a JOIN tree t ON a.parent_code = t.code WHERE t.depth < 32)
         SELECT code FROM tree GROUP BY code ORDER BY MIN(depth), code",
        &[Value::from(code)],
    )?;
    rows.into_iter().map(|r| r.text(0)).collect()
}

/// The parent of each agency among `codes` that has one.
pub(crate) fn agency_parents(tx: &mut dyn Tx, codes: &[&str]) -> Result<HashMap<String, String>> {
    let keys: Vec<Value<'_>> = codes.iter().map(|c| Value::from(*c)).collect();
    let mut parents = HashMap::new();
    for r in query_in(
        tx,
        "SELECT code, parent_code FROM agencies WHERE parent_code IS NOT NULL AND code IN ({})",
        &keys,
    )? {
        parents.insert(r.text(0)?, r.text(1)?);
    }
    Ok(parents)
}

/// Sets the parent of the agency `code` (`None`: it has none).
pub(crate) fn set_agency_parent(tx: &mut dyn Tx, code: &str, parent: Option<&str>) -> Result<()> {
    tx.execute(
        "UPDATE agencies SET parent_code = ? WHERE code = ?",
        &[Value::from(parent), Value::from(code)],
    )
    .map(drop)
}

crate::db::row! {
    /// An agency as an officer picks it on the query screen (機關代號).
    pub(crate) struct Agency {
        pub code: String = "code",
        pub name: String = "name",
        pub parent_code: Option<String> = "parent_code",
    }
}

/// The agencies among `codes`, in no particular order.
pub(crate) fn agencies(tx: &mut dyn Tx, codes: &[String]) -> Result<Vec<Agency>> {
    let keys: Vec<Value<'_>> = codes.iter().map(|c| Value::from(c.as_str())).collect();
    let sql = format!("SELECT {} FROM agencies WHERE code IN ({{}})", Agency::COLUMNS);
    crate::db::rows(query_in(tx, &sql, &keys)?, Agency::from_row)
}

/// Creates or renames agencies, `(code, name)` each.
pub(crate) fn upsert_agencies(tx: &mut dyn Tx, agencies: &[(&str, &str)]) -> Result<()> {
    let rows: Vec<Vec<Value<'_>>> = agencies
        .iter()
        .map(|(c, n)| vec![Value::from(*c), Value::from(*n)])
        .collect();
    write_rows(
        tx,
        "INSERT INTO agencies (code, name) VALUES {}
         ON CONFLICT (code) DO UPDATE SET name = excluded.name WHERE agencies.name <> excluded.name",
        2,
        &rows,
    )
}

/// Creates the units not yet stored, `(agency, unit)` each.
pub(crate) fn insert_units(tx: &mut dyn Tx, units: &[(&str, &str)]) -> Result<()> {
    let rows: Vec<Vec<Value<'_>>> = units
        .iter()
        .map(|(a, u)| vec![Value::from(*a), Value::from(*u)])
        .collect();
    write_rows(
        tx,
        "INSERT INTO units (agency_code, name) VALUES {} ON CONFLICT (agency_code, name) DO NOTHING",
        2,
        &rows,
    )
}

/// The numbers of every unit of these agencies, by (agency, unit name).
pub(crate) fn unit_ids(tx: &mut dyn Tx, agencies: &[&str]) -> Result<HashMap<(String, String), i64>> {
    let keys: Vec<Value<'_>> = agencies.iter().map(|a| Value::from(*a)).collect();
    let mut ids = HashMap::new();
    for r in query_in(
        tx,
        "SELECT id, agency_code, name FROM units WHERE agency_code IN ({})",
        &keys,
    )? {
        ids.insert((r.text(1)?, r.text(2)?), r.int(0)?);
    }
    Ok(ids)
}

/// The stored number of each of these national IDs that the directory holds.
pub(crate) fn ids_of(tx: &mut dyn Tx, national_ids: &[&str]) -> Result<HashMap<String, i64>> {
    let keys: Vec<Value<'_>> = national_ids.iter().map(|n| Value::from(*n)).collect();
    let mut ids = HashMap::with_capacity(keys.len());
    for r in query_in(
        tx,
        "SELECT id, national_id FROM employees WHERE national_id IN ({})",
        &keys,
    )? {
        ids.insert(r.text(1)?, r.int(0)?);
    }
    Ok(ids)
}

/// The agency each of these people is an officer of, for those who are.
pub(crate) fn officer_agencies(tx: &mut dyn Tx, ids: &[i64]) -> Result<HashMap<i64, String>> {
    let keys: Vec<Value<'_>> = ids.iter().map(|id| Value::Int(*id)).collect();
    let mut agencies = HashMap::new();
    for r in query_in(
        tx,
        "SELECT employee_id, agency_code FROM officers WHERE employee_id IN ({})",
        &keys,
    )? {
        agencies.insert(r.int(0)?, r.text(1)?);
    }
    Ok(agencies)
}

/// Ends these people's officer roles.
pub(crate) fn drop_officers(tx: &mut dyn Tx, ids: &[i64]) -> Result<()> {
    let keys: Vec<Value<'_>> = ids.iter().map(|id| Value::Int(*id)).collect();
    for_batches(&keys, |chunk| {
        let sql = format!("DELETE FROM officers WHERE employee_id IN ({})", in_list(chunk.len()));
        tx.execute(&sql, chunk).map(drop)
    })
}

/// Makes people officers, `(employee, agency)` each.
pub(crate) fn set_officers(tx: &mut dyn Tx, officers: &[(i64, &str)]) -> Result<()> {
    let rows: Vec<Vec<Value<'_>>> = officers
        .iter()
        .map(|(id, a)| vec![Value::Int(*id), Value::from(*a)])
        .collect();
    write_rows(
        tx,
        "INSERT INTO officers (employee_id, agency_code) VALUES {}
         ON CONFLICT (employee_id) DO UPDATE SET agency_code = excluded.agency_code",
        2,
        &rows,
    )
}

/// The bulk writer of people: one multi-row statement for one batch of them (at most
/// [`BATCH_ROWS`](crate::store::BATCH_ROWS)), all stored already or all new, all with the
/// personal columns or all without.
pub(crate) struct StaffWriter {
    sql: String,
    personal: bool,
}

/// The post columns the bulk writer sets.
const POST_COLUMNS: &str =
    "national_id, name, agency_code, unit_id, title, email, status, left_on, left_reason, updated_at";

impl StaffWriter {
    /// New people by a plain insert (the caller has read who is stored, in this transaction),
    /// or stored ones by an upsert; `personal`: whether the six personal columns are written
    /// (a stored person written without them keeps theirs, a new one has them empty).
    pub(crate) fn new(stored: bool, personal: bool) -> Self {
        let columns = if personal {
            format!("{POST_COLUMNS}, {PERSONAL_COLUMNS}")
        } else {
            POST_COLUMNS.to_owned()
        };
        let mut sql = format!("INSERT INTO employees ({columns}) VALUES {{}}");
        if stored {
            sql.push_str(
                " ON CONFLICT (national_id) DO UPDATE SET name = excluded.name, agency_code = excluded.agency_code,
                 unit_id = excluded.unit_id, title = excluded.title, email = excluded.email, status = excluded.status,
                 left_on = excluded.left_on, left_reason = excluded.left_reason, updated_at = excluded.updated_at",
            );
            if personal {
                sql.push_str(", ");
                sql.push_str(&keep_unless_given("excluded.{}"));
            }
        }
        StaffWriter { sql, personal }
    }

    /// Writes one batch: each person's post and, if this writer writes them, the personal
    /// values (`None`: not given).
    pub(crate) fn write<'a>(
        &self,
        tx: &mut dyn Tx,
        people: impl ExactSizeIterator<Item = (Post<'a>, [Option<&'a Value<'a>>; 6])>,
        now_ms: i64,
    ) -> Result<()> {
        let width = if self.personal { 16 } else { 10 };
        let rows = people.len();
        let mut params: Vec<Value<'_>> = Vec::with_capacity(rows * width);
        for (post, given) in people {
            params.push(Value::from(post.national_id));
            params.extend(post.values(now_ms));
            if self.personal {
                params.extend(given.iter().map(|v| v.cloned().unwrap_or(Value::Null)));
            }
        }
        let sql = self.sql.replace("{}", &values_rows(rows, width));
        tx.execute(&sql, &params).map(drop)
    }
}

/// Runs `f` with the employees table's secondary indexes (those made by `CREATE INDEX`)
/// dropped, and makes them again from their stored definitions after it, in the same SQLite
/// transaction. SQLite only: on PostgreSQL the drop would lock out readers.
///
/// A bulk load inserted row by row lands all over an index whose order is not the file's
/// (`employees_agency` by agency and status: a file of 100,000 people cycling through 100
/// agencies split a page at almost every row), which doubled the time of a first import; an
/// index made at the end sorts its keys once. The transaction holds SQLite's only write lock
/// and readers keep their snapshot, so no one sees the table without its indexes; a failure
/// rolls the drop back with everything else. The unique constraints stay: they check the rows.
pub(crate) fn without_indexes<T>(tx: &mut dyn Tx, f: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
    let indexes = tx.query(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'employees' AND sql IS NOT NULL",
        &[],
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

crate::db::row! {
    /// One of an agency's people as its officers list them.
    pub(crate) struct Staff {
        pub id: i64 = "e.id",
        pub national_id: NationalId = "e.national_id",
        pub name: String = "e.name",
        pub unit: Option<String> = "u.name",
        pub title: String = "e.title",
        pub status: String = "e.status",
        pub has_email: bool = "e.email IS NOT NULL",
        pub consented: bool = "EXISTS (SELECT 1 FROM consent_agreements ca WHERE ca.employee_id = e.id)",
    }
}

/// A page of an agency's people, by unit and name: at most `limit` from `offset`, with how
/// many there are in all.
pub(crate) fn staff_of(tx: &mut dyn Tx, agency: &str, offset: u64, limit: u32) -> Result<(Vec<Staff>, u64)> {
    let sql = format!(
        "SELECT {} FROM employees e LEFT JOIN units u ON u.id = e.unit_id
         WHERE e.agency_code = ? ORDER BY u.name, e.name, e.id LIMIT ? OFFSET ?",
        Staff::COLUMNS
    );
    let rows = tx.query(
        &sql,
        &[
            Value::from(agency),
            Value::Int(i64::from(limit)),
            Value::Int(offset as i64),
        ],
    )?;
    let total = tx.query_int(
        "SELECT COUNT(*) FROM employees WHERE agency_code = ?",
        &[Value::from(agency)],
    )?;
    Ok((crate::db::rows(rows, Staff::from_row)?, total as u64))
}
