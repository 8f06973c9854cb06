//! The runbook's payload end to end (SPEC §4, "The runbook's payload"): a
//! response plan whose action is template.yaml's runbook, an incident started
//! with the AWS SDK, the emulator rendering the template's own
//! `aws:invokeLambdaFunction` step (as `make local-up` starts it, with
//! `--runbook-template template.yaml`) and delivering it to the responder under
//! `cargo lambda watch`: `involved_resources` arrives as a JSON list, the
//! responder matches the workload from it, and the incident gets its note.
//!
//! Runs inside the local stack (`make test`, or
//! `infra/local/with-stack.sh cargo nextest run -p support-plans-tests --test runbook`).

use std::time::{Duration, Instant};

use aws_sdk_ssmincidents::types::IncidentTemplate;
use serde_json::{Value, json};
use support_plans_tests::http::request;
use support_plans_tests::incidents::{involved_resource, runbook_action};
use support_plans_tests::stack_env as env;
use support_plans_tests::{local_config, plan_body};

async fn api(method: &str, path: &str, team: &str, body: &Value) -> support_plans_tests::http::Reply {
    let principal = format!("lead@{team}.example.com");
    let headers = [
        ("x-local-principal", principal.as_str()),
        ("x-local-groups", team),
    ];
    request(method, &format!("{}{path}", env("API_URL")), &headers, Some(body)).await
}

/// This incident's finished runbook delivery, waited for.
async fn runbook_delivery(incident: &str) -> Value {
    let emulator = env("AWS_ENDPOINT_URL_SSM_INCIDENTS");
    let started = Instant::now();
    loop {
        let all = request("GET", &format!("{emulator}/_emulator/deliveries"), &[], None)
            .await
            .json();
        let ours = all["deliveries"]
            .as_array()
            .expect("deliveries")
            .iter()
            .find(|d| d["incident_record_arn"] == json!(incident) && d["kind"] == "runbook")
            .cloned();
        if let Some(d) = ours {
            return d;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no runbook delivery for {incident}: {all}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn the_template_runbook_hands_the_responder_a_list_of_resources() {
    let run = format!("{:x}", jiff::Timestamp::now().as_millisecond() % 0xff_ffff);
    let im = aws_sdk_ssmincidents::Client::new(&local_config().await);

    // One plan, and one workload that relies on it and matches the
    // incident only by its involved resource.
    let team = format!("ledger-{run}");
    let plan_id = format!("ledger-vendor-{run}");
    let r = api("POST", "/plans", &team, &plan_body(&plan_id, &team)).await;
    assert_eq!(r.status, 201, "POST /plans: {}", r.body);
    let workload = format!("ledger-{run}");
    let body = json!({
        "name": workload,
        "owner": {"team": team, "email": format!("{team}@example.com")},
        "criticality": "tier-1",
        "dependencies": [plan_id],
        "match": {"resource_patterns": [format!("arn:aws:rds:*:*:db:ledger-{run}-*")]},
    });
    let r = api("POST", "/workloads", &team, &body).await;
    assert_eq!(r.status, 201, "POST /workloads: {}", r.body);

    // The response plan as deployed: the runbook action, fed Incident
    // Manager's two dynamic parameters.
    let plan_arn = im
        .create_response_plan()
        .name(format!("ledger-{run}"))
        .incident_template(
            IncidentTemplate::builder()
                .title("Ledger incident")
                .impact(2)
                .build()
                .unwrap(),
        )
        .actions(runbook_action())
        .send()
        .await
        .expect("create the response plan")
        .arn;

    let db = format!("arn:aws:rds:us-east-1:111122223333:db:ledger-{run}-main");
    let incident = im
        .start_incident()
        .response_plan_arn(&plan_arn)
        .impact(1)
        .related_items(involved_resource(&db))
        .send()
        .await
        .expect("start the incident")
        .incident_record_arn;

    // What the template's runbook sent, and what the responder answered.
    let d = runbook_delivery(&incident).await;
    assert_eq!(
        d["payload"],
        json!({"incident_record_arn": incident, "involved_resources": [db]}),
        "template.yaml's runbook, rendered: involved_resources is a JSON list: {d}"
    );
    assert!(
        d["delivered"] == json!(true) && d["status"] == json!(200),
        "the responder took it: {d}"
    );
    assert_eq!(d["answer"]["status"], "posted", "{d}");
    assert_eq!(
        d["answer"]["workloads"],
        json!([workload]),
        "matched from the resource: {d}"
    );

    // The incident's note, once, naming the plan's vendor.
    let started = Instant::now();
    let notes = loop {
        let events = im
            .list_timeline_events()
            .incident_record_arn(&incident)
            .send()
            .await
            .expect("timeline")
            .event_summaries;
        let notes: Vec<_> = events.into_iter().filter(|e| e.event_type == "Note").collect();
        if !notes.is_empty() || started.elapsed() > Duration::from_secs(60) {
            break notes;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(notes.len(), 1, "one note for the one plan: {notes:?}");
    let note = im
        .get_timeline_event()
        .incident_record_arn(&incident)
        .event_id(&notes[0].event_id)
        .send()
        .await
        .expect("the note")
        .event
        .unwrap()
        .event_data;
    assert!(note.contains("Example Vendor"), "{note}");
}
