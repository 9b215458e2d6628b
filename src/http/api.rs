//! Every operation of `/api/v1`, each declared once (and `/.well-known/jwks.json`, the single
//! sign-on keys, where applications look for them by convention).
//!
//! A declaration names the operation's method and path, who may call it, whether it is
//! rate-limited and safe to repeat, the types of its path parameters, request body and
//! response body, and (for all but the few whose answer is more than the engine's result) the
//! engine call that serves it. Everything else is derived from it:
//! - the server's routes and its one generic handler ([`Served`], in `server`);
//! - [`RemotePortal`](super::RemotePortal)'s calls (method, path, retries: `client`);
//! - the OpenAPI document ([`openapi`](super::openapi));
//! - [`ENDPOINTS`], the table the tests walk (the authorization matrix, the bad-input suite).
//!
//! Adding an operation is its engine method, one entry here, and a line in `RemotePortal`
//! turning the engine's arguments into the request body.
//!
//! The ROC-era wording of the summaries is the guides' own.

use std::any::TypeId;
use std::net::IpAddr;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::wire::*;
use crate::error::{ErrorCode, Result};
use crate::portal::{
    AccessRevoked, AgencySummary, Announcement, Application, AuditEntry, AwardOrder, AwardOrderSummary,
    BulkIssueReport, CertificateChallenge, ConsentRecord, ConsentText, DetailsChange, EmployeeSummary, Jwks,
    LocalPortal, MaintenanceWindow, Notice, Page, PageRequest, PersonalRecord, Portal, ProofingCategory,
    ProofingCorrection, ProofingQueryRow, ProofingSubmission, RegistrationReceipt, RegistrationTerms, SessionInfo,
    SessionToken, SsoIdentity, StagedCorrection, TodoItem, UnsignedOrder, YearlyAwards,
};
use crate::types::Password;

/// Who may call an endpoint, before the engine's own checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Anyone (registration, login, public texts).
    Public,
    /// Any logged-in employee, for their own data.
    Session,
    /// A personnel officer, for their own agency.
    Officer,
}

/// One endpoint of the API, as its declaration states it.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// `GET`, `POST`, `PUT` or `DELETE`.
    pub method: &'static str,
    /// The path under the server root, with `{name}` parameters.
    pub path: &'static str,
    /// The [`Portal`] method it runs (the OpenAPI `operationId`).
    pub operation: &'static str,
    /// Who may call it.
    pub access: Access,
    /// The request body's type (its schema's name), if it takes one.
    pub request: Option<&'static str>,
    /// The response body's type as declared (`()`: 204 No Content).
    pub response: &'static str,
    /// Safe to repeat: the client retries these on transport failures.
    pub idempotent: bool,
    /// Rate-limited per client address (`login` or `registration`).
    pub limit: Option<&'static str>,
    /// What it does, in Chinese.
    pub summary_zh: &'static str,
}

/// An operation of the API: its [`Endpoint`] and the types that cross the wire.
pub trait Operation: 'static {
    /// The declaration.
    const ENDPOINT: Endpoint;
    /// The path parameters, in the order of the path's `{name}`s (`()`: none).
    type Params: PathParams + DeserializeOwned + Send + 'static;
    /// The JSON request body (`()`: none).
    type Request: Serialize + DeserializeOwned + JsonSchema + Send + 'static;
    /// The JSON response body (`()`: 204 No Content).
    type Response: Serialize + DeserializeOwned + JsonSchema + Send + 'static;
}

/// Whether an operation's request or response type is "no body".
pub fn is_none<T: 'static>() -> bool {
    TypeId::of::<T>() == TypeId::of::<()>()
}

/// An operation whose answer is the engine's result and nothing more: the generic handler
/// runs [`Served::call`] on the blocking pool and answers its value as JSON (or 204).
pub trait Served: Operation {
    /// The engine call, from what the request carried.
    fn call(portal: &LocalPortal, call: Call<Self::Params, Self::Request>) -> Result<Self::Response>;
}

/// What a request carried, checked by the server before the engine sees it.
#[derive(Debug)]
pub struct Call<P, B> {
    /// The caller's session: present for every operation that is not [`Access::Public`].
    pub session: Option<SessionToken>,
    /// The client's address, as rate limits and wrong-password counts take it.
    pub from: IpAddr,
    /// The path parameters.
    pub params: P,
    /// The request body.
    pub body: B,
}

impl<P, B> Call<P, B> {
    /// The caller's session ([`ErrorCode::SessionInvalid`] without one; the server never
    /// serves a session operation without it).
    pub fn token(&self) -> Result<&SessionToken> {
        self.session.as_ref().ok_or_else(|| ErrorCode::SessionInvalid.into())
    }
}

/// Path parameters, as the client writes them into a path.
pub trait PathParams {
    /// Each parameter's text, in order (before percent-encoding).
    fn segments(&self) -> Vec<String>;
}

impl PathParams for () {
    fn segments(&self) -> Vec<String> {
        Vec::new()
    }
}

impl PathParams for i64 {
    fn segments(&self) -> Vec<String> {
        vec![self.to_string()]
    }
}

impl PathParams for String {
    fn segments(&self) -> Vec<String> {
        vec![self.clone()]
    }
}

impl PathParams for (String, String) {
    fn segments(&self) -> Vec<String> {
        vec![self.0.clone(), self.1.clone()]
    }
}

/// The body of `GET /api/v1/ping`: an empty object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Empty {}

/// What walks the declarations: the router (adding the generic handler for each [`Served`]
/// operation) and the OpenAPI document (every operation).
pub trait Visitor {
    /// An operation the generic handler serves.
    fn served<O: Served>(&mut self);
    /// An operation with a handler of its own (it sets cookies, or is not an engine call).
    fn special<O: Operation>(&mut self);
}

macro_rules! operations {
    ($(
        $name:ident: $method:literal $path:literal, $op:ident, $access:ident, $limit:expr, $idem:literal,
        $zh:literal, ($params:ty) $req:tt => $resp:ty $(, |$p:ident, $c:ident| $call:expr)?;
    )*) => {
        $(
            #[doc = concat!("`", $method, " ", $path, "`: ", $zh, ".")]
            #[derive(Debug, Clone, Copy)]
            pub struct $name;

            impl Operation for $name {
                const ENDPOINT: Endpoint = Endpoint {
                    method: $method,
                    path: $path,
                    operation: stringify!($op),
                    access: Access::$access,
                    request: operations!(@request $req),
                    response: stringify!($resp),
                    idempotent: $idem,
                    limit: $limit,
                    summary_zh: $zh,
                };
                type Params = $params;
                type Request = $req;
                type Response = $resp;
            }

            $(
                impl Served for $name {
                    fn call($p: &LocalPortal, $c: Call<$params, $req>) -> Result<$resp> {
                        $call
                    }
                }
            )?
        )*

        /// Every endpoint of `/api/v1`, one per [`Portal`](crate::portal::Portal) operation
        /// (plus `ping`), in the order of their declarations.
        pub const ENDPOINTS: &[Endpoint] = &[$($name::ENDPOINT),*];

        /// Shows `v` every operation, in the order of their declarations.
        pub fn visit(v: &mut impl Visitor) {
            $(operations!(@visit v, $name $(, $call)?);)*
        }
    };
    (@request ()) => { None };
    (@request $req:ty) => { Some(stringify!($req)) };
    (@visit $v:ident, $name:ident) => { $v.special::<$name>() };
    (@visit $v:ident, $name:ident, $call:expr) => { $v.served::<$name>() };
}

operations! {
    GetRegistrationTerms: "GET" "/api/v1/registrations/terms", registration_terms, Public, None, true,
        "全民健康保險網路服務註冊管理作業要點", (()) () => RegistrationTerms,
        |p, _c| p.registration_terms();
    StartNhiRegistration: "POST" "/api/v1/registrations", start_nhi_registration, Public, Some("registration"), false,
        "健保卡網路服務註冊", (()) RegistrationWire => RegistrationReceipt,
        |p, c| p.start_nhi_registration(&c.body.to_form()?);
    ResendConfirmation: "POST" "/api/v1/registrations/resend", resend_confirmation, Public, Some("registration"), false,
        "重寄認證信", (()) CardOnly => RegistrationReceipt,
        |p, c| p.resend_confirmation(&c.body.card.to_card()?);
    ConfirmNhiRegistration: "POST" "/api/v1/registrations/confirm", confirm_nhi_registration, Public,
        Some("registration"), false,
        "完成註冊（認證連結）", (()) CardToken => Notice,
        |p, c| p.confirm_nhi_registration(&c.body.card.to_card()?, &c.body.token);
    RequestPasswordReset: "POST" "/api/v1/password-resets", request_password_reset, Public, Some("registration"), false,
        "忘記密碼：寄送重設連結", (()) ResetRequestWire => RegistrationReceipt,
        |p, c| p.request_password_reset_from(&c.body.card.to_card()?, &c.body.to_delivery()?, Some(c.from));
    CompletePasswordReset: "POST" "/api/v1/password-resets/complete", complete_password_reset, Public,
        Some("registration"), false,
        "重設密碼", (()) ResetCompleteWire => Notice,
        |p, c| {
            let card = c.body.card.to_card()?;
            let password = Password::new(c.body.new_password.expose())?;
            let confirmation = Password::new(c.body.confirmation.expose())?;
            p.complete_password_reset(&card, &c.body.token, &password, &confirmation)
        };
    RequestRegistrationDeletion: "POST" "/api/v1/registrations/deletions", request_registration_deletion, Public,
        Some("registration"), false,
        "刪除註冊申請：寄送確認連結", (()) CardOnly => RegistrationReceipt,
        |p, c| p.request_registration_deletion(&c.body.card.to_card()?);
    CompleteRegistrationDeletion: "POST" "/api/v1/registrations/deletions/complete", complete_registration_deletion,
        Public, Some("registration"), false,
        "刪除註冊申請（確認連結）", (()) CardToken => Notice,
        |p, c| p.complete_registration_deletion(&c.body.card.to_card()?, &c.body.token);
    ChangeRegistrationPassword: "POST" "/api/v1/registrations/password", change_registration_password, Public,
        Some("login"), false,
        "註冊密碼變更", (()) PasswordChangeWire => Notice,
        |p, c| {
            let card = c.body.card.to_card()?;
            let old = Password::new(c.body.old_password.expose())?;
            let new = Password::new(c.body.new_password.expose())?;
            let confirmation = Password::new(c.body.confirmation.expose())?;
            p.change_registration_password_from(&card, &old, &new, &confirmation, Some(c.from))
        };
    ChangeRegistrationDetails: "POST" "/api/v1/registrations/details", change_registration_details, Public,
        Some("login"), false,
        "基本資料異動", (()) DetailsWire => DetailsChange,
        |p, c| {
            let card = c.body.card.to_card()?;
            let password = Password::new(c.body.password.expose())?;
            p.change_registration_details_from(&card, &password, &c.body.to_details()?, Some(c.from))
        };
    CompleteEmailChange: "POST" "/api/v1/registrations/email-change/complete", complete_email_change, Public,
        Some("registration"), false,
        "電子信箱變更（認證連結）", (()) CardToken => Notice,
        |p, c| p.complete_email_change(&c.body.card.to_card()?, &c.body.token);
    MaintenanceWindows: "GET" "/api/v1/maintenance-windows", maintenance_windows, Public, None, true,
        "系統維護公告", (()) () => Vec<MaintenanceWindow>,
        |p, _c| p.maintenance_windows();
    Announcements: "GET" "/api/v1/announcements", announcements, Public, None, true,
        "系統公告", (()) () => Vec<Announcement>,
        |p, _c| p.announcements();
    LoginNhiCard: "POST" "/api/v1/login/nhi-card", login_nhi_card, Public, Some("login"), false,
        "健保卡登入", (()) NhiLoginWire => SessionWire;
    BeginCertificateLogin: "POST" "/api/v1/login/certificate/challenge", begin_certificate_login, Public,
        Some("login"), false,
        "自然人憑證登入：取得挑戰碼", (()) () => CertificateChallenge,
        |p, c| p.begin_certificate_login_from(Some(c.from));
    CompleteCertificateLogin: "POST" "/api/v1/login/certificate", complete_certificate_login, Public,
        Some("login"), false,
        "自然人憑證登入", (()) CertificateLoginWire => SessionWire;
    LoginAccount: "POST" "/api/v1/login/account", login_account, Public, Some("login"), false,
        "帳號密碼登入", (()) AccountWire => SessionWire;
    RequestAccountRecovery: "POST" "/api/v1/account-recoveries", request_account_recovery, Public,
        Some("registration"), false,
        "忘記帳號或密碼", (()) PersonWire => Notice,
        |p, c| p.request_account_recovery(&c.body.to_id()?);
    CompleteAccountRecovery: "POST" "/api/v1/account-recoveries/complete", complete_account_recovery, Public,
        Some("registration"), false,
        "重設帳號密碼（連結）", (()) AccountRecoveryWire => Notice,
        |p, c| {
            let password = Password::new(c.body.new_password.expose())?;
            let confirmation = Password::new(c.body.confirmation.expose())?;
            p.complete_account_recovery(&c.body.token, &password, &confirmation)
        };
    SetAccount: "PUT" "/api/v1/account", set_account, Session, None, false,
        "設定 eCPA 帳號", (()) AccountWire => (),
        |p, c| p.set_account(c.token()?, &c.body.account, &Password::new(c.body.password.expose())?);
    GetSessionInfo: "GET" "/api/v1/session", session_info, Session, None, true,
        "登入資訊", (()) () => SessionInfo,
        |p, c| p.session_info(c.token()?);
    Logout: "POST" "/api/v1/logout", logout, Session, None, true,
        "登出", (()) () => ();
    Applications: "GET" "/api/v1/applications", applications, Session, None, true,
        "應用系統目錄", (()) () => Vec<Application>,
        |p, c| p.applications(c.token()?);
    MyApplications: "GET" "/api/v1/my-applications", my_applications, Session, None, true,
        "我的應用系統", (()) () => Vec<Application>,
        |p, c| p.my_applications(c.token()?);
    AddMyApplication: "POST" "/api/v1/my-applications", add_my_application, Session, None, true,
        "加入我的應用系統", (()) AppCode => (),
        |p, c| p.add_my_application(c.token()?, &c.body.code);
    OpenApplication: "POST" "/api/v1/applications/{code}/open", open_application, Session, None, true,
        "開啟應用系統", (String) () => Application,
        |p, c| p.open_application(c.token()?, &c.params);
    GetSsoKeys: "GET" "/.well-known/jwks.json", sso_keys, Public, None, true,
        "單一登入驗章公鑰（JWKS）", (()) () => Jwks;
    RedeemSsoAssertion: "POST" "/api/v1/sso/redeem", redeem_sso_assertion, Public, None, false,
        "應用系統兌換單一登入憑證", (()) SsoRedeemWire => SsoIdentity,
        |p, c| p.redeem_sso_assertion(&c.body.token, &c.body.audience);
    GetConsentText: "GET" "/api/v1/consent/text", consent_text, Public, None, true,
        "獎令電子化同意書", (()) () => ConsentText,
        |p, _c| p.consent_text();
    ConsentStatus: "GET" "/api/v1/consent", consent_status, Session, None, true,
        "同意狀態", (()) () => Option<ConsentRecord>,
        |p, c| p.consent_status(c.token()?);
    GiveConsent: "POST" "/api/v1/consent", give_consent, Session, None, true,
        "同意獎令電子化", (()) ConsentWire => ConsentRecord,
        |p, c| p.give_consent(c.token()?, &c.body.version);
    WithdrawConsent: "DELETE" "/api/v1/consent", withdraw_consent, Session, None, false,
        "撤回同意（一律拒絕）", (()) () => (),
        |p, c| p.withdraw_consent(c.token()?);
    IssueAwardOrder: "POST" "/api/v1/award-orders", issue_award_order, Officer, None, false,
        "發布獎懲令", (()) AwardOrderWire => AwardOrder,
        |p, c| p.issue_award_order(c.token()?, &c.body.to_order()?);
    IssueAwardOrders: "POST" "/api/v1/award-orders/bulk", issue_award_orders, Officer, None, false,
        "批次發布獎懲令", (()) BulkWire => BulkIssueReport,
        |p, c| p.issue_award_orders(c.token()?, &c.body.to_orders()?);
    UnviewedAwardOrders: "GET" "/api/v1/award-orders/unviewed", unviewed_award_orders, Session, None, true,
        "未檢視獎令", (()) () => Vec<AwardOrderSummary>,
        |p, c| p.unviewed_award_orders(c.token()?);
    ViewAwardOrder: "POST" "/api/v1/award-orders/{id}/view", view_award_order, Session, None, true,
        "檢視並簽收獎令", (i64) () => AwardOrder,
        |p, c| p.view_award_order(c.token()?, c.params);
    AwardHistory: "GET" "/api/v1/award-orders/history", award_history, Session, None, true,
        "查詢個人歷年獎懲資料", (()) () => Vec<YearlyAwards>,
        |p, c| p.award_history(c.token()?);
    UnsignedAwardOrders: "POST" "/api/v1/award-orders/unsigned/list", unsigned_award_orders, Officer, None, true,
        "未簽收獎令（人事人員）", (()) PageRequest => Page<UnsignedOrder>,
        |p, c| p.unsigned_award_orders(c.token()?, c.body);
    GetPersonalRecord: "GET" "/api/v1/personal-record", personal_record, Session, None, true,
        "個人資料", (()) () => PersonalRecord,
        |p, c| p.personal_record(c.token()?);
    MyCorrections: "GET" "/api/v1/proofing/my-corrections", my_corrections, Session, None, true,
        "我的校對修正及處理結果", (()) () => Vec<ProofingCorrection>,
        |p, c| p.my_corrections(c.token()?);
    StageCorrection: "PUT" "/api/v1/proofing/corrections", stage_correction, Session, None, true,
        "暫存校對修正", (()) StageWire => StagedCorrection,
        |p, c| p.stage_correction(c.token()?, c.body.category, &c.body.field, &c.body.new_value);
    DiscardCorrection: "DELETE" "/api/v1/proofing/corrections/{category}/{field}", discard_correction, Session,
        None, true,
        "刪除暫存修正", ((String, String)) () => (),
        |p, c| p.discard_correction(c.token()?, ProofingCategory::parse(&c.params.0)?, &c.params.1);
    CompleteProofing: "POST" "/api/v1/proofing/complete", complete_proofing, Session, None, false,
        "校對完成", (()) () => ProofingSubmission,
        |p, c| p.complete_proofing(c.token()?);
    QueryProofing: "POST" "/api/v1/proofing/query", proofing_query, Officer, None, true,
        "人事人員校對查詢", (()) ProofingQueryWire => Page<ProofingQueryRow>,
        |p, c| p.proofing_query(c.token()?, &c.body.to_query()?);
    OfficerAgencies: "GET" "/api/v1/agency/agencies", officer_agencies, Officer, None, true,
        "機關代號清單（本機關及所屬機關）", (()) () => Vec<AgencySummary>,
        |p, c| p.officer_agencies(c.token()?);
    OfficerTodos: "GET" "/api/v1/proofing/todos", officer_todos, Officer, None, true,
        "待辦事項", (()) () => Vec<TodoItem>,
        |p, c| p.officer_todos(c.token()?);
    SubmissionCorrections: "GET" "/api/v1/proofing/submissions/{id}/corrections", submission_corrections, Officer,
        None, true,
        "校對修正明細", (i64) () => Vec<ProofingCorrection>,
        |p, c| p.submission_corrections(c.token()?, c.params);
    ProcessCorrection: "POST" "/api/v1/proofing/corrections/{id}/process", process_correction, Officer, None, false,
        "人事人員處理", (i64) DecisionWire => ProofingCorrection,
        |p, c| p.process_correction(c.token()?, c.params, &c.body.to_decision());
    AgencyEmployees: "POST" "/api/v1/agency/employees/list", agency_employees, Officer, None, true,
        "機關人員名單", (()) PageRequest => Page<EmployeeSummary>,
        |p, c| p.agency_employees(c.token()?, c.body);
    StopNhiRegistration: "POST" "/api/v1/agency/nhi-registrations/stop", stop_nhi_registration, Officer, None, true,
        "停用健保卡註冊（遺失）", (()) PersonWire => AccessRevoked,
        |p, c| p.stop_nhi_registration(c.token()?, &c.body.to_id()?);
    RemoveCertificateBinding: "POST" "/api/v1/agency/certificate-bindings/remove", remove_certificate_binding,
        Officer, None, true,
        "移除自然人憑證綁定（遺失）", (()) PersonWire => AccessRevoked,
        |p, c| p.remove_certificate_binding(c.token()?, &c.body.to_id()?);
    AuditTrail: "POST" "/api/v1/audit", audit_trail, Session, None, true,
        "稽核紀錄", (()) AuditQueryWire => Vec<AuditEntry>,
        |p, c| p.audit_trail(c.token()?, &c.body.to_query()?);
    Ping: "GET" "/api/v1/ping", ping, Public, None, true,
        "空端點（量測基準）", (()) () => Empty;
}
