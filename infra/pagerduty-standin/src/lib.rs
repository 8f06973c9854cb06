//! A local stand-in for PagerDuty (SPEC §11, "Locally"): the REST calls the
//! service and its tests use, with PagerDuty's token auth, `From` header,
//! error shapes and status codes, fault injection (429 with `Retry-After`,
//! 5xx), and on `POST /incidents` the signed Webhooks V3 `incident.triggered`
//! delivered to a configured URL. State is in memory. See README.md.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let pd = pagerduty_standin::spawn(pagerduty_standin::Config::new("token")).await?;
//! println!("PAGERDUTY_URL={}", pd.url());
//! # Ok(()) }
//! ```

mod admin;
mod error;
mod list;
mod rest;
mod store;
mod util;
mod webhook;

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use tokio::net::TcpListener;

pub use crate::store::PRIORITIES;
pub use crate::webhook::{USER_AGENT, WebhookConfig, check_target, signature_header};

/// PagerDuty documents no limit on a note's length; this default is the
/// stand-in's, and `Config::note_limit` changes it (see README.md).
pub const DEFAULT_NOTE_LIMIT: usize = 25_000;

/// Stand-in settings. `Debug` never shows the token or the secrets.
#[derive(Clone)]
pub struct Config {
    /// The API token accepted in `Authorization: Token token=<TOKEN>`.
    pub token: String,
    /// Where `incident.triggered` goes; `None`: no webhooks.
    pub webhook: Option<WebhookConfig>,
    /// The longest note content accepted, in characters.
    pub note_limit: usize,
    /// One line per request on stderr.
    pub log_requests: bool,
}

impl Config {
    pub fn new(token: impl Into<String>) -> Self {
        Config {
            token: token.into(),
            webhook: None,
            note_limit: DEFAULT_NOTE_LIMIT,
            log_requests: false,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("token", &"<redacted>")
            .field("webhook", &self.webhook)
            .field("note_limit", &self.note_limit)
            .field("log_requests", &self.log_requests)
            .finish()
    }
}

/// Shared state behind every route.
struct App {
    token: String,
    webhook: Option<WebhookConfig>,
    note_limit: usize,
    log_requests: bool,
    store: Mutex<store::Store>,
    faults: Mutex<Vec<admin::FaultRule>>,
    calls: Mutex<BTreeMap<&'static str, u64>>,
    deliveries: Mutex<Vec<webhook::Record>>,
    /// The subscription's filter: `None` is `account_reference` (every
    /// incident), `Some(id)` a `service_reference` to that service.
    filter: Mutex<Option<String>>,
    /// Deliveries started and not finished.
    pending: Mutex<u64>,
    client: webhook::HttpClient,
}

/// Locks ignoring poisoning: a panicked handler must not wedge the stand-in.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The stand-in's routes (PagerDuty's and `/_standin/`), with fresh state.
pub fn router(config: Config) -> Router {
    let app = Arc::new(App {
        token: config.token,
        webhook: config.webhook,
        note_limit: config.note_limit,
        log_requests: config.log_requests,
        store: Mutex::default(),
        faults: Mutex::default(),
        calls: Mutex::default(),
        deliveries: Mutex::default(),
        filter: Mutex::default(),
        pending: Mutex::default(),
        client: webhook::http_client(),
    });
    let r = rest::routes()
        .merge(admin::routes())
        .fallback(unknown_route)
        .with_state(app);
    if config.log_requests {
        r.layer(middleware::from_fn(log_request))
    } else {
        r
    }
}

/// Serves until `shutdown` completes, then finishes in-flight requests.
pub async fn serve_with_shutdown(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(config))
        .with_graceful_shutdown(shutdown)
        .await
}

/// A stand-in serving on a free loopback port in a background task; it
/// stops when this handle is dropped. Meant for tests.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: the REST base (`PAGERDUTY_URL`).
    pub fn url(&self) -> String {
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
        if let Err(e) = serve_with_shutdown(listener, config, std::future::pending()).await {
            eprintln!("pagerduty-standin: server stopped: {e}");
        }
    });
    Ok(Running { addr, task })
}

/// Method, path and status only: never a header (the token) or a body.
async fn log_request(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let line = format!("{} {}", req.method(), req.uri().path());
    let resp = next.run(req).await;
    eprintln!(
        "{} {line} -> {} ({} ms)",
        util::now_seconds(),
        resp.status().as_u16(),
        started.elapsed().as_millis()
    );
    resp
}

async fn unknown_route(req: Request) -> Response {
    let detail = format!(
        "The stand-in does not serve {} {} (see its README)",
        req.method(),
        req.uri().path()
    );
    axum::response::IntoResponse::into_response(error::PdError::not_found().detail(detail))
}
