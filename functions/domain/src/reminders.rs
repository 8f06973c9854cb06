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

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::future::Future;

use jiff::civil::Date;
use jiff::tz::Offset;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::freshness::{self, ContractState, PlanFreshness, Policy, State};
use crate::model::{Actor, Owner, Role, SupportPlan};
use crate::ports::StoreError;
use crate::token::{LinkFor, Links, TOKEN_TTL_DAYS};
use crate::types::{Email, Phone, Slug};

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

fn day_of(t: Timestamp) -> Date {
    Offset::UTC.to_datetime(t).date()
}

/// FNV-1a, 64 bits: stable across builds and platforms (unlike `DefaultHasher`).
fn fingerprint(parts: &[&str]) -> u64 {
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

fn state_name(s: State) -> &'static str {
    match s {
        State::Ok => "ok",
        State::DueSoon => "due-soon",
        State::Overdue => "overdue",
    }
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
            let key = fingerprint(&["c", id, c.id.as_str(), &due, state_name(f.due.state)]);
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
            let key = fingerprint(&["r", id, &due, state_name(r.state)]);
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
            let key = fingerprint(&["k", id, &on, state_name(k.state)]);
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

fn plan_title(plan: &SupportPlan) -> String {
    let s = &plan.spec;
    if s.product.is_empty() || s.product == s.vendor {
        format!("{} ({})", s.vendor, s.tier)
    } else {
        format!("{}, {} ({})", s.vendor, s.product, s.tier)
    }
}

// ---------------------------------------------------------------- state

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

fn keys<'a>(items: impl Iterator<Item = &'a DueItem>) -> Vec<u64> {
    let mut k: Vec<u64> = items.map(|i| i.key).collect();
    k.sort_unstable();
    k.dedup();
    k.truncate(MAX_KEYS);
    k
}

/// Is it time to send again? Yes when never sent, when `every_days` calendar
/// days have passed, or when an item is not among those sent last time.
fn due_again(
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

// ---------------------------------------------------------------- messages

/// An SNS message attribute value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    String(String),
    /// Sent as `String.Array`: a JSON array, which subscription filter policies match per element.
    StringArray(Vec<String>),
}

impl AttrValue {
    pub fn data_type(&self) -> &'static str {
        match self {
            AttrValue::String(_) => "String",
            AttrValue::StringArray(_) => "String.Array",
        }
    }

    /// The value as SNS carries it.
    pub fn value(&self) -> String {
        match self {
            AttrValue::String(s) => s.clone(),
            AttrValue::StringArray(v) => serde_json::to_string(v).expect("strings serialize"),
        }
    }
}

/// One SNS message: a subject, a plain-text body and attributes to filter on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub body: String,
    pub attributes: Vec<(&'static str, AttrValue)>,
}

impl Message {
    /// The size SNS counts against its limit: the body, and each attribute's
    /// name, type and value; the subject is counted too, to be safe.
    pub fn size(&self) -> usize {
        self.body.len()
            + self.subject.len()
            + self
                .attributes
                .iter()
                .map(|(name, v)| name.len() + v.data_type().len() + v.value().len())
                .sum::<usize>()
    }

    pub fn attribute(&self, name: &str) -> Option<&AttrValue> {
        self.attributes.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

/// Cuts to `max` characters; SNS subjects are ASCII, one line.
fn subject_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_graphic() { c } else { ' ' })
        .take(SUBJECT_MAX_CHARS)
        .collect::<String>()
        .trim_end()
        .to_owned()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Owner => "owner",
        Role::VendorTam => "vendor-tam",
        Role::VendorAccountManager => "vendor-account-manager",
        Role::VendorSupport => "vendor-support",
        Role::InternalPoc => "internal-poc",
        Role::EscalationManager => "escalation-manager",
    }
}

fn when(i: &DueItem) -> String {
    match i.state {
        State::Overdue if i.days_overdue == 0 => "due today".to_owned(),
        State::Overdue => format!("{} overdue", plural(i.days_overdue as usize, "day", "days")),
        _ => format!("in {}", plural(i.days_left as usize, "day", "days")),
    }
}

fn label(i: &DueItem, new: bool) -> String {
    let state = match i.state {
        State::Overdue => "OVERDUE",
        _ => "DUE SOON",
    };
    if new {
        format!("[{state}, NEW]")
    } else {
        format!("[{state}]")
    }
}

/// The text of one item. `link` is the contact's one-click link, when there is one.
fn item_text(i: &DueItem, new: bool, link: Option<&str>, base: &str) -> String {
    let mut t = String::new();
    let plan = &i.plan;
    match &i.subject {
        Subject::Contact {
            name,
            role,
            email,
            phone,
            verified_at,
            verified_by,
            ..
        } => {
            let _ = writeln!(t, "{} Contact {name}, {}", label(i, new), role_name(*role));
            let reach: Vec<&str> = [
                email.as_ref().map(Email::as_str),
                phone.as_ref().map(Phone::as_str),
            ]
            .into_iter()
            .flatten()
            .collect();
            let _ = writeln!(t, "    {}", reach.join(", "));
            match verified_at {
                Some(at) => {
                    let by = verified_by
                        .as_ref()
                        .map(|b| format!(" by {}", b.as_str()))
                        .unwrap_or_default();
                    let _ = writeln!(
                        t,
                        "    Last verified {}{by}; due {} ({}).",
                        day_of(*at),
                        i.due_on,
                        when(i)
                    );
                }
                None => {
                    let _ = writeln!(
                        t,
                        "    Never verified; due since the plan was created on {} ({}).",
                        i.due_on,
                        when(i)
                    );
                }
            }
            if let Some(link) = link {
                let _ = writeln!(t, "    Still right? Confirm in one click: {link}");
            }
            let _ = writeln!(t, "    Changed? Update the plan: PUT {base}/plans/{plan}");
        }
        Subject::Review { reviewed_at } => {
            let _ = writeln!(t, "{} Plan review", label(i, new));
            let last = match reviewed_at {
                Some(at) => format!("Last reviewed {}", day_of(*at)),
                None => "Never reviewed".to_owned(),
            };
            let _ = writeln!(t, "    {last}; due {} ({}).", i.due_on, when(i));
            let _ = writeln!(
                t,
                "    Review the plan with the vendor, then record it: POST {base}/plans/{plan}/review"
            );
        }
        Subject::Contract { renews_on, contract } => {
            match contract {
                ContractState::Lapsed => {
                    let _ = writeln!(
                        t,
                        "{} Contract lapsed on {renews_on} ({} ago)",
                        label(i, new),
                        plural(i.days_overdue as usize, "day", "days")
                    );
                }
                _ => {
                    let _ = writeln!(
                        t,
                        "{} Contract renews on {renews_on} (in {})",
                        label(i, new),
                        plural(i.days_left as usize, "day", "days")
                    );
                }
            }
            let _ = writeln!(
                t,
                "    Renew it with the vendor (or retire the plan), then update renews_on: PUT {base}/plans/{plan}"
            );
        }
    }
    t.push('\n');
    t
}

/// One item's text and the plan it belongs to, ready to be packed into messages.
struct Entry<'a> {
    plan: &'a Slug,
    plan_title: &'a str,
    text: String,
}

fn plan_header(plan: &Slug, title: &str, continued: bool) -> String {
    let more = if continued { " (continued)" } else { "" };
    format!("== {plan}: {title}{more} ==\n\n")
}

/// Which part of an owner's message this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Part {
    n: usize,
    of: usize,
}

/// Packs entries into as few messages as fit SNS's limit, each complete:
/// `make(part, items_text, plan_ids)` wraps the items in a whole message.
fn pack(entries: &[Entry<'_>], make: &dyn Fn(Part, &str, Vec<String>) -> Message) -> Vec<Message> {
    let render = |chunk: &[Entry<'_>], continued_from: Option<&Slug>| {
        let mut body = String::new();
        let mut plans: Vec<String> = Vec::new();
        let mut last: Option<&Slug> = None;
        for e in chunk {
            if last != Some(e.plan) {
                let continued = last.is_none() && continued_from == Some(e.plan);
                body.push_str(&plan_header(e.plan, e.plan_title, continued));
                plans.push(e.plan.to_string());
                last = Some(e.plan);
            }
            body.push_str(&e.text);
        }
        (body, plans)
    };
    let (body, plans) = render(entries, None);
    let whole = make(Part { n: 1, of: 1 }, &body, plans);
    if whole.size() <= SNS_MAX_BYTES {
        return vec![whole];
    }
    // Too long: greedy parts. The fixed part of a message is measured with
    // the widest part numbers; each entry costs its text, and its plan's
    // header and id when the plan starts (or continues) in this part.
    let overhead = make(Part { n: 9999, of: 9999 }, "", Vec::new()).size();
    let budget = SNS_MAX_BYTES.saturating_sub(overhead + 256);
    let mut chunks: Vec<&[Entry<'_>]> = Vec::new();
    let (mut start, mut used) = (0, 0);
    for (i, e) in entries.iter().enumerate() {
        let new_plan = i == start || entries[i - 1].plan != e.plan;
        let cost = e.text.len()
            + if new_plan {
                plan_header(e.plan, e.plan_title, true).len() + e.plan.as_str().len() + 3
            } else {
                0
            };
        if i > start && used + cost > budget {
            chunks.push(&entries[start..i]);
            start = i;
            used = plan_header(e.plan, e.plan_title, true).len() + e.plan.as_str().len() + 3 + e.text.len();
        } else {
            used += cost;
        }
    }
    chunks.push(&entries[start..]);
    let of = chunks.len();
    let mut prev_last: Option<&Slug> = None;
    chunks
        .into_iter()
        .enumerate()
        .map(|(n, chunk)| {
            let (body, plans) = render(chunk, prev_last);
            prev_last = chunk.last().map(|e| e.plan);
            let m = make(Part { n: n + 1, of }, &body, plans);
            debug_assert!(m.size() <= SNS_MAX_BYTES, "part of {} bytes", m.size());
            m
        })
        .collect()
}

fn part_tag(part: Part) -> String {
    if part.of > 1 {
        format!(" {}/{}", part.n, part.of)
    } else {
        String::new()
    }
}

fn counts(items: &[DueItem]) -> (usize, usize) {
    let overdue = items.iter().filter(|i| i.state == State::Overdue).count();
    (overdue, items.len() - overdue)
}

/// The reminder to `due.owner`: every item, with a one-click link per
/// contact. `new` marks items that were not in the last reminder.
pub fn reminder_messages(
    due: &OwnerDue,
    new: &HashSet<u64>,
    links: &Links,
    now: Timestamp,
    settings: &Settings,
) -> Vec<Message> {
    let base = links.base();
    let entries: Vec<Entry<'_>> = due
        .items
        .iter()
        .map(|i| {
            let link = match &i.subject {
                Subject::Contact {
                    id,
                    name,
                    email,
                    phone,
                    ..
                } => {
                    let bound = LinkFor {
                        plan: &i.plan,
                        life: i.life,
                        owner_team: &due.owner.team,
                        owner_email: &due.owner.email,
                        contact: id,
                        name,
                        email: email.as_ref(),
                        phone: phone.as_ref(),
                    };
                    Some(links.verify_link(&bound, now))
                }
                _ => None,
            };
            Entry {
                plan: &i.plan,
                plan_title: &i.plan_title,
                text: item_text(i, new.contains(&i.key), link.as_deref(), base),
            }
        })
        .collect();
    let (overdue, soon) = counts(&due.items);
    let owner = &due.owner;
    let today = day_of(now);
    let expires = day_of(now + SignedDuration::from_hours(24 * TOKEN_TTL_DAYS));
    let escalate_to: Vec<String> = {
        let mut v: Vec<String> = due
            .items
            .iter()
            .filter_map(|i| i.escalate_to.as_ref().map(ToString::to_string))
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let escalation_line = if escalate_to.is_empty() {
        "the escalation topic".to_owned()
    } else {
        escalate_to.join(", ")
    };
    let make = |part: Part, items: &str, plan_ids: Vec<String>| {
        let mut body = String::new();
        let _ = writeln!(body, "Hello {} team ({}),\n", owner.team, owner.email);
        let _ = writeln!(
            body,
            "{} in the vendor support plans you own {} attention: {overdue} overdue, {soon} due soon.",
            plural(due.items.len(), "item", "items"),
            if due.items.len() == 1 { "needs" } else { "need" },
        );
        if part.of > 1 {
            let _ = writeln!(
                body,
                "This is part {} of {} of today's reminder; each part lists different items.",
                part.n, part.of
            );
        }
        if !new.is_empty() {
            body.push_str("Items marked NEW are new since your last reminder.\n");
        }
        body.push('\n');
        body.push_str(items);
        let _ = writeln!(
            body,
            "The one-click links work until {expires} and need no sign-in: each records the contact as \
             verified by {}. Open one only once you have checked that the contact is still right.",
            owner.email
        );
        let _ = writeln!(
            body,
            "You get this at most every {} while items are due, and at once when a new one falls due. \
             Items overdue by more than {} are escalated to {escalation_line}.",
            plural(settings.remind_every_days as usize, "day", "days"),
            plural(settings.escalate_after_days as usize, "day", "days"),
        );
        let _ = writeln!(body, "\n-- support-plans freshness check, {today}");
        Message {
            subject: subject_line(&format!(
                "[support-plans{}] {}: {overdue} overdue, {soon} due soon",
                part_tag(part),
                owner.team
            )),
            body,
            attributes: vec![
                ("owner_team", AttrValue::String(owner.team.to_string())),
                ("owner_email", AttrValue::String(owner.email.to_string())),
                ("kind", AttrValue::String("reminder".into())),
                ("plan_ids", AttrValue::StringArray(plan_ids)),
            ],
        }
    };
    pack(&entries, &make)
}

/// How many escalations `due` makes: one per escalation address.
pub fn escalation_groups(due: &OwnerDue) -> usize {
    due.escalated()
        .map(|i| i.escalate_to.as_ref())
        .collect::<HashSet<_>>()
        .len()
}

/// What an escalation can truly say of the owner's reminders: the per-owner
/// reminder state knows the last reminder before this run, and the run knows
/// whether it reminded the owner now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reminded {
    /// The last reminder before this run.
    pub before: Option<Timestamp>,
    /// This run's reminder: sent (`Some(true)`), failed (`Some(false)`), or
    /// not due again (`None`).
    pub today: Option<bool>,
}

impl Reminded {
    /// One sentence, true in every case.
    pub fn sentence(&self) -> String {
        match (self.before.map(day_of), self.today) {
            (None, Some(true)) => {
                "The owner is reminded today for the first time; support-plans had not reminded them before."
                    .to_owned()
            }
            (None, Some(false)) => {
                "The owner could not be reminded today (the reminder failed) and had not been reminded before."
                    .to_owned()
            }
            (None, None) => "The owner has not been reminded yet.".to_owned(),
            (Some(day), Some(true)) => {
                format!("The owner was reminded on {day} and again today; these items are still overdue.")
            }
            (Some(day), Some(false)) => format!(
                "The owner was last reminded on {day} and these items are still overdue; today's reminder could not be sent."
            ),
            (Some(day), None) => {
                format!("The owner was last reminded on {day} and these items are still overdue.")
            }
        }
    }
}

/// The escalations of `due.owner`: one per escalation address (items of plans
/// without one go out unaddressed, to whoever watches the topic). They say
/// what `reminded` says of the owner's reminders, nothing more.
pub fn escalation_messages(
    due: &OwnerDue,
    reminded: Reminded,
    links: &Links,
    now: Timestamp,
    settings: &Settings,
) -> Vec<Message> {
    let mut by_address: BTreeMap<Option<&Email>, Vec<&DueItem>> = BTreeMap::new();
    for i in due.escalated() {
        by_address.entry(i.escalate_to.as_ref()).or_default().push(i);
    }
    let owner = &due.owner;
    let today = day_of(now);
    let base = links.base();
    let mut out = Vec::new();
    for (to, items) in by_address {
        let entries: Vec<Entry<'_>> = items
            .iter()
            .map(|i| Entry {
                plan: &i.plan,
                plan_title: &i.plan_title,
                text: item_text(i, false, None, base),
            })
            .collect();
        let n = items.len();
        let make = |part: Part, text: &str, plan_ids: Vec<String>| {
            let mut body = String::new();
            match to {
                Some(to) => {
                    let _ = writeln!(
                        body,
                        "Hello,\n\nYou are the escalation contact ({to}) for the vendor support plans of team {} (owner {}).",
                        owner.team, owner.email
                    );
                }
                None => {
                    let _ = writeln!(
                        body,
                        "Hello,\n\nThe vendor support plans of team {} (owner {}) name no escalation contact \
                         (owner.escalation_email), so this goes to whoever watches the escalation topic.",
                        owner.team, owner.email
                    );
                }
            }
            let _ = writeln!(
                body,
                "{} overdue by more than {}. {}",
                plural(n, "item is", "items are"),
                plural(settings.escalate_after_days as usize, "day", "days"),
                reminded.sentence(),
            );
            if part.of > 1 {
                let _ = writeln!(body, "This is part {} of {}.", part.n, part.of);
            }
            body.push('\n');
            body.push_str(text);
            let _ = writeln!(
                body,
                "Please follow up with {}: each reminder carries one-click links to confirm each contact.",
                owner.email
            );
            let _ = writeln!(body, "\n-- support-plans freshness check, {today}");
            let mut attributes = vec![
                ("owner_team", AttrValue::String(owner.team.to_string())),
                ("owner_email", AttrValue::String(owner.email.to_string())),
                ("kind", AttrValue::String("escalation".into())),
                ("plan_ids", AttrValue::StringArray(plan_ids)),
            ];
            if let Some(to) = to {
                attributes.push(("escalation_email", AttrValue::String(to.to_string())));
            }
            Message {
                subject: subject_line(&format!(
                    "[support-plans{} escalation] {}: {} overdue > {} days",
                    part_tag(part),
                    owner.team,
                    plural(n, "item", "items"),
                    settings.escalate_after_days
                )),
                body,
                attributes,
            }
        };
        out.extend(pack(&entries, &make));
    }
    out
}

// ---------------------------------------------------------------- the check

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
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
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
            let d = decide(due, prev, now, &self.settings);
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
