//! The "follow-through" bar (SPEC §10, §13): each step's note within one
//! sweep interval of its time, never twice across overlapping sweeps and
//! retries; against the local stack.
//!
//! ```sh
//! infra/local/with-stack.sh cargo run --release -p incident-responder --example follow_up
//! ```
//! Loads the sample plans and workloads into a fresh table, starts impact-1
//! payments incidents in an Incident Manager emulator of its own, answers
//! each, moves their start 65 minutes into the past (the emulator's admin
//! API), then runs two sweeps at once and a third after them, as an
//! overlapping schedule and Lambda's retry would. Counts the follow-up notes
//! on every timeline (12 are due on each: 8 steps and 4 first responses),
//! the duplicates among them, and how long the sweeps took against the
//! 5-minute `FollowUpSchedule`. The last line on stdout is one JSON object.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeSet;
use std::time::Instant;

use common::{RDS, World};
use serde_json::json;

const INCIDENTS: usize = 25;
/// At minute 65 of an impact-1 payments incident: the steps of minutes 5, 5,
/// 10, 15, 30, 60, 60, 60 and the first responses due at 30, 60, 60, 60.
const DUE_EACH: usize = 12;
/// `FollowUpSchedule`'s default, in seconds.
const INTERVAL_S: u64 = 300;

fn is_follow_up(text: &str) -> bool {
    text.starts_with("### Follow-up") || text.starts_with("### First response due")
}

#[tokio::main]
async fn main() {
    let w = World::new().await;
    let mut arns = Vec::new();
    for i in 0..INCIDENTS {
        let arn = w
            .start_incident(&format!("Card payments failing {i}"), 1, &[RDS])
            .await;
        let event = json!({"incident_record_arn": arn, "involved_resources": [RDS]});
        w.handle(&event).await.expect("the incident is answered");
        let (status, body) = w
            .admin(
                "POST",
                "/_emulator/incidents/age",
                &json!({"incidentRecordArn": arn, "minutes": 65}).to_string(),
            )
            .await;
        assert_eq!(status, 200, "aging {arn}: {body}");
        arns.push(arn);
    }

    let sweep = json!({"sweep": true});
    let started = Instant::now();
    let (a, b) = tokio::join!(w.handle(&sweep), w.handle(&sweep));
    let overlapping_ms = started.elapsed().as_secs_f64() * 1000.0;
    let started = Instant::now();
    let c = w.handle(&sweep).await;
    let retry_ms = started.elapsed().as_secs_f64() * 1000.0;
    let posted_by: Vec<u64> = [&a, &b, &c]
        .iter()
        .map(|r| {
            r.as_ref()
                .ok()
                .and_then(|v| v["follow_ups"].as_u64())
                .unwrap_or(0)
        })
        .collect();

    let mut notes = 0;
    let mut duplicates = 0;
    for arn in &arns {
        let texts: Vec<String> = w
            .notes(arn)
            .await
            .into_iter()
            .map(|e| e.event_data)
            .filter(|t| is_follow_up(t))
            .collect();
        let distinct: BTreeSet<&String> = texts.iter().collect();
        duplicates += texts.len() - distinct.len();
        notes += texts.len();
    }
    println!(
        "follow-through: {INCIDENTS} impact-1 payments incidents aged 65 minutes; two overlapping sweeps \
         ({overlapping_ms:.0} ms, {} and {} notes) and a third ({retry_ms:.0} ms, {} notes): \
         {notes} follow-up notes of {} due, {duplicates} duplicates; errors: {:?} {:?} {:?}",
        posted_by[0],
        posted_by[1],
        posted_by[2],
        INCIDENTS * DUE_EACH,
        a.err(),
        b.err(),
        c.err(),
    );
    println!(
        "{}",
        json!({
            "followup_incidents": INCIDENTS,
            "followup_notes": notes,
            "followup_expected": INCIDENTS * DUE_EACH,
            "followup_duplicates": duplicates,
            "followup_sweep_ms": (overlapping_ms * 10.0).round() / 10.0,
            "followup_retry_ms": (retry_ms * 10.0).round() / 10.0,
            "followup_interval_s": INTERVAL_S,
        })
    );
}
