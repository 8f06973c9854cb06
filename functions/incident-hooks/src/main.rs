//! `incident-hooks` (SPEC §11): reads the configuration, builds the adapters, serves Lambda events.

use incident_hooks::config::Config;
use incident_hooks::{Hooks, app};
use support_plans_aws::adapters::HooksAdapters;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    support_plans_aws::logging::init();
    // First: a missing setting stops the function before it serves anything.
    let config = Config::from_env()?;
    let sdk = support_plans_aws::sdk::config().await;
    let a = HooksAdapters::new(
        &sdk,
        &config.table,
        &config.pagerduty_secret,
        &config.incident_secret,
        &config.responder,
    );
    // The secrets are read on the first delivery of each route, not here.
    lambda_http::run(app(Hooks::new(
        a.ids,
        a.hand_off,
        a.pagerduty_secret,
        a.incident_secret,
    )))
    .await
}
