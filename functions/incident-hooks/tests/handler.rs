//! The webhook edge's handler over in-memory ports (SPEC §11): what a
//! sender sees for each delivery, and what reaches the responder. Secrets
//! are made up per test run; deliveries are signed here with `hmac`, as
//! PagerDuty and a Standard Webhooks sender sign them.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use incident_hooks::{Hooks, app};
use jiff::Timestamp;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support_plans_domain::testing::hand_off::FakeHandOff;
use support_plans_domain::testing::responded::FakeResponseMarks;
use support_plans_domain::testing::secret_text::FakeSecret;
use support_plans_domain::testing::webhook_ids::FakeWebhookIds;
use tower::ServiceExt as _;

type HmacSha256 = Hmac<Sha256>;

/// Key bytes no one wrote down: a hash of this run and `label`.
fn made_up(label: &str) -> Vec<u8> {
    let seed = format!(
        "{label}/{}/{}",
        std::process::id(),
        Timestamp::now().as_nanosecond()
    );
    Sha256::digest(seed.as_bytes()).to_vec()
}

/// A PagerDuty subscription secret as PagerDuty shows one (characters).
fn pd_secret(label: &str) -> String {
    made_up(label).iter().map(|b| format!("{b:02x}")).collect()
}

/// A Standard Webhooks secret, `whsec_<base64 of 32 bytes>`.
fn std_secret(label: &str) -> String {
    format!("whsec_{}", STANDARD.encode(made_up(label)))
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).unwrap();
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

fn pd_signature(secret: &str, body: &[u8]) -> String {
    let tag: String = hmac(secret.as_bytes(), &[body])
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("v1={tag}")
}

fn std_signature(secret: &str, id: &str, ts: i64, body: &[u8]) -> String {
    let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let tag = hmac(
        &key,
        &[id.as_bytes(), b".", ts.to_string().as_bytes(), b".", body],
    );
    format!("v1,{}", STANDARD.encode(tag))
}

const NOW: &str = "2026-11-21T10:00:00Z";

fn now() -> Timestamp {
    NOW.parse().unwrap()
}

struct Edge {
    app: Router,
    handed: FakeHandOff,
    ids: FakeWebhookIds,
    pd: String,
    std: String,
}

fn edge_with(pd_value: &str, std_value: &str) -> Edge {
    let handed = FakeHandOff::default();
    let ids = FakeWebhookIds::default();
    let mut hooks = Hooks::new(
        ids.clone(),
        FakeResponseMarks::default(),
        handed.clone(),
        FakeSecret::new(pd_value),
        FakeSecret::new(std_value),
        FakeSecret::new(""),
    );
    hooks.clock = now;
    Edge {
        app: app(hooks),
        handed,
        ids,
        pd: pd_value.to_owned(),
        std: std_value.to_owned(),
    }
}

fn edge() -> Edge {
    edge_with(&pd_secret("pd"), &std_secret("std"))
}

struct Answer {
    status: u16,
    content_type: String,
    body: Value,
}

impl Edge {
    async fn send(&self, method: &str, path: &str, headers: &[(&str, String)], body: Vec<u8>) -> Answer {
        let mut request = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            request = request.header(*k, v);
        }
        let response = self
            .app
            .clone()
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        Answer {
            status,
            content_type,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    /// A PagerDuty delivery of `body` signed with this edge's secret.
    async fn pagerduty(&self, body: &Value) -> Answer {
        let bytes = serde_json::to_vec(body).unwrap();
        let sig = pd_signature(&self.pd, &bytes);
        self.pagerduty_signed(&sig, bytes).await
    }

    async fn pagerduty_signed(&self, signature: &str, body: Vec<u8>) -> Answer {
        let headers = [
            ("content-type", "application/json".to_owned()),
            ("x-pagerduty-signature", signature.to_owned()),
        ];
        self.send("POST", "/hooks/pagerduty", &headers, body).await
    }

    /// A Standard Webhooks delivery of `body` as `id`, signed at `ts`.
    async fn incident_raw(&self, id: &str, ts: i64, body: Vec<u8>) -> Answer {
        let headers = [
            ("content-type", "application/json".to_owned()),
            ("webhook-id", id.to_owned()),
            ("webhook-timestamp", ts.to_string()),
            ("webhook-signature", std_signature(&self.std, id, ts, &body)),
        ];
        self.send("POST", "/hooks/incident", &headers, body).await
    }

    async fn incident(&self, id: &str, body: &Value) -> Answer {
        self.incident_raw(id, now().as_second(), serde_json::to_vec(body).unwrap())
            .await
    }
}

fn triggered(incident: &str) -> Value {
    json!({"event": {"id": "01DEN4HPBOGPUA5ZZQJHXAVZKS", "event_type": "incident.triggered",
        "resource_type": "incident", "occurred_at": "2026-11-21T09:59:58.169Z",
        "data": {"id": incident, "type": "incident", "title": "Payments API 5xx",
                 "service": {"id": "PSVC001", "type": "service_reference", "summary": "payments-api"}}}})
}

fn assert_problem(a: &Answer, status: u16, mentions: &str) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.content_type, "application/problem+json");
    assert_eq!(a.body["status"], status);
    let detail = a.body["detail"].as_str().unwrap();
    assert!(
        detail.contains(mentions),
        "{detail:?} does not mention {mentions:?}"
    );
}

// ---- POST /hooks/pagerduty ----------------------------------------------------

#[tokio::test]
async fn a_triggered_incident_is_accepted_and_handed_off_once_with_its_ids() {
    let e = edge();
    let a = e.pagerduty(&triggered("PGR0VU2")).await;
    assert_eq!(a.status, 202, "{}", a.body);
    assert_eq!(
        e.handed.payloads(),
        vec![json!({"pagerduty": {"incident_id": "PGR0VU2", "event_id": "01DEN4HPBOGPUA5ZZQJHXAVZKS"}})]
    );
}

#[tokio::test]
async fn another_event_type_is_accepted_and_ignored() {
    let e = edge();
    let a = e
        .pagerduty(
            &json!({"event": {"id": "E2", "event_type": "incident.acknowledged", "data": {"id": "PGR0VU2"}}}),
        )
        .await;
    assert_eq!(a.status, 202);
    assert_eq!(a.body, json!({"ignored": "incident.acknowledged"}));
    assert!(e.handed.payloads().is_empty());
}

#[tokio::test]
async fn a_wrong_or_missing_signature_is_401_and_nothing_is_handed_off() {
    let e = edge();
    let body = serde_json::to_vec(&triggered("PGR0VU2")).unwrap();
    let forged = pd_signature(&pd_secret("someone else"), &body);
    assert_problem(
        &e.pagerduty_signed(&forged, body.clone()).await,
        401,
        "X-PagerDuty-Signature",
    );
    // Signed, then the body changed on the way.
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    let sig = pd_signature(&e.pd, &body);
    assert_problem(
        &e.pagerduty_signed(&sig, tampered).await,
        401,
        "X-PagerDuty-Signature",
    );
    let unsigned = e
        .send(
            "POST",
            "/hooks/pagerduty",
            &[("content-type", "application/json".into())],
            body,
        )
        .await;
    assert_problem(&unsigned, 401, "missing X-PagerDuty-Signature");
    assert!(e.handed.payloads().is_empty());
}

#[tokio::test]
async fn a_verified_body_that_is_not_the_envelope_is_400_naming_the_field() {
    let e = edge();
    let not_json = b"{not json".to_vec();
    let sig = pd_signature(&e.pd, &not_json);
    let a = e.pagerduty_signed(&sig, not_json).await;
    assert_problem(&a, 400, "body");
    let a = e.pagerduty(&json!({"event": {"id": "E3"}})).await;
    assert_problem(&a, 400, "event.event_type");
    assert_eq!(a.body["errors"][0]["field"], "event.event_type");
    let a = e
        .pagerduty(
            &json!({"event": {"id": "E3", "event_type": "incident.triggered", "data": {"id": "P/../1"}}}),
        )
        .await;
    assert_problem(&a, 400, "event.data.id");
    assert!(e.handed.payloads().is_empty());
}

#[tokio::test]
async fn a_body_over_64_kib_is_413_before_anything_else() {
    let e = edge();
    let mut big = triggered("PGR0VU2");
    big["event"]["data"]["title"] = json!("x".repeat(64 * 1024));
    let a = e.pagerduty(&big).await;
    assert_problem(&a, 413, "65536");
    let body = serde_json::to_vec(&json!({"id": "INC-1", "title": "y".repeat(64 * 1024)})).unwrap();
    assert_problem(
        &e.incident_raw("msg_big", now().as_second(), body).await,
        413,
        "65536",
    );
    assert!(e.handed.payloads().is_empty());
}

#[tokio::test]
async fn during_a_rotation_both_secrets_are_accepted() {
    let (old, new) = (pd_secret("old"), pd_secret("new"));
    let e = edge_with(&format!("{old}\n{new}"), &std_secret("std"));
    let body = serde_json::to_vec(&triggered("PGR0VU2")).unwrap();
    for secret in [&old, &new] {
        let a = e
            .pagerduty_signed(&pd_signature(secret, &body), body.clone())
            .await;
        assert_eq!(a.status, 202, "{}", a.body);
    }
    // PagerDuty's own rotation: two v1 values, one of them ours.
    let both = format!(
        "{},{}",
        pd_signature(&pd_secret("theirs"), &body),
        pd_signature(&new, &body)
    );
    assert_eq!(e.pagerduty_signed(&both, body).await.status, 202);
    assert_eq!(e.handed.payloads().len(), 3);
}

#[tokio::test]
async fn a_failed_hand_off_is_503_so_pagerduty_delivers_again() {
    let e = edge();
    e.handed.fail(1);
    assert_problem(&e.pagerduty(&triggered("PGR0VU2")).await, 503, "deliver again");
    assert_eq!(e.pagerduty(&triggered("PGR0VU2")).await.status, 202);
    assert_eq!(e.handed.payloads().len(), 1);
}

// ---- POST /hooks/incident -----------------------------------------------------

#[tokio::test]
async fn a_signed_generic_incident_is_handed_off_as_the_responders_event() {
    let e = edge();
    let incident = json!({"id": "INC-42", "title": "Payments down", "impact": 1, "workload": "payments",
        "resources": ["arn:aws:rds:us-east-1:111122223333:db:payments-main"], "url": "https://tool.example.com/i/42"});
    let a = e.incident("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", &incident).await;
    assert_eq!(a.status, 202, "{}", a.body);
    assert_eq!(
        e.handed.payloads(),
        vec![
            json!({"source": "support-plans.webhook", "detail-type": "Incident Started", "time": NOW,
                    "detail": incident})
        ]
    );
}

#[tokio::test]
async fn a_stale_or_future_timestamp_is_refused_and_nothing_remembered() {
    let e = edge();
    let body = serde_json::to_vec(&json!({"id": "INC-1", "title": "t"})).unwrap();
    let stale = e
        .incident_raw("msg_stale", now().as_second() - 301, body.clone())
        .await;
    assert_problem(&stale, 401, "in the past");
    let future = e.incident_raw("msg_future", now().as_second() + 301, body).await;
    assert_problem(&future, 401, "in the future");
    assert!(e.handed.payloads().is_empty());
    assert_eq!(e.ids.until("msg_stale"), None);
}

#[tokio::test]
async fn a_wrong_signature_is_401_on_the_generic_route_too() {
    let e = edge();
    let other = edge();
    let a = other.incident("msg_1", &json!({"id": "INC-1"})).await;
    assert_eq!(a.status, 202);
    // The same delivery, checked with another secret.
    let body = serde_json::to_vec(&json!({"id": "INC-1"})).unwrap();
    let headers = [
        ("webhook-id", "msg_1".to_owned()),
        ("webhook-timestamp", now().as_second().to_string()),
        (
            "webhook-signature",
            std_signature(&other.std, "msg_1", now().as_second(), &body),
        ),
    ];
    assert_problem(
        &e.send("POST", "/hooks/incident", &headers, body.clone()).await,
        401,
        "webhook-signature",
    );
    assert_problem(
        &e.send("POST", "/hooks/incident", &headers[..2], body).await,
        401,
        "missing webhook-signature",
    );
    assert!(e.handed.payloads().is_empty());
}

#[tokio::test]
async fn a_replayed_webhook_id_is_409_and_handed_off_only_once() {
    let e = edge();
    let incident = json!({"id": "INC-7", "title": "Checkout slow", "impact": 3});
    assert_eq!(e.incident("msg_replayed", &incident).await.status, 202);
    let again = e.incident("msg_replayed", &incident).await;
    assert_problem(&again, 409, "webhook-id");
    assert_eq!(e.handed.payloads().len(), 1);
}

#[tokio::test]
async fn a_failed_hand_off_records_no_id_so_the_redelivery_succeeds() {
    let e = edge();
    let incident = json!({"id": "INC-8", "title": "Queue backlog"});
    e.handed.fail(1);
    assert_problem(&e.incident("msg_retry", &incident).await, 503, "deliver again");
    assert_eq!(e.ids.until("msg_retry"), None, "nothing refuses the redelivery");
    assert_eq!(e.incident("msg_retry", &incident).await.status, 202);
    assert_eq!(e.handed.payloads().len(), 1);
}

#[tokio::test]
async fn an_invalid_generic_incident_is_400_naming_the_field_and_nothing_remembered() {
    let e = edge();
    let a = e.incident("msg_bad", &json!({"id": "INC-9", "impact": 9})).await;
    assert_problem(&a, 400, "impact");
    assert_eq!(a.body["errors"][0]["field"], "impact");
    let a = e.incident("msg_bad2", &json!({"title": "no id"})).await;
    assert_problem(&a, 400, "id");
    let not_json = e
        .incident_raw("msg_bad3", now().as_second(), b"id=1".to_vec())
        .await;
    assert_problem(&not_json, 400, "body");
    assert_eq!(e.ids.until("msg_bad"), None);
    assert!(e.handed.payloads().is_empty());
    // Fixed and sent again under the same id: accepted.
    assert_eq!(
        e.incident("msg_bad", &json!({"id": "INC-9", "impact": 2}))
            .await
            .status,
        202
    );
}

// ---- Secrets, routes, methods -------------------------------------------------

#[tokio::test]
async fn an_empty_secret_is_503_on_its_route_only_naming_its_variable() {
    let e = edge_with("", &std_secret("std"));
    let body = serde_json::to_vec(&triggered("PGR0VU2")).unwrap();
    let a = e.pagerduty_signed(&pd_signature("", &body), body).await;
    assert_problem(&a, 503, "PAGERDUTY_WEBHOOK_SECRET_ARN");
    assert_eq!(e.incident("msg_ok", &json!({"id": "INC-1"})).await.status, 202);

    let e = edge_with(&pd_secret("pd"), "whsec_dG9vIHNob3J0");
    assert_problem(
        &e.incident("msg_short", &json!({"id": "INC-1"})).await,
        503,
        "INCIDENT_WEBHOOK_SECRET_ARN",
    );
    assert_eq!(e.pagerduty(&triggered("PGR0VU2")).await.status, 202);
}

#[tokio::test]
async fn a_secret_is_read_once_and_again_after_its_time_so_a_rotation_needs_no_deploy() {
    let pd = FakeSecret::default();
    let handed = FakeHandOff::default();
    let mut hooks = Hooks::new(
        FakeWebhookIds::default(),
        FakeResponseMarks::default(),
        handed.clone(),
        pd.clone(),
        FakeSecret::new(""),
        FakeSecret::new(""),
    );
    hooks.pagerduty_secret = hooks.pagerduty_secret.keeping_for(Duration::from_millis(50));
    let app = app(hooks);
    let send = |secret: String| {
        let app = app.clone();
        async move {
            let body = serde_json::to_vec(&triggered("PGR0VU2")).unwrap();
            let request = Request::post("/hooks/pagerduty")
                .header("x-pagerduty-signature", pd_signature(&secret, &body))
                .body(Body::from(body))
                .unwrap();
            app.oneshot(request).await.unwrap().status().as_u16()
        }
    };
    let secret_one = pd_secret("one");
    pd.set(&secret_one);
    // Read on the first delivery only.
    assert_eq!(send(secret_one.clone()).await, 202);
    assert_eq!(send(secret_one.clone()).await, 202);
    assert_eq!(pd.reads(), 1);
    // Rotated: the old value still serves until its time is up, then the new one.
    let secret_two = pd_secret("two");
    pd.set(&secret_two);
    assert_eq!(send(secret_two.clone()).await, 401);
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(send(secret_two).await, 202);
    assert_eq!(send(secret_one).await, 401);
    assert_eq!(pd.reads(), 2);
}

#[tokio::test]
async fn other_paths_are_404_and_other_methods_405() {
    let e = edge();
    assert_problem(
        &e.send("POST", "/hooks/other", &[], vec![]).await,
        404,
        "no such route",
    );
    assert_problem(&e.send("GET", "/hooks/pagerduty", &[], vec![]).await, 405, "POST");
    assert_problem(&e.send("PUT", "/hooks/incident", &[], vec![]).await, 405, "POST");
}

/// A rough figure of the handler's own time (debug build, in-memory ports)
/// for a verified PagerDuty delivery; the bench measures the release build.
#[tokio::test]
async fn handler_time_for_a_verified_pagerduty_delivery() {
    let e = edge();
    let body = serde_json::to_vec(&triggered("PGR0VU2")).unwrap();
    let sig = pd_signature(&e.pd, &body);
    assert_eq!(e.pagerduty_signed(&sig, body.clone()).await.status, 202);
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..2000 {
        let start = Instant::now();
        let a = e.pagerduty_signed(&sig, body.clone()).await;
        times.push(start.elapsed());
        assert_eq!(a.status, 202);
    }
    times.sort();
    let p = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "handler time over 2000 verified deliveries: p50 {:?}, p99 {:?}, max {:?}",
        p(0.5),
        p(0.99),
        p(1.0)
    );
}
