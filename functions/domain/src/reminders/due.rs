//! Reminders (SPEC §5): the due-soon and overdue items of the active plans,
//! grouped by owner.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::Offset;
use serde::Serialize;

use super::Settings;
use crate::freshness::{self, ContractState, PlanFreshness, Policy, State};
use crate::model::{Actor, Owner, Role, SupportPlan};
use crate::types::{Email, Phone, Slug};
use crate::wire::WireName;

/// Who is reminded: a plan's owner team and address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct OwnerKey {
    pub team: Slug,
    pub email: Email,
}

impl OwnerKey {
    pub fn of(owner: &Owner) -> Self {
        Self {
            team: owner.team.clone(),
            email: owner.email.clone(),
        }
    }
}

/// What is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Contact {
        id: Slug,
        name: String,
        role: Role,
        email: Option<Email>,
        phone: Option<Phone>,
        verified_at: Option<Timestamp>,
        verified_by: Option<Actor>,
    },
    Review {
        reviewed_at: Option<Timestamp>,
    },
    Contract {
        renews_on: Date,
        contract: ContractState,
    },
}

/// One due-soon or overdue item of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueItem {
    pub plan: Slug,
    /// "Vendor, Product (Tier)".
    pub plan_title: String,
    pub subject: Subject,
    /// The plan's current life ([`SupportPlan::life`]): its links are bound to it.
    pub life: Timestamp,
    pub state: State,
    /// The day it falls (or fell) due, UTC.
    pub due_on: Date,
    pub days_left: i64,
    pub days_overdue: i64,
    /// Overdue by more than `escalate_after_days`.
    pub escalate: bool,
    pub escalate_to: Option<Email>,
    /// Identifies the item (plan, subject, due date, state) across runs.
    pub key: u64,
}

/// An owner and every item of theirs that is due soon or overdue, in plan order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerDue {
    pub owner: OwnerKey,
    pub items: Vec<DueItem>,
}

impl OwnerDue {
    pub fn overdue(&self) -> usize {
        self.items.iter().filter(|i| i.state == State::Overdue).count()
    }

    pub fn escalated(&self) -> impl Iterator<Item = &DueItem> {
        self.items.iter().filter(|i| i.escalate)
    }
}

/// Counts over everything evaluated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub plans: usize,
    pub contacts: usize,
    /// Items (contacts, reviews, contracts) due soon.
    pub due_soon: usize,
    /// Items overdue (lapsed contracts included).
    pub overdue: usize,
}

/// Evaluates every plan at `now` (SPEC §2 Freshness), in the plans' order.
pub fn evaluate_all(plans: &[SupportPlan], now: Timestamp, policy: &Policy) -> Vec<PlanFreshness> {
    plans
        .iter()
        .map(|p| freshness::evaluate(p, now, policy))
        .collect()
}

pub(super) fn day_of(t: Timestamp) -> Date {
    Offset::UTC.to_datetime(t).date()
}

/// FNV-1a, 64 bits: stable across builds and platforms (unlike `DefaultHasher`).
pub(super) fn fingerprint(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, part) in parts.iter().enumerate() {
        let sep: &[u8] = if i == 0 { b"" } else { b"|" };
        for b in sep.iter().chain(part.as_bytes()) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// Groups the due-soon and overdue items of `plans` by owner (sorted by team,
/// then e-mail). `freshness[i]` is the evaluation of `plans[i]`.
pub fn collect(
    plans: &[SupportPlan],
    freshness: &[PlanFreshness],
    settings: &Settings,
) -> (Tally, Vec<OwnerDue>) {
    debug_assert_eq!(plans.len(), freshness.len());
    let mut tally = Tally::default();
    let mut owners: BTreeMap<OwnerKey, Vec<DueItem>> = BTreeMap::new();
    let escalate_after = i64::from(settings.escalate_after_days);
    for (plan, fresh) in plans.iter().zip(freshness) {
        tally.plans += 1;
        tally.contacts += plan.spec.contacts.len();
        let mut items = Vec::new();
        let id = plan.id().as_str();
        let item = |subject: Subject, state: State, due_on: Date, left: i64, over: i64, key: u64| DueItem {
            plan: plan.spec.id.clone(),
            plan_title: plan_title(plan),
            subject,
            life: plan.life(),
            state,
            due_on,
            days_left: left,
            days_overdue: over,
            escalate: state == State::Overdue && over > escalate_after,
            escalate_to: plan.spec.owner.escalation_email.clone(),
            key,
        };
        for (c, f) in plan.spec.contacts.iter().zip(&fresh.contacts) {
            if f.due.state == State::Ok {
                continue;
            }
            let due = f.due.due_at.as_second().to_string();
            let key = fingerprint(&["c", id, c.id.as_str(), &due, f.due.state.wire_name()]);
            let subject = Subject::Contact {
                id: c.id.clone(),
                name: c.name.clone(),
                role: c.role,
                email: c.email.clone(),
                phone: c.phone.clone(),
                verified_at: c.verified_at,
                verified_by: c.verified_by.clone(),
            };
            let d = &f.due;
            items.push(item(
                subject,
                d.state,
                day_of(d.due_at),
                d.days_left,
                d.days_overdue,
                key,
            ));
        }
        let r = &fresh.review;
        if r.state != State::Ok {
            let due = r.due_at.as_second().to_string();
            let key = fingerprint(&["r", id, &due, r.state.wire_name()]);
            let subject = Subject::Review {
                reviewed_at: plan.reviewed_at,
            };
            items.push(item(
                subject,
                r.state,
                day_of(r.due_at),
                r.days_left,
                r.days_overdue,
                key,
            ));
        }
        if let Some(k) = &fresh.contract
            && k.state != State::Ok
        {
            let on = k.renews_on.to_string();
            let key = fingerprint(&["k", id, &on, k.state.wire_name()]);
            let subject = Subject::Contract {
                renews_on: k.renews_on,
                contract: k.contract,
            };
            let (left, over) = (k.days_to_renewal.max(0), (-k.days_to_renewal).max(0));
            items.push(item(subject, k.state, k.renews_on, left, over, key));
        }
        for i in &items {
            match i.state {
                State::DueSoon => tally.due_soon += 1,
                State::Overdue => tally.overdue += 1,
                State::Ok => {}
            }
        }
        if !items.is_empty() {
            owners
                .entry(OwnerKey::of(&plan.spec.owner))
                .or_default()
                .extend(items);
        }
    }
    let owners = owners
        .into_iter()
        .map(|(owner, items)| OwnerDue { owner, items })
        .collect();
    (tally, owners)
}

pub(super) fn plan_title(plan: &SupportPlan) -> String {
    let s = &plan.spec;
    if s.product.is_empty() || s.product == s.vendor {
        format!("{} ({})", s.vendor, s.tier)
    } else {
        format!("{}, {} ({})", s.vendor, s.product, s.tier)
    }
}
