//! The audit trail's table. Entries are appended by the acts they record, in the same
//! transaction (see [`portal::audit`](crate::portal::audit) for what is recorded, and
//! [`portal::trail`](crate::portal::trail) for how an officer reads it). An entry's agency is
//! its subject's (or, without one, the acting employee's), looked up in the same statement.

use crate::error::Result;
use crate::store::{Tx, Value};
use crate::types::NationalId;

/// Appends one entry.
pub(crate) fn record(
    tx: &mut dyn Tx,
    at_ms: i64,
    actor: Option<i64>,
    action: &str,
    subject: Option<i64>,
    object: Option<&str>,
    detail: Option<&str>,
) -> Result<()> {
    append(tx, at_ms, (actor, None), action, subject, object, detail)
}

/// Appends one entry for an act of the portal's operator: someone running `ecpa` on the
/// database (an import, a purge, a backup), who is not an employee and so cannot be an
/// `actor`. `operator` is the name they gave (`--operator`) or their login on the machine;
/// `subject`, the employee whose data the act touched, if one did.
pub(crate) fn record_operator(
    tx: &mut dyn Tx,
    at_ms: i64,
    operator: &str,
    action: &str,
    subject: Option<i64>,
    object: Option<&str>,
    detail: Option<&str>,
) -> Result<()> {
    append(tx, at_ms, (None, Some(operator)), action, subject, object, detail)
}

/// The one writer of both: who acted is an employee or an operator (`by`), never both.
fn append(
    tx: &mut dyn Tx,
    at_ms: i64,
    by: (Option<i64>, Option<&str>),
    action: &str,
    subject: Option<i64>,
    object: Option<&str>,
    detail: Option<&str>,
) -> Result<()> {
    let (actor, operator) = by;
    tx.execute(
        "INSERT INTO audit (at, actor, operator, action, subject, agency_code, object, detail)
         VALUES (?, ?, ?, ?, ?, (SELECT agency_code FROM employees WHERE id = ?), ?, ?)",
        &[
            Value::Int(at_ms),
            Value::from(actor),
            Value::from(operator),
            Value::from(action),
            Value::from(subject),
            Value::from(subject.or(actor)),
            Value::from(object),
            Value::from(detail),
        ],
    )?;
    Ok(())
}

/// One entry of [`record_many`]: whose data, their agency, what it touched, a detail.
pub(crate) struct Touched<'a> {
    pub subject: i64,
    pub agency_code: &'a str,
    pub object: Option<String>,
    pub detail: Option<String>,
}

/// Appends one entry per person for one act of `actor`: an officer's list or bulk act, which
/// touched each person shown or named. Written many rows per statement.
pub(crate) fn record_many(tx: &mut dyn Tx, at_ms: i64, actor: i64, action: &str, rows: &[Touched<'_>]) -> Result<()> {
    let values: Vec<Vec<Value<'_>>> = rows
        .iter()
        .map(|t| {
            vec![
                Value::Int(at_ms),
                Value::Int(actor),
                Value::from(action),
                Value::Int(t.subject),
                Value::from(t.agency_code),
                Value::from(t.object.as_deref()),
                Value::from(t.detail.as_deref()),
            ]
        })
        .collect();
    crate::db::write_rows(
        tx,
        "INSERT INTO audit (at, actor, action, subject, agency_code, object, detail) VALUES {}",
        7,
        &values,
    )
}

crate::db::row! {
    /// One entry as it is read back, with the acting and the affected person's ID and name.
    pub(crate) struct Entry {
        pub at: time::OffsetDateTime = "a.at",
        /// The acting employee's number, if an employee acted.
        pub actor: Option<i64> = "a.actor",
        pub actor_id: Option<NationalId> = "ae.national_id",
        pub actor_name: Option<String> = "ae.name",
        pub action: String = "a.action",
        pub subject_id: Option<NationalId> = "se.national_id",
        pub subject_name: Option<String> = "se.name",
        pub object: Option<String> = "a.object",
        pub detail: Option<String> = "a.detail",
        pub operator: Option<String> = "a.operator",
    }
}

/// Whose entries a reader gets: an agency's, or those about one person.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scope<'a> {
    /// Every entry of the agency.
    Agency(&'a str),
    /// The entries whose subject is this employee.
    Subject(i64),
}

/// Entries in `scope` from `from_ms` up to (not including) `to_ms`, of `action` if given,
/// newest first, at most `limit`.
pub(crate) fn entries(
    tx: &mut dyn Tx,
    scope: Scope<'_>,
    from_ms: i64,
    to_ms: i64,
    action: Option<&str>,
    limit: i64,
) -> Result<Vec<Entry>> {
    let (scope_sql, scope) = match scope {
        Scope::Agency(code) => ("a.agency_code = ?", Value::from(code)),
        Scope::Subject(id) => ("a.subject = ?", Value::Int(id)),
    };
    let sql = format!(
        "SELECT {} FROM audit a LEFT JOIN employees ae ON ae.id = a.actor LEFT JOIN employees se ON se.id = a.subject
         WHERE {scope_sql} AND a.at >= ? AND a.at < ? AND (CAST(? AS TEXT) IS NULL OR a.action = ?)
         ORDER BY a.at DESC, a.id DESC LIMIT ?",
        Entry::COLUMNS
    );
    let rows = tx.query(
        &sql,
        &[
            scope,
            Value::Int(from_ms),
            Value::Int(to_ms),
            Value::from(action),
            Value::from(action),
            Value::Int(limit),
        ],
    )?;
    crate::db::rows(rows, Entry::from_row)
}

/// Deletes the entries from before `before_ms`; returns how many.
pub(crate) fn purge(tx: &mut dyn Tx, before_ms: i64) -> Result<u64> {
    tx.execute("DELETE FROM audit WHERE at < ?", &[Value::Int(before_ms)])
}
