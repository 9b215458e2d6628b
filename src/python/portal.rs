//! `Portal`: the whole flow, embedded (SQLite path, `:memory:`, `postgres://`) or remote
//! (`http(s)://`), with the embedded portal's operator extras; `Session`, `NewAwardOrder`,
//! `FileMailer`, and the module functions that go with them.
//!
//! Every engine call runs with the GIL released. The Python object is immutable and the engine
//! is `Send + Sync`, so one `Portal` serves many Python threads at once.

use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use time::OffsetDateTime;

use super::cards::{CertificateTrust, CitizenCardKey, NhiCard, SigningKey, SoftwareCertificate, seconds};
use super::records::{
    AccessRevoked, AgencySummary, ApplicationEntry, AuditRecord, AwardOrder, AwardOrderSummary, BulkIssueReport,
    ConsentRecord, ConsentText, DeliveryReport, DetailsChange, DirectoryImport, DoctorReport, Mail, MaintenanceWindow,
    Notice, OutboxStats, PersonalRecord, ProofingCorrection, ProofingPage, ProofingQueryRow, ProofingSubmission,
    RegistrationReceipt, RegistrationTerms, SessionInfo, SsoIdentity, StaffPage, StagedCorrection, TodoItem,
    UnsignedOrder, UnsignedPage, YearlyAwards,
};
use super::values::{date, datetime, opt_roc_date, record, roc_date};
use crate::error::{Error, ErrorCode};
use crate::http::RemotePortal;
use crate::portal::{
    ApplicationLink, AuditQuery, CertificateResponse, CorrectionDecision, FileMailer as RsFileMailer, LocalPortal,
    LoginSignature, NewAwardOrder as RsNewOrder, PageRequest, Portal as RsPortal, PortalConfig, ProofingCategory,
    ProofingQuery, RegistrationDetails, RegistrationForm, ResetDelivery, SessionToken,
};
use crate::types::{AgencyCode, DocumentNumber, Email, HouseholdAddress, HouseholdNumber, NationalId, Password};

record! {
    /// A fresh challenge for the card to sign (certificate login, step one).
    CertificateChallenge {
        challenge_id: String,
        /// The exact text to sign (its UTF-8 bytes).
        to_sign: String,
        expires_at: Py<PyAny>,
        expires_at_roc: String,
    }
}

/// A logged-in session: its token (a secret, never in `repr`) and who it belongs to.
#[pyclass(frozen, module = "ecpa._ecpa")]
pub struct Session {
    token: SessionToken,
    info: Py<SessionInfo>,
}

#[pymethods]
impl Session {
    /// The bearer token, to hand to another process (e.g. in an environment variable).
    #[getter]
    fn token(&self) -> String {
        self.token.expose().to_owned()
    }

    #[getter]
    fn info(&self, py: Python<'_>) -> Py<SessionInfo> {
        self.info.clone_ref(py)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("Session(info={}, token=<hidden>)", self.info.bind(py).repr()?))
    }
}

fn session_of(py: Python<'_>, session: crate::portal::Session) -> PyResult<Session> {
    Ok(Session {
        info: Py::new(py, SessionInfo::new(py, &session.info)?)?,
        token: session.token,
    })
}

/// An award order as a personnel officer enters it, validated on construction.
#[pyclass(frozen, module = "ecpa._ecpa")]
pub struct NewAwardOrder {
    order: RsNewOrder,
}

#[pymethods]
impl NewAwardOrder {
    /// `kind`: 嘉獎 記功 記大功 申誡 記過 記大過, or the stable names (`commendation` …).
    /// `rating_year` (ROC) defaults to the approval year.
    #[new]
    #[pyo3(signature = (*, national_id, approving_agency, approved_on, document_number, reason, legal_basis, kind, count = 1, special = false, rating_year = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        national_id: &str,
        approving_agency: String,
        approved_on: &Bound<'_, PyAny>,
        document_number: &str,
        reason: String,
        legal_basis: String,
        kind: &str,
        count: u8,
        special: bool,
        rating_year: Option<i32>,
    ) -> PyResult<Self> {
        let approved_on = roc_date(approved_on)?;
        Ok(NewAwardOrder {
            order: RsNewOrder {
                national_id: NationalId::parse(national_id)?,
                approving_agency,
                approved_on,
                document_number: DocumentNumber::parse(document_number)?,
                reason,
                legal_basis,
                kind: kind.parse()?,
                count,
                special,
                rating_year: rating_year.unwrap_or_else(|| approved_on.roc_year()),
            },
        })
    }

    /// Masked.
    #[getter]
    fn national_id(&self) -> String {
        self.order.national_id.masked()
    }

    #[getter]
    fn approving_agency(&self) -> String {
        self.order.approving_agency.clone()
    }

    #[getter]
    fn approved_on(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        date(py, self.order.approved_on)
    }

    #[getter]
    fn approved_on_roc(&self) -> String {
        self.order.approved_on.to_slash()
    }

    #[getter]
    fn document_number(&self) -> String {
        self.order.document_number.as_str().to_owned()
    }

    #[getter]
    fn reason(&self) -> String {
        self.order.reason.clone()
    }

    #[getter]
    fn legal_basis(&self) -> String {
        self.order.legal_basis.clone()
    }

    #[getter]
    fn kind(&self) -> &'static str {
        self.order.kind.as_str()
    }

    #[getter]
    fn count(&self) -> u8 {
        self.order.count
    }

    #[getter]
    fn special(&self) -> bool {
        self.order.special
    }

    #[getter]
    fn rating_year(&self) -> i32 {
        self.order.rating_year
    }

    fn __repr__(&self) -> String {
        format!(
            "NewAwardOrder(national_id={:?}, document_number={:?}, approved_on_roc={:?}, kind={:?}, count={})",
            self.order.national_id.masked(),
            self.order.document_number.as_str(),
            self.order.approved_on.to_slash(),
            self.order.kind.as_str(),
            self.order.count
        )
    }
}

/// Reads award orders from CSV (the bulk-issue format; see `ecpa::portal::read_orders_csv`).
#[pyfunction]
fn read_orders_csv(data: &Bound<'_, PyAny>) -> PyResult<Vec<NewAwardOrder>> {
    let orders = crate::portal::read_orders_csv(text_or_bytes(data)?.as_slice())?;
    Ok(orders.into_iter().map(|order| NewAwardOrder { order }).collect())
}

/// CSV content given as `str` or `bytes`.
fn text_or_bytes(data: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(s) = data.cast::<PyString>() {
        return Ok(s.to_str()?.as_bytes().to_vec());
    }
    if let Ok(b) = data.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    Err(PyTypeError::new_err(format!(
        "expected the CSV content as str or bytes, got {}",
        data.get_type().name()?
    )))
}

/// A mailer that writes each mail as a file in a directory (a maildir-like folder): the
/// embedded portal's outbox is delivered to it, and the mails read back.
#[pyclass(frozen, module = "ecpa._ecpa")]
pub struct FileMailer {
    mailer: RsFileMailer,
}

#[pymethods]
impl FileMailer {
    #[new]
    fn new(directory: std::path::PathBuf) -> PyResult<Self> {
        Ok(FileMailer {
            mailer: RsFileMailer::new(directory)?,
        })
    }

    /// Every mail delivered so far, oldest first.
    fn messages(&self, py: Python<'_>) -> PyResult<Vec<Mail>> {
        let mails = py.detach(|| self.mailer.messages())?;
        Ok(mails.iter().map(Mail::from).collect())
    }

    fn __repr__(&self) -> String {
        format!("FileMailer({:?})", self.mailer.dir().display().to_string())
    }
}

/// The environment check (`ecpa doctor`): PC/SC, readers and cards, the PKCS#11 module, trust
/// anchors, clock, and the portal when a URL is given.
#[pyfunction]
#[pyo3(signature = (*, pkcs11_module = None, anchors = None, portal = None, timeout = 3.0))]
fn doctor(
    py: Python<'_>,
    pkcs11_module: Option<std::path::PathBuf>,
    anchors: Option<std::path::PathBuf>,
    portal: Option<String>,
    timeout: f64,
) -> PyResult<DoctorReport> {
    let options = crate::doctor::DoctorOptions {
        pkcs11_module,
        anchors,
        portal,
        timeout: seconds(timeout)?,
    };
    let report = py.detach(|| crate::doctor::run(&options, Arc::from(crate::doctor::pcsc_probe())));
    DoctorReport::new(py, &report)
}

/// The whole flow, embedded or remote.
#[pyclass(frozen, name = "Portal", module = "ecpa._ecpa")]
pub struct PyPortal {
    engine: Arc<dyn RsPortal>,
    local: Option<Arc<LocalPortal>>,
    location: String,
}

fn password(p: &str) -> PyResult<Password> {
    Ok(Password::new(p)?)
}

fn token_of(session: &Bound<'_, Session>) -> SessionToken {
    session.get().token.clone()
}

/// The household address from its four parts.
fn address(county: &str, township: &str, village: &str, neighbourhood: u16) -> PyResult<HouseholdAddress> {
    Ok(HouseholdAddress::new(county, township, village, neighbourhood)?)
}

/// A moment given as `datetime.datetime` (aware; a naive one is taken as local time, as
/// Python's `timestamp()` does).
fn moment(value: &Bound<'_, PyAny>) -> PyResult<OffsetDateTime> {
    let py = value.py();
    let class = py.import("datetime")?.getattr("datetime")?;
    if !value.is_instance(&class)? {
        return Err(PyTypeError::new_err(format!(
            "expected datetime.datetime, got {}",
            value.get_type().name()?
        )));
    }
    let stamp: f64 = value.call_method0("timestamp")?.extract()?;
    OffsetDateTime::from_unix_timestamp(stamp.floor() as i64).map_err(|_| Error::new(ErrorCode::DateInvalid).into())
}

/// A database URL as shown: the password of `scheme://user:password@host/…` left out.
fn redact(location: &str) -> String {
    let Some((scheme, rest)) = location.split_once("://") else {
        return location.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority
        .rsplit_once('@')
        .and_then(|(userinfo, host)| Some((userinfo.split_once(':')?.0, host)))
    {
        Some((user, host)) => format!("{scheme}://{user}:***@{host}{}", &rest[authority_end..]),
        None => location.to_owned(),
    }
}

/// A proofing category by its stable name (`current_post`) or its Chinese label (現職資料).
fn category(name: &str) -> PyResult<ProofingCategory> {
    let by_label = ProofingCategory::ALL
        .into_iter()
        .find(|c| c.label(crate::types::Lang::ZhTw) == name.trim());
    match by_label {
        Some(c) => Ok(c),
        None => Ok(ProofingCategory::parse(name.trim())?),
    }
}

impl PyPortal {
    /// Runs an engine call without the GIL.
    fn run<T: Send>(&self, py: Python<'_>, f: impl FnOnce(&dyn RsPortal) -> crate::Result<T> + Send) -> PyResult<T> {
        Ok(py.detach(|| f(self.engine.as_ref()))?)
    }

    /// A lost card's removal for the officer's `session` and the person `national_id`.
    fn revoke(
        &self,
        py: Python<'_>,
        session: &Bound<'_, Session>,
        national_id: &str,
        f: impl FnOnce(&dyn RsPortal, &SessionToken, &NationalId) -> crate::Result<crate::portal::AccessRevoked> + Send,
    ) -> PyResult<AccessRevoked> {
        let (token, id) = (token_of(session), NationalId::parse(national_id)?);
        Ok((&self.run(py, |p| f(p, &token, &id))?).into())
    }

    /// The embedded portal, for the operator's extras a remote portal does not offer.
    fn local(&self, what: &str) -> PyResult<&LocalPortal> {
        self.local.as_deref().ok_or_else(|| {
            Error::with(
                ErrorCode::LocalPortalOnly,
                format!("{what} 僅能用於內嵌的人事服務網（{}）", self.location),
                format!("{what} needs an embedded portal, not {}", self.location),
            )
            .into()
        })
    }

    fn login_with(
        &self,
        py: Python<'_>,
        key: &SigningKey,
        origin: Option<&str>,
        identify: Option<String>,
    ) -> PyResult<Session> {
        let session = self.run(py, |p| {
            let challenge = p.begin_certificate_login()?;
            let der = key.certificate.der();
            let response = CertificateResponse::signed_by(&challenge, der, key.signer.as_ref(), origin, identify)?;
            p.complete_certificate_login(&response)
        })?;
        session_of(py, session)
    }
}

#[pymethods]
impl PyPortal {
    /// Opens a portal: `":memory:"`, a SQLite file path (or `sqlite:PATH`), a `postgres://` URL
    /// (embedded engine on PostgreSQL), or an `http://` / `https://` URL of `ecpa serve`.
    /// `trust` enables citizen-certificate logins on an embedded portal; `applications` maps
    /// codes of the catalogue to the addresses it opens them at with single sign-on (as
    /// `[[portal.applications]]` does for `ecpa serve`).
    #[new]
    #[pyo3(signature = (location = ":memory:".to_owned(), *, trust = None, applications = None))]
    fn new(
        py: Python<'_>,
        location: String,
        trust: Option<&Bound<'_, CertificateTrust>>,
        applications: Option<std::collections::BTreeMap<String, String>>,
    ) -> PyResult<Self> {
        if location.starts_with("http://") || location.starts_with("https://") {
            if applications.is_some() {
                return Err(Error::with(
                    ErrorCode::LocalPortalOnly,
                    "遠端人事服務網的單一登入應用系統由服務端設定",
                    "a remote portal's single sign-on applications are configured on the service",
                )
                .into());
            }
            if trust.is_some() {
                return Err(Error::with(
                    ErrorCode::LocalPortalOnly,
                    "遠端人事服務網的憑證信任由服務端設定",
                    "a remote portal's certificate trust is configured on the service",
                )
                .into());
            }
            let remote = py.detach(|| RemotePortal::new(&location))?;
            return Ok(PyPortal {
                engine: Arc::new(remote),
                local: None,
                location,
            });
        }
        let trust = trust.map(|t| t.get().build());
        let links = applications
            .unwrap_or_default()
            .iter()
            .map(|(code, url)| ApplicationLink::new(code, url))
            .collect::<crate::Result<Vec<_>>>()?;
        let config = PortalConfig {
            applications: links,
            ..PortalConfig::default()
        };
        let portal = py.detach(|| -> crate::Result<LocalPortal> {
            let store: Box<dyn crate::store::Store> = if location == ":memory:" {
                Box::new(crate::store::SqliteStore::in_memory()?)
            } else {
                crate::store::open_url(&location)?
            };
            let portal = LocalPortal::with_store(store, config)?;
            Ok(match trust {
                Some(t) => portal.with_certificate_trust(t),
                None => portal,
            })
        })?;
        let local = Arc::new(portal);
        Ok(PyPortal {
            engine: local.clone(),
            local: Some(local),
            location: redact(&location),
        })
    }

    /// Where the portal is (a database URL's password is left out).
    #[getter]
    fn location(&self) -> String {
        self.location.clone()
    }

    /// Whether this portal is a client of `ecpa serve`.
    #[getter]
    fn is_remote(&self) -> bool {
        self.local.is_none()
    }

    fn __repr__(&self) -> String {
        format!("Portal({:?})", self.location)
    }

    // ---- operator extras of the embedded portal ----

    /// Imports the directory CSV (agency_code, agency_name, unit, national_id, name, title,
    /// email, and optionally status, left_on, left_reason, officer), given as `str` or `bytes`.
    fn import_directory_csv(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<DirectoryImport> {
        let data = text_or_bytes(data)?;
        let local = self.local("import_directory_csv")?;
        Ok(py.detach(|| local.import_directory_csv(data.as_slice()))?.into())
    }

    /// Delivers up to `limit` mails of the outbox to the mailer.
    #[pyo3(signature = (mailer, limit = 1000))]
    fn deliver_outbox(&self, py: Python<'_>, mailer: &Bound<'_, FileMailer>, limit: usize) -> PyResult<DeliveryReport> {
        let local = self.local("deliver_outbox")?;
        let mailer = &mailer.get().mailer;
        Ok(py.detach(|| local.deliver_outbox(mailer, limit))?.into())
    }

    /// The outbox's counters.
    fn outbox_stats(&self, py: Python<'_>) -> PyResult<OutboxStats> {
        let local = self.local("outbox_stats")?;
        let stats = py.detach(|| local.outbox_stats())?;
        OutboxStats::new(py, &stats)
    }

    /// Announces a maintenance window: registration is refused from `start` until `end`.
    fn announce_maintenance(
        &self,
        py: Python<'_>,
        start: &Bound<'_, PyAny>,
        end: &Bound<'_, PyAny>,
    ) -> PyResult<MaintenanceWindow> {
        let (start, end) = (moment(start)?, moment(end)?);
        let local = self.local("announce_maintenance")?;
        let window = py.detach(|| local.announce_maintenance(start, end))?;
        MaintenanceWindow::new(py, &window)
    }

    // ---- NHI card online registration ----

    /// Starts a registration (健保卡網路服務註冊); the confirmation link goes by mail to the
    /// person's official mailbox (the directory's).
    #[pyo3(signature = (card, *, household_number, county, township, village, neighbourhood, password, confirmation, email, terms_version, phone = None, mobile = None, spare_email = None))]
    #[allow(clippy::too_many_arguments)]
    fn start_nhi_registration(
        &self,
        py: Python<'_>,
        card: &Bound<'_, NhiCard>,
        household_number: &str,
        county: &str,
        township: &str,
        village: &str,
        neighbourhood: u16,
        password: &str,
        confirmation: &str,
        email: &str,
        terms_version: String,
        phone: Option<String>,
        mobile: Option<String>,
        spare_email: Option<&str>,
    ) -> PyResult<RegistrationReceipt> {
        let form = registration_form(
            card,
            household_number,
            (county, township, village, neighbourhood),
            (password, confirmation),
            (phone, mobile),
            (email, spare_email),
            terms_version,
        )?;
        let receipt = self.run(py, |p| p.start_nhi_registration(&form))?;
        RegistrationReceipt::new(py, &receipt)
    }

    /// Registers a card at the NHI counter (臨櫃), active at once: for whoever cannot register
    /// online (no mailbox in the directory, or not in it). Embedded portals only; the audit trail
    /// names `operator`.
    #[pyo3(signature = (card, *, operator, household_number, county, township, village, neighbourhood, password, confirmation, email, terms_version, phone = None, mobile = None, spare_email = None))]
    #[allow(clippy::too_many_arguments)]
    fn register_nhi_card_in_person(
        &self,
        py: Python<'_>,
        card: &Bound<'_, NhiCard>,
        operator: &str,
        household_number: &str,
        county: &str,
        township: &str,
        village: &str,
        neighbourhood: u16,
        password: &str,
        confirmation: &str,
        email: &str,
        terms_version: String,
        phone: Option<String>,
        mobile: Option<String>,
        spare_email: Option<&str>,
    ) -> PyResult<()> {
        let form = registration_form(
            card,
            household_number,
            (county, township, village, neighbourhood),
            (password, confirmation),
            (phone, mobile),
            (email, spare_email),
            terms_version,
        )?;
        let local = self.local("register_nhi_card_in_person")?;
        py.detach(|| local.register_nhi_card_in_person(&form, operator))?;
        Ok(())
    }

    /// Mails a fresh confirmation link (重寄認證信).
    fn resend_confirmation(&self, py: Python<'_>, card: &Bound<'_, NhiCard>) -> PyResult<RegistrationReceipt> {
        let card = &card.get().data;
        let receipt = self.run(py, |p| p.resend_confirmation(card))?;
        RegistrationReceipt::new(py, &receipt)
    }

    /// Completes a registration with the link's token, the same card inserted; the notice is
    /// 「已完成電子信箱認證」.
    fn confirm_nhi_registration(&self, py: Python<'_>, card: &Bound<'_, NhiCard>, token: &str) -> PyResult<Notice> {
        let card = &card.get().data;
        let notice = self.run(py, |p| p.confirm_nhi_registration(card, token))?;
        Ok(Notice::new(&notice))
    }

    /// Forgot password: the reset link goes to the registered address, or (with `new_email`,
    /// the household address and optionally the mobile number, as the form asks them) to the
    /// official mailbox, and the new address is adopted when the reset is done.
    /// `household_number` is not on the form; given, it is checked too.
    #[pyo3(signature = (card, *, new_email = None, county = None, township = None, village = None, neighbourhood = None, mobile = None, household_number = None))]
    #[allow(clippy::too_many_arguments)]
    fn request_password_reset(
        &self,
        py: Python<'_>,
        card: &Bound<'_, NhiCard>,
        new_email: Option<&str>,
        county: Option<&str>,
        township: Option<&str>,
        village: Option<&str>,
        neighbourhood: Option<u16>,
        mobile: Option<String>,
        household_number: Option<&str>,
    ) -> PyResult<RegistrationReceipt> {
        let delivery = match new_email {
            None => ResetDelivery::RegisteredAddress,
            Some(email) => {
                let (Some(c), Some(t), Some(v), Some(n)) = (county, township, village, neighbourhood) else {
                    return Err(Error::with(
                        ErrorCode::FieldInvalid,
                        "改寄新信箱時須一併填寫戶籍鄉鎮里鄰",
                        "a new address needs the household address too",
                    )
                    .into());
                };
                ResetDelivery::NewAddress {
                    email: Email::parse(email)?,
                    address: address(c, t, v, n)?,
                    mobile,
                    household_number: household_number.map(HouseholdNumber::parse).transpose()?,
                }
            }
        };
        let card = &card.get().data;
        let receipt = self.run(py, |p| p.request_password_reset(card, &delivery))?;
        RegistrationReceipt::new(py, &receipt)
    }

    /// Sets a new registration password, typed twice, with the reset link's token; the notice
    /// is 「註冊密碼變更成功，下次使用【健保卡】登入系統請用新的註冊密碼！」.
    fn complete_password_reset(
        &self,
        py: Python<'_>,
        card: &Bound<'_, NhiCard>,
        token: &str,
        new_password: &str,
        confirmation: &str,
    ) -> PyResult<Notice> {
        let (new_password, confirmation) = (password(new_password)?, password(confirmation)?);
        let card = &card.get().data;
        let notice = self.run(py, |p| {
            p.complete_password_reset(card, token, &new_password, &confirmation)
        })?;
        Ok(Notice::new(&notice))
    }

    /// 刪除註冊申請: mails a link that deletes the card's pending application to the official
    /// mailbox (a complete registration is stopped in person: `registration_stop_in_person`).
    fn request_registration_deletion(
        &self,
        py: Python<'_>,
        card: &Bound<'_, NhiCard>,
    ) -> PyResult<RegistrationReceipt> {
        let card = &card.get().data;
        let receipt = self.run(py, |p| p.request_registration_deletion(card))?;
        RegistrationReceipt::new(py, &receipt)
    }

    /// Opens a deletion link with the same card: the pending application is gone.
    fn complete_registration_deletion(
        &self,
        py: Python<'_>,
        card: &Bound<'_, NhiCard>,
        token: &str,
    ) -> PyResult<Notice> {
        let card = &card.get().data;
        Ok(Notice::new(
            &self.run(py, |p| p.complete_registration_deletion(card, token))?,
        ))
    }

    /// 註冊密碼變更: the old registration password (a counted try) and the new one twice.
    fn change_registration_password(
        &self,
        py: Python<'_>,
        card: &Bound<'_, NhiCard>,
        old_password: &str,
        new_password: &str,
        confirmation: &str,
    ) -> PyResult<Notice> {
        let (old, new, confirmation) = (
            password(old_password)?,
            password(new_password)?,
            password(confirmation)?,
        );
        let card = &card.get().data;
        let notice = self.run(py, |p| p.change_registration_password(card, &old, &new, &confirmation))?;
        Ok(Notice::new(&notice))
    }

    /// 基本資料異動: with the registration password, the phone and mobile (at once; `None` or
    /// blank clears one) and the e-mail address (a new one is confirmed through a link to the
    /// address on file).
    #[pyo3(signature = (card, password, *, email, phone = None, mobile = None))]
    fn change_registration_details(
        &self,
        py: Python<'_>,
        card: &Bound<'_, NhiCard>,
        password: &str,
        email: &str,
        phone: Option<String>,
        mobile: Option<String>,
    ) -> PyResult<DetailsChange> {
        let password = self::password(password)?;
        let details = RegistrationDetails {
            phone,
            mobile,
            email: Email::parse(email)?,
        };
        let card = &card.get().data;
        let change = self.run(py, |p| p.change_registration_details(card, &password, &details))?;
        DetailsChange::new(py, &change)
    }

    /// Opens an e-mail change's link with the same card: the new address counts from now, and
    /// the old one is told.
    fn complete_email_change(&self, py: Python<'_>, card: &Bound<'_, NhiCard>, token: &str) -> PyResult<Notice> {
        let card = &card.get().data;
        Ok(Notice::new(&self.run(py, |p| p.complete_email_change(card, token))?))
    }

    /// 忘記帳號或密碼: mails the account name and a link to the official mailbox of the serving
    /// employee with this ID; the answer is the same whoever is on file.
    fn request_account_recovery(&self, py: Python<'_>, national_id: &str) -> PyResult<Notice> {
        let id = NationalId::parse(national_id)?;
        Ok(Notice::new(&self.run(py, |p| p.request_account_recovery(&id))?))
    }

    /// Sets the eCPA account's new password, typed twice, with a recovery link's token.
    fn complete_account_recovery(
        &self,
        py: Python<'_>,
        token: &str,
        new_password: &str,
        confirmation: &str,
    ) -> PyResult<Notice> {
        let (new, confirmation) = (password(new_password)?, password(confirmation)?);
        Ok(Notice::new(&self.run(py, |p| {
            p.complete_account_recovery(token, &new, &confirmation)
        })?))
    }

    /// Announced maintenance windows that have not ended.
    fn maintenance_windows(&self, py: Python<'_>) -> PyResult<Vec<MaintenanceWindow>> {
        let list = self.run(py, |p| p.maintenance_windows())?;
        list.iter().map(|w| MaintenanceWindow::new(py, w)).collect()
    }

    // ---- login and sessions ----

    /// Logs in with the NHI card and its registered password.
    fn login_nhi_card(&self, py: Python<'_>, card: &Bound<'_, NhiCard>, password: &str) -> PyResult<Session> {
        let password = self::password(password)?;
        let card = &card.get().data;
        let session = self.run(py, |p| p.login_nhi_card(card, &password))?;
        session_of(py, session)
    }

    /// Certificate login, step one: a fresh single-use challenge.
    fn begin_certificate_login(&self, py: Python<'_>) -> PyResult<CertificateChallenge> {
        let c = self.run(py, |p| p.begin_certificate_login())?;
        Ok(CertificateChallenge {
            challenge_id: c.challenge_id,
            to_sign: c.to_sign,
            expires_at: datetime(py, c.expires_at)?,
            expires_at_roc: c.expires_at.to_slash(),
        })
    }

    /// Certificate login, step two: the certificate (DER) and the signature over `to_sign`
    /// (raw PKCS#1 v1.5, or CMS with `cms=True`); `identify` (account name or national ID) binds
    /// the certificate at the first login.
    #[pyo3(signature = (challenge_id, certificate, signature, *, cms = false, origin = None, identify = None))]
    #[allow(clippy::too_many_arguments)]
    fn complete_certificate_login(
        &self,
        py: Python<'_>,
        challenge_id: String,
        certificate: Vec<u8>,
        signature: Vec<u8>,
        cms: bool,
        origin: Option<String>,
        identify: Option<String>,
    ) -> PyResult<Session> {
        let signature = match (cms, origin) {
            (false, None) => LoginSignature::RawPkcs1(signature),
            (true, None) => LoginSignature::Cms(signature),
            (false, Some(origin)) => LoginSignature::OriginBound { origin, signature },
            (true, Some(_)) => {
                return Err(Error::with(
                    ErrorCode::FieldInvalid,
                    "origin 與 cms 不能同時使用",
                    "origin and cms do not go together",
                )
                .into());
            }
        };
        let response = CertificateResponse {
            challenge_id,
            certificate,
            signature,
            identify,
        };
        let session = self.run(py, |p| p.complete_certificate_login(&response))?;
        session_of(py, session)
    }

    /// Both steps of a certificate login with a key: a `SoftwareCertificate` or the citizen
    /// card's `CitizenCardKey`. With `origin` (`https://host[:port]`, the page's), the login is
    /// origin-bound (`ecpa-origin:1`, as `ecpa agent` signs): the portal accepts it only for
    /// its own public origin.
    #[pyo3(signature = (key, identify = None, *, origin = None))]
    fn login_certificate(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        identify: Option<String>,
        origin: Option<&str>,
    ) -> PyResult<Session> {
        if let Ok(k) = key.cast::<SoftwareCertificate>() {
            return self.login_with(py, &k.get().key, origin, identify);
        }
        if let Ok(k) = key.cast::<CitizenCardKey>() {
            return self.login_with(py, &k.get().key, origin, identify);
        }
        Err(PyTypeError::new_err(format!(
            "expected SoftwareCertificate or CitizenCardKey, got {}",
            key.get_type().name()?
        )))
    }

    /// Logs in with an eCPA account name and password.
    fn login_account(&self, py: Python<'_>, account: &str, password: &str) -> PyResult<Session> {
        let password = self::password(password)?;
        let session = self.run(py, |p| p.login_account(account, &password))?;
        session_of(py, session)
    }

    /// Sets the caller's own eCPA account name and password.
    fn set_account(&self, py: Python<'_>, session: &Bound<'_, Session>, account: &str, password: &str) -> PyResult<()> {
        let password = self::password(password)?;
        let token = token_of(session);
        self.run(py, |p| p.set_account(&token, account, &password))
    }

    /// Who the session belongs to (and whether it is still valid).
    fn session_info(&self, py: Python<'_>, session: &Bound<'_, Session>) -> PyResult<SessionInfo> {
        let token = token_of(session);
        let info = self.run(py, |p| p.session_info(&token))?;
        SessionInfo::new(py, &info)
    }

    /// A session from a token handed over by another process.
    fn resume_session(&self, py: Python<'_>, token: &str) -> PyResult<Session> {
        let token = SessionToken::new(token);
        let info = self.run(py, |p| p.session_info(&token))?;
        session_of(py, crate::portal::Session { token, info })
    }

    /// Ends the session.
    fn logout(&self, py: Python<'_>, session: &Bound<'_, Session>) -> PyResult<()> {
        let token = token_of(session);
        self.run(py, |p| p.logout(&token))
    }

    // ---- application catalogue ----

    /// The catalogue, each entry marked usable or not with this login.
    fn applications(&self, py: Python<'_>, session: &Bound<'_, Session>) -> PyResult<Vec<ApplicationEntry>> {
        let token = token_of(session);
        self.run(py, |p| p.applications(&token))?
            .iter()
            .map(|a| ApplicationEntry::new(py, a))
            .collect()
    }

    /// Adds an application to "my applications".
    fn add_my_application(&self, py: Python<'_>, session: &Bound<'_, Session>, code: &str) -> PyResult<()> {
        let token = token_of(session);
        self.run(py, |p| p.add_my_application(&token, code))
    }

    /// The caller's own list.
    fn my_applications(&self, py: Python<'_>, session: &Bound<'_, Session>) -> PyResult<Vec<ApplicationEntry>> {
        let token = token_of(session);
        self.run(py, |p| p.my_applications(&token))?
            .iter()
            .map(|a| ApplicationEntry::new(py, a))
            .collect()
    }

    /// Opens an application (it must be added and the login strong enough); for one with an
    /// address, `sso` holds the assertion to post there.
    fn open_application(&self, py: Python<'_>, session: &Bound<'_, Session>, code: &str) -> PyResult<ApplicationEntry> {
        let token = token_of(session);
        ApplicationEntry::new(py, &self.run(py, |p| p.open_application(&token, code))?)
    }

    // ---- single sign-on ----

    /// The portal's public keys as a JSON Web Key Set (a `dict`, as `/.well-known/jwks.json`
    /// serves it), for an application to check assertions with.
    fn sso_keys(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let keys = self.run(py, |p| p.sso_keys())?;
        let text = serde_json::to_string(&keys).map_err(|e| Error::internal(e.to_string()))?;
        Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
    }

    /// For an application: checks the assertion it was posted and redeems it, once, for
    /// `audience`, its own code (`AuthError` otherwise: forged, expired, replayed, another's).
    fn redeem_sso_assertion(&self, py: Python<'_>, token: &str, audience: &str) -> PyResult<SsoIdentity> {
        let identity = self.run(py, |p| p.redeem_sso_assertion(token, audience))?;
        SsoIdentity::new(py, &identity)
    }

    // ---- consent ----

    /// The registration terms in force, accepted before the form: pass their `version` as
    /// `terms_version`.
    fn registration_terms(&self, py: Python<'_>) -> PyResult<RegistrationTerms> {
        RegistrationTerms::new(py, self.run(py, |p| p.registration_terms())?)
    }

    /// The consent text in force, with its version.
    fn consent_text(&self, py: Python<'_>) -> PyResult<ConsentText> {
        ConsentText::new(py, self.run(py, |p| p.consent_text())?)
    }

    /// The caller's consent, if given.
    fn consent_status(&self, py: Python<'_>, session: &Bound<'_, Session>) -> PyResult<Option<ConsentRecord>> {
        let token = token_of(session);
        let record = self.run(py, |p| p.consent_status(&token))?;
        record.map(|r| ConsentRecord::new(py, &r)).transpose()
    }

    /// Agrees to the text of `version`; final.
    fn give_consent(&self, py: Python<'_>, session: &Bound<'_, Session>, version: &str) -> PyResult<ConsentRecord> {
        let token = token_of(session);
        let record = self.run(py, |p| p.give_consent(&token, version))?;
        ConsentRecord::new(py, &record)
    }

    /// Asks to withdraw consent: always refused (`ConsentError`), consent is final.
    fn withdraw_consent(&self, py: Python<'_>, session: &Bound<'_, Session>) -> PyResult<()> {
        let token = token_of(session);
        self.run(py, |p| p.withdraw_consent(&token))
    }

    // ---- award orders ----

    /// A personnel officer issues one order.
    fn issue_award_order(
        &self,
        py: Python<'_>,
        session: &Bound<'_, Session>,
        order: &Bound<'_, NewAwardOrder>,
    ) -> PyResult<AwardOrder> {
        let token = token_of(session);
        let order = &order.get().order;
        let issued = self.run(py, |p| p.issue_award_order(&token, order))?;
        AwardOrder::new(py, &issued)
    }

    /// A personnel officer issues many orders: all of them, or none.
    fn issue_award_orders(
        &self,
        py: Python<'_>,
        session: &Bound<'_, Session>,
        orders: Vec<Bound<'_, NewAwardOrder>>,
    ) -> PyResult<BulkIssueReport> {
        let token = token_of(session);
        let orders: Vec<RsNewOrder> = orders.iter().map(|o| o.get().order.clone()).collect();
        let report = self.run(py, |p| p.issue_award_orders(&token, &orders))?;
        BulkIssueReport::new(py, &report)
    }

    /// The caller's orders not yet viewed (未檢視獎令).
    fn unviewed_award_orders(
        &self,
        py: Python<'_>,
        session: &Bound<'_, Session>,
    ) -> PyResult<Vec<Py<AwardOrderSummary>>> {
        let token = token_of(session);
        let list = self.run(py, |p| p.unviewed_award_orders(&token))?;
        AwardOrderSummary::list(py, &list)
    }

    /// Opens one of the caller's orders; the first view signs for it (簽收).
    fn view_award_order(&self, py: Python<'_>, session: &Bound<'_, Session>, order_id: i64) -> PyResult<AwardOrder> {
        let token = token_of(session);
        let order = self.run(py, |p| p.view_award_order(&token, order_id))?;
        AwardOrder::new(py, &order)
    }

    /// The caller's rewards and punishments year by year.
    fn award_history(&self, py: Python<'_>, session: &Bound<'_, Session>) -> PyResult<Vec<YearlyAwards>> {
        let token = token_of(session);
        let years = self.run(py, |p| p.award_history(&token))?;
        years.iter().map(|y| YearlyAwards::new(py, y)).collect()
    }

    /// A personnel officer's list of orders not yet signed for, a page (from 1, at most 100
    /// rows) at a time.
    #[pyo3(signature = (session, *, page = 1, per_page = 100))]
    fn unsigned_award_orders(
        &self,
        py: Python<'_>,
        session: &Bound<'_, Session>,
        page: u32,
        per_page: u32,
    ) -> PyResult<UnsignedPage> {
        let (token, page) = (token_of(session), PageRequest::new(page, per_page)?);
        let list = self.run(py, |p| p.unsigned_award_orders(&token, page))?;
        UnsignedPage::new(py, list, UnsignedOrder::new)
    }

    // ---- proofing ----

    /// The caller's personal record in its nine categories.
    fn personal_record(&self, py: Python<'_>, session: &Bound<'_, Session>) -> PyResult<PersonalRecord> {
        let token = token_of(session);
        let record = self.run(py, |p| p.personal_record(&token))?;
        PersonalRecord::new(py, &record)
    }

    /// Stages a correction of one field; `category` is a stable name (`current_post`) or its
    /// Chinese label (現職資料).
    fn stage_correction(
        &self,
        py: Python<'_>,
        session: &Bound<'_, Session>,
        category: &str,
        field: &str,
        new_value: &str,
    ) -> PyResult<StagedCorrection> {
        let token = token_of(session);
        let category = self::category(category)?;
        Ok(self
            .run(py, |p| p.stage_correction(&token, category, field, new_value))?
            .into())
    }

    /// Drops a staged correction.
    fn discard_correction(
        &self,
        py: Python<'_>,
        session: &Bound<'_, Session>,
        category: &str,
        field: &str,
    ) -> PyResult<()> {
        let token = token_of(session);
        let category = self::category(category)?;
        self.run(py, |p| p.discard_correction(&token, category, field))
    }

    /// 校對完成: submits the staged corrections.
    fn complete_proofing(&self, py: Python<'_>, session: &Bound<'_, Session>) -> PyResult<ProofingSubmission> {
        let token = token_of(session);
        let submission = self.run(py, |p| p.complete_proofing(&token))?;
        ProofingSubmission::new(py, &submission)
    }

    /// The officer's query (人事人員校對查詢); dates as `datetime.date` or ROC strings.
    #[pyo3(signature = (session, *, agency = None, unit = None, date_from = None, date_to = None, proofed = None, processed = None, page = 1, per_page = 100))]
    #[allow(clippy::too_many_arguments)]
    fn proofing_query(
        &self,
        py: Python<'_>,
        session: &Bound<'_, Session>,
        agency: Option<&str>,
        unit: Option<String>,
        date_from: Option<&Bound<'_, PyAny>>,
        date_to: Option<&Bound<'_, PyAny>>,
        proofed: Option<bool>,
        processed: Option<bool>,
        page: u32,
        per_page: u32,
    ) -> PyResult<ProofingPage> {
        let query = ProofingQuery {
            agency: agency.map(AgencyCode::parse).transpose()?,
            unit,
            from: opt_roc_date(date_from)?,
            to: opt_roc_date(date_to)?,
            proofed,
            processed,
            page: PageRequest::new(page, per_page)?,
        };
        let token = token_of(session);
        let rows = self.run(py, |p| p.proofing_query(&token, &query))?;
        ProofingPage::new(py, rows, ProofingQueryRow::new)
    }

    /// The agencies the officer queries and processes (機關代號): their own, then those below.
    fn officer_agencies(&self, py: Python<'_>, session: &Bound<'_, Session>) -> PyResult<Vec<AgencySummary>> {
        let token = token_of(session);
        let list = self.run(py, |p| p.officer_agencies(&token))?;
        Ok(list
            .into_iter()
            .map(|a| AgencySummary {
                code: a.code,
                name: a.name,
                parent_code: a.parent_code,
            })
            .collect())
    }

    /// The officer's open to-do items.
    fn officer_todos(&self, py: Python<'_>, session: &Bound<'_, Session>) -> PyResult<Vec<TodoItem>> {
        let token = token_of(session);
        let list = self.run(py, |p| p.officer_todos(&token))?;
        list.iter().map(|t| TodoItem::new(py, t)).collect()
    }

    /// The corrections of one submission.
    /// The caller's own corrections, newest first, with their outcome (`status` pending,
    /// approved or rejected, and the officer's `reject_reason`).
    fn my_corrections(&self, py: Python<'_>, session: &Bound<'_, Session>) -> PyResult<Vec<ProofingCorrection>> {
        let token = token_of(session);
        let list = self.run(py, |p| p.my_corrections(&token))?;
        list.iter().map(|c| ProofingCorrection::new(py, c)).collect()
    }

    fn submission_corrections(
        &self,
        py: Python<'_>,
        session: &Bound<'_, Session>,
        submission_id: i64,
    ) -> PyResult<Vec<ProofingCorrection>> {
        let token = token_of(session);
        let list = self.run(py, |p| p.submission_corrections(&token, submission_id))?;
        list.iter().map(|c| ProofingCorrection::new(py, c)).collect()
    }

    /// Approves (and applies) a correction, or rejects it with a reason (人事人員處理).
    #[pyo3(signature = (session, correction_id, *, approve, reason = None))]
    fn process_correction(
        &self,
        py: Python<'_>,
        session: &Bound<'_, Session>,
        correction_id: i64,
        approve: bool,
        reason: Option<String>,
    ) -> PyResult<ProofingCorrection> {
        let decision = if approve {
            CorrectionDecision::Approve
        } else {
            CorrectionDecision::Reject {
                reason: reason.unwrap_or_default(),
            }
        };
        let token = token_of(session);
        let done = self.run(py, |p| p.process_correction(&token, correction_id, &decision))?;
        ProofingCorrection::new(py, &done)
    }

    // ---- directory and audit ----

    /// A personnel officer's list of their agency's employees, a page (from 1, at most 100
    /// rows) at a time.
    #[pyo3(signature = (session, *, page = 1, per_page = 100))]
    fn agency_employees(
        &self,
        py: Python<'_>,
        session: &Bound<'_, Session>,
        page: u32,
        per_page: u32,
    ) -> PyResult<StaffPage> {
        let (token, page) = (token_of(session), PageRequest::new(page, per_page)?);
        let list = self.run(py, |p| p.agency_employees(&token, page))?;
        StaffPage::new(py, list, |_, e| Ok(e.into()))
    }

    /// A personnel officer stops the NHI-card registrations of a person of their agency (a lost
    /// card); the person's sessions with it end and they are told by mail.
    fn stop_nhi_registration(
        &self,
        py: Python<'_>,
        session: &Bound<'_, Session>,
        national_id: &str,
    ) -> PyResult<AccessRevoked> {
        self.revoke(py, session, national_id, |p, s, id| p.stop_nhi_registration(s, id))
    }

    /// A personnel officer removes the citizen-certificate bindings of a person of their agency.
    fn remove_certificate_binding(
        &self,
        py: Python<'_>,
        session: &Bound<'_, Session>,
        national_id: &str,
    ) -> PyResult<AccessRevoked> {
        self.revoke(py, session, national_id, |p, s, id| p.remove_certificate_binding(s, id))
    }

    /// The audit trail: who read or changed the caller's (or, for an officer, the agency's) data.
    #[pyo3(signature = (session, *, date_from = None, date_to = None, action = None, limit = None))]
    fn audit_trail(
        &self,
        py: Python<'_>,
        session: &Bound<'_, Session>,
        date_from: Option<&Bound<'_, PyAny>>,
        date_to: Option<&Bound<'_, PyAny>>,
        action: Option<String>,
        limit: Option<u32>,
    ) -> PyResult<Vec<AuditRecord>> {
        let query = AuditQuery {
            from: opt_roc_date(date_from)?,
            to: opt_roc_date(date_to)?,
            action,
            limit,
        };
        let token = token_of(session);
        let list = self.run(py, |p| p.audit_trail(&token, &query))?;
        list.iter().map(|e| AuditRecord::new(py, e)).collect()
    }
}

/// Adds the classes and functions to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyPortal>()?;
    m.add_class::<Session>()?;
    m.add_class::<NewAwardOrder>()?;
    m.add_class::<FileMailer>()?;
    m.add_class::<CertificateChallenge>()?;
    m.add_function(wrap_pyfunction!(read_orders_csv, m)?)?;
    m.add_function(wrap_pyfunction!(doctor, m)?)?;
    Ok(())
}

/// The registration form from the keyword arguments both registration methods take.
fn registration_form(
    card: &Bound<'_, NhiCard>,
    household_number: &str,
    (county, township, village, neighbourhood): (&str, &str, &str, u16),
    (password, confirmation): (&str, &str),
    (phone, mobile): (Option<String>, Option<String>),
    (email, spare_email): (&str, Option<&str>),
    terms_version: String,
) -> PyResult<RegistrationForm> {
    Ok(RegistrationForm {
        card: card.get().data.clone(),
        household_number: HouseholdNumber::parse(household_number)?,
        address: address(county, township, village, neighbourhood)?,
        password: self::password(password)?,
        confirmation: self::password(confirmation)?,
        phone,
        mobile,
        email: Email::parse(email)?,
        spare_email: spare_email.map(Email::parse).transpose()?,
        terms_version,
    })
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn a_database_password_is_left_out_of_the_location() {
        assert_eq!(
            redact("postgres://ecpa:hunter2@db.example.gov.tw:5432/ecpa"),
            "postgres://ecpa:***@db.example.gov.tw:5432/ecpa"
        );
        assert_eq!(redact("postgres://ecpa@db/ecpa"), "postgres://ecpa@db/ecpa");
        assert_eq!(redact("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(redact("/var/lib/ecpa/ecpa.db"), "/var/lib/ecpa/ecpa.db");
        assert_eq!(redact("postgres://h/db?x=a@b"), "postgres://h/db?x=a@b");
    }
}
