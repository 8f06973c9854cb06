//! Incident matching (SPEC §2 "Incident match"): which workloads an incident
//! belongs to, and so which support plans are relevant. A pure function.

use serde::Serialize;

use crate::model::{SupportPlan, Workload};

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
}

/// Why a workload matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Reason {
    Explicit,
    ResponsePlan { response_plan: String },
    Resource { resource: String, pattern: String },
    TitleKeyword { keyword: String },
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
    let (_, rest) = arn.split_once(":incident-record/")?;
    let name = rest.split('/').next()?;
    (!name.is_empty()).then_some(name)
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
    let (prefix, _) = arn.split_once(":incident-record/")?;
    Some(format!(
        "{prefix}:response-plan/{}",
        response_plan_of_incident(arn)?
    ))
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
    if let Some(rp) = m
        .response_plans
        .iter()
        .find(|r| response_plan_matches(r, names, arns))
    {
        reasons.push(Reason::ResponsePlan {
            response_plan: rp.clone(),
        });
    }
    'resources: for resource in &incident.resources {
        for pattern in &m.resource_patterns {
            if glob_match(pattern, resource) {
                reasons.push(Reason::Resource {
                    resource: resource.clone(),
                    pattern: pattern.clone(),
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
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            // Let the last star swallow one more character.
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
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
