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
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
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

/// A connection not made within this is given up (and retried).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// An attempt not answered within this is given up (and retried); under
/// every function's own timeout but for the plans API's, whose caller waits.
/// The incident responder's clients have shorter deadlines, derived with its
/// timeout and its claims' lease in [`crate::deadlines`].
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

/// The SDK configuration from the environment (region, credentials,
/// `AWS_ENDPOINT_URL`, ...) with [`http_client`], the standard retry mode
/// ([`MAX_ATTEMPTS`] attempts from [`INITIAL_BACKOFF`]) and the timeouts
/// above.
///
/// Without the SDK's stalled-stream protection: it wakes every in-flight
/// call ten times a second to measure its throughput, which cost the
/// freshness check 60% of its CPU while reading the table (`make bench`,
/// 2,000 plans: 1.44 s → 0.59 s); our responses are small JSON documents,
/// and a stalled one is bounded by [`ATTEMPT_TIMEOUT`] instead.
pub async fn config() -> aws_config::SdkConfig {
    loader().load().await
}

/// [`config`]'s loader, for callers that set more (an endpoint, other retries).
pub fn loader() -> aws_config::ConfigLoader {
    let retry = RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(INITIAL_BACKOFF);
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .build();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http_client())
        .retry_config(retry)
        .timeout_config(timeouts)
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
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
    async fn the_config_carries_the_client_the_retries_and_the_timeouts() {
        let config = loader().region(aws_config::Region::new("us-east-1")).load().await;
        assert!(config.http_client().is_some(), "no HTTP client in the SDK config");
        let retry = config.retry_config().expect("a retry config");
        assert_eq!(retry.max_attempts(), MAX_ATTEMPTS);
        assert_eq!(retry.initial_backoff(), INITIAL_BACKOFF);
        let timeouts = config.timeout_config().expect("a timeout config");
        assert_eq!(timeouts.connect_timeout(), Some(CONNECT_TIMEOUT));
        assert_eq!(timeouts.operation_attempt_timeout(), Some(ATTEMPT_TIMEOUT));
        let stalled = config
            .stalled_stream_protection()
            .expect("stalled-stream settings");
        assert!(
            !stalled.is_enabled(),
            "stalled-stream protection wakes every call 10×/s"
        );
    }
}
