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
//! SDK calls it made. The last line on stdout is one JSON object for
//! `make bench`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{RDS, World};
use serde_json::json;
use support_plans_aws::calls::{Call, describe_rounds, sequential_depth};

const INCIDENTS: usize = 50;
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

#[tokio::main]
async fn main() {
    let w = World::new().await;
    let mut arns = Vec::new();
    for i in 0..=INCIDENTS {
        arns.push(
            w.start_incident(&format!("Card payments failing {i}"), 1, &[RDS])
                .await,
        );
    }
    let handle = |arn: &str| {
        let event = json!({"incident_record_arn": arn, "involved_resources": [RDS]});
        let responder = &w.responder;
        async move {
            let started = Instant::now();
            let summary = responder
                .handle(&event, jiff::Timestamp::now())
                .await
                .expect("the incident is answered");
            (started.elapsed(), summary)
        }
    };

    // The first incident warms the process (connections, credentials); not counted.
    let (first, _) = handle(&arns[0]).await;
    let mut times = Vec::new();
    let mut worst: Vec<Call> = Vec::new();
    let mut depth = 0;
    for arn in &arns[1..] {
        w.calls.clear();
        let (elapsed, summary) = handle(arn).await;
        assert_eq!(summary["notes_posted"], 4, "{summary}");
        times.push(elapsed);
        let path = to_last_post(&w.calls.calls());
        let d = sequential_depth(&path);
        if d > depth || worst.is_empty() {
            depth = d;
            worst = path;
        }
    }
    times.sort();
    let (p50, p99) = (percentile(&times, 50.0), percentile(&times, 99.0));
    let rounds = describe_rounds(&worst);
    if std::env::var_os("CRITICAL_PATH_DEBUG").is_some() {
        let t0 = worst.iter().map(|c| c.start).min();
        for c in &worst {
            let at = |t: Instant| t0.map_or(0.0, |t0| (t - t0).as_secs_f64() * 1000.0);
            eprintln!("{:>8.2} {:>8.2} ms  {}", at(c.start), at(c.end), c.operation);
        }
    }
    println!(
        "responder: {INCIDENTS} impact-1 payments incidents (4 notes, portal links, 2 chat messages each): \
         e2e p50 {p50:.1} ms, p99 {p99:.1} ms, max {:.1} ms (first, cold connections: {:.1} ms); \
         {depth} sequential round trips to the last post: {}",
        times.last().map_or(0.0, |t| t.as_secs_f64() * 1000.0),
        first.as_secs_f64() * 1000.0,
        rounds.join("  →  ")
    );
    println!(
        "{}",
        json!({
            "responder_e2e_ms_p50": (p50 * 100.0).round() / 100.0,
            "responder_e2e_ms_p99": (p99 * 100.0).round() / 100.0,
            "round_trips": depth,
            "critical_path": rounds,
        })
    );
}
