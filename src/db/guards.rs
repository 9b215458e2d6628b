//! The login guards' tables, all keyed by the guessed subject (`card:…`, `account:…`): wrong
//! guesses counted per subject and network (`login_guards`), the day's ceiling per subject
//! (`login_ceilings`), and the guesses reserved while their hash runs (`login_reservations`).
//! [`portal::guard`](crate::portal::guard) holds the rules.

use crate::error::Result;
use crate::store::{Tx, Value};

/// Whether the subject is held (the day's ceiling was reached) until its owner resets it.
pub(crate) fn held(tx: &mut dyn Tx, subject: &str) -> Result<bool> {
    let row = tx.query_opt(
        "SELECT held_at FROM login_ceilings WHERE subject = ?",
        &[Value::from(subject)],
    )?;
    Ok(row.map(|r| r.opt_int(0)).transpose()?.flatten().is_some())
}

crate::db::row! {
    /// One network's record of guessing one subject.
    pub(crate) struct NetworkGuard {
        /// Wrong guesses in a row.
        pub failures: i64 = "failures",
        /// Lockouts in a row.
        pub lockouts: i64 = "lockouts",
        pub locked_until: Option<i64> = "locked_until",
        pub updated_at: i64 = "updated_at",
    }
}

/// The record of `network` guessing `subject`, if it has one.
pub(crate) fn network(tx: &mut dyn Tx, subject: &str, network: &str) -> Result<Option<NetworkGuard>> {
    let sql = format!(
        "SELECT {} FROM login_guards WHERE subject = ? AND network = ?",
        NetworkGuard::COLUMNS
    );
    tx.query_opt(&sql, &[Value::from(subject), Value::from(network)])?
        .map(NetworkGuard::from_row)
        .transpose()
}

/// Writes the record of `network` guessing `subject`.
pub(crate) fn save_network(tx: &mut dyn Tx, subject: &str, network: &str, guard: &NetworkGuard) -> Result<()> {
    tx.execute(
        "INSERT INTO login_guards (subject, network, failures, lockouts, locked_until, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (subject, network) DO UPDATE SET failures = excluded.failures, lockouts = excluded.lockouts,
             locked_until = excluded.locked_until, updated_at = excluded.updated_at",
        &[
            Value::from(subject),
            Value::from(network),
            Value::Int(guard.failures),
            Value::Int(guard.lockouts),
            Value::from(guard.locked_until),
            Value::Int(guard.updated_at),
        ],
    )
    .map(drop)
}

/// Forgets `network`'s record of `subject` unless it is locked out at `now_ms` (the right
/// password was given from there).
pub(crate) fn forget_network(tx: &mut dyn Tx, subject: &str, network: &str, now_ms: i64) -> Result<()> {
    tx.execute(
        "DELETE FROM login_guards WHERE subject = ? AND network = ? AND (locked_until IS NULL OR locked_until <= ?)",
        &[Value::from(subject), Value::from(network), Value::Int(now_ms)],
    )
    .map(drop)
}

/// Forgets the networks not locked out at `now_ms` that have not guessed `subject` since
/// `quiet_since_ms`.
pub(crate) fn forget_quiet(tx: &mut dyn Tx, subject: &str, quiet_since_ms: i64, now_ms: i64) -> Result<()> {
    tx.execute(
        "DELETE FROM login_guards WHERE subject = ? AND updated_at < ? AND (locked_until IS NULL OR locked_until <= ?)",
        &[Value::from(subject), Value::Int(quiet_since_ms), Value::Int(now_ms)],
    )
    .map(drop)
}

crate::db::row! {
    /// A subject's wrong guesses from everywhere in its current 24-hour window.
    pub(crate) struct Ceiling {
        pub failures: i64 = "failures",
        pub window_started_at: i64 = "window_started_at",
    }
}

/// The subject's ceiling count, if it has one.
pub(crate) fn ceiling(tx: &mut dyn Tx, subject: &str) -> Result<Option<Ceiling>> {
    let sql = format!("SELECT {} FROM login_ceilings WHERE subject = ?", Ceiling::COLUMNS);
    tx.query_opt(&sql, &[Value::from(subject)])?
        .map(Ceiling::from_row)
        .transpose()
}

/// Sets the subject's count for the window (opening a new window at `now_ms` if the count had
/// been reset) and holds it if `held_at_ms` is given.
pub(crate) fn save_ceiling(
    tx: &mut dyn Tx,
    subject: &str,
    now_ms: i64,
    failures: i64,
    held_at_ms: Option<i64>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO login_ceilings (subject, window_started_at, failures, held_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (subject) DO UPDATE SET failures = excluded.failures, held_at = excluded.held_at,
             window_started_at = CASE WHEN login_ceilings.failures = 0 THEN excluded.window_started_at
                                      ELSE login_ceilings.window_started_at END",
        &[
            Value::from(subject),
            Value::Int(now_ms),
            Value::Int(failures),
            Value::from(held_at_ms),
        ],
    )
    .map(drop)
}

/// Starts the count of a subject that is not held again from nothing (its window has passed).
pub(crate) fn reset_ceiling(tx: &mut dyn Tx, subject: &str) -> Result<()> {
    tx.execute(
        "UPDATE login_ceilings SET failures = 0 WHERE subject = ? AND held_at IS NULL",
        &[Value::from(subject)],
    )
    .map(drop)
}

/// Drops the subject's reservations that lapsed by `now_ms`.
pub(crate) fn drop_lapsed_reservations(tx: &mut dyn Tx, subject: &str, now_ms: i64) -> Result<()> {
    tx.execute(
        "DELETE FROM login_reservations WHERE subject = ? AND expires_at <= ?",
        &[Value::from(subject), Value::Int(now_ms)],
    )
    .map(drop)
}

/// Guesses of `subject` being checked: from `network`, and from everywhere.
pub(crate) fn reservations(tx: &mut dyn Tx, subject: &str, network: &str) -> Result<(i64, i64)> {
    let here = tx.query_int(
        "SELECT COUNT(*) FROM login_reservations WHERE subject = ? AND network = ?",
        &[Value::from(subject), Value::from(network)],
    )?;
    let everywhere = tx.query_int(
        "SELECT COUNT(*) FROM login_reservations WHERE subject = ?",
        &[Value::from(subject)],
    )?;
    Ok((here, everywhere))
}

/// Reserves a guess of `subject` from `network` until `expires_ms`; returns its number.
pub(crate) fn reserve(tx: &mut dyn Tx, subject: &str, network: &str, expires_ms: i64) -> Result<i64> {
    tx.query_int(
        "INSERT INTO login_reservations (subject, network, expires_at) VALUES (?, ?, ?) RETURNING id",
        &[Value::from(subject), Value::from(network), Value::Int(expires_ms)],
    )
}

/// Gives back a reservation.
pub(crate) fn drop_reservation(tx: &mut dyn Tx, id: i64) -> Result<()> {
    tx.execute("DELETE FROM login_reservations WHERE id = ?", &[Value::Int(id)])
        .map(drop)
}

/// Forgets everything counted against a subject: counts, hold and reservations.
pub(crate) fn clear(tx: &mut dyn Tx, subject: &str) -> Result<()> {
    for sql in [
        "DELETE FROM login_guards WHERE subject = ?",
        "DELETE FROM login_ceilings WHERE subject = ?",
        "DELETE FROM login_reservations WHERE subject = ?",
    ] {
        tx.execute(sql, &[Value::from(subject)])?;
    }
    Ok(())
}
