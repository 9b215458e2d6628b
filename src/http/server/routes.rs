//! The routes, derived from the operations' declarations, and the middleware every request
//! passes: request id, request log and metrics, security headers.

use super::*;

/// The request id: the client's `X-Request-Id` when it is a short plain token (so a request
/// can be followed through a proxy's logs), else one of ours.
pub(super) fn request_id(headers: &HeaderMap) -> String {
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
pub(super) async fn observe(State(st): St, req: Request, next: Next) -> Response {
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
pub(super) fn protect(headers: &mut axum::http::HeaderMap, tls: bool) {
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

/// The routes of the API, grouped by their rate limit.
#[derive(Default)]
pub(super) struct Routes {
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
    routes.add::<GetSsoKeys, _, _>(sso_keys);
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
