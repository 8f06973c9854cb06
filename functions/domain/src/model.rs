//! Workloads and support plans (SPEC §2), and their checked parsing.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::types::{Email, HttpsUrl, Phone, Slug, check_account_ref};
use crate::validate::{Cx, Lines, Obj, ValidationErrors, check_text, int, list, one_of, parsed, text};

// ---------------------------------------------------------------- enums

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

const STATUSES: &[&str] = &["active", "retired"];
const CRITICALITIES: &[&str] = &["tier-1", "tier-2", "tier-3"];
const CHANNEL_KINDS: &[&str] = &["portal", "phone", "email", "chat", "api"];
const ROLES: &[&str] = &[
    "owner",
    "vendor-tam",
    "vendor-account-manager",
    "vendor-support",
    "internal-poc",
    "escalation-manager",
];

// ---------------------------------------------------------------- shared parts

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
    fn first(actor: &Actor, now: Timestamp) -> Self {
        Self {
            version: 1,
            created_at: now,
            updated_at: now,
            updated_by: actor.clone(),
        }
    }

    fn next(&self, actor: &Actor, now: Timestamp) -> Self {
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
    ContactVerified { contact: Slug },
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

// ---------------------------------------------------------------- support plan

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub kind: ChannelKind,
    /// An https URL (portal, chat, api), a phone number or an e-mail address.
    pub value: String,
    /// `24x7`, `business-hours` or free text.
    pub hours: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

impl Channel {
    pub fn is_24x7(&self) -> bool {
        self.hours == "24x7"
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Severity {
    pub name: String,
    pub response_minutes: u32,
    pub impacts: Vec<u8>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub title: String,
    pub instructions: String,
    pub after_minutes: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Slug>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub id: Slug,
    pub name: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Phone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_every_days: Option<u16>,
    // Server-owned attestation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_by: Option<Actor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_via: Option<VerifiedVia>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_note: Option<String>,
}

impl Contact {
    /// Whether `other` reaches the same person: same name, e-mail and phone.
    /// An attestation is about who answers, so it survives nothing else.
    pub fn same_person(&self, other: &Contact) -> bool {
        self.name == other.name && self.email == other.email && self.phone == other.phone
    }
}

/// The caller-owned part of a support plan: what a request may set.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSpec {
    pub id: Slug,
    pub vendor: String,
    #[serde(default)]
    pub product: String,
    pub tier: String,
    pub status: Status,
    pub owner: Owner,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_ref: Option<String>,
    pub channels: Vec<Channel>,
    #[serde(default)]
    pub severities: Vec<Severity>,
    pub escalation_steps: Vec<Step>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    pub verify_every_days: u16,
    pub review_every_days: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renews_on: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs_url: Option<HttpsUrl>,
}

/// A stored support plan: the caller's spec plus what the service owns.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportPlan {
    #[serde(flatten)]
    pub spec: PlanSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_by: Option<Actor>,
    /// When a retired plan was last made active again (absent if never):
    /// it starts a new life, and links of an earlier one do not work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reactivated_at: Option<Timestamp>,
    #[serde(flatten)]
    pub meta: Meta,
}

const PLAN_FIELDS: &[&str] = &[
    "id",
    "vendor",
    "product",
    "tier",
    "status",
    "owner",
    "account_ref",
    "channels",
    "severities",
    "escalation_steps",
    "contacts",
    "verify_every_days",
    "review_every_days",
    "renews_on",
    "docs_url",
];
/// Server-owned fields a caller may send back (from a GET) and that are ignored.
const PLAN_SERVER_FIELDS: &[&str] = &[
    "version",
    "created_at",
    "updated_at",
    "updated_by",
    "reviewed_at",
    "reviewed_by",
    "reactivated_at",
    "freshness",
];
const CONTACT_FIELDS: &[&str] = &["id", "name", "role", "email", "phone", "verify_every_days"];
const CONTACT_SERVER_FIELDS: &[&str] = &[
    "verified_at",
    "verified_by",
    "verified_via",
    "verified_note",
    "freshness",
];

pub const DEFAULT_VERIFY_EVERY_DAYS: u16 = 90;
pub const DEFAULT_REVIEW_EVERY_DAYS: u16 = 180;

impl PlanSpec {
    /// Parses a request body, reporting every offending field.
    pub fn parse(v: &Value) -> Result<Self, ValidationErrors> {
        Cx::run(|cx| parse_plan(v, cx))
    }
}

fn parse_plan(v: &Value, cx: &mut Cx) -> Option<PlanSpec> {
    let o = cx.object(v, PLAN_FIELDS, PLAN_SERVER_FIELDS)?;
    let id = cx.req(o, "id", slug);
    let vendor = cx.req(o, "vendor", |v, cx| text(v, cx, 1..=200, Lines::Single));
    let product = cx.or(o, "product", String::new(), |v, cx| {
        text(v, cx, 0..=200, Lines::Single)
    });
    let tier = cx.req(o, "tier", |v, cx| text(v, cx, 1..=100, Lines::Single));
    let status = cx.or(o, "status", Status::Active, |v, cx| one_of(v, cx, STATUSES));
    let owner = cx.req(o, "owner", parse_owner);
    let account_ref = cx.opt(o, "account_ref", |v, cx| {
        parsed(v, cx, |s| check_account_ref(s).map(|()| s.to_owned()))
    });
    let channels = cx.req(o, "channels", |v, cx| list(v, cx, 1..=10, parse_channel));
    let severities = cx.or(o, "severities", Vec::new(), |v, cx| {
        list(v, cx, 0..=10, parse_severity)
    });
    let contacts = cx.or(o, "contacts", Vec::new(), |v, cx| {
        list(v, cx, 0..=50, parse_contact)
    });
    let steps = cx.req(o, "escalation_steps", |v, cx| list(v, cx, 1..=20, parse_step));
    let verify_every_days = cx.or(o, "verify_every_days", DEFAULT_VERIFY_EVERY_DAYS, |v, cx| {
        days(v, cx, 7..=365)
    });
    let review_every_days = cx.or(o, "review_every_days", DEFAULT_REVIEW_EVERY_DAYS, |v, cx| {
        days(v, cx, 30..=730)
    });
    let renews_on = cx.opt(o, "renews_on", date);
    let docs_url = cx.opt(o, "docs_url", https_url);

    // Rules across fields, checked once the parts parsed.
    if let Some(severities) = &severities {
        check_impacts_unique(severities, cx);
    }
    if let Some(contacts) = &contacts {
        check_contact_ids_unique(contacts, cx);
        if let Some(steps) = &steps {
            check_step_contacts(steps, contacts, cx);
        }
    }

    Some(PlanSpec {
        id: id?,
        vendor: vendor?,
        product: product?,
        tier: tier?,
        status: status?,
        owner: owner?,
        account_ref: account_ref?.filter(|s| !s.is_empty()),
        channels: channels?,
        severities: severities?,
        escalation_steps: steps?,
        contacts: contacts?,
        verify_every_days: verify_every_days?,
        review_every_days: review_every_days?,
        renews_on: renews_on?,
        docs_url: docs_url?,
    })
}

fn check_impacts_unique(severities: &[Severity], cx: &mut Cx) {
    let mut seen: [Option<usize>; 6] = [None; 6];
    for (i, s) in severities.iter().enumerate() {
        for &impact in &s.impacts {
            let slot = &mut seen[usize::from(impact)];
            match slot {
                Some(first) => {
                    let first = *first;
                    cx.at("severities", |cx| {
                        cx.at_index(i, |cx| {
                            cx.at("impacts", |cx| {
                                cx.error(format!(
                                    "impact {impact} is already mapped by severities[{first}]"
                                ));
                            });
                        });
                    });
                }
                None => *slot = Some(i),
            }
        }
    }
}

fn check_contact_ids_unique(contacts: &[Contact], cx: &mut Cx) {
    for (i, c) in contacts.iter().enumerate() {
        if let Some(first) = contacts[..i].iter().position(|d| d.id == c.id) {
            cx.at("contacts", |cx| {
                cx.at_index(i, |cx| {
                    cx.at("id", |cx| {
                        cx.error(format!("'{}' is already used by contacts[{first}]", c.id))
                    });
                });
            });
        }
    }
}

fn check_step_contacts(steps: &[Step], contacts: &[Contact], cx: &mut Cx) {
    for (i, step) in steps.iter().enumerate() {
        if let Some(id) = &step.contact
            && !contacts.iter().any(|c| &c.id == id)
        {
            cx.at("escalation_steps", |cx| {
                cx.at_index(i, |cx| {
                    cx.at("contact", |cx| {
                        cx.error(format!("'{id}' is not a contact of this plan"))
                    });
                });
            });
        }
    }
}

fn parse_owner(v: &Value, cx: &mut Cx) -> Option<Owner> {
    let o = cx.object(v, &["team", "email", "escalation_email"], &[])?;
    let team = cx.req(o, "team", slug);
    let address = cx.req(o, "email", email);
    let escalation_email = cx.opt(o, "escalation_email", email);
    Some(Owner {
        team: team?,
        email: address?,
        escalation_email: escalation_email?,
    })
}

fn parse_channel(v: &Value, cx: &mut Cx) -> Option<Channel> {
    let o = cx.object(v, &["kind", "value", "hours", "notes"], &[])?;
    let kind: Option<ChannelKind> = cx.req(o, "kind", |v, cx| one_of(v, cx, CHANNEL_KINDS));
    let value = cx.req(o, "value", |v, cx| channel_value(v, cx, kind));
    let hours = cx.req(o, "hours", |v, cx| text(v, cx, 1..=50, Lines::Single));
    let notes = cx.opt(o, "notes", |v, cx| text(v, cx, 0..=500, Lines::Multi));
    Some(Channel {
        kind: kind?,
        value: value?,
        hours: hours?,
        notes: notes?.filter(|n| !n.is_empty()),
    })
}

fn channel_value(v: &Value, cx: &mut Cx, kind: Option<ChannelKind>) -> Option<String> {
    match kind {
        Some(ChannelKind::Portal | ChannelKind::Chat | ChannelKind::Api) => {
            https_url(v, cx).map(String::from)
        }
        Some(ChannelKind::Phone) => parsed(v, cx, Phone::parse).map(String::from),
        Some(ChannelKind::Email) => email(v, cx).map(String::from),
        // The kind is wrong or missing (already reported): only check the type.
        None => text(v, cx, 1..=2000, Lines::Single),
    }
}

fn parse_severity(v: &Value, cx: &mut Cx) -> Option<Severity> {
    let o = cx.object(v, &["name", "response_minutes", "impacts"], &[])?;
    let name = cx.req(o, "name", |v, cx| text(v, cx, 1..=100, Lines::Single));
    let response_minutes = cx.req(o, "response_minutes", |v, cx| int(v, cx, 1..=10080));
    let impacts = cx.req(o, "impacts", |v, cx| {
        let impacts = list(v, cx, 0..=5, |v, cx| {
            int(v, cx, 1..=5).and_then(|n| u8::try_from(n).ok())
        })?;
        let mut sorted = impacts.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != impacts.len() {
            cx.error("lists an impact twice");
            return None;
        }
        Some(impacts)
    });
    Some(Severity {
        name: name?,
        response_minutes: response_minutes?,
        impacts: impacts?,
    })
}

fn parse_step(v: &Value, cx: &mut Cx) -> Option<Step> {
    let o = cx.object(v, &["title", "instructions", "after_minutes", "contact"], &[])?;
    let title = cx.req(o, "title", |v, cx| text(v, cx, 1..=120, Lines::Single));
    let instructions = cx.or(o, "instructions", String::new(), |v, cx| {
        text(v, cx, 0..=2000, Lines::Multi)
    });
    let after_minutes = cx.or(o, "after_minutes", 0, |v, cx| int(v, cx, 0..=10080));
    let contact = cx.opt(o, "contact", slug);
    Some(Step {
        title: title?,
        instructions: instructions?,
        after_minutes: after_minutes?,
        contact: contact?,
    })
}

fn parse_contact(v: &Value, cx: &mut Cx) -> Option<Contact> {
    let o = cx.object(v, CONTACT_FIELDS, CONTACT_SERVER_FIELDS)?;
    let id = cx.req(o, "id", slug);
    let name = cx.req(o, "name", |v, cx| text(v, cx, 1..=200, Lines::Single));
    let role = cx.req(o, "role", |v, cx| one_of(v, cx, ROLES));
    let address = cx.opt(o, "email", email);
    let phone = cx.opt(o, "phone", |v, cx| parsed(v, cx, Phone::parse));
    let verify_every_days = cx.opt(o, "verify_every_days", |v, cx| days(v, cx, 7..=365));
    if o.get("email").is_none() && o.get("phone").is_none() {
        cx.at("email", |cx| {
            cx.error("is required when there is no phone: a contact needs at least one of the two")
        });
    }
    Some(Contact {
        id: id?,
        name: name?,
        role: role?,
        email: address?,
        phone: phone?,
        verify_every_days: verify_every_days?,
        verified_at: None,
        verified_by: None,
        verified_via: None,
        verified_note: None,
    })
}

// ---------------------------------------------------------------- value parsers

fn slug(v: &Value, cx: &mut Cx) -> Option<Slug> {
    parsed(v, cx, Slug::parse)
}

fn email(v: &Value, cx: &mut Cx) -> Option<Email> {
    parsed(v, cx, Email::parse)
}

fn https_url(v: &Value, cx: &mut Cx) -> Option<HttpsUrl> {
    parsed(v, cx, HttpsUrl::parse)
}

fn days(v: &Value, cx: &mut Cx, range: std::ops::RangeInclusive<u32>) -> Option<u16> {
    int(v, cx, range).and_then(|n| u16::try_from(n).ok())
}

fn date(v: &Value, cx: &mut Cx) -> Option<Date> {
    parsed(v, cx, |s| {
        let shaped = s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
        match s.parse::<Date>() {
            Ok(d) if shaped => Ok(d),
            _ => Err("must be a date as YYYY-MM-DD".into()),
        }
    })
}

// ---------------------------------------------------------------- plan lifecycle

/// Errors of the lifecycle operations on a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    #[error("no contact '{0}' in this plan")]
    UnknownContact(String),
}

impl SupportPlan {
    /// A new plan, version 1, created by `actor` at `now`.
    pub fn create(spec: PlanSpec, actor: &Actor, now: Timestamp) -> Self {
        Self {
            spec,
            reviewed_at: None,
            reviewed_by: None,
            reactivated_at: None,
            meta: Meta::first(actor, now),
        }
    }

    pub fn id(&self) -> &Slug {
        &self.spec.id
    }

    /// The next version with the caller's new spec. Server-owned fields are
    /// kept: each contact keeps its attestation when its `id`, name, e-mail
    /// and phone are unchanged (the same plan re-applied keeps them all); a
    /// contact that reaches someone else is due again (the history keeps the
    /// old attestation). A retired plan made active again starts a new life.
    pub fn replaced(&self, mut spec: PlanSpec, actor: &Actor, now: Timestamp) -> Result<Self, ChangeError> {
        if spec.id != self.spec.id {
            return Err(ValidationErrors::single(
                "id",
                format!("is immutable: this plan is '{}'", self.spec.id),
            )
            .into());
        }
        for contact in &mut spec.contacts {
            if let Some(prev) = self.spec.contacts.iter().find(|c| c.id == contact.id)
                && prev.same_person(contact)
            {
                contact.verified_at = prev.verified_at;
                contact.verified_by.clone_from(&prev.verified_by);
                contact.verified_via = prev.verified_via;
                contact.verified_note.clone_from(&prev.verified_note);
            }
        }
        let reactivated_at = if !self.is_active() && spec.status == Status::Active {
            Some(now)
        } else {
            self.reactivated_at
        };
        Ok(Self {
            spec,
            reviewed_at: self.reviewed_at,
            reviewed_by: self.reviewed_by.clone(),
            reactivated_at,
            meta: self.meta.next(actor, now),
        })
    }

    /// The next version with status `retired`.
    pub fn retired(&self, actor: &Actor, now: Timestamp) -> Self {
        let mut next = self.clone();
        next.spec.status = Status::Retired;
        next.meta = self.meta.next(actor, now);
        next
    }

    /// The next version with one contact attested as verified now by `actor`.
    pub fn contact_verified(
        &self,
        contact: &str,
        actor: &Actor,
        via: VerifiedVia,
        note: Option<String>,
        now: Timestamp,
    ) -> Result<Self, ChangeError> {
        if let Some(note) = &note {
            check_text(note, 0..=500, Lines::Multi).map_err(|m| ValidationErrors::single("note", m))?;
        }
        let mut next = self.clone();
        let c = next
            .spec
            .contacts
            .iter_mut()
            .find(|c| c.id.as_str() == contact)
            .ok_or_else(|| ChangeError::UnknownContact(contact.to_owned()))?;
        c.verified_at = Some(now);
        c.verified_by = Some(actor.clone());
        c.verified_via = Some(via);
        c.verified_note = note.filter(|n| !n.is_empty());
        next.meta = self.meta.next(actor, now);
        Ok(next)
    }

    /// The next version, marked reviewed now by `actor`.
    pub fn reviewed(&self, actor: &Actor, now: Timestamp) -> Self {
        let mut next = self.clone();
        next.reviewed_at = Some(now);
        next.reviewed_by = Some(actor.clone());
        next.meta = self.meta.next(actor, now);
        next
    }

    pub fn is_active(&self) -> bool {
        self.spec.status == Status::Active
    }

    /// When the plan's current life began: its creation, or its last
    /// reactivation. One-click links are bound to it.
    pub fn life(&self) -> Timestamp {
        self.reactivated_at.unwrap_or(self.meta.created_at)
    }
}

// ---------------------------------------------------------------- workload

/// How incidents are recognised as a workload's.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Match {
    #[serde(default)]
    pub response_plans: Vec<String>,
    #[serde(default)]
    pub resource_patterns: Vec<String>,
    #[serde(default)]
    pub title_keywords: Vec<String>,
}

/// Who may write how broad a match rule (SPEC §2 "Incident match"): a rule
/// that would claim other teams' incidents — a resource pattern wild in its
/// service or its resource part, a title keyword shorter than 4 characters
/// or a common incident word ([`crate::matching::STOP_KEYWORDS`]) — is an
/// admin's to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchPolicy<'a> {
    /// A team's write: every broad rule is refused.
    Team,
    /// A team's rewrite of a stored workload: the broad rules it already has
    /// (an admin wrote them) may stay, verbatim; a new one is refused.
    TeamKeeping(&'a Match),
    /// An admin's write: broad rules are allowed.
    Admin,
}

impl MatchPolicy<'_> {
    fn refuses_pattern(&self, pattern: &str) -> Option<&'static str> {
        let why = crate::matching::broad_pattern(pattern)?;
        match self {
            Self::Team => Some(why),
            Self::TeamKeeping(kept) => (!kept.resource_patterns.iter().any(|p| p == pattern)).then_some(why),
            Self::Admin => None,
        }
    }

    fn refuses_keyword(&self, keyword: &str) -> Option<&'static str> {
        let why = crate::matching::broad_keyword(keyword)?;
        match self {
            Self::Team => Some(why),
            Self::TeamKeeping(kept) => (!kept.title_keywords.iter().any(|k| k == keyword)).then_some(why),
            Self::Admin => None,
        }
    }
}

/// The caller-owned part of a workload.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadSpec {
    pub name: Slug,
    #[serde(default)]
    pub description: String,
    pub owner: Owner,
    pub criticality: Criticality,
    #[serde(default)]
    pub dependencies: Vec<Slug>,
    #[serde(default, rename = "match")]
    pub matching: Match,
}

/// A stored workload. `status` is server-owned: `DELETE` retires.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workload {
    #[serde(flatten)]
    pub spec: WorkloadSpec,
    pub status: Status,
    #[serde(flatten)]
    pub meta: Meta,
}

const WORKLOAD_FIELDS: &[&str] = &[
    "name",
    "description",
    "owner",
    "criticality",
    "dependencies",
    "match",
];
const WORKLOAD_SERVER_FIELDS: &[&str] = &["status", "version", "created_at", "updated_at", "updated_by"];

impl WorkloadSpec {
    /// Parses a team's request body, reporting every offending field; a broad
    /// match rule is refused ([`MatchPolicy::Team`]).
    pub fn parse(v: &Value) -> Result<Self, ValidationErrors> {
        Self::parse_with(v, MatchPolicy::Team)
    }

    /// Parses a request body, its match rules as broad as `policy` allows.
    pub fn parse_with(v: &Value, policy: MatchPolicy<'_>) -> Result<Self, ValidationErrors> {
        Cx::run(|cx| parse_workload(v, cx, policy))
    }
}

fn parse_workload(v: &Value, cx: &mut Cx, policy: MatchPolicy<'_>) -> Option<WorkloadSpec> {
    let o = cx.object(v, WORKLOAD_FIELDS, WORKLOAD_SERVER_FIELDS)?;
    let name = cx.req(o, "name", slug);
    let description = cx.or(o, "description", String::new(), |v, cx| {
        text(v, cx, 0..=500, Lines::Multi)
    });
    let owner = cx.req(o, "owner", parse_owner);
    let criticality = cx.or(o, "criticality", Criticality::Tier2, |v, cx| {
        one_of(v, cx, CRITICALITIES)
    });
    let dependencies = cx.or(o, "dependencies", Vec::new(), |v, cx| {
        let deps = list(v, cx, 0..=100, slug)?;
        for (i, d) in deps.iter().enumerate() {
            if let Some(first) = deps[..i].iter().position(|e| e == d) {
                cx.at_index(i, |cx| {
                    cx.error(format!("'{d}' is already listed at dependencies[{first}]"))
                });
            }
        }
        Some(deps)
    });
    let matching = cx.or(o, "match", Match::default(), |v, cx| parse_match(v, cx, policy));
    Some(WorkloadSpec {
        name: name?,
        description: description?,
        owner: owner?,
        criticality: criticality?,
        dependencies: dependencies?,
        matching: matching?,
    })
}

/// `parse` unless `policy` refuses the value as too broad (the message says why).
fn checked(
    v: &Value,
    cx: &mut Cx,
    parse: fn(&str) -> Result<String, String>,
    refuses: impl FnOnce(&str) -> Option<&'static str>,
) -> Option<String> {
    let value = parsed(v, cx, parse)?;
    match refuses(&value) {
        Some(why) => {
            cx.error(format!(
                "{why} (a rule this broad claims other teams' incidents: only an admin may write it)"
            ));
            None
        }
        None => Some(value),
    }
}

fn parse_match(v: &Value, cx: &mut Cx, policy: MatchPolicy<'_>) -> Option<Match> {
    let o: Obj<'_> = cx.object(v, &["response_plans", "resource_patterns", "title_keywords"], &[])?;
    let response_plans = cx.or(o, "response_plans", Vec::new(), |v, cx| {
        list(v, cx, 0..=20, |v, cx| parsed(v, cx, parse_response_plan_ref))
    });
    let resource_patterns = cx.or(o, "resource_patterns", Vec::new(), |v, cx| {
        list(v, cx, 0..=50, |v, cx| {
            checked(v, cx, parse_resource_pattern, |p| policy.refuses_pattern(p))
        })
    });
    let title_keywords = cx.or(o, "title_keywords", Vec::new(), |v, cx| {
        list(v, cx, 0..=20, |v, cx| {
            checked(v, cx, parse_keyword, |k| policy.refuses_keyword(k))
        })
    });
    Some(Match {
        response_plans: response_plans?,
        resource_patterns: resource_patterns?,
        title_keywords: title_keywords?,
    })
}

/// A response-plan name (`[A-Za-z0-9_-]`, 1–200) or its ARN.
fn parse_response_plan_ref(s: &str) -> Result<String, String> {
    let name_ok = |n: &str| {
        (1..=200).contains(&n.len())
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let ok = match s.strip_prefix("arn:") {
        Some(_) => {
            s.contains(":ssm-incidents:")
                && s.rsplit_once(":response-plan/").is_some_and(|(_, n)| name_ok(n))
                && s.len() <= 1000
        }
        None => name_ok(s),
    };
    if ok {
        Ok(s.to_owned())
    } else {
        Err("must be a response-plan name (letters, digits, '-', '_') or an arn:aws:ssm-incidents::…:response-plan/… ARN".into())
    }
}

/// An ARN glob: `arn:` then anything but spaces, `*` matching any run; at
/// most [`MAX_PATTERN_LEN`](crate::matching::MAX_PATTERN_LEN) long.
fn parse_resource_pattern(s: &str) -> Result<String, String> {
    let max = crate::matching::MAX_PATTERN_LEN;
    if s.len() > max {
        return Err(format!(
            "must be at most {max} characters, has {}: a pattern needs the ARN's prefix and enough of a name",
            s.len()
        ));
    }
    let stars = crate::matching::MAX_PATTERN_STARS;
    if s.matches('*').count() > stars {
        return Err(format!(
            "must have at most {stars} '*', has {}: one per wild ARN field and a few in the resource part",
            s.matches('*').count()
        ));
    }
    let ok = s.starts_with("arn:")
        && s.split(':').count() >= 6
        && !s.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(s.to_owned())
    } else {
        Err("must be an ARN pattern like arn:aws:rds:*:*:db:payments-* ('*' matches anything)".into())
    }
}

/// One word: letters, digits and '-', up to 50 characters.
fn parse_keyword(s: &str) -> Result<String, String> {
    let ok = (1..=50).contains(&s.chars().count()) && s.chars().all(|c| c.is_alphanumeric() || c == '-');
    if ok {
        Ok(s.to_owned())
    } else {
        Err("must be one word of letters, digits and '-' (at most 50 characters)".into())
    }
}

impl Workload {
    pub fn create(spec: WorkloadSpec, actor: &Actor, now: Timestamp) -> Self {
        Self {
            spec,
            status: Status::Active,
            meta: Meta::first(actor, now),
        }
    }

    pub fn name(&self) -> &Slug {
        &self.spec.name
    }

    pub fn replaced(&self, spec: WorkloadSpec, actor: &Actor, now: Timestamp) -> Result<Self, ChangeError> {
        if spec.name != self.spec.name {
            return Err(ValidationErrors::single(
                "name",
                format!("is immutable: this workload is '{}'", self.spec.name),
            )
            .into());
        }
        Ok(Self {
            spec,
            status: self.status,
            meta: self.meta.next(actor, now),
        })
    }

    pub fn retired(&self, actor: &Actor, now: Timestamp) -> Self {
        Self {
            spec: self.spec.clone(),
            status: Status::Retired,
            meta: self.meta.next(actor, now),
        }
    }

    pub fn is_active(&self) -> bool {
        self.status == Status::Active
    }
}
