//! `ecpa serve`: the engine behind a versioned JSON API (`/api/v1`), on axum and tokio.
//!
//! - Every [`Portal`] operation has one endpoint ([`ENDPOINTS`], also the source of the OpenAPI
//!   document). The engine is blocking; each call runs on tokio's blocking pool
//!   (`spawn_blocking`), never on the async threads.
//! - Sessions: `Authorization: Bearer <token>`, or the `ecpa_session` cookie (HttpOnly,
//!   SameSite=Strict, Secure under TLS). Cookie requests that change something must send the
//!   CSRF token in `X-CSRF-Token`; it is derived from the session token (a signed double
//!   submit), so a cookie planted by a sibling site cannot forge it. Bearer requests are exempt:
//!   a browser never adds that header by itself.
//! - Every failure answers with the crate's typed error body ([`ErrorBody`]) and the HTTP
//!   status from one table ([`status_of`]); `Retry-After` accompanies lockouts, rate limits and
//!   maintenance windows (503, with the announced period in zh-TW).
//! - Limits: body size, request time, and per-address token buckets on logins and registration.
//! - `/healthz`, `/metrics` (Prometheus text, with the portal's own counters), and
//!   `/api/v1/openapi.json`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Request, State};
use axum::handler::Handler;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use hmac::{Hmac, KeyInit, Mac};
use serde::de::DeserializeOwned;
use sha2::Sha256;

use super::api::{
    self, Call, CompleteCertificateLogin, Empty, GetSsoKeys, LoginAccount, LoginNhiCard, Logout, Operation, Ping,
    Served, Visitor, is_none,
};
pub use super::api::{Access, ENDPOINTS, Endpoint};
use super::wire::*;
use crate::config::{Config, ServerConfig, open_database, open_mailer};
use crate::error::{Error, ErrorCode, Result};
use crate::portal::{LocalPortal, Mailer, Portal, SessionToken};

mod errors;
mod extract;
mod handlers;
mod limits;
mod metrics;
mod routes;

use errors::*;
pub use errors::{ApiError, status_of};
use extract::*;
pub use extract::{Auth, Body, ClientIp, P};
use handlers::*;
use limits::*;
pub use limits::{RateLimiter, client_ip};
use metrics::*;
pub use routes::router;

/// What the service adds around the engine: the trust feed behind certificate logins (for
/// `/readyz` and `/metrics`) and the request log.
#[derive(Debug, Clone, Default)]
pub struct ServiceOptions {
    /// The `[trust]` section, loaded; `None` when certificate logins are off.
    pub trust: Option<Arc<super::trust::TrustFeed>>,
    /// One log line per request.
    pub log_requests: bool,
}

/// What every handler shares.
pub struct AppState {
    portal: Arc<LocalPortal>,
    /// The key of the CSRF tokens' HMAC, from the store.
    csrf_key: zeroize::Zeroizing<[u8; 32]>,
    metrics_token: Option<crate::config::Secret>,
    login_limit: RateLimiter,
    registration_limit: RateLimiter,
    timeout: Duration,
    secure_cookies: bool,
    trusted_proxies: Vec<IpAddr>,
    metrics: HttpMetrics,
    options: ServiceOptions,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl AppState {
    /// The state for a portal served with these settings.
    pub fn new(portal: Arc<LocalPortal>, server: &ServerConfig) -> Result<Self> {
        Self::with_options(portal, server, ServiceOptions::default())
    }

    /// [`AppState::new`], with the trust feed and the request log.
    pub fn with_options(portal: Arc<LocalPortal>, server: &ServerConfig, options: ServiceOptions) -> Result<Self> {
        let r = &server.rate_limit;
        let csrf_key = portal.server_key("csrf")?;
        Ok(AppState {
            csrf_key,
            portal,
            login_limit: RateLimiter::new(r.login_per_minute, r.login_burst),
            registration_limit: RateLimiter::new(r.registration_per_minute, r.registration_burst),
            timeout: Duration::from_millis(server.request_timeout_ms),
            secure_cookies: server.secure_cookies.unwrap_or(server.tls_cert.is_some()),
            trusted_proxies: server.trusted_proxies.clone(),
            metrics_token: server.metrics_token.clone(),
            metrics: HttpMetrics::default(),
            options,
        })
    }

    /// The CSRF token of a session: an HMAC of the session token under the key every process
    /// on the database shares ([`LocalPortal::server_key`]), so it needs no storage, any
    /// `ecpa serve` in front of the database accepts it, and no one without the key can make
    /// one for a cookie they planted.
    pub fn csrf_token(&self, session: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.csrf_key.as_ref())
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(session.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The session cookie's name: with the `__Host-` prefix when cookies are secure, so the
    /// browser keeps it to this host, over HTTPS, for every path, and no subdomain can set it.
    fn session_cookie(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-ecpa_session"
        } else {
            "ecpa_session"
        }
    }

    /// The CSRF cookie's name, prefixed as [`AppState::session_cookie`] is.
    fn csrf_cookie(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-ecpa_csrf"
        } else {
            "ecpa_csrf"
        }
    }
}

type St = State<Arc<AppState>>;

/// Runs an engine call on the blocking pool.
async fn run<T, F>(st: &AppState, f: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce(&LocalPortal) -> Result<T> + Send + 'static,
{
    let portal = st.portal.clone();
    tokio::task::spawn_blocking(move || f(&portal))
        .await
        .map_err(|e| ApiError::from(Error::internal(format!("engine task failed: {e}"))))?
        .map_err(|e| {
            // The wait is counted on the portal's own clock, the one its windows are set by.
            let retry_after = match &e {
                Error::RegistrationMaintenance { to, .. } => {
                    let left = (*to - st.portal.now()).whole_seconds();
                    Some(u64::try_from(left).unwrap_or(0).max(1))
                }
                _ => None,
            };
            ApiError { error: e, retry_after }
        })
}

/// TLS settings from PEM files, with the aws-lc-rs provider.
pub fn tls_config(cert: &std::path::Path, key: &std::path::Path) -> Result<axum_server::tls_rustls::RustlsConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |what: &str, e: &dyn std::fmt::Display| {
        Error::with(ErrorCode::TlsFailed, format!("{what}：{e}"), format!("{what}: {e}"))
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad("TLS 憑證 certificate", &e))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| bad("TLS 憑證 certificate", &e))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| bad("TLS 金鑰 key", &e))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad("TLS", &e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| bad("TLS 憑證與金鑰 certificate and key", &e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(config)))
}

/// A service running on its own threads; dropping it (or [`RunningServer::shutdown`]) stops it.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    tls: bool,
    handle: axum_server::Handle<SocketAddr>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl RunningServer {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, `http://127.0.0.1:PORT` (or `https://`).
    pub fn url(&self) -> String {
        format!("{}://{}", if self.tls { "https" } else { "http" }, self.addr)
    }

    /// Stops accepting, lets requests in progress finish (up to 5 s), and waits.
    pub fn shutdown(mut self) -> Result<()> {
        self.stop()
    }

    fn stop(&mut self) -> Result<()> {
        self.handle.graceful_shutdown(Some(Duration::from_secs(5)));
        if let Some(t) = self.thread.take() {
            t.join()
                .map_err(|_| Error::internal("server thread panicked"))?
                .map_err(Error::from)?;
        }
        Ok(())
    }

    /// Blocks until the service stops (on SIGINT or SIGTERM when started by [`serve`]).
    pub fn wait(mut self) -> Result<()> {
        if let Some(t) = self.thread.take() {
            t.join()
                .map_err(|_| Error::internal("server thread panicked"))?
                .map_err(Error::from)?;
        }
        Ok(())
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// Starts serving `portal` with `server`'s settings on its own runtime thread; returns once
/// the socket is listening (so `server.listen` may use port 0).
pub fn start(portal: Arc<LocalPortal>, server: &ServerConfig) -> Result<RunningServer> {
    start_with(portal, server, ServiceOptions::default())
}

/// [`start`], with the trust feed and the request log.
pub fn start_with(portal: Arc<LocalPortal>, server: &ServerConfig, options: ServiceOptions) -> Result<RunningServer> {
    let listener = std::net::TcpListener::bind(server.listen.as_str()).map_err(|e| {
        Error::with(
            ErrorCode::ConfigInvalid,
            format!("無法監聽 {}：{e}", server.listen),
            format!("cannot listen on {}: {e}", server.listen),
        )
    })?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let tls = match (&server.tls_cert, &server.tls_key) {
        (Some(c), Some(k)) => Some(tls_config(c, k)?),
        _ => None,
    };
    let is_tls = tls.is_some();
    let header_timeout_ms = server.header_timeout_ms;
    let guard = super::conn::ConnectionGuard::new(
        Duration::from_millis(server.idle_timeout_ms),
        server.max_connections_per_address,
    );
    let state = Arc::new(AppState::with_options(portal, server, options)?);
    // Dropped last, on the server's own thread once its runtime is gone: a PostgreSQL pool's
    // connections block on a runtime of their own when dropped, which panics inside another.
    let last = state.clone();
    let app = router(state, server.body_limit_bytes);
    let handle = axum_server::Handle::new();
    let h = handle.clone();
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all().thread_name("ecpa-http");
    if let Some(n) = server.worker_threads {
        rt.worker_threads(n.max(1));
    }
    let rt = rt.build()?;
    let thread = std::thread::Builder::new().name("ecpa-serve".into()).spawn(move || {
        let served = rt.block_on(async move {
            let make = app.into_make_service_with_connect_info::<SocketAddr>();
            let stop = h.clone();
            tokio::spawn(async move {
                shutdown_signal().await;
                stop.graceful_shutdown(Some(Duration::from_secs(10)));
            });
            let header_timeout = Duration::from_millis(header_timeout_ms);
            match tls {
                Some(tls) => {
                    let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(tls).acceptor(guard);
                    let mut s = axum_server::from_tcp(listener)?.acceptor(acceptor).http1_only();
                    limit_header_time(s.http_builder(), header_timeout);
                    s.handle(h).serve(make).await
                }
                None => {
                    let mut s = axum_server::from_tcp(listener)?.acceptor(guard).http1_only();
                    limit_header_time(s.http_builder(), header_timeout);
                    s.handle(h).serve(make).await
                }
            }
        });
        drop(rt);
        drop(last);
        served
    })?;
    Ok(RunningServer {
        addr,
        tls: is_tls,
        handle,
        thread: Some(thread),
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// Delivers every mail due now, in rounds of `batch`, until a round finds fewer than `batch`
/// or `stop` is set: one turn of the service's mail worker, and `ecpa outbox deliver --once`.
/// Mail that fails waits for its retry time, so a round never picks it up again.
pub fn deliver_due(
    portal: &LocalPortal,
    mailer: &dyn Mailer,
    batch: usize,
    stop: &AtomicBool,
) -> Result<crate::portal::DeliveryReport> {
    let mut total = crate::portal::DeliveryReport::default();
    loop {
        let round = portal.deliver_outbox(mailer, batch)?;
        total.sent += round.sent;
        total.failed += round.failed;
        if round.sent + round.failed < batch || stop.load(Ordering::Relaxed) {
            return Ok(total);
        }
    }
}

/// Delivers the outbox every `poll` until `stop` is set: the service's mail worker (and
/// `ecpa outbox deliver` without `--once`).
pub fn outbox_worker(
    portal: Arc<LocalPortal>,
    mailer: Box<dyn Mailer>,
    poll: Duration,
    batch: usize,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            if let Err(e) = deliver_due(&portal, mailer.as_ref(), batch, &stop) {
                tracing::error!(error = %e.code(), reason = %e.message(crate::types::Lang::En), "outbox delivery failed");
            }
            // Sleep in short steps, so a stop request is answered within a fraction of a second.
            let until = std::time::Instant::now() + poll;
            while !stop.load(Ordering::Relaxed) && std::time::Instant::now() < until {
                std::thread::sleep(poll.min(Duration::from_millis(100)));
            }
        }
    })
}

/// Blocks until the process is asked to stop (SIGINT or SIGTERM; Ctrl-C elsewhere), as
/// `ecpa serve` stops: for other long-running commands such as `ecpa outbox deliver`. `ready`
/// is called once the signals are caught, so a caller may announce that it is running.
pub fn wait_for_shutdown_signal(ready: impl FnOnce()) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut term = signal(SignalKind::terminate())?;
            let mut int = signal(SignalKind::interrupt())?;
            ready();
            tokio::select! {
                _ = term.recv() => {},
                _ = int.recv() => {},
            }
        }
        #[cfg(not(unix))]
        {
            let ctrl_c = tokio::signal::ctrl_c();
            ready();
            ctrl_c.await?;
        }
        Ok(())
    })
}

/// Keeps the log writer's thread running; dropping it writes out what is still queued.
#[derive(Debug)]
pub struct LogGuard {
    _writer: Option<tracing_appender::non_blocking::WorkerGuard>,
}

/// Sends the `tracing` events of this process to standard error as `[log]` says: readable
/// lines or one JSON object per line. Once per process; later calls change nothing. Lines are
/// queued to a writer thread (a request formats its line, it never waits on the write); when the
/// queue is full, requests wait rather than lines being lost.
pub fn init_logging(log: &crate::config::LogConfig) -> Result<LogGuard> {
    init_logging_to(log, Box::new(std::io::stderr()))
}

/// [`init_logging`] into another writer (a file; the benchmark's log).
pub fn init_logging_to(log: &crate::config::LogConfig, out: Box<dyn std::io::Write + Send>) -> Result<LogGuard> {
    let filter = tracing_subscriber::EnvFilter::try_new(&log.level).map_err(|e| {
        Error::with(
            ErrorCode::ConfigInvalid,
            format!("log.level 設定錯誤：{e}"),
            format!("log.level: {e}"),
        )
    })?;
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("ecpa-log")
        // The writer thread flushes whenever its queue runs dry, so a busy service writes its
        // lines in batches and a quiet one at once.
        .finish(std::io::BufWriter::new(out));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false);
    // An embedding program may have set its own subscriber: that one stays.
    let installed = if log.format == "json" {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
    Ok(LogGuard {
        _writer: installed.is_ok().then_some(guard),
    })
}

/// The kind of database a URL names, for logs (never the URL itself: it may hold a password).
pub fn database_kind(url: &str) -> &'static str {
    let url = url.trim();
    if crate::store::is_postgres_url(url) {
        "postgresql"
    } else if matches!(url, ":memory:" | "sqlite::memory:") {
        "sqlite (memory)"
    } else {
        "sqlite"
    }
}

/// Loads `[trust]` and its CRLs (fetching the CRL URLs once): the trust to give the engine and
/// the feed that keeps the CRLs current, or `None` when no anchors are configured.
pub fn load_trust(
    config: &crate::config::TrustConfig,
) -> Result<Option<(crate::portal::CertificateTrust, Arc<super::trust::TrustFeed>)>> {
    let Some((trust, feed)) = super::trust::TrustFeed::load(config)? else {
        return Ok(None);
    };
    if feed.has_crls() {
        feed.refresh(&trust);
    }
    Ok(Some((trust, Arc::new(feed))))
}

/// `ecpa serve`: the portal of `config` (store, mailer, engine settings, trust) served until
/// SIGINT or SIGTERM; the outbox worker and the CRL refresher run beside it. `on_listening` is
/// told the address first.
pub fn serve(config: &Config, on_listening: impl FnOnce(&RunningServer)) -> Result<()> {
    let _log = init_logging(&config.log)?;
    let store = open_database(&config.database)?;
    let mailer = open_mailer(config)?;
    let mut portal = LocalPortal::with_store(store, config.portal_config()?)?;
    let trust = load_trust(&config.trust)?;
    let feed = match trust {
        Some((trust, feed)) => {
            portal = portal.with_certificate_trust(trust);
            Some(feed)
        }
        None => None,
    };
    let portal = Arc::new(portal);
    let stop = Arc::new(AtomicBool::new(false));
    let worker = outbox_worker(
        portal.clone(),
        mailer,
        Duration::from_millis(config.mail.poll_ms),
        config.mail.batch,
        stop.clone(),
    );
    let refresher = match &feed {
        Some(feed) if feed.has_crls() => Some(feed.clone().spawn_refresher(portal.clone(), stop.clone())?),
        _ => None,
    };
    let options = ServiceOptions {
        trust: feed.clone(),
        log_requests: config.log.requests,
    };
    let server = start_with(portal, &config.server, options)?;
    let now = time::OffsetDateTime::now_utc();
    let trust_summary = match &feed {
        None => "off (no [trust] anchors: certificate logins answer certificate_login_unavailable)".to_owned(),
        Some(feed) => {
            let t = feed.status(now);
            format!(
                "{} anchors, {} intermediates, policy {}, {} CRLs{}",
                t.anchors,
                t.intermediates,
                t.policy,
                t.crls.iter().filter(|c| c.this_update.is_some()).count(),
                if t.crls.is_empty() {
                    " (revocation not checked)"
                } else if t.fresh {
                    " (all current)"
                } else {
                    " (some stale or missing: see /readyz)"
                }
            )
        }
    };
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        listen = %server.url(),
        database = %database_kind(&config.database.url),
        trust = %trust_summary,
        "ecpa serve started"
    );
    on_listening(&server);
    let result = server.wait();
    stop.store(true, Ordering::Relaxed);
    let _ = worker.join();
    if let Some(r) = refresher {
        let _ = r.join();
    }
    tracing::info!("ecpa serve stopped");
    result
}
