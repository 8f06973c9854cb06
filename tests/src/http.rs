//! A plain HTTP/1.1 client for the end-to-end tests: the plans API and the
//! Lambda Invoke API of `cargo lambda watch`, and the emulator's admin routes.

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// What came back: status, headers (lower-case names) and body text.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON; panics naming the body when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }
}

/// One request. `body` is sent as JSON when given.
pub async fn request(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&Value>) -> Reply {
    match body {
        Some(b) => {
            let mut with_type = headers.to_vec();
            with_type.push(("content-type", "application/json"));
            let bytes = serde_json::to_vec(b).expect("JSON");
            request_bytes(method, url, &with_type, &bytes).await
        }
        None => request_bytes(method, url, headers, b"").await,
    }
}

/// One request with exactly these body bytes (what a signature covers).
pub async fn request_bytes(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut builder = hyper::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let req = builder
        .body(Full::new(Bytes::copy_from_slice(body)))
        .expect("a well-formed request");
    let res = tokio::time::timeout(std::time::Duration::from_secs(120), client.request(req))
        .await
        .unwrap_or_else(|_| panic!("{method} {url}: no answer within 120 s"))
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = res.status().as_u16();
    let headers = res
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let body = res
        .into_body()
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: reading the body: {e}"))
        .to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}
