//! PagerDuty Webhooks V3, as a subscription delivers `incident.triggered`:
//! the `{"event": {...}}` envelope, `X-PagerDuty-Signature` with one
//! `v1=<hex HMAC-SHA256 of the raw body>` per secret (two during rotation),
//! `X-Webhook-Id` (the same on every attempt), `X-Webhook-Subscription`, and
//! retries on timeouts, connection failures, 429 and 5xx; other 4xx drop the
//! webhook (developer docs "Webhooks: Behavior", "Verifying Signatures").

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{Request, Uri, header};
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::util::{event_id, hex, now_millis, uuid};
use crate::{App, lock};

pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

pub fn http_client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// PagerDuty's webhook user agent.
pub const USER_AGENT: &str = "PagerDuty-Webhook/V3.0";
/// "Max tries per webhook: 5".
const ATTEMPTS: u32 = 5;
/// PagerDuty spreads its retries over about 20 minutes; locally a short
/// doubling backoff keeps tests fast.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const ANSWER_LIMIT: usize = 4096;

/// Where and how `incident.triggered` is delivered. Secrets never printed.
#[derive(Clone)]
pub struct WebhookConfig {
    /// A plain `http://` URL (locally: the API's `/hooks/pagerduty`).
    pub target: String,
    /// One signature per secret, in this order. Empty: unsigned deliveries.
    pub secrets: Vec<String>,
    /// `X-Webhook-Subscription`: the subscription's id.
    pub subscription_id: String,
    /// PagerDuty expects a 2xx within 5 s; longer locally when the target
    /// is compiled on first use.
    pub timeout: Duration,
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("target", &self.target)
            .field("secrets", &format_args!("<{} redacted>", self.secrets.len()))
            .field("subscription_id", &self.subscription_id)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl WebhookConfig {
    pub fn new(target: impl Into<String>, secrets: Vec<String>) -> Self {
        WebhookConfig {
            target: target.into(),
            secrets,
            subscription_id: "PSTNDIN".to_string(),
            timeout: Duration::from_secs(5),
        }
    }
}

/// Targets must be plain `http://` URLs (no TLS client in the stand-in).
pub fn check_target(url: &str) -> Result<(), String> {
    let uri: Uri = url
        .parse()
        .map_err(|e| format!("webhook target {url:?} is not a URL: {e}"))?;
    if uri.scheme_str() != Some("http") || uri.host().is_none() {
        return Err(format!(
            "webhook target {url:?} must be an http:// URL with a host"
        ));
    }
    Ok(())
}

/// `v1=<hex>` for each secret, comma-separated, as during a rotation.
pub fn signature_header(secrets: &[String], body: &[u8]) -> String {
    secrets
        .iter()
        .map(|s| {
            let mut mac = Hmac::<Sha256>::new_from_slice(s.as_bytes()).expect("HMAC takes any key length");
            mac.update(body);
            format!("v1={}", hex(&mac.finalize().into_bytes()))
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The V3 envelope of an `incident.triggered` event.
pub fn triggered_event(incident: Value) -> Value {
    json!({
        "event": {
            "id": event_id(),
            "event_type": "incident.triggered",
            "resource_type": "incident",
            "occurred_at": now_millis().to_string(),
            // Incidents made through the REST API are triggered by the
            // API token's user; the stand-in names no user.
            "agent": null,
            "client": null,
            "data": incident,
        }
    })
}

/// One delivery, as `GET /_standin/deliveries` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub webhook_id: String,
    pub event_id: String,
    pub event_type: String,
    pub incident_id: String,
    pub target: String,
    pub attempts: u32,
    pub delivered: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The raw body sent (what the signature covers), parsed for reading.
    pub payload: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<Value>,
    #[serde(skip)]
    pub body: Bytes,
}

/// Sends `incident.triggered` for this incident in the background, when a
/// target is configured; the REST answer never waits for it.
pub fn trigger(app: &Arc<App>, incident: Value) {
    let Some(config) = app.webhook.clone() else {
        return;
    };
    if let Some(service) = lock(&app.filter).as_deref()
        && incident["service"]["id"].as_str() != Some(service)
    {
        return;
    }
    let incident_id = incident["id"].as_str().unwrap_or_default().to_string();
    let payload = triggered_event(incident);
    let body = Bytes::from(serde_json::to_vec(&payload).unwrap_or_default());
    let record = Record {
        webhook_id: uuid(),
        event_id: payload["event"]["id"].as_str().unwrap_or_default().to_string(),
        event_type: "incident.triggered".to_string(),
        incident_id,
        target: config.target.clone(),
        attempts: 0,
        delivered: false,
        status: None,
        error: None,
        payload,
        answer: None,
        body,
    };
    spawn_delivery(app, config, record);
}

/// Sends a finished delivery again, byte for byte and with the same
/// `X-Webhook-Id`, as PagerDuty's at-least-once delivery may.
pub fn redeliver(app: &Arc<App>, webhook_id: &str) -> bool {
    let Some(config) = app.webhook.clone() else {
        return false;
    };
    let found = lock(&app.deliveries)
        .iter()
        .find(|r| r.webhook_id == webhook_id)
        .cloned();
    let Some(mut record) = found else {
        return false;
    };
    record.attempts = 0;
    record.delivered = false;
    record.status = None;
    record.error = None;
    record.answer = None;
    spawn_delivery(app, config, record);
    true
}

fn spawn_delivery(app: &Arc<App>, config: WebhookConfig, mut record: Record) {
    let app = Arc::clone(app);
    *lock(&app.pending) += 1;
    tokio::spawn(async move {
        post(&app.client, &config, &mut record).await;
        if !record.delivered {
            eprintln!(
                "pagerduty-standin: webhook {} for incident {} to {} failed after {} attempt(s): {}",
                record.webhook_id,
                record.incident_id,
                record.target,
                record.attempts,
                record.error.as_deref().unwrap_or("unknown error")
            );
        } else if app.log_requests {
            eprintln!(
                "pagerduty-standin: delivered {} for incident {} to {} ({} attempt(s))",
                record.event_type, record.incident_id, record.target, record.attempts
            );
        }
        lock(&app.deliveries).push(record);
        *lock(&app.pending) -= 1;
    });
}

async fn post(client: &HttpClient, config: &WebhookConfig, record: &mut Record) {
    let signature = signature_header(&config.secrets, &record.body);
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        record.attempts = attempt;
        let mut req = Request::post(&config.target)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::USER_AGENT, USER_AGENT)
            .header("x-webhook-id", &record.webhook_id)
            .header("x-webhook-subscription", &config.subscription_id);
        if !signature.is_empty() {
            req = req.header("x-pagerduty-signature", &signature);
        }
        let req = match req.body(Full::new(record.body.clone())) {
            Ok(r) => r,
            Err(e) => {
                record.error = Some(format!("bad target: {e}"));
                return;
            }
        };
        let retry = match tokio::time::timeout(config.timeout, client.request(req)).await {
            Ok(Ok(resp)) => {
                let status = resp.status();
                if let Ok(b) = resp.into_body().collect().await {
                    record.answer = answer(&b.to_bytes());
                }
                record.status = Some(status.as_u16());
                record.delivered = status.is_success();
                if record.delivered {
                    record.error = None;
                    return;
                }
                record.error = Some(format!("target answered {status}"));
                status.is_server_error() || status.as_u16() == 429
            }
            Ok(Err(e)) => {
                record.status = None;
                record.error = Some(format!("{e}"));
                true
            }
            Err(_) => {
                record.status = None;
                record.error = Some(format!("no answer within {:?}", config.timeout));
                true
            }
        };
        if !retry || attempt == ATTEMPTS {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff *= 2;
    }
}

fn answer(body: &[u8]) -> Option<Value> {
    if body.is_empty() {
        return None;
    }
    serde_json::from_slice::<Value>(body)
        .ok()
        .filter(|_| body.len() <= ANSWER_LIMIT)
        .or_else(|| {
            Some(Value::String(
                String::from_utf8_lossy(body).chars().take(ANSWER_LIMIT).collect(),
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_documented_algorithm() {
        // RFC 4231-style known answer: HMAC-SHA256("key", the fox), hex.
        let body = b"The quick brown fox jumps over the lazy dog";
        let one = signature_header(&["key".into()], body);
        assert_eq!(
            one,
            "v1=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        let two = signature_header(&["key".into(), "next".into()], body);
        assert!(two.starts_with(&format!("{one},v1=")));
        assert_eq!(two.len(), 2 * one.len() + 1);
        assert_eq!(signature_header(&[], b"{}"), "");
    }

    #[test]
    fn targets_must_be_http() {
        assert!(check_target("http://127.0.0.1:3000/hooks/pagerduty").is_ok());
        assert!(check_target("https://example.com/").is_err());
        assert!(check_target("nope").is_err());
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = WebhookConfig::new("http://x/", vec!["s3cr3t".into()]);
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }
}
