//! A local emulator of AWS Systems Manager Incident Manager (`ssm-incidents`)
//! speaking its REST-JSON protocol, so the unmodified AWS SDKs and CLI work
//! against it over real HTTP. State is in memory. Optionally it delivers,
//! after each StartIncident, the CloudTrail-shaped EventBridge event and the
//! runbook payload to configured URLs. An admin API under `/_emulator/`
//! injects faults, counts calls and resets state (see README.md).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let emulator = incident_manager_emulator::spawn(Default::default()).await?;
//! println!("endpoint: {}", emulator.endpoint_url());
//! # Ok(()) }
//! ```

mod admin;
mod delivery;
mod model;
mod protocol;
mod runbook;
mod store;
mod util;
mod validate;

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{MethodFilter, on};
use serde_json::Value;
use tokio::net::TcpListener;

use crate::delivery::{CallerInfo, HttpClient, StartEvent};
use crate::protocol::{ApiError, ErrorKind, Method, Op, TAGS_PATH};
use crate::store::{Ctx, Started, Store};

pub use crate::delivery::check_target;
pub use crate::runbook::{DEFAULT_RESOURCE as RUNBOOK_RESOURCE, Runbook};

/// Largest request body read; the biggest legitimate one is far smaller.
const BODY_LIMIT: usize = 4 * 1024 * 1024;

/// Emulator settings. Targets are plain `http://` URLs; `None` turns that
/// delivery off.
#[derive(Debug, Clone)]
pub struct Config {
    pub account: String,
    pub region: String,
    /// Receives the CloudTrail-shaped EventBridge event of each StartIncident.
    pub event_target: Option<String>,
    /// Receives the runbook's payload, rendered from `runbook`, when the
    /// plan's runbook takes Incident Manager's dynamic parameters.
    pub runbook_target: Option<String>,
    /// The runbook document (template.yaml's `ResponderRunbook`) whose
    /// `aws:invokeLambdaFunction` step the runbook target receives.
    pub runbook: Option<Runbook>,
    /// One line per request on stderr.
    pub log_requests: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            account: "111122223333".to_string(),
            region: "us-east-1".to_string(),
            event_target: None,
            runbook_target: None,
            runbook: None,
            log_requests: false,
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Targets {
    event: Option<String>,
    runbook: Option<String>,
}

/// Shared state behind every route.
#[derive(Debug)]
struct App {
    account: String,
    region: String,
    log_requests: bool,
    runbook: Option<Runbook>,
    targets: Mutex<Targets>,
    store: Mutex<Store>,
    faults: Mutex<Vec<admin::FaultRule>>,
    calls: Mutex<BTreeMap<&'static str, u64>>,
    deliveries: Mutex<Vec<delivery::Record>>,
    client: HttpClient,
}

impl App {
    fn new(config: Config) -> Self {
        App {
            account: config.account,
            region: config.region,
            log_requests: config.log_requests,
            runbook: config.runbook,
            targets: Mutex::new(Targets {
                event: config.event_target,
                runbook: config.runbook_target,
            }),
            store: Mutex::new(Store::default()),
            faults: Mutex::new(Vec::new()),
            calls: Mutex::new(BTreeMap::new()),
            deliveries: Mutex::new(Vec::new()),
            client: delivery::http_client(),
        }
    }
}

/// Locks ignoring poisoning: a panicked handler must not wedge the emulator.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The emulator's routes (AWS operations and `/_emulator/`), with fresh state.
pub fn router(config: Config) -> Router {
    let app = Arc::new(App::new(config));
    let mut r = Router::new();
    let mut tags = axum::routing::MethodRouter::new();
    for op in Op::ALL {
        let filter = match op.method() {
            Method::Get => MethodFilter::GET,
            Method::Post => MethodFilter::POST,
            Method::Delete => MethodFilter::DELETE,
        };
        let handler = move |State(app): State<Arc<App>>, req: Request| handle(app, op, req);
        if op.path() == TAGS_PATH {
            tags = tags.on(filter, handler);
        } else {
            r = r.route(op.path(), on(filter, handler));
        }
    }
    let log = app.log_requests;
    let r = r
        .route(TAGS_PATH, tags)
        .merge(admin::routes())
        .fallback(unknown_operation)
        .with_state(app);
    if log {
        r.layer(middleware::from_fn(log_request))
    } else {
        r
    }
}

/// Serves the emulator on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, config: Config) -> std::io::Result<()> {
    serve_with_shutdown(listener, config, std::future::pending()).await
}

/// Serves until `shutdown` completes, then finishes in-flight requests.
pub async fn serve_with_shutdown(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = router(config).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await
}

/// An emulator serving on a free loopback port in a background task; it stops
/// when this handle is dropped. Meant for tests.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, for an SDK's `endpoint_url`.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds 127.0.0.1:0 and serves there in the background.
pub async fn spawn(config: Config) -> std::io::Result<Running> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        if let Err(e) = serve(listener, config).await {
            eprintln!("incident-manager-emulator: server stopped: {e}");
        }
    });
    Ok(Running { addr, task })
}

async fn log_request(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let line = format!("{} {}", req.method(), req.uri());
    let resp = next.run(req).await;
    let err = resp
        .headers()
        .get("x-amzn-ErrorType")
        .and_then(|v| v.to_str().ok())
        .map(|e| format!(" {e}"))
        .unwrap_or_default();
    eprintln!(
        "{} {line} -> {}{err} ({} ms)",
        util::rfc3339(util::now_ms()),
        resp.status().as_u16(),
        started.elapsed().as_millis()
    );
    resp
}

async fn unknown_operation(req: Request) -> Response {
    ApiError::new(
        ErrorKind::UnknownOperation,
        format!("No operation at {} {}", req.method(), req.uri().path()),
    )
    .into_response_with_id(&util::uuid())
}

/// One AWS operation: count it, apply injected faults, decode the input from
/// body, query string and path, run it under the state lock, then reply and
/// kick off any deliveries.
async fn handle(app: Arc<App>, op: Op, req: Request) -> Response {
    let request_id = util::uuid();
    *lock(&app.calls).entry(op.name()).or_insert(0) += 1;
    let (latency, fault) = admin::take_fault(&app, op);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    if let Some(e) = fault {
        return e.into_response_with_id(&request_id);
    }
    let (parts, body) = req.into_parts();
    let input = match read_input(op, &parts, body).await {
        Ok(v) => v,
        Err(e) => return e.into_response_with_id(&request_id),
    };
    let caller = caller_info(&app, &parts);
    let ctx = Ctx {
        account: app.account.clone(),
        region: app.region.clone(),
        caller_arn: caller.arn.clone(),
        now_ms: util::now_ms(),
    };
    let result = lock(&app.store).run(op, &ctx, &input);
    match result {
        Ok(outcome) => {
            if let Some(started) = outcome.started {
                deliver(&app, &ctx, &request_id, &caller, &input, started);
            }
            outcome.reply.into_response_with_id(&request_id)
        }
        Err(e) => e.into_response_with_id(&request_id),
    }
}

/// The operation's input as one JSON object: the body's members plus the
/// query-string and URI-label members the model binds elsewhere.
async fn read_input(op: Op, parts: &Parts, body: Body) -> Result<Value, ApiError> {
    let bytes = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|e| ApiError::validation(format!("Could not read the request body: {e}")))?;
    let mut obj = if bytes.iter().all(u8::is_ascii_whitespace) {
        serde_json::Map::new()
    } else {
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err(ApiError::validation("The request body must be a JSON object")),
            Err(e) => {
                return Err(ApiError::validation(format!(
                    "The request body is not valid JSON: {e}"
                )));
            }
        }
    };
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (util::percent_decode(k, true), util::percent_decode(v, true))
        })
        .collect();
    for (name, is_list) in op.query_members() {
        let values: Vec<&String> = query.iter().filter(|(k, _)| k == name).map(|(_, v)| v).collect();
        if let Some(first) = values.first() {
            let v = if *is_list {
                Value::from(values.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            } else {
                Value::from(first.as_str())
            };
            obj.insert((*name).to_string(), v);
        }
    }
    if op.path() == TAGS_PATH
        && let Some(label) = parts.uri.path().strip_prefix("/tags/")
    {
        obj.insert(
            "resourceArn".to_string(),
            Value::from(util::percent_decode(label, false)),
        );
    }
    Ok(Value::Object(obj))
}

/// Identity for audit members. Signatures are not checked (as in moto); the
/// access key is read from the SigV4 `Credential=` for CloudTrail only.
fn caller_info(app: &App, parts: &Parts) -> CallerInfo {
    let header = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let access_key_id = header("authorization")
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split('/').next())
        .unwrap_or("anonymous")
        .to_string();
    let source_ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "127.0.0.1".to_string(), |c| c.0.ip().to_string());
    CallerInfo {
        arn: format!(
            "arn:{}:iam::{}:user/emulator",
            store::partition_of(&app.region),
            app.account
        ),
        access_key_id,
        user_agent: header("user-agent").to_string(),
        source_ip,
    }
}

/// Spawns the deliveries StartIncident triggers; they run after the reply.
fn deliver(
    app: &Arc<App>,
    ctx: &Ctx,
    request_id: &str,
    caller: &CallerInfo,
    request: &Value,
    started: Started,
) {
    let targets = lock(&app.targets).clone();
    let mut jobs = Vec::new();
    if let Some(target) = targets.event {
        let event = delivery::cloudtrail_event(&StartEvent {
            account: &ctx.account,
            region: &ctx.region,
            time_ms: ctx.now_ms,
            request_id,
            caller,
            request,
            incident_record_arn: &started.incident_record_arn,
        });
        jobs.push((delivery::Kind::Event, target, event));
    }
    if let Some(target) = targets.runbook
        && started.created
        && let Some(action) = &started.runbook
    {
        let rendered = match &app.runbook {
            Some(r) => r.render(&delivery::runbook_parameters(
                action,
                &started.incident_record_arn,
                &started.involved_resources,
            )),
            None => Err("no runbook document is loaded (start the emulator with --runbook-template)".into()),
        };
        match rendered {
            Ok(payload) => jobs.push((delivery::Kind::Runbook, target, payload)),
            // The automation would fail to start: nothing is sent, and the
            // failure is as visible as a failed delivery.
            Err(e) => {
                let arn = &started.incident_record_arn;
                eprintln!("incident-manager-emulator: the runbook for {arn} cannot be rendered: {e}");
                lock(&app.deliveries).push(delivery::Record::not_sent(
                    delivery::Kind::Runbook,
                    &target,
                    arn,
                    format!("runbook not rendered: {e}"),
                ));
            }
        }
    }
    for (kind, target, payload) in jobs {
        let app = Arc::clone(app);
        let arn = started.incident_record_arn.clone();
        tokio::spawn(async move {
            let record = delivery::post(&app.client, kind, &target, &arn, &payload).await;
            if !record.delivered {
                eprintln!(
                    "incident-manager-emulator: {kind:?} delivery for {arn} to {target} failed after {} attempt(s): {}",
                    record.attempts,
                    record.error.as_deref().unwrap_or("unknown error")
                );
            } else if app.log_requests {
                eprintln!("incident-manager-emulator: delivered {kind:?} for {arn} to {target}");
            }
            lock(&app.deliveries).push(record);
        });
    }
}
