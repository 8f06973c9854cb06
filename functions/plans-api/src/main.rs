//! `plans-api`: wires the store and the router, then serves Lambda events.

use plans_api::{AppState, app, auth::AuthConfig};
use support_plans_aws::DynamoStore;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set")?;
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), table);
    let state = AppState::new(store, AuthConfig::from_env());
    lambda_http::run(app(state)).await
}
