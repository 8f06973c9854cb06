//! SPEC §4 "Exactly once, whatever the retries" and "Permanent failures are
//! not retried", through the real handler against moto and the Incident
//! Manager emulator: stalled invocations and their leases, a note replayed
//! after an invocation died, chat topics that refuse the message.

mod common;

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_ssmincidents::types::{
    ChatChannel, IncidentTemplate, ItemIdentifier, ItemType, ItemValue, RelatedItem,
};
use common::{PAYMENTS_PLANS, RDS, World, cloudtrail, runbook};
use incident_responder::Responder;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use support_plans_aws::incidents::IncidentManager;
use support_plans_aws::responder::Incidents;
use support_plans_domain::pipeline::Pipeline;

/// How long an invocation that started at `t` may still be posting (Lambda
/// stops it then): any delivery arriving before `t` + this must not take its
/// parts over.
const ALIVE_FOR: Duration = support_plans_aws::deadlines::RESPONDER_TIMEOUT;

/// A second copy of the function: the same settings, its own clients (its
/// own connections), as another Lambda execution environment would have.
async fn second_copy(w: &World) -> Responder {
    let config = support_plans_tests::local_config().await;
    let table = w.responder.store().table().to_owned();
    let im_config = support_plans_aws::sdk::loader()
        .endpoint_url(w.emulator.endpoint_url())
        .load()
        .await;
    let settings = w.responder.pipeline.settings.clone();
    let im = IncidentManager::new(aws_sdk_ssmincidents::Client::new(&im_config));
    let incidents = Incidents {
        manager: im,
        pagerduty: None,
    };
    Responder {
        pipeline: Pipeline {
            source: incidents.clone(),
            sink: incidents,
            ..support_plans_aws::responder::pipeline(&config, None, &table, settings, None, None)
        },
        ..w.responder.clone()
    }
}

/// A response plan named `name` whose incidents chat to `topics`, and an
/// impact-1 payments incident started with it.
async fn incident_chatting_to(w: &World, name: &str, topics: &[&str]) -> String {
    let template = IncidentTemplate::builder()
        .title("Payments incident")
        .impact(1)
        .build()
        .unwrap();
    let plan =
        w.im.create_response_plan()
            .name(name)
            .incident_template(template)
            .chat_channel(ChatChannel::ChatbotSns(
                topics.iter().map(|t| (*t).to_owned()).collect(),
            ))
            .send()
            .await
            .unwrap();
    let id = ItemIdentifier::builder()
        .r#type(ItemType::InvolvedResource)
        .value(ItemValue::Arn(RDS.to_owned()))
        .build()
        .unwrap();
    w.im.start_incident()
        .response_plan_arn(plan.arn)
        .title("Card payments failing")
        .impact(1)
        .related_items(RelatedItem::builder().identifier(id).build())
        .send()
        .await
        .unwrap()
        .incident_record_arn
}

/// A payments incident started and answered through the runbook: its ARN,
/// the time it was answered at, and the summary.
async fn answered_once(w: &World) -> (String, Timestamp, Value) {
    let arn = w.start_incident("Card payments failing", 1, &[RDS]).await;
    let t0 = Timestamp::now();
    let summary = w.responder.handle(&runbook(&arn), t0).await.unwrap();
    (arn, t0, summary)
}

/// A sweep counts the incident complete, does not answer it again, and at
/// minute 0 has no follow-up to post (SPEC §13): it only reads (the list,
/// the claims; for the follow-ups the incident, its claims and marks, its
/// plans), and writes nothing.
async fn sweep_finds_it_complete(w: &World) {
    w.calls.clear();
    let swept = w.handle(&json!({"sweep": true})).await.unwrap();
    assert_eq!(swept["already_complete"], 1, "{swept}");
    assert_eq!(swept["follow_ups"], 0, "{swept}");
    let ops: Vec<String> = w.calls.calls().into_iter().map(|c| c.operation).collect();
    let reads = [
        "ListIncidentRecords",
        "BatchGetItem",
        "GetIncidentRecord",
        "ListRelatedItems",
        "ListTagsForResource",
        "GetItem",
        "Query",
    ];
    assert!(
        ops.iter().all(|op| reads.contains(&op.as_str())),
        "the sweep did more than read: {ops:?}"
    );
}

/// As if the invocation that posted `part` died before recording it: the
/// part is neither done nor leased, and the answer not complete.
async fn forget_part(w: &World, incident: &str, part: &str) {
    let config = support_plans_tests::local_config().await;
    aws_sdk_dynamodb::Client::new(&config)
        .update_item()
        .table_name(w.responder.store().table())
        .key("pk", AttributeValue::S(format!("CLAIM#{incident}")))
        .key("sk", AttributeValue::S("STATE".into()))
        .update_expression("DELETE done :part REMOVE complete")
        .expression_attribute_values(":part", AttributeValue::Ss(vec![part.to_owned()]))
        .send()
        .await
        .unwrap();
}

/// Two copies of the function and five deliveries of one incident (the
/// runbook, CloudTrail events, a sweep), the first stalled in Incident
/// Manager while the others arrive over the time it may still be alive: one
/// note per plan, one chat message per topic, and no delivery fails.
#[tokio::test]
async fn two_copies_and_five_deliveries_with_a_stall_post_one_note_per_plan_and_one_message_per_topic() {
    let w = World::new().await;
    let other = second_copy(&w).await;
    let arn = w.start_incident("Card payments failing", 1, &[RDS]).await;
    // The first invocation's notes wait 3 s in Incident Manager.
    let (status, body) = w
        .admin(
            "POST",
            "/_emulator/faults",
            &json!({"operation": "CreateTimelineEvent", "latency_ms": 3000, "count": PAYMENTS_PLANS})
                .to_string(),
        )
        .await;
    assert!((200..300).contains(&status), "{status} {body}");

    let t0 = Timestamp::now();
    let at = |fraction: f64| t0 + SignedDuration::try_from(ALIVE_FOR.mul_f64(fraction)).unwrap();
    // Each delivery a task of its own, as each invocation has its own stack.
    let deliver = |copy: &Responder, event: Value, now: Timestamp| {
        let copy = copy.clone();
        tokio::spawn(async move { copy.handle(&event, now).await.map_err(|e| e.to_string()) })
    };
    let first = deliver(&w.responder, runbook(&arn), t0);
    // The first is stalled in its posts by now.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let cloud = cloudtrail(&arn, &w.response_plan_arn);
    let later = [
        deliver(&other, cloud.clone(), at(0.25)),
        deliver(&w.responder, runbook(&arn), at(0.5)),
        deliver(&other, json!({"sweep": true}), at(0.75)),
        deliver(&w.responder, cloud, at(0.99)),
    ];
    let mut results = vec![first.await.unwrap()];
    for task in later {
        results.push(task.await.unwrap());
    }
    for (i, result) in results.iter().enumerate() {
        eprintln!("delivery {}: {result:?}", i + 1);
    }

    assert_eq!(
        w.drain(&w.chat_queue).await.len(),
        1,
        "one message to the chat topic"
    );
    assert_eq!(
        w.drain(&w.incident_queue).await.len(),
        1,
        "one message to INCIDENT_TOPIC_ARN"
    );
    assert_eq!(w.notes(&arn).await.len(), PAYMENTS_PLANS, "one note per plan");
    for (i, result) in results.iter().enumerate() {
        assert!(result.is_ok(), "delivery {}: {result:?}", i + 1);
    }
    let swept = w.handle(&json!({"sweep": true})).await.unwrap();
    assert_eq!(swept["already_complete"], 1, "{swept}");
}

/// A note Incident Manager took, from an invocation that died before
/// recording it: the retry (a sweep minutes later) sends the very same
/// request, which Incident Manager answers as a replay; the part is done.
#[tokio::test]
async fn a_note_posted_by_an_invocation_that_died_before_recording_it_is_done_on_the_retry() {
    let w = World::new().await;
    let (arn, t0, summary) = answered_once(&w).await;
    let plan = summary["plans"][0].as_str().unwrap().to_owned();
    forget_part(&w, &arn, &format!("NOTE#{plan}")).await;

    let later = t0 + SignedDuration::from_mins(10);
    let retried = w.responder.handle(&json!({"sweep": true}), later).await;
    let retried = retried.map_err(|e| e.to_string());
    assert!(retried.is_ok(), "the retried note failed: {retried:?}");
    assert_eq!(retried.unwrap()["handled"], 1);
    // The sweep at minute 10 also follows up the steps of minutes 5 and 10
    // (SPEC §13): those are not the plans' notes.
    let first_notes = w
        .notes(&arn)
        .await
        .into_iter()
        .filter(|n| {
            !n.event_data.contains("### Follow-up") && !n.event_data.contains("### First response due")
        })
        .count();
    assert_eq!(first_notes, PAYMENTS_PLANS, "no note twice");
    let swept = w
        .responder
        .handle(&json!({"sweep": true}), later + SignedDuration::from_mins(10))
        .await
        .unwrap();
    assert_eq!(swept["already_complete"], 1, "the note is marked done: {swept}");
}

/// As above, but the plan changed in between, so the retried note is not
/// the same request: Incident Manager refuses the reused client token
/// (ConflictException), which says the note is there. Done, not a failure.
#[tokio::test]
async fn a_reused_client_token_refused_as_a_conflict_counts_as_done() {
    use support_plans_domain::ports::PlanStore as _;
    let w = World::new().await;
    let (arn, t0, _) = answered_once(&w).await;
    let id = support_plans_domain::Slug::parse("aws-business").unwrap();
    forget_part(&w, &arn, "NOTE#aws-business").await;
    let current = w.responder.store().get_plan(&id).await.unwrap().unwrap();
    let mut spec = current.spec.clone();
    spec.account_ref = Some("Customer 4711-B".into());
    let next = current
        .replaced(spec, &current.meta.updated_by, Timestamp::now())
        .unwrap();
    w.responder
        .store()
        .put_plan_version(&next, support_plans_domain::model::Change::Replaced)
        .await
        .unwrap();

    let later = t0 + SignedDuration::from_mins(10);
    let retried = w
        .responder
        .handle(&runbook(&arn), later)
        .await
        .map_err(|e| e.to_string());
    assert!(retried.is_ok(), "{retried:?}");
    assert_eq!(w.notes(&arn).await.len(), PAYMENTS_PLANS, "no note twice");
    let swept = w.handle(&json!({"sweep": true})).await.unwrap();
    assert_eq!(swept["already_complete"], 1, "the note is marked done: {swept}");
}

/// A response plan chatting to a topic that does not exist (SNS NotFound):
/// that message is refused; the notes, links and the other messages are
/// posted, the invocation succeeds, and a later sweep makes no call for the
/// incident.
#[tokio::test]
async fn a_chat_topic_that_does_not_exist_is_refused_the_rest_completes_and_the_sweep_leaves_it() {
    let w = World::new().await;
    let gone = "arn:aws:sns:us-east-1:123456789012:deleted-chat-channel";
    let arn = incident_chatting_to(&w, "payments-gone-channel", &[gone, &w.chat_topic]).await;

    let summary = w.handle(&runbook(&arn)).await;
    assert!(summary.is_ok(), "the invocation must succeed: {summary:?}");
    assert_eq!(w.notes(&arn).await.len(), PAYMENTS_PLANS);
    assert!(!w.links(&arn).await.is_empty());
    assert_eq!(w.drain(&w.chat_queue).await.len(), 1);
    assert_eq!(w.drain(&w.incident_queue).await.len(), 1);

    sweep_finds_it_complete(&w).await;
}

/// A response plan chatting to a topic outside `CHAT_TOPIC_ARNS` (the
/// template's `ChatbotTopicArns`, which IAM enforces in AWS and moto does
/// not): refused before any call, the rest posted, the invocation succeeds,
/// and a later sweep makes no call for the incident.
#[tokio::test]
async fn a_chat_topic_the_function_may_not_use_is_refused_without_a_call_and_the_rest_completes() {
    let mut w = World::new().await;
    // The allowed list names the payments plan's topic only.
    w.responder.pipeline.settings.chat_topics = Some(vec![w.chat_topic.clone()]);
    let config = support_plans_tests::local_config().await;
    let sns = aws_sdk_sns::Client::new(&config);
    let (outside, outside_queue) = support_plans_tests::topic_with_queue(
        &sns,
        &w.sqs,
        &format!("{}-outside", w.responder.store().table()),
    )
    .await;
    let arn = incident_chatting_to(&w, "payments-outside", &[&outside, &w.chat_topic]).await;

    w.calls.clear();
    let summary = w.handle(&runbook(&arn)).await;
    assert!(summary.is_ok(), "the invocation must succeed: {summary:?}");
    let summary = summary.unwrap();
    assert_eq!(
        summary["refused"],
        json!([format!("CHAT#{outside}")]),
        "{summary}"
    );
    assert_eq!(summary["complete"], true, "{summary}");
    let publishes = w
        .calls
        .calls()
        .iter()
        .filter(|c| c.operation == "Publish")
        .count();
    assert_eq!(
        publishes, 2,
        "the allowed chat topic and INCIDENT_TOPIC_ARN, nothing to the other"
    );
    assert_eq!(w.notes(&arn).await.len(), PAYMENTS_PLANS);
    assert!(!w.links(&arn).await.is_empty());
    assert!(
        w.drain(&outside_queue).await.is_empty(),
        "nothing reached the topic outside the list"
    );
    assert_eq!(w.drain(&w.chat_queue).await.len(), 1);
    assert_eq!(w.drain(&w.incident_queue).await.len(), 1);

    sweep_finds_it_complete(&w).await;
    // Another delivery of the incident: nothing is tried again either.
    w.calls.clear();
    w.handle(&runbook(&arn)).await.unwrap();
    assert!(
        !w.calls
            .calls()
            .iter()
            .any(|c| ["Publish", "CreateTimelineEvent"].contains(&c.operation.as_str())),
        "a re-delivery posted again"
    );
}

/// The function's clients carry the deadlines its timeout and its claims'
/// lease are derived from (functions/aws/src/deadlines.rs).
#[tokio::test]
async fn the_function_s_clients_carry_the_responder_deadlines() {
    use support_plans_aws::deadlines::{ATTEMPT_TIMEOUT, OPERATION_TIMEOUT};
    let config = incident_responder::sdk_config().await;
    let timeouts = config.timeout_config().expect("a timeout config");
    assert_eq!(timeouts.operation_attempt_timeout(), Some(ATTEMPT_TIMEOUT));
    assert_eq!(timeouts.operation_timeout(), Some(OPERATION_TIMEOUT));
    let retry = config.retry_config().expect("a retry config");
    assert_eq!(retry.max_attempts(), support_plans_aws::sdk::MAX_ATTEMPTS);
}

/// Incident Manager refusing a post for good (AccessDeniedException, as IAM
/// answers a missing permission): that note is refused and recorded, the
/// other notes and the chat messages are posted, the invocation succeeds,
/// and no later delivery tries the refused note again.
#[tokio::test]
async fn a_note_incident_manager_refuses_is_recorded_as_refused_and_not_tried_again() {
    let w = World::new().await;
    let arn = w.start_incident("Card payments failing", 1, &[RDS]).await;
    let (status, body) = w
        .admin(
            "POST",
            "/_emulator/faults",
            r#"{"operation":"CreateTimelineEvent","fail":"access-denied","count":1}"#,
        )
        .await;
    assert!((200..300).contains(&status), "{status} {body}");
    let summary = w.handle(&runbook(&arn)).await;
    assert!(summary.is_ok(), "the invocation must succeed: {summary:?}");
    let summary = summary.unwrap();
    let refused = summary["refused"].as_array().unwrap();
    assert_eq!(refused.len(), 1, "{summary}");
    assert!(refused[0].as_str().unwrap().starts_with("NOTE#"), "{summary}");
    assert_eq!(w.notes(&arn).await.len(), PAYMENTS_PLANS - 1);
    assert_eq!(w.drain(&w.chat_queue).await.len(), 1);

    w.calls.clear();
    w.handle(&runbook(&arn)).await.unwrap();
    let swept = w.handle(&json!({"sweep": true})).await.unwrap();
    assert_eq!(swept["already_complete"], 1, "{swept}");
    assert!(
        !w.calls
            .calls()
            .iter()
            .any(|c| c.operation == "CreateTimelineEvent"),
        "the refused note was tried again"
    );
}
