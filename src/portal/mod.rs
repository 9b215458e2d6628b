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
pub mod notify;
pub mod operator;
pub mod possession;
pub mod proofing;
pub mod registration;
pub mod revoke;
pub mod stats;

use std::path::Path;
use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use crate::error::Result;
use crate::store::{SqliteStore, Store, StoreExt, schema};
use crate::types::{NationalId, NhiCardData, Password};

pub use crate::mail::{
    FileMailer, Mailer, OutgoingMail, ReceivedMail, SmtpConfig, SmtpMailer, SmtpPassword, SmtpSecurity,
};
pub use apps::Application;
pub use audit::{AuditEntry, AuditQuery};
pub use auth::{LoginContext, LoginMethod, Session, SessionInfo, SessionToken};
pub use awards::{
    AwardKind, AwardOrder, AwardOrderSummary, BulkIssueReport, Delivery, DeliveryPolicy, NewAwardOrder, PaperReason,
    Recipient, Tally, UnsignedOrder, YearlyAwards, notification_subject, read_orders_csv, tally_year,
};
pub use certlogin::{CertificateChallenge, CertificateResponse, CertificateTrust, LoginSignature};
pub use consent::{ConsentRecord, ConsentText};
pub use csvfile::{CsvEncoding, decode_csv_text};
pub use directory::{DirectoryImport, EmployeeStatus, EmployeeSummary, NewEmployee};
pub use env::{Clock, ManualClock, OsRandomness, Randomness, SystemClock};
pub use notify::{DeliveryReport, OutboxStats};
pub use operator::{Announcement, PurgeReport};
pub use possession::{CardPossession, NhiCardVerifier};
pub use proofing::{
    CorrectionDecision, CorrectionStatus, FieldValue, PersonalRecord, ProofingCategory, ProofingCorrection,
    ProofingQuery, ProofingQueryRow, ProofingSubmission, RecordCategory, StagedCorrection, TodoItem,
};
pub use registration::{MaintenanceWindow, RegistrationForm, RegistrationReceipt, ResetDelivery};
pub use revoke::AccessRevoked;
pub use stats::PortalCounters;

/// Settings of a portal. The defaults are the production values.
#[derive(Debug, Clone)]
pub struct PortalConfig {
    /// A session ends after this long without a call.
    pub session_idle: Duration,
    /// A session ends this long after login, busy or not.
    pub session_absolute: Duration,
    /// Wrong passwords in a row, per NHI card or eCPA account and source network, before logins
    /// from that network are suspended.
    pub max_password_failures: u32,
    /// How long logins from one network stay suspended after too many wrong passwords from
    /// it; each further suspension in a row lasts twice as long, up to a day.
    pub lockout: Duration,
    /// Wrong passwords per card or account in 24 hours, from all networks together, after
    /// which only a password reset by mail opens it.
    pub max_daily_failures: u32,
    /// How long a registration confirmation link stays valid.
    pub confirmation_ttl: Duration,
    /// The portal's address, for links in mail.
    pub portal_url: String,
    /// The sender of every mail.
    pub mail_from: String,
    /// Which award orders may be delivered electronically, and since when.
    pub delivery_policy: DeliveryPolicy,
    /// argon2id memory cost in KiB.
    pub argon2_memory_kib: u32,
    /// argon2id passes.
    pub argon2_iterations: u32,
    /// Whether officer functions need the citizen certificate or an NHI card whose possession
    /// was verified ([`possession`]); off by default, as the guides have officers use B5 with
    /// the NHI card.
    pub officer_requires_verified_card: bool,
    /// Whether an officer may issue award orders to themself and decide on their own proofing
    /// corrections: off (separation of duties) unless the agency has a single officer; each such
    /// act is marked in the audit trail.
    pub allow_self_approval: bool,
    /// Password hashes (argon2id, `argon2_memory_kib` each) run at once: by default one per
    /// core, which bounds the memory logins take however many arrive together.
    pub max_concurrent_hashes: usize,
    /// How long a login waits for a hash slot before it is refused `E5049 login_busy`.
    pub hash_queue_wait: Duration,
}

impl Default for PortalConfig {
    fn default() -> Self {
        PortalConfig {
            session_idle: Duration::minutes(30),
            session_absolute: Duration::hours(8),
            max_password_failures: 5,
            lockout: Duration::minutes(15),
            max_daily_failures: 50,
            confirmation_ttl: Duration::hours(24),
            portal_url: "http://127.0.0.1:8080".into(),
            mail_from: "人事服務網 eCPA <noreply@ecpa.localhost>".into(),
            delivery_policy: DeliveryPolicy::default(),
            // OWASP's first argon2id recommendation: 19 MiB, two passes, one lane.
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            allow_self_approval: false,
            officer_requires_verified_card: false,
            max_concurrent_hashes: std::thread::available_parallelism().map_or(2, usize::from),
            hash_queue_wait: Duration::seconds(2),
        }
    }
}

/// The engine, running in this process on a database it owns.
pub struct LocalPortal {
    pub(crate) store: Box<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) rng: Arc<dyn Randomness>,
    pub(crate) config: PortalConfig,
    pub(crate) trust: Option<Arc<CertificateTrust>>,
    /// The password hashes running at once (see [`auth::HashGate`]).
    pub(crate) hashes: Box<auth::HashGate>,
    /// Checks NHI cards' answers to a random ([`possession`]); none by default.
    pub(crate) verifier: Option<Arc<dyn NhiCardVerifier>>,
}

impl std::fmt::Debug for LocalPortal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalPortal")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl LocalPortal {
    /// Opens (or creates) a portal database file, bringing its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::with_store(Box::new(SqliteStore::open(path)?), PortalConfig::default())
    }

    /// A throwaway portal in memory.
    pub fn in_memory() -> Result<Self> {
        Self::with_store(Box::new(SqliteStore::in_memory()?), PortalConfig::default())
    }

    /// A portal on any store, with the system clock and randomness.
    pub fn with_store(store: Box<dyn Store>, config: PortalConfig) -> Result<Self> {
        Self::with_parts(store, config, Arc::new(SystemClock), Arc::new(OsRandomness))
    }

    /// A portal with every part chosen by the caller (tests step a [`ManualClock`]).
    pub fn with_parts(
        store: Box<dyn Store>,
        config: PortalConfig,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Randomness>,
    ) -> Result<Self> {
        schema::migrate(store.as_ref(), env::millis(clock.now()))?;
        Ok(LocalPortal {
            store,
            clock,
            rng,
            hashes: Box::new(auth::HashGate::new(
                config.max_concurrent_hashes,
                config.hash_queue_wait.unsigned_abs(),
            )),
            config,
            trust: None,
            verifier: None,
        })
    }

    /// Checks NHI-card logins' proof of possession with `verifier` (NHI's SAM service, or what
    /// an agency has in its place); without one every NHI-card session is unverified.
    pub fn with_nhi_card_verifier(mut self, verifier: Arc<dyn NhiCardVerifier>) -> Self {
        self.verifier = Some(verifier);
        self
    }

    /// Enables citizen-certificate login with this trust (anchors, intermediates, CRLs).
    pub fn with_certificate_trust(mut self, trust: CertificateTrust) -> Self {
        self.trust = Some(Arc::new(trust));
        self
    }

    /// The certificate trust, to replace its CRLs when new ones are published.
    pub fn certificate_trust(&self) -> Option<&CertificateTrust> {
        self.trust.as_deref()
    }

    /// The settings in force.
    pub fn config(&self) -> &PortalConfig {
        &self.config
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// [`Portal::login_nhi_card`] with where it comes from and the card's proof of possession:
    /// wrong passwords are counted per card and per source network ([`guard`]), so a guesser
    /// elsewhere cannot lock the owner out. The HTTP service passes the peer's (or trusted
    /// proxy's) address; the trait's method counts as one local network, unverified.
    pub fn login_nhi_card_with(&self, card: &NhiCardData, password: &Password, ctx: &LoginContext) -> Result<Session> {
        auth::login_nhi_card(self, card, password, ctx)
    }

    /// The secret key `name` that every process on this database shares, made on first use:
    /// the HTTP service signs its CSRF tokens with one, so a token one `ecpa serve` gave is good
    /// at every other in front of the same database, and a planted cookie cannot carry one.
    pub fn server_key(&self, name: &str) -> Result<zeroize::Zeroizing<[u8; 32]>> {
        let mut fresh = zeroize::Zeroizing::new([0u8; 32]);
        self.rng.fill(fresh.as_mut())?;
        let hex_key = self.store.write(|tx| {
            tx.execute(
                "INSERT INTO server_keys (name, key_hex, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
                &[
                    crate::store::Value::from(name),
                    crate::store::Value::from(hex::encode(fresh.as_ref())),
                    crate::store::Value::Int(env::millis(self.now())),
                ],
            )?;
            tx.query_opt(
                "SELECT key_hex FROM server_keys WHERE name = ?",
                &[crate::store::Value::from(name)],
            )?
            .ok_or_else(|| crate::store::corrupt("a server key vanished as it was made"))?
            .text(0)
            .map(zeroize::Zeroizing::new)
        })?;
        let mut key = zeroize::Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(hex_key.as_bytes(), key.as_mut())
            .map_err(|_| crate::store::corrupt("a server key is not 32 hex bytes"))?;
        Ok(key)
    }

    /// 基本資料異動, the e-mail address: with the card and its registered password, asks to
    /// move the registration to `new_email`. The confirmation link goes to the address on file
    /// (the official mailbox), never to the address typed; see
    /// [`LocalPortal::complete_email_change`].
    pub fn request_email_change(
        &self,
        card: &NhiCardData,
        password: &Password,
        new_email: &crate::types::Email,
        from: Option<std::net::IpAddr>,
    ) -> Result<RegistrationReceipt> {
        registration::request_email_change(self, card, password, new_email, from)
    }

    /// Opens an e-mail change's link (with the same card): the registration takes the new
    /// address, and the old one is told.
    pub fn complete_email_change(&self, card: &NhiCardData, token: &str) -> Result<()> {
        registration::complete_email_change(self, card, token)
    }

    /// [`Portal::stop_nhi_registration`] by the portal's operator (`ecpa registration stop`),
    /// for a person of any agency, in the audit trail under `operator`.
    pub fn stop_nhi_registration_as_operator(&self, national_id: &NationalId, operator: &str) -> Result<AccessRevoked> {
        revoke::stop_registration(self, revoke::Remover::Operator(operator), national_id)
    }

    /// [`Portal::remove_certificate_binding`] by the portal's operator (`ecpa certificate
    /// unbind`), in the audit trail under `operator`.
    pub fn remove_certificate_binding_as_operator(
        &self,
        national_id: &NationalId,
        operator: &str,
    ) -> Result<AccessRevoked> {
        revoke::remove_bindings(self, revoke::Remover::Operator(operator), national_id)
    }

    /// [`Portal::begin_certificate_login`] for the client at `from`, which alone may answer it
    /// ([`LocalPortal::complete_certificate_login_from`]).
    pub fn begin_certificate_login_from(&self, from: Option<std::net::IpAddr>) -> Result<CertificateChallenge> {
        certlogin::begin(self, from)
    }

    /// [`Portal::complete_certificate_login`] by the client at `from`: a challenge issued to
    /// another network is unknown here.
    pub fn complete_certificate_login_from(
        &self,
        response: &CertificateResponse,
        from: Option<std::net::IpAddr>,
    ) -> Result<Session> {
        certlogin::complete(self, response, from)
    }

    /// [`Portal::login_account`] for a client at `from`, counted as
    /// [`LocalPortal::login_nhi_card_with`] is.
    pub fn login_account_from(
        &self,
        account: &str,
        password: &Password,
        from: Option<std::net::IpAddr>,
    ) -> Result<Session> {
        auth::login_account(self, account, password, from)
    }

    /// [`Portal::request_password_reset`] for a client at `from`: wrong household data counts
    /// as a wrong password does.
    pub fn request_password_reset_from(
        &self,
        card: &NhiCardData,
        delivery: &ResetDelivery,
        from: Option<std::net::IpAddr>,
    ) -> Result<RegistrationReceipt> {
        registration::request_reset(self, card, delivery, from)
    }
}

/// The whole flow, as one API: embedded ([`LocalPortal`]) or remote.
///
/// Every method that acts for a person takes their session token; the rest act for someone
/// who is not logged in yet (registration, login).
pub trait Portal: Send + Sync {
    // ---- NHI card online registration (健保卡網路服務註冊) ----

    /// Starts a registration from the card's data and the form; mails a confirmation link.
    fn start_nhi_registration(&self, form: &RegistrationForm) -> Result<RegistrationReceipt>;
    /// Mails a fresh confirmation link for a registration still waiting (重寄認證信).
    fn resend_confirmation(&self, card: &NhiCardData) -> Result<RegistrationReceipt>;
    /// Completes a registration: the link's token, with the same card inserted.
    fn confirm_nhi_registration(&self, card: &NhiCardData, token: &str) -> Result<()>;
    /// Forgot password: mails a 30-minute, single-use reset link.
    fn request_password_reset(&self, card: &NhiCardData, delivery: &ResetDelivery) -> Result<RegistrationReceipt>;
    /// Sets a new registration password with a reset link's token; the old one worked until now.
    fn complete_password_reset(&self, card: &NhiCardData, token: &str, new_password: &Password) -> Result<()>;
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
    fn open_application(&self, session: &SessionToken, code: &str) -> Result<Application>;

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
    /// A personnel officer's list of electronically delivered orders not yet signed for.
    fn unsigned_award_orders(&self, session: &SessionToken) -> Result<Vec<UnsignedOrder>>;

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
    /// The officer's query (人事人員校對查詢).
    fn proofing_query(&self, session: &SessionToken, query: &ProofingQuery) -> Result<Vec<ProofingQueryRow>>;
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

    /// A personnel officer's list of their agency's employees.
    fn agency_employees(&self, session: &SessionToken) -> Result<Vec<EmployeeSummary>>;
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
    fn confirm_nhi_registration(&self, card: &NhiCardData, token: &str) -> Result<()> {
        registration::confirm(self, card, token)
    }
    fn request_password_reset(&self, card: &NhiCardData, delivery: &ResetDelivery) -> Result<RegistrationReceipt> {
        registration::request_reset(self, card, delivery, None)
    }
    fn complete_password_reset(&self, card: &NhiCardData, token: &str, new_password: &Password) -> Result<()> {
        registration::complete_reset(self, card, token, new_password)
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

    fn consent_text(&self) -> Result<ConsentText> {
        Ok(consent::current_text())
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
    fn unsigned_award_orders(&self, session: &SessionToken) -> Result<Vec<UnsignedOrder>> {
        awards::unsigned(self, session)
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
    fn proofing_query(&self, session: &SessionToken, query: &ProofingQuery) -> Result<Vec<ProofingQueryRow>> {
        proofing::query(self, session, query)
    }
    fn officer_todos(&self, session: &SessionToken) -> Result<Vec<TodoItem>> {
        proofing::todos(self, session)
    }
    fn submission_corrections(&self, session: &SessionToken, submission_id: i64) -> Result<Vec<ProofingCorrection>> {
        proofing::submission_corrections(self, session, submission_id)
    }
    fn process_correction(
        &self,
        session: &SessionToken,
        correction_id: i64,
        decision: &CorrectionDecision,
    ) -> Result<ProofingCorrection> {
        proofing::process(self, session, correction_id, decision)
    }

    fn agency_employees(&self, session: &SessionToken) -> Result<Vec<EmployeeSummary>> {
        directory::agency_employees(self, session)
    }
    fn audit_trail(&self, session: &SessionToken, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
        audit::trail(self, session, query)
    }

    fn stop_nhi_registration(&self, session: &SessionToken, national_id: &NationalId) -> Result<AccessRevoked> {
        revoke::stop_registration(self, revoke::Remover::Officer(session), national_id)
    }
    fn remove_certificate_binding(&self, session: &SessionToken, national_id: &NationalId) -> Result<AccessRevoked> {
        revoke::remove_bindings(self, revoke::Remover::Officer(session), national_id)
    }
}
