//! Shared set-up for the tests against the local stack (moto server).
//!
//! Each test gets its own table, created from `template.yaml`'s definition,
//! so tests never see each other's data.

pub mod http;
pub mod incidents;
pub mod proxy;

use std::sync::atomic::{AtomicU32, Ordering};

use jiff::Timestamp;
use serde_json::{Value, json};
use support_plans_aws::DynamoStore;
use support_plans_domain::model::{Actor, PlanSpec, SupportPlan, Workload, WorkloadSpec};

static TABLES: AtomicU32 = AtomicU32::new(0);

/// The local stack's setting `name` (`API_URL`, `AWS_ENDPOINT_URL_SSM_INCIDENTS`, …),
/// which `make local-up` and `infra/local/with-stack.sh` export.
pub fn stack_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: these tests run inside the local stack (`make test`, or `make local-up` and `source .local/env`)")
    })
}

/// The SDK configuration of the local stack. Refuses anything but loopback,
/// so a stray environment can never point the tests at a real account.
pub async fn local_config() -> aws_config::SdkConfig {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    assert!(
        endpoint.starts_with("http://127.0.0.1:") || endpoint.starts_with("http://localhost:"),
        "these tests run against the local stack: run `make test`, or `make local-up` and \
         `source .local/env` (AWS_ENDPOINT_URL is {endpoint:?})"
    );
    support_plans_aws::sdk::config().await
}

/// A store on a new, empty table of its own.
pub async fn fresh_store() -> DynamoStore {
    let config = local_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let name = format!(
        "test-{}-{}-{}",
        std::process::id(),
        TABLES.fetch_add(1, Ordering::Relaxed),
        Timestamp::now().as_millisecond()
    );
    let def = local_stack::TableDefinition::from_template(&local_stack::template_path())
        .expect("template.yaml defines the table");
    local_stack::create_table(&client, &def, &name)
        .await
        .expect("create the test table");
    DynamoStore::new(client, name)
}

pub fn actor(name: &str) -> Actor {
    Actor::parse(name).expect("a valid actor")
}

/// A valid plan body; tests change what they need.
pub fn plan_body(id: &str, team: &str) -> Value {
    json!({
        "id": id,
        "vendor": "Example Vendor",
        "product": "Example Cloud",
        "tier": "Enterprise",
        "owner": {"team": team, "email": format!("{team}@example.com")},
        "account_ref": "Customer #AC-1001",
        "channels": [
            {"kind": "portal", "value": "https://support.example.net/cases", "hours": "24x7"},
            {"kind": "phone", "value": "+12065550100", "hours": "business-hours"}
        ],
        "severities": [
            {"name": "Sev 1", "response_minutes": 60, "impacts": [1, 2]},
            {"name": "Sev 2", "response_minutes": 240, "impacts": [3]}
        ],
        "escalation_steps": [
            {"title": "Open a Sev 1 case", "instructions": "Use the portal.", "after_minutes": 0, "contact": "support"},
            {"title": "Call the TAM", "instructions": "If no answer in 30 minutes.", "after_minutes": 30, "contact": "tam"}
        ],
        "contacts": [
            {"id": "support", "name": "Vendor Support", "role": "vendor-support", "email": "support@example.net"},
            {"id": "tam", "name": "Dana Reyes", "role": "vendor-tam", "phone": "+12065550101"}
        ]
    })
}

pub fn plan_spec(id: &str, team: &str) -> PlanSpec {
    PlanSpec::parse(&plan_body(id, team)).expect("a valid plan body")
}

pub fn new_plan(id: &str, team: &str) -> SupportPlan {
    SupportPlan::create(
        plan_spec(id, team),
        &actor("arn:aws:iam::111122223333:user/creator"),
        Timestamp::now(),
    )
}

pub fn new_workload(name: &str, team: &str, dependencies: &[&str]) -> Workload {
    let spec = WorkloadSpec::parse(&json!({
        "name": name,
        "owner": {"team": team, "email": format!("{team}@example.com")},
        "criticality": "tier-1",
        "dependencies": dependencies,
    }))
    .expect("a valid workload body");
    Workload::create(
        spec,
        &actor("arn:aws:iam::111122223333:user/creator"),
        Timestamp::now(),
    )
}

/// An SNS topic with an SQS queue subscribed to it (raw delivery off, so each
/// queued message is the SNS envelope): how tests read what was published.
/// Returns the topic ARN and the queue URL.
pub async fn topic_with_queue(
    sns: &aws_sdk_sns::Client,
    sqs: &aws_sdk_sqs::Client,
    name: &str,
) -> (String, String) {
    use aws_sdk_sqs::types::QueueAttributeName;
    let topic = sns.create_topic().name(name).send().await.expect("create topic");
    let topic_arn = topic.topic_arn().expect("a topic ARN").to_owned();
    let queue = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .expect("create queue");
    let url = queue.queue_url().expect("a queue URL").to_owned();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue attributes");
    let queue_arn = attrs.attributes().expect("attributes")[&QueueAttributeName::QueueArn].clone();
    sns.subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(queue_arn)
        .send()
        .await
        .expect("subscribe the queue");
    (topic_arn, url)
}

/// Makes the local DynamoDB commit the next `count` `TransactWriteItems` on
/// `table` and then answer 500, as a write whose answer was lost on the way
/// back (`infra/local/moto_server.py`); the SDK retries such a write.
pub async fn lose_transact_answers(table: &str, count: u32) {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL of the local stack");
    let reply = http::request(
        "POST",
        &format!("{endpoint}/_support_plans/lose-answers"),
        &[],
        Some(&json!({"table": table, "count": count})),
    )
    .await;
    assert_eq!(reply.status, 200, "arming the lost-answer fault: {}", reply.body);
}

/// Confirms the pending subscriptions of `endpoint` on `topic_arn`, as their
/// owner following SNS's e-mailed link would (`infra/local/moto_server.py`);
/// the ARNs confirmed.
pub async fn sns_confirm(topic_arn: &str, endpoint: &str) -> Vec<String> {
    let moto = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL of the local stack");
    let reply = http::request(
        "POST",
        &format!("{moto}/_support_plans/sns-confirm"),
        &[],
        Some(&json!({"topic_arn": topic_arn, "endpoint": endpoint})),
    )
    .await;
    assert_eq!(
        reply.status, 200,
        "confirming {endpoint} on {topic_arn}: {}",
        reply.body
    );
    serde_json::from_value(reply.json()["confirmed"].clone()).expect("the ARNs confirmed")
}

/// The local stack's caller headers (LOCAL_AUTH=1) for a lead of `team`.
pub fn as_team(team: &str) -> [(&'static str, String); 2] {
    [
        ("x-local-principal", format!("lead@{team}.example.com")),
        ("x-local-groups", team.to_owned()),
    ]
}

/// `function` under `cargo lambda watch` invoked with `event` through the
/// Lambda Invoke API, as its trigger would.
pub async fn invoke(function: &str, event: &Value) -> http::Reply {
    let url = format!(
        "{}/2015-03-31/functions/{function}/invocations",
        stack_env("LAMBDA_ENDPOINT")
    );
    http::request("POST", &url, &[], Some(event)).await
}

/// The answer of an invocation that succeeded; panics with the function's
/// error otherwise.
pub fn succeeded(function: &str, r: &http::Reply) -> Value {
    assert_eq!(r.status, 200, "{function}: {}", r.body);
    assert!(
        r.header("x-amz-function-error").is_none(),
        "{function} failed: {}",
        r.body
    );
    r.json()
}

/// A call to the plans API under `cargo lambda watch`, as a lead of `team`.
pub async fn api(method: &str, path: &str, team: &str, body: Option<&Value>) -> http::Reply {
    let who = as_team(team);
    let headers: Vec<(&str, &str)> = who.iter().map(|(k, v)| (*k, v.as_str())).collect();
    http::request(method, &format!("{}{path}", stack_env("API_URL")), &headers, body).await
}

/// Every SNS envelope waiting on an SQS queue, deleted as read.
pub async fn drain(sqs: &aws_sdk_sqs::Client, url: &str, wait_secs: i32) -> Vec<Value> {
    let mut out = Vec::new();
    let mut wait = wait_secs;
    loop {
        let got = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait)
            .send()
            .await
            .expect("receive");
        let messages = got.messages();
        if messages.is_empty() {
            return out;
        }
        for m in messages {
            out.push(serde_json::from_str(m.body().unwrap()).expect("an SNS envelope"));
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .expect("delete");
        }
        wait = 0;
    }
}
