//! The domain's ports on AWS. Adapters know nothing of HTTP or Lambda
//! (`logging` is the functions' shared log set-up, here because all three use this crate).

#[cfg(feature = "incidents")]
pub mod claims;
#[cfg(feature = "incidents")]
pub mod incidents;
pub mod store;

pub mod activity;
pub mod adapters;
pub mod calls;
#[cfg(feature = "config")]
pub mod config;
pub mod deadlines;
pub mod directory;
pub mod failure;
#[cfg(feature = "hooks")]
pub mod hand_off;
pub mod logging;
pub mod metrics;
#[cfg(feature = "pagerduty")]
pub mod pagerduty;
pub mod rate_limit;
pub mod reminder_state;
pub mod responded;
#[cfg(all(
    feature = "incidents",
    feature = "sns",
    feature = "pagerduty",
    feature = "support"
))]
pub mod responder;
pub mod sdk;
pub mod secrets;
pub mod snapshot;
#[cfg(feature = "sns")]
pub mod sns;
pub mod subscription_records;
#[cfg(feature = "sns")]
pub mod subscriptions;
#[cfg(feature = "support")]
pub mod support;
pub mod webhook_ids;

pub use store::DynamoStore;
