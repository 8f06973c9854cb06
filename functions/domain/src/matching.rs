//! Incident matching (SPEC §2 "Incident match"): which workloads an incident
//! belongs to, and so which support plans are relevant. A pure function.

use serde::Serialize;

use crate::model::{SupportPlan, Workload};
use crate::types::IncidentArn;

/// What is known of an incident when it is matched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Incident {
    /// `arn:aws:ssm-incidents::<account>:incident-record/<response-plan>/<id>`, when known.
    pub arn: Option<String>,
    pub title: String,
    /// A response-plan name or ARN given by the trigger.
    pub response_plan: Option<String>,
    /// Involved resource ARNs (related items, `incident_record_source.resource_arn`).
    pub resources: Vec<String>,
    /// Workloads named explicitly: by the trigger or the incident tag `workload`.
    pub workloads: Vec<String>,
    /// The PagerDuty service the incident is on (SPEC §11), when it comes from PagerDuty.
    pub pagerduty_service: Option<PagerDutyService>,
}

/// A PagerDuty service, as a webhook's `data.service` names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PagerDutyService {
    /// PagerDuty's id, like `PABC123`.
    pub id: String,
    /// Its name as shown in PagerDuty, like `Payments API`.
    pub name: String,
}

impl PagerDutyService {
    /// Whether a `match.pagerduty_services` entry names this service: its id
    /// exactly (ids are case-sensitive), or its name whatever the case.
    pub fn is_named_by(&self, entry: &str) -> bool {
        entry == self.id || same_name(entry, &self.name)
    }
}

/// Whether two PagerDuty service names are the same, whatever their case.
pub fn same_name(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// Why a workload matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Reason {
    Explicit,
    ResponsePlan {
        response_plan: String,
    },
    Resource {
        resource: String,
        pattern: String,
    },
    TitleKeyword {
        keyword: String,
    },
    /// The workload's `match.pagerduty_services` entry that named the incident's service.
    #[serde(rename = "pagerduty-service")]
    PagerDutyService {
        pagerduty_service: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchedWorkload<'a> {
    pub workload: &'a Workload,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome<'a> {
    /// Most critical first, then by name.
    pub workloads: Vec<MatchedWorkload<'a>>,
    /// The active dependencies of the matched workloads, de-duplicated, in
    /// workload order and then each workload's dependency order.
    pub plans: Vec<&'a SupportPlan>,
}

impl Outcome<'_> {
    pub fn is_unmatched(&self) -> bool {
        self.workloads.is_empty()
    }
}

/// The response-plan name of an incident ARN: the segment after `incident-record/`.
pub fn response_plan_of_incident(arn: &str) -> Option<&str> {
    IncidentArn::response_plan_in(arn)
}

/// A response-plan reference (name or `…:response-plan/<name>` ARN) as its name.
fn response_plan_name(reference: &str) -> &str {
    match reference.rsplit_once(":response-plan/") {
        Some((_, name)) => name,
        None => reference,
    }
}

/// The response-plan ARN an incident ARN implies: same partition and account.
fn response_plan_arn_of_incident(arn: &str) -> Option<String> {
    IncidentArn::parse(arn).ok()?.response_plan_arn()
}

/// Whether a workload's `match.response_plans` entry names one of the incident's
/// response plans. An ARN entry must match an ARN exactly (so a same-named plan
/// in another account does not match); a name entry matches by name.
fn response_plan_matches(entry: &str, names: &[&str], arns: &[String]) -> bool {
    if entry.starts_with("arn:") {
        arns.iter().any(|a| a == entry)
    } else {
        names.contains(&entry)
    }
}

/// The plan ids the matched workloads depend on, so that a caller can fetch
/// just those before calling [`match_incident`] with them.
pub fn needed_plans(incident: &Incident, workloads: &[Workload]) -> Vec<crate::types::Slug> {
    let outcome = match_incident(incident, workloads, &[]);
    let mut ids = Vec::new();
    for m in &outcome.workloads {
        for d in &m.workload.spec.dependencies {
            if !ids.contains(d) {
                ids.push(d.clone());
            }
        }
    }
    ids
}

/// Matches `incident` against the active `workloads`; picks plans from `plans`.
pub fn match_incident<'a>(
    incident: &Incident,
    workloads: &'a [Workload],
    plans: &'a [SupportPlan],
) -> Outcome<'a> {
    let names: Vec<&str> = incident
        .arn
        .as_deref()
        .and_then(response_plan_of_incident)
        .into_iter()
        .chain(incident.response_plan.as_deref().map(response_plan_name))
        .collect();
    let arns: Vec<String> = incident
        .arn
        .as_deref()
        .and_then(response_plan_arn_of_incident)
        .into_iter()
        .chain(incident.response_plan.clone().filter(|r| r.starts_with("arn:")))
        .collect();
    let incident_plans = (names.as_slice(), arns.as_slice());

    let mut matched: Vec<MatchedWorkload<'a>> = workloads
        .iter()
        .filter(|w| w.is_active())
        .filter_map(|w| {
            let reasons = reasons_for(incident, incident_plans, w);
            (!reasons.is_empty()).then_some(MatchedWorkload { workload: w, reasons })
        })
        .collect();
    matched.sort_by(|a, b| {
        (a.workload.spec.criticality, &a.workload.spec.name)
            .cmp(&(b.workload.spec.criticality, &b.workload.spec.name))
    });

    let mut relevant: Vec<&'a SupportPlan> = Vec::new();
    for m in &matched {
        for dep in &m.workload.spec.dependencies {
            let Some(plan) = plans.iter().find(|p| p.id() == dep) else {
                continue;
            };
            if plan.is_active() && !relevant.iter().any(|p| p.id() == dep) {
                relevant.push(plan);
            }
        }
    }
    Outcome {
        workloads: matched,
        plans: relevant,
    }
}

fn reasons_for(incident: &Incident, (names, arns): (&[&str], &[String]), w: &Workload) -> Vec<Reason> {
    let m = &w.spec.matching;
    let mut reasons = Vec::new();
    if incident.workloads.iter().any(|n| n == w.name().as_str()) {
        reasons.push(Reason::Explicit);
    }
    if let Some(service) = &incident.pagerduty_service
        && let Some(entry) = m.pagerduty_services.iter().find(|e| service.is_named_by(e))
    {
        reasons.push(Reason::PagerDutyService {
            pagerduty_service: entry.clone(),
        });
    }
    if let Some(rp) = m
        .response_plans
        .iter()
        .find(|r| response_plan_matches(r, names, arns))
    {
        reasons.push(Reason::ResponsePlan {
            response_plan: rp.clone(),
        });
    }
    // A resource longer than an ARN can be is no ARN: never matched (and the
    // cost of matching stays bounded whoever built the incident).
    let resources = incident.resources.iter().filter(|r| r.len() <= MAX_RESOURCE_LEN);
    // Each pattern is prepared once, not once per resource: building a
    // substring searcher costs about as much as one search.
    let globs: Vec<(&String, Glob<'_>)> = m.resource_patterns.iter().map(|p| (p, Glob::new(p))).collect();
    'resources: for resource in resources {
        for (pattern, glob) in &globs {
            if glob.matches(resource) {
                reasons.push(Reason::Resource {
                    resource: resource.clone(),
                    pattern: (*pattern).clone(),
                });
                break 'resources;
            }
        }
    }
    if let Some(k) = m
        .title_keywords
        .iter()
        .find(|k| contains_word(&incident.title, k))
    {
        reasons.push(Reason::TitleKeyword { keyword: k.clone() });
    }
    reasons
}

/// `*` matches any run of characters (including none); everything else is literal.
///
/// Linear in `pattern` and `text`: the pattern is split on `*`; its first
/// literal segment must be a prefix of the text, its last a suffix of what
/// remains, and the ones between are found in order, each at its leftmost
/// occurrence (a linear substring search). Leftmost is enough: a later
/// occurrence only leaves less text for the segments after it.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    Glob::new(pattern).matches(text)
}

/// A pattern split for [`glob_match`], to match many texts.
#[derive(Debug)]
pub struct Glob<'p> {
    /// The pattern without a `*`: equal, or nothing.
    exact: Option<&'p str>,
    first: &'p str,
    last: &'p str,
    /// The segments between, each with its substring searcher (memchr's:
    /// linear like `str::find`, and vectorized).
    middle: Vec<memchr::memmem::Finder<'p>>,
}

impl<'p> Glob<'p> {
    pub fn new(pattern: &'p str) -> Self {
        let Some((first, tail)) = pattern.split_once('*') else {
            return Self {
                exact: Some(pattern),
                first: "",
                last: "",
                middle: Vec::new(),
            };
        };
        let (middle, last) = tail.rsplit_once('*').unwrap_or(("", tail));
        Self {
            exact: None,
            first,
            last,
            middle: middle
                .split('*')
                .filter(|s| !s.is_empty())
                .map(memchr::memmem::Finder::new)
                .collect(),
        }
    }

    pub fn matches(&self, text: &str) -> bool {
        if let Some(exact) = self.exact {
            return exact == text;
        }
        let Some(rest) = text.strip_prefix(self.first) else {
            return false;
        };
        let Some(mut rest) = rest.strip_suffix(self.last) else {
            return false;
        };
        for segment in &self.middle {
            match segment.find(rest.as_bytes()) {
                // Found at a match of a whole `&str`: `at` is a char boundary.
                Some(at) => rest = &rest[at + segment.needle().len()..],
                None => return false,
            }
        }
        true
    }
}

// ---------------------------------------------------------------- breadth

/// The longest involved-resource ARN matched, in bytes (ARNs are ASCII):
/// AWS's own limit on an ARN.
/// `POST /match` refuses longer ones; the responder skips them (and logs it).
pub const MAX_RESOURCE_LEN: usize = 2048;

/// The longest `match.resource_patterns` entry, in bytes: a pattern needs the ARN's
/// prefix through the resource type and enough of a name to be one
/// workload's, far below [`MAX_RESOURCE_LEN`]; 1,024 leaves room for
/// S3 object key prefixes and IAM paths.
pub const MAX_PATTERN_LEN: usize = 1024;

/// The most `*` in one pattern: one per wild ARN field and a few in the
/// resource part; each costs a substring search per resource matched.
pub const MAX_PATTERN_STARS: usize = 10;

/// The shortest title keyword a team may write: shorter words ("db", "api",
/// "etl") occur in too many incidents of other teams.
pub const MIN_KEYWORD_CHARS: usize = 4;

/// Words common to incident titles of every team, refused as a team's title
/// keyword (compared case-insensitively): matching on them would claim other
/// teams' incidents. Words shorter than [`MIN_KEYWORD_CHARS`] are refused
/// anyway and are not listed. An admin may still write any of them.
pub const STOP_KEYWORDS: &[&str] = &[
    // what went wrong
    "down",
    "downtime",
    "outage",
    "outages",
    "error",
    "errors",
    "issue",
    "issues",
    "problem",
    "problems",
    "failure",
    "failures",
    "fail",
    "fails",
    "failed",
    "failing",
    "fault",
    "faults",
    "broken",
    "crash",
    "crashed",
    "crashes",
    "crashing",
    "latency",
    "slow",
    "slowness",
    "timeout",
    "timeouts",
    "timed-out",
    "unavailable",
    "unreachable",
    "unresponsive",
    "degraded",
    "degradation",
    "disruption",
    "interruption",
    "exception",
    "exceptions",
    "spike",
    "spikes",
    "elevated",
    "increased",
    "intermittent",
    "partial",
    "loss",
    "lost",
    "stuck",
    "hung",
    "leak",
    "saturation",
    "throttling",
    "throttled",
    "rejected",
    "refused",
    "denied",
    // how bad
    "incident",
    "incidents",
    "alert",
    "alerts",
    "alarm",
    "alarms",
    "critical",
    "major",
    "minor",
    "severe",
    "severity",
    "urgent",
    "emergency",
    "high",
    "warning",
    "impact",
    "impacted",
    "page",
    "paged",
    "sev1",
    "sev2",
    "sev3",
    "sev4",
    "sev5",
    // where, generically
    "production",
    "prod",
    "staging",
    "service",
    "services",
    "server",
    "servers",
    "system",
    "systems",
    "application",
    "applications",
    "apps",
    "apis",
    "endpoint",
    "endpoints",
    "backend",
    "frontend",
    "website",
    "site",
    "platform",
    "infrastructure",
    "cloud",
    "region",
    "network",
    "database",
    "databases",
    "storage",
    "disk",
    "memory",
    "queue",
    "cluster",
    "node",
    "nodes",
    "host",
    "hosts",
    "instance",
    "instances",
    "container",
    "containers",
    "pods",
    "lambda",
    "function",
    "functions",
    "gateway",
    "connection",
    "connections",
    "connectivity",
    "traffic",
    "load",
    "capacity",
    "performance",
    "availability",
    "health",
    "healthcheck",
    "status",
    "http",
    "https",
    "request",
    "requests",
    "response",
    "responses",
    "customer",
    "customers",
    "user",
    "users",
    "data",
    "deploy",
    "deployment",
    "release",
    "rollback",
    "restart",
    "all",
    "everything",
    "multiple",
    "some",
    "many",
];

/// Why a team may not write this resource pattern (an admin may), if so:
/// its service (the 3rd field) must be one service named without `*` (a
/// `*` there may stand for any service, and swallow `:`), and its resource
/// (everything after the 5th `:`) must name something, not be only `*`s
/// and separators.
pub fn broad_pattern(pattern: &str) -> Option<&'static str> {
    let mut fields = pattern.splitn(6, ':').skip(2);
    let service = fields.next().unwrap_or("");
    let resource = fields.nth(2).unwrap_or("");
    if service.is_empty() || service.contains('*') {
        Some(
            "leaves the service (the third field) wild: name one service, like arn:aws:rds:*:*:db:payments-*",
        )
    } else if !resource.chars().any(char::is_alphanumeric) {
        Some(
            "leaves the resource part (after the fifth ':') wholly wild: name the workload's resources, like db:payments-*",
        )
    } else {
        None
    }
}

/// Why a team may not write this title keyword (an admin may), if so.
pub fn broad_keyword(keyword: &str) -> Option<&'static str> {
    if keyword.chars().count() < MIN_KEYWORD_CHARS {
        Some("must be at least 4 characters: a shorter word occurs in other teams' incident titles")
    } else if STOP_KEYWORDS.contains(&keyword.to_lowercase().as_str()) {
        Some(
            "is a common incident word, in other teams' incident titles too: use a word of this workload's own, like its name or a component's",
        )
    } else {
        None
    }
}

/// Whether `word` occurs in `text`, case-insensitively, on word boundaries.
pub fn contains_word(text: &str, word: &str) -> bool {
    let text: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    let word: Vec<char> = word.chars().flat_map(char::to_lowercase).collect();
    if word.is_empty() || word.len() > text.len() {
        return false;
    }
    let boundary = |i: Option<&char>| i.is_none_or(|c| !c.is_alphanumeric());
    (0..=text.len() - word.len()).any(|i| {
        text[i..i + word.len()] == word[..]
            && boundary(i.checked_sub(1).and_then(|j| text.get(j)))
            && boundary(text.get(i + word.len()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match(
            "arn:aws:rds:*:*:db:payments-*",
            "arn:aws:rds:us-east-1:111122223333:db:payments-main"
        ));
        assert!(!glob_match(
            "arn:aws:rds:*:*:db:payments-*",
            "arn:aws:rds:us-east-1:111122223333:db:orders-main"
        ));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxbyy"));
        assert!(glob_match(
            "arn:aws:lambda:*:*:function:payments-*",
            "arn:aws:lambda:eu-west-1:1:function:payments-api"
        ));
        assert!(
            !glob_match("payments", "payments-api"),
            "no star means the whole text"
        );
    }

    #[test]
    fn words() {
        assert!(contains_word("Payments API down", "payments"));
        assert!(contains_word("PAYMENTS", "payments"));
        assert!(contains_word("checkout-api: 500s", "checkout"));
        assert!(!contains_word("Prepayments delayed", "payments"));
        assert!(!contains_word("paymentsystem slow", "payments"));
        assert!(contains_word("card-vault degraded", "card-vault"));
    }

    #[test]
    fn incident_arns_name_their_response_plan() {
        assert_eq!(
            response_plan_of_incident(
                "arn:aws:ssm-incidents::111122223333:incident-record/payments-critical/6ac3b7d0"
            ),
            Some("payments-critical")
        );
        assert_eq!(
            response_plan_of_incident("arn:aws:ssm-incidents::1:response-plan/x"),
            None
        );
    }

    #[test]
    fn a_response_plan_arn_matches_only_its_own_account() {
        let incident = "arn:aws:ssm-incidents::111122223333:incident-record/payments-critical/6ac3";
        let arns = vec![response_plan_arn_of_incident(incident).unwrap()];
        assert_eq!(
            arns[0],
            "arn:aws:ssm-incidents::111122223333:response-plan/payments-critical"
        );
        let names = ["payments-critical"];
        assert!(response_plan_matches("payments-critical", &names, &arns));
        assert!(response_plan_matches(&arns[0], &names, &arns));
        let other_account = "arn:aws:ssm-incidents::999999999999:response-plan/payments-critical";
        assert!(!response_plan_matches(other_account, &names, &arns));
    }
}
