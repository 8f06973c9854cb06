//! The emulator's own API under `/_emulator/` (not part of AWS): fault
//! injection, delivery targets, call counts, delivery records, ageing an
//! incident and reset.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::protocol::{ApiError, ErrorKind, Op};
use crate::{App, check_target, lock};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailKind {
    Throttle,
    ServerError,
    AccessDenied,
}

/// One injected fault: for calls of `operation` (or every operation, `*`),
/// fail and/or delay; `remaining` counts down, `None` means until cleared.
#[derive(Debug, Clone, Serialize)]
pub struct FaultRule {
    operation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fail: Option<FailKind>,
    remaining: Option<u64>,
    latency_ms: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultSpec {
    operation: String,
    fail: Option<FailKind>,
    count: Option<u64>,
    latency_ms: Option<u64>,
}

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route(
            "/_emulator/faults",
            post(add_faults).get(list_faults).delete(clear_faults),
        )
        .route("/_emulator/config", post(set_config).get(get_config))
        .route("/_emulator/calls", get(calls).delete(clear_calls))
        .route("/_emulator/deliveries", get(deliveries))
        .route("/_emulator/incidents/age", post(age_incident))
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/health", get(health))
}

/// Consumes the faults that apply to this call of `op`: the summed latency
/// of every matching rule and the error of the first matching failing rule.
pub fn take_fault(app: &App, op: Op) -> (u64, Option<ApiError>) {
    let mut rules = lock(&app.faults);
    let mut latency = 0;
    let mut error = None;
    for rule in rules.iter_mut() {
        let matches = rule.operation == "*" || rule.operation == op.name();
        if !matches || rule.remaining == Some(0) || (rule.fail.is_some() && error.is_some()) {
            continue;
        }
        if let Some(n) = rule.remaining.as_mut() {
            *n -= 1;
        }
        latency += rule.latency_ms;
        error = error.or(rule.fail.map(|f| match f {
            FailKind::Throttle => ApiError::new(
                ErrorKind::Throttling,
                "Rate exceeded (fault injected by the emulator)",
            ),
            FailKind::ServerError => ApiError::new(
                ErrorKind::Internal,
                "Internal server error (fault injected by the emulator)",
            ),
            FailKind::AccessDenied => ApiError::new(
                ErrorKind::AccessDenied,
                "Access denied (fault injected by the emulator)",
            ),
        }));
    }
    rules.retain(|r| r.remaining != Some(0));
    (latency, error)
}

fn bad_request(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({ "error": message.into() })),
    )
        .into_response()
}

fn parse_json(body: &Bytes) -> Result<Value, String> {
    serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))
}

/// Body: one fault spec or a list of them.
async fn add_faults(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let value = match parse_json(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(e),
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
        if s.operation != "*" && Op::from_name(&s.operation).is_none() {
            return bad_request(format!(
                "unknown operation {:?} (use an operation name such as CreateTimelineEvent, or *)",
                s.operation
            ));
        }
        if s.fail.is_none() && s.latency_ms.unwrap_or(0) == 0 {
            return bad_request(
                "a fault needs \"fail\" (throttle | server-error | access-denied) or \"latency_ms\"",
            );
        }
        if s.count == Some(0) {
            return bad_request("count must be at least 1 (omit it for \"until cleared\")");
        }
        new_rules.push(FaultRule {
            operation: s.operation,
            fail: s.fail,
            remaining: s.count,
            latency_ms: s.latency_ms.unwrap_or(0),
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

fn config_json(app: &App) -> Value {
    let t = lock(&app.targets);
    json!({
        "account": app.account,
        "region": app.region,
        "event_target": t.event,
        "runbook_target": t.runbook,
    })
}

/// Body: `{"event_target": url|null, "runbook_target": url|null}`; a key
/// left out is left unchanged, `null` turns that delivery off.
async fn set_config(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let Ok(Value::Object(map)) = parse_json(&body) else {
        return bad_request("body must be a JSON object");
    };
    let mut updates = Vec::new();
    for (key, value) in map {
        if key != "event_target" && key != "runbook_target" {
            return bad_request(format!("unknown setting {key:?}"));
        }
        let url = match value {
            Value::Null => None,
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => {
                if let Err(e) = check_target(&s) {
                    return bad_request(e);
                }
                Some(s)
            }
            _ => return bad_request(format!("{key} must be a URL string or null")),
        };
        updates.push((key, url));
    }
    {
        let mut t = lock(&app.targets);
        for (key, url) in updates {
            if key == "event_target" {
                t.event = url;
            } else {
                t.runbook = url;
            }
        }
    }
    axum::Json(config_json(&app)).into_response()
}

async fn get_config(State(app): State<Arc<App>>) -> Response {
    axum::Json(config_json(&app)).into_response()
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

async fn deliveries(State(app): State<Arc<App>>) -> Response {
    axum::Json(json!({ "deliveries": *lock(&app.deliveries) })).into_response()
}

/// Body: `{"incidentRecordArn": arn, "minutes": n}` (n from 1 to 525600):
/// the incident's creation time moves n minutes into the past.
async fn age_incident(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let value = match parse_json(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(e),
    };
    let Some(arn) = value.get("incidentRecordArn").and_then(Value::as_str) else {
        return bad_request("incidentRecordArn (an incident record ARN) is required");
    };
    let Some(minutes) = value
        .get("minutes")
        .and_then(Value::as_i64)
        .filter(|m| (1..=525_600).contains(m))
    else {
        return bad_request("minutes must be a whole number from 1 to 525600 (a year)");
    };
    if !lock(&app.store).age_incident(arn, minutes) {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "error": format!("no incident record {arn}") })),
        )
            .into_response();
    }
    axum::Json(json!({ "incidentRecordArn": arn, "agedMinutes": minutes })).into_response()
}

/// Forgets every plan, incident, tag and token, call count, fault and
/// delivery record. Delivery targets are configuration and stay.
async fn reset(State(app): State<Arc<App>>) -> Response {
    *lock(&app.store) = crate::store::Store::default();
    lock(&app.calls).clear();
    lock(&app.faults).clear();
    lock(&app.deliveries).clear();
    axum::Json(json!({ "reset": true })).into_response()
}

async fn health() -> Response {
    axum::Json(json!({ "ok": true })).into_response()
}
