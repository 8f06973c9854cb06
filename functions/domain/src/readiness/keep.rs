//! Keeping the snapshot current on each write (SPEC §15): the write's
//! [`Delta`], evaluated at the snapshot's `as_of`, added to it. So the
//! snapshot stays what a full computation at `as_of` over the current data
//! gives, until the next freshness run computes it at its own `now`.
//!
//! What a write reads for it, bounded by the workloads and the owner, never
//! by the number of plans: the snapshot (one item); when a plan's standing
//! changes (active, a 24x7 channel) the active workloads and the other plans
//! those relying on it rely on; when a plan's owner address changes or the
//! plan is retired or made active, that address's subscription record and
//! whether it owns another active plan.

use std::collections::{BTreeSet, HashMap};

use super::snapshot::{Delta, ReadinessSnapshots};
use super::tally::{Standing, plan_share_at, workload_share};
use crate::freshness::Policy;
use crate::model::{Status, SupportPlan, Workload};
use crate::ports::{OwnerIndex, PlanStore, StoreError, WorkloadStore};
use crate::reminders::subscriptions::{SubscriptionRecords, Topic};
use crate::types::Slug;

/// How many times a write recomputes its delta when a freshness run
/// replaced the snapshot meanwhile.
const ATTEMPTS: usize = 3;

/// What happened to the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// Nothing to add.
    Unchanged,
    Adjusted,
    /// There is no snapshot yet: the next freshness run (or the first
    /// `GET /readiness`) computes it whole.
    NoSnapshot,
}

/// After `after` was written over `before` (`None`: created).
pub async fn plan_written(
    store: &(impl ReadinessSnapshots + PlanStore + WorkloadStore + OwnerIndex + SubscriptionRecords),
    before: Option<&SupportPlan>,
    after: &SupportPlan,
    policy: &Policy,
) -> Result<Kept, StoreError> {
    for _ in 0..ATTEMPTS {
        let Some(snapshot) = store.load_snapshot().await? else {
            return Ok(Kept::NoSnapshot);
        };
        let at = snapshot.readiness.as_of;
        let share = |p: &SupportPlan| plan_share_at(p, at, policy);
        let mut d = share(after) - before.map(share).unwrap_or_default();
        d += workloads_of_plan(store, before, after).await?;
        d += owners_of_plan(store, before, after).await?;
        if let Some(kept) = add(store, &d, at).await? {
            return Ok(kept);
        }
    }
    Err(busy())
}

/// After `after` was written over `before` (`None`: created).
pub async fn workload_written(
    store: &(impl ReadinessSnapshots + PlanStore),
    before: Option<&Workload>,
    after: &Workload,
) -> Result<Kept, StoreError> {
    let ids: BTreeSet<Slug> = before
        .into_iter()
        .chain([after])
        .flat_map(|w| w.spec.dependencies.iter().cloned())
        .collect();
    let ids: Vec<Slug> = ids.into_iter().collect();
    let standing: HashMap<String, Standing> = store
        .get_plans(&ids)
        .await?
        .iter()
        .map(|p| (p.spec.id.to_string(), Standing::of(p)))
        .collect();
    let look = |id: &str| standing.get(id).copied();
    let d = workload_share(after, &look) - before.map(|b| workload_share(b, &look)).unwrap_or_default();
    for _ in 0..ATTEMPTS {
        let Some(snapshot) = store.load_snapshot().await? else {
            return Ok(Kept::NoSnapshot);
        };
        if let Some(kept) = add(store, &d, snapshot.readiness.as_of).await? {
            return Ok(kept);
        }
    }
    Err(busy())
}

/// Adds `d` to the snapshot taken at `at`; `None` when a run replaced it
/// meanwhile (the caller computes the delta again at the new `as_of`).
async fn add(
    store: &impl ReadinessSnapshots,
    d: &Delta,
    at: jiff::Timestamp,
) -> Result<Option<Kept>, StoreError> {
    if d.is_empty() {
        return Ok(Some(Kept::Unchanged));
    }
    match store.adjust_snapshot(d, at).await {
        Ok(()) => Ok(Some(Kept::Adjusted)),
        Err(StoreError::Conflict { .. }) => Ok(None),
        Err(StoreError::NotFound(_)) => Ok(Some(Kept::NoSnapshot)),
        Err(e) => Err(e),
    }
}

fn busy() -> StoreError {
    StoreError::Conflict {
        id: "readiness snapshot".into(),
        expected: 0,
    }
}

/// The change in the workload figures when a plan's standing changes.
async fn workloads_of_plan(
    store: &(impl PlanStore + WorkloadStore),
    before: Option<&SupportPlan>,
    after: &SupportPlan,
) -> Result<Delta, StoreError> {
    let (was, now) = (before.map(Standing::of).unwrap_or_default(), Standing::of(after));
    if was == now {
        return Ok(Delta::default());
    }
    let (workloads, _) = store.all_workloads(Status::Active).await?;
    let id = &after.spec.id;
    let affected: Vec<&Workload> = workloads
        .iter()
        .filter(|w| w.spec.dependencies.contains(id))
        .collect();
    if affected.is_empty() {
        return Ok(Delta::default());
    }
    let others: BTreeSet<Slug> = affected
        .iter()
        .flat_map(|w| w.spec.dependencies.iter())
        .filter(|d| *d != id)
        .cloned()
        .collect();
    let others: Vec<Slug> = others.into_iter().collect();
    let standing: HashMap<String, Standing> = store
        .get_plans(&others)
        .await?
        .iter()
        .map(|p| (p.spec.id.to_string(), Standing::of(p)))
        .collect();
    let look = |mine: Option<Standing>, d: &str| {
        if d == id.as_str() {
            mine
        } else {
            standing.get(d).copied()
        }
    };
    let then = |d: &str| look(before.map(Standing::of), d);
    let later = |d: &str| look(Some(now), d);
    let mut d = Delta::default();
    for w in affected {
        d += workload_share(w, &later) - workload_share(w, &then);
    }
    Ok(d)
}

/// The change in `owners_unreachable` when an active plan's owner address
/// changes, or a plan is retired or made active.
async fn owners_of_plan(
    store: &(impl OwnerIndex + SubscriptionRecords),
    before: Option<&SupportPlan>,
    after: &SupportPlan,
) -> Result<Delta, StoreError> {
    let owner = |p: &SupportPlan| p.is_active().then(|| p.spec.owner.email.to_string());
    let (was, now) = (before.and_then(owner), owner(after));
    if was == now {
        return Ok(Delta::default());
    }
    let keys: Vec<(Topic, &str)> = was
        .iter()
        .chain(now.iter())
        .map(|e| (Topic::Reminder, e.as_str()))
        .collect();
    let unreachable: BTreeSet<String> = store
        .records(&keys)
        .await?
        .into_iter()
        .filter(|r| !r.reach.is_reachable())
        .map(|r| r.address)
        .collect();
    let mut d = Delta::default();
    for (address, sign) in [(&was, -1), (&now, 1)] {
        let Some(address) = address.as_ref().filter(|a| unreachable.contains(*a)) else {
            continue;
        };
        // Counted once per address: only the address's first plan adds it,
        // only its last removes it.
        let others = store.active_plans_of(address, 2).await?;
        if !others.iter().any(|o| *o != after.spec.id) {
            d.owners_unreachable += sign;
        }
    }
    Ok(d)
}
