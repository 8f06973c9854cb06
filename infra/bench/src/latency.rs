//! GET latency against the local stack: one plan created through the API,
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

async fn send(client: &Http, method: &str, url: &str, body: Option<&Value>) -> Result<(u16, String), String> {
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
    let response = tokio::time::timeout(Duration::from_secs(60), client.request(request))
        .await
        .map_err(|_| format!("{method} {url}: no answer in 60 s"))?
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
    let client: Http = Client::builder(TokioExecutor::new()).build_http();
    let url = format!("{api_url}/plans/{plan_id}");
    let mut out = Vec::with_capacity(n);
    for i in 0..n + 5 {
        let start = Instant::now();
        let (status, text) = send(&client, "GET", &url, None).await?;
        let ms = start.elapsed().as_secs_f64() * 1e3;
        if status != 200 || !text.contains(plan_id) {
            return Err(format!("GET {url} answered {status}: {text}"));
        }
        if i >= 5 {
            out.push(ms);
        }
    }
    Ok(out)
}
