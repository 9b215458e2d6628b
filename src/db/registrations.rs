//! The NHI card online service's registrations and their one-time links (registration,
//! e-mail confirmation, password reset).
//!
//! A registration is keyed by its card number and belongs to one national ID; its links are
//! kept as SHA-256 hashes of their tokens, each with its purpose (`confirm`, `reset`,
//! `email_change`), its expiry and when it was used.

use crate::error::Result;
use crate::store::{Tx, Value};
use crate::types::NationalId;

/// A new registration as [`insert`] writes it: pending, or active from `confirmed_ms`.
pub(crate) struct NewRegistration<'a> {
    /// The card's number, the registration's key.
    pub card_number: &'a str,
    /// The card holder's national ID.
    pub national_id: &'a NationalId,
    /// The holder's name, as on the card.
    pub name: &'a str,
    /// 戶號.
    pub household_number: &'a str,
    /// 戶籍縣市.
    pub county: &'a str,
    /// 戶籍鄉鎮市區.
    pub township: &'a str,
    /// 戶籍村里.
    pub village: &'a str,
    /// 戶籍鄰.
    pub neighbourhood: i64,
    /// Phone, if given (kept as an empty text when not: the column predates the optional field).
    pub phone: Option<&'a str>,
    /// Mobile, if given (the same).
    pub mobile: Option<&'a str>,
    /// Main e-mail address.
    pub email: &'a str,
    /// Spare e-mail address.
    pub spare_email: Option<&'a str>,
    /// The password's argon2id hash.
    pub password_hash: &'a str,
    /// When the registration was made.
    pub created_ms: i64,
    /// When it was confirmed: `Some` writes it active, `None` pending.
    pub confirmed_ms: Option<i64>,
    /// The version of the registration terms the holder accepted (at `created_ms`).
    pub terms_version: &'a str,
}

/// Writes a registration.
pub(crate) fn insert(tx: &mut dyn Tx, r: &NewRegistration<'_>) -> Result<()> {
    tx.execute(
        "INSERT INTO nhi_registrations (card_number, national_id, name, household_number, county, township, village,
             neighbourhood, phone, mobile, email, spare_email, password_hash, status, created_at, confirmed_at,
             terms_version, terms_accepted_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            Value::from(r.card_number),
            Value::from(r.national_id.reveal()),
            Value::from(r.name),
            Value::from(r.household_number),
            Value::from(r.county),
            Value::from(r.township),
            Value::from(r.village),
            Value::Int(r.neighbourhood),
            Value::from(r.phone.unwrap_or_default()),
            Value::from(r.mobile.unwrap_or_default()),
            Value::from(r.email),
            Value::from(r.spare_email),
            Value::from(r.password_hash),
            Value::from(if r.confirmed_ms.is_some() { "active" } else { "pending" }),
            Value::Int(r.created_ms),
            Value::from(r.confirmed_ms),
            Value::from(r.terms_version),
            Value::Int(r.created_ms),
        ],
    )?;
    Ok(())
}

crate::db::row! {
    /// A registration of a person or card, as a new one is checked against it. The column
    /// expression of `live_link` binds the current time, before the statement's own parameters.
    pub(crate) struct Claim {
        /// `pending` or `active`.
        pub status: String = "r.status",
        /// Whether a confirmation link of it is unused and still works.
        pub live_link: bool = "EXISTS (SELECT 1 FROM registration_tokens t WHERE t.card_number = r.card_number
                 AND t.purpose = 'confirm' AND t.used_at IS NULL AND t.expires_at > ?)",
    }
}

/// The registrations of the person `national_id` or of the card `card_number`, whether each
/// has a working confirmation link at `now_ms`.
pub(crate) fn claims(tx: &mut dyn Tx, national_id: &NationalId, card_number: &str, now_ms: i64) -> Result<Vec<Claim>> {
    let sql = format!(
        "SELECT {} FROM nhi_registrations r WHERE r.national_id = ? OR r.card_number = ?",
        Claim::COLUMNS
    );
    let rows = tx.query(
        &sql,
        &[
            Value::Int(now_ms),
            Value::from(national_id.reveal()),
            Value::from(card_number),
        ],
    )?;
    crate::db::rows(rows, Claim::from_row)
}

/// Whether the person `national_id` or the card `card_number` has an active registration.
pub(crate) fn any_active(tx: &mut dyn Tx, national_id: &NationalId, card_number: &str) -> Result<bool> {
    let row = tx.query_opt(
        "SELECT 1 FROM nhi_registrations WHERE (national_id = ? OR card_number = ?) AND status = 'active'",
        &[Value::from(national_id.reveal()), Value::from(card_number)],
    )?;
    Ok(row.is_some())
}

/// Removes the pending registrations of the person `national_id` and of the card
/// `card_number`, with their links.
pub(crate) fn drop_pending(tx: &mut dyn Tx, national_id: &NationalId, card_number: &str) -> Result<()> {
    let keys = [Value::from(national_id.reveal()), Value::from(card_number)];
    tx.execute(
        "DELETE FROM registration_tokens WHERE card_number IN
             (SELECT card_number FROM nhi_registrations WHERE (national_id = ? OR card_number = ?) AND status = 'pending')",
        &keys,
    )?;
    tx.execute(
        "DELETE FROM nhi_registrations WHERE (national_id = ? OR card_number = ?) AND status = 'pending'",
        &keys,
    )?;
    Ok(())
}

crate::db::row! {
    /// A registration as a confirmation mail is sent again for it.
    pub(crate) struct ForResend {
        /// `pending` or `active`.
        pub status: String = "status",
        pub email: String = "email",
        pub spare_email: Option<String> = "spare_email",
        pub national_id: NationalId = "national_id",
    }
}

/// The registration of the card `card_number`, pending or active.
pub(crate) fn for_resend(tx: &mut dyn Tx, card_number: &str) -> Result<Option<ForResend>> {
    let sql = format!(
        "SELECT {} FROM nhi_registrations WHERE card_number = ?",
        ForResend::COLUMNS
    );
    tx.query_opt(&sql, &[Value::from(card_number)])?
        .map(ForResend::from_row)
        .transpose()
}

/// Makes the pending registration of the card `card_number` and the person `national_id`
/// active; `false` if there was none.
pub(crate) fn activate(tx: &mut dyn Tx, card_number: &str, national_id: &NationalId, now_ms: i64) -> Result<bool> {
    let n = tx.execute(
        "UPDATE nhi_registrations SET status = 'active', confirmed_at = ? WHERE card_number = ? AND national_id = ? AND status = 'pending'",
        &[Value::Int(now_ms), Value::from(card_number), Value::from(national_id.reveal())],
    )?;
    Ok(n > 0)
}

crate::db::row! {
    /// An active registration's address and household data, as a reset to a new address
    /// checks them.
    pub(crate) struct Household {
        pub email: String = "email",
        pub household_number: String = "household_number",
        pub county: String = "county",
        pub township: String = "township",
        pub village: String = "village",
        pub neighbourhood: i64 = "neighbourhood",
        pub national_id: NationalId = "national_id",
    }
}

/// The active registration of the card `card_number`, for a password reset.
pub(crate) fn active_household(tx: &mut dyn Tx, card_number: &str) -> Result<Option<Household>> {
    let sql = format!(
        "SELECT {} FROM nhi_registrations WHERE card_number = ? AND status = 'active'",
        Household::COLUMNS
    );
    tx.query_opt(&sql, &[Value::from(card_number)])?
        .map(Household::from_row)
        .transpose()
}

/// The e-mail address of the card `card_number`'s registration, whatever its status.
pub(crate) fn email(tx: &mut dyn Tx, card_number: &str) -> Result<Option<String>> {
    let rows = tx.query(
        "SELECT email FROM nhi_registrations WHERE card_number = ?",
        &[Value::from(card_number)],
    )?;
    crate::db::first(rows)
}

/// The e-mail address of the active registration of the card `card_number` and the person
/// `national_id`.
pub(crate) fn active_email_of(tx: &mut dyn Tx, card_number: &str, national_id: &NationalId) -> Result<Option<String>> {
    let rows = tx.query(
        "SELECT email FROM nhi_registrations WHERE card_number = ? AND national_id = ? AND status = 'active'",
        &[Value::from(card_number), Value::from(national_id.reveal())],
    )?;
    crate::db::first(rows)
}

/// The password hash of the active registration of the card `card_number` and the person
/// `national_id`.
pub(crate) fn active_password(tx: &mut dyn Tx, card_number: &str, national_id: &NationalId) -> Result<Option<String>> {
    let rows = tx.query(
        "SELECT password_hash FROM nhi_registrations WHERE card_number = ? AND national_id = ? AND status = 'active'",
        &[Value::from(card_number), Value::from(national_id.reveal())],
    )?;
    crate::db::first(rows)
}

/// Sets the registration's password hash and, where given, its address and mobile number.
pub(crate) fn set_password(
    tx: &mut dyn Tx,
    card_number: &str,
    hash: &str,
    new_email: Option<&str>,
    new_mobile: Option<&str>,
) -> Result<()> {
    tx.execute(
        "UPDATE nhi_registrations SET password_hash = ?, email = COALESCE(?, email), mobile = COALESCE(?, mobile)
         WHERE card_number = ?",
        &[
            Value::from(hash),
            Value::from(new_email),
            Value::from(new_mobile),
            Value::from(card_number),
        ],
    )?;
    Ok(())
}

crate::db::row! {
    /// An active registration's contact details (基本資料), as the person changes them.
    pub(crate) struct Contact {
        /// Empty when not given.
        pub phone: String = "phone",
        /// Empty when not given.
        pub mobile: String = "mobile",
        pub email: String = "email",
    }
}

/// The contact details of the active registration of the card `card_number` and the person
/// `national_id`.
pub(crate) fn active_contact(tx: &mut dyn Tx, card_number: &str, national_id: &NationalId) -> Result<Option<Contact>> {
    let sql = format!(
        "SELECT {} FROM nhi_registrations WHERE card_number = ? AND national_id = ? AND status = 'active'",
        Contact::COLUMNS
    );
    tx.query_opt(&sql, &[Value::from(card_number), Value::from(national_id.reveal())])?
        .map(Contact::from_row)
        .transpose()
}

/// Sets the registration's phone and mobile numbers (`None`: not given, kept as empty text).
pub(crate) fn set_phones(tx: &mut dyn Tx, card_number: &str, phone: Option<&str>, mobile: Option<&str>) -> Result<()> {
    tx.execute(
        "UPDATE nhi_registrations SET phone = ?, mobile = ? WHERE card_number = ?",
        &[
            Value::from(phone.unwrap_or_default()),
            Value::from(mobile.unwrap_or_default()),
            Value::from(card_number),
        ],
    )?;
    Ok(())
}

/// The registration of the card `card_number` and the person `national_id` if it is pending:
/// its address.
pub(crate) fn pending_email(tx: &mut dyn Tx, card_number: &str, national_id: &NationalId) -> Result<Option<String>> {
    let rows = tx.query(
        "SELECT email FROM nhi_registrations WHERE card_number = ? AND national_id = ? AND status = 'pending'",
        &[Value::from(card_number), Value::from(national_id.reveal())],
    )?;
    crate::db::first(rows)
}

/// Sets the registration's e-mail address.
pub(crate) fn set_email(tx: &mut dyn Tx, card_number: &str, email: &str) -> Result<()> {
    tx.execute(
        "UPDATE nhi_registrations SET email = ? WHERE card_number = ?",
        &[Value::from(email), Value::from(card_number)],
    )?;
    Ok(())
}

crate::db::row! {
    /// A person's registration as its removal needs it: the card and the addresses to tell.
    pub(crate) struct Held {
        pub card_number: String = "card_number",
        pub email: String = "email",
        pub spare_email: Option<String> = "spare_email",
    }
}

/// Every registration of the person `national_id`, pending or active.
pub(crate) fn of_person(tx: &mut dyn Tx, national_id: &NationalId) -> Result<Vec<Held>> {
    let sql = format!("SELECT {} FROM nhi_registrations WHERE national_id = ?", Held::COLUMNS);
    let rows = tx.query(&sql, &[Value::from(national_id.reveal())])?;
    crate::db::rows(rows, Held::from_row)
}

/// Deletes the card `card_number`'s registration with all its links.
pub(crate) fn remove(tx: &mut dyn Tx, card_number: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM registration_tokens WHERE card_number = ?",
        &[Value::from(card_number)],
    )?;
    tx.execute(
        "DELETE FROM nhi_registrations WHERE card_number = ?",
        &[Value::from(card_number)],
    )?;
    Ok(())
}

/// Makes the card's unused links of `purpose` expire at `now_ms`, as a new one replaces them.
pub(crate) fn expire_links(tx: &mut dyn Tx, card_number: &str, purpose: &str, now_ms: i64) -> Result<u64> {
    tx.execute(
        "UPDATE registration_tokens SET expires_at = ? WHERE card_number = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?",
        &[Value::Int(now_ms), Value::from(card_number), Value::from(purpose), Value::Int(now_ms)],
    )
}

/// A new link as [`insert_link`] writes it.
pub(crate) struct NewLink<'a> {
    /// The SHA-256 hash of its token.
    pub token_hash: &'a str,
    /// The registration's card.
    pub card_number: &'a str,
    /// `confirm`, `reset` or `email_change`.
    pub purpose: &'a str,
    /// The address the registration takes when the link is used, if any.
    pub new_email: Option<&'a str>,
    /// The mobile number it takes with the address, if any.
    pub new_mobile: Option<&'a str>,
    /// When it was issued.
    pub created_ms: i64,
    /// When it stops working.
    pub expires_ms: i64,
}

/// Writes a new link.
pub(crate) fn insert_link(tx: &mut dyn Tx, link: &NewLink<'_>) -> Result<()> {
    tx.execute(
        "INSERT INTO registration_tokens (token_hash, card_number, purpose, new_email, new_mobile, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[
            Value::from(link.token_hash),
            Value::from(link.card_number),
            Value::from(link.purpose),
            Value::from(link.new_email),
            Value::from(link.new_mobile),
            Value::Int(link.created_ms),
            Value::Int(link.expires_ms),
        ],
    )?;
    Ok(())
}

crate::db::row! {
    /// A link as it is checked before it is used.
    pub(crate) struct Link {
        pub card_number: String = "card_number",
        /// `confirm`, `reset` or `email_change`.
        pub purpose: String = "purpose",
        pub expires_at: i64 = "expires_at",
        pub used_at: Option<i64> = "used_at",
        pub new_email: Option<String> = "new_email",
        pub new_mobile: Option<String> = "new_mobile",
    }
}

/// The link whose token hashes to `token_hash`.
pub(crate) fn link(tx: &mut dyn Tx, token_hash: &str) -> Result<Option<Link>> {
    let sql = format!("SELECT {} FROM registration_tokens WHERE token_hash = ?", Link::COLUMNS);
    tx.query_opt(&sql, &[Value::from(token_hash)])?
        .map(Link::from_row)
        .transpose()
}

/// Marks the link whose token hashes to `token_hash` used at `now_ms`.
pub(crate) fn use_link(tx: &mut dyn Tx, token_hash: &str, now_ms: i64) -> Result<()> {
    tx.execute(
        "UPDATE registration_tokens SET used_at = ? WHERE token_hash = ?",
        &[Value::Int(now_ms), Value::from(token_hash)],
    )?;
    Ok(())
}

crate::db::row! {
    /// What an NHI-card login checks of a card's registration.
    pub(crate) struct LoginRegistration {
        pub national_id: NationalId = "national_id",
        /// `pending`, `active` or `stopped`.
        pub status: String = "status",
        pub password_hash: String = "password_hash",
    }
}

/// The registration of a card number, as login needs it.
pub(crate) fn login_of(tx: &mut dyn Tx, card_number: &str) -> Result<Option<LoginRegistration>> {
    let sql = format!(
        "SELECT {} FROM nhi_registrations WHERE card_number = ?",
        LoginRegistration::COLUMNS
    );
    tx.query_opt(&sql, &[Value::from(card_number)])?
        .map(LoginRegistration::from_row)
        .transpose()
}

/// Deletes the links used or expired by `now_ms`; returns how many.
pub(crate) fn purge_links(tx: &mut dyn Tx, now_ms: i64) -> Result<u64> {
    tx.execute(
        "DELETE FROM registration_tokens WHERE used_at IS NOT NULL OR expires_at <= ?",
        &[Value::Int(now_ms)],
    )
}
