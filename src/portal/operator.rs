//! What the portal's operator does to the database itself, beside the directory and the
//! outbox: announcements to everyone who opens the portal, purging what is no longer needed,
//! backups and the schema version. These are inherent methods of [`LocalPortal`] (the
//! `ecpa announce`, `ecpa purge`, `ecpa backup` and `ecpa migrate` commands); the current
//! announcements are also read through [`Portal::announcements`](super::Portal::announcements),
//! since every visitor sees them.
//!
//! Acts that touch personal data in bulk (purge, backup) write an audit row naming the operator,
//! in the same transaction as the act where there is one.

use std::path::Path;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::audit::operator_name;
use super::env::{from_millis, millis};
use super::local::LocalPortal;
use crate::db::{audit, challenges, registrations, sessions, site};
use crate::error::{Error, ErrorCode, Result};
use crate::store::{StoreExt, schema};
use crate::types::RocDateTime;
use crate::types::text::text_field;

/// An operator's announcement (公告), shown to everyone who opens the portal until it lapses.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct Announcement {
    /// Its number, for `ecpa announce remove`.
    pub id: i64,
    /// The title.
    pub title: String,
    /// The text (several lines allowed).
    pub body: String,
    /// When it was announced.
    pub created_at: RocDateTime,
    /// When it stops being shown; `None`: until removed.
    pub until: Option<RocDateTime>,
}

/// What [`LocalPortal::purge`] deleted, per kind.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct PurgeReport {
    /// Registration and password-reset links spent or expired.
    pub registration_tokens: u64,
    /// Certificate-login challenges spent or expired.
    pub login_challenges: u64,
    /// Sessions logged out, expired or idle past the idle limit.
    pub sessions: u64,
    /// Audit rows older than the retention.
    pub audit_rows: u64,
    /// Single sign-on assertions past their minute, redeemed or not.
    #[serde(default)]
    pub sso_assertions: u64,
}

/// The longest text an announcement body may have.
const BODY_MAX: usize = 4000;

fn body_field(body: &str) -> Result<String> {
    let b = body.trim();
    let bad = b.is_empty()
        || b.chars().count() > BODY_MAX
        || b.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
    if bad {
        return Err(Error::with(
            ErrorCode::FieldInvalid,
            format!("公告內容不可空白、不可超過 {BODY_MAX} 字、除換行外不可含控制字元"),
            format!(
                "the announcement body must be 1 to {BODY_MAX} characters, without control characters but line breaks"
            ),
        ));
    }
    Ok(b.to_owned())
}

impl From<site::Announcement> for Announcement {
    fn from(a: site::Announcement) -> Self {
        Announcement {
            id: a.id,
            title: a.title,
            body: a.body,
            created_at: a.created_at.into(),
            until: a.until.map(Into::into),
        }
    }
}

pub(crate) fn current(p: &LocalPortal) -> Result<Vec<Announcement>> {
    let now = millis(p.now());
    let running = p.store.read(|tx| site::announcements(tx, Some(now)))?;
    Ok(running.into_iter().map(Into::into).collect())
}

/// The same instant `years` calendar years earlier (29 February becomes 28 February).
fn years_before(t: OffsetDateTime, years: u32) -> OffsetDateTime {
    let year = t.year() - i32::try_from(years).unwrap_or(i32::MAX).min(9000);
    t.replace_year(year)
        .or_else(|_| (t - Duration::days(1)).replace_year(year))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

impl LocalPortal {
    /// Publishes an announcement, shown until `until` (or until removed).
    pub fn add_announcement(&self, title: &str, body: &str, until: Option<OffsetDateTime>) -> Result<Announcement> {
        let title = text_field("公告標題 title", title, 100)?;
        let body = body_field(body)?;
        let now = self.now();
        if until.is_some_and(|u| u <= now) {
            return Err(Error::with(
                ErrorCode::DateInvalid,
                "公告截止時間應晚於現在",
                "the announcement must run until a time after now",
            ));
        }
        let id = self
            .store
            .write(|tx| site::announce(tx, &title, &body, millis(now), until.map(millis)))?;
        // As stored (to the millisecond), so the answer equals what the lists read back.
        Ok(Announcement {
            id,
            title,
            body,
            created_at: from_millis(millis(now))?.into(),
            until: until.map(|u| from_millis(millis(u))).transpose()?.map(Into::into),
        })
    }

    /// Every announcement, lapsed ones included, newest first: the operator's list.
    pub fn all_announcements(&self) -> Result<Vec<Announcement>> {
        let all = self.store.read(|tx| site::announcements(tx, None))?;
        Ok(all.into_iter().map(Into::into).collect())
    }

    /// Takes an announcement down.
    pub fn remove_announcement(&self, id: i64) -> Result<()> {
        if !self.store.write(|tx| site::remove_announcement(tx, id))? {
            return Err(Error::with(
                ErrorCode::FieldInvalid,
                format!("查無編號 {id} 的公告"),
                format!("there is no announcement {id}"),
            ));
        }
        Ok(())
    }

    /// Deletes what the portal no longer needs: spent and expired registration and reset links,
    /// spent and expired login challenges, ended sessions (logged out, expired or idle), expired
    /// single sign-on assertions, and audit rows older than `audit_retention_years` (the Personal Data Protection Act's
    /// practice keeps them five years). One transaction, audited under `operator`.
    pub fn purge(&self, audit_retention_years: u32, operator: &str) -> Result<PurgeReport> {
        let operator = operator_name(operator)?;
        if audit_retention_years == 0 {
            return Err(Error::with(
                ErrorCode::FieldInvalid,
                "稽核紀錄保存年限至少 1 年",
                "the audit retention must be at least one year",
            ));
        }
        let now_t = self.now();
        let now = millis(now_t);
        let idle_since = now - self.config.session_idle.whole_milliseconds() as i64;
        let audit_before = millis(years_before(now_t, audit_retention_years));
        self.store.write(|tx| {
            let report = PurgeReport {
                registration_tokens: registrations::purge_links(tx, now)?,
                login_challenges: challenges::purge_spent(tx, now)?,
                sessions: sessions::purge(tx, now, idle_since)?,
                audit_rows: audit::purge(tx, audit_before)?,
                sso_assertions: site::purge_assertions(tx, now)?,
            };
            let detail = format!(
                "{} registration tokens, {} login challenges, {} sessions, {} audit rows older than {} years, {} single sign-on assertions",
                report.registration_tokens,
                report.login_challenges,
                report.sessions,
                report.audit_rows,
                audit_retention_years,
                report.sso_assertions
            );
            audit::record_operator(tx, now, &operator, "operator.purge", None, None, Some(&detail))?;
            Ok(report)
        })
    }

    /// Writes a consistent copy of the whole database to `dest` while the portal runs (see
    /// [`Store::backup_to`](crate::store::Store::backup_to)), and records it under `operator`:
    /// a backup is every person's data in one file.
    pub fn backup_to(&self, dest: &Path, replace: bool, operator: &str) -> Result<()> {
        let operator = operator_name(operator)?;
        self.store.backup_to(dest, replace)?;
        let now = millis(self.now());
        let object = format!("file:{}", dest.display());
        self.store
            .write(|tx| audit::record_operator(tx, now, &operator, "operator.backup", None, Some(&object), None))
    }

    /// The schema version the database is at (the portal migrates it when it opens).
    pub fn schema_version(&self) -> Result<i64> {
        schema::current_version(self.store.as_ref())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn retention_counts_calendar_years() {
        assert_eq!(
            years_before(datetime!(2026-03-01 08:00 +8), 5),
            datetime!(2021-03-01 08:00 +8)
        );
        assert_eq!(
            years_before(datetime!(2028-02-29 00:00 UTC), 1),
            datetime!(2027-02-28 00:00 UTC)
        );
    }

    #[test]
    fn announcements_add_list_lapse_and_remove() {
        let p = LocalPortal::in_memory().unwrap();
        let now = p.now();
        let a = p.add_announcement("系統公告", "本週六停機\n敬請見諒", None).unwrap();
        let b = p
            .add_announcement("暫時", "一小時", Some(now + Duration::hours(1)))
            .unwrap();
        assert_eq!(current(&p).unwrap().len(), 2);
        assert_eq!(p.all_announcements().unwrap()[0], b);
        p.remove_announcement(b.id).unwrap();
        assert_eq!(current(&p).unwrap(), vec![a]);
        assert_eq!(p.remove_announcement(b.id).unwrap_err().code(), ErrorCode::FieldInvalid);
        assert_eq!(
            p.add_announcement("", "x", None).unwrap_err().code(),
            ErrorCode::FieldInvalid
        );
        assert_eq!(
            p.add_announcement("t", "x", Some(now - Duration::hours(1)))
                .unwrap_err()
                .code(),
            ErrorCode::DateInvalid
        );
    }
}
