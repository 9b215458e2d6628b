//! The application catalogue (應用系統) and each person's "my applications".
//!
//! The catalogue is eCPA's: applications in groups (A 人事資料填報及考核, B 人事資料服務, D 其他
//! 人事總處業務, 非人事總處機關及系統), listed in group order. Each application requires an
//! assurance level; with a weaker login it is shown greyed out
//! (「上述反灰的連結請使用自然人憑證登入才可使用」). The award-order and proofing functions
//! belong to B5 (公務人員個人資料校對網站) and check its level on every call.
//!
//! Opening an application that the configuration gives an address (`[[portal.applications]]`)
//! hands it the person by single sign-on ([`sso`](super::sso)): the answer carries the signed
//! assertion to post there. Without an address, opening answers the metadata alone.

use serde::{Deserialize, Serialize};

use super::auth::{Caller, SessionToken, caller, read_as, require_level};
use super::env::millis;
use super::local::LocalPortal;
use super::sso::{self, SsoAssertion};
use crate::db::site;
use crate::error::{Error, ErrorCode, Result};
use crate::store::{StoreExt, Tx};
use crate::types::AssuranceLevel;

/// The code of the personal-data proofing site, home of award orders and proofing.
pub const PROOFING_SITE: &str = "B5";

/// A group of the catalogue (A 人事資料填報及考核, B 人事資料服務, D 其他人事總處業務, or `X`,
/// 非人事總處機關及系統, which eCPA shows without a letter).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct ApplicationGroup {
    /// Its code: `A`, `B`, `D` or `X`.
    pub code: String,
    /// Name in Chinese, e.g. 人事資料服務.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
}

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
    /// The group it is listed under.
    pub group: ApplicationGroup,
    /// Where this portal opens it with single sign-on (`[[portal.applications]]`); absent:
    /// opening it gives its catalogue entry only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Only in the answer of opening it, when it has an address: the assertion to post there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso: Option<SsoAssertion>,
}

fn application(p: &LocalPortal, app: site::App, level: AssuranceLevel) -> Application {
    let link = p.config.applications.iter().find(|l| l.code == app.code);
    Application {
        usable: level >= app.required_level,
        name_zh: link.and_then(|l| l.name_zh.clone()).unwrap_or(app.name_zh),
        name_en: link.and_then(|l| l.name_en.clone()).unwrap_or(app.name_en),
        code: app.code,
        required_level: app.required_level,
        added: app.added,
        group: ApplicationGroup {
            code: app.group_code,
            name_zh: app.group_name_zh,
            name_en: app.group_name_en,
        },
        url: link.map(|l| l.url.clone()),
        sso: None,
    }
}

fn one(p: &LocalPortal, tx: &mut dyn Tx, c: &Caller, code: &str) -> Result<Application> {
    let app = site::app(tx, c.employee_id, code)?
        .ok_or_else(|| Error::with(ErrorCode::ApplicationUnknown, code.to_owned(), code.to_owned()))?;
    Ok(application(p, app, c.level))
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
        require_app_level(p, tx, c, code)?;
        f(tx, c)
    })
}

/// Refuses unless the caller's login reaches the level the application `code` requires.
pub(crate) fn require_app_level(p: &LocalPortal, tx: &mut dyn Tx, c: &Caller, code: &str) -> Result<()> {
    require_level(c, one(p, tx, c, code)?.required_level)
}

pub(crate) fn catalogue(p: &LocalPortal, token: &SessionToken, mine_only: bool) -> Result<Vec<Application>> {
    let c = caller(p, token)?;
    let apps = p.store.read(|tx| site::apps(tx, c.employee_id, mine_only))?;
    Ok(apps.into_iter().map(|a| application(p, a, c.level)).collect())
}

pub(crate) fn add(p: &LocalPortal, token: &SessionToken, code: &str) -> Result<()> {
    let c = caller(p, token)?;
    let now = millis(p.now());
    p.store.write(|tx| {
        let app = one(p, tx, &c, code)?;
        site::add_app(tx, c.employee_id, &app.code, now)
    })
}

/// Opens an application for the caller: added to their list, their login strong enough; with
/// an address, the single sign-on assertion that hands them to it.
pub(crate) fn open(p: &LocalPortal, token: &SessionToken, code: &str) -> Result<Application> {
    let c = caller(p, token)?;
    let mut app = p.store.read(|tx| one(p, tx, &c, code))?;
    if !app.added {
        return Err(Error::new(ErrorCode::ApplicationNotAdded));
    }
    require_level(&c, app.required_level)?;
    if let Some(url) = &app.url {
        app.sso = Some(sso::issue(p, &c, &app.code, url)?);
    }
    Ok(app)
}

/// The configured links with each code as the catalogue has it (a former code read as the one
/// it names): an unknown code, or an application linked twice, is a configuration error.
pub(crate) fn resolve_links(tx: &mut dyn Tx, links: &[sso::ApplicationLink]) -> Result<Vec<sso::ApplicationLink>> {
    let mut out: Vec<sso::ApplicationLink> = Vec::with_capacity(links.len());
    for link in links {
        link.check()?;
        let code = site::app_code(tx, &link.code)?.ok_or_else(|| {
            Error::with(
                ErrorCode::ConfigInvalid,
                format!("portal.applications：應用系統目錄中沒有代碼「{}」", link.code),
                format!(
                    "portal.applications: the catalogue has no application \"{}\"",
                    link.code
                ),
            )
        })?;
        if out.iter().any(|l| l.code == code) {
            return Err(Error::with(
                ErrorCode::ConfigInvalid,
                format!("portal.applications：應用系統「{code}」設定了兩次"),
                format!("portal.applications: the application \"{code}\" is given twice"),
            ));
        }
        out.push(sso::ApplicationLink { code, ..link.clone() });
    }
    Ok(out)
}

/// Checks configured links against the catalogue of a database as it is, without migrating
/// it (for `ecpa config check`): their codes as the catalogue has them, or `None` if the
/// database is not yet at this build's schema (the portal checks them when it opens it).
pub fn check_links(
    store: &dyn crate::store::Store,
    links: &[sso::ApplicationLink],
) -> Result<Option<Vec<sso::ApplicationLink>>> {
    // A database no ecpa has migrated has no `schema_migrations` table: not yet, either.
    let version = store
        .read(|tx| tx.query_int("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[]))
        .unwrap_or(0);
    if version < crate::store::schema::latest_version() {
        return Ok(None);
    }
    store.read(|tx| resolve_links(tx, links)).map(Some)
}
