//! Matching at the input limits (SPEC §2 "Incident match", §10): the CPU of
//! `match_incident` when every workload's rules and the incident are as
//! large as validation allows and nothing matches (the worst case), and the
//! pattern × resource pairs alone with the linear `glob_match` and with the
//! |pattern| × |text| matcher it replaced (kept here to compare).
//!
//!   cargo run --release -p support-plans-domain --example match_limits [WORKLOADS]

use std::time::Instant;

use jiff::Timestamp;
use serde_json::json;
use support_plans_domain::matching::{
    Incident, MAX_PATTERN_LEN, MAX_RESOURCE_LEN, glob_match, match_incident,
};
use support_plans_domain::{Actor, Workload, WorkloadSpec};

const PATTERNS: usize = 50;
const KEYWORDS: usize = 20;
/// The most resources `POST /match` takes (plans-api `MAX_RESOURCES`).
const RESOURCES: usize = 10;

/// The matcher before issue 12: backtracking to the last star.
fn old_glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn patterns() -> Vec<String> {
    (0..PATTERNS)
        .map(|j| {
            // Each pattern its own: a number every resource has; then 10 stars in all.
            let mut p = format!("arn:aws:rds:*:*:db:*{j:02}*");
            if j % 2 == 0 {
                // five runs of a, each found, then a long one failing at its end
                for _ in 0..5 {
                    p.push_str(&"a".repeat(100));
                    p.push('*');
                }
            }
            while p.len() < MAX_PATTERN_LEN - 2 {
                p.push('a');
            }
            p.push_str("b*");
            p
        })
        .collect()
}

fn resources() -> Vec<String> {
    let numbers: String = (0..PATTERNS).map(|j| format!("{j:02}")).collect();
    (0..RESOURCES)
        .map(|r| {
            let mut s = format!("arn:aws:rds:us-east-1:111122223333:db:r{r:02}-{numbers}");
            while s.len() < MAX_RESOURCE_LEN {
                s.push('a');
            }
            s
        })
        .collect()
}

fn quantiles(mut times: Vec<f64>) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

fn main() {
    let workloads: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1);
    let actor = Actor::parse("bench").unwrap();
    let patterns = patterns();
    let ws: Vec<Workload> = (0..workloads)
        .map(|i| {
            let keywords: Vec<String> = (0..KEYWORDS)
                .map(|j| format!("w{i:03}k{j:02}{}", "q".repeat(43)))
                .collect();
            let body = json!({
                "name": format!("limits-{i:03}"),
                "owner": {"team": format!("team-{i:03}"), "email": "team@example.com"},
                "dependencies": ["aws-business"],
                "match": {"resource_patterns": patterns, "title_keywords": keywords},
            });
            let spec = WorkloadSpec::parse(&body).unwrap_or_else(|e| panic!("{e}"));
            Workload::create(spec, &actor, Timestamp::UNIX_EPOCH)
        })
        .collect();
    let incident = Incident {
        title: "card payments ledger slow at checkout "
            .repeat(6)
            .chars()
            .take(200)
            .collect(),
        resources: resources(),
        ..Incident::default()
    };

    let mut times = Vec::new();
    for _ in 0..200 {
        let start = Instant::now();
        let out = std::hint::black_box(match_incident(&incident, &ws, &[]));
        times.push(start.elapsed().as_secs_f64() * 1e3);
        assert!(out.is_unmatched());
    }
    let (p50, p99) = quantiles(times);
    println!(
        "match_incident: {workloads} workload(s) × {PATTERNS} patterns of {MAX_PATTERN_LEN} bytes, {RESOURCES} resources of {MAX_RESOURCE_LEN} bytes, {KEYWORDS} keywords each: p50 {p50:.3} ms, p99 {p99:.3} ms"
    );

    // One workload's pairs, new and old matcher.
    let pairs = |f: fn(&str, &str) -> bool| {
        let start = Instant::now();
        for r in &incident.resources {
            for p in &patterns {
                assert!(!std::hint::black_box(f(p, r)));
            }
        }
        start.elapsed().as_secs_f64() * 1e3
    };
    let new: Vec<f64> = (0..50).map(|_| pairs(glob_match)).collect();
    let (new50, new99) = quantiles(new);
    println!("glob_match, {PATTERNS} × {RESOURCES} pairs: p50 {new50:.3} ms, p99 {new99:.3} ms");
    for kind in 0..2 {
        let start = Instant::now();
        for r in &incident.resources {
            for p in patterns.iter().skip(kind).step_by(2) {
                assert!(!std::hint::black_box(glob_match(p, r)));
            }
        }
        println!("  kind {kind}: {:.3} ms", start.elapsed().as_secs_f64() * 1e3);
    }
    let old: Vec<f64> = (0..3).map(|_| pairs(old_glob_match)).collect();
    let (old50, old_max) = quantiles(old);
    println!(
        "old glob_match, {PATTERNS} × {RESOURCES} pairs: p50 {old50:.1} ms, max {old_max:.1} ms (3 runs)"
    );
}
