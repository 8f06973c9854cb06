//! The enumerations of workloads and support plans (SPEC §2), each with its
//! wire names written once ([`crate::wire`]).

use crate::wire::{WireName, wire_enum};

wire_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum Status {
        Active = "active",
        Retired = "retired",
    }
}

wire_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub enum Criticality {
        /// Most critical.
        Tier1 = "tier-1",
        Tier2 = "tier-2",
        Tier3 = "tier-3",
    }
}

wire_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum ChannelKind {
        Portal = "portal",
        Phone = "phone",
        Email = "email",
        Chat = "chat",
        Api = "api",
    }
}

wire_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum Role {
        Owner = "owner",
        VendorTam = "vendor-tam",
        VendorAccountManager = "vendor-account-manager",
        VendorSupport = "vendor-support",
        InternalPoc = "internal-poc",
        EscalationManager = "escalation-manager",
    }
}

wire_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum VerifiedVia {
        Api = "api",
        Link = "link",
    }
}

impl Criticality {
    /// How cards and posts say it: its wire name (`tier-1`).
    pub fn label(self) -> &'static str {
        self.wire_name()
    }
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
