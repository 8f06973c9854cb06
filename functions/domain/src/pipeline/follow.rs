//! The follow-up sweep's driver (SPEC §13): for one open incident already
//! answered, the follow-ups due now ([`followup::due`]) and the "vendor
//! responded" notes recorded but not yet posted are claimed, posted and
//! settled through the same claim item as the first answer, so each is
//! posted once per (incident, plan, step) whatever overlaps and retries.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use futures_util::future::{join_all, join3};
use jiff::Timestamp;

use crate::model::SupportPlan;
use crate::ports::{ClaimStore, Directory, IncidentSink, IncidentSource, Metrics, PortError};
use crate::post::{plan_title, truncate_chars, when};
use crate::responded::{Responded, ResponseMarks, Via};
use crate::types::Slug;

use super::claims::{ClaimState, Settlement, UNMATCHED};
use super::decide::{self, Tally};
use super::followup::{self, OpenIncident};
use super::incident::{IncidentId, client_token};
use super::run::{Pipeline, PipelineError, Ports};

/// Makes the signed "vendor responded" link of (incident key, plan).
pub type Linker<'a> = &'a (dyn Fn(&str, &str) -> String + Send + Sync);

/// The claim part of the note saying a plan's vendor was marked as responding.
pub fn responded_part(plan: &str) -> String {
    format!("RESPONDED#{plan}")
}

/// The plans whose first note was posted into the incident (`NOTE#<plan>`
/// done), in the claims' order; not the "no workload matched" note, whose
/// part would read as a plan named `unmatched`.
pub fn answered_plans(state: &ClaimState) -> Vec<Slug> {
    state
        .done
        .iter()
        .filter(|p| p.as_str() != UNMATCHED)
        .filter_map(|p| p.strip_prefix("NOTE#"))
        .filter(|rest| !rest.contains('#'))
        .filter_map(|id| Slug::parse(id).ok())
        .collect()
}

/// The note that says a plan's vendor was marked as responding.
pub fn responded_note(mark: &Responded, plan: Option<&SupportPlan>, limit: usize) -> String {
    let title = plan.map_or_else(|| format!("`{}`", mark.plan), plan_title);
    let how = match mark.via {
        Via::Link => "with the link in a follow-up note",
        Via::Api => "through the support-plans API",
    };
    let mut s = String::new();
    let _ = writeln!(s, "### Vendor responding: {title}");
    // The name was typed on the link's page: shown as code, so it renders
    // as the text it is, never as markdown (a link, an image).
    let _ = write!(
        s,
        "Marked as responding by `{}` at {} ({how}). No more follow-ups for this plan.",
        mark.by.replace('`', "'"),
        when(mark.at)
    );
    truncate_chars(&s, limit)
}

/// What one incident's follow-up did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FollowedUp {
    /// Follow-up and "responded" notes posted by this invocation.
    pub notes: u32,
    /// Due, but already posted (or refused) before.
    pub already_done: u32,
    /// Held by another invocation now.
    pub busy: u32,
    pub failures: Vec<String>,
}

struct Post {
    part: String,
    text: String,
    at: Timestamp,
}

impl<P: Ports> Pipeline<P> {
    /// Posts what is due of an open incident's follow-through (SPEC §13):
    /// nothing for a resolved or unknown incident, nor for one the pipeline
    /// has not answered; each due step and first response of its answered
    /// plans not marked as responding, and each mark not yet told.
    #[tracing::instrument(skip_all, fields(incident = %id))]
    pub async fn follow_up(
        &self,
        id: &IncidentId,
        link: Option<Linker<'_>>,
        now: Timestamp,
    ) -> Result<FollowedUp, PipelineError> {
        let key = id.key();
        // Round trip 0: the incident ‖ its claims ‖ its marks.
        let (read, state, marks) = join3(
            self.source.read(id),
            self.claims.read(&key),
            self.marks.marks(&key),
        )
        .await;
        let incident = match read {
            Ok(Some(incident)) if !incident.resolved => incident,
            Ok(_) => return Ok(FollowedUp::default()),
            Err(PortError::Refused(reason)) => {
                tracing::warn!(incident = %key, %reason, "the incident's source refused to read it; no follow-ups");
                return Ok(FollowedUp::default());
            }
            Err(e) => return Err(PipelineError::Unavailable(e.to_string())),
        };
        let state = state.map_err(|e| PipelineError::Unavailable(e.to_string()))?;
        let marks: BTreeMap<String, Responded> =
            marks.map_err(|e| PipelineError::Unavailable(e.to_string()))?;
        let answered = answered_plans(&state);
        if answered.is_empty() && marks.is_empty() {
            return Ok(FollowedUp::default());
        }
        // Round trip 1: the plans, as they are now (a phone number
        // corrected during the incident is the one to call).
        let plans = self
            .directory
            .plans(&answered)
            .await
            .map_err(|e| PipelineError::Unavailable(e.to_string()))?;
        let open = OpenIncident {
            started_at: incident.started_at,
            impact: incident.impact,
            resolved: incident.resolved,
        };
        let responded: BTreeSet<String> = marks.keys().cloned().collect();
        let limit = self.sink.note_limit(id);
        let mut posts: Vec<Post> = followup::due(&open, &plans, &responded, now)
            .iter()
            .map(|f| {
                let url = link.map(|l| l(&key, f.plan.id().as_str()));
                Post {
                    part: f.part(),
                    text: f.note(&open, &self.settings.links, url.as_deref(), limit),
                    at: f.due_at,
                }
            })
            .collect();
        for mark in marks.values() {
            let plan = plans.iter().find(|p| p.id().as_str() == mark.plan);
            posts.push(Post {
                part: responded_part(&mark.plan),
                text: responded_note(mark, plan, limit),
                at: mark.at,
            });
        }
        posts.retain(|p| !state.is_done(&p.part));
        let mut out = FollowedUp::default();
        if posts.is_empty() {
            return Ok(out);
        }

        // Round trip 2: lease what is due; 3: post it; 4: settle.
        let parts: Vec<String> = posts.iter().map(|p| p.part.clone()).collect();
        let claims = self.claims.take(&key, state, &parts, now).await;
        let mut tally = Tally::default();
        let held = decide::held(&parts, claims, &mut tally);
        out.already_done = tally.already_done;
        out.busy = tally.busy;
        out.failures = tally.failures;
        let posts: Vec<(&Post, String)> = posts
            .iter()
            .filter(|p| held.contains(&p.part))
            .map(|p| (p, client_token(&key, &p.part)))
            .collect();
        let results = join_all(
            posts
                .iter()
                .map(|(p, token)| self.sink.note(id, &p.text, p.at, token)),
        )
        .await;
        let mut settlement = Settlement::default();
        for ((post, _), result) in posts.iter().zip(results) {
            match result {
                Ok(()) => {
                    out.notes += 1;
                    self.metrics.count("FollowUpsPosted");
                    settlement.done.push(post.part.clone());
                }
                Err(PortError::Refused(e)) => {
                    tracing::error!(incident = %key, part = %post.part, error = %e, "the incident's sink refused the follow-up; recorded, not retried");
                    self.metrics.count("PostsRefused");
                    settlement.refused.push(post.part.clone());
                }
                Err(PortError::Retry(e)) => {
                    out.failures.push(format!("{}: {e}", post.part));
                    settlement.released.push(post.part.clone());
                }
            }
        }
        if let Err(e) = self.claims.settle(&key, &settlement, now).await {
            out.failures.push(format!(
                "{}: posted, but not marked done: {e}",
                settlement.done.join(", ")
            ));
        }
        if out.notes > 0 {
            tracing::info!(incident = %key, notes = out.notes, "follow-ups posted");
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answered_plans_are_the_plans_notes_not_the_unmatched_or_no_plan_notes() {
        let state = ClaimState {
            done: [
                "NOTE#aws-business",
                "NOTE#unmatched",
                "NOTE#noplan#reports",
                "LINK#aws-business",
                "CHAT#arn:aws:sns:us-east-1:1:t",
                "NOTE#stripe-premium",
            ]
            .map(str::to_owned)
            .into(),
            ..ClaimState::default()
        };
        let ids: Vec<String> = answered_plans(&state).iter().map(ToString::to_string).collect();
        assert_eq!(ids, ["aws-business", "stripe-premium"]);
    }
}
