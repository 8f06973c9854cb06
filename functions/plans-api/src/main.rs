//! `plans-api`: wires the store and the router, then serves Lambda events.

use plans_api::verify::KeySource;
use plans_api::{AppState, app, auth::AuthConfig};
use support_plans_aws::DynamoStore;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    support_plans_aws::logging::init();
    // First: LOCAL_AUTH in AWS stops the function before it serves anything.
    let auth = AuthConfig::from_env()?;
    let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set")?;
    let config = support_plans_aws::sdk::config().await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), table);
    let mut state = AppState::new(store, auth);
    // The one-click verification key: read on the first /verify request, not here.
    if let Ok(secret) = std::env::var("VERIFY_KEY_SECRET_ARN") {
        let client = aws_sdk_secretsmanager::Client::new(&config);
        state.verify_key = KeySource::secret(client, secret);
    }
    lambda_http::run(app(state)).await
}
