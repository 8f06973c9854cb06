//! The AWS Config rule (SPEC §15) through the binaries that deploy: the
//! plans API and the freshness check under `cargo lambda watch`, AWS Config
//! in moto (made to keep evaluations: `infra/local/moto_server.py`).
//!
//! One story: a tier-1 workload whose only plan has no 24x7 channel; the
//! freshness check runs (for real), keeping the readiness snapshot; the rule
//! is created in moto with the freshness check as its function; Config's
//! periodic event (from moto's `/_support_plans/config-rule-event`, with its
//! result token) invokes the function, which puts one evaluation of the
//! account; GetComplianceDetailsByConfigRule reads it back: NON_COMPLIANT,
//! with the annotation the domain gives the snapshot. Then what Config
//! refuses: a forged token, a rule deleted since, a bad event.
//!
//! Runs in the `shared-stack-figures` group: the snapshot counts the whole
//! table, and the run sends what the table is due.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_config::Client as Config;
use aws_sdk_config::types::{ComplianceType, ConfigRule, Owner, Source, SourceDetail};
use jiff::Timestamp;
use serde_json::{Value, json};
use support_plans_aws::DynamoStore;
use support_plans_aws::config::ConfigEvaluations;
use support_plans_domain::ports::PortError;
use support_plans_domain::readiness::ReadinessSnapshots as _;
use support_plans_domain::readiness::compliance::{
    ACCOUNT_RESOURCE_TYPE, Compliance, Evaluations as _, ResourceEvaluation, evaluate,
};
use support_plans_tests::http::{Reply, request};
use support_plans_tests::stack_env as env;
use support_plans_tests::{api, invoke, local_config, plan_body, succeeded};

/// moto's account, which the local stack's credentials are.
const ACCOUNT: &str = "123456789012";

fn run_id() -> String {
    let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    format!("{}{}", std::process::id(), t.subsec_nanos() % 100_000)
}

/// The freshness check invoked with `event`, as its schedule or AWS Config would.
async fn freshness(event: &Value) -> Reply {
    invoke("freshness-check", event).await
}

/// The function's error type, for an invocation that failed.
fn failed(r: &Reply) -> String {
    assert!(
        r.header("x-amz-function-error").is_some() || r.status >= 400,
        "expected a function error: {} {}",
        r.status,
        r.body
    );
    r.json()["errorType"].as_str().unwrap_or_default().to_owned()
}

/// The event AWS Config sends the rule's function, with a new result token.
async fn config_event(rule: &str) -> Value {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL of the local stack");
    let r = request(
        "POST",
        &format!("{endpoint}/_support_plans/config-rule-event"),
        &[],
        Some(&json!({"config_rule_name": rule, "region": env("AWS_REGION")})),
    )
    .await;
    assert_eq!(r.status, 200, "Config's event for {rule}: {}", r.body);
    r.json()
}

fn notification_time(event: &Value) -> Timestamp {
    let invoking: Value = serde_json::from_str(event["invokingEvent"].as_str().unwrap()).unwrap();
    invoking["notificationCreationTime"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn create_rule(config: &Config, name: &str) {
    let function = format!(
        "arn:aws:lambda:{}:{ACCOUNT}:function:freshness-check",
        env("AWS_REGION")
    );
    let rule = ConfigRule::builder()
        .config_rule_name(name)
        .source(
            Source::builder()
                .owner(Owner::CustomLambda)
                .source_identifier(function)
                .source_details(
                    SourceDetail::builder()
                        .event_source("aws.config".into())
                        .message_type("ScheduledNotification".into())
                        .maximum_execution_frequency("TwentyFour_Hours".into())
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .build();
    config
        .put_config_rule()
        .config_rule(rule)
        .send()
        .await
        .expect("PutConfigRule in moto");
}

#[tokio::test]
async fn the_config_rule_puts_the_accounts_evaluation_from_the_snapshot() {
    let run = run_id();
    let sdk = local_config().await;
    let config = Config::new(&sdk);
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), env("TABLE_NAME"));
    let team = format!("cfg-{run}");

    // A tier-1 workload whose one plan has no channel open 24x7.
    let plan = format!("cfg-plan-{run}");
    let mut body = plan_body(&plan, &team);
    for channel in body["channels"].as_array_mut().unwrap() {
        channel["hours"] = json!("business-hours");
    }
    let r = api("POST", "/plans", &team, Some(&body)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = api(
        "POST",
        "/workloads",
        &team,
        Some(&json!({"name": format!("cfg-w-{run}"), "owner": {"team": team, "email": format!("{team}@example.com")},
                     "criticality": "tier-1", "dependencies": [plan]})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);

    // The freshness check runs as its schedule would: it keeps the snapshot.
    succeeded("freshness-check", &freshness(&json!({"dry_run": false})).await);
    let before = store
        .load_snapshot()
        .await
        .expect("the snapshot read")
        .expect("the freshness run wrote the readiness snapshot");
    assert!(
        before.readiness.tier1_workloads_without_24x7 >= 1,
        "{:?}",
        before.readiness
    );

    // The rule, with the freshness check as its function; Config invokes it.
    let rule = format!("support-plans-OPS07-BP06-{run}");
    create_rule(&config, &rule).await;
    let event = config_event(&rule).await;
    let at = notification_time(&event);
    let answer = succeeded("freshness-check", &freshness(&event).await);
    let snapshot = store.load_snapshot().await.unwrap().unwrap();
    let expected = evaluate(&snapshot.readiness, at);
    assert_eq!(expected.compliance, Compliance::NonCompliant);
    assert!(
        expected.annotation.contains("tier-1 workload"),
        "{}",
        expected.annotation
    );
    assert_eq!(answer["reported"], "evaluation", "{answer}");
    assert_eq!(answer["config_rule"], json!(rule), "{answer}");
    assert_eq!(answer["compliance"], "NON_COMPLIANT", "{answer}");
    assert_eq!(answer["annotation"], json!(expected.annotation), "{answer}");

    // Config has it: one evaluation of the account, as the function put it.
    let details = config
        .get_compliance_details_by_config_rule()
        .config_rule_name(&rule)
        .send()
        .await
        .expect("GetComplianceDetailsByConfigRule");
    let results = details.evaluation_results();
    assert_eq!(results.len(), 1, "{results:?}");
    let result = &results[0];
    let id = result.evaluation_result_identifier().unwrap();
    let qualifier = id.evaluation_result_qualifier().unwrap();
    assert_eq!(qualifier.config_rule_name(), Some(rule.as_str()));
    assert_eq!(qualifier.resource_type(), Some(ACCOUNT_RESOURCE_TYPE));
    assert_eq!(qualifier.resource_id(), Some(ACCOUNT));
    assert_eq!(result.compliance_type(), Some(&ComplianceType::NonCompliant));
    assert_eq!(result.annotation(), Some(expected.annotation.as_str()));
    // Config's time: the notification's (epoch seconds as a JSON number on
    // the wire, so within a millisecond after the round trip).
    let ordering = id.ordering_timestamp().unwrap().to_millis().unwrap();
    assert!(
        (ordering - at.as_millisecond()).abs() <= 1,
        "{ordering} is not {at}"
    );

    // What Config refuses: a token it did not issue (through the function,
    // and through the adapter alone), a bad event, and a rule deleted since
    // it invoked the function; nothing more is kept.
    let mut forged = event.clone();
    forged["resultToken"] = json!("forged-token");
    assert_eq!(failed(&freshness(&forged).await), "EvaluationRefused");
    let adapter = ConfigEvaluations::new(Config::new(&sdk));
    let put = ResourceEvaluation {
        resource_type: ACCOUNT_RESOURCE_TYPE,
        resource_id: ACCOUNT.into(),
        compliance: Compliance::Compliant,
        annotation: "forged".into(),
        ordering: Timestamp::now(),
    };
    match adapter.put("forged-token", &put).await {
        Err(PortError::Refused(m)) => assert!(m.contains("InvalidResultTokenException"), "{m}"),
        other => panic!("a forged token is refused for good: {other:?}"),
    }
    let mut periodic_only = event.clone();
    periodic_only["invokingEvent"] = json!(
        json!({"awsAccountId": ACCOUNT, "notificationCreationTime": "2026-11-21T08:00:00Z",
               "messageType": "ConfigurationItemChangeNotification"})
        .to_string()
    );
    assert_eq!(failed(&freshness(&periodic_only).await), "BadEvent");
    let next = config_event(&rule).await;
    config
        .delete_config_rule()
        .config_rule_name(&rule)
        .send()
        .await
        .expect("DeleteConfigRule");
    assert_eq!(failed(&freshness(&next).await), "EvaluationRefused");
}
