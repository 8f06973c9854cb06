//! The parts every record shares (SPEC §2): its owner, who changed it, the
//! server-owned metadata and the history of its versions.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::types::{Email, Slug};
use crate::validate::{Lines, check_text};

/// Who keeps a plan or workload true.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub team: Slug,
    pub email: Email,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation_email: Option<Email>,
}

/// Who made a change: an IAM principal ARN or a user name from a token.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Actor(String);

impl Actor {
    pub fn parse(s: &str) -> Result<Self, String> {
        check_text(s, 1..=2048, Lines::Single)?;
        Ok(Self(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Actor {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<Actor> for String {
    fn from(a: Actor) -> String {
        a.0
    }
}

/// The fields the service owns on every record; never taken from a request.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub updated_by: Actor,
}

impl Meta {
    pub(super) fn first(actor: &Actor, now: Timestamp) -> Self {
        Self {
            version: 1,
            created_at: now,
            updated_at: now,
            updated_by: actor.clone(),
        }
    }

    pub(super) fn next(&self, actor: &Actor, now: Timestamp) -> Self {
        Self {
            version: self.version + 1,
            created_at: self.created_at,
            updated_at: now,
            updated_by: actor.clone(),
        }
    }
}

/// What a write did, kept with each version in the history.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Change {
    Created,
    Replaced,
    Retired,
    ContactVerified {
        contact: Slug,
    },
    /// One contact corrected and verified in the same version (the
    /// verification page's "It changed").
    ContactCorrected {
        contact: Slug,
    },
    Reviewed,
}

/// One stored version of a record, with who wrote it and when.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revision<T> {
    pub version: u64,
    pub change: Change,
    pub by: Actor,
    pub at: Timestamp,
    pub record: T,
}
