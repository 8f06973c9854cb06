//! The freshness check (SPEC §5): on a schedule, or on demand with
//! `{"dry_run": true}`, it reads the active plans once, page by page in owner
//! order, reminds each owner with something due through SNS, escalates what
//! is long overdue, keeps the topics' subscriptions in step (SPEC §14),
//! replaces the readiness snapshot (SPEC §15) and reports the figures of
//! SPEC §6 as CloudWatch Embedded Metric Format.
//!
//! The handler is a translation: event → [`Request`], one [`run`], summary out.
//! The same function is the AWS Config rule's (SPEC §15, [`config_rule`]):
//! [`Process::handle`] gives the rule's events to the rule.
//! The clock is an argument of [`run`]; only tests pass another one.

use jiff::Timestamp;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{Map, Value, json};
use support_plans_aws::DynamoStore;
use support_plans_aws::adapters::FreshnessAdapters;
use support_plans_aws::config::ConfigEvaluations;
use support_plans_aws::secrets::SecretsManagerKeys;
use support_plans_aws::sns::SnsNotifier;
use support_plans_aws::subscriptions::SnsSubscriptions;
use support_plans_domain::freshness::Policy;
use support_plans_domain::model::Status;
use support_plans_domain::ports::OwnerPages;
use support_plans_domain::ports::{StoreError, VerifyKeys as _};
use support_plans_domain::readiness::{
    Activity, ActivityLog as _, Readiness, ReadinessSnapshots as _, Tally, window_start,
};
use support_plans_domain::reminders::subscriptions::Keeper;
use support_plans_domain::reminders::{Check, Settings, SnapshotOutcome, Summary, evaluate_all};
use support_plans_domain::settings::{self, SettingError};
use support_plans_domain::token::Links;
use tokio::sync::OnceCell;

pub mod config_rule;

/// The metrics' CloudWatch namespace.
pub const NAMESPACE: &str = "SupportPlans";
const SERVICE: &str = "freshness-check";

/// The function's configuration, from its environment (fails fast at init).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub table: String,
    pub reminder_topic: String,
    pub escalation_topic: String,
    pub key_secret: String,
    /// The API's base URL, for the one-click links.
    pub base_url: String,
    pub settings: Settings,
    /// `MANAGE_SUBSCRIPTIONS`: create and remove the topics' e-mail
    /// subscriptions (SPEC §14); off, the check still finds who is unreachable.
    pub manage_subscriptions: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl From<SettingError> for ConfigError {
    fn from(e: SettingError) -> Self {
        Self(e.to_string())
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// `TABLE_NAME`, `REMINDER_TOPIC_ARN`, `ESCALATION_TOPIC_ARN`,
    /// `VERIFY_KEY_SECRET_ARN`, `VERIFY_BASE_URL` (required);
    /// `REMIND_BEFORE_DAYS` (14), `REMIND_EVERY_DAYS` (7), `ESCALATE_AFTER_DAYS` (30),
    /// `MANAGE_SUBSCRIPTIONS` (`true`).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &str| {
            get(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| ConfigError(format!("{name} is not set")))
        };
        let days = |name: &'static str, default: u32, max: u32| {
            settings::days(name, get(name).as_deref(), default, max)
        };
        let settings = Settings {
            policy: Policy::from_settings(get(settings::REMIND_BEFORE_DAYS).as_deref())?,
            remind_every_days: days("REMIND_EVERY_DAYS", 7, 90)?,
            escalate_after_days: days("ESCALATE_AFTER_DAYS", 30, 365)?,
        };
        Ok(Self {
            table: required("TABLE_NAME")?,
            reminder_topic: required("REMINDER_TOPIC_ARN")?,
            escalation_topic: required("ESCALATION_TOPIC_ARN")?,
            key_secret: required("VERIFY_KEY_SECRET_ARN")?,
            base_url: required("VERIFY_BASE_URL")?,
            settings,
            manage_subscriptions: settings::flag(
                "MANAGE_SUBSCRIPTIONS",
                get("MANAGE_SUBSCRIPTIONS").as_deref(),
                true,
            )
            .map_err(ConfigError)?,
        })
    }
}

/// What every invocation needs, built once per process.
#[derive(Debug, Clone)]
pub struct App {
    pub store: DynamoStore,
    pub notifier: SnsNotifier,
    pub links: Links,
    pub reminder_topic: String,
    pub escalation_topic: String,
    pub settings: Settings,
    pub subscriptions: SnsSubscriptions,
    pub manage_subscriptions: bool,
}

/// The process: the configuration and the adapters from the init, the
/// [`App`] from the first invocation, which reads the verification keys
/// (Secrets Manager) and keeps them for the process: links are signed with
/// the key that has no `not_after` (a rotation's old key stays valid for
/// longer than a process lives, see the README). A failed read fails that
/// invocation only: the next one tries again.
#[derive(Debug)]
pub struct Process {
    config: Config,
    store: DynamoStore,
    notifier: SnsNotifier,
    keys: SecretsManagerKeys,
    subscriptions: SnsSubscriptions,
    app: OnceCell<App>,
    /// The AWS Config rule (SPEC §15): the snapshot and Config, no key.
    rule: config_rule::Rule<DynamoStore, ConfigEvaluations>,
}

impl Process {
    /// Over the adapters `main` built; no request is made.
    pub fn new(config: Config, adapters: FreshnessAdapters) -> Self {
        Self {
            rule: config_rule::Rule {
                snapshots: adapters.store.clone(),
                evaluations: adapters.evaluations,
            },
            store: adapters.store,
            notifier: adapters.notifier,
            keys: adapters.keys,
            subscriptions: adapters.subscriptions,
            config,
            app: OnceCell::new(),
        }
    }

    /// The [`App`], with the key read on the first call.
    pub async fn app(&self) -> Result<&App, CheckError> {
        self.app
            .get_or_try_init(|| async {
                let keys = self
                    .keys
                    .read_keys()
                    .await
                    .map_err(|e| CheckError::Setup(e.to_string()))?;
                let links = Links::new(&self.config.base_url, keys)
                    .map_err(|e| CheckError::Setup(format!("configuration: {e}")))?;
                Ok(App {
                    store: self.store.clone(),
                    notifier: self.notifier.clone(),
                    links,
                    reminder_topic: self.config.reminder_topic.clone(),
                    escalation_topic: self.config.escalation_topic.clone(),
                    settings: self.config.settings,
                    subscriptions: self.subscriptions.clone(),
                    manage_subscriptions: self.config.manage_subscriptions,
                })
            })
            .await
    }

    /// An AWS Config rule's event to the rule (no key read); anything
    /// else to [`handle`] with the [`App`] of the process.
    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
        if config_rule::is_rule_event(&event.payload) {
            return self.rule.handle(&event.payload).await;
        }
        let app = self.app().await.inspect_err(|e| {
            tracing::error!(error = %e, "freshness check not started");
        })?;
        handle(app, event).await
    }
}

/// The invocation: a schedule's payload (anything; only `dry_run` is read)
/// or `{"dry_run": true}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Request {
    pub dry_run: bool,
}

impl Request {
    pub fn parse(event: &Value) -> Result<Self, CheckError> {
        let Value::Object(fields) = event else {
            return Err(CheckError::BadEvent(
                "the event must be a JSON object, e.g. {\"dry_run\": true}".into(),
            ));
        };
        if config_rule::is_rule_event(event) {
            // Never a run: the rule's events are the process's to answer.
            return Err(CheckError::BadEvent(
                "an AWS Config rule's event is answered by the rule (Process::handle), not a run".into(),
            ));
        }
        match fields.get("dry_run") {
            None | Some(Value::Null) => Ok(Self { dry_run: false }),
            Some(Value::Bool(b)) => Ok(Self { dry_run: *b }),
            Some(other) => Err(CheckError::BadEvent(format!(
                "dry_run must be true or false, not {other}"
            ))),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// Retrying will not help: answered, not retried.
    #[error("bad event: {0}")]
    BadEvent(String),
    /// The plans (or the reminder states) could not be read: nothing was sent.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Some owners could not be reminded; a retry sends what is missing only.
    #[error("{errors} owner(s) could not be reminded: {summary}")]
    Incomplete { errors: usize, summary: String },
    /// The verification key could not be read, or the links' base URL is
    /// wrong: nothing was read or sent.
    #[error("{0}")]
    Setup(String),
}

impl From<CheckError> for Diagnostic {
    fn from(e: CheckError) -> Self {
        let error_type = match &e {
            CheckError::BadEvent(_) => "BadEvent",
            CheckError::Store(_) => "StoreUnavailable",
            CheckError::Incomplete { .. } => "Incomplete",
            CheckError::Setup(_) => "Setup",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: e.to_string(),
        }
    }
}

/// What a run did, the figures it saw, and (unless dry) its metrics line.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub summary: Summary,
    pub readiness: Readiness,
    pub metrics: Option<String>,
}

/// One run at `now` (SPEC §5, §14, §15): the active plans read once, page
/// by page through the owner index, each batch of whole owners evaluated,
/// counted and reminded before the next is read; then the subscriptions kept
/// in step, what was sent counted, and (unless dry) the readiness snapshot
/// replaced. Memory holds the workloads, the subscription records, one page
/// and one owner's plans, whatever the number of plans.
pub async fn run(app: &App, request: Request, now: Timestamp) -> Result<Outcome, CheckError> {
    let policy = &app.settings.policy;
    let started = app.store.load_snapshot().await?;
    let (workloads, workload_reads) = app.store.all_workloads(Status::Active).await?;
    let keeper = Keeper {
        sns: &app.subscriptions,
        records: &app.store,
        manage: app.manage_subscriptions,
    };
    let mut look = keeper.look().await?;
    let mut tally = Tally::new(workloads);
    let mut pages = OwnerPages::default();
    let mut summary = Summary::default();
    while let Some(plans) = pages.next(&app.store).await? {
        let freshness = evaluate_all(&plans, now, policy);
        tally.add(&plans, &freshness);
        let reach = keeper.reach(&mut look, &plans).await;
        let check = Check {
            states: &app.store,
            notifier: &app.notifier,
            links: &app.links,
            settings: app.settings,
            reminder_topic: &app.reminder_topic,
            escalation_topic: &app.escalation_topic,
            reach: &reach,
        };
        summary.absorb(check.run(&plans, &freshness, now, request.dry_run).await?);
    }
    let upkeep = keeper.finish(look, now, request.dry_run).await;
    summary.table_reads += 1 + workload_reads + pages.reads;
    summary.errors += upkeep.failures.len();
    summary
        .failures
        .extend(upkeep.failures.iter().map(|f| format!("subscriptions: {f}")));
    let owners_unreachable = upkeep.owners_unreachable.len() as u64;
    summary.subscriptions = upkeep;
    let sent = Activity {
        reminders_sent: summary.reminders as u64,
        escalations_sent: summary.escalations as u64,
        ..Activity::default()
    };
    if !request.dry_run && !sent.is_empty() {
        let today = jiff::tz::Offset::UTC.to_datetime(now).date();
        if let Err(e) = app.store.record(today, &sent).await {
            // What was sent stays sent; only the readiness count misses it.
            summary.failures.push(format!("counting what was sent: {e}"));
        }
    }
    let figures = |activity| tally.clone().finish(activity, owners_unreachable, now);
    let mut readiness = figures(app.store.since(window_start(now)).await?);
    summary.table_reads += 1;
    if request.dry_run {
        summary.snapshot = SnapshotOutcome::NotWritten;
    } else {
        let mut expected = started.map(|s| (s.seq, s.activity_seq));
        summary.snapshot = SnapshotOutcome::Kept;
        for _ in 0..3 {
            match app.store.replace_snapshot(&readiness, expected).await {
                Ok(()) => {
                    summary.snapshot = SnapshotOutcome::Replaced;
                    break;
                }
                Err(StoreError::Conflict { .. }) => {}
                Err(e) => {
                    summary
                        .failures
                        .push(format!("writing the readiness snapshot: {e}"));
                    summary.snapshot = SnapshotOutcome::Failed;
                    break;
                }
            }
            // Activity counted meanwhile: count the window again. A plan or
            // workload written meanwhile: keep the snapshot the writes kept
            // current (this run may have read the plan before or after).
            let now_stored = app.store.load_snapshot().await?;
            summary.table_reads += 1;
            let Some(stored) = now_stored else { break };
            if expected.is_some_and(|(seq, _)| seq != stored.seq) || expected.is_none() {
                break;
            }
            expected = Some((stored.seq, stored.activity_seq));
            readiness = figures(app.store.since(window_start(now)).await?);
            summary.table_reads += 1;
        }
    }
    let metrics = (!request.dry_run).then(|| emf_line(&readiness, &summary, now));
    Ok(Outcome {
        summary,
        readiness,
        metrics,
    })
}

/// The SPEC §6 figures as one CloudWatch Embedded Metric Format line.
/// `RemindersSent` and `EscalationsSent` count this run; the incident counts
/// (`Incidents…30Days`) are the readiness window's totals, named apart from
/// the responder's own `IncidentsMatched`, `IncidentsUnmatched` and
/// `IncidentsWithoutPlan`, which count each incident once as it happens.
pub fn emf_line(r: &Readiness, s: &Summary, now: Timestamp) -> String {
    let mut metrics: Vec<(&str, &str, Value)> = vec![
        ("Workloads", "Count", json!(r.workloads)),
        (
            "WorkloadsWithoutActivePlan",
            "Count",
            json!(r.workloads_without_active_plan),
        ),
        (
            "Tier1WorkloadsWithout24x7",
            "Count",
            json!(r.tier1_workloads_without_24x7),
        ),
        ("Plans", "Count", json!(r.plans)),
        ("Contacts", "Count", json!(r.contacts)),
        ("ContactsOverdue", "Count", json!(r.contacts_overdue)),
        ("OwnersUnreachable", "Count", json!(r.owners_unreachable)),
        ("PlansDueForReview", "Count", json!(r.plans_due_for_review)),
        ("ContractsRenewing", "Count", json!(r.contracts_renewing)),
        ("ContractsLapsed", "Count", json!(r.contracts_lapsed)),
        ("RemindersSent", "Count", json!(s.reminders)),
        ("EscalationsSent", "Count", json!(s.escalations)),
        (
            "IncidentsMatched30Days",
            "Count",
            json!(r.activity.incidents_matched),
        ),
        (
            "IncidentsUnmatched30Days",
            "Count",
            json!(r.activity.incidents_unmatched),
        ),
        (
            "IncidentsWithoutPlan30Days",
            "Count",
            json!(r.activity.incidents_without_plan),
        ),
        ("ItemsDueSoon", "Count", json!(s.due_soon)),
        ("ItemsOverdue", "Count", json!(s.overdue)),
        ("FreshnessCheckErrors", "Count", json!(s.errors)),
    ];
    if let Some(p) = r.contacts_fresh_percent {
        metrics.insert(5, ("ContactsFreshPercent", "Percent", json!(p)));
    }
    let mut line = Map::new();
    line.insert(
        "_aws".into(),
        json!({
            "Timestamp": now.as_millisecond(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Service"]],
                "Metrics": metrics.iter().map(|(n, u, _)| json!({"Name": n, "Unit": u})).collect::<Vec<_>>(),
            }],
        }),
    );
    line.insert("Service".into(), json!(SERVICE));
    for (name, _, value) in metrics {
        line.insert(name.into(), value);
    }
    Value::Object(line).to_string()
}

/// The Lambda handler: logs the summary, prints the metrics, and fails the
/// invocation (so that it is retried, then dead-lettered) when an owner
/// could not be reminded.
pub async fn handle(app: &App, event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let request =
        Request::parse(&event.payload).inspect_err(|e| tracing::warn!(error = %e, "event refused"))?;
    let outcome = run(app, request, Timestamp::now()).await.inspect_err(|e| {
        tracing::error!(error = %e, "freshness check failed");
    })?;
    let summary = serde_json::to_value(&outcome.summary).expect("the summary serializes");
    tracing::info!(dry_run = request.dry_run, summary = %summary, "freshness check done");
    if let Some(line) = &outcome.metrics {
        println!("{line}");
    }
    if outcome.summary.errors > 0 {
        return Err(CheckError::Incomplete {
            errors: outcome.summary.errors,
            summary: summary.to_string(),
        }
        .into());
    }
    Ok(summary)
}
