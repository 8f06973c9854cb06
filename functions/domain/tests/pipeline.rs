//! The incident pipeline's decisions over the in-memory ports (SPEC §4):
//! partial failure and retry, a portal URL two plans share, a refused chat
//! topic, a resolved incident, the sweep's completion marker, the count
//! once. Milliseconds each: no AWS, no local stack.

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use support_plans_domain::IncidentArn;
use support_plans_domain::freshness::Policy;
use support_plans_domain::model::{Actor, PlanSpec, SupportPlan, Workload, WorkloadSpec};
use support_plans_domain::pipeline::claims::{chat_part, link_part, note_part};
use support_plans_domain::pipeline::decide;
use support_plans_domain::pipeline::{
    Delivered, IncidentId, Outcome, Pipeline, PipelineError, ReportedIncident, Settings, Told,
};
use support_plans_domain::ports::{ClaimStore as _, PortError};
use support_plans_domain::post::prepare;
use support_plans_domain::testing::directory::FakeDirectory;
use support_plans_domain::testing::incidents::FakeIncidents;
use support_plans_domain::testing::{FakePorts, pipeline};

const ARN: &str = "arn:aws:ssm-incidents::111122223333:incident-record/payments-critical/6ac3b7d0";
const RDS: &str = "arn:aws:rds:us-east-1:111122223333:db:payments-main";
const CHAT: &str = "arn:aws:sns:us-east-1:111122223333:payments-chat";
const INCIDENTS: &str = "arn:aws:sns:us-east-1:111122223333:incidents";
const PAYMENTS_PLANS: usize = 4;
const AWS_PORTAL: &str = "https://console.aws.amazon.com/support/home";

fn sample(kind: &str, name: &str) -> Value {
    let path = format!(
        "{}/../../infra/local/samples/{kind}/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn t0() -> Timestamp {
    "2026-11-21T10:00:00Z".parse().unwrap()
}

fn actor() -> Actor {
    Actor::parse("tests").unwrap()
}

fn plan(json: &Value) -> SupportPlan {
    SupportPlan::create(PlanSpec::parse(json).unwrap(), &actor(), t0())
}

fn workload(json: &Value) -> Workload {
    Workload::create(WorkloadSpec::parse(json).unwrap(), &actor(), t0())
}

fn payments_directory() -> FakeDirectory {
    let plans = [
        "aws-business",
        "stripe-premium",
        "mongodb-atlas",
        "datadog-enterprise",
    ]
    .map(|p| plan(&sample("plans", p)))
    .to_vec();
    FakeDirectory::new(vec![workload(&sample("workloads", "payments"))], plans)
}

fn settings() -> Settings {
    support_plans_domain::testing::settings(INCIDENTS)
}

fn id() -> IncidentId {
    IncidentId::Record(IncidentArn::parse(ARN).unwrap())
}

fn incident(resolved: bool) -> ReportedIncident {
    ReportedIncident {
        id: id(),
        title: "Card payments failing".into(),
        impact: Some(1),
        started_at: t0(),
        resolved,
        resources: vec![RDS.into()],
        tags: Default::default(),
        related_urls: vec![],
        chat_topics: vec![CHAT.into()],
        pagerduty_service: None,
    }
}

/// The payments incident open in a fresh pipeline.
fn world() -> (Pipeline<FakePorts>, FakeIncidents) {
    let incidents = FakeIncidents::default();
    incidents.open(incident(false));
    (
        pipeline(incidents.clone(), payments_directory(), settings()),
        incidents,
    )
}

fn posted(outcome: Outcome) -> support_plans_domain::pipeline::Answer {
    match outcome {
        Outcome::Posted(answer) => answer,
        other => panic!("not posted: {other:?}"),
    }
}

#[tokio::test]
async fn a_note_that_fails_is_given_back_and_the_retry_posts_only_what_is_missing() {
    let (p, incidents) = world();
    incidents.fail_notes(vec![PortError::Retry("ThrottlingException".into())]);
    let first = p.respond(&id(), Told::default(), t0()).await;
    let Err(PipelineError::Incomplete { failures, .. }) = first else {
        panic!("the invocation must fail to be retried: {first:?}");
    };
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(incidents.notes(&id()).len(), PAYMENTS_PLANS - 1);
    assert_eq!(p.chat.messages(CHAT).len(), 1, "the rest went out");
    assert!(!p.claims.state(ARN).is_complete());

    let calls = incidents.note_calls();
    let links = incidents.links(&id()).len();
    let second = posted(
        p.respond(&id(), Told::default(), t0() + SignedDuration::from_secs(5))
            .await
            .unwrap(),
    );
    assert_eq!(
        incidents.note_calls() - calls,
        1,
        "only the missing note is tried"
    );
    assert_eq!(incidents.notes(&id()).len(), PAYMENTS_PLANS);
    assert_eq!(second.tally.notes, 1);
    assert_eq!(incidents.links(&id()).len(), links, "no link added twice");
    assert_eq!(p.chat.messages(CHAT).len(), 1, "no message sent twice");
    assert_eq!(p.chat.messages(INCIDENTS).len(), 1);
    assert!(second.complete && p.claims.state(ARN).is_complete());
    // Every note carries the incident's start, whichever run posted it.
    assert!(incidents.notes(&id()).iter().all(|n| n.at == t0()));
}

#[tokio::test]
async fn a_portal_url_two_plans_share_is_added_once_and_owned_by_the_first_plan() {
    let mut enterprise = sample("plans", "aws-business");
    enterprise["id"] = "aws-enterprise".into();
    enterprise["tier"] = "Enterprise".into();
    let mut payments = sample("workloads", "payments");
    payments["dependencies"] = serde_json::json!(["aws-business", "aws-enterprise"]);
    let plans = vec![plan(&sample("plans", "aws-business")), plan(&enterprise)];
    let directory = FakeDirectory::new(vec![workload(&payments)], plans.clone());
    let incidents = FakeIncidents::default();
    incidents.open(incident(false));
    let p = pipeline(incidents.clone(), directory, settings());

    let answer = posted(p.respond(&id(), Told::default(), t0()).await.unwrap());
    let shared: Vec<_> = incidents
        .links(&id())
        .into_iter()
        .filter(|(_, url)| url == AWS_PORTAL)
        .collect();
    assert_eq!(shared.len(), 1, "one link for the shared URL: {shared:?}");
    assert!(
        shared[0].0.contains("Business"),
        "the first plan's title: {shared:?}"
    );
    assert!(answer.complete);
    let state = p.claims.state(ARN);
    assert!(
        state.is_done(&link_part("aws-enterprise")),
        "the second plan's links have nothing left to add: done"
    );

    // Whichever invocation holds the second plan's claim, it does not add the first plan's URL.
    let ctx = support_plans_domain::pipeline::incident::context(&incident(false), Told::default());
    let workloads = vec![workload(&payments)];
    let posts = prepare(
        &ctx,
        "6ac3b7d0",
        &workloads,
        &plans,
        &settings().links,
        &Policy::default(),
    );
    let held: BTreeSet<String> = [link_part("aws-enterprise")].into();
    let jobs = decide::jobs(&posts, &held, true, &[], &[], true, &[]);
    assert!(
        jobs.iter()
            .all(|j| !matches!(j, decide::Job::Link { url, .. } if url == AWS_PORTAL)),
        "{jobs:?}"
    );
    let held: BTreeSet<String> = [link_part("aws-business")].into();
    let jobs = decide::jobs(&posts, &held, true, &[AWS_PORTAL.to_owned()], &[], true, &[]);
    assert!(
        jobs.is_empty(),
        "a URL the incident already has is not added: {jobs:?}"
    );
}

#[tokio::test]
async fn a_refused_chat_topic_is_recorded_not_retried_and_the_answer_completes() {
    let (p, incidents) = world();
    p.chat.refuse(CHAT);
    let answer = posted(p.respond(&id(), Told::default(), t0()).await.unwrap());
    assert_eq!(answer.tally.refused, [chat_part(CHAT)]);
    assert!(answer.complete);
    assert_eq!(incidents.notes(&id()).len(), PAYMENTS_PLANS);
    assert_eq!(p.chat.messages(INCIDENTS).len(), 1);
    assert_eq!(p.metrics.count_of("ChatTopicRefused"), 1);
    assert!(p.claims.state(ARN).is_refused(&chat_part(CHAT)));

    let tried = p.chat.attempts().len();
    let again = posted(
        p.respond(&id(), Told::default(), t0() + SignedDuration::from_mins(1))
            .await
            .unwrap(),
    );
    assert_eq!(
        p.chat.attempts().len(),
        tried,
        "the refused topic is not tried again"
    );
    assert!(again.complete && again.tally.refused.is_empty());
    let swept = p.sweep(t0() + SignedDuration::from_mins(10)).await.unwrap();
    assert_eq!((swept.already_complete, swept.handled), (1, 0));
    assert_eq!(
        p.metrics.count_of("ChatTopicRefused"),
        1,
        "logged and counted once"
    );

    // A topic outside CHAT_TOPIC_ARNS is refused without a call.
    let (mut p, _) = world();
    p.settings.chat_topics = Some(vec![]);
    let answer = posted(p.respond(&id(), Told::default(), t0()).await.unwrap());
    assert_eq!(answer.tally.refused, [chat_part(CHAT)]);
    assert_eq!(
        p.chat.attempts(),
        [INCIDENTS],
        "only INCIDENT_TOPIC_ARN was called"
    );
}

#[tokio::test]
async fn a_resolved_incident_is_left_alone() {
    let incidents = FakeIncidents::default();
    incidents.open(incident(true));
    let p = pipeline(incidents.clone(), payments_directory(), settings());
    let outcome = p.respond(&id(), Told::default(), t0()).await.unwrap();
    assert_eq!(outcome, Outcome::Resolved { key: ARN.into() });
    assert!(incidents.notes(&id()).is_empty() && incidents.links(&id()).is_empty());
    assert!(p.chat.attempts().is_empty());
    assert_eq!(p.claims.state(ARN), Default::default(), "nothing claimed");
    assert_eq!(p.activity.total(), Default::default(), "not counted");
}

#[tokio::test]
async fn the_sweep_skips_a_complete_answer_and_finishes_one_left_busy_or_failed() {
    // Complete after a full answer: the sweep skips it.
    let (p, _) = world();
    assert!(posted(p.respond(&id(), Told::default(), t0()).await.unwrap()).complete);
    let swept = p.sweep(t0() + SignedDuration::from_mins(10)).await.unwrap();
    assert_eq!((swept.open, swept.already_complete, swept.handled), (1, 1, 0));
    assert_eq!(p.claims.completed(&[ARN.into()]).await.unwrap(), [ARN]);

    // A part busy in another invocation: not complete until it is done.
    let (p, incidents) = world();
    let part = note_part("stripe-premium");
    p.claims.lease(ARN, &part, t0() + SignedDuration::from_mins(3));
    let answer = posted(p.respond(&id(), Told::default(), t0()).await.unwrap());
    assert!(!answer.complete && answer.tally.busy == 1, "{answer:?}");
    assert!(!p.claims.state(ARN).is_complete());
    assert_eq!(incidents.notes(&id()).len(), PAYMENTS_PLANS - 1);
    // While the lease runs, the sweep tries and leaves it incomplete.
    let swept = p.sweep(t0() + SignedDuration::from_mins(1)).await.unwrap();
    assert_eq!((swept.already_complete, swept.handled), (0, 1));
    assert!(!p.claims.state(ARN).is_complete());
    // Its lease ran out (the invocation died): the sweep finishes the answer.
    p.sweep(t0() + SignedDuration::from_mins(10)).await.unwrap();
    assert!(p.claims.state(ARN).is_complete());
    let first_notes = incidents
        .notes(&id())
        .into_iter()
        .filter(|n| !n.text.starts_with("### Follow-up") && !n.text.starts_with("### First response due"))
        .count();
    assert_eq!(
        first_notes, PAYMENTS_PLANS,
        "and the steps of minutes 5 and 10 are followed up"
    );

    // A part failed: not complete; the sweep's run completes it.
    let (p, incidents) = world();
    incidents.fail_notes(vec![PortError::Retry("500".into())]);
    assert!(p.respond(&id(), Told::default(), t0()).await.is_err());
    assert!(!p.claims.state(ARN).is_complete());
    let swept = p.sweep(t0() + SignedDuration::from_mins(10)).await.unwrap();
    assert_eq!(swept.handled, 1);
    assert!(p.claims.state(ARN).is_complete());
}

#[tokio::test]
async fn an_incident_is_counted_once_over_repeated_runs() {
    let (p, _) = world();
    let mut counted = Vec::new();
    for minute in 0..3 {
        let answer = posted(
            p.respond(&id(), Told::default(), t0() + SignedDuration::from_mins(minute))
                .await
                .unwrap(),
        );
        counted.push(answer.tally.counted);
    }
    p.sweep(t0() + SignedDuration::from_mins(10)).await.unwrap();
    assert_eq!(counted, [vec!["IncidentsMatched"], vec![], vec![]]);
    let total = p.activity.total();
    assert_eq!((total.incidents_matched, total.incidents_unmatched), (1, 0));
    assert_eq!(p.metrics.count_of("IncidentsMatched"), 1);
}

#[tokio::test]
async fn an_unreadable_source_sends_the_chat_message_only_and_fails_uncounted() {
    let (p, incidents) = world();
    incidents.fail_reads(Some(PortError::Retry("503".into())));
    let told = Told {
        resources: vec![RDS.into()],
        ..Told::default()
    };
    let failed = p.respond(&id(), told.clone(), t0()).await;
    assert!(
        matches!(failed, Err(PipelineError::SourceUnavailable { chats: 1, .. })),
        "{failed:?}"
    );
    assert_eq!(p.chat.messages(INCIDENTS).len(), 1);
    assert!(incidents.notes(&id()).is_empty());
    assert_eq!(p.activity.total(), Default::default());

    incidents.fail_reads(None);
    let answer = posted(p.respond(&id(), told, t0()).await.unwrap());
    assert_eq!(answer.tally.notes as usize, PAYMENTS_PLANS);
    assert_eq!(p.chat.messages(INCIDENTS).len(), 1, "not sent twice");
    assert_eq!(p.chat.messages(CHAT).len(), 1);
}

#[tokio::test]
async fn a_delivered_incident_over_its_sender_s_limit_posts_nothing_and_is_answered_later() {
    let (mut p, _) = world();
    p.settings.limit_per_minute = 1;
    let delivered = |id: &str| Delivered {
        id: IncidentId::External {
            kind: "generic",
            id: id.into(),
        },
        sender: "acme.pager".into(),
        title: "Card payments failing".into(),
        impact: Some(1),
        started_at: t0(),
        workload: None,
        resources: vec![],
        url: None,
    };
    posted(p.respond_delivered(&delivered("INC-1"), t0()).await.unwrap());
    let over = p.respond_delivered(&delivered("INC-2"), t0()).await.unwrap();
    assert!(matches!(over, Outcome::Throttled { limit: 1, .. }), "{over:?}");
    assert_eq!(p.chat.messages(INCIDENTS).len(), 1);
    // A re-delivery of the posted one costs no slot.
    let again = posted(p.respond_delivered(&delivered("INC-1"), t0()).await.unwrap());
    assert_eq!(again.tally.chats, 0);
    let later = posted(
        p.respond_delivered(&delivered("INC-2"), t0() + SignedDuration::from_mins(1))
            .await
            .unwrap(),
    );
    assert_eq!(later.tally.chats, 1);
    assert_eq!(p.rate_limit.taken("acme.pager", t0()), 1);
}
