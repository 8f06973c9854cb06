//! The webhook edge's answers (SPEC §11): refusals as RFC 9457
//! `application/problem+json`, in the plans API's shape, naming the header,
//! field or variable at fault and never a value the caller sent or a secret.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    slug: &'static str,
    pub detail: String,
    field: Option<(&'static str, String)>,
}

impl Refusal {
    pub fn new(status: u16, slug: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            slug,
            detail: detail.into(),
            field: None,
        }
    }

    /// A 400 for one field of the body, by its JSON path.
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            status: StatusCode::BAD_REQUEST,
            slug: "invalid-request",
            detail: format!("{field}: {message}"),
            field: Some((field, message)),
        }
    }

    pub fn body(&self) -> Value {
        let mut problem = json!({
            "type": format!("urn:support-plans:problem:{}", self.slug),
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if let Some((field, message)) = &self.field {
            problem["errors"] = json!([{"field": field, "message": message}]);
        }
        problem
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}
