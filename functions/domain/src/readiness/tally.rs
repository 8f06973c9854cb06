//! The figures counted plan by plan (SPEC §6, §15): what a computation over
//! pages of plans keeps, whatever their number: the active workloads (few),
//! the state of the plans they rely on, and counts. The same contributions
//! keep the snapshot current on each write ([`Delta`]).

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;

use super::snapshot::{Delta, fresh_percent};
use super::{ACTIVITY_WINDOW_DAYS, Activity, Readiness};
use crate::freshness::{self, ContractState, PlanFreshness, Policy, State};
use crate::model::{Criticality, SupportPlan, Workload};

/// What the workload figures ask of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Standing {
    pub active: bool,
    pub has_24x7: bool,
}

impl Standing {
    pub fn of(plan: &SupportPlan) -> Self {
        Self {
            active: plan.is_active(),
            has_24x7: plan.spec.channels.iter().any(|c| c.is_24x7()),
        }
    }
}

/// A plan's own share of the figures, evaluated as `freshness` (nothing
/// unless active).
pub fn plan_share(plan: &SupportPlan, freshness: &PlanFreshness) -> Delta {
    if !plan.is_active() {
        return Delta::default();
    }
    let count = |b: bool| i64::from(b);
    let contract = |state| count(freshness.contract.is_some_and(|c| c.contract == state));
    Delta {
        plans: 1,
        contacts: freshness.contacts.len() as i64,
        contacts_overdue: freshness
            .contacts
            .iter()
            .filter(|c| c.due.state == State::Overdue)
            .count() as i64,
        plans_due_for_review: count(freshness.review.state == State::Overdue),
        contracts_renewing: contract(ContractState::Renewing),
        contracts_lapsed: contract(ContractState::Lapsed),
        ..Delta::default()
    }
}

/// `plan`'s share evaluated at `at`.
pub fn plan_share_at(plan: &SupportPlan, at: Timestamp, policy: &Policy) -> Delta {
    plan_share(plan, &freshness::evaluate(plan, at, policy))
}

/// A workload's share of the figures, given the standing of the plans it
/// relies on (a plan not in `standing` does not exist).
pub fn workload_share(w: &Workload, standing: &dyn Fn(&str) -> Option<Standing>) -> Delta {
    if !w.is_active() {
        return Delta::default();
    }
    let active: Vec<Standing> = w
        .spec
        .dependencies
        .iter()
        .filter_map(|d| standing(d.as_str()))
        .filter(|s| s.active)
        .collect();
    Delta {
        workloads: 1,
        workloads_without_active_plan: i64::from(active.is_empty()),
        tier1_workloads_without_24x7: i64::from(
            w.spec.criticality == Criticality::Tier1 && !active.iter().any(|s| s.has_24x7),
        ),
        ..Delta::default()
    }
}

impl std::ops::AddAssign for Delta {
    fn add_assign(&mut self, o: Delta) {
        self.workloads += o.workloads;
        self.workloads_without_active_plan += o.workloads_without_active_plan;
        self.tier1_workloads_without_24x7 += o.tier1_workloads_without_24x7;
        self.plans += o.plans;
        self.contacts += o.contacts;
        self.contacts_overdue += o.contacts_overdue;
        self.owners_unreachable += o.owners_unreachable;
        self.plans_due_for_review += o.plans_due_for_review;
        self.contracts_renewing += o.contracts_renewing;
        self.contracts_lapsed += o.contracts_lapsed;
    }
}

impl std::ops::Neg for Delta {
    type Output = Delta;
    fn neg(self) -> Delta {
        Delta {
            workloads: -self.workloads,
            workloads_without_active_plan: -self.workloads_without_active_plan,
            tier1_workloads_without_24x7: -self.tier1_workloads_without_24x7,
            plans: -self.plans,
            contacts: -self.contacts,
            contacts_overdue: -self.contacts_overdue,
            owners_unreachable: -self.owners_unreachable,
            plans_due_for_review: -self.plans_due_for_review,
            contracts_renewing: -self.contracts_renewing,
            contracts_lapsed: -self.contracts_lapsed,
        }
    }
}

impl std::ops::Sub for Delta {
    type Output = Delta;
    fn sub(self, o: Delta) -> Delta {
        let mut out = self;
        std::ops::AddAssign::add_assign(&mut out, std::ops::Neg::neg(o));
        out
    }
}

/// The figures, counted page by page.
#[derive(Debug, Clone)]
pub struct Tally {
    workloads: Vec<Workload>,
    /// The plans the active workloads rely on.
    relied_on: HashSet<String>,
    /// The standing of each of those plans, as seen.
    standing: HashMap<String, Standing>,
    sum: Delta,
}

impl Tally {
    /// Over the active ones of `workloads`.
    pub fn new(workloads: Vec<Workload>) -> Self {
        let workloads: Vec<Workload> = workloads.into_iter().filter(Workload::is_active).collect();
        let relied_on = workloads
            .iter()
            .flat_map(|w| w.spec.dependencies.iter().map(|d| d.to_string()))
            .collect();
        Self {
            workloads,
            relied_on,
            standing: HashMap::new(),
            sum: Delta::default(),
        }
    }

    /// Counts `plans`, evaluated as `freshness` (same order).
    pub fn add(&mut self, plans: &[SupportPlan], freshness: &[PlanFreshness]) {
        debug_assert_eq!(plans.len(), freshness.len());
        for (p, f) in plans.iter().zip(freshness) {
            self.sum += plan_share(p, f);
            if self.relied_on.contains(p.spec.id.as_str()) {
                self.standing.insert(p.spec.id.to_string(), Standing::of(p));
            }
        }
    }

    /// The figures, with the activity of the window and the owner addresses
    /// found unreachable.
    pub fn finish(self, activity: Activity, owners_unreachable: u64, now: Timestamp) -> Readiness {
        let mut sum = self.sum;
        for w in &self.workloads {
            sum += workload_share(w, &|id| self.standing.get(id).copied());
        }
        let n = |v: i64| v.max(0) as u64;
        Readiness {
            as_of: now,
            workloads: n(sum.workloads),
            workloads_without_active_plan: n(sum.workloads_without_active_plan),
            tier1_workloads_without_24x7: n(sum.tier1_workloads_without_24x7),
            plans: n(sum.plans),
            contacts: n(sum.contacts),
            contacts_fresh_percent: fresh_percent(n(sum.contacts), n(sum.contacts_overdue)),
            contacts_overdue: n(sum.contacts_overdue),
            owners_unreachable,
            plans_due_for_review: n(sum.plans_due_for_review),
            contracts_renewing: n(sum.contracts_renewing),
            contracts_lapsed: n(sum.contracts_lapsed),
            window_days: ACTIVITY_WINDOW_DAYS,
            activity,
        }
    }
}
