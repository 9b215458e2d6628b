//! Reading the audit trail ([`audit`](super::audit) writes it): a personnel officer sees the
//! entries of their own agency, people by masked ID and name.

use serde::{Deserialize, Serialize};

use super::auth::{SessionToken, caller};
use super::env::{from_millis, millis};
use super::local::LocalPortal;
use crate::db::audit::record;
use crate::error::Result;
use crate::store::{StoreExt, Value};
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

fn person(national_id: Option<String>, name: Option<String>) -> Result<Option<String>> {
    match (national_id, name) {
        (Some(id), Some(name)) => Ok(Some(format!("{} {name}", NationalId::parse(&id)?.masked()))),
        _ => Ok(None),
    }
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
    let (scope_sql, scope): (&str, Value<'_>) = if c.officer {
        ("a.agency_code = ?", Value::from(c.agency_code.as_str()))
    } else {
        ("a.subject = ?", Value::Int(c.employee_id))
    };
    let sql = format!(
        "SELECT a.at, ae.national_id, ae.name, a.action, se.national_id, se.name, a.object, a.detail, a.operator
         FROM audit a LEFT JOIN employees ae ON ae.id = a.actor LEFT JOIN employees se ON se.id = a.subject
         WHERE {scope_sql} AND a.at >= ? AND a.at < ? AND (CAST(? AS TEXT) IS NULL OR a.action = ?)
         ORDER BY a.at DESC, a.id DESC LIMIT ?"
    );
    let action = q.action.as_deref();
    p.store.write(|tx| {
        // The agency's trail is an officer function: the proofing site's level, as the others.
        if c.officer {
            super::apps::require_app_level(tx, &c, super::apps::PROOFING_SITE)?;
        }
        let rows = tx.query(
            &sql,
            &[
                scope.clone(),
                Value::Int(from),
                Value::Int(to),
                Value::from(action),
                Value::from(action),
                Value::Int(limit),
            ],
        )?;
        let entries = rows
            .iter()
            .map(|r| {
                Ok(AuditEntry {
                    at: from_millis(r.int(0)?)?.into(),
                    actor: person(r.opt_text(1)?, r.opt_text(2)?)?,
                    action: r.text(3)?,
                    subject: person(r.opt_text(4)?, r.opt_text(5)?)?,
                    object: r.opt_text(6)?,
                    detail: r.opt_text(7)?,
                    operator: r.opt_text(8)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        // Reading the trail is itself a read of others' data when an officer does it.
        if c.officer {
            record(tx, millis(p.now()), Some(c.employee_id), "audit.read", None, None, None)?;
        }
        Ok(entries)
    })
}
