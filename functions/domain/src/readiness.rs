//! The readiness figures (SPEC §6), served by `GET /readiness` and emitted as
//! metrics by the freshness check: computed from the active workloads, the
//! active plans and `now`, plus the activity counted as it happens (reminders,
//! escalations, incidents) over the last `ACTIVITY_WINDOW_DAYS` days.
//! [`Tally`] counts them plan by plan, so that the freshness check and
//! [`compute`] read the plans page by page; the result is kept as one item,
//! the [`snapshot`], which `GET /readiness` reads and each write keeps
//! current ([`keep`]). [`current`] is the reference: everything in memory.

use std::collections::BTreeSet;
use std::future::Future;

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan as _};
use serde::Serialize;

use crate::freshness::{self, PlanFreshness, Policy};
use crate::model::{Status, SupportPlan, Workload};
use crate::ports::{OwnerIndex, OwnerPages, PlanStore, StoreError, WorkloadStore};
use crate::reminders::subscriptions::{Record, SubscriptionRecords, Topic, owners_unreachable};

pub mod compliance;
pub mod keep;
pub mod snapshot;
pub mod tally;

pub use snapshot::{Delta, ReadinessSnapshots, Stored};
pub use tally::{Standing, Tally, plan_share, plan_share_at, workload_share};

/// The activity counts cover the last 30 days, today included.
pub const ACTIVITY_WINDOW_DAYS: i32 = 30;

/// What happened, counted by day as it happens.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Activity {
    pub reminders_sent: u64,
    pub escalations_sent: u64,
    pub incidents_matched: u64,
    pub incidents_unmatched: u64,
    /// Matched incidents with a matched workload that relies on no active
    /// plan (also counted in `incidents_matched`).
    pub incidents_without_plan: u64,
}

impl Activity {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    pub fn add(&mut self, other: &Activity) {
        self.reminders_sent += other.reminders_sent;
        self.escalations_sent += other.escalations_sent;
        self.incidents_matched += other.incidents_matched;
        self.incidents_unmatched += other.incidents_unmatched;
        self.incidents_without_plan += other.incidents_without_plan;
    }
}

/// The first day of the activity window ending on the day of `now` (UTC).
pub fn window_start(now: Timestamp) -> Date {
    let today = jiff::tz::Offset::UTC.to_datetime(now).date();
    today
        .checked_sub((ACTIVITY_WINDOW_DAYS - 1).days())
        .unwrap_or(today)
}

/// Activity counters, one record per day. The incident responder adds its
/// matched, unmatched and without-plan incidents here, once per incident; the freshness check its reminders
/// and escalations.
pub trait ActivityLog: Send + Sync {
    /// Adds `counts` to the day's counters (atomically).
    fn record(&self, day: Date, counts: &Activity) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The sums from `first_day` to today.
    fn since(&self, first_day: Date) -> impl Future<Output = Result<Activity, StoreError>> + Send;
}

/// SPEC §6.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Readiness {
    pub as_of: Timestamp,
    /// Active workloads.
    pub workloads: u64,
    /// Active workloads none of whose dependencies is an active plan.
    pub workloads_without_active_plan: u64,
    /// Active tier-1 workloads whose active plans have no channel open 24x7.
    pub tier1_workloads_without_24x7: u64,
    /// Active plans.
    pub plans: u64,
    /// Contacts of active plans.
    pub contacts: u64,
    /// Contacts not overdue for verification, in % of all (one decimal); null without contacts.
    pub contacts_fresh_percent: Option<f64>,
    pub contacts_overdue: u64,
    /// Owner addresses of active plans that reminders did not reach at the
    /// freshness check's last look (SPEC §14): no subscription, one still
    /// pending confirmation, or one filtering their messages out.
    pub owners_unreachable: u64,
    /// Plans whose review is overdue.
    pub plans_due_for_review: u64,
    /// Contracts renewing within the renewal window (60 days).
    pub contracts_renewing: u64,
    /// Contracts past `renews_on`.
    pub contracts_lapsed: u64,
    /// The days the activity counts below cover, today included.
    pub window_days: i32,
    #[serde(flatten)]
    pub activity: Activity,
}

/// The figures over `workloads` and `plans` (both: the active ones), each
/// plan evaluated in `freshness` (same order).
pub fn figures(
    workloads: &[Workload],
    plans: &[SupportPlan],
    freshness: &[PlanFreshness],
    activity: Activity,
    owners_unreachable: u64,
    now: Timestamp,
) -> Readiness {
    let mut tally = Tally::new(workloads.to_vec());
    tally.add(plans, freshness);
    tally.finish(activity, owners_unreachable, now)
}

/// Every active plan and workload read into memory at once and evaluated at
/// `now`: the reference computation (see [`current`]).
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub plans: Vec<SupportPlan>,
    pub workloads: Vec<Workload>,
    /// Per plan, same order.
    pub freshness: Vec<PlanFreshness>,
    /// What the last subscription upkeep found (SPEC §14).
    pub subscriptions: Vec<Record>,
    pub now: Timestamp,
}

impl Snapshot {
    pub async fn read(
        store: &(impl PlanStore + WorkloadStore + SubscriptionRecords),
        now: Timestamp,
        policy: &Policy,
    ) -> Result<Self, StoreError> {
        let (plans, _) = store.all_plans(Status::Active).await?;
        let (workloads, _) = store.all_workloads(Status::Active).await?;
        let (subscriptions, _) = store.all_records().await?;
        let freshness = plans
            .iter()
            .map(|p| freshness::evaluate(p, now, policy))
            .collect();
        Ok(Self {
            plans,
            workloads,
            freshness,
            subscriptions,
            now,
        })
    }

    /// The figures, with the activity of the window ending today.
    pub async fn figures(&self, log: &impl ActivityLog) -> Result<Readiness, StoreError> {
        let activity = log.since(window_start(self.now)).await?;
        Ok(figures(
            &self.workloads,
            &self.plans,
            &self.freshness,
            activity,
            owners_unreachable(&self.plans, &self.subscriptions),
            self.now,
        ))
    }
}

/// Every figure at `now`, the plans read page by page in owner order, so in
/// memory bounded by a page and one owner's plans (SPEC §10, §15): what
/// `GET /readiness` answers and keeps before any snapshot exists. Also the
/// number of store reads.
pub async fn compute(
    store: &(impl OwnerIndex + WorkloadStore + SubscriptionRecords + ActivityLog),
    now: Timestamp,
    policy: &Policy,
) -> Result<(Readiness, usize), StoreError> {
    let (workloads, workload_reads) = store.all_workloads(Status::Active).await?;
    let (records, record_reads) = store.all_records().await?;
    let unreachable = unreachable_owners(&records);
    let mut owners = BTreeSet::new();
    let mut tally = Tally::new(workloads);
    let mut pages = OwnerPages::default();
    while let Some(plans) = pages.next(store).await? {
        let freshness: Vec<PlanFreshness> = plans
            .iter()
            .map(|p| freshness::evaluate(p, now, policy))
            .collect();
        tally.add(&plans, &freshness);
        owners.extend(
            plans
                .iter()
                .map(|p| p.spec.owner.email.as_str())
                .filter(|e| unreachable.contains(e))
                .map(str::to_owned),
        );
    }
    let activity = store.since(window_start(now)).await?;
    let reads = workload_reads + record_reads + pages.reads + 1;
    Ok((tally.finish(activity, owners.len() as u64, now), reads))
}

/// The owner addresses the records show as unreachable.
pub fn unreachable_owners(records: &[Record]) -> BTreeSet<&str> {
    records
        .iter()
        .filter(|r| r.topic == Topic::Reminder && !r.reach.is_reachable())
        .map(|r| r.address.as_str())
        .collect()
}

/// The figures at `now` with every active plan and workload in memory at
/// once: the reference the snapshot is tested against.
pub async fn current(
    store: &(impl PlanStore + WorkloadStore + ActivityLog + SubscriptionRecords),
    now: Timestamp,
    policy: &Policy,
) -> Result<Readiness, StoreError> {
    Snapshot::read(store, now, policy).await?.figures(store).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_thirty_days_today_included() {
        let now: Timestamp = "2026-11-21T08:00:00Z".parse().unwrap();
        assert_eq!(window_start(now).to_string(), "2026-10-23");
    }
}
