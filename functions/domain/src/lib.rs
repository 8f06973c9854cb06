//! The support-plans domain: workloads and vendor support plans (SPEC §2),
//! their checked parsing, freshness and incident matching, and the storage
//! ports. Nothing here knows AWS or Lambda.

pub mod card;
pub mod case;
pub mod freshness;
pub mod html;
pub mod impact;
pub mod matching;
pub mod model;
pub mod pagerduty;
pub mod pagerduty_webhook;
pub mod pipeline;
pub mod ports;
pub mod post;
pub mod readiness;
pub mod reminders;
pub mod responded;
pub mod settings;
#[cfg(feature = "testing")]
pub mod testing;
pub mod token;
pub mod types;
pub mod validate;
pub mod verification;
pub mod webhook;
pub mod wire;

pub use model::{
    Actor, Change, ChangeError, Channel, ChannelKind, Contact, Criticality, Match, Meta, OpenCase, Owner,
    PlanSpec, Revision, Role, Severity, Status, Step, SupportPlan, VerifiedVia, Workload, WorkloadSpec,
};
pub use types::{Email, HttpsUrl, IncidentArn, Phone, Slug};
pub use validate::{FieldError, ValidationErrors};
pub use wire::{UnknownName, WireName};
