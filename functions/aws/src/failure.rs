//! Which failed AWS calls are worth another try (SPEC §4 "Permanent failures
//! are not retried"): throttling, 5xx and timeouts (or a connection that
//! failed) are; any other answer of the service (4xx: access denied, not
//! found, invalid parameter, ...) is the same on every try.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Error codes that mean "slow down" whatever their HTTP status.
const THROTTLING: [&str; 8] = [
    "Throttling",
    "ThrottlingException",
    "Throttled",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestTimeout",
];

/// The service answered, and will answer the same again: a 4xx that is not
/// throttling. Timeouts, connection failures and 5xx are not permanent.
pub fn is_permanent<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    match e {
        SdkError::ServiceError(context) => {
            let status = context.raw().status().as_u16();
            let code = context.err().code().unwrap_or_default();
            (400..500).contains(&status) && status != 429 && !THROTTLING.contains(&code)
        }
        _ => false,
    }
}
