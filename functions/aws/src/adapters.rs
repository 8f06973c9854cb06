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
/// and the verification keys' secret.
#[cfg(feature = "sns")]
#[derive(Debug, Clone)]
pub struct FreshnessAdapters {
    pub store: DynamoStore,
    pub notifier: crate::sns::SnsNotifier,
    pub keys: SecretsManagerKeys,
}

#[cfg(feature = "sns")]
impl FreshnessAdapters {
    /// Builds the clients; no request is made.
    pub fn new(sdk: &SdkConfig, table: &str, key_secret: &str) -> Self {
        Self {
            store: DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), table),
            notifier: crate::sns::SnsNotifier::new(aws_sdk_sns::Client::new(sdk)),
            keys: SecretsManagerKeys::from_sdk(sdk, key_secret),
        }
    }
}
