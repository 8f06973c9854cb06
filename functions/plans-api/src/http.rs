//! The HTTP edge (SPEC §3): bodies, preconditions (`If-Match`, RFC 9110), query strings.

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

/// One entity-tag of an `If-Match` list (RFC 9110 §8.8.3): `"opaque"`, or
/// weak `W/"opaque"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityTag {
    pub weak: bool,
    pub opaque: String,
}

/// What an `If-Match` header says (SPEC §3 "Preconditions, as HTTP says";
/// RFC 9110 §13.1.1). Several header lines are one list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum IfMatch {
    /// No header.
    #[default]
    Absent,
    /// `*`: any current version, which names none.
    Any,
    /// A list of one or more entity-tags.
    Tags(Vec<EntityTag>),
}

const IF_MATCH_FORM: &str =
    "a list of entity-tags, the ETag of the version you read, like \"3\" or \"2\", \"3\"";

impl IfMatch {
    /// Parses the header's lines; an error says what is malformed.
    pub fn parse<'a>(lines: impl IntoIterator<Item = &'a [u8]>) -> Result<Self, String> {
        let lines: Vec<&[u8]> = lines.into_iter().collect();
        if lines.is_empty() {
            return Ok(Self::Absent);
        }
        if lines.iter().any(|l| l.trim_ascii() == b"*") {
            return if lines.len() == 1 {
                Ok(Self::Any)
            } else {
                Err("'*' cannot be combined with entity-tags".into())
            };
        }
        let mut tags = Vec::new();
        for line in lines {
            parse_tags(line, &mut tags)?;
        }
        if tags.is_empty() {
            return Err("it is empty".into());
        }
        Ok(Self::Tags(tags))
    }

    /// Does the request name the version it read? Absent or `*` is 428 (SPEC
    /// §3: a writer must name the version it read).
    pub fn required(&self) -> Result<(), ApiError> {
        match self {
            Self::Tags(_) => Ok(()),
            Self::Absent => Err(ApiError::precondition_required()),
            Self::Any => Err(ApiError::new(
                axum::http::StatusCode::PRECONDITION_REQUIRED,
                "precondition-required",
                "If-Match: * names no version; send the ETag of the version you read, like \"3\"",
            )),
        }
    }

    /// Whether the request names versions (and so must not be retried on
    /// another one).
    pub fn names_versions(&self) -> bool {
        matches!(self, Self::Tags(_))
    }

    /// 412 unless a strong tag of the list is `current`'s ETag (the strong
    /// comparison: a weak tag never matches). No header or `*` passes.
    pub fn check(&self, current: u64) -> Result<(), ApiError> {
        let Self::Tags(tags) = self else {
            return Ok(());
        };
        let current_tag = current.to_string();
        if tags.iter().any(|t| !t.weak && t.opaque == current_tag) {
            return Ok(());
        }
        if tags.iter().any(|t| t.weak && t.opaque == current_tag) {
            return Err(ApiError::new(
                axum::http::StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                format!(
                    "If-Match compares entity-tags strongly (RFC 9110 §13.1.1): the weak W/\"{current}\" \
                     never matches; send \"{current}\", the ETag of version {current}"
                ),
            ));
        }
        Err(ApiError::stale(current))
    }
}

/// Appends the entity-tags of one header line (`#entity-tag`, RFC 9110
/// §5.6.1: empty elements and optional whitespace allowed).
fn parse_tags(line: &[u8], tags: &mut Vec<EntityTag>) -> Result<(), String> {
    let mut rest = line;
    loop {
        rest = rest.trim_ascii_start();
        while let Some(r) = rest.strip_prefix(b",") {
            rest = r.trim_ascii_start();
        }
        if rest.is_empty() {
            return Ok(());
        }
        let (weak, after) = match rest.strip_prefix(b"W/") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let shown = || support_plans_domain::validate::printable(&String::from_utf8_lossy(rest), 40);
        let Some(inner) = after.strip_prefix(b"\"") else {
            return Err(format!("expected a quoted entity-tag at '{}'", shown()));
        };
        let Some(close) = inner.iter().position(|b| *b == b'"') else {
            return Err(format!("the entity-tag at '{}' is not closed", shown()));
        };
        let opaque = &inner[..close];
        // etagc = %x21 / %x23-7E / obs-text
        if opaque.iter().any(|b| *b < 0x21 || *b == 0x7f) {
            return Err(format!(
                "the entity-tag at '{}' holds a space or a control character",
                shown()
            ));
        }
        tags.push(EntityTag {
            weak,
            opaque: String::from_utf8_lossy(opaque).into_owned(),
        });
        rest = inner[close + 1..].trim_ascii_start();
        if !(rest.is_empty() || rest.starts_with(b",")) {
            return Err(format!(
                "entity-tags must be separated by commas, at '{}'",
                support_plans_domain::validate::printable(&String::from_utf8_lossy(rest), 40)
            ));
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        IfMatch::parse(
            parts
                .headers
                .get_all(header::IF_MATCH)
                .iter()
                .map(HeaderValue::as_bytes),
        )
        .map_err(|what| ApiError::field("If-Match", format!("must be {IF_MATCH_FORM}: {what}")))
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
        self.get("status")
            .map(|s| {
                s.parse()
                    .map_err(|e: support_plans_domain::UnknownName| ApiError::field("status", e.to_string()))
            })
            .transpose()
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
