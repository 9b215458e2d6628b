//! Consent to electronic award orders (獎令電子化同意).
//!
//! A one-time agreement: award orders of 記功 and below, once approved by the serving agency,
//! are announced by e-mail and read on the proofing site. It is final: it can never become
//! "disagree". The record keeps the exact text version agreed to, when, and with which login.
//! Agreeing again changes nothing; asking to withdraw is refused. Without consent, orders go
//! on paper and the person's award pages stay closed (「點選同意後，即可檢視個人獎懲資料」).

use serde::{Deserialize, Serialize};

use super::apps::{PROOFING_SITE, caller_for, read_for};
use super::auth::{LoginMethod, SessionToken};
use super::env::millis;
use super::local::LocalPortal;
use crate::db::orders;
use crate::error::{Error, ErrorCode, Result};
use crate::store::{StoreExt, Tx};
use crate::types::RocDateTime;

/// The consent text in force, with the version a consent refers to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct ConsentText {
    /// The version identifier stored with each consent.
    pub version: String,
    /// The text, in Chinese, as shown in the dialog (線上檢視訊息).
    pub text_zh: String,
    /// An English rendering, for reference.
    pub text_en: String,
}

/// The version of the text below. A new wording gets a new version; old consents keep theirs.
pub const CURRENT_VERSION: &str = "2019-07-01";

/// The consent text in force.
pub fn current_text() -> ConsentText {
    ConsentText {
        version: CURRENT_VERSION.into(),
        text_zh: "為落實政府無紙化節能減碳政策、達成人事作業流程簡化及奠定公務電子履歷之基礎，本人同意記功以下獎勵令由服務機關核定後，經由系統以電子郵件方式主動通知本人登入「公務人員個人資料校對網站」進行查詢、列印獎勵令資料。".into(),
        text_en: "To carry out the government's paperless, energy-saving policy, simplify personnel procedures and lay the foundation of an electronic civil-service record, I agree that award orders of merit (記功) and below, once approved by my serving agency, are announced to me by e-mail from the system, and that I log in to the personal data proofing site to look them up and print them.".into(),
    }
}

/// A person's consent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct ConsentRecord {
    /// The text version agreed to.
    pub text_version: String,
    /// When.
    pub agreed_at: RocDateTime,
    /// With which login.
    pub login_method: LoginMethod,
}

pub(crate) fn load(tx: &mut dyn Tx, employee_id: i64) -> Result<Option<ConsentRecord>> {
    orders::consent(tx, employee_id)?
        .map(|r| {
            Ok(ConsentRecord {
                text_version: r.text_version,
                agreed_at: r.agreed_at.into(),
                login_method: LoginMethod::parse(&r.login_method)?,
            })
        })
        .transpose()
}

/// Refuses unless the person has consented: the award pages open only after consent.
pub(crate) fn require(tx: &mut dyn Tx, employee_id: i64) -> Result<()> {
    if !orders::has_consented(tx, employee_id)? {
        return Err(Error::new(ErrorCode::ConsentNotGiven));
    }
    Ok(())
}

pub(crate) fn status(p: &LocalPortal, token: &SessionToken) -> Result<Option<ConsentRecord>> {
    read_for(p, token, PROOFING_SITE, |tx, c| load(tx, c.employee_id))
}

pub(crate) fn give(p: &LocalPortal, token: &SessionToken, version: &str) -> Result<ConsentRecord> {
    let c = caller_for(p, token, PROOFING_SITE)?;
    let now = millis(p.now());
    p.store.write(|tx| {
        // Already agreed: final and unchanged, whichever version is offered now.
        if let Some(existing) = load(tx, c.employee_id)? {
            return Ok(existing);
        }
        if version != CURRENT_VERSION {
            return Err(Error::new(ErrorCode::ConsentTextOutdated));
        }
        orders::give_consent(tx, c.employee_id, version, now, c.method.as_str())?;
        crate::db::audit::record(
            tx,
            now,
            Some(c.employee_id),
            "consent.give",
            Some(c.employee_id),
            None,
            Some(version),
        )?;
        load(tx, c.employee_id)?.ok_or_else(|| Error::internal("consent vanished"))
    })
}

pub(crate) fn withdraw(p: &LocalPortal, token: &SessionToken) -> Result<()> {
    let c = caller_for(p, token, PROOFING_SITE)?;
    let now = millis(p.now());
    let given = p.store.write(|tx| {
        let given = load(tx, c.employee_id)?.is_some();
        if given {
            crate::db::audit::record(
                tx,
                now,
                Some(c.employee_id),
                "consent.withdraw_refused",
                Some(c.employee_id),
                None,
                None,
            )?;
        }
        Ok(given)
    })?;
    Err(Error::new(if given {
        ErrorCode::ConsentFinal
    } else {
        ErrorCode::ConsentNotGiven
    }))
}
