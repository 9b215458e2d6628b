//! eCPA accounts' recovery links (忘記帳號或密碼): single-use, kept as SHA-256 hashes of their
//! tokens like the registration's links, each for one employee.

use crate::error::Result;
use crate::store::{Tx, Value};

/// Writes a new link for `employee_id`, after making its earlier unused ones expire.
pub(crate) fn insert_link(
    tx: &mut dyn Tx,
    token_hash: &str,
    employee_id: i64,
    now_ms: i64,
    expires_ms: i64,
) -> Result<()> {
    tx.execute(
        "UPDATE account_links SET expires_at = ? WHERE employee_id = ? AND used_at IS NULL AND expires_at > ?",
        &[Value::Int(now_ms), Value::Int(employee_id), Value::Int(now_ms)],
    )?;
    tx.execute(
        "INSERT INTO account_links (token_hash, employee_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        &[
            Value::from(token_hash),
            Value::Int(employee_id),
            Value::Int(now_ms),
            Value::Int(expires_ms),
        ],
    )?;
    Ok(())
}

crate::db::row! {
    /// A link as it is checked before it is used.
    pub(crate) struct AccountLink {
        pub employee_id: i64 = "employee_id",
        pub expires_at: i64 = "expires_at",
        pub used_at: Option<i64> = "used_at",
    }
}

/// The link whose token hashes to `token_hash`.
pub(crate) fn link(tx: &mut dyn Tx, token_hash: &str) -> Result<Option<AccountLink>> {
    let sql = format!(
        "SELECT {} FROM account_links WHERE token_hash = ?",
        AccountLink::COLUMNS
    );
    tx.query_opt(&sql, &[Value::from(token_hash)])?
        .map(AccountLink::from_row)
        .transpose()
}

/// Marks the link used at `now_ms`.
pub(crate) fn use_link(tx: &mut dyn Tx, token_hash: &str, now_ms: i64) -> Result<()> {
    tx.execute(
        "UPDATE account_links SET used_at = ? WHERE token_hash = ?",
        &[Value::Int(now_ms), Value::from(token_hash)],
    )
    .map(drop)
}
