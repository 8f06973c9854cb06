//! SPEC §13, opening the AWS case: which plans open one at an incident's
//! impact, and what the case says (subject, body, severity, CC), as AWS
//! Support's `CreateCase` would receive it.

use jiff::Timestamp;
use serde_json::{Value, json};
use support_plans_domain::case::{MAX_BODY_CHARS, MAX_SUBJECT_CHARS, case_for};
use support_plans_domain::matching::Incident;
use support_plans_domain::model::{Actor, PlanSpec, SupportPlan};
use support_plans_domain::post::IncidentContext;

const ARN: &str = "arn:aws:ssm-incidents::111122223333:incident-record/payments-critical/6ec4ad5e";
const START: &str = "2026-11-21T10:00:00Z";

/// An AWS plan opening cases at impacts 1 and 2.
fn body() -> Value {
    json!({
        "id": "aws-business",
        "vendor": "AWS",
        "product": "AWS Support",
        "tier": "Business",
        "owner": {"team": "platform", "email": "platform@example.com"},
        "channels": [{"kind": "portal", "value": "https://support.console.aws.amazon.com/", "hours": "24x7"}],
        "severities": [
            {"name": "Production system down", "response_minutes": 60, "impacts": [1], "code": "urgent"},
            {"name": "Production system impaired", "response_minutes": 240, "impacts": [2], "code": "high"},
            {"name": "System impaired", "response_minutes": 720, "impacts": [3, 4]},
            {"name": "General guidance", "response_minutes": 1440, "impacts": [5], "code": "low"}
        ],
        "escalation_steps": [{"title": "Open a case"}],
        "open_case": {
            "min_impact": 2,
            "service_code": "amazon-dynamodb",
            "category_code": "general-guidance",
            "cc_emails": ["sre@example.com", "PLATFORM@example.com", "dba@example.com"]
        }
    })
}

fn plan_from(body: &Value) -> SupportPlan {
    SupportPlan::create(
        PlanSpec::parse(body).unwrap_or_else(|e| panic!("{e}")),
        &Actor::parse("tests").unwrap(),
        "2026-11-01T00:00:00Z".parse().unwrap(),
    )
}

fn plan() -> SupportPlan {
    plan_from(&body())
}

fn ctx(impact: Option<u8>) -> IncidentContext {
    IncidentContext {
        facts: Incident {
            arn: Some(ARN.into()),
            title: "Payments API returns 500s".into(),
            resources: vec![
                "arn:aws:dynamodb:us-east-1:111122223333:table/payments".into(),
                "arn:aws:lambda:us-east-1:111122223333:function:charge".into(),
            ],
            ..Incident::default()
        },
        impact,
        started_at: START.parse().unwrap(),
    }
}

#[test]
fn an_incident_at_or_above_min_impact_opens_a_case_at_the_mapped_severity() {
    let plan = plan();
    let at_1 = case_for(&plan, &ctx(Some(1)), ARN, None).expect("impact 1 opens a case");
    assert_eq!(at_1.severity_code, "urgent");
    assert_eq!(at_1.plan, "aws-business");
    assert_eq!(at_1.service_code, "amazon-dynamodb");
    assert_eq!(at_1.category_code, "general-guidance");
    assert_eq!(at_1.issue_type, "technical");
    assert_eq!(at_1.language, "en");
    assert_eq!(at_1.opened_after, START.parse::<Timestamp>().unwrap());
    assert_eq!(at_1.subject, "[impact 1] Payments API returns 500s");

    // At min_impact itself.
    let at_2 = case_for(&plan, &ctx(Some(2)), ARN, None).expect("impact 2 (= min_impact) opens a case");
    assert_eq!(at_2.severity_code, "high");
    assert_eq!(at_2.subject, "[impact 2] Payments API returns 500s");
}

#[test]
fn an_incident_below_min_impact_or_of_unknown_impact_opens_none() {
    let plan = plan();
    // Impact 5 maps to a severity with an AWS code, but is below min_impact.
    for impact in [Some(3), Some(4), Some(5), None] {
        assert_eq!(
            case_for(&plan, &ctx(impact), ARN, None),
            None,
            "impact {impact:?}"
        );
    }
}

#[test]
fn a_plan_without_open_case_opens_none() {
    let mut b = body();
    b.as_object_mut().unwrap().remove("open_case");
    let plan = plan_from(&b);
    for impact in 1..=5 {
        assert_eq!(case_for(&plan, &ctx(Some(impact)), ARN, None), None);
    }
}

#[test]
fn a_severity_without_a_code_opens_none() {
    // A plan stored by hand (the API would refuse it): impact 1 mapped, no code.
    let mut plan = plan();
    plan.spec.severities[0].code = None;
    assert_eq!(case_for(&plan, &ctx(Some(1)), ARN, None), None);
    assert!(case_for(&plan, &ctx(Some(2)), ARN, None).is_some());
    // Nor one whose code is not AWS's.
    plan.spec.severities[1].code = Some("Sev 2".into());
    assert_eq!(case_for(&plan, &ctx(Some(2)), ARN, None), None);
    // Nor an impact no severity maps.
    plan.spec.severities.clear();
    assert_eq!(case_for(&plan, &ctx(Some(2)), ARN, None), None);
}

#[test]
fn cc_is_the_owner_then_cc_emails_without_duplicates_whatever_their_case() {
    let case = case_for(&plan(), &ctx(Some(1)), ARN, None).unwrap();
    assert_eq!(
        case.cc_emails,
        ["platform@example.com", "sre@example.com", "dba@example.com"]
    );

    // Nine others and the owner: ten, AWS's limit.
    let mut b = body();
    b["open_case"]["cc_emails"] = json!((0..9).map(|i| format!("cc{i}@example.com")).collect::<Vec<_>>());
    let case = case_for(&plan_from(&b), &ctx(Some(1)), ARN, None).unwrap();
    assert_eq!(case.cc_emails.len(), 10);
    assert_eq!(case.cc_emails[0], "platform@example.com");
    assert_eq!(case.cc_emails[9], "cc8@example.com");

    // No cc_emails: the owner alone.
    b["open_case"].as_object_mut().unwrap().remove("cc_emails");
    let case = case_for(&plan_from(&b), &ctx(Some(1)), ARN, None).unwrap();
    assert_eq!(case.cc_emails, ["platform@example.com"]);
}

#[test]
fn the_body_names_the_incident_its_start_impact_resources_page_plan_and_owner() {
    let page = "https://console.aws.amazon.com/systems-manager/incidents/home#/incident/6ec4ad5e";
    let case = case_for(&plan(), &ctx(Some(1)), ARN, Some(page)).unwrap();
    for part in [
        &format!("Incident: {ARN}"),
        "Title: Payments API returns 500s",
        "Started: 2026-11-21 10:00 UTC (2026-11-21T10:00:00Z)",
        "Impact: 1 (Critical)",
        "- arn:aws:dynamodb:us-east-1:111122223333:table/payments",
        "- arn:aws:lambda:us-east-1:111122223333:function:charge",
        &format!("Incident page: {page}"),
        "Support plan: aws-business (AWS, Business)",
        "Owner team: platform (platform@example.com)",
    ] {
        assert!(case.body.contains(part), "{part} missing from:\n{}", case.body);
    }

    // A PagerDuty incident, no page, no resources.
    let mut c = ctx(Some(2));
    c.facts.resources.clear();
    let case = case_for(&plan(), &c, "pagerduty:Q1ABC", None).unwrap();
    assert!(case.body.contains("Incident: pagerduty:Q1ABC"), "{}", case.body);
    assert!(case.body.contains("Impact: 2 (High)"), "{}", case.body);
    assert!(!case.body.contains("Incident page"), "{}", case.body);
    assert!(case.body.contains("Involved resources: none"), "{}", case.body);
}

#[test]
fn a_long_or_multi_line_title_is_one_line_of_at_most_200_characters() {
    let mut c = ctx(Some(1));
    c.facts.title = format!("Payments\ndown {}", "x".repeat(300));
    let case = case_for(&plan(), &c, ARN, None).unwrap();
    assert_eq!(case.subject.chars().count(), MAX_SUBJECT_CHARS);
    assert!(
        case.subject.starts_with("[impact 1] Payments down xxx"),
        "{}",
        case.subject
    );
    assert!(case.subject.ends_with('…'), "{}", case.subject);
    assert!(!case.subject.chars().any(char::is_control));
    assert!(!case.body.contains("Payments\ndown"), "{}", case.body);

    // No title: the incident names it.
    c.facts.title = String::new();
    let case = case_for(&plan(), &c, "pagerduty:Q1ABC", None).unwrap();
    assert_eq!(case.subject, "[impact 1] Incident pagerduty:Q1ABC");
}

#[test]
fn many_resources_are_listed_as_far_as_the_body_allows_and_the_rest_counted() {
    let mut c = ctx(Some(1));
    c.facts.resources = (0..500)
        .map(|i| {
            format!(
                "arn:aws:dynamodb:us-east-1:111122223333:table/payments-{i:04}-{}",
                "t".repeat(20)
            )
        })
        .collect();
    let case = case_for(&plan(), &c, ARN, None).unwrap();
    let chars = case.body.chars().count();
    assert!(chars <= MAX_BODY_CHARS && MAX_BODY_CHARS <= 8_000, "{chars}");
    assert!(case.body.contains("Involved resources (500):"), "{}", case.body);
    let listed = case.body.lines().filter(|l| l.starts_with("- arn:")).count();
    assert!(listed > 50 && listed < 500, "{listed} listed");
    assert!(case.body.contains("table/payments-0000-"), "the first is listed");
    assert!(
        case.body.contains(&format!("... and {} more", 500 - listed)),
        "{}",
        &case.body[case.body.len() - 200..]
    );
    // The header stays whole.
    assert!(case.body.contains("Owner team: platform"), "{}", case.body);
}
