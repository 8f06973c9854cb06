//! Shared by the integration tests: an in-process emulator on 127.0.0.1:0,
//! an unmodified SDK client pointed at it, and a tiny HTTP client for the
//! `/_emulator/` admin API and the delivery receiver.

#![allow(dead_code)] // each test file uses a different subset

use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_ssmincidents::Client;
use aws_sdk_ssmincidents::config::http::HttpResponse;
use aws_sdk_ssmincidents::config::{Credentials, Region};
use aws_sdk_ssmincidents::error::{ProvideErrorMetadata, SdkError};
use axum::body::Bytes;
use axum::http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::rt::TokioExecutor;
use incident_manager_emulator::{Config, Running};
use serde_json::Value;

pub async fn start(config: Config) -> Running {
    incident_manager_emulator::spawn(config)
        .await
        .expect("emulator starts")
}

/// The SDK as an application would build it, pointed at the emulator.
pub async fn sdk(emu: &Running, retries: bool) -> Client {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        // The SDK crates have no default HTTP client (see the root Cargo.toml).
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .endpoint_url(emu.endpoint_url())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"));
    if !retries {
        loader = loader.retry_config(RetryConfig::disabled());
    }
    Client::new(&loader.load().await)
}

/// The error code (`x-amzn-ErrorType`) and HTTP status of a failed call.
pub fn err<T: Debug, E: ProvideErrorMetadata + Debug>(
    r: Result<T, SdkError<E, HttpResponse>>,
) -> (String, u16) {
    let e = r.expect_err("the call should have failed");
    let status = e.raw_response().map_or(0, |r| r.status().as_u16());
    (e.code().unwrap_or_default().to_string(), status)
}

/// Any HTTP call with an optional JSON body; returns status and JSON body
/// (`Null` when empty).
pub async fn http(method: Method, url: &str, body: Option<&Value>) -> (u16, Value) {
    let client = HttpClient::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let bytes = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
    let req = Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json")
        .body(Full::new(bytes))
        .expect("request");
    let resp = client.request(req).await.expect("HTTP call");
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    let json = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).expect("JSON body")
    };
    (status, json)
}

pub async fn admin(emu: &Running, method: Method, path: &str, body: Option<Value>) -> Value {
    let url = format!("{}/_emulator/{path}", emu.endpoint_url());
    let (status, json) = http(method, &url, body.as_ref()).await;
    assert_eq!(status, 200, "admin {path}: {json}");
    json
}

pub async fn calls(emu: &Running, op: &str) -> u64 {
    admin(emu, Method::GET, "calls", None).await["calls"][op]
        .as_u64()
        .unwrap_or(0)
}

/// Waits until the emulator has finished `n` deliveries (or 10 s pass).
pub async fn wait_deliveries(emu: &Running, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let d = admin(emu, Method::GET, "deliveries", None).await;
        let list = d["deliveries"].as_array().cloned().unwrap_or_default();
        if list.len() >= n {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} deliveries finished");
}

/// A stand-in for the Lambda Invoke API: records every POST (path, JSON body).
#[derive(Debug, Clone, Default)]
pub struct Receiver {
    pub got: Arc<Mutex<Vec<(String, Value)>>>,
    pub base: String,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let got: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
        let sink = Arc::clone(&got);
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let sink = Arc::clone(&sink);
            async move {
                let path = req.uri().path().to_string();
                let body = axum::body::to_bytes(req.into_body(), 1 << 20)
                    .await
                    .unwrap_or_default();
                let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
                sink.lock().expect("lock").push((path, json));
                axum::Json(serde_json::json!({"StatusCode": 200}))
            }
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind receiver");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { got, base }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Bodies received on `path`.
    pub fn on(&self, path: &str) -> Vec<Value> {
        self.got
            .lock()
            .expect("lock")
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn total(&self) -> usize {
        self.got.lock().expect("lock").len()
    }
}
