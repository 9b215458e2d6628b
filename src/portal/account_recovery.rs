//! 忘記帳號或密碼 for eCPA account logins.
//!
//! The person gives their national ID. Someone else can give it as well, so two things hold.
//! First, the answer is the same whatever the ID: it never says whether someone is on file or
//! has an account. Second, the mail goes only to the official mailbox the directory holds for
//! a serving employee. It carries the account name and a 30-minute, single-use link that sets
//! a new password (typed twice). A person without an account is told how to get one, and no
//! link is sent. Recovery mails are at least five minutes apart, so the form cannot flood a
//! mailbox. Setting the password ends the account's other sessions and opens an account held
//! for guessing, as setting it after a card login does.

use time::Duration;

use super::env::{check_link, millis, new_token, token_hash};
use super::guard::Subject;
use super::local::LocalPortal;
use super::registration::{Notice, NoticeKind, new_password_hash};
use crate::db::outbox::{self, enqueue};
use crate::db::{accounts, employees, sessions};
use crate::error::{Error, ErrorCode, Result};
use crate::store::StoreExt;
use crate::types::{NationalId, Password};

/// How long a recovery link works.
pub const ACCOUNT_LINK_TTL: Duration = Duration::minutes(30);

/// The least time between two recovery mails to one person.
const MAIL_SPACING: Duration = Duration::minutes(5);

pub(crate) fn request(p: &LocalPortal, national_id: &NationalId) -> Result<Notice> {
    let now = p.now();
    p.store.write(|tx| {
        let person = employees::by_national_id(tx, national_id)?.filter(|e| e.is_current());
        let Some((person, mailbox)) = person.and_then(|e| e.email.clone().map(|m| (e, m))) else {
            return Ok(());
        };
        if outbox::queued_since(tx, "account_recovery", &mailbox, millis(now - MAIL_SPACING))? {
            return Ok(());
        }
        let body = match employees::account_name(tx, person.id)? {
            Some(account) => {
                let token = new_token(p.rng.as_ref())?;
                accounts::insert_link(tx, &token_hash(&token), person.id, millis(now), millis(now + ACCOUNT_LINK_TTL))?;
                let url = format!("{}/account/reset?token={token}", p.config.portal_url);
                format!(
                    "您好：\n\n您申請人事服務網（eCPA）忘記帳號或密碼。您的帳號是：{account}\n\
                     如需重設密碼，請於 30 分鐘內開啟以下連結設定新密碼（僅能使用一次）：\n{url}\n\n\
                     若您沒有申請，請忽略本信，您的密碼不會變更。\n\n----\nHello,\n\nYou asked for your eCPA account \
                     name or password. Your account name is: {account}\nTo set a new password, open this link within \
                     30 minutes (it works once):\n{url}\n\nIf you did not ask, ignore this mail: your password stays as it is.\n"
                )
            }
            None => "您好：\n\n您申請人事服務網（eCPA）忘記帳號或密碼，但您尚未設定帳號。\n\
                 請以自然人憑證或健保卡登入後，於個人設定中設定帳號及密碼。\n\n----\nHello,\n\nYou asked for your \
                 eCPA account name or password, but you have not set up an account. Log in with your citizen \
                 certificate or NHI card, then set an account name and password.\n"
                .to_owned(),
        };
        enqueue(
            tx,
            millis(now),
            &mailbox,
            "人事服務網忘記帳號或密碼 Your eCPA account",
            &body,
            "account_recovery",
            None,
        )?;
        crate::db::audit::record(
            tx,
            millis(now),
            Some(person.id),
            "account.recovery_request",
            Some(person.id),
            None,
            None,
        )
    })?;
    Ok(NoticeKind::AccountRecoverySent.notice())
}

pub(crate) fn complete(p: &LocalPortal, token: &str, new: &Password, confirmation: &Password) -> Result<Notice> {
    let hash = new_password_hash(p, new, confirmation)?;
    let now = millis(p.now());
    p.store.write(|tx| {
        let key = token_hash(token.trim());
        let link = accounts::link(tx, &key)?.ok_or_else(|| Error::new(ErrorCode::TokenInvalid))?;
        check_link(link.used_at, link.expires_at, now)?;
        // Spent in the same transaction as the password it sets: a replay finds it used.
        accounts::use_link(tx, &key, now)?;
        let serving = employees::by_id(tx, link.employee_id)?.is_some_and(|e| e.is_current());
        if !serving || employees::account_name(tx, link.employee_id)?.is_none() {
            return Err(Error::new(ErrorCode::TokenInvalid));
        }
        employees::set_account_password(tx, link.employee_id, &hash, now)?;
        super::guard::clear(tx, Subject::Account(link.employee_id))?;
        sessions::end_by_method(tx, link.employee_id, "account", now)?;
        crate::db::audit::record(
            tx,
            now,
            Some(link.employee_id),
            "account.recovery",
            Some(link.employee_id),
            None,
            None,
        )?;
        Ok(NoticeKind::AccountPasswordChanged.notice())
    })
}
