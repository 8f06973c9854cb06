//! The follow-up sweep's rules (SPEC §13): which steps and first responses
//! are due for an open incident, their claim parts, and their notes.

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use support_plans_domain::model::{Actor, PlanSpec, SupportPlan};
use support_plans_domain::pipeline::followup::{FollowUp, FollowUpKind, OpenIncident, due};
use support_plans_domain::post::{Links, MAX_EVENT_DATA};

fn sample(name: &str) -> Value {
    let path = format!(
        "{}/../../infra/local/samples/plans/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn plan_from(body: &Value) -> SupportPlan {
    SupportPlan::create(
        PlanSpec::parse(body).unwrap(),
        &Actor::parse("tests").unwrap(),
        at("2026-11-01T00:00:00Z"),
    )
}

const START: &str = "2026-11-21T10:00:00Z";

fn incident(impact: Option<u8>, resolved: bool) -> OpenIncident {
    OpenIncident {
        started_at: at(START),
        impact,
        resolved,
    }
}

fn minutes_after_start(m: i64) -> Timestamp {
    at(START) + SignedDuration::from_mins(m)
}

fn links() -> Links {
    Links {
        plan_url: "https://portal.example.com/plans/{id}".into(),
        directory_url: "https://portal.example.com/plans".into(),
    }
}

fn parts(due: &[FollowUp<'_>]) -> Vec<String> {
    due.iter().map(FollowUp::part).collect()
}

fn none() -> BTreeSet<String> {
    BTreeSet::new()
}

#[test]
fn an_impact_1_incident_aged_65_minutes_gets_the_steps_past_their_time_and_the_response_due() {
    // aws-business: steps at 0, 15, 60, 120, 240; impact 1 → "Production system down", 60 min.
    let plans = [plan_from(&sample("aws-business"))];
    let got = due(
        &incident(Some(1), false),
        &plans,
        &none(),
        minutes_after_start(65),
    );
    assert_eq!(
        parts(&got),
        [
            "FOLLOWUP#aws-business#step#2",
            "FOLLOWUP#aws-business#step#3",
            "FOLLOWUP#aws-business#response-due",
        ]
    );
    let kinds: Vec<(FollowUpKind, u32)> = got.iter().map(|f| (f.kind, f.minutes)).collect();
    assert_eq!(
        kinds,
        [
            (FollowUpKind::Step { number: 2 }, 15),
            (FollowUpKind::Step { number: 3 }, 60),
            (FollowUpKind::ResponseDue, 60),
        ]
    );
    assert_eq!(got[0].due_at, minutes_after_start(15));
    assert_eq!(got[2].due_at, minutes_after_start(60));
}

#[test]
fn a_step_falls_due_exactly_at_its_minute_and_not_before() {
    let plans = [plan_from(&sample("aws-business"))];
    let before = due(
        &incident(Some(1), false),
        &plans,
        &none(),
        minutes_after_start(14),
    );
    assert!(
        before.is_empty(),
        "minute 0 is the first note's, 15 not yet: {:?}",
        parts(&before)
    );
    let at_15 = due(
        &incident(Some(1), false),
        &plans,
        &none(),
        minutes_after_start(15),
    );
    assert_eq!(parts(&at_15), ["FOLLOWUP#aws-business#step#2"]);
}

#[test]
fn the_response_falls_due_at_the_mapped_severity_s_minutes() {
    // Impact 3 → "Production system impaired", 240 min: at 65 only the steps.
    let plans = [plan_from(&sample("aws-business"))];
    let at_65 = due(
        &incident(Some(3), false),
        &plans,
        &none(),
        minutes_after_start(65),
    );
    assert_eq!(
        parts(&at_65),
        ["FOLLOWUP#aws-business#step#2", "FOLLOWUP#aws-business#step#3"]
    );
    let at_240 = due(
        &incident(Some(3), false),
        &plans,
        &none(),
        minutes_after_start(240),
    );
    assert!(parts(&at_240).contains(&"FOLLOWUP#aws-business#response-due".to_owned()));
    // Unknown impact: no severity mapped, so no response falls due.
    let unknown = due(
        &incident(None, false),
        &plans,
        &none(),
        minutes_after_start(10_000),
    );
    assert!(unknown.iter().all(|f| f.kind != FollowUpKind::ResponseDue));
    assert_eq!(unknown.len(), 4, "every step after minute 0");
}

#[test]
fn a_plan_marked_responded_gets_nothing_and_the_others_still_do() {
    let plans = [
        plan_from(&sample("aws-business")),
        plan_from(&sample("datadog-enterprise")),
    ];
    let all = due(
        &incident(Some(1), false),
        &plans,
        &none(),
        minutes_after_start(65),
    );
    assert!(all.iter().any(|f| f.plan.id().as_str() == "datadog-enterprise"));
    let responded: BTreeSet<String> = ["aws-business".to_owned()].into();
    let got = due(
        &incident(Some(1), false),
        &plans,
        &responded,
        minutes_after_start(65),
    );
    assert!(!got.is_empty());
    assert!(
        got.iter().all(|f| f.plan.id().as_str() == "datadog-enterprise"),
        "{:?}",
        parts(&got)
    );
}

#[test]
fn a_resolved_incident_gets_nothing() {
    let plans = [plan_from(&sample("aws-business"))];
    let got = due(
        &incident(Some(1), true),
        &plans,
        &none(),
        minutes_after_start(10_000),
    );
    assert!(got.is_empty());
}

#[test]
fn parts_are_stable_across_calls_and_distinct_per_step() {
    let plans = [
        plan_from(&sample("aws-business")),
        plan_from(&sample("stripe-premium")),
    ];
    let now = minutes_after_start(10_000);
    let first = parts(&due(&incident(Some(1), false), &plans, &none(), now));
    let again = parts(&due(&incident(Some(1), false), &plans, &none(), now));
    assert_eq!(first, again);
    let distinct: BTreeSet<&String> = first.iter().collect();
    assert_eq!(distinct.len(), first.len(), "{first:?}");
    // A later sweep repeats the earlier sweep's parts: the claims post each once.
    let earlier = parts(&due(
        &incident(Some(1), false),
        &plans,
        &none(),
        minutes_after_start(65),
    ));
    assert!(earlier.iter().all(|p| first.contains(p)));
}

#[test]
fn two_steps_at_the_same_minute_are_two_follow_ups() {
    let mut body = sample("aws-business");
    body["escalation_steps"] = json!([
        {"title": "Open a case", "instructions": "Console.", "after_minutes": 0},
        {"title": "Call the TAM", "instructions": "Phone.", "after_minutes": 30},
        {"title": "Page the manager", "instructions": "Pager.", "after_minutes": 30},
    ]);
    let plans = [plan_from(&body)];
    let got = due(
        &incident(Some(5), false),
        &plans,
        &none(),
        minutes_after_start(30),
    );
    assert_eq!(
        parts(&got),
        ["FOLLOWUP#aws-business#step#2", "FOLLOWUP#aws-business#step#3"]
    );
}

#[test]
fn a_step_note_says_which_plan_which_step_whom_to_call_and_why_now() {
    let plans = [plan_from(&sample("aws-business"))];
    let inc = incident(Some(1), false);
    let got = due(&inc, &plans, &none(), minutes_after_start(125));
    let step4 = got
        .iter()
        .find(|f| f.kind == FollowUpKind::Step { number: 4 })
        .unwrap();
    let text = step4.note(
        &inc,
        &links(),
        Some("https://api.example.com/responded/tok"),
        MAX_EVENT_DATA,
    );
    assert!(text.contains("Amazon Web Services (Business)"), "{text}");
    assert!(
        text.contains("Step 4 of 5 [from minute 120] **Engage the AWS account manager**"),
        "{text}"
    );
    assert!(
        text.contains("Daniel Reyes") && text.contains("+12065550103"),
        "{text}"
    );
    assert!(
        text.contains("Due at minute 120 of the incident (started 2026-11-21 10:00 UTC)"),
        "{text}"
    );
    assert!(
        text.contains("https://portal.example.com/plans/aws-business"),
        "{text}"
    );
    assert!(
        text.contains("Vendor responded? https://api.example.com/responded/tok"),
        "{text}"
    );
    assert!(text.chars().count() < 1200, "short: {}", text.chars().count());
    assert!(step4.note(&inc, &links(), None, 100).chars().count() <= 100);
}

#[test]
fn a_response_due_note_names_the_severity_its_due_time_and_the_next_step() {
    let plans = [plan_from(&sample("aws-business"))];
    let inc = incident(Some(1), false);
    let got = due(&inc, &plans, &none(), minutes_after_start(65));
    let f = got.iter().find(|f| f.kind == FollowUpKind::ResponseDue).unwrap();
    let text = f.note(&inc, &links(), None, MAX_EVENT_DATA);
    assert!(
        text.starts_with("### First response due: Amazon Web Services (Business)"),
        "{text}"
    );
    assert!(
        text.contains("**Production system down** (60 min) was due by **2026-11-21 11:00 UTC**"),
        "{text}"
    );
    assert!(
        text.contains("Next: step 3 of 5 [from minute 60] **Escalate the case through the console**"),
        "{text}"
    );
    assert!(!text.contains("Vendor responded?"));
}
