//! Reminders (SPEC §5): the reminder to an owner, with a one-click link per contact.

use std::collections::HashSet;
use std::fmt::Write as _;

use jiff::{SignedDuration, Timestamp};

use super::due::day_of;
use super::item::{item_text, plural};
use super::message::{Entry, Part, pack, part_tag, subject_line};
use super::{AttrValue, DueItem, Message, MessageKind, OwnerDue, Settings, Subject};
use crate::freshness::State;
use crate::token::{LinkFor, Links, TOKEN_TTL_DAYS};

pub(super) fn counts(items: &[DueItem]) -> (usize, usize) {
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
                ("kind", AttrValue::String(MessageKind::Reminder.to_string())),
                ("plan_ids", AttrValue::StringArray(plan_ids)),
            ],
        }
    };
    pack(&entries, &make)
}
