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

use super::env::millis;
use super::local::LocalPortal;
use crate::db::outbox;
use crate::error::Result;
use crate::mail::{Mailer, OutgoingMail};
use crate::store::StoreExt;
use crate::types::RocDateTime;

/// How long a worker holds a claimed mail before another may try it.
const CLAIM: Duration = Duration::minutes(5);

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
        let due = self.store.read(|tx| outbox::due(tx, now, limit))?;
        let mut report = DeliveryReport::default();
        for mail in due {
            if !self.store.write(|tx| outbox::claim(tx, mail.id, now, claim_until))? {
                continue; // another worker has it
            }
            let outgoing = OutgoingMail {
                id: mail.id,
                from: self.config.mail_from.clone(),
                to: mail.to,
                subject: mail.subject,
                body: mail.body,
            };
            match mailer.send(&outgoing) {
                Ok(()) => {
                    self.store
                        .write(|tx| outbox::mark_sent(tx, mail.id, millis(self.now())))?;
                    report.sent += 1;
                }
                Err(e) => {
                    let attempts = mail.attempts + 1;
                    let retry = millis(self.now() + backoff(attempts));
                    let why = e.message(crate::types::Lang::En);
                    self.store
                        .write(|tx| outbox::mark_failed(tx, mail.id, attempts, retry, &why))?;
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }

    /// How many mails are sent and waiting.
    pub fn outbox_stats(&self) -> Result<OutboxStats> {
        let counts = self.store.read(outbox::counts)?;
        Ok(OutboxStats {
            sent: counts.sent,
            pending: counts.pending,
            oldest_pending: counts.oldest_pending.map(Into::into),
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
