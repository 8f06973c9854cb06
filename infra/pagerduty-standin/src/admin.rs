//! The stand-in's own API under `/_standin/` (not part of PagerDuty): fault
//! injection, call counts, webhook delivery records and redelivery, ageing an
//! incident, reset. No token needed.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::PdError;
use crate::rest::Op;
use crate::store::Store;
use crate::{App, lock, webhook};

/// Statuses a rule may inject: the retryable ones and the permanent ones a
/// client must not retry.
const STATUSES: [u16; 8] = [401, 403, 404, 429, 500, 502, 503, 504];

/// One injected fault: the next `remaining` calls of `operation` (or of
/// every operation, `*`) answer `status`; `None` means until cleared.
#[derive(Debug, Clone, Serialize)]
pub struct FaultRule {
    operation: String,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
    remaining: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultSpec {
    operation: String,
    status: u16,
    retry_after: Option<u64>,
    count: Option<u64>,
}

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route(
            "/_standin/faults",
            post(add_faults).get(list_faults).delete(clear_faults),
        )
        .route("/_standin/calls", get(calls).delete(clear_calls))
        .route("/_standin/deliveries", get(deliveries))
        .route("/_standin/deliveries/{webhook_id}/redeliver", post(redeliver))
        .route("/_standin/incidents/{id}/age", post(age_incident))
        .route("/_standin/subscription", get(subscription).put(set_subscription))
        .route("/_standin/reset", post(reset))
        .route(
            "/_standin/health",
            get(|| async { axum::Json(json!({ "ok": true })) }),
        )
}

/// The error of the first rule matching this call of `op`, consuming one use.
pub fn take_fault(app: &App, op: Op) -> Option<PdError> {
    let mut rules = lock(&app.faults);
    let rule = rules
        .iter_mut()
        .find(|r| (r.operation == "*" || r.operation == op.name()) && r.remaining != Some(0))?;
    if let Some(n) = rule.remaining.as_mut() {
        *n -= 1;
    }
    let detail = format!("fault injected by the stand-in for {}", op.name());
    let error = match rule.status {
        401 => PdError::unauthorized(),
        403 => PdError::forbidden(),
        404 => PdError::not_found(),
        429 => PdError::rate_limited(rule.retry_after.unwrap_or(1)),
        s => PdError::internal(StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)),
    }
    .detail(detail);
    rules.retain(|r| r.remaining != Some(0));
    Some(error)
}

fn bad_request(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({ "error": message.into() })),
    )
        .into_response()
}

/// Body: one fault spec or a list of them.
async fn add_faults(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(format!("body is not JSON: {e}")),
    };
    let parsed = match value {
        Value::Array(_) => serde_json::from_value::<Vec<FaultSpec>>(value),
        other => serde_json::from_value::<FaultSpec>(other).map(|s| vec![s]),
    };
    let specs = match parsed {
        Ok(s) => s,
        Err(e) => return bad_request(format!("bad fault spec: {e}")),
    };
    let mut new_rules = Vec::new();
    for s in specs {
        if s.operation != "*" && !Op::ALL.iter().any(|op| op.name() == s.operation) {
            let names: Vec<&str> = Op::ALL.iter().map(|op| op.name()).collect();
            return bad_request(format!(
                "unknown operation {:?} (use one of {} or *)",
                s.operation,
                names.join(", ")
            ));
        }
        if !STATUSES.contains(&s.status) {
            return bad_request(format!("status must be one of {STATUSES:?}"));
        }
        if s.count == Some(0) {
            return bad_request("count must be at least 1 (omit it for \"until cleared\")");
        }
        if s.retry_after.is_some() && s.status != 429 {
            return bad_request("retry_after applies to status 429 only");
        }
        new_rules.push(FaultRule {
            operation: s.operation,
            status: s.status,
            retry_after: s.retry_after,
            remaining: s.count,
        });
    }
    let mut rules = lock(&app.faults);
    rules.extend(new_rules);
    axum::Json(json!({ "faults": *rules })).into_response()
}

async fn list_faults(State(app): State<Arc<App>>) -> Response {
    axum::Json(json!({ "faults": *lock(&app.faults) })).into_response()
}

async fn clear_faults(State(app): State<Arc<App>>) -> Response {
    lock(&app.faults).clear();
    axum::Json(json!({ "faults": [] })).into_response()
}

async fn calls(State(app): State<Arc<App>>) -> Response {
    let calls = lock(&app.calls).clone();
    let total: u64 = calls.values().sum();
    axum::Json(json!({ "calls": calls, "total": total })).into_response()
}

async fn clear_calls(State(app): State<Arc<App>>) -> Response {
    lock(&app.calls).clear();
    axum::Json(json!({ "calls": {}, "total": 0 })).into_response()
}

/// Finished deliveries, oldest first, and how many are still under way.
async fn deliveries(State(app): State<Arc<App>>) -> Response {
    let list = lock(&app.deliveries).clone();
    let pending = *lock(&app.pending);
    axum::Json(json!({ "deliveries": list, "pending": pending })).into_response()
}

async fn redeliver(State(app): State<Arc<App>>, Path(webhook_id): Path<String>) -> Response {
    if webhook::redeliver(&app, &webhook_id) {
        (
            StatusCode::ACCEPTED,
            axum::Json(json!({ "redelivering": webhook_id })),
        )
            .into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            axum::Json(
                json!({ "error": format!("no finished delivery {webhook_id} (or no webhook target)") }),
            ),
        )
            .into_response()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Age {
    minutes: i64,
}

/// Moves the incident's `created_at` N minutes (1 to 525600) into the past.
async fn age_incident(State(app): State<Arc<App>>, Path(id): Path<String>, body: Bytes) -> Response {
    let age: Age = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => return bad_request(format!("body must be {{\"minutes\": N}}: {e}")),
    };
    if !(1..=525_600).contains(&age.minutes) {
        return bad_request("minutes must be from 1 to 525600");
    }
    match lock(&app.store).age(&id, age.minutes) {
        Ok(created_at) => {
            axum::Json(json!({ "id": id, "created_at": created_at.to_string() })).into_response()
        }
        Err(_) => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "error": format!("no incident {id}") })),
        )
            .into_response(),
    }
}

/// Forgets services, incidents, notes, faults, counts and delivery records.
async fn reset(State(app): State<Arc<App>>) -> Response {
    *lock(&app.store) = Store::default();
    lock(&app.faults).clear();
    lock(&app.calls).clear();
    lock(&app.deliveries).clear();
    *lock(&app.filter) = None;
    axum::Json(json!({ "reset": true })).into_response()
}

fn filter_json(filter: Option<&str>) -> Value {
    match filter {
        None => json!({ "filter": { "type": "account_reference" } }),
        Some(id) => json!({ "filter": { "type": "service_reference", "id": id } }),
    }
}

/// The webhook subscription's filter, in PagerDuty's shape.
async fn subscription(State(app): State<Arc<App>>) -> Response {
    axum::Json(filter_json(lock(&app.filter).as_deref())).into_response()
}

/// Sets the subscription's filter, as PagerDuty's
/// `PUT /webhook_subscriptions/{id}` would: `{"filter": {"type":
/// "account_reference"}}` (every incident, the default) or `{"filter":
/// {"type": "service_reference", "id": SERVICE}}` (that service's only).
async fn set_subscription(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let bad =
        |detail: &str| (StatusCode::BAD_REQUEST, axum::Json(json!({ "error": detail }))).into_response();
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return bad("the body is not JSON");
    };
    let filter = match (body["filter"]["type"].as_str(), body["filter"]["id"].as_str()) {
        (Some("account_reference"), None) => None,
        (Some("service_reference"), Some(id)) if !id.is_empty() => Some(id.to_owned()),
        _ => {
            return bad(
                "filter must be {\"type\": \"account_reference\"} or {\"type\": \"service_reference\", \"id\": SERVICE}",
            );
        }
    };
    let answer = filter_json(filter.as_deref());
    *lock(&app.filter) = filter;
    axum::Json(answer).into_response()
}
