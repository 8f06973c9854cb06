//! The incident responder's adapters (SPEC §4, §11), built once per process
//! from one SDK configuration: DynamoDB (directory, claims, counts, the
//! generic senders' rate limit), Incident Manager and PagerDuty (source and
//! sink, each incident to its own), SNS (chat).

use jiff::Timestamp;
use support_plans_domain::pagerduty as pd;
use support_plans_domain::pipeline::{IncidentId, Pipeline, Ports, ReportedIncident, Settings};
use support_plans_domain::ports::{IncidentSink, IncidentSource, PortError};

use crate::DynamoStore;
use crate::calls::CallLog;
use crate::claims::Claims;
use crate::incidents::IncidentManager;
use crate::metrics::EmfMetrics;
use crate::pagerduty::{PagerDuty, PagerDutyConfig};
use crate::secrets::SecretsManagerKeys;
use crate::sns::SnsChat;
use crate::support::SupportApi;

/// The pipeline's ports on AWS.
#[derive(Debug, Clone, Copy)]
pub struct AwsPorts;

impl Ports for AwsPorts {
    type Source = Incidents;
    type Sink = Incidents;
    type Claims = Claims;
    type Chat = SnsChat;
    type Directory = DynamoStore;
    type Activity = DynamoStore;
    type RateLimit = DynamoStore;
    type Metrics = EmfMetrics;
    type Cases = SupportApi;
    type Marks = DynamoStore;
    type Keys = SecretsManagerKeys;
}

/// Every incident source and sink, each incident sent to its own: Incident
/// Manager records to Incident Manager, `pagerduty` ids to PagerDuty (when
/// configured).
#[derive(Debug, Clone)]
pub struct Incidents {
    pub manager: IncidentManager,
    pub pagerduty: Option<PagerDuty>,
}

/// What a PagerDuty id gets when PagerDuty is not configured.
pub const PAGERDUTY_NOT_CONFIGURED: &str = "PagerDuty is not configured: PAGERDUTY_TOKEN_SECRET_ARN and PAGERDUTY_FROM are not both set (template parameter PagerDutyFromEmail)";

enum Owner<'a> {
    Manager(&'a IncidentManager),
    PagerDuty(&'a PagerDuty),
}

impl Incidents {
    fn owner(&self, id: &IncidentId) -> Result<Owner<'_>, PortError> {
        match id {
            IncidentId::Record(_) => Ok(Owner::Manager(&self.manager)),
            IncidentId::External { kind, .. } if *kind == pd::KIND => self
                .pagerduty
                .as_ref()
                .map(Owner::PagerDuty)
                .ok_or_else(|| PortError::Refused(PAGERDUTY_NOT_CONFIGURED.into())),
            IncidentId::External { kind, .. } => Err(PortError::Refused(format!(
                "{id}: no incident source holds {kind} incidents"
            ))),
        }
    }
}

impl IncidentSource for Incidents {
    async fn read(&self, id: &IncidentId) -> Result<Option<ReportedIncident>, PortError> {
        match self.owner(id)? {
            Owner::Manager(m) => IncidentSource::read(m, id).await,
            Owner::PagerDuty(p) => IncidentSource::read(p, id).await,
        }
    }

    /// Incident Manager's open incidents and PagerDuty's (when configured;
    /// not configured, none), both listed at once.
    ///
    /// One source failing does not hide the other's: what the other read is
    /// returned and the failure logged (an error line naming the source), so
    /// a PagerDuty outage or a refused token does not stop the follow-ups of
    /// Incident Manager incidents, nor the other way round. The failed
    /// source's incidents are listed again by the next sweep (the schedule,
    /// every few minutes), so a failure delays their notes and loses none.
    /// Only when every configured source failed is the sweep an error.
    async fn open_since(&self, since: Timestamp) -> Result<Vec<IncidentId>, PortError> {
        let manager = IncidentSource::open_since(&self.manager, since);
        let pagerduty = async {
            match &self.pagerduty {
                Some(p) => p.open_since(since).await,
                None => Ok(Vec::new()),
            }
        };
        match tokio::join!(manager, pagerduty) {
            (Ok(mut open), Ok(more)) => {
                open.extend(more);
                Ok(open)
            }
            (Ok(open), Err(e)) => {
                tracing::error!(source = "PagerDuty", error = %e, "open incidents not listed; this sweep follows up Incident Manager's only");
                Ok(open)
            }
            (Err(e), Ok(open)) if self.pagerduty.is_some() => {
                tracing::error!(source = "Incident Manager", error = %e, "open incidents not listed; this sweep follows up PagerDuty's only");
                Ok(open)
            }
            (Err(e), Ok(_)) => Err(e),
            (Err(m), Err(p)) => Err(PortError::Retry(format!(
                "no open incidents listed: Incident Manager: {m}; PagerDuty: {p}"
            ))),
        }
    }
}

impl IncidentSink for Incidents {
    fn note_limit(&self, id: &IncidentId) -> usize {
        match self.owner(id) {
            Ok(Owner::PagerDuty(p)) => p.note_limit(id),
            Ok(Owner::Manager(m)) => m.note_limit(id),
            Err(_) => support_plans_domain::post::MAX_EVENT_DATA,
        }
    }

    fn takes_links(&self, id: &IncidentId) -> bool {
        match self.owner(id) {
            Ok(Owner::PagerDuty(p)) => p.takes_links(id),
            Ok(Owner::Manager(m)) => m.takes_links(id),
            Err(_) => false,
        }
    }

    async fn note(
        &self,
        id: &IncidentId,
        text: &str,
        at: Timestamp,
        client_token: &str,
    ) -> Result<(), PortError> {
        match self.owner(id)? {
            Owner::Manager(m) => m.note(id, text, at, client_token).await,
            Owner::PagerDuty(p) => p.note(id, text, at, client_token).await,
        }
    }

    async fn link(
        &self,
        id: &IncidentId,
        title: &str,
        url: &str,
        client_token: &str,
    ) -> Result<(), PortError> {
        match self.owner(id)? {
            Owner::Manager(m) => m.link(id, title, url, client_token).await,
            Owner::PagerDuty(p) => p.link(id, title, url, client_token).await,
        }
    }
}

/// The SDK configuration every client shares: retries with backoff on
/// throttling and 5xx (SPEC §4), the endpoint from the environment, and the
/// responder's deadlines ([`crate::deadlines`]: each call within its share of
/// the function's timeout).
pub async fn sdk_config() -> aws_config::SdkConfig {
    crate::sdk::loader()
        .timeout_config(crate::deadlines::responder_timeouts())
        .load()
        .await
}

/// The pipeline over clients from one SDK configuration, on `table`; with
/// `calls`, each client records its calls there (to count round trips);
/// PagerDuty's source and sink when `pagerduty` is configured.
pub fn pipeline(
    config: &aws_config::SdkConfig,
    calls: Option<&CallLog>,
    table: &str,
    settings: Settings,
    pagerduty: Option<PagerDutyConfig>,
    responded_keys: Option<&str>,
) -> Pipeline<AwsPorts> {
    let mut support = crate::support::config_builder(config);
    let mut dynamo = aws_sdk_dynamodb::config::Builder::from(config);
    let mut incidents = aws_sdk_ssmincidents::config::Builder::from(config);
    let mut sns = aws_sdk_sns::config::Builder::from(config);
    let mut secrets = aws_sdk_secretsmanager::config::Builder::from(config);
    if let Some(calls) = calls {
        dynamo.push_interceptor(aws_sdk_dynamodb::config::SharedInterceptor::new(
            calls.interceptor(),
        ));
        incidents.push_interceptor(aws_sdk_ssmincidents::config::SharedInterceptor::new(
            calls.interceptor(),
        ));
        sns.push_interceptor(aws_sdk_sns::config::SharedInterceptor::new(calls.interceptor()));
        secrets.push_interceptor(aws_sdk_secretsmanager::config::SharedInterceptor::new(
            calls.interceptor(),
        ));
        support.push_interceptor(aws_sdk_support::config::SharedInterceptor::new(
            calls.interceptor(),
        ));
    }
    let dynamo = aws_sdk_dynamodb::Client::from_conf(dynamo.build());
    let store = DynamoStore::new(dynamo.clone(), table);
    let secrets = aws_sdk_secretsmanager::Client::from_conf(secrets.build());
    // Without RESPONDED_KEY_SECRET_ARN the settings hold no RESPONDED_URL
    // either, and the keys are never read.
    let keys = SecretsManagerKeys::new(secrets.clone(), responded_keys.unwrap_or_default());
    let incidents = Incidents {
        manager: IncidentManager::new(aws_sdk_ssmincidents::Client::from_conf(incidents.build())),
        pagerduty: pagerduty.map(|c| PagerDuty::with_secrets(c, secrets)),
    };
    Pipeline {
        source: incidents.clone(),
        sink: incidents,
        claims: Claims::new(dynamo, table),
        chat: SnsChat::new(aws_sdk_sns::Client::from_conf(sns.build())),
        directory: store.clone(),
        activity: store.clone(),
        rate_limit: store.clone(),
        metrics: EmfMetrics,
        cases: SupportApi::new(aws_sdk_support::Client::from_conf(support.build())),
        marks: store,
        keys,
        settings,
    }
}
