//! Opening the vendor's case for an incident (SPEC §13, opt-in): which plans
//! open one at an incident's impact, and what the case says. AWS Support's
//! `CreateCase` takes the request as built here; the adapter adds nothing
//! but the marker that lets a retry find the case it opened.

use std::future::Future;

use jiff::Timestamp;

use crate::ports::PortError;

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

// PLACEHOLDER until h-model merges: the case a plan opens.
pub fn case_for(
    plan: &crate::model::SupportPlan,
    ctx: &crate::post::IncidentContext,
    incident: &str,
    incident_url: Option<&str>,
) -> Option<CaseRequest> {
    let oc = plan.spec.open_case.as_ref()?;
    let impact = ctx.impact?;
    if impact > oc.min_impact {
        return None;
    }
    let sev = crate::post::mapped_severity(plan, Some(impact))?;
    Some(CaseRequest {
        plan: plan.id().to_string(),
        subject: ctx.facts.title.clone(),
        service_code: oc.service_code.clone(),
        category_code: oc.category_code.clone(),
        severity_code: sev.code.clone()?,
        body: format!("{incident} {}", incident_url.unwrap_or_default()),
        cc_emails: oc.cc_emails.iter().map(|e| e.to_string()).collect(),
        issue_type: "technical",
        language: "en",
        opened_after: ctx.started_at,
    })
}
