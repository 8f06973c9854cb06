//! The webhook edge (SPEC §11): `POST /hooks/pagerduty` (PagerDuty Webhooks
//! V3) and `POST /hooks/incident` (Standard Webhooks, the generic incident),
//! on the HTTP API without an authorizer: the signature is the credential.
//!
//! Every delivery is checked on its raw bytes before any of it is parsed:
//! size, then the route's secret, then the signature; only then the JSON.
//! A verified delivery is handed to the incident responder asynchronously
//! (the [`HandOff`] port) and answered 202 at once; a failed hand-off is a
//! 503 so the sender delivers again. `/hooks/incident` refuses a replayed
//! `webhook-id` (the [`WebhookIds`] port): one whose delivery was handed off;
//! a delivery that failed anywhere leaves nothing that refuses the
//! redelivery. No header value, body or secret is logged; each delivery's
//! outcome is (route, status, event type, incident id).
//!
//! It also serves "vendor responded" (SPEC §13, [`responded`]): the signed
//! link of the follow-up notes (`GET`/`POST /responded/{token}`) and the
//! portals' `POST /incidents/{incident}/plans/{plan}/responded`.

pub mod config;
pub mod error;
pub mod responded;
pub mod secrets;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use serde_json::{Value, json};
use support_plans_domain::pagerduty_webhook::{self, PagerDutyEvent};
use support_plans_domain::pipeline::generic::{WEBHOOK_SOURCE, generic};
use support_plans_domain::ports::{HandOff, SecretText, WebhookIds};
use support_plans_domain::responded::{PostedNotes, ResponseMarks};
use support_plans_domain::token::KeySet;
use support_plans_domain::webhook::{
    self, MAX_BODY_BYTES, PAGERDUTY_SIGNATURE, StandardHeaders, WEBHOOK_ID, WEBHOOK_SIGNATURE,
    WEBHOOK_TIMESTAMP, WebhookError,
};

use crate::config::{INCIDENT_WEBHOOK_SECRET_ARN, PAGERDUTY_WEBHOOK_SECRET_ARN, RESPONDED_KEY_SECRET_ARN};
use crate::error::Refusal;
use crate::secrets::{CachedSecret, Scheme};

pub const PAGERDUTY_ROUTE: &str = "/hooks/pagerduty";
pub const INCIDENT_ROUTE: &str = "/hooks/incident";

/// What every request needs, built once per process: the replay store, the
/// response marks, the hand-off, the routes' secrets, and the clock.
#[derive(Debug)]
pub struct Hooks<I, H, S, M> {
    pub ids: I,
    /// The "vendor responded" marks, and where the plans' notes were posted.
    pub marks: M,
    pub hand_off: H,
    pub pagerduty_secret: CachedSecret<S>,
    pub incident_secret: CachedSecret<S>,
    /// The keys of the `/responded/{token}` links.
    pub responded_key: CachedSecret<S, KeySet>,
    /// `LOCAL_AUTH` (the local stack only): the portals' route takes its
    /// caller from `x-local-principal`.
    pub local_auth: bool,
    /// The clock; tests fix it.
    pub clock: fn() -> Timestamp,
}

impl<I, H, S: SecretText, M> Hooks<I, H, S, M> {
    /// Over the given ports, the secrets read on first use and kept five
    /// minutes, the system clock, callers from API Gateway only.
    pub fn new(
        ids: I,
        marks: M,
        hand_off: H,
        pagerduty_secret: S,
        incident_secret: S,
        responded_key: S,
    ) -> Self {
        Self {
            ids,
            marks,
            hand_off,
            pagerduty_secret: CachedSecret::new(
                pagerduty_secret,
                Scheme::PagerDuty,
                PAGERDUTY_WEBHOOK_SECRET_ARN,
            ),
            incident_secret: CachedSecret::new(
                incident_secret,
                Scheme::Standard,
                INCIDENT_WEBHOOK_SECRET_ARN,
            ),
            responded_key: CachedSecret::keys(responded_key, RESPONDED_KEY_SECRET_ARN),
            local_auth: false,
            clock: Timestamp::now,
        }
    }
}

/// The handler: the webhook routes and the responded routes, a problem
/// answer for any other path (404) or method (405). Over any ports: the
/// function's adapters, or in-memory fakes for the tests and the bench.
pub fn app<I, H, S, M>(hooks: Hooks<I, H, S, M>) -> Router
where
    I: WebhookIds + 'static,
    H: HandOff + 'static,
    S: SecretText + 'static,
    M: ResponseMarks + PostedNotes + 'static,
{
    Router::new()
        .route(PAGERDUTY_ROUTE, post(pagerduty::<I, H, S, M>))
        .route(INCIDENT_ROUTE, post(incident::<I, H, S, M>))
        .route(
            responded::LINK_ROUTE,
            get(responded::confirm_page::<I, H, S, M>).post(responded::record_link::<I, H, S, M>),
        )
        .route(responded::PORTAL_ROUTE, post(responded::record_api::<I, H, S, M>))
        .fallback(|| async { Refusal::new(404, "no-route", "no such route") })
        .method_not_allowed_fallback(|| async {
            Refusal::new(
                405,
                "method-not-allowed",
                "this route takes POST only (GET and POST for /responded/{token})",
            )
            .into_response()
        })
        // The size is checked by the routes, with a problem answer; Lambda
        // has the body in memory already.
        .layer(DefaultBodyLimit::disable())
        .with_state(Arc::new(hooks))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a [u8]> {
    headers.get(name).map(|v| v.as_bytes())
}

fn too_large() -> Refusal {
    Refusal::new(
        413,
        "payload-too-large",
        format!("the request body exceeds {MAX_BODY_BYTES} bytes"),
    )
}

pub(crate) fn no_secret(variable: &str) -> Refusal {
    Refusal::new(
        503,
        "not-configured",
        format!("this route's secret ({variable}) is empty or unusable; the operator must set it"),
    )
}

fn refused(e: &WebhookError) -> Refusal {
    let slug = match e.status() {
        401 => "unauthenticated",
        409 => "replayed",
        413 => "payload-too-large",
        503 => "unavailable",
        _ => "invalid-request",
    };
    Refusal::new(e.status(), slug, e.to_string())
}

fn not_handed_off() -> Refusal {
    Refusal::new(
        503,
        "unavailable",
        "the incident could not be handed to the responder; deliver again",
    )
}

fn accepted(body: Value) -> Response {
    (StatusCode::ACCEPTED, axum::Json(body)).into_response()
}

/// Logs one delivery's outcome: never a header value, a body or a secret.
fn outcome(route: &str, status: StatusCode, event_type: Option<&str>, incident: Option<&str>, detail: &str) {
    let status = status.as_u16();
    if status >= 500 {
        tracing::error!(route, status, event_type, incident, detail, "webhook delivery");
    } else {
        tracing::info!(route, status, event_type, incident, detail, "webhook delivery");
    }
}

async fn pagerduty<I, H, S, M>(
    State(hooks): State<Arc<Hooks<I, H, S, M>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response
where
    I: WebhookIds,
    H: HandOff,
    S: SecretText,
{
    let route = PAGERDUTY_ROUTE;
    let refuse = |r: Refusal, event_type: Option<&str>, incident: Option<&str>| {
        outcome(route, r.status, event_type, incident, &r.detail);
        r.into_response()
    };
    if body.len() > MAX_BODY_BYTES {
        return refuse(too_large(), None, None);
    }
    let secrets = match hooks.pagerduty_secret.get().await {
        Ok(s) => s,
        Err(_) => return refuse(no_secret(hooks.pagerduty_secret.variable), None, None),
    };
    if let Err(e) = webhook::verify_pagerduty(&secrets, header(&headers, PAGERDUTY_SIGNATURE), &body) {
        return refuse(refused(&e), None, None);
    }
    match pagerduty_webhook::parse(&body) {
        Err(e) => refuse(Refusal::field(e.field(), e.to_string()), None, None),
        Ok(PagerDutyEvent::Other { event_type }) => {
            outcome(route, StatusCode::ACCEPTED, Some(&event_type), None, "ignored");
            accepted(json!({"ignored": event_type}))
        }
        Ok(PagerDutyEvent::Triggered {
            event_id,
            incident_id,
        }) => {
            let event_type = Some(pagerduty_webhook::INCIDENT_TRIGGERED);
            let payload = pagerduty_webhook::hand_off(&event_id, &incident_id);
            match hooks.hand_off.hand_off(&payload).await {
                Ok(()) => {
                    outcome(
                        route,
                        StatusCode::ACCEPTED,
                        event_type,
                        Some(&incident_id),
                        "handed off",
                    );
                    accepted(json!({"handed_off": incident_id}))
                }
                Err(e) => {
                    tracing::error!(route, incident = %incident_id, error = %e, "hand-off failed");
                    refuse(not_handed_off(), event_type, Some(&incident_id))
                }
            }
        }
    }
}

async fn incident<I, H, S, M>(
    State(hooks): State<Arc<Hooks<I, H, S, M>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response
where
    I: WebhookIds,
    H: HandOff,
    S: SecretText,
{
    let route = INCIDENT_ROUTE;
    let refuse = |r: Refusal, incident: Option<&str>| {
        outcome(route, r.status, None, incident, &r.detail);
        r.into_response()
    };
    if body.len() > MAX_BODY_BYTES {
        return refuse(too_large(), None);
    }
    let secrets = match hooks.incident_secret.get().await {
        Ok(s) => s,
        Err(_) => return refuse(no_secret(hooks.incident_secret.variable), None),
    };
    let now = (hooks.clock)();
    let signed = StandardHeaders {
        id: header(&headers, WEBHOOK_ID),
        timestamp: header(&headers, WEBHOOK_TIMESTAMP),
        signature: header(&headers, WEBHOOK_SIGNATURE),
    };
    let verified = match webhook::verify_standard(&secrets, signed, &body, now) {
        Ok(v) => v,
        Err(e) => return refuse(refused(&e), None),
    };
    let Ok(json) = serde_json::from_slice::<Value>(&body) else {
        return refuse(Refusal::field("body", "is not JSON"), None);
    };
    let time = json!(verified.timestamp.to_string());
    let incident = match generic(WEBHOOK_SOURCE, &json, Some(&time)) {
        Ok(g) => g,
        Err(e) => return refuse(Refusal::field(e.field, e.reason), None),
    };
    if let Err(e) = webhook::not_replayed(&hooks.ids, &verified, now).await {
        return refuse(refused(&e), Some(&incident.id));
    }
    match hooks.hand_off.hand_off(&incident.event()).await {
        Ok(()) => {
            if let Err(e) = webhook::handed_off(&hooks.ids, &verified).await {
                tracing::error!(route, incident = %incident.id, error = %e,
                    "handed off, but the webhook id was not recorded; a replay within 5 minutes would be handed off again (the responder posts once)");
            }
            outcome(
                route,
                StatusCode::ACCEPTED,
                None,
                Some(&incident.id),
                "handed off",
            );
            accepted(json!({"handed_off": incident.id}))
        }
        Err(e) => {
            // Nothing was recorded: the sender's redelivery is no replay.
            tracing::error!(route, incident = %incident.id, error = %e, "hand-off failed");
            refuse(not_handed_off(), Some(&incident.id))
        }
    }
}
