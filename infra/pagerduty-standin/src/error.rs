//! PagerDuty's REST error shape (`{"error": {"message", "code", "errors"}}`,
//! developer docs "Errors") with the status codes and error codes the
//! stand-in answers.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// One failed REST call: the status and the body PagerDuty documents.
#[derive(Debug, Clone)]
pub struct PdError {
    pub status: StatusCode,
    pub code: u32,
    pub message: &'static str,
    pub errors: Vec<String>,
    /// Seconds, for 429: sent as `ratelimit-reset` and `Retry-After`.
    pub retry_after: Option<u64>,
}

impl PdError {
    fn new(status: StatusCode, code: u32, message: &'static str) -> Self {
        PdError {
            status,
            code,
            message,
            errors: Vec::new(),
            retry_after: None,
        }
    }

    pub fn detail(mut self, e: impl Into<String>) -> Self {
        self.errors.push(e.into());
        self
    }

    /// 400, code 2001: the generic invalid-argument error.
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 2001, "Invalid Input Provided").detail(detail)
    }

    /// 401, code 2006: no token, a malformed `Authorization`, a wrong token.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, 2006, "Authentication failed")
    }

    /// 403, code 2010.
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, 2010, "Access Denied")
    }

    /// 404, code 2100 (the schema's own example).
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, 2100, "Not Found")
    }

    /// 429, code 2020, as the Rate Limits page shows it.
    pub fn rate_limited(retry_after: u64) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, 2020, "Rate Limit Exceeded");
        e.retry_after = Some(retry_after);
        e
    }

    /// 5xx, code 2000.
    pub fn internal(status: StatusCode) -> Self {
        Self::new(
            status,
            2000,
            "An internal error has occurred. PagerDuty team has been notified.",
        )
    }

    /// Codes of the documented table for specific refusals.
    pub fn coded(code: u32, message: &'static str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
}

impl IntoResponse for PdError {
    fn into_response(self) -> Response {
        let mut error = json!({ "message": self.message, "code": self.code });
        if !self.errors.is_empty() {
            error["errors"] = json!(self.errors);
        }
        let mut resp = (self.status, axum::Json(json!({ "error": error }))).into_response();
        if let Some(secs) = self.retry_after {
            let h = resp.headers_mut();
            let v = HeaderValue::from(secs);
            h.insert("ratelimit-limit", HeaderValue::from_static("960"));
            h.insert("ratelimit-remaining", HeaderValue::from_static("0"));
            h.insert("ratelimit-reset", v.clone());
            h.insert(header::RETRY_AFTER, v);
        }
        resp
    }
}
