//! The HTTP edge: bodies, preconditions, query strings.

use std::collections::BTreeMap;

use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use serde_json::Value;
use support_plans_domain::ports::PageRequest;
use support_plans_domain::types::Slug;

use crate::error::ApiError;

/// The largest body a request may carry (SPEC §3).
pub const MAX_BODY: usize = 64 * 1024;

/// A JSON request body of at most 64 KiB; malformed or oversized → 400 / 413.
#[derive(Debug)]
pub struct JsonBody(pub Value);

/// An optional JSON body: absent or empty is `None`.
#[derive(Debug)]
pub struct OptionalJsonBody(pub Option<Value>);

async fn read_json<S: Send + Sync>(req: Request, _state: &S) -> Result<Option<Value>, ApiError> {
    if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
        let media = ct.split(';').next().unwrap_or_default().trim();
        if !(media == "application/json" || media.ends_with("+json")) {
            return Err(ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                format!(
                    "send application/json, not {}",
                    support_plans_domain::validate::printable(media, 80)
                ),
            ));
        }
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return Err(ApiError::too_large(MAX_BODY));
    }
    let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY)
        .await
        .map_err(|_| ApiError::too_large(MAX_BODY))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| ApiError::field("", format!("the body is not valid JSON: {e}")))
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        read_json(req, state)
            .await?
            .map(JsonBody)
            .ok_or_else(|| ApiError::field("", "a JSON body is required"))
    }
}

impl<S: Send + Sync> FromRequest<S> for OptionalJsonBody {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        read_json(req, state).await.map(OptionalJsonBody)
    }
}

/// The version an `If-Match` header names, if the request has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfMatch(pub Option<u64>);

impl IfMatch {
    /// The version, or 428 when the header is missing.
    pub fn required(self) -> Result<u64, ApiError> {
        self.0.ok_or_else(ApiError::precondition_required)
    }

    /// 412 unless the header (when given) names `current`.
    pub fn check(self, current: u64) -> Result<(), ApiError> {
        match self.0 {
            Some(v) if v != current => Err(ApiError::stale(current)),
            _ => Ok(()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(raw) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let raw = raw.to_str().unwrap_or_default().trim();
        let tag = raw.strip_prefix("W/").unwrap_or(raw);
        tag.strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .and_then(|t| t.parse::<u64>().ok())
            .map(|v| IfMatch(Some(v)))
            .ok_or_else(|| {
                ApiError::field(
                    "If-Match",
                    "must be the ETag of the version you read, like \"3\" (a wildcard is not enough)",
                )
            })
    }
}

/// The ETag of a version.
pub fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("digits and quotes are a valid header value")
}

pub fn with_etag(version: u64) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(header::ETAG, etag(version));
    h
}

/// Query parameters, checked against the names a route accepts.
#[derive(Debug)]
pub struct Params(BTreeMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(map) = Query::<BTreeMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::field("", format!("the query string is malformed: {e}")))?;
        Ok(Params(map))
    }
}

impl Params {
    /// Refuses any parameter not in `allowed`, naming each.
    pub fn only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        let unknown: Vec<support_plans_domain::FieldError> = self
            .0
            .keys()
            .filter(|k| !allowed.contains(&k.as_str()))
            .map(|k| support_plans_domain::FieldError {
                field: support_plans_domain::validate::printable(k, 64),
                message: format!(
                    "unknown query parameter; this route takes: {}",
                    allowed.join(", ")
                ),
            })
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(support_plans_domain::ValidationErrors(unknown)))
        }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn slug(&self, key: &str) -> Result<Option<Slug>, ApiError> {
        self.get(key)
            .map(|v| Slug::parse(v).map_err(|m| ApiError::field(key, m)))
            .transpose()
    }

    pub fn page(&self) -> Result<PageRequest, ApiError> {
        let limit = self
            .get("limit")
            .map(|v| {
                v.parse::<u32>()
                    .map_err(|_| ApiError::field("limit", "must be a whole number from 1 to 100"))
            })
            .transpose()?;
        PageRequest::parse(limit, self.get("cursor")).map_err(|e| {
            let field = if e.to_string().contains("limit") {
                "limit"
            } else {
                "cursor"
            };
            ApiError::field(field, e.to_string())
        })
    }

    /// The `status` filter: `active` or `retired`.
    pub fn status(&self) -> Result<Option<support_plans_domain::Status>, ApiError> {
        use support_plans_domain::Status;
        match self.get("status") {
            None => Ok(None),
            Some("active") => Ok(Some(Status::Active)),
            Some("retired") => Ok(Some(Status::Retired)),
            Some(_) => Err(ApiError::field("status", "must be one of: active, retired")),
        }
    }

    pub fn flag(&self, key: &str) -> Result<bool, ApiError> {
        match self.get(key) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(ApiError::field(key, "must be true or false")),
        }
    }
}

/// A path segment that must be a slug (plan id, workload name, contact id).
pub fn path_slug(field: &str, raw: &str) -> Result<Slug, ApiError> {
    Slug::parse(raw).map_err(|m| ApiError::field(field, m))
}
