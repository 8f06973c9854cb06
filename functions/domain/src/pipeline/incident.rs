//! The incident as the pipeline sees it, whatever its source (SPEC §4, §11):
//! which incident, what is known of it, and what a trigger added; and the
//! matching facts made of them.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::matching::{Incident, MAX_RESOURCE_LEN, PagerDutyService};
use crate::post::IncidentContext;
use crate::types::IncidentArn;

/// Which incident: its claims' key, where its notes go, its id in posts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IncidentId {
    /// An Incident Manager incident record.
    Record(IncidentArn),
    /// An incident kept elsewhere, by its source's own id: `kind` names the
    /// source (`generic`, `pagerduty`), so ids of two sources never meet.
    External { kind: &'static str, id: String },
}

impl IncidentId {
    /// The key of the incident's claims: the ARN, or `<kind>:<id>`.
    pub fn key(&self) -> String {
        match self {
            Self::Record(arn) => arn.as_str().to_owned(),
            Self::External { kind, id } => format!("{kind}:{id}"),
        }
    }

    /// The id posts show (the ARN's last segment, or the source's id).
    pub fn short(&self) -> &str {
        match self {
            Self::Record(arn) => arn.id(),
            Self::External { id, .. } => id,
        }
    }

    pub fn arn(&self) -> Option<&IncidentArn> {
        match self {
            Self::Record(arn) => Some(arn),
            Self::External { .. } => None,
        }
    }
}

impl std::fmt::Display for IncidentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.key())
    }
}

/// What an incident source says of one incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedIncident {
    pub id: IncidentId,
    pub title: String,
    /// 1 (critical) … 5 (no impact), when known.
    pub impact: Option<u8>,
    pub started_at: Timestamp,
    pub resolved: bool,
    /// Involved resources (ARNs), in the source's order.
    pub resources: Vec<String>,
    /// The incident's tags (`workload` names a workload explicitly).
    pub tags: BTreeMap<String, String>,
    /// URLs the incident already links to.
    pub related_urls: Vec<String>,
    /// Chat topics the incident itself names (`chatChannel.chatbotSns`).
    pub chat_topics: Vec<String>,
    /// The PagerDuty service the incident is on (`match.pagerduty_services`).
    pub pagerduty_service: Option<PagerDutyService>,
}

/// What a trigger adds to what the source says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Told {
    pub resources: Vec<String>,
    pub workload: Option<String>,
    /// A response-plan name or ARN.
    pub response_plan: Option<String>,
}

/// An incident that arrives whole with its trigger (no source to read, no
/// record to write): the generic `Incident Started` event, a signed webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub id: IncidentId,
    /// Who sent it: its chat messages cost one of this sender's slots a minute.
    pub sender: String,
    pub title: String,
    pub impact: Option<u8>,
    pub started_at: Timestamp,
    pub workload: Option<String>,
    pub resources: Vec<String>,
    /// The incident's own page, put in the chat message.
    pub url: Option<String>,
}

/// A deterministic idempotency token for one part of the answer to one incident.
pub fn client_token(incident: &str, part: &str) -> String {
    let digest = Sha256::digest(format!("{incident}\n{part}").as_bytes());
    digest.iter().take(24).map(|b| format!("{b:02x}")).collect()
}

/// The resources an ARN can be: a longer one is skipped, with a log line (it
/// would never match, and only cost matching time).
pub fn bounded(mut resources: Vec<String>, incident: &str) -> Vec<String> {
    resources.retain(|r| {
        let fits = r.len() <= MAX_RESOURCE_LEN;
        if !fits {
            tracing::warn!(
                incident,
                length = r.len(),
                max = MAX_RESOURCE_LEN,
                "involved resource longer than an ARN can be: skipped"
            );
        }
        fits
    });
    resources
}

/// Matching facts from the incident as read, its tags and the trigger.
pub fn context(incident: &ReportedIncident, told: Told) -> IncidentContext {
    let mut resources = incident.resources.clone();
    resources.extend(told.resources);
    let mut seen = BTreeSet::new();
    resources.retain(|r| seen.insert(r.clone()));
    let resources = bounded(resources, &incident.id.key());
    let mut workloads: Vec<String> = told.workload.into_iter().collect();
    if let Some(tag) = incident.tags.get("workload") {
        workloads.push(tag.clone());
    }
    IncidentContext {
        facts: Incident {
            arn: incident.id.arn().map(|a| a.as_str().to_owned()),
            title: incident.title.clone(),
            response_plan: told.response_plan,
            resources,
            workloads,
            pagerduty_service: incident.pagerduty_service.clone(),
        },
        impact: incident.impact,
        started_at: incident.started_at,
    }
}

/// Matching facts from the trigger alone: the incident's source could not be
/// read, so the answer goes on what the trigger said, from `now`.
pub fn context_told(id: &IncidentId, told: Told, now: Timestamp) -> IncidentContext {
    IncidentContext {
        facts: Incident {
            arn: id.arn().map(|a| a.as_str().to_owned()),
            title: String::new(),
            response_plan: told.response_plan,
            resources: bounded(told.resources, &id.key()),
            workloads: told.workload.into_iter().collect(),
            pagerduty_service: None,
        },
        impact: None,
        started_at: now,
    }
}

/// Matching facts of an incident delivered whole.
pub fn context_delivered(d: &Delivered) -> IncidentContext {
    IncidentContext {
        facts: Incident {
            arn: d.id.arn().map(|a| a.as_str().to_owned()),
            title: d.title.clone(),
            response_plan: None,
            resources: bounded(d.resources.clone(), &d.id.key()),
            workloads: d.workload.clone().into_iter().collect(),
            pagerduty_service: None,
        },
        impact: d.impact,
        started_at: d.started_at,
    }
}
