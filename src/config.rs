//! The configuration of `ecpa serve`: one TOML file, then `ECPA_*` environment variables over it.
//!
//! Every setting has a default that gives a newcomer a working portal with no file at all: a
//! SQLite database `ecpa.db` and a maildir `mail/` in the current directory, listening on
//! `127.0.0.1:8080`. A file sets what it names and leaves the rest at the defaults; an
//! environment variable `ECPA_<SECTION>_<KEY>` (e.g. `ECPA_SERVER_LISTEN`, `ECPA_DATABASE_URL`,
//! `ECPA_SERVER_RATE_LIMIT_LOGIN_PER_MINUTE`) overrides the file, which is how containers are
//! configured. Unknown keys in the file are refused, so a typo is an error, not a silently
//! ignored setting.
//!
//! ```toml
//! [server]
//! listen = "0.0.0.0:8443"
//! tls_cert = "/etc/ecpa/cert.pem"
//! tls_key = "/etc/ecpa/key.pem"
//!
//! [database]
//! url = "postgres://ecpa@db.example.gov.tw/ecpa"   # or a SQLite file
//! sslmode = "verify-full"          # "disable" (the default), "require" or "verify-full"
//! ca_file = "/etc/ecpa/db-ca.pem"  # the CA that signed the database server's certificate
//! pool_size = 8                    # PostgreSQL connections per process
//!
//! [mail]
//! kind = "smtp"              # or "file": a maildir in `dir`
//!
//! [smtp]
//! host = "smtp.example.gov.tw"
//! security = "starttls"
//! username = "ecpa-notice"   # the password from ECPA_SMTP_PASSWORD
//!
//! [portal]
//! portal_url = "https://ecpa.example.gov.tw"   # also the `iss` of single sign-on assertions
//! support_email = "pemis@dgpa.gov.tw"   # the mailbox E5003 names (this one by default)
//!
//! [[portal.applications]]    # opened with single sign-on: the assertion is posted to `url`
//! code = "B5A"
//! url = "https://b5a.example.gov.tw/sso"
//!
//! [[portal.applications]]
//! code = "WebHR"
//! url = "https://webhr.example.gov.tw/ecpa/login"
//! name = "臺北市政府 WebHR"   # optional: shown instead of the catalogue's name (name_en likewise)
//!
//! [trust]                    # certificate logins (自然人憑證); without anchors they are off
//! anchors = ["/etc/ecpa/grca"]               # GRCA root certificates: files or directories
//! intermediates = ["/etc/ecpa/moica"]        # MOICA G2, G3
//! crls = ["/var/lib/ecpa/crls"]              # CRL files (PEM or DER), re-read at each refresh
//! crl_urls = ["http://moica.nat.gov.tw/repository/MOICA/CRL2/complete.crl"]
//! crl_refresh_minutes = 60
//! policy = "2.16.886.101.0.3.3"              # or "any"
//!
//! [log]
//! format = "json"            # or "text" (the default)
//! ```
//!
//! `[database]`: `url` is a SQLite file or a `postgres://` URL (its password, if it has one,
//! is never printed: see [`DatabaseConfig::redacted_url`]; `ECPA_DATABASE_URL` keeps it out of
//! the file). For PostgreSQL, `sslmode` is how the connections are protected: `disable` (plain,
//! for loopback or a private network; the default), `require` (always TLS; the server's
//! certificate is checked against `ca_file` if one is given, and not at all otherwise) or
//! `verify-full` (always TLS, the certificate's chain to `ca_file` and the URL's host name
//! checked; `ca_file` is required). `ca_file` is a PEM file of the CA certificates. Both may also
//! be given libpq-style in the URL (`?sslmode=verify-full&sslrootcert=PATH`); the file and the
//! environment win over the URL. `pool_size` caps the PostgreSQL connections each process keeps
//! (default [`POOL_SIZE`]). See [`crate::store::postgres`] for what each mode checks.
//!
//! `[[portal.applications]]` (file only; no environment variable sets a list of tables): each
//! entry names an application of the catalogue by its `code` and the `url` the browser posts
//! its single sign-on assertion to (see [`crate::portal::sso`]): `https://`, or `http://` only
//! to this machine (`localhost`, `127.0.0.1`, `[::1]`), since the assertion is a bearer
//! credential. `name` and `name_en` optionally replace the catalogue's names. An application
//! without an entry opens as metadata only. `ecpa config check` checks each entry, and the
//! codes against the database's catalogue; `ecpa serve` refuses to start with an unknown one.
//!
//! The store and the mailer each come from one function ([`open_database`], [`open_mailer`]), so
//! a new backend is wired in one place.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::Duration;

use crate::error::{Error, ErrorCode, Result};
#[cfg(test)]
use crate::portal::SmtpPassword;
use crate::portal::{FileMailer, Mailer, PortalConfig, SmtpConfig, SmtpMailer};
use crate::store::postgres::POOL_SIZE;
use crate::store::{PostgresOptions, SqliteStore, SslMode, Store};

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The HTTP service.
    pub server: ServerConfig,
    /// The database.
    pub database: DatabaseConfig,
    /// Outgoing mail.
    pub mail: MailConfig,
    /// `[smtp]`: the SMTP server, for `[mail] kind = "smtp"`. Never written back out (it holds a
    /// password).
    #[serde(skip_serializing)]
    pub smtp: Option<SmtpConfig>,
    /// The engine's settings (sessions, lockouts, links).
    pub portal: PortalSettings,
    /// What certificate logins trust: anchors, intermediates, CRLs and the policy.
    pub trust: TrustConfig,
    /// What the service logs, and how.
    pub log: LogConfig,
    /// `[agent]`: the local card agent for browsers (`ecpa agent`).
    pub agent: AgentSettings,
}

pub use crate::card::AGENT_PORT;

/// `[agent]`: the card agent (`ecpa agent`), the same settings its flags take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentSettings {
    /// Where it listens: a loopback address only (`127.0.0.1:61161` by default).
    pub listen: String,
    /// The citizen card's PKCS#11 module (HiCOS by default, found where its installer puts it).
    pub pkcs11_module: Option<PathBuf>,
    /// Origins (`https://host[:port]`, exactly) whose pages may use the cards, beside the
    /// portal's own public origin.
    pub allow_origins: Vec<String>,
    /// Existing government pages that collect the PIN themselves and send it in `tbsPackage`:
    /// only these may; every other origin has the agent ask for the PIN in its own page.
    pub legacy_origins: Vec<String>,
}

impl Default for AgentSettings {
    fn default() -> Self {
        AgentSettings {
            listen: format!("127.0.0.1:{AGENT_PORT}"),
            pkcs11_module: None,
            allow_origins: Vec::new(),
            legacy_origins: Vec::new(),
        }
    }
}

/// The class-3 policy of the government PKI (政府憑證總管理中心), required of login certificates
/// unless `[trust] policy` says otherwise.
pub const DEFAULT_POLICY: &str = "2.16.886.101.0.3.3";

/// `[trust]`: what a citizen-certificate login is validated against. None of it is built in:
/// GRCA G1 and G2 share a name, so an operator names the anchors they trust as files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrustConfig {
    /// Trust anchors (GRCA roots): PEM or DER files, or directories of them. Empty: certificate
    /// logins are off (`certificate_login_unavailable`).
    pub anchors: Vec<PathBuf>,
    /// Intermediate CAs (MOICA): files or directories.
    pub intermediates: Vec<PathBuf>,
    /// CRL files or directories (PEM or DER), read at start and again at each refresh.
    pub crls: Vec<PathBuf>,
    /// CRLs fetched over HTTP at start and every `crl_refresh_minutes`. One that fails to
    /// refresh is kept until its nextUpdate; after that, logins that need it fail `crl_stale`.
    pub crl_urls: Vec<String>,
    /// Minutes between refreshes (fractions allowed).
    pub crl_refresh_minutes: f64,
    /// The certificate policy OID a login path must carry, or `any`.
    pub policy: String,
}

impl Default for TrustConfig {
    fn default() -> Self {
        TrustConfig {
            anchors: Vec::new(),
            intermediates: Vec::new(),
            crls: Vec::new(),
            crl_urls: Vec::new(),
            crl_refresh_minutes: 60.0,
            policy: DEFAULT_POLICY.into(),
        }
    }
}

impl TrustConfig {
    /// Whether certificate logins are configured at all.
    pub fn enabled(&self) -> bool {
        !self.anchors.is_empty()
    }

    /// The policy the path must carry (`None` for `any`).
    pub fn policy_oid(&self) -> Result<Option<der::asn1::ObjectIdentifier>> {
        match self.policy.trim() {
            "any" => Ok(None),
            oid => oid.parse().map(Some).map_err(|_| {
                invalid(
                    format!("trust.policy「{oid}」不是 OID（例如 {DEFAULT_POLICY}）或 any"),
                    format!("trust.policy \"{oid}\" is not an OID (e.g. {DEFAULT_POLICY}) or any"),
                )
            }),
        }
    }

    fn check(&self) -> Result<()> {
        self.policy_oid()?;
        if !(self.crl_refresh_minutes.is_finite() && self.crl_refresh_minutes > 0.0) {
            return Err(invalid(
                "trust.crl_refresh_minutes 應大於 0",
                "trust.crl_refresh_minutes must be positive",
            ));
        }
        let names_more = !(self.intermediates.is_empty() && self.crls.is_empty() && self.crl_urls.is_empty());
        if names_more && !self.enabled() {
            return Err(invalid(
                "trust 區段設定了中繼憑證或廢止清冊，卻沒有信任錨（anchors）",
                "[trust] names intermediates or CRLs but no anchors",
            ));
        }
        for url in &self.crl_urls {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(invalid(
                    format!("trust.crl_urls 的「{url}」不是 http:// 或 https:// 網址"),
                    format!("trust.crl_urls: \"{url}\" is not an http:// or https:// URL"),
                ));
            }
        }
        Ok(())
    }
}

/// `[log]`: the service's log lines, on standard error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `text` (one readable line each) or `json` (one object per line, for a log collector).
    pub format: String,
    /// What is logged, as a `tracing` filter: `info` (the default), `warn`, `ecpa=debug`, …
    pub level: String,
    /// One line per request (method, route, status, latency, request id).
    pub requests: bool,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: "text".into(),
            level: "info".into(),
            requests: true,
        }
    }
}

/// `[server]`: where and how the service listens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address and port, e.g. `127.0.0.1:8080`.
    pub listen: String,
    /// PEM certificate chain; with `tls_key`, the service speaks only HTTPS.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Longest a request may take before it is answered `E9551 http_timeout`.
    pub request_timeout_ms: u64,
    /// Longest a client may take to send a request's headers; a connection that trickles them
    /// (or idles before its next request) is closed, so slow clients cannot hold every socket.
    pub header_timeout_ms: u64,
    /// Longest a connection may stay open without a byte either way (a client that connects and
    /// says nothing, or keeps an idle connection): then it is closed.
    pub idle_timeout_ms: u64,
    /// Most connections one client address may hold open at a time; more are refused at once.
    pub max_connections_per_address: usize,
    /// Whether session cookies carry `Secure`; by default, exactly when TLS is on.
    pub secure_cookies: Option<bool>,
    /// Async worker threads; by default one per core.
    pub worker_threads: Option<usize>,
    /// Per-address rate limits.
    pub rate_limit: RateLimitConfig,
    /// Addresses of the reverse proxies or load balancers in front of the service. A request
    /// from one of them is counted against the client address it names in `X-Forwarded-For`;
    /// from anyone else that header is ignored, so a client cannot choose its own address.
    /// In the environment: comma-separated.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The bearer token `/metrics` asks for (its counters tell how busy the portal is and how
    /// many people use it). Without one, `/metrics` answers loopback clients only (a collector
    /// on the same host).
    #[serde(skip_serializing)]
    pub metrics_token: Option<Secret>,
    /// The portal's origin as browsers send it (`https://ecpa.example.gov.tw`): what an
    /// origin-bound certificate login must have signed, and what `ecpa agent` allows by
    /// default. Without it, the scheme, host and port of `[portal] portal_url`.
    pub public_origin: Option<String>,
}

/// A secret setting: wiped from memory when dropped, never shown by `Debug` or in the
/// settings `ecpa config check` prints.
#[derive(Clone, PartialEq)]
pub struct Secret(zeroize::Zeroizing<String>);

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d).map(Secret::new)
    }
}

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(zeroize::Zeroizing::new(secret.into()))
    }

    /// The secret itself, to compare with what a client sent.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            tls_cert: None,
            tls_key: None,
            body_limit_bytes: 256 * 1024,
            request_timeout_ms: 30_000,
            header_timeout_ms: 10_000,
            idle_timeout_ms: 60_000,
            max_connections_per_address: 256,
            secure_cookies: None,
            worker_threads: None,
            rate_limit: RateLimitConfig::default(),
            trusted_proxies: Vec::new(),
            metrics_token: None,
            public_origin: None,
        }
    }
}

/// `[server.rate_limit]`: token buckets per client address for logins and registration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Login attempts refilled per minute per address.
    pub login_per_minute: u32,
    /// Login attempts an address may make at once.
    pub login_burst: u32,
    /// Registration and password-reset requests refilled per minute per address.
    pub registration_per_minute: u32,
    /// Registration requests an address may make at once.
    pub registration_burst: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        // A whole agency may sit behind one NAT address at 8 a.m.: generous for logins, tight
        // for registration, which sends mail.
        RateLimitConfig {
            login_per_minute: 600,
            login_burst: 100,
            registration_per_minute: 20,
            registration_burst: 10,
        }
    }
}

/// `[database]`: which database, and for PostgreSQL how to reach it (see the module
/// documentation). `Debug` shows the URL without its password.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// A SQLite file path (`ecpa.db`, `sqlite:/var/lib/ecpa.db`, `sqlite::memory:`) or a
    /// `postgres://` URL.
    pub url: String,
    /// TLS to PostgreSQL: `disable`, `require` or `verify-full`; unset, the URL's `sslmode`
    /// (libpq's query parameter), else `disable`.
    pub sslmode: Option<SslMode>,
    /// The CA certificates (PEM) that signed the PostgreSQL server's certificate; unset, the
    /// URL's `sslrootcert`.
    pub ca_file: Option<PathBuf>,
    /// PostgreSQL connections each process keeps at most.
    pub pool_size: usize,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "ecpa.db".into(),
            sslmode: None,
            ca_file: None,
            pool_size: POOL_SIZE,
        }
    }
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &self.redacted_url())
            .field("sslmode", &self.sslmode)
            .field("ca_file", &self.ca_file)
            .field("pool_size", &self.pool_size)
            .finish()
    }
}

impl DatabaseConfig {
    /// The URL as it may be printed (`ecpa serve`'s start-up line, logs): a password in it
    /// (`postgres://user:secret@host/db`, `?password=…`, `password=…`) replaced by `***`.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }

    /// The PostgreSQL connection settings of this section.
    pub fn postgres_options(&self) -> PostgresOptions {
        PostgresOptions {
            sslmode: self.sslmode,
            ca_file: self.ca_file.clone(),
            pool_size: self.pool_size,
        }
    }
}

/// A database URL with any password in it replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_owned();
    // The user-info part of `scheme://user:password@host`.
    if let Some(start) = out.find("://").map(|i| i + 3) {
        let end = out[start..].find(['/', '?']).map_or(out.len(), |i| start + i);
        if let Some(at) = out[start..end].rfind('@').map(|i| start + i)
            && let Some(colon) = out[start..at].find(':').map(|i| start + i)
        {
            out.replace_range(colon + 1..at, "***");
        }
    }
    // `password=…` as a query parameter or a key=value word.
    let mut from = 0;
    while let Some(i) = out[from..].find("password=").map(|i| from + i) {
        let value = i + "password=".len();
        let end = out[value..].find(['&', ' ']).map_or(out.len(), |j| value + j);
        out.replace_range(value..end, "***");
        from = value + 3;
    }
    out
}

/// `[mail]`: where the outbox is delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// `file` (a maildir) or `smtp` (the server of the `[smtp]` section).
    pub kind: String,
    /// The maildir for `file`.
    pub dir: PathBuf,
    /// How often the outbox worker looks for due mail, in milliseconds.
    pub poll_ms: u64,
    /// Mails per delivery round.
    pub batch: usize,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            kind: "file".into(),
            dir: "mail".into(),
            poll_ms: 1000,
            batch: 200,
        }
    }
}

/// `[portal]`: the engine's [`PortalConfig`] in plain units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PortalSettings {
    /// Minutes without a call before a session ends.
    pub session_idle_minutes: i64,
    /// Minutes after login before a session ends, busy or not.
    pub session_absolute_minutes: i64,
    /// Wrong passwords in a row before logins are suspended.
    pub max_password_failures: u32,
    /// Minutes logins from a network stay suspended (doubling with each suspension in a row).
    pub lockout_minutes: i64,
    /// Wrong passwords per card or account in a day, from everywhere, before only a reset by
    /// mail opens it.
    pub max_daily_failures: u32,
    /// Hours a registration link stays valid.
    pub confirmation_ttl_hours: i64,
    /// The portal's address, for links in mail.
    pub portal_url: String,
    /// The sender of every mail.
    pub mail_from: String,
    /// The support mailbox E5003 (「驗證失敗 查無您的帳號」) names: the DGPA's by default.
    pub support_email: String,
    /// argon2id memory cost in KiB.
    pub argon2_memory_kib: u32,
    /// argon2id passes.
    pub argon2_iterations: u32,
    /// Years the audit trail is kept before `ecpa purge` deletes a row: five by default, as
    /// practice under Taiwan's Personal Data Protection Act (個人資料保護法) expects.
    pub audit_retention_years: u32,
    /// Lets an officer issue award orders to themself and decide on their own corrections
    /// (an agency of one officer); off by default, and marked in the audit trail when used.
    pub allow_self_approval: bool,
    /// Officer functions only with the citizen certificate or a verified NHI card (off by
    /// default: the guides have officers use B5 with the NHI card).
    pub officer_requires_verified_card: bool,
    /// Certificate logins only origin-bound (through `ecpa agent`): raw PKCS#1 and CMS, which a
    /// look-alike page can relay, refused. Off by default, for the HiPKI pages in use.
    pub require_origin_bound: bool,
    /// `[[portal.applications]]`: the applications opened with single sign-on, and where.
    pub applications: Vec<ApplicationSetting>,
}

/// One `[[portal.applications]]` entry: an application of the catalogue this portal opens
/// with single sign-on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationSetting {
    /// The catalogue's code, e.g. `B5A`.
    pub code: String,
    /// Where the browser posts the assertion: `https://`, or `http://` to this machine only.
    pub url: String,
    /// The name shown instead of the catalogue's (Chinese).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The name shown instead of the catalogue's (English).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
}

impl ApplicationSetting {
    /// The engine's link, checked ([`ApplicationLink::check`](crate::portal::ApplicationLink::check)).
    pub fn to_link(&self) -> Result<crate::portal::ApplicationLink> {
        let link = crate::portal::ApplicationLink {
            code: self.code.trim().to_owned(),
            url: self.url.trim().to_owned(),
            name_zh: self.name.clone(),
            name_en: self.name_en.clone(),
        };
        link.check()?;
        Ok(link)
    }
}

impl Default for PortalSettings {
    fn default() -> Self {
        let d = PortalConfig::default();
        PortalSettings {
            session_idle_minutes: d.session_idle.whole_minutes(),
            session_absolute_minutes: d.session_absolute.whole_minutes(),
            max_password_failures: d.max_password_failures,
            lockout_minutes: d.lockout.whole_minutes(),
            max_daily_failures: d.max_daily_failures,
            confirmation_ttl_hours: d.confirmation_ttl.whole_hours(),
            portal_url: d.portal_url,
            mail_from: d.mail_from,
            support_email: d.support_email,
            argon2_memory_kib: d.argon2_memory_kib,
            argon2_iterations: d.argon2_iterations,
            audit_retention_years: 5,
            allow_self_approval: d.allow_self_approval,
            officer_requires_verified_card: d.officer_requires_verified_card,
            require_origin_bound: d.require_origin_bound,
            applications: Vec::new(),
        }
    }
}

impl PortalSettings {
    /// The `[[portal.applications]]` entries as the engine's links, each checked, no code twice
    /// (the catalogue itself is checked when the portal opens its database).
    pub fn application_links(&self) -> Result<Vec<crate::portal::ApplicationLink>> {
        let mut links: Vec<crate::portal::ApplicationLink> = Vec::with_capacity(self.applications.len());
        for a in &self.applications {
            let link = a.to_link()?;
            if links.iter().any(|l| l.code == link.code) {
                return Err(invalid(
                    format!("portal.applications：應用系統「{}」設定了兩次", link.code),
                    format!("portal.applications: the application \"{}\" is given twice", link.code),
                ));
            }
            links.push(link);
        }
        Ok(links)
    }

    /// The engine's configuration.
    pub fn to_portal_config(&self) -> Result<PortalConfig> {
        let positive = |name: &str, v: i64| {
            if v > 0 {
                Ok(v)
            } else {
                Err(invalid(
                    format!("portal.{name} 應大於 0"),
                    format!("portal.{name} must be positive"),
                ))
            }
        };
        if self.audit_retention_years == 0 {
            return Err(invalid(
                "portal.audit_retention_years 應大於 0",
                "portal.audit_retention_years must be positive",
            ));
        }
        Ok(PortalConfig {
            session_idle: Duration::minutes(positive("session_idle_minutes", self.session_idle_minutes)?),
            session_absolute: Duration::minutes(positive("session_absolute_minutes", self.session_absolute_minutes)?),
            max_password_failures: self.max_password_failures.max(1),
            lockout: Duration::minutes(positive("lockout_minutes", self.lockout_minutes)?),
            max_daily_failures: self.max_daily_failures.max(self.max_password_failures).max(1),
            confirmation_ttl: Duration::hours(positive("confirmation_ttl_hours", self.confirmation_ttl_hours)?),
            portal_url: self.portal_url.clone(),
            mail_from: self.mail_from.clone(),
            support_email: crate::types::Email::parse(&self.support_email)
                .map_err(|e| {
                    invalid(
                        format!("portal.support_email：{}", e.message(crate::types::Lang::ZhTw)),
                        format!("portal.support_email: {}", e.message(crate::types::Lang::En)),
                    )
                })?
                .as_str()
                .to_owned(),
            argon2_memory_kib: self.argon2_memory_kib,
            argon2_iterations: self.argon2_iterations,
            allow_self_approval: self.allow_self_approval,
            officer_requires_verified_card: self.officer_requires_verified_card,
            require_origin_bound: self.require_origin_bound,
            applications: self.application_links()?,
            ..PortalConfig::default()
        })
    }
}

/// Every setting an environment variable may override, as `section.key` paths; the variable
/// is `ECPA_` and the path in upper case with `_` for `.`.
pub const ENV_KEYS: &[&str] = &[
    "server.listen",
    "server.tls_cert",
    "server.tls_key",
    "server.body_limit_bytes",
    "server.request_timeout_ms",
    "server.header_timeout_ms",
    "server.idle_timeout_ms",
    "server.max_connections_per_address",
    "server.secure_cookies",
    "server.worker_threads",
    "server.rate_limit.login_per_minute",
    "server.rate_limit.login_burst",
    "server.rate_limit.registration_per_minute",
    "server.rate_limit.registration_burst",
    "server.trusted_proxies",
    "server.metrics_token",
    "database.url",
    "database.sslmode",
    "database.ca_file",
    "database.pool_size",
    "mail.kind",
    "mail.dir",
    "mail.poll_ms",
    "mail.batch",
    "smtp.host",
    "smtp.port",
    "smtp.security",
    "smtp.username",
    "smtp.password",
    "smtp.from",
    "portal.session_idle_minutes",
    "portal.session_absolute_minutes",
    "portal.max_password_failures",
    "portal.lockout_minutes",
    "portal.max_daily_failures",
    "portal.confirmation_ttl_hours",
    "portal.portal_url",
    "portal.mail_from",
    "portal.support_email",
    "portal.argon2_memory_kib",
    "portal.argon2_iterations",
    "trust.anchors",
    "trust.intermediates",
    "trust.crls",
    "trust.crl_urls",
    "trust.crl_refresh_minutes",
    "trust.policy",
    "log.format",
    "log.level",
    "log.requests",
    "portal.audit_retention_years",
    "portal.officer_requires_verified_card",
    "portal.allow_self_approval",
    "portal.require_origin_bound",
    "server.public_origin",
    "agent.listen",
    "agent.pkcs11_module",
    "agent.allow_origins",
    "agent.legacy_origins",
];

/// Settings only the file sets (lists of tables), shown by `ecpa config check` after
/// [`ENV_KEYS`].
pub const FILE_ONLY_KEYS: &[&str] = &["portal.applications"];

/// The settings of [`ENV_KEYS`] that are lists: their variable holds comma-separated items.
const LIST_KEYS: &[&str] = &[
    "agent.allow_origins",
    "agent.legacy_origins",
    "server.trusted_proxies",
    "trust.anchors",
    "trust.intermediates",
    "trust.crls",
    "trust.crl_urls",
];

/// Where a setting's effective value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Nothing set it.
    Default,
    /// The configuration file.
    File,
    /// An `ECPA_*` environment variable.
    Env,
    /// The command line (`--db`, `--listen`).
    Flag,
}

/// One setting as `ecpa config check` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Setting {
    /// `section.key`.
    pub key: String,
    /// The effective value, as TOML; secrets masked.
    pub value: String,
    /// Where it came from.
    pub source: Source,
}

/// The environment variable for a `section.key` path.
pub fn env_name(path: &str) -> String {
    format!("ECPA_{}", path.replace('.', "_").to_uppercase())
}

fn read_file(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| {
        invalid(
            format!("無法讀取設定檔 {}：{e}", path.display()),
            format!("cannot read {}: {e}", path.display()),
        )
    })
}

/// The value at a `section.key` path of a table.
fn lookup<'a>(table: &'a toml::Table, path: &str) -> Option<&'a toml::Value> {
    let mut parts = path.split('.');
    let mut value = table.get(parts.next()?)?;
    for part in parts {
        value = value.as_table()?.get(part)?;
    }
    Some(value)
}

fn invalid(zh: impl Into<String>, en: impl Into<String>) -> Error {
    Error::with(ErrorCode::ConfigInvalid, zh.into(), en.into())
}

impl Config {
    /// The engine's configuration: `[portal]`, with the public origin of `[server]` (checked
    /// to be an origin, `scheme://host[:port]`).
    pub fn portal_config(&self) -> Result<PortalConfig> {
        let mut portal = self.portal.to_portal_config()?;
        portal.public_origin = self
            .server
            .public_origin
            .as_deref()
            .map(|o| {
                crate::portal::normalize_origin(o).map_err(|_| {
                    invalid(
                        format!("server.public_origin「{o}」應為 scheme://host[:port]"),
                        format!("server.public_origin \"{o}\" must be scheme://host[:port]"),
                    )
                })
            })
            .transpose()?;
        Ok(portal)
    }

    /// Reads `file` if given (its absence is an error), then applies the process environment.
    pub fn load(file: Option<&Path>) -> Result<Config> {
        Self::load_with_sources(file).map(|(config, _)| config)
    }

    /// The configuration from TOML text and an environment lookup (tests pass their own).
    pub fn from_parts(toml_text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Config> {
        Self::with_sources(toml_text, env).map(|(config, _)| config)
    }

    /// [`Config::load`], with every setting's effective value and where it came from.
    pub fn load_with_sources(file: Option<&Path>) -> Result<(Config, Vec<Setting>)> {
        let text = match file {
            Some(path) => read_file(path)?,
            None => String::new(),
        };
        Self::with_sources(&text, |name| std::env::var(name).ok())
    }

    /// [`Config::from_parts`], with the settings' sources.
    pub fn with_sources(toml_text: &str, env: impl Fn(&str) -> Option<String>) -> Result<(Config, Vec<Setting>)> {
        let mut table: toml::Table = toml::from_str(toml_text).map_err(|e| {
            invalid(
                format!("設定檔 TOML 格式錯誤：{e}"),
                format!("the TOML does not parse: {e}"),
            )
        })?;
        let mut sources: Vec<(&str, Source)> = ENV_KEYS
            .iter()
            .map(|path| {
                let in_file = lookup(&table, path).is_some();
                (*path, if in_file { Source::File } else { Source::Default })
            })
            .collect();
        let file_only = FILE_ONLY_KEYS.iter().map(|path| {
            let in_file = lookup(&table, path).is_some();
            (*path, if in_file { Source::File } else { Source::Default })
        });
        let env_keys = sources.len();
        sources.extend(file_only);
        for (path, source) in &mut sources[..env_keys] {
            let path: &str = path;
            let Some(raw) = env(&env_name(path)) else { continue };
            *source = Source::Env;
            let value = if LIST_KEYS.contains(&path) {
                let items = raw.split(',').map(str::trim).filter(|s| !s.is_empty());
                toml::Value::Array(items.map(|s| toml::Value::String(s.to_owned())).collect())
            } else {
                // A number or boolean where it reads as one; text otherwise (paths, addresses).
                toml::from_str::<toml::Table>(&format!("v = {raw}"))
                    .ok()
                    .and_then(|mut t| t.remove("v"))
                    .filter(|v| !v.is_str() && !v.is_table() && !v.is_array())
                    .unwrap_or_else(|| toml::Value::String(raw.clone()))
            };
            let mut parts: Vec<&str> = path.split('.').collect();
            let Some(last) = parts.pop() else { continue };
            let mut at = &mut table;
            for part in parts {
                let entry = at
                    .entry(part.to_owned())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                at = entry.as_table_mut().ok_or_else(|| {
                    invalid(
                        format!("設定 {part} 應為區段"),
                        format!("setting {part} must be a section"),
                    )
                })?;
            }
            at.insert(last.to_owned(), value);
        }
        let config: Config = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| invalid(format!("設定內容錯誤：{e}"), format!("invalid setting: {e}")))?;
        config.check()?;
        let settings = config.settings(&sources);
        Ok((config, settings))
    }

    /// Every setting's effective value, in [`ENV_KEYS`] order, then [`FILE_ONLY_KEYS`].
    fn settings(&self, sources: &[(&str, Source)]) -> Vec<Setting> {
        let mut shown = toml::Table::try_from(self).unwrap_or_default();
        if let Some(smtp) = self.smtp.as_ref().and_then(|s| toml::Value::try_from(s).ok()) {
            shown.insert("smtp".into(), smtp);
        }
        let password_set = self.smtp.as_ref().is_some_and(|s| s.password.is_some());
        let token_set = self.server.metrics_token.is_some();
        sources
            .iter()
            .map(|(key, source)| {
                let value = match (*key, lookup(&shown, key)) {
                    ("smtp.password", _) if password_set => "\"********\"".to_owned(),
                    ("server.metrics_token", _) if token_set => "\"********\"".to_owned(),
                    ("database.url", Some(v)) => format!("\"{}\"", redact_url(v.as_str().unwrap_or(""))),
                    (_, Some(v)) => v.to_string(),
                    (_, None) => "（未設定 unset）".to_owned(),
                };
                Setting {
                    key: (*key).to_owned(),
                    value,
                    source: *source,
                }
            })
            .collect()
    }

    fn check(&self) -> Result<()> {
        if self.server.tls_cert.is_some() != self.server.tls_key.is_some() {
            return Err(invalid(
                "tls_cert 與 tls_key 須同時設定",
                "tls_cert and tls_key go together",
            ));
        }
        if self.server.body_limit_bytes < 1024 {
            return Err(invalid(
                "body_limit_bytes 至少 1024",
                "body_limit_bytes must be at least 1024",
            ));
        }
        if self.server.request_timeout_ms == 0
            || self.server.header_timeout_ms == 0
            || self.server.idle_timeout_ms == 0
            || self.server.max_connections_per_address == 0
            || self.mail.poll_ms == 0
            || self.mail.batch == 0
        {
            return Err(invalid(
                "request_timeout_ms、header_timeout_ms、idle_timeout_ms、max_connections_per_address、poll_ms、batch 應大於 0",
                "request_timeout_ms, header_timeout_ms, idle_timeout_ms, max_connections_per_address, poll_ms and batch must be positive",
            ));
        }
        let r = &self.server.rate_limit;
        if r.login_per_minute == 0 || r.login_burst == 0 || r.registration_per_minute == 0 || r.registration_burst == 0
        {
            return Err(invalid("速率限制應大於 0", "rate limits must be positive"));
        }
        if self.database.pool_size == 0 {
            return Err(invalid(
                "database.pool_size 應大於 0",
                "database.pool_size must be positive",
            ));
        }
        self.portal_config()?;
        self.trust.check()?;
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return Err(invalid(
                format!("log.format「{}」不支援（可用 text 或 json）", self.log.format),
                format!("log.format \"{}\" is not supported (text or json)", self.log.format),
            ));
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return Err(invalid(
                format!(
                    "log.level「{}」不是有效的記錄層級（例如 info、warn、ecpa=debug）",
                    self.log.level
                ),
                format!(
                    "log.level \"{}\" is not a valid filter (e.g. info, warn, ecpa=debug)",
                    self.log.level
                ),
            ));
        }
        Ok(())
    }
}

/// Opens the store a bare database URL names, with the default connection settings (TLS only
/// if the URL's `sslmode` asks for it): for the faces that take a URL alone (the C ABI, Python,
/// `--db`). The service opens its store with [`open_database`].
pub fn open_store(db: &str) -> Result<Box<dyn Store>> {
    open_database(&DatabaseConfig {
        url: db.to_owned(),
        ..DatabaseConfig::default()
    })
}

/// Opens the store the whole `[database]` section names: the URL, and for PostgreSQL its TLS
/// mode, CA file and pool size.
pub fn open_database(database: &DatabaseConfig) -> Result<Box<dyn Store>> {
    match database.url.trim() {
        ":memory:" | "sqlite::memory:" => Ok(Box::new(SqliteStore::in_memory()?)),
        url => crate::store::open_url_with(url, &database.postgres_options()),
    }
}

/// Builds the mailer `[mail]` names: `file` is a maildir, `smtp` the server of the `[smtp]`
/// section.
pub fn open_mailer(config: &Config) -> Result<Box<dyn Mailer>> {
    match (config.mail.kind.as_str(), &config.smtp) {
        ("file", _) => Ok(Box::new(FileMailer::new(&config.mail.dir)?)),
        ("smtp", Some(smtp)) => Ok(Box::new(SmtpMailer::new(smtp)?)),
        ("smtp", None) => Err(invalid(
            "郵件方式為 smtp 時須設定 [smtp] 區段",
            "mail kind smtp needs an [smtp] section",
        )),
        (other, _) => Err(invalid(
            format!("不支援的郵件方式 {other}（可用 file 或 smtp）"),
            format!("mail kind {other} is not supported (file or smtp)"),
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn no_file_no_env_gives_the_newcomer_defaults() {
        let c = Config::from_parts("", |_| None).unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.database.url, "ecpa.db");
        assert_eq!(c.mail.kind, "file");
        assert_eq!(c.portal.audit_retention_years, 5);
        let env = |k: &str| (k == "ECPA_PORTAL_AUDIT_RETENTION_YEARS").then(|| "7".to_owned());
        assert_eq!(Config::from_parts("", env).unwrap().portal.audit_retention_years, 7);
        let zero = "[portal]\naudit_retention_years = 0\n";
        assert_eq!(
            Config::from_parts(zero, |_| None).unwrap_err().code(),
            ErrorCode::ConfigInvalid
        );
    }

    #[test]
    fn the_public_origin_is_checked_and_written_as_browsers_send_it() {
        let c = Config::from_parts(
            "[server]\npublic_origin = \"HTTPS://ECPA.example.gov.tw:443\"\n",
            |_| None,
        )
        .unwrap();
        assert_eq!(
            c.portal_config().unwrap().public_origin.as_deref(),
            Some("https://ecpa.example.gov.tw")
        );
        let e = Config::from_parts("[server]\npublic_origin = \"ecpa.example.gov.tw/login\"\n", |_| None).unwrap_err();
        assert!(
            e.message(crate::types::Lang::En).contains("server.public_origin"),
            "{e}"
        );
        let env = |k: &str| (k == "ECPA_PORTAL_REQUIRE_ORIGIN_BOUND").then(|| "true".to_owned());
        assert!(
            Config::from_parts("", env)
                .unwrap()
                .portal_config()
                .unwrap()
                .require_origin_bound
        );
    }

    #[test]
    fn the_support_mailbox_is_the_dgpas_unless_configured_and_must_be_an_address() {
        let portal = |file: &str| Config::from_parts(file, |_| None).unwrap().portal.to_portal_config();
        assert_eq!(portal("").unwrap().support_email, "pemis@dgpa.gov.tw");
        let set = portal("[portal]\nsupport_email = \"help@ecpa.example.gov.tw\"\n").unwrap();
        assert_eq!(set.support_email, "help@ecpa.example.gov.tw");
        let env = |k: &str| (k == "ECPA_PORTAL_SUPPORT_EMAIL").then(|| "it@agency.gov.tw".to_owned());
        let from_env = Config::from_parts("", env).unwrap().portal.to_portal_config().unwrap();
        assert_eq!(from_env.support_email, "it@agency.gov.tw");
        let bad = Config::from_parts("[portal]\nsupport_email = \"not an address\"\n", |_| None).unwrap_err();
        assert_eq!(bad.code(), ErrorCode::ConfigInvalid);
        assert!(
            bad.message(crate::types::Lang::En).contains("portal.support_email"),
            "{bad}"
        );
    }

    #[test]
    fn applications_for_single_sign_on_are_checked_and_shown() {
        let file = "[portal]\nportal_url = \"https://ecpa.example.gov.tw\"\n\
                    [[portal.applications]]\ncode = \"B5A\"\nurl = \"https://b5a.example.gov.tw/sso\"\n\
                    [[portal.applications]]\ncode = \"WebHR\"\nurl = \"http://127.0.0.1:9000/login\"\nname = \"臺北市政府 WebHR\"\n";
        let (c, settings) = Config::with_sources(file, |_| None).unwrap();
        let links = c.portal.to_portal_config().unwrap().applications;
        assert_eq!(links.len(), 2);
        assert_eq!(links[0].code, "B5A");
        assert_eq!(links[0].url, "https://b5a.example.gov.tw/sso");
        assert_eq!(links[1].name_zh.as_deref(), Some("臺北市政府 WebHR"));
        assert_eq!(links[1].name_en, None);
        let shown = settings.iter().find(|s| s.key == "portal.applications").unwrap();
        assert_eq!(shown.source, Source::File);
        assert!(shown.value.contains("b5a.example.gov.tw"), "{}", shown.value);
        let (_, defaults) = Config::with_sources("", |_| None).unwrap();
        let none = defaults.iter().find(|s| s.key == "portal.applications").unwrap();
        assert_eq!(none.source, Source::Default);
        for bad in [
            // Plain HTTP to another host would show the assertion to the network.
            "[[portal.applications]]\ncode = \"B5A\"\nurl = \"http://b5a.example.gov.tw/sso\"\n",
            "[[portal.applications]]\ncode = \"B5A\"\nurl = \"b5a.example.gov.tw\"\n",
            "[[portal.applications]]\ncode = \"B5A\"\n",
            "[[portal.applications]]\ncode = \"B5A\"\nurl = \"https://a/\"\nlink = \"x\"\n",
            "[[portal.applications]]\ncode = \"B 5\"\nurl = \"https://a/\"\n",
            "[[portal.applications]]\ncode = \"B5A\"\nurl = \"https://a/\"\n[[portal.applications]]\ncode = \"B5A\"\nurl = \"https://b/\"\n",
        ] {
            let e = Config::from_parts(bad, |_| None).unwrap_err();
            assert_eq!(e.code(), ErrorCode::ConfigInvalid, "{bad}");
            assert!(e.message(crate::types::Lang::En).is_ascii());
        }
    }

    #[test]
    fn trusted_proxies_from_the_file_or_a_comma_separated_variable() {
        let c = Config::from_parts("[server]\ntrusted_proxies = [\"10.0.0.1\"]\n", |_| None).unwrap();
        assert_eq!(
            c.server.trusted_proxies,
            ["10.0.0.1".parse::<std::net::IpAddr>().unwrap()]
        );
        let env = |k: &str| (k == "ECPA_SERVER_TRUSTED_PROXIES").then(|| "10.0.0.1, ::1".to_owned());
        let c = Config::from_parts("", env).unwrap();
        assert_eq!(c.server.trusted_proxies.len(), 2);
        let bad = |k: &str| (k == "ECPA_SERVER_TRUSTED_PROXIES").then(|| "10.0.0.300".to_owned());
        assert_eq!(
            Config::from_parts("", bad).unwrap_err().code(),
            ErrorCode::ConfigInvalid
        );
    }

    #[test]
    fn sources_say_where_each_value_came_from_and_secrets_are_masked() {
        let file = "[server]\nlisten = \"0.0.0.0:9000\"\n[database]\nurl = \"postgres://ecpa:s3cret@db/ecpa\"\n\
                    [mail]\nkind = \"smtp\"\n[smtp]\nhost = \"mx\"\nusername = \"u\"\n";
        let env = |k: &str| match k {
            "ECPA_SMTP_PASSWORD" => Some("hunter2".to_owned()),
            "ECPA_TRUST_ANCHORS" => Some("/a, /b".to_owned()),
            _ => None,
        };
        let (c, settings) = Config::with_sources(file, env).unwrap();
        assert_eq!(c.trust.anchors, [PathBuf::from("/a"), PathBuf::from("/b")]);
        let get = |k: &str| settings.iter().find(|s| s.key == k).unwrap().clone();
        assert_eq!(get("server.listen").source, Source::File);
        assert_eq!(get("server.body_limit_bytes").source, Source::Default);
        assert_eq!(get("trust.anchors").source, Source::Env);
        assert_eq!(get("smtp.password").source, Source::Env);
        assert_eq!(get("smtp.password").value, "\"********\"");
        assert_eq!(get("database.url").value, "\"postgres://ecpa:***@db/ecpa\"");
        assert_eq!(get("trust.policy").value, format!("\"{DEFAULT_POLICY}\""));
        let all = format!("{settings:?}");
        assert!(!all.contains("hunter2") && !all.contains("s3cret"), "{all}");
    }

    #[test]
    fn trust_and_log_settings_are_checked() {
        for bad in [
            "[trust]\npolicy = \"not-an-oid\"\n",
            "[trust]\ncrl_refresh_minutes = 0\n",
            "[trust]\nintermediates = [\"/x\"]\n",
            "[trust]\nanchors = [\"/a\"]\ncrl_urls = [\"ftp://x/crl\"]\n",
            "[trust]\nanchor = [\"/a\"]\n",
            "[log]\nformat = \"xml\"\n",
            "[log]\nlevel = \"[[\"\n",
        ] {
            let e = Config::from_parts(bad, |_| None).unwrap_err();
            assert_eq!(e.code(), ErrorCode::ConfigInvalid, "{bad}");
        }
        let c = Config::from_parts(
            "[trust]\nanchors = [\"/a\"]\npolicy = \"any\"\ncrl_refresh_minutes = 0.5\n",
            |_| None,
        )
        .unwrap();
        assert_eq!(c.trust.policy_oid().unwrap(), None);
        assert!(c.trust.enabled());
    }

    #[test]
    fn env_overrides_the_file() {
        let file = "[server]\nlisten = \"0.0.0.0:9000\"\n[server.rate_limit]\nlogin_burst = 3\n";
        let env = |k: &str| match k {
            "ECPA_SERVER_LISTEN" => Some("127.0.0.1:7000".to_owned()),
            "ECPA_SERVER_RATE_LIMIT_LOGIN_PER_MINUTE" => Some("7".to_owned()),
            "ECPA_DATABASE_URL" => Some("/tmp/x.db".to_owned()),
            "ECPA_SERVER_SECURE_COOKIES" => Some("true".to_owned()),
            _ => None,
        };
        let c = Config::from_parts(file, env).unwrap();
        assert_eq!(c.server.listen, "127.0.0.1:7000");
        assert_eq!(c.server.rate_limit.login_burst, 3);
        assert_eq!(c.server.rate_limit.login_per_minute, 7);
        assert_eq!(c.database.url, "/tmp/x.db");
        assert_eq!(c.server.secure_cookies, Some(true));
    }

    #[test]
    fn typos_and_bad_values_are_typed_errors() {
        for bad in [
            "[server]\nlisen = \"x\"\n",
            "[sever]\n",
            "[server]\nbody_limit_bytes = \"big\"\n",
            "[server]\ntls_cert = \"a.pem\"\n",
            "[portal]\nsession_idle_minutes = 0\n",
            "not toml",
        ] {
            let e = Config::from_parts(bad, |_| None).unwrap_err();
            assert_eq!(e.code(), ErrorCode::ConfigInvalid, "{bad}");
        }
        let e = Config::from_parts("", |k| (k == "ECPA_MAIL_BATCH").then(|| "many".to_owned())).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ConfigInvalid);
    }

    #[test]
    fn database_tls_and_pool_from_the_file_or_the_environment() {
        let file = "[database]\nurl = \"postgres://ecpa:s3cret@db.example.gov.tw/ecpa?sslmode=require\"\nsslmode = \"verify-full\"\nca_file = \"/etc/ecpa/db-ca.pem\"\npool_size = 4\n";
        let c = Config::from_parts(file, |_| None).unwrap();
        assert_eq!(c.database.sslmode, Some(SslMode::VerifyFull));
        assert_eq!(c.database.ca_file.as_deref(), Some(Path::new("/etc/ecpa/db-ca.pem")));
        assert_eq!(c.database.pool_size, 4);
        let env = |k: &str| match k {
            "ECPA_DATABASE_SSLMODE" => Some("require".to_owned()),
            "ECPA_DATABASE_CA_FILE" => Some("/run/ca.pem".to_owned()),
            "ECPA_DATABASE_POOL_SIZE" => Some("16".to_owned()),
            _ => None,
        };
        let c = Config::from_parts(file, env).unwrap();
        assert_eq!(c.database.sslmode, Some(SslMode::Require));
        assert_eq!(c.database.ca_file.as_deref(), Some(Path::new("/run/ca.pem")));
        assert_eq!(c.database.pool_size, 16);
        assert_eq!(Config::default().database.pool_size, POOL_SIZE);
        assert_eq!(Config::default().database.sslmode, None);
        for bad in [
            "[database]\nsslmode = \"prefer\"\n",
            "[database]\nsslmode = \"verify-ca\"\n",
            "[database]\npool_size = 0\n",
        ] {
            assert_eq!(
                Config::from_parts(bad, |_| None).unwrap_err().code(),
                ErrorCode::ConfigInvalid,
                "{bad}"
            );
        }
        // The password never shows: not in Debug, not in the printable URL.
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert_eq!(
            c.database.redacted_url(),
            "postgres://ecpa:***@db.example.gov.tw/ecpa?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://u@h/db?password=pw&sslmode=disable"),
            "postgres://u@h/db?password=***&sslmode=disable"
        );
        assert_eq!(
            redact_url("host=h password=pw dbname=d"),
            "host=h password=*** dbname=d"
        );
        assert_eq!(redact_url("/var/lib/ecpa.db"), "/var/lib/ecpa.db");
    }

    #[test]
    fn tls_settings_are_refused_for_sqlite_and_checked_for_postgres() {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = |sslmode, ca_file| DatabaseConfig {
            url: format!("sqlite:{}", dir.path().join("t.db").display()),
            sslmode,
            ca_file,
            ..DatabaseConfig::default()
        };
        assert!(open_database(&sqlite(Some(SslMode::Disable), None)).is_ok());
        for (mode, ca) in [(Some(SslMode::Require), None), (None, Some(PathBuf::from("ca.pem")))] {
            let e = open_database(&sqlite(mode, ca)).err().unwrap();
            assert_eq!(e.code(), ErrorCode::ConfigInvalid);
        }
        // verify-full without a CA, and an unreadable CA file, are refused before connecting.
        let pg = |sslmode, ca_file| DatabaseConfig {
            url: "postgres://u@127.0.0.1:1/ecpa".into(),
            sslmode,
            ca_file,
            ..DatabaseConfig::default()
        };
        let e = open_database(&pg(Some(SslMode::VerifyFull), None)).err().unwrap();
        assert_eq!(e.code(), ErrorCode::ConfigInvalid);
        let missing = dir.path().join("missing.pem");
        let e = open_database(&pg(Some(SslMode::Require), Some(missing))).err().unwrap();
        assert_eq!(e.code(), ErrorCode::ConfigInvalid);
        assert!(e.message(crate::types::Lang::ZhTw).contains("CA 憑證檔"), "{e}");
        let not_pem = dir.path().join("not.pem");
        std::fs::write(&not_pem, "hello").unwrap();
        let e = open_database(&pg(Some(SslMode::Require), Some(not_pem))).err().unwrap();
        assert_eq!(e.code(), ErrorCode::ConfigInvalid);
        // The URL's own sslmode, libpq's words, is read; a bad one is the URL's error.
        let e = open_store("postgres://u@127.0.0.1:1/ecpa?sslmode=verify-full")
            .err()
            .unwrap();
        assert_eq!(e.code(), ErrorCode::ConfigInvalid, "verify-full needs a CA: {e}");
        let e = open_store("postgres://u@127.0.0.1:1/ecpa?sslmode=prefer")
            .err()
            .unwrap();
        assert_eq!(e.code(), ErrorCode::StorageUrlInvalid);
        // Nobody listens on port 1: TLS or not, that is "unavailable".
        let e = open_store("postgres://u@127.0.0.1:1/ecpa?sslmode=require")
            .err()
            .unwrap();
        assert_eq!(e.code(), ErrorCode::StorageUnavailable);
    }

    #[test]
    fn stores_and_mailers_come_from_the_config() {
        let e = open_store("postgres://u@127.0.0.1:1/ecpa").err().unwrap();
        assert_eq!(e.code(), ErrorCode::StorageUnavailable);
        assert!(open_store("sqlite::memory:").is_ok());
        let smtp = "[mail]\nkind = \"smtp\"\n[smtp]\nhost = \"127.0.0.1\"\nport = 2525\nusername = \"u\"\n";
        let c = Config::from_parts(smtp, |k| (k == "ECPA_SMTP_PASSWORD").then(|| "pw".to_owned())).unwrap();
        assert_eq!(
            c.smtp.as_ref().and_then(|s| s.password.clone()),
            Some(SmtpPassword::new("pw"))
        );
        assert!(open_mailer(&c).is_ok());
        assert!(!format!("{c:?}").contains("pw\""));
        let c = Config::from_parts("[mail]\nkind = \"smtp\"\n", |_| None).unwrap();
        assert_eq!(open_mailer(&c).err().unwrap().code(), ErrorCode::ConfigInvalid);
    }
}
