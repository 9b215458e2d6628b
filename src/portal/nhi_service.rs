//! The NHI card service's own functions beside registration, as its login page lists them:
//! 刪除註冊申請 (delete a pending application), 註冊密碼變更 (a new password, with the old
//! one) and 基本資料異動 (phone, mobile and e-mail address).
//!
//! Card data is no secret, so none of these acts on the card alone. Deleting an application
//! takes a link mailed to the address on file (the person's official mailbox); a password or
//! details change takes the registered password, counted as a guess per card and network like
//! a login. A new e-mail address is never trusted as typed: the confirmation goes to the address
//! on file, and the new one counts once its link is opened (the old one is told). Stopping a
//! complete registration is done at a counter, in person ([`NoticeKind::StopInPerson`]).

use serde::{Deserialize, Serialize};

use super::auth::checked_login;
use super::env::millis;
use super::guard::{Guard, Subject};
use super::local::LocalPortal;
use super::registration::{
    Notice, NoticeKind, RESET_LINK_TTL, RegistrationReceipt, audit_card, check_maintenance, check_phone, issue_token,
    new_password_hash, person_on_file, receipt, take_token, tell_replaced_address,
};
use crate::db::outbox::enqueue;
use crate::db::{registrations, sessions};
use crate::error::{Error, ErrorCode, Result};
use crate::store::StoreExt;
use crate::types::{Email, NhiCardData, Password};

/// 基本資料異動: the contact details a registration holds, as the person sets them. Phone and
/// mobile are optional (blank: not given), the e-mail address is required, as on the form.
#[derive(Debug, Clone)]
pub struct RegistrationDetails {
    /// 電話, if given.
    pub phone: Option<String>,
    /// 行動電話, if given.
    pub mobile: Option<String>,
    /// E-Mail: the same as now, or a new address to confirm.
    pub email: Email,
}

/// What a details change did.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct DetailsChange {
    /// Whether the phone or mobile number changed (at once).
    pub phones_changed: bool,
    /// For a new e-mail address: where its confirmation link went (the address on file) and
    /// until when it works. The address counts once the link is opened.
    pub email_confirmation: Option<RegistrationReceipt>,
    /// What to tell the person.
    pub notice: Notice,
}

/// The registered password of the card's active registration, checked as a counted guess.
fn check_password(
    p: &LocalPortal,
    card: &NhiCardData,
    password: &Password,
    from: Option<std::net::IpAddr>,
) -> Result<()> {
    let card_no = card.card_number.as_str();
    let stored = p
        .store
        .read(|tx| registrations::active_password(tx, card_no, &card.national_id))?
        .ok_or_else(|| Error::new(ErrorCode::NhiCardNotRegistered))?;
    let guard = Guard::new(p, Subject::Card(card_no), from);
    checked_login(
        p,
        &guard,
        &stored,
        password,
        |tries_left| Error::RegistrationPasswordWrong { tries_left },
        || Ok(()),
    )
}

/// 刪除註冊申請: mails a 30-minute, single-use link that deletes the card's pending
/// application to the person's official mailbox. A complete registration is not deleted
/// online: it is stopped in person.
pub(crate) fn request_deletion(p: &LocalPortal, card: &NhiCardData) -> Result<RegistrationReceipt> {
    let card_no = card.card_number.as_str();
    let now = p.now();
    let (to, expires) = p.store.write(|tx| {
        check_maintenance(tx, now)?;
        if registrations::pending_email(tx, card_no, &card.national_id)?.is_none() {
            let active = registrations::active_email_of(tx, card_no, &card.national_id)?.is_some();
            return Err(Error::new(if active {
                ErrorCode::RegistrationStopInPerson
            } else {
                ErrorCode::NhiCardNotRegistered
            }));
        }
        let to = person_on_file(tx, card, None)?.mailbox()?.clone();
        let (token, expires) = issue_token(p, tx, card_no, "delete", (None, None), RESET_LINK_TTL)?;
        let url = format!("{}/nhi/delete?token={token}", p.config.portal_url);
        let body = format!(
            "您好：\n\n有人以您的健保卡申請刪除尚未完成認證的健保卡網路服務註冊申請。\n\
             若是您本人，請在插入同一張健保卡的狀態下，於 30 分鐘內開啟以下連結確認刪除（僅能使用一次）：\n{url}\n\n\
             若不是您，請勿開啟連結，您的申請不受影響。\n\n----\nHello,\n\nSomeone with your NHI card asked to delete \
             your registration application that is still waiting for its confirmation.\nIf it was you, open this link \
             within 30 minutes with the same card inserted to confirm (it works once):\n{url}\n\n\
             If not, do not open it: your application stays as it is.\n"
        );
        enqueue(
            tx,
            millis(now),
            to.as_str(),
            "健保卡網路服務刪除註冊申請確認信 Confirm deleting your registration application",
            &body,
            "registration_delete",
            None,
        )?;
        audit_card(tx, now, card, "registration.delete_request")?;
        Ok((to, expires))
    })?;
    Ok(receipt(&to, expires, None))
}

/// Opens a deletion link with the same card: the pending application and its links go.
pub(crate) fn complete_deletion(p: &LocalPortal, card: &NhiCardData, token: &str) -> Result<Notice> {
    let now = p.now();
    p.store.write(|tx| {
        check_maintenance(tx, now)?;
        take_token(tx, now, card, token, "delete")?;
        let card_no = card.card_number.as_str();
        // Confirmed since the link was sent: then it is a registration, which is not deleted.
        if registrations::pending_email(tx, card_no, &card.national_id)?.is_none() {
            return Err(Error::new(ErrorCode::RegistrationStopInPerson));
        }
        registrations::remove(tx, card_no)?;
        audit_card(tx, now, card, "registration.delete")?;
        Ok(NoticeKind::ApplicationDeleted.notice())
    })
}

/// 註冊密碼變更: the old password (a counted guess) and the new one twice. Every NHI-card
/// session of the person ends, and the registration's address is told.
pub(crate) fn change_password(
    p: &LocalPortal,
    card: &NhiCardData,
    old: &Password,
    new: &Password,
    confirmation: &Password,
    from: Option<std::net::IpAddr>,
) -> Result<Notice> {
    let hash = new_password_hash(p, new, confirmation)?;
    check_password(p, card, old, from)?;
    let now = p.now();
    let card_no = card.card_number.as_str();
    p.store.write(|tx| {
        check_maintenance(tx, now)?;
        let email = registrations::active_email_of(tx, card_no, &card.national_id)?
            .ok_or_else(|| Error::new(ErrorCode::NhiCardNotRegistered))?;
        registrations::set_password(tx, card_no, &hash, None, None)?;
        sessions::end_nhi_card_sessions_of(tx, &card.national_id, millis(now))?;
        let body = "您好：\n\n您的健保卡網路服務註冊密碼已變更，往後以健保卡登入請使用新密碼。\n\
            若不是您本人所為，請立即以「忘記註冊密碼」重設，並洽服務機關人事單位。\n\n----\nHello,\n\n\
            Your NHI card registration password was changed; log in with the new one from now on.\n\
            If this was not you, reset it at once with \"forgot password\" and tell your personnel office.\n";
        enqueue(
            tx,
            millis(now),
            &email,
            "健保卡網路服務註冊密碼變更通知 Your registration password changed",
            body,
            "registration_password_changed",
            None,
        )?;
        audit_card(tx, now, card, "registration.password_change")?;
        Ok(NoticeKind::PasswordChanged.notice())
    })
}

/// 基本資料異動: with the registered password, new phone and mobile numbers (at once) and, if
/// the e-mail address differs, a confirmation link to the address on file.
pub(crate) fn change_details(
    p: &LocalPortal,
    card: &NhiCardData,
    password: &Password,
    details: &RegistrationDetails,
    from: Option<std::net::IpAddr>,
) -> Result<DetailsChange> {
    let phone = check_phone("電話 phone", details.phone.as_deref())?;
    let mobile = check_phone("行動電話 mobile", details.mobile.as_deref())?;
    check_password(p, card, password, from)?;
    let card_no = card.card_number.as_str();
    let now = p.now();
    p.store.write(|tx| {
        check_maintenance(tx, now)?;
        let held = registrations::active_contact(tx, card_no, &card.national_id)?
            .ok_or_else(|| Error::new(ErrorCode::NhiCardNotRegistered))?;
        let phones_changed =
            held.phone != phone.as_deref().unwrap_or_default() || held.mobile != mobile.as_deref().unwrap_or_default();
        if phones_changed {
            registrations::set_phones(tx, card_no, phone.as_deref(), mobile.as_deref())?;
            audit_card(tx, now, card, "registration.details_change")?;
        }
        let email_confirmation = if held.email == details.email.as_str() {
            None
        } else {
            // Never to the typed address: to the official mailbox, or, for a person the
            // directory has none for, the registration's confirmed one.
            let to = match person_on_file(tx, card, None)?.email {
                Some(mailbox) => mailbox,
                None => Email::parse(&held.email)?,
            };
            let (token, expires) =
                issue_token(p, tx, card_no, "email_change", (Some(details.email.as_str()), None), RESET_LINK_TTL)?;
            let url = format!("{}/nhi/email?token={token}", p.config.portal_url);
            let shown = details.email.masked();
            let body = format!(
                "您好：\n\n有人以您的健保卡與註冊密碼申請將健保卡網路服務的註冊電子信箱變更為 {shown}。\n\
                 若是您本人，請在插入同一張健保卡的狀態下，於 30 分鐘內開啟以下連結完成變更（僅能使用一次）：\n{url}\n\n\
                 若不是您，請勿開啟連結，並建議立即變更註冊密碼。\n\n----\nHello,\n\nSomeone with your NHI card and its \
                 password asked to change your registration's e-mail address to {shown}.\nIf it was you, open this link \
                 within 30 minutes with the same card inserted (it works once):\n{url}\n\nIf not, do not open it, and \
                 change your registration password now.\n"
            );
            enqueue(
                tx,
                millis(now),
                to.as_str(),
                "健保卡網路服務註冊電子信箱變更確認信 Confirm your new registration e-mail address",
                &body,
                "registration_email_change",
                None,
            )?;
            audit_card(tx, now, card, "registration.email_change_request")?;
            Some(receipt(&to, expires, Some(&details.email)))
        };
        let notice = if email_confirmation.is_some() {
            NoticeKind::EmailChangeSent
        } else {
            NoticeKind::DetailsChanged
        };
        Ok(DetailsChange {
            phones_changed,
            email_confirmation,
            notice: notice.notice(),
        })
    })
}

/// Opens an e-mail change's link: the registration takes the new address, and the old one is
/// told.
pub(crate) fn complete_email_change(p: &LocalPortal, card: &NhiCardData, token: &str) -> Result<Notice> {
    let now = p.now();
    p.store.write(|tx| {
        check_maintenance(tx, now)?;
        let new = take_token(tx, now, card, token, "email_change")?
            .new_email
            .ok_or_else(|| crate::store::corrupt("an e-mail change link without its address"))?;
        let old = registrations::active_email_of(tx, card.card_number.as_str(), &card.national_id)?
            .ok_or_else(|| Error::new(ErrorCode::TokenInvalid))?;
        registrations::set_email(tx, card.card_number.as_str(), &new)?;
        audit_card(tx, now, card, "registration.email_change")?;
        tell_replaced_address(tx, now, &old, &new, "", "'s")?;
        Ok(NoticeKind::EmailConfirmed.notice())
    })
}

impl LocalPortal {
    /// [`Portal::change_registration_password`](super::Portal::change_registration_password)
    /// for a client at `from`: a wrong old password counts as a wrong login does.
    pub fn change_registration_password_from(
        &self,
        card: &NhiCardData,
        old: &Password,
        new: &Password,
        confirmation: &Password,
        from: Option<std::net::IpAddr>,
    ) -> Result<Notice> {
        change_password(self, card, old, new, confirmation, from)
    }

    /// [`Portal::change_registration_details`](super::Portal::change_registration_details)
    /// for a client at `from`: a wrong password counts as a wrong login does.
    pub fn change_registration_details_from(
        &self,
        card: &NhiCardData,
        password: &Password,
        details: &RegistrationDetails,
        from: Option<std::net::IpAddr>,
    ) -> Result<DetailsChange> {
        change_details(self, card, password, details, from)
    }
}
