//! What the portal shows every visitor and keeps for itself: the application catalogue and
//! each person's applications, announcements, maintenance windows, the server key.

#[allow(unused_imports)]
use crate::error::Result;
#[allow(unused_imports)]
use crate::store::{Tx, Value};

// -- for portal/registration.rs

crate::db::row! {
    /// An announced maintenance window of the registration service.
    pub(crate) struct Maintenance {
        pub id: i64 = "id",
        pub starts_at: time::OffsetDateTime = "starts_at",
        pub ends_at: time::OffsetDateTime = "ends_at",
        /// Why, as announced; `None`: plain maintenance.
        pub reason: Option<String> = "reason",
    }
}

/// The maintenance window in force at `now_ms`, the earliest if several overlap.
pub(crate) fn maintenance_at(tx: &mut dyn Tx, now_ms: i64) -> Result<Option<Maintenance>> {
    let sql = format!(
        "SELECT {} FROM maintenance_windows WHERE starts_at <= ? AND ends_at > ? ORDER BY starts_at LIMIT 1",
        Maintenance::COLUMNS
    );
    tx.query_opt(&sql, &[Value::Int(now_ms), Value::Int(now_ms)])?
        .map(Maintenance::from_row)
        .transpose()
}

/// The maintenance windows not yet over at `now_ms`, earliest first.
pub(crate) fn maintenance_ahead(tx: &mut dyn Tx, now_ms: i64) -> Result<Vec<Maintenance>> {
    let sql = format!(
        "SELECT {} FROM maintenance_windows WHERE ends_at > ? ORDER BY starts_at",
        Maintenance::COLUMNS
    );
    let rows = tx.query(&sql, &[Value::Int(now_ms)])?;
    crate::db::rows(rows, Maintenance::from_row)
}

/// Announces a maintenance window from `starts_ms` until `ends_ms`; returns its number.
pub(crate) fn add_maintenance(tx: &mut dyn Tx, starts_ms: i64, ends_ms: i64, reason: Option<&str>) -> Result<i64> {
    tx.insert(
        "INSERT INTO maintenance_windows (starts_at, ends_at, reason) VALUES (?, ?, ?)",
        &[Value::Int(starts_ms), Value::Int(ends_ms), Value::from(reason)],
    )
}

/// Withdraws maintenance window `id`; `false` if there was none.
pub(crate) fn remove_maintenance(tx: &mut dyn Tx, id: i64) -> Result<bool> {
    let n = tx.execute("DELETE FROM maintenance_windows WHERE id = ?", &[Value::Int(id)])?;
    Ok(n > 0)
}
