//! The AWS Support adapter (SPEC §13) through the real SDK against the local
//! stack's moto (`infra/local/moto_server.py` makes its Support API keep a
//! case as it was opened, give each its own display id, and honour
//! `afterTime`): a case opens with what the request says, once per marker
//! whatever the retries, and an account without a support plan is refused
//! with a message saying so.
//!
//! moto accepts any service, category and severity code (the real API
//! refuses codes that `DescribeServices` does not list), so an unknown code
//! is not tested here.

use std::sync::atomic::{AtomicU32, Ordering};

use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use support_plans_aws::support::{SupportApi, client};
use support_plans_domain::case::{CaseRequest, SupportCases as _, console_url};
use support_plans_domain::ports::PortError;
use support_plans_tests::{http, local_config};

static NAMES: AtomicU32 = AtomicU32::new(0);

/// A name no other test (or run against the same stack) uses.
fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}-{}",
        std::process::id(),
        NAMES.fetch_add(1, Ordering::Relaxed),
        Timestamp::now().as_millisecond()
    )
}

async fn support() -> (SupportApi, aws_sdk_support::Client) {
    let raw = client(&local_config().await);
    (SupportApi::new(raw.clone()), raw)
}

/// A request of its own service code (the subscription fault is per service code).
fn request(opened_after: Timestamp) -> CaseRequest {
    CaseRequest {
        plan: "aws-business".into(),
        subject: "Checkout API is down".into(),
        service_code: unique("amazon-dynamodb"),
        category_code: "general-guidance".into(),
        severity_code: "urgent".into(),
        body: "Incident arn:aws:ssm-incidents::111122223333:incident-record/checkout/1\nImpact 1".into(),
        cc_emails: vec!["platform@example.com".into(), "sre@example.com".into()],
        issue_type: "technical",
        language: "en",
        opened_after,
    }
}

/// Makes CreateCase for `service_code` answer SubscriptionRequiredException, or not.
async fn subscription_required(service_code: &str, required: bool) {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL of the local stack");
    let reply = http::request(
        "POST",
        &format!("{endpoint}/_support_plans/support-subscription"),
        &[],
        Some(&json!({"service_code": service_code, "required": required})),
    )
    .await;
    assert_eq!(reply.status, 200, "arming the subscription fault: {}", reply.body);
}

/// The ids of the cases (any age, resolved too) whose messages carry `marker`.
async fn cases_with(raw: &aws_sdk_support::Client, marker: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut token = None;
    loop {
        let page = raw
            .describe_cases()
            .include_resolved_cases(true)
            .include_communications(true)
            .max_results(100)
            .set_next_token(token)
            .send()
            .await
            .expect("DescribeCases");
        for case in page.cases() {
            let bodies = case
                .recent_communications()
                .map(|r| r.communications())
                .unwrap_or_default();
            if bodies
                .iter()
                .any(|c| c.body().is_some_and(|b| b.contains(marker)))
            {
                ids.push(case.case_id().unwrap_or_default().to_owned());
            }
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return ids;
        }
    }
}

#[tokio::test]
async fn a_case_opens_with_the_requests_codes_subject_cc_and_marked_body() {
    let (api, raw) = support().await;
    let marker = unique("support-plans:case");
    let req = request(Timestamp::now());
    let opened = api.open_case(&req, &marker).await.expect("the case opens");
    assert!(!opened.found, "a first try opens the case, it does not find one");
    let display = opened.display_id.clone().expect("the new case's display id");
    assert!(
        display.len() == 10 && display.bytes().all(|b| b.is_ascii_digit()),
        "a 10-digit display id, got {display}"
    );
    assert_eq!(opened.url, console_url(&display));

    // Read twice: the local Support API keeps a case as it was opened.
    for read in 1..=2 {
        let out = raw
            .describe_cases()
            .case_id_list(&opened.case_id)
            .include_communications(true)
            .send()
            .await
            .expect("DescribeCases of the new case");
        let [case] = out.cases() else {
            panic!("read {read}: one case, got {:?}", out.cases())
        };
        assert_eq!(case.display_id(), Some(display.as_str()), "read {read}");
        assert_eq!(case.subject(), Some("Checkout API is down"), "read {read}");
        assert_eq!(
            case.service_code(),
            Some(req.service_code.as_str()),
            "read {read}"
        );
        assert_eq!(case.category_code(), Some("general-guidance"), "read {read}");
        assert_eq!(case.severity_code(), Some("urgent"), "read {read}");
        assert_eq!(case.status(), Some("opened"), "read {read}");
        assert_eq!(case.language(), Some("en"), "read {read}");
        assert_eq!(
            case.cc_email_addresses(),
            ["platform@example.com", "sre@example.com"],
            "read {read}"
        );
        let body = case.recent_communications().unwrap().communications()[0]
            .body()
            .unwrap();
        assert_eq!(body, format!("{}\n\n{marker}", req.body), "read {read}");
    }
}

#[tokio::test]
async fn a_second_try_with_the_same_marker_finds_the_first_case() {
    let (api, raw) = support().await;
    let marker = unique("support-plans:case");
    let req = request(Timestamp::now());
    let first = api.open_case(&req, &marker).await.expect("the case opens");
    let again = api.open_case(&req, &marker).await.expect("the retry answers");
    assert!(again.found, "the retry finds the case the first try opened");
    assert_eq!(again.case_id, first.case_id);
    assert_eq!(again.display_id, first.display_id);
    assert_eq!(again.url, first.url);
    assert_eq!(cases_with(&raw, &marker).await, [first.case_id]);
}

#[tokio::test]
async fn five_deliveries_one_after_the_other_open_one_case() {
    let (api, raw) = support().await;
    let marker = unique("support-plans:case");
    let req = request(Timestamp::now());
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(api.open_case(&req, &marker).await.expect("open_case").case_id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every try answers with the same case: {ids:?}");
    assert_eq!(cases_with(&raw, &marker).await, ids);
    // Another incident (another marker) gets its own case.
    let other = api
        .open_case(&req, &unique("support-plans:case"))
        .await
        .expect("another incident's case");
    assert_ne!(other.case_id, ids[0]);
}

#[tokio::test]
async fn a_case_opened_before_the_incident_is_not_taken_for_its_case() {
    let (api, raw) = support().await;
    let marker = unique("support-plans:case");
    let old = api
        .open_case(&request(Timestamp::now()), &marker)
        .await
        .expect("the earlier case");
    // An incident that started an hour from now: the case above is older
    // than its start less the 5 minutes allowed for clocks, so not its own.
    let later = Timestamp::now() + SignedDuration::from_hours(1);
    let new = api
        .open_case(&request(later), &marker)
        .await
        .expect("the later incident's case");
    assert!(!new.found, "afterTime leaves the older case out");
    assert_ne!(new.case_id, old.case_id);
    assert_eq!(cases_with(&raw, &marker).await.len(), 2);
}

#[tokio::test]
async fn the_marked_case_is_found_beyond_the_first_page() {
    let (api, raw) = support().await;
    let start = Timestamp::now();
    // 100 other cases in the window first: the marked case is on page two
    // (the local Support API lists cases in the order they were opened).
    for n in 0..100 {
        raw.create_case()
            .subject(format!("another case {n}"))
            .service_code("amazon-ec2")
            .category_code("general-guidance")
            .severity_code("low")
            .communication_body(unique("another"))
            .send()
            .await
            .expect("another case");
    }
    let marker = unique("support-plans:case");
    let first = api
        .open_case(&request(start), &marker)
        .await
        .expect("the case opens");
    let again = api
        .open_case(&request(start), &marker)
        .await
        .expect("the retry answers");
    assert!(again.found, "found on a later page");
    assert_eq!(again.case_id, first.case_id);
    assert_eq!(cases_with(&raw, &marker).await.len(), 1);
}

#[tokio::test]
async fn an_account_without_a_support_plan_is_refused_with_what_to_do() {
    let (api, raw) = support().await;
    let marker = unique("support-plans:case");
    let req = request(Timestamp::now());
    subscription_required(&req.service_code, true).await;
    let refused = api.open_case(&req, &marker).await;
    subscription_required(&req.service_code, false).await;
    let Err(PortError::Refused(message)) = refused else {
        panic!("refused, not retried: {refused:?}")
    };
    assert!(message.contains("SubscriptionRequiredException"), "{message}");
    assert!(
        message.contains("Business, Enterprise On-Ramp or Enterprise Support"),
        "{message}"
    );
    assert!(message.contains("open the case by hand"), "{message}");
    assert!(cases_with(&raw, &marker).await.is_empty(), "no case was opened");
    // With the plan, the same request opens its case.
    let opened = api.open_case(&req, &marker).await.expect("the case opens");
    assert!(!opened.found);
}

#[tokio::test]
async fn an_unreachable_support_api_is_worth_another_try() {
    let config = support_plans_aws::sdk::loader()
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
        .load()
        .await;
    let api = SupportApi::new(client(&config));
    let err = api
        .open_case(&request(Timestamp::now()), "support-plans:unreachable")
        .await
        .expect_err("nothing listens there");
    assert!(
        matches!(err, PortError::Retry(_)),
        "retried later, not refused: {err:?}"
    );
}
