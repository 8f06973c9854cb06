//! PagerDuty as an incident source and sink, the pure part (SPEC §11): which
//! ids are PagerDuty incident ids, what the pipeline makes of a PagerDuty
//! incident (its service for `match.pagerduty_services`, its impact from
//! priority or urgency), and the marker line that makes a note recognisable
//! when PagerDuty, which takes no client token, is asked again.

use jiff::Timestamp;

use crate::impact::{PriorityImpacts, pagerduty_impact};
use crate::matching::PagerDutyService;
use crate::pipeline::{IncidentId, ReportedIncident};

/// [`IncidentId::External`]'s `kind` for a PagerDuty incident.
pub const KIND: &str = "pagerduty";

/// The longest PagerDuty id taken (incident ids are 7 to 14 characters today).
pub const MAX_ID_CHARS: usize = 64;

/// The longest note the responder posts into a PagerDuty incident, in
/// characters, marker line included. PagerDuty's API reference documents a
/// limit on the number of notes (2,000 an incident) and none on a note's
/// length; 25,000 is the figure of the local stand-in
/// (infra/pagerduty-standin, README "Guesses"), taken here so the two agree.
pub const NOTE_LIMIT: usize = 25_000;

/// What every marker line starts with.
pub const MARKER_PREFIX: &str = "support-plans ref ";

/// The longest client token a marker carries ([`crate::pipeline::client_token`]
/// makes 48 hex digits).
pub const MAX_TOKEN_CHARS: usize = 64;

/// What [`with_marker`] adds to a note at most: a blank line and the marker.
pub const MARKER_RESERVE: usize = 2 + MARKER_PREFIX.len() + MAX_TOKEN_CHARS;

/// The longest text the pipeline may hand a PagerDuty note (the renderer
/// cuts a plan at a step boundary below it): [`NOTE_LIMIT`] less the marker.
pub const NOTE_TEXT_LIMIT: usize = NOTE_LIMIT - MARKER_RESERVE;

/// A PagerDuty incident id as a hand-off names it: 1 to [`MAX_ID_CHARS`]
/// ASCII letters and digits (it goes into a URL path).
pub fn incident_id(id: &str) -> Result<&str, String> {
    if !id.is_empty() && id.len() <= MAX_ID_CHARS && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(id)
    } else {
        Err(format!(
            "a PagerDuty incident id is 1 to {MAX_ID_CHARS} letters and digits, not {:?}",
            crate::validate::printable(id, 80)
        ))
    }
}

/// The PagerDuty incident `id` as the pipeline names it.
pub fn id(incident_id: &str) -> IncidentId {
    IncidentId::External {
        kind: KIND,
        id: incident_id.to_owned(),
    }
}

/// The marker line of the note posted with `client_token`.
pub fn marker(client_token: &str) -> String {
    format!("{MARKER_PREFIX}{client_token}")
}

/// The note as posted: `text`, a blank line, the marker line.
pub fn with_marker(text: &str, client_token: &str) -> String {
    debug_assert!(client_token.chars().count() <= MAX_TOKEN_CHARS);
    format!("{}\n\n{}", text.trim_end(), marker(client_token))
}

/// Whether a note's content is the note posted with `client_token`: its last
/// line is that marker (blanks around it ignored, whatever line endings
/// PagerDuty gives back).
pub fn carries_marker(content: &str, client_token: &str) -> bool {
    content
        .trim_end()
        .lines()
        .last()
        .is_some_and(|line| line.trim() == marker(client_token))
}

/// What the responder reads of a PagerDuty incident (`GET /incidents/{id}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagerDutyIncident {
    pub id: String,
    pub title: String,
    /// `status` is `resolved`.
    pub resolved: bool,
    pub created_at: Timestamp,
    /// The priority's name (`P1`…), when the incident has one.
    pub priority: Option<String>,
    /// `high` or `low`.
    pub urgency: Option<String>,
    pub service: Option<PagerDutyService>,
    /// The incident's page in PagerDuty.
    pub html_url: Option<String>,
}

impl PagerDutyIncident {
    /// The incident as the pipeline sees it: matched by its service and
    /// title, its impact from its priority (through `impacts`) or urgency.
    pub fn reported(self, impacts: &PriorityImpacts) -> ReportedIncident {
        ReportedIncident {
            impact: pagerduty_impact(self.priority.as_deref(), self.urgency.as_deref(), impacts),
            id: id(&self.id),
            title: self.title,
            started_at: self.created_at,
            resolved: self.resolved,
            resources: Vec::new(),
            tags: Default::default(),
            related_urls: self.html_url.into_iter().collect(),
            chat_topics: Vec::new(),
            pagerduty_service: self.service,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_bounded_alphanumerics() {
        assert_eq!(incident_id("Q1ABCD2EFGH3IJ"), Ok("Q1ABCD2EFGH3IJ"));
        for bad in ["", "P1/../x", "P 1", "P1?x=1", "é", &"P".repeat(65)] {
            assert!(incident_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_note_is_recognised_by_its_own_marker_only() {
        let token = crate::pipeline::client_token("pagerduty:Q1", "NOTE#aws-business");
        let note = with_marker("### Vendor support\nsteps\n", &token);
        assert!(note.ends_with(&format!("\n\nsupport-plans ref {token}")));
        assert!(carries_marker(&note, &token));
        assert!(carries_marker(
            &format!("{}\r\n", note.replace('\n', "\r\n")),
            &token
        ));
        let other = crate::pipeline::client_token("pagerduty:Q1", "NOTE#stripe-premium");
        assert!(!carries_marker(&note, &other));
        // Quoted in the middle of someone's note, it is not that note.
        assert!(!carries_marker(&format!("{note}\nthanks"), &token));
        assert!(note.chars().count() - "### Vendor support\nsteps".len() <= MARKER_RESERVE);
        assert_eq!(NOTE_TEXT_LIMIT + MARKER_RESERVE, NOTE_LIMIT);
    }
}
