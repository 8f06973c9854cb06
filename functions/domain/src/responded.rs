//! "Vendor responded" (SPEC §13): someone marks a plan's vendor as
//! responding to an incident, through the signed link each follow-up note
//! carries (`/responded/{token}`) or the portals' route; from then on that
//! plan's follow-ups stop. Recorded once per (incident, plan): the first
//! mark stands, a second one changes nothing and is told the first.

use std::collections::BTreeMap;
use std::future::Future;

use jiff::Timestamp;

use crate::ports::PortError;

/// How the mark was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The signed link of a note (`POST /responded/{token}`).
    Link,
    /// `POST /incidents/{incident}/plans/{plan}/responded` (a portal).
    Api,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Link => "link",
            Self::Api => "api",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "link" => Some(Self::Link),
            "api" => Some(Self::Api),
            _ => None,
        }
    }
}

/// A plan's vendor marked as responding to an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Responded {
    pub plan: String,
    /// Who: the name given on the link's page, or the API's caller.
    pub by: String,
    pub at: Timestamp,
    pub via: Via,
}

/// Whether a mark was the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Marked {
    /// Recorded now.
    First,
    /// Recorded before: this one.
    Already(Responded),
}

/// Where marks are kept, with the incident's claims (SPEC §13 "in the table").
pub trait ResponseMarks: Send + Sync {
    /// Records `mark` for the incident `incident` (its claims key), unless
    /// the plan was marked before: atomically, the first writer wins.
    fn mark(
        &self,
        incident: &str,
        mark: &Responded,
    ) -> impl Future<Output = Result<Marked, PortError>> + Send;
    /// Every mark of the incident, by plan.
    fn marks(
        &self,
        incident: &str,
    ) -> impl Future<Output = Result<BTreeMap<String, Responded>, PortError>> + Send;
}
