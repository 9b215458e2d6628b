//! Notifications: the outbox, and the worker that hands its mail to a mailer.
//!
//! Mail is never sent from inside an engine operation. The operation queues it in the outbox
//! in its own transaction (so an order and its notice commit together), and
//! [`LocalPortal::deliver_outbox`] hands due mail to a [`Mailer`]. A mail is marked sent only
//! after the mailer accepted it; a failure is retried with growing delays (1, 2, 4, … minutes,
//! at most an hour). Before sending, a worker claims the mail for a few minutes, so two workers
//! never send the same mail at once; a worker killed between sending and marking may cause one
//! repeat, never a loss.
//!
//! The mailers themselves (a maildir, SMTP) are in [`crate::mail`].

use serde::{Deserialize, Serialize};
use time::Duration;

use super::env::{from_millis, millis};
use super::local::LocalPortal;
use crate::error::Result;
use crate::mail::{Mailer, OutgoingMail};
use crate::store::{BATCH_ROWS, StoreExt, Tx, Value, for_batches, values_rows};
use crate::types::RocDateTime;

/// How long a worker holds a claimed mail before another may try it.
const CLAIM: Duration = Duration::minutes(5);

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

/// What one delivery round did.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Mails the mailer accepted.
    pub sent: usize,
    /// Mails that failed this time and wait for a retry.
    pub failed: usize,
}

/// The outbox at a glance.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct OutboxStats {
    /// Mails sent.
    pub sent: i64,
    /// Mails waiting (new or to be retried).
    pub pending: i64,
    /// The oldest waiting mail's time, if any.
    pub oldest_pending: Option<RocDateTime>,
}

/// The retry delay after `attempts` failures: 1, 2, 4, … minutes, at most an hour.
fn backoff(attempts: i64) -> Duration {
    let minutes = 1i64 << attempts.clamp(1, 7).saturating_sub(1);
    Duration::minutes(minutes.min(60))
}

impl LocalPortal {
    /// Hands up to `limit` due mails to `mailer`; see the module documentation.
    pub fn deliver_outbox(&self, mailer: &dyn Mailer, limit: usize) -> Result<DeliveryReport> {
        let now = millis(self.now());
        let claim_until = millis(self.now() + CLAIM);
        let due = self.store.read(|tx| {
            tx.query(
                "SELECT id, to_addr, subject, body, attempts FROM outbox
                 WHERE sent_at IS NULL AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
                &[Value::Int(now), Value::Int(limit as i64)],
            )
        })?;
        let mut report = DeliveryReport::default();
        for row in due {
            let id = row.int(0)?;
            let claimed = self.store.write(|tx| {
                tx.execute(
                    "UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND sent_at IS NULL AND next_attempt_at <= ?",
                    &[Value::Int(claim_until), Value::Int(id), Value::Int(now)],
                )
            })?;
            if claimed == 0 {
                continue; // another worker has it
            }
            let mail = OutgoingMail {
                id,
                from: self.config.mail_from.clone(),
                to: row.text(1)?,
                subject: row.text(2)?,
                body: row.text(3)?,
            };
            match mailer.send(&mail) {
                Ok(()) => {
                    self.store.write(|tx| {
                        tx.execute(
                            "UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?",
                            &[Value::Int(millis(self.now())), Value::Int(id)],
                        )
                    })?;
                    report.sent += 1;
                }
                Err(e) => {
                    let attempts = row.int(4)? + 1;
                    let retry = millis(self.now() + backoff(attempts));
                    let why = e.message(crate::types::Lang::En);
                    self.store.write(|tx| {
                        tx.execute(
                            "UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
                            &[
                                Value::Int(attempts),
                                Value::Int(retry),
                                Value::from(why.as_str()),
                                Value::Int(id),
                            ],
                        )
                    })?;
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }

    /// How many mails are sent and waiting.
    pub fn outbox_stats(&self) -> Result<OutboxStats> {
        self.store.read(|tx| {
            let row = tx
                .query_opt(
                    "SELECT COALESCE(SUM(CASE WHEN sent_at IS NOT NULL THEN 1 ELSE 0 END), 0),
                            COALESCE(SUM(CASE WHEN sent_at IS NULL THEN 1 ELSE 0 END), 0),
                            MIN(CASE WHEN sent_at IS NULL THEN created_at END)
                     FROM outbox",
                    &[],
                )?
                .unwrap_or_default();
            Ok(OutboxStats {
                sent: row.int(0)?,
                pending: row.int(1)?,
                oldest_pending: row.opt_int(2)?.map(from_millis).transpose()?.map(Into::into),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff(1), Duration::minutes(1));
        assert_eq!(backoff(2), Duration::minutes(2));
        assert_eq!(backoff(3), Duration::minutes(4));
        assert_eq!(backoff(30), Duration::minutes(60));
    }
}
