//! Workloads (SPEC §2): the record, its incident match rules, its checked
//! parsing and its lifecycle.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::plan::parse_owner;
use super::values::slug;
use super::{Actor, ChangeError, Criticality, Meta, Owner, Status};
use crate::types::Slug;
use crate::validate::{Cx, Lines, Obj, ValidationErrors, list, one_of, parsed, text};

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
    /// PagerDuty service ids (matched exactly) or names (matched whatever
    /// their case), SPEC §11. Written only when there are some, so a
    /// workload without them reads and writes as before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pagerduty_services: Vec<String>,
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

pub(super) const WORKLOAD_FIELDS: &[&str] = &[
    "name",
    "description",
    "owner",
    "criticality",
    "dependencies",
    "match",
];
pub(super) const WORKLOAD_SERVER_FIELDS: &[&str] =
    &["status", "version", "created_at", "updated_at", "updated_by"];

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

pub(super) fn parse_workload(v: &Value, cx: &mut Cx, policy: MatchPolicy<'_>) -> Option<WorkloadSpec> {
    let o = cx.object(v, WORKLOAD_FIELDS, WORKLOAD_SERVER_FIELDS)?;
    let name = cx.req(o, "name", slug);
    let description = cx.or(o, "description", String::new(), |v, cx| {
        text(v, cx, 0..=500, Lines::Multi)
    });
    let owner = cx.req(o, "owner", parse_owner);
    let criticality = cx.or(o, "criticality", Criticality::Tier2, one_of);
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
pub(super) fn checked(
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

pub(super) fn parse_match(v: &Value, cx: &mut Cx, policy: MatchPolicy<'_>) -> Option<Match> {
    let o: Obj<'_> = cx.object(
        v,
        &[
            "response_plans",
            "resource_patterns",
            "title_keywords",
            "pagerduty_services",
        ],
        &[],
    )?;
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
    let pagerduty_services = cx.or(o, "pagerduty_services", Vec::new(), parse_pagerduty_services);
    Some(Match {
        response_plans: response_plans?,
        resource_patterns: resource_patterns?,
        title_keywords: title_keywords?,
        pagerduty_services: pagerduty_services?,
    })
}

/// The most PagerDuty services one workload names.
pub const MAX_PAGERDUTY_SERVICES: usize = 20;

/// The longest PagerDuty service id or name, in characters. PagerDuty does
/// not document a limit on a service's name; ids are short (`PABC123`).
pub const MAX_PAGERDUTY_SERVICE_CHARS: usize = 255;

/// `match.pagerduty_services`: at most 20 ids or names, each one printable
/// line of 1–255 characters, none twice (compared case-insensitively: a name
/// matches whatever its case, so `Payments` and `payments` are one rule).
fn parse_pagerduty_services(v: &Value, cx: &mut Cx) -> Option<Vec<String>> {
    let services = list(v, cx, 0..=MAX_PAGERDUTY_SERVICES, |v, cx| {
        text(v, cx, 1..=MAX_PAGERDUTY_SERVICE_CHARS, Lines::Single)
    })?;
    let before = cx.error_count();
    for (i, s) in services.iter().enumerate() {
        if let Some(first) = services[..i]
            .iter()
            .position(|e| crate::matching::same_name(e, s))
        {
            cx.at_index(i, |cx| {
                cx.error(format!(
                    "'{s}' is already listed at match.pagerduty_services[{first}] (names match whatever their case)"
                ))
            });
        }
    }
    (cx.error_count() == before).then_some(services)
}

/// A response-plan name (`[A-Za-z0-9_-]`, 1–200) or its ARN.
pub(super) fn parse_response_plan_ref(s: &str) -> Result<String, String> {
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
pub(super) fn parse_resource_pattern(s: &str) -> Result<String, String> {
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
pub(super) fn parse_keyword(s: &str) -> Result<String, String> {
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
