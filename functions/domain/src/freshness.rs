//! Freshness (SPEC §2): is each contact verified recently enough, is the plan
//! reviewed, is the contract current. Pure functions of a plan and `now`.

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, tz::TimeZone};
use serde::Serialize;

use crate::model::{Role, SupportPlan};
use crate::types::Slug;
use crate::wire::wire_enum;

const DAY_SECS: i64 = 86_400;

/// The thresholds of the freshness rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// An item is `due-soon` this many days before it is due (`REMIND_BEFORE_DAYS`).
    pub remind_before_days: u32,
    /// A contract is renewing this many days before `renews_on`.
    pub renewal_window_days: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            remind_before_days: 14,
            renewal_window_days: 60,
        }
    }
}

wire_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub enum State {
        Ok = "ok",
        DueSoon = "due-soon",
        Overdue = "overdue",
    }
}

/// When something falls due, and where `now` stands against it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Due {
    pub state: State,
    pub due_at: Timestamp,
    /// Whole days until due (0 once due).
    pub days_left: i64,
    /// Whole days past due (0 before and on the day it falls due).
    pub days_overdue: i64,
}

impl Due {
    /// Due `every_days` after `since`; due-soon within `remind_before_days`.
    /// At `due_at` itself the item is overdue, by 0 days.
    fn after(since: Timestamp, every_days: u32, remind_before_days: u32, now: Timestamp) -> Self {
        let due_at = since
            .checked_add(SignedDuration::from_secs(i64::from(every_days) * DAY_SECS))
            .unwrap_or(Timestamp::MAX);
        let secs = due_at.as_second() - now.as_second();
        let state = if secs <= 0 {
            State::Overdue
        } else if secs <= i64::from(remind_before_days) * DAY_SECS {
            State::DueSoon
        } else {
            State::Ok
        };
        Self {
            state,
            due_at,
            // Rounded up: due in 36 hours is "2 days left".
            days_left: if secs > 0 {
                (secs + DAY_SECS - 1) / DAY_SECS
            } else {
                0
            },
            days_overdue: if secs < 0 { -secs / DAY_SECS } else { 0 },
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactFreshness {
    pub contact: Slug,
    pub name: String,
    pub role: Role,
    pub verified_at: Option<Timestamp>,
    pub never_verified: bool,
    #[serde(flatten)]
    pub due: Due,
}

wire_enum! {
    /// `renewing` (within the window) or `lapsed` (past `renews_on`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ContractState {
        Current = "current",
        Renewing = "renewing",
        Lapsed = "lapsed",
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ContractFreshness {
    pub renews_on: Date,
    pub contract: ContractState,
    pub state: State,
    /// Days until `renews_on` (negative once lapsed).
    pub days_to_renewal: i64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanFreshness {
    pub contacts: Vec<ContactFreshness>,
    pub review: Due,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract: Option<ContractFreshness>,
}

impl PlanFreshness {
    /// The worst state of any item of the plan.
    pub fn state(&self) -> State {
        self.contacts
            .iter()
            .map(|c| c.due.state)
            .chain([self.review.state])
            .chain(self.contract.map(|c| c.state))
            .max()
            .unwrap_or(State::Ok)
    }

    pub fn is_stale(&self) -> bool {
        self.state() != State::Ok
    }
}

/// Evaluates every freshness item of `plan` at `now`.
pub fn evaluate(plan: &SupportPlan, now: Timestamp, policy: &Policy) -> PlanFreshness {
    let created = plan.meta.created_at;
    let contacts = plan
        .spec
        .contacts
        .iter()
        .map(|c| {
            let every = c.verify_every_days.unwrap_or(plan.spec.verify_every_days);
            ContactFreshness {
                contact: c.id.clone(),
                name: c.name.clone(),
                role: c.role,
                verified_at: c.verified_at,
                never_verified: c.verified_at.is_none(),
                // Never verified: due since the plan was created.
                due: match c.verified_at {
                    Some(at) => Due::after(at, u32::from(every), policy.remind_before_days, now),
                    None => Due::after(created, 0, policy.remind_before_days, now),
                },
            }
        })
        .collect();
    let review = Due::after(
        plan.reviewed_at.unwrap_or(created),
        u32::from(plan.spec.review_every_days),
        policy.remind_before_days,
        now,
    );
    let contract = plan
        .spec
        .renews_on
        .map(|renews_on| contract(renews_on, now, policy));
    PlanFreshness {
        contacts,
        review,
        contract,
    }
}

fn contract(renews_on: Date, now: Timestamp, policy: &Policy) -> ContractFreshness {
    let today = now.to_zoned(TimeZone::UTC).date();
    let days_to_renewal = i64::from((renews_on - today).get_days());
    // Span between dates is in days when both are civil dates.
    let (contract, state) = if days_to_renewal < 0 {
        (ContractState::Lapsed, State::Overdue)
    } else if days_to_renewal <= i64::from(policy.renewal_window_days) {
        (ContractState::Renewing, State::DueSoon)
    } else {
        (ContractState::Current, State::Ok)
    };
    ContractFreshness {
        renews_on,
        contract,
        state,
        days_to_renewal,
    }
}
