//! `freshness-check`: wires the clients, the key and the configuration once,
//! then serves the schedule's (and on-demand) invocations.

use freshness_check::{App, Config, handle};
use lambda_runtime::{Error, run, service_fn};
use support_plans_aws::DynamoStore;
use support_plans_aws::secrets::verify_key;
use support_plans_aws::sns::SnsNotifier;
use support_plans_domain::token::Links;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let key = verify_key(&aws_sdk_secretsmanager::Client::new(&sdk), &config.key_secret).await?;
    let app = App {
        store: DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &config.table),
        notifier: SnsNotifier::new(aws_sdk_sns::Client::new(&sdk)),
        links: Links::new(&config.base_url, key)?,
        reminder_topic: config.reminder_topic,
        escalation_topic: config.escalation_topic,
        settings: config.settings,
    };
    run(service_fn(|event| handle(&app, event))).await
}
