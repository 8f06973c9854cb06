//! SPEC §11 "PagerDuty", through the responder's real handler: the
//! PagerDuty hand-off of `POST /hooks/pagerduty`, read from and answered
//! into the PagerDuty stand-in (infra/pagerduty-standin, on a free port),
//! with the token in Secrets Manager, the claims in DynamoDB and the chat
//! message on SNS/SQS of the local stack. What is posted is read back from
//! the stand-in (`GET /incidents/{id}/notes`, `GET /_standin/calls`) and
//! from the queue subscribed to `INCIDENT_TOPIC_ARN`.

mod common;

use common::World;
use futures_util::future::join_all;
use incident_responder::{Config, Responder};
use serde_json::{Value, json};
use support_plans_domain::pipeline::client_token;
use support_plans_domain::ports::WorkloadStore as _;

const TOKEN: &str = "y_NbAkKc66ryYTWUXYEu";
const FROM: &str = "support-plans@example.com";
/// The stand-in's id of priority P1 (PagerDuty's documented example).
const P1: &str = "PSLWBL8";
/// The plans the ledger workload relies on: one note each.
const LEDGER_PLANS: usize = 2;

struct Pd {
    w: World,
    pd: pagerduty_standin::Running,
    service: String,
    /// The token's secret.
    secret: String,
}

/// A workload on the PagerDuty service `Ledger API` (relying on AWS and
/// MongoDB Atlas), the stand-in with that service, the token in a secret,
/// and a responder configured as the stack configures it.
async fn world() -> Pd {
    world_with_token(TOKEN).await
}

async fn world_with_token(token_in_secret: &str) -> Pd {
    let mut w = World::new().await;
    let ledger = support_plans_domain::model::WorkloadSpec::parse(&json!({
        "name": "ledger",
        "owner": {"team": "finance-eng", "email": "finance-eng@example.com"},
        "criticality": "tier-1",
        "dependencies": ["aws-business", "mongodb-atlas"],
        "match": {"pagerduty_services": ["ledger api"]},
    }))
    .unwrap();
    let ledger = support_plans_domain::model::Workload::create(
        ledger,
        &support_plans_tests::actor("tests"),
        jiff::Timestamp::now(),
    );
    w.responder.store().create_workload(&ledger).await.unwrap();

    let pd = pagerduty_standin::spawn(pagerduty_standin::Config::new(TOKEN))
        .await
        .unwrap();
    let service = rest(
        &pd,
        "POST",
        "/services",
        Some(&json!({"service": {"type": "service", "name": "Ledger API"}})),
    )
    .await["service"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let sdk = support_plans_tests::local_config().await;
    let secret = aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(format!("{}-pagerduty-token", w.responder.store().table()))
        .secret_string(token_in_secret)
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let table = w.responder.store().table().to_owned();
    let url = pd.url();
    let incident_topic = w.incident_topic.clone();
    let env = [
        ("TABLE_NAME", table.as_str()),
        ("GENERIC_SOURCES", "support-plans.incidents"),
        ("INCIDENT_TOPIC_ARN", incident_topic.as_str()),
        ("PAGERDUTY_URL", url.as_str()),
        ("PAGERDUTY_TOKEN_SECRET_ARN", secret.as_str()),
        ("PAGERDUTY_FROM", FROM),
        ("PAGERDUTY_PRIORITY_IMPACTS", ""),
    ];
    let config =
        Config::from_lookup(|k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())).unwrap();
    w.responder = Responder::from_config(&sdk, Some(&w.calls), config);
    Pd {
        w,
        pd,
        service,
        secret,
    }
}

/// A PagerDuty REST call with the token and `From`.
async fn rest(pd: &pagerduty_standin::Running, method: &str, path: &str, body: Option<&Value>) -> Value {
    let auth = format!("Token token={TOKEN}");
    let reply = support_plans_tests::http::request(
        method,
        &format!("{}{path}", pd.url()),
        &[
            ("authorization", &auth),
            ("from", "oncall@example.com"),
            ("accept", "application/vnd.pagerduty+json;version=2"),
        ],
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

/// The stand-in's admin API.
async fn admin(pd: &pagerduty_standin::Running, method: &str, path: &str, body: Option<&Value>) -> Value {
    let reply = support_plans_tests::http::request(method, &format!("{}{path}", pd.url()), &[], body).await;
    assert!(
        reply.status < 300,
        "{method} {path}: {} {}",
        reply.status,
        reply.body
    );
    reply.json()
}

impl Pd {
    /// An incident on the ledger service; returns its id.
    async fn incident(&self, title: &str, priority: Option<&str>, urgency: Option<&str>) -> String {
        let mut incident = json!({"type": "incident", "title": title,
            "service": {"id": self.service, "type": "service_reference"}});
        if let Some(p) = priority {
            incident["priority"] = json!({"id": p, "type": "priority_reference"});
        }
        if let Some(u) = urgency {
            incident["urgency"] = json!(u);
        }
        rest(
            &self.pd,
            "POST",
            "/incidents",
            Some(&json!({"incident": incident})),
        )
        .await["incident"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The hand-off `POST /hooks/pagerduty` makes for `incident_id`.
    async fn hand_off(&self, incident_id: &str) -> Result<Value, String> {
        self.w
            .handle(
                &json!({"pagerduty": {"incident_id": incident_id, "event_id": "01DFDP2C5CDD8TV4BHDCBB1ZZX"}}),
            )
            .await
    }

    /// The incident's notes as PagerDuty shows them.
    async fn notes(&self, incident_id: &str) -> Vec<Value> {
        rest(&self.pd, "GET", &format!("/incidents/{incident_id}/notes"), None).await["notes"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// REST calls the stand-in got, by operation.
    async fn calls(&self, op: &str) -> u64 {
        admin(&self.pd, "GET", "/_standin/calls", None).await["calls"][op]
            .as_u64()
            .unwrap_or(0)
    }

    async fn faults(&self, rules: Value) {
        admin(&self.pd, "POST", "/_standin/faults", Some(&rules)).await;
    }

    async fn chat_messages(&self) -> Vec<Value> {
        self.w.drain(&self.w.incident_queue).await
    }
}

fn content(note: &Value) -> &str {
    note["content"].as_str().unwrap()
}

#[tokio::test]
async fn an_incident_on_a_named_service_gets_one_note_per_plan_with_severity_due_time_steps_and_contacts_and_one_chat_message()
 {
    let pd = world().await;
    let id = pd.incident("Ledger writes failing", Some(P1), None).await;
    let summary = pd.hand_off(&id).await.unwrap();
    assert_eq!(summary["status"], "posted", "{summary}");
    assert_eq!(summary["workloads"], json!(["ledger"]), "{summary}");
    assert_eq!(summary["notes_posted"], LEDGER_PLANS, "{summary}");
    assert_eq!(
        summary["links_added"], 0,
        "PagerDuty has no related items: {summary}"
    );

    let notes = pd.notes(&id).await;
    assert_eq!(notes.len(), LEDGER_PLANS, "one note per relevant plan");
    let aws = notes
        .iter()
        .map(content)
        .find(|c| c.contains("Amazon Web Services"))
        .expect("the AWS note");
    for expected in [
        "matched PagerDuty service `ledger api`",
        "**Open as: Production system down** (impact 1)",
        "Promised first response: 60 min, due by **",
        "**Escalation steps**",
        "1. [from minute 0] **",
    ] {
        assert!(aws.contains(expected), "{expected:?} in {aws}");
    }
    let token = client_token(&format!("pagerduty:{id}"), "NOTE#aws-business");
    assert!(
        aws.ends_with(&format!("\n\nsupport-plans ref {token}")),
        "the marker is the last line: {aws}"
    );
    assert!(
        notes.iter().all(|n| n["user"]["summary"] == FROM),
        "posted From {FROM}"
    );
    assert!(notes.iter().all(|n| content(n).chars().count() <= 25_000));
    // Every step's contact is named with it (the AWS plan's steps name some).
    let plan: Value = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{}/../../infra/local/samples/plans/aws-business.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    let named: Vec<&str> = plan["escalation_steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["contact"].as_str())
        .collect();
    assert!(!named.is_empty());
    for contact in plan["contacts"].as_array().unwrap() {
        if named.contains(&contact["id"].as_str().unwrap()) {
            let name = contact["name"].as_str().unwrap();
            assert!(aws.contains(name), "{name} in {aws}");
        }
    }

    let messages = pd.chat_messages().await;
    assert_eq!(messages.len(), 1, "one chat message: {messages:?}");
    assert_eq!(messages[0]["metadata"]["threadId"], id.as_str());
    assert!(
        messages[0]["content"]["title"]
            .as_str()
            .unwrap()
            .contains("Ledger writes failing")
    );
}

#[tokio::test]
async fn the_same_hand_off_five_times_and_a_429_then_a_500_on_the_first_note_still_post_one_note_per_plan() {
    let pd = world().await;
    let id = pd.incident("Ledger writes failing", Some(P1), None).await;
    pd.faults(json!([
        {"operation": "CreateNote", "status": 429, "retry_after": 1, "count": 1},
        {"operation": "CreateNote", "status": 500, "count": 1},
    ]))
    .await;
    let first = join_all((0..3).map(|_| pd.hand_off(&id))).await;
    for r in &first {
        assert!(
            r.is_ok(),
            "retried inside the adapter, the invocation succeeds: {r:?}"
        );
    }
    for _ in 0..2 {
        pd.hand_off(&id).await.unwrap();
    }
    assert_eq!(pd.notes(&id).await.len(), LEDGER_PLANS, "one note per plan");
    assert_eq!(
        pd.calls("CreateNote").await,
        LEDGER_PLANS as u64 + 2,
        "each plan's note posted once, and the two faults tried again"
    );
    assert_eq!(pd.chat_messages().await.len(), 1, "one chat message");
}

#[tokio::test]
async fn a_note_whose_answer_was_lost_is_found_by_its_marker_and_not_posted_again() {
    let pd = world().await;
    let id = pd.incident("Ledger writes failing", Some(P1), None).await;
    // The AWS note was taken by PagerDuty, but its answer never came back.
    let token = client_token(&format!("pagerduty:{id}"), "NOTE#aws-business");
    rest(
        &pd.pd,
        "POST",
        &format!("/incidents/{id}/notes"),
        Some(&json!({"note": {"content": format!("(an earlier post)\n\nsupport-plans ref {token}")}})),
    )
    .await;
    pd.hand_off(&id).await.unwrap();
    let notes = pd.notes(&id).await;
    assert_eq!(notes.len(), LEDGER_PLANS, "{notes:#?}");
    assert_eq!(
        notes
            .iter()
            .filter(|n| content(n).contains("Amazon Web Services"))
            .count(),
        0,
        "the AWS note was there already"
    );
}

#[tokio::test]
async fn a_token_pagerduty_refuses_is_not_retried_and_the_invocation_does_not_fail() {
    let pd = world_with_token("not-the-token").await;
    let id = pd.incident("Ledger writes failing", Some(P1), None).await;
    admin(&pd.pd, "DELETE", "/_standin/calls", None).await;
    let summary = pd
        .hand_off(&id)
        .await
        .expect("refused for good: not an error Lambda retries");
    assert_eq!(summary["status"], "refused", "{summary}");
    assert!(summary["reason"].as_str().unwrap().contains("401"), "{summary}");
    assert_eq!(pd.calls("GetIncident").await, 1, "401 is not tried again");
    assert_eq!(pd.calls("CreateNote").await, 0);
    assert!(pd.chat_messages().await.is_empty());

    // The operator puts the right token: the next hand-off reads it (no cold start needed).
    aws_sdk_secretsmanager::Client::new(&support_plans_tests::local_config().await)
        .put_secret_value()
        .secret_id(&pd.secret)
        .secret_string(TOKEN)
        .send()
        .await
        .unwrap();
    let summary = pd.hand_off(&id).await.unwrap();
    assert_eq!(summary["status"], "posted", "{summary}");
    assert_eq!(pd.notes(&id).await.len(), LEDGER_PLANS);
}

#[tokio::test]
async fn a_retry_after_longer_than_the_call_may_take_fails_the_invocation_at_once_and_a_retry_completes_it() {
    let pd = world().await;
    let id = pd.incident("Ledger writes failing", Some(P1), None).await;
    pd.faults(json!({"operation": "CreateNote", "status": 429, "retry_after": 60, "count": 1}))
        .await;
    let started = std::time::Instant::now();
    let failed = pd.hand_off(&id).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "not waiting 60 s: {:?}",
        started.elapsed()
    );
    let error = failed.expect_err("failed, to be retried");
    assert!(error.contains("429"), "{error}");
    assert_eq!(pd.notes(&id).await.len(), LEDGER_PLANS - 1);
    pd.hand_off(&id).await.unwrap();
    assert_eq!(
        pd.notes(&id).await.len(),
        LEDGER_PLANS,
        "the retry posts the missing note only"
    );
    assert_eq!(pd.chat_messages().await.len(), 1);
}

#[tokio::test]
async fn a_note_pagerduty_refuses_is_recorded_and_never_tried_again() {
    let pd = world().await;
    let id = pd.incident("Ledger writes failing", Some(P1), None).await;
    pd.faults(json!({"operation": "CreateNote", "status": 403})).await;
    let summary = pd.hand_off(&id).await.unwrap();
    assert_eq!(
        summary["refused"].as_array().map(Vec::len),
        Some(LEDGER_PLANS),
        "{summary}"
    );
    assert_eq!(
        pd.calls("CreateNote").await,
        LEDGER_PLANS as u64,
        "403: one try each"
    );
    pd.hand_off(&id).await.unwrap();
    assert_eq!(pd.calls("CreateNote").await, LEDGER_PLANS as u64, "and not again");
    assert!(pd.notes(&id).await.is_empty());
    assert_eq!(
        pd.chat_messages().await.len(),
        1,
        "the chat message still goes out"
    );
}

#[tokio::test]
async fn a_resolved_incident_gets_nothing() {
    let pd = world().await;
    let id = pd.incident("Ledger writes failing", Some(P1), None).await;
    rest(
        &pd.pd,
        "PUT",
        &format!("/incidents/{id}"),
        Some(&json!({"incident": {"type": "incident_reference", "status": "resolved"}})),
    )
    .await;
    let summary = pd.hand_off(&id).await.unwrap();
    assert_eq!(summary["status"], "resolved", "{summary}");
    assert!(pd.notes(&id).await.is_empty());
    assert_eq!(pd.calls("CreateNote").await, 0);
    assert!(pd.chat_messages().await.is_empty());
}

#[tokio::test]
async fn the_impact_comes_from_the_priority_and_without_one_from_the_urgency() {
    let pd = world().await;
    let p1 = pd.incident("Ledger writes failing", Some(P1), Some("low")).await;
    let low = pd.incident("Ledger slow", None, Some("low")).await;
    pd.hand_off(&p1).await.unwrap();
    pd.hand_off(&low).await.unwrap();
    let aws = |notes: Vec<Value>| {
        notes
            .iter()
            .map(|n| content(n).to_owned())
            .find(|c| c.contains("Amazon Web Services"))
            .unwrap()
    };
    let p1_note = aws(pd.notes(&p1).await);
    assert!(
        p1_note.contains("**Open as: Production system down** (impact 1)"),
        "{p1_note}"
    );
    let low_note = aws(pd.notes(&low).await);
    assert!(
        low_note.contains("**Open as: System impaired** (impact 4)"),
        "{low_note}"
    );
}

#[tokio::test]
async fn without_pagerduty_configured_a_hand_off_is_refused_saying_why_and_pagerduty_is_not_called() {
    let mut pd = world().await;
    let sdk = support_plans_tests::local_config().await;
    let table = pd.w.responder.store().table().to_owned();
    let env = [
        ("TABLE_NAME", table.as_str()),
        ("GENERIC_SOURCES", "support-plans.incidents"),
    ];
    let config =
        Config::from_lookup(|k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())).unwrap();
    pd.w.responder = Responder::from_config(&sdk, None, config);
    let id = pd.incident("Ledger writes failing", Some(P1), None).await;
    admin(&pd.pd, "DELETE", "/_standin/calls", None).await;
    let summary = pd.hand_off(&id).await.unwrap();
    assert_eq!(summary["status"], "refused", "{summary}");
    assert!(
        summary["reason"]
            .as_str()
            .unwrap()
            .contains("PAGERDUTY_TOKEN_SECRET_ARN"),
        "{summary}"
    );
    assert_eq!(admin(&pd.pd, "GET", "/_standin/calls", None).await["total"], 0);
}

/// The PagerDuty path's calls: the token read once per process; per
/// hand-off one `GET /incidents/{id}`, and per plan one `GET` of the notes
/// then one `POST`; a hand-off of an incident already answered reads the
/// incident and its claims, and posts nothing.
#[tokio::test]
async fn the_token_is_read_once_per_process_and_each_note_costs_one_list_and_one_post() {
    use support_plans_aws::calls::describe_rounds;
    let pd = world().await;
    let a = pd.incident("Ledger writes failing", Some(P1), None).await;
    let b = pd.incident("Ledger reads failing", None, Some("high")).await;
    admin(&pd.pd, "DELETE", "/_standin/calls", None).await;
    pd.w.calls.clear();
    pd.hand_off(&a).await.unwrap();
    let sdk = pd.w.calls.calls();
    eprintln!(
        "first hand-off, AWS calls by round trip: {:?}",
        describe_rounds(&sdk)
    );
    let secret_reads = |calls: &[support_plans_aws::calls::Call]| {
        calls.iter().filter(|c| c.operation == "GetSecretValue").count()
    };
    assert_eq!(secret_reads(&sdk), 1);
    let counts = admin(&pd.pd, "GET", "/_standin/calls", None).await;
    eprintln!("first hand-off, PagerDuty calls: {}", counts["calls"]);
    assert_eq!(counts["calls"]["GetIncident"], 1);
    assert_eq!(counts["calls"]["ListNotes"], LEDGER_PLANS as u64);
    assert_eq!(counts["calls"]["CreateNote"], LEDGER_PLANS as u64);
    assert_eq!(counts["total"], 1 + 2 * LEDGER_PLANS as u64);

    pd.w.calls.clear();
    pd.hand_off(&b).await.unwrap();
    assert_eq!(
        secret_reads(&pd.w.calls.calls()),
        0,
        "the token is kept for the process"
    );
    assert_eq!(pd.notes(&b).await.len(), LEDGER_PLANS);

    admin(&pd.pd, "DELETE", "/_standin/calls", None).await;
    pd.w.calls.clear();
    let again = pd.hand_off(&a).await.unwrap();
    let counts = admin(&pd.pd, "GET", "/_standin/calls", None).await;
    eprintln!(
        "hand-off of an answered incident: PagerDuty {}, AWS {:?}",
        counts["calls"],
        describe_rounds(&pd.w.calls.calls())
    );
    assert_eq!(counts["total"], 1, "only the incident is read: {counts}");
    assert_eq!(
        (again["notes_posted"].as_u64(), again["chat_messages"].as_u64()),
        (Some(0), Some(0)),
        "{again}"
    );
}
