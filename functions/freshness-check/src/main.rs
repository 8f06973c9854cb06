//! `freshness-check`: reads the configuration and builds the clients once;
//! the first invocation reads the verification key (kept for the process),
//! then every invocation runs the check, except AWS Config's, which put the
//! readiness rule's evaluation (SPEC §15).

use freshness_check::{Config, Process};
use lambda_runtime::{Error, run, service_fn};
use support_plans_aws::adapters::FreshnessAdapters;

#[tokio::main]
async fn main() -> Result<(), Error> {
    support_plans_aws::logging::init();
    let config = Config::from_env()?;
    let sdk = support_plans_aws::sdk::config().await;
    let topics = [config.reminder_topic.as_str(), config.escalation_topic.as_str()];
    let adapters = FreshnessAdapters::new(&sdk, &config.table, &config.key_secret, topics);
    let process = Process::new(config, adapters);
    run(service_fn(|event| process.handle(event))).await
}
