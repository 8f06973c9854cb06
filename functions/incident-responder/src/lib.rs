//! The incident responder (SPEC §4): a translation. Each event is told apart
//! ([`triggers`]), handed to one call of the incident pipeline
//! ([`support_plans_domain::pipeline`], over the AWS adapters built once),
//! and its outcome said back as a summary, or as an error whose
//! [`Diagnostic`] says whether a retry helps.

pub mod config;
pub mod sources;
pub mod triggers;

use jiff::Timestamp;
use lambda_runtime::Diagnostic;
use serde_json::{Value, json};
use support_plans_aws::responder::AwsPorts;
use support_plans_domain::pipeline::{Answer, Delivered, IncidentId, Outcome, Pipeline, PipelineError, Told};
use support_plans_domain::ports::Metrics as _;
use support_plans_domain::validate::printable;

pub use config::{Config, ConfigError};
pub use support_plans_aws::responder::sdk_config;

use crate::sources::GenericSources;
use crate::triggers::{Generic, Trigger};

/// Everything the function needs, built once per process.
#[derive(Debug, Clone)]
pub struct Responder {
    pub pipeline: Pipeline<AwsPorts>,
    /// Who may send generic incidents.
    pub generic: GenericSources,
    /// Whether PagerDuty incidents are answered (and why not).
    pub pagerduty: config::PagerDuty,
}

/// An invocation that must fail: retried by Lambda, then dead-lettered.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ResponderError(#[from] PipelineError);

impl ResponderError {
    /// Every failure the pipeline returns is worth another try: what is
    /// refused for good is recorded and answered, not an error.
    pub fn retryable(&self) -> bool {
        true
    }
}

impl From<ResponderError> for Diagnostic {
    fn from(e: ResponderError) -> Self {
        let kind = match &e.0 {
            PipelineError::Unavailable(_) => "StoreUnavailable",
            PipelineError::Incomplete { .. } => "Incomplete",
            PipelineError::SourceUnavailable { .. } => "SourceUnavailable",
            PipelineError::Sweep { .. } => "SweepIncomplete",
        };
        let retry = if e.retryable() { "Retryable" } else { "Permanent" };
        Diagnostic {
            error_type: format!("{retry}.{kind}"),
            error_message: e.to_string(),
        }
    }
}

impl Responder {
    /// Reads the configuration and builds the clients; no request is made.
    pub async fn from_env() -> Result<Self, ConfigError> {
        Ok(Self::from_config(&sdk_config().await, None, Config::from_env()?))
    }

    /// The adapters from one SDK configuration; with `calls`, each client
    /// records its calls there (to count round trips).
    pub fn from_config(
        sdk: &aws_config::SdkConfig,
        calls: Option<&support_plans_aws::calls::CallLog>,
        config: Config,
    ) -> Self {
        let pagerduty = config.pagerduty.config().cloned();
        Self {
            pipeline: support_plans_aws::responder::pipeline(
                sdk,
                calls,
                &config.table,
                config.settings,
                pagerduty,
                config.responded_keys.as_deref(),
            ),
            generic: config.generic,
            pagerduty: config.pagerduty,
        }
    }

    /// The table the function reads and writes.
    pub fn store(&self) -> &support_plans_aws::DynamoStore {
        &self.pipeline.directory
    }

    /// Handles one event (each pipeline call boxed: the runtime's service
    /// stack over the pipeline's nested futures is otherwise deeper than the
    /// compiler's layout query limit). `Err` means the invocation must fail (and be retried
    /// or land in the dead-letter queue); ignored events are `Ok`.
    pub async fn handle(&self, event: &Value, now: Timestamp) -> Result<Value, ResponderError> {
        match triggers::parse(event) {
            Trigger::Incident {
                arn,
                source,
                resources,
                workload,
                response_plan,
            } => {
                tracing::info!(incident = %arn, source, "incident");
                let told = Told {
                    resources,
                    workload,
                    response_plan,
                };
                let outcome = Box::pin(self.pipeline.respond(&IncidentId::Record(arn), told, now)).await?;
                Ok(said(outcome))
            }
            Trigger::Sweep => {
                let swept = Box::pin(self.pipeline.sweep(now)).await?;
                Ok(
                    json!({"status": "swept", "open": swept.open, "already_complete": swept.already_complete,
                          "handled": swept.handled, "follow_ups": swept.follow_ups, "failed": 0}),
                )
            }
            Trigger::Responded { incident, plan } => {
                tracing::info!(incident = %incident, plan, "vendor marked as responding");
                let done = Box::pin(self.pipeline.responded(&incident, now)).await?;
                Ok(
                    json!({"status": "responded", "incident": incident.key(), "plan": plan, "notes": done.notes}),
                )
            }
            Trigger::Generic(g) if !self.generic.admits(&g.source) => {
                let source = printable(&g.source, 64);
                tracing::warn!(%source, incident = %g.id, "generic incident from a source not in GENERIC_SOURCES; ignored");
                self.pipeline.metrics.count("EventsIgnored");
                self.pipeline.metrics.count("GenericIncidentsRefused");
                Ok(json!({
                    "status": "ignored",
                    "reason": format!("source {source:?} is not one of GENERIC_SOURCES"),
                    "incident": g.id,
                }))
            }
            Trigger::Generic(g) => {
                let incident = delivered(g, now);
                Ok(said(
                    Box::pin(self.pipeline.respond_delivered(&incident, now)).await?,
                ))
            }
            Trigger::PagerDuty {
                incident_id,
                event_id,
            } => {
                let id = support_plans_domain::pagerduty::id(&incident_id);
                tracing::info!(incident = %id, event = event_id.as_deref().unwrap_or("-"), "PagerDuty incident");
                if let config::PagerDuty::NotConfigured(why) = &self.pagerduty {
                    // Refused for good: a retry would meet the same configuration.
                    tracing::error!(incident = %id, reason = %why, "PagerDuty hand-off refused: PagerDuty is not configured; not retried");
                    self.pipeline.metrics.count("PagerDutyNotConfigured");
                    return Ok(json!({"status": "refused", "incident": id.key(), "reason": why}));
                }
                let outcome = Box::pin(self.pipeline.respond(&id, Told::default(), now)).await?;
                Ok(said(outcome))
            }
            Trigger::Ignored(reason) => {
                tracing::warn!(%reason, "event ignored");
                self.pipeline.metrics.count("EventsIgnored");
                Ok(json!({"status": "ignored", "reason": reason}))
            }
        }
    }
}

/// A generic `Incident Started` event as an incident delivered whole.
fn delivered(g: Generic, now: Timestamp) -> Delivered {
    Delivered {
        started_at: g.time.as_deref().and_then(|t| t.parse().ok()).unwrap_or(now),
        id: IncidentId::External {
            kind: "generic",
            id: g.id,
        },
        sender: g.source,
        title: g.title,
        impact: g.impact,
        workload: g.workload,
        resources: g.resources,
        url: g.url,
    }
}

/// The outcome as the invocation's answer.
fn said(outcome: Outcome) -> Value {
    match outcome {
        Outcome::Posted(answer) => summary(&answer),
        Outcome::Resolved { key } => json!({"status": "resolved", "incident": key}),
        Outcome::NotFound { key } => {
            json!({"status": "ignored", "reason": "no such incident", "incident": key})
        }
        Outcome::SourceRefused { key, reason } => {
            json!({"status": "refused", "incident": key, "reason": reason})
        }
        Outcome::Throttled { key, sender, limit } => {
            json!({"status": "throttled", "incident": key, "source": sender, "limit": limit})
        }
    }
}

fn summary(a: &Answer) -> Value {
    let t = &a.tally;
    json!({
        "status": "posted",
        "incident": a.key,
        "workloads": a.workloads,
        "plans": a.plans,
        "unmatched": a.unmatched(),
        "without_plan": a.without_plan,
        "counted": t.counted,
        "notes_posted": t.notes,
        "links_added": t.links,
        "chat_messages": t.chats,
        "already_done": t.already_done,
        "in_progress_elsewhere": t.busy,
        "refused": t.refused,
        "complete": a.complete,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_answer_is_a_diagnostic_that_says_a_retry_helps() {
        let e = ResponderError(PipelineError::Incomplete {
            key: "arn:x".into(),
            failures: vec!["NOTE#aws-business: throttled".into()],
        });
        let d = Diagnostic::from(e);
        assert_eq!(d.error_type, "Retryable.Incomplete");
        assert!(
            d.error_message.contains("NOTE#aws-business: throttled"),
            "{}",
            d.error_message
        );
    }
}
