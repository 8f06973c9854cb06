//! The readiness snapshot (SPEC §15) through the binaries that deploy: the
//! plans API and the freshness check under `cargo lambda watch`, DynamoDB in
//! moto. After a freshness run, and after writes and retirements through
//! the API, `GET /readiness` (one item read) equals a full recomputation at
//! the snapshot's `as_of` over the whole stack table (every plan and
//! workload in memory: `readiness::current`, the reference).
//!
//! Runs in the `shared-stack-figures` group: the figures count the whole table.

use std::time::{SystemTime, UNIX_EPOCH};

use jiff::Timestamp;
use serde_json::{Value, json};
use support_plans_aws::DynamoStore;
use support_plans_domain::freshness::Policy;
use support_plans_domain::readiness;
use support_plans_tests::http::request;
use support_plans_tests::stack_env as env;
use support_plans_tests::{api, as_team, invoke, local_config, plan_body, succeeded};

fn run_id() -> String {
    let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    format!("{}{}", std::process::id(), t.subsec_nanos() % 100_000)
}

async fn freshness() -> Value {
    succeeded("freshness-check", &invoke("freshness-check", &json!({})).await)
}

/// `GET /readiness` and the recomputation at its `as_of`; read again when
/// they differ, since a test outside the group may write between the two
/// reads (a wrong snapshot stays wrong).
async fn served_equals_recomputed(store: &DynamoStore, step: &str) -> Value {
    let mut last = (Value::Null, Value::Null);
    for _ in 0..3 {
        let r = api("GET", "/readiness", "platform", None).await;
        assert_eq!(r.status, 200, "{step}: {}", r.body);
        let served = r.json();
        let as_of: Timestamp = served["as_of"].as_str().unwrap().parse().unwrap();
        let reference = readiness::current(store, as_of, &Policy::default())
            .await
            .unwrap();
        let reference = serde_json::to_value(reference).unwrap();
        if served == reference {
            return served;
        }
        last = (served, reference);
    }
    panic!(
        "after {step}, GET /readiness differs from a full recomputation:\nserved    {}\nreference {}",
        last.0, last.1
    );
}

/// A write of `path` conditional on the version just read.
async fn write(team: &str, method: &str, path: &str, body: Option<&Value>) {
    let current = api("GET", path, team, None).await;
    let etag = current.header("etag").expect("an ETag").to_owned();
    let who = as_team(team);
    let mut headers: Vec<(&str, &str)> = who.iter().map(|(k, v)| (*k, v.as_str())).collect();
    headers.push(("if-match", etag.as_str()));
    let r = request(method, &format!("{}{path}", env("API_URL")), &headers, body).await;
    assert_eq!(r.status, 200, "{method} {path}: {}", r.body);
}

#[tokio::test]
async fn the_snapshot_after_a_run_writes_and_retirements_equals_a_full_recomputation() {
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&local_config().await),
        env("TABLE_NAME"),
    );
    let run = run_id();
    let team = format!("snap-{run}");
    let (a, b) = (format!("snap-a-{run}"), format!("snap-b-{run}"));
    let mut body_a = plan_body(&a, &team);
    body_a["channels"] = json!([{"kind": "phone", "value": "+12065550100", "hours": "24x7"}]);
    for body in [&body_a, &plan_body(&b, &team)] {
        let r = api("POST", "/plans", &team, Some(body)).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let workload = format!("snap-w-{run}");
    let r = api(
        "POST",
        "/workloads",
        &team,
        Some(
            &json!({"name": workload, "owner": {"team": team, "email": format!("{team}@example.com")},
                     "criticality": "tier-1", "dependencies": [a]}),
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);

    // A freshness run replaces the snapshot with every figure at its `now`.
    let summary = freshness().await;
    assert_eq!(summary["snapshot"], "replaced", "{summary}");
    let after_run = served_equals_recomputed(&store, "a freshness run").await;
    let as_of = after_run["as_of"].clone();

    // Writes keep it current at the run's `as_of`.
    let mut hours = body_a.clone();
    hours["channels"] = json!([{"kind": "phone", "value": "+12065550100", "hours": "business-hours"}]);
    write(&team, "PUT", &format!("/plans/{a}"), Some(&hours)).await;
    let changed =
        served_equals_recomputed(&store, "the workload's only 24x7 channel made business hours").await;
    assert_eq!(changed["as_of"], as_of, "a write keeps the run's as_of");
    assert_eq!(
        changed["tier1_workloads_without_24x7"].as_u64().unwrap(),
        after_run["tier1_workloads_without_24x7"].as_u64().unwrap() + 1
    );
    write(&team, "DELETE", &format!("/plans/{a}"), None).await;
    let retired = served_equals_recomputed(&store, "the workload's plan retired").await;
    assert_eq!(
        retired["workloads_without_active_plan"].as_u64().unwrap(),
        after_run["workloads_without_active_plan"].as_u64().unwrap() + 1
    );
    write(&team, "DELETE", &format!("/workloads/{workload}"), None).await;
    write(&team, "DELETE", &format!("/plans/{b}"), None).await;
    served_equals_recomputed(&store, "the workload and the other plan retired").await;

    // The next run computes it all again, at its own `now`.
    let summary = freshness().await;
    assert_eq!(summary["snapshot"], "replaced", "{summary}");
    let again = served_equals_recomputed(&store, "the next freshness run").await;
    assert_ne!(again["as_of"], as_of);
}
