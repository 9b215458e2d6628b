//! The frozen result classes, one per result type of the engine, and their conversions. Dates
//! come as `datetime.date` / `datetime.datetime` with a `_roc` twin in the ROC form
//! (`108/04/03`); national IDs come masked, as the engine gives them.

use pyo3::prelude::*;

use super::values::{date, datetime, opt_datetime, record};
use crate::doctor;
use crate::portal::{
    Application, AuditEntry, AwardOrder as RsAwardOrder, AwardOrderSummary as RsSummary, BulkIssueReport as RsBulk,
    ConsentRecord as RsConsentRecord, ConsentText as RsConsentText, Delivery, DeliveryReport as RsDeliveryReport,
    DetailsChange as RsDetailsChange, DirectoryImport as RsDirectoryImport, EmployeeSummary as RsEmployee,
    MaintenanceWindow as RsWindow, Notice as RsNotice, OutboxStats as RsOutboxStats,
    PersonalRecord as RsPersonalRecord, ProofingCorrection as RsCorrection, ProofingQueryRow as RsQueryRow,
    ProofingSubmission as RsSubmission, ReceivedMail, RegistrationReceipt as RsReceipt, RegistrationTerms as RsTerms,
    SessionInfo as RsSessionInfo, SsoIdentity as RsSsoIdentity, StagedCorrection as RsStaged, Tally as RsTally,
    TodoItem as RsTodo, UnsignedOrder as RsUnsigned, YearlyAwards as RsYearly,
};
use crate::types::{Lang, NationalId};

record! {
    /// What `ecpa id check` says of one input: valid or not, and why.
    IdCheck {
        /// The input, masked when it is a valid ID.
        input: String,
        /// Whether it is a valid national ID or resident certificate number.
        valid: bool,
        /// `national`, or the resident-certificate kind, when valid.
        kind: Option<String>,
        /// `male` or `female` when valid.
        sex: Option<String>,
        /// The error code when invalid.
        error_code: Option<u32>,
        /// The error's name when invalid.
        error_name: Option<String>,
    }
}

impl IdCheck {
    pub(crate) fn of(value: &str) -> IdCheck {
        match NationalId::parse(value) {
            Ok(id) => IdCheck {
                input: id.masked(),
                valid: true,
                kind: Some(id.kind().as_str().to_owned()),
                sex: Some(id.sex().as_str().to_owned()),
                error_code: None,
                error_name: None,
            },
            Err(e) => IdCheck {
                input: value.to_owned(),
                valid: false,
                kind: None,
                sex: None,
                error_code: Some(e.code().number()),
                error_name: Some(e.code().name().to_owned()),
            },
        }
    }
}

record! {
    /// Who a session belongs to and how they logged in.
    SessionInfo {
        name: String,
        /// Masked.
        national_id: String,
        agency_code: String,
        agency_name: String,
        /// `nhi_card`, `certificate` or `account`.
        method: String,
        /// `password`, `nhi_card` or `certificate`.
        level: String,
        officer: bool,
        /// Whether the login proved the card was in the reader.
        card_verified: bool,
        /// 登入時間（本次）.
        logged_in_at: Py<PyAny>,
        logged_in_at_roc: String,
        /// 登入時間（上次）, if the person logged in before.
        previous_login_at: Option<Py<PyAny>>,
        previous_login_at_roc: Option<String>,
        expires_at: Py<PyAny>,
        expires_at_roc: String,
    }
}

impl SessionInfo {
    pub(crate) fn new(py: Python<'_>, i: &RsSessionInfo) -> PyResult<Self> {
        Ok(SessionInfo {
            name: i.name.clone(),
            national_id: i.national_id.clone(),
            agency_code: i.agency_code.clone(),
            agency_name: i.agency_name.clone(),
            method: i.method.as_str().to_owned(),
            level: i.level.as_str().to_owned(),
            officer: i.officer,
            card_verified: i.card_verified,
            logged_in_at: datetime(py, i.logged_in_at)?,
            logged_in_at_roc: i.logged_in_at.to_slash(),
            previous_login_at: i.previous_login_at.map(|t| datetime(py, t)).transpose()?,
            previous_login_at_roc: i.previous_login_at.map(|t| t.to_slash()),
            expires_at: datetime(py, i.expires_at)?,
            expires_at_roc: i.expires_at.to_slash(),
        })
    }
}

record! {
    /// Where a registration mail went and until when its link works.
    RegistrationReceipt {
        sent_to: String,
        link_expires_at: Py<PyAny>,
        link_expires_at_roc: String,
        warnings_zh: Vec<String>,
        warnings_en: Vec<String>,
    }
}

impl RegistrationReceipt {
    pub(crate) fn new(py: Python<'_>, r: &RsReceipt) -> PyResult<Self> {
        Ok(RegistrationReceipt {
            sent_to: r.sent_to.clone(),
            link_expires_at: datetime(py, r.link_expires_at)?,
            link_expires_at_roc: r.link_expires_at.to_slash(),
            warnings_zh: r.warnings_zh.clone(),
            warnings_en: r.warnings_en.clone(),
        })
    }
}

record! {
    /// What a step did, as the service tells the person: `kind` is `email_confirmed`
    /// (「已完成電子信箱認證」), `password_changed`, `application_deleted`, `details_changed`,
    /// `email_change_sent`, `stop_in_person`, `account_recovery_sent` or
    /// `account_password_changed`.
    Notice {
        kind: String,
        message_zh: String,
        message_en: String,
    }
}

impl Notice {
    pub(crate) fn new(n: &RsNotice) -> Self {
        Notice {
            kind: n.kind.as_str().to_owned(),
            message_zh: n.message_zh.clone(),
            message_en: n.message_en.clone(),
        }
    }
}

record! {
    /// An announced maintenance window of the registration service.
    MaintenanceWindow {
        id: i64,
        start: Py<PyAny>,
        end: Py<PyAny>,
        start_roc: String,
        end_roc: String,
        announcement_zh: String,
    }
}

impl MaintenanceWindow {
    pub(crate) fn new(py: Python<'_>, w: &RsWindow) -> PyResult<Self> {
        Ok(MaintenanceWindow {
            id: w.id,
            start: datetime(py, w.from)?,
            end: datetime(py, w.to)?,
            start_roc: w.from.to_slash(),
            end_roc: w.to.to_slash(),
            announcement_zh: w.announcement_zh.clone(),
        })
    }
}

/// A single sign-on assertion (a JWT signed by the portal) to post to the application's `url`
/// as the form field `SSO_ASSERTION_FIELD`, before `expires_at`. It is a credential until then:
/// never in `repr`.
#[pyclass(frozen, get_all, module = "ecpa._ecpa")]
pub struct SsoAssertion {
    /// Where to post it.
    pub url: String,
    /// The assertion itself.
    pub token: String,
    pub expires_at: Py<PyAny>,
    pub expires_at_roc: String,
}

#[pymethods]
impl SsoAssertion {
    fn __repr__(&self) -> String {
        format!(
            "SsoAssertion(url={:?}, token=<hidden>, expires_at_roc={:?})",
            self.url, self.expires_at_roc
        )
    }
}

record! {
    /// One entry of the application catalogue, in its group (A, B, D, or X: 非人事總處機關及系統).
    ApplicationEntry {
        code: String,
        name_zh: String,
        name_en: String,
        required_level: String,
        usable: bool,
        added: bool,
        group_code: String,
        group_name_zh: String,
        group_name_en: String,
        /// Where this portal opens it with single sign-on, if anywhere.
        url: Option<String>,
        /// Only when opened, with an address: the assertion to post there.
        sso: Option<Py<SsoAssertion>>,
    }
}

impl ApplicationEntry {
    pub(crate) fn new(py: Python<'_>, a: &Application) -> PyResult<Self> {
        let sso = a
            .sso
            .as_ref()
            .map(|s| -> PyResult<Py<SsoAssertion>> {
                Py::new(
                    py,
                    SsoAssertion {
                        url: s.url.clone(),
                        token: s.token.clone(),
                        expires_at: datetime(py, s.expires_at)?,
                        expires_at_roc: s.expires_at.to_slash(),
                    },
                )
            })
            .transpose()?;
        Ok(ApplicationEntry {
            code: a.code.clone(),
            name_zh: a.name_zh.clone(),
            name_en: a.name_en.clone(),
            required_level: a.required_level.as_str().to_owned(),
            usable: a.usable,
            added: a.added,
            group_code: a.group.code.clone(),
            group_name_zh: a.group.name_zh.clone(),
            group_name_en: a.group.name_en.clone(),
            url: a.url.clone(),
            sso,
        })
    }
}

record! {
    /// What redeeming a single sign-on assertion tells the application: the person's id in it
    /// (`sub`, never the national ID), the application (`aud`), how they logged in and their name.
    SsoIdentity {
        sub: String,
        aud: String,
        /// `password`, `nhi_card` or `certificate`.
        auth_level: String,
        name: String,
        issued_at: Py<PyAny>,
        issued_at_roc: String,
        expires_at: Py<PyAny>,
        expires_at_roc: String,
    }
}

impl SsoIdentity {
    pub(crate) fn new(py: Python<'_>, i: &RsSsoIdentity) -> PyResult<Self> {
        Ok(SsoIdentity {
            sub: i.sub.clone(),
            aud: i.aud.clone(),
            auth_level: i.auth_level.as_str().to_owned(),
            name: i.name.clone(),
            issued_at: datetime(py, i.issued_at)?,
            issued_at_roc: i.issued_at.to_slash(),
            expires_at: datetime(py, i.expires_at)?,
            expires_at_roc: i.expires_at.to_slash(),
        })
    }
}

record! {
    /// The consent text (獎令電子化同意書) and its version.
    ConsentText {
        version: String,
        text_zh: String,
        text_en: String,
        /// The highest reward it covers (`merit`, `major_merit`).
        covers: String,
        effective_from: Py<PyAny>,
        effective_from_roc: String,
        /// A draft standing in for an official text not yet loaded.
        draft: bool,
    }
}

record! {
    /// The registration terms (全民健康保險網路服務註冊管理作業要點) a person accepts with
    /// `accept_zh` before the form; the form carries `version`.
    RegistrationTerms {
        version: String,
        title_zh: String,
        title_en: String,
        amended: String,
        accept_zh: String,
        accept_en: String,
        /// The service's note that a registration is stopped in person.
        stop_in_person: Py<Notice>,
    }
}

impl RegistrationTerms {
    pub(crate) fn new(py: Python<'_>, t: RsTerms) -> PyResult<Self> {
        Ok(RegistrationTerms {
            stop_in_person: Py::new(py, Notice::new(&t.stop_in_person))?,
            version: t.version,
            title_zh: t.title_zh,
            title_en: t.title_en,
            amended: t.amended,
            accept_zh: t.accept_zh,
            accept_en: t.accept_en,
        })
    }
}

record! {
    /// What 基本資料異動 did: whether the phones changed (at once), where the confirmation of a
    /// new e-mail address went (`None`: the address stayed), and what to tell the person.
    DetailsChange {
        phones_changed: bool,
        email_confirmation: Option<Py<RegistrationReceipt>>,
        notice: Py<Notice>,
    }
}

impl DetailsChange {
    pub(crate) fn new(py: Python<'_>, d: &RsDetailsChange) -> PyResult<Self> {
        Ok(DetailsChange {
            phones_changed: d.phones_changed,
            email_confirmation: d
                .email_confirmation
                .as_ref()
                .map(|r| Py::new(py, RegistrationReceipt::new(py, r)?))
                .transpose()?,
            notice: Py::new(py, Notice::new(&d.notice))?,
        })
    }
}

impl ConsentText {
    pub(crate) fn new(py: Python<'_>, t: RsConsentText) -> PyResult<Self> {
        Ok(ConsentText {
            covers: t.covers.as_str().to_owned(),
            effective_from: date(py, t.effective_from)?,
            effective_from_roc: t.effective_from.to_slash(),
            draft: t.draft,
            version: t.version,
            text_zh: t.text_zh,
            text_en: t.text_en,
        })
    }
}

record! {
    /// A consent given: which text (the newest agreed), when, with which login, the highest
    /// reward the agreed texts cover, and the newer text offered when it covers more.
    ConsentRecord {
        text_version: String,
        agreed_at: Py<PyAny>,
        agreed_at_roc: String,
        login_method: String,
        covers: String,
        newer_version: Option<String>,
    }
}

impl ConsentRecord {
    pub(crate) fn new(py: Python<'_>, r: &RsConsentRecord) -> PyResult<Self> {
        Ok(ConsentRecord {
            text_version: r.text_version.clone(),
            agreed_at: datetime(py, r.agreed_at)?,
            agreed_at_roc: r.agreed_at.to_slash(),
            login_method: r.login_method.as_str().to_owned(),
            covers: r.covers.as_str().to_owned(),
            newer_version: r.newer_version.clone(),
        })
    }
}

/// How an order is delivered: `electronic` or `paper`, and on paper why (stable name, zh-TW, English).
struct DeliveryParts {
    delivery: String,
    reason: Option<String>,
    reason_zh: Option<String>,
    reason_en: Option<String>,
}

fn delivery_parts(d: Delivery) -> DeliveryParts {
    match d {
        Delivery::Electronic => DeliveryParts {
            delivery: "electronic".into(),
            reason: None,
            reason_zh: None,
            reason_en: None,
        },
        Delivery::Paper(r) => DeliveryParts {
            delivery: "paper".into(),
            reason: Some(r.as_str().to_owned()),
            reason_zh: Some(r.label(Lang::ZhTw).to_owned()),
            reason_en: Some(r.label(Lang::En).to_owned()),
        },
    }
}

record! {
    /// A summary line of an award order (獎懲令).
    AwardOrderSummary {
        id: i64,
        document_number: String,
        approving_agency: String,
        approved_on: Py<PyAny>,
        approved_on_roc: String,
        /// Stable name: `commendation`, `merit`, `major_merit`, `reprimand`, `demerit`, `major_demerit`.
        kind: String,
        /// 嘉獎, 記功, …
        kind_zh: String,
        count: u8,
        special: bool,
        rating_year: i32,
        /// `electronic` or `paper`.
        delivery: String,
        /// Why on paper, when it is (stable name, e.g. `punishment`).
        paper_reason: Option<String>,
        paper_reason_zh: Option<String>,
        paper_reason_en: Option<String>,
        viewed_at: Option<Py<PyAny>>,
        viewed_at_roc: Option<String>,
    }
}

impl AwardOrderSummary {
    pub(crate) fn new(py: Python<'_>, s: &RsSummary) -> PyResult<Self> {
        let d = delivery_parts(s.delivery);
        Ok(AwardOrderSummary {
            id: s.id,
            document_number: s.document_number.clone(),
            approving_agency: s.approving_agency.clone(),
            approved_on: date(py, s.approved_on)?,
            approved_on_roc: s.approved_on.to_slash(),
            kind: s.kind.as_str().to_owned(),
            kind_zh: s.kind.label(Lang::ZhTw).to_owned(),
            count: s.count,
            special: s.special,
            rating_year: s.rating_year,
            delivery: d.delivery,
            paper_reason: d.reason,
            paper_reason_zh: d.reason_zh,
            paper_reason_en: d.reason_en,
            viewed_at: opt_datetime(py, s.viewed_at)?,
            viewed_at_roc: s.viewed_at.map(|t| t.to_slash()),
        })
    }

    pub(crate) fn list(py: Python<'_>, list: &[RsSummary]) -> PyResult<Vec<Py<AwardOrderSummary>>> {
        list.iter()
            .map(|s| Py::new(py, AwardOrderSummary::new(py, s)?))
            .collect()
    }
}

record! {
    /// A whole award order, as the person reads it.
    AwardOrder {
        summary: Py<AwardOrderSummary>,
        person_name: String,
        national_id: String,
        unit: String,
        title: String,
        reason: String,
        legal_basis: String,
        issued_at: Py<PyAny>,
        issued_at_roc: String,
    }
}

impl AwardOrder {
    pub(crate) fn new(py: Python<'_>, o: &RsAwardOrder) -> PyResult<Self> {
        Ok(AwardOrder {
            summary: Py::new(py, AwardOrderSummary::new(py, &o.summary)?)?,
            person_name: o.person_name.clone(),
            national_id: o.national_id.clone(),
            unit: o.unit.clone(),
            title: o.title.clone(),
            reason: o.reason.clone(),
            legal_basis: o.legal_basis.clone(),
            issued_at: datetime(py, o.issued_at)?,
            issued_at_roc: o.issued_at.to_slash(),
        })
    }
}

record! {
    /// One order of a bulk issue: its number and how it is delivered.
    IssuedOrder {
        id: i64,
        delivery: String,
        paper_reason: Option<String>,
        paper_reason_zh: Option<String>,
        paper_reason_en: Option<String>,
    }
}

record! {
    /// What a bulk issue did.
    BulkIssueReport {
        issued: usize,
        electronic: usize,
        paper: usize,
        orders: Vec<Py<IssuedOrder>>,
    }
}

impl BulkIssueReport {
    pub(crate) fn new(py: Python<'_>, r: &RsBulk) -> PyResult<Self> {
        let orders = r
            .orders
            .iter()
            .map(|(id, d)| {
                let d = delivery_parts(*d);
                Py::new(
                    py,
                    IssuedOrder {
                        id: *id,
                        delivery: d.delivery,
                        paper_reason: d.reason,
                        paper_reason_zh: d.reason_zh,
                        paper_reason_en: d.reason_en,
                    },
                )
            })
            .collect::<PyResult<_>>()?;
        Ok(BulkIssueReport {
            issued: r.issued,
            electronic: r.electronic,
            paper: r.paper,
            orders,
        })
    }
}

record! {
    /// Counts in major / middle / minor units (e.g. 記大功 / 記功 / 嘉獎).
    Tally {
        major: u32,
        middle: u32,
        minor: u32,
    }
}

fn tally(py: Python<'_>, t: RsTally) -> PyResult<Py<Tally>> {
    Py::new(
        py,
        Tally {
            major: t.major,
            middle: t.middle,
            minor: t.minor,
        },
    )
}

record! {
    /// One rating year of rewards and punishments (查詢個人歷年獎懲資料).
    YearlyAwards {
        rating_year: i32,
        orders: Vec<Py<AwardOrderSummary>>,
        ordinary_rewards: Py<Tally>,
        ordinary_punishments: Py<Tally>,
        net_reward: Py<Tally>,
        net_punishment: Py<Tally>,
        special_rewards: Py<Tally>,
        special_punishments: Py<Tally>,
    }
}

impl YearlyAwards {
    pub(crate) fn new(py: Python<'_>, y: &RsYearly) -> PyResult<Self> {
        Ok(YearlyAwards {
            rating_year: y.rating_year,
            orders: AwardOrderSummary::list(py, &y.orders)?,
            ordinary_rewards: tally(py, y.ordinary_rewards)?,
            ordinary_punishments: tally(py, y.ordinary_punishments)?,
            net_reward: tally(py, y.net_reward)?,
            net_punishment: tally(py, y.net_punishment)?,
            special_rewards: tally(py, y.special_rewards)?,
            special_punishments: tally(py, y.special_punishments)?,
        })
    }
}

record! {
    /// An electronically delivered order not yet signed for, on the officer's list.
    UnsignedOrder {
        order: Py<AwardOrderSummary>,
        national_id: String,
        name: String,
        unit: String,
        issued_at: Py<PyAny>,
        issued_at_roc: String,
    }
}

impl UnsignedOrder {
    pub(crate) fn new(py: Python<'_>, u: &RsUnsigned) -> PyResult<Self> {
        Ok(UnsignedOrder {
            order: Py::new(py, AwardOrderSummary::new(py, &u.order)?)?,
            national_id: u.national_id.clone(),
            name: u.name.clone(),
            unit: u.unit.clone(),
            issued_at: datetime(py, u.issued_at)?,
            issued_at_roc: u.issued_at.to_slash(),
        })
    }
}

record! {
    /// One field of the personal record, with a staged correction if any.
    FieldValue {
        key: String,
        label_zh: String,
        label_en: String,
        value: Option<String>,
        staged: Option<String>,
        correctable: bool,
    }
}

record! {
    /// One of the nine categories of the personal record.
    RecordCategory {
        /// Stable name, e.g. `current_post`.
        category: String,
        label_zh: String,
        fields: Vec<Py<FieldValue>>,
    }
}

record! {
    /// The caller's personal record (個人資料).
    PersonalRecord {
        name: String,
        national_id: String,
        categories: Vec<Py<RecordCategory>>,
        last_proofed: Option<Py<PyAny>>,
        last_proofed_roc: Option<String>,
    }
}

impl PersonalRecord {
    pub(crate) fn new(py: Python<'_>, r: &RsPersonalRecord) -> PyResult<Self> {
        let categories = r
            .categories
            .iter()
            .map(|c| {
                let fields = c
                    .fields
                    .iter()
                    .map(|f| {
                        Py::new(
                            py,
                            FieldValue {
                                key: f.key.clone(),
                                label_zh: f.label_zh.clone(),
                                label_en: f.label_en.clone(),
                                value: f.value.clone(),
                                staged: f.staged.clone(),
                                correctable: f.correctable,
                            },
                        )
                    })
                    .collect::<PyResult<_>>()?;
                Py::new(
                    py,
                    RecordCategory {
                        category: c.category.as_str().to_owned(),
                        label_zh: c.category.label(Lang::ZhTw).to_owned(),
                        fields,
                    },
                )
            })
            .collect::<PyResult<_>>()?;
        Ok(PersonalRecord {
            name: r.name.clone(),
            national_id: r.national_id.clone(),
            categories,
            last_proofed: opt_datetime(py, r.last_proofed)?,
            last_proofed_roc: r.last_proofed.map(|t| t.to_slash()),
        })
    }
}

record! {
    /// A staged correction: before (修改前) and after (修改後).
    StagedCorrection {
        category: String,
        field: String,
        before: Option<String>,
        after: String,
    }
}

impl From<RsStaged> for StagedCorrection {
    fn from(s: RsStaged) -> Self {
        StagedCorrection {
            category: s.category.as_str().to_owned(),
            field: s.field,
            before: s.before,
            after: s.after,
        }
    }
}

record! {
    /// 校對完成: the submission.
    ProofingSubmission {
        id: i64,
        completed_at: Py<PyAny>,
        completed_at_roc: String,
        corrections: u32,
    }
}

impl ProofingSubmission {
    pub(crate) fn new(py: Python<'_>, s: &RsSubmission) -> PyResult<Self> {
        Ok(ProofingSubmission {
            id: s.id,
            completed_at: datetime(py, s.completed_at)?,
            completed_at_roc: s.completed_at.to_slash(),
            corrections: s.corrections,
        })
    }
}

record! {
    /// A correction as the officer sees and processes it.
    ProofingCorrection {
        id: i64,
        submission_id: i64,
        national_id: String,
        name: String,
        category: String,
        field: String,
        label_zh: String,
        before: Option<String>,
        after: String,
        /// `pending`, `approved` or `rejected`.
        status: String,
        reject_reason: Option<String>,
        processed_at: Option<Py<PyAny>>,
        processed_at_roc: Option<String>,
    }
}

impl ProofingCorrection {
    pub(crate) fn new(py: Python<'_>, c: &RsCorrection) -> PyResult<Self> {
        Ok(ProofingCorrection {
            id: c.id,
            submission_id: c.submission_id,
            national_id: c.national_id.clone(),
            name: c.name.clone(),
            category: c.category.as_str().to_owned(),
            field: c.field.clone(),
            label_zh: c.label_zh.clone(),
            before: c.before.clone(),
            after: c.after.clone(),
            status: match c.status {
                crate::portal::CorrectionStatus::Pending => "pending",
                crate::portal::CorrectionStatus::Approved => "approved",
                crate::portal::CorrectionStatus::Rejected => "rejected",
            }
            .to_owned(),
            reject_reason: c.reject_reason.clone(),
            processed_at: opt_datetime(py, c.processed_at)?,
            processed_at_roc: c.processed_at.map(|t| t.to_slash()),
        })
    }
}

record! {
    /// A row of the officer's proofing query (人事人員校對查詢).
    ProofingQueryRow {
        national_id: String,
        name: String,
        agency_code: String,
        unit: Option<String>,
        submission_id: Option<i64>,
        proofed_on: Option<Py<PyAny>>,
        proofed_on_roc: Option<String>,
        corrections: u32,
        pending: u32,
    }
}

impl ProofingQueryRow {
    pub(crate) fn new(py: Python<'_>, r: &RsQueryRow) -> PyResult<Self> {
        Ok(ProofingQueryRow {
            national_id: r.national_id.clone(),
            name: r.name.clone(),
            agency_code: r.agency_code.clone(),
            unit: r.unit.clone(),
            submission_id: r.submission_id,
            proofed_on: r.proofed_on.map(|d| date(py, d)).transpose()?,
            proofed_on_roc: r.proofed_on.map(|d| d.to_slash()),
            corrections: r.corrections,
            pending: r.pending,
        })
    }
}

record! {
    /// An open to-do item of a personnel officer.
    TodoItem {
        id: i64,
        submission_id: i64,
        national_id: String,
        name: String,
        pending: u32,
        created_at: Py<PyAny>,
        created_at_roc: String,
    }
}

impl TodoItem {
    pub(crate) fn new(py: Python<'_>, t: &RsTodo) -> PyResult<Self> {
        Ok(TodoItem {
            id: t.id,
            submission_id: t.submission_id,
            national_id: t.national_id.clone(),
            name: t.name.clone(),
            pending: t.pending,
            created_at: datetime(py, t.created_at)?,
            created_at_roc: t.created_at.to_slash(),
        })
    }
}

record! {
    /// An employee on the officer's list.
    EmployeeSummary {
        national_id: String,
        name: String,
        unit: Option<String>,
        title: String,
        status: String,
        has_email: bool,
        consented: bool,
    }
}

impl From<&RsEmployee> for EmployeeSummary {
    fn from(e: &RsEmployee) -> Self {
        EmployeeSummary {
            national_id: e.national_id.clone(),
            name: e.name.clone(),
            unit: e.unit.clone(),
            title: e.title.clone(),
            status: e.status.clone(),
            has_email: e.has_email,
            consented: e.consented,
        }
    }
}

record! {
    /// What stopping a lost card's access did.
    AccessRevoked {
        /// Registrations or certificate bindings removed (0: there were none).
        removed: u32,
        sessions_ended: u32,
        /// Where the person was told, masked.
        notified: Vec<String>,
    }
}

impl From<&crate::portal::AccessRevoked> for AccessRevoked {
    fn from(r: &crate::portal::AccessRevoked) -> Self {
        AccessRevoked {
            removed: r.removed,
            sessions_ended: r.sessions_ended,
            notified: r.notified.clone(),
        }
    }
}

record! {
    /// One entry of the audit trail (people by masked ID and name).
    AuditRecord {
        at: Py<PyAny>,
        at_roc: String,
        actor: Option<String>,
        action: String,
        subject: Option<String>,
        object: Option<String>,
        detail: Option<String>,
        /// The entry in plain words.
        summary_zh: String,
        summary_en: String,
    }
}

impl AuditRecord {
    pub(crate) fn new(py: Python<'_>, e: &AuditEntry) -> PyResult<Self> {
        Ok(AuditRecord {
            at: datetime(py, e.at)?,
            at_roc: e.at.to_slash(),
            actor: e.actor.clone(),
            action: e.action.clone(),
            subject: e.subject.clone(),
            object: e.object.clone(),
            detail: e.detail.clone(),
            summary_zh: e.summary_zh.clone(),
            summary_en: e.summary_en.clone(),
        })
    }
}

/// A page class of an officer's list: its rows (`items`, also what `len`, iteration and
/// indexing give), which page, rows a page, rows in the whole list.
macro_rules! page {
    ($(#[$meta:meta])* $name:ident of $item:ident) => {
        $(#[$meta])*
        #[pyclass(frozen, get_all, module = "ecpa._ecpa")]
        pub struct $name {
            pub items: Vec<Py<$item>>,
            pub page: u32,
            pub per_page: u32,
            pub total: u64,
        }

        #[pymethods]
        impl $name {
            fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
                $crate::python::values::repr_fields(slf.as_any(), stringify!($name), &["items", "page", "per_page", "total"])
            }

            fn __len__(&self) -> usize {
                self.items.len()
            }

            fn __iter__(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
                let items = pyo3::types::PyList::new(slf.py(), slf.get().items.iter().map(|i| i.clone_ref(slf.py())))?;
                Ok(items.try_iter()?.into_any().unbind())
            }

            fn __getitem__(&self, py: Python<'_>, index: isize) -> PyResult<Py<$item>> {
                let n = self.items.len() as isize;
                let at = if index < 0 { index + n } else { index };
                usize::try_from(at)
                    .ok()
                    .and_then(|i| self.items.get(i))
                    .map(|i| i.clone_ref(py))
                    .ok_or_else(|| pyo3::exceptions::PyIndexError::new_err("page index out of range"))
            }
        }

        impl $name {
            pub(crate) fn new<T>(
                py: Python<'_>,
                p: crate::portal::Page<T>,
                mut item: impl FnMut(Python<'_>, &T) -> PyResult<$item>,
            ) -> PyResult<Self> {
                Ok($name {
                    items: p.items.iter().map(|t| Py::new(py, item(py, t)?)).collect::<PyResult<_>>()?,
                    page: p.page,
                    per_page: p.per_page,
                    total: p.total,
                })
            }
        }
    };
}

page! {
    /// A page of the agency's staff (`Portal.agency_employees`).
    StaffPage of EmployeeSummary
}

page! {
    /// A page of the orders not signed for (`Portal.unsigned_award_orders`).
    UnsignedPage of UnsignedOrder
}

page! {
    /// A page of the officer's proofing query (`Portal.proofing_query`).
    ProofingPage of ProofingQueryRow
}

record! {
    /// An agency an officer queries and processes (機關代號).
    AgencySummary {
        code: String,
        name: String,
        parent_code: Option<String>,
    }
}

record! {
    /// What a directory import did.
    DirectoryImport {
        rows: usize,
        agencies: usize,
        created: usize,
        updated: usize,
        officers: usize,
    }
}

impl From<RsDirectoryImport> for DirectoryImport {
    fn from(d: RsDirectoryImport) -> Self {
        DirectoryImport {
            rows: d.rows,
            agencies: d.agencies,
            created: d.created,
            updated: d.updated,
            officers: d.officers,
        }
    }
}

record! {
    /// What one delivery of the outbox did.
    DeliveryReport {
        sent: usize,
        failed: usize,
    }
}

impl From<RsDeliveryReport> for DeliveryReport {
    fn from(d: RsDeliveryReport) -> Self {
        DeliveryReport {
            sent: d.sent,
            failed: d.failed,
        }
    }
}

record! {
    /// The outbox's counters.
    OutboxStats {
        sent: i64,
        pending: i64,
        oldest_pending: Option<Py<PyAny>>,
        oldest_pending_roc: Option<String>,
    }
}

impl OutboxStats {
    pub(crate) fn new(py: Python<'_>, s: &RsOutboxStats) -> PyResult<Self> {
        Ok(OutboxStats {
            sent: s.sent,
            pending: s.pending,
            oldest_pending: opt_datetime(py, s.oldest_pending)?,
            oldest_pending_roc: s.oldest_pending.map(|t| t.to_slash()),
        })
    }
}

record! {
    /// A mail as the file mailer delivered it.
    Mail {
        to: String,
        subject: String,
        body: String,
        /// The token of the link in it (registration and reset mails).
        link_token: Option<String>,
    }
}

impl From<&ReceivedMail> for Mail {
    fn from(m: &ReceivedMail) -> Self {
        Mail {
            to: m.to.clone(),
            subject: m.subject.clone(),
            body: m.body.clone(),
            link_token: m.link_token().map(str::to_owned),
        }
    }
}

record! {
    /// One row of the environment check (環境檢測).
    DoctorRow {
        id: String,
        title_zh: String,
        title_en: String,
        found_zh: String,
        found_en: String,
        expected_zh: String,
        expected_en: String,
        /// `ok`, `warn` or `fail`.
        status: String,
        fix_zh: Option<String>,
        fix_en: Option<String>,
    }
}

record! {
    /// The environment check's table.
    DoctorReport {
        rows: Vec<Py<DoctorRow>>,
        failed: bool,
    }
}

impl DoctorReport {
    pub(crate) fn new(py: Python<'_>, r: &doctor::Report) -> PyResult<Self> {
        let rows = r
            .rows
            .iter()
            .map(|row| {
                let status = match row.status {
                    doctor::Status::Ok => "ok",
                    doctor::Status::Warn => "warn",
                    doctor::Status::Fail => "fail",
                };
                Py::new(
                    py,
                    DoctorRow {
                        id: row.id.to_owned(),
                        title_zh: row.title.zh.clone(),
                        title_en: row.title.en.clone(),
                        found_zh: row.found.zh.clone(),
                        found_en: row.found.en.clone(),
                        expected_zh: row.expected.zh.clone(),
                        expected_en: row.expected.en.clone(),
                        status: status.to_owned(),
                        fix_zh: row.fix.as_ref().map(|f| f.zh.clone()),
                        fix_en: row.fix.as_ref().map(|f| f.en.clone()),
                    },
                )
            })
            .collect::<PyResult<_>>()?;
        Ok(DoctorReport {
            rows,
            failed: r.failed(),
        })
    }
}

/// Adds the classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<IdCheck>()?;
    m.add_class::<SessionInfo>()?;
    m.add_class::<RegistrationReceipt>()?;
    m.add_class::<Notice>()?;
    m.add_class::<StaffPage>()?;
    m.add_class::<UnsignedPage>()?;
    m.add_class::<ProofingPage>()?;
    m.add_class::<AgencySummary>()?;
    m.add_class::<DetailsChange>()?;
    m.add_class::<RegistrationTerms>()?;
    m.add_class::<MaintenanceWindow>()?;
    m.add_class::<ApplicationEntry>()?;
    m.add_class::<SsoAssertion>()?;
    m.add_class::<SsoIdentity>()?;
    m.add_class::<ConsentText>()?;
    m.add_class::<ConsentRecord>()?;
    m.add_class::<AwardOrderSummary>()?;
    m.add_class::<AwardOrder>()?;
    m.add_class::<IssuedOrder>()?;
    m.add_class::<BulkIssueReport>()?;
    m.add_class::<Tally>()?;
    m.add_class::<YearlyAwards>()?;
    m.add_class::<UnsignedOrder>()?;
    m.add_class::<FieldValue>()?;
    m.add_class::<RecordCategory>()?;
    m.add_class::<PersonalRecord>()?;
    m.add_class::<StagedCorrection>()?;
    m.add_class::<ProofingSubmission>()?;
    m.add_class::<ProofingCorrection>()?;
    m.add_class::<ProofingQueryRow>()?;
    m.add_class::<TodoItem>()?;
    m.add_class::<EmployeeSummary>()?;
    m.add_class::<AccessRevoked>()?;
    m.add_class::<AuditRecord>()?;
    m.add_class::<DirectoryImport>()?;
    m.add_class::<DeliveryReport>()?;
    m.add_class::<OutboxStats>()?;
    m.add_class::<Mail>()?;
    m.add_class::<DoctorRow>()?;
    m.add_class::<DoctorReport>()?;
    Ok(())
}
