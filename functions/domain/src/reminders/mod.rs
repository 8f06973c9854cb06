//! The freshness check's reminders and escalations (SPEC §5), as pure
//! functions of the active plans, `now` and what was sent before, plus the
//! small service that ties them to two ports: the per-owner reminder state
//! and the notifier.
//!
//! - Every due-soon or overdue item (a contact to verify, a plan review, a
//!   contract renewing or lapsed) is grouped by owner (team + email).
//! - An owner is reminded at most once every `remind_every_days` (calendar
//!   days, UTC, so a schedule that fires a few seconds early still counts a
//!   week as a week), unless an item is new since the last reminder. An item
//!   is identified by its plan, subject, due date and state, so an item that
//!   turns from due-soon to overdue is new: it *became due*.
//! - Items overdue by more than `escalate_after_days` go, once per the same
//!   cadence, to the owner's `escalation_email`.
//! - A message never exceeds SNS's 256 KiB (body, subject and attributes):
//!   a longer one is split into complete parts, each with its own items.

mod check;
mod due;
mod escalation;
mod item;
mod message;
mod reminder;
mod state;
pub mod subscriptions;

pub use check::{Check, Notifier, NotifyError, ReminderStates, SnapshotOutcome, Summary};
pub use due::{DueItem, OwnerDue, OwnerKey, Subject, Tally, collect, evaluate_all};
pub use escalation::{Reminded, escalation_groups, escalation_messages};
pub use message::{AttrValue, Message, MessageKind};
pub use reminder::reminder_messages;
pub use state::{Decision, OwnerState, decide};

use crate::freshness::Policy;

/// SNS's limit for one message, attributes included.
pub const SNS_MAX_BYTES: usize = 262_144;
/// SNS's limit for a subject.
pub const SUBJECT_MAX_CHARS: usize = 100;
/// The most item keys kept per owner and kind (8 bytes each, well inside a
/// 400 KB DynamoDB item). An owner past it is reminded on the cadence only.
pub const MAX_KEYS: usize = 20_000;

/// The freshness check's settings (from its environment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub policy: Policy,
    /// `REMIND_EVERY_DAYS`, default 7.
    pub remind_every_days: u32,
    /// `ESCALATE_AFTER_DAYS`, default 30.
    pub escalate_after_days: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            policy: Policy::default(),
            remind_every_days: 7,
            escalate_after_days: 30,
        }
    }
}
