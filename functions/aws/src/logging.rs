//! The functions' log subscriber (issue 12, "nothing secret in logs"): the
//! level and format that Lambda's log controls ask for, with the libraries
//! that log raw payloads held below the level where they would, whatever
//! `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG` say.
//!
//! At TRACE, `lambda_runtime` logs every raw event (API requests with their
//! bearer tokens and one-click links, webhook signatures), and the SDK logs
//! whole requests and responses (the Secrets Manager answer that holds the
//! link-signing key; session tokens in headers). Our own code logs no event
//! whole at any level.

use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::{EnvFilter, FilterExt as _, LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Targets that log payloads, and the most they may log.
const CAPPED: [(&str, LevelFilter); 12] = [
    ("lambda_runtime", LevelFilter::DEBUG),
    ("lambda_runtime_api_client", LevelFilter::DEBUG),
    ("lambda_http", LevelFilter::DEBUG),
    ("aws_smithy_runtime", LevelFilter::DEBUG),
    ("aws_smithy_runtime_api", LevelFilter::DEBUG),
    ("aws_smithy_http_client", LevelFilter::DEBUG),
    ("aws_sigv4", LevelFilter::DEBUG),
    ("aws_runtime", LevelFilter::DEBUG),
    ("aws_config", LevelFilter::DEBUG),
    ("hyper", LevelFilter::INFO),
    ("hyper_util", LevelFilter::INFO),
    ("h2", LevelFilter::INFO),
];

/// Installs the subscriber: JSON when `AWS_LAMBDA_LOG_FORMAT` is `JSON` (the
/// template sets it), the level from `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`,
/// else INFO, as `lambda_runtime`'s default subscriber reads them.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|l| l.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let wanted = EnvFilter::builder()
        .with_default_directive(level.into())
        .from_env_lossy();
    let filter = wanted.and(
        Targets::new()
            .with_default(LevelFilter::TRACE)
            .with_targets(CAPPED),
    );
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let layer = tracing_subscriber::fmt::layer().with_target(false).without_time();
    let registry = tracing_subscriber::registry();
    if json {
        registry.with(layer.json().with_filter(filter)).init();
    } else {
        registry.with(layer.with_filter(filter)).init();
    }
    // Says, only when it is so, that everything else is logged at TRACE.
    tracing::trace!(capped = ?CAPPED.map(|(target, _)| target), "logging at TRACE, payload-logging libraries capped");
}
