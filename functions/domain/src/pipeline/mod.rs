//! The incident pipeline (SPEC §4, §11): an incident from any source →
//! matched workloads and plans → the parts to post → claim, post, settle.
//! The decisions are functions of data ([`decide`]); the driver
//! ([`Pipeline`]) does the I/O through the ports of [`crate::ports`], so an
//! incident source or sink is one adapter, not another copy of the responder.

pub mod case_notes;
pub mod claims;
pub mod decide;
pub mod follow;
pub mod followup;
pub mod generic;
pub mod incident;
mod run;

pub use claims::{Claim, ClaimState, Settlement};
pub use decide::Tally;
pub use follow::{FollowedUp, Linker};
pub use incident::{Delivered, IncidentId, ReportedIncident, Told, client_token};
pub use run::{Answer, Outcome, Pipeline, PipelineError, Ports, Settings, Swept};
