//! In-memory fakes of the ports (cargo feature `testing`), one file per fake,
//! for tests of the domain's services in milliseconds. Each fake is cheap to
//! clone and its clones share their state, so a test keeps a handle to look
//! inside after the service ran. Not built into any function.

pub mod activity;
pub mod cases;
pub mod chat;
pub mod claims;
pub mod directory;
pub mod evaluations;
pub mod hand_off;
pub mod incidents;
pub mod keys;
pub mod metrics;
pub mod rate_limit;
pub mod responded;
pub mod secret_text;
pub mod store;
pub mod subscriptions;
pub mod webhook_ids;

use jiff::SignedDuration;

use crate::freshness::Policy;
use crate::pipeline::{Pipeline, Ports, Settings};
use crate::post::Links;

/// The incident pipeline over the in-memory fakes.
#[derive(Debug, Clone, Copy)]
pub struct FakePorts;

impl Ports for FakePorts {
    type Source = incidents::FakeIncidents;
    type Sink = incidents::FakeIncidents;
    type Claims = claims::FakeClaims;
    type Chat = chat::FakeChat;
    type Directory = directory::FakeDirectory;
    type Activity = activity::FakeActivity;
    type RateLimit = rate_limit::FakeRateLimit;
    type Metrics = metrics::FakeMetrics;
    type Cases = cases::FakeCases;
    type Marks = responded::FakeResponseMarks;
    type Keys = keys::FakeKeys;
}

/// A pipeline over fresh fakes: `incidents` both source and sink.
pub fn pipeline(
    incidents: incidents::FakeIncidents,
    directory: directory::FakeDirectory,
    settings: Settings,
) -> Pipeline<FakePorts> {
    Pipeline {
        source: incidents.clone(),
        sink: incidents,
        claims: claims::FakeClaims::default(),
        chat: chat::FakeChat::default(),
        directory,
        activity: activity::FakeActivity::default(),
        rate_limit: rate_limit::FakeRateLimit::default(),
        metrics: metrics::FakeMetrics::default(),
        cases: cases::FakeCases::default(),
        marks: responded::FakeResponseMarks::default(),
        keys: keys::FakeKeys::default(),
        settings,
    }
}

/// The settings the tests run the pipeline with: every incident announced to
/// `incident_topic`, links to the example portal, the default freshness
/// policy, a 24-hour sweep window and 20 incidents a minute per source.
pub fn settings(incident_topic: &str) -> Settings {
    Settings {
        incident_topic: Some(incident_topic.to_owned()),
        chat_topics: None,
        links: Links {
            plan_url: "https://portal.example.com/plans/{id}".into(),
            directory_url: "https://portal.example.com/plans".into(),
        },
        policy: Policy::default(),
        sweep_window: SignedDuration::from_hours(24),
        limit_per_minute: 20,
        responded_url: Some("https://api.example.com/responded/".into()),
        open_cases: false,
    }
}
