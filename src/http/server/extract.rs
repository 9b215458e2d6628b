//! What the handlers take from a request, each refused with its own typed error: the JSON
//! body, path parameters, the client's address and the session (bearer or cookie with CSRF).

use super::*;

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

pub(super) const CSRF_HEADER: &str = "x-csrf-token";

pub(super) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

pub(super) fn same(a: &[u8], b: &[u8]) -> bool {
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
