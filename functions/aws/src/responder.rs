//! The incident responder's adapters (SPEC §4), built once per process from
//! one SDK configuration: DynamoDB (directory, claims, counts, the generic
//! senders' rate limit), Incident Manager (source and sink), SNS (chat).

use support_plans_domain::pipeline::{Pipeline, Ports, Settings};

use crate::DynamoStore;
use crate::calls::CallLog;
use crate::claims::Claims;
use crate::incidents::IncidentManager;
use crate::metrics::EmfMetrics;
use crate::sns::SnsChat;

/// The pipeline's ports on AWS.
#[derive(Debug, Clone, Copy)]
pub struct AwsPorts;

impl Ports for AwsPorts {
    type Source = IncidentManager;
    type Sink = IncidentManager;
    type Claims = Claims;
    type Chat = SnsChat;
    type Directory = DynamoStore;
    type Activity = DynamoStore;
    type RateLimit = DynamoStore;
    type Metrics = EmfMetrics;
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
/// `calls`, each client records its calls there (to count round trips).
pub fn pipeline(
    config: &aws_config::SdkConfig,
    calls: Option<&CallLog>,
    table: &str,
    settings: Settings,
) -> Pipeline<AwsPorts> {
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
    let store = DynamoStore::new(dynamo.clone(), table);
    let incidents = IncidentManager::new(aws_sdk_ssmincidents::Client::from_conf(incidents.build()));
    Pipeline {
        source: incidents.clone(),
        sink: incidents,
        claims: Claims::new(dynamo, table),
        chat: SnsChat::new(aws_sdk_sns::Client::from_conf(sns.build())),
        directory: store.clone(),
        activity: store.clone(),
        rate_limit: store,
        metrics: EmfMetrics,
        settings,
    }
}
