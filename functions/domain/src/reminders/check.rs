//! Reminders (SPEC §5): the freshness check over its two ports, the
//! per-owner reminder state and the notifier.

use std::collections::HashMap;
use std::future::Future;

use jiff::Timestamp;
use serde::Serialize;

use super::subscriptions::Report;
use super::{
    Message, OwnerDue, OwnerKey, OwnerState, Reminded, Settings, collect, decide, escalation_groups,
    escalation_messages, reminder_messages,
};
use crate::freshness::PlanFreshness;
use crate::model::SupportPlan;
use crate::ports::StoreError;
use crate::token::Links;

/// The per-owner reminder state (one item per owner).
pub trait ReminderStates: Send + Sync {
    /// The states of `owners` that exist, and the number of reads it took.
    fn load(
        &self,
        owners: &[OwnerKey],
    ) -> impl Future<Output = Result<(HashMap<OwnerKey, OwnerState>, usize), StoreError>> + Send;
    /// Writes `state` (its `version` the new one) only if the stored version is
    /// still `expected` (0: none stored); `Conflict` otherwise.
    fn save(
        &self,
        owner: &OwnerKey,
        state: &OwnerState,
        expected: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

#[derive(Debug, thiserror::Error)]
#[error("publishing failed: {0}")]
pub struct NotifyError(pub String);

/// Where messages go (SNS).
pub trait Notifier: Send + Sync {
    fn publish(&self, topic: &str, message: &Message)
    -> impl Future<Output = Result<(), NotifyError>> + Send;
}

/// What a run did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub plans: usize,
    pub contacts: usize,
    pub due_soon: usize,
    pub overdue: usize,
    /// Owners with at least one item due soon or overdue.
    pub owners_due: usize,
    /// Owners reminded.
    pub reminders: usize,
    /// SNS messages those reminders took (more than one when an owner's is over 256 KiB).
    pub reminder_messages: usize,
    /// Escalations: one per owner and escalation address.
    pub escalations: usize,
    pub escalation_messages: usize,
    /// Owners with items, reminded recently, and nothing new.
    pub not_due_again: usize,
    /// Owners another run, at the same moment, was already reminding.
    pub claimed_elsewhere: usize,
    pub errors: usize,
    /// Table requests: the plans read once, page by page, and the reminder states.
    pub table_reads: usize,
    /// The topics' subscriptions kept in step (SPEC §14): created, removed,
    /// who is unreachable, the SNS calls it took.
    pub subscriptions: Report,
    /// What became of the readiness snapshot (SPEC §15).
    pub snapshot: SnapshotOutcome,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
}

/// What a run did with the readiness snapshot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotOutcome {
    /// A dry run writes nothing.
    #[default]
    NotWritten,
    /// Replaced with this run's figures.
    Replaced,
    /// Plans or workloads were written while the run read: the snapshot
    /// those writes kept current stays (its `as_of` the previous run's).
    Kept,
    /// The write failed (in `failures`); the next run tries again.
    Failed,
}

impl Summary {
    /// Adds a batch's counts (the check runs batch by batch).
    pub fn absorb(&mut self, b: Summary) {
        self.plans += b.plans;
        self.contacts += b.contacts;
        self.due_soon += b.due_soon;
        self.overdue += b.overdue;
        self.owners_due += b.owners_due;
        self.reminders += b.reminders;
        self.reminder_messages += b.reminder_messages;
        self.escalations += b.escalations;
        self.escalation_messages += b.escalation_messages;
        self.not_due_again += b.not_due_again;
        self.claimed_elsewhere += b.claimed_elsewhere;
        self.errors += b.errors;
        self.table_reads += b.table_reads;
        self.failures.extend(b.failures);
    }
}

/// The freshness check over its ports.
#[derive(Debug)]
pub struct Check<'a, S, N> {
    pub states: &'a S,
    pub notifier: &'a N,
    pub links: &'a Links,
    pub settings: Settings,
    pub reminder_topic: &'a str,
    pub escalation_topic: &'a str,
    /// What subscription upkeep found this run (SPEC §14): an unreachable
    /// owner's escalation says so; an owner who became reachable (followed
    /// SNS's confirmation since the last look) is reminded now, whatever
    /// the cadence, as the reminders before went nowhere.
    pub reach: &'a Report,
}

impl<S: ReminderStates, N: Notifier> Check<'_, S, N> {
    /// Reminds and escalates for `plans` (active ones, evaluated as `freshness`).
    /// A dry run decides the same and sends and records nothing. A failure for
    /// one owner is counted and the run goes on; the state of what was not
    /// sent is put back, so the next run sends it.
    pub async fn run(
        &self,
        plans: &[SupportPlan],
        freshness: &[PlanFreshness],
        now: Timestamp,
        dry_run: bool,
    ) -> Result<Summary, StoreError> {
        let (tally, owners) = collect(plans, freshness, &self.settings);
        let keys: Vec<OwnerKey> = owners.iter().map(|o| o.owner.clone()).collect();
        let (states, reads) = if keys.is_empty() {
            (HashMap::new(), 0)
        } else {
            self.states.load(&keys).await?
        };
        let mut s = Summary {
            plans: tally.plans,
            contacts: tally.contacts,
            due_soon: tally.due_soon,
            overdue: tally.overdue,
            owners_due: owners.len(),
            table_reads: reads,
            ..Summary::default()
        };
        let none = OwnerState::default();
        for due in &owners {
            let prev = states.get(&due.owner).unwrap_or(&none);
            let d = if self.reach.owners_now_reachable.contains(due.owner.email.as_str()) {
                let unreminded = OwnerState {
                    reminded_at: None,
                    reminded: Vec::new(),
                    ..prev.clone()
                };
                decide(due, &unreminded, now, &self.settings)
            } else {
                decide(due, prev, now, &self.settings)
            };
            if !d.remind && !d.escalate {
                s.not_due_again += 1;
                continue;
            }
            let reminders = if d.remind {
                reminder_messages(due, &d.new, self.links, now, &self.settings)
            } else {
                Vec::new()
            };
            // Rendered once this run's reminder is sent (or not): it says so.
            let escalations = |sent_today: bool| {
                if d.escalate {
                    let reminded = Reminded {
                        before: prev.reminded_at,
                        today: d.remind.then_some(sent_today),
                        unreachable: self.reach.owner_unreachable(due.owner.email.as_str()),
                    };
                    escalation_messages(due, reminded, self.links, now, &self.settings)
                } else {
                    Vec::new()
                }
            };
            let (reminded, escalated, escalations) = if dry_run {
                (true, true, escalations(true))
            } else {
                match self.states.save(&due.owner, &d.next, prev.version).await {
                    Ok(()) => {}
                    Err(StoreError::Conflict { .. }) => {
                        s.claimed_elsewhere += 1;
                        continue;
                    }
                    Err(e) => {
                        s.errors += 1;
                        s.failures
                            .push(format!("{}: recording the reminder: {e}", due.owner.email));
                        continue;
                    }
                }
                let reminded = self.send(self.reminder_topic, &reminders, due, &mut s).await;
                let escalations = escalations(reminded);
                let escalated = self.send(self.escalation_topic, &escalations, due, &mut s).await;
                if !reminded || !escalated {
                    self.put_back(due, prev, &d.next, reminded, escalated, &mut s)
                        .await;
                }
                (reminded, escalated, escalations)
            };
            if d.remind && reminded {
                s.reminders += 1;
                s.reminder_messages += reminders.len();
            }
            if d.escalate && escalated {
                s.escalations += escalation_groups(due);
                s.escalation_messages += escalations.len();
            }
        }
        Ok(s)
    }

    /// Puts back the state of what was not sent, so that the next run sends it.
    async fn put_back(
        &self,
        due: &OwnerDue,
        prev: &OwnerState,
        claimed: &OwnerState,
        reminded: bool,
        escalated: bool,
        s: &mut Summary,
    ) {
        let mut back = claimed.clone();
        if !reminded {
            back.reminded_at = prev.reminded_at;
            back.reminded.clone_from(&prev.reminded);
        }
        if !escalated {
            back.escalated_at = prev.escalated_at;
            back.escalated.clone_from(&prev.escalated);
        }
        back.version = claimed.version + 1;
        if let Err(e) = self.states.save(&due.owner, &back, claimed.version).await {
            s.failures.push(format!(
                "{}: putting the reminder state back: {e}",
                due.owner.email
            ));
        }
    }

    /// Publishes every message, in order; false (and counted) at the first failure.
    async fn send(&self, topic: &str, messages: &[Message], due: &OwnerDue, s: &mut Summary) -> bool {
        for m in messages {
            if let Err(e) = self.notifier.publish(topic, m).await {
                s.errors += 1;
                s.failures.push(format!("{}: {e}", due.owner.email));
                return false;
            }
        }
        true
    }
}
