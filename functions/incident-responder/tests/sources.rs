//! Generic incidents (SPEC §4 trigger 4) only from named sources, at most a
//! limit per source and minute: through the real handler, against moto and
//! the Incident Manager emulator. The world allows the sources
//! `support-plans.incidents` and `acme.pager`, [`LIMIT`] a minute each.

mod common;

use std::collections::BTreeSet;

use common::World;
use futures_util::future::join_all;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

/// The project's own source: the template's default.
const OWN: &str = "support-plans.incidents";
/// The world's per-source limit a minute.
const LIMIT: usize = 20;

fn generic(source: &str, id: &str) -> Value {
    json!({
        "version": "0", "id": format!("evt-{id}"), "detail-type": "Incident Started", "source": source,
        "account": "111122223333", "time": "2026-11-21T10:00:00Z", "region": "us-east-1", "resources": [],
        "detail": {"id": id, "title": "analytics pipeline stalled", "impact": 2, "workload": "analytics"}
    })
}

/// The incident ids of the chat messages on a queue.
async fn threads(w: &World, queue: &str) -> Vec<String> {
    w.drain(queue)
        .await
        .iter()
        .map(|m| m["metadata"]["threadId"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn handle_at(w: &World, event: &Value, now: Timestamp) -> Value {
    w.responder.handle(event, now).await.unwrap()
}

#[tokio::test]
async fn a_generic_incident_from_a_source_not_listed_is_ignored_and_nothing_is_posted() {
    let w = World::new().await;
    let now = Timestamp::now();
    for source in [
        "evil.insider",
        "support-plans.incidents.x",
        "SUPPORT-PLANS.INCIDENTS",
        "",
    ] {
        let answer = handle_at(&w, &generic(source, "INC-1"), now).await;
        assert_eq!(answer["status"], "ignored", "source {source:?}: {answer}");
    }
    assert!(
        threads(&w, &w.incident_queue).await.is_empty(),
        "nothing posted for an unlisted source"
    );
    // The same incident from a listed source is posted: the refusal was the source's.
    let answer = handle_at(&w, &generic(OWN, "INC-1"), now).await;
    assert_eq!(answer["status"], "posted", "{answer}");
    assert_eq!(threads(&w, &w.incident_queue).await, ["INC-1"]);
}

#[tokio::test]
async fn a_burst_from_one_source_posts_the_limit_and_the_rest_are_throttled_another_source_is_unaffected() {
    let w = World::new().await;
    let now = Timestamp::now();
    let extra = 5;
    // Concurrently, as EventBridge invokes many instances at once.
    let events: Vec<Value> = (0..LIMIT + extra)
        .map(|i| generic(OWN, &format!("BURST-{i}")))
        .collect();
    let answers = join_all(events.iter().map(|e| handle_at(&w, e, now))).await;
    let status = |s: &str| answers.iter().filter(|a| a["status"] == s).count();
    assert_eq!(status("posted"), LIMIT, "{answers:?}");
    assert_eq!(status("throttled"), extra, "{answers:?}");
    let posted = threads(&w, &w.incident_queue).await;
    assert_eq!(
        posted.len(),
        LIMIT,
        "exactly the limit of chat messages: {posted:?}"
    );
    assert_eq!(posted.iter().collect::<BTreeSet<_>>().len(), LIMIT, "{posted:?}");

    // Another listed source in the same minute has its own limit.
    let answer = handle_at(&w, &generic("acme.pager", "OTHER-1"), now).await;
    assert_eq!(answer["status"], "posted", "{answer}");
    assert_eq!(threads(&w, &w.incident_queue).await, ["OTHER-1"]);
}

#[tokio::test]
async fn a_throttled_incident_is_not_burnt_and_is_posted_when_sent_again_in_a_later_minute() {
    let w = World::new().await;
    let now = Timestamp::now();
    let events: Vec<Value> = (0..=LIMIT).map(|i| generic(OWN, &format!("BURST-{i}"))).collect();
    let answers = join_all(events.iter().map(|e| handle_at(&w, e, now))).await;
    let throttled: Vec<&Value> = events
        .iter()
        .zip(&answers)
        .filter(|(_, a)| a["status"] == "throttled")
        .map(|(e, _)| e)
        .collect();
    assert_eq!(throttled.len(), 1, "{answers:?}");
    assert_eq!(threads(&w, &w.incident_queue).await.len(), LIMIT);

    let later = now + SignedDuration::from_secs(60);
    let answer = handle_at(&w, throttled[0], later).await;
    assert_eq!(answer["status"], "posted", "{answer}");
    assert_eq!(
        threads(&w, &w.incident_queue).await,
        [throttled[0]["detail"]["id"].as_str().unwrap()]
    );
}

/// A re-delivery of an incident already posted costs no slot: the claims
/// say it is done before a slot is asked for.
#[tokio::test]
async fn a_redelivery_of_a_posted_incident_does_not_use_up_the_limit() {
    let w = World::new().await;
    let now = Timestamp::now();
    let first = generic(OWN, "INC-A");
    assert_eq!(handle_at(&w, &first, now).await["status"], "posted");
    for _ in 0..3 {
        let again = handle_at(&w, &first, now).await;
        assert_eq!(again["chat_messages"], 0, "{again}");
        assert_ne!(again["status"], "throttled", "{again}");
    }
    // LIMIT - 1 more distinct incidents fit in the minute...
    for i in 1..LIMIT {
        let answer = handle_at(&w, &generic(OWN, &format!("INC-{i}")), now).await;
        assert_eq!(answer["status"], "posted", "incident {i}: {answer}");
    }
    // ...and the next one does not.
    let over = handle_at(&w, &generic(OWN, "INC-OVER"), now).await;
    assert_eq!(over["status"], "throttled", "{over}");
    assert_eq!(over["limit"], LIMIT, "{over}");
    let posted = threads(&w, &w.incident_queue).await;
    assert_eq!(posted.len(), LIMIT, "{posted:?}");
    assert!(posted.contains(&"INC-A".to_owned()) && !posted.contains(&"INC-OVER".to_owned()));
}

/// The sample event, the template's default and the local stack name one source.
#[test]
fn the_sample_event_the_template_and_the_local_stack_agree_on_the_source() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let read = |p: &str| std::fs::read_to_string(format!("{root}/{p}")).unwrap();
    let sample: Value =
        serde_json::from_str(&read("infra/local/events/generic-incident-started.json")).unwrap();
    assert_eq!(sample["source"], OWN);
    let template = read("template.yaml");
    let parameter = template
        .split("\n  GenericIncidentSources:\n")
        .nth(1)
        .expect("the GenericIncidentSources parameter");
    let default = parameter
        .lines()
        .find_map(|l| l.trim().strip_prefix("Default: "))
        .expect("its default");
    assert_eq!(default.trim_matches('"'), OWN);
    assert!(
        template.contains("source: !Ref GenericIncidentSources"),
        "the Incident Started rule matches only the listed sources"
    );
    assert!(read("infra/local/up.sh").contains(&format!("GENERIC_SOURCES={OWN}")));
}

/// The slot costs no round trip of its own: it is taken alongside the
/// claims, so a generic incident's chat message still goes out within three
/// sequential round trips (SPEC §10). Every request is held 50 ms on its way.
#[tokio::test]
async fn the_slot_is_taken_alongside_the_claims_within_three_sequential_round_trips() {
    use support_plans_aws::calls::{describe_rounds, sequential_depth};
    let w = World::with_latency(std::time::Duration::from_millis(50)).await;
    w.calls.clear();
    let answer = w.handle(&generic(OWN, "INC-FAST")).await.unwrap();
    assert_eq!(answer["status"], "posted", "{answer}");
    let calls = w.calls.calls();
    let publish = calls
        .iter()
        .filter(|c| c.operation == "Publish")
        .map(|c| c.end)
        .max()
        .expect("the chat message was published");
    let path: Vec<_> = calls.iter().filter(|c| c.start < publish).cloned().collect();
    let rounds = describe_rounds(&path);
    assert!(sequential_depth(&path) <= 3, "{rounds:?}");
    // GetItem (claims) ‖ Query (workloads); then BatchGetItem (plans) ‖
    // UpdateItem (claims) ‖ UpdateItem (the slot); then Publish ‖ UpdateItem
    // (the day's count) ‖ UpdateItem (the readiness snapshot's, SPEC §15).
    let updates = path.iter().filter(|c| c.operation == "UpdateItem").count();
    assert_eq!(
        updates, 4,
        "the claims, the slot, the day's count and the snapshot's: {rounds:?}"
    );
    assert_eq!(threads(&w, &w.incident_queue).await, ["INC-FAST"]);
}
