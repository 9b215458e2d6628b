//! Sessions: opened by a login, seen by every call, ended by logout, expiry or removal. The
//! table keeps a token's SHA-256, never the token.

use crate::error::Result;
use crate::store::{Tx, Value};
use crate::types::{AssuranceLevel, NationalId};

/// Ends the open NHI-card sessions of the person `national_id` at `now_ms` (their password
/// was reset); returns how many ended.
pub(crate) fn end_nhi_card_sessions_of(tx: &mut dyn Tx, national_id: &NationalId, now_ms: i64) -> Result<u64> {
    tx.execute(
        "UPDATE sessions SET ended_at = ? WHERE method = 'nhi_card' AND ended_at IS NULL
             AND employee_id = (SELECT id FROM employees WHERE national_id = ?)",
        &[Value::Int(now_ms), Value::from(national_id.reveal())],
    )
}

/// Ends `employee`'s open sessions opened by `method` (`nhi_card`, `certificate`, …) at
/// `now_ms`; returns how many ended.
pub(crate) fn end_by_method(tx: &mut dyn Tx, employee: i64, method: &str, now_ms: i64) -> Result<u64> {
    tx.execute(
        "UPDATE sessions SET ended_at = ? WHERE employee_id = ? AND method = ? AND ended_at IS NULL",
        &[Value::Int(now_ms), Value::Int(employee), Value::from(method)],
    )
}

crate::db::row! {
    /// A session with what every call checks of its holder: whether they still serve, and
    /// whether they are an officer of the agency they serve in now.
    pub(crate) struct Holder {
        pub employee_id: i64 = "s.employee_id",
        pub level: AssuranceLevel = "s.level",
        /// A `LoginMethod`'s stored name.
        pub method: String = "s.method",
        pub last_seen_at: i64 = "s.last_seen_at",
        pub expires_at: i64 = "s.expires_at",
        pub ended_at: Option<i64> = "s.ended_at",
        pub agency_code: String = "e.agency_code",
        /// The employee's `current` or `left`.
        pub status: String = "e.status",
        /// The agency they are an officer of, if it is the one they serve in.
        pub officer_of: Option<String> = "o.agency_code",
        pub card_verified: bool = "s.card_verified",
        pub created_at: time::OffsetDateTime = "s.created_at",
        /// The holder's login before this one, when the session was opened.
        pub previous_login_at: Option<time::OffsetDateTime> = "s.previous_login_at",
    }
}

static BY_TOKEN: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {} FROM sessions s JOIN employees e ON e.id = s.employee_id
         LEFT JOIN officers o ON o.employee_id = e.id AND o.agency_code = e.agency_code
         WHERE s.token_hash = ?",
        Holder::COLUMNS
    )
});

/// The session a token hash names, ended or not.
pub(crate) fn by_token_hash(tx: &mut dyn Tx, hash: &str) -> Result<Option<Holder>> {
    tx.query_opt(&BY_TOKEN, &[Value::from(hash)])?
        .map(Holder::from_row)
        .transpose()
}

/// Marks a session seen at `now_ms` (unless a later call already did).
pub(crate) fn touch(tx: &mut dyn Tx, hash: &str, now_ms: i64) -> Result<()> {
    tx.execute(
        "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ? AND last_seen_at < ?",
        &[Value::Int(now_ms), Value::from(hash), Value::Int(now_ms)],
    )
    .map(drop)
}

/// A session to open.
pub(crate) struct NewSession<'a> {
    pub token_hash: &'a str,
    pub employee_id: i64,
    pub level: AssuranceLevel,
    /// A `LoginMethod`'s stored name.
    pub method: &'a str,
    pub now_ms: i64,
    pub expires_ms: i64,
    pub card_verified: bool,
    /// The holder's login before this one, if any.
    pub previous_login_ms: Option<i64>,
}

/// Opens a session.
pub(crate) fn open(tx: &mut dyn Tx, s: &NewSession<'_>) -> Result<()> {
    tx.execute(
        "INSERT INTO sessions (token_hash, employee_id, level, method, created_at, last_seen_at, expires_at, card_verified,
             previous_login_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            Value::from(s.token_hash),
            Value::Int(s.employee_id),
            Value::from(s.level.as_str()),
            Value::from(s.method),
            Value::Int(s.now_ms),
            Value::Int(s.now_ms),
            Value::Int(s.expires_ms),
            Value::from(s.card_verified),
            Value::from(s.previous_login_ms),
        ],
    )
    .map(drop)
}

/// Ends the session a token hash names, if it is open; `false` if there was none to end.
pub(crate) fn end(tx: &mut dyn Tx, hash: &str, now_ms: i64) -> Result<bool> {
    let n = tx.execute(
        "UPDATE sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL",
        &[Value::Int(now_ms), Value::from(hash)],
    )?;
    Ok(n > 0)
}

/// Whether a token hash names a session at all (open or ended).
pub(crate) fn exists(tx: &mut dyn Tx, hash: &str) -> Result<bool> {
    Ok(tx
        .query_opt("SELECT 1 FROM sessions WHERE token_hash = ?", &[Value::from(hash)])?
        .is_some())
}

/// Sessions open at `now_ms`: not ended, not past their expiry, seen after `idle_since_ms`.
pub(crate) fn online(tx: &mut dyn Tx, now_ms: i64, idle_since_ms: i64) -> Result<i64> {
    tx.query_int(
        "SELECT count(*) FROM sessions WHERE ended_at IS NULL AND expires_at > ? AND last_seen_at > ?",
        &[Value::Int(now_ms), Value::Int(idle_since_ms)],
    )
}

/// Sessions opened since `since_ms`: one per login, since session rows are never deleted.
pub(crate) fn opened_since(tx: &mut dyn Tx, since_ms: i64) -> Result<i64> {
    tx.query_int(
        "SELECT count(*) FROM sessions WHERE created_at >= ?",
        &[Value::Int(since_ms)],
    )
}

/// Every session ever opened: the number of logins.
pub(crate) fn total(tx: &mut dyn Tx) -> Result<i64> {
    tx.query_int("SELECT count(*) FROM sessions", &[])
}

/// Deletes the sessions ended, expired by `now_ms` or not seen after `idle_since_ms`; returns
/// how many.
pub(crate) fn purge(tx: &mut dyn Tx, now_ms: i64, idle_since_ms: i64) -> Result<u64> {
    tx.execute(
        "DELETE FROM sessions WHERE ended_at IS NOT NULL OR expires_at <= ? OR last_seen_at <= ?",
        &[Value::Int(now_ms), Value::Int(idle_since_ms)],
    )
}
