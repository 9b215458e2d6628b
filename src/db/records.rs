//! The personnel record and its proofing (校對): the record's fields, drafts, submissions,
//! corrections and the officers' to-do items.
//!
//! A few fields of the record are kept in the directory's own columns of `employees` (see
//! [`EmployeeColumn`]), and two are read from the directory until the record holds a value of
//! its own (the agency and unit served in: [`agency_name`], [`unit_name`]); which field is kept
//! where is the rules' decision ([`portal::proofing`](crate::portal::proofing)).

use time::OffsetDateTime;

use crate::error::Result;
use crate::store::{Tx, Value};
use crate::types::{NationalId, RocDate};

/// The columns of `employees` that hold a field of the record. The SQL that reads or writes
/// such a field names its column from this fixed list only, never from input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EmployeeColumn {
    /// `name` (姓名).
    Name,
    /// `title` (職稱).
    Title,
    /// `email` (電子郵件信箱).
    Email,
}

impl EmployeeColumn {
    /// The column's name in SQL.
    fn sql(self) -> &'static str {
        match self {
            EmployeeColumn::Name => "name",
            EmployeeColumn::Title => "title",
            EmployeeColumn::Email => "email",
        }
    }
}

/// A field of the record kept on the employee row: `None` if there is no such employee or the
/// column is empty. The column name comes from the fixed list [`EmployeeColumn`], never from
/// input, which is what makes formatting it into the statement safe.
pub(crate) fn employee_column(tx: &mut dyn Tx, employee_id: i64, column: EmployeeColumn) -> Result<Option<String>> {
    let sql = format!("SELECT {} FROM employees WHERE id = ?", column.sql());
    let rows = tx.query(&sql, &[Value::Int(employee_id)])?;
    crate::db::first::<Option<String>>(rows).map(Option::flatten)
}

/// Sets a field of the record kept on the employee row; `false` if there is no such employee.
/// The column name comes from the fixed list [`EmployeeColumn`], never from input, which is what
/// makes formatting it into the statement safe.
pub(crate) fn set_employee_column(
    tx: &mut dyn Tx,
    employee_id: i64,
    column: EmployeeColumn,
    value: &str,
) -> Result<bool> {
    let sql = format!("UPDATE employees SET {} = ? WHERE id = ?", column.sql());
    let n = tx.execute(&sql, &[Value::from(value), Value::Int(employee_id)])?;
    Ok(n > 0)
}

/// The name of the agency an employee serves in, the default of the record's agency fields.
pub(crate) fn agency_name(tx: &mut dyn Tx, employee_id: i64) -> Result<Option<String>> {
    let rows = tx.query(
        "SELECT a.name FROM employees e JOIN agencies a ON a.code = e.agency_code WHERE e.id = ?",
        &[Value::Int(employee_id)],
    )?;
    crate::db::first(rows)
}

/// The name of the unit an employee serves in, the default of the record's unit fields.
pub(crate) fn unit_name(tx: &mut dyn Tx, employee_id: i64) -> Result<Option<String>> {
    let rows = tx.query(
        "SELECT u.name FROM employees e JOIN units u ON u.id = e.unit_id WHERE e.id = ?",
        &[Value::Int(employee_id)],
    )?;
    crate::db::first(rows)
}

/// The value the record holds for a field kept in `record_fields`, if it holds one.
pub(crate) fn field_value(tx: &mut dyn Tx, employee_id: i64, category: &str, field: &str) -> Result<Option<String>> {
    let rows = tx.query(
        "SELECT value FROM record_fields WHERE employee_id = ? AND category = ? AND field = ?",
        &[Value::Int(employee_id), Value::from(category), Value::from(field)],
    )?;
    crate::db::first(rows)
}

/// Sets a field kept in `record_fields`, replacing the value it held.
pub(crate) fn set_field(tx: &mut dyn Tx, employee_id: i64, category: &str, field: &str, value: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO record_fields (employee_id, category, field, value) VALUES (?, ?, ?, ?)
         ON CONFLICT (employee_id, category, field) DO UPDATE SET value = excluded.value",
        &[
            Value::Int(employee_id),
            Value::from(category),
            Value::from(field),
            Value::from(value),
        ],
    )
    .map(drop)
}

/// The new value (修改後) staged for a field, if a correction of it is staged.
pub(crate) fn staged_value(tx: &mut dyn Tx, employee_id: i64, category: &str, field: &str) -> Result<Option<String>> {
    let rows = tx.query(
        "SELECT after_value FROM proofing_drafts WHERE employee_id = ? AND category = ? AND field = ?",
        &[Value::Int(employee_id), Value::from(category), Value::from(field)],
    )?;
    crate::db::first(rows)
}

/// A correction to stage: what [`stage_draft`] writes.
pub(crate) struct NewDraft<'a> {
    /// Whose record.
    pub employee_id: i64,
    /// The field's category.
    pub category: &'a str,
    /// The field's key.
    pub field: &'a str,
    /// 修改前: the value recorded, if any.
    pub before: Option<&'a str>,
    /// 修改後: the value proposed.
    pub after: &'a str,
    /// When, in Unix milliseconds.
    pub staged_at_ms: i64,
}

/// Stages a correction of a field, replacing one staged before.
pub(crate) fn stage_draft(tx: &mut dyn Tx, d: &NewDraft<'_>) -> Result<()> {
    tx.execute(
        "INSERT INTO proofing_drafts (employee_id, category, field, before_value, after_value, staged_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (employee_id, category, field) DO UPDATE SET before_value = excluded.before_value,
             after_value = excluded.after_value, staged_at = excluded.staged_at",
        &[
            Value::Int(d.employee_id),
            Value::from(d.category),
            Value::from(d.field),
            Value::from(d.before),
            Value::from(d.after),
            Value::Int(d.staged_at_ms),
        ],
    )
    .map(drop)
}

/// Drops the correction staged for a field; `false` if none was.
pub(crate) fn discard_draft(tx: &mut dyn Tx, employee_id: i64, category: &str, field: &str) -> Result<bool> {
    let n = tx.execute(
        "DELETE FROM proofing_drafts WHERE employee_id = ? AND category = ? AND field = ?",
        &[Value::Int(employee_id), Value::from(category), Value::from(field)],
    )?;
    Ok(n > 0)
}

crate::db::row! {
    /// A staged correction.
    pub(crate) struct Draft {
        pub category: String = "category",
        pub field: String = "field",
        /// 修改前.
        pub before: Option<String> = "before_value",
        /// 修改後.
        pub after: String = "after_value",
    }
}

/// Every correction an employee has staged, by category and field.
pub(crate) fn drafts(tx: &mut dyn Tx, employee_id: i64) -> Result<Vec<Draft>> {
    let sql = format!(
        "SELECT {} FROM proofing_drafts WHERE employee_id = ? ORDER BY category, field",
        Draft::COLUMNS
    );
    let rows = tx.query(&sql, &[Value::Int(employee_id)])?;
    crate::db::rows(rows, Draft::from_row)
}

/// Drops every correction an employee has staged; returns how many.
pub(crate) fn clear_drafts(tx: &mut dyn Tx, employee_id: i64) -> Result<u64> {
    tx.execute(
        "DELETE FROM proofing_drafts WHERE employee_id = ?",
        &[Value::Int(employee_id)],
    )
}

/// When an employee last pressed 校對完成, if ever.
pub(crate) fn last_completed(tx: &mut dyn Tx, employee_id: i64) -> Result<Option<OffsetDateTime>> {
    let rows = tx.query(
        "SELECT MAX(completed_at) FROM proofing_submissions WHERE employee_id = ?",
        &[Value::Int(employee_id)],
    )?;
    crate::db::first::<Option<OffsetDateTime>>(rows).map(Option::flatten)
}

crate::db::row! {
    /// A submission, by number and time.
    pub(crate) struct Submitted {
        pub id: i64 = "id",
        pub completed_at: OffsetDateTime = "completed_at",
    }
}

/// The latest submission without corrections (a confirmation that the record is right) an
/// employee made at `agency_code` on the day `day_iso`, if any.
pub(crate) fn confirmation_on(
    tx: &mut dyn Tx,
    employee_id: i64,
    agency_code: &str,
    day_iso: &str,
) -> Result<Option<Submitted>> {
    let sql = format!(
        "SELECT {} FROM proofing_submissions
         WHERE employee_id = ? AND agency_code = ? AND completed_on = ? AND corrections = 0
         ORDER BY id DESC LIMIT 1",
        Submitted::COLUMNS
    );
    let row = tx.query_opt(
        &sql,
        &[Value::Int(employee_id), Value::from(agency_code), Value::from(day_iso)],
    )?;
    row.map(Submitted::from_row).transpose()
}

/// A submission to record: what [`insert_submission`] writes.
pub(crate) struct NewSubmission<'a> {
    /// Whose record.
    pub employee_id: i64,
    /// The agency whose personnel office processes it.
    pub agency_code: &'a str,
    /// When 校對完成 was pressed, in Unix milliseconds.
    pub completed_at_ms: i64,
    /// That day in Taiwan (ISO).
    pub completed_on: &'a str,
    /// How many corrections it holds (all of them pending).
    pub corrections: i64,
}

/// Records a submission, all its corrections pending; returns its number.
pub(crate) fn insert_submission(tx: &mut dyn Tx, s: &NewSubmission<'_>) -> Result<i64> {
    tx.insert(
        "INSERT INTO proofing_submissions (employee_id, agency_code, completed_at, completed_on, corrections, pending)
         VALUES (?, ?, ?, ?, ?, ?)",
        &[
            Value::Int(s.employee_id),
            Value::from(s.agency_code),
            Value::Int(s.completed_at_ms),
            Value::from(s.completed_on),
            Value::Int(s.corrections),
            Value::Int(s.corrections),
        ],
    )
}

/// Files staged corrections as pending corrections of submission `submission_id`, one
/// statement each.
pub(crate) fn insert_corrections(
    tx: &mut dyn Tx,
    submission_id: i64,
    employee_id: i64,
    agency_code: &str,
    drafts: &[Draft],
) -> Result<()> {
    for d in drafts {
        tx.execute(
            "INSERT INTO proofing_corrections (submission_id, employee_id, agency_code, category, field, before_value, after_value, status)
             VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')",
            &[
                Value::Int(submission_id),
                Value::Int(employee_id),
                Value::from(agency_code),
                Value::from(&d.category),
                Value::from(&d.field),
                Value::from(d.before.as_deref()),
                Value::from(&d.after),
            ],
        )?;
    }
    Ok(())
}

/// Puts submission `submission_id` on the to-do list of `agency_code`'s personnel office.
pub(crate) fn open_todo(
    tx: &mut dyn Tx,
    agency_code: &str,
    submission_id: i64,
    employee_id: i64,
    now_ms: i64,
) -> Result<()> {
    tx.execute(
        "INSERT INTO todos (agency_code, kind, ref_id, employee_id, created_at) VALUES (?, 'proofing', ?, ?, ?)",
        &[
            Value::from(agency_code),
            Value::Int(submission_id),
            Value::Int(employee_id),
            Value::Int(now_ms),
        ],
    )
    .map(drop)
}

/// Closes the open to-do item of submission `submission_id`; `false` if none was open.
pub(crate) fn close_todo(tx: &mut dyn Tx, submission_id: i64, now_ms: i64) -> Result<bool> {
    let n = tx.execute(
        "UPDATE todos SET done_at = ? WHERE kind = 'proofing' AND ref_id = ? AND done_at IS NULL",
        &[Value::Int(now_ms), Value::Int(submission_id)],
    )?;
    Ok(n > 0)
}

crate::db::row! {
    /// An open to-do item of a personnel office: a submission to process.
    pub(crate) struct Todo {
        pub id: i64 = "t.id",
        pub submission_id: i64 = "t.ref_id",
        pub national_id: NationalId = "e.national_id",
        pub name: String = "e.name",
        /// Corrections of the submission still waiting.
        pub pending: i64 = "s.pending",
        pub created_at: OffsetDateTime = "t.created_at",
    }
}

/// The open to-do items of the personnel offices of `agencies`, oldest first.
pub(crate) fn open_todos(tx: &mut dyn Tx, agencies: &[String]) -> Result<Vec<Todo>> {
    let sql = format!(
        "SELECT {} FROM todos t JOIN employees e ON e.id = t.employee_id JOIN proofing_submissions s ON s.id = t.ref_id
         WHERE t.agency_code IN ({}) AND t.done_at IS NULL AND t.kind = 'proofing' ORDER BY t.created_at, t.id",
        Todo::COLUMNS,
        crate::db::in_list(agencies.len())
    );
    let keys: Vec<Value<'_>> = agencies.iter().map(|a| Value::from(a.as_str())).collect();
    crate::db::rows(tx.query(&sql, &keys)?, Todo::from_row)
}

crate::db::row! {
    /// A current employee on the officer's query screen, with their latest submission in a
    /// range of days. The `pending` expression binds two parameters (the range), ahead of the
    /// statement's own.
    pub(crate) struct Proofed {
        pub employee_id: i64 = "e.id",
        pub agency_code: String = "e.agency_code",
        pub national_id: NationalId = "e.national_id",
        pub name: String = "e.name",
        pub unit: Option<String> = "u.name",
        pub submission_id: Option<i64> = "s.id",
        pub proofed_on: Option<RocDate> = "s.completed_on",
        pub corrections: Option<i64> = "s.corrections",
        /// Corrections waiting in any of their submissions in the range.
        pub pending: Option<i64> = "(SELECT SUM(s3.pending) FROM proofing_submissions s3
                     WHERE s3.employee_id = e.id AND s3.agency_code = e.agency_code AND s3.completed_on >= ? AND s3.completed_on <= ?)",
    }
}

/// Each current employee of `agencies` (of units whose name is `LIKE unit_pattern`, `\`
/// escaping, if given) with their latest submission at that agency completed between the ISO
/// days `from` and `to`, by agency, unit and name.
pub(crate) fn proofing_states(
    tx: &mut dyn Tx,
    agencies: &[String],
    from: &str,
    to: &str,
    unit_pattern: Option<&str>,
) -> Result<Vec<Proofed>> {
    let sql = format!(
        "SELECT {}
         FROM employees e
         LEFT JOIN units u ON u.id = e.unit_id
         LEFT JOIN proofing_submissions s ON s.id = (
             SELECT MAX(s2.id) FROM proofing_submissions s2
             WHERE s2.employee_id = e.id AND s2.agency_code = e.agency_code AND s2.completed_on >= ? AND s2.completed_on <= ?)
         WHERE e.agency_code IN ({}) AND e.status = 'current' AND (CAST(? AS TEXT) IS NULL OR u.name LIKE ? ESCAPE '\\')
         ORDER BY e.agency_code, u.name, e.name, e.id",
        Proofed::COLUMNS,
        crate::db::in_list(agencies.len())
    );
    let mut params = vec![Value::from(from), Value::from(to), Value::from(from), Value::from(to)];
    params.extend(agencies.iter().map(|a| Value::from(a.as_str())));
    params.extend([Value::from(unit_pattern), Value::from(unit_pattern)]);
    crate::db::rows(tx.query(&sql, &params)?, Proofed::from_row)
}

crate::db::row! {
    /// A submitted correction and whose record it is.
    pub(crate) struct Correction {
        pub id: i64 = "c.id",
        pub submission_id: i64 = "c.submission_id",
        pub national_id: NationalId = "e.national_id",
        pub name: String = "e.name",
        pub category: String = "c.category",
        pub field: String = "c.field",
        /// 修改前.
        pub before: Option<String> = "c.before_value",
        /// 修改後.
        pub after: String = "c.after_value",
        /// `pending`, `approved` or `rejected`.
        pub status: String = "c.status",
        pub reject_reason: Option<String> = "c.reject_reason",
        pub processed_at: Option<OffsetDateTime> = "c.processed_at",
        /// The agency whose personnel office processes it.
        pub agency_code: String = "c.agency_code",
        pub employee_id: i64 = "c.employee_id",
    }
}

fn correction_sql(filter: &str) -> String {
    format!(
        "SELECT {} FROM proofing_corrections c JOIN employees e ON e.id = c.employee_id {filter}",
        Correction::COLUMNS
    )
}

/// The corrections of submission `submission_id`, in order (each with its agency, which the
/// reader checks).
pub(crate) fn submission_corrections(tx: &mut dyn Tx, submission_id: i64) -> Result<Vec<Correction>> {
    let sql = correction_sql("WHERE c.submission_id = ? ORDER BY c.id");
    let rows = tx.query(&sql, &[Value::Int(submission_id)])?;
    crate::db::rows(rows, Correction::from_row)
}

/// Every correction an employee filed, newest first.
pub(crate) fn corrections_of(tx: &mut dyn Tx, employee_id: i64) -> Result<Vec<Correction>> {
    let sql = correction_sql("WHERE c.employee_id = ? ORDER BY c.id DESC");
    crate::db::rows(tx.query(&sql, &[Value::Int(employee_id)])?, Correction::from_row)
}

/// The correction numbered `id`, if there is one.
pub(crate) fn correction(tx: &mut dyn Tx, id: i64) -> Result<Option<Correction>> {
    let row = tx.query_opt(&correction_sql("WHERE c.id = ?"), &[Value::Int(id)])?;
    row.map(Correction::from_row).transpose()
}

/// Records an officer's decision on a pending correction (`status` `approved` or `rejected`,
/// with the reason of a rejection); `false` if it was no longer pending.
pub(crate) fn decide_correction(
    tx: &mut dyn Tx,
    id: i64,
    status: &str,
    processed_by: i64,
    now_ms: i64,
    reject_reason: Option<&str>,
) -> Result<bool> {
    let n = tx.execute(
        "UPDATE proofing_corrections SET status = ?, processed_by = ?, processed_at = ?, reject_reason = ?
         WHERE id = ? AND status = 'pending'",
        &[
            Value::from(status),
            Value::Int(processed_by),
            Value::Int(now_ms),
            Value::from(reject_reason),
            Value::Int(id),
        ],
    )?;
    Ok(n > 0)
}

/// Counts one correction of submission `submission_id` as processed; returns how many still
/// wait. A submission that does not exist means damaged data.
pub(crate) fn one_processed(tx: &mut dyn Tx, submission_id: i64) -> Result<i64> {
    tx.query_int(
        "UPDATE proofing_submissions SET pending = pending - 1 WHERE id = ? RETURNING pending",
        &[Value::Int(submission_id)],
    )
}
