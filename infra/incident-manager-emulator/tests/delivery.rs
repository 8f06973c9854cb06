//! Event delivery after StartIncident: the CloudTrail-shaped EventBridge
//! event and the runbook payload (template.yaml's runbook, rendered), POSTed
//! to a test receiver standing in for the Lambda Invoke API.

mod common;

use std::time::Duration;

use aws_sdk_ssmincidents::Client;
use aws_sdk_ssmincidents::types::{
    Action, DynamicSsmParameterValue, IncidentTemplate, ItemIdentifier, ItemType, ItemValue, RelatedItem,
    SsmAutomation, VariableType,
};
use axum::http::Method;
use common::{Receiver, admin, sdk, start, wait_deliveries};
use incident_manager_emulator::{Config, RUNBOOK_RESOURCE, Runbook};
use serde_json::json;

const ACCOUNT: &str = "111122223333";
const TABLE: &str = "arn:aws:dynamodb:us-east-1:111122223333:table/orders";
const QUEUE: &str = "arn:aws:sqs:us-east-1:111122223333:orders-queue";

fn template() -> IncidentTemplate {
    IncidentTemplate::builder()
        .title("Orders down")
        .impact(2)
        .build()
        .expect("template")
}

/// The project's runbook, as the local stack loads it.
fn template_runbook() -> Runbook {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");
    Runbook::from_template(path.as_ref(), RUNBOOK_RESOURCE).expect("template.yaml's runbook renders")
}

/// A plan whose runbook gets the incident ARN and involved resources, as
/// the project's template ships it (the document's parameter names).
async fn plan_with_runbook(c: &Client, name: &str) -> String {
    plan_with_parameters(c, name, "INCIDENT_RECORD_ARN", "INVOLVED_RESOURCES").await
}

async fn plan_with_parameters(c: &Client, name: &str, arn_param: &str, resources_param: &str) -> String {
    let automation = SsmAutomation::builder()
        .document_name("support-plans-ResponderRunbook")
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/incident-runbook"))
        .dynamic_parameters(
            arn_param,
            DynamicSsmParameterValue::Variable(VariableType::IncidentRecordArn),
        )
        .dynamic_parameters(
            resources_param,
            DynamicSsmParameterValue::Variable(VariableType::InvolvedResources),
        )
        .build()
        .expect("automation");
    c.create_response_plan()
        .name(name)
        .incident_template(template())
        .actions(Action::SsmAutomation(automation))
        .send()
        .await
        .expect("plan")
        .arn
}

async fn plain_plan(c: &Client, name: &str) -> String {
    c.create_response_plan()
        .name(name)
        .incident_template(template())
        .send()
        .await
        .expect("plan")
        .arn
}

fn item(t: ItemType, v: ItemValue) -> RelatedItem {
    RelatedItem::builder()
        .identifier(
            ItemIdentifier::builder()
                .r#type(t)
                .value(v)
                .build()
                .expect("identifier"),
        )
        .build()
}

fn both_targets(r: &Receiver) -> Config {
    Config {
        event_target: Some(r.url("/event")),
        runbook_target: Some(r.url("/runbook")),
        runbook: Some(template_runbook()),
        ..Config::default()
    }
}

#[tokio::test]
async fn start_incident_delivers_one_cloudtrail_event_and_one_runbook_payload() {
    let receiver = Receiver::start().await;
    let emu = start(both_targets(&receiver)).await;
    let c = sdk(&emu, true).await;
    let plan = plan_with_runbook(&c, "orders").await;
    let arn = c
        .start_incident()
        .response_plan_arn(&plan)
        .title("Checkout errors")
        .impact(1)
        .client_token("alarm-123")
        .related_items(item(ItemType::InvolvedResource, ItemValue::Arn(TABLE.into())))
        .related_items(item(ItemType::InvolvedResource, ItemValue::Arn(QUEUE.into())))
        .related_items(item(
            ItemType::Other,
            ItemValue::Url("https://dash.example".into()),
        ))
        .send()
        .await
        .expect("start")
        .incident_record_arn;

    let deliveries = wait_deliveries(&emu, 2).await;
    assert!(
        deliveries
            .iter()
            .all(|d| d["delivered"] == true && d["attempts"] == 1),
        "{deliveries:?}"
    );
    // Give a stray duplicate time to show up before counting.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let events = receiver.on("/event");
    assert_eq!(events.len(), 1, "exactly one CloudTrail event");
    let e = &events[0];
    assert_eq!(e["version"], "0");
    assert_eq!(e["source"], "aws.ssm-incidents");
    assert_eq!(e["detail-type"], "AWS API Call via CloudTrail");
    assert_eq!(e["account"], ACCOUNT);
    assert_eq!(e["region"], "us-east-1");
    assert_eq!(e["resources"], json!([]));
    assert!(e["id"].as_str().is_some_and(|s| s.len() == 36));
    let time = e["time"].as_str().expect("time");
    assert!(
        time.len() == 20 && time.ends_with('Z') && time.as_bytes()[10] == b'T',
        "{time}"
    );
    let d = &e["detail"];
    assert_eq!(d["eventSource"], "ssm-incidents.amazonaws.com");
    assert_eq!(d["eventName"], "StartIncident");
    assert_eq!(d["eventType"], "AwsApiCall");
    assert_eq!(d["eventVersion"], "1.08");
    assert_eq!(d["awsRegion"], "us-east-1");
    assert_eq!(d["readOnly"], false);
    assert_eq!(d["managementEvent"], true);
    assert_eq!(d["recipientAccountId"], ACCOUNT);
    assert_eq!(d["eventTime"], e["time"]);
    assert_eq!(d["userIdentity"]["accountId"], ACCOUNT);
    assert_eq!(
        d["userIdentity"]["accessKeyId"], "testing",
        "from the SigV4 header"
    );
    assert_eq!(d["responseElements"]["incidentRecordArn"], arn.as_str());
    assert_eq!(
        d["requestParameters"],
        json!({"responsePlanArn": plan, "title": "Checkout errors", "impact": 1, "clientToken": "alarm-123"})
    );
    assert!(d["requestID"].is_string() && d["eventID"].is_string());

    let runbook = receiver.on("/runbook");
    assert_eq!(
        runbook,
        [json!({"incident_record_arn": arn, "involved_resources": [TABLE, QUEUE]})],
        "exactly one runbook payload, template.yaml's, with the INVOLVED_RESOURCE ARNs as a list"
    );
    let sent = admin(&emu, Method::GET, "deliveries", None).await;
    let recorded: Vec<_> = sent["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .filter(|d| d["kind"] == "runbook")
        .map(|d| d["payload"].clone())
        .collect();
    assert_eq!(recorded, runbook, "the delivery record shows what was sent");

    // A replay of the same request (same clientToken) starts nothing new.
    c.start_incident()
        .response_plan_arn(&plan)
        .title("Checkout errors")
        .impact(1)
        .client_token("alarm-123")
        .related_items(item(ItemType::InvolvedResource, ItemValue::Arn(TABLE.into())))
        .related_items(item(ItemType::InvolvedResource, ItemValue::Arn(QUEUE.into())))
        .related_items(item(
            ItemType::Other,
            ItemValue::Url("https://dash.example".into()),
        ))
        .send()
        .await
        .expect("replay");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.total(), 2);
}

#[tokio::test]
async fn nothing_is_delivered_without_targets() {
    let receiver = Receiver::start().await;
    let emu = start(Config::default()).await;
    let c = sdk(&emu, true).await;
    let plan = plan_with_runbook(&c, "orders").await;
    c.start_incident()
        .response_plan_arn(&plan)
        .related_items(item(ItemType::InvolvedResource, ItemValue::Arn(TABLE.into())))
        .send()
        .await
        .expect("start");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(receiver.total(), 0);
    let d = admin(&emu, Method::GET, "deliveries", None).await;
    assert_eq!(d["deliveries"], json!([]));
}

#[tokio::test]
async fn a_plan_without_the_runbook_action_gets_only_the_event() {
    let receiver = Receiver::start().await;
    let emu = start(Config::default()).await;
    // Targets set at runtime through the admin API.
    let cfg = admin(
        &emu,
        Method::POST,
        "config",
        Some(json!({"event_target": receiver.url("/event"), "runbook_target": receiver.url("/runbook")})),
    )
    .await;
    assert_eq!(cfg["runbook_target"], receiver.url("/runbook").as_str());
    let c = sdk(&emu, true).await;

    let plain = plain_plan(&c, "plain").await;
    // An automation action without the dynamic parameters does not invoke us.
    let static_only = c
        .create_response_plan()
        .name("static-runbook")
        .incident_template(template())
        .actions(Action::SsmAutomation(
            SsmAutomation::builder()
                .document_name("Some-Other-Runbook")
                .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/r"))
                .parameters("Mode", vec!["quick".into()])
                .build()
                .expect("automation"),
        ))
        .send()
        .await
        .expect("plan")
        .arn;
    let mut arns = Vec::new();
    for plan in [&plain, &static_only] {
        let arn = c
            .start_incident()
            .response_plan_arn(plan)
            .related_items(item(ItemType::InvolvedResource, ItemValue::Arn(TABLE.into())))
            .send()
            .await
            .expect("start")
            .incident_record_arn;
        arns.push(arn);
    }
    wait_deliveries(&emu, 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.on("/runbook").is_empty(), "no runbook payload");
    let mut delivered: Vec<String> = receiver
        .on("/event")
        .iter()
        .map(|e| {
            e["detail"]["responseElements"]["incidentRecordArn"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    // Deliveries run in their own tasks: arrival order is not guaranteed.
    delivered.sort();
    arns.sort();
    assert_eq!(delivered, arns, "one event per StartIncident");

    // Turning the event target off stops delivery.
    admin(&emu, Method::POST, "config", Some(json!({"event_target": null}))).await;
    c.start_incident()
        .response_plan_arn(&plain)
        .send()
        .await
        .expect("start");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.total(), 2);
}

#[tokio::test]
async fn an_unreachable_target_is_retried_and_never_fails_start_incident() {
    // A port that was free a moment ago: connections are refused.
    let closed = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let emu = start(Config {
        event_target: Some(format!("http://127.0.0.1:{port}/event")),
        ..Config::default()
    })
    .await;
    let c = sdk(&emu, true).await;
    let plan = plain_plan(&c, "p").await;
    c.start_incident()
        .response_plan_arn(&plan)
        .send()
        .await
        .expect("StartIncident succeeds regardless of delivery");
    let d = wait_deliveries(&emu, 1).await;
    assert_eq!(d[0]["delivered"], false);
    assert_eq!(d[0]["attempts"], 3, "connection failures are retried");
    assert_eq!(d[0]["kind"], "event");
}

#[tokio::test]
async fn a_runbook_that_cannot_start_sends_nothing_and_says_why() {
    let receiver = Receiver::start().await;
    let emu = start(both_targets(&receiver)).await;
    let c = sdk(&emu, true).await;
    // Parameter names the document does not declare: SSM would refuse to
    // start the automation.
    let plan = plan_with_parameters(&c, "misnamed", "IncidentRecordArn", "InvolvedResources").await;
    c.start_incident()
        .response_plan_arn(&plan)
        .related_items(item(ItemType::InvolvedResource, ItemValue::Arn(TABLE.into())))
        .send()
        .await
        .expect("StartIncident succeeds regardless of the runbook");
    let d = wait_deliveries(&emu, 2).await;
    let runbook = d
        .iter()
        .find(|d| d["kind"] == "runbook")
        .expect("a runbook record");
    assert_eq!(runbook["delivered"], false);
    assert_eq!(runbook["attempts"], 0);
    let error = runbook["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("IncidentRecordArn is not defined in the document"),
        "{error}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(receiver.on("/runbook").is_empty(), "nothing made up is sent");
    assert_eq!(receiver.on("/event").len(), 1);
}
