//! The NHI card online service's registrations and their one-time links (registration,
//! e-mail confirmation, password reset).

#[allow(unused_imports)]
use crate::error::Result;
#[allow(unused_imports)]
use crate::store::{Tx, Value};

// -- for portal/auth.rs
crate::db::row! {
    /// What an NHI-card login checks of a card's registration.
    pub(crate) struct LoginRegistration {
        pub national_id: crate::types::NationalId = "national_id",
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

// -- for portal/guard.rs
/// The address a card's registration gives, where its owner is told of guessing.
pub(crate) fn address_of(tx: &mut dyn Tx, card_number: &str) -> Result<Option<String>> {
    let row = tx.query_opt(
        "SELECT email FROM nhi_registrations WHERE card_number = ?",
        &[Value::from(card_number)],
    )?;
    Ok(row.map(|r| r.opt_text(0)).transpose()?.flatten())
}
