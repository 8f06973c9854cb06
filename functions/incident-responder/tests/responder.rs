//! The responder through its real handler, against moto and the Incident
//! Manager emulator: what is posted, exactly once, whatever the triggers,
//! retries and faults.

mod common;

use common::{PAYMENTS_PLANS, RDS, World, cloudtrail, runbook};
use serde_json::{Value, json};

#[tokio::test]
async fn an_impact_1_payments_incident_gets_one_note_per_plan_the_portals_and_one_chat_message_per_topic() {
    let w = World::new().await;
    let arn = w.start_incident("Card payments failing", 1, &[RDS]).await;
    let summary = w.handle(&runbook(&arn)).await.unwrap();
    assert_eq!(summary["workloads"][0], "payments", "{summary}");

    let notes = w.notes(&arn).await;
    assert_eq!(notes.len(), PAYMENTS_PLANS, "one note per relevant plan");
    let aws = notes
        .iter()
        .find(|n| n.event_data.contains("Amazon Web Services"))
        .expect("the AWS note");
    assert!(
        aws.event_data
            .contains("**Open as: Production system down** (impact 1)"),
        "{}",
        aws.event_data
    );
    assert!(
        aws.event_data
            .contains("Promised first response: 60 min, due by **"),
        "{}",
        aws.event_data
    );
    assert!(notes.iter().all(|n| n.event_data.chars().count() <= 12_000));
    assert!(notes.iter().all(|n| {
        n.event_references()
            .iter()
            .any(|r| r.as_resource().ok() == Some(&arn))
    }));

    let links = w.links(&arn).await;
    assert!(
        links.iter().any(|(t, u)| t
            .starts_with("Open a case: Amazon Web Services (Business) — for workload payments")
            && u.starts_with("https://console.aws.amazon.com/support")),
        "{links:?}"
    );

    for queue in [&w.chat_queue, &w.incident_queue] {
        let messages = w.drain(queue).await;
        assert_eq!(messages.len(), 1, "one chat message per topic");
        let m = &messages[0];
        assert_eq!(m["version"], "1.0");
        assert_eq!(m["source"], "custom");
        assert_eq!(m["content"]["textType"], "client-markdown");
        assert_eq!(m["metadata"]["threadId"], arn.as_str());
    }
}

#[tokio::test]
async fn three_eventbridge_deliveries_a_runbook_call_and_a_sweep_post_everything_once() {
    let w = World::new().await;
    let arn = w.start_incident("Card payments failing", 1, &[RDS]).await;
    for _ in 0..3 {
        w.handle(&cloudtrail(&arn, &w.response_plan_arn)).await.unwrap();
    }
    w.handle(&runbook(&arn)).await.unwrap();
    let swept = w.handle(&json!({"sweep": true})).await.unwrap();
    assert_eq!(swept["already_complete"], 1, "{swept}");

    assert_eq!(w.notes(&arn).await.len(), PAYMENTS_PLANS);
    let links = w.links(&arn).await;
    let mut urls: Vec<&String> = links.iter().map(|(_, u)| u).collect();
    let total = urls.len();
    urls.dedup();
    assert_eq!(urls.len(), total, "no related item twice: {links:?}");
    assert!(total >= 1);
    assert_eq!(w.drain(&w.chat_queue).await.len(), 1);
    assert_eq!(w.drain(&w.incident_queue).await.len(), 1);

    // The readiness figures count the incident once, as matched.
    let activity = activity(&w).await;
    assert_eq!((activity.incidents_matched, activity.incidents_unmatched), (1, 0));
}

#[tokio::test]
async fn each_trigger_posts_and_an_unknown_event_is_ignored() {
    let w = World::new().await;
    // CloudTrail: matched through the response plan in the ARN.
    let a = w.start_incident("Checkout errors", 2, &[]).await;
    w.handle(&cloudtrail(&a, &w.response_plan_arn)).await.unwrap();
    assert_eq!(w.notes(&a).await.len(), PAYMENTS_PLANS);
    // The sweep finds an incident whose event was lost.
    let b = w.start_incident("Lost event", 3, &[]).await;
    let swept = w
        .handle(&json!({"source": "aws.scheduler", "detail-type": "Scheduled Event", "detail": {}}))
        .await
        .unwrap();
    assert_eq!(swept["handled"], 1, "{swept}");
    assert_eq!(w.notes(&b).await.len(), PAYMENTS_PLANS);
    // The runbook.
    let c = w.start_incident("Runbook", 1, &[RDS]).await;
    w.handle(&runbook(&c)).await.unwrap();
    assert_eq!(w.notes(&c).await.len(), PAYMENTS_PLANS);
    w.drain(&w.incident_queue).await;

    // A generic incident from elsewhere: the chat/SNS post only.
    let generic = json!({"source": "acme.pager", "detail-type": "Incident Started", "time": "2026-11-21T10:00:00Z",
        "detail": {"id": "INC-42", "title": "analytics pipeline stalled", "impact": 2, "workload": "analytics"}});
    let summary = w.handle(&generic).await.unwrap();
    assert_eq!(summary["notes_posted"], 0);
    let messages = w.drain(&w.incident_queue).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["metadata"]["threadId"], "INC-42");
    w.handle(&generic).await.unwrap();
    assert!(
        w.drain(&w.incident_queue).await.is_empty(),
        "the same generic incident twice: one message"
    );

    // Anything else: answered as ignored, without an error.
    let ignored = w
        .handle(&json!({"source": "aws.s3", "detail-type": "Object Created"}))
        .await
        .unwrap();
    assert_eq!(ignored["status"], "ignored");
}

#[tokio::test]
async fn an_unmatched_incident_gets_one_note_saying_so_and_a_resolved_one_is_left_alone() {
    let w = World::new().await;
    let arn = w.start_incident("Office printer on fire", 4, &[]).await;
    // Not the payments plan: a response plan no workload names.
    let other =
        w.im.create_response_plan()
            .name("office-it")
            .incident_template(
                aws_sdk_ssmincidents::types::IncidentTemplate::builder()
                    .title("IT")
                    .impact(4)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    let office =
        w.im.start_incident()
            .response_plan_arn(other.arn)
            .title("Printer on fire")
            .send()
            .await
            .unwrap()
            .incident_record_arn;
    let summary = w.handle(&json!({"incident_record_arn": office})).await.unwrap();
    assert_eq!(summary["unmatched"], true, "{summary}");
    let notes = w.notes(&office).await;
    assert_eq!(notes.len(), 1);
    assert!(notes[0].event_data.contains("no workload matched"));

    w.im.update_incident_record()
        .arn(&arn)
        .status(aws_sdk_ssmincidents::types::IncidentRecordStatus::Resolved)
        .send()
        .await
        .unwrap();
    let resolved = w.handle(&runbook(&arn)).await.unwrap();
    assert_eq!(resolved["status"], "resolved");
    assert!(w.notes(&arn).await.is_empty());
}

#[tokio::test]
async fn throttled_timeline_writes_are_retried_until_every_post_is_done() {
    let w = World::new().await;
    let arn = w.start_incident("Card payments failing", 1, &[RDS]).await;
    let (status, body) = w
        .admin(
            "POST",
            "/_emulator/faults",
            r#"{"operation":"CreateTimelineEvent","fail":"throttle","count":2}"#,
        )
        .await;
    assert!((200..300).contains(&status), "{status} {body}");
    w.handle(&runbook(&arn)).await.unwrap();
    assert_eq!(w.notes(&arn).await.len(), PAYMENTS_PLANS);
}

#[tokio::test]
async fn when_incident_manager_is_down_the_chat_message_goes_out_the_invocation_fails_and_a_rerun_completes()
{
    let w = World::new().await;
    let arn = w.start_incident("Card payments failing", 1, &[RDS]).await;
    let (status, body) = w
        .admin(
            "POST",
            "/_emulator/faults",
            r#"{"operation":"*","fail":"server-error","count":1000}"#,
        )
        .await;
    assert!((200..300).contains(&status), "{status} {body}");
    let failed = w.handle(&runbook(&arn)).await;
    assert!(
        failed.is_err(),
        "the invocation must fail so it reaches the dead-letter queue"
    );
    let messages = w.drain(&w.incident_queue).await;
    assert_eq!(messages.len(), 1, "the SNS message still went out");
    assert_eq!(messages[0]["metadata"]["threadId"], arn.as_str());

    let (status, _) = w.admin("DELETE", "/_emulator/faults", "").await;
    assert!((200..300).contains(&status));
    w.handle(&runbook(&arn)).await.unwrap();
    assert_eq!(
        w.notes(&arn).await.len(),
        PAYMENTS_PLANS,
        "the rerun completes the posts"
    );
    assert!(
        w.drain(&w.incident_queue).await.is_empty(),
        "without a second SNS message"
    );
    assert_eq!(
        w.drain(&w.chat_queue).await.len(),
        1,
        "the chat channel, unknown while down, gets its one message"
    );
}

/// `POST /match` renders through the same code: for the same incident its text
/// is the text the responder posted, character for character.
#[tokio::test]
async fn match_and_the_responder_post_the_same_text() {
    use tower::ServiceExt as _;
    let w = World::new().await;
    let arn = w.start_incident("Card payments failing", 1, &[RDS]).await;
    w.handle(&runbook(&arn)).await.unwrap();
    let posted = w.notes(&arn).await;
    let record =
        w.im.get_incident_record()
            .arn(&arn)
            .send()
            .await
            .unwrap()
            .incident_record
            .unwrap();
    let started = jiff::Timestamp::from_second(record.creation_time.secs()).unwrap();

    let mut state = plans_api::AppState::new(
        w.responder.store().clone(),
        plans_api::auth::AuthConfig {
            local_auth: true,
            ..Default::default()
        },
    );
    state.links = w.responder.pipeline.settings.links.clone();
    let app = plans_api::app(state);
    let body = json!({"title": "Card payments failing", "impact": 1, "resources": [RDS],
                      "response_plan": "payments-critical", "started_at": started.to_string()});
    let request = axum::http::Request::post("/match")
        .header("content-type", "application/json")
        .header("x-local-principal", "responder-test")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    let matched: Value = serde_json::from_slice(&bytes).unwrap();
    let texts: Vec<&str> = matched["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), posted.len());
    for text in texts {
        assert!(
            posted.iter().any(|e| e.event_data == text),
            "no posted note is exactly:\n{text}"
        );
    }
}

#[tokio::test]
async fn a_plan_of_20_steps_of_2000_characters_is_cut_at_a_step_boundary() {
    use support_plans_domain::model::{Change, Step};
    use support_plans_domain::ports::PlanStore as _;
    let w = World::new().await;
    let id = support_plans_domain::Slug::parse("aws-business").unwrap();
    let current = w.responder.store().get_plan(&id).await.unwrap().unwrap();
    let mut spec = current.spec.clone();
    spec.escalation_steps = (0..20)
        .map(|i| Step {
            title: format!("Step {i}"),
            instructions: format!("{i:02}").repeat(1000),
            after_minutes: i * 10,
            contact: None,
        })
        .collect();
    let next = current
        .replaced(spec, &current.meta.updated_by, jiff::Timestamp::now())
        .unwrap();
    w.responder
        .store()
        .put_plan_version(&next, Change::Replaced)
        .await
        .unwrap();

    let arn = w.start_incident("Card payments failing", 1, &[RDS]).await;
    w.handle(&runbook(&arn)).await.unwrap();
    let notes = w.notes(&arn).await;
    assert_eq!(notes.len(), PAYMENTS_PLANS);
    for n in &notes {
        assert!(
            n.event_data.chars().count() <= 12_000,
            "{} characters",
            n.event_data.chars().count()
        );
    }
    let aws = notes
        .iter()
        .find(|n| n.event_data.contains("Amazon Web Services"))
        .unwrap();
    let shown = (0..20)
        .filter(|i| aws.event_data.contains(&format!("**Step {i}**")))
        .count();
    assert!(shown > 0 && shown < 20, "{shown} steps shown");
    for i in 0..shown {
        assert!(
            aws.event_data.contains(&format!("{i:02}").repeat(1000)),
            "step {i} is whole"
        );
    }
    assert!(
        aws.event_data
            .contains(
                "more step(s) and 5 contact(s) not shown: see the full plan at https://portal.example.com/plans/aws-business"
            ),
        "the plan's five contacts were after the cut: {}",
        aws.event_data
    );
}

/// SPEC §10 "incident to post": every post of a matched impact-1 incident
/// lands within three sequential round trips (incident ‖ workloads ‖ claims;
/// plans ‖ the claim write; posts ‖ count); the bookkeeping after the last
/// post is off that path. Every request is held 50 ms on its way, so calls
/// that overlap were concurrent and a call after another waited for it.
#[tokio::test]
async fn a_matched_incident_is_posted_within_three_sequential_round_trips() {
    use support_plans_aws::calls::{describe_rounds, sequential_depth};
    let w = World::with_latency(std::time::Duration::from_millis(50)).await;
    let arn = w.start_incident("Card payments failing", 1, &[RDS]).await;
    w.calls.clear();
    w.handle(&runbook(&arn)).await.unwrap();

    let calls = w.calls.calls();
    let is_post = |op: &str| ["CreateTimelineEvent", "UpdateRelatedItems", "Publish"].contains(&op);
    let last_post = calls
        .iter()
        .filter(|c| is_post(&c.operation))
        .map(|c| c.end)
        .max()
        .expect("something was posted");
    let path: Vec<_> = calls.iter().filter(|c| c.start < last_post).cloned().collect();
    let rounds = describe_rounds(&path);
    assert!(sequential_depth(&path) <= 3, "{rounds:?}");
    let count = |op: &str| path.iter().filter(|c| c.operation == op).count();
    assert_eq!(count("CreateTimelineEvent"), PAYMENTS_PLANS, "{rounds:?}");
    assert_eq!(
        count("Publish"),
        2,
        "the chat topic and INCIDENT_TOPIC_ARN: {rounds:?}"
    );
    assert!(count("UpdateRelatedItems") >= 1, "{rounds:?}");

    // What those calls posted is there, once.
    assert_eq!(w.notes(&arn).await.len(), PAYMENTS_PLANS);
    let links = w.links(&arn).await;
    assert_eq!(links.len(), count("UpdateRelatedItems"), "{links:?}");
    assert_eq!(w.drain(&w.chat_queue).await.len(), 1);
    assert_eq!(w.drain(&w.incident_queue).await.len(), 1);
    // And the bookkeeping followed: a sweep finds the incident complete.
    let swept = w.handle(&json!({"sweep": true})).await.unwrap();
    assert_eq!(swept["already_complete"], 1, "{swept}");
}

/// The day's counts, as the store holds them.
async fn activity(w: &World) -> support_plans_domain::readiness::Activity {
    use support_plans_domain::readiness::{ActivityLog as _, window_start};
    w.responder
        .store()
        .since(window_start(jiff::Timestamp::now()))
        .await
        .unwrap()
}

/// The day's counts, as `GET /readiness` shows them.
async fn counted(w: &World) -> Value {
    serde_json::to_value(activity(w).await).unwrap()
}

/// SPEC §4 "Counted once": five deliveries of one incident count it once,
/// in the stored day counts and in the per-incident metric (the summary's
/// `counted` names the metrics this invocation emitted).
#[tokio::test]
async fn five_deliveries_of_one_incident_count_it_once() {
    let w = World::new().await;
    let arn = w.start_incident("Card payments failing", 1, &[RDS]).await;
    let mut emitted = Vec::new();
    for i in 0..5 {
        let event = if i % 2 == 0 {
            runbook(&arn)
        } else {
            cloudtrail(&arn, &w.response_plan_arn)
        };
        let summary = w.handle(&event).await.unwrap();
        emitted.push(summary["counted"].clone());
    }
    assert_eq!(
        emitted,
        vec![
            json!(["IncidentsMatched"]),
            json!([]),
            json!([]),
            json!([]),
            json!([])
        ],
        "the per-incident metric once, by the invocation that recorded the count"
    );
    let counts = counted(&w).await;
    assert_eq!(
        (
            &counts["incidents_matched"],
            &counts["incidents_unmatched"],
            &counts["incidents_without_plan"]
        ),
        (&json!(1), &json!(0), &json!(0)),
        "{counts}"
    );
}

/// A chat message whose description names `reports` as a workload no plan covers.
fn assert_names_reports_uncovered(message: &Value) {
    assert!(
        message["content"]["description"]
            .as_str()
            .unwrap()
            .contains("No vendor support plan covers workload `reports`"),
        "{message}"
    );
}

/// SPEC §4: a matched workload that relies on no active plan gets one note
/// naming it, once, and the incident is counted without plan, once; the chat
/// message says it too, also for a generic incident (which has no notes).
#[tokio::test]
async fn a_matched_workload_without_an_active_plan_gets_one_note_and_the_incident_counts_without_plan() {
    use support_plans_domain::ports::WorkloadStore as _;
    let w = World::new().await;
    let body = json!({
        "name": "reports", "criticality": "tier-1",
        "owner": {"team": "finance", "email": "finance-team@example.com"},
        "dependencies": ["old-vendor"],
        "match": {"title_keywords": ["reports"]},
    });
    let reports = support_plans_domain::model::Workload::create(
        support_plans_domain::model::WorkloadSpec::parse(&body).unwrap(),
        &support_plans_domain::Actor::parse("tests").unwrap(),
        jiff::Timestamp::now(),
    );
    w.responder.store().create_workload(&reports).await.unwrap();

    // The payments response plan, and the title names the reports.
    let arn = w
        .start_incident("Card payments and monthly reports failing", 2, &[])
        .await;
    let first = w.handle(&runbook(&arn)).await.unwrap();
    w.handle(&cloudtrail(&arn, &w.response_plan_arn)).await.unwrap();
    assert_eq!(
        first["counted"],
        json!(["IncidentsMatched", "IncidentsWithoutPlan"]),
        "{first}"
    );
    assert_eq!(first["without_plan"], json!(["reports"]), "{first}");

    let notes = w.notes(&arn).await;
    let no_plan: Vec<&str> = notes
        .iter()
        .map(|n| n.event_data.as_str())
        .filter(|t| t.contains("No vendor support plan covers workload `reports`"))
        .collect();
    assert_eq!(no_plan.len(), 1, "one note for the workload nobody covered");
    for part in [
        "tier-1, owner team finance, finance-team@example.com",
        "https://portal.example.com/plans",
    ] {
        assert!(no_plan[0].contains(part), "{part} missing from:\n{}", no_plan[0]);
    }
    assert_eq!(
        notes.len(),
        PAYMENTS_PLANS + 1,
        "payments' plans are posted as before"
    );
    let chat = w.drain(&w.chat_queue).await;
    assert_eq!(chat.len(), 1);
    assert_names_reports_uncovered(&chat[0]);
    let counts = counted(&w).await;
    assert_eq!(
        (&counts["incidents_matched"], &counts["incidents_without_plan"]),
        (&json!(1), &json!(1)),
        "{counts}"
    );

    // A generic incident: no notes, the chat message says it.
    w.drain(&w.incident_queue).await;
    let generic = json!({"source": "acme.pager", "detail-type": "Incident Started", "time": "2026-11-21T10:00:00Z",
        "detail": {"id": "INC-77", "title": "reports stale", "impact": 3}});
    let summary = w.handle(&generic).await.unwrap();
    assert_eq!(
        summary["counted"],
        json!(["IncidentsMatched", "IncidentsWithoutPlan"]),
        "{summary}"
    );
    let messages = w.drain(&w.incident_queue).await;
    assert_eq!(messages.len(), 1);
    assert_names_reports_uncovered(&messages[0]);
    assert_eq!(counted(&w).await["incidents_without_plan"], json!(2));
}

/// SPEC §4 trigger 3: the sweep answers OPEN incidents of its window only: a
/// resolved one, and one created before the window (aged through the
/// emulator's admin API), get nothing.
#[tokio::test]
async fn the_sweep_skips_resolved_incidents_and_those_older_than_its_window() {
    let w = World::new().await;
    let fresh = w.start_incident("Card payments failing", 1, &[RDS]).await;
    let resolved = w.start_incident("Card payments failing again", 1, &[RDS]).await;
    w.im.update_incident_record()
        .arn(&resolved)
        .status(aws_sdk_ssmincidents::types::IncidentRecordStatus::Resolved)
        .send()
        .await
        .unwrap();
    let old = w
        .start_incident("Card payments failed yesterday", 1, &[RDS])
        .await;
    // The window is 24 h: 25 h ago is outside it.
    let (status, body) = w
        .admin(
            "POST",
            "/_emulator/incidents/age",
            &json!({"incidentRecordArn": old, "minutes": 25 * 60}).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let swept = w.handle(&json!({"sweep": true})).await.unwrap();
    assert_eq!(
        (&swept["open"], &swept["handled"]),
        (&json!(1), &json!(1)),
        "{swept}"
    );
    assert_eq!(w.notes(&fresh).await.len(), PAYMENTS_PLANS);
    assert!(
        w.notes(&resolved).await.is_empty(),
        "the resolved incident is left alone"
    );
    assert!(
        w.notes(&old).await.is_empty(),
        "the incident before the window is left alone"
    );
    assert_eq!(
        w.drain(&w.chat_queue).await.len(),
        1,
        "one chat message: the fresh incident's"
    );
}
