//! NHI card online registration (健保卡網路服務註冊): the step before an NHI card can log in.
//!
//! The card is read (its name, ID and card number come from the card), the person adds the
//! household number (戶號), the household registration address, a password, phones and e-mail
//! addresses. A confirmation mail carries a link; opening it with the same card inserted
//! completes the registration. Forgot password: with the card, a reset link goes either to the
//! registered address or, after the household data is checked again, to the official mailbox,
//! and the new address is adopted when the reset is done. A reset link is valid for 30 minutes
//! and once; the old password keeps working until the reset is done, and the new one is also
//! the mobile app's. During an announced maintenance window the registration service refuses
//! with the announced period.
//!
//! Over a network the card's data is whatever the client sends, and a national ID, name and
//! birth date are no secret, so a registration is anchored to the directory: it is for a person
//! the directory knows, its card data must agree with the directory's record, and its
//! confirmation link goes to the person's official mailbox (the directory's address), never
//! only to an address typed into the form. One registration per person: a second one is
//! refused while the first is active or its link still works, and the holder is told.
//!
//! Passwords are stored as argon2id hashes; links as SHA-256 hashes of their tokens.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::auth::hash_password;
use super::env::{check_link, from_millis, millis, new_token, token_hash};
use super::guard::{Failure, Guard, Subject};
use super::local::LocalPortal;
use crate::db::outbox::{self, enqueue};
use crate::db::{employees, registrations, sessions, site};
use crate::error::{Error, ErrorCode, Result};
use crate::store::{StoreExt, Tx};
use crate::types::{Email, HouseholdAddress, HouseholdNumber, Lang, NhiCardData, Password, RocDateTime};

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
    /// Phone, if given: the form requires only the password, its confirmation and the main
    /// e-mail (*) of its contact fields.
    pub phone: Option<String>,
    /// Mobile, if given (used later for device authentication).
    pub mobile: Option<String>,
    /// Main e-mail address: the registration's own once confirmed (the confirmation link goes
    /// to the official mailbox of the directory).
    pub email: Email,
    /// Spare e-mail address.
    pub spare_email: Option<Email>,
    /// The version of the registration terms the person accepted before the form
    /// ([`registration_terms`]); a registration is refused without the version in force.
    pub terms_version: String,
}

/// The version of the registration terms in force: the amendment of 107年8月15日 (as the
/// award-order guide's 附件1-5 prints it). A new amendment gets a new version; registrations
/// keep the one accepted.
pub const TERMS_VERSION: &str = "107-08-15";

/// The registration terms (全民健康保險網路服務註冊管理作業要點) a person reads and accepts
/// with 「我已閱讀完畢，並瞭解相關規定」 before the form: their identity and version. The
/// text itself is the NHI Administration's, published with the amendment named here.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct RegistrationTerms {
    /// The version a registration records.
    pub version: String,
    /// The title, in Chinese.
    pub title_zh: String,
    /// The title, in English.
    pub title_en: String,
    /// The amendment in force: its order and the day it took effect.
    pub amended: String,
    /// The words of the button that accepts them.
    pub accept_zh: String,
    /// The same in English.
    pub accept_en: String,
    /// The service's note that a registration is stopped in person, shown beside its login.
    pub stop_in_person: Notice,
}

/// The registration terms in force.
pub fn registration_terms() -> RegistrationTerms {
    RegistrationTerms {
        version: TERMS_VERSION.into(),
        title_zh: "全民健康保險網路服務註冊管理作業要點".into(),
        title_en: "Rules on registering for the National Health Insurance online services".into(),
        amended: "107年8月6日健保承字第1070010482號令修正發布，自107年8月15日生效".into(),
        accept_zh: "我已閱讀完畢，並瞭解相關規定".into(),
        accept_en: "I have read them and understand the rules".into(),
        stop_in_person: NoticeKind::StopInPerson.notice(),
    }
}

/// How a password-reset link is delivered.
#[derive(Debug, Clone)]
pub enum ResetDelivery {
    /// 寄送重設註冊密碼信: to the registered address.
    RegisteredAddress,
    /// 修改電子郵件信箱寄送重設註冊密碼信: a new address, which replaces the registered one when
    /// the reset is completed; the link goes to the official mailbox (a typed address proves
    /// nothing). The form asks the new address, 戶籍鄉鎮里鄰 and the mobile number; the
    /// household address must match the registration.
    NewAddress {
        /// The new address.
        email: Email,
        /// 戶籍鄉鎮里鄰, checked against the registration.
        address: HouseholdAddress,
        /// 行動電話, if given: the registration takes it with the address when the reset is
        /// done (the form: 「本項行動電話將作為未來行動裝置之認證使用」).
        mobile: Option<String>,
        /// 戶號, which the form does not ask; a client that gives it has it checked too.
        household_number: Option<HouseholdNumber>,
    },
}

/// What a registration step did: where the link went and until when it works.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct RegistrationReceipt {
    /// The address the link was sent to, masked (`wa***@mail.taipei.gov.tw`).
    pub sent_to: String,
    /// When the link stops working.
    pub link_expires_at: RocDateTime,
    /// Warnings for the person (e.g. a Microsoft mail domain), in Chinese.
    pub warnings_zh: Vec<String>,
    /// The same warnings in English.
    pub warnings_en: Vec<String>,
}

/// What a mailed link did, as the service tells the person when it worked: the guide's own
/// words (「已完成電子信箱認證」, 「註冊密碼變更成功，下次使用【健保卡】登入系統請用新的註冊密碼！」).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct Notice {
    /// What happened.
    pub kind: NoticeKind,
    /// The message to show, in Chinese.
    pub message_zh: String,
    /// The same in English.
    pub message_en: String,
}

/// The successes the NHI card service announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// The confirmation link was opened: the address is confirmed (a registration's, or the
    /// new one of an e-mail change).
    EmailConfirmed,
    /// A reset link, or 註冊密碼變更 with the old password, set the new registration password.
    PasswordChanged,
    /// 刪除註冊申請: the pending application is gone (its confirmation link was opened).
    ApplicationDeleted,
    /// 基本資料異動: the phone and mobile numbers are changed.
    DetailsChanged,
    /// 基本資料異動 with a new e-mail address: the confirmation went to the address on file,
    /// and the new address counts once its link is opened.
    EmailChangeSent,
    /// The NHI card service's own note: a registration is stopped at a counter, in person.
    StopInPerson,
    /// 忘記帳號或密碼: the answer whatever the ID (it does not tell who is on file).
    AccountRecoverySent,
    /// A recovery link set the eCPA account's new password.
    AccountPasswordChanged,
}

impl NoticeKind {
    /// Every notice, in the order of their numbers in the C ABI (`ECPA_NOTICE_*`, from 1).
    pub const ALL: [NoticeKind; 8] = [
        NoticeKind::EmailConfirmed,
        NoticeKind::PasswordChanged,
        NoticeKind::ApplicationDeleted,
        NoticeKind::DetailsChanged,
        NoticeKind::EmailChangeSent,
        NoticeKind::StopInPerson,
        NoticeKind::AccountRecoverySent,
        NoticeKind::AccountPasswordChanged,
    ];

    /// The stable snake_case name, as the HTTP body and Python spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::EmailConfirmed => "email_confirmed",
            NoticeKind::PasswordChanged => "password_changed",
            NoticeKind::ApplicationDeleted => "application_deleted",
            NoticeKind::DetailsChanged => "details_changed",
            NoticeKind::EmailChangeSent => "email_change_sent",
            NoticeKind::StopInPerson => "stop_in_person",
            NoticeKind::AccountRecoverySent => "account_recovery_sent",
            NoticeKind::AccountPasswordChanged => "account_password_changed",
        }
    }

    /// The message, in the guide's words for zh-TW.
    pub fn message(self, lang: Lang) -> &'static str {
        match self {
            NoticeKind::EmailConfirmed => lang.pick("已完成電子信箱認證", "Your e-mail address is confirmed."),
            NoticeKind::PasswordChanged => lang.pick(
                "註冊密碼變更成功，下次使用【健保卡】登入系統請用新的註冊密碼！",
                "Your registration password is changed: the next time you log in with the NHI card, use the new one!",
            ),
            NoticeKind::ApplicationDeleted => lang.pick(
                "註冊申請已刪除，如需使用請重新申請。",
                "Your registration application is deleted; apply again when you need it.",
            ),
            NoticeKind::DetailsChanged => lang.pick("基本資料異動完成", "Your details are changed."),
            NoticeKind::EmailChangeSent => lang.pick(
                "電子信箱變更確認信已寄至原留信箱，請於30分鐘內開啟信中連結，新信箱才會生效。",
                "A confirmation went to the address on file: the new address counts once its link is opened, within 30 minutes.",
            ),
            NoticeKind::StopInPerson => lang.pick(
                "申請健保卡網路服務註冊停用，請持身分證明文件臨櫃辦理（本署各地聯合服務中心及連絡辦公室）",
                "To stop a registration for the NHI card online services, bring your identity document to a counter \
                 (the NHI Administration's service centres and liaison offices).",
            ),
            NoticeKind::AccountRecoverySent => lang.pick(
                "若您是機關現職人員，帳號及重設密碼連結已寄至您人事資料所載之電子信箱，連結30分鐘內有效且僅能使用一次。",
                "If you serve in an agency, your account name and a link to set a new password went to the e-mail \
                 address in your personnel record; the link works once, within 30 minutes.",
            ),
            NoticeKind::AccountPasswordChanged => lang.pick(
                "密碼變更成功，下次登入請使用新密碼！",
                "Your password is changed: use the new one the next time you log in!",
            ),
        }
    }

    /// The notice with its messages.
    pub fn notice(self) -> Notice {
        Notice {
            kind: self,
            message_zh: self.message(Lang::ZhTw).to_owned(),
            message_en: self.message(Lang::En).to_owned(),
        }
    }
}

/// An announced maintenance window.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
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
pub(super) fn check_maintenance(tx: &mut dyn Tx, now: OffsetDateTime) -> Result<()> {
    if let Some(w) = site::maintenance_at(tx, millis(now))? {
        return Err(Error::RegistrationMaintenance {
            from: w.starts_at,
            to: w.ends_at,
            reason: w.reason,
        });
    }
    Ok(())
}

/// A phone number as the form takes it: optional (blank is not given), else 7 to 15 digits.
pub(super) fn check_phone(name: &'static str, value: Option<&str>) -> Result<Option<String>> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let digits = v.chars().filter(char::is_ascii_digit).count();
    let allowed = v.chars().all(|c| c.is_ascii_digit() || "-#() +".contains(c));
    if !allowed || !(7..=15).contains(&digits) {
        return Err(Error::with(
            ErrorCode::FieldInvalid,
            format!("{name}格式錯誤：7 至 15 位數字，可含 - # ( ) +"),
            format!("{name}: 7 to 15 digits, with - # ( ) + allowed"),
        ));
    }
    Ok(Some(v.to_owned()))
}

/// What a registration step tells the person: where the link went (masked: whoever asked may
/// not be the owner), until when, and the Microsoft-domain warning for each address that needs
/// it.
pub(super) fn receipt<'a>(
    sent_to: &'a Email,
    expires: OffsetDateTime,
    others: impl IntoIterator<Item = &'a Email>,
) -> RegistrationReceipt {
    let (warnings_zh, warnings_en) = std::iter::once(sent_to)
        .chain(others)
        .filter_map(|e| e.microsoft_warning().map(|w| (e, w)))
        .map(|(e, w)| {
            (
                format!("{}：{}", e.masked(), w.message(crate::types::Lang::ZhTw)),
                format!("{}: {}", e.masked(), w.message(crate::types::Lang::En)),
            )
        })
        .unzip();
    RegistrationReceipt {
        sent_to: sent_to.masked(),
        link_expires_at: expires.into(),
        warnings_zh,
        warnings_en,
    }
}

/// The directory's person a card names, as far as a registration needs them.
pub(super) struct OnFile {
    /// Their official mailbox: where confirmation links and notices go.
    pub(super) email: Option<Email>,
}

/// The person the card names, if the directory knows them and the card (and the form's
/// household data, when given) agree with what it holds: the name always, the birth date and
/// household where the directory has them. One error for "unknown" and "does not agree", so
/// the answer does not tell which IDs exist.
pub(super) fn person_on_file(
    tx: &mut dyn Tx,
    card: &NhiCardData,
    household: Option<(&HouseholdNumber, &HouseholdAddress)>,
) -> Result<OnFile> {
    let mismatch = || Error::new(ErrorCode::RegistrationDataMismatch);
    let person = employees::by_national_id(tx, &card.national_id)?.ok_or_else(mismatch)?;
    // A value the directory does not hold is not checked; one it holds must be the same.
    let same = |held: &Option<String>, given: &str| held.as_deref().is_none_or(|h| h == given);
    let mut agrees = card.name.same_as(&person.name) && same(&person.birth_date, &card.birth_date.to_iso());
    if let Some((number, address)) = household {
        agrees = agrees
            && same(&person.household_number, number.as_str())
            && same(&person.household_county, address.county.as_str())
            && same(&person.household_township, address.township.as_str())
            && same(&person.household_village, address.village.as_str())
            && person
                .household_neighbourhood
                .is_none_or(|n| n == i64::from(address.neighbourhood));
    }
    if !agrees {
        return Err(mismatch());
    }
    Ok(OnFile {
        email: person.email.map(|e| Email::parse(&e)).transpose()?,
    })
}

impl OnFile {
    /// The official mailbox, without which no link can be sent.
    pub(super) fn mailbox(&self) -> Result<&Email> {
        self.email
            .as_ref()
            .ok_or_else(|| Error::new(ErrorCode::RegistrationNoAddress))
    }
}

/// Tells a person at their official mailbox that someone asked to register their ID again (a
/// second registration is refused): at most one such mail a day, so the refusals cannot be
/// used to flood their mailbox.
fn notify_refused_registration(tx: &mut dyn Tx, now: OffsetDateTime, to: &Email) -> Result<()> {
    if outbox::queued_since(tx, "registration_refused", to.as_str(), millis(now - Duration::days(1)))? {
        return Ok(());
    }
    let body = "您好：\n\n有人以您的身分證號申請健保卡網路服務註冊，因您已有註冊（或註冊申請等待認證）而未受理。\n\
        若是您本人，請使用原註冊或補寄認證信；若不是您，您的註冊不受影響，如有疑慮請洽服務機關人事單位。\n\n\
        ----\nHello,\n\nSomeone asked to register your ID for the NHI card online services; it was refused because \
        you already have a registration (or one waiting for its confirmation).\nIf it was you, use that registration \
        or ask for its mail again; if not, your registration is unaffected: ask your personnel office if in doubt.\n";
    enqueue(
        tx,
        millis(now),
        to.as_str(),
        "健保卡網路服務註冊申請未受理通知 A registration in your name was refused",
        body,
        "registration_refused",
        None,
    )?;
    Ok(())
}

/// Records a registration event in the audit trail, against the employee the card belongs to
/// (if any); the card number is masked.
pub(super) fn audit_card(tx: &mut dyn Tx, now: OffsetDateTime, card: &NhiCardData, action: &str) -> Result<()> {
    let subject = employees::by_national_id(tx, &card.national_id)?.map(|p| p.id);
    let object = format!("nhi_card:{}", card.card_number.masked());
    crate::db::audit::record(tx, millis(now), subject, action, subject, Some(&object), None)
}

/// Creates a link token for a registration, invalidating earlier unused ones of the same
/// purpose; `(new_email, new_mobile)` are what the registration takes when it is used.
pub(super) fn issue_token(
    p: &LocalPortal,
    tx: &mut dyn Tx,
    card_number: &str,
    purpose: &str,
    (new_email, new_mobile): (Option<&str>, Option<&str>),
    ttl: Duration,
) -> Result<(String, OffsetDateTime)> {
    let now = p.now();
    registrations::expire_links(tx, card_number, purpose, millis(now))?;
    let token = new_token(p.rng.as_ref())?;
    let expires = now + ttl;
    registrations::insert_link(
        tx,
        &registrations::NewLink {
            token_hash: &token_hash(&token),
            card_number,
            purpose,
            new_email,
            new_mobile,
            created_ms: millis(now),
            expires_ms: millis(expires),
        },
    )?;
    Ok((token, expires))
}

/// The confirmation mail, to the person's official mailbox. It shows the addresses the form
/// gave (masked), so an owner who did not ask for this can tell, and says not to open the link
/// then.
fn confirmation_mail(
    p: &LocalPortal,
    tx: &mut dyn Tx,
    to: &Email,
    given: &[&Email],
    token: &str,
    expires: OffsetDateTime,
) -> Result<()> {
    let url = format!("{}/nhi/confirm?token={token}", p.config.portal_url);
    let until = RocDateTime::from(expires);
    let given = given.iter().map(|e| e.masked()).collect::<Vec<_>>().join(", ");
    let body = format!(
        "您好：\n\n請在插入同一張健保卡的狀態下開啟以下連結，完成健保卡網路服務註冊（{} 前有效）：\n{url}\n\n\
         申請表填寫的電子信箱：{given}\n若您沒有申請註冊，請勿開啟連結，並洽服務機關人事單位。\n\n----\nHello,\n\n\
         With the same NHI card inserted, open this link to complete the registration for online services (valid \
         until {}):\n{url}\n\nE-mail addresses given in the form: {given}\nIf you did not ask for this, do not open \
         the link, and tell your personnel office.\n",
        until.to_zh(),
        until.to_iso()
    );
    enqueue(
        tx,
        millis(p.now()),
        to.as_str(),
        "健保卡網路服務註冊認證信 NHI card registration",
        &body,
        "registration_confirm",
        None,
    )?;
    Ok(())
}

/// Removes the pending registrations of the card's person and of the card, with their links.
fn drop_pending(tx: &mut dyn Tx, card: &NhiCardData) -> Result<()> {
    registrations::drop_pending(tx, &card.national_id, card.card_number.as_str())
}

/// What [`check_form`] made of a form: the password's hash and the phones as stored.
struct CheckedForm {
    hash: String,
    phone: Option<String>,
    mobile: Option<String>,
}

/// Writes a registration from its checked form: pending, or active from `confirmed`.
fn insert_registration(
    tx: &mut dyn Tx,
    form: &RegistrationForm,
    checked: &CheckedForm,
    now: OffsetDateTime,
    confirmed: Option<OffsetDateTime>,
) -> Result<()> {
    let card = &form.card;
    registrations::insert(
        tx,
        &registrations::NewRegistration {
            card_number: card.card_number.as_str(),
            national_id: &card.national_id,
            name: card.name.as_str(),
            household_number: form.household_number.as_str(),
            county: form.address.county.as_str(),
            township: form.address.township.as_str(),
            village: form.address.village.as_str(),
            neighbourhood: i64::from(form.address.neighbourhood),
            phone: checked.phone.as_deref(),
            mobile: checked.mobile.as_deref(),
            email: form.email.as_str(),
            spare_email: form.spare_email.as_ref().map(Email::as_str),
            password_hash: &checked.hash,
            created_ms: millis(now),
            confirmed_ms: confirmed.map(millis),
            terms_version: &form.terms_version,
        },
    )
}

/// The form's own checks, before anything is looked up: the password twice, the phones.
fn check_form(p: &LocalPortal, form: &RegistrationForm) -> Result<CheckedForm> {
    // The terms come before the form: without the version in force accepted, nothing else is read.
    if form.terms_version != TERMS_VERSION {
        return Err(Error::new(ErrorCode::TermsNotAccepted));
    }
    let phone = check_phone("電話 phone", form.phone.as_deref())?;
    let mobile = check_phone("行動電話 mobile", form.mobile.as_deref())?;
    Ok(CheckedForm {
        hash: new_password_hash(p, &form.password, &form.confirmation)?,
        phone,
        mobile,
    })
}

/// A new password typed twice, as every form that sets one asks it: the hash to store, once
/// both agree.
pub(super) fn new_password_hash(p: &LocalPortal, password: &Password, confirmation: &Password) -> Result<String> {
    if password.expose() != confirmation.expose() {
        return Err(Error::new(ErrorCode::PasswordMismatch));
    }
    hash_password(p, password)
}

pub(crate) fn start(p: &LocalPortal, form: &RegistrationForm) -> Result<RegistrationReceipt> {
    let checked = check_form(p, form)?;
    let card = &form.card;
    let card_no = card.card_number.as_str();
    let now = p.now();
    // A refusal that tells the holder is committed with its mail, then returned.
    let outcome = p.store.write(|tx| {
        check_maintenance(tx, now)?;
        let person = person_on_file(tx, card, Some((&form.household_number, &form.address)))?;
        let mailbox = person.mailbox()?.clone();
        // One registration per person and per card: an active one, or a pending one whose link
        // still works, is not replaced (that would kill its owner's link); the holder is told.
        let mut live = None;
        for r in registrations::claims(tx, &card.national_id, card_no, millis(now))? {
            match (r.status.as_str(), r.live_link) {
                ("active", _) => live = Some(ErrorCode::AlreadyRegistered),
                ("pending", true) if live.is_none() => live = Some(ErrorCode::RegistrationPending),
                _ => {}
            }
        }
        if let Some(code) = live {
            notify_refused_registration(tx, now, &mailbox)?;
            audit_card(tx, now, card, "registration.refused")?;
            return Ok(Err(Error::new(code)));
        }
        // What is left are pending registrations whose links have expired: of no use to anyone.
        drop_pending(tx, card)?;
        insert_registration(tx, form, &checked, now, None)?;
        let (token, expires) = issue_token(p, tx, card_no, "confirm", (None, None), p.config.confirmation_ttl)?;
        let given: Vec<&Email> = std::iter::once(&form.email).chain(&form.spare_email).collect();
        confirmation_mail(p, tx, &mailbox, &given, &token, expires)?;
        audit_card(tx, now, card, "registration.start")?;
        Ok(Ok((mailbox, expires)))
    })?;
    let (mailbox, expires) = outcome?;
    Ok(receipt(
        &mailbox,
        expires,
        std::iter::once(&form.email).chain(&form.spare_email),
    ))
}

pub(crate) fn resend(p: &LocalPortal, card: &NhiCardData) -> Result<RegistrationReceipt> {
    let card_no = card.card_number.as_str();
    let now = p.now();
    let (mailbox, expires) = p.store.write(|tx| {
        check_maintenance(tx, now)?;
        let row = registrations::for_resend(tx, card_no)?
            .filter(|r| r.national_id == card.national_id)
            .ok_or_else(|| Error::new(ErrorCode::NhiCardNotRegistered))?;
        if row.status == "active" {
            return Err(Error::new(ErrorCode::AlreadyRegistered));
        }
        // Again to the official mailbox, whatever the form said.
        let mailbox = person_on_file(tx, card, None)?.mailbox()?.clone();
        let given = [Some(row.email), row.spare_email]
            .into_iter()
            .flatten()
            .map(|e| Email::parse(&e))
            .collect::<Result<Vec<_>>>()?;
        let (token, expires) = issue_token(p, tx, card_no, "confirm", (None, None), p.config.confirmation_ttl)?;
        confirmation_mail(p, tx, &mailbox, &given.iter().collect::<Vec<_>>(), &token, expires)?;
        audit_card(tx, now, card, "registration.resend")?;
        Ok((mailbox, expires))
    })?;
    Ok(receipt(&mailbox, expires, None))
}

/// A token of `purpose` for this card: checked, not yet spent. Returns the link, with what the
/// registration takes when it is used.
pub(super) fn take_token(
    tx: &mut dyn Tx,
    now: OffsetDateTime,
    card: &NhiCardData,
    token: &str,
    purpose: &str,
) -> Result<registrations::Link> {
    let hash = token_hash(token.trim());
    let link = registrations::link(tx, &hash)?.ok_or_else(|| Error::new(ErrorCode::TokenInvalid))?;
    if link.card_number != card.card_number.as_str() || link.purpose != purpose {
        return Err(Error::new(ErrorCode::TokenInvalid));
    }
    check_link(link.used_at, link.expires_at, millis(now))?;
    // Spent here, in the same transaction as what it unlocks: a replay finds it used.
    registrations::use_link(tx, &hash, millis(now))?;
    Ok(link)
}

pub(crate) fn confirm(p: &LocalPortal, card: &NhiCardData, token: &str) -> Result<Notice> {
    let now = p.now();
    p.store.write(|tx| {
        check_maintenance(tx, now)?;
        take_token(tx, now, card, token, "confirm")?;
        audit_card(tx, now, card, "registration.confirm")?;
        if !registrations::activate(tx, card.card_number.as_str(), &card.national_id, millis(now))? {
            return Err(Error::new(ErrorCode::TokenInvalid));
        }
        Ok(NoticeKind::EmailConfirmed.notice())
    })
}

pub(crate) fn request_reset(
    p: &LocalPortal,
    card: &NhiCardData,
    delivery: &ResetDelivery,
    from: Option<std::net::IpAddr>,
) -> Result<RegistrationReceipt> {
    let card_no = card.card_number.as_str();
    let now = p.now();
    let mobile = match delivery {
        ResetDelivery::NewAddress { mobile, .. } => check_phone("行動電話 mobile", mobile.as_deref())?,
        ResetDelivery::RegisteredAddress => None,
    };
    // Household data is a thing to guess, like a password: wrong answers count on the card's
    // guard, per network, and a network that keeps guessing is shut out.
    let guard = Guard::new(p, Subject::Card(card_no), from);
    let outcome = p.store.write(|tx| {
        check_maintenance(tx, now)?;
        let reg = registrations::active_household(tx, card_no)?
            .filter(|r| r.national_id == card.national_id)
            .ok_or_else(|| Error::new(ErrorCode::NhiCardNotRegistered))?;
        let registered = Email::parse(&reg.email)?;
        let (to, new_email, new_mobile) = match delivery {
            ResetDelivery::RegisteredAddress => (registered, None, None),
            ResetDelivery::NewAddress {
                email,
                address,
                household_number,
                ..
            } => {
                guard.check(tx)?;
                let matches = household_number
                    .as_ref()
                    .is_none_or(|n| reg.household_number == n.as_str())
                    && reg.county == address.county.as_str()
                    && reg.township == address.township.as_str()
                    && reg.village == address.village.as_str()
                    && reg.neighbourhood == i64::from(address.neighbourhood);
                if !matches {
                    // Counted in this transaction, which must commit for the count to hold.
                    return Ok(Err(match guard.failed(tx, None)? {
                        Failure::TriesLeft(_) => Error::new(ErrorCode::HouseholdMismatch),
                        Failure::Shut(e) => e,
                    }));
                }
                // Never to the address only typed here: to the official mailbox (or, for a
                // person the directory has none for, the registration's confirmed one); the new
                // address is adopted when the reset is done.
                let on_file = person_on_file(tx, card, None)?.email.unwrap_or(registered);
                (on_file, Some(email.as_str()), mobile.as_deref())
            }
        };
        let (token, expires) = issue_token(p, tx, card_no, "reset", (new_email, new_mobile), RESET_LINK_TTL)?;
        let url = format!("{}/nhi/reset?token={token}", p.config.portal_url);
        let body = format!(
            "您好：\n\n請在插入同一張健保卡的狀態下，於 30 分鐘內開啟以下連結重設註冊密碼（僅能使用一次）：\n{url}\n\n\
             完成重設前，原密碼仍可使用。若您沒有申請，請忽略本信。\n\n----\nHello,\n\nWith the same NHI card inserted, \
             open this link within 30 minutes to reset your registration password (it works once):\n{url}\n\n\
             Your old password keeps working until the reset is done. If you did not ask for this, ignore this mail.\n"
        );
        enqueue(tx, millis(now), to.as_str(), "健保卡網路服務重設註冊密碼信 NHI registration password reset", &body, "registration_reset", None)?;
        audit_card(tx, now, card, "registration.reset_request")?;
        Ok(Ok((to, expires)))
    })?;
    let (to, expires) = outcome?;
    Ok(receipt(&to, expires, None))
}

pub(crate) fn complete_reset(
    p: &LocalPortal,
    card: &NhiCardData,
    token: &str,
    new_password: &Password,
    confirmation: &Password,
) -> Result<Notice> {
    let hash = new_password_hash(p, new_password, confirmation)?;
    let now = p.now();
    p.store.write(|tx| {
        check_maintenance(tx, now)?;
        let link = take_token(tx, now, card, token, "reset")?;
        let new_email = link.new_email;
        audit_card(tx, now, card, "registration.reset")?;
        let old_email = registrations::email(tx, card.card_number.as_str())?;
        registrations::set_password(
            tx,
            card.card_number.as_str(),
            &hash,
            new_email.as_deref(),
            link.new_mobile.as_deref(),
        )?;
        // The reset is what opens a card held for guessing, and every count starts again.
        super::guard::clear(tx, Subject::Card(card.card_number.as_str()))?;
        // Whoever held the old password is out: the person's other NHI-card sessions end.
        sessions::end_nhi_card_sessions_of(tx, &card.national_id, millis(now))?;
        if let (Some(new), Some(old)) = (new_email.as_deref(), old_email) {
            tell_replaced_address(tx, now, &old, new, "註冊密碼已重設，", "'s password was reset and its")?;
        }
        Ok(NoticeKind::PasswordChanged.notice())
    })
}

/// Tells the address a registration used to have that it was replaced by `new` (masked), in
/// case the change was not its owner's. `zh`/`en` say what else happened.
pub(super) fn tell_replaced_address(
    tx: &mut dyn Tx,
    now: OffsetDateTime,
    old: &str,
    new: &str,
    zh: &str,
    en: &str,
) -> Result<()> {
    if new == old {
        return Ok(());
    }
    let shown = Email::parse(new)?.masked();
    let body = format!(
        "您好：\n\n您的健保卡網路服務{zh}註冊電子信箱已變更為 {shown}，往後通知將寄至新信箱。\n\
         若不是您本人所為，請洽服務機關人事單位。\n\n----\nHello,\n\nYour NHI card registration{en} \
         e-mail address changed to {shown}; mail goes there from now on.\n\
         If this was not you, tell your personnel office.\n"
    );
    enqueue(
        tx,
        millis(now),
        old,
        "健保卡網路服務註冊電子信箱變更通知 Your registration's e-mail address changed",
        &body,
        "registration_address_changed",
        None,
    )?;
    Ok(())
}

impl LocalPortal {
    /// Registers an NHI card at a counter (臨櫃), as the NHI service does for whoever cannot
    /// register online (a person the directory has no mailbox for, or does not know): the clerk
    /// has seen the person with their card and household booklet, which is what the directory
    /// and the mailbox stand in for online, so the registration is active at once, without a
    /// link. An active registration of the person or card is not replaced, and the audit row
    /// names the operator. Whether the person may then log in is the directory's to say, as for
    /// every login.
    pub fn register_nhi_card_in_person(&self, form: &RegistrationForm, operator: &str) -> Result<()> {
        let operator = super::audit::operator_name(operator)?;
        let checked = check_form(self, form)?;
        let card = &form.card;
        let now = self.now();
        self.store.write(|tx| {
            if registrations::any_active(tx, &card.national_id, card.card_number.as_str())? {
                return Err(Error::new(ErrorCode::AlreadyRegistered));
            }
            drop_pending(tx, card)?;
            insert_registration(tx, form, &checked, now, Some(now))?;
            let object = format!("nhi_card:{}", card.card_number.masked());
            crate::db::audit::record_operator(
                tx,
                millis(now),
                &operator,
                "registration.in_person",
                None,
                Some(&object),
                None,
            )
        })
    }

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
            .map(|r| crate::types::text::text_field("維護原因 reason", r, 100))
            .transpose()?;
        let id = self
            .store
            .write(|tx| site::add_maintenance(tx, millis(from), millis(to), reason.as_deref()))?;
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
        if !self.store.write(|tx| site::remove_maintenance(tx, id))? {
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
    let ahead = p.store.read(|tx| site::maintenance_ahead(tx, now))?;
    Ok(ahead
        .into_iter()
        .map(|w| window(w.id, w.starts_at.into(), w.ends_at.into(), w.reason))
        .collect())
}

impl LocalPortal {
    /// [`Portal::request_password_reset`](super::Portal::request_password_reset) for a client at `from`: wrong household data counts
    /// as a wrong password does.
    pub fn request_password_reset_from(
        &self,
        card: &NhiCardData,
        delivery: &ResetDelivery,
        from: Option<std::net::IpAddr>,
    ) -> Result<RegistrationReceipt> {
        request_reset(self, card, delivery, from)
    }
}
