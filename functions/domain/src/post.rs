//! What the incident responder posts (SPEC §4), rendered from the matched
//! plans. `POST /match` shows exactly this text, through the same functions.
//! Every note, related item and chat message says for which workload and
//! owner team it is posted and why the incident matched it (SPEC §2).

use std::fmt::Write as _;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::{Value, json};

use crate::freshness::{self, Policy, State};
use crate::matching::{Incident, MatchedWorkload, Outcome, Reason, match_incident};
use crate::model::{ChannelKind, Contact, Severity, Step, SupportPlan, Workload};
use crate::validate::printable;

/// Incident Manager's limit on a timeline event's `eventData`.
pub const MAX_EVENT_DATA: usize = 12_000;

/// What the responder knows of an incident besides what matching needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentContext {
    pub facts: Incident,
    /// Incident Manager impact, 1 (critical) … 5 (no impact), when known.
    pub impact: Option<u8>,
    /// When the incident started: the vendor's response is due from here.
    pub started_at: Timestamp,
}

/// Where people read more: the directory (a portal, or the API) and a plan's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    /// A URL with `{id}` for a plan's full page, e.g. `https://portal.example.com/plans/{id}`.
    pub plan_url: String,
    /// The directory of workloads and plans.
    pub directory_url: String,
}

impl Links {
    /// `PLAN_URL` (with `{id}`) and `DIRECTORY_URL` from the function's
    /// configuration (`get` looks a name up); the stack sets both to the
    /// API's own routes unless a portal is configured.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let var = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        Self {
            plan_url: var("PLAN_URL").unwrap_or_else(|| "GET /plans/{id} on the support-plans API".into()),
            directory_url: var("DIRECTORY_URL")
                .unwrap_or_else(|| "GET /workloads on the support-plans API".into()),
        }
    }

    pub fn plan(&self, id: &str) -> String {
        self.plan_url.replace("{id}", id)
    }
}

/// A related item to add to the incident: a portal where a case is opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RelatedLink {
    pub plan_id: String,
    pub title: String,
    pub url: String,
}

/// One plan's note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanNote {
    pub plan_id: String,
    pub text: String,
    /// Whether the plan was cut at a step boundary to fit.
    pub truncated: bool,
}

/// The note for a matched workload no active plan covers (SPEC §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoPlanNote {
    pub workload: String,
    pub text: String,
}

/// Everything the responder would post for one incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Posts {
    pub workloads: Vec<MatchedView>,
    pub notes: Vec<PlanNote>,
    /// The note posted when nothing matched.
    pub unmatched_note: Option<String>,
    /// One note per matched workload that relies on no active plan.
    pub no_plan_notes: Vec<NoPlanNote>,
    /// A matched workload relies on no active plan: the incident counts in
    /// `incidents_without_plan`.
    pub without_plan: bool,
    pub related: Vec<RelatedLink>,
    /// The AWS Chatbot custom notification, once per incident.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub chat: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MatchedView {
    pub name: String,
    pub owner_team: String,
    pub criticality: crate::model::Criticality,
    pub reasons: Vec<Reason>,
}

/// A time as the notes show it: `2026-11-21 11:00 UTC`.
pub fn when(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// "AWS (Business)" — vendor and tier, as a title.
pub fn plan_title(plan: &SupportPlan) -> String {
    format!("{} ({})", plan.spec.vendor, plan.spec.tier)
}

/// The most workloads named, with their reasons, in one note or chat message;
/// the others are counted ("… and 3 more workloads").
const MAX_WHY_LINES: usize = 5;

/// A value from a rule or an incident as shown in a post: one line, at most
/// 200 characters, in a code span (so `*` stays a star).
fn shown(s: &str) -> String {
    format!("`{}`", printable(s, 200).replace('`', "'"))
}

/// Why the incident matched, in words.
pub fn reason_text(reason: &Reason) -> String {
    match reason {
        Reason::Explicit => "named by the incident (its trigger or its `workload` tag)".to_owned(),
        Reason::ResponsePlan { response_plan } => {
            format!("matched response plan {}", shown(response_plan))
        }
        Reason::Resource { resource, pattern } => {
            format!(
                "matched resource {} by pattern {}",
                shown(resource),
                shown(pattern)
            )
        }
        Reason::TitleKeyword { keyword } => format!("matched title keyword {}", shown(keyword)),
        Reason::PagerDutyService { pagerduty_service } => {
            format!("matched PagerDuty service {}", shown(pagerduty_service))
        }
    }
}

/// "Posted for workload `payments` (owner team payments) — matched …; …".
pub fn why_line(m: &MatchedWorkload<'_>) -> String {
    let reasons: Vec<String> = m.reasons.iter().map(reason_text).collect();
    format!(
        "Posted for workload `{}` (owner team {}) — {}",
        m.workload.name(),
        m.workload.spec.owner.team,
        reasons.join("; ")
    )
}

/// One [`why_line`] per workload, at most [`MAX_WHY_LINES`], then a count.
fn why_lines(matched: &[&MatchedWorkload<'_>]) -> String {
    let mut out = String::new();
    for m in matched.iter().take(MAX_WHY_LINES) {
        let _ = writeln!(out, "{}", why_line(m));
    }
    if matched.len() > MAX_WHY_LINES {
        let _ = writeln!(out, "… and {} more workloads", matched.len() - MAX_WHY_LINES);
    }
    out
}

/// "workload payments (owner team payments)", or several, for short texts.
fn for_whom(matched: &[&MatchedWorkload<'_>]) -> String {
    let names: Vec<String> = matched
        .iter()
        .map(|m| {
            format!(
                "{} (owner team {})",
                m.workload.name(),
                m.workload.spec.owner.team
            )
        })
        .collect();
    match names.len() {
        0 => String::new(),
        1 => format!("workload {}", names[0]),
        _ => format!("workloads {}", names.join(", ")),
    }
}

/// The matched workloads a plan is posted for: those that depend on it.
pub fn posted_for<'o, 'a>(outcome: &'o Outcome<'a>, plan: &SupportPlan) -> Vec<&'o MatchedWorkload<'a>> {
    outcome
        .workloads
        .iter()
        .filter(|m| m.workload.spec.dependencies.iter().any(|d| d == plan.id()))
        .collect()
}

/// The related items for a plan's portal channels, titled with the
/// workloads they are posted for.
pub fn portal_links(plan: &SupportPlan, posted_for: &[&MatchedWorkload<'_>]) -> Vec<RelatedLink> {
    let mut title = format!("Open a case: {}", plan_title(plan));
    if !posted_for.is_empty() {
        let _ = write!(title, " — for {}", for_whom(posted_for));
    }
    plan.spec
        .channels
        .iter()
        .filter(|c| c.kind == ChannelKind::Portal)
        .map(|c| RelatedLink {
            plan_id: plan.id().to_string(),
            title: truncate_chars(&title, 200),
            url: c.value.clone(),
        })
        .collect()
}

/// `s` cut to at most `max` characters, with `…` when cut.
pub(crate) fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// The plan's severity mapped to the incident's impact, if any: the one to
/// open the case at, whose `response_minutes` the vendor promised.
pub fn mapped_severity(plan: &SupportPlan, impact: Option<u8>) -> Option<&Severity> {
    let impact = impact?;
    plan.spec.severities.iter().find(|s| s.impacts.contains(&impact))
}

/// When the vendor's first response at severity `s` is due for an incident
/// that started at `started_at`.
pub fn response_due(started_at: Timestamp, s: &Severity) -> Timestamp {
    step_time(started_at, s.response_minutes)
}

/// `minutes` after `started_at` (an escalation step's or a response's time).
pub fn step_time(started_at: Timestamp, minutes: u32) -> Timestamp {
    started_at
        .checked_add(SignedDuration::from_mins(i64::from(minutes)))
        .unwrap_or(started_at)
}

/// The contact a step names, when the plan has it.
pub fn step_contact<'p>(plan: &'p SupportPlan, step: &Step) -> Option<&'p Contact> {
    step.contact
        .as_ref()
        .and_then(|id| plan.spec.contacts.iter().find(|c| &c.id == id))
}

/// The severity line: which vendor severity to open, its promised first
/// response, and when that response is due.
fn severity_lines(plan: &SupportPlan, ctx: &IncidentContext) -> String {
    let sevs = &plan.spec.severities;
    let mut out = String::new();
    match (ctx.impact, mapped_severity(plan, ctx.impact)) {
        (Some(impact), Some(s)) => {
            let due = response_due(ctx.started_at, s);
            let _ = writeln!(
                out,
                "**Open as: {}** (impact {impact}). Promised first response: {} min, due by **{}**.",
                s.name,
                s.response_minutes,
                when(due)
            );
        }
        (Some(impact), None) => {
            let _ = writeln!(
                out,
                "No severity of this plan is mapped to impact {impact}; choose from:"
            );
            for s in sevs {
                let _ = writeln!(out, "- {} (first response {} min)", s.name, s.response_minutes);
            }
        }
        (None, _) => {
            let _ = writeln!(out, "Incident impact unknown; the plan's severities:");
            for s in sevs {
                let _ = writeln!(out, "- {} (first response {} min)", s.name, s.response_minutes);
            }
        }
    }
    out
}

/// "Daniel Reyes (vendor account manager), +1206…, daniel@…", with the
/// contact's freshness warning from `warnings` (contact id, text) if any.
pub fn contact_text(c: &Contact, warnings: &[(String, String)]) -> String {
    let mut s = format!("{} ({})", c.name, c.role.label());
    if let Some(p) = &c.phone {
        let _ = write!(s, ", {p}");
    }
    if let Some(e) = &c.email {
        let _ = write!(s, ", {e}");
    }
    if let Some((_, w)) = warnings.iter().find(|(id, _)| id == c.id.as_str()) {
        let _ = write!(s, " ⚠ {w}");
    }
    s
}

/// One plan's note, at most [`MAX_EVENT_DATA`] characters; a longer plan is
/// cut at a step boundary with a pointer to the full plan. Under its title,
/// the workloads it is posted for and why each matched.
pub fn plan_note(
    plan: &SupportPlan,
    posted_for: &[&MatchedWorkload<'_>],
    ctx: &IncidentContext,
    links: &Links,
    policy: &Policy,
) -> PlanNote {
    plan_note_within(plan, posted_for, ctx, links, policy, MAX_EVENT_DATA)
}

/// [`plan_note`] for a sink whose notes take at most `limit` characters
/// ([`IncidentSink::note_limit`](crate::ports::IncidentSink::note_limit)).
pub fn plan_note_within(
    plan: &SupportPlan,
    posted_for: &[&MatchedWorkload<'_>],
    ctx: &IncidentContext,
    links: &Links,
    policy: &Policy,
    limit: usize,
) -> PlanNote {
    let p = &plan.spec;
    // Freshness as of the incident's start, so the same incident always reads the same.
    let fresh = freshness::evaluate(plan, ctx.started_at, policy);
    let warnings: Vec<(String, String)> = fresh
        .contacts
        .iter()
        .filter(|c| c.due.state == State::Overdue)
        .map(|c| {
            let text = match c.verified_at {
                Some(at) => format!(
                    "not verified since {} ({} days overdue)",
                    at.strftime("%Y-%m-%d"),
                    c.due.days_overdue
                ),
                None => "never verified".to_owned(),
            };
            (c.contact.to_string(), text)
        })
        .collect();

    let mut head = String::new();
    let product = if p.product.is_empty() || p.product == p.vendor {
        String::new()
    } else {
        format!(" — {}", p.product)
    };
    let _ = writeln!(head, "### Vendor support: {}{product} ({})", p.vendor, p.tier);
    head.push_str(&why_lines(posted_for));
    head.push_str(&severity_lines(plan, ctx));
    let mut facts = Vec::new();
    if let Some(a) = &p.account_ref {
        facts.push(format!("Account: {a}"));
    }
    if let Some(d) = &p.docs_url {
        facts.push(format!("Docs: {d}"));
    }
    if !facts.is_empty() {
        let _ = writeln!(head, "{}", facts.join(" · "));
    }
    let _ = writeln!(head, "\n**How to request support**");
    for c in &p.channels {
        let notes = c
            .notes
            .as_deref()
            .map(|n| format!(" — {}", n.replace('\n', " ")))
            .unwrap_or_default();
        let _ = writeln!(head, "- {}: {} ({}){notes}", c.kind.label(), c.value, c.hours);
    }
    let _ = writeln!(head, "\n**Escalation steps**");

    // Each step's text, and the contact it names (shown with it).
    let steps: Vec<(String, Option<&Contact>)> = p
        .escalation_steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut t = format!("{}. [from minute {}] **{}**", i + 1, s.after_minutes, s.title);
            let named = step_contact(plan, s);
            if let Some(c) = named {
                let _ = write!(t, " — {}", contact_text(c, &warnings));
            }
            t.push('\n');
            for line in s.instructions.lines().filter(|l| !l.trim().is_empty()) {
                let _ = writeln!(t, "   {line}");
            }
            (t, named)
        })
        .collect();
    // Contacts not named by a step, listed after the steps with their warnings.
    let unnamed: Vec<&Contact> = p
        .contacts
        .iter()
        .filter(|c| {
            !p.escalation_steps
                .iter()
                .any(|s| s.contact.as_ref() == Some(&c.id))
        })
        .collect();
    let full_plan = links.plan(p.id.as_str());
    // The contacts the note does not show when it shows only `shown` steps.
    let hidden_with = |shown: &[(String, Option<&Contact>)]| {
        p.contacts
            .iter()
            .filter(|c| !shown.iter().any(|(_, n)| n.is_some_and(|n| n.id == c.id)))
            .count()
    };

    let len = |t: &str| t.chars().count();
    let mut text = head;
    let mut truncated = false;
    for (i, (step, _)) in steps.iter().enumerate() {
        let rest_after = steps.len() - i - 1;
        // Room for this step, then either the contacts or the pointer.
        let hidden = hidden_with(&steps[..i]);
        let pointer = if hidden == 0 {
            format!(
                "\n… {} more step(s): see the full plan at {full_plan}",
                rest_after + 1
            )
        } else {
            format!(
                "\n… {} more step(s) and {hidden} contact(s) not shown: see the full plan at {full_plan}",
                rest_after + 1
            )
        };
        let needed = len(&text) + len(step);
        let closing = if rest_after == 0 {
            // At least the pointer to the full plan after the last step.
            len(&full_plan) + 80
        } else {
            len(&pointer) + 80
        };
        if needed + closing > limit {
            text.push_str(&pointer);
            truncated = true;
            break;
        }
        text.push_str(step);
    }
    if !truncated {
        // The other contacts, as many as fit, each whole; the note says how
        // many it left out.
        if !unnamed.is_empty() {
            let _ = writeln!(text, "\n**Other contacts**");
        }
        for (i, c) in unnamed.iter().enumerate() {
            let line = format!("- {}\n", contact_text(c, &warnings));
            let left = unnamed.len() - i;
            let closing = if left == 1 {
                len("\nFull plan: ") + len(&full_plan)
            } else {
                len(&full_plan) + 80
            };
            if len(&text) + len(&line) + closing > limit {
                let _ = write!(
                    text,
                    "… {left} more contact(s) not shown: see the full plan at {full_plan}"
                );
                truncated = true;
                break;
            }
            text.push_str(&line);
        }
        if !truncated {
            let _ = write!(text, "\nFull plan: {full_plan}");
        }
    }
    // A head alone over the limit (huge channel notes): cut hard, keep the pointer.
    if len(&text) > limit {
        let pointer = format!("\n… see the full plan at {full_plan}");
        text = text
            .chars()
            .take(limit.saturating_sub(len(&pointer)))
            .collect::<String>()
            + &pointer;
        truncated = true;
    }
    PlanNote {
        plan_id: p.id.to_string(),
        text,
        truncated,
    }
}

/// The note for an incident no workload matched.
pub fn unmatched_note(ctx: &IncidentContext, links: &Links) -> String {
    let mut s = String::from("### Vendor support: no workload matched\n");
    let _ = writeln!(
        s,
        "support-plans found no workload for this incident (title, response plan, involved resources and the `workload` tag were checked), so no vendor escalation steps are posted."
    );
    if !ctx.facts.resources.is_empty() {
        let _ = writeln!(s, "Involved resources: {}", ctx.facts.resources.join(", "));
    }
    let _ = write!(
        s,
        "Find the vendor in the directory: {}. To have steps posted next time, add a match rule to the workload (response plan, resource pattern or title keyword), or tag the incident `workload=<name>`.",
        links.directory_url
    );
    s
}

/// The matched workloads none of whose dependencies is among the plans
/// posted (all active): the ones nobody covered.
pub fn uncovered<'o, 'a>(outcome: &'o Outcome<'a>) -> Vec<&'o MatchedWorkload<'a>> {
    outcome
        .workloads
        .iter()
        .filter(|m| {
            !outcome
                .plans
                .iter()
                .any(|p| m.workload.spec.dependencies.iter().any(|d| d == p.id()))
        })
        .collect()
}

/// "tier-1, owner team finance, finance-team@example.com".
fn who_owns(w: &Workload) -> String {
    format!(
        "{}, owner team {}, {}",
        w.spec.criticality.label(),
        w.spec.owner.team,
        w.spec.owner.email
    )
}

/// The note for a matched workload that relies on no active plan: the
/// anti-pattern this service exists to remove, so never silent.
pub fn no_plan_note(m: &MatchedWorkload<'_>, links: &Links) -> NoPlanNote {
    no_plan_note_within(m, links, MAX_EVENT_DATA)
}

/// [`no_plan_note`], at most `limit` characters.
fn no_plan_note_within(m: &MatchedWorkload<'_>, links: &Links, limit: usize) -> NoPlanNote {
    let w = m.workload;
    let name = w.name();
    let mut s = format!("### Vendor support: no plan covers workload `{name}`\n");
    let _ = writeln!(s, "{}", why_line(m));
    let _ = writeln!(
        s,
        "**No vendor support plan covers workload `{name}`** ({}): it relies on no active support plan, so there are no vendor escalation steps to post for it.",
        who_owns(w)
    );
    if !w.spec.dependencies.is_empty() {
        let deps: Vec<String> = w
            .spec
            .dependencies
            .iter()
            .take(MAX_WHY_LINES)
            .map(|d| format!("`{d}`"))
            .collect();
        let more = w.spec.dependencies.len().saturating_sub(MAX_WHY_LINES);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        if w.spec.dependencies.len() == 1 {
            let _ = writeln!(s, "Its dependency {} is retired or missing.", deps[0]);
        } else {
            let _ = writeln!(
                s,
                "Its dependencies ({}{more}) are retired or missing.",
                deps.join(", ")
            );
        }
    }
    let _ = write!(
        s,
        "Create one: add the vendor's support plan in the directory ({}; with the API, `POST /plans`) and list its id in the workload's `dependencies`.",
        links.directory_url
    );
    NoPlanNote {
        workload: name.to_string(),
        text: truncate_chars(&s, limit),
    }
}

/// The AWS Chatbot custom notification summarising every matched plan.
pub fn chat_message(ctx: &IncidentContext, incident_id: &str, outcome: &Outcome<'_>, links: &Links) -> Value {
    let title = if ctx.facts.title.is_empty() {
        "Incident".to_owned()
    } else {
        ctx.facts.title.clone()
    };
    let mut description = String::new();
    if outcome.is_unmatched() {
        let _ = write!(
            description,
            "No workload matched; no vendor escalation steps. Directory: {}",
            links.directory_url
        );
    } else {
        let all: Vec<&MatchedWorkload<'_>> = outcome.workloads.iter().collect();
        description.push_str(&why_lines(&all));
        for plan in &outcome.plans {
            let sev = mapped_severity(plan, ctx.impact);
            let names: Vec<&str> = posted_for(outcome, plan)
                .iter()
                .map(|m| m.workload.name().as_str())
                .collect();
            let _ = write!(description, "\n*{}* (for {})", plan_title(plan), names.join(", "));
            if let Some(s) = sev {
                let due = response_due(ctx.started_at, s);
                let _ = write!(
                    description,
                    ": open as *{}*, first response due by {}",
                    s.name,
                    when(due)
                );
            }
            if let Some(c) = plan.spec.channels.first() {
                let _ = write!(description, " — {}: {}", c.kind.label(), c.value);
            }
        }
        let nobody = uncovered(outcome);
        for m in nobody.iter().take(MAX_WHY_LINES) {
            let _ = write!(
                description,
                "\n*No vendor support plan covers workload `{}`* ({}): create one in the directory: {}",
                m.workload.name(),
                who_owns(m.workload),
                links.directory_url
            );
        }
        if nobody.len() > MAX_WHY_LINES {
            let _ = write!(
                description,
                "\n… and {} more workloads no vendor support plan covers",
                nobody.len() - MAX_WHY_LINES
            );
        }
    }
    let mut next_steps: Vec<String> = outcome
        .plans
        .iter()
        .map(|p| {
            let names: Vec<&str> = posted_for(outcome, p)
                .iter()
                .map(|m| m.workload.name().as_str())
                .collect();
            let whom = if names.len() == 1 { "workload" } else { "workloads" };
            format!(
                "Open a case with {} for {whom} {} — steps in the incident notes; full plan: {}",
                plan_title(p),
                names.join(", "),
                links.plan(p.id().as_str())
            )
        })
        .collect();
    next_steps.extend(uncovered(outcome).iter().take(MAX_WHY_LINES).map(|m| {
        format!(
            "Create a vendor support plan for workload {} (owner team {}) in the directory: {}",
            m.workload.name(),
            m.workload.spec.owner.team,
            links.directory_url
        )
    }));
    let thread = ctx.facts.arn.clone().unwrap_or_else(|| incident_id.to_owned());
    json!({
        "version": "1.0",
        "source": "custom",
        "id": incident_id,
        "content": {
            "textType": "client-markdown",
            "title": truncate_chars(&format!(":rotating_light: Vendor escalation: {title}"), 250),
            "description": truncate_chars(&description, 8000),
            "nextSteps": next_steps,
            "keywords": ["support-plans"],
        },
        "metadata": {
            "threadId": thread,
            "summary": truncate_chars(&format!("Vendor escalation steps for {title}"), 250),
            "eventType": "support-plans.escalation",
            "relatedResources": ctx.facts.resources,
            "additionalContext": {
                "plans": outcome.plans.iter().map(|p| p.id().to_string()).collect::<Vec<_>>(),
                "workloads": outcome.workloads.iter().map(|m| m.workload.name().to_string()).collect::<Vec<_>>(),
            },
        },
    })
}

/// Matches the incident and renders every post: the one code path of the
/// responder and of `POST /match` (notes of Incident Manager's length).
pub fn prepare(
    ctx: &IncidentContext,
    incident_id: &str,
    workloads: &[Workload],
    plans: &[SupportPlan],
    links: &Links,
    policy: &Policy,
) -> Posts {
    prepare_within(ctx, incident_id, workloads, plans, links, policy, MAX_EVENT_DATA)
}

/// [`prepare`] for a sink whose notes take at most `note_limit` characters:
/// each plan cut at a step boundary below it.
pub fn prepare_within(
    ctx: &IncidentContext,
    incident_id: &str,
    workloads: &[Workload],
    plans: &[SupportPlan],
    links: &Links,
    policy: &Policy,
    note_limit: usize,
) -> Posts {
    let outcome = match_incident(&ctx.facts, workloads, plans);
    let notes = outcome
        .plans
        .iter()
        .map(|p| plan_note_within(p, &posted_for(&outcome, p), ctx, links, policy, note_limit))
        .collect();
    let related = outcome
        .plans
        .iter()
        .flat_map(|p| portal_links(p, &posted_for(&outcome, p)))
        .collect();
    let no_plan_notes: Vec<NoPlanNote> = uncovered(&outcome)
        .into_iter()
        .map(|m| no_plan_note_within(m, links, note_limit))
        .collect();
    Posts {
        workloads: outcome
            .workloads
            .iter()
            .map(|m| MatchedView {
                name: m.workload.name().to_string(),
                owner_team: m.workload.spec.owner.team.to_string(),
                criticality: m.workload.spec.criticality,
                reasons: m.reasons.clone(),
            })
            .collect(),
        notes,
        unmatched_note: outcome.is_unmatched().then(|| unmatched_note(ctx, links)),
        without_plan: !no_plan_notes.is_empty(),
        no_plan_notes,
        related,
        chat: chat_message(ctx, incident_id, &outcome, links),
    }
}
