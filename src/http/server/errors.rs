//! Errors on their way out: the HTTP status of each error code and the typed error body.

use super::*;

/// The HTTP status of an error code: the status column of the error table
/// ([`ErrorCode::http_status`]).
pub fn status_of(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// An engine error on its way out as an HTTP answer.
#[derive(Debug)]
pub struct ApiError {
    pub(super) error: Error,
    pub(super) retry_after: Option<u64>,
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
    pub(super) fn rate_limited(seconds: u64) -> Self {
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
            Error::Failed { code, .. } | Error::Caused { code, .. }
                if matches!(
                    code,
                    ErrorCode::StorageBusy | ErrorCode::HttpTimeout | ErrorCode::LoginBusy
                ) =>
            {
                Some(1)
            }
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

pub(super) type ApiResult<T> = std::result::Result<T, ApiError>;

/// Why a request answered 5xx, carried from the handler to the request log.
#[derive(Debug, Clone)]
pub(super) struct ServerErrorCause(pub(super) String);
