//! SPEC §11 "PagerDuty", the pure part, over the in-memory ports: a
//! PagerDuty incident matched by its service, its impact from priority or
//! urgency, its notes cut at a step boundary to the sink's limit, and the
//! marker line that recognises a note already posted.

use jiff::Timestamp;
use serde_json::{Value, json};
use support_plans_domain::impact::PriorityImpacts;
use support_plans_domain::matching::PagerDutyService;
use support_plans_domain::model::{Actor, PlanSpec, SupportPlan, Workload, WorkloadSpec};
use support_plans_domain::pagerduty::{self, PagerDutyIncident};
use support_plans_domain::pipeline::{Outcome, Told};
use support_plans_domain::ports::PortError;
use support_plans_domain::testing::directory::FakeDirectory;
use support_plans_domain::testing::incidents::FakeIncidents;
use support_plans_domain::testing::pipeline;

const INCIDENTS: &str = "arn:aws:sns:us-east-1:111122223333:incidents";

fn t0() -> Timestamp {
    "2026-11-21T10:00:00Z".parse().unwrap()
}

fn sample(name: &str) -> Value {
    let path = format!(
        "{}/../../infra/local/samples/plans/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn plan(body: &Value) -> SupportPlan {
    SupportPlan::create(
        PlanSpec::parse(body).unwrap(),
        &Actor::parse("tests").unwrap(),
        t0(),
    )
}

/// A workload on the PagerDuty service `Checkout API`, relying on AWS.
fn checkout() -> Workload {
    let spec = WorkloadSpec::parse(&json!({
        "name": "checkout",
        "owner": {"team": "web", "email": "web@example.com"},
        "criticality": "tier-1",
        "dependencies": ["aws-business"],
        "match": {"pagerduty_services": ["Checkout API"]},
    }))
    .unwrap();
    Workload::create(spec, &Actor::parse("tests").unwrap(), t0())
}

fn pd_incident(priority: Option<&str>, urgency: Option<&str>) -> PagerDutyIncident {
    PagerDutyIncident {
        id: "Q1ABCD2EFGH3IJ".into(),
        title: "Checkout errors".into(),
        resolved: false,
        created_at: t0(),
        priority: priority.map(str::to_owned),
        urgency: urgency.map(str::to_owned),
        service: Some(PagerDutyService {
            id: "PSVC001".into(),
            name: "checkout api".into(),
        }),
        html_url: Some("https://acme.pagerduty.com/incidents/Q1ABCD2EFGH3IJ".into()),
    }
}

#[test]
fn the_impact_comes_from_the_priority_or_else_the_urgency() {
    let map = PriorityImpacts::default();
    assert_eq!(
        pd_incident(Some("P1"), Some("low")).reported(&map).impact,
        Some(1)
    );
    assert_eq!(pd_incident(None, Some("high")).reported(&map).impact, Some(2));
    assert_eq!(pd_incident(None, Some("low")).reported(&map).impact, Some(4));
    assert_eq!(pd_incident(Some("Sev-A"), None).reported(&map).impact, None);
    let map = PriorityImpacts::parse("Sev-A=1").unwrap();
    assert_eq!(
        pd_incident(Some("sev-a"), Some("low")).reported(&map).impact,
        Some(1)
    );
    let r = pd_incident(None, None).reported(&map);
    assert_eq!(r.id.key(), "pagerduty:Q1ABCD2EFGH3IJ");
    assert_eq!(r.started_at, t0());
    assert_eq!(
        r.related_urls,
        ["https://acme.pagerduty.com/incidents/Q1ABCD2EFGH3IJ"]
    );
}

#[tokio::test]
async fn a_pagerduty_incident_is_matched_by_its_service_with_the_priority_s_severity() {
    let incidents = FakeIncidents::default();
    incidents.open(pd_incident(Some("P1"), Some("low")).reported(&PriorityImpacts::default()));
    let directory = FakeDirectory::new(vec![checkout()], vec![plan(&sample("aws-business"))]);
    let p = pipeline(
        incidents.clone(),
        directory,
        support_plans_domain::testing::settings(INCIDENTS),
    );
    let id = pagerduty::id("Q1ABCD2EFGH3IJ");
    let Outcome::Posted(answer) = p.respond(&id, Told::default(), t0()).await.unwrap() else {
        panic!("not posted");
    };
    assert_eq!(answer.workloads, ["checkout"]);
    let notes = incidents.notes(&id);
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].text.contains("matched PagerDuty service `Checkout API`"),
        "{}",
        notes[0].text
    );
    assert!(
        notes[0]
            .text
            .contains("**Open as: Production system down** (impact 1)"),
        "{}",
        notes[0].text
    );
    assert_eq!(p.chat.messages(INCIDENTS).len(), 1);
}

#[tokio::test]
async fn a_sink_with_a_smaller_note_limit_gets_each_plan_cut_at_a_step_boundary_below_it() {
    let mut body = sample("aws-business");
    let steps: Vec<Value> = (0..20)
        .map(|i| {
            json!({"title": format!("Step number {i}"), "after_minutes": i * 5,
                   "instructions": format!("Do the thing number {i} carefully. ").repeat(4)})
        })
        .collect();
    body["escalation_steps"] = Value::Array(steps);
    let limit = 3_000;
    let incidents = FakeIncidents::default();
    incidents.limit_notes(limit);
    incidents.open(pd_incident(None, Some("high")).reported(&PriorityImpacts::default()));
    let directory = FakeDirectory::new(vec![checkout()], vec![plan(&body)]);
    let p = pipeline(
        incidents.clone(),
        directory,
        support_plans_domain::testing::settings(INCIDENTS),
    );
    let id = pagerduty::id("Q1ABCD2EFGH3IJ");
    p.respond(&id, Told::default(), t0()).await.unwrap();
    let notes = incidents.notes(&id);
    assert_eq!(notes.len(), 1, "the note fits the sink, so it is posted");
    let text = &notes[0].text;
    assert!(text.chars().count() <= limit, "{}", text.chars().count());
    assert!(
        text.chars().count() > limit / 2,
        "cut near the limit, not far below"
    );
    assert!(text.contains("(impact 2)"), "urgency high → impact 2: {text}");
    assert!(text.contains("more step(s)"), "{text}");
    // Whole steps only: the last step shown has all its instructions.
    let shown = text.matches("**Step number ").count();
    assert!((1..20).contains(&shown), "{shown}");
    let last = format!("Do the thing number {} carefully. ", shown - 1).repeat(4);
    assert!(
        text.contains(last.trim_end()),
        "step {} is whole: {text}",
        shown - 1
    );
}

#[tokio::test]
async fn a_source_that_refuses_is_answered_once_without_a_post_or_a_retry() {
    let incidents = FakeIncidents::default();
    incidents.open(pd_incident(Some("P1"), None).reported(&PriorityImpacts::default()));
    incidents.fail_reads(Some(PortError::Refused("401 Authentication failed".into())));
    let directory = FakeDirectory::new(vec![checkout()], vec![plan(&sample("aws-business"))]);
    let p = pipeline(
        incidents.clone(),
        directory,
        support_plans_domain::testing::settings(INCIDENTS),
    );
    let id = pagerduty::id("Q1ABCD2EFGH3IJ");
    let outcome = p.respond(&id, Told::default(), t0()).await.unwrap();
    assert!(
        matches!(outcome, Outcome::SourceRefused { ref reason, .. } if reason.contains("401")),
        "{outcome:?}"
    );
    assert!(incidents.notes(&id).is_empty());
    assert!(p.chat.messages(INCIDENTS).is_empty());
}
