//! `/metrics`: request counts and latency histograms per route, and the portal's own counters,
//! in Prometheus text.

use super::*;

#[derive(Debug, Default)]
pub(super) struct HttpMetrics {
    pub(super) by_class: [AtomicU64; 6],
    pub(super) micros_total: AtomicU64,
    pub(super) in_flight: AtomicU64,
    /// Latency histograms by matched route, then method.
    routes: std::sync::RwLock<RouteHistograms>,
}

/// Latency histograms by route pattern, each with one per method.
pub(super) type RouteHistograms = HashMap<String, Vec<(Method, Arc<Histogram>)>>;

/// Upper bounds of the latency histogram's buckets, in seconds (Prometheus `le`).
pub(super) const LATENCY_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A latency histogram: counts per bucket (not cumulative; summed when shown), the sum and count.
#[derive(Debug, Default)]
pub(super) struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    micros: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    pub(super) fn observe(&self, elapsed: Duration) {
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
    pub(super) fn histogram(&self, method: &Method, route: &str) -> Arc<Histogram> {
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

/// Who may read `/metrics`: the bearer of `[server] metrics_token`, or, when none is set, a
/// client on this host.
pub(super) fn may_read_metrics(st: &AppState, client: IpAddr, headers: &HeaderMap) -> bool {
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

pub(super) async fn metrics(State(st): St, ClientIp(client): ClientIp, headers: HeaderMap) -> ApiResult<Response> {
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
pub(super) fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
