//! [`LocalPortal`]: the engine in this process, on a [`Store`], and [`PortalConfig`], its
//! settings. The use-case modules beside this one add their operations to it; the [`Portal`](super::Portal)
//! trait in `mod.rs` is the contract it and the network client share.

use std::path::Path;
use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use super::awards::DeliveryPolicy;
use super::certlogin::CertificateTrust;
use super::env::{Clock, OsRandomness, Randomness, SystemClock};
use super::possession::NhiCardVerifier;
use super::sso::{ApplicationLink, SsoKeys};
use super::{auth, env};
use crate::error::Result;
use crate::store::{SqliteStore, Store, StoreExt, schema};

/// The DGPA's support mailbox, which the FAQ's E5003 message names.
pub const DEFAULT_SUPPORT_EMAIL: &str = "pemis@dgpa.gov.tw";

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
    /// The support mailbox the E5003 message sends people to (「基於安全考量，請洽本總處
    /// 客服信箱：…」); the DGPA's own, [`DEFAULT_SUPPORT_EMAIL`], by default.
    pub support_email: String,
    /// Which award orders may be delivered electronically, and since when.
    pub delivery_policy: DeliveryPolicy,
    /// argon2id memory cost in KiB.
    pub argon2_memory_kib: u32,
    /// argon2id passes.
    pub argon2_iterations: u32,
    /// Whether officer functions need the citizen certificate or an NHI card whose possession
    /// was verified ([`possession`](super::possession)); off by default, as the guides have officers use B5 with
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
    /// The portal's origin as browsers send it (`https://ecpa.example.gov.tw`), which an
    /// origin-bound certificate login must have signed (`[server] public_origin`); `None`: the
    /// scheme, host and port of `portal_url`.
    pub public_origin: Option<String>,
    /// Whether certificate logins must be origin-bound (made through `ecpa agent`): raw
    /// PKCS#1 and CMS logins, which a look-alike page can relay, are then refused
    /// (`E5058 origin_bound_required`). Off by default, for the HiPKI pages in use.
    pub require_origin_bound: bool,
    /// The applications this portal opens with single sign-on, each at its address
    /// (`[[portal.applications]]`); the others open as metadata only. Each code must be in the
    /// catalogue: the portal refuses to start otherwise.
    pub applications: Vec<ApplicationLink>,
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
            support_email: DEFAULT_SUPPORT_EMAIL.into(),
            delivery_policy: DeliveryPolicy::default(),
            // OWASP's first argon2id recommendation: 19 MiB, two passes, one lane.
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            allow_self_approval: false,
            officer_requires_verified_card: false,
            max_concurrent_hashes: std::thread::available_parallelism().map_or(2, usize::from),
            hash_queue_wait: Duration::seconds(2),
            public_origin: None,
            require_origin_bound: false,
            applications: Vec::new(),
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
    /// Checks NHI cards' answers to a random ([`possession`](super::possession)); none by default.
    pub(crate) verifier: Option<Arc<dyn NhiCardVerifier>>,
    /// The single sign-on keys, read from the store on first use ([`sso`](super::sso)).
    pub(crate) sso_keys: std::sync::OnceLock<Arc<SsoKeys>>,
}

impl std::fmt::Debug for LocalPortal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalPortal")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl LocalPortal {
    /// The origin this portal answers at, as browsers send it: `[server] public_origin`, or
    /// the scheme, host and port of `portal_url`.
    pub fn public_origin(&self) -> Result<String> {
        LocalPortal::public_origin_of(&self.config)
    }

    /// The public origin a portal with `config` answers at (see [`LocalPortal::public_origin`]):
    /// what `ecpa agent` allows by default.
    pub fn public_origin_of(config: &PortalConfig) -> Result<String> {
        match &config.public_origin {
            Some(o) => super::certlogin::normalize_origin(o),
            None => {
                let url = config.portal_url.trim();
                let end = url.find("://").map_or(url.len(), |i| {
                    i + 3 + url[i + 3..].find(['/', '?', '#']).unwrap_or(url.len() - i - 3)
                });
                super::certlogin::normalize_origin(&url[..end])
            }
        }
    }

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

    /// A portal with every part chosen by the caller (tests step a [`ManualClock`](super::ManualClock)).
    /// Fails `E1094 config_invalid` if `config.applications` names an application the catalogue
    /// does not have, or one twice; a former code (`A2`) is taken as the one it now names.
    pub fn with_parts(
        store: Box<dyn Store>,
        mut config: PortalConfig,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Randomness>,
    ) -> Result<Self> {
        schema::migrate(store.as_ref(), env::millis(clock.now()))?;
        config.applications = store.read(|tx| super::apps::resolve_links(tx, &config.applications))?;
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
            sso_keys: std::sync::OnceLock::new(),
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

    /// The secret key `name` that every process on this database shares, made on first use:
    /// the HTTP service signs its CSRF tokens with one, so a token one `ecpa serve` gave is good
    /// at every other in front of the same database, and a planted cookie cannot carry one.
    pub fn server_key(&self, name: &str) -> Result<zeroize::Zeroizing<[u8; 32]>> {
        let mut fresh = zeroize::Zeroizing::new([0u8; 32]);
        self.rng.fill(fresh.as_mut())?;
        let fresh_hex = zeroize::Zeroizing::new(hex::encode(fresh.as_ref()));
        let now = env::millis(self.now());
        let hex_key = self
            .store
            .write(|tx| crate::db::site::server_key(tx, name, &fresh_hex, now))?;
        let mut key = zeroize::Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(hex_key.as_bytes(), key.as_mut())
            .map_err(|_| crate::store::corrupt("a server key is not 32 hex bytes"))?;
        Ok(key)
    }
}
