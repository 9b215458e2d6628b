//! Award orders (獎懲令): issuance by personnel officers, electronic or paper delivery, the
//! notification mail, signing for an order by viewing it, and the yearly history.
//!
//! The delivery rule lives in one place, [`DeliveryPolicy::decide`]: an order goes
//! electronically only if it is a reward at or below the ceiling in force on its approval date
//! (記功 from 2019-07-01, 記大功 from 2024-01-01; punishments never), the person has consented
//! to a text that covers its kind, is still in office and has an e-mail address. Otherwise it goes on paper, and the order says
//! why. An electronic order's notification mail is queued in the outbox in the same transaction
//! as the order, so there is never an order without its mail or a mail without its order.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::{Date, Month};

use super::apps::{PROOFING_SITE, caller_for, read_for};
use super::auth::{Caller, SessionToken};
use super::consent;
use super::env::millis;
use super::local::LocalPortal;
use super::paging::{Page, PageRequest};
use crate::db::audit::Touched;
use crate::db::orders;
use crate::db::outbox::{OutboxBatch, enqueue};
use crate::error::{Error, ErrorCode, Result};
use crate::store::{Dialect, StoreExt, Tx, for_batches};
use crate::types::text::text_field;
use crate::types::{DocumentNumber, Email, Lang, NationalId, RocDate, RocDateTime};

/// The six kinds of reward and punishment. Three of one make one of the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum AwardKind {
    /// 嘉獎.
    Commendation,
    /// 記功.
    Merit,
    /// 記大功.
    MajorMerit,
    /// 申誡.
    Reprimand,
    /// 記過.
    Demerit,
    /// 記大過.
    MajorDemerit,
}

impl AwardKind {
    /// Every kind, rewards first, each side from the smallest.
    pub const ALL: [AwardKind; 6] = [
        AwardKind::Commendation,
        AwardKind::Merit,
        AwardKind::MajorMerit,
        AwardKind::Reprimand,
        AwardKind::Demerit,
        AwardKind::MajorDemerit,
    ];

    /// Whether it is a reward (獎) rather than a punishment (懲).
    pub fn is_reward(self) -> bool {
        matches!(self, AwardKind::Commendation | AwardKind::Merit | AwardKind::MajorMerit)
    }

    /// Its weight in the smallest unit of its side (嘉獎 or 申誡): 1, 3 or 9.
    pub fn units(self) -> u32 {
        match self {
            AwardKind::Commendation | AwardKind::Reprimand => 1,
            AwardKind::Merit | AwardKind::Demerit => 3,
            AwardKind::MajorMerit | AwardKind::MajorDemerit => 9,
        }
    }

    /// The stable name stored and sent over the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            AwardKind::Commendation => "commendation",
            AwardKind::Merit => "merit",
            AwardKind::MajorMerit => "major_merit",
            AwardKind::Reprimand => "reprimand",
            AwardKind::Demerit => "demerit",
            AwardKind::MajorDemerit => "major_demerit",
        }
    }

    /// The name people read.
    pub fn label(self, lang: Lang) -> &'static str {
        let (zh, en) = match self {
            AwardKind::Commendation => ("嘉獎", "commendation"),
            AwardKind::Merit => ("記功", "merit"),
            AwardKind::MajorMerit => ("記大功", "major merit"),
            AwardKind::Reprimand => ("申誡", "reprimand"),
            AwardKind::Demerit => ("記過", "demerit"),
            AwardKind::MajorDemerit => ("記大過", "major demerit"),
        };
        lang.pick(zh, en)
    }
}

impl FromStr for AwardKind {
    type Err = Error;
    /// Accepts the stable name or the Chinese name (記一大功 too).
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        AwardKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s || k.label(Lang::ZhTw) == s)
            .or(match s {
                "記一大功" => Some(AwardKind::MajorMerit),
                "記一大過" => Some(AwardKind::MajorDemerit),
                _ => None,
            })
            .ok_or_else(|| {
                Error::with(
                    ErrorCode::AwardOrderInvalid,
                    format!("獎懲種類不明：{s}"),
                    format!("unknown kind {s:?}"),
                )
            })
    }
}

impl fmt::Display for AwardKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label(Lang::ZhTw))
    }
}

/// Why an order goes on paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaperReason {
    /// Punishments are never delivered electronically.
    Punishment,
    /// Approved before electronic delivery began (2019-07-01).
    BeforeElectronicDelivery,
    /// Above the ceiling in force on the approval date.
    AboveCeiling,
    /// The person has not consented.
    NotConsented,
    /// The text the person agreed to does not cover the kind (the 2019 text covers 記功以下,
    /// not the 記大功 allowed since 2024): they are offered the newer text.
    ConsentTooNarrow,
    /// The person has no e-mail address on record.
    NoEmail,
    /// The person has left office.
    LeftOffice,
}

impl PaperReason {
    /// The stable name stored and sent over the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            PaperReason::Punishment => "punishment",
            PaperReason::BeforeElectronicDelivery => "before_electronic_delivery",
            PaperReason::AboveCeiling => "above_ceiling",
            PaperReason::NotConsented => "not_consented",
            PaperReason::ConsentTooNarrow => "consent_too_narrow",
            PaperReason::NoEmail => "no_email",
            PaperReason::LeftOffice => "left_office",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        [
            PaperReason::Punishment,
            PaperReason::BeforeElectronicDelivery,
            PaperReason::AboveCeiling,
            PaperReason::NotConsented,
            PaperReason::ConsentTooNarrow,
            PaperReason::NoEmail,
            PaperReason::LeftOffice,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
        .ok_or_else(|| crate::store::corrupt(format!("unknown paper reason {s}")))
    }

    /// Why, in words.
    pub fn label(self, lang: Lang) -> &'static str {
        let (zh, en) = match self {
            PaperReason::Punishment => ("懲處令不適用電子化", "punishments are never delivered electronically"),
            PaperReason::BeforeElectronicDelivery => (
                "核定日期早於獎令電子化實施日",
                "approved before electronic delivery began",
            ),
            PaperReason::AboveCeiling => (
                "超過核定日期當時電子化之獎勵上限",
                "above the electronic-delivery ceiling on the approval date",
            ),
            PaperReason::NotConsented => (
                "當事人尚未同意獎令電子化",
                "the person has not consented to electronic orders",
            ),
            PaperReason::ConsentTooNarrow => (
                "當事人同意之獎令電子化範圍未含此獎勵種類",
                "the consent the person gave does not cover this kind of reward",
            ),
            PaperReason::NoEmail => ("當事人無電子郵件信箱", "the person has no e-mail address on record"),
            PaperReason::LeftOffice => ("當事人已卸職", "the person has left office"),
        };
        lang.pick(zh, en)
    }
}

/// How an order reaches the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case", tag = "delivery", content = "reason")]
pub enum Delivery {
    /// By e-mail notice and the proofing site.
    Electronic,
    /// On paper, for the reason given.
    Paper(PaperReason),
}

/// Which rewards may be delivered electronically, and since when: a history of ceilings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// From each date on, rewards up to that kind may go electronically; sorted by date.
    steps: Vec<(Date, AwardKind)>,
}

impl Default for DeliveryPolicy {
    /// 記功 and below from 2019-07-01 (民國108年7月1日); 記大功 added from 2024-01-01 (民國113年).
    fn default() -> Self {
        let d = |y, m, day| Date::from_calendar_date(y, m, day).unwrap_or(Date::MIN);
        DeliveryPolicy {
            steps: vec![
                (d(2019, Month::July, 1), AwardKind::Merit),
                (d(2024, Month::January, 1), AwardKind::MajorMerit),
            ],
        }
    }
}

impl DeliveryPolicy {
    /// A policy with other steps (a later rule change); each step's kind must be a reward.
    pub fn new(mut steps: Vec<(Date, AwardKind)>) -> Result<Self> {
        if steps.iter().any(|(_, k)| !k.is_reward()) {
            return Err(Error::with(
                ErrorCode::AwardOrderInvalid,
                "電子化上限只能是獎勵種類",
                "a delivery ceiling must be a kind of reward",
            ));
        }
        steps.sort_by_key(|(d, _)| *d);
        Ok(DeliveryPolicy { steps })
    }

    /// The highest reward delivered electronically for orders approved on `date`, if any.
    pub fn ceiling_on(&self, date: RocDate) -> Option<AwardKind> {
        let day = date.to_gregorian();
        self.steps.iter().rev().find(|(from, _)| *from <= day).map(|(_, k)| *k)
    }

    /// The delivery of an order: the one place this rule is decided.
    pub fn decide(&self, kind: AwardKind, approved_on: RocDate, person: &Recipient) -> Delivery {
        if !kind.is_reward() {
            return Delivery::Paper(PaperReason::Punishment);
        }
        match self.ceiling_on(approved_on) {
            None => return Delivery::Paper(PaperReason::BeforeElectronicDelivery),
            Some(ceiling) if kind > ceiling => return Delivery::Paper(PaperReason::AboveCeiling),
            Some(_) => {}
        }
        if !person.current {
            Delivery::Paper(PaperReason::LeftOffice)
        } else if person.consent_covers.is_none() {
            Delivery::Paper(PaperReason::NotConsented)
        } else if person.consent_covers.is_some_and(|covers| kind > covers) {
            Delivery::Paper(PaperReason::ConsentTooNarrow)
        } else if person.email.is_none() {
            Delivery::Paper(PaperReason::NoEmail)
        } else {
            Delivery::Electronic
        }
    }
}

/// What the delivery rule needs to know of the person.
#[derive(Debug, Clone)]
pub struct Recipient {
    /// Still in office.
    pub current: bool,
    /// The highest reward the consent texts they agreed to cover; `None`: not consented.
    pub consent_covers: Option<AwardKind>,
    /// Where the notice goes.
    pub email: Option<Email>,
}

/// An order as a personnel officer enters it.
#[derive(Debug, Clone)]
pub struct NewAwardOrder {
    /// The person.
    pub national_id: NationalId,
    /// The approving agency's name (核定機關), e.g. 臺北市政府勞動局.
    pub approving_agency: String,
    /// The approval date (核定日期).
    pub approved_on: RocDate,
    /// The document number (發文字號).
    pub document_number: DocumentNumber,
    /// The reason (事由).
    pub reason: String,
    /// The legal basis (法令依據), e.g. 公務人員考績法第12條、同法施行細則第13條.
    pub legal_basis: String,
    /// The kind.
    pub kind: AwardKind,
    /// How many (一次 or 二次).
    pub count: u8,
    /// A special-case (專案) order, which is not offset against others.
    pub special: bool,
    /// The rating year (考績年度, ROC) it counts for.
    pub rating_year: i32,
}

struct CheckedOrder<'a> {
    order: &'a NewAwardOrder,
    approving_agency: String,
    reason: String,
    legal_basis: String,
}

fn check(order: &NewAwardOrder, today: RocDate) -> Result<CheckedOrder<'_>> {
    let bad = |zh: String, en: String| Error::with(ErrorCode::AwardOrderInvalid, zh, en);
    if !(1..=2).contains(&order.count) {
        return Err(bad(
            format!("次數應為 1 或 2，不是 {}", order.count),
            format!("count must be 1 or 2, not {}", order.count),
        ));
    }
    if order.approved_on > today {
        return Err(bad(
            format!("核定日期 {} 晚於今天", order.approved_on),
            format!("approval date {} is in the future", order.approved_on.to_iso()),
        ));
    }
    if order.rating_year < 1 || order.rating_year > order.approved_on.roc_year() {
        return Err(bad(
            format!(
                "考績年度 {} 應在核定年度 {} 以前",
                order.rating_year,
                order.approved_on.roc_year()
            ),
            format!(
                "rating year {} must not be after the approval year {}",
                order.rating_year,
                order.approved_on.roc_year()
            ),
        ));
    }
    Ok(CheckedOrder {
        order,
        approving_agency: text_field("核定機關 approving agency", &order.approving_agency, 100)?,
        reason: text_field("事由 reason", &order.reason, 500)?,
        legal_basis: text_field("法令依據 legal basis", &order.legal_basis, 300)?,
    })
}

/// Reads award orders from CSV, the form agencies prepare bulk batches in.
///
/// Columns (header row; any order; extra columns ignored): `national_id, approving_agency,
/// approved_on` (ROC date), `document_number, reason, legal_basis, kind` (嘉獎 … 記大過 or the
/// stable names), `count`, and optionally `special` (`Y`/`是` for 專案) and `rating_year` (ROC;
/// default: the approval year). Every line is checked; the error lists the bad lines.
pub fn read_orders_csv(input: impl std::io::Read) -> Result<Vec<NewAwardOrder>> {
    let required = [
        "national_id",
        "approving_agency",
        "approved_on",
        "document_number",
        "reason",
        "legal_basis",
        "kind",
        "count",
    ];
    let number = |what: &str, zh: &str, en: &str| {
        Error::with(
            ErrorCode::AwardOrderInvalid,
            format!("{zh}「{what}」不是數字"),
            format!("{en} {what:?} is not a number"),
        )
    };
    super::csvfile::columns! {
        /// The columns of an award-order file.
        struct Columns {
            national_id, approving_agency, approved_on, document_number, reason, legal_basis, kind, count,
            special, rating_year,
        }
    }
    let orders = super::csvfile::read(input, &required, |header| {
        let c = Columns::of(header);
        move |r| {
            let approved_on = RocDate::parse(r.get(c.approved_on))?;
            let count = r
                .get(c.count)
                .parse::<u8>()
                .map_err(|_| number(r.get(c.count), "次數", "count"))?;
            let rating_year = match r.get(c.rating_year) {
                "" => approved_on.roc_year(),
                y => y.parse().map_err(|_| number(y, "考績年度", "rating year"))?,
            };
            Ok(NewAwardOrder {
                national_id: NationalId::parse(r.get(c.national_id))?,
                approving_agency: r.get(c.approving_agency).to_owned(),
                approved_on,
                document_number: DocumentNumber::parse(r.get(c.document_number))?,
                reason: r.get(c.reason).to_owned(),
                legal_basis: r.get(c.legal_basis).to_owned(),
                kind: r.get(c.kind).parse()?,
                count,
                special: r.yes(c.special),
                rating_year,
            })
        }
    })?;
    Ok(orders.into_iter().map(|(_, o)| o).collect())
}

/// A summary line of an order: what lists show.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct AwardOrderSummary {
    /// The order's number in this portal.
    pub id: i64,
    /// 發文字號.
    pub document_number: String,
    /// 核定機關.
    pub approving_agency: String,
    /// 核定日期.
    pub approved_on: RocDate,
    /// The kind.
    pub kind: AwardKind,
    /// How many.
    pub count: u8,
    /// 專案 (not offset).
    pub special: bool,
    /// 考績年度 (ROC).
    pub rating_year: i32,
    /// How it was delivered.
    pub delivery: Delivery,
    /// When the person signed for it by viewing it.
    pub viewed_at: Option<RocDateTime>,
}

/// A whole order, as its person (or their officer) reads it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct AwardOrder {
    /// The summary fields.
    #[serde(flatten)]
    pub summary: AwardOrderSummary,
    /// The person's name at issuance.
    pub person_name: String,
    /// The person's national ID, masked.
    pub national_id: String,
    /// The person's unit at issuance.
    pub unit: String,
    /// The person's title at issuance.
    pub title: String,
    /// 事由.
    pub reason: String,
    /// 法令依據.
    pub legal_basis: String,
    /// When it was issued in the portal.
    pub issued_at: RocDateTime,
}

/// The order a stored row holds.
fn order_from(r: orders::Order) -> Result<AwardOrder> {
    let delivery = match r.delivery.as_str() {
        "electronic" => Delivery::Electronic,
        _ => Delivery::Paper(PaperReason::parse(r.paper_reason.as_deref().unwrap_or_default())?),
    };
    let kind = r
        .kind
        .parse()
        .map_err(|e: Error| crate::store::corrupt(format!("kind: {}", e.message(Lang::En))))?;
    Ok(AwardOrder {
        summary: AwardOrderSummary {
            id: r.id,
            document_number: r.document_number,
            approving_agency: r.approving_agency,
            approved_on: r.approved_on,
            kind,
            count: r.count,
            special: r.special,
            rating_year: r.rating_year,
            delivery,
            viewed_at: r.viewed_at.map(Into::into),
        },
        person_name: r.person_name,
        national_id: r.national_id.masked(),
        unit: r.unit_name,
        title: r.title,
        reason: r.reason,
        legal_basis: r.legal_basis,
        issued_at: r.issued_at.into(),
    })
}

/// The summary of the order a stored row holds.
fn summary_from(r: orders::Order) -> Result<AwardOrderSummary> {
    order_from(r).map(|o| o.summary)
}

fn load_order(tx: &mut dyn Tx, id: i64) -> Result<AwardOrder> {
    order_from(orders::by_id(tx, id)?.ok_or_else(|| Error::new(ErrorCode::AwardOrderNotFound))?)
}

/// What the issuing transaction needs of a person, loaded once per person.
struct Person {
    id: i64,
    name: String,
    unit: String,
    title: String,
    recipient: Recipient,
}

impl From<orders::Person> for Person {
    fn from(r: orders::Person) -> Self {
        Person {
            id: r.id,
            name: r.name,
            unit: r.unit.unwrap_or_default(),
            title: r.title,
            recipient: Recipient {
                current: r.status == "current",
                consent_covers: r
                    .consent_covers
                    .and_then(|rank| usize::try_from(rank).ok().and_then(|i| AwardKind::ALL.get(i).copied())),
                email: r.email,
            },
        }
    }
}

/// The notification's subject: 「(核定機關)(核定日期)個人獎勵令通知信(非社交工程演練)」.
pub fn notification_subject(approving_agency: &str, approved_on: RocDate) -> String {
    format!(
        "{approving_agency}{}個人獎勵令通知信(非社交工程演練)",
        approved_on.to_slash()
    )
}

/// The notification's body: the news and where to read it; never the order itself, never an ID.
fn notification_body(p: &LocalPortal, approving_agency: &str, approved_on: RocDate) -> String {
    let url = &p.config.portal_url;
    format!(
        "您好：\n\n{approving_agency}已於{date_zh}核定您的獎勵令。請登入 eCPA 人事服務網（{url}），\
         進入「B5 公務人員個人資料校對網站」的「未檢視獎令」檢視並簽收。\n\n\
         本信由系統自動寄送，非社交工程演練；信中不含獎勵令內容，請勿直接回覆。\n\n\
         ----\n\
         Hello,\n\n{approving_agency} approved an award order for you on {date_iso}. Log in to the eCPA \
         portal ({url}) and open \"B5 personal data proofing site\" > \"unviewed award orders\" to read and \
         sign for it.\n\nThis mail was sent automatically and is not a phishing drill. It does not contain \
         the order; please do not reply.\n",
        date_zh = approved_on.to_zh(),
        date_iso = approved_on.to_iso(),
    )
}

/// The row of one checked order and its delivery.
fn new_order<'a>(
    c: &'a Caller,
    o: &'a CheckedOrder<'_>,
    person: &'a Person,
    delivery: Delivery,
    now: i64,
) -> orders::NewOrder<'a> {
    let order = o.order;
    let (delivery_str, paper_reason) = match delivery {
        Delivery::Electronic => ("electronic", None),
        Delivery::Paper(r) => ("paper", Some(r.as_str())),
    };
    orders::NewOrder {
        employee_id: person.id,
        agency_code: c.agency_code.as_str(),
        approving_agency: o.approving_agency.as_str(),
        approved_on: order.approved_on,
        document_number: order.document_number.as_str(),
        person_name: person.name.as_str(),
        unit_name: person.unit.as_str(),
        title: person.title.as_str(),
        reason: o.reason.as_str(),
        legal_basis: o.legal_basis.as_str(),
        kind: order.kind.as_str(),
        count: order.count,
        special: order.special,
        rating_year: order.rating_year,
        delivery: delivery_str,
        paper_reason,
        issued_by: c.employee_id,
        issued_at_ms: now,
    }
}

/// Inserts one checked order (and its mail, if electronic); `None` if the person already has
/// an order with this document number.
fn insert_order(
    p: &LocalPortal,
    tx: &mut dyn Tx,
    c: &Caller,
    o: &CheckedOrder<'_>,
    person: &Person,
    now: i64,
) -> Result<Option<(i64, Delivery)>> {
    let order = o.order;
    let delivery = p
        .config
        .delivery_policy
        .decide(order.kind, order.approved_on, &person.recipient);
    let id = orders::insert(tx, &new_order(c, o, person, delivery, now))?;
    let Some(id) = id else {
        return Ok(None);
    };
    if let (Delivery::Electronic, Some(email)) = (delivery, &person.recipient.email) {
        enqueue(
            tx,
            now,
            email.as_str(),
            &notification_subject(&o.approving_agency, order.approved_on),
            &notification_body(p, &o.approving_agency, order.approved_on),
            "award_notice",
            Some(id),
        )?;
    }
    Ok(Some((id, delivery)))
}

/// Inserts checked orders and the mails of the electronic ones, [`BATCH_ROWS`](crate::store::BATCH_ROWS)
/// rows per statement (on PostgreSQL, where each statement is a network round trip); returns each order's number and delivery, in input order. An order the
/// person already has (same document number) is [`ErrorCode::AwardOrderDuplicate`] with its
/// position, as one statement per order would have found it first. The orders of `rows` must
/// not repeat each other (the caller checks).
fn insert_orders(
    p: &LocalPortal,
    tx: &mut dyn Tx,
    c: &Caller,
    rows: &[(&CheckedOrder<'_>, &Person)],
    now: i64,
) -> Result<Vec<(i64, Delivery)>> {
    let mut issued = Vec::with_capacity(rows.len());
    let mut mails = OutboxBatch::default();
    for_batches(rows, |chunk| {
        let mut deliveries = Vec::with_capacity(chunk.len());
        let mut new = Vec::with_capacity(chunk.len());
        for (o, person) in chunk {
            let delivery = p
                .config
                .delivery_policy
                .decide(o.order.kind, o.order.approved_on, &person.recipient);
            deliveries.push(delivery);
            new.push(new_order(c, o, person, delivery, now));
        }
        let ids = orders::insert_many(tx, &new)?;
        for (((o, person), delivery), at) in chunk.iter().zip(deliveries).zip(issued.len()..) {
            let key = (o.order.document_number.as_str().to_owned(), person.id);
            let id = ids.get(&key).copied().ok_or_else(|| duplicate(o.order, Some(at)))?;
            if let (Delivery::Electronic, Some(email)) = (delivery, &person.recipient.email) {
                let approved_on = o.order.approved_on;
                mails.push(
                    now,
                    email.as_str(),
                    notification_subject(&o.approving_agency, approved_on),
                    notification_body(p, &o.approving_agency, approved_on),
                    "award_notice",
                    id,
                );
            }
            issued.push((id, delivery));
        }
        mails.write_full(tx)
    })?;
    mails.finish(tx)?;
    Ok(issued)
}

fn duplicate(order: &NewAwardOrder, row: Option<usize>) -> Error {
    let at = row
        .map(|r| (format!("第 {} 筆：", r + 1), format!("order {}: ", r + 1)))
        .unwrap_or_default();
    Error::with(
        ErrorCode::AwardOrderDuplicate,
        format!("{}{}（{}）", at.0, order.document_number, order.national_id.masked()),
        format!("{}{} ({})", at.1, order.document_number, order.national_id.masked()),
    )
}

fn not_in_agency(order: &NewAwardOrder) -> Error {
    Error::with(
        ErrorCode::EmployeeNotInAgency,
        order.national_id.masked(),
        order.national_id.masked(),
    )
}

/// The audit detail of an act an officer did for themself, as `allow_self_approval` lets them.
pub(crate) const SELF_APPROVAL: &str = "self-approval (portal.allow_self_approval)";

/// Whether the officer `c` acts on their own behalf for `subject`: refused unless the portal
/// allows it, in which case the act is marked in the audit trail.
pub(crate) fn self_approval(p: &LocalPortal, c: &Caller, subject: i64) -> Result<bool> {
    if subject != c.employee_id {
        return Ok(false);
    }
    if p.config.allow_self_approval {
        Ok(true)
    } else {
        Err(Error::new(ErrorCode::SelfApprovalRefused))
    }
}

pub(crate) fn issue_one(p: &LocalPortal, token: &SessionToken, order: &NewAwardOrder) -> Result<AwardOrder> {
    let c = caller_for(p, token, PROOFING_SITE)?;
    c.officer_agency()?;
    let now_t = p.now();
    let checked = check(order, RocDate::today_in_taiwan(now_t))?;
    let now = millis(now_t);
    p.store.write(|tx| {
        let person: Person = orders::person_in(tx, &order.national_id, &c.agency_code)?
            .ok_or_else(|| not_in_agency(order))?
            .into();
        let own = self_approval(p, &c, person.id)?;
        let (id, _) = insert_order(p, tx, &c, &checked, &person, now)?.ok_or_else(|| duplicate(order, None))?;
        crate::db::audit::record(
            tx,
            now,
            Some(c.employee_id),
            "award.issue",
            Some(person.id),
            Some(&format!("award_order:{id}")),
            own.then_some(SELF_APPROVAL),
        )?;
        load_order(tx, id)
    })
}

/// What a bulk issuance did.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct BulkIssueReport {
    /// Orders issued.
    pub issued: usize,
    /// Of which delivered electronically (one mail each).
    pub electronic: usize,
    /// Of which on paper.
    pub paper: usize,
    /// Each order's number and delivery, in input order.
    pub orders: Vec<(i64, Delivery)>,
}

pub(crate) fn issue_many(
    p: &LocalPortal,
    token: &SessionToken,
    new_orders: &[NewAwardOrder],
) -> Result<BulkIssueReport> {
    let c = caller_for(p, token, PROOFING_SITE)?;
    c.officer_agency()?;
    let now_t = p.now();
    let today = RocDate::today_in_taiwan(now_t);
    let checked = new_orders
        .iter()
        .enumerate()
        .map(|(i, o)| {
            check(o, today).map_err(|e| {
                let d = e.detail().cloned().unwrap_or_else(|| crate::error::Text::new("", ""));
                Error::with(
                    e.code(),
                    format!("第 {} 筆：{}", i + 1, d.zh),
                    format!("order {}: {}", i + 1, d.en),
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let now = millis(now_t);
    p.store.write(|tx| {
        // One query for the whole agency instead of one per order.
        let mut people: HashMap<String, Person> = HashMap::new();
        for mut r in orders::people_of(tx, &c.agency_code)? {
            people.insert(std::mem::take(&mut r.national_id), r.into());
        }
        // Who each order is for, in input order. The first order for no one of the agency, or
        // repeating an earlier order of the batch, ends the batch there: it is the error unless
        // an order before it turns out to repeat one already stored.
        let mut resolved: Vec<(&CheckedOrder<'_>, &Person)> = Vec::with_capacity(checked.len());
        let mut keys: HashSet<(&str, i64)> = HashSet::with_capacity(checked.len());
        let mut stop = None;
        let mut own = 0;
        for (i, o) in checked.iter().enumerate() {
            let Some(person) = people.get(o.order.national_id.reveal()) else {
                stop = Some(not_in_agency(o.order));
                break;
            };
            match self_approval(p, &c, person.id) {
                Ok(mine) => own += usize::from(mine),
                Err(e) => {
                    stop = Some(e);
                    break;
                }
            }
            if !keys.insert((o.order.document_number.as_str(), person.id)) {
                stop = Some(duplicate(o.order, Some(i)));
                break;
            }
            resolved.push((o, person));
        }
        let issued = match p.store.dialect() {
            Dialect::Postgres => insert_orders(p, tx, &c, &resolved, now)?,
            // Measured (benches/awards.rs, 100,000 orders): multi-row statements made SQLite
            // about 30% slower than one cached statement per order, which costs it no round
            // trip; so SQLite keeps those. The outcome is the same either way.
            Dialect::Sqlite => {
                let mut issued = Vec::with_capacity(resolved.len());
                for (i, (o, person)) in resolved.iter().enumerate() {
                    let done = insert_order(p, tx, &c, o, person, now)?;
                    issued.push(done.ok_or_else(|| duplicate(o.order, Some(i)))?);
                }
                issued
            }
        };
        if let Some(e) = stop {
            return Err(e);
        }
        let mut report = BulkIssueReport {
            issued: 0,
            electronic: 0,
            paper: 0,
            orders: issued,
        };
        for (_, delivery) in &report.orders {
            match delivery {
                Delivery::Electronic => report.electronic += 1,
                Delivery::Paper(_) => report.paper += 1,
            }
        }
        report.issued = report.orders.len();
        let detail = match own {
            0 => format!("{} orders", report.issued),
            n => format!("{} orders, {n} to the officer: {SELF_APPROVAL}", report.issued),
        };
        crate::db::audit::record(
            tx,
            now,
            Some(c.employee_id),
            "award.bulk_issue",
            None,
            None,
            Some(&detail),
        )?;
        // And one row per order, for its person: their trail shows the order they were given.
        let touched: Vec<_> = resolved
            .iter()
            .zip(&report.orders)
            .map(|((_, person), (id, _))| Touched {
                subject: person.id,
                agency_code: &c.agency_code,
                object: Some(format!("award_order:{id}")),
                detail: Some("bulk".to_owned()),
            })
            .collect();
        crate::db::audit::record_many(tx, now, c.employee_id, "award.issue", &touched)?;
        Ok(report)
    })
}

pub(crate) fn unviewed(p: &LocalPortal, token: &SessionToken) -> Result<Vec<AwardOrderSummary>> {
    read_for(p, token, PROOFING_SITE, |tx, c| {
        consent::require(tx, c.employee_id)?;
        orders::unviewed_of(tx, c.employee_id)?
            .into_iter()
            .map(summary_from)
            .collect()
    })
}

pub(crate) fn view(p: &LocalPortal, token: &SessionToken, id: i64) -> Result<AwardOrder> {
    let c = caller_for(p, token, PROOFING_SITE)?;
    let now = millis(p.now());
    p.store.write(|tx| {
        consent::require(tx, c.employee_id)?;
        // Someone else's order is "not found", not "forbidden": its existence is not the caller's business.
        if orders::owner(tx, id)? != Some(c.employee_id) {
            return Err(Error::new(ErrorCode::AwardOrderNotFound));
        }
        if orders::mark_viewed(tx, id, now)? {
            crate::db::audit::record(
                tx,
                now,
                Some(c.employee_id),
                "award.sign",
                Some(c.employee_id),
                Some(&format!("award_order:{id}")),
                None,
            )?;
        }
        load_order(tx, id)
    })
}

/// Counts on one side (rewards or punishments), in canonical form after 3:1 conversion.
/// For rewards: 記大功, 記功, 嘉獎; for punishments: 記大過, 記過, 申誡.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct Tally {
    /// 記大功 / 記大過.
    pub major: u32,
    /// 記功 / 記過.
    pub middle: u32,
    /// 嘉獎 / 申誡.
    pub minor: u32,
}

impl Tally {
    /// The canonical form of a count of smallest units: three of one make one of the next.
    pub fn from_units(units: u32) -> Tally {
        Tally {
            major: units / 9,
            middle: units % 9 / 3,
            minor: units % 3,
        }
    }

    /// Back to smallest units.
    pub fn units(self) -> u32 {
        self.major * 9 + self.middle * 3 + self.minor
    }

    /// In words, e.g. 「記功1次、嘉獎2次」; empty for nothing.
    pub fn describe(self, reward: bool, lang: Lang) -> String {
        let kinds = if reward {
            [AwardKind::MajorMerit, AwardKind::Merit, AwardKind::Commendation]
        } else {
            [AwardKind::MajorDemerit, AwardKind::Demerit, AwardKind::Reprimand]
        };
        let parts: Vec<String> = kinds
            .iter()
            .zip([self.major, self.middle, self.minor])
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| match lang {
                Lang::ZhTw => format!("{}{n}次", k.label(lang)),
                Lang::En => format!("{n} × {}", k.label(lang)),
            })
            .collect();
        parts.join(lang.pick("、", ", "))
    }
}

/// One rating year of a person's rewards and punishments.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct YearlyAwards {
    /// 考績年度 (ROC).
    pub rating_year: i32,
    /// Every order of the year.
    pub orders: Vec<AwardOrderSummary>,
    /// Ordinary (平時) rewards, converted 3:1.
    pub ordinary_rewards: Tally,
    /// Ordinary punishments, converted 3:1.
    pub ordinary_punishments: Tally,
    /// Ordinary rewards and punishments after offsetting (功過相抵): what remains on which side.
    pub net_reward: Tally,
    /// What remains on the punishment side after offsetting.
    pub net_punishment: Tally,
    /// Special-case (專案) rewards, converted but not offset.
    pub special_rewards: Tally,
    /// Special-case punishments, converted but not offset.
    pub special_punishments: Tally,
}

/// The year's tallies from its orders: the one place conversion and offsetting are computed.
pub fn tally_year(rating_year: i32, orders: Vec<AwardOrderSummary>) -> YearlyAwards {
    let sum = |reward: bool, special: bool| -> u32 {
        orders
            .iter()
            .filter(|o| o.kind.is_reward() == reward && o.special == special)
            .map(|o| o.kind.units() * u32::from(o.count))
            .sum()
    };
    let (rewards, punishments) = (sum(true, false), sum(false, false));
    YearlyAwards {
        rating_year,
        ordinary_rewards: Tally::from_units(rewards),
        ordinary_punishments: Tally::from_units(punishments),
        net_reward: Tally::from_units(rewards.saturating_sub(punishments)),
        net_punishment: Tally::from_units(punishments.saturating_sub(rewards)),
        special_rewards: Tally::from_units(sum(true, true)),
        special_punishments: Tally::from_units(sum(false, true)),
        orders,
    }
}

pub(crate) fn history(p: &LocalPortal, token: &SessionToken) -> Result<Vec<YearlyAwards>> {
    let rows = read_for(p, token, PROOFING_SITE, |tx, c| {
        consent::require(tx, c.employee_id)?;
        orders::history_of(tx, c.employee_id)
    })?;
    let mut years: Vec<(i32, Vec<AwardOrderSummary>)> = Vec::new();
    for r in rows {
        let s = summary_from(r)?;
        match years.last_mut() {
            Some((y, list)) if *y == s.rating_year => list.push(s),
            _ => years.push((s.rating_year, vec![s])),
        }
    }
    Ok(years.into_iter().map(|(y, list)| tally_year(y, list)).collect())
}

/// An order its person has not signed for, as the officer's list shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct UnsignedOrder {
    /// The order.
    pub order: AwardOrderSummary,
    /// The person's masked national ID.
    pub national_id: String,
    /// The person's name.
    pub name: String,
    /// The person's unit.
    pub unit: String,
    /// When it was issued.
    pub issued_at: RocDateTime,
}

pub(crate) fn unsigned(p: &LocalPortal, token: &SessionToken, page: PageRequest) -> Result<Page<UnsignedOrder>> {
    page.check()?;
    let c = caller_for(p, token, PROOFING_SITE)?;
    let agency = c.officer_agency()?.to_owned();
    let now = millis(p.now());
    p.store.write(|tx| {
        let (rows, total) = orders::unsigned_in(tx, &agency, page.offset(), page.per_page)?;
        // A read of each person on the page, once however many of their orders it shows.
        let mut seen = HashSet::new();
        let touched: Vec<_> = rows
            .iter()
            .filter(|r| seen.insert(r.employee_id))
            .map(|r| Touched {
                subject: r.employee_id,
                agency_code: &agency,
                object: Some(format!("award_order:{}", r.id)),
                detail: Some(format!("page {}", page.page)),
            })
            .collect();
        crate::db::audit::record_many(tx, now, c.employee_id, "award.unsigned_list", &touched)?;
        let items = rows
            .into_iter()
            .map(|r| {
                let o = order_from(r)?;
                Ok(UnsignedOrder {
                    national_id: o.national_id,
                    name: o.person_name,
                    unit: o.unit,
                    issued_at: o.issued_at,
                    order: o.summary,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::of(page, items, total))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u8, d: u8) -> RocDate {
        RocDate::new(y, m, d).expect("date")
    }

    fn ok_person() -> Recipient {
        Recipient {
            current: true,
            consent_covers: Some(AwardKind::MajorMerit),
            email: Some(Email::parse("a@mail.taipei.gov.tw").expect("email")),
        }
    }

    #[test]
    fn ceiling_history() {
        let p = DeliveryPolicy::default();
        assert_eq!(p.ceiling_on(date(108, 6, 30)), None);
        assert_eq!(p.ceiling_on(date(108, 7, 1)), Some(AwardKind::Merit));
        assert_eq!(p.ceiling_on(date(112, 12, 31)), Some(AwardKind::Merit));
        assert_eq!(p.ceiling_on(date(113, 1, 1)), Some(AwardKind::MajorMerit));
        let person = ok_person();
        assert_eq!(
            p.decide(AwardKind::MajorMerit, date(112, 12, 31), &person),
            Delivery::Paper(PaperReason::AboveCeiling)
        );
        assert_eq!(
            p.decide(AwardKind::MajorMerit, date(113, 1, 1), &person),
            Delivery::Electronic
        );
        assert_eq!(
            p.decide(AwardKind::Commendation, date(108, 6, 30), &person),
            Delivery::Paper(PaperReason::BeforeElectronicDelivery)
        );
        for k in [AwardKind::Reprimand, AwardKind::Demerit, AwardKind::MajorDemerit] {
            assert_eq!(
                p.decide(k, date(114, 1, 1), &person),
                Delivery::Paper(PaperReason::Punishment)
            );
        }
        let no = Recipient {
            consent_covers: None,
            ..ok_person()
        };
        assert_eq!(
            p.decide(AwardKind::Merit, date(114, 1, 1), &no),
            Delivery::Paper(PaperReason::NotConsented)
        );
        // Agreed to the 2019 text only: 記功 goes electronically, 記大功 on paper.
        let narrow = Recipient {
            consent_covers: Some(AwardKind::Merit),
            ..ok_person()
        };
        assert_eq!(
            p.decide(AwardKind::Merit, date(114, 1, 1), &narrow),
            Delivery::Electronic
        );
        assert_eq!(
            p.decide(AwardKind::MajorMerit, date(114, 1, 1), &narrow),
            Delivery::Paper(PaperReason::ConsentTooNarrow)
        );
        let no_mail = Recipient {
            email: None,
            ..ok_person()
        };
        assert_eq!(
            p.decide(AwardKind::Merit, date(114, 1, 1), &no_mail),
            Delivery::Paper(PaperReason::NoEmail)
        );
    }

    #[test]
    fn orders_csv_reads_and_reports_bad_lines() {
        let good = "national_id,approving_agency,approved_on,document_number,reason,legal_basis,kind,count,special\n\
                    A123456789,臺北市政府勞動局,114/05/02,北市勞人字第1146000789號,認真負責,公務人員考績法第12條,嘉獎,2,\n\
                    A123456789,臺北市政府勞動局,114/05/03,北市勞人字第1146000790號,專案,公務人員考績法第12條,major_merit,1,Y\n";
        let orders = read_orders_csv(good.as_bytes()).expect("reads");
        assert_eq!(orders.len(), 2);
        assert_eq!(orders[0].kind, AwardKind::Commendation);
        assert_eq!(orders[0].rating_year, 114);
        assert!(orders[1].special);
        let bad = "national_id,approving_agency,approved_on,document_number,reason,legal_basis,kind,count\n\
                   A123456780,機關,114/05/02,北市勞人字第1號,x,y,嘉獎,1\n\
                   A123456789,機關,114/13/02,北市勞人字第2號,x,y,嘉獎,1\n";
        let e = read_orders_csv(bad.as_bytes()).expect_err("two bad lines");
        assert_eq!(e.code(), ErrorCode::CsvInvalid);
        let msg = e.message(Lang::En);
        assert!(
            msg.contains("2 bad lines") && msg.contains("line 2") && msg.contains("line 3"),
            "{msg}"
        );
    }

    #[test]
    fn tally_converts_and_offsets() {
        let o = |kind, count, special| AwardOrderSummary {
            id: 0,
            document_number: String::new(),
            approving_agency: String::new(),
            approved_on: date(113, 1, 1),
            kind,
            count,
            special,
            rating_year: 113,
            delivery: Delivery::Electronic,
            viewed_at: None,
        };
        // 4 嘉獎 + 1 記功 + 1 記大功 = 4 + 3 + 9 = 16 units; 1 申誡 offsets one: 15 = 1 大功 2 功.
        let y = tally_year(
            113,
            vec![
                o(AwardKind::Commendation, 2, false),
                o(AwardKind::Commendation, 2, false),
                o(AwardKind::Merit, 1, false),
                o(AwardKind::MajorMerit, 1, false),
                o(AwardKind::Reprimand, 1, false),
                o(AwardKind::Demerit, 2, true),
            ],
        );
        assert_eq!(
            y.ordinary_rewards,
            Tally {
                major: 1,
                middle: 2,
                minor: 1
            }
        );
        assert_eq!(
            y.net_reward,
            Tally {
                major: 1,
                middle: 2,
                minor: 0
            }
        );
        assert_eq!(y.net_punishment, Tally::default());
        assert_eq!(
            y.special_punishments,
            Tally {
                major: 0,
                middle: 2,
                minor: 0
            },
            "special ones are not offset"
        );
        assert_eq!(y.net_reward.describe(true, Lang::ZhTw), "記大功1次、記功2次");
    }
}
