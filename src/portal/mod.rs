//! The engine: the whole eCPA award-order flow behind one trait, [`Portal`].
//!
//! [`LocalPortal`] runs it in this process on a [`Store`](crate::store::Store) (SQLite by
//! default); a network client implements the same trait, so a program changes one line to
//! move from embedded to remote. Every operation a person performs takes their
//! [`SessionToken`]; what a session may see is decided here, once: employees see only their own
//! data, personnel officers (人事人員) only their own agency's.
//!
//! Operator tasks that belong to whoever runs the database (importing the directory,
//! announcing maintenance and news, delivering the outbox, purging, backups) are inherent
//! methods of [`LocalPortal`] rather than part of [`Portal`]; what they announce is read
//! through [`Portal`], since every visitor sees it.

pub mod account_recovery;
pub mod apps;
pub mod audit;
pub mod auth;
pub mod awards;
pub mod card_login;
pub mod certlogin;
pub mod consent;
pub mod csvfile;
pub mod directory;
pub mod env;
pub mod guard;
mod local;
pub mod nhi_service;
pub mod notify;
pub mod operator;
pub mod paging;
pub mod possession;
pub mod proofing;
pub mod registration;
pub mod revoke;
pub mod sso;
pub mod stats;
pub mod trail;

use crate::error::Result;
use crate::types::{NationalId, NhiCardData, Password};

pub use crate::mail::{
    FileMailer, Mailer, OutgoingMail, ReceivedMail, SmtpConfig, SmtpMailer, SmtpPassword, SmtpSecurity,
};
pub use apps::{Application, ApplicationGroup};
pub use auth::{LoginContext, LoginMethod, Session, SessionInfo, SessionToken};
pub use awards::{
    AwardKind, AwardOrder, AwardOrderSummary, BulkIssueReport, Delivery, DeliveryPolicy, NewAwardOrder, PaperReason,
    Recipient, Tally, UnsignedOrder, YearlyAwards, notification_subject, read_orders_csv, tally_year,
};
pub use certlogin::{
    CertificateChallenge, CertificateResponse, CertificateTrust, LoginSignature, ORIGIN_BOUND_FORMAT, normalize_origin,
    origin_bound_data,
};
pub use consent::{ConsentRecord, ConsentText, NewConsentText};
pub use csvfile::{CsvEncoding, decode_csv_text};
pub use directory::{AgencySummary, DirectoryImport, EmployeeStatus, EmployeeSummary, NewEmployee};
pub use env::{Clock, ManualClock, OsRandomness, Randomness, SystemClock};
pub use local::{DEFAULT_SUPPORT_EMAIL, LocalPortal, PortalConfig};
pub use nhi_service::{DetailsChange, RegistrationDetails};
pub use notify::{DeliveryReport, OutboxStats};
pub use operator::{Announcement, PurgeReport};
pub use paging::{MAX_PER_PAGE, Page, PageRequest};
pub use possession::{CardPossession, NhiCardVerifier};
pub use proofing::{
    CorrectionDecision, CorrectionStatus, FieldValue, PersonalRecord, ProofingCategory, ProofingCorrection,
    ProofingQuery, ProofingQueryRow, ProofingSubmission, RecordCategory, StagedCorrection, TodoItem,
};
pub use registration::{
    MaintenanceWindow, Notice, NoticeKind, RegistrationForm, RegistrationReceipt, RegistrationTerms, ResetDelivery,
    registration_terms,
};
pub use revoke::AccessRevoked;
pub use sso::{ApplicationLink, Jwk, Jwks, SsoAssertion, SsoIdentity};
pub use stats::PortalCounters;
pub use trail::{AuditEntry, AuditQuery};

/// The whole flow, as one API: embedded ([`LocalPortal`]) or remote.
///
/// Every method that acts for a person takes their session token; the rest act for someone
/// who is not logged in yet (registration, login).
pub trait Portal: Send + Sync {
    // ---- NHI card online registration (健保卡網路服務註冊) ----

    /// The registration terms in force, which the person accepts before the form; the form
    /// carries their version.
    fn registration_terms(&self) -> Result<RegistrationTerms>;
    /// Starts a registration from the card's data and the form; mails a confirmation link.
    fn start_nhi_registration(&self, form: &RegistrationForm) -> Result<RegistrationReceipt>;
    /// Mails a fresh confirmation link for a registration still waiting (重寄認證信).
    fn resend_confirmation(&self, card: &NhiCardData) -> Result<RegistrationReceipt>;
    /// Completes a registration: the link's token, with the same card inserted. The notice is
    /// 「已完成電子信箱認證」.
    fn confirm_nhi_registration(&self, card: &NhiCardData, token: &str) -> Result<Notice>;
    /// Forgot password: mails a 30-minute, single-use reset link.
    fn request_password_reset(&self, card: &NhiCardData, delivery: &ResetDelivery) -> Result<RegistrationReceipt>;
    /// Sets a new registration password, typed twice, with a reset link's token; the old one
    /// worked until now. The notice is 「註冊密碼變更成功，下次使用【健保卡】登入系統請用新的註冊密碼！」.
    fn complete_password_reset(
        &self,
        card: &NhiCardData,
        token: &str,
        new_password: &Password,
        confirmation: &Password,
    ) -> Result<Notice>;
    /// 刪除註冊申請: mails a link that deletes the card's pending application to the person's
    /// official mailbox. A complete registration is stopped in person instead
    /// (`registration_stop_in_person`).
    fn request_registration_deletion(&self, card: &NhiCardData) -> Result<RegistrationReceipt>;
    /// Opens a deletion link with the same card: the pending application is gone.
    fn complete_registration_deletion(&self, card: &NhiCardData, token: &str) -> Result<Notice>;
    /// 註冊密碼變更: the old registration password and the new one twice.
    fn change_registration_password(
        &self,
        card: &NhiCardData,
        old: &Password,
        new: &Password,
        confirmation: &Password,
    ) -> Result<Notice>;
    /// 基本資料異動: with the registration password, new phone and mobile numbers and, for a new
    /// e-mail address, a confirmation link to the address on file.
    fn change_registration_details(
        &self,
        card: &NhiCardData,
        password: &Password,
        details: &RegistrationDetails,
    ) -> Result<DetailsChange>;
    /// Opens an e-mail change's link with the same card: the registration takes the new
    /// address (「已完成電子信箱認證」), and the old one is told.
    fn complete_email_change(&self, card: &NhiCardData, token: &str) -> Result<Notice>;
    /// Announced maintenance windows that have not ended yet.
    fn maintenance_windows(&self) -> Result<Vec<MaintenanceWindow>>;
    /// The operator's announcements (公告) in force, newest first: what the portal shows everyone.
    fn announcements(&self) -> Result<Vec<Announcement>>;

    // ---- login and sessions ----

    /// Logs in with the NHI card and its registered password.
    fn login_nhi_card(&self, card: &NhiCardData, password: &Password) -> Result<Session>;
    /// Starts a citizen-certificate login: a fresh single-use challenge for the card to sign.
    fn begin_certificate_login(&self) -> Result<CertificateChallenge>;
    /// Completes a citizen-certificate login with the card's signature over the challenge.
    fn complete_certificate_login(&self, response: &CertificateResponse) -> Result<Session>;
    /// Logs in with an eCPA account name and password (the lowest assurance level).
    fn login_account(&self, account: &str, password: &Password) -> Result<Session>;
    /// Sets the caller's own eCPA account name and password.
    fn set_account(&self, session: &SessionToken, account: &str, password: &Password) -> Result<()>;
    /// 忘記帳號或密碼: mails the account name and a link to set a new password to the
    /// official mailbox of the serving employee with this ID. The answer is the same whether
    /// or not anyone is on file.
    fn request_account_recovery(&self, national_id: &NationalId) -> Result<Notice>;
    /// Sets the account's new password, typed twice, with a recovery link's token.
    fn complete_account_recovery(
        &self,
        token: &str,
        new_password: &Password,
        confirmation: &Password,
    ) -> Result<Notice>;
    /// Who the session belongs to, and how they logged in.
    fn session_info(&self, session: &SessionToken) -> Result<SessionInfo>;
    /// Ends the session.
    fn logout(&self, session: &SessionToken) -> Result<()>;

    // ---- application catalogue (應用系統) ----

    /// The catalogue, each entry marked usable or not with this session's login.
    fn applications(&self, session: &SessionToken) -> Result<Vec<Application>>;
    /// Adds an application to "my applications".
    fn add_my_application(&self, session: &SessionToken, code: &str) -> Result<()>;
    /// The caller's own list.
    fn my_applications(&self, session: &SessionToken) -> Result<Vec<Application>>;
    /// Opens an application: it must be in "my applications" and the login strong enough.
    /// For an application with an address (`[[portal.applications]]`), the answer's `sso`
    /// carries the signed assertion to post there: single sign-on ([`sso`]).
    fn open_application(&self, session: &SessionToken, code: &str) -> Result<Application>;

    // ---- single sign-on into the applications (單一登入) ----

    /// The portal's public keys (JWKS) the applications check assertions with.
    fn sso_keys(&self) -> Result<Jwks>;
    /// For an application: checks an assertion it was posted and redeems it, once, for
    /// `audience`, its own code. A forged, expired, replayed or other application's assertion
    /// is refused with its own code (E5053–E5056).
    fn redeem_sso_assertion(&self, token: &str, audience: &str) -> Result<SsoIdentity>;

    // ---- consent to electronic award orders (獎令電子化同意) ----

    /// The consent text currently shown, with its version.
    fn consent_text(&self) -> Result<ConsentText>;
    /// The caller's consent, if given.
    fn consent_status(&self, session: &SessionToken) -> Result<Option<ConsentRecord>>;
    /// Agrees to the text of `version`; final. Agreeing again changes nothing.
    fn give_consent(&self, session: &SessionToken, version: &str) -> Result<ConsentRecord>;
    /// Asks to withdraw consent: always refused, because consent is final.
    fn withdraw_consent(&self, session: &SessionToken) -> Result<()>;

    // ---- award orders (獎懲令) ----

    /// A personnel officer issues one order for an employee of their agency.
    fn issue_award_order(&self, session: &SessionToken, order: &NewAwardOrder) -> Result<AwardOrder>;
    /// A personnel officer issues many orders at once: all of them, or none.
    fn issue_award_orders(&self, session: &SessionToken, orders: &[NewAwardOrder]) -> Result<BulkIssueReport>;
    /// The caller's electronically delivered orders not yet viewed (未檢視獎令).
    fn unviewed_award_orders(&self, session: &SessionToken) -> Result<Vec<AwardOrderSummary>>;
    /// Opens one of the caller's orders; the first view signs for it (簽收).
    fn view_award_order(&self, session: &SessionToken, order_id: i64) -> Result<AwardOrder>;
    /// The caller's rewards and punishments year by year (查詢個人歷年獎懲資料).
    fn award_history(&self, session: &SessionToken) -> Result<Vec<YearlyAwards>>;
    /// A personnel officer's list of electronically delivered orders not yet signed for, a
    /// page at a time (each person on it is a read in their audit trail).
    fn unsigned_award_orders(&self, session: &SessionToken, page: PageRequest) -> Result<Page<UnsignedOrder>>;

    // ---- proofing (個人資料校對) ----

    /// The caller's personal record in its nine categories, with staged corrections.
    fn personal_record(&self, session: &SessionToken) -> Result<PersonalRecord>;
    /// Stages a correction of one field (修改前 / 修改後).
    fn stage_correction(
        &self,
        session: &SessionToken,
        category: ProofingCategory,
        field: &str,
        new_value: &str,
    ) -> Result<StagedCorrection>;
    /// Drops a staged correction.
    fn discard_correction(&self, session: &SessionToken, category: ProofingCategory, field: &str) -> Result<()>;
    /// 校對完成: submits the staged corrections; the officer's to-do appears at once.
    fn complete_proofing(&self, session: &SessionToken) -> Result<ProofingSubmission>;
    /// The caller's own corrections, newest first, each with its outcome (pending, approved, or
    /// rejected with the officer's reason); a rejected field can be corrected again.
    fn my_corrections(&self, session: &SessionToken) -> Result<Vec<ProofingCorrection>>;
    /// The officer's query (人事人員校對查詢) over their agency and those below it, a page at a
    /// time (each person on it is a read in their audit trail).
    fn proofing_query(&self, session: &SessionToken, query: &ProofingQuery) -> Result<Page<ProofingQueryRow>>;
    /// The agencies an officer queries and processes (the query screen's 機關代號 list): their
    /// own, then those below it.
    fn officer_agencies(&self, session: &SessionToken) -> Result<Vec<AgencySummary>>;
    /// The officer's open to-do items.
    fn officer_todos(&self, session: &SessionToken) -> Result<Vec<TodoItem>>;
    /// The corrections of one submission, for an officer of its agency.
    fn submission_corrections(&self, session: &SessionToken, submission_id: i64) -> Result<Vec<ProofingCorrection>>;
    /// Approves (and applies) or rejects one correction (人事人員處理).
    fn process_correction(
        &self,
        session: &SessionToken,
        correction_id: i64,
        decision: &CorrectionDecision,
    ) -> Result<ProofingCorrection>;

    // ---- directory and audit ----

    /// A personnel officer's list of their agency's employees, a page at a time (each person
    /// on it is a read in their audit trail).
    fn agency_employees(&self, session: &SessionToken, page: PageRequest) -> Result<Page<EmployeeSummary>>;
    /// The audit trail: an employee sees who read or changed their data; an officer, their agency's.
    fn audit_trail(&self, session: &SessionToken, query: &AuditQuery) -> Result<Vec<AuditEntry>>;

    // ---- a lost card ----

    /// A personnel officer stops the NHI-card registrations of a person of their agency (a lost
    /// or stolen card): their sessions with it end and they are told by mail ([`revoke`]).
    fn stop_nhi_registration(&self, session: &SessionToken, national_id: &NationalId) -> Result<AccessRevoked>;
    /// A personnel officer removes the citizen-certificate bindings of a person of their agency:
    /// their certificate sessions end, they are told, and their next certificate login binds
    /// afresh.
    fn remove_certificate_binding(&self, session: &SessionToken, national_id: &NationalId) -> Result<AccessRevoked>;
}

impl Portal for LocalPortal {
    fn start_nhi_registration(&self, form: &RegistrationForm) -> Result<RegistrationReceipt> {
        registration::start(self, form)
    }
    fn resend_confirmation(&self, card: &NhiCardData) -> Result<RegistrationReceipt> {
        registration::resend(self, card)
    }
    fn confirm_nhi_registration(&self, card: &NhiCardData, token: &str) -> Result<Notice> {
        registration::confirm(self, card, token)
    }
    fn request_password_reset(&self, card: &NhiCardData, delivery: &ResetDelivery) -> Result<RegistrationReceipt> {
        registration::request_reset(self, card, delivery, None)
    }
    fn complete_password_reset(
        &self,
        card: &NhiCardData,
        token: &str,
        new_password: &Password,
        confirmation: &Password,
    ) -> Result<Notice> {
        registration::complete_reset(self, card, token, new_password, confirmation)
    }
    fn request_registration_deletion(&self, card: &NhiCardData) -> Result<RegistrationReceipt> {
        nhi_service::request_deletion(self, card)
    }
    fn complete_registration_deletion(&self, card: &NhiCardData, token: &str) -> Result<Notice> {
        nhi_service::complete_deletion(self, card, token)
    }
    fn change_registration_password(
        &self,
        card: &NhiCardData,
        old: &Password,
        new: &Password,
        confirmation: &Password,
    ) -> Result<Notice> {
        nhi_service::change_password(self, card, old, new, confirmation, None)
    }
    fn change_registration_details(
        &self,
        card: &NhiCardData,
        password: &Password,
        details: &RegistrationDetails,
    ) -> Result<DetailsChange> {
        nhi_service::change_details(self, card, password, details, None)
    }
    fn complete_email_change(&self, card: &NhiCardData, token: &str) -> Result<Notice> {
        nhi_service::complete_email_change(self, card, token)
    }
    fn maintenance_windows(&self) -> Result<Vec<MaintenanceWindow>> {
        registration::windows(self)
    }
    fn announcements(&self) -> Result<Vec<Announcement>> {
        operator::current(self)
    }

    fn login_nhi_card(&self, card: &NhiCardData, password: &Password) -> Result<Session> {
        auth::login_nhi_card(self, card, password, &LoginContext::default())
    }
    fn begin_certificate_login(&self) -> Result<CertificateChallenge> {
        certlogin::begin(self, None)
    }
    fn complete_certificate_login(&self, response: &CertificateResponse) -> Result<Session> {
        certlogin::complete(self, response, None)
    }
    fn login_account(&self, account: &str, password: &Password) -> Result<Session> {
        auth::login_account(self, account, password, None)
    }
    fn set_account(&self, session: &SessionToken, account: &str, password: &Password) -> Result<()> {
        auth::set_account(self, session, account, password)
    }
    fn request_account_recovery(&self, national_id: &NationalId) -> Result<Notice> {
        account_recovery::request(self, national_id)
    }
    fn complete_account_recovery(
        &self,
        token: &str,
        new_password: &Password,
        confirmation: &Password,
    ) -> Result<Notice> {
        account_recovery::complete(self, token, new_password, confirmation)
    }
    fn session_info(&self, session: &SessionToken) -> Result<SessionInfo> {
        auth::session_info(self, session)
    }
    fn logout(&self, session: &SessionToken) -> Result<()> {
        auth::logout(self, session)
    }

    fn applications(&self, session: &SessionToken) -> Result<Vec<Application>> {
        apps::catalogue(self, session, false)
    }
    fn add_my_application(&self, session: &SessionToken, code: &str) -> Result<()> {
        apps::add(self, session, code)
    }
    fn my_applications(&self, session: &SessionToken) -> Result<Vec<Application>> {
        apps::catalogue(self, session, true)
    }
    fn open_application(&self, session: &SessionToken, code: &str) -> Result<Application> {
        apps::open(self, session, code)
    }
    fn sso_keys(&self) -> Result<Jwks> {
        sso::jwks(self)
    }
    fn redeem_sso_assertion(&self, token: &str, audience: &str) -> Result<SsoIdentity> {
        sso::redeem(self, token, audience)
    }

    fn consent_text(&self) -> Result<ConsentText> {
        consent::current_text(self)
    }
    fn registration_terms(&self) -> Result<RegistrationTerms> {
        Ok(registration::registration_terms())
    }
    fn consent_status(&self, session: &SessionToken) -> Result<Option<ConsentRecord>> {
        consent::status(self, session)
    }
    fn give_consent(&self, session: &SessionToken, version: &str) -> Result<ConsentRecord> {
        consent::give(self, session, version)
    }
    fn withdraw_consent(&self, session: &SessionToken) -> Result<()> {
        consent::withdraw(self, session)
    }

    fn issue_award_order(&self, session: &SessionToken, order: &NewAwardOrder) -> Result<AwardOrder> {
        awards::issue_one(self, session, order)
    }
    fn issue_award_orders(&self, session: &SessionToken, orders: &[NewAwardOrder]) -> Result<BulkIssueReport> {
        awards::issue_many(self, session, orders)
    }
    fn unviewed_award_orders(&self, session: &SessionToken) -> Result<Vec<AwardOrderSummary>> {
        awards::unviewed(self, session)
    }
    fn view_award_order(&self, session: &SessionToken, order_id: i64) -> Result<AwardOrder> {
        awards::view(self, session, order_id)
    }
    fn award_history(&self, session: &SessionToken) -> Result<Vec<YearlyAwards>> {
        awards::history(self, session)
    }
    fn unsigned_award_orders(&self, session: &SessionToken, page: PageRequest) -> Result<Page<UnsignedOrder>> {
        awards::unsigned(self, session, page)
    }

    fn personal_record(&self, session: &SessionToken) -> Result<PersonalRecord> {
        proofing::record(self, session)
    }
    fn stage_correction(
        &self,
        session: &SessionToken,
        category: ProofingCategory,
        field: &str,
        new_value: &str,
    ) -> Result<StagedCorrection> {
        proofing::stage(self, session, category, field, new_value)
    }
    fn discard_correction(&self, session: &SessionToken, category: ProofingCategory, field: &str) -> Result<()> {
        proofing::discard(self, session, category, field)
    }
    fn complete_proofing(&self, session: &SessionToken) -> Result<ProofingSubmission> {
        proofing::complete(self, session)
    }
    fn proofing_query(&self, session: &SessionToken, query: &ProofingQuery) -> Result<Page<ProofingQueryRow>> {
        proofing::query(self, session, query)
    }
    fn officer_agencies(&self, session: &SessionToken) -> Result<Vec<AgencySummary>> {
        directory::officer_agencies(self, session)
    }
    fn officer_todos(&self, session: &SessionToken) -> Result<Vec<TodoItem>> {
        proofing::todos(self, session)
    }
    fn submission_corrections(&self, session: &SessionToken, submission_id: i64) -> Result<Vec<ProofingCorrection>> {
        proofing::submission_corrections(self, session, submission_id)
    }
    fn my_corrections(&self, session: &SessionToken) -> Result<Vec<ProofingCorrection>> {
        proofing::my_corrections(self, session)
    }
    fn process_correction(
        &self,
        session: &SessionToken,
        correction_id: i64,
        decision: &CorrectionDecision,
    ) -> Result<ProofingCorrection> {
        proofing::process(self, session, correction_id, decision)
    }

    fn agency_employees(&self, session: &SessionToken, page: PageRequest) -> Result<Page<EmployeeSummary>> {
        directory::agency_employees(self, session, page)
    }
    fn audit_trail(&self, session: &SessionToken, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
        trail::trail(self, session, query)
    }

    fn stop_nhi_registration(&self, session: &SessionToken, national_id: &NationalId) -> Result<AccessRevoked> {
        revoke::stop_registration(self, revoke::Remover::Officer(session), national_id)
    }
    fn remove_certificate_binding(&self, session: &SessionToken, national_id: &NationalId) -> Result<AccessRevoked> {
        revoke::remove_bindings(self, revoke::Remover::Officer(session), national_id)
    }
}
