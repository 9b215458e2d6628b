//! Reading the audit trail ([`audit`](super::audit) writes it): a personnel officer sees the
//! entries of their own agency, anyone else what was done with their own data; people by
//! masked ID and name, and each entry told in plain words (zh-TW and English) besides its
//! stable action code.

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
    /// The entry in plain words, e.g. 「陳美玲（F22345****）查閱機關人員名冊時看到您的資料」.
    pub summary_zh: String,
    /// The same in English.
    pub summary_en: String,
}

/// What each action of the trail means, in words for the person whose data it was: zh-TW and
/// English predicates, which [`describe`] puts after who acted.
const ACTIONS: &[(&str, &str, &str)] = &[
    ("login", "登入系統", "logged in"),
    (
        "account.set",
        "設定 eCPA 帳號及密碼",
        "set the eCPA account and password",
    ),
    (
        "account.recovery_request",
        "申請忘記帳號或密碼",
        "asked for the forgotten account or password",
    ),
    (
        "account.recovery",
        "以重設連結設定帳號密碼",
        "set the account password with the recovery link",
    ),
    ("audit.read", "查閱機關稽核紀錄", "read the agency's audit trail"),
    ("award.issue", "核發獎勵令", "issued an award order"),
    ("award.bulk_issue", "批次核發獎勵令", "issued award orders in bulk"),
    ("award.sign", "檢視並簽收獎勵令", "viewed and signed for an award order"),
    (
        "award.unsigned_list",
        "查詢未簽收獎令時看到您的獎令",
        "listed unsigned award orders, yours among them",
    ),
    (
        "certificate.bind",
        "綁定自然人憑證",
        "bound a citizen certificate to the account",
    ),
    (
        "certificate.unbind",
        "移除自然人憑證綁定",
        "removed the citizen certificate binding",
    ),
    ("consent.give", "同意獎令電子化", "consented to electronic award orders"),
    (
        "consent.extend",
        "同意新版獎令電子化同意書",
        "agreed to the newer consent text",
    ),
    (
        "consent.withdraw_refused",
        "申請撤回獎令電子化同意（同意不可撤回，未受理）",
        "asked to withdraw the consent (refused: consent is final)",
    ),
    (
        "consent.add_version",
        "載入獎令電子化同意書新版本",
        "loaded a new consent text",
    ),
    ("directory.import", "匯入人員名冊", "imported the staff directory"),
    ("directory.employee", "更新人員名冊資料", "updated the directory record"),
    ("directory.left", "登錄卸職", "recorded leaving office"),
    ("directory.officer", "設定人事人員身分", "made a personnel officer"),
    ("directory.agency", "新增或更名機關", "added or renamed an agency"),
    (
        "directory.list",
        "查閱機關人員名冊時看到您的資料",
        "listed the agency's staff, you among them",
    ),
    ("operator.backup", "備份資料庫", "backed up the database"),
    ("operator.purge", "清除過期資料", "purged expired data"),
    (
        "proofing.complete",
        "完成個人資料校對",
        "completed proofing the personal data",
    ),
    ("proofing.process", "處理校對修正", "processed a proofing correction"),
    (
        "proofing.query",
        "查詢校對資料時看到您的資料",
        "queried proofing, you among the people shown",
    ),
    ("proofing.read", "檢視校對修正", "read the proofing corrections"),
    ("record.set", "更新人事資料", "updated the personnel record"),
    (
        "registration.start",
        "申請健保卡網路服務註冊",
        "applied for NHI card online registration",
    ),
    (
        "registration.confirm",
        "完成健保卡註冊電子信箱認證",
        "confirmed the NHI card registration's e-mail address",
    ),
    (
        "registration.resend",
        "重寄註冊認證信",
        "had the registration's confirmation sent again",
    ),
    (
        "registration.refused",
        "重複申請健保卡註冊（未受理）",
        "applied to register again (refused)",
    ),
    (
        "registration.reset_request",
        "申請忘記註冊密碼",
        "asked to reset the registration password",
    ),
    ("registration.reset", "重設註冊密碼", "reset the registration password"),
    (
        "registration.delete_request",
        "申請刪除註冊申請",
        "asked to delete the registration application",
    ),
    (
        "registration.delete",
        "刪除註冊申請",
        "deleted the registration application",
    ),
    (
        "registration.password_change",
        "變更註冊密碼",
        "changed the registration password",
    ),
    (
        "registration.details_change",
        "異動註冊基本資料",
        "changed the registration's phone numbers",
    ),
    (
        "registration.email_change_request",
        "申請變更註冊電子信箱",
        "asked to change the registration's e-mail address",
    ),
    (
        "registration.email_change",
        "完成註冊電子信箱變更",
        "changed the registration's e-mail address",
    ),
    (
        "registration.in_person",
        "臨櫃註冊健保卡",
        "registered the NHI card at a counter",
    ),
    (
        "registration.stop",
        "停用健保卡註冊",
        "stopped the NHI card registration",
    ),
];

/// The words of `action` (zh-TW, English), if the trail knows it.
pub fn describe(action: &str) -> Option<(&'static str, &'static str)> {
    ACTIONS
        .iter()
        .find(|(a, _, _)| *a == action)
        .map(|(_, zh, en)| (*zh, *en))
}

/// Who acted, as the reader reads it: they themselves, another person, the operator, or the
/// portal itself.
fn who(e: &audit::Entry, reader: i64) -> (String, String) {
    match (&e.actor, &e.actor_id, &e.actor_name, &e.operator) {
        (Some(id), ..) if *id == reader => ("您".into(), "You".into()),
        (_, Some(nid), Some(name), _) => {
            let shown = format!("{name}（{}）", nid.masked());
            (shown.clone(), format!("{name} ({})", nid.masked()))
        }
        (_, _, _, Some(op)) => (format!("系統管理者 {op} "), format!("The operator {op}")),
        _ => ("系統".into(), "The portal".into()),
    }
}

/// An entry in plain words; an action this version does not know (written by a newer one)
/// is named as such, never shown as its bare code alone.
fn summary(e: &audit::Entry, reader: i64) -> (String, String) {
    let (who_zh, who_en) = who(e, reader);
    match describe(&e.action) {
        Some((zh, en)) => (format!("{who_zh}{zh}"), format!("{who_en} {en}")),
        None => (
            format!("{who_zh}進行了本版本未列的操作（{}）", e.action),
            format!("{who_en} did something this version does not describe ({})", e.action),
        ),
    }
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
            .map(|e| {
                let (summary_zh, summary_en) = summary(&e, c.employee_id);
                AuditEntry {
                    at: e.at.into(),
                    actor: person(e.actor_id, e.actor_name),
                    action: e.action,
                    subject: person(e.subject_id, e.subject_name),
                    object: e.object,
                    detail: e.detail,
                    operator: e.operator,
                    summary_zh,
                    summary_en,
                }
            })
            .collect();
        // Reading the trail is itself a read of others' data when an officer does it.
        if c.officer {
            audit::record(tx, millis(p.now()), Some(c.employee_id), "audit.read", None, None, None)?;
        }
        Ok(entries)
    })
}
