//! "Vendor responded" (SPEC §13): someone marks a plan's vendor as
//! responding to an incident, and that plan's follow-up notes stop.
//!
//! - `GET /responded/{token}`: the signed link of a follow-up note. Shows
//!   what would be recorded, with a form asking for a name; changes nothing
//!   (mail scanners and chat previews follow links).
//! - `POST /responded/{token}` (form field `by`): records the mark, via `link`.
//! - `POST /incidents/{incident}/plans/{plan}/responded`: the same for
//!   portals, behind the API's authorizer; recorded as made by the caller, via `api`.
//!
//! The token is the credential of the link routes (no authorizer). A bad,
//! expired or forged token gets a page saying so and nothing is read or
//! written. Only a plan whose note was posted into the incident may be
//! marked (404 otherwise). The first mark stands: a second is told the
//! first, and nothing is written. After a first mark the responder is handed
//! `{"responded": {"incident", "plan"}}` to post the note into the incident;
//! if that hand-off fails the mark stays (the answer still says recorded)
//! and the responder's sweep posts the note later. Neither the token nor
//! the name typed is logged; each request's outcome is (route, status, incident, plan).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{Extension, Form, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use lambda_http::request::RequestContext;
use serde::Deserialize;
use serde_json::json;
pub use support_plans_domain::html::escape;
use support_plans_domain::ports::{HandOff, SecretText};
use support_plans_domain::responded::{
    self, ByName, LinkError, Marked, PostedNotes, Responded, ResponseMarks, Via, incident_key, short_id,
    verify_link,
};
use support_plans_domain::types::Slug;

use crate::Hooks;
use crate::error::Refusal;

pub const LINK_ROUTE: &str = "/responded/{token}";
pub const PORTAL_ROUTE: &str = "/incidents/{incident}/plans/{plan}/responded";
/// The header that names the caller when `LOCAL_AUTH` is set (the local stack only).
pub const LOCAL_PRINCIPAL: &str = "x-local-principal";
/// The longest caller name the portals' route records.
const MAX_CALLER_CHARS: usize = 1000;

/// A small self-contained page, with the verify pages' headers (the URL
/// carries the credential: no caching, no referrer, no framing, no script).
/// `body` is HTML already escaped by the caller.
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{title} - support-plans</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}\
         button{{font-size:1.1rem;padding:.6rem 1.2rem;cursor:pointer}}input{{font-size:1.1rem;padding:.4rem}}\
         dt{{font-weight:600}}dd{{margin:0 0 .5rem 0}}</style>\
         </head><body><h1>{title}</h1>\n{body}\n</body></html>\n",
        title = escape(title)
    );
    let mut response = (status, html).into_response();
    let h = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    response
}

fn nothing_changed(status: StatusCode, title: &str, text: &str) -> Response {
    page(
        status,
        title,
        &format!("<p>{}</p>\n<p>Nothing was recorded.</p>", escape(text)),
    )
}

fn link_refused(e: LinkError) -> Response {
    let advice = match e {
        LinkError::Malformed => {
            "It may have been cut or wrapped on the way. Open the whole link from the incident's note."
        }
        LinkError::BadSignature | LinkError::TooLong => {
            "It was not issued by support-plans, or it was altered. Use the link in the incident's latest note."
        }
        LinkError::Expired | LinkError::RetiredKey => {
            "Links work for 14 days. Use the link in a newer note, or mark the vendor through the API \
             (POST /incidents/{incident}/plans/{plan}/responded)."
        }
    };
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    page(
        status,
        match e {
            LinkError::Expired | LinkError::RetiredKey => "This link has expired",
            LinkError::Malformed => "This link is incomplete",
            LinkError::BadSignature | LinkError::TooLong => "This link is not valid",
        },
        &format!(
            "<p>{}.</p>\n<p>{}</p>\n<p>Nothing was recorded.</p>",
            escape(&capitalised(&e.to_string())),
            escape(advice)
        ),
    )
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn unavailable(text: &str) -> Response {
    nothing_changed(
        StatusCode::SERVICE_UNAVAILABLE,
        "Please try again in a moment",
        text,
    )
}

/// What the link's page says it would record, and the form asking for a name.
fn form_html(link: &responded::RespondedLink, error: Option<&str>) -> String {
    let error = error.map_or_else(String::new, |e| {
        format!(
            "<p role=\"alert\"><strong>Your name: {}</strong></p>\n",
            escape(e)
        )
    });
    format!(
        "<dl>\n<dt>Plan</dt><dd><code>{plan}</code></dd>\n<dt>Incident</dt><dd><code>{incident}</code></dd>\n</dl>\n\
         <p>Mark this vendor as responding once someone from them has answered. The incident is told \
         who marked it and when, and this plan's follow-up notes stop.</p>\n{error}\
         <form method=\"post\"><p><label>Your name <input name=\"by\" required maxlength=\"{max}\" \
         autocomplete=\"name\"></label></p>\n<p><button type=\"submit\">Mark as responding</button></p></form>",
        plan = escape(&link.plan),
        incident = escape(short_id(&link.incident)),
        max = responded::MAX_BY_CHARS,
    )
}

/// Logs one request's outcome: never the token, the name typed or a secret.
fn outcome(route: &str, status: StatusCode, incident: Option<&str>, plan: Option<&str>, detail: &str) {
    let status = status.as_u16();
    if status >= 500 {
        tracing::error!(route, status, incident, plan, detail, "responded");
    } else {
        tracing::info!(route, status, incident, plan, detail, "responded");
    }
}

/// The link's claims, or the page that says why not.
async fn checked_link<I, H, S: SecretText, M>(
    hooks: &Hooks<I, H, S, M>,
    token: Result<Path<String>, PathRejection>,
) -> Result<responded::RespondedLink, Response> {
    let keys = match hooks.responded_key.get().await {
        Ok(keys) => keys,
        Err(_) => {
            let variable = hooks.responded_key.variable;
            return Err(unavailable(&format!(
                "The keys of these links ({variable}) are empty or unusable; the operator must set them."
            )));
        }
    };
    let Ok(Path(token)) = token else {
        return Err(link_refused(LinkError::Malformed));
    };
    verify_link(&keys, &token, (hooks.clock)()).map_err(link_refused)
}

/// `GET /responded/{token}`: the confirm page; reads and writes nothing but the keys.
pub async fn confirm_page<I, H, S, M>(
    State(hooks): State<Arc<Hooks<I, H, S, M>>>,
    token: Result<Path<String>, PathRejection>,
) -> Response
where
    S: SecretText,
{
    match checked_link(&hooks, token).await {
        Ok(link) => {
            outcome(
                LINK_ROUTE,
                StatusCode::OK,
                Some(&link.incident),
                Some(&link.plan),
                "confirm page",
            );
            page(
                StatusCode::OK,
                "Is this vendor responding?",
                &form_html(&link, None),
            )
        }
        Err(page) => {
            outcome(LINK_ROUTE, page.status(), None, None, "link refused");
            page
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ByForm {
    #[serde(default)]
    by: String,
}

fn at_second(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}

/// What a mark and its hand-off came to.
enum Recorded {
    First(Responded),
    Already(Responded),
    NotPosted,
}

/// Checks the plan's note is in the incident, records the mark, and on a
/// first mark hands it to the responder (a failed hand-off is logged; the mark stays).
async fn record<H: HandOff, M: ResponseMarks + PostedNotes>(
    marks: &M,
    hand_off: &H,
    route: &str,
    incident: &str,
    mark: Responded,
) -> Result<Recorded, support_plans_domain::ports::PortError> {
    if !marks.note_posted(incident, &mark.plan).await? {
        return Ok(Recorded::NotPosted);
    }
    match marks.mark(incident, &mark).await? {
        Marked::Already(first) => Ok(Recorded::Already(first)),
        Marked::First => {
            if let Err(e) = hand_off
                .hand_off(&responded::hand_off(incident, &mark.plan))
                .await
            {
                tracing::error!(route, incident, plan = %mark.plan, error = %e,
                    "responded: recorded, but the hand-off to the responder failed; its sweep posts the note later");
            }
            Ok(Recorded::First(mark))
        }
    }
}

/// `POST /responded/{token}`: records the mark made through the link.
pub async fn record_link<I, H, S, M>(
    State(hooks): State<Arc<Hooks<I, H, S, M>>>,
    token: Result<Path<String>, PathRejection>,
    form: Result<Form<ByForm>, FormRejection>,
) -> Response
where
    H: HandOff,
    S: SecretText,
    M: ResponseMarks + PostedNotes,
{
    let link = match checked_link(&hooks, token).await {
        Ok(link) => link,
        Err(page) => {
            outcome(LINK_ROUTE, page.status(), None, None, "link refused");
            return page;
        }
    };
    let (incident, plan) = (Some(link.incident.as_str()), Some(link.plan.as_str()));
    let by = match form
        .map_err(|e| e.body_text())
        .and_then(|Form(f)| ByName::parse(&f.by))
    {
        Ok(by) => by,
        Err(why) => {
            outcome(
                LINK_ROUTE,
                StatusCode::BAD_REQUEST,
                incident,
                plan,
                "no usable name",
            );
            return page(
                StatusCode::BAD_REQUEST,
                "Please give your name",
                &format!("{}\n<p>Nothing was recorded.</p>", form_html(&link, Some(&why))),
            );
        }
    };
    let mark = Responded {
        plan: link.plan.clone(),
        by: by.into_string(),
        at: at_second((hooks.clock)()),
        via: Via::Link,
    };
    let answer = match record(&hooks.marks, &hooks.hand_off, LINK_ROUTE, &link.incident, mark).await {
        Ok(Recorded::First(m)) => page(
            StatusCode::OK,
            "Recorded",
            &format!(
                "<p>Recorded: <code>{}</code> marked as responding by {} at {}.</p>\n\
                 <p>The incident is told, and this plan's follow-up notes stop.</p>",
                escape(&m.plan),
                escape(&m.by),
                m.at
            ),
        ),
        Ok(Recorded::Already(first)) => page(
            StatusCode::OK,
            "Already marked",
            &format!(
                "<p>Already marked by {} at {}.</p>\n<p>Nothing more was recorded.</p>",
                escape(&first.by),
                first.at
            ),
        ),
        Ok(Recorded::NotPosted) => nothing_changed(
            StatusCode::NOT_FOUND,
            "This plan is not in this incident",
            "No note of this plan was posted into this incident, so it cannot be marked as responding.",
        ),
        Err(e) => {
            tracing::error!(route = LINK_ROUTE, incident = %link.incident, plan = %link.plan, error = %e, "responded: the table failed");
            unavailable("The service could not reach its storage.")
        }
    };
    outcome(LINK_ROUTE, answer.status(), incident, plan, "link");
    answer
}

/// The authenticated caller of the portals' route: API Gateway's IAM
/// principal or the JWT's subject (`jwt:<sub>`, as the plans API names JWT
/// callers), or locally (`LOCAL_AUTH`) the `x-local-principal` header.
pub fn caller(local_auth: bool, context: Option<&RequestContext>, headers: &HeaderMap) -> Option<String> {
    let name = if local_auth {
        headers
            .get(LOCAL_PRINCIPAL)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_owned())
    } else {
        let Some(RequestContext::ApiGatewayV2(ctx)) = context else {
            return None;
        };
        let authorizer = ctx.authorizer.as_ref()?;
        match (&authorizer.jwt, &authorizer.iam) {
            (Some(jwt), _) => jwt
                .claims
                .get("sub")
                .filter(|s| !s.is_empty())
                .map(|s| format!("jwt:{s}")),
            (None, Some(iam)) => iam.user_arn.clone(),
            (None, None) => None,
        }
    };
    name.filter(|n| {
        !n.is_empty() && n.chars().count() <= MAX_CALLER_CHARS && !n.chars().any(char::is_control)
    })
}

fn mark_json(incident: &str, m: &Responded) -> serde_json::Value {
    json!({"incident": incident, "plan": m.plan, "by": m.by, "at": m.at.to_string(), "via": m.via.as_str()})
}

/// `POST /incidents/{incident}/plans/{plan}/responded`: records the mark made by the caller.
pub async fn record_api<I, H, S, M>(
    State(hooks): State<Arc<Hooks<I, H, S, M>>>,
    path: Result<Path<(String, String)>, PathRejection>,
    context: Option<Extension<RequestContext>>,
    headers: HeaderMap,
) -> Response
where
    H: HandOff,
    M: ResponseMarks + PostedNotes,
{
    let route = PORTAL_ROUTE;
    let refuse = |r: Refusal, incident: Option<&str>, plan: Option<&str>| {
        outcome(route, r.status, incident, plan, &r.detail);
        r.into_response()
    };
    let Some(by) = caller(hooks.local_auth, context.as_ref().map(|Extension(c)| c), &headers) else {
        return refuse(
            Refusal::new(
                401,
                "unauthenticated",
                "no authenticated caller: this route needs the API's authorizer",
            ),
            None,
            None,
        );
    };
    let Ok(Path((raw_incident, raw_plan))) = path else {
        return refuse(Refusal::field("incident", "is not URL-encoded UTF-8"), None, None);
    };
    let incident = match incident_key(&raw_incident) {
        Ok(key) => key,
        Err(why) => return refuse(Refusal::field("incident", why), None, None),
    };
    let plan = match Slug::parse(&raw_plan) {
        Ok(plan) => plan.as_str().to_owned(),
        Err(why) => {
            return refuse(
                Refusal::field("plan", format!("is not a plan id: {why}")),
                Some(&incident),
                None,
            );
        }
    };
    let mark = Responded {
        plan: plan.clone(),
        by,
        at: at_second((hooks.clock)()),
        via: Via::Api,
    };
    match record(&hooks.marks, &hooks.hand_off, route, &incident, mark).await {
        Ok(Recorded::First(m)) => {
            outcome(
                route,
                StatusCode::CREATED,
                Some(&incident),
                Some(&plan),
                "recorded",
            );
            (StatusCode::CREATED, Json(mark_json(&incident, &m))).into_response()
        }
        Ok(Recorded::Already(first)) => {
            outcome(
                route,
                StatusCode::OK,
                Some(&incident),
                Some(&plan),
                "already marked",
            );
            (StatusCode::OK, Json(mark_json(&incident, &first))).into_response()
        }
        Ok(Recorded::NotPosted) => refuse(
            Refusal::new(
                404,
                "not-found",
                format!(
                    "no note of plan {plan} was posted into this incident; only a plan the incident was told of can be marked"
                ),
            ),
            Some(&incident),
            Some(&plan),
        ),
        Err(e) => {
            tracing::error!(route, incident = %incident, plan = %plan, error = %e, "responded: the table failed");
            refuse(
                Refusal::new(
                    503,
                    "unavailable",
                    "the service could not reach its storage; try again",
                ),
                Some(&incident),
                Some(&plan),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_interpolated_is_escaped() {
        assert_eq!(
            escape(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
    }
}
