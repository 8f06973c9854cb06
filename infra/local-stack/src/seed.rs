//! Loads the sample plans and workloads, aged as `seed.json` says, so a local
//! table shows contacts in every freshness state.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use jiff::{SignedDuration, Timestamp, ToSpan as _};
use serde::Deserialize;
use serde_json::Value;
use support_plans_domain::model::{Actor, PlanSpec, SupportPlan, VerifiedVia, Workload, WorkloadSpec};

/// `infra/local/samples` of this workspace.
pub fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../local/samples")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    pub plans: BTreeMap<String, PlanSeed>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanSeed {
    pub created_days_ago: i64,
    pub reviewed_days_ago: Option<i64>,
    pub renews_in_days: Option<i64>,
    #[serde(default)]
    pub contacts: BTreeMap<String, ContactSeed>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactSeed {
    pub verified_days_ago: i64,
    pub verified_by: String,
    pub note: Option<String>,
}

/// The samples, parsed through the domain's validation and aged relative to `now`.
#[derive(Debug)]
pub struct Samples {
    pub plans: Vec<SupportPlan>,
    pub workloads: Vec<Workload>,
}

fn days_ago(now: Timestamp, days: i64) -> Timestamp {
    now - SignedDuration::from_hours(24 * days)
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

fn json_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// `seed.json` of a samples directory.
pub fn read_seed(dir: &Path) -> anyhow::Result<Seed> {
    serde_json::from_value(read_json(&dir.join("seed.json"))?).context("reading seed.json")
}

pub fn load(dir: &Path, now: Timestamp) -> anyhow::Result<Samples> {
    let seed = read_seed(dir)?;
    let actor = Actor::parse("local-seed").map_err(anyhow::Error::msg)?;
    let mut plans = Vec::new();
    for path in json_files(&dir.join("plans"))? {
        let spec =
            PlanSpec::parse(&read_json(&path)?).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let aged = match seed.plans.get(spec.id.as_str()) {
            Some(s) => age(spec, s, &actor, now)?,
            None => SupportPlan::create(spec, &actor, now),
        };
        plans.push(aged);
    }
    for id in seed.plans.keys() {
        if !plans.iter().any(|p| p.id().as_str() == id) {
            bail!("seed.json ages plan '{id}', which has no sample file");
        }
    }
    let mut workloads = Vec::new();
    for path in json_files(&dir.join("workloads"))? {
        let spec = WorkloadSpec::parse(&read_json(&path)?)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        workloads.push(Workload::create(spec, &actor, now));
    }
    Ok(Samples { plans, workloads })
}

/// The next version of a sample plan already in the table (created through the
/// API), with the history `seed.json` gives it: created, reviewed and verified
/// so many days ago. The local demo's time machine: a plan loaded a second ago
/// shows what a year of keeping it looks like.
pub fn backdated(
    current: &SupportPlan,
    seed: &PlanSeed,
    actor: &Actor,
    now: Timestamp,
) -> anyhow::Result<SupportPlan> {
    let mut spec = current.spec.clone();
    for contact in &mut spec.contacts {
        contact.verified_at = None;
        contact.verified_by = None;
        contact.verified_via = None;
        contact.verified_note = None;
    }
    let mut next = age(spec, seed, actor, now)?;
    next.meta.version = current.meta.version + 1;
    next.meta.updated_at = now;
    Ok(next)
}

fn age(mut spec: PlanSpec, seed: &PlanSeed, actor: &Actor, now: Timestamp) -> anyhow::Result<SupportPlan> {
    if let Some(days) = seed.renews_in_days {
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        spec.renews_on = Some(today.checked_add(days.days())?);
    }
    let mut plan = SupportPlan::create(spec, actor, days_ago(now, seed.created_days_ago));
    if let Some(days) = seed.reviewed_days_ago {
        plan.reviewed_at = Some(days_ago(now, days));
        plan.reviewed_by = Some(actor.clone());
    }
    for (id, c) in &seed.contacts {
        let Some(contact) = plan.spec.contacts.iter_mut().find(|x| x.id.as_str() == id) else {
            bail!(
                "seed.json verifies contact '{id}' of '{}', which has no such contact",
                plan.spec.id
            );
        };
        contact.verified_at = Some(days_ago(now, c.verified_days_ago));
        contact.verified_by = Some(Actor::parse(&c.verified_by).map_err(anyhow::Error::msg)?);
        contact.verified_via = Some(VerifiedVia::Api);
        contact.verified_note.clone_from(&c.note);
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backdating_a_plan_loaded_through_the_api_gives_it_the_seeds_history() {
        let now: Timestamp = "2026-11-21T12:00:00Z".parse().unwrap();
        let dir = samples_dir();
        let seed = read_seed(&dir).unwrap();
        let body = read_json(&dir.join("plans/aws-business.json")).unwrap();
        let actor = Actor::parse("dana@example.com").unwrap();
        let loaded = SupportPlan::create(PlanSpec::parse(&body).unwrap(), &actor, now);

        let aged = backdated(&loaded, &seed.plans["aws-business"], &actor, now).unwrap();

        assert_eq!(aged.meta.version, 2, "a new version, written after the one read");
        assert_eq!(aged.meta.created_at, days_ago(now, 400));
        assert_eq!(aged.reviewed_at, Some(days_ago(now, 200)));
        let lead = aged
            .spec
            .contacts
            .iter()
            .find(|c| c.id.as_str() == "platform-lead")
            .unwrap();
        assert_eq!(lead.verified_at, Some(days_ago(now, 10)));
        let never = aged
            .spec
            .contacts
            .iter()
            .find(|c| c.id.as_str() == "platform-escalation-manager")
            .unwrap();
        assert_eq!(
            never.verified_at, None,
            "a contact the seed does not verify stays unverified"
        );
        assert_eq!(aged.spec.vendor, loaded.spec.vendor, "the spec is the one loaded");
    }
}
