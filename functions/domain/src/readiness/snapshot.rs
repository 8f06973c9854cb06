//! The readiness snapshot (SPEC §15): one item holding the figures, so that
//! `GET /readiness` reads one item whatever the number of plans.
//!
//! - Each freshness run computes every figure at its `now` and replaces the
//!   snapshot, unless a write or an activity count landed while it read
//!   (the `seq` and `activity_seq` it started from moved on).
//! - Each write adds what it changed ([`Delta`]), evaluated at the
//!   snapshot's `as_of`, so that the snapshot stays what a full
//!   recomputation at `as_of` over the current data gives.
//! - Activity (reminders, escalations, incidents) is added as it happens.

use std::future::Future;

use jiff::Timestamp;

use super::Readiness;
use crate::ports::StoreError;

/// The stored snapshot and the counters that guard its replacement.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub readiness: Readiness,
    /// Bumped by every write's [`Delta`].
    pub seq: u64,
    /// Bumped by every activity count added.
    pub activity_seq: u64,
}

/// What one write changes in the figures, signed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delta {
    pub workloads: i64,
    pub workloads_without_active_plan: i64,
    pub tier1_workloads_without_24x7: i64,
    pub plans: i64,
    pub contacts: i64,
    pub contacts_overdue: i64,
    pub owners_unreachable: i64,
    pub plans_due_for_review: i64,
    pub contracts_renewing: i64,
    pub contracts_lapsed: i64,
}

impl Delta {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The counts as (attribute name, change): the snapshot item's numbers.
    pub fn fields(&self) -> [(&'static str, i64); 10] {
        [
            ("workloads", self.workloads),
            (
                "workloads_without_active_plan",
                self.workloads_without_active_plan,
            ),
            ("tier1_workloads_without_24x7", self.tier1_workloads_without_24x7),
            ("plans", self.plans),
            ("contacts", self.contacts),
            ("contacts_overdue", self.contacts_overdue),
            ("owners_unreachable", self.owners_unreachable),
            ("plans_due_for_review", self.plans_due_for_review),
            ("contracts_renewing", self.contracts_renewing),
            ("contracts_lapsed", self.contracts_lapsed),
        ]
    }

    /// `r` with the delta added (counts never below zero), and the fresh
    /// percentage recomputed.
    pub fn apply(&self, r: &Readiness) -> Readiness {
        let add = |v: u64, d: i64| v.saturating_add_signed(d);
        let mut out = r.clone();
        out.workloads = add(r.workloads, self.workloads);
        out.workloads_without_active_plan = add(
            r.workloads_without_active_plan,
            self.workloads_without_active_plan,
        );
        out.tier1_workloads_without_24x7 =
            add(r.tier1_workloads_without_24x7, self.tier1_workloads_without_24x7);
        out.plans = add(r.plans, self.plans);
        out.contacts = add(r.contacts, self.contacts);
        out.contacts_overdue = add(r.contacts_overdue, self.contacts_overdue);
        out.owners_unreachable = add(r.owners_unreachable, self.owners_unreachable);
        out.plans_due_for_review = add(r.plans_due_for_review, self.plans_due_for_review);
        out.contracts_renewing = add(r.contracts_renewing, self.contracts_renewing);
        out.contracts_lapsed = add(r.contracts_lapsed, self.contracts_lapsed);
        out.contacts_fresh_percent = fresh_percent(out.contacts, out.contacts_overdue);
        out
    }
}

/// Contacts not overdue, in % of all (one decimal); `None` without contacts.
pub fn fresh_percent(contacts: u64, overdue: u64) -> Option<f64> {
    (contacts > 0)
        .then(|| (contacts.saturating_sub(overdue) as f64 * 1000.0 / contacts as f64).round() / 10.0)
}

/// Where the snapshot is kept (one item).
pub trait ReadinessSnapshots: Send + Sync {
    /// The snapshot, if one was ever written (one read).
    fn load_snapshot(&self) -> impl Future<Output = Result<Option<Stored>, StoreError>> + Send;
    /// Writes `readiness` as the snapshot, its counters reset, if there is
    /// none (`expected` `None`) or its `(seq, activity_seq)` are still
    /// `expected`; `Conflict` otherwise.
    fn replace_snapshot(
        &self,
        readiness: &Readiness,
        expected: Option<(u64, u64)>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Adds `delta` (and bumps `seq`) if the snapshot's `as_of` is still
    /// `as_of`: `Conflict` if a run replaced it meanwhile, `NotFound` if
    /// there is none.
    fn adjust_snapshot(
        &self,
        delta: &Delta,
        as_of: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
