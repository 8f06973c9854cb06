//! The unmodified `aws-sdk-ssmincidents` client against an in-process
//! emulator over real HTTP: every emulated operation, its errors, limits,
//! pagination, clientToken idempotency and injected faults.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_ssmincidents::Client;
use aws_sdk_ssmincidents::primitives::DateTime;
use aws_sdk_ssmincidents::types::{
    Action, AttributeValueList, ChatChannel, Condition, DynamicSsmParameterValue, EmptyChatChannel,
    EventReference, Filter, IncidentRecordStatus, IncidentTemplate, ItemIdentifier, ItemType, ItemValue,
    NotificationTargetItem, RelatedItem, RelatedItemsUpdate, SortOrder, SsmAutomation, TimelineEventSort,
    TriggerDetails, VariableType,
};
use axum::http::Method;
use common::{admin, calls, err, sdk, start};
use incident_manager_emulator::Config;
use serde_json::json;

const ACCOUNT: &str = "111122223333";
const TABLE: &str = "arn:aws:dynamodb:us-east-1:111122223333:table/orders";
const CHAT_TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:chat";
const NOTIFY_TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:notify";

fn template(title: &str) -> IncidentTemplate {
    IncidentTemplate::builder()
        .title(title)
        .impact(2)
        .summary("Orders are failing")
        .incident_tags("team", "payments")
        .incident_tags("workload", "orders")
        .notification_targets(NotificationTargetItem::SnsTopicArn(NOTIFY_TOPIC.into()))
        .build()
        .expect("template")
}

async fn create_plan(c: &Client, name: &str) -> String {
    c.create_response_plan()
        .name(name)
        .display_name(format!("Plan {name}"))
        .incident_template(template(&format!("{name} incident")))
        .chat_channel(ChatChannel::ChatbotSns(vec![CHAT_TOPIC.into()]))
        .send()
        .await
        .expect("create plan")
        .arn
}

async fn start_incident(c: &Client, plan: &str) -> String {
    c.start_incident()
        .response_plan_arn(plan)
        .send()
        .await
        .expect("start incident")
        .incident_record_arn
}

fn identifier(t: ItemType, v: ItemValue) -> ItemIdentifier {
    ItemIdentifier::builder()
        .r#type(t)
        .value(v)
        .build()
        .expect("identifier")
}

fn url_item(url: &str, title: &str) -> RelatedItem {
    RelatedItem::builder()
        .identifier(identifier(ItemType::Other, ItemValue::Url(url.into())))
        .title(title)
        .build()
}

fn now() -> DateTime {
    DateTime::from(SystemTime::now())
}

fn is_generated_id(id: &str, t: &str) -> bool {
    id.strip_prefix(&format!("related-item/{t}/")).is_some_and(|h| {
        h.len() == 32
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
    })
}

// ---- response plans ----

#[tokio::test]
async fn response_plan_create_get_delete_and_errors() {
    let emu = start(Config::default()).await;
    let c = sdk(&emu, true).await;
    let automation = SsmAutomation::builder()
        .document_name("SupportPlans-Responder")
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/runbook"))
        .parameters("Workload", vec!["orders".into()])
        .dynamic_parameters(
            "IncidentRecordArn",
            DynamicSsmParameterValue::Variable(VariableType::IncidentRecordArn),
        )
        .build()
        .expect("automation");
    let arn = c
        .create_response_plan()
        .name("orders-plan")
        .display_name("Orders")
        .incident_template(template("Orders down"))
        .chat_channel(ChatChannel::ChatbotSns(vec![CHAT_TOPIC.into()]))
        .engagements(format!(
            "arn:aws:ssm-contacts:us-east-1:{ACCOUNT}:contact/on-call"
        ))
        .actions(Action::SsmAutomation(automation.clone()))
        .tags("owner", "sre")
        .send()
        .await
        .expect("create")
        .arn;
    assert_eq!(
        arn,
        format!("arn:aws:ssm-incidents::{ACCOUNT}:response-plan/orders-plan")
    );

    let got = c.get_response_plan().arn(&arn).send().await.expect("get");
    assert_eq!(got.name, "orders-plan");
    assert_eq!(got.display_name(), Some("Orders"));
    let t = got.incident_template().expect("template");
    assert_eq!((t.title.as_str(), t.impact), ("Orders down", 2));
    assert_eq!(t.summary(), Some("Orders are failing"));
    assert_eq!(
        t.incident_tags().and_then(|m| m.get("team")).map(String::as_str),
        Some("payments")
    );
    assert_eq!(
        got.chat_channel(),
        Some(&ChatChannel::ChatbotSns(vec![CHAT_TOPIC.into()]))
    );
    assert_eq!(got.engagements().len(), 1);
    assert_eq!(got.actions(), [Action::SsmAutomation(automation)]);
    let tags = c
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .expect("tags");
    assert_eq!(tags.tags.get("owner").map(String::as_str), Some("sre"));

    // Same name again: conflict (409).
    let dup = c
        .create_response_plan()
        .name("orders-plan")
        .incident_template(template("x"))
        .send()
        .await;
    assert_eq!(err(dup), ("ConflictException".into(), 409));
    // Name pattern, missing template, impact range: validation (400).
    let bad = c
        .create_response_plan()
        .name("bad name")
        .incident_template(template("x"))
        .send()
        .await;
    assert_eq!(err(bad), ("ValidationException".into(), 400));
    let missing = c.create_response_plan().name("no-template").send().await;
    assert_eq!(err(missing), ("ValidationException".into(), 400));
    let impact = IncidentTemplate::builder()
        .title("t")
        .impact(6)
        .build()
        .expect("t");
    let bad = c
        .create_response_plan()
        .name("impact6")
        .incident_template(impact)
        .send()
        .await;
    assert_eq!(err(bad), ("ValidationException".into(), 400));

    // Delete, then it is gone; deleting again is fine (no not-found in the model).
    c.delete_response_plan().arn(&arn).send().await.expect("delete");
    let gone = c.get_response_plan().arn(&arn).send().await;
    let e = gone.expect_err("gone").into_service_error();
    assert!(e.is_resource_not_found_exception(), "{e:?}");
    c.delete_response_plan()
        .arn(&arn)
        .send()
        .await
        .expect("delete again");
    let unknown = c
        .get_response_plan()
        .arn(format!("arn:aws:ssm-incidents::{ACCOUNT}:response-plan/nope"))
        .send()
        .await;
    assert_eq!(err(unknown), ("ResourceNotFoundException".into(), 404));
}

#[tokio::test]
async fn update_response_plan_changes_template_for_new_incidents() {
    let emu = start(Config::default()).await;
    let c = sdk(&emu, true).await;
    let plan = create_plan(&c, "upd").await;
    c.update_response_plan()
        .arn(&plan)
        .display_name("Renamed")
        .incident_template_title("New title")
        .incident_template_impact(1)
        .incident_template_tags("tier", "gold")
        .chat_channel(ChatChannel::Empty(EmptyChatChannel::builder().build()))
        .send()
        .await
        .expect("update");
    let got = c.get_response_plan().arn(&plan).send().await.expect("get");
    assert_eq!(got.display_name(), Some("Renamed"));
    let t = got.incident_template().expect("template");
    assert_eq!((t.title.as_str(), t.impact), ("New title", 1));
    assert_eq!(t.incident_tags().map(|m| m.len()), Some(1));
    assert!(got.chat_channel().is_none());
    let inc = start_incident(&c, &plan).await;
    let rec = c
        .get_incident_record()
        .arn(&inc)
        .send()
        .await
        .expect("get")
        .incident_record
        .expect("record");
    assert_eq!((rec.title.as_str(), rec.impact), ("New title", 1));
    assert!(rec.chat_channel.is_none());
    let unknown = c
        .update_response_plan()
        .arn(format!("arn:aws:ssm-incidents::{ACCOUNT}:response-plan/none"))
        .display_name("x")
        .send()
        .await;
    assert_eq!(err(unknown), ("ResourceNotFoundException".into(), 404));
}

#[tokio::test]
async fn list_response_plans_pages_through_all_seven() {
    let emu = start(Config::default()).await;
    let c = sdk(&emu, true).await;
    for i in 0..7 {
        create_plan(&c, &format!("plan-{i}")).await;
    }
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .list_response_plans()
            .max_results(3)
            .set_next_token(token)
            .send()
            .await
            .expect("page");
        sizes.push(page.response_plan_summaries.len());
        seen.extend(page.response_plan_summaries.iter().map(|s| s.name.clone()));
        assert!(
            page.response_plan_summaries
                .iter()
                .all(|s| s.display_name().is_some())
        );
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(sizes, [3, 3, 1]);
    let expected: Vec<String> = (0..7).map(|i| format!("plan-{i}")).collect();
    assert_eq!(seen, expected, "every plan exactly once, by name");
    // The SDK's own paginator agrees.
    let all: Vec<_> = c
        .list_response_plans()
        .max_results(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginate");
    assert_eq!(all.len(), 7);
    let bad = c.list_response_plans().next_token("garbage").send().await;
    assert_eq!(err(bad), ("ValidationException".into(), 400));
    let bad = c.list_response_plans().max_results(101).send().await;
    assert_eq!(err(bad), ("ValidationException".into(), 400));
}

// ---- incidents ----

#[tokio::test]
async fn start_incident_copies_the_template_tags_and_writes_the_creation_event() {
    let emu = start(Config::default()).await;
    let c = sdk(&emu, true).await;
    let plan = create_plan(&c, "orders").await;
    let before = SystemTime::now();
    let trigger = TriggerDetails::builder()
        .source("aws.cloudwatch")
        .timestamp(now())
        .trigger_arn(format!("arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:orders-5xx"))
        .raw_data("{\"state\":\"ALARM\"}")
        .build()
        .expect("trigger");
    let arn = c
        .start_incident()
        .response_plan_arn(&plan)
        .related_items(
            RelatedItem::builder()
                .identifier(identifier(
                    ItemType::InvolvedResource,
                    ItemValue::Arn(TABLE.into()),
                ))
                .title("orders table")
                .build(),
        )
        .related_items(url_item("https://runbooks.example/orders", "Runbook"))
        .trigger_details(trigger)
        .send()
        .await
        .expect("start")
        .incident_record_arn;
    let prefix = format!("arn:aws:ssm-incidents::{ACCOUNT}:incident-record/orders/");
    let id = arn.strip_prefix(&prefix).expect("incident ARN format");
    assert_eq!(id.len(), 36, "UUID-like id: {id}");

    let rec = c
        .get_incident_record()
        .arn(&arn)
        .send()
        .await
        .expect("get")
        .incident_record
        .expect("record");
    assert_eq!(rec.arn, arn);
    assert_eq!(rec.status, IncidentRecordStatus::Open);
    assert_eq!(rec.title, "orders incident");
    assert_eq!(rec.impact, 2);
    assert_eq!(rec.summary(), Some("Orders are failing"));
    assert!(!rec.dedupe_string.is_empty());
    assert_eq!(
        rec.chat_channel(),
        Some(&ChatChannel::ChatbotSns(vec![CHAT_TOPIC.into()]))
    );
    assert_eq!(
        rec.notification_targets(),
        [NotificationTargetItem::SnsTopicArn(NOTIFY_TOPIC.into())]
    );
    let src = rec.incident_record_source.as_ref().expect("source");
    assert_eq!(src.source, "aws.cloudwatch");
    assert_eq!(
        src.resource_arn(),
        Some(format!("arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:orders-5xx").as_str())
    );
    assert!(src.created_by.starts_with(&format!("arn:aws:iam::{ACCOUNT}:")));
    assert!(rec.resolved_time().is_none());
    let created = SystemTime::try_from(rec.creation_time).expect("time");
    assert!(created >= before - Duration::from_secs(1) && created <= SystemTime::now());
    assert_eq!(rec.last_modified_time, rec.creation_time);

    // Template tags land on the incident.
    let tags = c
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .expect("tags");
    let want: std::collections::HashMap<String, String> = [("team", "payments"), ("workload", "orders")]
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    assert_eq!(tags.tags, want);

    // The service's creation event.
    let events = c
        .list_timeline_events()
        .incident_record_arn(&arn)
        .send()
        .await
        .expect("events")
        .event_summaries;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "Custom Event");
    let ev = c
        .get_timeline_event()
        .incident_record_arn(&arn)
        .event_id(&events[0].event_id)
        .send()
        .await
        .expect("event")
        .event
        .expect("event");
    assert_eq!(ev.event_data, "\"Incident Started\"");

    // Related items with service-generated ids.
    let items = c
        .list_related_items()
        .incident_record_arn(&arn)
        .send()
        .await
        .expect("items")
        .related_items;
    assert_eq!(items.len(), 2);
    assert!(is_generated_id(
        items[0].generated_id().unwrap_or_default(),
        "INVOLVED_RESOURCE"
    ));
    assert!(is_generated_id(
        items[1].generated_id().unwrap_or_default(),
        "OTHER"
    ));
    assert_eq!(
        items[0].identifier.as_ref().map(|i| i.value.clone()),
        Some(Some(ItemValue::Arn(TABLE.into())))
    );

    // Title and impact given to StartIncident override the template.
    let other = c
        .start_incident()
        .response_plan_arn(&plan)
        .title("Custom title")
        .impact(1)
        .send()
        .await
        .expect("start")
        .incident_record_arn;
    let rec = c
        .get_incident_record()
        .arn(&other)
        .send()
        .await
        .expect("get")
        .incident_record
        .expect("r");
    assert_eq!((rec.title.as_str(), rec.impact), ("Custom title", 1));
    assert_eq!(
        rec.incident_record_source.expect("src").source,
        "aws.ssm-incidents.custom"
    );
}

#[tokio::test]
async fn start_incident_rejects_bad_input_and_unknown_plans() {
    let emu = start(Config::default()).await;
    let c = sdk(&emu, true).await;
    let plan = create_plan(&c, "p").await;
    let unknown = c
        .start_incident()
        .response_plan_arn(format!("arn:aws:ssm-incidents::{ACCOUNT}:response-plan/none"))
        .send()
        .await;
    let e = unknown.expect_err("not found").into_service_error();
    assert!(e.is_resource_not_found_exception(), "{e:?}");

    let cases = [
        c.start_incident().response_plan_arn(&plan).impact(6),
        c.start_incident().response_plan_arn(&plan).impact(0),
        c.start_incident().response_plan_arn(&plan).title("t".repeat(201)),
        c.start_incident()
            .response_plan_arn(&plan)
            // "https://x/" is 10 characters: 1,001 in all.
            .related_items(url_item(&format!("https://x/{}", "a".repeat(991)), "long")),
        c.start_incident().response_plan_arn("not-an-arn"),
        c.start_incident(),
    ];
    for (i, call) in cases.into_iter().enumerate() {
        assert_eq!(
            err(call.send().await),
            ("ValidationException".into(), 400),
            "case {i}"
        );
    }
    // Exactly at the limits is fine.
    c.start_incident()
        .response_plan_arn(&plan)
        .title("t".repeat(200))
        .related_items(url_item(&format!("https://x/{}", "a".repeat(990)), "at limit"))
        .send()
        .await
        .expect("1,000-char URL and 200-char title");
    let listed = c.list_incident_records().send().await.expect("list");
    assert_eq!(
        listed.incident_record_summaries.len(),
        1,
        "no incident from rejected calls"
    );
}

#[tokio::test]
async fn start_incident_client_token_is_idempotent() {
    let emu = start(Config::default()).await;
    let c = sdk(&emu, true).await;
    let plan = create_plan(&c, "p").await;
    let first = c
        .start_incident()
        .response_plan_arn(&plan)
        .client_token("token-1")
        .send()
        .await
        .expect("first")
        .incident_record_arn;
    let again = c
        .start_incident()
        .response_plan_arn(&plan)
        .client_token("token-1")
        .send()
        .await
        .expect("again")
        .incident_record_arn;
    assert_eq!(first, again);
    let all = c.list_incident_records().send().await.expect("list");
    assert_eq!(all.incident_record_summaries.len(), 1);
    // The same token with other parameters is a conflict.
    let other = c
        .start_incident()
        .response_plan_arn(&plan)
        .client_token("token-1")
        .title("different")
        .send()
        .await;
    assert_eq!(err(other), ("ConflictException".into(), 409));
    // Without a token the SDK generates a fresh one per call.
    let third = start_incident(&c, &plan).await;
    assert_ne!(third, first);
}

#[tokio::test]
async fn a_template_dedupe_string_folds_starts_into_the_open_incident() {
    let emu = start(Config::default()).await;
    let c = sdk(&emu, true).await;
    let t = IncidentTemplate::builder()
        .title("db")
        .impact(3)
        .dedupe_string("orders-db")
        .build()
        .expect("t");
    let plan = c
        .create_response_plan()
        .name("dedupe")
        .incident_template(t)
        .send()
        .await
        .expect("plan")
        .arn;
    let a = start_incident(&c, &plan).await;
    let b = start_incident(&c, &plan).await;
    assert_eq!(a, b, "deduplicated into the open incident");
    c.update_incident_record()
        .arn(&a)
        .status(IncidentRecordStatus::Resolved)
        .send()
        .await
        .expect("resolve");
    let d = start_incident(&c, &plan).await;
    assert_ne!(a, d, "a resolved incident no longer absorbs new ones");
}

#[tokio::test]
async fn list_incident_records_filters_and_pages_through_twelve() {
    let emu = start(Config::default()).await;
    let c = sdk(&emu, true).await;
    let plan = create_plan(&c, "p").await;
    let started_at = SystemTime::now() - Duration::from_secs(2);
    let mut arns = Vec::new();
    for i in 0..12 {
        let arn = c
            .start_incident()
            .response_plan_arn(&plan)
            .impact(if i < 4 { 1 } else { 3 })
            .send()
            .await
            .expect("start")
            .incident_record_arn;
        arns.push(arn);
    }
    for arn in &arns[..3] {
        c.update_incident_record()
            .arn(arn)
            .status(IncidentRecordStatus::Resolved)
            .send()
            .await
            .expect("resolve");
    }

    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .list_incident_records()
            .max_results(5)
            .set_next_token(token)
            .send()
            .await
            .expect("page");
        sizes.push(page.incident_record_summaries.len());
        seen.extend(page.incident_record_summaries.into_iter().map(|s| s.arn));
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(sizes, [5, 5, 2]);
    let mut newest_first = arns.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first, "each incident exactly once, newest first");

    let filter = |key: &str, cond: Condition| {
        Filter::builder()
            .key(key)
            .condition(cond)
            .build()
            .expect("filter")
    };
    let count = |filters: Vec<Filter>| {
        let c = c.clone();
        async move {
            c.list_incident_records()
                .set_filters(Some(filters))
                .send()
                .await
                .expect("list")
                .incident_record_summaries
                .len()
        }
    };
    let status = |s: &str| {
        filter(
            "status",
            Condition::Equals(AttributeValueList::StringValues(vec![s.into()])),
        )
    };
    assert_eq!(count(vec![status("OPEN")]).await, 9);
    assert_eq!(count(vec![status("RESOLVED")]).await, 3);
    let after = filter("creationTime", Condition::After(DateTime::from(started_at)));
    let before = filter("creationTime", Condition::Before(DateTime::from(started_at)));
    assert_eq!(count(vec![after.clone()]).await, 12);
    assert_eq!(count(vec![before]).await, 0);
    let impact1 = filter(
        "impact",
        Condition::Equals(AttributeValueList::IntegerValues(vec![1])),
    );
    assert_eq!(count(vec![impact1.clone()]).await, 4);
    assert_eq!(
        count(vec![impact1, status("OPEN"), after]).await,
        1,
        "filters AND together"
    );

    let bad_key = c
        .list_incident_records()
        .filters(filter(
            "colour",
            Condition::Equals(AttributeValueList::StringValues(vec!["x".into()])),
        ))
        .send()
        .await;
    assert_eq!(err(bad_key), ("ValidationException".into(), 400));
    let bad_cond = c
        .list_incident_records()
        .filters(filter("status", Condition::After(now())))
        .send()
        .await;
    assert_eq!(err(bad_cond), ("ValidationException".into(), 400));
    let bad_token = c.list_incident_records().next_token("00").send().await;
    assert_eq!(err(bad_token), ("ValidationException".into(), 400));
}

#[tokio::test]
async fn update_incident_record_applies_changes_once_per_client_token() {
    let emu = start(Config::default()).await;
    let c = sdk(&emu, true).await;
    let plan = create_plan(&c, "p").await;
    let arn = start_incident(&c, &plan).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    c.update_incident_record()
        .arn(&arn)
        .client_token("upd-1")
        .title("A")
        .summary("new summary")
        .impact(4)
        .chat_channel(ChatChannel::Empty(EmptyChatChannel::builder().build()))
        .notification_targets(NotificationTargetItem::SnsTopicArn(CHAT_TOPIC.into()))
        .send()
        .await
        .expect("update");
    c.update_incident_record()
        .arn(&arn)
        .title("B")
        .status(IncidentRecordStatus::Resolved)
        .send()
        .await
        .expect("update 2");
    // Replaying the first request changes nothing.
    c.update_incident_record()
        .arn(&arn)
        .client_token("upd-1")
        .title("A")
        .summary("new summary")
        .impact(4)
        .chat_channel(ChatChannel::Empty(EmptyChatChannel::builder().build()))
        .notification_targets(NotificationTargetItem::SnsTopicArn(CHAT_TOPIC.into()))
        .send()
        .await
        .expect("replay");
    let rec = c
        .get_incident_record()
        .arn(&arn)
        .send()
        .await
        .expect("get")
        .incident_record
        .expect("r");
    assert_eq!(rec.title, "B");
    assert_eq!(rec.summary(), Some("new summary"));
    assert_eq!(rec.impact, 4);
    assert_eq!(rec.status, IncidentRecordStatus::Resolved);
    assert!(rec.resolved_time().is_some());
    assert!(rec.chat_channel().is_none(), "empty removes the chat channel");
    assert_eq!(rec.notification_targets().len(), 1);
    assert!(rec.last_modified_time.as_nanos() > rec.creation_time.as_nanos());

    let missing = c
        .update_incident_record()
        .arn(format!("{arn}-missing"))
        .title("x")
        .send()
        .await;
    assert_eq!(err(missing), ("ResourceNotFoundException".into(), 404));
    let bad = c.update_incident_record().arn(&arn).impact(0).send().await;
    assert_eq!(err(bad), ("ValidationException".into(), 400));
    let bad = c
        .update_incident_record()
        .arn(&arn)
        .title("t".repeat(201))
        .send()
        .await;
    assert_eq!(err(bad), ("ValidationException".into(), 400));
    let unknown_get = c.get_incident_record().arn(format!("{arn}-missing")).send().await;
    let e = unknown_get.expect_err("404").into_service_error();
    assert!(e.is_resource_not_found_exception(), "{e:?}");
}

#[tokio::test]
async fn delete_incident_record_removes_it() {
    let emu = start(Config::default()).await;
    let c = sdk(&emu, true).await;
    let plan = create_plan(&c, "p").await;
    let arn = start_incident(&c, &plan).await;
    c.delete_incident_record().arn(&arn).send().await.expect("delete");
    let gone = c.get_incident_record().arn(&arn).send().await;
    assert_eq!(err(gone), ("ResourceNotFoundException".into(), 404));
    c.delete_incident_record()
        .arn(&arn)
        .send()
        .await
        .expect("idempotent");
}

// ---- timeline ----

#[tokio::test]
async fn timeline_events_create_get_update_delete_and_limits() {
    let emu = start(Config::default()).await;
    let c = sdk(&emu, true).await;
    let plan = create_plan(&c, "p").await;
    let arn = start_incident(&c, &plan).await;
    let t0 = DateTime::from_secs(1_700_000_000);
    let created = c
        .create_timeline_event()
        .incident_record_arn(&arn)
        .event_time(t0)
        .event_type("Note")
        .event_data("Vendor: AWS Business support")
        .event_references(EventReference::Resource(arn.clone()))
        .send()
        .await
        .expect("create");
    assert_eq!(created.incident_record_arn, arn);
    let get = |id: String| {
        let c = c.clone();
        let arn = arn.clone();
        async move {
            c.get_timeline_event()
                .incident_record_arn(arn)
                .event_id(id)
                .send()
                .await
        }
    };
    let ev = get(created.event_id.clone())
        .await
        .expect("get")
        .event
        .expect("event");
    assert_eq!(ev.event_type, "Note");
    assert_eq!(ev.event_data, "Vendor: AWS Business support");
    assert_eq!(ev.event_time, t0);
    assert_eq!(ev.event_references(), [EventReference::Resource(arn.clone())]);

    tokio::time::sleep(Duration::from_millis(5)).await;
    c.update_timeline_event()
        .incident_record_arn(&arn)
        .event_id(&created.event_id)
        .event_data("updated")
        .event_type("Custom Event")
        .event_references(EventReference::Resource(TABLE.into()))
        .send()
        .await
        .expect("update");
    let ev2 = get(created.event_id.clone())
        .await
        .expect("get")
        .event
        .expect("event");
    assert_eq!(ev2.event_data, "updated");
    assert_eq!(ev2.event_type, "Custom Event");
    assert_eq!(ev2.event_time, t0, "untouched members stay");
    assert_eq!(
        ev2.event_references(),
        [EventReference::Resource(TABLE.into())],
        "replaced"
    );
    assert!(ev2.event_updated_time.as_nanos() > ev.event_updated_time.as_nanos());

    c.delete_timeline_event()
        .incident_record_arn(&arn)
        .event_id(&created.event_id)
        .send()
        .await
        .expect("delete");
    assert_eq!(
        err(get(created.event_id.clone()).await),
        ("ResourceNotFoundException".into(), 404)
    );
    c.delete_timeline_event()
        .incident_record_arn(&arn)
        .event_id(&created.event_id)
        .send()
        .await
        .expect("delete is idempotent");

    // Limits.
    let create = |data: String, refs: usize, ty: &str| {
        let mut call = c
            .create_timeline_event()
            .incident_record_arn(&arn)
            .event_time(now())
            .event_type(ty)
            .event_data(data);
        for _ in 0..refs {
            call = call.event_references(EventReference::Resource(TABLE.into()));
        }
        call.send()
    };
    assert_eq!(
        err(create("x".repeat(12_001), 0, "Note").await),
        ("ValidationException".into(), 400)
    );
    create("x".repeat(12_000), 0, "Note")
        .await
        .expect("12,000 chars is fine");
    assert_eq!(
        err(create("x".into(), 11, "Note").await),
        ("ValidationException".into(), 400)
    );
    create("x".into(), 10, "Note")
        .await
        .expect("10 references is fine");
    assert_eq!(
        err(create("x".into(), 0, "Incident Note").await),
        ("ValidationException".into(), 400)
    );
    assert_eq!(
        err(create("x".into(), 0, "note").await),
        ("ValidationException".into(), 400)
    );
    create("x".into(), 0, "Custom Event").await.expect("Custom Event");
    let no_data = c
        .create_timeline_event()
        .incident_record_arn(&arn)
        .event_time(now())
        .event_type("Note")
        .send()
        .await;
    assert_eq!(err(no_data), ("ValidationException".into(), 400));
    let no_time = c
        .create_timeline_event()
        .incident_record_arn(&arn)
        .event_type("Note")
        .event_data("x")
        .send()
        .await;
    assert_eq!(err(no_time), ("ValidationException".into(), 400));
    let bad_update = c
        .update_timeline_event()
        .incident_record_arn(&arn)
        .event_id("nope")
        .event_data("x".repeat(12_001))
        .send()
        .await;
    assert_eq!(err(bad_update), ("ValidationException".into(), 400));

    // Unknown incident / event.
    let missing = format!("{arn}-missing");
    let e = c
        .create_timeline_event()
        .incident_record_arn(&missing)
        .event_time(now())
        .event_type("Note")
        .event_data("x")
        .send()
        .await
        .expect_err("404")
        .into_service_error();
    assert!(e.is_resource_not_found_exception(), "{e:?}");
    assert_eq!(
        err(get("no-such-event".into()).await),
        ("ResourceNotFoundException".into(), 404)
    );
    let upd = c
        .update_timeline_event()
        .incident_record_arn(&arn)
        .event_id("no-such-event")
        .event_data("x")
        .send()
        .await;
    assert_eq!(err(upd), ("ResourceNotFoundException".into(), 404));
}

#[tokio::test]
async fn timeline_events_page_and_sort_by_event_time() {
    let emu = start(Config::default()).await;
    let c = sdk(&emu, true).await;
    let plan = create_plan(&c, "p").await;
    let arn = start_incident(&c, &plan).await;
    let base = 1_700_000_000_i64;
    let mut ids = HashSet::new();
    // Created out of time order so sorting is really exercised.
    for i in [
        7, 3, 24, 0, 12, 18, 1, 9, 15, 21, 5, 2, 11, 23, 4, 6, 8, 10, 13, 14, 16, 17, 19, 20, 22,
    ] {
        let out = c
            .create_timeline_event()
            .incident_record_arn(&arn)
            .event_time(DateTime::from_secs(base + 60 * i))
            .event_type("Note")
            .event_data(format!("note {i}"))
            .event_references(EventReference::Resource(if i % 5 == 0 {
                TABLE.into()
            } else {
                arn.clone()
            }))
            .send()
            .await
            .expect("create");
        ids.insert(out.event_id);
    }
    assert_eq!(ids.len(), 25);

    let walk = |order: Option<SortOrder>| {
        let c = c.clone();
        let arn = arn.clone();
        async move {
            let mut all = Vec::new();
            let mut token = None;
            let mut pages = 0;
            loop {
                let page = c
                    .list_timeline_events()
                    .incident_record_arn(&arn)
                    .sort_by(TimelineEventSort::EventTime)
                    .set_sort_order(order.clone())
                    .max_results(10)
                    .set_next_token(token)
                    .send()
                    .await
                    .expect("page");
                pages += 1;
                assert!(page.event_summaries.len() <= 10);
                all.extend(page.event_summaries);
                token = page.next_token;
                if token.is_none() {
                    break;
                }
            }
            (pages, all)
        }
    };
    let (pages, asc) = walk(Some(SortOrder::Ascending)).await;
    assert_eq!(pages, 3);
    assert_eq!(asc.len(), 26, "25 notes + the creation event");
    let asc_ids: HashSet<_> = asc.iter().map(|e| e.event_id.clone()).collect();
    assert_eq!(asc_ids.len(), 26, "each event exactly once");
    assert!(ids.is_subset(&asc_ids));
    let times: Vec<i64> = asc.iter().map(|e| e.event_time.secs()).collect();
    let mut sorted = times.clone();
    sorted.sort_unstable();
    assert_eq!(times, sorted, "ascending");
    assert_eq!(times[0], base);

    let (_, desc) = walk(None).await;
    assert_eq!(desc.len(), 26);
    assert_eq!(
        desc[0].event_type, "Custom Event",
        "default is newest first: the creation event"
    );
    let desc_notes: Vec<i64> = desc[1..].iter().map(|e| e.event_time.secs()).collect();
    assert!(desc_notes.windows(2).all(|w| w[0] >= w[1]), "descending");

    // Filters: type, time, reference.
    let list = |f: Filter| {
        let c = c.clone();
        let arn = arn.clone();
        async move {
            c.list_timeline_events()
                .incident_record_arn(arn)
                .filters(f)
                .send()
                .await
                .expect("list")
                .event_summaries
        }
    };
    let f = |key: &str, cond: Condition| Filter::builder().key(key).condition(cond).build().expect("f");
    let notes = list(f(
        "eventType",
        Condition::Equals(AttributeValueList::StringValues(vec!["Note".into()])),
    ))
    .await;
    assert_eq!(notes.len(), 25);
    let late = list(f(
        "eventTime",
        Condition::After(DateTime::from_secs(base + 60 * 19)),
    ))
    .await;
    assert_eq!(late.len(), 5 + 1, "20..24 plus the creation event (now)");
    let on_table = list(f(
        "eventReference",
        Condition::Equals(AttributeValueList::StringValues(vec![TABLE.into()])),
    ))
    .await;
    assert_eq!(on_table.len(), 5);
    assert!(
        on_table
            .iter()
            .all(|e| e.event_references() == [EventReference::Resource(TABLE.into())])
    );

    // A token from one listing does not fit another.
    let first = c
        .list_timeline_events()
        .incident_record_arn(&arn)
        .max_results(2)
        .send()
        .await
        .expect("first page");
    let token = first.next_token.expect("more pages");
    let other_incident = start_incident(&c, &plan).await;
    let wrong = c
        .list_timeline_events()
        .incident_record_arn(other_incident)
        .next_token(token)
        .send()
        .await;
    assert_eq!(err(wrong), ("ValidationException".into(), 400));
    let missing = c
        .list_timeline_events()
        .incident_record_arn(format!("{arn}-missing"))
        .send()
        .await;
    assert_eq!(err(missing), ("ResourceNotFoundException".into(), 404));
}

#[tokio::test]
async fn create_timeline_event_client_token_makes_one_event() {
    let emu = start(Config::default()).await;
    let c = sdk(&emu, true).await;
    let plan = create_plan(&c, "p").await;
    let arn = start_incident(&c, &plan).await;
    let t = now();
    let send = || {
        c.create_timeline_event()
            .incident_record_arn(&arn)
            .client_token("incident/plan-note")
            .event_time(t)
            .event_type("Note")
            .event_data("the note")
            .send()
    };
    let a = send().await.expect("first").event_id;
    let b = send().await.expect("second").event_id;
    assert_eq!(a, b);
    let notes = c
        .list_timeline_events()
        .incident_record_arn(&arn)
        .send()
        .await
        .expect("list")
        .event_summaries
        .into_iter()
        .filter(|e| e.event_type == "Note")
        .count();
    assert_eq!(notes, 1);
    assert_eq!(calls(&emu, "CreateTimelineEvent").await, 2);
}

// ---- related items ----

#[tokio::test]
async fn related_items_add_list_remove_and_errors() {
    let emu = start(Config::default()).await;
    let c = sdk(&emu, true).await;
    let plan = create_plan(&c, "p").await;
    let arn = start_incident(&c, &plan).await;
    let add = |item: RelatedItem| {
        c.update_related_items()
            .incident_record_arn(&arn)
            .related_items_update(RelatedItemsUpdate::ItemToAdd(item))
            .send()
    };
    for i in 0..5 {
        add(url_item(
            &format!("https://portal.example/{i}"),
            &format!("Open a case {i}"),
        ))
        .await
        .expect("add");
    }
    let dup = add(url_item("https://portal.example/0", "again")).await;
    assert_eq!(err(dup), ("ConflictException".into(), 409));
    let long = add(url_item(&format!("https://x/{}", "a".repeat(991)), "long")).await;
    assert_eq!(err(long), ("ValidationException".into(), 400));
    let long_title = add(url_item("https://ok", &"t".repeat(201))).await;
    assert_eq!(err(long_title), ("ValidationException".into(), 400));

    // Pages of two: every item once, in insertion order.
    let mut urls = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .list_related_items()
            .incident_record_arn(&arn)
            .max_results(2)
            .set_next_token(token)
            .send()
            .await
            .expect("page");
        for item in &page.related_items {
            assert!(is_generated_id(item.generated_id().unwrap_or_default(), "OTHER"));
            if let Some(ItemValue::Url(u)) = item.identifier.as_ref().and_then(|i| i.value.clone()) {
                urls.push(u);
            }
        }
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    let want: Vec<String> = (0..5).map(|i| format!("https://portal.example/{i}")).collect();
    assert_eq!(urls, want);

    let remove = |url: &str| {
        c.update_related_items()
            .incident_record_arn(&arn)
            .related_items_update(RelatedItemsUpdate::ItemToRemove(identifier(
                ItemType::Other,
                ItemValue::Url(url.into()),
            )))
            .send()
    };
    remove("https://portal.example/3").await.expect("remove");
    assert_eq!(
        err(remove("https://portal.example/3").await),
        ("ResourceNotFoundException".into(), 404)
    );
    let left = c
        .list_related_items()
        .incident_record_arn(&arn)
        .send()
        .await
        .expect("list");
    assert_eq!(left.related_items.len(), 4);

    // clientToken: a retried add is one item, not a conflict.
    let tokened = || {
        c.update_related_items()
            .incident_record_arn(&arn)
            .client_token("add-runbook")
            .related_items_update(RelatedItemsUpdate::ItemToAdd(url_item(
                "https://runbook",
                "Runbook",
            )))
            .send()
    };
    tokened().await.expect("add");
    tokened().await.expect("replayed add");
    let after = c
        .list_related_items()
        .incident_record_arn(&arn)
        .send()
        .await
        .expect("list");
    assert_eq!(after.related_items.len(), 5);

    let missing = c
        .update_related_items()
        .incident_record_arn(format!("{arn}-missing"))
        .related_items_update(RelatedItemsUpdate::ItemToAdd(url_item("https://x", "x")))
        .send()
        .await;
    assert_eq!(err(missing), ("ResourceNotFoundException".into(), 404));
    let no_update = c.update_related_items().incident_record_arn(&arn).send().await;
    assert_eq!(err(no_update), ("ValidationException".into(), 400));
}

// ---- tags ----

#[tokio::test]
async fn tags_on_plans_and_incidents() {
    let emu = start(Config::default()).await;
    let c = sdk(&emu, true).await;
    let plan = create_plan(&c, "p").await;
    let inc = start_incident(&c, &plan).await;
    for arn in [&plan, &inc] {
        c.tag_resource()
            .resource_arn(arn)
            .tags("env", "prod")
            .tags("cost-center", "42")
            .send()
            .await
            .expect("tag");
        c.untag_resource()
            .resource_arn(arn)
            .tag_keys("cost-center")
            .send()
            .await
            .expect("untag");
        let tags = c
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .expect("list")
            .tags;
        assert_eq!(tags.get("env").map(String::as_str), Some("prod"));
        assert!(!tags.contains_key("cost-center"));
    }
    let inc_tags = c
        .list_tags_for_resource()
        .resource_arn(&inc)
        .send()
        .await
        .expect("list")
        .tags;
    let keys: BTreeMap<_, _> = inc_tags.into_iter().collect();
    assert_eq!(keys.keys().collect::<Vec<_>>(), ["env", "team", "workload"]);

    let unknown = format!("arn:aws:ssm-incidents::{ACCOUNT}:response-plan/none");
    let e = c.list_tags_for_resource().resource_arn(&unknown).send().await;
    assert_eq!(err(e), ("ResourceNotFoundException".into(), 404));
    let e = c
        .tag_resource()
        .resource_arn(&unknown)
        .tags("a", "b")
        .send()
        .await;
    assert_eq!(err(e), ("ResourceNotFoundException".into(), 404));
    let e = c
        .tag_resource()
        .resource_arn(&plan)
        .tags("aws:reserved", "x")
        .send()
        .await;
    assert_eq!(err(e), ("ValidationException".into(), 400));

    // Past 50 tags in total: the model's ServiceQuotaExceededException (402).
    let mut call = c.tag_resource().resource_arn(&plan);
    for i in 0..50 {
        call = call.tags(format!("k{i}"), "v");
    }
    let e = call.send().await;
    let (code, status) = err(e);
    assert_eq!((code.as_str(), status), ("ServiceQuotaExceededException", 402));
}

// ---- faults and the admin API ----

#[tokio::test]
async fn injected_throttling_is_retried_by_the_sdk_or_surfaces_without_retries() {
    let emu = start(Config::default()).await;
    let c = sdk(&emu, true).await;
    let no_retry = sdk(&emu, false).await;
    let plan = create_plan(&c, "p").await;
    let arn = start_incident(&c, &plan).await;
    let note = |client: &Client| {
        client
            .create_timeline_event()
            .incident_record_arn(&arn)
            .event_time(now())
            .event_type("Note")
            .event_data("x")
            .send()
    };

    admin(
        &emu,
        Method::POST,
        "faults",
        Some(json!({"operation": "CreateTimelineEvent", "fail": "throttle", "count": 2})),
    )
    .await;
    note(&c).await.expect("the SDK's default retries get through");
    assert_eq!(calls(&emu, "CreateTimelineEvent").await, 3);

    admin(
        &emu,
        Method::POST,
        "faults",
        Some(json!({"operation": "CreateTimelineEvent", "fail": "throttle", "count": 1})),
    )
    .await;
    let e = note(&no_retry).await.expect_err("throttled").into_service_error();
    assert!(e.is_throttling_exception(), "{e:?}");
    note(&no_retry).await.expect("the fault was used up");

    admin(
        &emu,
        Method::POST,
        "faults",
        Some(json!({"operation": "CreateTimelineEvent", "fail": "server-error", "count": 2})),
    )
    .await;
    note(&c).await.expect("5xx retried");
    admin(
        &emu,
        Method::POST,
        "faults",
        Some(json!({"operation": "CreateTimelineEvent", "fail": "server-error", "count": 1})),
    )
    .await;
    let r = note(&no_retry).await;
    assert_eq!(err(r), ("InternalServerException".into(), 500));

    // Faults are per operation: other calls are unaffected.
    admin(
        &emu,
        Method::POST,
        "faults",
        Some(json!({"operation": "GetIncidentRecord", "fail": "access-denied"})),
    )
    .await;
    let e = c.get_incident_record().arn(&arn).send().await;
    assert_eq!(err(e), ("AccessDeniedException".into(), 403));
    note(&no_retry).await.expect("other operations unaffected");
    admin(&emu, Method::DELETE, "faults", None).await;
    c.get_incident_record()
        .arn(&arn)
        .send()
        .await
        .expect("faults cleared");

    // Latency on every operation.
    admin(
        &emu,
        Method::POST,
        "faults",
        Some(json!({"operation": "*", "latency_ms": 150, "count": 1})),
    )
    .await;
    let t = Instant::now();
    c.list_response_plans().send().await.expect("slow");
    assert!(t.elapsed() >= Duration::from_millis(150));
    // The count-limited rule is used up (no timing upper bound: CI may be slow).
    let rules = admin(&emu, Method::GET, "faults", None).await;
    assert_eq!(rules["faults"], json!([]));
}

#[tokio::test]
async fn admin_api_counts_validates_and_resets() {
    let emu = start(Config::default()).await;
    let c = sdk(&emu, true).await;
    let plan = create_plan(&c, "p").await;
    start_incident(&c, &plan).await;
    c.get_response_plan().arn(&plan).send().await.expect("get");
    let counts = admin(&emu, Method::GET, "calls", None).await;
    assert_eq!(
        counts["calls"],
        json!({"CreateResponsePlan": 1, "StartIncident": 1, "GetResponsePlan": 1})
    );
    assert_eq!(counts["total"], 3);

    let base = emu.endpoint_url();
    let (status, body) = common::http(
        Method::POST,
        &format!("{base}/_emulator/faults"),
        Some(&json!({"operation": "StartIncidnet", "fail": "throttle"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = common::http(
        Method::POST,
        &format!("{base}/_emulator/faults"),
        Some(&json!({"operation": "*"})),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = common::http(
        Method::POST,
        &format!("{base}/_emulator/config"),
        Some(&json!({"event_target": "https://tls.example/"})),
    )
    .await;
    assert_eq!(status, 400);
    let cfg = admin(
        &emu,
        Method::POST,
        "config",
        Some(json!({"event_target": "http://127.0.0.1:9/e"})),
    )
    .await;
    assert_eq!(cfg["event_target"], "http://127.0.0.1:9/e");
    assert_eq!(cfg["runbook_target"], json!(null));
    let cfg = admin(&emu, Method::POST, "config", Some(json!({"event_target": null}))).await;
    assert_eq!(cfg["event_target"], json!(null));

    admin(&emu, Method::POST, "reset", None).await;
    let plans = c.list_response_plans().send().await.expect("list");
    assert!(plans.response_plan_summaries.is_empty());
    assert_eq!(
        admin(&emu, Method::GET, "calls", None).await["calls"],
        json!({"ListResponsePlans": 1})
    );

    // Operations in the model that the emulator does not implement say so.
    let e = c.list_replication_sets().send().await;
    let (code, status) = err(e);
    assert_eq!((code.as_str(), status), ("NotImplemented", 501));
    // Unknown paths answer like an AWS front end.
    let (status, _) = common::http(Method::POST, &format!("{base}/noSuchOperation"), Some(&json!({}))).await;
    assert_eq!(status, 404);
}
