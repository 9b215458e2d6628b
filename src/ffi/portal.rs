//! Portals, trust, the directory, the outbox and a file mailer, registration, logins and sessions.

use std::ffi::c_char;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::card::{EcpaNhiCard, EcpaSigner};
use super::trust::{EcpaTrust, TrustParts};
use super::{StrOut, call, get, give, handle, invalid, out, put, release, text, tries_left};
use crate::error::{Error, ErrorCode, Result};
use crate::http::RemotePortal;
use crate::http::wire::AddressWire;
use crate::portal::{
    CertificateResponse, FileMailer, LocalPortal, Portal, PortalConfig, RegistrationDetails, RegistrationForm,
    ResetDelivery, SessionToken,
};
use crate::types::{Email, HouseholdNumber, NationalId, Password};

/// A portal: embedded on its own database, or a client of a remote `ecpa serve`.
pub(crate) enum PortalKind {
    /// Boxed: the engine is several times the client's size.
    Local(Box<LocalPortal>),
    Remote(RemotePortal),
}

impl PortalKind {
    pub(crate) fn portal(&self) -> &dyn Portal {
        match self {
            PortalKind::Local(p) => p.as_ref(),
            PortalKind::Remote(p) => p,
        }
    }

    fn local(&self) -> Result<&LocalPortal> {
        match self {
            PortalKind::Local(p) => Ok(p),
            PortalKind::Remote(_) => Err(Error::new(ErrorCode::LocalPortalOnly)),
        }
    }
}

/// `ecpa_portal`: the eCPA portal (人事服務網), embedded or remote. Shared freely between threads.
pub struct EcpaPortal {
    inner: super::Tagged<PortalKind>,
}
handle!(EcpaPortal, PortalKind, 0x4543_5041_504f_5254);

/// `ecpa_session`: a login. Holds the bearer token (wiped when released), never a password.
pub struct EcpaSession {
    inner: super::Tagged<SessionToken>,
}
handle!(EcpaSession, SessionToken, 0x4543_5041_5345_5353);

/// `ecpa_file_mailer`: a mailer that writes each mail as a file in a directory (the demo's
/// and tests' stand-in for SMTP), and reads them back.
pub struct EcpaFileMailer {
    inner: super::Tagged<FileMailer>,
}
handle!(EcpaFileMailer, FileMailer, 0x4543_5041_4d41_494c);

fn open(url: &str, trust: Option<&TrustParts>) -> Result<PortalKind> {
    if url.starts_with("http://") || url.starts_with("https://") {
        if trust.is_some() {
            return Err(Error::with(
                ErrorCode::LocalPortalOnly,
                "遠端服務的憑證信任設定在伺服器端",
                "a remote portal's certificate trust is configured on the server",
            ));
        }
        return Ok(PortalKind::Remote(RemotePortal::new(url)?));
    }
    let local = if url == ":memory:" {
        LocalPortal::in_memory()?
    } else {
        LocalPortal::with_store(crate::store::open_url(url)?, PortalConfig::default())?
    };
    Ok(PortalKind::Local(Box::new(match trust {
        Some(t) => local.with_certificate_trust(t.to_trust()),
        None => local,
    })))
}

/// Opens a portal. `url` (NUL-terminated UTF-8) is a SQLite file path (created if missing,
/// also `sqlite:PATH`), `:memory:` for a throwaway database, a `postgres://` URL, or an
/// `http://` / `https://` URL of an `ecpa serve` service. Writes a new handle to `out_portal`;
/// release it with `ecpa_portal_close`. Citizen-certificate login is unavailable on an
/// embedded portal opened this way (see `ecpa_portal_open_with_trust`). The handle may be
/// used by many threads at once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_portal_open(url: *const c_char, out_portal: *mut *mut EcpaPortal) -> u32 {
    call(|| {
        out(out_portal, "out_portal")?;
        // SAFETY: `url` is a NUL-terminated string per the contract.
        let p = open(unsafe { text(url, "url") }?, None)?;
        // SAFETY: `out_portal` checked non-NULL above.
        unsafe { give(out_portal, p) };
        Ok(())
    })
}

/// Opens an embedded portal (as `ecpa_portal_open`) that accepts citizen-certificate logins
/// whose certificates chain to the anchors of `trust`. The trust is copied: it may be released
/// right after. A remote URL gives `ECPA_E_LOCAL_PORTAL_ONLY` (its trust lives on the server).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_portal_open_with_trust(
    url: *const c_char,
    trust: *const EcpaTrust,
    out_portal: *mut *mut EcpaPortal,
) -> u32 {
    call(|| {
        out(out_portal, "out_portal")?;
        // SAFETY: a live trust handle per the contract.
        let trust = unsafe { get(trust, "trust") }?;
        // SAFETY: `url` is a NUL-terminated string per the contract.
        let p = open(unsafe { text(url, "url") }?, Some(trust))?;
        // SAFETY: `out_portal` checked non-NULL above.
        unsafe { give(out_portal, p) };
        Ok(())
    })
}

/// Closes a portal (and its database connection). NULL is ignored. No other thread may be
/// using the handle; sessions made with it stay valid in the database until they expire.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_portal_close(portal: *mut EcpaPortal) -> u32 {
    // SAFETY: a handle from `ecpa_portal_open*`, or NULL.
    call(|| unsafe { release(portal, "portal") })
}

/// What a directory import did, as C receives it.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EcpaImportCounts {
    /// Data lines read.
    pub rows: usize,
    /// Agencies created or renamed.
    pub agencies: usize,
    /// Employees created.
    pub created: usize,
    /// Employees updated.
    pub updated: usize,
    /// Personnel officers (人事人員) set.
    pub officers: usize,
}

/// Imports an agency directory (機關人員名冊) from CSV: `csv` is `len` bytes of UTF-8 with the
/// header `agency_code,agency_name,unit,national_id,name,title,email` and optionally
/// `status,left_on,left_reason,officer` (as `ecpa demo` and the HTTP operator use). All rows or
/// none. Writes the counts to `out_counts`. Embedded portals only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_portal_import_directory_csv(
    portal: *const EcpaPortal,
    csv: *const u8,
    len: usize,
    out_counts: *mut EcpaImportCounts,
) -> u32 {
    call(|| {
        out(out_counts, "out_counts")?;
        // SAFETY: a live portal handle per the contract.
        let p = unsafe { get(portal, "portal") }?.local()?;
        // SAFETY: `csv` holds `len` bytes per the contract.
        let r = p.import_directory_csv(unsafe { super::bytes(csv, len, "csv") }?)?;
        let counts = EcpaImportCounts {
            rows: r.rows,
            agencies: r.agencies,
            created: r.created,
            updated: r.updated,
            officers: r.officers,
        };
        // SAFETY: checked non-NULL above.
        unsafe { put(out_counts, counts) };
        Ok(())
    })
}

/// A file mailer writing to directory `dir` (NUL-terminated UTF-8 path, created if missing).
/// Release with `ecpa_file_mailer_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_file_mailer_new(dir: *const c_char, out_mailer: *mut *mut EcpaFileMailer) -> u32 {
    call(|| {
        out(out_mailer, "out_mailer")?;
        // SAFETY: NUL-terminated string per the contract.
        let m = FileMailer::new(PathBuf::from(unsafe { text(dir, "dir") }?))?;
        // SAFETY: checked non-NULL above.
        unsafe { give(out_mailer, m) };
        Ok(())
    })
}

/// Releases a file mailer (the mail files stay). NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_file_mailer_free(mailer: *mut EcpaFileMailer) -> u32 {
    // SAFETY: a handle from `ecpa_file_mailer_new`, or NULL.
    call(|| unsafe { release(mailer, "mailer") })
}

/// Sends up to `limit` waiting mails of the portal's outbox (registration links, award-order
/// notices) through `mailer`; writes how many were sent to `out_sent`. Embedded portals only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_portal_deliver_outbox(
    portal: *const EcpaPortal,
    mailer: *const EcpaFileMailer,
    limit: usize,
    out_sent: *mut usize,
) -> u32 {
    call(|| {
        out(out_sent, "out_sent")?;
        // SAFETY: live handles per the contract.
        let (p, m) = unsafe { (get(portal, "portal")?, get(mailer, "mailer")?) };
        let report = p.local()?.deliver_outbox(m, limit)?;
        // SAFETY: checked non-NULL above.
        unsafe { put(out_sent, report.sent) };
        Ok(())
    })
}

/// Writes how many mails the mailer's directory holds to `out_count`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_file_mailer_count(mailer: *const EcpaFileMailer, out_count: *mut usize) -> u32 {
    call(|| {
        out(out_count, "out_count")?;
        // SAFETY: a live handle per the contract.
        let n = unsafe { get(mailer, "mailer") }?.messages()?.len();
        // SAFETY: checked non-NULL above.
        unsafe { put(out_count, n) };
        Ok(())
    })
}

#[derive(Serialize)]
struct MailJson<'a> {
    to: &'a str,
    subject: &'a str,
    body: &'a str,
    link_token: Option<&'a str>,
}

/// Writes mail number `index` (0 = oldest; `ecpa_file_mailer_count` - 1 = newest) as JSON:
/// `{"to": address, "subject": decoded subject, "body": plain text, "link_token": the token of
/// the registration / reset link in it, or null}`. An index past the end gives
/// `ECPA_E_FFI_ARGUMENT_INVALID`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_file_mailer_message_json(
    mailer: *const EcpaFileMailer,
    index: usize,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    call(|| {
        let o = StrOut::new(buf, len, out_len)?;
        // SAFETY: a live handle per the contract.
        let all = unsafe { get(mailer, "mailer") }?.messages()?;
        let m = all.get(index).ok_or_else(|| {
            invalid(
                format!("第 {index} 封郵件不存在（共 {} 封）", all.len()),
                format!("no mail {index} (there are {})", all.len()),
            )
        })?;
        let j = MailJson {
            to: &m.to,
            subject: &m.subject,
            body: &m.body,
            link_token: m.link_token(),
        };
        // SAFETY: the buffer contract, checked by `StrOut`.
        unsafe { o.json(&j) }
    })
}

/// Writes the link token of the newest mail that carries one (the link a person opens to
/// confirm a registration or reset a password), ASCII hex. None gives
/// `ECPA_E_FFI_ARGUMENT_INVALID`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_file_mailer_latest_link_token(
    mailer: *const EcpaFileMailer,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    call(|| {
        let o = StrOut::new(buf, len, out_len)?;
        // SAFETY: a live handle per the contract.
        let all = unsafe { get(mailer, "mailer") }?.messages()?;
        let token = all
            .iter()
            .rev()
            .find_map(|m| m.link_token().map(str::to_owned))
            .ok_or_else(|| invalid("沒有含連結的郵件".into(), "no mail carries a link".into()))?;
        // SAFETY: the buffer contract, checked by `StrOut`.
        unsafe { o.write(&token) }
    })
}

// ---------------------------------------------------------------------------------------------
// Registration

/// The registration form's fields other than the card and the passwords.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistrationFields {
    household_number: String,
    address: AddressWire,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    mobile: Option<String>,
    email: String,
    #[serde(default)]
    spare_email: Option<String>,
    terms_version: String,
}

fn json_in<T: serde::de::DeserializeOwned>(s: &str, what: &'static str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| {
        Error::with(
            ErrorCode::RequestInvalid,
            format!("{what} 的 JSON 內容錯誤：{e}"),
            format!("{what} is not the expected JSON: {e}"),
        )
    })
}

/// Copies a password argument into wiped memory and checks the policy.
pub(crate) unsafe fn password(p: *const c_char, what: &'static str) -> Result<Password> {
    // SAFETY: NUL-terminated string per the contract of the calling function.
    Password::new(unsafe { text(p, what) }?)
}

/// Starts an NHI card online registration (健保卡網路服務註冊) for the card's holder and puts
/// the confirmation mail in the outbox. `password` and `confirmation` (6–12 characters, no
/// space, `<`, `>`, `'`, `"`) are copied into wiped memory. `form_json` holds the rest:
/// `{"household_number": "F1234567", "address": {"county": "63000", "township": "63000010",
/// "village": "63000010001", "neighbourhood": 12}, "phone": "..." (optional), "mobile": "..."
/// (optional), "email": "...", "spare_email": "..." or null, "terms_version": "..."}` (unknown
/// fields are refused). `terms_version` is the version of the registration terms the person
/// accepted before the form (`ecpa_registration_terms_version`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_registration_start(
    portal: *const EcpaPortal,
    card: *const EcpaNhiCard,
    password: *const c_char,
    confirmation: *const c_char,
    form_json: *const c_char,
) -> u32 {
    call(|| {
        // SAFETY: live handles and NUL-terminated strings per the contract.
        let (p, form) = unsafe {
            (
                get(portal, "portal")?,
                registration_form(card, password, confirmation, form_json)?,
            )
        };
        p.portal().start_nhi_registration(&form)?;
        Ok(())
    })
}

/// Registers an NHI card at a counter (臨櫃) for a person who cannot register online (no
/// mailbox in the directory, or not in it): active at once, no link. The arguments are those of
/// `ecpa_registration_start`, and `operator` (NUL-terminated UTF-8) is the clerk's name for the
/// audit trail. An embedded portal only (`E9807 local_portal_only` for a remote one).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_registration_in_person(
    portal: *const EcpaPortal,
    card: *const EcpaNhiCard,
    password: *const c_char,
    confirmation: *const c_char,
    form_json: *const c_char,
    operator: *const c_char,
) -> u32 {
    call(|| {
        // SAFETY: live handles and NUL-terminated strings per the contract.
        let (p, form, operator) = unsafe {
            (
                get(portal, "portal")?,
                registration_form(card, password, confirmation, form_json)?,
                text(operator, "operator")?,
            )
        };
        p.local()?.register_nhi_card_in_person(&form, operator)
    })
}

/// The registration form from the arguments of `ecpa_registration_start`.
///
/// # Safety
/// `card` a live handle, the rest NUL-terminated strings, per the calling function's contract.
unsafe fn registration_form(
    card: *const EcpaNhiCard,
    password: *const c_char,
    confirmation: *const c_char,
    form_json: *const c_char,
) -> Result<RegistrationForm> {
    // SAFETY: per this function's contract.
    let (card, pw, confirm, fields) = unsafe {
        (
            get(card, "card")?,
            self::password(password, "password")?,
            self::password(confirmation, "confirmation")?,
            text(form_json, "form_json")?,
        )
    };
    let f: RegistrationFields = json_in(fields, "form_json")?;
    Ok(RegistrationForm {
        card: card.data.clone(),
        household_number: HouseholdNumber::parse(&f.household_number)?,
        address: f.address.to_address()?,
        password: pw,
        confirmation: confirm,
        phone: f.phone,
        mobile: f.mobile,
        email: Email::parse(&f.email)?,
        spare_email: f.spare_email.as_deref().map(Email::parse).transpose()?,
        terms_version: f.terms_version,
    })
}

/// Writes the title of the registration terms in force (全民健康保險網路服務註冊管理作業要點)
/// with its amendment, in zh-TW or English: the page shows them, with the button 「我已閱讀完畢，
/// 並瞭解相關規定」, before the form.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_registration_terms(
    portal: *const EcpaPortal,
    lang: u32,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    call(|| {
        let o = StrOut::new(buf, len, out_len)?;
        let lang = crate::ffi::lang(lang)?;
        // SAFETY: a live handle per the contract.
        let t = unsafe { get(portal, "portal") }?.portal().registration_terms()?;
        let text = match lang {
            crate::types::Lang::ZhTw => format!("{}（{}）", t.title_zh, t.amended),
            crate::types::Lang::En => t.title_en,
        };
        // SAFETY: the buffer contract, checked by `StrOut`.
        unsafe { o.write(&text) }
    })
}

/// Writes the version of the registration terms in force (ASCII): the form's `terms_version`
/// once the person has accepted them.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_registration_terms_version(
    portal: *const EcpaPortal,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    call(|| {
        let o = StrOut::new(buf, len, out_len)?;
        // SAFETY: a live handle per the contract.
        let t = unsafe { get(portal, "portal") }?.portal().registration_terms()?;
        // SAFETY: the buffer contract, checked by `StrOut`.
        unsafe { o.write(&t.version) }
    })
}

/// Mails a fresh confirmation link for a registration still waiting (重寄認證信).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_registration_resend(portal: *const EcpaPortal, card: *const EcpaNhiCard) -> u32 {
    call(|| {
        // SAFETY: live handles per the contract.
        let (p, card) = unsafe { (get(portal, "portal")?, get(card, "card")?) };
        p.portal().resend_confirmation(&card.data)?;
        Ok(())
    })
}

/// Completes a registration: `token` is the token of the mailed link (ASCII), opened with the
/// same card inserted. On success, show the person `ecpa_notice_message(ECPA_NOTICE_EMAIL_CONFIRMED)`
/// (「已完成電子信箱認證」).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_registration_confirm(
    portal: *const EcpaPortal,
    card: *const EcpaNhiCard,
    token: *const c_char,
) -> u32 {
    // SAFETY: forwarded contract.
    unsafe {
        with_card_token(portal, card, token, |p, card, token| {
            p.confirm_nhi_registration(card, token).map(drop)
        })
    }
}

/// A mailed link opened with the card: the calls that take a portal, a card and a token.
unsafe fn with_card_token(
    portal: *const EcpaPortal,
    card: *const EcpaNhiCard,
    token: *const c_char,
    f: impl FnOnce(&dyn Portal, &crate::types::NhiCardData, &str) -> Result<()>,
) -> u32 {
    call(|| {
        // SAFETY: live handles and a NUL-terminated string per the callers' contracts.
        let (p, card, token) = unsafe { (get(portal, "portal")?, get(card, "card")?, text(token, "token")?) };
        f(p.portal(), &card.data, token)
    })
}

/// Forgot password: mails a 30-minute, single-use reset link to the registered address.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_password_reset_request(portal: *const EcpaPortal, card: *const EcpaNhiCard) -> u32 {
    call(|| {
        // SAFETY: live handles per the contract.
        let (p, card) = unsafe { (get(portal, "portal")?, get(card, "card")?) };
        p.portal()
            .request_password_reset(&card.data, &ResetDelivery::RegisteredAddress)?;
        Ok(())
    })
}

/// 修改電子郵件信箱寄送重設註冊密碼信, the second variant of forgot password: `delivery_json` is
/// `{"email": "...", "address": {"county": "63000", "township": "63000010", "village":
/// "63000010001", "neighbourhood": 12}, "mobile": "..." (optional), "household_number": "..."
/// (optional: the form does not ask it; checked when given)}` (unknown fields are refused).
/// The household address must match the registration, and wrong answers count as wrong
/// passwords. The link goes to the official mailbox, never to the typed address, which the
/// registration takes (with the mobile) when the reset is done.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_password_reset_request_new_address(
    portal: *const EcpaPortal,
    card: *const EcpaNhiCard,
    delivery_json: *const c_char,
) -> u32 {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct NewAddress {
        email: String,
        address: AddressWire,
        #[serde(default)]
        mobile: Option<String>,
        #[serde(default)]
        household_number: Option<String>,
    }
    call(|| {
        // SAFETY: live handles and a NUL-terminated string per the contract.
        let (p, card, json) = unsafe {
            (
                get(portal, "portal")?,
                get(card, "card")?,
                text(delivery_json, "delivery_json")?,
            )
        };
        let d: NewAddress = json_in(json, "delivery_json")?;
        let delivery = ResetDelivery::NewAddress {
            email: Email::parse(&d.email)?,
            address: d.address.to_address()?,
            mobile: d.mobile,
            household_number: d.household_number.as_deref().map(HouseholdNumber::parse).transpose()?,
        };
        p.portal().request_password_reset(&card.data, &delivery)?;
        Ok(())
    })
}

/// Sets a new registration password, typed twice, with a reset link's `token`; both
/// passwords are copied into wiped memory, and differing ones give
/// `ECPA_E_PASSWORD_MISMATCH` without spending the link. Until this succeeds the old password
/// keeps working. On success, show the person `ecpa_notice_message(ECPA_NOTICE_PASSWORD_CHANGED)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_password_reset_complete(
    portal: *const EcpaPortal,
    card: *const EcpaNhiCard,
    token: *const c_char,
    new_password: *const c_char,
    confirmation: *const c_char,
) -> u32 {
    call(|| {
        // SAFETY: live handles and NUL-terminated strings per the contract.
        let (p, card, token, pw, again) = unsafe {
            (
                get(portal, "portal")?,
                get(card, "card")?,
                text(token, "token")?,
                password(new_password, "new_password")?,
                password(confirmation, "confirmation")?,
            )
        };
        p.portal()
            .complete_password_reset(&card.data, token, &pw, &again)
            .map(drop)
    })
}

/// 刪除註冊申請: mails a 30-minute, single-use link that deletes the card's pending application
/// to the person's official mailbox. A complete registration gives
/// `ECPA_E_REGISTRATION_STOP_IN_PERSON` (it is stopped at a counter).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_registration_delete_request(portal: *const EcpaPortal, card: *const EcpaNhiCard) -> u32 {
    call(|| {
        // SAFETY: live handles per the contract.
        let (p, card) = unsafe { (get(portal, "portal")?, get(card, "card")?) };
        p.portal().request_registration_deletion(&card.data).map(drop)
    })
}

/// Opens a deletion link (`token`) with the same card: the pending application is gone. Show
/// `ecpa_notice_message(ECPA_NOTICE_APPLICATION_DELETED)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_registration_delete_complete(
    portal: *const EcpaPortal,
    card: *const EcpaNhiCard,
    token: *const c_char,
) -> u32 {
    // SAFETY: forwarded contract.
    unsafe {
        with_card_token(portal, card, token, |p, card, token| {
            p.complete_registration_deletion(card, token).map(drop)
        })
    }
}

/// Writes the tries left of a refused registration password to `out` (may be NULL).
unsafe fn reporting_tries<T>(out: *mut i32, r: Result<T>) -> Result<T> {
    if let Err(e) = &r
        && let Some(n) = tries_left(e)
    {
        // SAFETY: an optional output: NULL skipped, else writable per the caller's contract.
        unsafe { put(out, n) };
    }
    r
}

/// 註冊密碼變更: the registration password now (`old_password`, a counted try: a wrong one
/// writes the tries left to `out_tries_left`, which may be NULL) and the new one twice. Every
/// NHI-card session of the person ends. Show `ecpa_notice_message(ECPA_NOTICE_PASSWORD_CHANGED)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_registration_password_change(
    portal: *const EcpaPortal,
    card: *const EcpaNhiCard,
    old_password: *const c_char,
    new_password: *const c_char,
    confirmation: *const c_char,
    out_tries_left: *mut i32,
) -> u32 {
    call(|| {
        // SAFETY: live handles and NUL-terminated strings per the contract.
        let (p, card, old, new, again) = unsafe {
            (
                get(portal, "portal")?,
                get(card, "card")?,
                password(old_password, "old_password")?,
                password(new_password, "new_password")?,
                password(confirmation, "confirmation")?,
            )
        };
        let r = p.portal().change_registration_password(&card.data, &old, &new, &again);
        // SAFETY: the output pointer per the contract.
        unsafe { reporting_tries(out_tries_left, r) }.map(drop)
    })
}

/// 基本資料異動: with the registration password (a counted try, as for
/// `ecpa_registration_password_change`), `details_json` `{"phone": "..." (optional), "mobile":
/// "..." (optional), "email": "..."}` sets the phones at once (absent or blank clears one); a
/// new e-mail address is confirmed through a link to the address on file. Writes to
/// `out_email_link_sent` (may be NULL) 1 when such a link was mailed (show
/// `ECPA_NOTICE_EMAIL_CHANGE_SENT`), else 0 (show `ECPA_NOTICE_DETAILS_CHANGED`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_registration_details_change(
    portal: *const EcpaPortal,
    card: *const EcpaNhiCard,
    password: *const c_char,
    details_json: *const c_char,
    out_tries_left: *mut i32,
    out_email_link_sent: *mut i32,
) -> u32 {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Details {
        #[serde(default)]
        phone: Option<String>,
        #[serde(default)]
        mobile: Option<String>,
        email: String,
    }
    call(|| {
        // SAFETY: live handles and NUL-terminated strings per the contract.
        let (p, card, pw, json) = unsafe {
            (
                get(portal, "portal")?,
                get(card, "card")?,
                self::password(password, "password")?,
                text(details_json, "details_json")?,
            )
        };
        let d: Details = json_in(json, "details_json")?;
        let details = RegistrationDetails {
            phone: d.phone,
            mobile: d.mobile,
            email: Email::parse(&d.email)?,
        };
        let r = p.portal().change_registration_details(&card.data, &pw, &details);
        // SAFETY: the output pointer per the contract.
        let change = unsafe { reporting_tries(out_tries_left, r) }?;
        // SAFETY: an optional output: NULL skipped, else writable per the contract.
        unsafe { put(out_email_link_sent, i32::from(change.email_confirmation.is_some())) };
        Ok(())
    })
}

/// Opens an e-mail change's link (`token`) with the same card: the registration takes the new
/// address, and the old one is told. Show `ecpa_notice_message(ECPA_NOTICE_EMAIL_CONFIRMED)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_email_change_complete(
    portal: *const EcpaPortal,
    card: *const EcpaNhiCard,
    token: *const c_char,
) -> u32 {
    // SAFETY: forwarded contract.
    unsafe {
        with_card_token(portal, card, token, |p, card, token| {
            p.complete_email_change(card, token).map(drop)
        })
    }
}

/// 忘記帳號或密碼 for account logins: mails the account name and a link to set a new password
/// to the official mailbox of the serving employee with `national_id`. Succeeds alike whoever
/// is on file; show `ecpa_notice_message(ECPA_NOTICE_ACCOUNT_RECOVERY_SENT)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_account_recovery_request(portal: *const EcpaPortal, national_id: *const c_char) -> u32 {
    call(|| {
        // SAFETY: a live handle and a NUL-terminated string per the contract.
        let (p, id) = unsafe { (get(portal, "portal")?, text(national_id, "national_id")?) };
        p.portal().request_account_recovery(&NationalId::parse(id)?).map(drop)
    })
}

/// Sets the eCPA account's new password, typed twice, with a recovery link's `token`. Show
/// `ecpa_notice_message(ECPA_NOTICE_ACCOUNT_PASSWORD_CHANGED)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_account_recovery_complete(
    portal: *const EcpaPortal,
    token: *const c_char,
    new_password: *const c_char,
    confirmation: *const c_char,
) -> u32 {
    call(|| {
        // SAFETY: a live handle and NUL-terminated strings per the contract.
        let (p, token, pw, again) = unsafe {
            (
                get(portal, "portal")?,
                text(token, "token")?,
                password(new_password, "new_password")?,
                password(confirmation, "confirmation")?,
            )
        };
        p.portal().complete_account_recovery(token, &pw, &again).map(drop)
    })
}

// ---------------------------------------------------------------------------------------------
// Login and sessions

/// Runs a login and hands out the session, or writes the tries left of a refused password.
unsafe fn login(
    out_tries_left: *mut i32,
    out_session: *mut *mut EcpaSession,
    f: impl FnOnce() -> Result<crate::portal::Session>,
) -> Result<()> {
    out(out_session, "out_session")?;
    match f() {
        Ok(s) => {
            // SAFETY: checked non-NULL above.
            unsafe { give(out_session, s.token) };
            Ok(())
        }
        Err(e) => {
            if let Some(n) = tries_left(&e) {
                // SAFETY: an optional output: NULL skipped, else writable per the contract.
                unsafe { put(out_tries_left, n) };
            }
            Err(e)
        }
    }
}

/// Logs in with the NHI card and its registered password (copied into wiped memory). Writes a
/// new session to `out_session` (release with `ecpa_session_free`; log out with
/// `ecpa_logout`). On `ECPA_E_REGISTRATION_PASSWORD_WRONG` writes the wrong passwords still
/// allowed before logins are suspended to `out_tries_left` (may be NULL); on other outcomes
/// leaves it alone. The four errors of the guide each have their code:
/// `ECPA_E_NHI_CARD_NOT_REGISTERED`, `ECPA_E_REGISTRATION_PASSWORD_WRONG`,
/// `ECPA_E_ACCOUNT_NOT_FOUND`, `ECPA_E_ACCOUNT_DISABLED`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_login_nhi_card(
    portal: *const EcpaPortal,
    card: *const EcpaNhiCard,
    password: *const c_char,
    out_tries_left: *mut i32,
    out_session: *mut *mut EcpaSession,
) -> u32 {
    call(|| {
        // SAFETY: live handles and a NUL-terminated string per the contract.
        let (p, card, pw) = unsafe {
            (
                get(portal, "portal")?,
                get(card, "card")?,
                self::password(password, "password")?,
            )
        };
        // SAFETY: output pointers per the contract.
        unsafe {
            login(out_tries_left, out_session, || {
                p.portal().login_nhi_card(&card.data, &pw)
            })
        }
    })
}

/// Logs in with the citizen digital certificate (自然人憑證): asks the portal for a challenge,
/// has `signer` (a card logged in with its PIN, or a software key) sign it, and sends the
/// signature with the certificate. On the first login of a certificate pass the eCPA account
/// name or national ID in `identify` (its last four digits must match the certificate's);
/// later logins pass NULL. Writes a new session to `out_session`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_login_certificate(
    portal: *const EcpaPortal,
    signer: *const EcpaSigner,
    identify: *const c_char,
    out_session: *mut *mut EcpaSession,
) -> u32 {
    // SAFETY: forwarded contract; no origin.
    unsafe { certificate_login(portal, signer, std::ptr::null(), identify, out_session) }
}

/// `ecpa_login_certificate`, origin-bound (`ecpa-origin:1`, as `ecpa agent` signs): the card
/// signs SHA-256(`origin`) ‖ SHA-256(the challenge), and the portal accepts it only if
/// `origin` (`https://host[:port]`) is its own public origin (`ECPA_E_LOGIN_ORIGIN_MISMATCH`
/// otherwise).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_login_certificate_origin_bound(
    portal: *const EcpaPortal,
    signer: *const EcpaSigner,
    origin: *const c_char,
    identify: *const c_char,
    out_session: *mut *mut EcpaSession,
) -> u32 {
    if origin.is_null() {
        return call(|| Err(super::null("origin")));
    }
    // SAFETY: forwarded contract.
    unsafe { certificate_login(portal, signer, origin, identify, out_session) }
}

/// Both certificate logins: origin-bound when `origin` is not NULL.
unsafe fn certificate_login(
    portal: *const EcpaPortal,
    signer: *const EcpaSigner,
    origin: *const c_char,
    identify: *const c_char,
    out_session: *mut *mut EcpaSession,
) -> u32 {
    call(|| {
        // SAFETY: live handles and optional NUL-terminated strings per the callers' contracts.
        let (p, s, origin, identify) = unsafe {
            (
                get(portal, "portal")?,
                get(signer, "signer")?,
                super::opt_text(origin, "origin")?,
                super::opt_text(identify, "identify")?,
            )
        };
        let p = p.portal();
        // SAFETY: output pointer per the contract.
        unsafe {
            login(std::ptr::null_mut(), out_session, || {
                let c = p.begin_certificate_login()?;
                let der = s.certificate.der();
                let response =
                    CertificateResponse::signed_by(&c, der, s.signer.as_ref(), origin, identify.map(str::to_owned))?;
                p.complete_certificate_login(&response)
            })
        }
    })
}

/// Logs in with an eCPA account name and password (the lowest assurance level). Tries left
/// as in `ecpa_login_nhi_card`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_login_account(
    portal: *const EcpaPortal,
    account: *const c_char,
    password: *const c_char,
    out_tries_left: *mut i32,
    out_session: *mut *mut EcpaSession,
) -> u32 {
    call(|| {
        // SAFETY: a live handle and NUL-terminated strings per the contract.
        let (p, account, pw) = unsafe {
            (
                get(portal, "portal")?,
                text(account, "account")?,
                self::password(password, "password")?,
            )
        };
        // SAFETY: output pointers per the contract.
        unsafe { login(out_tries_left, out_session, || p.portal().login_account(account, &pw)) }
    })
}

/// A session from a bearer token kept elsewhere (e.g. by a web front end): no check is made
/// until it is used. Release with `ecpa_session_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_session_from_token(token: *const c_char, out_session: *mut *mut EcpaSession) -> u32 {
    call(|| {
        out(out_session, "out_session")?;
        // SAFETY: NUL-terminated string per the contract.
        let t = SessionToken::new(unsafe { text(token, "token") }?);
        // SAFETY: checked non-NULL above.
        unsafe { give(out_session, t) };
        Ok(())
    })
}

/// Writes the session's bearer token (ASCII). Whoever holds it acts as the person: keep it
/// as secret as a password.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_session_token(
    session: *const EcpaSession,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    call(|| {
        let o = StrOut::new(buf, len, out_len)?;
        // SAFETY: a live handle per the contract; the buffer contract checked by `StrOut`.
        unsafe { o.write(get(session, "session")?.expose()) }
    })
}

/// Writes who the session belongs to as JSON, the HTTP API's `SessionInfo`:
/// `{"name", "national_id" (masked), "agency_code", "agency_name", "method"
/// ("nhi_card" | "certificate" | "account"), "level", "officer", "expires_at", ...}`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_session_info_json(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    // SAFETY: forwarded contract.
    unsafe { json_call(portal, session, buf, len, out_len, |p, s| p.session_info(s)) }
}

/// Ends the session in the portal (the handle must still be released with `ecpa_session_free`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_logout(portal: *const EcpaPortal, session: *const EcpaSession) -> u32 {
    call(|| {
        // SAFETY: live handles per the contract.
        let (p, s) = unsafe { (get(portal, "portal")?, get(session, "session")?) };
        p.portal().logout(s)
    })
}

/// Releases a session handle and wipes its token; it does not log out. NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_session_free(session: *mut EcpaSession) -> u32 {
    // SAFETY: a handle from a login or `ecpa_session_from_token`, or NULL.
    call(|| unsafe { release(session, "session") })
}

/// Writes the application catalogue (應用系統) as JSON, the HTTP API's list of `Application`:
/// `[{"code", "name_zh", "name_en", "usable", ...}]`, each marked usable or greyed out for
/// this session's login.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_applications_json(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    // SAFETY: forwarded contract.
    unsafe { json_call(portal, session, buf, len, out_len, |p, s| p.applications(s)) }
}

/// Adds application `code` (e.g. `B5`, the proofing site) to "my applications" and opens it:
/// fails with `ECPA_E_ASSURANCE_TOO_LOW` when the login is not strong enough for it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_application_open(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
    code: *const c_char,
) -> u32 {
    call(|| {
        // SAFETY: live handles and a NUL-terminated string per the contract.
        let (p, s, code) = unsafe { (get(portal, "portal")?, get(session, "session")?, text(code, "code")?) };
        let p = p.portal();
        p.add_my_application(s, code)?;
        p.open_application(s, code)?;
        Ok(())
    })
}

/// The buffer `ecpa_application_open_json` and `ecpa_sso_redeem_json` take up front: each call
/// of them acts (issues an assertion, spends one), so a size query must not come first. A
/// smaller buffer is refused with `ECPA_E_FFI_BUFFER_TOO_SMALL`, and this size in `out_len`,
/// before anything is done.
pub const ECPA_SSO_JSON_BUFFER: usize = 4096;

/// Adds application `code` to "my applications", opens it, and writes the answer as JSON, the
/// HTTP API's `Application`: for an application this portal opens with single sign-on, its
/// `sso` holds `{"url", "token", "expires_at"}`, the assertion to post to `url` as the form
/// field `assertion` within 60 seconds (the token is a credential: do not log it). `buf` must
/// hold `ECPA_SSO_JSON_BUFFER` bytes (each call issues a new assertion). Fails as
/// `ecpa_application_open` does.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_application_open_json(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
    code: *const c_char,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    call(|| {
        let o = StrOut::new(buf, len, out_len)?;
        // SAFETY: live handles and a NUL-terminated string per the contract.
        let (p, s, code) = unsafe { (get(portal, "portal")?, get(session, "session")?, text(code, "code")?) };
        // SAFETY: the buffer contract, checked by `StrOut`.
        unsafe { o.reserve(ECPA_SSO_JSON_BUFFER) }?;
        let p = p.portal();
        p.add_my_application(s, code)?;
        let app = p.open_application(s, code)?;
        // SAFETY: the buffer contract, checked by `StrOut`.
        unsafe { o.json(&app) }
    })
}

/// Writes the portal's single sign-on keys as JSON, a JSON Web Key Set
/// (`{"keys": [{"kty": "EC", "crv": "P-256", "x", "y", "kid", "alg": "ES256", "use": "sig"}]}`,
/// as `/.well-known/jwks.json` serves it): what an application checks assertions with.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_sso_keys_json(
    portal: *const EcpaPortal,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    call(|| {
        let o = StrOut::new(buf, len, out_len)?;
        // SAFETY: a live handle per the contract.
        let keys = unsafe { get(portal, "portal") }?.portal().sso_keys()?;
        // SAFETY: the buffer contract, checked by `StrOut`.
        unsafe { o.json(&keys) }
    })
}

/// For an application written in C: redeems the single sign-on assertion `token` it was
/// posted, once, for `audience`, its own code (both NUL-terminated), and writes what the
/// portal tells of the person as JSON: `{"sub", "aud", "auth_level", "name", "issued_at",
/// "expires_at"}` (`sub` is the person's id in this application, never the national ID).
/// `buf` must hold `ECPA_SSO_JSON_BUFFER` bytes: the assertion is spent by the call. Fails
/// `ECPA_E_SSO_ASSERTION_INVALID` (forged or malformed), `_EXPIRED`, `_REPLAYED` or
/// `ECPA_E_SSO_AUDIENCE_MISMATCH` otherwise.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ecpa_sso_redeem_json(
    portal: *const EcpaPortal,
    token: *const c_char,
    audience: *const c_char,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> u32 {
    call(|| {
        let o = StrOut::new(buf, len, out_len)?;
        // SAFETY: a live handle and NUL-terminated strings per the contract.
        let (p, token, audience) = unsafe {
            (
                get(portal, "portal")?,
                text(token, "token")?,
                text(audience, "audience")?,
            )
        };
        // SAFETY: the buffer contract, checked by `StrOut`.
        unsafe { o.reserve(ECPA_SSO_JSON_BUFFER) }?;
        let who = p.portal().redeem_sso_assertion(token, audience)?;
        // SAFETY: the buffer contract, checked by `StrOut`.
        unsafe { o.json(&who) }
    })
}

/// The portal and session of a call.
pub(super) unsafe fn ps<'a>(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
) -> Result<(&'a dyn Portal, &'a SessionToken)> {
    // SAFETY: live handles per the contract of the calling function.
    unsafe { Ok((get(portal, "portal")?.portal(), get(session, "session")?)) }
}

/// Runs a read-only call for a session and writes its result as JSON.
pub(super) unsafe fn json_call<T: serde::Serialize>(
    portal: *const EcpaPortal,
    session: *const EcpaSession,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
    f: impl FnOnce(&dyn Portal, &SessionToken) -> Result<T>,
) -> u32 {
    call(|| {
        let o = StrOut::new(buf, len, out_len)?;
        // SAFETY: forwarded contract.
        let (p, s) = unsafe { ps(portal, session) }?;
        let v = f(p, s)?;
        // SAFETY: the buffer contract, checked by `StrOut`.
        unsafe { o.json(&v) }
    })
}
