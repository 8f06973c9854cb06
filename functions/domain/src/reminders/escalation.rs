//! Reminders (SPEC §5): the escalations of an owner's long-overdue items.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use jiff::Timestamp;

use super::due::day_of;
use super::item::{item_text, plural};
use super::message::{Entry, Part, pack, part_tag, subject_line};
use super::subscriptions::Reach;
use super::{AttrValue, DueItem, Message, MessageKind, OwnerDue, Settings};
use crate::token::Links;
use crate::types::Email;

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
    /// Why the owner's address does not get reminders (SPEC §14), if so.
    pub unreachable: Option<Reach>,
}

impl Reminded {
    /// What is true of the reminders: one sentence, and one more when the
    /// owner's address does not get them.
    pub fn sentence(&self) -> String {
        let mut s = self.reminders();
        if let Some(why) = self.unreachable {
            let _ = write!(
                s,
                " Reminders do not reach the owner's address: {}.",
                why.explain()
            );
            if why == Reach::PendingConfirmation {
                s.push_str(" Ask them to look for the e-mail from AWS Notifications and follow its link.");
            }
        }
        s
    }

    fn reminders(&self) -> String {
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
                ("kind", AttrValue::String(MessageKind::Escalation.to_string())),
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
