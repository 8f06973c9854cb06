//! The webhook edge's hand-off to the incident responder (SPEC §11): an
//! asynchronous Lambda `Invoke` (`InvocationType=Event`) of the responder
//! with the payload; Lambda queues it and answers 202. The domain's
//! [`HandOff`] port. Throttling, 5xx and timeouts are retried by the SDK's
//! standard retry within [`crate::deadlines::hooks_timeouts`], then
//! `Retry`; any other refusal (no such function, access denied, a payload
//! over the 256 KiB asynchronous limit) is `Refused`.

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
            // 202: queued. Any other 2xx would mean a synchronous run, which
            // an Event invocation is not; taken as queued all the same.
            Ok(_) => Ok(()),
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
