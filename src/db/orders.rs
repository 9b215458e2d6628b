//! Award orders (獎勵令) and consents to electronic delivery: the `award_orders`, `consent_versions` and `consent_agreements`
//! tables, and the look-up of the people orders are issued to ([`portal::awards`] and
//! [`portal::consent`] hold the rules).
//!
//! [`portal::awards`]: crate::portal::awards
//! [`portal::consent`]: crate::portal::consent

use std::collections::HashMap;
use std::sync::LazyLock;

use time::OffsetDateTime;

use crate::error::Result;
use crate::store::{Tx, Value, values_rows};
use crate::types::{Email, NationalId, RocDate};

crate::db::row! {
    /// A stored order with its person's national ID: what lists and the order page show.
    pub(crate) struct Order {
        pub id: i64 = "o.id",
        pub employee_id: i64 = "o.employee_id",
        pub document_number: String = "o.document_number",
        pub approving_agency: String = "o.approving_agency",
        pub approved_on: RocDate = "o.approved_on",
        /// An `AwardKind`'s stable name.
        pub kind: String = "o.kind",
        pub count: u8 = "o.count",
        pub special: bool = "o.special",
        pub rating_year: i32 = "o.rating_year",
        /// `electronic` or `paper`.
        pub delivery: String = "o.delivery",
        /// A `PaperReason`'s stable name, for a paper order.
        pub paper_reason: Option<String> = "o.paper_reason",
        pub viewed_at: Option<OffsetDateTime> = "o.viewed_at",
        pub person_name: String = "o.person_name",
        pub national_id: NationalId = "e.national_id",
        pub unit_name: String = "o.unit_name",
        pub title: String = "o.title",
        pub reason: String = "o.reason",
        pub legal_basis: String = "o.legal_basis",
        pub issued_at: OffsetDateTime = "o.issued_at",
    }
}

/// The orders joined to their person, for a `WHERE … ORDER BY …` to follow.
static ORDER_FROM: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM award_orders o JOIN employees e ON e.id = o.employee_id",
        Order::COLUMNS
    )
});

/// The order numbered `id`, if there is one.
pub(crate) fn by_id(tx: &mut dyn Tx, id: i64) -> Result<Option<Order>> {
    let sql = format!("{} WHERE o.id = ?", *ORDER_FROM);
    tx.query_opt(&sql, &[Value::Int(id)])?.map(Order::from_row).transpose()
}

/// A person's electronic orders they have not signed for yet, oldest first.
pub(crate) fn unviewed_of(tx: &mut dyn Tx, employee_id: i64) -> Result<Vec<Order>> {
    let sql = format!(
        "{} WHERE o.employee_id = ? AND o.viewed_at IS NULL AND o.delivery = 'electronic' ORDER BY o.id",
        *ORDER_FROM
    );
    crate::db::rows(tx.query(&sql, &[Value::Int(employee_id)])?, Order::from_row)
}

/// Every order of a person, latest rating year first, each year by approval date.
pub(crate) fn history_of(tx: &mut dyn Tx, employee_id: i64) -> Result<Vec<Order>> {
    let sql = format!(
        "{} WHERE o.employee_id = ? ORDER BY o.rating_year DESC, o.approved_on, o.id",
        *ORDER_FROM
    );
    crate::db::rows(tx.query(&sql, &[Value::Int(employee_id)])?, Order::from_row)
}

/// A page of the electronic orders an agency issued that their people have not signed for,
/// in order of issuance: at most `limit` from `offset`, with how many there are in all.
pub(crate) fn unsigned_in(tx: &mut dyn Tx, agency_code: &str, offset: u64, limit: u32) -> Result<(Vec<Order>, u64)> {
    const WHERE: &str = "WHERE o.agency_code = ? AND o.viewed_at IS NULL AND o.delivery = 'electronic'";
    let sql = format!("{} {WHERE} ORDER BY o.issued_at, o.id LIMIT ? OFFSET ?", *ORDER_FROM);
    let rows = tx.query(
        &sql,
        &[
            Value::from(agency_code),
            Value::Int(i64::from(limit)),
            Value::Int(offset as i64),
        ],
    )?;
    let total = tx.query_int(
        &format!("SELECT COUNT(*) FROM award_orders o {WHERE}"),
        &[Value::from(agency_code)],
    )?;
    Ok((crate::db::rows(rows, Order::from_row)?, total as u64))
}

/// The employee an order is for, if the order exists.
pub(crate) fn owner(tx: &mut dyn Tx, id: i64) -> Result<Option<i64>> {
    let rows = tx.query("SELECT employee_id FROM award_orders WHERE id = ?", &[Value::Int(id)])?;
    crate::db::first(rows)
}

/// Signs for an electronic order at `now_ms`; `false` if it was signed for already or goes on
/// paper.
pub(crate) fn mark_viewed(tx: &mut dyn Tx, id: i64, now_ms: i64) -> Result<bool> {
    let n = tx.execute(
        "UPDATE award_orders SET viewed_at = ? WHERE id = ? AND viewed_at IS NULL AND delivery = 'electronic'",
        &[Value::Int(now_ms), Value::Int(id)],
    )?;
    Ok(n > 0)
}

crate::db::row! {
    /// What issuing an order needs of its person: who they are now, and what the delivery rule
    /// asks (in office, consented, e-mail address).
    pub(crate) struct Person {
        pub id: i64 = "e.id",
        pub name: String = "e.name",
        /// Their unit's name; `None` without a unit.
        pub unit: Option<String> = "u.name",
        pub title: String = "e.title",
        /// `current` or `left`.
        pub status: String = "e.status",
        /// The highest reward the texts they agreed to cover (`consent_versions.covers_rank`);
        /// `None`: they have not consented.
        pub consent_covers: Option<i64> = "(SELECT MAX(v.covers_rank) FROM consent_agreements ca
             JOIN consent_versions v ON v.version = ca.text_version WHERE ca.employee_id = e.id)",
        pub email: Option<Email> = "e.email",
        /// The national ID as stored: the key bulk issuance finds people by.
        pub national_id: String = "e.national_id",
    }
}

/// People with their unit and consent, for a `WHERE` to follow.
static PERSON_FROM: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM employees e LEFT JOIN units u ON u.id = e.unit_id",
        Person::COLUMNS
    )
});

/// The person of the agency `agency_code` with the national ID `id`, if there is one.
pub(crate) fn person_in(tx: &mut dyn Tx, id: &NationalId, agency_code: &str) -> Result<Option<Person>> {
    let sql = format!("{} WHERE e.national_id = ? AND e.agency_code = ?", *PERSON_FROM);
    tx.query_opt(&sql, &[Value::from(id.reveal()), Value::from(agency_code)])?
        .map(Person::from_row)
        .transpose()
}

/// Everyone of the agency `agency_code`, in one query (bulk issuance looks them up in memory).
pub(crate) fn people_of(tx: &mut dyn Tx, agency_code: &str) -> Result<Vec<Person>> {
    let rows = tx.query(
        &format!("{} WHERE e.agency_code = ?", *PERSON_FROM),
        &[Value::from(agency_code)],
    )?;
    crate::db::rows(rows, Person::from_row)
}

/// A new order's row, as [`insert`] and [`insert_many`] write it.
pub(crate) struct NewOrder<'a> {
    pub employee_id: i64,
    /// The issuing officer's agency.
    pub agency_code: &'a str,
    pub approving_agency: &'a str,
    pub approved_on: RocDate,
    pub document_number: &'a str,
    /// The person's name, unit and title at issuance.
    pub person_name: &'a str,
    pub unit_name: &'a str,
    pub title: &'a str,
    pub reason: &'a str,
    pub legal_basis: &'a str,
    /// An `AwardKind`'s stable name.
    pub kind: &'a str,
    pub count: u8,
    pub special: bool,
    pub rating_year: i32,
    /// `electronic` or `paper`.
    pub delivery: &'a str,
    /// A `PaperReason`'s stable name, for a paper order.
    pub paper_reason: Option<&'a str>,
    /// The issuing officer.
    pub issued_by: i64,
    pub issued_at_ms: i64,
}

/// The columns of a new order, in the order [`NewOrder::values`] gives them.
const NEW_ORDER_COLUMNS: &str = "employee_id, agency_code, approving_agency, approved_on, document_number, person_name, \
     unit_name, title, reason, legal_basis, kind, count, special, rating_year, delivery, paper_reason, issued_by, issued_at";

/// How many [`NEW_ORDER_COLUMNS`] there are.
const NEW_ORDER_WIDTH: usize = 18;

/// One order's `INSERT`, written once (bulk issuance on SQLite runs it for every order).
static INSERT_ONE_ORDER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO award_orders ({NEW_ORDER_COLUMNS}) VALUES {} ON CONFLICT (document_number, employee_id) DO NOTHING",
        values_rows(1, NEW_ORDER_WIDTH)
    )
});

impl<'a> NewOrder<'a> {
    /// The values of [`NEW_ORDER_COLUMNS`].
    fn values(&self) -> [Value<'a>; NEW_ORDER_WIDTH] {
        [
            Value::Int(self.employee_id),
            Value::from(self.agency_code),
            Value::from(self.approving_agency),
            Value::from(self.approved_on.to_iso()),
            Value::from(self.document_number),
            Value::from(self.person_name),
            Value::from(self.unit_name),
            Value::from(self.title),
            Value::from(self.reason),
            Value::from(self.legal_basis),
            Value::from(self.kind),
            Value::Int(i64::from(self.count)),
            Value::from(self.special),
            Value::Int(i64::from(self.rating_year)),
            Value::from(self.delivery),
            Value::from(self.paper_reason),
            Value::Int(self.issued_by),
            Value::Int(self.issued_at_ms),
        ]
    }
}

/// Inserts one order; its number, or `None` if the person already has an order with this
/// document number.
pub(crate) fn insert(tx: &mut dyn Tx, order: &NewOrder<'_>) -> Result<Option<i64>> {
    tx.insert_id(&INSERT_ONE_ORDER, &order.values())
}

/// Inserts `orders` in one statement (at most [`BATCH_ROWS`](crate::store::BATCH_ROWS) of them);
/// returns the number of each order inserted by (document number, employee). An order the person
/// already had is not inserted and is missing from the map.
pub(crate) fn insert_many(tx: &mut dyn Tx, orders: &[NewOrder<'_>]) -> Result<HashMap<(String, i64), i64>> {
    let sql = format!(
        "INSERT INTO award_orders ({NEW_ORDER_COLUMNS}) VALUES {}
             ON CONFLICT (document_number, employee_id) DO NOTHING RETURNING {}",
        values_rows(orders.len(), NEW_ORDER_WIDTH),
        Inserted::COLUMNS
    );
    let params: Vec<Value<'_>> = orders.iter().flat_map(NewOrder::values).collect();
    let mut ids = HashMap::with_capacity(orders.len());
    for r in tx.query(&sql, &params)? {
        let r = Inserted::from_row(r)?;
        ids.insert((r.document_number, r.employee_id), r.id);
    }
    Ok(ids)
}

crate::db::row! {
    /// What a multi-row insert returns of each order it inserted.
    struct Inserted {
        id: i64 = "id",
        document_number: String = "document_number",
        employee_id: i64 = "employee_id",
    }
}

crate::db::row! {
    /// One agreement of a person to a consent text.
    pub(crate) struct Consent {
        pub text_version: String = "ca.text_version",
        pub agreed_at: OffsetDateTime = "ca.agreed_at",
        /// A `LoginMethod`'s stable name.
        pub login_method: String = "ca.login_method",
        /// What the text covers (`consent_versions.covers_rank`).
        pub covers_rank: i64 = "v.covers_rank",
    }
}

/// The agreements of the employee `employee_id`, oldest first (empty: not consented).
pub(crate) fn consents(tx: &mut dyn Tx, employee_id: i64) -> Result<Vec<Consent>> {
    let sql = format!(
        "SELECT {} FROM consent_agreements ca JOIN consent_versions v ON v.version = ca.text_version
         WHERE ca.employee_id = ? ORDER BY ca.agreed_at, v.covers_rank",
        Consent::COLUMNS
    );
    crate::db::rows(tx.query(&sql, &[Value::Int(employee_id)])?, Consent::from_row)
}

/// Whether the employee `employee_id` has consented.
pub(crate) fn has_consented(tx: &mut dyn Tx, employee_id: i64) -> Result<bool> {
    let row = tx.query_opt(
        "SELECT 1 FROM consent_agreements WHERE employee_id = ?",
        &[Value::Int(employee_id)],
    )?;
    Ok(row.is_some())
}

/// Records the agreement of the employee `employee_id` to the text `version`, given at
/// `now_ms` with the login `login_method`.
pub(crate) fn give_consent(
    tx: &mut dyn Tx,
    employee_id: i64,
    version: &str,
    now_ms: i64,
    login_method: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO consent_agreements (employee_id, text_version, agreed_at, login_method) VALUES (?, ?, ?, ?)",
        &[
            Value::Int(employee_id),
            Value::from(version),
            Value::Int(now_ms),
            Value::from(login_method),
        ],
    )
    .map(drop)
}

crate::db::row! {
    /// A consent text.
    pub(crate) struct ConsentVersion {
        pub version: String = "version",
        /// ISO date.
        pub effective_from: String = "effective_from",
        pub covers_rank: i64 = "covers_rank",
        pub draft: bool = "draft",
        pub text_zh: String = "text_zh",
        pub text_en: String = "text_en",
    }
}

/// Every consent text, in the order they take over: by the day they take effect, a draft
/// before an official text of the same day, then as added.
pub(crate) fn consent_versions(tx: &mut dyn Tx) -> Result<Vec<ConsentVersion>> {
    let sql = format!(
        "SELECT {} FROM consent_versions ORDER BY effective_from, draft DESC, added_at, version",
        ConsentVersion::COLUMNS
    );
    crate::db::rows(tx.query(&sql, &[])?, ConsentVersion::from_row)
}

/// A new consent text as [`add_consent_version`] writes it.
pub(crate) struct NewConsentVersion<'a> {
    pub version: &'a str,
    pub effective_from: &'a str,
    pub covers: &'a str,
    pub covers_rank: i64,
    pub draft: bool,
    pub text_zh: &'a str,
    pub text_en: &'a str,
    /// Where it came from: `built-in`, or the file an operator loaded it from.
    pub source: &'a str,
    pub added_ms: i64,
}

/// Adds a consent text; `false` if its version is taken.
pub(crate) fn add_consent_version(tx: &mut dyn Tx, v: &NewConsentVersion<'_>) -> Result<bool> {
    if tx
        .query_opt(
            "SELECT 1 FROM consent_versions WHERE version = ?",
            &[Value::from(v.version)],
        )?
        .is_some()
    {
        return Ok(false);
    }
    tx.execute(
        "INSERT INTO consent_versions (version, effective_from, covers, covers_rank, draft, text_zh, text_en, source, added_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            Value::from(v.version),
            Value::from(v.effective_from),
            Value::from(v.covers),
            Value::Int(v.covers_rank),
            Value::Int(i64::from(v.draft)),
            Value::from(v.text_zh),
            Value::from(v.text_en),
            Value::from(v.source),
            Value::Int(v.added_ms),
        ],
    )?;
    Ok(true)
}
