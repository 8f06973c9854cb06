//! The sample data of the local stack (infra/local/samples) must be valid
//! request bodies, consistent with each other and with seed.json, and, once
//! backdated by the seed, must show every freshness state.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan, tz::TimeZone};
use serde_json::Value;
use support_plans_domain::freshness::{ContractState, Policy, State, evaluate};
use support_plans_domain::{Actor, PlanSpec, SupportPlan, VerifiedVia, WorkloadSpec};

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/local/samples")
}

/// Every `*.json` file of a samples subdirectory, by file name.
fn json_files(sub: &str) -> Vec<(String, Value)> {
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

fn sample_plans() -> Vec<(String, PlanSpec)> {
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

fn sample_workloads() -> Vec<(String, WorkloadSpec)> {
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

fn seed() -> Value {
    let path = samples_dir().join("seed.json");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("seed.json is JSON")
}

fn seed_plans(seed: &Value) -> &serde_json::Map<String, Value> {
    seed["plans"].as_object().expect("seed.json has a `plans` object")
}

// ---------------------------------------------------------------- validity

#[test]
fn every_sample_plan_is_valid() {
    let plans = sample_plans();
    assert!(plans.len() >= 4, "only {} sample plans", plans.len());
    for (file, spec) in &plans {
        assert_eq!(
            format!("{}.json", spec.id),
            *file,
            "a plan file is named after its id"
        );
    }
}

#[test]
fn every_sample_workload_is_valid() {
    let workloads = sample_workloads();
    assert!(workloads.len() >= 3, "only {} sample workloads", workloads.len());
    for (file, spec) in &workloads {
        assert_eq!(
            format!("{}.json", spec.name),
            *file,
            "a workload file is named after its name"
        );
    }
}

#[test]
fn every_workload_dependency_names_a_sample_plan() {
    let plans = sample_plans();
    let mut missing = Vec::new();
    for (file, w) in sample_workloads() {
        for dep in &w.dependencies {
            if !plans.iter().any(|(_, p)| &p.id == dep) {
                missing.push(format!(
                    "workloads/{file}: dependency '{dep}' is not a sample plan"
                ));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn seed_names_only_sample_plans_and_their_contacts() {
    let plans = sample_plans();
    let seed = seed();
    let mut problems = Vec::new();
    for (plan_id, entry) in seed_plans(&seed) {
        let Some((_, plan)) = plans.iter().find(|(_, p)| p.id.as_str() == plan_id) else {
            problems.push(format!("seed plan '{plan_id}' is not a sample plan"));
            continue;
        };
        if let Some(contacts) = entry.get("contacts").and_then(Value::as_object) {
            for contact_id in contacts.keys() {
                if !plan.contacts.iter().any(|c| c.id.as_str() == contact_id) {
                    problems.push(format!(
                        "seed contact '{plan_id}/{contact_id}' is not a contact of that plan"
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------- the seed applied

fn now() -> Timestamp {
    "2026-06-01T08:00:00Z".parse().unwrap()
}

fn days_before(now: Timestamp, days: i64) -> Timestamp {
    now.checked_sub(SignedDuration::from_hours(24 * days)).unwrap()
}

fn days_of(v: &Value, what: &str) -> Option<i64> {
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
fn seeded_plans(now: Timestamp) -> Vec<SupportPlan> {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Bucket {
    Ok,
    DueSoon,
    OverdueUpTo30,
    OverdueOver30,
    NeverVerified,
}

#[test]
fn the_seeded_samples_show_every_contact_state() {
    let now = now();
    let mut buckets: BTreeMap<Bucket, Vec<String>> = BTreeMap::new();
    let mut table = Vec::new();
    for plan in seeded_plans(now) {
        let f = evaluate(&plan, now, &Policy::default());
        for c in &f.contacts {
            let bucket = match (c.never_verified, c.due.state) {
                (true, _) => Bucket::NeverVerified,
                (false, State::Ok) => Bucket::Ok,
                (false, State::DueSoon) => Bucket::DueSoon,
                (false, State::Overdue) if c.due.days_overdue <= 30 => Bucket::OverdueUpTo30,
                (false, State::Overdue) => Bucket::OverdueOver30,
            };
            let line = format!(
                "{}/{}: {:?} (days_left {}, days_overdue {})",
                plan.id(),
                c.contact,
                bucket,
                c.due.days_left,
                c.due.days_overdue
            );
            table.push(line);
            buckets
                .entry(bucket)
                .or_default()
                .push(format!("{}/{}", plan.id(), c.contact));
        }
    }
    let table = table.join("\n");
    for bucket in [
        Bucket::Ok,
        Bucket::DueSoon,
        Bucket::OverdueUpTo30,
        Bucket::OverdueOver30,
        Bucket::NeverVerified,
    ] {
        assert!(
            buckets.contains_key(&bucket),
            "no sample contact is {bucket:?}:\n{table}"
        );
    }
    // A never-verified contact is overdue, too.
    for plan in seeded_plans(now) {
        let f = evaluate(&plan, now, &Policy::default());
        for c in f.contacts.iter().filter(|c| c.never_verified) {
            assert_eq!(c.due.state, State::Overdue, "{}/{}", plan.id(), c.contact);
        }
    }
}

#[test]
fn the_seeded_samples_show_every_plan_state() {
    let now = now();
    let mut review_overdue = Vec::new();
    let mut renewing = Vec::new();
    let mut lapsed = Vec::new();
    let mut healthy = Vec::new();
    let mut table = Vec::new();
    for plan in seeded_plans(now) {
        let f = evaluate(&plan, now, &Policy::default());
        let id = plan.id().to_string();
        table.push(format!(
            "{id}: review {:?}, contract {:?}, overall {:?}",
            f.review,
            f.contract,
            f.state()
        ));
        if f.review.state == State::Overdue {
            review_overdue.push(id.clone());
        }
        match f.contract.map(|c| c.contract) {
            Some(ContractState::Renewing) => renewing.push(id.clone()),
            Some(ContractState::Lapsed) => lapsed.push(id.clone()),
            _ => {}
        }
        if f.state() == State::Ok {
            healthy.push(id);
        }
    }
    let table = table.join("\n");
    assert!(
        !review_overdue.is_empty(),
        "no sample plan is due for review:\n{table}"
    );
    assert!(!renewing.is_empty(), "no sample contract is renewing:\n{table}");
    assert!(!lapsed.is_empty(), "no sample contract has lapsed:\n{table}");
    assert!(!healthy.is_empty(), "no sample plan is fully healthy:\n{table}");
}

#[test]
fn the_seed_applies_to_the_samples_the_same_way_whatever_the_date() {
    // The seed is relative: another `now` gives the same states.
    let a = now();
    let b: Timestamp = "2031-12-24T23:30:00Z".parse().unwrap();
    let states = |now: Timestamp| -> Vec<(String, State)> {
        seeded_plans(now)
            .iter()
            .map(|p| (p.id().to_string(), evaluate(p, now, &Policy::default()).state()))
            .collect()
    };
    assert_eq!(states(a), states(b));
}
