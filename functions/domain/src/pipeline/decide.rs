//! The pipeline's decisions, as functions of data (SPEC §4): which parts of
//! an answer to claim, what to post of those held, which plan owns a shared
//! URL, and what is done, refused or given back afterwards.

use std::collections::BTreeSet;

use crate::case::CaseRequest;
use crate::matching::{Incident, match_incident, needed_plans};
use crate::model::Workload;
use crate::ports::PortError;
use crate::post::Posts;
use crate::types::Slug;

use super::claims::{
    COUNTED, Claim, ClaimState, Settlement, UNMATCHED, case_part, chat_part, is_chat_part, link_part,
    no_plan_part, note_part,
};

/// What one invocation did, returned to the caller and logged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub notes: u32,
    pub links: u32,
    pub chats: u32,
    pub already_done: u32,
    pub busy: u32,
    /// Parts refused for good (SPEC §4): recorded, not retried.
    pub refused: Vec<String>,
    /// The per-incident metrics this invocation emitted: set only by the
    /// invocation that recorded the incident's count (SPEC §4 "Counted once").
    pub counted: Vec<&'static str>,
    /// An incident over its sender's limit: nothing was posted.
    pub throttled: bool,
    /// Parts that failed and were given back, each with why.
    pub failures: Vec<String>,
}

/// Every part of an answer that can be named before the plans are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// The plans the matched workloads depend on.
    pub needed: Vec<Slug>,
    /// The matched workloads' names.
    pub matched: Vec<String>,
    /// The parts to claim, in order.
    pub parts: Vec<String>,
}

/// The parts to claim: with a record, a note and the related items per
/// needed plan (and its case, when `cases`: given back unused by a plan that
/// opens none), the unmatched note when nothing matched, and each matched
/// workload's no-plan note (done without a post when a plan covers it, which
/// is known once the plans are read); the chat message per topic; the count.
pub fn wanted(
    facts: &Incident,
    workloads: &[Workload],
    to_record: bool,
    topics: &[String],
    count: bool,
    cases: bool,
) -> Wanted {
    let needed = needed_plans(facts, workloads);
    let matched: Vec<String> = match_incident(facts, workloads, &[])
        .workloads
        .iter()
        .map(|m| m.workload.name().to_string())
        .collect();
    let mut parts: Vec<String> = Vec::new();
    if to_record {
        for p in &needed {
            parts.push(note_part(p.as_str()));
            parts.push(link_part(p.as_str()));
            if cases {
                parts.push(case_part(p.as_str()));
            }
        }
        if matched.is_empty() {
            parts.push(UNMATCHED.into());
        }
        parts.extend(matched.iter().map(|w| no_plan_part(w)));
    }
    parts.extend(topics.iter().map(|t| chat_part(t)));
    if count {
        parts.push(COUNTED.into());
    }
    Wanted {
        needed,
        matched,
        parts,
    }
}

/// The incident's own chat topics, then `extra` (`INCIDENT_TOPIC_ARN`), each once.
pub fn topics(incident: &[String], extra: Option<&str>) -> Vec<String> {
    let mut topics: Vec<String> = Vec::new();
    for t in incident.iter().map(String::as_str).chain(extra) {
        if !topics.iter().any(|x| x == t) {
            topics.push(t.to_owned());
        }
    }
    topics
}

/// Whether a rate-limited sender's slot is needed: only while a chat message
/// is still to post (a re-delivery of a posted incident costs none).
pub fn needs_slot(parts: &[String], state: &ClaimState) -> bool {
    parts.iter().any(|p| is_chat_part(p) && !state.is_done(p))
}

/// The parts this invocation holds, tallying those done or busy elsewhere.
pub fn held(parts: &[String], claims: Result<Vec<Claim>, PortError>, tally: &mut Tally) -> BTreeSet<String> {
    let mut held = BTreeSet::new();
    match claims {
        Ok(claims) => {
            for (part, claim) in parts.iter().zip(claims) {
                match claim {
                    Claim::Acquired => {
                        held.insert(part.clone());
                    }
                    Claim::Done => tally.already_done += 1,
                    Claim::Busy => tally.busy += 1,
                }
            }
        }
        Err(e) => tally.failures.push(format!("claims: {e}")),
    }
    held
}

/// One post, made once its part is held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    Note {
        part: String,
        /// The plan it is for (none: the unmatched or a no-plan note).
        plan: Option<String>,
        text: String,
    },
    Link {
        part: String,
        plan: String,
        title: String,
        url: String,
    },
    Chat {
        part: String,
        topic: String,
    },
    Count {
        matched: bool,
        without_plan: bool,
    },
    /// The vendor's case to open, then its note (SPEC §13).
    Case {
        part: String,
        request: CaseRequest,
    },
}

impl Job {
    pub fn part(&self) -> &str {
        match self {
            Self::Note { part, .. }
            | Self::Link { part, .. }
            | Self::Chat { part, .. }
            | Self::Case { part, .. } => part,
            Self::Count { .. } => COUNTED,
        }
    }

    pub fn plan(&self) -> Option<&str> {
        match self {
            Self::Note { plan, .. } => plan.as_deref(),
            Self::Link { plan, .. } => Some(plan),
            Self::Case { request, .. } => Some(&request.plan),
            Self::Chat { .. } | Self::Count { .. } => None,
        }
    }
}

/// What to post of the parts held. A URL two plans share is the first
/// plan's to add, whichever invocation holds that plan's claim; a URL the
/// incident already has is not added again.
pub fn jobs(
    posts: &Posts,
    held: &BTreeSet<String>,
    to_record: bool,
    related_urls: &[String],
    topics: &[String],
    matched: bool,
    cases: &[CaseRequest],
) -> Vec<Job> {
    let mut jobs = Vec::new();
    if to_record {
        for request in cases {
            let part = case_part(&request.plan);
            if held.contains(&part) {
                jobs.push(Job::Case {
                    part,
                    request: request.clone(),
                });
            }
        }
        for note in &posts.notes {
            let part = note_part(&note.plan_id);
            if held.contains(&part) {
                jobs.push(Job::Note {
                    part,
                    plan: Some(note.plan_id.clone()),
                    text: note.text.clone(),
                });
            }
        }
        if let Some(text) = &posts.unmatched_note
            && held.contains(UNMATCHED)
        {
            jobs.push(Job::Note {
                part: UNMATCHED.into(),
                plan: None,
                text: text.clone(),
            });
        }
        for note in &posts.no_plan_notes {
            let part = no_plan_part(&note.workload);
            if held.contains(&part) {
                jobs.push(Job::Note {
                    part,
                    plan: None,
                    text: note.text.clone(),
                });
            }
        }
        let mut owners: Vec<&crate::post::RelatedLink> = Vec::new();
        for link in &posts.related {
            if !owners.iter().any(|o| o.url == link.url) {
                owners.push(link);
            }
        }
        for link in owners {
            let part = link_part(&link.plan_id);
            if !held.contains(&part) || related_urls.contains(&link.url) {
                continue;
            }
            jobs.push(Job::Link {
                part,
                plan: link.plan_id.clone(),
                title: link.title.clone(),
                url: link.url.clone(),
            });
        }
    }
    for topic in topics {
        let part = chat_part(topic);
        if held.contains(&part) {
            jobs.push(Job::Chat {
                part,
                topic: topic.clone(),
            });
        }
    }
    if held.contains(COUNTED) {
        jobs.push(Job::Count {
            matched,
            without_plan: posts.without_plan,
        });
    }
    jobs
}

/// The metrics an incident's count emits (once, by the invocation that recorded it).
pub fn counted_metrics(matched: bool, without_plan: bool) -> Vec<&'static str> {
    let mut names = vec![if matched {
        "IncidentsMatched"
    } else {
        "IncidentsUnmatched"
    }];
    if without_plan {
        names.push("IncidentsWithoutPlan");
    }
    names
}

/// The parts posted, refused and failed, from the posts' results.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Results {
    pub used: BTreeSet<String>,
    pub failed: BTreeSet<String>,
    pub refused: Vec<String>,
    /// Each refused part with the sink's or topic's reason, for the one log line.
    pub reasons: Vec<(String, String)>,
}

/// Tallies each post's result: counted, refused for good, or failed (to retry).
pub fn results(jobs: &[Job], results: Vec<Result<(), PortError>>, tally: &mut Tally) -> Results {
    let mut out = Results::default();
    for (job, result) in jobs.iter().zip(results) {
        let part = job.part().to_owned();
        out.used.insert(part.clone());
        match (result, job) {
            (Ok(()), Job::Note { .. } | Job::Case { .. }) => tally.notes += 1,
            (Ok(()), Job::Link { .. }) => tally.links += 1,
            (Ok(()), Job::Chat { .. }) => tally.chats += 1,
            (
                Ok(()),
                Job::Count {
                    matched,
                    without_plan,
                },
            ) => tally.counted = counted_metrics(*matched, *without_plan),
            (Err(PortError::Refused(e)), _) => {
                tally.refused.push(part.clone());
                out.reasons.push((part.clone(), e));
                out.refused.push(part);
            }
            (Err(PortError::Retry(e)), _) => {
                tally.failures.push(format!("{part}: {e}"));
                out.failed.insert(part);
            }
        }
    }
    out
}

/// What is written back: each held part done (posted; or an active plan's
/// links with nothing left to add; or a covered workload's no-plan note),
/// refused, or given back (failed; or unused: a plan retired or gone since
/// the workload named it). `complete`: mark the answer complete now.
pub fn settlement(
    held: &BTreeSet<String>,
    results: &Results,
    posts: &Posts,
    matched: &[String],
    complete: bool,
) -> Settlement {
    let mut active: BTreeSet<String> = posts.notes.iter().map(|n| link_part(&n.plan_id)).collect();
    active.extend(
        matched
            .iter()
            .filter(|w| !posts.no_plan_notes.iter().any(|n| &n.workload == *w))
            .map(|w| no_plan_part(w)),
    );
    let mut s = Settlement {
        refused: results.refused.clone(),
        complete,
        ..Settlement::default()
    };
    for part in held {
        if results.refused.contains(part) {
            continue;
        }
        if results.failed.contains(part) {
            s.released.push(part.clone());
        } else if results.used.contains(part) || active.contains(part) {
            s.done.push(part.clone());
        } else {
            s.released.push(part.clone());
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_part_keeps_its_reason_for_the_log_and_is_not_a_failure() {
        let jobs = vec![
            Job::Chat {
                part: "CHAT#arn:aws:sns:us-east-1:1:gone".into(),
                topic: "arn:aws:sns:us-east-1:1:gone".into(),
            },
            Job::Chat {
                part: "CHAT#arn:aws:sns:us-east-1:1:ok".into(),
                topic: "arn:aws:sns:us-east-1:1:ok".into(),
            },
        ];
        let mut tally = Tally::default();
        let out = results(
            &jobs,
            vec![
                Err(PortError::Refused("NotFound: Topic does not exist".into())),
                Ok(()),
            ],
            &mut tally,
        );
        assert_eq!(out.refused, vec!["CHAT#arn:aws:sns:us-east-1:1:gone".to_owned()]);
        assert_eq!(
            out.reasons,
            vec![(
                "CHAT#arn:aws:sns:us-east-1:1:gone".to_owned(),
                "NotFound: Topic does not exist".to_owned()
            )]
        );
        assert!(out.failed.is_empty() && tally.failures.is_empty());
        assert_eq!(tally.chats, 1);
    }
}
