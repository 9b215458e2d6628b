//! The audit trail: who read or changed whose data, and when. This module writes it; an
//! officer reads it through [`trail`](super::trail).
//!
//! Every change, and every read of another person's data (an officer's query, list or view),
//! is written in the same transaction as the act itself, so the trail cannot miss an act that
//! happened. A person's reads of their own lists are not recorded: they are the person's own.
//! Entries never hold a full national ID, a password or an order's text.

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

/// Checks an operator's name for the audit trail: 1 to 100 characters, no control characters.
pub(crate) fn operator_name(name: &str) -> Result<String> {
    crate::types::text::text_field("操作人員 operator", name, 100)
}
