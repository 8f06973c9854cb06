//! `make bench`: the figures of SPEC §10 against their bars. The parts:
//! a local Lambda Runtime API and the cold-start runs over it
//! ([`runtime_api`], [`coldstart`]), the API handler over a faked store
//! ([`overhead`]), the webhook handler over in-memory ports ([`webhook`]),
//! `support-plans lint` over 1,000 plan files ([`lint`]),
//! GET latency against the local stack ([`latency`]), the DynamoDB requests
//! a spawned function makes, counted by a proxy ([`dynamo_calls`]), and
//! the table ([`table`]) that reads every part's JSON result.

pub mod coldstart;
pub mod dynamo_calls;
pub mod latency;
pub mod lint;
pub mod overhead;
pub mod runtime_api;
pub mod table;
pub mod webhook;

/// The `q`-quantile (0..=1) of `values` by nearest rank; `None` if empty.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// The last line of `stdout` that parses as a JSON object.
pub fn last_json_line(stdout: &str) -> Option<serde_json::Value> {
    stdout
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('{'))
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(serde_json::Value::is_object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), Some(50.0));
        assert_eq!(quantile(&v, 0.99), Some(99.0));
        assert_eq!(quantile(&v, 1.0), Some(100.0));
        assert_eq!(quantile(&[3.0, 1.0, 2.0], 0.5), Some(2.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn reads_the_examples_last_json_line() {
        let out = "==> loading\n{\"not\": \"this\"}\nsome log\n{\"responder_e2e_ms_p50\": 12.5, \"responder_e2e_ms_p99\": 20.1, \"round_trips\": 3, \"critical_path\": [\"GetItem\"]}\n";
        let v = last_json_line(out).unwrap();
        assert_eq!(v["round_trips"], 3);
        assert_eq!(v["responder_e2e_ms_p50"], 12.5);
        assert!(last_json_line("no json here\n").is_none());
        assert!(last_json_line("{broken\n").is_none());
    }
}
