//! Reminders (SPEC §5): what was last sent to an owner, and whether to send again.

use std::collections::HashSet;

use jiff::Timestamp;

use super::due::day_of;
use super::{DueItem, MAX_KEYS, OwnerDue, Settings};

/// What was last sent to an owner. Stored one item per owner; `version` makes
/// each write conditional on the state read (0: never stored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnerState {
    pub version: u64,
    pub reminded_at: Option<Timestamp>,
    /// Keys of the items of the last reminder, sorted.
    pub reminded: Vec<u64>,
    pub escalated_at: Option<Timestamp>,
    /// Keys of the items of the last escalation, sorted.
    pub escalated: Vec<u64>,
}

/// What to send an owner now, and the state to record when it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub remind: bool,
    pub escalate: bool,
    /// Keys of items not in the last reminder (none in a first reminder).
    pub new: HashSet<u64>,
    pub next: OwnerState,
}

pub(super) fn keys<'a>(items: impl Iterator<Item = &'a DueItem>) -> Vec<u64> {
    let mut k: Vec<u64> = items.map(|i| i.key).collect();
    k.sort_unstable();
    k.dedup();
    k.truncate(MAX_KEYS);
    k
}

/// Is it time to send again? Yes when never sent, when `every_days` calendar
/// days have passed, or when an item is not among those sent last time.
pub(super) fn due_again(
    last: Option<Timestamp>,
    sent: &[u64],
    current: &[u64],
    now: Timestamp,
    every_days: u32,
) -> bool {
    let Some(last) = last else { return true };
    let days = (day_of(now) - day_of(last)).get_days();
    // A full state cannot tell new from old: the cadence alone decides.
    let any_new = sent.len() < MAX_KEYS && current.iter().any(|k| sent.binary_search(k).is_err());
    i64::from(days) >= i64::from(every_days) || any_new
}

/// Decides whether `due` gets a reminder and an escalation now, given what
/// was sent before.
pub fn decide(due: &OwnerDue, prev: &OwnerState, now: Timestamp, settings: &Settings) -> Decision {
    let current = keys(due.items.iter());
    let escalated = keys(due.escalated());
    let every = settings.remind_every_days;
    let remind = !current.is_empty() && due_again(prev.reminded_at, &prev.reminded, &current, now, every);
    let escalate =
        !escalated.is_empty() && due_again(prev.escalated_at, &prev.escalated, &escalated, now, every);
    // Nothing is "new" in a first reminder, nor when the state is full.
    let new = if prev.reminded_at.is_some() && prev.reminded.len() < MAX_KEYS {
        current
            .iter()
            .filter(|k| prev.reminded.binary_search(k).is_err())
            .copied()
            .collect()
    } else {
        HashSet::new()
    };
    let mut next = prev.clone();
    if remind {
        next.reminded_at = Some(now);
        next.reminded = current;
    }
    if escalate {
        next.escalated_at = Some(now);
        next.escalated = escalated;
    }
    if remind || escalate {
        next.version = prev.version + 1;
    }
    Decision {
        remind,
        escalate,
        new,
        next,
    }
}
