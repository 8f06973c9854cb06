//! Opening the vendor's case for an incident (SPEC §13, opt-in): which plans
//! open one at an incident's impact, and what the case says. AWS Support's
//! `CreateCase` takes the request as built here; the adapter adds nothing
//! but the marker that lets a retry find the case it opened.

use std::fmt::Write as _;
use std::future::Future;

use jiff::Timestamp;

use crate::model::SupportPlan;
use crate::ports::PortError;
use crate::post::{IncidentContext, mapped_severity, truncate_chars, when};
use crate::validate::printable;

/// AWS Support's severity codes (`CreateCase`'s `severityCode`), least
/// severe first: what a severity's `code` must be when the plan opens cases
/// at its impacts.
pub const AWS_SEVERITY_CODES: &[&str] = &["low", "normal", "high", "urgent", "critical"];

/// The longest case subject, in characters.
pub const MAX_SUBJECT_CHARS: usize = 200;

/// The longest case body built here, in characters: AWS takes 8,000; the
/// rest is room for the marker the adapter adds.
pub const MAX_BODY_CHARS: usize = 7_900;

/// The most addresses copied on a case (AWS Support's limit).
pub const MAX_CC_EMAILS: usize = 10;

/// The case to open, in AWS Support `CreateCase`'s terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRequest {
    /// The plan that asks for it.
    pub plan: String,
    /// `subject`: the incident's title (at most 200 characters, no line breaks).
    pub subject: String,
    pub service_code: String,
    pub category_code: String,
    /// `severityCode`: the mapped severity's `code`.
    pub severity_code: String,
    /// `communicationBody`: the incident (id, start, impact, involved
    /// resources) and the plan (at most 8,000 characters).
    pub body: String,
    /// `ccEmailAddresses`: the plan's owner, then `cc_emails` (at most 10, no duplicates).
    pub cc_emails: Vec<String>,
    /// `issueType`: always `technical`.
    pub issue_type: &'static str,
    /// `language`: always `en`.
    pub language: &'static str,
    /// The incident's start: a case opened for it is not older, so an
    /// earlier try's case is looked for from here (`DescribeCases`'s `afterTime`).
    pub opened_after: Timestamp,
}

/// A case opened (or found: opened before by an earlier try).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseOpened {
    /// `caseId`, e.g. `case-12345678910-2013-c4c1d2bf33c5cf47`.
    pub case_id: String,
    /// `displayId`, the number the console and the vendor show.
    pub display_id: Option<String>,
    /// The case in the AWS Support console.
    pub url: String,
    /// An earlier try had opened it already.
    pub found: bool,
}

/// Where cases are opened: AWS Support.
pub trait SupportCases: Send + Sync {
    /// Opens `request`'s case once: a case whose first message carries
    /// `marker` (added to the body) is found and given back instead of a
    /// second one. `Refused` when it never will succeed (no Business or
    /// higher support plan, `SubscriptionRequiredException`; access denied;
    /// an invalid code), `Retry` otherwise.
    fn open_case(
        &self,
        request: &CaseRequest,
        marker: &str,
    ) -> impl Future<Output = Result<CaseOpened, PortError>> + Send;
}

/// The case's page in the AWS Support Center console, by its display id
/// (or, without one, its case id, which the console's search finds).
pub fn console_url(display_id: &str) -> String {
    let id: String = display_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!("https://support.console.aws.amazon.com/support/home#/case/?displayId={id}&language=en")
}

/// The case `plan` opens for an incident (`incident`: its claims key, an
/// Incident Manager ARN or `pagerduty:<id>`; `incident_url`: its page, when
/// known), or `None`: the plan has no `open_case`, the impact is unknown or
/// less severe than `min_impact` (a higher number), or the severity mapped to
/// it carries no AWS Support severity `code`.
pub fn case_for(
    plan: &SupportPlan,
    ctx: &IncidentContext,
    incident: &str,
    incident_url: Option<&str>,
) -> Option<CaseRequest> {
    let open = plan.spec.open_case.as_ref()?;
    let impact = ctx.impact?;
    if impact > open.min_impact {
        return None;
    }
    let code = mapped_severity(plan, Some(impact))?.code.as_deref()?;
    if !AWS_SEVERITY_CODES.contains(&code) {
        return None;
    }
    let mut cc_emails: Vec<String> = Vec::new();
    for e in std::iter::once(&plan.spec.owner.email).chain(&open.cc_emails) {
        let e = e.as_str();
        if cc_emails.len() < MAX_CC_EMAILS && !cc_emails.iter().any(|c| c.eq_ignore_ascii_case(e)) {
            cc_emails.push(e.to_owned());
        }
    }
    Some(CaseRequest {
        plan: plan.id().to_string(),
        subject: subject(&ctx.facts.title, impact, incident),
        service_code: open.service_code.clone(),
        category_code: open.category_code.clone(),
        severity_code: code.to_owned(),
        body: body(plan, ctx, impact, incident, incident_url),
        cc_emails,
        issue_type: "technical",
        language: "en",
        opened_after: ctx.started_at,
    })
}

/// `s` on one line: control characters (line breaks) become spaces.
fn one_line(s: &str) -> String {
    let spaced: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `[impact 1] <title>`: a vendor sees at once that it is an incident, and how bad.
fn subject(title: &str, impact: u8, incident: &str) -> String {
    let title = one_line(title);
    let title = if title.is_empty() {
        format!("Incident {}", one_line(incident))
    } else {
        title
    };
    truncate_chars(&format!("[impact {impact}] {title}"), MAX_SUBJECT_CHARS)
}

/// Incident Manager's name for an impact.
fn impact_name(impact: u8) -> &'static str {
    match impact {
        1 => "Critical",
        2 => "High",
        3 => "Medium",
        4 => "Low",
        _ => "No impact",
    }
}

/// The incident and the plan, then as many involved resources as fit.
fn body(
    plan: &SupportPlan,
    ctx: &IncidentContext,
    impact: u8,
    incident: &str,
    incident_url: Option<&str>,
) -> String {
    let spec = &plan.spec;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Production incident, case opened by support-plans for the team that owns this support plan."
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "Incident: {}", printable(incident, 1000));
    let title = one_line(&ctx.facts.title);
    if !title.is_empty() {
        let _ = writeln!(out, "Title: {}", truncate_chars(&title, 1000));
    }
    let _ = writeln!(out, "Started: {} ({})", when(ctx.started_at), ctx.started_at);
    let _ = writeln!(out, "Impact: {impact} ({})", impact_name(impact));
    if let Some(url) = incident_url {
        let _ = writeln!(out, "Incident page: {}", printable(url, 2000));
    }
    let _ = writeln!(
        out,
        "Support plan: {} ({}, {})",
        spec.id,
        printable(&spec.vendor, 200),
        printable(&spec.tier, 100)
    );
    let _ = writeln!(out, "Owner team: {} ({})", spec.owner.team, spec.owner.email);
    let resources = &ctx.facts.resources;
    if resources.is_empty() {
        let _ = writeln!(out, "Involved resources: none named by the incident");
        return out;
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "Involved resources ({}):", resources.len());
    // Room kept for the line that counts the resources left out.
    let more_room = 100;
    let mut used = out.chars().count();
    for (i, r) in resources.iter().enumerate() {
        let line = format!("- {}\n", printable(r, 2048));
        let n = line.chars().count();
        let last = i + 1 == resources.len();
        let limit = if last {
            MAX_BODY_CHARS
        } else {
            MAX_BODY_CHARS - more_room
        };
        if used + n > limit {
            let _ = writeln!(
                out,
                "... and {} more (not listed: the case body is limited to 8,000 characters)",
                resources.len() - i
            );
            break;
        }
        out.push_str(&line);
        used += n;
    }
    out
}
