//! The follow-up sweep's rules (SPEC §13): while an incident is open, each
//! later escalation step whose time has come, and each vendor's first
//! response that has fallen due, gets one short note. Pure: the driver reads
//! the incident, the plans it was answered with and the plans marked
//! "vendor responded", and claims each follow-up's [`FollowUp::part`] so it
//! is posted exactly once per (incident, plan, step).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use jiff::Timestamp;

use crate::model::{Step, SupportPlan};
use crate::post::{
    Links, contact_text, mapped_severity, plan_title, response_due, step_contact, step_time, truncate_chars,
    when,
};

/// The most characters of a step's instructions a follow-up repeats; the
/// first note and the plan's page have them in full.
const MAX_INSTRUCTIONS: usize = 300;

/// What the sweep knows of an incident it has answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenIncident {
    /// When the incident started: every step's and response's time counts from here.
    pub started_at: Timestamp,
    /// Impact 1 (critical) … 5, when known; without it no severity is mapped
    /// and no first response falls due.
    pub impact: Option<u8>,
    pub resolved: bool,
}

/// Why a follow-up is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUpKind {
    /// The plan's escalation step `number` (1-based, as the first note
    /// numbers it) has reached its `after_minutes`.
    Step { number: usize },
    /// The mapped severity's promised first response has passed.
    ResponseDue,
}

/// One follow-up note due for one plan of the incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp<'p> {
    pub plan: &'p SupportPlan,
    pub kind: FollowUpKind,
    /// Its minutes after the incident's start: the step's `after_minutes`,
    /// or the mapped severity's `response_minutes`.
    pub minutes: u32,
    /// When it fell due (start + `minutes`).
    pub due_at: Timestamp,
}

/// The claim part of a step's follow-up: `FOLLOWUP#<plan>#step#<n>`.
pub fn step_part(plan: &str, number: usize) -> String {
    format!("FOLLOWUP#{plan}#step#{number}")
}

/// The claim part of a plan's "first response due" note.
pub fn response_due_part(plan: &str) -> String {
    format!("FOLLOWUP#{plan}#response-due")
}

/// Whether a claim part is a follow-up's (the first answer's parts are not).
pub fn is_followup_part(part: &str) -> bool {
    part.starts_with("FOLLOWUP#")
}

impl<'p> FollowUp<'p> {
    /// The stable claim part: the same (incident, plan, step) always gives
    /// the same part, so overlapping sweeps and retries post it once.
    pub fn part(&self) -> String {
        let id = self.plan.id().as_str();
        match self.kind {
            FollowUpKind::Step { number } => step_part(id, number),
            FollowUpKind::ResponseDue => response_due_part(id),
        }
    }

    /// The step the note is about: the step itself, or for a due response
    /// the step to take next (the first at or after the response's time,
    /// else the last).
    pub fn step(&self) -> Option<(usize, &'p Step)> {
        let steps = &self.plan.spec.escalation_steps;
        match self.kind {
            FollowUpKind::Step { number } => number
                .checked_sub(1)
                .and_then(|i| steps.get(i))
                .map(|s| (number, s)),
            FollowUpKind::ResponseDue => {
                let minutes = self.minutes;
                steps
                    .iter()
                    .enumerate()
                    .find(|(_, s)| s.after_minutes >= minutes)
                    .or_else(|| steps.iter().enumerate().next_back())
                    .map(|(i, s)| (i + 1, s))
            }
        }
    }

    /// The short note: which plan, which step, whom to call, why now.
    /// `responded_link`, when given, is where someone marks the vendor as
    /// responding (SPEC §13). At most `limit` characters.
    pub fn note(
        &self,
        incident: &OpenIncident,
        links: &Links,
        responded_link: Option<&str>,
        limit: usize,
    ) -> String {
        let plan = self.plan;
        let mut s = String::new();
        match self.kind {
            FollowUpKind::Step { .. } => {
                let _ = writeln!(s, "### Follow-up: {}", plan_title(plan));
                let _ = writeln!(
                    s,
                    "Due at minute {} of the incident (started {}); the vendor is not marked as responding.",
                    self.minutes,
                    when(incident.started_at)
                );
            }
            FollowUpKind::ResponseDue => {
                let _ = writeln!(s, "### First response due: {}", plan_title(plan));
                if let Some(sev) = mapped_severity(plan, incident.impact) {
                    let _ = writeln!(
                        s,
                        "The promised first response at **{}** ({} min) was due by **{}**, and the vendor is not marked as responding.",
                        sev.name,
                        sev.response_minutes,
                        when(self.due_at)
                    );
                }
            }
        }
        if let Some((number, step)) = self.step() {
            let total = plan.spec.escalation_steps.len();
            let lead = match self.kind {
                FollowUpKind::Step { .. } => "Step",
                FollowUpKind::ResponseDue => "Next: step",
            };
            let _ = write!(
                s,
                "{lead} {number} of {total} [from minute {}] **{}**",
                step.after_minutes, step.title
            );
            if let Some(c) = step_contact(plan, step) {
                let _ = write!(s, " — call {}", contact_text(c, &[]));
            }
            s.push('\n');
            let what: Vec<&str> = step
                .instructions
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            if !what.is_empty() {
                let _ = writeln!(s, "{}", truncate_chars(&what.join(" "), MAX_INSTRUCTIONS));
            }
        }
        let _ = write!(s, "Full plan: {}", links.plan(plan.id().as_str()));
        if let Some(link) = responded_link {
            let _ = write!(s, "\nVendor responded? {link}");
        }
        truncate_chars(&s, limit)
    }
}

/// The follow-ups due at `now` for an incident answered with `plans`: one
/// per step past its `after_minutes` (steps at minute 0 belong to the first
/// note) and one per plan whose mapped severity's first response has passed.
/// Nothing for a resolved incident, nothing for a plan in `responded`.
/// Already posted ones are filtered by the claims, not here.
pub fn due<'p>(
    incident: &OpenIncident,
    plans: &'p [SupportPlan],
    responded: &BTreeSet<String>,
    now: Timestamp,
) -> Vec<FollowUp<'p>> {
    if incident.resolved {
        return Vec::new();
    }
    let mut out = Vec::new();
    for plan in plans.iter().filter(|p| !responded.contains(p.id().as_str())) {
        for (i, step) in plan.spec.escalation_steps.iter().enumerate() {
            let at = step_time(incident.started_at, step.after_minutes);
            if step.after_minutes > 0 && at <= now {
                out.push(FollowUp {
                    plan,
                    kind: FollowUpKind::Step { number: i + 1 },
                    minutes: step.after_minutes,
                    due_at: at,
                });
            }
        }
        if let Some(sev) = mapped_severity(plan, incident.impact) {
            let at = response_due(incident.started_at, sev);
            if at <= now {
                out.push(FollowUp {
                    plan,
                    kind: FollowUpKind::ResponseDue,
                    minutes: sev.response_minutes,
                    due_at: at,
                });
            }
        }
    }
    out
}
