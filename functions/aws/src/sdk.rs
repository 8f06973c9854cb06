//! The SDK configuration every function builds its clients from: one lean
//! HTTPS client and the retry settings of the functions.
//!
//! The SDK crates are built without their default HTTPS client (rustls on
//! aws-lc-rs, which also reads and parses the platform's root certificates
//! as soon as a service client is built, i.e. during the Lambda init). This
//! client is `aws-smithy-http-client`'s hyper client on rustls with ring,
//! the platform roots, and it reads them on the first connection instead.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::shared::IntoShared as _;

/// Attempts per call, the first included (standard retry mode).
pub const MAX_ATTEMPTS: u32 = 5;
/// The first retry's backoff; it grows exponentially, with jitter.
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(200);

/// The SDK configuration from the environment (region, credentials,
/// `AWS_ENDPOINT_URL`, ...) with [`http_client`] and the standard retry mode:
/// [`MAX_ATTEMPTS`] attempts from [`INITIAL_BACKOFF`].
pub async fn config() -> aws_config::SdkConfig {
    loader().load().await
}

/// [`config`]'s loader, for callers that set more (an endpoint, other retries).
pub fn loader() -> aws_config::ConfigLoader {
    let retry = RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(INITIAL_BACKOFF);
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http_client())
        .retry_config(retry)
}

/// HTTPS (and plain HTTP, for the local stack) through hyper and rustls on
/// ring, trusting the platform's roots, which are read on the first
/// connection (then cached for the process), not when a client is built.
pub fn http_client() -> SharedHttpClient {
    let inner = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    OnFirstConnection(inner).into_shared()
}

/// Delegates everything but the base client check, where the inner client
/// builds a connector early on purpose ("so that native certs load at client
/// initialization time"); the trait's default check does nothing.
#[derive(Debug)]
struct OnFirstConnection(SharedHttpClient);

impl HttpClient for OnFirstConnection {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_config_carries_the_client_and_the_retries() {
        let config = loader().region(aws_config::Region::new("us-east-1")).load().await;
        assert!(config.http_client().is_some(), "no HTTP client in the SDK config");
        let retry = config.retry_config().expect("a retry config");
        assert_eq!(retry.max_attempts(), MAX_ATTEMPTS);
        assert_eq!(retry.initial_backoff(), INITIAL_BACKOFF);
    }
}
