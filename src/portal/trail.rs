//! Reading the audit trail ([`audit`](super::audit) writes it): a personnel officer sees the
//! entries of their own agency, people by masked ID and name.

use serde::{Deserialize, Serialize};

use super::auth::{SessionToken, caller};
use super::env::millis;
use super::local::LocalPortal;
use crate::db::audit;
use crate::error::Result;
use crate::store::StoreExt;
use crate::types::{NationalId, RocDate, RocDateTime};

/// Filters for [`Portal::audit_trail`](super::Portal::audit_trail).
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only entries on or after this day.
    pub from: Option<RocDate>,
    /// Only entries on or before this day.
    pub to: Option<RocDate>,
    /// Only this action (e.g. `award.view`).
    pub action: Option<String>,
    /// At most this many entries, newest first (default 200).
    pub limit: Option<u32>,
}

/// One audit entry, with people shown by masked ID and name.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct AuditEntry {
    /// When it happened.
    pub at: RocDateTime,
    /// Who acted (masked ID and name), if a person did.
    pub actor: Option<String>,
    /// The operator who acted, when the act was an operator command (`ecpa directory import`,
    /// `ecpa purge`, `ecpa backup`) rather than a person's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// What they did, e.g. `award.view`, `proofing.process`.
    pub action: String,
    /// Whose data it was (masked ID and name).
    pub subject: Option<String>,
    /// What it touched, e.g. `award_order:42`.
    pub object: Option<String>,
    /// A short detail (never personal data).
    pub detail: Option<String>,
}

fn person(national_id: Option<NationalId>, name: Option<String>) -> Option<String> {
    Some(format!("{} {}", national_id?.masked(), name?))
}

pub(crate) fn trail(p: &LocalPortal, token: &SessionToken, q: &AuditQuery) -> Result<Vec<AuditEntry>> {
    let c = caller(p, token)?;
    let day_ms = |d: RocDate, end: bool| -> i64 {
        let start = d.to_gregorian().midnight().assume_offset(time::macros::offset!(+8));
        millis(if end { start + time::Duration::days(1) } else { start })
    };
    let from = q.from.map_or(i64::MIN, |d| day_ms(d, false));
    let to = q.to.map_or(i64::MAX, |d| day_ms(d, true));
    let limit = i64::from(q.limit.unwrap_or(200).min(10_000));
    // An officer sees their agency's trail; anyone else, what was done to their own data.
    let scope = if c.officer {
        audit::Scope::Agency(&c.agency_code)
    } else {
        audit::Scope::Subject(c.employee_id)
    };
    p.store.write(|tx| {
        // The agency's trail is an officer function: the proofing site's level, as the others.
        if c.officer {
            super::apps::require_app_level(p, tx, &c, super::apps::PROOFING_SITE)?;
        }
        let entries: Vec<AuditEntry> = audit::entries(tx, scope, from, to, q.action.as_deref(), limit)?
            .into_iter()
            .map(|e| AuditEntry {
                at: e.at.into(),
                actor: person(e.actor_id, e.actor_name),
                action: e.action,
                subject: person(e.subject_id, e.subject_name),
                object: e.object,
                detail: e.detail,
                operator: e.operator,
            })
            .collect();
        // Reading the trail is itself a read of others' data when an officer does it.
        if c.officer {
            audit::record(tx, millis(p.now()), Some(c.employee_id), "audit.read", None, None, None)?;
        }
        Ok(entries)
    })
}
