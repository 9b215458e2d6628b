//! Consent to electronic award orders (獎令電子化同意).
//!
//! A one-time agreement: award orders of the kinds the text covers, once approved by the
//! serving agency, are announced by e-mail and read on the proofing site. It is final: it can
//! never become "disagree". Without consent, orders go on paper and the person's award pages
//! stay closed (「點選同意後，即可檢視個人獎懲資料」).
//!
//! The texts are versions, each with the highest reward it covers and the day it takes effect.
//! The 2019 text covers 記功以下. Since 2024-01-01, 記大功 may also go electronically, but only
//! to someone whose agreed text covers it. Anyone who agreed only to the 2019 text gets a 記大功
//! on paper, with that reason, and is offered the newer text. Agreeing to it adds an agreement;
//! the first one stays as it was. Every agreement keeps the exact version, the time and the
//! login. The 2024 text is not public. It ships as a draft written after the 2019 one and is
//! marked as a draft in its record. The operator loads the official texts from a file with
//! `ecpa consent add-version`, and among texts of the same day the official one is offered
//! over the draft.

use serde::{Deserialize, Serialize};
use time::{Date, macros::format_description};

use super::apps::{PROOFING_SITE, caller_for, read_for};
use super::auth::{LoginMethod, SessionToken};
use super::awards::AwardKind;
use super::env::millis;
use super::local::LocalPortal;
use crate::db::orders;
use crate::error::{Error, ErrorCode, Result};
use crate::store::{StoreExt, Tx};
use crate::types::text::text_field;
use crate::types::{RocDate, RocDateTime};

/// A consent text (獎令電子化同意書), with the version a consent refers to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct ConsentText {
    /// The version identifier stored with each consent.
    pub version: String,
    /// The text, in Chinese, as shown in the dialog (線上檢視訊息).
    pub text_zh: String,
    /// An English rendering, for reference.
    pub text_en: String,
    /// The highest reward it covers: `merit` for 記功以下, `major_merit` for 記一大功以下.
    pub covers: AwardKind,
    /// The day it takes effect.
    pub effective_from: RocDate,
    /// Whether it is a draft standing in for an official text not yet loaded.
    pub draft: bool,
}

/// A person's consent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct ConsentRecord {
    /// The text version agreed to (the newest, when the person agreed to more than one).
    pub text_version: String,
    /// When.
    pub agreed_at: RocDateTime,
    /// With which login.
    pub login_method: LoginMethod,
    /// The highest reward the texts agreed to cover: orders above it go on paper.
    pub covers: AwardKind,
    /// The version of the text in force when it covers more than the person agreed to: offered
    /// to them (agreeing adds to their consent); `None` when nothing more is to agree to.
    #[serde(default)]
    pub newer_version: Option<String>,
}

/// A consent text as an operator loads it (`ecpa consent add-version FILE`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewConsentText {
    /// Its version identifier, e.g. `2024-01-01`: new, never reused.
    pub version: String,
    /// The day it takes effect, as `113/01/01` or `2024-01-01`.
    pub effective_from: String,
    /// The highest reward it covers: `merit`/記功 or `major_merit`/記大功/記一大功 (a reward).
    pub covers: String,
    /// Whether it is a draft (default: an official text).
    #[serde(default)]
    pub draft: bool,
    /// The text in Chinese.
    pub text_zh: String,
    /// The text in English.
    pub text_en: String,
}

/// The kind a `covers_rank` names: the rewards in order, 0 嘉獎, 1 記功, 2 記大功.
fn kind_of_rank(rank: i64) -> Result<AwardKind> {
    usize::try_from(rank)
        .ok()
        .and_then(|r| AwardKind::ALL.get(r).copied())
        .filter(|k| k.is_reward())
        .ok_or_else(|| crate::store::corrupt("a consent text covering no reward"))
}

fn rank_of(kind: AwardKind) -> i64 {
    AwardKind::ALL.iter().position(|k| *k == kind).map_or(0, |i| i as i64)
}

fn text_of(v: orders::ConsentVersion) -> Result<ConsentText> {
    let day = Date::parse(&v.effective_from, format_description!("[year]-[month]-[day]"))
        .map_err(|_| crate::store::corrupt("a consent text's effective date"))?;
    Ok(ConsentText {
        covers: kind_of_rank(v.covers_rank)?,
        effective_from: RocDate::from_gregorian(day)?,
        draft: v.draft,
        version: v.version,
        text_zh: v.text_zh,
        text_en: v.text_en,
    })
}

/// The text in force on `today`: the last to have taken effect.
fn in_force(tx: &mut dyn Tx, today: RocDate) -> Result<ConsentText> {
    let mut texts = orders::consent_versions(tx)?
        .into_iter()
        .map(text_of)
        .collect::<Result<Vec<_>>>()?;
    texts.retain(|t| t.effective_from <= today);
    texts
        .pop()
        .ok_or_else(|| crate::store::corrupt("no consent text in force"))
}

fn today(p: &LocalPortal) -> RocDate {
    RocDate::today_in_taiwan(p.now())
}

pub(crate) fn current_text(p: &LocalPortal) -> Result<ConsentText> {
    let today = today(p);
    p.store.read(|tx| in_force(tx, today))
}

/// Every consent text, in the order they took over.
pub(crate) fn all_texts(p: &LocalPortal) -> Result<Vec<ConsentText>> {
    p.store
        .read(|tx| orders::consent_versions(tx)?.into_iter().map(text_of).collect())
}

pub(crate) fn load(tx: &mut dyn Tx, employee_id: i64, today: RocDate) -> Result<Option<ConsentRecord>> {
    let agreed = orders::consents(tx, employee_id)?;
    let Some(newest) = agreed.last() else {
        return Ok(None);
    };
    let covers = kind_of_rank(agreed.iter().map(|a| a.covers_rank).max().unwrap_or(0))?;
    let current = in_force(tx, today)?;
    Ok(Some(ConsentRecord {
        text_version: newest.text_version.clone(),
        agreed_at: newest.agreed_at.into(),
        login_method: LoginMethod::parse(&newest.login_method)?,
        covers,
        newer_version: (current.covers > covers).then_some(current.version),
    }))
}

/// Refuses unless the person has consented: the award pages open only after consent.
pub(crate) fn require(tx: &mut dyn Tx, employee_id: i64) -> Result<()> {
    if !orders::has_consented(tx, employee_id)? {
        return Err(Error::new(ErrorCode::ConsentNotGiven));
    }
    Ok(())
}

pub(crate) fn status(p: &LocalPortal, token: &SessionToken) -> Result<Option<ConsentRecord>> {
    let today = today(p);
    read_for(p, token, PROOFING_SITE, |tx, c| load(tx, c.employee_id, today))
}

pub(crate) fn give(p: &LocalPortal, token: &SessionToken, version: &str) -> Result<ConsentRecord> {
    let c = caller_for(p, token, PROOFING_SITE)?;
    let now = millis(p.now());
    let today = today(p);
    p.store.write(|tx| {
        let existing = load(tx, c.employee_id, today)?;
        // Already agreed, with nothing newer to agree to, or a version other than the one
        // offered: final and unchanged.
        if let Some(existing) = &existing
            && existing.newer_version.as_deref() != Some(version)
        {
            return Ok(existing.clone());
        }
        if version != in_force(tx, today)?.version {
            return Err(Error::new(ErrorCode::ConsentTextOutdated));
        }
        orders::give_consent(tx, c.employee_id, version, now, c.method.as_str())?;
        let action = if existing.is_some() {
            "consent.extend"
        } else {
            "consent.give"
        };
        crate::db::audit::record(
            tx,
            now,
            Some(c.employee_id),
            action,
            Some(c.employee_id),
            None,
            Some(version),
        )?;
        load(tx, c.employee_id, today)?.ok_or_else(|| Error::internal("consent vanished"))
    })
}

impl LocalPortal {
    /// Loads a consent text (the operator's `ecpa consent add-version FILE`): a new version,
    /// never one already recorded (people's agreements point at them). It is offered from
    /// its day on, over a draft of the same day. `source` names the file it came from and
    /// `operator` who loaded it, for the audit trail.
    pub fn add_consent_version(&self, new: &NewConsentText, source: &str, operator: &str) -> Result<ConsentText> {
        let operator = super::audit::operator_name(operator)?;
        let version = new.version.trim();
        let valid = (1..=40).contains(&version.chars().count())
            && version
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "._-".contains(ch));
        if !valid {
            return Err(Error::with(
                ErrorCode::FieldInvalid,
                "同意書版本應為 1 至 40 個英數字或 . _ -",
                "the version must be 1 to 40 letters, digits or . _ -",
            ));
        }
        let day = RocDate::parse(&new.effective_from).or_else(|_| RocDate::parse_iso(new.effective_from.trim()))?;
        let covers: AwardKind = new.covers.parse()?;
        if !covers.is_reward() {
            return Err(Error::with(
                ErrorCode::FieldInvalid,
                "同意書涵蓋的種類應為獎勵",
                "a consent text covers a kind of reward",
            ));
        }
        let text_zh = text_field("同意書內容 text_zh", &new.text_zh, 2000)?;
        let text_en = text_field("同意書英文 text_en", &new.text_en, 4000)?;
        let source = text_field("來源 source", source, 300)?;
        let iso = day.to_iso();
        let now = millis(self.now());
        let added = self.store.write(|tx| {
            let row = orders::NewConsentVersion {
                version,
                effective_from: &iso,
                covers: covers.as_str(),
                covers_rank: rank_of(covers),
                draft: new.draft,
                text_zh: &text_zh,
                text_en: &text_en,
                source: &source,
                added_ms: now,
            };
            if !orders::add_consent_version(tx, &row)? {
                return Ok(false);
            }
            let object = format!("consent_version:{version}");
            crate::db::audit::record_operator(
                tx,
                now,
                &operator,
                "consent.add_version",
                None,
                Some(&object),
                Some(&source),
            )?;
            Ok(true)
        })?;
        if !added {
            return Err(Error::with(
                ErrorCode::FieldInvalid,
                format!("同意書版本 {version} 已存在"),
                format!("consent version {version} exists already"),
            ));
        }
        Ok(ConsentText {
            version: version.to_owned(),
            text_zh,
            text_en,
            covers,
            effective_from: day,
            draft: new.draft,
        })
    }

    /// Every consent text, in the order they took over (the operator's `ecpa consent list`).
    pub fn consent_versions(&self) -> Result<Vec<ConsentText>> {
        all_texts(self)
    }
}

pub(crate) fn withdraw(p: &LocalPortal, token: &SessionToken) -> Result<()> {
    let c = caller_for(p, token, PROOFING_SITE)?;
    let now = millis(p.now());
    let given = p.store.write(|tx| {
        let given = orders::has_consented(tx, c.employee_id)?;
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
