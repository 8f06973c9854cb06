//! SPEC §13 "Works for Incident Manager and PagerDuty incidents alike": the
//! follow-up sweep's open PagerDuty incidents, read by the adapter
//! (`IncidentSource::open_since`, `GET /incidents`) from the PagerDuty
//! stand-in (infra/pagerduty-standin, in process) with the token in
//! Secrets Manager of the local stack, and the responder's composite source
//! listing Incident Manager's (the emulator) and PagerDuty's together. What is
//! checked is what the sweep would follow up, and the REST calls PagerDuty got.

mod common;

use common::World;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use support_plans_aws::incidents::IncidentManager;
use support_plans_aws::pagerduty::{PAGING, PagerDuty, PagerDutyConfig, Paging};
use support_plans_aws::responder::Incidents;
use support_plans_domain::pagerduty as pd;
use support_plans_domain::pipeline::IncidentId;
use support_plans_domain::ports::{IncidentSource as _, PortError};

const TOKEN: &str = "y_NbAkKc66ryYTWUXYEu";

struct Pd {
    standin: pagerduty_standin::Running,
    adapter: PagerDuty,
    service: String,
}

/// The stand-in with one service, and the adapter reading it with the token from a fresh secret.
async fn pagerduty() -> Pd {
    let standin = pagerduty_standin::spawn(pagerduty_standin::Config::new(TOKEN))
        .await
        .unwrap();
    let sdk = support_plans_tests::local_config().await;
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let name = format!(
        "pd-open-{}-{}",
        std::process::id(),
        Timestamp::now().as_nanosecond()
    );
    let secret = secrets
        .create_secret()
        .name(name)
        .secret_string(TOKEN)
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let adapter = PagerDuty::with_secrets(
        PagerDutyConfig {
            url: standin.url(),
            token_secret: secret,
            from: "support-plans@example.com".into(),
            impacts: Default::default(),
        },
        secrets,
    );
    let mut p = Pd {
        standin,
        adapter,
        service: String::new(),
    };
    p.service = p
        .rest(
            "POST",
            "/services",
            Some(&json!({"service": {"type": "service", "name": "Ledger API"}})),
        )
        .await["service"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    p
}

impl Pd {
    async fn rest(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let auth = format!("Token token={TOKEN}");
        let reply = support_plans_tests::http::request(
            method,
            &format!("{}{path}", self.standin.url()),
            &[("authorization", &auth), ("from", "oncall@example.com")],
            body,
        )
        .await;
        assert!(
            reply.status < 300,
            "{method} {path}: {} {}",
            reply.status,
            reply.body
        );
        reply.json()
    }

    async fn admin(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let reply =
            support_plans_tests::http::request(method, &format!("{}{path}", self.standin.url()), &[], body)
                .await;
        assert!(
            reply.status < 300,
            "{method} {path}: {} {}",
            reply.status,
            reply.body
        );
        reply.json()
    }

    /// A new (triggered) incident's id.
    async fn incident(&self, title: &str) -> String {
        self.rest(
            "POST",
            "/incidents",
            Some(&json!({"incident": {"type": "incident", "title": title,
                "service": {"id": self.service, "type": "service_reference"}}})),
        )
        .await["incident"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn set_status(&self, id: &str, status: &str) {
        self.rest(
            "PUT",
            &format!("/incidents/{id}"),
            Some(&json!({"incident": {"type": "incident_reference", "status": status}})),
        )
        .await;
    }

    async fn age(&self, id: &str, minutes: i64) {
        self.admin(
            "POST",
            &format!("/_standin/incidents/{id}/age"),
            Some(&json!({"minutes": minutes})),
        )
        .await;
    }

    async fn list_calls(&self) -> u64 {
        self.admin("GET", "/_standin/calls", None).await["calls"]["ListIncidents"]
            .as_u64()
            .unwrap_or(0)
    }
}

fn an_hour_ago() -> Timestamp {
    Timestamp::now() - SignedDuration::from_hours(1)
}

fn sorted(mut ids: Vec<IncidentId>) -> Vec<IncidentId> {
    ids.sort_by_key(IncidentId::key);
    ids
}

#[tokio::test]
async fn the_open_incidents_of_the_window_are_listed_and_resolved_or_older_ones_are_not() {
    let p = pagerduty().await;
    let triggered = p.incident("Ledger writes failing").await;
    let acknowledged = p.incident("Ledger slow").await;
    p.set_status(&acknowledged, "acknowledged").await;
    let resolved = p.incident("Ledger blip").await;
    p.set_status(&resolved, "resolved").await;
    let older = p.incident("Ledger down yesterday").await;
    p.age(&older, 120).await;
    // Open, and aged into the past but still inside the window: listed.
    let aged = p.incident("Ledger reads failing").await;
    p.age(&aged, 50).await;

    let open = p.adapter.open_since(an_hour_ago()).await.unwrap();
    assert_eq!(
        sorted(open),
        sorted(vec![pd::id(&triggered), pd::id(&acknowledged), pd::id(&aged)]),
        "not the resolved one, not the one created two hours ago"
    );
    assert_eq!(p.list_calls().await, 1, "one page");
}

#[tokio::test]
async fn more_than_one_page_is_read_to_the_end_each_incident_once() {
    let p = pagerduty().await;
    let started = std::time::Instant::now();
    let mut made = Vec::new();
    for n in 0..250 {
        made.push(p.incident(&format!("Ledger shard {n} failing")).await);
    }
    eprintln!("250 incidents created in {:?}", started.elapsed());
    p.admin("DELETE", "/_standin/calls", None).await;
    let started = std::time::Instant::now();
    let open = p
        .adapter
        .open_incidents(an_hour_ago(), Timestamp::now(), PAGING)
        .await
        .unwrap();
    eprintln!("250 open incidents listed in {:?}", started.elapsed());
    assert_eq!(open.ids, made, "every one, once, oldest first");
    assert!(!open.more);
    assert_eq!(p.list_calls().await, 3, "pages of 100: 100, 100, 50");
}

#[tokio::test]
async fn a_window_holding_more_than_the_bound_is_read_up_to_it_and_says_so() {
    let p = pagerduty().await;
    let mut made = Vec::new();
    for n in 0..7 {
        made.push(p.incident(&format!("Ledger shard {n} failing")).await);
    }
    p.admin("DELETE", "/_standin/calls", None).await;
    let open = p
        .adapter
        .open_incidents(an_hour_ago(), Timestamp::now(), Paging { limit: 2, pages: 3 })
        .await
        .unwrap();
    assert_eq!(open.ids, made[..6], "three pages of two, the oldest");
    assert!(open.more, "the seventh was not read");
    assert_eq!(p.list_calls().await, 3, "and no fourth call");
}

#[tokio::test]
async fn throttling_and_5xx_are_retried_and_a_refusal_is_not() {
    let p = pagerduty().await;
    let id = p.incident("Ledger writes failing").await;
    p.admin(
        "POST",
        "/_standin/faults",
        Some(&json!([
            {"operation": "ListIncidents", "status": 429, "retry_after": 1, "count": 1},
            {"operation": "ListIncidents", "status": 502, "count": 1},
        ])),
    )
    .await;
    let open = p.adapter.open_since(an_hour_ago()).await.unwrap();
    assert_eq!(open, [pd::id(&id)]);
    assert_eq!(p.list_calls().await, 3, "429, 502, then the page");

    p.admin(
        "POST",
        "/_standin/faults",
        Some(&json!({"operation": "ListIncidents", "status": 403})),
    )
    .await;
    let refused = p.adapter.open_since(an_hour_ago()).await.unwrap_err();
    assert!(
        matches!(&refused, PortError::Refused(m) if m.contains("403")),
        "{refused:?}"
    );
    assert_eq!(p.list_calls().await, 4, "403: one try");
}

#[tokio::test]
async fn the_sweep_lists_both_sources_and_one_failing_does_not_hide_the_other() {
    let w = World::new().await;
    let p = pagerduty().await;
    let arn = w.start_incident("Payments down", 1, &[]).await;
    let page = p.incident("Ledger writes failing").await;
    let manager = IncidentManager::new(w.im.clone());
    let both = Incidents {
        manager: manager.clone(),
        pagerduty: Some(p.adapter.clone()),
    };
    let open = both.open_since(an_hour_ago()).await.unwrap();
    let keys: Vec<String> = open.iter().map(IncidentId::key).collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.contains(&arn), "{keys:?}");
    assert!(keys.contains(&format!("pagerduty:{page}")), "{keys:?}");

    // PagerDuty refuses: Incident Manager's incident is still followed up.
    p.admin(
        "POST",
        "/_standin/faults",
        Some(&json!({"operation": "ListIncidents", "status": 401})),
    )
    .await;
    let open = both.open_since(an_hour_ago()).await.unwrap();
    assert_eq!(
        open.iter().map(IncidentId::key).collect::<Vec<_>>(),
        std::slice::from_ref(&arn)
    );
    p.admin("DELETE", "/_standin/faults", None).await;

    // Incident Manager unreachable: PagerDuty's incident still is.
    let unreachable = aws_sdk_ssmincidents::Client::from_conf(
        aws_sdk_ssmincidents::config::Builder::from(&support_plans_tests::local_config().await)
            .endpoint_url("http://127.0.0.1:9")
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build(),
    );
    let im_down = Incidents {
        manager: IncidentManager::new(unreachable.clone()),
        pagerduty: Some(p.adapter.clone()),
    };
    let open = im_down.open_since(an_hour_ago()).await.unwrap();
    assert_eq!(open, [pd::id(&page)]);

    // Both failing: the sweep fails (and runs again on its schedule).
    p.admin(
        "POST",
        "/_standin/faults",
        Some(&json!({"operation": "ListIncidents", "status": 403})),
    )
    .await;
    let failed = im_down.open_since(an_hour_ago()).await.unwrap_err();
    assert!(failed.to_string().contains("PagerDuty"), "{failed}");
    p.admin("DELETE", "/_standin/faults", None).await;

    // PagerDuty not configured: Incident Manager's only, PagerDuty not called, no error.
    p.admin("DELETE", "/_standin/calls", None).await;
    let without = Incidents {
        manager,
        pagerduty: None,
    };
    let open = without.open_since(an_hour_ago()).await.unwrap();
    assert_eq!(open.iter().map(IncidentId::key).collect::<Vec<_>>(), [arn]);
    assert_eq!(p.list_calls().await, 0);
}
