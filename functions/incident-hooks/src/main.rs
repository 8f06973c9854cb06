//! `incident-hooks` (SPEC §11, §13): reads the configuration, builds the adapters, serves Lambda events.

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
        &config.responded_key,
        &config.responder,
    );
    // The secrets are read on the first request of each route, not here.
    let mut hooks = Hooks::new(
        a.ids,
        a.marks,
        a.hand_off,
        a.pagerduty_secret,
        a.incident_secret,
        a.responded_key,
    );
    hooks.local_auth = config.local_auth;
    lambda_http::run(app(hooks)).await
}
