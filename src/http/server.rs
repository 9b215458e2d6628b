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
    self, Call, CompleteCertificateLogin, Empty, LoginAccount, LoginNhiCard, Logout, Operation, Ping, Served, Visitor,
    is_none,
};
pub use super::api::{Access, ENDPOINTS, Endpoint};
use super::wire::*;
use crate::config::{Config, ServerConfig, open_database, open_mailer};
use crate::error::{Error, ErrorCode, Result};
use crate::portal::{LocalPortal, Mailer, Portal, SessionToken};

// ---------------------------------------------------------------------------------------------
// Errors and statuses

/// The HTTP status of each error code: the one table the service answers by.
pub fn status_of(code: ErrorCode) -> StatusCode {
    use ErrorCode as C;
    let n = code.number();
    match code {
        C::RequestInvalid => StatusCode::BAD_REQUEST,
        C::RequestTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        C::EndpointUnknown => StatusCode::NOT_FOUND,
        C::ContentTypeInvalid => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        C::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        C::ConfigInvalid => StatusCode::INTERNAL_SERVER_ERROR,
        C::LoginLocked | C::LoginHeld => StatusCode::LOCKED,
        C::AccountNameTaken => StatusCode::CONFLICT,
        C::AssuranceTooLow
        | C::AccessDenied
        | C::NotPersonnelOfficer
        | C::CsrfRejected
        | C::SelfApprovalRefused
        | C::OfficerLoginTooWeak => StatusCode::FORBIDDEN,
        C::ApplicationUnknown => StatusCode::NOT_FOUND,
        C::ApplicationNotAdded => StatusCode::CONFLICT,
        C::CertificateLoginUnavailable => StatusCode::NOT_IMPLEMENTED,
        C::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        C::AgencyNotFound | C::EmployeeNotFound => StatusCode::NOT_FOUND,
        C::EmployeeNotInAgency => StatusCode::FORBIDDEN,
        C::RegistrationMaintenance => StatusCode::SERVICE_UNAVAILABLE,
        C::AlreadyRegistered | C::RegistrationPending => StatusCode::CONFLICT,
        C::RegistrationDataMismatch | C::RegistrationNoAddress => StatusCode::UNPROCESSABLE_ENTITY,
        C::TokenInvalid => StatusCode::BAD_REQUEST,
        C::TokenExpired | C::TokenUsed => StatusCode::GONE,
        C::HouseholdMismatch => StatusCode::UNPROCESSABLE_ENTITY,
        C::ConsentTextOutdated | C::ConsentFinal | C::ConsentNotGiven => StatusCode::CONFLICT,
        C::AwardOrderNotFound | C::CorrectionNotFound => StatusCode::NOT_FOUND,
        C::AwardOrderDuplicate | C::CorrectionAlreadyProcessed => StatusCode::CONFLICT,
        C::StorageBusy | C::LoginBusy => StatusCode::SERVICE_UNAVAILABLE,
        C::MailFailed | C::HttpUnreachable | C::HttpBadResponse => StatusCode::BAD_GATEWAY,
        C::HttpTimeout => StatusCode::SERVICE_UNAVAILABLE,
        // Domain values that fail validation (IDs, dates, codes, passwords, fields, PINs).
        _ if (1000..4000).contains(&n) => StatusCode::UNPROCESSABLE_ENTITY,
        // Certificates and signatures presented at login, and the login errors themselves.
        _ if (4000..5100).contains(&n) => StatusCode::UNAUTHORIZED,
        // Proofing input.
        _ if (8000..9000).contains(&n) => StatusCode::UNPROCESSABLE_ENTITY,
        C::AwardOrderInvalid => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// An engine error on its way out as an HTTP answer.
#[derive(Debug)]
pub struct ApiError {
    error: Error,
    retry_after: Option<u64>,
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        ApiError {
            error,
            retry_after: None,
        }
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        Error::new(code).into()
    }
}

impl ApiError {
    fn rate_limited(seconds: u64) -> Self {
        ApiError {
            error: Error::with(
                ErrorCode::RateLimited,
                format!("請於 {seconds} 秒後再試"),
                format!("try again in {seconds} seconds"),
            ),
            retry_after: Some(seconds),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(self.error.code());
        let mut body = ErrorBody::of(&self.error);
        body.retry_after = self.retry_after.or(match &self.error {
            Error::LoginLocked { seconds_left, .. } => Some((*seconds_left).max(1)),
            Error::RegistrationMaintenance { .. } => Some(60),
            Error::Failed {
                code: ErrorCode::StorageBusy | ErrorCode::HttpTimeout | ErrorCode::LoginBusy,
                ..
            } => Some(1),
            _ => None,
        });
        let mut response = (status, Json(&body)).into_response();
        if status.is_server_error() {
            // The request log names the cause of every 5xx (English message, code).
            response.extensions_mut().insert(ServerErrorCause(format!(
                "{}: {}",
                self.error.code(),
                self.error.message(crate::types::Lang::En)
            )));
        }
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(secs) = body.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            headers.insert(header::RETRY_AFTER, v);
        }
        response
    }
}

type ApiResult<T> = std::result::Result<T, ApiError>;

/// Why a request answered 5xx, carried from the handler to the request log.
#[derive(Debug, Clone)]
struct ServerErrorCause(String);

// ---------------------------------------------------------------------------------------------
// State, limits, metrics

/// A token bucket per client address.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimiter {
    /// `per_minute` tokens refilled per minute, at most `burst` saved up.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        RateLimiter {
            per_second: f64::from(per_minute.max(1)) / 60.0,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `ip`'s network (an IPv4 address, an IPv6 /64), or says how many whole seconds until one is there.
    pub fn take(&self, ip: IpAddr, now: Instant) -> std::result::Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 100_000 {
            // Forget addresses whose bucket has refilled: they are indistinguishable from new.
            let (rate, burst) = (self.per_second, self.burst);
            buckets.retain(|_, (tokens, at)| *tokens + now.duration_since(*at).as_secs_f64() * rate < burst);
        }
        // One bucket per network: an IPv6 host has a whole /64 to send from.
        let (tokens, at) = buckets
            .entry(crate::portal::guard::network_address(ip))
            .or_insert((self.burst, now));
        let refilled = (*tokens + now.duration_since(*at).as_secs_f64() * self.per_second).min(self.burst);
        *at = now;
        if refilled >= 1.0 {
            *tokens = refilled - 1.0;
            Ok(())
        } else {
            *tokens = refilled;
            Err(((1.0 - refilled) / self.per_second).ceil().max(1.0) as u64)
        }
    }
}

#[derive(Debug, Default)]
struct HttpMetrics {
    by_class: [AtomicU64; 6],
    micros_total: AtomicU64,
    in_flight: AtomicU64,
    /// Latency histograms by matched route, then method.
    routes: std::sync::RwLock<RouteHistograms>,
}

/// Latency histograms by route pattern, each with one per method.
type RouteHistograms = HashMap<String, Vec<(Method, Arc<Histogram>)>>;

/// Upper bounds of the latency histogram's buckets, in seconds (Prometheus `le`).
const LATENCY_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A latency histogram: counts per bucket (not cumulative; summed when shown), the sum and count.
#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    micros: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn observe(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        if let Some(i) = LATENCY_BUCKETS.iter().position(|le| secs <= *le) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.micros.fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }
}

impl HttpMetrics {
    /// The histogram of `method route`, made on first use (routes are the router's patterns, so
    /// there are few).
    fn histogram(&self, method: &Method, route: &str) -> Arc<Histogram> {
        let find = |routes: &RouteHistograms| {
            routes
                .get(route)
                .and_then(|by_method| by_method.iter().find(|(m, _)| m == method))
                .map(|(_, h)| h.clone())
        };
        if let Some(h) = find(&self.routes.read().unwrap_or_else(|p| p.into_inner())) {
            return h;
        }
        let mut routes = self.routes.write().unwrap_or_else(|p| p.into_inner());
        if let Some(h) = find(&routes) {
            return h;
        }
        let h = Arc::new(Histogram::default());
        routes
            .entry(route.to_owned())
            .or_default()
            .push((method.clone(), h.clone()));
        h
    }
}

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

// ---------------------------------------------------------------------------------------------
// Extractors

/// A JSON request body: `application/json`, within the size limit, with no unknown fields.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> ApiResult<Self> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(ErrorCode::ContentTypeInvalid.into());
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::from(ErrorCode::RequestTooLarge)
            } else {
                let text = rejection.body_text();
                Error::with(ErrorCode::RequestInvalid, text.clone(), text).into()
            }
        })?;
        // Every body of this API is a JSON object; an array would otherwise fill a struct
        // positionally.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(Error::with(
                ErrorCode::RequestInvalid,
                "請求內容應為 JSON 物件",
                "the body must be a JSON object",
            )
            .into());
        }
        serde_json::from_slice(&bytes).map(Body).map_err(|e| {
            Error::with(
                ErrorCode::RequestInvalid,
                format!("JSON 內容錯誤：{e}"),
                format!("JSON: {e}"),
            )
            .into()
        })
    }
}

/// A path parameter, refused with a typed body when it does not parse.
#[derive(Debug)]
pub struct P<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for P<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| P(v))
            .map_err(|rejection| {
                let text = rejection.body_text();
                Error::with(
                    ErrorCode::RequestInvalid,
                    format!("路徑參數錯誤：{text}"),
                    format!("path parameter: {text}"),
                )
                .into()
            })
    }
}

const CSRF_HEADER: &str = "x-csrf-token";

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The client's address as guesses and rate limits count it ([`client_ip`]): the peer's, or
/// the one a trusted proxy reports.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<Arc<AppState>> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &Arc<AppState>) -> ApiResult<Self> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(a)| a.ip())
            .ok_or_else(|| Error::internal("the server was started without the peer's address"))?;
        Ok(ClientIp(client_ip(peer, &parts.headers, &st.trusted_proxies)))
    }
}

/// The caller's session: a bearer token, or the session cookie with CSRF protection.
#[derive(Debug)]
pub struct Auth(pub SessionToken);

impl FromRequestParts<Arc<AppState>> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &Arc<AppState>) -> ApiResult<Self> {
        if let Some(v) = parts.headers.get(header::AUTHORIZATION) {
            let token = v
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or(ErrorCode::SessionInvalid)?;
            return Ok(Auth(SessionToken::new(token)));
        }
        let token = cookie(&parts.headers, st.session_cookie())
            .filter(|t| !t.is_empty())
            .ok_or(ErrorCode::SessionInvalid)?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .map(HeaderValue::as_bytes)
                .unwrap_or_default();
            if !same(sent, st.csrf_token(token).as_bytes()) {
                return Err(ErrorCode::CsrfRejected.into());
            }
        }
        Ok(Auth(SessionToken::new(token)))
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers

/// The handler of every [`Served`] operation: the client's address, the session (unless the
/// operation is public), the path parameters and the body, in that order, each refused with
/// its own typed error; then the engine call on the blocking pool, answered as JSON (or 204
/// when the operation answers nothing).
async fn served<O: Served>(State(st): St, req: Request) -> ApiResult<Response> {
    let (mut parts, body) = req.into_parts();
    let ClientIp(from) = ClientIp::from_request_parts(&mut parts, &st).await?;
    let session = match O::ENDPOINT.access {
        Access::Public => None,
        Access::Session | Access::Officer => Some(Auth::from_request_parts(&mut parts, &st).await?.0),
    };
    let params = if O::ENDPOINT.path.contains('{') {
        P::<O::Params>::from_request_parts(&mut parts, &st).await?.0
    } else {
        nothing()?
    };
    let body = if is_none::<O::Request>() {
        nothing()?
    } else {
        Body::<O::Request>::from_request(Request::from_parts(parts, body), &st)
            .await?
            .0
    };
    let call = Call {
        session,
        from,
        params,
        body,
    };
    let answer = run(&st, move |p| O::call(p, call)).await?;
    Ok(if is_none::<O::Response>() {
        StatusCode::NO_CONTENT.into_response()
    } else {
        Json(answer).into_response()
    })
}

/// The value of a type that is "no parameters" or "no body", `()`: JSON `null`.
fn nothing<T: DeserializeOwned>() -> Result<T> {
    serde_json::from_value(serde_json::Value::Null).map_err(|e| Error::internal(format!("not a unit type: {e}")))
}

fn session_response(st: &AppState, session: crate::portal::Session) -> Response {
    let token = session.token.expose().to_owned();
    let csrf = st.csrf_token(&token);
    let max_age = (session.info.expires_at.offset_date_time() - st.portal.now())
        .whole_seconds()
        .max(0);
    let body = SessionWire {
        token: token.clone(),
        csrf_token: csrf.clone(),
        info: session.info,
    };
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    set_cookies(st, headers, &token, &csrf, max_age);
    response
}

/// The session and CSRF cookies (empty with `max_age` 0 to clear them). Both for the whole
/// host (`Path=/`, as the `__Host-` prefix requires); only the CSRF one is readable by scripts.
fn set_cookies(st: &AppState, headers: &mut HeaderMap, session: &str, csrf: &str, max_age: i64) {
    let secure = if st.secure_cookies { "; Secure" } else { "" };
    for c in [
        format!(
            "{}={session}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
            st.session_cookie()
        ),
        format!(
            "{}={csrf}; Path=/; SameSite=Strict; Max-Age={max_age}{secure}",
            st.csrf_cookie()
        ),
    ] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            headers.append(header::SET_COOKIE, v);
        }
    }
}

fn clear_cookies(st: &AppState) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_cookies(st, response.headers_mut(), "", "", 0);
    response
}

async fn login_nhi(State(st): St, ClientIp(ip): ClientIp, Body(w): Body<NhiLoginWire>) -> ApiResult<Response> {
    let card = w.card.to_card()?;
    let pw = crate::types::Password::new(w.password.expose())?;
    let ctx = crate::portal::LoginContext {
        from: Some(ip),
        possession: w.possession,
    };
    let session = run(&st, move |p| p.login_nhi_card_with(&card, &pw, &ctx)).await?;
    Ok(session_response(&st, session))
}

async fn complete_cert(
    State(st): St,
    ClientIp(ip): ClientIp,
    Body(w): Body<CertificateLoginWire>,
) -> ApiResult<Response> {
    let response = w.to_response()?;
    let session = run(&st, move |p| p.complete_certificate_login_from(&response, Some(ip))).await?;
    Ok(session_response(&st, session))
}

async fn login_account(State(st): St, ClientIp(ip): ClientIp, Body(w): Body<AccountWire>) -> ApiResult<Response> {
    let pw = crate::types::Password::new(w.password.expose())?;
    let session = run(&st, move |p| p.login_account_from(&w.account, &pw, Some(ip))).await?;
    Ok(session_response(&st, session))
}

async fn logout(State(st): St, Auth(s): Auth) -> ApiResult<Response> {
    run(&st, move |p| p.logout(&s)).await?;
    Ok(clear_cookies(&st))
}

async fn ping() -> Json<Empty> {
    Json(Empty {})
}

/// Whether the database takes a write within a short time (half the request limit, at most
/// 2 s), so the probes answer with their own body rather than the request time-out.
async fn probe_writable(st: &AppState) -> ApiResult<()> {
    let limit = (st.timeout / 2).min(Duration::from_secs(2));
    match tokio::time::timeout(limit, run(st, |p| p.check_writable())).await {
        Ok(result) => result,
        Err(_) => Err(Error::with(
            ErrorCode::StorageBusy,
            format!("資料庫於 {} 毫秒內無法寫入", limit.as_millis()),
            format!("the database took no write within {} ms", limit.as_millis()),
        )
        .into()),
    }
}

/// Liveness: the database can be written (a stuck, locked or read-only database fails it).
async fn healthz(State(st): St) -> ApiResult<Json<serde_json::Value>> {
    probe_writable(&st).await?;
    Ok(Json(serde_json::json!({ "status": "ok" })))
}

/// Readiness: the database can be written, and how certificate logins stand (trust loaded, each
/// CRL current or not). A stale CRL makes the answer `degraded`, not a failure: NHI-card and
/// account logins still work, so a load balancer should keep sending traffic.
async fn readyz(State(st): St) -> Response {
    let database = probe_writable(&st).await;
    let trust = st
        .options
        .trust
        .as_ref()
        .map(|feed| feed.status(time::OffsetDateTime::now_utc()));
    let certificate_login = match &trust {
        None => "off",
        Some(t) if t.fresh => "ok",
        Some(_) => "degraded",
    };
    let (status, code) = match (&database, certificate_login) {
        (Err(_), _) => ("unavailable", StatusCode::SERVICE_UNAVAILABLE),
        (Ok(()), "degraded") => ("degraded", StatusCode::OK),
        (Ok(()), _) => ("ok", StatusCode::OK),
    };
    let body = serde_json::json!({
        "status": status,
        "database": match &database {
            Ok(()) => "ok".to_owned(),
            Err(e) => format!("{}: {}", e.error.code(), e.error.message(crate::types::Lang::En)),
        },
        "certificate_login": certificate_login,
        "trust": trust,
    });
    let mut response = (code, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Who may read `/metrics`: the bearer of `[server] metrics_token`, or, when none is set, a
/// client on this host.
fn may_read_metrics(st: &AppState, client: IpAddr, headers: &HeaderMap) -> bool {
    match &st.metrics_token {
        Some(token) => {
            let sent = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or_default();
            same(sent.trim().as_bytes(), token.expose().as_bytes())
        }
        None => client.is_loopback(),
    }
}

async fn metrics(State(st): St, ClientIp(client): ClientIp, headers: HeaderMap) -> ApiResult<Response> {
    if !may_read_metrics(&st, client, &headers) {
        return Err(ErrorCode::AccessDenied.into());
    }
    let (counters, outbox) = run(&st, |p| Ok((p.portal_counters()?, p.outbox_stats()?))).await?;
    let m = &st.metrics;
    let mut out = String::new();
    let mut gauge = |name: &str, kind: &str, help: &str, value: String| {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"));
    };
    gauge(
        "ecpa_online_sessions",
        "gauge",
        "Sessions open now (線上人數).",
        counters.online_now.to_string(),
    );
    gauge(
        "ecpa_logins_today",
        "gauge",
        "Logins since midnight, Taiwan time (今日登入人次).",
        counters.logins_today.to_string(),
    );
    gauge(
        "ecpa_logins_total",
        "counter",
        "Logins since the portal began (累計登入人次).",
        counters.logins_total.to_string(),
    );
    gauge(
        "ecpa_outbox_pending",
        "gauge",
        "Mails waiting in the outbox.",
        outbox.pending.to_string(),
    );
    gauge(
        "ecpa_outbox_sent_total",
        "counter",
        "Mails the mailer accepted.",
        outbox.sent.to_string(),
    );
    gauge(
        "ecpa_http_in_flight",
        "gauge",
        "Requests being answered.",
        m.in_flight.load(Ordering::Relaxed).to_string(),
    );
    gauge(
        "ecpa_http_request_seconds_total",
        "counter",
        "Time spent answering requests.",
        format!("{:.6}", m.micros_total.load(Ordering::Relaxed) as f64 / 1e6),
    );
    if let Some(feed) = &st.options.trust {
        let status = feed.status(time::OffsetDateTime::now_utc());
        out.push_str("# HELP ecpa_crl_fresh Whether a CRL is current (1) or stale or missing (0).\n");
        out.push_str("# TYPE ecpa_crl_fresh gauge\n");
        for c in &status.crls {
            let labels = format!("issuer=\"{}\",source=\"{}\"", label(&c.issuer), label(&c.source));
            out.push_str(&format!("ecpa_crl_fresh{{{labels}}} {}\n", u8::from(c.fresh)));
        }
        out.push_str("# HELP ecpa_crl_next_update_timestamp_seconds A CRL's nextUpdate (Unix time).\n");
        out.push_str("# TYPE ecpa_crl_next_update_timestamp_seconds gauge\n");
        for c in &status.crls {
            if let Some(next) = c.next_update {
                let labels = format!("issuer=\"{}\",source=\"{}\"", label(&c.issuer), label(&c.source));
                let at = next.offset_date_time().unix_timestamp();
                out.push_str(&format!("ecpa_crl_next_update_timestamp_seconds{{{labels}}} {at}\n"));
            }
        }
        out.push_str("# HELP ecpa_crl_refresh_failures_total CRL refreshes that failed, by source.\n");
        out.push_str("# TYPE ecpa_crl_refresh_failures_total counter\n");
        let mut seen = std::collections::HashSet::new();
        for c in status.crls.iter().filter(|c| seen.insert(c.source.clone())) {
            out.push_str(&format!(
                "ecpa_crl_refresh_failures_total{{source=\"{}\"}} {}\n",
                label(&c.source),
                c.failures
            ));
        }
    }
    out.push_str("# HELP ecpa_http_request_duration_seconds Request latency, by method and matched route.\n");
    out.push_str("# TYPE ecpa_http_request_duration_seconds histogram\n");
    {
        let routes = m.routes.read().unwrap_or_else(|p| p.into_inner());
        let mut names: Vec<&String> = routes.keys().collect();
        names.sort();
        for route in names {
            for (method, h) in &routes[route] {
                let labels = format!("method=\"{method}\",route=\"{}\"", label(route));
                let mut cumulative = 0;
                for (le, n) in LATENCY_BUCKETS.iter().zip(&h.buckets) {
                    cumulative += n.load(Ordering::Relaxed);
                    out.push_str(&format!(
                        "ecpa_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {cumulative}\n"
                    ));
                }
                let count = h.count.load(Ordering::Relaxed);
                out.push_str(&format!(
                    "ecpa_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}\n"
                ));
                out.push_str(&format!(
                    "ecpa_http_request_duration_seconds_sum{{{labels}}} {:.6}\n",
                    h.micros.load(Ordering::Relaxed) as f64 / 1e6
                ));
                out.push_str(&format!(
                    "ecpa_http_request_duration_seconds_count{{{labels}}} {count}\n"
                ));
            }
        }
    }
    out.push_str("# HELP ecpa_http_requests_total Requests answered, by status class.\n");
    out.push_str("# TYPE ecpa_http_requests_total counter\n");
    for (i, class) in ["1xx", "2xx", "3xx", "4xx", "5xx", "other"].iter().enumerate() {
        let n = m.by_class[i].load(Ordering::Relaxed);
        out.push_str(&format!("ecpa_http_requests_total{{class=\"{class}\"}} {n}\n"));
    }
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        out,
    )
        .into_response())
}

/// A Prometheus label value: backslash, quote and newline escaped.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        super::openapi::document_text(),
    )
        .into_response()
}

async fn not_found() -> ApiError {
    ErrorCode::EndpointUnknown.into()
}

async fn not_allowed() -> ApiError {
    ErrorCode::MethodNotAllowed.into()
}

// ---------------------------------------------------------------------------------------------
// Middleware

/// The address a request is counted against: the peer's, or, when the peer is a trusted proxy,
/// the nearest address in `X-Forwarded-For` that is not one of the trusted proxies (each proxy
/// appends the address it received from, so the addresses right of it are the trusted chain).
pub fn client_ip(peer: IpAddr, headers: &axum::http::HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let mut client = peer;
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .rev()
        .flat_map(|v| v.to_str().unwrap_or("").rsplit(','));
    for hop in hops {
        if !trusted.contains(&client) {
            break;
        }
        match hop.trim().parse() {
            Ok(ip) => client = ip,
            // A garbled entry ends the chain: the last proxy we trust is as far as we can see.
            Err(_) => break,
        }
    }
    client
}

async fn limit_login(State(st): St, ConnectInfo(addr): ConnectInfo<SocketAddr>, req: Request, next: Next) -> Response {
    let ip = client_ip(addr.ip(), req.headers(), &st.trusted_proxies);
    match st.login_limit.take(ip, Instant::now()) {
        Ok(()) => next.run(req).await,
        Err(wait) => ApiError::rate_limited(wait).into_response(),
    }
}

async fn limit_registration(
    State(st): St,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let ip = client_ip(addr.ip(), req.headers(), &st.trusted_proxies);
    match st.registration_limit.take(ip, Instant::now()) {
        Ok(()) => next.run(req).await,
        Err(wait) => ApiError::rate_limited(wait).into_response(),
    }
}

/// The request id: the client's `X-Request-Id` when it is a short plain token (so a request
/// can be followed through a proxy's logs), else one of ours.
fn request_id(headers: &HeaderMap) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static PREFIX: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let given = headers.get("x-request-id").and_then(|v| v.to_str().ok()).filter(|v| {
        (1..=64).contains(&v.len())
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    });
    match given {
        Some(id) => id.to_owned(),
        None => {
            let prefix = *PREFIX.get_or_init(|| {
                let mut b = [0u8; 4];
                let _ = getrandom::fill(&mut b);
                u32::from_le_bytes(b)
            });
            format!("{prefix:08x}{:08x}", NEXT.fetch_add(1, Ordering::Relaxed))
        }
    }
}

/// The time limit, the request counters and latency histograms, and the request log: method,
/// matched route (never the path itself, which may carry tokens), status, latency, request id.
async fn observe(State(st): St, req: Request, next: Next) -> Response {
    let m = &st.metrics;
    m.in_flight.fetch_add(1, Ordering::Relaxed);
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        // A shared string: cloning it copies no text.
        .cloned();
    let id = request_id(req.headers());
    let mut response = match tokio::time::timeout(st.timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError::from(Error::with(
            ErrorCode::HttpTimeout,
            "請求處理時間超過服務上限",
            "the request took longer than the service allows",
        ))
        .into_response(),
    };
    let elapsed = started.elapsed();
    m.in_flight.fetch_sub(1, Ordering::Relaxed);
    m.micros_total.fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    let status = response.status();
    let class = match status.as_u16() / 100 {
        c @ 1..=5 => usize::from(c - 1),
        _ => 5,
    };
    m.by_class[class].fetch_add(1, Ordering::Relaxed);
    let route = route.as_ref().map_or("(unmatched)", |p| p.as_str());
    m.histogram(&method, route).observe(elapsed);
    let latency_us = elapsed.as_micros() as u64;
    match response.extensions().get::<ServerErrorCause>() {
        // A fault of the service or what it depends on: the operator needs the cause.
        Some(ServerErrorCause(cause)) if !matches!(status.as_u16(), 501 | 503) => tracing::error!(
            target: "ecpa::request",
            request_id = %id, method = %method, route = %route, status = status.as_u16(), latency_us, cause = %cause,
            "request failed"
        ),
        // Not configured, busy or in maintenance: worth seeing, not an alarm.
        Some(ServerErrorCause(cause)) => tracing::warn!(
            target: "ecpa::request",
            request_id = %id, method = %method, route = %route, status = status.as_u16(), latency_us, cause = %cause,
            "request refused"
        ),
        None if st.options.log_requests => tracing::info!(
            target: "ecpa::request",
            request_id = %id, method = %method, route = %route, status = status.as_u16(), latency_us,
            "request"
        ),
        None => {}
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", v);
    }
    protect(response.headers_mut(), st.secure_cookies);
    response
}

/// The headers every answer carries: nothing of the API is cached (most answers hold someone's
/// personal data, and a shared computer's browser cache is where it would leak), no content is
/// sniffed into another type, no address leaks as a referrer, and under TLS browsers are told
/// to come back only over HTTPS.
fn protect(headers: &mut axum::http::HeaderMap, tls: bool) {
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if tls {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
}

/// Closes connections that take longer than `limit` to send a request's headers. The servers
/// speak HTTP/1 only: TLS offers nothing else (ALPN `http/1.1`), and plaintext HTTP/2 (h2c)
/// had no header timeout at all.
fn limit_header_time(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    limit: Duration,
) {
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limit);
}

/// The routes of the API, grouped by their rate limit.
#[derive(Default)]
struct Routes {
    login: Router<Arc<AppState>>,
    registration: Router<Arc<AppState>>,
    rest: Router<Arc<AppState>>,
}

impl Routes {
    /// Routes operation `O` to `handler`, at its declared method and path, in the group of its
    /// rate limit.
    fn add<O: Operation, H: Handler<T, Arc<AppState>>, T: 'static>(&mut self, handler: H) {
        let e = O::ENDPOINT;
        let route = match e.method {
            "GET" => get(handler),
            "POST" => post(handler),
            "PUT" => put(handler),
            "DELETE" => delete(handler),
            other => unreachable!("{other} is not a method of the API"),
        };
        let group = match e.limit {
            Some("login") => &mut self.login,
            Some("registration") => &mut self.registration,
            _ => &mut self.rest,
        };
        *group = std::mem::take(group).route(e.path, route);
    }
}

impl Visitor for Routes {
    fn served<O: Served>(&mut self) {
        self.add::<O, _, _>(served::<O>);
    }

    fn special<O: Operation>(&mut self) {}
}

/// The service's routes over a portal: every declared operation ([`api`]), the OpenAPI
/// document, the probes and the metrics.
pub fn router(state: Arc<AppState>, body_limit: usize) -> Router {
    let mut routes = Routes::default();
    api::visit(&mut routes);
    routes.add::<LoginNhiCard, _, _>(login_nhi);
    routes.add::<CompleteCertificateLogin, _, _>(complete_cert);
    routes.add::<LoginAccount, _, _>(login_account);
    routes.add::<Logout, _, _>(logout);
    routes.add::<Ping, _, _>(ping);
    let Routes {
        login,
        registration,
        rest,
    } = routes;
    let login = login.route_layer(middleware::from_fn_with_state(state.clone(), limit_login));
    let registration = registration.route_layer(middleware::from_fn_with_state(state.clone(), limit_registration));
    let rest = rest
        .route("/api/v1/openapi.json", get(openapi))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics));
    Router::new()
        .merge(login)
        .merge(registration)
        .merge(rest)
        .fallback(not_found)
        .method_not_allowed_fallback(not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

// ---------------------------------------------------------------------------------------------
// Running

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
    let mut portal = LocalPortal::with_store(store, config.portal.to_portal_config()?)?;
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
