//! The enumerations of workloads and support plans (SPEC §2).

use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Active,
    Retired,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Criticality {
    /// Most critical.
    #[serde(rename = "tier-1")]
    Tier1,
    #[serde(rename = "tier-2")]
    Tier2,
    #[serde(rename = "tier-3")]
    Tier3,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChannelKind {
    Portal,
    Phone,
    Email,
    Chat,
    Api,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Owner,
    VendorTam,
    VendorAccountManager,
    VendorSupport,
    InternalPoc,
    EscalationManager,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerifiedVia {
    Api,
    Link,
}

impl Role {
    /// How people say it.
    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::VendorTam => "vendor TAM",
            Role::VendorAccountManager => "vendor account manager",
            Role::VendorSupport => "vendor support",
            Role::InternalPoc => "internal point of contact",
            Role::EscalationManager => "escalation manager",
        }
    }
}

impl ChannelKind {
    /// How people say it.
    pub fn label(self) -> &'static str {
        match self {
            ChannelKind::Portal => "Portal",
            ChannelKind::Phone => "Phone",
            ChannelKind::Email => "E-mail",
            ChannelKind::Chat => "Chat",
            ChannelKind::Api => "API",
        }
    }
}

pub(super) const STATUSES: &[&str] = &["active", "retired"];
pub(super) const CRITICALITIES: &[&str] = &["tier-1", "tier-2", "tier-3"];
pub(super) const CHANNEL_KINDS: &[&str] = &["portal", "phone", "email", "chat", "api"];
pub(super) const ROLES: &[&str] = &[
    "owner",
    "vendor-tam",
    "vendor-account-manager",
    "vendor-support",
    "internal-poc",
    "escalation-manager",
];
