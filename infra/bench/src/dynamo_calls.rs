//! A proxy in front of the local stack's DynamoDB (moto) that records each
//! request a spawned function makes: the operation, the index, the key
//! values asked for, and whether it continues a paginated read. So a row can
//! say how many items `GET /readiness` read and whether the freshness check
//! read the plans once, page by page, counted outside the function rather
//! than by its own `table_reads`. The function gets the proxy as
//! `AWS_ENDPOINT_URL_DYNAMODB`; every other service still goes to moto.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde_json::Value;

/// One DynamoDB request as the proxy saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Call {
    /// `Query`, `GetItem`, `BatchGetItem`, … (`X-Amz-Target` without its prefix).
    pub op: String,
    pub index: Option<String>,
    /// The string values of `ExpressionAttributeValues` (a query's
    /// partition, sorted), or a `GetItem`'s key values.
    pub keys: Vec<String>,
    /// `ExclusiveStartKey` set: a further page of a read already started.
    pub continued: bool,
    /// The keys a `BatchGetItem` asked for (1 for any other read).
    pub items: usize,
}

impl Call {
    /// From the request's `X-Amz-Target` and JSON body.
    pub fn parse(target: &str, body: &[u8]) -> Self {
        let op = target.rsplit('.').next().unwrap_or(target).to_owned();
        let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let strings = |v: &Value| -> Vec<String> {
            let mut out: Vec<String> = v
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(_, a)| a["S"].as_str().map(str::to_owned))
                .collect();
            out.sort();
            out
        };
        let keys = match op.as_str() {
            "GetItem" => strings(&body["Key"]),
            _ => strings(&body["ExpressionAttributeValues"]),
        };
        let items = match op.as_str() {
            "BatchGetItem" => body["RequestItems"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(_, t)| t["Keys"].as_array().map_or(0, Vec::len))
                .sum(),
            _ => 1,
        };
        Self {
            op,
            index: body["IndexName"].as_str().map(str::to_owned),
            keys,
            continued: body.get("ExclusiveStartKey").is_some_and(|k| !k.is_null()),
            items,
        }
    }

    /// A query or scan of plans: a partition key naming plans (`PLAN`,
    /// `PLAN#active`, `PLAN#<team>`), or a scan of the table.
    fn reads_plans(&self) -> bool {
        match self.op.as_str() {
            "Scan" => true,
            "Query" => self.keys.iter().any(|k| k == "PLAN" || k.starts_with("PLAN#")),
            _ => false,
        }
    }

    fn what(&self) -> String {
        let mut out = self.op.clone();
        if let Some(index) = &self.index {
            out.push(' ');
            out.push_str(index);
        }
        if !self.keys.is_empty() {
            out.push(' ');
            out.push_str(&self.keys.join(","));
        }
        out
    }
}

/// What a run's requests add up to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Reads {
    pub requests: usize,
    pub by_op: BTreeMap<String, usize>,
    /// Reads of plans started (a query or scan without `ExclusiveStartKey`),
    /// and their pages (requests) in all.
    pub plan_passes: usize,
    pub plan_pages: usize,
    /// Each paginated read (query or scan): its pages.
    pub paginated: BTreeMap<String, usize>,
}

impl Reads {
    pub fn of(calls: &[Call]) -> Self {
        let mut r = Self {
            requests: calls.len(),
            ..Self::default()
        };
        for c in calls {
            *r.by_op.entry(c.op.clone()).or_default() += 1;
            if matches!(c.op.as_str(), "Query" | "Scan") {
                *r.paginated.entry(c.what()).or_default() += 1;
            }
            if c.reads_plans() {
                r.plan_pages += 1;
                if !c.continued {
                    r.plan_passes += 1;
                }
            }
        }
        r
    }

    /// `GetItem 1, Query 3`.
    pub fn ops(&self) -> String {
        let ops: Vec<String> = self.by_op.iter().map(|(op, n)| format!("{op} {n}")).collect();
        ops.join(", ")
    }
}

type Upstream = Client<HttpConnector, Full<Bytes>>;

#[derive(Debug)]
struct Shared {
    upstream: String,
    client: Upstream,
    calls: Mutex<Vec<Call>>,
}

/// The proxy, on a loopback port of its own, in a thread of its own.
#[derive(Debug)]
pub struct DynamoCalls {
    pub url: String,
    shared: Arc<Shared>,
}

impl DynamoCalls {
    /// Forwards to `upstream` (`http://127.0.0.1:PORT`, moto).
    pub fn start(upstream: &str) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr: SocketAddr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            calls: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(forward).with_state(shared.clone());
        std::thread::Builder::new()
            .name("dynamodb-proxy".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a tokio runtime");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("the listener");
                    axum::serve(listener, app).await.expect("the proxy serves");
                });
            })?;
        Ok(Self {
            url: format!("http://{addr}"),
            shared,
        })
    }

    /// The requests recorded since the last call, which forgets them.
    pub fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.shared.calls.lock().expect("not poisoned"))
    }
}

/// Hop-by-hop and length headers: the forwarded message gets its own.
fn strip(headers: &mut HeaderMap) {
    for h in [
        header::CONNECTION,
        header::TRANSFER_ENCODING,
        header::CONTENT_LENGTH,
    ] {
        headers.remove(h);
    }
}

async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else {
        return (StatusCode::BAD_REQUEST, "the request body was cut off").into_response();
    };
    if let Some(target) = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        let call = Call::parse(target, &body);
        shared.calls.lock().expect("not poisoned").push(call);
    }
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let Ok(uri) = format!("{}{path}", shared.upstream).parse() else {
        return (StatusCode::BAD_GATEWAY, "bad upstream URL").into_response();
    };
    parts.uri = uri;
    strip(&mut parts.headers);
    let upstream = hyper::Request::from_parts(parts, Full::new(body));
    let answer = tokio::time::timeout(Duration::from_secs(600), shared.client.request(upstream)).await;
    let response = match answer {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return (StatusCode::BAD_GATEWAY, format!("moto: {e}")).into_response(),
        Err(_) => return (StatusCode::GATEWAY_TIMEOUT, "moto did not answer").into_response(),
    };
    let (mut parts, body) = response.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else {
        return (StatusCode::BAD_GATEWAY, "moto's answer was cut off").into_response();
    };
    strip(&mut parts.headers);
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(values: &str, start: bool) -> Call {
        let start = if start {
            r##", "ExclusiveStartKey": {"pk": {"S": "PLAN#x"}}"##
        } else {
            ""
        };
        Call::parse(
            "DynamoDB_20120810.Query",
            format!(
                r##"{{"TableName": "t", "IndexName": "by-status", "KeyConditionExpression": "#pk = :pk",
                    "ExpressionAttributeValues": {values}{start}}}"##
            )
            .as_bytes(),
        )
    }

    #[test]
    fn a_paginated_read_of_the_plans_is_one_pass() {
        let plans = r#"{":pk": {"S": "PLAN#active"}}"#;
        let calls = vec![
            query(plans, false),
            query(plans, true),
            query(plans, true),
            query(r#"{":pk": {"S": "WORKLOAD#active"}}"#, false),
            Call::parse(
                "DynamoDB_20120810.BatchGetItem",
                br#"{"RequestItems": {"t": {"Keys": [{"pk": {"S": "a"}}, {"pk": {"S": "b"}}]}}}"#,
            ),
            Call::parse(
                "DynamoDB_20120810.GetItem",
                br#"{"TableName": "t", "Key": {"pk": {"S": "READINESS"}, "sk": {"S": "SNAPSHOT"}}}"#,
            ),
        ];
        let r = Reads::of(&calls);
        assert_eq!(r.requests, 6);
        assert_eq!((r.plan_passes, r.plan_pages), (1, 3));
        assert_eq!(r.ops(), "BatchGetItem 1, GetItem 1, Query 4");
        assert_eq!(r.paginated["Query by-status PLAN#active"], 3);
        assert_eq!(calls[4].items, 2);
        assert_eq!(calls[5].keys, ["READINESS", "SNAPSHOT"]);
        // The plans read twice is two passes.
        let twice = Reads::of(&[query(plans, false), query(plans, false)]);
        assert_eq!(twice.plan_passes, 2);
    }
}
