//! The incident responder (SPEC §4): from any of its four triggers to the
//! vendor escalation steps in the incident, exactly once per (incident, plan).

pub mod sources;
pub mod triggers;

use std::collections::BTreeSet;

use futures_util::future::join_all;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support_plans_aws::DynamoStore;
use support_plans_aws::calls::CallLog;
use support_plans_aws::claims::{Claim, ClaimState, Claims};
use support_plans_aws::incidents::{IncidentError, IncidentManager, IncidentView};
use support_plans_aws::sns::{PublishError, publish_chat};
use support_plans_domain::freshness::Policy;
use support_plans_domain::matching::{Incident, MAX_RESOURCE_LEN, match_incident, needed_plans};
use support_plans_domain::model::{Status, Workload};
use support_plans_domain::ports::{PlanStore as _, RateLimit as _, Slot};
use support_plans_domain::post::{IncidentContext, Links, Posts, prepare};
use support_plans_domain::readiness::{Activity, ActivityLog as _};
use support_plans_domain::validate::printable;

use crate::sources::GenericSources;
use crate::triggers::{Generic, Trigger};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Everything the function needs, built once per process.
#[derive(Debug, Clone)]
pub struct Responder {
    pub store: DynamoStore,
    pub claims: Claims,
    pub incidents: IncidentManager,
    pub sns: aws_sdk_sns::Client,
    /// `INCIDENT_TOPIC_ARN`: every incident's chat message also goes here.
    pub incident_topic: Option<String>,
    /// `CHAT_TOPIC_ARNS`: the chat topics the function may publish to (the
    /// template's `ChatbotTopicArns`, as its IAM policy says), besides
    /// `INCIDENT_TOPIC_ARN`; `None` (unset): any.
    pub chat_topics: Option<Vec<String>>,
    pub links: Links,
    pub policy: Policy,
    /// How far back the sweep looks for open incidents.
    pub sweep_window: SignedDuration,
    /// `GENERIC_SOURCES`, `GENERIC_LIMIT_PER_MINUTE`: who may send generic
    /// incidents, and how many a minute each.
    pub generic: GenericSources,
}

/// A deterministic idempotency token for one part of the answer to one incident.
pub fn client_token(incident: &str, part: &str) -> String {
    let digest = Sha256::digest(format!("{incident}\n{part}").as_bytes());
    digest.iter().take(24).map(|b| format!("{b:02x}")).collect()
}

fn metric(name: &str, value: u64) {
    // CloudWatch Embedded Metric Format: one JSON line on stdout.
    let line = json!({
        "_aws": {
            "Timestamp": Timestamp::now().as_millisecond(),
            "CloudWatchMetrics": [{"Namespace": "SupportPlans", "Dimensions": [[]], "Metrics": [{"Name": name, "Unit": "Count"}]}],
        },
        name: value,
    });
    #[allow(clippy::print_stdout)]
    {
        println!("{line}");
    }
}

/// What one invocation did, returned to the caller and logged.
#[derive(Debug, Default)]
struct Tally {
    notes: u32,
    links: u32,
    chats: u32,
    already_done: u32,
    busy: u32,
    /// Parts refused for good (SPEC §4): recorded, not retried.
    refused: Vec<String>,
    /// The per-incident metrics this invocation emitted: set only by the
    /// invocation that recorded the incident's count (SPEC §4 "Counted once").
    counted: Vec<&'static str>,
    /// A generic incident over its source's limit: nothing was posted.
    throttled: bool,
    failures: Vec<String>,
}

/// Where and how one incident is answered.
struct Target<'a> {
    /// The claims' partition: the incident ARN, or `generic:<id>`.
    key: &'a str,
    /// The incident record notes and related items go to; `None`: chat only.
    record: Option<&'a str>,
    /// URLs the incident already has among its related items.
    related_urls: &'a [String],
    /// The incident's chat-channel topics (`INCIDENT_TOPIC_ARN` is added).
    topics: &'a [String],
    /// Whether the incident is added to the day's matched/unmatched/without-plan count.
    count: bool,
    /// Whether a fully answered incident is marked complete (for the sweep).
    mark_complete: bool,
    /// A generic incident's own page, put in the chat message.
    incident_url: Option<&'a str>,
    /// A generic incident's source: its chat message costs one of the
    /// source's slots for the minute.
    limited_source: Option<&'a str>,
}

/// One post, made once its part is claimed.
enum Job<'a> {
    Note {
        part: String,
        text: &'a str,
    },
    Link {
        part: String,
        title: &'a str,
        url: &'a str,
    },
    Chat {
        part: String,
        topic: &'a str,
        message: &'a str,
    },
    Count {
        matched: bool,
        without_plan: bool,
    },
}

/// The no-plan note's part for one matched workload.
fn no_plan_part(workload: &str) -> String {
    format!("NOTE#noplan#{workload}")
}

const COUNTED: &str = "COUNTED";

/// Why a part was not posted.
enum Failure {
    /// The service refuses it and would again (SPEC §4 "Permanent failures
    /// are not retried"): recorded as refused, the answer goes on.
    Refused(String),
    /// Throttling, 5xx, a timeout: given back for a retry.
    Retry(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Refused(e) | Self::Retry(e) => f.write_str(e),
        }
    }
}

impl From<IncidentError> for Failure {
    fn from(e: IncidentError) -> Self {
        match e {
            IncidentError::Refused(_) => Self::Refused(e.to_string()),
            IncidentError::NotFound(_) | IncidentError::Unavailable(_) => Self::Retry(e.to_string()),
        }
    }
}

impl Responder {
    /// Handles one event. `Err` means the invocation must fail (and be retried
    /// or land in the dead-letter queue); ignored events are `Ok`.
    pub async fn handle(&self, event: &Value, now: Timestamp) -> Result<Value, Error> {
        match triggers::parse(event) {
            Trigger::Incident {
                arn,
                source,
                resources,
                workload,
                response_plan,
            } => {
                tracing::info!(incident = %arn, source, "incident");
                self.respond(&arn, resources, workload, response_plan, now).await
            }
            Trigger::Sweep => self.sweep(now).await,
            Trigger::Generic(g) if !self.generic.admits(&g.source) => {
                let source = printable(&g.source, 64);
                tracing::warn!(%source, incident = %g.id, "generic incident from a source not in GENERIC_SOURCES; ignored");
                metric("EventsIgnored", 1);
                metric("GenericIncidentsRefused", 1);
                Ok(json!({
                    "status": "ignored",
                    "reason": format!("source {source:?} is not one of GENERIC_SOURCES"),
                    "incident": g.id,
                }))
            }
            Trigger::Generic(g) => self.respond_generic(&g, now).await,
            Trigger::Ignored(reason) => {
                tracing::warn!(%reason, "event ignored");
                metric("EventsIgnored", 1);
                Ok(json!({"status": "ignored", "reason": reason}))
            }
        }
    }

    /// Matches, claims, posts, in as few sequential round trips as the
    /// guarantees allow (the incident, the workloads and the incident's claim
    /// item, `state`, were read before, at once):
    ///
    /// 1. the relevant plans are read while every part that can be named
    ///    without them (a note and the related items per needed plan, the
    ///    chat message per topic, the count) is leased, with one conditional
    ///    write on the claim item;
    /// 2. every leased part is posted, and the incident counted, at once;
    /// 3. then, off the path to the posts, one write: the posted parts done,
    ///    the others given back (failed, or unused: a plan retired or gone),
    ///    and the answer complete when nothing is left.
    ///
    /// A generic incident's chat message also costs one of its source's
    /// slots for the minute, taken in round trip 1 alongside the claims, and
    /// only when `state` says the message is not posted yet: a re-delivery
    /// of a posted incident costs none. A slot that paid for no message (the
    /// claim was another invocation's, or the post failed) is given back; no
    /// slot left: nothing is posted and every lease is given back, so the
    /// same incident sent again in a later minute is answered.
    async fn answer(
        &self,
        target: &Target<'_>,
        ctx: &IncidentContext,
        id: &str,
        workloads: &[Workload],
        state: ClaimState,
        now: Timestamp,
    ) -> Result<(Posts, Tally), Error> {
        let key = target.key;
        let needed = needed_plans(&ctx.facts, workloads);
        // Whether a matched workload is covered is known once the plans are
        // read: each matched workload's no-plan note is claimed now, and done
        // without a post when a plan covers it.
        let matched_names: Vec<String> = match_incident(&ctx.facts, workloads, &[])
            .workloads
            .iter()
            .map(|m| m.workload.name().to_string())
            .collect();
        let matched = !matched_names.is_empty();
        let mut topics: Vec<&str> = Vec::new();
        for t in target.topics.iter().chain(self.incident_topic.iter()) {
            if !topics.contains(&t.as_str()) {
                topics.push(t);
            }
        }
        let mut parts: Vec<String> = Vec::new();
        if target.record.is_some() {
            for p in &needed {
                parts.push(format!("NOTE#{p}"));
                parts.push(format!("LINK#{p}"));
            }
            if !matched {
                parts.push("NOTE#unmatched".into());
            }
            parts.extend(matched_names.iter().map(|w| no_plan_part(w)));
        }
        parts.extend(topics.iter().map(|t| format!("CHAT#{t}")));
        if target.count {
            parts.push(COUNTED.into());
        }

        // Round trip 1: the plans ‖ the claims (‖ a slot).
        let was_complete = state.is_complete();
        let slot_for = target
            .limited_source
            .filter(|_| parts.iter().any(|p| p.starts_with("CHAT#") && !state.is_done(p)));
        let claims = self.claims.take(key, state, &parts, now);
        let slot = async {
            match slot_for {
                Some(source) => Some(
                    self.store
                        .take_slot(source, now, self.generic.limit_per_minute())
                        .await,
                ),
                None => None,
            }
        };
        let (plans, claims, slot) = tokio::join!(self.store.get_plans(&needed), claims, slot);
        let mut tally = Tally::default();
        let mut held: BTreeSet<&str> = BTreeSet::new();
        match claims {
            Ok(claims) => {
                for (part, claim) in parts.iter().zip(claims) {
                    match claim {
                        Claim::Acquired => {
                            held.insert(part);
                        }
                        Claim::Done => tally.already_done += 1,
                        Claim::Busy => tally.busy += 1,
                    }
                }
            }
            Err(e) => tally.failures.push(format!("claims: {e}")),
        }
        let chat_held = held.iter().any(|p| p.starts_with("CHAT#"));
        // The source whose slot this answer holds, to give back if unused.
        let mut paid = None;
        let slot_error = match slot {
            Some(Ok(Slot::Taken)) => {
                paid = slot_for;
                None
            }
            Some(Ok(Slot::Full)) => {
                tally.throttled = chat_held;
                None
            }
            Some(Err(e)) => Some(format!("rate limit: {e}")),
            None => None,
        };
        let plans = plans.map_err(Error::from).and_then(|plans| match slot_error {
            Some(e) => Err(e.into()),
            None => Ok(plans),
        });
        let plans = match plans {
            Ok(plans) => plans,
            Err(e) => {
                let held: Vec<&str> = held.into_iter().collect();
                tokio::join!(self.release_all(key, &held, now), self.give_back(paid, now));
                return Err(e);
            }
        };
        let mut posts = prepare(ctx, id, workloads, &plans, &self.links, &self.policy);
        if let Some(url) = target.incident_url {
            posts.chat["metadata"]["additionalContext"]["incident_url"] = json!(url);
        }
        if tally.throttled {
            let held: Vec<&str> = held.into_iter().collect();
            self.release_all(key, &held, now).await;
            return Ok((posts, tally));
        }
        // Round trip 2: every post, and the count, concurrently.
        let message = posts.chat.to_string();
        let mut jobs: Vec<Job<'_>> = Vec::new();
        if target.record.is_some() {
            for note in &posts.notes {
                let part = format!("NOTE#{}", note.plan_id);
                if held.contains(part.as_str()) {
                    jobs.push(Job::Note {
                        part,
                        text: &note.text,
                    });
                }
            }
            if let Some(text) = &posts.unmatched_note
                && held.contains("NOTE#unmatched")
            {
                jobs.push(Job::Note {
                    part: "NOTE#unmatched".into(),
                    text,
                });
            }
            for note in &posts.no_plan_notes {
                let part = no_plan_part(&note.workload);
                if held.contains(part.as_str()) {
                    jobs.push(Job::Note {
                        part,
                        text: &note.text,
                    });
                }
            }
            // A URL two plans share is the first plan's to add, whichever
            // invocation holds that plan's claim.
            let mut owners: Vec<(&str, &str)> = Vec::new();
            for link in &posts.related {
                if !owners.iter().any(|(u, _)| *u == link.url) {
                    owners.push((&link.url, &link.plan_id));
                }
            }
            for (url, plan_id) in owners {
                let part = format!("LINK#{plan_id}");
                if !held.contains(part.as_str()) || target.related_urls.iter().any(|u| u == url) {
                    continue;
                }
                let link = posts
                    .related
                    .iter()
                    .find(|l| l.url == url)
                    .expect("the owner is one of the links");
                jobs.push(Job::Link {
                    part,
                    title: &link.title,
                    url,
                });
            }
        }
        for topic in &topics {
            let part = format!("CHAT#{topic}");
            if held.contains(part.as_str()) {
                jobs.push(Job::Chat {
                    part,
                    topic,
                    message: &message,
                });
            }
        }
        if held.contains(COUNTED) {
            jobs.push(Job::Count {
                matched,
                without_plan: posts.without_plan,
            });
        }
        let results = join_all(
            jobs.iter()
                .map(|job| self.perform(key, target.record, job, ctx.started_at, now)),
        )
        .await;

        // Off the path, in one write: each held part done, or given back.
        let mut failed: BTreeSet<&str> = BTreeSet::new();
        let mut refused: Vec<&str> = Vec::new();
        let mut used: BTreeSet<&str> = BTreeSet::new();
        for (job, result) in jobs.iter().zip(results) {
            let part = match job {
                Job::Note { part, .. } | Job::Link { part, .. } | Job::Chat { part, .. } => part.as_str(),
                Job::Count { .. } => COUNTED,
            };
            used.insert(part);
            match (result, job) {
                (Ok(()), Job::Note { .. }) => tally.notes += 1,
                (Ok(()), Job::Link { .. }) => tally.links += 1,
                (Ok(()), Job::Chat { .. }) => tally.chats += 1,
                (
                    Ok(()),
                    Job::Count {
                        matched,
                        without_plan,
                    },
                ) => {
                    // Emitted by the one invocation that recorded the count.
                    tally.counted.push(if *matched {
                        "IncidentsMatched"
                    } else {
                        "IncidentsUnmatched"
                    });
                    if *without_plan {
                        tally.counted.push("IncidentsWithoutPlan");
                    }
                    for name in &tally.counted {
                        metric(name, 1);
                    }
                }
                (Err(Failure::Refused(e)), job) => {
                    // Logged once: the part is recorded as refused and never tried again.
                    if let Job::Chat { topic, .. } = job {
                        tracing::error!(incident = key, topic, error = %e, "chat topic refused the message; recorded, not retried");
                        metric("ChatTopicRefused", 1);
                    } else {
                        tracing::error!(incident = key, part, error = %e, "Incident Manager refused the post; recorded, not retried");
                        metric("PostsRefused", 1);
                    }
                    refused.push(part);
                    tally.refused.push(part.to_owned());
                }
                (Err(Failure::Retry(e)), _) => {
                    failed.insert(part);
                    tally.failures.push(format!("{part}: {e}"));
                }
            }
        }
        let mut active: BTreeSet<String> = posts
            .notes
            .iter()
            .map(|n| format!("LINK#{}", n.plan_id))
            .collect();
        // A covered workload needs no no-plan note: its part is done too.
        active.extend(
            matched_names
                .iter()
                .filter(|w| !posts.no_plan_notes.iter().any(|n| &n.workload == *w))
                .map(|w| no_plan_part(w)),
        );
        let mut done = Vec::new();
        let mut release = Vec::new();
        for part in held {
            if refused.contains(&part) {
                continue;
            }
            if failed.contains(part) {
                release.push(part);
            } else if used.contains(part) || active.contains(part) {
                // An active plan's links with nothing left to add, and a
                // covered workload's no-plan note, are done too.
                done.push(part);
            } else {
                // A plan retired or gone since the workload named it.
                release.push(part);
            }
        }
        // Every part is done, now or before, when nothing failed and none is busy.
        let complete = target.mark_complete && tally.failures.is_empty() && tally.busy == 0;
        let unused = if tally.chats == 0 { paid } else { None };
        let (settled, ()) = tokio::join!(
            self.claims
                .settle_refusing(key, &done, &refused, &release, complete && !was_complete, now),
            self.give_back(unused, now)
        );
        if let Err(e) = settled {
            tally
                .failures
                .push(format!("{}: posted, but not marked done: {e}", done.join(", ")));
        }
        Ok((posts, tally))
    }

    /// Gives back a source's slot that paid for no chat message.
    async fn give_back(&self, source: Option<&str>, taken_at: Timestamp) {
        if let Some(source) = source
            && let Err(e) = self.store.give_back(source, taken_at).await
        {
            tracing::warn!(source, error = %e, "an unused slot not given back; it lapses with its minute");
        }
    }

    /// Whether the function may publish to `topic`: `INCIDENT_TOPIC_ARN`, or
    /// one of `CHAT_TOPIC_ARNS` when set. Checked before the call, as IAM
    /// would answer it (AuthorizationError), which the local stack does not.
    fn may_publish(&self, topic: &str) -> bool {
        self.incident_topic.as_deref() == Some(topic)
            || self
                .chat_topics
                .as_ref()
                .is_none_or(|allowed| allowed.iter().any(|t| t == topic))
    }

    /// Gives claims back so that a retry may take them at once.
    async fn release_all(&self, key: &str, parts: &[&str], now: Timestamp) {
        if let Err(e) = self.claims.settle(key, &[], parts, false, now).await {
            tracing::warn!(?parts, error = %e, "claims not released; their leases will run out");
        }
    }

    /// Posts one part. A note's event time is `started_at`, the incident's
    /// creation time, the same on every try whichever trigger or invocation
    /// makes it: with its client token, a retried note is the very request
    /// Incident Manager took before (SPEC §4 "Exactly once").
    async fn perform(
        &self,
        key: &str,
        record: Option<&str>,
        job: &Job<'_>,
        started_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), Failure> {
        match (job, record) {
            (Job::Note { part, text }, Some(arn)) => Ok(self
                .incidents
                .post_note(arn, text, started_at, &client_token(key, part))
                .await?),
            (Job::Link { title, url, .. }, Some(arn)) => Ok(self
                .incidents
                .add_link(arn, title, url, &client_token(key, &format!("LINK#{url}")))
                .await?),
            (Job::Note { .. } | Job::Link { .. }, None) => {
                Err(Failure::Retry("no incident record to post into".into()))
            }
            (Job::Chat { topic, .. }, _) if !self.may_publish(topic) => Err(Failure::Refused(format!(
                "{topic} is neither INCIDENT_TOPIC_ARN nor one of CHAT_TOPIC_ARNS (the template's ChatbotTopicArns): the function may not publish to it"
            ))),
            // SNS Publish has no idempotency token: the one post that can go
            // out twice is a message SNS accepted from an invocation stopped
            // before `settle` recorded it (support_plans_aws::deadlines).
            (Job::Chat { topic, message, .. }, _) => {
                publish_chat(&self.sns, topic, message)
                    .await
                    .map_err(|e| match e {
                        PublishError::Refused { .. } => Failure::Refused(e.to_string()),
                        PublishError::Failed { .. } => Failure::Retry(e.to_string()),
                    })
            }
            (
                Job::Count {
                    matched,
                    without_plan,
                },
                _,
            ) => {
                let counts = Activity {
                    incidents_matched: u64::from(*matched),
                    incidents_unmatched: u64::from(!*matched),
                    incidents_without_plan: u64::from(*without_plan),
                    ..Activity::default()
                };
                let day = now.to_zoned(jiff::tz::TimeZone::UTC).date();
                self.store
                    .record(day, &counts)
                    .await
                    .map_err(|e| Failure::Retry(e.to_string()))
            }
        }
    }

    async fn respond(
        &self,
        arn: &str,
        trigger_resources: Vec<String>,
        workload: Option<String>,
        response_plan: Option<String>,
        now: Timestamp,
    ) -> Result<Value, Error> {
        let id = arn.rsplit('/').next().unwrap_or(arn).to_owned();
        // Round trip 0: the incident (three calls) ‖ the active workloads ‖ the claims.
        let (view, workloads, state) = tokio::join!(
            self.incidents.read(arn),
            self.store.all_workloads(Status::Active),
            self.claims.read(arn)
        );
        let view = match view {
            Ok(v) => v,
            Err(IncidentError::NotFound(_)) => {
                tracing::warn!(incident = %arn, "no such incident; nothing to do");
                metric("EventsIgnored", 1);
                return Ok(json!({"status": "ignored", "reason": "no such incident", "incident": arn}));
            }
            Err(IncidentError::Unavailable(e) | IncidentError::Refused(e)) => {
                let (workloads, _) = workloads?;
                let blind = Blind {
                    resources: trigger_resources,
                    workload,
                    response_plan,
                    error: e,
                };
                return self.respond_blind(arn, &id, blind, &workloads, state?, now).await;
            }
        };
        if view.resolved {
            return Ok(json!({"status": "resolved", "incident": arn}));
        }
        let (workloads, _) = workloads?;
        let state = state?;
        let ctx = context(&view, trigger_resources, workload, response_plan);
        let target = Target {
            key: arn,
            record: Some(arn),
            related_urls: &view.related_urls,
            topics: &view.chat_topics,
            count: true,
            mark_complete: true,
            incident_url: None,
            limited_source: None,
        };
        let (posts, tally) = self.answer(&target, &ctx, &id, &workloads, state, now).await?;
        let complete = tally.failures.is_empty() && tally.busy == 0;
        let summary = summary(arn, &posts, &tally, complete);
        tracing::info!(%summary, "responded");
        if tally.failures.is_empty() {
            Ok(summary)
        } else {
            Err(format!("incident {arn}: {}", tally.failures.join("; ")).into())
        }
    }

    /// Incident Manager is unreachable: match on what the trigger said, send
    /// the chat message to `INCIDENT_TOPIC_ARN` anyway, then fail.
    async fn respond_blind(
        &self,
        arn: &str,
        id: &str,
        blind: Blind,
        workloads: &[Workload],
        state: ClaimState,
        now: Timestamp,
    ) -> Result<Value, Error> {
        let error = blind.error;
        tracing::error!(incident = %arn, %error, "Incident Manager unavailable; sending the chat message only");
        let ctx = IncidentContext {
            facts: Incident {
                arn: Some(arn.to_owned()),
                title: String::new(),
                response_plan: blind.response_plan,
                resources: bounded(blind.resources, arn),
                workloads: blind.workload.into_iter().collect(),
            },
            impact: None,
            started_at: now,
        };
        let target = Target {
            key: arn,
            record: None,
            related_urls: &[],
            topics: &[],
            count: false,
            mark_complete: false,
            incident_url: None,
            limited_source: None,
        };
        let (_, tally) = self.answer(&target, &ctx, id, workloads, state, now).await?;
        Err(format!(
            "incident {arn}: Incident Manager unavailable ({error}); chat messages sent: {}{}",
            tally.chats,
            if tally.failures.is_empty() {
                String::new()
            } else {
                format!("; {}", tally.failures.join("; "))
            }
        )
        .into())
    }

    async fn respond_generic(&self, g: &Generic, now: Timestamp) -> Result<Value, Error> {
        let key = format!("generic:{}", g.id);
        let started_at = g.time.as_deref().and_then(|t| t.parse().ok()).unwrap_or(now);
        let ctx = IncidentContext {
            facts: Incident {
                arn: None,
                title: g.title.clone(),
                response_plan: None,
                resources: bounded(g.resources.clone(), &key),
                workloads: g.workload.clone().into_iter().collect(),
            },
            impact: g.impact,
            started_at,
        };
        let (workloads, state) =
            tokio::join!(self.store.all_workloads(Status::Active), self.claims.read(&key));
        let (workloads, _) = workloads?;
        let target = Target {
            key: &key,
            record: None,
            related_urls: &[],
            topics: &[],
            count: true,
            mark_complete: false,
            incident_url: g.url.as_deref(),
            limited_source: Some(&g.source),
        };
        let (posts, tally) = self.answer(&target, &ctx, &g.id, &workloads, state?, now).await?;
        if tally.throttled {
            let limit = self.generic.limit_per_minute();
            tracing::warn!(
                source = %g.source,
                limit,
                incident = %g.id,
                "generic incidents from this source over its limit per minute; not posted"
            );
            metric("GenericIncidentsThrottled", 1);
            return Ok(json!({"status": "throttled", "incident": key, "source": g.source, "limit": limit}));
        }
        let summary = summary(&key, &posts, &tally, tally.failures.is_empty());
        if tally.failures.is_empty() {
            Ok(summary)
        } else {
            Err(format!("generic incident {}: {}", g.id, tally.failures.join("; ")).into())
        }
    }

    /// Every OPEN incident of the window without a completed answer gets one.
    async fn sweep(&self, now: Timestamp) -> Result<Value, Error> {
        let since = now - self.sweep_window;
        let open = self.incidents.open_since(since).await?;
        let complete = self.claims.completed(&open).await?;
        let pending: Vec<&String> = open.iter().filter(|a| !complete.contains(a)).collect();
        let mut handled = 0;
        let mut failures = Vec::new();
        for arn in &pending {
            match self.respond(arn, Vec::new(), None, None, now).await {
                Ok(_) => handled += 1,
                Err(e) => failures.push(e.to_string()),
            }
        }
        let summary = json!({"status": "swept", "open": open.len(), "already_complete": complete.len(), "handled": handled, "failed": failures.len()});
        tracing::info!(%summary, "sweep");
        if failures.is_empty() {
            Ok(summary)
        } else {
            Err(failures.join("; ").into())
        }
    }
}

/// What the trigger said of an incident Incident Manager cannot tell.
struct Blind {
    resources: Vec<String>,
    workload: Option<String>,
    response_plan: Option<String>,
    error: String,
}

/// The resources an ARN can be: a longer one is skipped, with a log line (it
/// would never match, and only cost matching time).
fn bounded(mut resources: Vec<String>, incident: &str) -> Vec<String> {
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

/// Matching facts from the record, its related items, its tags and the trigger.
fn context(
    view: &IncidentView,
    trigger_resources: Vec<String>,
    workload: Option<String>,
    response_plan: Option<String>,
) -> IncidentContext {
    let mut resources = view.involved_resources.clone();
    resources.extend(view.source_resource.clone());
    resources.extend(trigger_resources);
    let mut seen = BTreeSet::new();
    resources.retain(|r| seen.insert(r.clone()));
    let resources = bounded(resources, &view.arn);
    let mut workloads: Vec<String> = workload.into_iter().collect();
    if let Some(tag) = view.tags.get("workload") {
        workloads.push(tag.clone());
    }
    IncidentContext {
        facts: Incident {
            arn: Some(view.arn.clone()),
            title: view.title.clone(),
            response_plan,
            resources,
            workloads,
        },
        impact: view.impact,
        started_at: view.created_at,
    }
}

/// A comma-separated list of topic ARNs, blanks dropped.
fn topic_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

fn summary(key: &str, posts: &Posts, t: &Tally, complete: bool) -> Value {
    json!({
        "status": "posted",
        "incident": key,
        "workloads": posts.workloads.iter().map(|w| w.name.clone()).collect::<Vec<_>>(),
        "plans": posts.notes.iter().map(|n| n.plan_id.clone()).collect::<Vec<_>>(),
        "unmatched": posts.workloads.is_empty(),
        "without_plan": posts.no_plan_notes.iter().map(|n| n.workload.clone()).collect::<Vec<_>>(),
        "counted": t.counted,
        "notes_posted": t.notes,
        "links_added": t.links,
        "chat_messages": t.chats,
        "already_done": t.already_done,
        "in_progress_elsewhere": t.busy,
        "refused": t.refused,
        "complete": complete,
    })
}

/// The SDK configuration every client shares: retries with backoff on
/// throttling and 5xx (SPEC §4), the endpoint from the environment, and the
/// responder's deadlines ([`support_plans_aws::deadlines`]: each call within
/// its share of the function's timeout).
pub async fn sdk_config() -> aws_config::SdkConfig {
    support_plans_aws::sdk::loader()
        .timeout_config(support_plans_aws::deadlines::responder_timeouts())
        .load()
        .await
}

/// The responder's settings apart from its clients.
#[derive(Debug, Clone)]
pub struct Options {
    pub table: String,
    pub incident_topic: Option<String>,
    pub chat_topics: Option<Vec<String>>,
    pub links: Links,
    pub policy: Policy,
    pub sweep_window: SignedDuration,
    pub generic: GenericSources,
}

impl Options {
    /// `TABLE_NAME` (required), `INCIDENT_TOPIC_ARN`, `CHAT_TOPIC_ARNS`
    /// (comma-separated; set but empty: none but `INCIDENT_TOPIC_ARN`), `PLAN_URL`,
    /// `DIRECTORY_URL`, `REMIND_BEFORE_DAYS`, `SWEEP_WINDOW_HOURS` (default 24),
    /// `GENERIC_SOURCES` (required), `GENERIC_LIMIT_PER_MINUTE` (default 20).
    pub fn from_env() -> Result<Self, Error> {
        let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set")?;
        let generic = GenericSources::parse(
            std::env::var("GENERIC_SOURCES").ok().as_deref(),
            std::env::var("GENERIC_LIMIT_PER_MINUTE").ok().as_deref(),
        )?;
        let mut policy = Policy::default();
        if let Some(days) = std::env::var("REMIND_BEFORE_DAYS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            policy.remind_before_days = days;
        }
        let hours: i64 = std::env::var("SWEEP_WINDOW_HOURS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(24);
        Ok(Self {
            table,
            incident_topic: std::env::var("INCIDENT_TOPIC_ARN").ok().filter(|t| !t.is_empty()),
            chat_topics: std::env::var("CHAT_TOPIC_ARNS").ok().map(|v| topic_list(&v)),
            links: Links::from_env(),
            policy,
            sweep_window: SignedDuration::from_hours(hours),
            generic,
        })
    }
}

impl Responder {
    /// Built once per process from the environment.
    pub async fn from_env() -> Result<Self, Error> {
        let options = Options::from_env()?;
        Ok(Self::from_config(&sdk_config().await, None, options))
    }

    /// The clients from one SDK configuration; with `calls`, each client
    /// records its calls there (to count round trips).
    pub fn from_config(config: &aws_config::SdkConfig, calls: Option<&CallLog>, options: Options) -> Self {
        let mut dynamo = aws_sdk_dynamodb::config::Builder::from(config);
        let mut incidents = aws_sdk_ssmincidents::config::Builder::from(config);
        let mut sns = aws_sdk_sns::config::Builder::from(config);
        if let Some(calls) = calls {
            dynamo.push_interceptor(aws_sdk_dynamodb::config::SharedInterceptor::new(
                calls.interceptor(),
            ));
            incidents.push_interceptor(aws_sdk_ssmincidents::config::SharedInterceptor::new(
                calls.interceptor(),
            ));
            sns.push_interceptor(aws_sdk_sns::config::SharedInterceptor::new(calls.interceptor()));
        }
        let dynamo = aws_sdk_dynamodb::Client::from_conf(dynamo.build());
        Self {
            store: DynamoStore::new(dynamo.clone(), options.table.clone()),
            claims: Claims::new(dynamo, options.table),
            incidents: IncidentManager::new(aws_sdk_ssmincidents::Client::from_conf(incidents.build())),
            sns: aws_sdk_sns::Client::from_conf(sns.build()),
            incident_topic: options.incident_topic,
            chat_topics: options.chat_topics,
            links: options.links,
            policy: options.policy,
            sweep_window: options.sweep_window,
            generic: options.generic,
        }
    }
}
