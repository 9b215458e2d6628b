//! NHI card online registration (健保卡網路服務註冊): the step before an NHI card can log in.
//!
//! The card is read (its name, ID and card number come from the card), the person adds the
//! household number (戶號), the household registration address, a password, phones and e-mail
//! addresses. A confirmation mail carries a link; opening it with the same card inserted
//! completes the registration. Forgot password: with the card, a reset link goes either to the
//! registered address or, after the household data is checked again, to a new address. A reset
//! link is valid for 30 minutes and once; the old password keeps working until the reset is
//! done, and the new one is also the mobile app's. Stopping a registration is only possible in
//! person, so there is no API for it. During an announced maintenance window the registration
//! service refuses with the announced period.
//!
//! Passwords are stored as argon2id hashes; links as SHA-256 hashes of their tokens.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::LocalPortal;
use super::auth::hash_password;
use super::env::{from_millis, millis, new_token, token_hash};
use super::notify::enqueue;
use crate::error::{Error, ErrorCode, Result};
use crate::store::{StoreExt, Tx, Value};
use crate::types::{Email, HouseholdAddress, HouseholdNumber, NhiCardData, Password, RocDateTime};

/// How long a password-reset link stays valid: the rule says 30 minutes.
pub const RESET_LINK_TTL: Duration = Duration::minutes(30);

/// The registration form (健保卡網路服務註冊-申請).
#[derive(Debug, Clone)]
pub struct RegistrationForm {
    /// The card's basic data, as read from the card.
    pub card: NhiCardData,
    /// 戶號, from the household register booklet.
    pub household_number: HouseholdNumber,
    /// 戶籍鄉鎮里鄰.
    pub address: HouseholdAddress,
    /// The password.
    pub password: Password,
    /// The password again.
    pub confirmation: Password,
    /// Phone.
    pub phone: String,
    /// Mobile (used later for device authentication).
    pub mobile: String,
    /// Main e-mail address: the confirmation link goes here.
    pub email: Email,
    /// Spare e-mail address.
    pub spare_email: Option<Email>,
}

/// How a password-reset link is delivered.
#[derive(Debug, Clone)]
pub enum ResetDelivery {
    /// 寄送重設註冊密碼信: to the registered address.
    RegisteredAddress,
    /// 修改電子郵件信箱寄送重設註冊密碼信: to a new address, which replaces the registered one
    /// when the reset is completed. The household data must match the registration.
    NewAddress {
        /// The new address.
        email: Email,
        /// 戶號, checked against the registration.
        household_number: HouseholdNumber,
        /// 戶籍鄉鎮里鄰, checked against the registration.
        address: HouseholdAddress,
    },
}

/// What a registration step did: where the link went and until when it works.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RegistrationReceipt {
    /// The address the link was sent to.
    pub sent_to: String,
    /// When the link stops working.
    pub link_expires_at: RocDateTime,
    /// Warnings for the person (e.g. a Microsoft mail domain), in Chinese.
    pub warnings_zh: Vec<String>,
    /// The same warnings in English.
    pub warnings_en: Vec<String>,
}

/// An announced maintenance window.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MaintenanceWindow {
    /// Its number.
    pub id: i64,
    /// Start.
    pub from: RocDateTime,
    /// End.
    pub to: RocDateTime,
    /// Why, as the operator announced it (e.g. 「配合戶政系統維護」); `None`: plain maintenance.
    #[serde(default)]
    pub reason: Option<String>,
    /// The announcement, as the site shows it.
    pub announcement_zh: String,
}

fn window(id: i64, from: RocDateTime, to: RocDateTime, reason: Option<String>) -> MaintenanceWindow {
    MaintenanceWindow {
        id,
        from,
        to,
        announcement_zh: crate::error::maintenance_notice(from, to, reason.as_deref()),
        reason,
    }
}

/// Refuses during a maintenance window.
fn check_maintenance(tx: &mut dyn Tx, now: OffsetDateTime) -> Result<()> {
    let row = tx.query_opt(
        "SELECT starts_at, ends_at, reason FROM maintenance_windows WHERE starts_at <= ? AND ends_at > ? ORDER BY starts_at LIMIT 1",
        &[Value::Int(millis(now)), Value::Int(millis(now))],
    )?;
    if let Some(r) = row {
        return Err(Error::RegistrationMaintenance {
            from: from_millis(r.int(0)?)?,
            to: from_millis(r.int(1)?)?,
            reason: r.opt_text(2)?,
        });
    }
    Ok(())
}

fn check_phone(name: &'static str, value: &str) -> Result<String> {
    let v = value.trim();
    let digits = v.chars().filter(char::is_ascii_digit).count();
    let allowed = v.chars().all(|c| c.is_ascii_digit() || "-#() +".contains(c));
    if !allowed || !(7..=15).contains(&digits) {
        return Err(Error::with(
            ErrorCode::FieldInvalid,
            format!("{name}格式錯誤：7 至 15 位數字，可含 - # ( ) +"),
            format!("{name}: 7 to 15 digits, with - # ( ) + allowed"),
        ));
    }
    Ok(v.to_owned())
}

/// What a registration step tells the person: where the link went, until when, and the
/// Microsoft-domain warning for each address that needs it.
fn receipt<'a>(
    sent_to: &'a Email,
    expires: OffsetDateTime,
    others: impl IntoIterator<Item = &'a Email>,
) -> RegistrationReceipt {
    let (warnings_zh, warnings_en) = std::iter::once(sent_to)
        .chain(others)
        .filter_map(|e| e.microsoft_warning().map(|w| (e, w)))
        .map(|(e, w)| {
            (
                format!("{}：{}", e.as_str(), w.message(crate::types::Lang::ZhTw)),
                format!("{}: {}", e.as_str(), w.message(crate::types::Lang::En)),
            )
        })
        .unzip();
    RegistrationReceipt {
        sent_to: sent_to.as_str().into(),
        link_expires_at: expires.into(),
        warnings_zh,
        warnings_en,
    }
}

/// Records a registration event in the audit trail, against the employee the card belongs to
/// (if any); the card number is masked.
fn audit_card(tx: &mut dyn Tx, now: OffsetDateTime, card: &NhiCardData, action: &str) -> Result<()> {
    let subject = tx
        .query_opt(
            "SELECT id FROM employees WHERE national_id = ?",
            &[Value::from(card.national_id.reveal())],
        )?
        .map(|r| r.int(0))
        .transpose()?;
    let object = format!("nhi_card:{}", card.card_number.masked());
    super::audit::record(tx, millis(now), subject, action, subject, Some(&object), None)
}

/// Creates a link token for a registration, invalidating earlier unused ones of the same purpose.
fn issue_token(
    p: &LocalPortal,
    tx: &mut dyn Tx,
    card_number: &str,
    purpose: &str,
    new_email: Option<&str>,
    ttl: Duration,
) -> Result<(String, OffsetDateTime)> {
    let now = p.now();
    tx.execute(
        "UPDATE registration_tokens SET expires_at = ? WHERE card_number = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?",
        &[Value::Int(millis(now)), Value::from(card_number), Value::from(purpose), Value::Int(millis(now))],
    )?;
    let token = new_token(p.rng.as_ref())?;
    let expires = now + ttl;
    tx.execute(
        "INSERT INTO registration_tokens (token_hash, card_number, purpose, new_email, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        &[
            Value::from(token_hash(&token)),
            Value::from(card_number),
            Value::from(purpose),
            Value::from(new_email),
            Value::Int(millis(now)),
            Value::Int(millis(expires)),
        ],
    )?;
    Ok((token, expires))
}

fn confirmation_mail(p: &LocalPortal, tx: &mut dyn Tx, to: &str, token: &str, expires: OffsetDateTime) -> Result<()> {
    let url = format!("{}/nhi/confirm?token={token}", p.config.portal_url);
    let until = RocDateTime::from(expires);
    let body = format!(
        "您好：\n\n請在插入同一張健保卡的狀態下開啟以下連結，完成健保卡網路服務註冊（{} 前有效）：\n{url}\n\n\
         若您沒有申請註冊，請忽略本信。\n\n----\nHello,\n\nWith the same NHI card inserted, open this link to \
         complete the registration for online services (valid until {}):\n{url}\n\nIf you did not ask for this, ignore this mail.\n",
        until.to_zh(),
        until.to_iso()
    );
    enqueue(
        tx,
        millis(p.now()),
        to,
        "健保卡網路服務註冊認證信 NHI card registration",
        &body,
        "registration_confirm",
        None,
    )?;
    Ok(())
}

pub(crate) fn start(p: &LocalPortal, form: &RegistrationForm) -> Result<RegistrationReceipt> {
    if form.password.expose() != form.confirmation.expose() {
        return Err(Error::new(ErrorCode::PasswordMismatch));
    }
    let phone = check_phone("電話 phone", &form.phone)?;
    let mobile = check_phone("行動電話 mobile", &form.mobile)?;
    let hash = hash_password(p, &form.password)?;
    let card = &form.card;
    let card_no = card.card_number.as_str();
    let now = p.now();
    let expires = p.store.write(|tx| {
        check_maintenance(tx, now)?;
        let existing = tx.query_opt(
            "SELECT status FROM nhi_registrations WHERE card_number = ?",
            &[Value::from(card_no)],
        )?;
        if let Some(r) = existing {
            if r.text(0)? == "active" {
                return Err(Error::new(ErrorCode::AlreadyRegistered));
            }
            // A registration still waiting for its confirmation is replaced by the new form.
            tx.execute(
                "DELETE FROM registration_tokens WHERE card_number = ?",
                &[Value::from(card_no)],
            )?;
            tx.execute(
                "DELETE FROM nhi_registrations WHERE card_number = ?",
                &[Value::from(card_no)],
            )?;
        }
        tx.execute(
            "INSERT INTO nhi_registrations (card_number, national_id, name, household_number, county, township, village,
                 neighbourhood, phone, mobile, email, spare_email, password_hash, status, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
            &[
                Value::from(card_no),
                Value::from(card.national_id.reveal()),
                Value::from(card.name.as_str()),
                Value::from(form.household_number.as_str()),
                Value::from(form.address.county.as_str()),
                Value::from(form.address.township.as_str()),
                Value::from(form.address.village.as_str()),
                Value::Int(i64::from(form.address.neighbourhood)),
                Value::from(&phone),
                Value::from(&mobile),
                Value::from(form.email.as_str()),
                Value::from(form.spare_email.as_ref().map(Email::as_str)),
                Value::from(&hash),
                Value::Int(millis(now)),
            ],
        )?;
        let (token, expires) = issue_token(p, tx, card_no, "confirm", None, p.config.confirmation_ttl)?;
        confirmation_mail(p, tx, form.email.as_str(), &token, expires)?;
        audit_card(tx, now, card, "registration.start")?;
        Ok(expires)
    })?;
    Ok(receipt(&form.email, expires, &form.spare_email))
}

pub(crate) fn resend(p: &LocalPortal, card: &NhiCardData) -> Result<RegistrationReceipt> {
    let card_no = card.card_number.as_str();
    let now = p.now();
    let (email, expires) = p.store.write(|tx| {
        check_maintenance(tx, now)?;
        let row = tx
            .query_opt(
                "SELECT status, email, national_id FROM nhi_registrations WHERE card_number = ?",
                &[Value::from(card_no)],
            )?
            .filter(|r| r.text(2).is_ok_and(|id| id == card.national_id.reveal()))
            .ok_or_else(|| Error::new(ErrorCode::NhiCardNotRegistered))?;
        if row.text(0)? == "active" {
            return Err(Error::new(ErrorCode::AlreadyRegistered));
        }
        let email = row.text(1)?;
        let (token, expires) = issue_token(p, tx, card_no, "confirm", None, p.config.confirmation_ttl)?;
        confirmation_mail(p, tx, &email, &token, expires)?;
        audit_card(tx, now, card, "registration.resend")?;
        Ok((email, expires))
    })?;
    Ok(receipt(&Email::parse(&email)?, expires, None))
}

/// A token of `purpose` for this card: checked, not yet spent. Returns its new e-mail, if any.
fn take_token(
    tx: &mut dyn Tx,
    now: OffsetDateTime,
    card: &NhiCardData,
    token: &str,
    purpose: &str,
) -> Result<Option<String>> {
    let row = tx
        .query_opt(
            "SELECT card_number, purpose, expires_at, used_at, new_email FROM registration_tokens WHERE token_hash = ?",
            &[Value::from(token_hash(token.trim()))],
        )?
        .ok_or_else(|| Error::new(ErrorCode::TokenInvalid))?;
    if row.text(0)? != card.card_number.as_str() || row.text(1)? != purpose {
        return Err(Error::new(ErrorCode::TokenInvalid));
    }
    if row.opt_int(3)?.is_some() {
        return Err(Error::new(ErrorCode::TokenUsed));
    }
    if row.int(2)? <= millis(now) {
        return Err(Error::new(ErrorCode::TokenExpired));
    }
    // Spent here, in the same transaction as what it unlocks: a replay finds it used.
    tx.execute(
        "UPDATE registration_tokens SET used_at = ? WHERE token_hash = ?",
        &[Value::Int(millis(now)), Value::from(token_hash(token.trim()))],
    )?;
    row.opt_text(4)
}

pub(crate) fn confirm(p: &LocalPortal, card: &NhiCardData, token: &str) -> Result<()> {
    let now = p.now();
    p.store.write(|tx| {
        check_maintenance(tx, now)?;
        take_token(tx, now, card, token, "confirm")?;
        audit_card(tx, now, card, "registration.confirm")?;
        let n = tx.execute(
            "UPDATE nhi_registrations SET status = 'active', confirmed_at = ? WHERE card_number = ? AND national_id = ? AND status = 'pending'",
            &[Value::Int(millis(now)), Value::from(card.card_number.as_str()), Value::from(card.national_id.reveal())],
        )?;
        if n == 0 {
            return Err(Error::new(ErrorCode::TokenInvalid));
        }
        Ok(())
    })
}

pub(crate) fn request_reset(
    p: &LocalPortal,
    card: &NhiCardData,
    delivery: &ResetDelivery,
) -> Result<RegistrationReceipt> {
    let card_no = card.card_number.as_str();
    let now = p.now();
    let (to, expires) = p.store.write(|tx| {
        check_maintenance(tx, now)?;
        let reg = tx
            .query_opt(
                "SELECT email, household_number, county, township, village, neighbourhood, national_id
                 FROM nhi_registrations WHERE card_number = ? AND status = 'active'",
                &[Value::from(card_no)],
            )?
            .filter(|r| r.text(6).is_ok_and(|id| id == card.national_id.reveal()))
            .ok_or_else(|| Error::new(ErrorCode::NhiCardNotRegistered))?;
        let (to, new_email) = match delivery {
            ResetDelivery::RegisteredAddress => (reg.text(0)?, None),
            ResetDelivery::NewAddress { email, household_number, address } => {
                let matches = reg.text(1)? == household_number.as_str()
                    && reg.text(2)? == address.county.as_str()
                    && reg.text(3)? == address.township.as_str()
                    && reg.text(4)? == address.village.as_str()
                    && reg.int(5)? == i64::from(address.neighbourhood);
                if !matches {
                    return Err(Error::new(ErrorCode::HouseholdMismatch));
                }
                (email.as_str().to_owned(), Some(email.as_str()))
            }
        };
        let (token, expires) = issue_token(p, tx, card_no, "reset", new_email, RESET_LINK_TTL)?;
        let url = format!("{}/nhi/reset?token={token}", p.config.portal_url);
        let body = format!(
            "您好：\n\n請在插入同一張健保卡的狀態下，於 30 分鐘內開啟以下連結重設註冊密碼（僅能使用一次）：\n{url}\n\n\
             完成重設前，原密碼仍可使用。若您沒有申請，請忽略本信。\n\n----\nHello,\n\nWith the same NHI card inserted, \
             open this link within 30 minutes to reset your registration password (it works once):\n{url}\n\n\
             Your old password keeps working until the reset is done. If you did not ask for this, ignore this mail.\n"
        );
        enqueue(tx, millis(now), &to, "健保卡網路服務重設註冊密碼信 NHI registration password reset", &body, "registration_reset", None)?;
        audit_card(tx, now, card, "registration.reset_request")?;
        Ok((to, expires))
    })?;
    Ok(receipt(&Email::parse(&to)?, expires, None))
}

pub(crate) fn complete_reset(p: &LocalPortal, card: &NhiCardData, token: &str, new_password: &Password) -> Result<()> {
    let hash = hash_password(p, new_password)?;
    let now = p.now();
    p.store.write(|tx| {
        check_maintenance(tx, now)?;
        let new_email = take_token(tx, now, card, token, "reset")?;
        audit_card(tx, now, card, "registration.reset")?;
        tx.execute(
            "UPDATE nhi_registrations SET password_hash = ?, email = COALESCE(?, email), failed_attempts = 0, locked_until = NULL
             WHERE card_number = ?",
            &[Value::from(&hash), Value::from(new_email.as_deref()), Value::from(card.card_number.as_str())],
        )?;
        Ok(())
    })
}

impl LocalPortal {
    /// Announces a maintenance window: registration is refused from `from` until `to`.
    pub fn announce_maintenance(&self, from: OffsetDateTime, to: OffsetDateTime) -> Result<MaintenanceWindow> {
        self.announce_maintenance_for(from, to, None)
    }

    /// Announces a maintenance window with its reason, which the registration service's notice
    /// and its refusal show instead of the plain 「配合系統維護」: e.g. 「配合戶政系統維護」.
    pub fn announce_maintenance_for(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
        reason: Option<&str>,
    ) -> Result<MaintenanceWindow> {
        if to <= from {
            return Err(Error::with(
                ErrorCode::DateInvalid,
                "維護結束時間應晚於開始時間",
                "the window must end after it starts",
            ));
        }
        let reason = reason
            .map(|r| super::directory::text_field("維護原因 reason", r, 100))
            .transpose()?;
        let id = self.store.write(|tx| {
            tx.insert(
                "INSERT INTO maintenance_windows (starts_at, ends_at, reason) VALUES (?, ?, ?)",
                &[
                    Value::Int(millis(from)),
                    Value::Int(millis(to)),
                    Value::from(reason.as_deref()),
                ],
            )
        })?;
        // As stored (to the millisecond), so the answer equals what the list reads back.
        Ok(window(
            id,
            from_millis(millis(from))?.into(),
            from_millis(millis(to))?.into(),
            reason,
        ))
    }

    /// Withdraws an announced maintenance window (announced by mistake, or called off).
    pub fn remove_maintenance(&self, id: i64) -> Result<()> {
        let n = self
            .store
            .write(|tx| tx.execute("DELETE FROM maintenance_windows WHERE id = ?", &[Value::Int(id)]))?;
        if n == 0 {
            return Err(Error::with(
                ErrorCode::FieldInvalid,
                format!("查無編號 {id} 的維護時段"),
                format!("there is no maintenance window {id}"),
            ));
        }
        Ok(())
    }
}

pub(crate) fn windows(p: &LocalPortal) -> Result<Vec<MaintenanceWindow>> {
    let now = millis(p.now());
    p.store.read(|tx| {
        tx.query(
            "SELECT id, starts_at, ends_at, reason FROM maintenance_windows WHERE ends_at > ? ORDER BY starts_at",
            &[Value::Int(now)],
        )?
        .iter()
        .map(|r| {
            Ok(window(
                r.int(0)?,
                from_millis(r.int(1)?)?.into(),
                from_millis(r.int(2)?)?.into(),
                r.opt_text(3)?,
            ))
        })
        .collect()
    })
}
