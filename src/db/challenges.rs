//! One-time challenges of the logins: certificate-login challenges, the random an NHI card
//! signs to prove it is in the reader, and the certificates bound to employees.

use crate::error::Result;
use crate::store::{Tx, Value};

/// Deletes the certificate-login challenges that expired before `before_ms`.
pub(crate) fn purge_challenges(tx: &mut dyn Tx, before_ms: i64) -> Result<u64> {
    tx.execute(
        "DELETE FROM login_challenges WHERE expires_at < ?",
        &[Value::Int(before_ms)],
    )
}

/// Writes a new certificate-login challenge: its id's hash, the nonce to sign, and the network
/// it was issued to.
pub(crate) fn insert_challenge(
    tx: &mut dyn Tx,
    id_hash: &str,
    nonce: &str,
    created_ms: i64,
    expires_ms: i64,
    network: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO login_challenges (id_hash, nonce, created_at, expires_at, network) VALUES (?, ?, ?, ?, ?)",
        &[
            Value::from(id_hash),
            Value::from(nonce),
            Value::Int(created_ms),
            Value::Int(expires_ms),
            Value::from(network),
        ],
    )?;
    Ok(())
}

crate::db::row! {
    /// A certificate-login challenge as its answer is checked.
    pub(crate) struct Challenge {
        pub nonce: String = "nonce",
        pub expires_at: i64 = "expires_at",
        pub used_at: Option<i64> = "used_at",
        /// The network it was issued to; `None` (older rows): a caller in this process.
        pub network: Option<String> = "network",
    }
}

/// The challenge whose id hashes to `id_hash`.
pub(crate) fn challenge(tx: &mut dyn Tx, id_hash: &str) -> Result<Option<Challenge>> {
    let sql = format!("SELECT {} FROM login_challenges WHERE id_hash = ?", Challenge::COLUMNS);
    tx.query_opt(&sql, &[Value::from(id_hash)])?
        .map(Challenge::from_row)
        .transpose()
}

/// Marks the challenge used at `now_ms`; `true` if this call did (`false`: it was already).
pub(crate) fn mark_spent(tx: &mut dyn Tx, id_hash: &str, now_ms: i64) -> Result<bool> {
    let n = tx.execute(
        "UPDATE login_challenges SET used_at = ? WHERE id_hash = ? AND used_at IS NULL",
        &[Value::Int(now_ms), Value::from(id_hash)],
    )?;
    Ok(n > 0)
}

/// Forgets the NHI-card randoms seen before `before_ms`.
pub(crate) fn forget_randoms(tx: &mut dyn Tx, before_ms: i64) -> Result<u64> {
    tx.execute("DELETE FROM card_randoms WHERE seen_at < ?", &[Value::Int(before_ms)])
}

/// Remembers an NHI-card random by its hash; `true` if it was new (`false`: a replay).
pub(crate) fn remember_random(tx: &mut dyn Tx, random_hash: &str, now_ms: i64) -> Result<bool> {
    let n = tx.execute(
        "INSERT INTO card_randoms (random_hash, seen_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
        &[Value::from(random_hash), Value::Int(now_ms)],
    )?;
    Ok(n == 1)
}

/// The employee the certificate with binding key `key` is bound to, if it is.
pub(crate) fn bound_employee(tx: &mut dyn Tx, key: &str) -> Result<Option<i64>> {
    let rows = tx.query(
        "SELECT employee_id FROM certificate_bindings WHERE binding_key = ?",
        &[Value::from(key)],
    )?;
    crate::db::first(rows)
}

/// Whether a certificate of holder `subject` is bound to an employee other than `employee`.
pub(crate) fn subject_bound_elsewhere(tx: &mut dyn Tx, subject: &str, employee: i64) -> Result<bool> {
    let row = tx.query_opt(
        "SELECT 1 FROM certificate_bindings WHERE subject = ? AND employee_id <> ?",
        &[Value::from(subject), Value::Int(employee)],
    )?;
    Ok(row.is_some())
}

/// Binds the certificate with key `key` and holder `subject` to `employee`, at `at_ms`.
pub(crate) fn bind(tx: &mut dyn Tx, key: &str, employee: i64, subject: &str, at_ms: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO certificate_bindings (binding_key, employee_id, subject, bound_at, last_used_at) VALUES (?, ?, ?, ?, ?)",
        &[
            Value::from(key),
            Value::Int(employee),
            Value::from(subject),
            Value::Int(at_ms),
            Value::Int(at_ms),
        ],
    )?;
    Ok(())
}

/// Records that the certificate with key `key` logged in at `at_ms`.
pub(crate) fn touch_binding(tx: &mut dyn Tx, key: &str, at_ms: i64) -> Result<()> {
    tx.execute(
        "UPDATE certificate_bindings SET last_used_at = ? WHERE binding_key = ?",
        &[Value::Int(at_ms), Value::from(key)],
    )?;
    Ok(())
}

/// The binding keys of `employee`'s certificates.
pub(crate) fn binding_keys(tx: &mut dyn Tx, employee: i64) -> Result<Vec<String>> {
    let rows = tx.query(
        "SELECT binding_key FROM certificate_bindings WHERE employee_id = ?",
        &[Value::Int(employee)],
    )?;
    crate::db::rows(rows, |row| crate::db::take(&mut row.0.into_iter(), "binding_key"))
}

/// Deletes every certificate binding of `employee`; returns how many there were.
pub(crate) fn unbind_all(tx: &mut dyn Tx, employee: i64) -> Result<u64> {
    tx.execute(
        "DELETE FROM certificate_bindings WHERE employee_id = ?",
        &[Value::Int(employee)],
    )
}

/// Deletes the certificate-login challenges answered or expired by `now_ms`; returns how many.
pub(crate) fn purge_spent(tx: &mut dyn Tx, now_ms: i64) -> Result<u64> {
    tx.execute(
        "DELETE FROM login_challenges WHERE used_at IS NOT NULL OR expires_at <= ?",
        &[Value::Int(now_ms)],
    )
}
