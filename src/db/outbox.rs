//! The outbox's table: mail queued by the acts that cause it, claimed and marked by the
//! delivery worker ([`portal::notify`](crate::portal::notify) says how delivery goes).

use crate::error::Result;
use crate::store::{BATCH_ROWS, Tx, Value, for_batches, values_rows};

/// Queues a mail in the caller's transaction.
pub(crate) fn enqueue(
    tx: &mut dyn Tx,
    now_ms: i64,
    to: &str,
    subject: &str,
    body: &str,
    kind: &str,
    ref_id: Option<i64>,
) -> Result<i64> {
    tx.insert(
        "INSERT INTO outbox (created_at, to_addr, subject, body, kind, ref_id, next_attempt_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[
            Value::Int(now_ms),
            Value::from(to),
            Value::from(subject),
            Value::from(body),
            Value::from(kind),
            Value::from(ref_id),
            Value::Int(now_ms),
        ],
    )
}

/// Mails queued many at a time, [`BATCH_ROWS`] rows per statement, numbered in the order
/// they were added. Full batches are written as they fill ([`OutboxBatch::write_full`]), so a
/// bulk operation holds at most one batch of mails in memory; [`OutboxBatch::finish`] writes
/// the rest. Each row is what [`enqueue`] writes.
#[derive(Default)]
pub(crate) struct OutboxBatch {
    rows: Vec<[Value<'static>; 7]>,
}

impl OutboxBatch {
    /// Adds a mail due now, about `ref_id`.
    pub(crate) fn push(
        &mut self,
        now_ms: i64,
        to: &str,
        subject: String,
        body: String,
        kind: &'static str,
        ref_id: i64,
    ) {
        self.rows.push([
            Value::Int(now_ms),
            Value::from(to.to_owned()),
            Value::from(subject),
            Value::from(body),
            Value::from(kind),
            Value::Int(ref_id),
            Value::Int(now_ms),
        ]);
    }

    /// Writes the full batches queued so far.
    pub(crate) fn write_full(&mut self, tx: &mut dyn Tx) -> Result<()> {
        let full = self.rows.len() / BATCH_ROWS * BATCH_ROWS;
        if full > 0 {
            let rows: Vec<_> = self.rows.drain(..full).collect();
            write_mails(tx, &rows)?;
        }
        Ok(())
    }

    /// Writes everything still queued.
    pub(crate) fn finish(mut self, tx: &mut dyn Tx) -> Result<()> {
        let rows = std::mem::take(&mut self.rows);
        write_mails(tx, &rows)
    }
}

fn write_mails(tx: &mut dyn Tx, rows: &[[Value<'static>; 7]]) -> Result<()> {
    for_batches(rows, |chunk| {
        let sql = format!(
            "INSERT INTO outbox (created_at, to_addr, subject, body, kind, ref_id, next_attempt_at) VALUES {}",
            values_rows(chunk.len(), 7)
        );
        let params: Vec<Value<'_>> = chunk.iter().flat_map(|r| r.iter().cloned()).collect();
        tx.execute(&sql, &params).map(drop)
    })
}

crate::db::row! {
    /// A mail due for delivery.
    pub(crate) struct DueMail {
        pub id: i64 = "id",
        pub to: String = "to_addr",
        pub subject: String = "subject",
        pub body: String = "body",
        pub attempts: i64 = "attempts",
    }
}

/// Up to `limit` mails not yet sent whose next attempt is due at `now_ms`, oldest first.
pub(crate) fn due(tx: &mut dyn Tx, now_ms: i64, limit: usize) -> Result<Vec<DueMail>> {
    let sql = format!(
        "SELECT {} FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
        DueMail::COLUMNS
    );
    let rows = tx.query(&sql, &[Value::Int(now_ms), Value::Int(limit as i64)])?;
    crate::db::rows(rows, DueMail::from_row)
}

/// Claims a due mail for one worker until `until_ms`; `false` if another worker has it or it
/// was sent meanwhile.
pub(crate) fn claim(tx: &mut dyn Tx, id: i64, now_ms: i64, until_ms: i64) -> Result<bool> {
    let n = tx.execute(
        "UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND sent_at IS NULL AND next_attempt_at <= ?",
        &[Value::Int(until_ms), Value::Int(id), Value::Int(now_ms)],
    )?;
    Ok(n > 0)
}

/// Marks a mail sent (the mailer accepted it).
pub(crate) fn mark_sent(tx: &mut dyn Tx, id: i64, at_ms: i64) -> Result<()> {
    tx.execute(
        "UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?",
        &[Value::Int(at_ms), Value::Int(id)],
    )
    .map(drop)
}

/// Records a failed attempt and when to try again.
pub(crate) fn mark_failed(tx: &mut dyn Tx, id: i64, attempts: i64, retry_ms: i64, why: &str) -> Result<()> {
    tx.execute(
        "UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
        &[
            Value::Int(attempts),
            Value::Int(retry_ms),
            Value::from(why),
            Value::Int(id),
        ],
    )
    .map(drop)
}

crate::db::row! {
    /// The outbox counted.
    pub(crate) struct Counts {
        pub sent: i64 = "COALESCE(SUM(CASE WHEN sent_at IS NOT NULL THEN 1 ELSE 0 END), 0)",
        pub pending: i64 = "COALESCE(SUM(CASE WHEN sent_at IS NULL THEN 1 ELSE 0 END), 0)",
        pub oldest_pending: Option<time::OffsetDateTime> = "MIN(CASE WHEN sent_at IS NULL THEN created_at END)",
    }
}

/// How many mails are sent and waiting, and when the oldest waiting one was queued.
pub(crate) fn counts(tx: &mut dyn Tx) -> Result<Counts> {
    let row = tx.query_opt(&format!("SELECT {} FROM outbox", Counts::COLUMNS), &[])?;
    Counts::from_row(row.ok_or_else(|| crate::store::corrupt("no row from the outbox count"))?)
}

// -- for portal/registration.rs

/// Whether a refused-registration notice was queued for `to` after `since_ms` (at most one a
/// day goes to a person).
pub(crate) fn refused_registration_sent_since(tx: &mut dyn Tx, to: &str, since_ms: i64) -> Result<bool> {
    let row = tx.query_opt(
        "SELECT 1 FROM outbox WHERE kind = 'registration_refused' AND to_addr = ? AND created_at > ?",
        &[Value::from(to), Value::Int(since_ms)],
    )?;
    Ok(row.is_some())
}
