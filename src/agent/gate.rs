//! Who may talk to the agent: the checks every request passes before any card is touched.
//!
//! - **Host.** The `Host` header must name this machine by a loopback name or address
//!   (`localhost`, `127.0.0.1`, `[::1]`, with any port). A page that reached the agent through
//!   a domain of its own pointing at 127.0.0.1 (DNS rebinding) sends its domain there, and is
//!   refused.
//! - **Origin.** A page's request carries its `Origin`. It must be one the agent allows,
//!   exactly (`scheme://host[:port]` as browsers write it): the portal's public origin, those
//!   configured, and the agent's own pages. A request that changes something (any method but
//!   `GET`, `HEAD` and the preflight `OPTIONS`) must carry one. A `GET` without an origin is a
//!   top-level navigation, to the agent's own pages, or a program on this machine.
//! - **Preflights.** CORS and Private Network Access preflights (`OPTIONS` with
//!   `Access-Control-Request-Method`) are answered for allowed origins only, with
//!   `Access-Control-Allow-Private-Network: true` when the page asks for it.
//!
//! Everything refused gets 403 and a typed JSON error body, without card data.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{Error, ErrorCode, Result};
use crate::portal::normalize_origin;
use crate::types::Lang;

/// The origins the agent answers, fixed when it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origins {
    allowed: BTreeSet<String>,
    legacy: BTreeSet<String>,
}

impl Origins {
    /// The allowed origins: `allow` and `legacy` (each checked and written as browsers send
    /// them) and the agent's own (`own`, its pages'). Legacy origins may also send the PIN.
    pub fn new<'a>(
        allow: impl IntoIterator<Item = &'a str>,
        legacy: impl IntoIterator<Item = &'a str>,
        own: &str,
    ) -> Result<Origins> {
        let legacy = legacy
            .into_iter()
            .map(normalize_origin)
            .collect::<Result<BTreeSet<_>>>()?;
        let mut allowed = allow
            .into_iter()
            .map(normalize_origin)
            .collect::<Result<BTreeSet<_>>>()?;
        allowed.extend(legacy.iter().cloned());
        allowed.insert(normalize_origin(own)?);
        Ok(Origins { allowed, legacy })
    }

    /// Whether a page at `origin` may use the agent.
    pub fn allows(&self, origin: &str) -> bool {
        normalize_origin(origin).is_ok_and(|o| self.allowed.contains(&o))
    }

    /// Whether a page at `origin` may send the PIN itself (an existing government page that
    /// collects it, listed with `--legacy-origin`).
    pub fn is_legacy(&self, origin: &str) -> bool {
        normalize_origin(origin).is_ok_and(|o| self.legacy.contains(&o))
    }

    /// Every allowed origin, for the agent's start-up line and `ecpa doctor`.
    pub fn allowed(&self) -> impl Iterator<Item = &str> {
        self.allowed.iter().map(String::as_str)
    }
}

/// Whether `host` (a `Host` header: a name or address and an optional port) names this
/// machine by loopback.
pub fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((addr, rest)) if rest.is_empty() || port(rest) => return addr == "::1",
            _ => return false,
        },
        None => match host.rsplit_once(':') {
            Some((name, p)) if port(&format!(":{p}")) => name,
            Some(_) => return false,
            None => host,
        },
    };
    let name = name.to_ascii_lowercase();
    name == "localhost" || name.parse::<std::net::Ipv4Addr>().is_ok_and(|a| a.is_loopback())
}

fn port(rest: &str) -> bool {
    rest.strip_prefix(':')
        .is_some_and(|p| !p.is_empty() && p.parse::<u16>().is_ok())
}

/// A refusal as the agent answers it: 403 and the typed error, in both languages.
pub fn refusal(code: ErrorCode) -> Response {
    let e = Error::new(code);
    let body = serde_json::json!({
        "code": e.code().number(),
        "name": e.code().name(),
        "message_zh": e.message(Lang::ZhTw),
        "message_en": e.message(Lang::En),
    });
    let mut r = (StatusCode::FORBIDDEN, axum::Json(body)).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn origin_of(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
}

/// The gate: the Host check, the Origin check, the preflights, and the CORS headers of an
/// allowed origin's answers.
pub async fn gate(State(origins): State<std::sync::Arc<Origins>>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !loopback_host(host) {
        return refusal(ErrorCode::AgentHostRefused);
    }
    let origin = origin_of(headers).map(str::to_owned);
    let reads = matches!(*req.method(), Method::GET | Method::HEAD);
    match &origin {
        Some(o) if !origins.allows(o) => return refusal(ErrorCode::AgentOriginRefused),
        None if !reads => return refusal(ErrorCode::AgentOriginRefused),
        _ => {}
    }
    let Some(origin) = origin else {
        return next.run(req).await;
    };
    let allow_origin = HeaderValue::from_str(&origin).unwrap_or(HeaderValue::from_static("null"));
    if req.method() == Method::OPTIONS {
        let asks_private = headers
            .get("access-control-request-private-network")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NO_CONTENT;
        let h = r.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type"),
        );
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
        if asks_private {
            h.insert("access-control-allow-private-network", HeaderValue::from_static("true"));
        }
        return r;
    }
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_only() {
        for ok in [
            "localhost",
            "LOCALHOST:61161",
            "127.0.0.1",
            "127.0.0.1:61161",
            "127.1.2.3:80",
            "[::1]",
            "[::1]:61161",
        ] {
            assert!(loopback_host(ok), "{ok}");
        }
        for bad in [
            "",
            "evil.example",
            "evil.example:61161",
            "localhost.evil.example",
            "10.0.0.1:61161",
            "[::2]:61161",
            "[::1]x",
            "127.0.0.1:port",
            "127.0.0.1:99999",
        ] {
            assert!(!loopback_host(bad), "{bad}");
        }
    }

    #[test]
    fn origins_are_exact() {
        let o = Origins::new(
            ["https://ecpa.example.gov.tw"],
            ["https://legacy.gov.tw"],
            "http://127.0.0.1:61161",
        )
        .expect("origins");
        assert!(o.allows("https://ECPA.example.gov.tw:443"));
        assert!(o.allows("https://legacy.gov.tw") && o.is_legacy("https://legacy.gov.tw"));
        assert!(!o.is_legacy("https://ecpa.example.gov.tw"));
        assert!(o.allows("http://127.0.0.1:61161"));
        for bad in [
            "https://ecpa.example.gov.tw.evil.example",
            "http://ecpa.example.gov.tw",
            "https://ecpa.example.gov.tw:8443",
            "https://evil.gov.tw",
            "null",
            "",
        ] {
            assert!(!o.allows(bad), "{bad}");
        }
        assert!(Origins::new(["not an origin"], [], "http://127.0.0.1:61161").is_err());
    }
}
