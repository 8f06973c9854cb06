//! The pipeline's driver: reads, claims, posts and settles through the
//! ports, in as few sequential round trips as the guarantees allow (SPEC §4,
//! §10 "incident to post").

use std::collections::BTreeSet;

use futures_util::StreamExt as _;
use futures_util::future::{join, join_all, join3};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use crate::case::{CaseRequest, SupportCases, case_for};
use crate::freshness::Policy;
use crate::model::Workload;
use crate::ports::{
    ChatPublisher, ClaimStore, Directory, IncidentSink, IncidentSource, Metrics, PortError, RateLimit, Slot,
    VerifyKeys,
};
use crate::post::{IncidentContext, Links, Posts, prepare_within};
use crate::readiness::{Activity, ActivityLog};
use crate::responded::{RespondedLinks, ResponseMarks};

use super::claims::{ClaimState, Settlement, is_chat_part};
use super::decide::{self, Job, Tally};
use super::follow::FollowedUp;
use super::incident::{Delivered, IncidentId, Told, client_token, context, context_delivered, context_told};

/// How many open incidents the sweep follows up at once.
const FOLLOW_UPS_AT_ONCE: usize = 4;

/// The adapters a pipeline runs over, named once (AWS, or in-memory fakes).
pub trait Ports {
    type Source: IncidentSource + Clone;
    type Sink: IncidentSink + Clone;
    type Claims: ClaimStore + Clone;
    type Chat: ChatPublisher + Clone;
    type Directory: Directory + Clone;
    type Activity: ActivityLog + Clone;
    type RateLimit: RateLimit + Clone;
    type Metrics: Metrics + Clone;
    /// Where the vendor's case is opened (SPEC §13, opt-in).
    type Cases: SupportCases + Clone;
    /// "Vendor responded" marks (SPEC §13).
    type Marks: ResponseMarks + Clone;
    /// The keys that sign the notes' "vendor responded" links.
    type Keys: VerifyKeys + Clone;
}

/// What the pipeline is told at start (the responder's configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `INCIDENT_TOPIC_ARN`: every incident's chat message also goes here.
    pub incident_topic: Option<String>,
    /// `CHAT_TOPIC_ARNS`: the chat topics the function may publish to
    /// besides `INCIDENT_TOPIC_ARN`; `None`: any.
    pub chat_topics: Option<Vec<String>>,
    pub links: Links,
    pub policy: Policy,
    /// How far back the sweep looks for open incidents.
    pub sweep_window: SignedDuration,
    /// Chat messages a minute per sender of delivered incidents.
    pub limit_per_minute: u32,
    /// `RESPONDED_URL` (ends with `/responded/`): where the follow-up notes'
    /// signed "vendor responded" links point; none: notes without a link.
    pub responded_url: Option<String>,
    /// `OPEN_SUPPORT_CASES`: open the AWS Support case for plans that ask
    /// (SPEC §13); off unless the stack enables it.
    pub open_cases: bool,
}

impl Settings {
    /// Whether the function may publish to `topic`: `INCIDENT_TOPIC_ARN`, or
    /// one of `CHAT_TOPIC_ARNS` when set. Checked before the call, as IAM
    /// would answer it.
    pub fn may_publish(&self, topic: &str) -> bool {
        self.incident_topic.as_deref() == Some(topic)
            || self
                .chat_topics
                .as_ref()
                .is_none_or(|allowed| allowed.iter().any(|t| t == topic))
    }
}

/// The pipeline over one set of adapters, built once per process.
pub struct Pipeline<P: Ports> {
    pub source: P::Source,
    pub sink: P::Sink,
    pub claims: P::Claims,
    pub chat: P::Chat,
    pub directory: P::Directory,
    pub activity: P::Activity,
    pub rate_limit: P::RateLimit,
    pub metrics: P::Metrics,
    pub cases: P::Cases,
    pub marks: P::Marks,
    pub keys: P::Keys,
    pub settings: Settings,
}

impl<P: Ports> Clone for Pipeline<P> {
    fn clone(&self) -> Self {
        Self {
            source: self.source.clone(),
            sink: self.sink.clone(),
            claims: self.claims.clone(),
            chat: self.chat.clone(),
            directory: self.directory.clone(),
            activity: self.activity.clone(),
            rate_limit: self.rate_limit.clone(),
            metrics: self.metrics.clone(),
            cases: self.cases.clone(),
            marks: self.marks.clone(),
            keys: self.keys.clone(),
            settings: self.settings.clone(),
        }
    }
}

impl<P: Ports> std::fmt::Debug for Pipeline<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// One incident answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The incident's claims key.
    pub key: String,
    pub workloads: Vec<String>,
    pub plans: Vec<String>,
    /// Matched workloads no active plan covers.
    pub without_plan: Vec<String>,
    pub tally: Tally,
    /// Nothing is left of the answer.
    pub complete: bool,
}

impl Answer {
    fn of(key: String, posts: &Posts, tally: Tally, complete: bool) -> Self {
        Self {
            key,
            workloads: posts.workloads.iter().map(|w| w.name.clone()).collect(),
            plans: posts.notes.iter().map(|n| n.plan_id.clone()).collect(),
            without_plan: posts.no_plan_notes.iter().map(|n| n.workload.clone()).collect(),
            tally,
            complete,
        }
    }

    pub fn unmatched(&self) -> bool {
        self.workloads.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Posted(Answer),
    /// A resolved incident is left alone.
    Resolved {
        key: String,
    },
    /// The source does not know the incident: nothing to do.
    NotFound {
        key: String,
    },
    /// The source refuses to read the incident, and would again (a token or
    /// permission that is wrong): nothing posted, not retried.
    SourceRefused {
        key: String,
        reason: String,
    },
    /// Over its sender's limit for the minute: nothing posted, every claim
    /// given back (sent again later, it is answered).
    Throttled {
        key: String,
        sender: String,
        limit: u32,
    },
}

/// What a sweep did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub open: usize,
    pub already_complete: usize,
    pub handled: usize,
    /// Follow-up and "vendor responded" notes posted (SPEC §13).
    pub follow_ups: u32,
}

/// Why an answer failed; every one is worth another try (what is refused
/// for good is recorded and not an error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PipelineError {
    /// The directory, the claims or the incident list could not be read:
    /// nothing was posted.
    #[error("{0}")]
    Unavailable(String),
    /// Some parts failed and were given back; a retry posts them only.
    #[error("incident {key}: {}", failures.join("; "))]
    Incomplete { key: String, failures: Vec<String> },
    /// The incident's source could not be read: the chat message went out on
    /// what the trigger said; the rest waits for a retry.
    #[error("incident {key}: the incident's source is unavailable ({error}); chat messages sent: {chats}{}",
        failures.iter().map(|f| format!("; {f}")).collect::<String>())]
    SourceUnavailable {
        key: String,
        error: String,
        chats: u32,
        failures: Vec<String>,
    },
    /// Some incidents of a sweep failed.
    #[error("{}", failures.join("; "))]
    Sweep { failures: Vec<String> },
}

fn unavailable(e: impl std::fmt::Display) -> PipelineError {
    PipelineError::Unavailable(e.to_string())
}

/// How one incident is answered.
struct Answering<'a> {
    id: &'a IncidentId,
    /// Notes and links go to the incident in the sink; otherwise chat only.
    to_record: bool,
    /// URLs the incident already links to.
    related_urls: &'a [String],
    topics: Vec<String>,
    /// Whether the incident is added to the day's count.
    count: bool,
    /// Whether a fully answered incident is marked complete (for the sweep).
    mark_complete: bool,
    /// The incident's own page, put in the chat message.
    incident_url: Option<&'a str>,
    /// The sender whose slot for the minute the chat message costs.
    limited_sender: Option<&'a str>,
}

impl<P: Ports> Pipeline<P> {
    /// An incident the source holds: read it, answer it into its record.
    /// Unreadable, the chat message still goes out on what the trigger said,
    /// and the answer fails (to be retried); refused for good (a wrong token
    /// or permission), nothing is posted and the answer is `SourceRefused`.
    #[tracing::instrument(skip_all, fields(incident = %id))]
    pub async fn respond(
        &self,
        id: &IncidentId,
        told: Told,
        now: Timestamp,
    ) -> Result<Outcome, PipelineError> {
        let key = id.key();
        // Round trip 0: the incident ‖ the active workloads ‖ the claims.
        let (read, workloads, state) = join3(
            self.source.read(id),
            self.directory.active_workloads(),
            self.claims.read(&key),
        )
        .await;
        let incident = match read {
            Ok(Some(incident)) => incident,
            Ok(None) => {
                tracing::warn!(incident = %key, "no such incident; nothing to do");
                self.metrics.count("EventsIgnored");
                return Ok(Outcome::NotFound { key });
            }
            Err(PortError::Refused(reason)) => {
                // Another try would be refused the same way: said, counted,
                // and not retried (SPEC §4 "Permanent failures are not retried").
                tracing::error!(incident = %key, %reason, "the incident's source refused to read it; nothing posted, not retried");
                self.metrics.count("SourceRefused");
                return Ok(Outcome::SourceRefused { key, reason });
            }
            Err(error) => {
                let workloads = workloads.map_err(unavailable)?;
                let state = state.map_err(unavailable)?;
                return self.respond_told(id, told, error, &workloads, state, now).await;
            }
        };
        if incident.resolved {
            return Ok(Outcome::Resolved { key });
        }
        let workloads = workloads.map_err(unavailable)?;
        let state = state.map_err(unavailable)?;
        let ctx = context(&incident, told);
        let how = Answering {
            id,
            to_record: true,
            related_urls: &incident.related_urls,
            topics: self.topics(&incident.chat_topics),
            count: true,
            mark_complete: true,
            incident_url: None,
            limited_sender: None,
        };
        let (posts, tally) = self.answer(&how, &ctx, &workloads, state, now).await?;
        let complete = tally.failures.is_empty() && tally.busy == 0;
        finish(Answer::of(key, &posts, tally, complete))
    }

    /// The source is unreachable: match on what the trigger said, send the
    /// chat message to `INCIDENT_TOPIC_ARN` anyway, then fail.
    async fn respond_told(
        &self,
        id: &IncidentId,
        told: Told,
        error: PortError,
        workloads: &[Workload],
        state: ClaimState,
        now: Timestamp,
    ) -> Result<Outcome, PipelineError> {
        let key = id.key();
        tracing::error!(incident = %key, %error, "incident source unavailable; sending the chat message only");
        let ctx = context_told(id, told, now);
        let how = Answering {
            id,
            to_record: false,
            related_urls: &[],
            topics: self.topics(&[]),
            count: false,
            mark_complete: false,
            incident_url: None,
            limited_sender: None,
        };
        let (_, tally) = self.answer(&how, &ctx, workloads, state, now).await?;
        Err(PipelineError::SourceUnavailable {
            key,
            error: error.to_string(),
            chats: tally.chats,
            failures: tally.failures,
        })
    }

    /// An incident delivered whole (no record to write): matched and told in
    /// chat, its message costing one of its sender's slots for the minute.
    #[tracing::instrument(skip_all, fields(incident = %incident.id, sender = %incident.sender))]
    pub async fn respond_delivered(
        &self,
        incident: &Delivered,
        now: Timestamp,
    ) -> Result<Outcome, PipelineError> {
        let key = incident.id.key();
        let ctx = context_delivered(incident);
        let (workloads, state) = join(self.directory.active_workloads(), self.claims.read(&key)).await;
        let workloads = workloads.map_err(unavailable)?;
        let state = state.map_err(unavailable)?;
        let how = Answering {
            id: &incident.id,
            to_record: false,
            related_urls: &[],
            topics: self.topics(&[]),
            count: true,
            mark_complete: false,
            incident_url: incident.url.as_deref(),
            limited_sender: Some(&incident.sender),
        };
        let (posts, tally) = self.answer(&how, &ctx, &workloads, state, now).await?;
        if tally.throttled {
            let limit = self.settings.limit_per_minute;
            tracing::warn!(
                sender = %incident.sender,
                limit,
                incident = %key,
                "incidents from this sender over its limit per minute; not posted"
            );
            self.metrics.count("GenericIncidentsThrottled");
            return Ok(Outcome::Throttled {
                key,
                sender: incident.sender.clone(),
                limit,
            });
        }
        let complete = tally.failures.is_empty();
        finish(Answer::of(key, &posts, tally, complete))
    }

    /// Every open incident of the window without a completed answer gets
    /// one; then every open incident answered gets what is due of its
    /// follow-through (SPEC §13). One incident failing does not stop the others.
    #[tracing::instrument(skip_all)]
    pub async fn sweep(&self, now: Timestamp) -> Result<Swept, PipelineError> {
        let since = now - self.settings.sweep_window;
        let open = self.source.open_since(since).await.map_err(unavailable)?;
        let keys: Vec<String> = open.iter().map(IncidentId::key).collect();
        let complete = self.claims.completed(&keys).await.map_err(unavailable)?;
        let mut handled = 0;
        let mut failures = Vec::new();
        for id in open.iter().filter(|id| !complete.contains(&id.key())) {
            match self.respond(id, Told::default(), now).await {
                Ok(_) => handled += 1,
                Err(e) => failures.push(e.to_string()),
            }
        }
        let keys = if open.is_empty() {
            None
        } else {
            self.link_keys().await
        };
        let link = keys
            .as_ref()
            .map(|k| move |incident: &str, plan: &str| responded_link(k, incident, plan, now));
        // A few incidents at a time: each follows up with a few calls one
        // after the other, and the sweep should end well within a minute.
        let link = link.as_ref().map(|l| l as super::follow::Linker<'_>);
        let results: Vec<(String, Result<FollowedUp, PipelineError>)> =
            futures_util::stream::iter(open.iter().cloned())
                .map(|id: IncidentId| async move { (id.key(), self.follow_up(&id, link, now).await) })
                .buffer_unordered(FOLLOW_UPS_AT_ONCE)
                .collect()
                .await;
        let mut follow_ups = 0;
        for (key, result) in results {
            match result {
                Ok(done) => {
                    follow_ups += done.notes;
                    failures.extend(done.failures.into_iter().map(|f| format!("incident {key}: {f}")));
                }
                Err(e) => failures.push(format!("incident {key}: follow-ups: {e}")),
            }
        }
        let swept = Swept {
            open: open.len(),
            already_complete: complete.len(),
            handled,
            follow_ups,
        };
        tracing::info!(
            open = swept.open,
            already_complete = swept.already_complete,
            handled,
            follow_ups,
            failed = failures.len(),
            "sweep"
        );
        if failures.is_empty() {
            Ok(swept)
        } else {
            Err(PipelineError::Sweep { failures })
        }
    }

    /// A "vendor responded" mark was recorded (SPEC §13): the note saying so
    /// goes into the incident now, with anything else due.
    pub async fn responded(&self, id: &IncidentId, now: Timestamp) -> Result<FollowedUp, PipelineError> {
        let keys = self.link_keys().await;
        let link = keys
            .as_ref()
            .map(|k| move |incident: &str, plan: &str| responded_link(k, incident, plan, now));
        let done = self
            .follow_up(id, link.as_ref().map(|l| l as super::follow::Linker<'_>), now)
            .await?;
        if done.failures.is_empty() {
            Ok(done)
        } else {
            Err(PipelineError::Incomplete {
                key: id.key(),
                failures: done.failures,
            })
        }
    }

    /// The keys that sign the "vendor responded" links, when the links are
    /// configured; unreadable, the notes go out without a link (logged).
    async fn link_keys(&self) -> Option<RespondedLinks> {
        let base = self.settings.responded_url.clone()?;
        match self
            .keys
            .read_keys()
            .await
            .map_err(|e| e.to_string())
            .and_then(|keys| RespondedLinks::new(&base, keys))
        {
            Ok(links) => Some(links),
            Err(e) => {
                tracing::error!(error = %e, "the responded-link keys could not be read; follow-ups go out without the link");
                self.metrics.count("RespondedLinkKeysUnavailable");
                None
            }
        }
    }

    fn topics(&self, incident: &[String]) -> Vec<String> {
        decide::topics(incident, self.settings.incident_topic.as_deref())
    }

    /// Matches, claims, posts, settles (the incident, the workloads and the
    /// claims, `state`, were read before, at once):
    ///
    /// 1. the relevant plans are read while every part that can be named
    ///    without them is leased, with one conditional write on the claims
    ///    (and a rate-limited sender's slot taken, only while its chat
    ///    message is not posted yet);
    /// 2. every leased part is posted, and the incident counted, at once;
    /// 3. then, off the path to the posts, one write: the posted parts done,
    ///    the refused recorded, the others given back, and the answer
    ///    complete when nothing is left. A slot that paid for no message is
    ///    given back; no slot left: nothing is posted, every lease given back.
    #[tracing::instrument(skip_all, fields(incident = %how.id))]
    async fn answer(
        &self,
        how: &Answering<'_>,
        ctx: &IncidentContext,
        workloads: &[Workload],
        state: ClaimState,
        now: Timestamp,
    ) -> Result<(Posts, Tally), PipelineError> {
        let key = how.id.key();
        let open_cases = self.settings.open_cases && how.to_record;
        let wanted = decide::wanted(
            &ctx.facts,
            workloads,
            how.to_record,
            &how.topics,
            how.count,
            open_cases,
        );
        let was_complete = state.is_complete();
        let slot_for = how
            .limited_sender
            .filter(|_| decide::needs_slot(&wanted.parts, &state));

        // Round trip 1: the plans ‖ the claims (‖ a slot).
        let limit = self.settings.limit_per_minute;
        let slot = async {
            match slot_for {
                Some(sender) => Some(self.rate_limit.take_slot(sender, now, limit).await),
                None => None,
            }
        };
        let (plans, claims, slot) = join3(
            self.directory.plans(&wanted.needed),
            self.claims.take(&key, state, &wanted.parts, now),
            slot,
        )
        .await;
        let mut tally = Tally::default();
        let held = decide::held(&wanted.parts, claims, &mut tally);
        let chat_held = held.iter().any(|p| is_chat_part(p));
        // The sender whose slot this answer holds, to give back if unused.
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
        let plans = match (plans, slot_error) {
            (Ok(plans), None) => plans,
            (Err(e), _) => return Err(self.abandon(&key, held, paid, e.to_string(), now).await),
            (Ok(_), Some(e)) => return Err(self.abandon(&key, held, paid, e, now).await),
        };
        let mut posts = prepare_within(
            ctx,
            how.id.short(),
            workloads,
            &plans,
            &self.settings.links,
            &self.settings.policy,
            self.sink.note_limit(how.id),
        );
        if !self.sink.takes_links(how.id) {
            // Its link parts are done with nothing to add.
            posts.related.clear();
        }
        if let Some(url) = how.incident_url {
            posts.chat["metadata"]["additionalContext"]["incident_url"] = json!(url);
        }
        if tally.throttled {
            self.release(&key, held, now).await;
            return Ok((posts, tally));
        }

        let cases: Vec<CaseRequest> = if open_cases {
            plans
                .iter()
                .filter_map(|p| case_for(p, ctx, &key, how.incident_url))
                .collect()
        } else {
            Vec::new()
        };

        // Round trip 2: every post, and the count, concurrently.
        let message = posts.chat.to_string();
        let jobs = decide::jobs(
            &posts,
            &held,
            how.to_record,
            how.related_urls,
            &how.topics,
            !wanted.matched.is_empty(),
            &cases,
        );
        let results = join_all(
            jobs.iter()
                .map(|job| self.perform(how.id, job, ctx.started_at, &message, now)),
        )
        .await;
        let results = decide::results(&jobs, results, &mut tally);
        // Emitted by the one invocation that recorded the count.
        for name in &tally.counted {
            self.metrics.count(name);
        }
        for (part, error) in &results.reasons {
            // Logged once: the part is recorded as refused and never tried again.
            if is_chat_part(part) {
                tracing::error!(incident = %key, part, %error, "chat topic refused the message; recorded, not retried");
                self.metrics.count("ChatTopicRefused");
            } else {
                tracing::error!(incident = %key, part, %error, "the incident's sink refused the post; recorded, not retried");
                self.metrics.count("PostsRefused");
            }
        }

        // Off the path, in one write: each held part done, refused, or given back.
        // Every part is done, now or before, when nothing failed and none is busy.
        let complete = how.mark_complete && tally.failures.is_empty() && tally.busy == 0;
        let settlement = decide::settlement(
            &held,
            &results,
            &posts,
            &wanted.matched,
            complete && !was_complete,
        );
        let unused = if tally.chats == 0 { paid } else { None };
        let (settled, ()) = join(
            self.claims.settle(&key, &settlement, now),
            self.give_back(unused, now),
        )
        .await;
        if let Err(e) = settled {
            tally.failures.push(format!(
                "{}: posted, but not marked done: {e}",
                settlement.done.join(", ")
            ));
        }
        Ok((posts, tally))
    }

    /// Posts one part. A note's event time is `started_at`, the incident's
    /// start, the same on every try whichever trigger or invocation makes
    /// it: with its client token, a retried note is the very request the
    /// sink took before (SPEC §4 "Exactly once").
    #[tracing::instrument(skip_all, fields(incident = %id, part = job.part(), plan = job.plan()))]
    async fn perform(
        &self,
        id: &IncidentId,
        job: &Job,
        started_at: Timestamp,
        message: &str,
        now: Timestamp,
    ) -> Result<(), PortError> {
        let key = id.key();
        match job {
            Job::Note { part, text, .. } => {
                self.sink
                    .note(id, text, started_at, &client_token(&key, part))
                    .await
            }
            Job::Link { title, url, .. } => {
                self.sink
                    .link(id, title, url, &client_token(&key, &format!("LINK#{url}")))
                    .await
            }
            Job::Case { part, request } => {
                // The marker lets a retry find the case an earlier try opened.
                let token = client_token(&key, part);
                let limit = self.sink.note_limit(id);
                let text = match self
                    .cases
                    .open_case(request, &format!("support-plans ref {token}"))
                    .await
                {
                    Ok(case) => {
                        if !case.found {
                            self.metrics.count("SupportCasesOpened");
                        }
                        super::case_notes::opened(request, &case, limit)
                    }
                    Err(PortError::Refused(reason)) => {
                        tracing::error!(incident = %key, plan = %request.plan, %reason, "the AWS Support case could not be opened; the incident is told to open it by hand");
                        self.metrics.count("SupportCasesRefused");
                        super::case_notes::refused(request, &reason, limit)
                    }
                    Err(e) => return Err(e),
                };
                self.sink.note(id, &text, started_at, &token).await
            }
            Job::Chat { topic, .. } if !self.settings.may_publish(topic) => Err(PortError::Refused(format!(
                "{topic} is neither INCIDENT_TOPIC_ARN nor one of CHAT_TOPIC_ARNS (the template's ChatbotTopicArns): the function may not publish to it"
            ))),
            // A chat message has no idempotency token: the one post that can
            // go out twice is a message accepted from an invocation stopped
            // before its settlement recorded it.
            Job::Chat { topic, .. } => self.chat.publish(topic, message).await,
            Job::Count {
                matched,
                without_plan,
            } => {
                let counts = Activity {
                    incidents_matched: u64::from(*matched),
                    incidents_unmatched: u64::from(!*matched),
                    incidents_without_plan: u64::from(*without_plan),
                    ..Activity::default()
                };
                let day = now.to_zoned(jiff::tz::TimeZone::UTC).date();
                self.activity
                    .record(day, &counts)
                    .await
                    .map_err(|e| PortError::Retry(e.to_string()))
            }
        }
    }

    /// The answer cannot go on: every lease and the slot are given back.
    async fn abandon(
        &self,
        key: &str,
        held: BTreeSet<String>,
        paid: Option<&str>,
        error: String,
        now: Timestamp,
    ) -> PipelineError {
        join(self.release(key, held, now), self.give_back(paid, now)).await;
        PipelineError::Unavailable(error)
    }

    /// Gives claims back so that a retry may take them at once.
    async fn release(&self, key: &str, held: BTreeSet<String>, now: Timestamp) {
        let settlement = Settlement::release(held.into_iter().collect());
        if let Err(e) = self.claims.settle(key, &settlement, now).await {
            tracing::warn!(incident = key, parts = ?settlement.released, error = %e, "claims not released; their leases will run out");
        }
    }

    /// Gives back a sender's slot that paid for no chat message.
    async fn give_back(&self, sender: Option<&str>, taken_at: Timestamp) {
        if let Some(sender) = sender
            && let Err(e) = self.rate_limit.give_back(sender, taken_at).await
        {
            tracing::warn!(sender, error = %e, "an unused slot not given back; it lapses with its minute");
        }
    }
}

/// The signed "vendor responded" link of (incident, plan).
fn responded_link(links: &RespondedLinks, incident: &str, plan: &str, now: Timestamp) -> String {
    links.url(incident, plan, now)
}

/// A posted answer, or the failures a retry completes.
fn finish(answer: Answer) -> Result<Outcome, PipelineError> {
    tracing::info!(
        incident = %answer.key,
        notes = answer.tally.notes,
        links = answer.tally.links,
        chats = answer.tally.chats,
        already_done = answer.tally.already_done,
        busy = answer.tally.busy,
        complete = answer.complete,
        "responded"
    );
    if answer.tally.failures.is_empty() {
        Ok(Outcome::Posted(answer))
    } else {
        Err(PipelineError::Incomplete {
            key: answer.key,
            failures: answer.tally.failures,
        })
    }
}
