//! The "incident to post" bar (SPEC §10): the responder's critical path in
//! sequential round trips, and its end-to-end time against the local stack.
//!
//! ```sh
//! infra/local/with-stack.sh cargo run --release -p incident-responder --example critical_path
//! ```
//! Loads the sample plans and workloads into a fresh table, starts incidents
//! in an Incident Manager emulator of its own (no event delivery, so nothing
//! else answers them), then calls `Responder::handle` for each in this one
//! warm process, timing it (from the call to its return) and recording the
//! SDK calls it made, with the time each took. The round trips are counted
//! in a second pass through a proxy that holds every request 50 ms: without
//! it, calls issued together but answered within a millisecond (the local
//! stack) do not overlap in time, and concurrent calls would look sequential.
//! The last line on stdout is one JSON object for `make bench`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{RDS, World};
use serde_json::json;
use support_plans_aws::calls::{Call, describe_rounds, sequential_depth};

const INCIDENTS: usize = 50;
/// Incidents answered through the latency proxy, for the round trips.
const COUNTED: usize = 5;
const POSTS: [&str; 3] = ["CreateTimelineEvent", "UpdateRelatedItems", "Publish"];

/// The calls on the path to the last post: those that started before it ended.
fn to_last_post(calls: &[Call]) -> Vec<Call> {
    let Some(last) = calls
        .iter()
        .filter(|c| POSTS.contains(&c.operation.as_str()))
        .map(|c| c.end)
        .max()
    else {
        return Vec::new();
    };
    calls.iter().filter(|c| c.start < last).cloned().collect()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

async fn start(w: &World, n: usize) -> Vec<String> {
    let mut arns = Vec::new();
    for i in 0..n {
        arns.push(
            w.start_incident(&format!("Card payments failing {i}"), 1, &[RDS])
                .await,
        );
    }
    arns
}

async fn answer(w: &World, arn: &str) -> Duration {
    let event = json!({"incident_record_arn": arn, "involved_resources": [RDS]});
    let started = Instant::now();
    let summary = w
        .responder
        .handle(&event, jiff::Timestamp::now())
        .await
        .expect("the incident is answered");
    let elapsed = started.elapsed();
    assert_eq!(summary["notes_posted"], 4, "{summary}");
    elapsed
}

#[tokio::main]
async fn main() {
    // End to end, straight to the local stack.
    let w = World::new().await;
    let arns = start(&w, INCIDENTS + 1).await;
    // The first incident warms the process (connections, credentials); not counted.
    let first = answer(&w, &arns[0]).await;
    let mut times = Vec::new();
    let mut per_op: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
    for arn in &arns[1..] {
        w.calls.clear();
        times.push(answer(&w, arn).await);
        for c in to_last_post(&w.calls.calls()) {
            per_op.entry(c.operation).or_default().push(c.end - c.start);
        }
    }
    times.sort();
    let (p50, p99) = (percentile(&times, 50.0), percentile(&times, 99.0));
    // Where the time goes: each operation's own duration (median) on the path.
    let op_ms: BTreeMap<String, f64> = per_op
        .into_iter()
        .map(|(op, mut d)| {
            d.sort();
            (op, (percentile(&d, 50.0) * 100.0).round() / 100.0)
        })
        .collect();

    // Round trips, through the latency proxy.
    let slow = World::with_latency(Duration::from_millis(50)).await;
    let mut worst: Vec<Call> = Vec::new();
    let mut depth = 0;
    for arn in start(&slow, COUNTED).await {
        slow.calls.clear();
        answer(&slow, &arn).await;
        let path = to_last_post(&slow.calls.calls());
        let d = sequential_depth(&path);
        if d > depth || worst.is_empty() {
            depth = d;
            worst = path;
        }
    }
    let rounds = describe_rounds(&worst);
    println!(
        "responder: {INCIDENTS} impact-1 payments incidents (4 notes, portal links, 2 chat messages each): \
         e2e p50 {p50:.1} ms, p99 {p99:.1} ms, max {:.1} ms (first, cold connections: {:.1} ms); \
         each call's median time on the path: {op_ms:?}; \
         {depth} sequential round trips to the last post ({COUNTED} incidents, every request held 50 ms): {}",
        times.last().map_or(0.0, |t| t.as_secs_f64() * 1000.0),
        first.as_secs_f64() * 1000.0,
        rounds.join("  →  ")
    );
    println!(
        "{}",
        json!({
            "responder_e2e_ms_p50": (p50 * 100.0).round() / 100.0,
            "responder_e2e_ms_p99": (p99 * 100.0).round() / 100.0,
            "call_ms_p50": op_ms,
            "round_trips": depth,
            "critical_path": rounds,
        })
    );
}
