//! The sample data of the local stack (infra/local/samples) must be valid
//! request bodies, consistent with each other and with seed.json, and, once
//! backdated by the seed, must show every freshness state.

mod common;

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::Value;
use support_plans_domain::freshness::{ContractState, Policy, State, evaluate};

use common::{sample_plans, sample_workloads, seed, seed_plans, seeded_plans};

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
