//! PagerDuty as the responder's incident source and sink (SPEC §11, §13), over
//! its REST API: `GET /incidents/{id}`, `GET` and `POST
//! /incidents/{id}/notes`, and `GET /incidents` (the follow-up sweep's open
//! incidents, [`PagerDuty::open_incidents`]), with PagerDuty's headers (`Authorization: Token
//! token=…`, `From`, `Accept: application/vnd.pagerduty+json;version=2`).
//! The token is read from Secrets Manager once per process (again after
//! PagerDuty answers 401, so a rotated token is taken up), and never logged.
//!
//! Exactly once: PagerDuty takes no client token, so each note ends with a
//! marker line derived from the pipeline's client token
//! ([`support_plans_domain::pagerduty::with_marker`]), and a note is posted
//! only when no note of the incident carries its marker yet.
//!
//! Failures: 429 (after `Retry-After`, else `ratelimit-reset`, seconds),
//! 5xx, timeouts and connection errors are retried here with backoff, a
//! bounded number of times and within [`OPERATION_TIMEOUT`] for the whole
//! port call (so the responder's deadlines hold, [`crate::deadlines`]), then
//! [`PortError::Retry`]; any other 4xx (401, 403, 404, 400) is
//! [`PortError::Refused`], never retried.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use aws_sdk_secretsmanager::error::DisplayErrorContext;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Bytes;
use hyper::http::{HeaderMap, Method, Request, StatusCode, header};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jiff::Timestamp;
use serde_json::{Value, json};
use support_plans_domain::impact::PriorityImpacts;
use support_plans_domain::matching::PagerDutyService;
use support_plans_domain::pagerduty::{self as pd, PagerDutyIncident};
use support_plans_domain::pipeline::{IncidentId, ReportedIncident};
use support_plans_domain::ports::{IncidentSink, IncidentSource, PortError};
use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::deadlines::{ATTEMPT_TIMEOUT, OPERATION_TIMEOUT};
use crate::sdk::{CONNECT_TIMEOUT, INITIAL_BACKOFF, MAX_ATTEMPTS};

/// PagerDuty's REST API, as `PAGERDUTY_URL` defaults to.
pub const DEFAULT_URL: &str = "https://api.pagerduty.com";

/// The longest answer read (a list of notes: at most 2,000 notes an incident).
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// Another attempt is not started with less than this left of the call's budget.
const MIN_ATTEMPT: Duration = Duration::from_secs(1);

/// How the follow-up sweep lists PagerDuty's open incidents: `limit`
/// incidents a page (PagerDuty's most: 100), at most `pages` pages a sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub limit: u32,
    pub pages: u32,
}

/// What [`IncidentSource::open_since`] reads: up to 1,000 open incidents a
/// sweep, in ten calls at most.
pub const PAGING: Paging = Paging {
    limit: 100,
    pages: 10,
};

/// The open incidents of a window, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenIncidents {
    /// Their PagerDuty ids, each once.
    pub ids: Vec<String>,
    /// The window holds more than [`Paging::pages`] pages: the newest were not read.
    pub more: bool,
}

/// What the adapter is configured with (the responder's `PAGERDUTY_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagerDutyConfig {
    /// The REST base, like `https://api.pagerduty.com` (no trailing slash).
    pub url: String,
    /// The Secrets Manager secret holding the REST API token.
    pub token_secret: String,
    /// The `From` header: the e-mail of a PagerDuty user of the account.
    pub from: String,
    pub impacts: PriorityImpacts,
}

/// The REST API token; never shown.
#[derive(Clone)]
struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The adapter: cheap to clone, one token and one connection pool per process.
#[derive(Debug, Clone)]
pub struct PagerDuty {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    base: String,
    from: String,
    impacts: PriorityImpacts,
    secrets: aws_sdk_secretsmanager::Client,
    token_secret: String,
    /// Read on first use and kept; forgotten on a 401 (an empty or
    /// unreadable secret is read again next time).
    token: Mutex<Option<Arc<Token>>>,
    /// Built on first use: the platform's roots are read then, not at init.
    client: OnceCell<HttpClient>,
}

/// One failed attempt (or call), as the retry loop sees it.
#[derive(Debug)]
enum Failure {
    /// PagerDuty answered a 4xx other than 429: the same on every try.
    Refused { status: Option<u16>, message: String },
    /// 429, 5xx, a timeout, a connection that failed; `wait` when PagerDuty said how long.
    Retry { message: String, wait: Option<Duration> },
}

impl Failure {
    fn retry(message: impl Into<String>) -> Self {
        Self::Retry {
            message: message.into(),
            wait: None,
        }
    }

    fn refused(message: impl Into<String>) -> Self {
        Self::Refused {
            status: None,
            message: message.into(),
        }
    }

    fn into_port(self, what: &str) -> PortError {
        match self {
            Self::Refused { message, .. } => PortError::Refused(format!("PagerDuty {what}: {message}")),
            Self::Retry { message, .. } => PortError::Retry(format!("PagerDuty {what}: {message}")),
        }
    }
}

/// A 2xx answer's JSON.
type Answer = Result<Value, Failure>;

impl PagerDuty {
    /// The adapter from its configuration and the SDK configuration (for
    /// Secrets Manager); no request is made.
    pub fn new(config: PagerDutyConfig, sdk: &aws_config::SdkConfig) -> Self {
        Self::with_secrets(config, aws_sdk_secretsmanager::Client::new(sdk))
    }

    pub fn with_secrets(config: PagerDutyConfig, secrets: aws_sdk_secretsmanager::Client) -> Self {
        Self {
            inner: Arc::new(Inner {
                base: config.url.trim_end_matches('/').to_owned(),
                from: config.from,
                impacts: config.impacts,
                secrets,
                token_secret: config.token_secret,
                token: Mutex::default(),
                client: OnceCell::new(),
            }),
        }
    }

    /// The token, read from its secret the first time. An empty secret is
    /// refused (the operator has not put the token yet), and read again on
    /// the next call.
    async fn token(&self) -> Result<Arc<Token>, Failure> {
        let inner = &self.inner;
        if let Some(token) = lock(&inner.token).clone() {
            return Ok(token);
        }
        let out = inner
            .secrets
            .get_secret_value()
            .secret_id(&inner.token_secret)
            .send()
            .await
            .map_err(|e| {
                let permanent = crate::failure::is_permanent(&e);
                let message = format!(
                    "reading the token from the secret PAGERDUTY_TOKEN_SECRET_ARN ({}): {}",
                    inner.token_secret,
                    DisplayErrorContext(e)
                );
                if permanent {
                    Failure::refused(message)
                } else {
                    Failure::retry(message)
                }
            })?;
        let token = out.secret_string().map(str::trim).unwrap_or_default();
        if token.is_empty() || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Failure::refused(format!(
                "the secret PAGERDUTY_TOKEN_SECRET_ARN ({}) holds no PagerDuty REST API token yet: put one with `aws secretsmanager put-secret-value`",
                inner.token_secret
            )));
        }
        let token = Arc::new(Token(token.to_owned()));
        *lock(&inner.token) = Some(token.clone());
        Ok(token)
    }

    /// PagerDuty refused `token` (401): the next call reads the secret again.
    fn forget(&self, token: &Arc<Token>) {
        let mut kept = lock(&self.inner.token);
        if kept.as_ref().is_some_and(|k| Arc::ptr_eq(k, token)) {
            *kept = None;
        }
    }

    fn client(&self) -> Result<&HttpClient, Failure> {
        self.inner.client.get_or_try_init_sync()
    }

    /// One request, one attempt, within `deadline` (and [`ATTEMPT_TIMEOUT`]).
    async fn attempt(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        token: &Arc<Token>,
        deadline: Instant,
    ) -> Answer {
        let client = self.client()?;
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.inner.base))
            .header(header::AUTHORIZATION, format!("Token token={}", token.0))
            .header(header::ACCEPT, "application/vnd.pagerduty+json;version=2")
            .header(header::CONTENT_TYPE, "application/json");
        if body.is_some() {
            request = request.header(header::FROM, &self.inner.from);
        }
        let bytes = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let request = request
            .body(Full::new(bytes))
            .map_err(|e| Failure::refused(format!("the request cannot be built: {e}")))?;
        let left = deadline.saturating_duration_since(Instant::now());
        let limit = left.min(ATTEMPT_TIMEOUT);
        let exchange = async {
            let response = client
                .request(request)
                .await
                .map_err(|e| Failure::retry(format!("{path}: {}", connection_error(&e))))?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|e| Failure::retry(format!("{path}: reading the answer: {e}")))?
                .to_bytes();
            Ok::<_, Failure>((status, headers, body))
        };
        let (status, headers, body) = tokio::time::timeout(limit, exchange)
            .await
            .map_err(|_| Failure::retry(format!("{path}: no answer within {} ms", limit.as_millis())))??;
        let answer = classify(path, status, &headers, &body);
        if let Err(Failure::Refused {
            status: Some(401), ..
        }) = &answer
        {
            self.forget(token);
        }
        answer
    }

    /// `op` tried until it succeeds, is refused, or [`MAX_ATTEMPTS`] or the
    /// call's budget (`deadline`) run out; waits as PagerDuty says (429), or
    /// backs off exponentially from [`INITIAL_BACKOFF`].
    async fn with_retries<T, F, Fut>(&self, what: &str, deadline: Instant, mut op: F) -> Result<T, Failure>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let mut attempt = 1;
        loop {
            let (message, wait) = match op().await {
                Err(Failure::Retry { message, wait }) => (message, wait),
                done => return done,
            };
            let wait = wait.unwrap_or(INITIAL_BACKOFF * 2u32.saturating_pow(attempt - 1));
            let left = deadline.saturating_duration_since(Instant::now());
            if attempt >= MAX_ATTEMPTS || wait + MIN_ATTEMPT > left {
                return Err(Failure::Retry {
                    message: format!("{message} (gave up after {attempt} attempt(s))"),
                    wait: None,
                });
            }
            tracing::warn!(what, attempt, wait_ms = wait.as_millis() as u64, error = %message, "PagerDuty call failed; retrying");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// The incident, `None` when PagerDuty does not know it (404).
    #[tracing::instrument(skip(self))]
    pub async fn incident(&self, id: &str) -> Result<Option<PagerDutyIncident>, PortError> {
        let deadline = Instant::now() + OPERATION_TIMEOUT;
        let what = "GET /incidents/{id}";
        let path = format!("/incidents/{}", pd::incident_id(id).map_err(PortError::Refused)?);
        let answer = async {
            let token = &within(deadline, self.token()).await?;
            self.with_retries(what, deadline, || {
                self.attempt(Method::GET, &path, None, token, deadline)
            })
            .await
        }
        .await;
        match answer {
            Ok(v) => incident(&v).map(Some).map_err(|e| e.into_port(what)),
            Err(Failure::Refused {
                status: Some(404), ..
            }) => Ok(None),
            Err(e) => Err(e.into_port(what)),
        }
    }

    /// The `triggered` and `acknowledged` incidents created from `since` to
    /// `until` (`GET /incidents`, PagerDuty's default order: oldest first),
    /// page after page while PagerDuty says `more`, at most `paging.pages`
    /// pages (then [`OpenIncidents::more`], and a warning). The whole listing is
    /// one call of the adapter's budget ([`OPERATION_TIMEOUT`]); each page is
    /// retried as every other call (429, 5xx), a refusal (401, 403, 400) fails it.
    ///
    /// Offset paging over a list that changes: an incident resolved while
    /// the pages are read shifts the later ones by one, so one open incident
    /// may be missed by this sweep; the next sweep lists it.
    #[tracing::instrument(skip(self))]
    pub async fn open_incidents(
        &self,
        since: Timestamp,
        until: Timestamp,
        paging: Paging,
    ) -> Result<OpenIncidents, PortError> {
        let deadline = Instant::now() + OPERATION_TIMEOUT;
        let what = "GET /incidents";
        let limit = paging.limit.clamp(1, 100);
        let window = format!(
            "statuses%5B%5D=triggered&statuses%5B%5D=acknowledged&since={}&until={}&limit={limit}",
            iso_seconds(since),
            iso_seconds(until)
        );
        let mut open = OpenIncidents {
            ids: Vec::new(),
            more: false,
        };
        let mut seen = std::collections::HashSet::new();
        let listed = async {
            let token = &within(deadline, self.token()).await?;
            for page in 0..paging.pages {
                let path = format!("/incidents?{window}&offset={}", page * limit);
                let answer = self
                    .with_retries(what, deadline, || {
                        self.attempt(Method::GET, &path, None, token, deadline)
                    })
                    .await?;
                let (ids, more) = incident_ids(&answer)?;
                for id in ids {
                    if seen.insert(id.clone()) {
                        open.ids.push(id);
                    }
                }
                if !more {
                    return Ok(());
                }
            }
            open.more = true;
            Ok::<_, Failure>(())
        }
        .await;
        listed.map_err(|e| e.into_port(what))?;
        if open.more {
            tracing::warn!(
                pages = paging.pages,
                read = open.ids.len(),
                %since,
                "PagerDuty has more open incidents in the sweep's window than one sweep reads; the newest were not read"
            );
        }
        Ok(open)
    }

    /// Posts `text` with its marker unless a note of the incident carries
    /// that marker already; `true` when it posted.
    #[tracing::instrument(skip(self, text), fields(chars = text.chars().count()))]
    pub async fn post_note(&self, id: &str, text: &str, client_token: &str) -> Result<bool, PortError> {
        let deadline = Instant::now() + OPERATION_TIMEOUT;
        let what = "note";
        let path = format!(
            "/incidents/{}/notes",
            pd::incident_id(id).map_err(PortError::Refused)?
        );
        let content = pd::with_marker(text, client_token);
        let body = json!({"note": {"content": content}});
        let posted = async {
            let token = &within(deadline, self.token()).await?;
            // The list and the post are tried again together: after a post
            // whose answer was lost, the list shows whether it was taken.
            let (path, body) = (&path, &body);
            self.with_retries(what, deadline, || async move {
                let notes = self.attempt(Method::GET, path, None, token, deadline).await?;
                if notes_of(&notes)?
                    .iter()
                    .any(|c| pd::carries_marker(c, client_token))
                {
                    return Ok(false);
                }
                self.attempt(Method::POST, path, Some(body), token, deadline)
                    .await?;
                Ok(true)
            })
            .await
        }
        .await
        .map_err(|e| e.into_port(what))?;
        if !posted {
            tracing::info!(
                incident = id,
                client_token,
                "note already posted (its marker is there)"
            );
        }
        Ok(posted)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `fut` within what is left of the call's budget.
async fn within<T>(deadline: Instant, fut: impl Future<Output = Result<T, Failure>>) -> Result<T, Failure> {
    tokio::time::timeout_at(deadline, fut)
        .await
        .unwrap_or_else(|_| Err(Failure::retry("the PagerDuty token was not read in time")))
}

trait GetOrTryInitSync<T> {
    fn get_or_try_init_sync(&self) -> Result<&T, Failure>;
}

impl GetOrTryInitSync<HttpClient> for OnceCell<HttpClient> {
    /// The client, built once; the platform's roots are read here.
    fn get_or_try_init_sync(&self) -> Result<&HttpClient, Failure> {
        if let Some(c) = self.get() {
            return Ok(c);
        }
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| Failure::retry(format!("loading the platform's root certificates: {e}")))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(https);
        // Another task may have set it meanwhile: either client will do.
        let _ = self.set(client);
        self.get()
            .ok_or_else(|| Failure::retry("the HTTP client could not be kept"))
    }
}

/// Why a request got no answer, without the request (it carries the token).
fn connection_error(e: &hyper_util::client::legacy::Error) -> String {
    let mut out = if e.is_connect() {
        "connection failed".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// A PagerDuty answer as success, retry or refusal (with PagerDuty's message).
fn classify(path: &str, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Answer {
    if status.is_success() {
        return serde_json::from_slice(body)
            .map_err(|e| Failure::retry(format!("{path}: {status} with a body that is not JSON: {e}")));
    }
    let message = format!("{path}: {} {}", status.as_u16(), error_text(body));
    if status == StatusCode::TOO_MANY_REQUESTS {
        let wait = seconds(headers, "retry-after").or_else(|| seconds(headers, "ratelimit-reset"));
        return Err(Failure::Retry { message, wait });
    }
    if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
        return Err(Failure::retry(message));
    }
    Err(Failure::Refused {
        status: Some(status.as_u16()),
        message,
    })
}

/// A header of whole seconds (`Retry-After: 2`, `ratelimit-reset: 30`).
fn seconds(headers: &HeaderMap, name: &str) -> Option<Duration> {
    headers
        .get(name)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// PagerDuty's error body `{"error": {"message", "code", "errors"}}`, in one line.
fn error_text(body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let e = &v["error"];
    let mut out = e["message"].as_str().unwrap_or("(no error message)").to_owned();
    if let Some(code) = e["code"].as_u64() {
        out.push_str(&format!(" (code {code})"));
    }
    if let Some(errors) = e["errors"].as_array() {
        let details: Vec<&str> = errors.iter().filter_map(Value::as_str).collect();
        if !details.is_empty() {
            out.push_str(": ");
            out.push_str(&details.join("; "));
        }
    }
    support_plans_domain::validate::printable(&out, 500)
}

/// The incident of `GET /incidents/{id}`'s answer.
fn incident(v: &Value) -> Result<PagerDutyIncident, Failure> {
    let i = &v["incident"];
    let text = |k: &str| i[k].as_str().map(str::to_owned);
    let id = text("id").ok_or_else(|| Failure::refused("the answer names no incident id"))?;
    let created_at: Timestamp = i["created_at"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| Failure::refused("the incident's created_at is not a timestamp"))?;
    let priority = i["priority"]
        .get("name")
        .or_else(|| i["priority"].get("summary"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let service = i["service"]["id"].as_str().map(|sid| PagerDutyService {
        id: sid.to_owned(),
        name: i["service"]
            .get("name")
            .or_else(|| i["service"].get("summary"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    });
    Ok(PagerDutyIncident {
        title: text("title").or_else(|| text("summary")).unwrap_or_default(),
        resolved: i["status"].as_str() == Some("resolved"),
        created_at,
        priority,
        urgency: text("urgency"),
        service,
        html_url: text("html_url"),
        id,
    })
}

/// An instant as `since`/`until` take it: ISO 8601, UTC, whole seconds
/// (PagerDuty's own `created_at` has no fraction; `until` rounded down
/// still includes an incident created in its last second).
fn iso_seconds(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The incident ids of one `GET /incidents` page, and its `more`. An id
/// that is no PagerDuty id is left out (and logged), never posted to.
fn incident_ids(v: &Value) -> Result<(Vec<String>, bool), Failure> {
    let incidents = v["incidents"]
        .as_array()
        .ok_or_else(|| Failure::retry("the list of incidents is not a list"))?;
    let ids = incidents
        .iter()
        .filter_map(|i| {
            let id = i["id"].as_str().unwrap_or_default();
            match pd::incident_id(id) {
                Ok(id) => Some(id.to_owned()),
                Err(e) => {
                    tracing::warn!(error = %e, "listed PagerDuty incident skipped");
                    None
                }
            }
        })
        .collect();
    Ok((ids, v["more"].as_bool().unwrap_or(false)))
}

/// The contents of `GET /incidents/{id}/notes`'s notes.
fn notes_of(v: &Value) -> Result<Vec<&str>, Failure> {
    let notes = v["notes"]
        .as_array()
        .ok_or_else(|| Failure::retry("the list of notes is not a list"))?;
    Ok(notes.iter().filter_map(|n| n["content"].as_str()).collect())
}

/// The PagerDuty incident an id names.
fn pagerduty_id(id: &IncidentId) -> Result<&str, PortError> {
    match id {
        IncidentId::External { kind, id } if *kind == pd::KIND => Ok(id),
        other => Err(PortError::Refused(format!("{other} is not a PagerDuty incident"))),
    }
}

impl IncidentSource for PagerDuty {
    async fn read(&self, id: &IncidentId) -> Result<Option<ReportedIncident>, PortError> {
        let incident = self.incident(pagerduty_id(id)?).await?;
        Ok(incident.map(|i| i.reported(&self.inner.impacts)))
    }

    /// The open (`triggered`, `acknowledged`) incidents created since
    /// `since`, up to now, as [`PAGING`] reads them.
    async fn open_since(&self, since: Timestamp) -> Result<Vec<IncidentId>, PortError> {
        let open = self.open_incidents(since, Timestamp::now(), PAGING).await?;
        Ok(open.ids.iter().map(|id| pd::id(id)).collect())
    }
}

impl IncidentSink for PagerDuty {
    /// [`pd::NOTE_LIMIT`] less the marker line the note ends with.
    fn note_limit(&self, _incident: &IncidentId) -> usize {
        pd::NOTE_TEXT_LIMIT
    }

    /// PagerDuty incidents have no list of related items.
    fn takes_links(&self, _incident: &IncidentId) -> bool {
        false
    }

    async fn note(
        &self,
        id: &IncidentId,
        text: &str,
        _at: Timestamp,
        client_token: &str,
    ) -> Result<(), PortError> {
        self.post_note(pagerduty_id(id)?, text, client_token)
            .await
            .map(|_| ())
    }

    /// PagerDuty incidents have no list of related items to add a portal
    /// to ([`Self::takes_links`]: the pipeline asks for none): nothing to
    /// call. The portals are in each plan's note, under "How to request support".
    async fn link(
        &self,
        _id: &IncidentId,
        _title: &str,
        _url: &str,
        _client_token: &str,
    ) -> Result<(), PortError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn answers_are_told_apart_as_pagerduty_documents_them() {
        let body = br#"{"error": {"message": "Rate Limit Exceeded", "code": 2020}}"#;
        let h = headers(&[("retry-after", "2"), ("ratelimit-reset", "30")]);
        match classify("/x", StatusCode::TOO_MANY_REQUESTS, &h, body) {
            Err(Failure::Retry { wait, message }) => {
                assert_eq!(wait, Some(Duration::from_secs(2)));
                assert!(
                    message.contains("429 Rate Limit Exceeded (code 2020)"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
        let h = headers(&[("ratelimit-reset", "7")]);
        assert!(matches!(
            classify("/x", StatusCode::TOO_MANY_REQUESTS, &h, b""),
            Err(Failure::Retry { wait: Some(w), .. }) if w == Duration::from_secs(7)
        ));
        assert!(matches!(
            classify("/x", StatusCode::BAD_GATEWAY, &HeaderMap::new(), b""),
            Err(Failure::Retry { wait: None, .. })
        ));
        for status in [401, 403, 404, 400] {
            let status = StatusCode::from_u16(status).unwrap();
            assert!(
                matches!(classify("/x", status, &HeaderMap::new(), b"{}"), Err(Failure::Refused { status: Some(s), .. }) if s == status.as_u16()),
                "{status}"
            );
        }
        assert!(classify("/x", StatusCode::OK, &HeaderMap::new(), br#"{"notes": []}"#).is_ok());
    }

    #[test]
    fn a_page_of_incidents_gives_its_ids_and_more() {
        let page = json!({"incidents": [{"id": "PT4KHLK"}, {"id": "../x"}, {"id": "Q1ABC"}],
            "limit": 100, "offset": 0, "more": true, "total": null});
        let (ids, more) = incident_ids(&page).unwrap();
        assert_eq!(
            ids,
            ["PT4KHLK", "Q1ABC"],
            "an id that is no PagerDuty id is left out"
        );
        assert!(more);
        assert!(!incident_ids(&json!({"incidents": []})).unwrap().1);
        assert!(matches!(
            incident_ids(&json!({"error": {}})),
            Err(Failure::Retry { .. })
        ));
        let t: Timestamp = "2026-03-01T12:00:07.999Z".parse().unwrap();
        assert_eq!(iso_seconds(t), "2026-03-01T12:00:07Z");
    }

    #[test]
    fn the_token_never_shows() {
        assert_eq!(
            format!("{:?}", Token("y_NbAkKc66ryYTWUXYEu".into())),
            "Token(<redacted>)"
        );
    }
}
