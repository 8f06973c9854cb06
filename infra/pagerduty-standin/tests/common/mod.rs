//! Shared by the integration tests: an in-process stand-in on 127.0.0.1:0,
//! a small HTTP client that sends PagerDuty's headers, and a webhook
//! receiver that keeps each delivery's raw body and headers.

#![allow(dead_code)] // each test file uses a different subset

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use pagerduty_standin::{Config, Running};
use serde_json::{Value, json};

pub const TOKEN: &str = "y_NbAkKc66ryYTWUXYEu";
pub const FROM: &str = "responder@example.com";

pub async fn start(config: Config) -> Running {
    pagerduty_standin::spawn(config).await.expect("stand-in starts")
}

/// One answer: status, headers, JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

/// A REST call; `auth` and `from` as PagerDuty clients send them.
pub async fn call(
    pd: &Running,
    method: Method,
    path: &str,
    auth: Option<&str>,
    from: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut req = Request::builder()
        .method(method)
        .uri(format!("{}{path}", pd.url()))
        .header("accept", "application/vnd.pagerduty+json;version=2")
        .header("content-type", "application/json");
    if let Some(t) = auth {
        req = req.header("authorization", format!("Token token={t}"));
    }
    if let Some(f) = from {
        req = req.header("from", f);
    }
    let bytes = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
    let resp = client
        .request(req.body(Full::new(bytes)).expect("request"))
        .await
        .expect("HTTP call");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    let body = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).expect("JSON body")
    };
    Answer {
        status,
        headers,
        body,
    }
}

/// An authenticated call with `From`.
pub async fn pd(pd_: &Running, method: Method, path: &str, body: Option<Value>) -> Answer {
    call(pd_, method, path, Some(TOKEN), Some(FROM), body).await
}

pub async fn admin(pd_: &Running, method: Method, path: &str, body: Option<Value>) -> Value {
    let a = call(pd_, method, &format!("/_standin/{path}"), None, None, body).await;
    assert!(
        (200..300).contains(&a.status),
        "admin {path}: {} {}",
        a.status,
        a.body
    );
    a.body
}

pub async fn service(pd_: &Running, name: &str) -> String {
    let a = pd(
        pd_,
        Method::POST,
        "/services",
        Some(json!({"service": {"type": "service", "name": name}})),
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.body["service"]["id"].as_str().expect("service id").to_string()
}

pub async fn incident(pd_: &Running, service_id: &str, title: &str) -> Value {
    let a = pd(
        pd_,
        Method::POST,
        "/incidents",
        Some(json!({"incident": {"type": "incident", "title": title,
            "service": {"id": service_id, "type": "service_reference"}}})),
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.body["incident"].clone()
}

/// Waits until `n` deliveries have finished (or 10 s pass).
pub async fn wait_deliveries(pd_: &Running, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let d = admin(pd_, Method::GET, "deliveries", None).await;
        let list = d["deliveries"].as_array().cloned().unwrap_or_default();
        if list.len() >= n {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} deliveries finished");
}

/// One POST as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON delivery")
    }
}

/// A webhook endpoint: records every POST, answers the queued statuses
/// first (then 202), optionally after a delay.
#[derive(Debug, Clone)]
pub struct Receiver {
    pub got: Arc<Mutex<Vec<Received>>>,
    pub url: String,
}

impl Receiver {
    pub async fn start(fail_first: &[u16], delay: Duration) -> Receiver {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let plan: Arc<Mutex<VecDeque<u16>>> = Arc::new(Mutex::new(fail_first.iter().copied().collect()));
        let sink = Arc::clone(&got);
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let sink = Arc::clone(&sink);
            let plan = Arc::clone(&plan);
            async move {
                let headers = req.headers().clone();
                let body = axum::body::to_bytes(req.into_body(), 1 << 20)
                    .await
                    .unwrap_or_default();
                sink.lock().expect("lock").push(Received { headers, body });
                tokio::time::sleep(delay).await;
                let status = plan.lock().expect("lock").pop_front().unwrap_or(202);
                StatusCode::from_u16(status).expect("status")
            }
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind receiver");
        let url = format!("http://{}/hooks/pagerduty", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { got, url }
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.lock().expect("lock").clone()
    }
}
