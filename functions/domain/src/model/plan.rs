//! Support plans (SPEC §2): the record, and its checked parsing.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::values::{date, days, email, https_url, slug};
use super::{Actor, ChannelKind, Meta, Owner, Role, Status, VerifiedVia};
use crate::case::AWS_SEVERITY_CODES;
use crate::types::{Email, HttpsUrl, Phone, Slug, check_account_ref};
use crate::validate::{Cx, Lines, ValidationErrors, int, list, one_of, parsed, printable, text};

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
    /// The vendor's machine code for this severity (SPEC §13): for AWS
    /// `low`, `normal`, `high`, `urgent` or `critical`, the case's
    /// `severityCode`; free text for other vendors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// Opening the vendor's case for the incident (SPEC §13, opt-in; AWS
/// Support only): at or above `min_impact` (impact 1 is the most severe),
/// the responder opens one case per (incident, plan).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenCase {
    /// 1–5: incidents of this impact or more severe (a lower number) open a case.
    pub min_impact: u8,
    /// The AWS Support `serviceCode` (e.g. `amazon-dynamodb`).
    pub service_code: String,
    /// The AWS Support `categoryCode` (e.g. `general-guidance`).
    pub category_code: String,
    /// Copied on the case besides the plan's owner.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cc_emails: Vec<Email>,
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
    /// Opt-in: the responder opens the vendor's case itself (SPEC §13).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_case: Option<OpenCase>,
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

pub(super) const PLAN_FIELDS: &[&str] = &[
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
    "open_case",
];
/// Server-owned fields a caller may send back (from a GET) and that are ignored.
pub(super) const PLAN_SERVER_FIELDS: &[&str] = &[
    "version",
    "created_at",
    "updated_at",
    "updated_by",
    "reviewed_at",
    "reviewed_by",
    "reactivated_at",
    "freshness",
    "reachability",
];
pub(super) const CONTACT_FIELDS: &[&str] = &["id", "name", "role", "email", "phone", "verify_every_days"];
pub(super) const CONTACT_SERVER_FIELDS: &[&str] = &[
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

pub(super) fn parse_plan(v: &Value, cx: &mut Cx) -> Option<PlanSpec> {
    let o = cx.object(v, PLAN_FIELDS, PLAN_SERVER_FIELDS)?;
    let id = cx.req(o, "id", slug);
    let vendor = cx.req(o, "vendor", |v, cx| text(v, cx, 1..=200, Lines::Single));
    let product = cx.or(o, "product", String::new(), |v, cx| {
        text(v, cx, 0..=200, Lines::Single)
    });
    let tier = cx.req(o, "tier", |v, cx| text(v, cx, 1..=100, Lines::Single));
    let status = cx.or(o, "status", Status::Active, one_of);
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
    let open_case = cx.opt(o, "open_case", parse_open_case);

    // Rules across fields, checked once the parts parsed.
    if let Some(severities) = &severities {
        check_impacts_unique(severities, cx);
        if let Some(Some(open_case)) = &open_case {
            check_case_severities(open_case, severities, cx);
        }
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
        open_case: open_case?,
    })
}

pub(super) fn check_impacts_unique(severities: &[Severity], cx: &mut Cx) {
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

/// With `open_case`, a case can be opened at every impact from 1 to
/// `min_impact`: each is mapped by a severity, and each such severity carries
/// one of AWS Support's severity codes (the case's `severityCode`).
pub(super) fn check_case_severities(open_case: &OpenCase, severities: &[Severity], cx: &mut Cx) {
    let min = open_case.min_impact;
    let opening = |s: &Severity| s.impacts.iter().any(|&i| (1..=min).contains(&i));
    for (i, s) in severities.iter().enumerate().filter(|(_, s)| opening(s)) {
        let message = match &s.code {
            Some(code) if AWS_SEVERITY_CODES.contains(&code.as_str()) => continue,
            Some(code) => format!(
                "'{}' is not an AWS Support severity code: open_case opens cases at this severity (impacts 1 to {min}), so it must be one of {}",
                printable(code, 50),
                AWS_SEVERITY_CODES.join(", ")
            ),
            None => format!(
                "is required: open_case opens cases at this severity (impacts 1 to {min}), so it needs an AWS Support severity code: one of {}",
                AWS_SEVERITY_CODES.join(", ")
            ),
        };
        cx.at("severities", |cx| {
            cx.at_index(i, |cx| cx.at("code", |cx| cx.error(message)))
        });
    }
    let unmapped: Vec<String> = (1..=min)
        .filter(|i| !severities.iter().any(|s| s.impacts.contains(i)))
        .map(|i| i.to_string())
        .collect();
    if !unmapped.is_empty() {
        cx.at("open_case", |cx| {
            cx.at("min_impact", |cx| {
                cx.error(format!(
                    "a case would be opened at impact {} but no severity maps it: map it in severities, or lower min_impact",
                    unmapped.join(", ")
                ))
            })
        });
    }
}

pub(super) fn check_contact_ids_unique(contacts: &[Contact], cx: &mut Cx) {
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

pub(super) fn check_step_contacts(steps: &[Step], contacts: &[Contact], cx: &mut Cx) {
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

pub(super) fn parse_owner(v: &Value, cx: &mut Cx) -> Option<Owner> {
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

pub(super) fn parse_channel(v: &Value, cx: &mut Cx) -> Option<Channel> {
    let o = cx.object(v, &["kind", "value", "hours", "notes"], &[])?;
    let kind: Option<ChannelKind> = cx.req(o, "kind", one_of);
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

pub(super) fn channel_value(v: &Value, cx: &mut Cx, kind: Option<ChannelKind>) -> Option<String> {
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

pub(super) fn parse_severity(v: &Value, cx: &mut Cx) -> Option<Severity> {
    let o = cx.object(v, &["name", "response_minutes", "impacts", "code"], &[])?;
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
    let code = cx.opt(o, "code", |v, cx| text(v, cx, 1..=50, Lines::Single));
    Some(Severity {
        name: name?,
        response_minutes: response_minutes?,
        impacts: impacts?,
        code: code?,
    })
}

/// The most addresses `open_case.cc_emails` may list: with the plan's owner,
/// AWS Support's limit of 10 CC addresses.
pub const MAX_CASE_CC_EMAILS: usize = 9;

pub(super) fn parse_open_case(v: &Value, cx: &mut Cx) -> Option<OpenCase> {
    let o = cx.object(
        v,
        &["min_impact", "service_code", "category_code", "cc_emails"],
        &[],
    )?;
    let min_impact = cx.req(o, "min_impact", |v, cx| {
        int(v, cx, 1..=5).and_then(|n| u8::try_from(n).ok())
    });
    let service_code = cx.req(o, "service_code", support_code);
    let category_code = cx.req(o, "category_code", support_code);
    let cc_emails = cx.or(o, "cc_emails", Vec::new(), |v, cx| {
        let emails = list(v, cx, 0..=MAX_CASE_CC_EMAILS, email)?;
        let mut ok = true;
        for (i, e) in emails.iter().enumerate() {
            if let Some(first) = emails[..i]
                .iter()
                .position(|f| f.as_str().eq_ignore_ascii_case(e.as_str()))
            {
                ok = false;
                cx.at_index(i, |cx| {
                    cx.error(format!("'{e}' is already listed as cc_emails[{first}]"))
                });
            }
        }
        ok.then_some(emails)
    });
    Some(OpenCase {
        min_impact: min_impact?,
        service_code: service_code?,
        category_code: category_code?,
        cc_emails: cc_emails?,
    })
}

/// An AWS Support service or category code, as `DescribeServices` lists them
/// (`amazon-dynamodb`, `general-guidance`).
fn support_code(v: &Value, cx: &mut Cx) -> Option<String> {
    parsed(v, cx, |s| {
        let ok = (1..=100).contains(&s.len())
            && s.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
        if ok {
            Ok(s.to_owned())
        } else {
            Err("must be an AWS Support code (as DescribeServices lists them, like amazon-dynamodb): 1–100 characters of a-z, 0-9 and '-'".into())
        }
    })
}

pub(super) fn parse_step(v: &Value, cx: &mut Cx) -> Option<Step> {
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

pub(super) fn parse_contact(v: &Value, cx: &mut Cx) -> Option<Contact> {
    let o = cx.object(v, CONTACT_FIELDS, CONTACT_SERVER_FIELDS)?;
    let id = cx.req(o, "id", slug);
    let name = cx.req(o, "name", |v, cx| text(v, cx, 1..=200, Lines::Single));
    let role = cx.req(o, "role", one_of);
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

impl SupportPlan {
    /// What the freshness check and the readiness figures read of a plan,
    /// stored beside it for reading page by page (SPEC §10, §15): the plan
    /// without its severities, escalation steps, account reference, docs,
    /// case settings and the channels that are not open 24x7 (whether one is
    /// is all the figures ask of them). Every rule that reads a digest
    /// answers as it does for the whole plan.
    pub fn digest(&self) -> SupportPlan {
        let s = &self.spec;
        SupportPlan {
            spec: PlanSpec {
                id: s.id.clone(),
                vendor: s.vendor.clone(),
                product: s.product.clone(),
                tier: s.tier.clone(),
                status: s.status,
                owner: s.owner.clone(),
                account_ref: None,
                channels: s
                    .channels
                    .iter()
                    .filter(|c| c.is_24x7())
                    .take(1)
                    .cloned()
                    .collect(),
                severities: Vec::new(),
                escalation_steps: Vec::new(),
                contacts: s.contacts.clone(),
                verify_every_days: s.verify_every_days,
                review_every_days: s.review_every_days,
                renews_on: s.renews_on,
                docs_url: None,
                open_case: None,
            },
            reviewed_at: self.reviewed_at,
            reviewed_by: self.reviewed_by.clone(),
            reactivated_at: self.reactivated_at,
            meta: self.meta.clone(),
        }
    }

    /// The owner index's sort key: plans in order of owner address, then
    /// team, then id, so that one owner's plans come together. An address
    /// ends with its host name, which has no `#`.
    pub fn owner_key(&self) -> String {
        let o = &self.spec.owner;
        format!("{}#{}#{}", o.email, o.team, self.spec.id)
    }
}
