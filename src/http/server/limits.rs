//! What keeps one client from taking the service: per-address token buckets on logins and
//! registration, the client's address as they count it, and the header-read timeout.

use super::*;

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

/// Lets the request through if its client's bucket in `limiter` has a token; else 429 with
/// the wait.
async fn take_or_refuse(st: &AppState, limiter: &RateLimiter, peer: SocketAddr, req: Request, next: Next) -> Response {
    let ip = client_ip(peer.ip(), req.headers(), &st.trusted_proxies);
    match limiter.take(ip, Instant::now()) {
        Ok(()) => next.run(req).await,
        Err(wait) => ApiError::rate_limited(wait).into_response(),
    }
}

pub(super) async fn limit_login(
    State(st): St,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    take_or_refuse(&st, &st.login_limit, addr, req, next).await
}

pub(super) async fn limit_registration(
    State(st): St,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    take_or_refuse(&st, &st.registration_limit, addr, req, next).await
}

/// Closes connections that take longer than `limit` to send a request's headers. The servers
/// speak HTTP/1 only: TLS offers nothing else (ALPN `http/1.1`), and plaintext HTTP/2 (h2c)
/// had no header timeout at all.
pub(super) fn limit_header_time(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    limit: Duration,
) {
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limit);
}
