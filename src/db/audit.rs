//! The audit trail's table. Entries are appended by the acts they record, in the same
//! transaction (see [`portal::audit`](crate::portal::audit) for what is recorded, and
//! [`portal::trail`](crate::portal::trail) for how an officer reads it). An entry's agency is
//! its subject's (or, without one, the acting employee's), looked up in the same statement.

use crate::error::Result;
use crate::store::{Tx, Value};

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
    tx.execute(
        "INSERT INTO audit (at, actor, action, subject, agency_code, object, detail)
         VALUES (?, ?, ?, ?, (SELECT agency_code FROM employees WHERE id = ?), ?, ?)",
        &[
            Value::Int(at_ms),
            Value::from(actor),
            Value::from(action),
            Value::from(subject),
            Value::from(subject.or(actor)),
            Value::from(object),
            Value::from(detail),
        ],
    )?;
    Ok(())
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
    tx.execute(
        "INSERT INTO audit (at, operator, action, subject, agency_code, object, detail)
         VALUES (?, ?, ?, ?, (SELECT agency_code FROM employees WHERE id = ?), ?, ?)",
        &[
            Value::Int(at_ms),
            Value::from(operator),
            Value::from(action),
            Value::from(subject),
            Value::from(subject),
            Value::from(object),
            Value::from(detail),
        ],
    )?;
    Ok(())
}
