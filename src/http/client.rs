//! [`RemotePortal`]: the [`Portal`] trait over HTTP, so a program moves from the embedded engine
//! to a shared `ecpa serve` by changing one line.
//!
//! Calls are blocking (reqwest's blocking client, rustls), like the engine's. A failure the
//! server reports comes back as the very [`Error`] the engine raised there: the same variant,
//! code and fields (`tries_left`, `until`, the maintenance period, the assurance levels).
//! Transport failures have their own codes (`E9550 http_unreachable`, `E9551 http_timeout`,
//! `E9552 http_bad_response`). Only idempotent calls are retried (reads, and writes whose repeat
//! changes nothing, such as agreeing again or signing for an order already signed for); a login,
//! an issuance or a registration is never sent twice behind the caller's back, since a repeat
//! could count a wrong password twice or mail a person twice.

use std::time::Duration;

use reqwest::Method;
use reqwest::blocking::{Client, RequestBuilder};
use serde::Serialize;

use super::api::{self as op, Operation, PathParams, is_none};
use super::wire::*;
use crate::error::{Error, ErrorCode, Result};
use crate::portal::{
    AccessRevoked, AgencySummary, Application, AuditEntry, AuditQuery, AwardOrder, AwardOrderSummary, BulkIssueReport,
    CertificateChallenge, CertificateResponse, ConsentRecord, ConsentText, CorrectionDecision, DetailsChange,
    EmployeeSummary, Jwks, MaintenanceWindow, NewAwardOrder, Notice, Page, PageRequest, PersonalRecord, Portal,
    ProofingCategory, ProofingCorrection, ProofingQuery, ProofingQueryRow, ProofingSubmission, RegistrationDetails,
    RegistrationForm, RegistrationReceipt, RegistrationTerms, ResetDelivery, Session, SessionInfo, SessionToken,
    SsoIdentity, StagedCorrection, TodoItem, UnsignedOrder, YearlyAwards,
};
use crate::types::{NationalId, NhiCardData, Password};

/// Settings of a [`RemotePortal`].
#[derive(Debug, Clone)]
pub struct RemotePortalBuilder {
    base: String,
    timeout: Duration,
    connect_timeout: Duration,
    retries: u32,
    roots_pem: Vec<Vec<u8>>,
}

impl RemotePortalBuilder {
    /// The longest a whole call may take (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The longest connecting may take (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How many times an idempotent call is repeated after a transport failure (default 2).
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// Also trusts this PEM CA certificate for `https://` (a private deployment's own CA).
    pub fn add_root_pem(mut self, pem: &[u8]) -> Self {
        self.roots_pem.push(pem.to_vec());
        self
    }

    /// The client.
    pub fn build(self) -> Result<RemotePortal> {
        let bad = |e: &dyn std::fmt::Display| {
            Error::with(
                ErrorCode::TlsFailed,
                format!("HTTP 用戶端設定失敗：{e}"),
                format!("HTTP client setup failed: {e}"),
            )
        };
        let mut b = Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(concat!("ecpa/", env!("CARGO_PKG_VERSION")));
        for pem in &self.roots_pem {
            let cert = reqwest::Certificate::from_pem(pem).map_err(|e| bad(&e))?;
            b = b.add_root_certificate(cert);
        }
        let http = b.build().map_err(|e| bad(&e))?;
        let base = self.base.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::with(
                ErrorCode::ConfigInvalid,
                format!("服務網址應以 http:// 或 https:// 開頭：{base}"),
                format!("the service URL must start with http:// or https://: {base}"),
            ));
        }
        Ok(RemotePortal {
            base,
            http,
            retries: self.retries,
        })
    }
}

/// The portal of an `ecpa serve` at a URL.
#[derive(Debug, Clone)]
pub struct RemotePortal {
    base: String,
    http: Client,
    retries: u32,
}

/// Percent-encodes one path segment.
fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn transport(e: reqwest::Error) -> Error {
    // reqwest's own text is generic ("error sending request"); the cause is down the chain.
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    let code = if e.is_timeout() {
        ErrorCode::HttpTimeout
    } else if e.is_connect() || e.is_request() {
        ErrorCode::HttpUnreachable
    } else {
        ErrorCode::HttpBadResponse
    };
    Error::caused(code, text.clone(), text, e)
}

impl RemotePortal {
    /// A client of the service at `base_url` (e.g. `https://ecpa.example.gov.tw`), with the
    /// default timeouts and retries.
    pub fn new(base_url: &str) -> Result<RemotePortal> {
        Self::builder(base_url).build()
    }

    /// A client to configure.
    pub fn builder(base_url: &str) -> RemotePortalBuilder {
        RemotePortalBuilder {
            base: base_url.to_owned(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            retries: 2,
            roots_pem: Vec::new(),
        }
    }

    /// The service's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn request(&self, method: &Method, path: &str, session: Option<&SessionToken>) -> RequestBuilder {
        let mut r = self.http.request(method.clone(), format!("{}{path}", self.base));
        if let Some(s) = session {
            r = r.bearer_auth(s.expose());
        }
        r
    }

    /// Sends one call; returns the body of a 2xx answer, or the server's typed error.
    fn send<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        session: Option<&SessionToken>,
        body: Option<&B>,
        idempotent: bool,
    ) -> Result<Vec<u8>> {
        let tries = if idempotent { self.retries + 1 } else { 1 };
        let mut last = Error::new(ErrorCode::HttpUnreachable);
        for attempt in 0..tries {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(100 << attempt.min(4)));
            }
            let mut r = self.request(&method, path, session);
            if let Some(b) = body {
                r = r.json(b);
            }
            let response = match r.send() {
                Ok(resp) => resp,
                Err(e) => {
                    last = transport(e);
                    continue;
                }
            };
            let status = response.status();
            let bytes = match response.bytes() {
                Ok(b) => b.to_vec(),
                Err(e) => {
                    last = transport(e);
                    continue;
                }
            };
            if status.is_success() {
                return Ok(bytes);
            }
            let error = match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(body) => body.to_error(),
                Err(_) => Error::with(
                    ErrorCode::HttpBadResponse,
                    format!("HTTP {status}，回應不是錯誤格式"),
                    format!("HTTP {status} without an error body"),
                ),
            };
            // The server was busy or slow: worth another try, if a repeat is harmless.
            if matches!(error.code(), ErrorCode::StorageBusy | ErrorCode::HttpTimeout) {
                last = error;
                continue;
            }
            return Err(error);
        }
        Err(last)
    }

    /// Calls operation `O` as its declaration says (method, path, retries), with its path
    /// parameters and body; returns its answer.
    fn call<O: Operation>(
        &self,
        session: Option<&SessionToken>,
        params: O::Params,
        body: O::Request,
    ) -> Result<O::Response> {
        let e = O::ENDPOINT;
        let method = Method::from_bytes(e.method.as_bytes())
            .map_err(|_| Error::internal(format!("{} is not an HTTP method", e.method)))?;
        let path = fill(e.path, &params.segments());
        let body = (!is_none::<O::Request>()).then_some(&body);
        let bytes = self.send(method, &path, session, body, e.idempotent)?;
        // A 204 has no body to decode; `()` is JSON's `null`.
        let bytes: &[u8] = if is_none::<O::Response>() { b"null" } else { &bytes };
        serde_json::from_slice(bytes).map_err(|e| {
            Error::with(
                ErrorCode::HttpBadResponse,
                format!("回應內容無法解讀：{e}"),
                format!("the answer does not decode: {e}"),
            )
        })
    }

    /// [`RemotePortal::call`] of a login: the session it opened.
    fn login<O: Operation<Params = (), Response = SessionWire>>(&self, body: O::Request) -> Result<Session> {
        let w = self.call::<O>(None, (), body)?;
        Ok(Session {
            token: SessionToken::new(w.token),
            info: w.info,
        })
    }

    /// `GET /api/v1/ping`: whether the service answers (the benchmarks' empty endpoint).
    pub fn ping(&self) -> Result<()> {
        self.call::<op::Ping>(None, (), ()).map(drop)
    }
}

/// A declared path with its `{name}`s replaced by `segments`, each percent-encoded.
fn fill(template: &str, segments: &[String]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut values = segments.iter();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
        out.push_str(&values.next().map(|v| segment(v)).unwrap_or_default());
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

impl Portal for RemotePortal {
    fn start_nhi_registration(&self, form: &RegistrationForm) -> Result<RegistrationReceipt> {
        self.call::<op::StartNhiRegistration>(None, (), RegistrationWire::from(form))
    }
    fn resend_confirmation(&self, card: &NhiCardData) -> Result<RegistrationReceipt> {
        let body = CardOnly {
            card: CardWire::from(card),
        };
        self.call::<op::ResendConfirmation>(None, (), body)
    }
    fn registration_terms(&self) -> Result<RegistrationTerms> {
        self.call::<op::GetRegistrationTerms>(None, (), ())
    }
    fn confirm_nhi_registration(&self, card: &NhiCardData, token: &str) -> Result<Notice> {
        let body = CardToken {
            card: CardWire::from(card),
            token: token.to_owned(),
        };
        self.call::<op::ConfirmNhiRegistration>(None, (), body)
    }
    fn request_password_reset(&self, card: &NhiCardData, delivery: &ResetDelivery) -> Result<RegistrationReceipt> {
        self.call::<op::RequestPasswordReset>(None, (), ResetRequestWire::new(card, delivery))
    }
    fn complete_password_reset(
        &self,
        card: &NhiCardData,
        token: &str,
        new_password: &Password,
        confirmation: &Password,
    ) -> Result<Notice> {
        let body = ResetCompleteWire {
            card: CardWire::from(card),
            token: token.to_owned(),
            new_password: new_password.expose().into(),
            confirmation: confirmation.expose().into(),
        };
        self.call::<op::CompletePasswordReset>(None, (), body)
    }
    fn request_registration_deletion(&self, card: &NhiCardData) -> Result<RegistrationReceipt> {
        let body = CardOnly {
            card: CardWire::from(card),
        };
        self.call::<op::RequestRegistrationDeletion>(None, (), body)
    }
    fn complete_registration_deletion(&self, card: &NhiCardData, token: &str) -> Result<Notice> {
        let body = CardToken {
            card: CardWire::from(card),
            token: token.to_owned(),
        };
        self.call::<op::CompleteRegistrationDeletion>(None, (), body)
    }
    fn change_registration_password(
        &self,
        card: &NhiCardData,
        old: &Password,
        new: &Password,
        confirmation: &Password,
    ) -> Result<Notice> {
        let body = PasswordChangeWire {
            card: CardWire::from(card),
            old_password: old.expose().into(),
            new_password: new.expose().into(),
            confirmation: confirmation.expose().into(),
        };
        self.call::<op::ChangeRegistrationPassword>(None, (), body)
    }
    fn change_registration_details(
        &self,
        card: &NhiCardData,
        password: &Password,
        details: &RegistrationDetails,
    ) -> Result<DetailsChange> {
        let body = DetailsWire {
            card: CardWire::from(card),
            password: password.expose().into(),
            phone: details.phone.clone(),
            mobile: details.mobile.clone(),
            email: details.email.as_str().to_owned(),
        };
        self.call::<op::ChangeRegistrationDetails>(None, (), body)
    }
    fn complete_email_change(&self, card: &NhiCardData, token: &str) -> Result<Notice> {
        let body = CardToken {
            card: CardWire::from(card),
            token: token.to_owned(),
        };
        self.call::<op::CompleteEmailChange>(None, (), body)
    }
    fn request_account_recovery(&self, national_id: &NationalId) -> Result<Notice> {
        self.call::<op::RequestAccountRecovery>(None, (), PersonWire::of(national_id))
    }
    fn complete_account_recovery(
        &self,
        token: &str,
        new_password: &Password,
        confirmation: &Password,
    ) -> Result<Notice> {
        let body = AccountRecoveryWire {
            token: token.to_owned(),
            new_password: new_password.expose().into(),
            confirmation: confirmation.expose().into(),
        };
        self.call::<op::CompleteAccountRecovery>(None, (), body)
    }
    fn maintenance_windows(&self) -> Result<Vec<MaintenanceWindow>> {
        self.call::<op::MaintenanceWindows>(None, (), ())
    }
    fn announcements(&self) -> Result<Vec<crate::portal::Announcement>> {
        self.call::<op::Announcements>(None, (), ())
    }

    fn login_nhi_card(&self, card: &NhiCardData, password: &Password) -> Result<Session> {
        self.login::<op::LoginNhiCard>(NhiLoginWire {
            card: CardWire::from(card),
            password: password.expose().into(),
            possession: None,
        })
    }
    fn begin_certificate_login(&self) -> Result<CertificateChallenge> {
        self.call::<op::BeginCertificateLogin>(None, (), ())
    }
    fn complete_certificate_login(&self, response: &CertificateResponse) -> Result<Session> {
        self.login::<op::CompleteCertificateLogin>(CertificateLoginWire::from(response))
    }
    fn login_account(&self, account: &str, password: &Password) -> Result<Session> {
        self.login::<op::LoginAccount>(AccountWire {
            account: account.to_owned(),
            password: password.expose().into(),
        })
    }
    fn set_account(&self, session: &SessionToken, account: &str, password: &Password) -> Result<()> {
        let body = AccountWire {
            account: account.to_owned(),
            password: password.expose().into(),
        };
        self.call::<op::SetAccount>(Some(session), (), body)
    }
    fn session_info(&self, session: &SessionToken) -> Result<SessionInfo> {
        self.call::<op::GetSessionInfo>(Some(session), (), ())
    }
    fn logout(&self, session: &SessionToken) -> Result<()> {
        self.call::<op::Logout>(Some(session), (), ())
    }

    fn applications(&self, session: &SessionToken) -> Result<Vec<Application>> {
        self.call::<op::Applications>(Some(session), (), ())
    }
    fn add_my_application(&self, session: &SessionToken, code: &str) -> Result<()> {
        let body = AppCode { code: code.to_owned() };
        self.call::<op::AddMyApplication>(Some(session), (), body)
    }
    fn my_applications(&self, session: &SessionToken) -> Result<Vec<Application>> {
        self.call::<op::MyApplications>(Some(session), (), ())
    }
    fn open_application(&self, session: &SessionToken, code: &str) -> Result<Application> {
        self.call::<op::OpenApplication>(Some(session), code.to_owned(), ())
    }
    fn sso_keys(&self) -> Result<Jwks> {
        self.call::<op::GetSsoKeys>(None, (), ())
    }
    fn redeem_sso_assertion(&self, token: &str, audience: &str) -> Result<SsoIdentity> {
        let body = SsoRedeemWire {
            token: token.to_owned(),
            audience: audience.to_owned(),
        };
        self.call::<op::RedeemSsoAssertion>(None, (), body)
    }

    fn consent_text(&self) -> Result<ConsentText> {
        self.call::<op::GetConsentText>(None, (), ())
    }
    fn consent_status(&self, session: &SessionToken) -> Result<Option<ConsentRecord>> {
        self.call::<op::ConsentStatus>(Some(session), (), ())
    }
    fn give_consent(&self, session: &SessionToken, version: &str) -> Result<ConsentRecord> {
        let body = ConsentWire {
            version: version.to_owned(),
        };
        self.call::<op::GiveConsent>(Some(session), (), body)
    }
    fn withdraw_consent(&self, session: &SessionToken) -> Result<()> {
        self.call::<op::WithdrawConsent>(Some(session), (), ())
    }

    fn issue_award_order(&self, session: &SessionToken, order: &NewAwardOrder) -> Result<AwardOrder> {
        self.call::<op::IssueAwardOrder>(Some(session), (), AwardOrderWire::from(order))
    }
    fn issue_award_orders(&self, session: &SessionToken, orders: &[NewAwardOrder]) -> Result<BulkIssueReport> {
        let body = BulkWire {
            orders: orders.iter().map(AwardOrderWire::from).collect(),
        };
        self.call::<op::IssueAwardOrders>(Some(session), (), body)
    }
    fn unviewed_award_orders(&self, session: &SessionToken) -> Result<Vec<AwardOrderSummary>> {
        self.call::<op::UnviewedAwardOrders>(Some(session), (), ())
    }
    fn view_award_order(&self, session: &SessionToken, order_id: i64) -> Result<AwardOrder> {
        self.call::<op::ViewAwardOrder>(Some(session), order_id, ())
    }
    fn award_history(&self, session: &SessionToken) -> Result<Vec<YearlyAwards>> {
        self.call::<op::AwardHistory>(Some(session), (), ())
    }
    fn unsigned_award_orders(&self, session: &SessionToken, page: PageRequest) -> Result<Page<UnsignedOrder>> {
        self.call::<op::UnsignedAwardOrders>(Some(session), (), page)
    }

    fn personal_record(&self, session: &SessionToken) -> Result<PersonalRecord> {
        self.call::<op::GetPersonalRecord>(Some(session), (), ())
    }
    fn my_corrections(&self, session: &SessionToken) -> Result<Vec<ProofingCorrection>> {
        self.call::<op::MyCorrections>(Some(session), (), ())
    }
    fn stage_correction(
        &self,
        session: &SessionToken,
        category: ProofingCategory,
        field: &str,
        new_value: &str,
    ) -> Result<StagedCorrection> {
        let body = StageWire {
            category,
            field: field.to_owned(),
            new_value: new_value.to_owned(),
        };
        self.call::<op::StageCorrection>(Some(session), (), body)
    }
    fn discard_correction(&self, session: &SessionToken, category: ProofingCategory, field: &str) -> Result<()> {
        let params = (category.as_str().to_owned(), field.to_owned());
        self.call::<op::DiscardCorrection>(Some(session), params, ())
    }
    fn complete_proofing(&self, session: &SessionToken) -> Result<ProofingSubmission> {
        self.call::<op::CompleteProofing>(Some(session), (), ())
    }
    fn proofing_query(&self, session: &SessionToken, query: &ProofingQuery) -> Result<Page<ProofingQueryRow>> {
        self.call::<op::QueryProofing>(Some(session), (), ProofingQueryWire::from(query))
    }
    fn officer_agencies(&self, session: &SessionToken) -> Result<Vec<AgencySummary>> {
        self.call::<op::OfficerAgencies>(Some(session), (), ())
    }
    fn officer_todos(&self, session: &SessionToken) -> Result<Vec<TodoItem>> {
        self.call::<op::OfficerTodos>(Some(session), (), ())
    }
    fn submission_corrections(&self, session: &SessionToken, submission_id: i64) -> Result<Vec<ProofingCorrection>> {
        self.call::<op::SubmissionCorrections>(Some(session), submission_id, ())
    }
    fn process_correction(
        &self,
        session: &SessionToken,
        correction_id: i64,
        decision: &CorrectionDecision,
    ) -> Result<ProofingCorrection> {
        self.call::<op::ProcessCorrection>(Some(session), correction_id, DecisionWire::from(decision))
    }

    fn agency_employees(&self, session: &SessionToken, page: PageRequest) -> Result<Page<EmployeeSummary>> {
        self.call::<op::AgencyEmployees>(Some(session), (), page)
    }
    fn audit_trail(&self, session: &SessionToken, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
        self.call::<op::AuditTrail>(Some(session), (), AuditQueryWire::from(query))
    }

    fn stop_nhi_registration(&self, session: &SessionToken, national_id: &NationalId) -> Result<AccessRevoked> {
        self.call::<op::StopNhiRegistration>(Some(session), (), PersonWire::of(national_id))
    }
    fn remove_certificate_binding(&self, session: &SessionToken, national_id: &NationalId) -> Result<AccessRevoked> {
        self.call::<op::RemoveCertificateBinding>(Some(session), (), PersonWire::of(national_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transport_failure_keeps_the_http_error_as_its_source() {
        // A port nothing listens on: the connection is refused.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let portal = RemotePortal::builder(&format!("http://127.0.0.1:{port}"))
            .retries(0)
            .build()
            .expect("client");
        let e = portal.ping().expect_err("nothing listens");
        assert_eq!(e.code(), ErrorCode::HttpUnreachable);
        let source = std::error::Error::source(&e).expect("a source");
        assert!(
            source
                .downcast_ref::<reqwest::Error>()
                .is_some_and(reqwest::Error::is_connect),
            "{source:?}"
        );
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(segment("B5"), "B5");
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
        assert_eq!(segment("郵"), "%E9%83%B5");
    }

    #[test]
    fn paths_are_filled_in_order() {
        let two = ["personal".to_owned(), "電話/分機".to_owned()];
        assert_eq!(
            fill("/a/{category}/{field}", &two),
            "/a/personal/%E9%9B%BB%E8%A9%B1%2F%E5%88%86%E6%A9%9F"
        );
        assert_eq!(fill("/b/{id}/view", &["7".to_owned()]), "/b/7/view");
        assert_eq!(fill("/c", &[]), "/c");
    }
}
