//! `incident-responder`: wires the clients once, then answers each event.

use incident_responder::Responder;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    support_plans_aws::logging::init();
    let responder = Responder::from_env().await?;
    let responder = &responder;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        responder
            .handle(&event.payload, jiff::Timestamp::now())
            .await
            .map_err(lambda_runtime::Diagnostic::from)
    }))
    .await
}
