//! What the portal shows every visitor and keeps for itself: the application catalogue and
//! each person's applications, the single sign-on assertions it issued, announcements,
//! maintenance windows, the server keys.

use crate::error::Result;
use crate::store::{Tx, Value};

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

crate::db::row! {
    /// An application of the catalogue with its group, and whether one person has added it.
    pub(crate) struct App {
        pub code: String = "a.code",
        pub name_zh: String = "a.name_zh",
        pub name_en: String = "a.name_en",
        pub required_level: crate::types::AssuranceLevel = "a.required_level",
        pub group_code: String = "g.code",
        pub group_name_zh: String = "g.name_zh",
        pub group_name_en: String = "g.name_en",
        pub added: bool = "m.app_code IS NOT NULL",
    }
}

/// The catalogue seen by employee `?`: every application with its group, joined to their own
/// list.
static APPS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {} FROM applications a JOIN application_groups g ON g.code = a.group_code \
         LEFT JOIN my_applications m ON m.app_code = a.code AND m.employee_id = ?",
        App::COLUMNS
    )
});

/// The application `code` (or the one a former code of it now names, e.g. `A2` for `WebHR`)
/// as `employee` sees it, if the catalogue has it.
pub(crate) fn app(tx: &mut dyn Tx, employee: i64, code: &str) -> Result<Option<App>> {
    tx.query_opt(
        &format!(
            "{} WHERE a.code = COALESCE((SELECT app_code FROM application_aliases WHERE code = ?), ?)",
            *APPS
        ),
        &[Value::Int(employee), Value::from(code), Value::from(code)],
    )?
    .map(App::from_row)
    .transpose()
}

/// The catalogue in group order, each group in its own order, as `employee` sees it, or only
/// the applications they added.
pub(crate) fn apps(tx: &mut dyn Tx, employee: i64, added_only: bool) -> Result<Vec<App>> {
    let filter = if added_only {
        " WHERE m.app_code IS NOT NULL"
    } else {
        ""
    };
    let rows = tx.query(
        &format!("{}{filter} ORDER BY g.position, a.position", *APPS),
        &[Value::Int(employee)],
    )?;
    crate::db::rows(rows, App::from_row)
}

/// The catalogue's own code for `code`: itself, the application a former code names, or
/// `None` if the catalogue knows neither.
pub(crate) fn app_code(tx: &mut dyn Tx, code: &str) -> Result<Option<String>> {
    let rows = tx.query(
        "SELECT a.code FROM applications a \
         WHERE a.code = COALESCE((SELECT app_code FROM application_aliases WHERE code = ?), ?)",
        &[Value::from(code), Value::from(code)],
    )?;
    crate::db::first(rows)
}

/// Adds an application (by its catalogue code) to `employee`'s own list (adding it twice is
/// harmless).
pub(crate) fn add_app(tx: &mut dyn Tx, employee: i64, code: &str, now_ms: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO my_applications (employee_id, app_code, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        &[Value::Int(employee), Value::from(code), Value::Int(now_ms)],
    )
    .map(drop)
}

/// Records a single sign-on assertion issued to `employee` for application `app_code`, so it
/// can be redeemed once.
pub(crate) fn record_assertion(
    tx: &mut dyn Tx,
    jti: &str,
    app_code: &str,
    employee: i64,
    issued_ms: i64,
    expires_ms: i64,
) -> Result<()> {
    tx.execute(
        "INSERT INTO sso_assertions (jti, app_code, employee_id, issued_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        &[
            Value::from(jti),
            Value::from(app_code),
            Value::Int(employee),
            Value::Int(issued_ms),
            Value::Int(expires_ms),
        ],
    )
    .map(drop)
}

crate::db::row! {
    /// An issued single sign-on assertion, as the redemption finds it.
    pub(crate) struct Assertion {
        pub employee_id: i64 = "employee_id",
        pub redeemed_at: Option<i64> = "redeemed_at",
    }
}

/// Marks assertion `jti` of application `app_code` redeemed at `now_ms` if it is neither
/// redeemed nor expired: `false` otherwise (then [`assertion`] says why). One statement, so two
/// redemptions racing cannot both succeed.
pub(crate) fn redeem_assertion(tx: &mut dyn Tx, jti: &str, app_code: &str, now_ms: i64) -> Result<bool> {
    let n = tx.execute(
        "UPDATE sso_assertions SET redeemed_at = ? WHERE jti = ? AND app_code = ? AND redeemed_at IS NULL AND expires_at > ?",
        &[
            Value::Int(now_ms),
            Value::from(jti),
            Value::from(app_code),
            Value::Int(now_ms),
        ],
    )?;
    Ok(n == 1)
}

/// The assertion `jti`, if the portal issued it (and it was not purged yet).
pub(crate) fn assertion(tx: &mut dyn Tx, jti: &str) -> Result<Option<Assertion>> {
    tx.query_opt(
        &format!("SELECT {} FROM sso_assertions WHERE jti = ?", Assertion::COLUMNS),
        &[Value::from(jti)],
    )?
    .map(Assertion::from_row)
    .transpose()
}

/// Deletes the assertions expired by `now_ms`, redeemed or not (an expired one is refused
/// before its record is looked at); returns how many.
pub(crate) fn purge_assertions(tx: &mut dyn Tx, now_ms: i64) -> Result<u64> {
    tx.execute(
        "DELETE FROM sso_assertions WHERE expires_at <= ?",
        &[Value::Int(now_ms)],
    )
}

/// The shared secret key `name`, stored as `fresh_hex` if there was none yet: every process
/// on the database gets the one that was stored first.
pub(crate) fn server_key(
    tx: &mut dyn Tx,
    name: &str,
    fresh_hex: &str,
    now_ms: i64,
) -> Result<zeroize::Zeroizing<String>> {
    tx.execute(
        "INSERT INTO server_keys (name, key_hex, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
        &[Value::from(name), Value::from(fresh_hex), Value::Int(now_ms)],
    )?;
    let rows = tx.query("SELECT key_hex FROM server_keys WHERE name = ?", &[Value::from(name)])?;
    let key: Option<String> = crate::db::first(rows)?;
    key.map(zeroize::Zeroizing::new)
        .ok_or_else(|| crate::store::corrupt("a server key vanished as it was made"))
}

crate::db::row! {
    /// An operator's announcement.
    pub(crate) struct Announcement {
        pub id: i64 = "id",
        pub title: String = "title",
        pub body: String = "body",
        pub created_at: time::OffsetDateTime = "created_at",
        pub until: Option<time::OffsetDateTime> = "until_at",
    }
}

/// The announcements, newest first: those still running at `now_ms`, or all of them.
pub(crate) fn announcements(tx: &mut dyn Tx, running_at_ms: Option<i64>) -> Result<Vec<Announcement>> {
    let (filter, params) = match running_at_ms {
        Some(now) => (" WHERE until_at IS NULL OR until_at > ?", vec![Value::Int(now)]),
        None => ("", Vec::new()),
    };
    let sql = format!(
        "SELECT {} FROM announcements{filter} ORDER BY created_at DESC, id DESC",
        Announcement::COLUMNS
    );
    crate::db::rows(tx.query(&sql, &params)?, Announcement::from_row)
}

/// Stores an announcement running until `until_ms` (or until removed); returns its number.
pub(crate) fn announce(tx: &mut dyn Tx, title: &str, body: &str, now_ms: i64, until_ms: Option<i64>) -> Result<i64> {
    tx.insert(
        "INSERT INTO announcements (title, body, created_at, until_at) VALUES (?, ?, ?, ?)",
        &[
            Value::from(title),
            Value::from(body),
            Value::Int(now_ms),
            Value::from(until_ms),
        ],
    )
}

/// Removes an announcement; `false` if there was none with that number.
pub(crate) fn remove_announcement(tx: &mut dyn Tx, id: i64) -> Result<bool> {
    Ok(tx.execute("DELETE FROM announcements WHERE id = ?", &[Value::Int(id)])? > 0)
}
