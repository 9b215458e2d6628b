//! The directory's tables: agencies (機關), their units (單位), employees and personnel
//! officers. Every lookup of a person by national ID, number or account goes through here.

use crate::error::Result;
use crate::store::{Tx, Value};
use crate::types::NationalId;

crate::db::row! {
    /// A person as the directory holds them. The household columns are what the NHI card's
    /// registration is checked against (a value the directory lacks is not checked).
    pub(crate) struct Employee {
        pub id: i64 = "id",
        pub national_id: NationalId = "national_id",
        pub name: String = "name",
        pub agency_code: String = "agency_code",
        pub unit_id: Option<i64> = "unit_id",
        pub title: String = "title",
        pub email: Option<String> = "email",
        /// `current` or `left`.
        pub status: String = "status",
        pub account_name: Option<String> = "account_name",
        pub birth_date: Option<String> = "birth_date",
        pub household_number: Option<String> = "household_number",
        pub household_county: Option<String> = "household_county",
        pub household_township: Option<String> = "household_township",
        pub household_village: Option<String> = "household_village",
        pub household_neighbourhood: Option<i64> = "household_neighbourhood",
    }
}

impl Employee {
    /// Whether the person serves (has not left office): only they may log in.
    pub(crate) fn is_current(&self) -> bool {
        self.status == "current"
    }
}

fn one_by(tx: &mut dyn Tx, column: &str, value: Value<'_>) -> Result<Option<Employee>> {
    let sql = format!("SELECT {} FROM employees WHERE {column} = ?", Employee::COLUMNS);
    tx.query_opt(&sql, &[value])?.map(Employee::from_row).transpose()
}

/// The person a national ID belongs to, if the directory has them.
pub(crate) fn by_national_id(tx: &mut dyn Tx, id: &NationalId) -> Result<Option<Employee>> {
    one_by(tx, "national_id", Value::from(id.reveal()))
}

/// The person with the directory's number `id`.
pub(crate) fn by_id(tx: &mut dyn Tx, id: i64) -> Result<Option<Employee>> {
    one_by(tx, "id", Value::Int(id))
}

/// The person who holds the eCPA account `name`.
pub(crate) fn by_account(tx: &mut dyn Tx, name: &str) -> Result<Option<Employee>> {
    one_by(tx, "account_name", Value::from(name))
}

/// The number and password hash of the eCPA account `name`, if someone holds it (the hash is
/// `None` until they set a password).
pub(crate) fn account_password(tx: &mut dyn Tx, name: &str) -> Result<Option<(i64, Option<String>)>> {
    let row = tx.query_opt(
        "SELECT id, account_password_hash FROM employees WHERE account_name = ?",
        &[Value::from(name)],
    )?;
    row.map(|r| Ok((r.int(0)?, r.opt_text(1)?))).transpose()
}

/// Gives an employee the eCPA account `name` with the password `hash`.
pub(crate) fn set_account(tx: &mut dyn Tx, id: i64, name: &str, hash: &str, now_ms: i64) -> Result<()> {
    tx.execute(
        "UPDATE employees SET account_name = ?, account_password_hash = ?, updated_at = ? WHERE id = ?",
        &[Value::from(name), Value::from(hash), Value::Int(now_ms), Value::Int(id)],
    )
    .map(drop)
}

crate::db::row! {
    /// Who a session belongs to: the person, the agency they serve in, and whether they are
    /// one of its personnel officers.
    pub(crate) struct Serving {
        pub name: String = "e.name",
        pub national_id: NationalId = "e.national_id",
        pub agency_code: String = "e.agency_code",
        pub agency_name: String = "a.name",
        pub officer: bool = "o.employee_id IS NOT NULL",
    }
}

/// The person with the directory's number `id`, their agency and whether they are its officer.
pub(crate) fn serving(tx: &mut dyn Tx, id: i64) -> Result<Option<Serving>> {
    let sql = format!(
        "SELECT {} FROM employees e JOIN agencies a ON a.code = e.agency_code
         LEFT JOIN officers o ON o.employee_id = e.id AND o.agency_code = e.agency_code
         WHERE e.id = ?",
        Serving::COLUMNS
    );
    tx.query_opt(&sql, &[Value::Int(id)])?
        .map(Serving::from_row)
        .transpose()
}
