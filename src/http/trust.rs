//! Trust for certificate logins from the configuration's `[trust]` section, and the CRLs kept
//! current while the service runs.
//!
//! [`TrustFeed::load`] reads the anchors, intermediates and policy into the engine's
//! [`CertificateTrust`]; [`TrustFeed::refresh`] re-reads the CRL files and fetches the CRL URLs,
//! then hands the engine the new set in one swap ([`CertificateTrust::set_crls`] takes a write
//! lock only for the swap itself, so logins in flight keep the set they started with).
//!
//! A fetched CRL replaces the one held for its URL only if its signature verifies under a
//! configured CA of its issuer's name and it is not older than the one held (a replayed older
//! CRL could hide a revocation). A URL that fails to refresh keeps its last good CRL: until that
//! CRL's nextUpdate logins go on as before; after it, the validator answers `crl_stale` for the
//! certificates that CRL covers, while NHI-card and account logins are untouched.
//! [`TrustFeed::status`] tells `/readyz` and `/metrics` how fresh each CRL is.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;

use crate::config::TrustConfig;
use crate::error::{Error, ErrorCode, Result};
use crate::pki::{Certificate, Crl, TrustAnchor};
use crate::portal::{CertificateTrust, LocalPortal};
use crate::types::{Lang, RocDateTime};

/// The largest CRL fetched (MOICA's complete CRLs are tens of MiB).
const MAX_CRL_BYTES: u64 = 256 * 1024 * 1024;
/// How long one CRL download may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(60);

/// What `[trust]` configures, loaded, and the CRLs it keeps current.
#[derive(Debug)]
pub struct TrustFeed {
    config: TrustConfig,
    anchors: usize,
    intermediates: usize,
    /// The CAs that may sign a CRL: anchors and intermediates.
    cas: Vec<Certificate>,
    state: Mutex<FeedState>,
}

#[derive(Debug, Default)]
struct FeedState {
    sources: Vec<CrlSource>,
}

/// One configured place CRLs come from, with what it last gave.
#[derive(Debug)]
struct CrlSource {
    kind: SourceKind,
    crls: Vec<Crl>,
    refreshed_at: Option<OffsetDateTime>,
    error: Option<Error>,
    failures: u64,
}

#[derive(Debug, Clone)]
enum SourceKind {
    File(PathBuf),
    Url(String),
}

impl SourceKind {
    fn label(&self) -> String {
        match self {
            SourceKind::File(p) => p.display().to_string(),
            SourceKind::Url(u) => u.clone(),
        }
    }
}

/// How one CRL stands, for `/readyz` and `/metrics`.
#[derive(Debug, Clone, Serialize)]
pub struct CrlStatus {
    /// The CRL's issuer (the CA whose certificates it covers).
    pub issuer: String,
    /// The file or URL it came from.
    pub source: String,
    /// Its thisUpdate.
    pub this_update: Option<RocDateTime>,
    /// Its nextUpdate: after it, logins it covers fail `crl_stale` until a newer one arrives.
    pub next_update: Option<RocDateTime>,
    /// Whether it is current now.
    pub fresh: bool,
    /// Entries (revoked certificates).
    pub entries: usize,
    /// When the source last gave a good CRL.
    pub refreshed_at: Option<RocDateTime>,
    /// The last refresh's failure, if it failed (the CRL above is then the last good one).
    pub last_error: Option<String>,
    /// Refreshes of this source that failed since the service started.
    pub failures: u64,
}

/// The trust summary `/readyz` reports.
#[derive(Debug, Clone, Serialize)]
pub struct TrustStatus {
    /// Trust anchors loaded.
    pub anchors: usize,
    /// Intermediate CAs loaded.
    pub intermediates: usize,
    /// The required policy OID, or `any`.
    pub policy: String,
    /// Each CRL held, and each source that has none yet (with its error).
    pub crls: Vec<CrlStatus>,
    /// Whether every CRL is current and every source has given one.
    pub fresh: bool,
}

/// What one refresh did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefreshReport {
    /// CRLs now held.
    pub crls: usize,
    /// Sources that failed this time (each keeps its last good CRLs).
    pub failed: Vec<String>,
}

fn trust_error(zh: String, en: String) -> Error {
    Error::with(ErrorCode::ConfigInvalid, zh, en)
}

impl TrustFeed {
    /// Loads anchors, intermediates and the policy; `None` when no anchors are configured
    /// (certificate logins stay off). CRLs come with the first [`TrustFeed::refresh`].
    pub fn load(config: &TrustConfig) -> Result<Option<(CertificateTrust, TrustFeed)>> {
        if !config.enabled() {
            return Ok(None);
        }
        let read = |what: (&str, &str), path: &PathBuf| {
            crate::pki::path::load_certificates(path).map_err(|e| {
                trust_error(
                    format!("無法讀取{} {}：{}", what.0, path.display(), e.message(Lang::ZhTw)),
                    format!("cannot read {} {}: {}", what.1, path.display(), e.message(Lang::En)),
                )
            })
        };
        let mut anchors = Vec::new();
        for path in &config.anchors {
            let certs = read(("信任錨", "the trust anchors"), path)?;
            if certs.is_empty() {
                return Err(trust_error(
                    format!("信任錨 {} 中沒有憑證", path.display()),
                    format!("no certificate in the trust anchors {}", path.display()),
                ));
            }
            anchors.extend(certs);
        }
        let mut intermediates = Vec::new();
        for path in &config.intermediates {
            intermediates.extend(read(("中繼憑證", "the intermediates"), path)?);
        }
        let trust = CertificateTrust::new(anchors.iter().cloned().map(TrustAnchor::new).collect())
            .with_intermediates(intermediates.iter().cloned())
            .with_policy(config.policy_oid()?)
            .with_revocation_required(!(config.crls.is_empty() && config.crl_urls.is_empty()));
        let sources = (config.crls.iter().cloned().map(SourceKind::File))
            .chain(config.crl_urls.iter().cloned().map(SourceKind::Url))
            .map(|kind| CrlSource {
                kind,
                crls: Vec::new(),
                refreshed_at: None,
                error: None,
                failures: 0,
            })
            .collect();
        let feed = TrustFeed {
            config: config.clone(),
            anchors: anchors.len(),
            intermediates: intermediates.len(),
            cas: anchors.into_iter().chain(intermediates).collect(),
            state: Mutex::new(FeedState { sources }),
        };
        Ok(Some((trust, feed)))
    }

    /// Whether there are CRL sources to refresh.
    pub fn has_crls(&self) -> bool {
        !(self.config.crls.is_empty() && self.config.crl_urls.is_empty())
    }

    /// How often [`TrustFeed::refresh`] runs.
    pub fn refresh_every(&self) -> Duration {
        Duration::from_secs_f64(self.config.crl_refresh_minutes * 60.0)
    }

    /// Re-reads every CRL file and fetches every CRL URL, keeping each source's last good CRLs
    /// where it fails, then gives `trust` the new set.
    pub fn refresh(&self, trust: &CertificateTrust) -> RefreshReport {
        // Downloads happen outside the lock, so `/readyz` answers while a large CRL comes in.
        let kinds: Vec<SourceKind> = self.lock().sources.iter().map(|s| s.kind.clone()).collect();
        let fetched: Vec<Result<Vec<Crl>>> = kinds.iter().map(|k| self.read_source(k)).collect();
        let now = OffsetDateTime::now_utc();
        let mut state = self.lock();
        let mut report = RefreshReport::default();
        for (source, result) in state.sources.iter_mut().zip(fetched) {
            match result.and_then(|crls| newer_than_held(&source.crls, crls)) {
                Ok(crls) => {
                    source.crls = crls;
                    source.refreshed_at = Some(now);
                    source.error = None;
                }
                Err(e) => {
                    tracing::warn!(
                        source = %source.kind.label(),
                        error = %e.code(),
                        reason = %e.message(Lang::En),
                        kept = source.crls.len(),
                        "CRL refresh failed; keeping the last good CRL"
                    );
                    source.failures += 1;
                    source.error = Some(e);
                    report.failed.push(source.kind.label());
                }
            }
        }
        let all: Vec<Crl> = state.sources.iter().flat_map(|s| s.crls.iter().cloned()).collect();
        report.crls = all.len();
        drop(state);
        trust.set_crls(all);
        report
    }

    fn read_source(&self, kind: &SourceKind) -> Result<Vec<Crl>> {
        let crls = match kind {
            SourceKind::File(path) => Crl::load(path)?,
            SourceKind::Url(url) => Crl::parse_all(&fetch(url)?)?,
        };
        if crls.is_empty() {
            return Err(Error::with(
                ErrorCode::CrlMalformed,
                format!("{} 中沒有廢止清冊", kind.label()),
                format!("no CRL in {}", kind.label()),
            ));
        }
        for crl in &crls {
            self.check_signed(crl)?;
        }
        Ok(crls)
    }

    /// A CRL counts only if a configured CA of its issuer's name signed it.
    fn check_signed(&self, crl: &Crl) -> Result<()> {
        let signed = self
            .cas
            .iter()
            .filter(|ca| ca.subject_name() == crl.issuer())
            .any(|ca| ca.public_key().is_ok_and(|k| crl.verify_signed_by(k).is_ok()));
        if signed {
            Ok(())
        } else {
            let issuer = crl.issuer().to_string();
            Err(Error::with(
                ErrorCode::CrlSignatureInvalid,
                format!("廢止清冊（{issuer}）的簽章無法以所設定的憑證機構驗證"),
                format!("the CRL of {issuer} is not signed by a configured CA"),
            ))
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FeedState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How the trust and each CRL stand at `now`.
    pub fn status(&self, now: OffsetDateTime) -> TrustStatus {
        let state = self.lock();
        let mut crls = Vec::new();
        for source in &state.sources {
            let last_error = source
                .error
                .as_ref()
                .map(|e| format!("{}: {}", e.code(), e.message(Lang::En)));
            if source.crls.is_empty() {
                crls.push(CrlStatus {
                    issuer: String::new(),
                    source: source.kind.label(),
                    this_update: None,
                    next_update: None,
                    fresh: false,
                    entries: 0,
                    refreshed_at: source.refreshed_at.map(RocDateTime::from),
                    last_error: last_error.clone(),
                    failures: source.failures,
                });
            }
            for crl in &source.crls {
                let fresh = crl.this_update() <= now && crl.next_update().is_none_or(|n| now <= n);
                crls.push(CrlStatus {
                    issuer: crl.issuer().to_string(),
                    source: source.kind.label(),
                    this_update: Some(crl.this_update().into()),
                    next_update: crl.next_update().map(RocDateTime::from),
                    fresh,
                    entries: crl.len(),
                    refreshed_at: source.refreshed_at.map(RocDateTime::from),
                    last_error: last_error.clone(),
                    failures: source.failures,
                });
            }
        }
        TrustStatus {
            anchors: self.anchors,
            intermediates: self.intermediates,
            policy: self.config.policy.clone(),
            fresh: crls.iter().all(|c| c.fresh),
            crls,
        }
    }

    /// Refreshes every [`TrustFeed::refresh_every`] on a thread of its own until `stop` is set.
    pub fn spawn_refresher(
        self: Arc<Self>,
        portal: Arc<LocalPortal>,
        stop: Arc<AtomicBool>,
    ) -> Result<std::thread::JoinHandle<()>> {
        let every = self.refresh_every();
        let thread = std::thread::Builder::new()
            .name("ecpa-crl-refresh".into())
            .spawn(move || {
                loop {
                    let due = std::time::Instant::now() + every;
                    while std::time::Instant::now() < due {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(100).min(every));
                    }
                    if let Some(trust) = portal.certificate_trust() {
                        let report = self.refresh(trust);
                        tracing::info!(crls = report.crls, failed = report.failed.len(), "CRLs refreshed");
                    }
                }
            })?;
        Ok(thread)
    }
}

/// The fetched CRLs, unless one is older than the CRL of the same issuer held now.
fn newer_than_held(held: &[Crl], fetched: Vec<Crl>) -> Result<Vec<Crl>> {
    for new in &fetched {
        if let Some(old) = held
            .iter()
            .find(|old| old.issuer() == new.issuer() && old.this_update() > new.this_update())
        {
            let issuer = new.issuer().to_string();
            return Err(Error::with(
                ErrorCode::CrlStale,
                format!(
                    "取得的廢止清冊（{issuer}）比現有的舊（{} < {}），不予採用",
                    RocDateTime::from(new.this_update()),
                    RocDateTime::from(old.this_update())
                ),
                format!("the fetched CRL of {issuer} is older than the one held; not taken"),
            ));
        }
    }
    Ok(fetched)
}

/// Downloads a CRL: HTTP 200 within the time and size limits.
fn fetch(url: &str) -> Result<Vec<u8>> {
    use std::io::Read;
    let failed = |e: &dyn std::fmt::Display| {
        Error::with(
            ErrorCode::HttpUnreachable,
            format!("無法取得廢止清冊 {url}：{e}"),
            format!("cannot fetch the CRL {url}: {e}"),
        )
    };
    let client = reqwest::blocking::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
        .map_err(|e| failed(&e))?;
    let response = client.get(url).send().map_err(|e| failed(&e))?;
    if !response.status().is_success() {
        return Err(Error::with(
            ErrorCode::HttpBadResponse,
            format!("廢止清冊 {url} 回應 HTTP {}", response.status().as_u16()),
            format!("the CRL {url} answered HTTP {}", response.status().as_u16()),
        ));
    }
    let mut body = Vec::new();
    response
        .take(MAX_CRL_BYTES + 1)
        .read_to_end(&mut body)
        .map_err(|e| failed(&e))?;
    if body.len() as u64 > MAX_CRL_BYTES {
        return Err(failed(&format!("larger than {MAX_CRL_BYTES} bytes")));
    }
    Ok(body)
}
