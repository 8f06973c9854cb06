//! Reminders (SPEC §5): the text of one due item, as reminders and
//! escalations show it.

use std::fmt::Write as _;

use super::due::day_of;
use super::{DueItem, Subject};
use crate::freshness::{ContractState, State};
use crate::types::{Email, Phone};

pub(super) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub(super) fn when(i: &DueItem) -> String {
    match i.state {
        State::Overdue if i.days_overdue == 0 => "due today".to_owned(),
        State::Overdue => format!("{} overdue", plural(i.days_overdue as usize, "day", "days")),
        _ => format!("in {}", plural(i.days_left as usize, "day", "days")),
    }
}

pub(super) fn label(i: &DueItem, new: bool) -> String {
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
pub(super) fn item_text(i: &DueItem, new: bool, link: Option<&str>, base: &str) -> String {
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
            let _ = writeln!(t, "{} Contact {name}, {}", label(i, new), role);
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
            match link {
                Some(link) => {
                    let _ = writeln!(t, "    Still right? Confirm in one click: {link}");
                    let _ = writeln!(
                        t,
                        "    Changed? Open the same link and correct it there (\"It changed\")."
                    );
                }
                None => {
                    let _ = writeln!(t, "    Changed? Update the plan: PUT {base}/plans/{plan}");
                }
            }
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
