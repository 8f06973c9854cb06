//! The V3 `incident.triggered` webhook: delivered after `POST /incidents`
//! without holding it up, signed as PagerDuty signs (checked here the way
//! the "Verifying Signatures" page says a receiver checks), retried as
//! PagerDuty retries, redelivered byte for byte on request.

mod common;

use std::time::{Duration, Instant};

use axum::http::Method;
use common::{Receiver, TOKEN, admin, incident, pd, service, start, wait_deliveries};
use hmac::{Hmac, Mac};
use pagerduty_standin::{Config, WebhookConfig};
use serde_json::json;
use sha2::Sha256;

const SECRET: &str = "whsec-current";
const NEXT: &str = "whsec-next";

fn config(target: &str, secrets: &[&str]) -> Config {
    let mut c = Config::new(TOKEN);
    c.webhook = Some(WebhookConfig::new(
        target,
        secrets.iter().map(|s| s.to_string()).collect(),
    ));
    c
}

/// The documented check: split on ",", keep `v1=` values, compare each with
/// the hex HMAC-SHA256 of the raw body under the secret.
fn verifies(header: &str, body: &[u8], secret: &str) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    header
        .split(',')
        .filter_map(|s| s.trim().strip_prefix("v1="))
        .any(|sig| sig == expected)
}

#[tokio::test]
async fn incident_triggered_is_delivered_signed_in_the_v3_envelope() {
    let rx = Receiver::start(&[], Duration::ZERO).await;
    let s = start(config(&rx.url, &[SECRET])).await;
    let svc = service(&s, "Checkout").await;
    let created = incident(&s, &svc, "Checkout is down").await;
    let records = wait_deliveries(&s, 1).await;
    assert_eq!(records[0]["delivered"], true, "{}", records[0]);
    assert_eq!(records[0]["attempts"], 1);
    assert_eq!(records[0]["status"], 202);

    let got = rx.received();
    assert_eq!(got.len(), 1);
    let d = &got[0];
    assert_eq!(d.header("content-type"), "application/json");
    assert_eq!(d.header("user-agent"), "PagerDuty-Webhook/V3.0");
    assert_eq!(d.header("x-webhook-subscription"), "PSTNDIN");
    assert_eq!(
        d.header("x-webhook-id"),
        records[0]["webhook_id"].as_str().unwrap()
    );
    let sig = d.header("x-pagerduty-signature");
    assert!(verifies(&sig, &d.body, SECRET), "{sig}");
    assert!(!verifies(&sig, &d.body, "another secret"));
    let mut tampered = d.body.to_vec();
    tampered.push(b' ');
    assert!(
        !verifies(&sig, &tampered, SECRET),
        "the signature covers the raw body"
    );

    let e = &d.json()["event"];
    assert_eq!(e["event_type"], "incident.triggered");
    assert_eq!(e["resource_type"], "incident");
    assert!(e["occurred_at"].as_str().unwrap().ends_with('Z'));
    assert!(e.get("agent").is_some() && e.get("client").is_some());
    let data = &e["data"];
    assert_eq!(data["type"], "incident");
    assert_eq!(data["id"], created["id"]);
    assert_eq!(data["number"], created["incident_number"]);
    assert_eq!(data["status"], "triggered");
    assert_eq!(data["title"], "Checkout is down");
    assert_eq!(
        data["service"],
        json!({"id": svc, "type": "service_reference", "summary": "Checkout",
        "self": format!("{}/services/{svc}", s.url()), "html_url": format!("{}/services/{svc}", s.url())})
    );
    assert_eq!(data["urgency"], "high");
    assert!(data["priority"].is_null());
}

#[tokio::test]
async fn during_rotation_the_header_carries_one_v1_per_secret() {
    let rx = Receiver::start(&[], Duration::ZERO).await;
    let s = start(config(&rx.url, &[SECRET, NEXT])).await;
    let svc = service(&s, "Checkout").await;
    incident(&s, &svc, "Down").await;
    wait_deliveries(&s, 1).await;
    let d = &rx.received()[0];
    let sig = d.header("x-pagerduty-signature");
    let values: Vec<&str> = sig.split(',').collect();
    assert_eq!(values.len(), 2, "{sig}");
    assert!(
        values.iter().all(|v| v.starts_with("v1=") && v.len() == 67),
        "{sig}"
    );
    // A receiver holding either secret accepts it.
    assert!(verifies(&sig, &d.body, SECRET));
    assert!(verifies(&sig, &d.body, NEXT));
    assert!(verifies(values[1], &d.body, NEXT) && !verifies(values[0], &d.body, NEXT));
}

#[tokio::test]
async fn post_incidents_answers_at_once_while_the_webhook_is_slow() {
    let rx = Receiver::start(&[], Duration::from_secs(2)).await;
    let s = start(config(&rx.url, &[SECRET])).await;
    let svc = service(&s, "Checkout").await;
    let started = Instant::now();
    incident(&s, &svc, "Down").await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let d = admin(&s, Method::GET, "deliveries", None).await;
    assert_eq!(d["pending"], 1);
    assert_eq!(wait_deliveries(&s, 1).await[0]["delivered"], true);
}

#[tokio::test]
async fn server_errors_are_retried_with_the_same_webhook_id_client_errors_are_not() {
    let rx = Receiver::start(&[500, 429, 503], Duration::ZERO).await;
    let s = start(config(&rx.url, &[SECRET])).await;
    let svc = service(&s, "Checkout").await;
    incident(&s, &svc, "Down").await;
    let r = &wait_deliveries(&s, 1).await[0];
    assert_eq!(r["delivered"], true, "{r}");
    assert_eq!(r["attempts"], 4);
    let got = rx.received();
    assert_eq!(got.len(), 4);
    assert!(
        got.iter()
            .all(|d| d.header("x-webhook-id") == got[0].header("x-webhook-id") && d.body == got[0].body)
    );

    let rx = Receiver::start(&[400], Duration::ZERO).await;
    let s = start(config(&rx.url, &[SECRET])).await;
    let svc = service(&s, "Checkout").await;
    incident(&s, &svc, "Down").await;
    let r = &wait_deliveries(&s, 1).await[0];
    assert_eq!(r["delivered"], false);
    assert_eq!(r["attempts"], 1);
    assert_eq!(r["status"], 400);
    assert_eq!(rx.received().len(), 1);
}

#[tokio::test]
async fn an_unreachable_target_is_tried_five_times_and_recorded() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = start(config(
        &format!("http://127.0.0.1:{port}/hooks/pagerduty"),
        &[SECRET],
    ))
    .await;
    let svc = service(&s, "Checkout").await;
    let created = pd(
        &s,
        Method::POST,
        "/incidents",
        Some(json!({"incident": {"type": "incident", "title": "x",
        "service": {"id": svc, "type": "service_reference"}}})),
    )
    .await;
    assert_eq!(created.status, 201, "a failing webhook never fails the REST call");
    let r = &wait_deliveries(&s, 1).await[0];
    assert_eq!(r["delivered"], false);
    assert_eq!(r["attempts"], 5);
    assert!(r["error"].is_string());
}

#[tokio::test]
async fn redelivery_repeats_the_same_bytes_and_webhook_id() {
    let rx = Receiver::start(&[], Duration::ZERO).await;
    let s = start(config(&rx.url, &[SECRET])).await;
    let svc = service(&s, "Checkout").await;
    incident(&s, &svc, "Down").await;
    let id = wait_deliveries(&s, 1).await[0]["webhook_id"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..4 {
        admin(&s, Method::POST, &format!("deliveries/{id}/redeliver"), None).await;
    }
    wait_deliveries(&s, 5).await;
    let got = rx.received();
    assert_eq!(got.len(), 5);
    assert!(got.iter().all(|d| d.body == got[0].body
        && d.header("x-webhook-id") == id
        && d.header("x-pagerduty-signature") == got[0].header("x-pagerduty-signature")));
}

#[tokio::test]
async fn without_a_target_nothing_is_sent() {
    let s = start(Config::new(TOKEN)).await;
    let svc = service(&s, "Checkout").await;
    incident(&s, &svc, "Down").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let d = admin(&s, Method::GET, "deliveries", None).await;
    assert_eq!(d["deliveries"], json!([]));
    assert_eq!(d["pending"], 0);
}

#[tokio::test]
async fn a_subscription_filtered_to_one_service_sends_only_its_incidents() {
    let rx = Receiver::start(&[], Duration::ZERO).await;
    let s = start(config(&rx.url, &[SECRET])).await;
    let watched = service(&s, "Checkout").await;
    let other = service(&s, "Search").await;
    let filter = json!({"filter": {"type": "service_reference", "id": watched}});
    assert_eq!(
        admin(&s, Method::PUT, "subscription", Some(filter.clone())).await,
        filter
    );
    incident(&s, &other, "Search is slow").await;
    let on_watched = incident(&s, &watched, "Checkout is down").await;
    let records = wait_deliveries(&s, 1).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(rx.received().len(), 1, "only the watched service's incident");
    assert_eq!(records[0]["incident_id"], on_watched["id"]);

    let every = json!({"filter": {"type": "account_reference"}});
    admin(&s, Method::PUT, "subscription", Some(every.clone())).await;
    assert_eq!(admin(&s, Method::GET, "subscription", None).await, every);
    incident(&s, &other, "Search is down").await;
    wait_deliveries(&s, 2).await;
    assert_eq!(rx.received().len(), 2);
}
