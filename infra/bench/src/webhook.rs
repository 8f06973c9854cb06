//! The webhook handler's own time (SPEC §10 "webhooks": verified and answered
//! in ≤ 5 ms of handler time, p99, store excluded): `incident-hooks`' real
//! router over in-memory ports (the replay store, the hand-off, the
//! secrets), fed API Gateway events as `lambda_http` parses them. What is
//! timed: the event parsed, the raw body's size and signature checked, the
//! JSON read, the replay check (generic route), the hand-off payload built,
//! the answer written.

use axum::Router;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use incident_hooks::{Hooks, app};
use jiff::Timestamp;
use serde_json::{Value, json};
use sha2::Sha256;
use support_plans_domain::testing::hand_off::FakeHandOff;
use support_plans_domain::testing::secret_text::FakeSecret;
use support_plans_domain::testing::webhook_ids::FakeWebhookIds;

/// Fixture keys, generated for the bench and used nowhere else.
const PAGERDUTY_KEY: &str = "bench-pagerduty-subscription-key";
const STANDARD_KEY: [u8; 32] = [42; 32];

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

fn event(path: &str, headers: Value, body: &str) -> String {
    json!({
        "version": "2.0", "routeKey": format!("POST {path}"), "rawPath": path, "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "111122223333", "apiId": "a1b2c3", "domainName": "a1b2c3.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "a1b2c3", "requestId": "bench", "routeKey": format!("POST {path}"), "stage": "$default",
            "time": "21/Nov/2026:10:00:00 +0000", "timeEpoch": 1795255200000u64,
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "10.0.0.1", "userAgent": "bench"}
        },
        "body": body, "isBase64Encoded": false
    })
    .to_string()
}

/// An `incident.acknowledged` delivery signed with `secret`, as the API
/// Gateway event the function receives: verified, answered 202, not handed
/// off (the cold-start run's event).
pub fn acknowledged_event(secret: &str) -> Value {
    let body = json!({"event": {
        "id": "01DEN4HPBOGPUA5ZZQJHXAVZKT", "event_type": "incident.acknowledged", "resource_type": "incident",
        "occurred_at": "2026-11-21T10:00:00.000Z", "agent": null, "client": null,
        "data": {"id": "PGR0VU2", "type": "incident", "title": "Checkout is down"}
    }})
    .to_string();
    let tag: String = hmac(secret.as_bytes(), &[body.as_bytes()])
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let headers = json!({"content-type": "application/json", "x-pagerduty-signature": format!("v1={tag}")});
    serde_json::from_str(&event(incident_hooks::PAGERDUTY_ROUTE, headers, &body)).expect("JSON")
}

#[derive(Debug)]
pub struct WebhookFixture {
    app: Router,
    pagerduty: String,
}

impl WebhookFixture {
    pub fn new() -> Self {
        let hooks = Hooks::new(
            FakeWebhookIds::default(),
            support_plans_domain::testing::responded::FakeResponseMarks::default(),
            FakeHandOff::default(),
            FakeSecret::new(PAGERDUTY_KEY),
            FakeSecret::new(format!("whsec_{}", STANDARD.encode(STANDARD_KEY))),
            FakeSecret::new(""),
        );
        // A V3 delivery as PagerDuty sends it (the documented example's shape).
        let body = json!({"event": {
            "id": "01DEN4HPBOGPUA5ZZQJHXAVZKS", "event_type": "incident.triggered", "resource_type": "incident",
            "occurred_at": "2026-11-21T10:00:00.000Z", "agent": null, "client": null,
            "data": {"id": "PGR0VU2", "type": "incident", "title": "Checkout is down", "status": "triggered",
                     "urgency": "high", "service": {"id": "PSERVIC", "type": "service_reference", "summary": "Checkout"}}
        }})
        .to_string();
        let tag: String = hmac(PAGERDUTY_KEY.as_bytes(), &[body.as_bytes()])
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let headers =
            json!({"content-type": "application/json", "x-pagerduty-signature": format!("v1={tag}")});
        Self {
            app: app(hooks),
            pagerduty: event(incident_hooks::PAGERDUTY_ROUTE, headers, &body),
        }
    }

    /// A generic incident signed now with a fresh `webhook-id` (the replay
    /// check writes each one), built outside the timed call.
    pub fn generic_event(&self, n: usize) -> String {
        let body = json!({"id": format!("INC-{n}"), "title": "Checkout errors", "impact": 2}).to_string();
        let id = format!("msg_bench_{n}");
        let ts = Timestamp::now().as_second().to_string();
        let sig = STANDARD.encode(hmac(
            &STANDARD_KEY,
            &[id.as_bytes(), b".", ts.as_bytes(), b".", body.as_bytes()],
        ));
        let headers = json!({"content-type": "application/json", "webhook-id": id,
                             "webhook-timestamp": ts, "webhook-signature": format!("v1,{sig}")});
        event(incident_hooks::INCIDENT_ROUTE, headers, &body)
    }

    /// One verified PagerDuty delivery through the handler; panics unless 202.
    pub async fn pagerduty(&self) -> u16 {
        self.call(&self.pagerduty).await
    }

    /// One generic delivery (from [`Self::generic_event`]); panics unless 202.
    pub async fn generic(&self, event: &str) -> u16 {
        self.call(event).await
    }

    async fn call(&self, event: &str) -> u16 {
        let (status, text) = crate::overhead::call_router(&self.app, event).await;
        assert_eq!(status, 202, "the delivery was not accepted: {text}");
        status
    }
}

impl Default for WebhookFixture {
    fn default() -> Self {
        Self::new()
    }
}
