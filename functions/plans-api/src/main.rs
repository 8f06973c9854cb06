//! `plans-api`: reads the configuration, builds the adapters, serves Lambda events.

use plans_api::config::Config;
use plans_api::verify::KeySource;
use plans_api::{AppState, app};
use support_plans_aws::adapters::ApiAdapters;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    support_plans_aws::logging::init();
    // First: a bad setting (LOCAL_AUTH in AWS among them) stops the function
    // before it serves anything.
    let config = Config::from_env()?;
    let sdk = support_plans_aws::sdk::config().await;
    let adapters = ApiAdapters::new(&sdk, &config.table, config.verify_key_secret.as_deref());
    let mut state = AppState::with_config(adapters.store, config);
    // The one-click verification key: read on the first /verify request, not here.
    if let Some(keys) = adapters.keys {
        state.verify_key = KeySource::secret(keys);
    }
    lambda_http::run(app(state)).await
}
