//! The adapters each function needs, built once per process from one SDK
//! configuration: a function's `main.rs` builds them and hands them to its
//! library, which names no SDK type.

use aws_config::SdkConfig;

use crate::secrets::SecretsManagerKeys;
use crate::store::DynamoStore;

/// The plans API's adapters (SPEC §3): the table, and the one-click
/// verification keys when their secret is configured.
#[derive(Debug, Clone)]
pub struct ApiAdapters {
    pub store: DynamoStore,
    pub keys: Option<SecretsManagerKeys>,
}

impl ApiAdapters {
    /// Builds the clients; no request is made.
    pub fn new(sdk: &SdkConfig, table: &str, key_secret: Option<&str>) -> Self {
        Self {
            store: DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), table),
            keys: key_secret.map(|id| SecretsManagerKeys::from_sdk(sdk, id)),
        }
    }
}

/// The freshness check's adapters (SPEC §5): the table, the SNS notifier
/// and the verification keys' secret; and, as the AWS Config rule's
/// function (SPEC §15), Config's `PutEvaluations`.
#[cfg(all(feature = "sns", feature = "config"))]
#[derive(Debug, Clone)]
pub struct FreshnessAdapters {
    pub store: DynamoStore,
    pub notifier: crate::sns::SnsNotifier,
    pub keys: SecretsManagerKeys,
    /// The two topics' subscriptions (SPEC §14).
    pub subscriptions: crate::subscriptions::SnsSubscriptions,
    /// Where the readiness rule's evaluations go (SPEC §15).
    pub evaluations: crate::config::ConfigEvaluations,
}

#[cfg(all(feature = "sns", feature = "config"))]
impl FreshnessAdapters {
    /// Builds the clients; no request is made.
    pub fn new(sdk: &SdkConfig, table: &str, key_secret: &str, topics: [&str; 2]) -> Self {
        let sns = aws_sdk_sns::Client::new(sdk);
        let [reminder, escalation] = topics;
        Self {
            store: DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), table),
            notifier: crate::sns::SnsNotifier::new(sns.clone()),
            keys: SecretsManagerKeys::from_sdk(sdk, key_secret),
            subscriptions: crate::subscriptions::SnsSubscriptions::new(sns, reminder, escalation),
            evaluations: crate::config::ConfigEvaluations::new(aws_sdk_config::Client::new(sdk)),
        }
    }
}

/// The webhook edge's adapters (SPEC §11, §13): the table (webhook ids;
/// response marks and the claims' `done`), the two webhook secrets, the
/// responded links' keys and the responder's asynchronous invocation. The
/// webhook routes' clients have the edge's short deadlines
/// ([`crate::deadlines::hooks_timeouts`]); the responded routes' (`marks`,
/// `responded_key`) longer ones ([`crate::deadlines::responded_timeouts`]).
#[cfg(feature = "hooks")]
#[derive(Debug, Clone)]
pub struct HooksAdapters {
    pub ids: DynamoStore,
    pub marks: DynamoStore,
    pub pagerduty_secret: crate::secrets::SecretsManagerText,
    pub incident_secret: crate::secrets::SecretsManagerText,
    pub responded_key: crate::secrets::SecretsManagerText,
    pub hand_off: crate::hand_off::LambdaHandOff,
}

#[cfg(feature = "hooks")]
impl HooksAdapters {
    /// Builds the clients; no request is made.
    pub fn new(
        sdk: &SdkConfig,
        table: &str,
        pagerduty_secret: &str,
        incident_secret: &str,
        responded_key: &str,
        responder: &str,
    ) -> Self {
        let webhooks = sdk
            .to_builder()
            .timeout_config(crate::deadlines::hooks_timeouts())
            .build();
        let people = sdk
            .to_builder()
            .timeout_config(crate::deadlines::responded_timeouts())
            .build();
        let secrets = aws_sdk_secretsmanager::Client::new(&webhooks);
        Self {
            ids: DynamoStore::new(aws_sdk_dynamodb::Client::new(&webhooks), table),
            marks: DynamoStore::new(aws_sdk_dynamodb::Client::new(&people), table),
            pagerduty_secret: crate::secrets::SecretsManagerText::new(secrets.clone(), pagerduty_secret),
            incident_secret: crate::secrets::SecretsManagerText::new(secrets, incident_secret),
            responded_key: crate::secrets::SecretsManagerText::new(
                aws_sdk_secretsmanager::Client::new(&people),
                responded_key,
            ),
            hand_off: crate::hand_off::LambdaHandOff::new(aws_sdk_lambda::Client::new(&webhooks), responder),
        }
    }
}
