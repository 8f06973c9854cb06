//! In-memory fakes of the ports (cargo feature `testing`), one file per fake,
//! for tests of the domain's services in milliseconds. Each fake is cheap to
//! clone and its clones share their state, so a test keeps a handle to look
//! inside after the service ran. Not built into any function.

pub mod activity;
pub mod chat;
pub mod claims;
pub mod directory;
pub mod incidents;
pub mod metrics;
pub mod rate_limit;
pub mod store;

use crate::pipeline::{Pipeline, Ports, Settings};

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
        settings,
    }
}
