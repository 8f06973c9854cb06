//! Workloads and support plans (SPEC §2), and their checked parsing.

mod enums;
mod lifecycle;
mod plan;
mod record;
mod values;
mod workload;

pub use enums::{ChannelKind, Criticality, Role, Status, VerifiedVia};
pub use lifecycle::{ChangeError, ContactFields};
pub use plan::{
    Channel, Contact, DEFAULT_REVIEW_EVERY_DAYS, DEFAULT_VERIFY_EVERY_DAYS, OpenCase, PlanSpec, Severity,
    Step, SupportPlan,
};
pub use record::{Actor, Change, Meta, Owner, Revision};
pub use workload::{
    MAX_PAGERDUTY_SERVICE_CHARS, MAX_PAGERDUTY_SERVICES, Match, MatchPolicy, Workload, WorkloadSpec,
};
