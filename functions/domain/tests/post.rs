//! What the responder posts: the severity to open, the due time, steps with
//! contacts, warnings, the 12,000-character cut, the chat message.

use jiff::Timestamp;
use serde_json::{Value, json};
use support_plans_domain::freshness::Policy;
use support_plans_domain::matching::Incident;
use support_plans_domain::model::{Actor, PlanSpec, SupportPlan, Workload, WorkloadSpec};
use support_plans_domain::post::{IncidentContext, Links, MAX_EVENT_DATA, PlanNote, plan_note, prepare};

const ARN: &str = "arn:aws:ssm-incidents::111122223333:incident-record/payments-critical/6ac3b7d0";

fn sample(kind: &str, name: &str) -> Value {
    let path = format!(
        "{}/../../infra/local/samples/{kind}/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn actor() -> Actor {
    Actor::parse("tests").unwrap()
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn plan(name: &str, created: &str) -> SupportPlan {
    SupportPlan::create(
        PlanSpec::parse(&sample("plans", name)).unwrap(),
        &actor(),
        at(created),
    )
}

/// The impact-1 note, matched on nothing, of the plan `body` describes.
fn impact_1_note(body: &Value) -> PlanNote {
    let plan = SupportPlan::create(
        PlanSpec::parse(body).unwrap(),
        &actor(),
        at("2026-11-01T00:00:00Z"),
    );
    plan_note(&plan, &[], &ctx("x", Some(1), &[]), &links(), &Policy::default())
}

fn links() -> Links {
    Links {
        plan_url: "https://portal.example.com/plans/{id}".into(),
        directory_url: "https://portal.example.com/plans".into(),
    }
}

fn ctx(title: &str, impact: Option<u8>, resources: &[&str]) -> IncidentContext {
    IncidentContext {
        facts: Incident {
            arn: Some(ARN.into()),
            title: title.into(),
            response_plan: None,
            resources: resources.iter().map(|r| (*r).to_owned()).collect(),
            workloads: vec![],
            pagerduty_service: None,
        },
        impact,
        started_at: at("2026-11-21T10:00:00Z"),
    }
}

#[test]
fn an_impact_1_note_names_the_severity_its_response_time_and_when_it_is_due() {
    let aws = plan("aws-business", "2026-11-01T00:00:00Z");
    let note = plan_note(
        &aws,
        &[],
        &ctx("Checkout failing", Some(1), &[]),
        &links(),
        &Policy::default(),
    );
    assert!(
        note.text
            .contains("**Open as: Production system down** (impact 1)"),
        "{}",
        note.text
    );
    assert!(
        note.text
            .contains("Promised first response: 60 min, due by **2026-11-21 11:00 UTC**"),
        "{}",
        note.text
    );
    assert!(
        note.text
            .contains("- Portal: https://console.aws.amazon.com/support/home"),
        "{}",
        note.text
    );
    assert!(note.text.contains("1. [from minute 0]"), "{}", note.text);
    assert!(
        note.text
            .contains("Full plan: https://portal.example.com/plans/aws-business")
    );
    assert!(!note.truncated);

    let impact_3 = plan_note(
        &aws,
        &[],
        &ctx("Slow", Some(3), &[]),
        &links(),
        &Policy::default(),
    );
    assert!(
        impact_3
            .text
            .contains("**Open as: Production system impaired** (impact 3)")
    );
    assert!(
        impact_3.text.contains("due by **2026-11-21 14:00 UTC**"),
        "{}",
        impact_3.text
    );
}

#[test]
fn contacts_overdue_for_verification_carry_a_warning() {
    // Created long ago, never verified: every contact is overdue at the incident's start.
    let aws = plan("aws-business", "2025-01-01T00:00:00Z");
    let note = plan_note(&aws, &[], &ctx("x", Some(1), &[]), &links(), &Policy::default());
    assert!(note.text.contains("⚠ never verified"), "{}", note.text);

    let mut verified = aws.clone();
    for c in &mut verified.spec.contacts {
        c.verified_at = Some(at("2026-11-20T00:00:00Z"));
    }
    let note = plan_note(
        &verified,
        &[],
        &ctx("x", Some(1), &[]),
        &links(),
        &Policy::default(),
    );
    assert!(!note.text.contains('⚠'), "{}", note.text);
}

#[test]
fn a_long_plan_is_cut_at_a_step_boundary_with_a_pointer() {
    let mut body = sample("plans", "aws-business");
    body["escalation_steps"] = Value::Array(
        (0..20)
            .map(|i| json!({"title": format!("Step {i}"), "instructions": format!("{i:02}").repeat(1000), "after_minutes": i * 10}))
            .collect(),
    );
    let note = impact_1_note(&body);
    assert!(note.truncated);
    assert!(
        note.text.chars().count() <= MAX_EVENT_DATA,
        "{}",
        note.text.chars().count()
    );
    // Whole steps only: every step that appears has all its instructions.
    let shown: Vec<usize> = (0..20)
        .filter(|i| note.text.contains(&format!("**Step {i}**")))
        .collect();
    assert!(!shown.is_empty() && shown.len() < 20);
    for i in &shown {
        assert!(
            note.text.contains(&format!("{i:02}").repeat(1000)),
            "step {i} cut mid-way"
        );
    }
    let rest = 20 - shown.len();
    // The steps name no contact here: the plan's five contacts were in the
    // part cut off, and the pointer says so.
    assert!(
        note.text.ends_with(&format!(
            "… {rest} more step(s) and 5 contact(s) not shown: see the full plan at https://portal.example.com/plans/aws-business"
        )),
        "{}",
        &note.text[note.text.len() - 200..]
    );
}

fn workload(name: &str) -> Workload {
    Workload::create(
        WorkloadSpec::parse(&sample("workloads", name)).unwrap(),
        &actor(),
        at("2026-11-01T00:00:00Z"),
    )
}

#[test]
fn prepare_matches_renders_every_plan_and_the_chat_message() {
    let workloads = vec![
        workload("payments"),
        workload("checkout-web"),
        workload("analytics"),
    ];
    let plans: Vec<SupportPlan> = [
        "aws-business",
        "datadog-enterprise",
        "mongodb-atlas",
        "stripe-premium",
    ]
    .iter()
    .map(|p| plan(p, "2026-11-01T00:00:00Z"))
    .collect();
    let c = ctx(
        "Card payments failing",
        Some(1),
        &["arn:aws:rds:us-east-1:111122223333:db:payments-main"],
    );
    let posts = prepare(&c, "6ac3b7d0", &workloads, &plans, &links(), &Policy::default());
    assert_eq!(posts.workloads[0].name, "payments");
    let noted: Vec<&str> = posts.notes.iter().map(|n| n.plan_id.as_str()).collect();
    assert_eq!(noted.len(), 4, "{noted:?}");
    assert!(posts.unmatched_note.is_none());
    assert!(
        posts.related.iter().any(|r| r
            .title
            .starts_with("Open a case: Amazon Web Services (Business) — for ")),
        "{:?}",
        posts.related
    );

    let chat = &posts.chat;
    assert_eq!(chat["version"], "1.0");
    assert_eq!(chat["source"], "custom");
    assert_eq!(chat["content"]["textType"], "client-markdown");
    assert_eq!(chat["metadata"]["threadId"], ARN);
    assert!(
        chat["content"]["description"]
            .as_str()
            .unwrap()
            .contains("Production system down")
    );
}

#[test]
fn nothing_matched_gives_one_note_pointing_at_the_directory() {
    let workloads = vec![workload("payments")];
    let plans = vec![plan("aws-business", "2026-11-01T00:00:00Z")];
    let mut c = ctx("Printer on fire", Some(4), &[]);
    c.facts.arn = Some("arn:aws:ssm-incidents::111122223333:incident-record/office/1".into());
    let posts = prepare(&c, "1", &workloads, &plans, &links(), &Policy::default());
    assert!(posts.notes.is_empty());
    assert!(posts.related.is_empty());
    let note = posts.unmatched_note.expect("an unmatched note");
    assert!(note.contains("no workload matched"));
    assert!(note.contains("https://portal.example.com/plans"));
}

const PAYMENTS_DB: &str = "arn:aws:rds:us-east-1:111122223333:db:payments-main";

#[test]
fn every_note_and_the_chat_message_say_for_which_workload_and_owner_team_and_why() {
    let workloads = vec![workload("payments"), workload("checkout-web")];
    let plans: Vec<SupportPlan> = [
        "aws-business",
        "stripe-premium",
        "datadog-enterprise",
        "mongodb-atlas",
    ]
    .iter()
    .map(|p| plan(p, "2026-11-01T00:00:00Z"))
    .collect();
    let c = ctx("Card payments failing", Some(1), &[PAYMENTS_DB]);
    let posts = prepare(&c, "6ac3b7d0", &workloads, &plans, &links(), &Policy::default());
    let why = [
        "Posted for workload `payments` (owner team payments) — ",
        "matched response plan `payments-critical`",
        &format!("matched resource `{PAYMENTS_DB}` by pattern `arn:aws:rds:*:*:db:payments-*`"),
        "matched title keyword `payments`",
    ];
    assert!(!posts.notes.is_empty());
    for note in &posts.notes {
        for part in why {
            assert!(note.text.contains(part), "{part} missing from:\n{}", note.text);
        }
        assert!(!note.text.contains("checkout-web"), "{}", note.text);
    }
    let description = posts.chat["content"]["description"].as_str().unwrap();
    for part in why {
        assert!(description.contains(part), "{part} missing from:\n{description}");
    }
    for link in &posts.related {
        assert!(
            link.title.contains("for workload payments (owner team payments)"),
            "{link:?}"
        );
    }
    let next_steps = posts.chat["content"]["nextSteps"].as_array().unwrap();
    assert!(
        next_steps
            .iter()
            .all(|s| s.as_str().unwrap().contains("for workload payments")),
        "{next_steps:?}"
    );
}

#[test]
fn a_plan_two_workloads_share_names_both_and_each_reason() {
    let workloads = vec![workload("payments"), workload("checkout-web")];
    let plans = vec![plan("aws-business", "2026-11-01T00:00:00Z")];
    let c = ctx("checkout and card payments failing", Some(2), &[]);
    let posts = prepare(&c, "1", &workloads, &plans, &links(), &Policy::default());
    let note = &posts.notes[0].text;
    assert!(
        note.contains("Posted for workload `payments` (owner team payments) — "),
        "{note}"
    );
    assert!(
        note.contains(
            "Posted for workload `checkout-web` (owner team storefront) — matched title keyword `checkout`"
        ),
        "{note}"
    );
}

#[test]
fn the_reasons_stay_within_the_note_limit_at_the_input_limits() {
    // 50 workloads sharing one plan, each matched by a 1,024-character pattern
    // against a 2,048-character resource: the note still fits, whole.
    let mut workloads = Vec::new();
    for i in 0..50 {
        let mut body = sample("workloads", "payments");
        body["name"] = json!(format!("payments-{i:02}"));
        body["dependencies"] = json!(["aws-business"]);
        let pattern = format!("arn:aws:rds:*:*:db:payments-{}*", "x".repeat(1024 - 30));
        body["match"] = json!({"resource_patterns": [pattern]});
        workloads.push(Workload::create(
            WorkloadSpec::parse(&body).unwrap(),
            &actor(),
            at("2026-11-01T00:00:00Z"),
        ));
    }
    let resource = format!(
        "arn:aws:rds:us-east-1:111122223333:db:payments-{}",
        "x".repeat(2048)
    );
    let resource = &resource[..2048];
    let plans = vec![plan("aws-business", "2026-11-01T00:00:00Z")];
    let c = ctx("x", Some(1), &[resource]);
    let posts = prepare(&c, "1", &workloads, &plans, &links(), &Policy::default());
    assert_eq!(posts.workloads.len(), 50);
    let note = &posts.notes[0];
    assert!(note.text.chars().count() <= MAX_EVENT_DATA);
    assert!(
        note.text
            .contains("Posted for workload `payments-00` (owner team payments)"),
        "{}",
        note.text
    );
    assert!(note.text.contains("more workload"), "{}", note.text);
    assert!(note.text.contains("**Escalation steps**"), "{}", note.text);
}

#[test]
fn a_note_whose_contact_list_does_not_fit_says_how_many_contacts_are_left_out() {
    // Fifty contacts no step names, each on a long line: the list is longer
    // than a note may be, so it is cut at a contact and the note says so.
    let mut body = sample("plans", "aws-business");
    body["escalation_steps"] =
        json!([{"title": "Open a case", "instructions": "Use the console.", "after_minutes": 0}]);
    body["contacts"] = Value::Array(
        (0..50)
            .map(|i| {
                json!({"id": format!("c-{i:02}"), "name": format!("Contact {i:02} {}", "n".repeat(180)),
                       "role": "vendor-support", "email": format!("c{i:02}@vendor.example.net"), "phone": "+12065550100"})
            })
            .collect(),
    );
    let note = impact_1_note(&body);
    assert!(
        note.text.chars().count() <= MAX_EVENT_DATA,
        "{}",
        note.text.chars().count()
    );
    let shown = (0..50)
        .filter(|i| note.text.contains(&format!("Contact {i:02} ")))
        .count();
    assert!(shown > 0 && shown < 50, "{shown} contacts shown");
    assert!(
        note.text.ends_with(&format!(
            "… {} more contact(s) not shown: see the full plan at https://portal.example.com/plans/aws-business",
            50 - shown
        )),
        "{}",
        &note.text[note.text.len() - 300..]
    );
    assert!(note.truncated, "a cut contact list is a cut note");
}

/// A workload the incident matched, by title keyword `keyword`, relying on `dependencies`.
fn uncovered(name: &str, criticality: &str, team: &str, keyword: &str, dependencies: &[&str]) -> Workload {
    let body = json!({
        "name": name, "criticality": criticality,
        "owner": {"team": team, "email": format!("{team}-team@example.com")},
        "dependencies": dependencies,
        "match": {"title_keywords": [keyword]},
    });
    Workload::create(
        WorkloadSpec::parse(&body).unwrap(),
        &actor(),
        at("2026-11-01T00:00:00Z"),
    )
}

#[test]
fn a_matched_workload_no_active_plan_covers_gets_a_note_saying_so_and_counts_the_incident_without_plan() {
    let mut retired = plan("stripe-premium", "2026-11-01T00:00:00Z");
    retired.spec.status = support_plans_domain::model::Status::Retired;
    let workloads = vec![
        workload("payments"),
        // Relies on a retired plan and on one that does not exist.
        uncovered(
            "reports",
            "tier-1",
            "finance",
            "reports",
            &["stripe-premium", "old-vendor"],
        ),
        // Relies on nothing at all.
        uncovered("legacy-batch", "tier-2", "platform", "batch", &[]),
    ];
    let plans = vec![plan("aws-business", "2026-11-01T00:00:00Z"), retired];
    let c = ctx(
        "Card payments, monthly reports and the batch failing",
        Some(2),
        &[],
    );
    let posts = prepare(&c, "6ac3b7d0", &workloads, &plans, &links(), &Policy::default());
    // As `POST /match` shows it.
    let shown = serde_json::to_value(&posts).unwrap();
    assert_eq!(shown["without_plan"], true, "{shown}");
    let notes = shown["no_plan_notes"].as_array().expect("no_plan_notes");
    let workloads_noted: Vec<&str> = notes.iter().map(|n| n["workload"].as_str().unwrap()).collect();
    assert_eq!(
        workloads_noted,
        ["reports", "legacy-batch"],
        "payments is covered"
    );
    for (note, (name, criticality, team)) in notes.iter().zip([
        ("reports", "tier-1", "finance"),
        ("legacy-batch", "tier-2", "platform"),
    ]) {
        let text = note["text"].as_str().unwrap();
        for part in [
            format!("No vendor support plan covers workload `{name}`"),
            format!("{criticality}, owner team {team}, {team}-team@example.com"),
            "https://portal.example.com/plans".to_owned(),
            "`POST /plans`".to_owned(),
        ] {
            assert!(text.contains(&part), "{part} missing from:\n{text}");
        }
        assert!(text.chars().count() <= MAX_EVENT_DATA);
    }
    assert!(
        notes[0]["text"]
            .as_str()
            .unwrap()
            .contains("Its dependencies (`stripe-premium`, `old-vendor`) are retired or missing."),
        "{}",
        notes[0]["text"]
    );
    // The covered workload's plans are posted as before.
    assert_eq!(posts.notes.len(), 1);
    // The chat message (all a generic incident gets) says it too.
    let description = posts.chat["content"]["description"].as_str().unwrap();
    assert!(
        description.contains("No vendor support plan covers workload `reports`")
            && description.contains("No vendor support plan covers workload `legacy-batch`"),
        "{description}"
    );
    let next_steps = posts.chat["content"]["nextSteps"].to_string();
    assert!(
        next_steps.contains("Create a vendor support plan for workload reports"),
        "{next_steps}"
    );

    // Only covered workloads, or nothing matched: no such note, not counted.
    for title in ["Card payments failing", "Printer on fire"] {
        let mut c = ctx(title, Some(2), &[]);
        c.facts.arn = None;
        let posts = prepare(&c, "1", &workloads, &plans, &links(), &Policy::default());
        let shown = serde_json::to_value(&posts).unwrap();
        assert_eq!(shown["without_plan"], false, "{title}: {shown}");
        assert_eq!(shown["no_plan_notes"], json!([]), "{title}");
    }
}
