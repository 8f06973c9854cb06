//! One error type for every route, answered as RFC 9457 `application/problem+json`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use support_plans_domain::ports::StoreError;
use support_plans_domain::{ChangeError, FieldError, ValidationErrors};
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem: what went wrong, and every offending field by path.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<FieldErrorSchema>)]
    pub errors: Vec<FieldError>,
}

/// One offending field: its path (`contacts[1].email`) and what is wrong.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldErrorSchema {
    pub field: String,
    pub message: String,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    slug: &'static str,
    detail: String,
    errors: Vec<FieldError>,
}

impl ApiError {
    pub fn new(status: StatusCode, slug: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            slug,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn invalid(errors: ValidationErrors) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            slug: "invalid-request",
            detail: errors.to_string(),
            errors: errors.0,
        }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::invalid(ValidationErrors::single(field, message))
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "no caller identity: the request must be authenticated",
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn not_found(what: &str, key: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", format!("no {what} '{key}'"))
    }

    pub fn precondition_required() -> Self {
        Self::new(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition-required",
            "this write needs an If-Match header with the ETag of the version you read",
        )
    }

    pub fn stale(current: u64) -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
            format!(
                "the resource changed since you read it: it is now at version {current} (ETag \"{current}\"); read it again and reapply your change"
            ),
        )
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            format!("the request body exceeds {limit} bytes"),
        )
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> Self {
        Self::invalid(e)
    }
}

impl From<ChangeError> for ApiError {
    fn from(e: ChangeError) -> Self {
        match e {
            ChangeError::Invalid(v) => Self::invalid(v),
            ChangeError::UnknownContact(id) => Self::not_found("contact", &id),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::AlreadyExists(id) => Self::new(
                StatusCode::CONFLICT,
                "already-exists",
                format!("'{id}' already exists"),
            ),
            StoreError::NotFound(id) => Self::new(
                StatusCode::NOT_FOUND,
                "not-found",
                format!("'{id}' was not found"),
            ),
            StoreError::Conflict { id, expected } => Self::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                format!(
                    "'{id}' changed since version {expected} was read; read it again and reapply your change"
                ),
            ),
            StoreError::InvalidPage(m) => Self::field("cursor", m),
            StoreError::Unexpected(source) => {
                // The cause goes to the log, not to the caller.
                tracing::error!(error = %source, "storage failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the service failed to reach its storage; try again",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem {
            kind: format!("urn:support-plans:problem:{}", self.slug),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail,
            errors: self.errors,
        };
        let mut response = (self.status, axum::Json(problem)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}
