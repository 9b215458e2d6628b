//! The application catalogue (應用系統) and each person's "my applications".
//!
//! Each application requires an assurance level; with a weaker login it is shown greyed out
//! (「上述反灰的連結請使用自然人憑證登入才可使用」). The award-order and proofing functions
//! belong to B5 (公務人員個人資料校對網站) and check its level on every call.

use serde::{Deserialize, Serialize};

use super::auth::{Caller, SessionToken, caller, read_as, require_level};
use super::env::millis;
use super::local::LocalPortal;
use crate::db::site;
use crate::error::{Error, ErrorCode, Result};
use crate::store::{StoreExt, Tx};
use crate::types::AssuranceLevel;

/// The code of the personal-data proofing site, home of award orders and proofing.
pub const PROOFING_SITE: &str = "B5";

/// One application of the catalogue, as one session sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct Application {
    /// Its code, e.g. `B5`.
    pub code: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
    /// The login it needs.
    pub required_level: AssuranceLevel,
    /// Whether this session's login is strong enough (otherwise shown greyed out).
    pub usable: bool,
    /// Whether it is in the person's "my applications".
    pub added: bool,
}

fn application(app: site::App, level: AssuranceLevel) -> Application {
    Application {
        usable: level >= app.required_level,
        code: app.code,
        name_zh: app.name_zh,
        name_en: app.name_en,
        required_level: app.required_level,
        added: app.added,
    }
}

fn one(tx: &mut dyn Tx, c: &Caller, code: &str) -> Result<Application> {
    let app = site::app(tx, c.employee_id, code)?
        .ok_or_else(|| Error::with(ErrorCode::ApplicationUnknown, code.to_owned(), code.to_owned()))?;
    Ok(application(app, c.level))
}

/// The caller, checked against the level an application requires: every B5 function starts here.
pub(crate) fn caller_for(p: &LocalPortal, token: &SessionToken, code: &str) -> Result<Caller> {
    read_for(p, token, code, |_, c| Ok(c.clone()))
}

/// Runs `f` for the caller, checked against the application's level, in the same read
/// transaction as the checks (see [`read_as`]).
pub(crate) fn read_for<T>(
    p: &LocalPortal,
    token: &SessionToken,
    code: &str,
    mut f: impl FnMut(&mut dyn Tx, &Caller) -> Result<T>,
) -> Result<T> {
    read_as(p, token, |tx, c| {
        require_app_level(tx, c, code)?;
        f(tx, c)
    })
}

/// Refuses unless the caller's login reaches the level the application `code` requires.
pub(crate) fn require_app_level(tx: &mut dyn Tx, c: &Caller, code: &str) -> Result<()> {
    require_level(c, one(tx, c, code)?.required_level)
}

pub(crate) fn catalogue(p: &LocalPortal, token: &SessionToken, mine_only: bool) -> Result<Vec<Application>> {
    let c = caller(p, token)?;
    let apps = p.store.read(|tx| site::apps(tx, c.employee_id, mine_only))?;
    Ok(apps.into_iter().map(|a| application(a, c.level)).collect())
}

pub(crate) fn add(p: &LocalPortal, token: &SessionToken, code: &str) -> Result<()> {
    let c = caller(p, token)?;
    let now = millis(p.now());
    p.store.write(|tx| {
        one(tx, &c, code)?;
        site::add_app(tx, c.employee_id, code, now)
    })
}

pub(crate) fn open(p: &LocalPortal, token: &SessionToken, code: &str) -> Result<Application> {
    let c = caller(p, token)?;
    let app = p.store.read(|tx| one(tx, &c, code))?;
    if !app.added {
        return Err(Error::new(ErrorCode::ApplicationNotAdded));
    }
    require_level(&c, app.required_level)?;
    Ok(app)
}
