//! The REST calls served, in PagerDuty's request and response shapes:
//! `POST /services`, `GET /priorities`, `GET`/`POST /incidents`,
//! `GET`/`PUT /incidents/{id}`, `GET`/`POST /incidents/{id}/notes`.
//! Every call passes the same gate first: counted, token checked (401),
//! injected faults, then the `From` header where PagerDuty requires it.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use crate::error::PdError;
use crate::list::ListQuery;
use crate::store::{Links, MAX_NOTES, NewIncident, Note, PRIORITIES};
use crate::util::{now_seconds, pd_id};
use crate::{App, admin, lock, webhook};

/// The operations, by the names fault rules and call counts use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    CreateService,
    ListPriorities,
    CreateIncident,
    ListIncidents,
    GetIncident,
    UpdateIncident,
    ListNotes,
    CreateNote,
}

impl Op {
    pub const ALL: [Op; 8] = [
        Op::CreateService,
        Op::ListPriorities,
        Op::CreateIncident,
        Op::ListIncidents,
        Op::GetIncident,
        Op::UpdateIncident,
        Op::ListNotes,
        Op::CreateNote,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::CreateService => "CreateService",
            Op::ListPriorities => "ListPriorities",
            Op::CreateIncident => "CreateIncident",
            Op::ListIncidents => "ListIncidents",
            Op::GetIncident => "GetIncident",
            Op::UpdateIncident => "UpdateIncident",
            Op::ListNotes => "ListNotes",
            Op::CreateNote => "CreateNote",
        }
    }

    /// PagerDuty requires `From` (the acting user's e-mail) on these.
    fn needs_from(self) -> bool {
        matches!(self, Op::CreateIncident | Op::UpdateIncident | Op::CreateNote)
    }
}

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/services", post(create_service))
        .route("/priorities", get(list_priorities))
        .route("/incidents", get(list_incidents).post(create_incident))
        .route("/incidents/{id}", get(get_incident).put(update_incident))
        .route("/incidents/{id}/notes", get(list_notes).post(create_note))
}

/// Count, authenticate, apply faults, check `From`; the `From` address on success.
fn gate(app: &App, op: Op, headers: &HeaderMap) -> Result<String, PdError> {
    *lock(&app.calls).entry(op.name()).or_insert(0) += 1;
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let token = authorization.strip_prefix("Token token=").unwrap_or_default();
    if !constant_time_eq(token.as_bytes(), app.token.as_bytes()) {
        return Err(PdError::unauthorized());
    }
    if let Some(e) = admin::take_fault(app, op) {
        return Err(e);
    }
    if !op.needs_from() {
        return Ok(String::new());
    }
    let from = headers
        .get("from")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or_default();
    if from.is_empty() {
        return Err(PdError::invalid(
            "The From header is required: the email address of a valid user associated with the account making the request",
        ));
    }
    if !is_email(from) {
        return Err(PdError::coded(1008, "Requester User Not Found")
            .detail(format!("From {from:?} is not an email address")));
    }
    Ok(from.to_string())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn is_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// `self`/`html_url` point back at the stand-in, as the caller reached it.
fn links(headers: &HeaderMap) -> Links {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    Links {
        base: format!("http://{host}"),
    }
}

/// The body's wrapped entity (`{"incident": {...}}`) as an object.
fn wrapped(body: &Bytes, key: &str) -> Result<Map<String, Value>, PdError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| PdError::invalid(format!("The request body is not valid JSON: {e}")))?;
    match v.get(key) {
        Some(Value::Object(m)) => Ok(m.clone()),
        _ => Err(PdError::invalid(format!(
            "{key} is required and must be an object"
        ))),
    }
}

fn string_field(m: &Map<String, Value>, key: &str) -> Result<Option<String>, PdError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(PdError::invalid(format!("{key} must be a string"))),
    }
}

/// A `{"id", "type": kind}` reference's id.
fn reference_id(m: &Map<String, Value>, key: &str, kind: &str) -> Result<Option<String>, PdError> {
    let Some(v) = m.get(key).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let id = v.get("id").and_then(Value::as_str);
    let t = v.get("type").and_then(Value::as_str);
    match (id, t) {
        (Some(id), Some(t)) if t == kind || t == kind.trim_end_matches("_reference") => {
            Ok(Some(id.to_string()))
        }
        _ => Err(PdError::invalid(format!(
            "{key} must be a reference: {{\"id\": ..., \"type\": \"{kind}\"}}"
        ))),
    }
}

fn priority_index(id: &str) -> Result<usize, PdError> {
    PRIORITIES
        .iter()
        .position(|(pid, _, _)| *pid == id)
        .ok_or_else(|| PdError::coded(1020, "Invalid Priority").detail(format!("No priority with id {id:?}")))
}

fn urgency(m: &Map<String, Value>) -> Result<Option<String>, PdError> {
    match string_field(m, "urgency")? {
        Some(u) if u == "high" || u == "low" => Ok(Some(u)),
        Some(u) => Err(PdError::invalid(format!(
            "urgency must be high or low, not {u:?}"
        ))),
        None => Ok(None),
    }
}

fn json_response(status: StatusCode, v: Value) -> Response {
    (status, axum::Json(v)).into_response()
}

fn respond(r: Result<Response, PdError>) -> Response {
    r.unwrap_or_else(IntoResponse::into_response)
}

async fn create_service(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    respond((|| {
        gate(&app, Op::CreateService, &headers)?;
        let s = wrapped(&body, "service")?;
        let name = string_field(&s, "name")?
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| PdError::invalid("Name can't be blank"))?;
        if lock(&app.store).services.values().any(|x| x.name == name) {
            return Err(PdError::invalid("Name has already been taken"));
        }
        let service = lock(&app.store).add_service(name, string_field(&s, "description")?);
        Ok(json_response(
            StatusCode::CREATED,
            json!({ "service": links(&headers).service(&service) }),
        ))
    })())
}

async fn list_priorities(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    respond((|| {
        gate(&app, Op::ListPriorities, &headers)?;
        let l = links(&headers);
        let priorities: Vec<Value> = (0..PRIORITIES.len()).map(|i| l.priority(i)).collect();
        Ok(json_response(
            StatusCode::OK,
            json!({ "priorities": priorities, "limit": 25, "offset": 0, "more": false, "total": null }),
        ))
    })())
}

async fn create_incident(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    respond((|| {
        gate(&app, Op::CreateIncident, &headers)?;
        let m = wrapped(&body, "incident")?;
        if string_field(&m, "type")?.as_deref() != Some("incident") {
            return Err(PdError::invalid("incident.type must be \"incident\""));
        }
        let title = string_field(&m, "title")?
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| PdError::invalid("incident.title is required"))?;
        let service_id = reference_id(&m, "service", "service_reference")?
            .ok_or_else(|| PdError::invalid("incident.service is required"))?;
        let priority = reference_id(&m, "priority", "priority_reference")?
            .map(|id| priority_index(&id))
            .transpose()?;
        let new = NewIncident {
            title,
            service_id,
            priority,
            urgency: urgency(&m)?,
            incident_key: string_field(&m, "incident_key")?,
            body: m.get("body").filter(|b| b.is_object()).cloned(),
        };
        let l = links(&headers);
        let (rendered, data) = {
            let mut store = lock(&app.store);
            let incident = store.create_incident(new)?;
            (
                l.incident(&incident, &store.services),
                l.webhook_incident(&incident, &store.services),
            )
        };
        // After the answer is built, never in its way: PagerDuty sends the
        // webhook on its own schedule.
        webhook::trigger(&app, data);
        Ok(json_response(
            StatusCode::CREATED,
            json!({ "incident": rendered }),
        ))
    })())
}

/// listIncidents: the incidents the query selects, oldest first, one page
/// of them with classic pagination (`limit`, `offset`, `more`, `total`).
async fn list_incidents(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        gate(&app, Op::ListIncidents, &headers)?;
        let q = ListQuery::parse(query.as_deref(), now_seconds())?;
        let l = links(&headers);
        let store = lock(&app.store);
        let page = q.page(store.incidents.values());
        let incidents: Vec<Value> = page
            .incidents
            .iter()
            .map(|i| l.incident(i, &store.services))
            .collect();
        Ok(json_response(
            StatusCode::OK,
            json!({
                "incidents": incidents, "limit": q.limit, "offset": q.offset, "more": page.more,
                "total": q.total.then_some(page.total),
            }),
        ))
    })())
}

async fn get_incident(State(app): State<Arc<App>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    respond((|| {
        gate(&app, Op::GetIncident, &headers)?;
        let mut store = lock(&app.store);
        let i = store.incident_mut(&id)?.clone();
        Ok(json_response(
            StatusCode::OK,
            json!({ "incident": links(&headers).incident(&i, &store.services) }),
        ))
    })())
}

async fn update_incident(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond((|| {
        gate(&app, Op::UpdateIncident, &headers)?;
        let m = wrapped(&body, "incident")?;
        match string_field(&m, "type")?.as_deref() {
            Some("incident" | "incident_reference") => {}
            _ => {
                return Err(PdError::invalid(
                    "incident.type must be \"incident\" or \"incident_reference\"",
                ));
            }
        }
        let status = match string_field(&m, "status")? {
            Some(s) if ["resolved", "acknowledged", "triggered"].contains(&s.as_str()) => Some(s),
            Some(s) => {
                return Err(PdError::coded(1003, "Invalid Status Provided").detail(format!(
                    "status must be resolved, acknowledged or triggered, not {s:?}"
                )));
            }
            None => None,
        };
        let priority = reference_id(&m, "priority", "priority_reference")?
            .map(|pid| priority_index(&pid))
            .transpose()?;
        let title = string_field(&m, "title")?;
        let urgency = urgency(&m)?;
        let mut store = lock(&app.store);
        let i = store.incident_mut(&id)?;
        let now = now_seconds();
        if let Some(s) = status
            && s != i.status
        {
            i.resolved_at = (s == "resolved").then_some(now);
            i.status = s;
            i.last_status_change_at = now;
        }
        if let Some(p) = priority {
            i.priority = Some(p);
        }
        if let Some(t) = title.filter(|t| !t.trim().is_empty()) {
            i.title = t;
        }
        if let Some(u) = urgency {
            i.urgency = u;
        }
        i.updated_at = now;
        let i = i.clone();
        Ok(json_response(
            StatusCode::OK,
            json!({ "incident": links(&headers).incident(&i, &store.services) }),
        ))
    })())
}

async fn list_notes(State(app): State<Arc<App>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    respond((|| {
        gate(&app, Op::ListNotes, &headers)?;
        let mut store = lock(&app.store);
        let l = links(&headers);
        let notes: Vec<Value> = store.incident_mut(&id)?.notes.iter().map(|n| l.note(n)).collect();
        Ok(json_response(StatusCode::OK, json!({ "notes": notes })))
    })())
}

async fn create_note(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond((|| {
        let from = gate(&app, Op::CreateNote, &headers)?;
        let m = wrapped(&body, "note")?;
        let content = string_field(&m, "content")?
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| PdError::invalid("Content can't be blank"))?;
        let chars = content.chars().count();
        if chars > app.note_limit {
            return Err(PdError::invalid(format!(
                "Content is too long (maximum is {} characters; this note has {chars})",
                app.note_limit
            )));
        }
        let mut store = lock(&app.store);
        let i = store.incident_mut(&id)?;
        if i.notes.len() >= MAX_NOTES {
            return Err(PdError::coded(2019, "Product Limit Reached")
                .detail(format!("An incident can have at most {MAX_NOTES} notes")));
        }
        let note = Note {
            id: pd_id(),
            from,
            content,
            created_at: now_seconds(),
        };
        let rendered = links(&headers).note(&note);
        i.notes.push(note);
        // createIncidentNote documents 200 (not 201) for the new note.
        Ok(json_response(StatusCode::OK, json!({ "note": rendered })))
    })())
}
