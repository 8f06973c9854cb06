//! The incident responder (SPEC §4): from any of its four triggers to the
//! vendor escalation steps in the incident, exactly once per (incident, plan).

pub mod triggers;

use std::collections::BTreeSet;

use futures_util::future::join_all;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support_plans_aws::DynamoStore;
use support_plans_aws::claims::{Claim, Claims};
use support_plans_aws::incidents::{IncidentError, IncidentManager, IncidentView};
use support_plans_domain::freshness::Policy;
use support_plans_domain::matching::{Incident, needed_plans};
use support_plans_domain::model::Status;
use support_plans_domain::ports::PlanStore as _;
use support_plans_domain::post::{IncidentContext, Links, Posts, prepare};
use support_plans_domain::readiness::{Activity, ActivityLog as _};

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
    pub links: Links,
    pub policy: Policy,
    /// How far back the sweep looks for open incidents.
    pub sweep_window: SignedDuration,
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
    failures: Vec<String>,
}

impl Tally {
    fn absorb(&mut self, other: Tally) {
        self.notes += other.notes;
        self.links += other.links;
        self.chats += other.chats;
        self.already_done += other.already_done;
        self.busy += other.busy;
        self.failures.extend(other.failures);
    }
}

/// One part of the answer: a note, a related item or a chat message.
enum Part<'a> {
    Note { text: &'a str },
    Link { title: &'a str, url: &'a str },
    Chat { topic: &'a str, message: String },
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
            Trigger::Generic(g) => self.respond_generic(&g, now).await,
            Trigger::Ignored(reason) => {
                tracing::warn!(%reason, "event ignored");
                metric("EventsIgnored", 1);
                Ok(json!({"status": "ignored", "reason": reason}))
            }
        }
    }

    /// Runs the claimed parts concurrently; each is claimed, done, then marked.
    async fn post_parts(
        &self,
        key: &str,
        arn: Option<&str>,
        parts: Vec<(String, Part<'_>)>,
        now: Timestamp,
    ) -> Tally {
        let runs = parts.into_iter().map(|(name, part)| async move {
            let mut t = Tally::default();
            match self.claims.claim(key, &name, now).await {
                Ok(Claim::Done) => {
                    t.already_done += 1;
                    return t;
                }
                Ok(Claim::Busy) => {
                    t.busy += 1;
                    return t;
                }
                Ok(Claim::Acquired) => {}
                Err(e) => {
                    t.failures.push(format!("{name}: {e}"));
                    return t;
                }
            }
            let token = client_token(key, &name);
            let result: Result<(), String> = match (&part, arn) {
                (Part::Note { text }, Some(arn)) => self
                    .incidents
                    .post_note(arn, text, now, &token)
                    .await
                    .map_err(|e| e.to_string()),
                (Part::Link { title, url }, Some(arn)) => self
                    .incidents
                    .add_link(arn, title, url, &token)
                    .await
                    .map_err(|e| e.to_string()),
                (Part::Chat { topic, message }, _) => self
                    .sns
                    .publish()
                    .topic_arn(*topic)
                    .message(message.as_str())
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| aws_sdk_sns::error::DisplayErrorContext(e).to_string()),
                (_, None) => Err("no incident record to post into".into()),
            };
            match result {
                Ok(()) => {
                    match &part {
                        Part::Note { .. } => t.notes += 1,
                        Part::Link { .. } => t.links += 1,
                        Part::Chat { .. } => t.chats += 1,
                    }
                    if let Err(e) = self.claims.done(key, &name).await {
                        t.failures
                            .push(format!("{name}: posted, but not marked done: {e}"));
                    }
                }
                Err(e) => {
                    if let Err(r) = self.claims.release(key, &name).await {
                        tracing::warn!(part = %name, error = %r, "claim not released; it will expire");
                    }
                    t.failures.push(format!("{name}: {e}"));
                }
            }
            t
        });
        let mut tally = Tally::default();
        for t in join_all(runs).await {
            tally.absorb(t);
        }
        tally
    }

    fn chat_parts<'a>(&'a self, topics: &'a [String], posts: &Posts) -> Vec<(String, Part<'a>)> {
        let message = posts.chat.to_string();
        let mut seen = BTreeSet::new();
        topics
            .iter()
            .chain(self.incident_topic.iter())
            .filter(|t| seen.insert(t.as_str()))
            .map(|t| {
                (
                    format!("CHAT#{t}"),
                    Part::Chat {
                        topic: t,
                        message: message.clone(),
                    },
                )
            })
            .collect()
    }

    /// Adds the incident to the day's matched or unmatched count (SPEC §6),
    /// once: the count is itself a claimed part.
    async fn count_once(&self, key: &str, matched: bool, now: Timestamp) -> Result<(), Error> {
        if self.claims.claim(key, "COUNTED", now).await? != Claim::Acquired {
            return Ok(());
        }
        let counts = Activity {
            incidents_matched: u64::from(matched),
            incidents_unmatched: u64::from(!matched),
            ..Activity::default()
        };
        let day = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        match self.store.record(day, &counts).await {
            Ok(()) => Ok(self.claims.done(key, "COUNTED").await?),
            Err(e) => {
                self.claims.release(key, "COUNTED").await?;
                Err(e.into())
            }
        }
    }

    async fn match_and_render(&self, ctx: &IncidentContext, id: &str) -> Result<Posts, Error> {
        let (workloads, _) = self.store.all_workloads(Status::Active).await?;
        let plans = self
            .store
            .get_plans(&needed_plans(&ctx.facts, &workloads))
            .await?;
        let posts = prepare(ctx, id, &workloads, &plans, &self.links, &self.policy);
        metric(
            if posts.workloads.is_empty() {
                "IncidentsUnmatched"
            } else {
                "IncidentsMatched"
            },
            1,
        );
        Ok(posts)
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
        let view = match self.incidents.read(arn).await {
            Ok(v) => v,
            Err(IncidentError::NotFound(_)) => {
                tracing::warn!(incident = %arn, "no such incident; nothing to do");
                metric("EventsIgnored", 1);
                return Ok(json!({"status": "ignored", "reason": "no such incident", "incident": arn}));
            }
            Err(IncidentError::Unavailable(e)) => {
                return self
                    .respond_blind(arn, &id, trigger_resources, workload, response_plan, now, e)
                    .await;
            }
        };
        if view.resolved {
            return Ok(json!({"status": "resolved", "incident": arn}));
        }
        let ctx = context(&view, trigger_resources, workload, response_plan);
        let posts = self.match_and_render(&ctx, &id).await?;
        self.count_once(arn, !posts.workloads.is_empty(), now).await?;

        let mut parts: Vec<(String, Part<'_>)> = Vec::new();
        for note in &posts.notes {
            parts.push((format!("NOTE#{}", note.plan_id), Part::Note { text: &note.text }));
        }
        if let Some(text) = &posts.unmatched_note {
            parts.push(("NOTE#unmatched".into(), Part::Note { text }));
        }
        let mut urls = BTreeSet::new();
        for link in &posts.related {
            if view.related_urls.contains(&link.url) || !urls.insert(link.url.as_str()) {
                continue;
            }
            parts.push((
                format!("LINK#{}", client_token(arn, &link.url)),
                Part::Link {
                    title: &link.title,
                    url: &link.url,
                },
            ));
        }
        parts.extend(self.chat_parts(&view.chat_topics, &posts));

        let tally = self.post_parts(arn, Some(arn), parts, now).await;
        let complete = tally.failures.is_empty() && tally.busy == 0;
        if complete {
            self.claims.complete(arn, now).await?;
        }
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
    #[allow(clippy::too_many_arguments)]
    async fn respond_blind(
        &self,
        arn: &str,
        id: &str,
        resources: Vec<String>,
        workload: Option<String>,
        response_plan: Option<String>,
        now: Timestamp,
        error: String,
    ) -> Result<Value, Error> {
        tracing::error!(incident = %arn, %error, "Incident Manager unavailable; sending the chat message only");
        let ctx = IncidentContext {
            facts: Incident {
                arn: Some(arn.to_owned()),
                title: String::new(),
                response_plan,
                resources,
                workloads: workload.into_iter().collect(),
            },
            impact: None,
            started_at: now,
        };
        let posts = self.match_and_render(&ctx, id).await?;
        let tally = self
            .post_parts(arn, None, self.chat_parts(&[], &posts), now)
            .await;
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
                resources: g.resources.clone(),
                workloads: g.workload.clone().into_iter().collect(),
            },
            impact: g.impact,
            started_at,
        };
        let mut posts = self.match_and_render(&ctx, &g.id).await?;
        self.count_once(&key, !posts.workloads.is_empty(), now).await?;
        if let Some(url) = &g.url {
            posts.chat["metadata"]["additionalContext"]["incident_url"] = json!(url);
        }
        let tally = self
            .post_parts(&key, None, self.chat_parts(&[], &posts), now)
            .await;
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

fn summary(key: &str, posts: &Posts, t: &Tally, complete: bool) -> Value {
    json!({
        "status": "posted",
        "incident": key,
        "workloads": posts.workloads.iter().map(|w| w.name.clone()).collect::<Vec<_>>(),
        "plans": posts.notes.iter().map(|n| n.plan_id.clone()).collect::<Vec<_>>(),
        "unmatched": posts.workloads.is_empty(),
        "notes_posted": t.notes,
        "links_added": t.links,
        "chat_messages": t.chats,
        "already_done": t.already_done,
        "in_progress_elsewhere": t.busy,
        "complete": complete,
    })
}

/// The SDK configuration every client shares: retries with backoff on
/// throttling and 5xx (SPEC §4), the endpoint from the environment.
pub async fn sdk_config() -> aws_config::SdkConfig {
    let retry = aws_config::retry::RetryConfig::standard()
        .with_max_attempts(5)
        .with_initial_backoff(std::time::Duration::from_millis(200));
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .retry_config(retry)
        .load()
        .await
}

impl Responder {
    /// Built once per process from the environment: `TABLE_NAME` (required),
    /// `INCIDENT_TOPIC_ARN`, `PLAN_URL`, `DIRECTORY_URL`, `REMIND_BEFORE_DAYS`,
    /// `SWEEP_WINDOW_HOURS` (default 24).
    pub async fn from_env() -> Result<Self, Error> {
        let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set")?;
        let config = sdk_config().await;
        let dynamo = aws_sdk_dynamodb::Client::new(&config);
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
            store: DynamoStore::new(dynamo.clone(), table.clone()),
            claims: Claims::new(dynamo, table),
            incidents: IncidentManager::new(aws_sdk_ssmincidents::Client::new(&config)),
            sns: aws_sdk_sns::Client::new(&config),
            incident_topic: std::env::var("INCIDENT_TOPIC_ARN").ok().filter(|t| !t.is_empty()),
            links: Links::from_env(),
            policy,
            sweep_window: SignedDuration::from_hours(hours),
        })
    }
}
