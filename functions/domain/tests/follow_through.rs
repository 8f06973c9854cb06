//! Follow-through during an incident over the in-memory ports (SPEC §13):
//! the sweep's follow-up notes once per (incident, plan, step) whatever
//! overlaps and retries, "vendor responded" stopping a plan, a resolved
//! incident left alone, and the AWS case opened once. Milliseconds each.

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use support_plans_domain::IncidentArn;
use support_plans_domain::model::{Actor, OpenCase, PlanSpec, SupportPlan, Workload, WorkloadSpec};
use support_plans_domain::pipeline::{IncidentId, Pipeline, PipelineError, ReportedIncident, Told};
use support_plans_domain::ports::PortError;
use support_plans_domain::responded::{Responded, ResponseMarks as _, Via};
use support_plans_domain::testing::directory::FakeDirectory;
use support_plans_domain::testing::incidents::FakeIncidents;
use support_plans_domain::testing::{FakePorts, pipeline};
use support_plans_domain::types::Email;

const ARN: &str = "arn:aws:ssm-incidents::111122223333:incident-record/payments-critical/6ac3b7d0";
const RDS: &str = "arn:aws:rds:us-east-1:111122223333:db:payments-main";
const INCIDENTS: &str = "arn:aws:sns:us-east-1:111122223333:incidents";

fn sample(name: &str, kind: &str) -> Value {
    let path = format!(
        "{}/../../infra/local/samples/{kind}/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn t0() -> Timestamp {
    "2026-11-21T10:00:00Z".parse().unwrap()
}

fn minutes(n: i64) -> Timestamp {
    t0() + SignedDuration::from_mins(n)
}

fn plan(name: &str) -> SupportPlan {
    SupportPlan::create(
        PlanSpec::parse(&sample(name, "plans")).unwrap(),
        &Actor::parse("tests").unwrap(),
        t0(),
    )
}

/// aws-business opening its case at impact 2 or worse, with AWS's codes.
fn aws_opening_cases() -> SupportPlan {
    let mut p = plan("aws-business");
    for s in &mut p.spec.severities {
        s.code = Some(
            match s.response_minutes {
                60 => "urgent",
                240 => "high",
                720 => "normal",
                _ => "low",
            }
            .into(),
        );
    }
    p.spec.open_case = Some(OpenCase {
        min_impact: 2,
        service_code: "amazon-relational-database-service".into(),
        category_code: "general-guidance".into(),
        cc_emails: vec![Email::parse("dba-oncall@example.com").unwrap()],
    });
    p
}

fn directory(aws: SupportPlan) -> FakeDirectory {
    let workload = Workload::create(
        WorkloadSpec::parse(&sample("payments", "workloads")).unwrap(),
        &Actor::parse("tests").unwrap(),
        t0(),
    );
    let plans = vec![
        aws,
        plan("stripe-premium"),
        plan("mongodb-atlas"),
        plan("datadog-enterprise"),
    ];
    FakeDirectory::new(vec![workload], plans)
}

fn id() -> IncidentId {
    IncidentId::Record(IncidentArn::parse(ARN).unwrap())
}

fn incident(impact: u8, resolved: bool) -> ReportedIncident {
    ReportedIncident {
        id: id(),
        title: "Card payments failing".into(),
        impact: Some(impact),
        started_at: t0(),
        resolved,
        resources: vec![RDS.into()],
        tags: Default::default(),
        related_urls: vec![],
        chat_topics: vec![],
        pagerduty_service: None,
    }
}

/// The test settings with case opening on.
fn settings() -> support_plans_domain::pipeline::Settings {
    let mut s = support_plans_domain::testing::settings(INCIDENTS);
    s.open_cases = true;
    s
}

/// The payments incident at `impact`, answered at minute 0.
async fn answered(impact: u8) -> (Pipeline<FakePorts>, FakeIncidents) {
    let incidents = FakeIncidents::default();
    incidents.open(incident(impact, false));
    let p = pipeline(incidents.clone(), directory(aws_opening_cases()), settings());
    p.respond(&id(), Told::default(), t0()).await.unwrap();
    (p, incidents)
}

fn follow_ups(incidents: &FakeIncidents) -> Vec<String> {
    incidents
        .notes(&id())
        .into_iter()
        .map(|n| n.text)
        .filter(|t| t.starts_with("### Follow-up") || t.starts_with("### First response due"))
        .collect()
}

/// At minute 65 of an impact-1 incident the four payments plans have 8
/// steps past their time (after minute 0, at or before 65) and 4 first
/// responses due (60, 30, 60 and 60 minutes).
const DUE_AT_65: usize = 12;

#[tokio::test]
async fn at_minute_65_each_due_step_and_response_gets_one_note_and_later_steps_none() {
    let (p, incidents) = answered(1).await;
    let swept = p.sweep(minutes(65)).await.unwrap();
    assert_eq!(swept.follow_ups as usize, DUE_AT_65);
    let notes = follow_ups(&incidents);
    assert_eq!(notes.len(), DUE_AT_65, "{notes:#?}");
    assert_eq!(
        notes
            .iter()
            .filter(|n| n.starts_with("### First response due"))
            .count(),
        4
    );
    assert!(
        notes
            .iter()
            .all(|n| !n.contains("[from minute 90]") || n.starts_with("### First response due")),
        "no step after minute 65 is announced as due"
    );
    let step_times: Vec<Timestamp> = incidents
        .notes(&id())
        .into_iter()
        .filter(|n| n.text.starts_with("### Follow-up"))
        .map(|n| n.at)
        .collect();
    assert!(
        step_times.iter().all(|at| *at > t0() && *at <= minutes(65)),
        "each note is dated when its step fell due: {step_times:?}"
    );
    assert!(
        notes
            .iter()
            .all(|n| n.contains("Vendor responded? https://api.example.com/responded/")),
        "each note carries the responded link"
    );

    // Later sweeps at the same minute post nothing more.
    let again = p.sweep(minutes(66)).await.unwrap();
    assert_eq!(again.follow_ups, 0);
    assert_eq!(follow_ups(&incidents).len(), DUE_AT_65);
}

#[tokio::test]
async fn overlapping_sweeps_and_a_retry_post_each_follow_up_once() {
    let (p, incidents) = answered(1).await;
    incidents.fail_notes(vec![PortError::Retry("ThrottlingException".into())]);
    let (a, b) = tokio::join!(p.sweep(minutes(65)), p.sweep(minutes(65)));
    assert!(
        matches!(a, Err(PipelineError::Sweep { .. })) || matches!(b, Err(PipelineError::Sweep { .. })),
        "the failed note fails its sweep, to be retried: {a:?} {b:?}"
    );
    // The other sweep may have posted the note given back; never one twice.
    assert!(follow_ups(&incidents).len() >= DUE_AT_65 - 1);
    // The retry, and one more overlapping sweep, complete it once.
    let (c, d) = tokio::join!(p.sweep(minutes(70)), p.sweep(minutes(70)));
    c.unwrap();
    d.unwrap();
    let notes = follow_ups(&incidents);
    assert_eq!(notes.len(), DUE_AT_65, "{notes:#?}");
    let mut unique = notes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), notes.len(), "no note twice");
}

#[tokio::test]
async fn a_plan_marked_as_responding_gets_no_more_follow_ups_and_the_incident_is_told() {
    let (p, incidents) = answered(1).await;
    p.sweep(minutes(20)).await.unwrap();
    let before = follow_ups(&incidents).len();
    let mark = Responded {
        plan: "stripe-premium".into(),
        by: "Dana on call".into(),
        at: minutes(25),
        via: Via::Link,
    };
    p.marks.mark(&id().key(), &mark).await.unwrap();
    p.responded(&id(), minutes(25)).await.unwrap();
    let told: Vec<String> = incidents
        .notes(&id())
        .into_iter()
        .map(|n| n.text)
        .filter(|t| t.starts_with("### Vendor responding"))
        .collect();
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(
        told[0].contains("Stripe") && told[0].contains("Dana on call"),
        "{}",
        told[0]
    );

    p.sweep(minutes(300)).await.unwrap();
    p.sweep(minutes(301)).await.unwrap();
    let after = follow_ups(&incidents);
    let stripe_after: Vec<&String> = after[before..].iter().filter(|n| n.contains("Stripe")).collect();
    assert!(
        stripe_after.is_empty(),
        "nothing more for Stripe: {stripe_after:#?}"
    );
    assert!(after.len() > before, "the other plans still follow up");
    assert_eq!(
        incidents
            .notes(&id())
            .iter()
            .filter(|n| n.text.starts_with("### Vendor responding"))
            .count(),
        1,
        "told once"
    );
}

#[tokio::test]
async fn a_resolved_incident_gets_nothing_more() {
    let (p, incidents) = answered(1).await;
    let first = incidents.notes(&id()).len();
    incidents.open(incident(1, true));
    let followed = p.follow_up(&id(), None, minutes(65)).await.unwrap();
    assert_eq!(followed.notes, 0);
    p.sweep(minutes(65)).await.unwrap();
    assert_eq!(incidents.notes(&id()).len(), first);
}

#[tokio::test]
async fn an_impact_1_incident_opens_one_case_with_the_mapped_code_and_its_id_goes_into_the_incident() {
    let (p, incidents) = answered(1).await;
    for _ in 0..4 {
        p.respond(&id(), Told::default(), t0()).await.unwrap();
    }
    let opened = p.cases.opened();
    assert_eq!(opened.len(), 1, "five deliveries, one case");
    let (case, marker) = &opened[0];
    assert_eq!(case.plan, "aws-business");
    assert_eq!(case.severity_code, "urgent");
    assert!(
        case.cc_emails.iter().any(|e| e == "dba-oncall@example.com"),
        "{:?}",
        case.cc_emails
    );
    assert!(marker.starts_with("support-plans ref "));
    let notes: Vec<String> = incidents
        .notes(&id())
        .into_iter()
        .map(|n| n.text)
        .filter(|t| t.starts_with("### AWS Support case"))
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("1000000000") && notes[0].contains("https://support.console.aws.amazon.com/"));
}

#[tokio::test]
async fn an_impact_3_incident_opens_no_case() {
    let (p, incidents) = answered(3).await;
    assert!(p.cases.opened().is_empty());
    assert!(
        incidents
            .notes(&id())
            .iter()
            .all(|n| !n.text.starts_with("### AWS Support case"))
    );
}

#[tokio::test]
async fn a_case_opened_whose_answer_was_lost_is_found_by_the_retry_not_opened_twice() {
    let incidents = FakeIncidents::default();
    incidents.open(incident(1, false));
    let p = pipeline(incidents.clone(), directory(aws_opening_cases()), settings());
    p.cases.fail_next(1);
    assert!(p.respond(&id(), Told::default(), t0()).await.is_err(), "retried");
    p.respond(&id(), Told::default(), t0()).await.unwrap();
    assert_eq!(p.cases.opened().len(), 1);
    assert_eq!(p.cases.calls(), 2);
}

#[tokio::test]
async fn without_business_support_the_incident_is_told_to_open_the_case_by_hand_once() {
    let incidents = FakeIncidents::default();
    incidents.open(incident(1, false));
    let p = pipeline(incidents.clone(), directory(aws_opening_cases()), settings());
    p.cases
        .refuse("SubscriptionRequiredException: AWS Premium Support Subscription is required");
    p.respond(&id(), Told::default(), t0()).await.unwrap();
    p.respond(&id(), Told::default(), t0()).await.unwrap();
    assert_eq!(p.cases.calls(), 1, "refused for good: not tried again");
    let notes: Vec<String> = incidents
        .notes(&id())
        .into_iter()
        .map(|n| n.text)
        .filter(|t| t.starts_with("### AWS Support case NOT opened"))
        .collect();
    assert_eq!(notes.len(), 1);
    assert!(notes[0].contains("SubscriptionRequiredException") && notes[0].contains("by hand"));
}

#[tokio::test]
async fn with_case_opening_off_no_case_is_opened() {
    let incidents = FakeIncidents::default();
    incidents.open(incident(1, false));
    let mut settings = settings();
    settings.open_cases = false;
    let p = pipeline(incidents.clone(), directory(aws_opening_cases()), settings);
    p.respond(&id(), Told::default(), t0()).await.unwrap();
    assert_eq!(p.cases.calls(), 0);
}
