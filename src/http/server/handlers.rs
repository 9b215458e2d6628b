//! The handlers: the one generic handler of every served operation, the logins that set the
//! session cookies, logout, the single sign-on keys, the probes, the OpenAPI document and the
//! fallbacks.

use super::*;

/// The handler of every [`Served`] operation: the client's address, the session (unless the
/// operation is public), the path parameters and the body, in that order, each refused with
/// its own typed error; then the engine call on the blocking pool, answered as JSON (or 204
/// when the operation answers nothing).
pub(super) async fn served<O: Served>(State(st): St, req: Request) -> ApiResult<Response> {
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
pub(super) fn nothing<T: DeserializeOwned>() -> Result<T> {
    serde_json::from_value(serde_json::Value::Null).map_err(|e| Error::internal(format!("not a unit type: {e}")))
}

pub(super) fn session_response(st: &AppState, session: crate::portal::Session) -> Response {
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
pub(super) fn set_cookies(st: &AppState, headers: &mut HeaderMap, session: &str, csrf: &str, max_age: i64) {
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

pub(super) fn clear_cookies(st: &AppState) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_cookies(st, response.headers_mut(), "", "", 0);
    response
}

pub(super) async fn login_nhi(
    State(st): St,
    ClientIp(ip): ClientIp,
    Body(w): Body<NhiLoginWire>,
) -> ApiResult<Response> {
    let card = w.card.to_card()?;
    let pw = crate::types::Password::new(w.password.expose())?;
    let ctx = crate::portal::LoginContext {
        from: Some(ip),
        possession: w.possession,
    };
    let session = run(&st, move |p| p.login_nhi_card_with(&card, &pw, &ctx)).await?;
    Ok(session_response(&st, session))
}

pub(super) async fn complete_cert(
    State(st): St,
    ClientIp(ip): ClientIp,
    Body(w): Body<CertificateLoginWire>,
) -> ApiResult<Response> {
    let response = w.to_response()?;
    let session = run(&st, move |p| p.complete_certificate_login_from(&response, Some(ip))).await?;
    Ok(session_response(&st, session))
}

pub(super) async fn login_account(
    State(st): St,
    ClientIp(ip): ClientIp,
    Body(w): Body<AccountWire>,
) -> ApiResult<Response> {
    let pw = crate::types::Password::new(w.password.expose())?;
    let session = run(&st, move |p| p.login_account_from(&w.account, &pw, Some(ip))).await?;
    Ok(session_response(&st, session))
}

pub(super) async fn logout(State(st): St, Auth(s): Auth) -> ApiResult<Response> {
    run(&st, move |p| p.logout(&s)).await?;
    Ok(clear_cookies(&st))
}

pub(super) async fn ping() -> Json<Empty> {
    Json(Empty {})
}

/// `/.well-known/jwks.json`: the single sign-on keys. Public and the same for everyone, so
/// unlike the rest of the API an application may keep them for a few minutes.
pub(super) async fn sso_keys(State(st): St) -> ApiResult<Response> {
    let keys = run(&st, |p| p.sso_keys()).await?;
    let mut response = Json(keys).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    Ok(response)
}

/// Whether the database takes a write within a short time (half the request limit, at most
/// 2 s), so the probes answer with their own body rather than the request time-out.
pub(super) async fn probe_writable(st: &AppState) -> ApiResult<()> {
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
pub(super) async fn healthz(State(st): St) -> ApiResult<Json<serde_json::Value>> {
    probe_writable(&st).await?;
    Ok(Json(serde_json::json!({ "status": "ok" })))
}

/// Readiness: the database can be written, and how certificate logins stand (trust loaded, each
/// CRL current or not). A stale CRL makes the answer `degraded`, not a failure: NHI-card and
/// account logins still work, so a load balancer should keep sending traffic.
pub(super) async fn readyz(State(st): St) -> Response {
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

pub(super) async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::http::openapi::document_text(),
    )
        .into_response()
}

pub(super) async fn not_found() -> ApiError {
    ErrorCode::EndpointUnknown.into()
}

pub(super) async fn not_allowed() -> ApiError {
    ErrorCode::MethodNotAllowed.into()
}
