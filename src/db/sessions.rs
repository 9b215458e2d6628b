//! Sessions: opened by a login, seen by every call, ended by logout, expiry or removal.

#[allow(unused_imports)]
use crate::error::Result;
#[allow(unused_imports)]
use crate::store::{Tx, Value};

// -- for portal/registration.rs

/// Ends the open NHI-card sessions of the person `national_id` at `now_ms` (their password
/// was reset); returns how many ended.
pub(crate) fn end_nhi_card_sessions_of(
    tx: &mut dyn Tx,
    national_id: &crate::types::NationalId,
    now_ms: i64,
) -> Result<u64> {
    tx.execute(
        "UPDATE sessions SET ended_at = ? WHERE method = 'nhi_card' AND ended_at IS NULL
             AND employee_id = (SELECT id FROM employees WHERE national_id = ?)",
        &[Value::Int(now_ms), Value::from(national_id.reveal())],
    )
}

// -- for portal/revoke.rs

/// Ends `employee`'s open sessions opened by `method` (`nhi_card`, `certificate`, …) at
/// `now_ms`; returns how many ended.
pub(crate) fn end_by_method(tx: &mut dyn Tx, employee: i64, method: &str, now_ms: i64) -> Result<u64> {
    tx.execute(
        "UPDATE sessions SET ended_at = ? WHERE employee_id = ? AND method = ? AND ended_at IS NULL",
        &[Value::Int(now_ms), Value::Int(employee), Value::from(method)],
    )
}
