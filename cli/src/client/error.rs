//! What can go wrong talking to the API (SPEC §3, §12), each as one line a
//! person can act on; the API's RFC 9457 problem bodies read back.

use serde::Deserialize;
use support_plans_domain::FieldError;

/// A call that did not succeed. The messages carry the API's own `detail`,
/// never a token or a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The endpoint given cannot be used (not a URL, `http` off loopback, ...).
    #[error("endpoint '{endpoint}': {reason}")]
    Endpoint { endpoint: String, reason: String },
    /// No credentials to sign with, or no region.
    #[error("{0}")]
    Credentials(String),
    /// No answer: refused, unknown host, TLS failure, timeout.
    #[error("cannot reach the API at {endpoint}: {reason}")]
    Unreachable { endpoint: String, reason: String },
    /// 401: no identity the API accepts.
    #[error("the API refused the credentials (401): {0}")]
    Unauthenticated(String),
    /// 403: the caller may not do this; the API's detail names the team it
    /// would need.
    #[error("not allowed (403): {0}")]
    Forbidden(String),
    /// 412: someone wrote since the version named in `If-Match` was read.
    #[error("changed since read (412): {0}")]
    PreconditionFailed(String),
    /// 400: the API's detail and every offending field.
    #[error("{}", invalid(.detail, .errors))]
    Invalid { detail: String, errors: Vec<FieldError> },
    /// 404 from the API: no such plan or workload.
    #[error("not found (404): {0}")]
    NotFound(String),
    /// Any other answer (409, 413, 428, 5xx, a gateway's own 404, ...).
    #[error("the API answered {0}: {1}")]
    Other(u16, String),
}

fn invalid(detail: &str, errors: &[FieldError]) -> String {
    if errors.is_empty() {
        return format!("invalid (400): {detail}");
    }
    let fields: Vec<String> = errors
        .iter()
        .map(|e| {
            let field = if e.field.is_empty() { "(body)" } else { &e.field };
            format!("{field}: {}", e.message)
        })
        .collect();
    format!("invalid (400): {}", fields.join("; "))
}

/// An RFC 9457 problem as the API writes it (`plans-api` `error::Problem`).
#[derive(Debug, Deserialize)]
struct Problem {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    errors: Vec<ProblemField>,
}

#[derive(Debug, Deserialize)]
struct ProblemField {
    #[serde(default)]
    field: String,
    #[serde(default)]
    message: String,
}

/// The API's problem types start so (`urn:support-plans:problem:not-found`).
const PROBLEM_URN: &str = "urn:support-plans:problem:";

/// What a refusal said: the API's problem (`detail`, field errors), or the
/// text of anything else in front of it (API Gateway answers
/// `{"message": "Forbidden"}`), cut to one short line.
#[derive(Debug)]
pub(super) struct Answered {
    /// The API itself answered (a problem of its own), not a gateway.
    pub from_api: bool,
    pub detail: String,
    pub errors: Vec<FieldError>,
}

impl Answered {
    pub fn read(body: &[u8]) -> Self {
        if let Ok(p) = serde_json::from_slice::<Problem>(body)
            && p.kind.starts_with(PROBLEM_URN)
        {
            return Self {
                from_api: true,
                detail: p.detail,
                errors: p
                    .errors
                    .into_iter()
                    .map(|e| FieldError {
                        field: e.field,
                        message: e.message,
                    })
                    .collect(),
            };
        }
        let text = match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(v) => v
                .get("message")
                .and_then(|m| m.as_str())
                .map_or_else(|| v.to_string(), str::to_owned),
            Err(_) => String::from_utf8_lossy(body).into_owned(),
        };
        Self {
            from_api: false,
            detail: one_line(&text, 300),
            errors: Vec::new(),
        }
    }

    /// The error for `status` (not a success).
    pub fn into_error(self, status: u16) -> ClientError {
        let detail = if self.detail.is_empty() {
            "(no detail)".to_owned()
        } else {
            self.detail
        };
        match status {
            400 => ClientError::Invalid {
                detail,
                errors: self.errors,
            },
            401 => ClientError::Unauthenticated(detail),
            403 if self.from_api => ClientError::Forbidden(detail),
            // API Gateway's IAM authorizer refuses a bad or missing signature
            // with 403 before the API runs.
            403 => ClientError::Forbidden(format!(
                "{detail} (from API Gateway, before the API: the credentials or their \
                 execute-api:Invoke permission were refused)"
            )),
            404 if self.from_api => ClientError::NotFound(detail),
            404 => ClientError::Other(
                404,
                format!("{detail} (not the API's answer: is the endpoint the API's URL, with its stage?)"),
            ),
            412 => ClientError::PreconditionFailed(detail),
            other => ClientError::Other(other, detail),
        }
    }
}

/// `text` on one line, at most `max` characters.
pub(super) fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_is_read_with_its_fields() {
        let body = br#"{"type":"urn:support-plans:problem:invalid-request","title":"Bad Request","status":400,
            "detail":"2 invalid field(s)","errors":[{"field":"contacts[1].email","message":"must be an e-mail address"},
            {"field":"tier","message":"is required"}]}"#;
        let e = Answered::read(body).into_error(400);
        assert_eq!(
            e.to_string(),
            "invalid (400): contacts[1].email: must be an e-mail address; tier: is required"
        );
    }

    #[test]
    fn a_403_of_the_api_says_which_team_and_one_of_the_gateway_says_so() {
        let api = br#"{"type":"urn:support-plans:problem:forbidden","title":"Forbidden","status":403,
            "detail":"only an admin or a member of the owner team (payments) may change this"}"#;
        assert_eq!(
            Answered::read(api).into_error(403),
            ClientError::Forbidden(
                "only an admin or a member of the owner team (payments) may change this".into()
            )
        );
        let gateway = Answered::read(br#"{"message":"Forbidden"}"#).into_error(403);
        assert!(gateway.to_string().contains("from API Gateway"), "{gateway}");
    }

    #[test]
    fn a_404_not_from_the_api_is_not_a_missing_plan() {
        assert!(matches!(
            Answered::read(br#"{"message":"Not Found"}"#).into_error(404),
            ClientError::Other(404, _)
        ));
        let api = br#"{"type":"urn:support-plans:problem:not-found","status":404,"detail":"no plan 'x'"}"#;
        assert_eq!(
            Answered::read(api).into_error(404),
            ClientError::NotFound("no plan 'x'".into())
        );
    }

    #[test]
    fn a_page_of_html_becomes_one_short_line() {
        let html = format!("<html>\n<body>\n{}</body></html>", "bad gateway ".repeat(100));
        let e = Answered::read(html.as_bytes()).into_error(502);
        let shown = e.to_string();
        assert!(!shown.contains('\n') && shown.chars().count() < 340, "{shown}");
    }
}
