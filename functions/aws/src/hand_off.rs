//! The webhook edge's hand-off to the incident responder (SPEC §11): an
//! asynchronous Lambda `Invoke` (`InvocationType=Event`) of the responder
//! with the payload; Lambda queues it and answers 202. The domain's
//! [`HandOff`] port. Throttling, 5xx and timeouts are retried by the SDK's
//! standard retry within [`crate::deadlines::hooks_timeouts`], then
//! `Retry`; any other refusal (no such function, access denied, a payload
//! over the 256 KiB asynchronous limit) is `Refused`.
//!
//! Locally, `cargo lambda watch` (1.9) ignores `X-Amz-Invocation-Type:
//! Event`: it runs the function while the caller waits and answers 200 with
//! its result, so there the hand-off takes as long as the responder's run.

use aws_sdk_lambda::Client;
use aws_sdk_lambda::error::DisplayErrorContext;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use serde_json::Value;
use support_plans_domain::ports::{HandOff, PortError};

use crate::failure::is_permanent;

/// Invokes `function` (a name or an ARN) asynchronously.
#[derive(Debug, Clone)]
pub struct LambdaHandOff {
    client: Client,
    function: String,
}

impl LambdaHandOff {
    pub fn new(client: Client, function: impl Into<String>) -> Self {
        Self {
            client,
            function: function.into(),
        }
    }
}

impl HandOff for LambdaHandOff {
    async fn hand_off(&self, payload: &Value) -> Result<(), PortError> {
        let bytes = serde_json::to_vec(payload).map_err(|e| PortError::Refused(e.to_string()))?;
        let out = self
            .client
            .invoke()
            .function_name(&self.function)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(bytes))
            .send()
            .await;
        match out {
            // 202: queued. Lambda never runs an Event invocation while the
            // caller waits, but `cargo lambda watch` (the local stack) does:
            // it answers 200 with the function's result, or its error.
            Ok(out) => match out.function_error() {
                None => Ok(()),
                Some(kind) => Err(PortError::Retry(format!(
                    "invoking {}: the function ran and failed ({kind})",
                    self.function
                ))),
            },
            Err(e) if is_permanent(&e) => Err(PortError::Refused(format!(
                "invoking {}: {}",
                self.function,
                DisplayErrorContext(e)
            ))),
            Err(e) => Err(PortError::Retry(format!(
                "invoking {}: {}",
                self.function,
                DisplayErrorContext(e)
            ))),
        }
    }
}
