//! The workload support card rendered as Markdown, to paste into a wiki.

use std::fmt::Write as _;

use jiff::Timestamp;

use crate::freshness::{ContractState, PlanFreshness, State};
use crate::model::{Contact, SupportPlan, Workload};
use crate::reminders::subscriptions::PlanReach;
use crate::types::Slug;

/// Text for a Markdown table cell: no pipes, no line breaks.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn state(s: State) -> &'static str {
    match s {
        State::Ok => "ok",
        State::DueSoon => "due soon",
        State::Overdue => "**overdue**",
    }
}

fn day(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d").to_string()
}

fn contact_line(c: &Contact) -> String {
    let mut s = format!("{} ({})", c.name, c.role.label());
    if let Some(e) = &c.email {
        let _ = write!(s, ", {e}");
    }
    if let Some(p) = &c.phone {
        let _ = write!(s, ", {p}");
    }
    s
}

/// The card: each plan the workload relies on, freshness flagged, and an
/// owner that reminders do not reach (SPEC §14) said so.
pub fn markdown(
    workload: &Workload,
    plans: &[(SupportPlan, PlanFreshness, Option<PlanReach>)],
    missing: &[Slug],
    now: Timestamp,
) -> String {
    let w = &workload.spec;
    let mut out = String::new();
    let criticality = w.criticality.label();
    let _ = writeln!(out, "# Support card: {} ({criticality})\n", w.name);
    if !w.description.is_empty() {
        let _ = writeln!(out, "{}\n", w.description.trim());
    }
    let _ = writeln!(
        out,
        "Owner: {} ({}) · generated {}\n",
        w.owner.team,
        w.owner.email,
        day(now)
    );
    if plans.is_empty() && missing.is_empty() {
        let _ = writeln!(
            out,
            "> **No vendor support plan is recorded for this workload.**\n"
        );
    }
    for id in missing {
        let _ = writeln!(out, "> **Dependency `{id}` has no plan in the directory.**\n");
    }
    for (plan, fresh, reach) in plans {
        let p = &plan.spec;
        let product = if p.product.is_empty() || p.product == p.vendor {
            String::new()
        } else {
            format!(" — {}", p.product)
        };
        let _ = writeln!(out, "## {}{product} ({})\n", p.vendor, p.tier);
        if !plan.is_active() {
            let _ = writeln!(out, "> **This plan is retired.**\n");
        }
        let mut facts = Vec::new();
        if let Some(a) = &p.account_ref {
            facts.push(format!("Account: {a}"));
        }
        if let Some(d) = &p.docs_url {
            facts.push(format!("Docs: <{d}>"));
        }
        facts.push(format!("Plan owner: {} ({})", p.owner.team, p.owner.email));
        let _ = writeln!(out, "{}\n", facts.join(" · "));
        if let Some(c) = &fresh.contract {
            match c.contract {
                ContractState::Lapsed => {
                    let _ = writeln!(out, "> **Contract lapsed on {}.**\n", c.renews_on);
                }
                ContractState::Renewing => {
                    let _ = writeln!(
                        out,
                        "> Contract renews on {} ({} days).\n",
                        c.renews_on, c.days_to_renewal
                    );
                }
                ContractState::Current => {}
            }
        }
        if fresh.review.state != State::Ok {
            let _ = writeln!(
                out,
                "> Plan review {} (due {}).\n",
                state(fresh.review.state),
                day(fresh.review.due_at)
            );
        }

        let addresses = reach.iter().flat_map(|r| {
            std::iter::once(("plan owner", &r.owner))
                .chain(r.escalation.as_ref().map(|e| ("escalation contact", e)))
        });
        for (who, r) in addresses {
            if let Some(why) = r.reach.filter(|_| r.is_unreachable()) {
                let _ = writeln!(
                    out,
                    "> **Reminders do not reach the {who} ({}): {}.**\n",
                    r.address,
                    why.explain()
                );
            }
        }
        let _ = writeln!(
            out,
            "**How to request support**\n\n| Channel | Where | Hours | Notes |\n|---|---|---|---|"
        );
        for ch in &p.channels {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                ch.kind.label(),
                cell(&ch.value),
                cell(&ch.hours),
                cell(ch.notes.as_deref().unwrap_or(""))
            );
        }
        if !p.severities.is_empty() {
            let _ = writeln!(
                out,
                "\n**Severities**\n\n| Vendor severity | Incident impact | First response |\n|---|---|---|"
            );
            for s in &p.severities {
                let impacts: Vec<String> = s.impacts.iter().map(u8::to_string).collect();
                let _ = writeln!(
                    out,
                    "| {} | {} | {} min |",
                    cell(&s.name),
                    if impacts.is_empty() {
                        "—".to_owned()
                    } else {
                        impacts.join(", ")
                    },
                    s.response_minutes
                );
            }
        }
        let _ = writeln!(out, "\n**Escalation steps**\n");
        for (i, step) in p.escalation_steps.iter().enumerate() {
            let _ = write!(
                out,
                "{}. **{}** (from minute {})",
                i + 1,
                step.title,
                step.after_minutes
            );
            if let Some(c) = step
                .contact
                .as_ref()
                .and_then(|id| p.contacts.iter().find(|c| &c.id == id))
            {
                let _ = write!(out, " — {}", contact_line(c));
            }
            let _ = writeln!(out);
            if !step.instructions.is_empty() {
                for line in step.instructions.lines() {
                    let _ = writeln!(out, "   {line}");
                }
            }
        }
        if !p.contacts.is_empty() {
            let _ = writeln!(
                out,
                "\n**Contacts**\n\n| Name | Role | E-mail | Phone | Last verified | Freshness |\n|---|---|---|---|---|---|"
            );
            for (c, f) in p.contacts.iter().zip(&fresh.contacts) {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} |",
                    cell(&c.name),
                    c.role.label(),
                    c.email.as_ref().map(|e| cell(e.as_str())).unwrap_or_default(),
                    c.phone.as_ref().map(|p| cell(p.as_str())).unwrap_or_default(),
                    c.verified_at.map(day).unwrap_or_else(|| "never".to_owned()),
                    state(f.due.state)
                );
            }
        }
        let _ = writeln!(out);
    }
    out
}
