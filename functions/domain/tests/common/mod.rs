//! The sample data of the local stack (infra/local/samples), parsed through
//! the domain's validation and aged by seed.json: shared by the tests that
//! hold the samples to their README and those that evaluate them.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan, tz::TimeZone};
use serde_json::Value;
use support_plans_domain::{Actor, PlanSpec, SupportPlan, VerifiedVia, Workload, WorkloadSpec};

pub fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/local/samples")
}

/// Every `*.json` file of a samples subdirectory, by file name.
pub fn json_files(sub: &str) -> Vec<(String, Value)> {
    let dir = samples_dir().join(sub);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{sub}/{name}: not JSON: {e}"));
            (name, value)
        })
        .collect()
}

pub fn sample_plans() -> Vec<(String, PlanSpec)> {
    let mut failures = Vec::new();
    let mut plans = Vec::new();
    for (name, body) in json_files("plans") {
        match PlanSpec::parse(&body) {
            Ok(spec) => plans.push((name, spec)),
            Err(e) => failures.push(format!("plans/{name}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "invalid sample plans:\n{}",
        failures.join("\n")
    );
    plans
}

pub fn sample_workloads() -> Vec<(String, WorkloadSpec)> {
    let mut failures = Vec::new();
    let mut workloads = Vec::new();
    for (name, body) in json_files("workloads") {
        match WorkloadSpec::parse(&body) {
            Ok(spec) => workloads.push((name, spec)),
            Err(e) => failures.push(format!("workloads/{name}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "invalid sample workloads:\n{}",
        failures.join("\n")
    );
    workloads
}

pub fn seed() -> Value {
    let path = samples_dir().join("seed.json");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("seed.json is JSON")
}

pub fn seed_plans(seed: &Value) -> &serde_json::Map<String, Value> {
    seed["plans"].as_object().expect("seed.json has a `plans` object")
}

pub fn days_before(now: Timestamp, days: i64) -> Timestamp {
    now.checked_sub(SignedDuration::from_hours(24 * days)).unwrap()
}

pub fn days_of(v: &Value, what: &str) -> Option<i64> {
    match v {
        Value::Null => None,
        other => Some(
            other
                .as_i64()
                .unwrap_or_else(|| panic!("{what} must be a whole number or null, is {other}")),
        ),
    }
}

/// The sample plans as stored, backdated by seed.json relative to `now`.
pub fn seeded_plans(now: Timestamp) -> Vec<SupportPlan> {
    let seed = seed();
    let seeded = seed_plans(&seed);
    let today: Date = now.to_zoned(TimeZone::UTC).date();
    let local = Actor::parse("local-seed").unwrap();
    sample_plans()
        .into_iter()
        .map(|(_, spec)| {
            let Some(entry) = seeded.get(spec.id.as_str()) else {
                return SupportPlan::create(spec, &local, now);
            };
            let id = spec.id.to_string();
            let created = days_of(&entry["created_days_ago"], "created_days_ago").unwrap_or(0);
            let mut plan = SupportPlan::create(spec, &local, days_before(now, created));
            plan.meta.updated_at = plan.meta.created_at;
            if let Some(reviewed) = days_of(&entry["reviewed_days_ago"], "reviewed_days_ago") {
                plan.reviewed_at = Some(days_before(now, reviewed));
                plan.reviewed_by = Some(local.clone());
            }
            if let Some(days) = days_of(&entry["renews_in_days"], "renews_in_days") {
                plan.spec.renews_on = Some(today.checked_add(days.days()).unwrap());
            }
            if let Some(contacts) = entry.get("contacts").and_then(Value::as_object) {
                for (contact_id, c) in contacts {
                    let contact = plan
                        .spec
                        .contacts
                        .iter_mut()
                        .find(|x| x.id.as_str() == contact_id)
                        .unwrap_or_else(|| panic!("seed contact {id}/{contact_id} is not in the plan"));
                    let verified = days_of(&c["verified_days_ago"], "verified_days_ago");
                    contact.verified_at = verified.map(|d| days_before(now, d));
                    if verified.is_some() {
                        let by = c["verified_by"].as_str().unwrap_or("local-seed");
                        contact.verified_by = Some(Actor::parse(by).unwrap());
                        contact.verified_via = Some(VerifiedVia::Link);
                        contact.verified_note = c["note"].as_str().map(str::to_owned);
                    }
                }
            }
            plan
        })
        .collect()
}

/// The sample workloads as stored at `now`.
pub fn seeded_workloads(now: Timestamp) -> Vec<Workload> {
    let local = Actor::parse("local-seed").unwrap();
    sample_workloads()
        .into_iter()
        .map(|(_, spec)| Workload::create(spec, &local, now))
        .collect()
}
