//! GET latency against the local stack: plans created through the API,
//! then sequential GETs on one kept-alive connection, timed at the client.

use std::time::{Duration, Instant};

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use crate::overhead::plan_body;

const PRINCIPAL: &str = "bench@example.com";
const ADMINS: &str = "support-plans-admins";

type Http = Client<HttpConnector, Full<Bytes>>;

/// How long a request may take unless said otherwise.
const TIMEOUT: Duration = Duration::from_secs(60);

async fn send(client: &Http, method: &str, url: &str, body: Option<&Value>) -> Result<(u16, String), String> {
    send_within(client, method, url, body, TIMEOUT).await
}

async fn send_within(
    client: &Http,
    method: &str,
    url: &str,
    body: Option<&Value>,
    timeout: Duration,
) -> Result<(u16, String), String> {
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(url)
        .header("x-local-principal", PRINCIPAL)
        .header("x-local-groups", ADMINS);
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let request = request
        .body(Full::new(Bytes::from(
            body.map(Value::to_string).unwrap_or_default(),
        )))
        .map_err(|e| e.to_string())?;
    let response = tokio::time::timeout(timeout, client.request(request))
        .await
        .map_err(|_| format!("{method} {url}: no answer in {} s", timeout.as_secs()))?
        .map_err(|e| format!("{method} {url}: {e}"))?;
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}

/// Creates `plan_id` (owned by `platform`) through the API unless it exists.
pub async fn seed_plan(api_url: &str, plan_id: &str) -> Result<(), String> {
    let client: Http = Client::builder(TokioExecutor::new()).build_http();
    let (status, text) = send(
        &client,
        "POST",
        &format!("{api_url}/plans"),
        Some(&plan_body(plan_id, "platform")),
    )
    .await?;
    match status {
        201 | 409 => Ok(()),
        _ => Err(format!("POST /plans answered {status}: {text}")),
    }
}

/// `n` sequential `GET {api_url}/plans/{plan_id}` (after 5 untimed), each in ms.
pub async fn get_latencies(api_url: &str, plan_id: &str, n: usize) -> Result<Vec<f64>, String> {
    let gets = Gets { n, ..Gets::default() };
    let timed = timed_gets(api_url, &format!("/plans/{plan_id}"), &gets, |text| {
        text.contains(plan_id)
    })
    .await?;
    Ok(timed.ms)
}

/// How [`timed_gets`] times.
#[derive(Debug, Clone)]
pub struct Gets {
    /// GETs timed, at most.
    pub n: usize,
    /// GETs before, untimed.
    pub warmup: usize,
    /// No more GETs once this has passed (at least [`MIN_TIMED`] are timed).
    pub budget: Option<Duration>,
    /// How long one GET may take.
    pub timeout: Duration,
}

impl Default for Gets {
    fn default() -> Self {
        Self {
            n: 200,
            warmup: 5,
            budget: None,
            timeout: TIMEOUT,
        }
    }
}

/// The fewest GETs timed, whatever the budget.
pub const MIN_TIMED: usize = 3;

/// What [`timed_gets`] measured.
#[derive(Debug, Clone, Default)]
pub struct Timed {
    /// Each GET's time, ms.
    pub ms: Vec<f64>,
    /// Fewer than asked: the time budget ran out first.
    pub stopped_by_budget: bool,
}

/// Sequential `GET {api_url}{path}` on one connection, as `gets` says,
/// each in ms, each answered 200 with a body that `ok` accepts. The budget
/// is for an endpoint whose answer takes seconds: `GET /readiness` at
/// 10,000 plans while it computes the figures on each request.
pub async fn timed_gets(
    api_url: &str,
    path: &str,
    gets: &Gets,
    ok: impl Fn(&str) -> bool,
) -> Result<Timed, String> {
    let client: Http = Client::builder(TokioExecutor::new()).build_http();
    let url = format!("{api_url}{path}");
    let mut out = Timed {
        ms: Vec::with_capacity(gets.n),
        stopped_by_budget: false,
    };
    let mut started = Instant::now();
    for i in 0..gets.n + gets.warmup {
        if i == gets.warmup {
            started = Instant::now();
        }
        if out.ms.len() >= MIN_TIMED && gets.budget.is_some_and(|b| started.elapsed() > b) {
            out.stopped_by_budget = true;
            break;
        }
        let start = Instant::now();
        let (status, text) = send_within(&client, "GET", &url, None, gets.timeout).await?;
        let ms = start.elapsed().as_secs_f64() * 1e3;
        if status != 200 || !ok(&text) {
            return Err(format!("GET {url} answered {status}: {text}"));
        }
        if i >= gets.warmup {
            out.ms.push(ms);
        }
    }
    Ok(out)
}

/// One `GET {api_url}{path}` (within `timeout`), answered 200 with JSON.
pub async fn get_json(api_url: &str, path: &str, timeout: Duration) -> Result<Value, String> {
    let client: Http = Client::builder(TokioExecutor::new()).build_http();
    let url = format!("{api_url}{path}");
    let (status, text) = send_within(&client, "GET", &url, None, timeout).await?;
    if status != 200 {
        return Err(format!("GET {url} answered {status}: {text}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("GET {url}: not JSON ({e}): {text}"))
}
