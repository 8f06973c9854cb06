//! Issue 17's acceptance through the local stack (SPEC §13): an Incident
//! Manager incident answered by the responder under `cargo lambda watch`,
//! aged in the emulator, then swept as `FollowUpSchedule` would sweep it;
//! the "vendor responded" link served by incident-hooks; the AWS case
//! opened in moto's Support API.
//!
//! What is counted is what a responder sees: the notes on the incident's
//! timeline, and the cases the Support API holds. Every name carries this
//! run's id, and each test ages only its own incidents.

use std::time::{Duration, Instant};

use aws_sdk_ssmincidents::types::{IncidentRecordStatus, IncidentTemplate};
use serde_json::{Value, json};
use support_plans_domain::responded::issue_link;
use support_plans_domain::token::KeySet;
use support_plans_tests::http::{Reply, request, request_bytes};
use support_plans_tests::incidents::involved_resource;
use support_plans_tests::stack_env as env;
use support_plans_tests::{api, local_config, plan_body};

fn run_id() -> String {
    format!("{:x}", jiff::Timestamp::now().as_millisecond() % 0xff_ffff)
}

/// Invokes the responder as Lambda would, synchronously.
async fn invoke(event: &Value) -> Reply {
    let lambda = env("LAMBDA_ENDPOINT");
    request(
        "POST",
        &format!("{lambda}/2015-03-31/functions/incident-responder/invocations"),
        &[],
        Some(event),
    )
    .await
}

/// Moves the incident's start `minutes` into the past (the emulator's admin API).
async fn age(incident: &str, minutes: i64) {
    let emulator = env("AWS_ENDPOINT_URL_SSM_INCIDENTS");
    let r = request(
        "POST",
        &format!("{emulator}/_emulator/incidents/age"),
        &[],
        Some(&json!({"incidentRecordArn": incident, "minutes": minutes})),
    )
    .await;
    assert!((200..300).contains(&r.status), "age: {} {}", r.status, r.body);
}

/// The incident's notes, as responders read them on its timeline.
async fn notes(im: &aws_sdk_ssmincidents::Client, incident: &str) -> Vec<String> {
    let events = im
        .list_timeline_events()
        .incident_record_arn(incident)
        .max_results(100)
        .send()
        .await
        .expect("timeline")
        .event_summaries;
    let mut out = Vec::new();
    for e in events.iter().filter(|e| e.event_type == "Note") {
        let event = im
            .get_timeline_event()
            .incident_record_arn(incident)
            .event_id(&e.event_id)
            .send()
            .await
            .expect("the note")
            .event
            .unwrap();
        out.push(event.event_data);
    }
    out
}

/// The notes once `want` of them satisfy `which` (or what came within 60 s).
async fn wait_for(
    im: &aws_sdk_ssmincidents::Client,
    incident: &str,
    which: impl Fn(&str) -> bool,
    want: usize,
) -> Vec<String> {
    let started = Instant::now();
    loop {
        let got: Vec<String> = notes(im, incident)
            .await
            .into_iter()
            .filter(|n| which(n))
            .collect();
        if got.len() >= want || started.elapsed() > Duration::from_secs(60) {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn is_follow_up(n: &str) -> bool {
    n.contains("### Follow-up") || n.contains("### First response due")
}

/// A plan of `team` whose steps come at `steps` minutes, Sev 1 due in 60.
fn plan_with_steps(id: &str, team: &str, vendor: &str, steps: &[u32]) -> Value {
    let mut plan = plan_body(id, team);
    plan["vendor"] = json!(vendor);
    plan["escalation_steps"] = json!(
        steps
            .iter()
            .map(|m| json!({"title": format!("Step at minute {m}"), "instructions": format!("Do the minute-{m} thing."), "after_minutes": m}))
            .collect::<Vec<_>>()
    );
    plan
}

/// The plans through the API, and a workload relying on them that matches
/// an incident by its involved database.
async fn directory(run: &str, team: &str, plans: &[Value]) -> String {
    for p in plans {
        let r = api("POST", "/plans", team, Some(p)).await;
        assert_eq!(r.status, 201, "POST /plans {}: {}", p["id"], r.body);
    }
    let workload = json!({
        "name": format!("{team}"),
        "owner": {"team": team, "email": format!("{team}@example.com")},
        "criticality": "tier-1",
        "dependencies": plans.iter().map(|p| p["id"].clone()).collect::<Vec<_>>(),
        "match": {"resource_patterns": [format!("arn:aws:rds:*:*:db:{team}-*")]},
    });
    let r = api("POST", "/workloads", team, Some(&workload)).await;
    assert_eq!(r.status, 201, "POST /workloads: {}", r.body);
    format!("arn:aws:rds:us-east-1:111122223333:db:{team}-main-{run}")
}

/// An incident of `impact` started in the emulator with `db` involved (the
/// emulator hands its StartIncident to the responder, as EventBridge does),
/// and the runbook's payload delivered too, as the response plan's action
/// would: two deliveries, one answer.
async fn answered_incident(im: &aws_sdk_ssmincidents::Client, name: &str, impact: i32, db: &str) -> String {
    let plan_arn = im
        .create_response_plan()
        .name(name)
        .incident_template(
            IncidentTemplate::builder()
                .title(format!("{name}: database down"))
                .impact(impact)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create the response plan")
        .arn;
    let incident = im
        .start_incident()
        .response_plan_arn(&plan_arn)
        .impact(impact)
        .related_items(involved_resource(db))
        .send()
        .await
        .expect("start the incident")
        .incident_record_arn;
    let r = invoke(&json!({"incident_record_arn": incident, "involved_resources": [db]})).await;
    assert_eq!(r.status, 200, "responder: {}", r.body);
    assert!(
        r.header("x-amz-function-error").is_none(),
        "responder failed: {}",
        r.body
    );
    incident
}

/// One sweep as the schedule sends it. Other tests' incidents share the
/// stack, so the answer is not asserted: what it posted to ours is.
async fn sweep() {
    let r = invoke(&json!({"sweep": true})).await;
    assert_eq!(r.status, 200, "sweep: {}", r.body);
}

/// The link a follow-up note of `vendor` carries.
fn responded_link(notes: &[String], vendor: &str) -> String {
    let note = notes
        .iter()
        .find(|n| n.contains(vendor) && n.contains("Vendor responded? "))
        .unwrap_or_else(|| panic!("no follow-up of {vendor} with a link: {notes:#?}"));
    let at = note.find("Vendor responded? ").unwrap() + "Vendor responded? ".len();
    note[at..]
        .split(|c: char| c.is_whitespace() || c == '"' || c == '\\')
        .next()
        .unwrap()
        .to_owned()
}

async fn form_post(url: &str, body: &str) -> Reply {
    request_bytes(
        "POST",
        url,
        &[("content-type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    )
    .await
}

/// The stack's responded-link keys, read as the functions read them.
async fn link_keys() -> KeySet {
    let sm = aws_sdk_secretsmanager::Client::new(&local_config().await);
    let secret = sm
        .get_secret_value()
        .secret_id(env("RESPONDED_KEY_SECRET_ARN"))
        .send()
        .await
        .expect("the responded key secret")
        .secret_string
        .unwrap();
    KeySet::parse(&secret).expect("a key set")
}

#[tokio::test]
async fn an_aged_incident_hears_each_step_once_until_its_vendor_responds_or_it_is_resolved() {
    let run = run_id();
    let im = aws_sdk_ssmincidents::Client::new(&local_config().await);
    let team = format!("ft-{run}");
    let acme = format!("ft-acme-{run}");
    let beta = format!("ft-beta-{run}");
    let db = directory(
        &run,
        &team,
        &[
            plan_with_steps(&acme, &team, &format!("Acme {run}"), &[0, 15, 60, 120]),
            plan_with_steps(&beta, &team, &format!("Beta {run}"), &[0, 30, 120]),
        ],
    )
    .await;
    let incident = answered_incident(&im, &format!("ft-{run}"), 1, &db).await;
    let first = notes(&im, &incident).await;
    assert_eq!(first.len(), 2, "one note per plan at minute 0: {first:#?}");

    // Minute 65: two overlapping sweeps, then a third as a retry would.
    age(&incident, 65).await;
    tokio::join!(sweep(), sweep());
    sweep().await;
    // Acme: steps 15 and 60 and its first response (60 min); Beta: step 30
    // and its first response; no step of minute 120.
    let due = wait_for(&im, &incident, is_follow_up, 5).await;
    assert_eq!(
        due.len(),
        5,
        "one note per step whose time passed, once: {due:#?}"
    );
    assert_eq!(
        due.iter()
            .filter(|n| n.contains("### First response due"))
            .count(),
        2
    );
    assert!(
        due.iter().all(|n| !n.contains("Due at minute 120")),
        "nothing for later steps: {due:#?}"
    );

    // Forged, altered and expired links change nothing.
    let link = responded_link(&due, &format!("Beta {run}"));
    let page = request("GET", &link, &[], None).await;
    assert_eq!(page.status, 200, "the confirm page: {}", page.body);
    assert!(page.body.contains(&beta), "{}", page.body);
    let token = link.rsplit('/').next().unwrap();
    let mut altered = token.to_owned();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    let base = link.trim_end_matches(token);
    let expired = issue_link(
        &link_keys().await,
        &incident,
        &beta,
        jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * 15),
    );
    let forged = issue_link(
        &KeySet::parse(&"k".repeat(64)).unwrap(),
        &incident,
        &beta,
        jiff::Timestamp::now(),
    );
    for bad in [altered.as_str(), expired.as_str(), forged.as_str()] {
        let r = form_post(&format!("{base}{bad}"), "by=Mallory").await;
        assert!((400..500).contains(&r.status), "{bad}: {} {}", r.status, r.body);
    }

    // Beta's vendor answered: recorded from the link, told to the incident.
    let r = form_post(&link, "by=Dana+on+call").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Dana on call"), "{}", r.body);
    let told = wait_for(&im, &incident, |n| n.contains("### Vendor responding"), 1).await;
    assert_eq!(told.len(), 1, "{told:#?}");
    assert!(told[0].contains(&format!("Beta {run}")) && told[0].contains("Dana on call"));
    // The same form again changes nothing.
    let again = form_post(&link, "by=Someone+else").await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert!(
        again.body.contains("Dana on call"),
        "the first mark stands: {}",
        again.body
    );

    // Minute 185: Acme's step 120 comes; nothing more for Beta.
    age(&incident, 120).await;
    sweep().await;
    sweep().await;
    let later = wait_for(&im, &incident, is_follow_up, 6).await;
    assert_eq!(later.len(), 6, "{later:#?}");
    let new: Vec<&String> = later.iter().filter(|n| !due.contains(n)).collect();
    assert!(
        new.len() == 1 && new[0].contains(&format!("Acme {run}")) && new[0].contains("Due at minute 120"),
        "only Acme's step 120: {new:#?}"
    );
    assert_eq!(
        notes(&im, &incident)
            .await
            .iter()
            .filter(|n| n.contains("### Vendor responding"))
            .count(),
        1
    );

    // Another incident of the same workload, resolved: nothing more,
    // although its steps' times pass.
    let resolved = answered_incident(&im, &format!("ft-{run}-resolved"), 1, &db).await;
    im.update_incident_record()
        .arn(&resolved)
        .status(IncidentRecordStatus::Resolved)
        .send()
        .await
        .expect("resolve");
    age(&resolved, 65).await;
    sweep().await;
    sweep().await;
    let after = notes(&im, &resolved).await;
    assert_eq!(after.len(), 2, "the first notes only: {after:#?}");
}

/// An AWS plan that opens its case at impact 2 or worse.
fn aws_plan(id: &str, team: &str, run: &str) -> Value {
    let mut plan = plan_body(id, team);
    plan["vendor"] = json!(format!("Amazon Web Services {run}"));
    plan["severities"] = json!([
        {"name": "Production system down", "response_minutes": 60, "impacts": [1, 2], "code": "urgent"},
        {"name": "Production system impaired", "response_minutes": 240, "impacts": [3], "code": "high"},
        {"name": "System impaired", "response_minutes": 720, "impacts": [4, 5], "code": "normal"}
    ]);
    plan["open_case"] = json!({
        "min_impact": 2,
        "service_code": "amazon-relational-database-service",
        "category_code": "general-guidance",
        "cc_emails": [format!("dba-{run}@example.com")]
    });
    plan
}

/// The Support API's cases whose subject names `marker`, read once each
/// (the first answer of moto's DescribeCases is what was sent).
async fn cases_about(marker: &str) -> Vec<Value> {
    let config = local_config().await;
    let support = support_plans_aws::support::client(&config);
    let out = support
        .describe_cases()
        .include_resolved_cases(true)
        .include_communications(false)
        .send()
        .await
        .expect("DescribeCases");
    out.cases()
        .iter()
        .filter(|c| c.subject().unwrap_or_default().contains(marker))
        .map(|c| {
            json!({
                "case_id": c.case_id(),
                "severity": c.severity_code(),
                "service": c.service_code(),
                "cc": c.cc_email_addresses(),
                "subject": c.subject(),
            })
        })
        .collect()
}

#[tokio::test]
async fn an_impact_1_incident_opens_one_aws_case_and_an_impact_3_incident_none() {
    let run = run_id();
    let im = aws_sdk_ssmincidents::Client::new(&local_config().await);
    let team = format!("case-{run}");
    let plan = format!("case-aws-{run}");
    let db = directory(&run, &team, &[aws_plan(&plan, &team, &run)]).await;

    // Impact 1, delivered five times: one case.
    let name = format!("case-{run}-critical");
    let incident = answered_incident(&im, &name, 1, &db).await;
    for _ in 0..4 {
        let r = invoke(&json!({"incident_record_arn": incident, "involved_resources": [db]})).await;
        assert!(r.header("x-amz-function-error").is_none(), "{}", r.body);
    }
    let cases = cases_about(&name).await;
    assert_eq!(cases.len(), 1, "five deliveries, one case: {cases:#?}");
    let case = &cases[0];
    assert_eq!(case["severity"], "urgent", "the mapped severity's code: {case}");
    assert_eq!(case["service"], "amazon-relational-database-service");
    let cc: Vec<&str> = case["cc"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        cc.contains(&format!("{team}@example.com").as_str())
            && cc.contains(&format!("dba-{run}@example.com").as_str()),
        "the owner and cc_emails: {cc:?}"
    );
    let case_id = case["case_id"].as_str().unwrap();
    let told = wait_for(&im, &incident, |n| n.contains("### AWS Support case"), 1).await;
    assert_eq!(told.len(), 1, "{told:#?}");
    assert!(
        told[0].contains(case_id),
        "the case id in the incident: {}",
        told[0]
    );

    // Impact 3: below min_impact, no case.
    let calm = format!("case-{run}-minor");
    answered_incident(&im, &calm, 3, &db).await;
    assert!(cases_about(&calm).await.is_empty());
}
