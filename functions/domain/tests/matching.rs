//! SPEC §2 "Incident match": which workloads an incident belongs to, and so
//! which support plans are relevant, in what order.

use jiff::Timestamp;
use serde_json::{Value, json};
use support_plans_domain::matching::{Incident, Outcome, PagerDutyService, Reason, match_incident};
use support_plans_domain::{Actor, PlanSpec, SupportPlan, Workload, WorkloadSpec};

const INCIDENT_ARN: &str = "arn:aws:ssm-incidents::111122223333:incident-record/payments-critical/abc123";

fn now() -> Timestamp {
    "2026-06-01T08:00:00Z".parse().unwrap()
}

fn actor() -> Actor {
    Actor::parse("alice@example.com").unwrap()
}

fn plan(id: &str) -> SupportPlan {
    let body = json!({
        "id": id,
        "vendor": format!("Vendor of {id}"),
        "tier": "Gold",
        "owner": { "team": "platform", "email": "platform@example.com" },
        "channels": [{ "kind": "portal", "value": "https://support.example.com", "hours": "24x7" }],
        "escalation_steps": [{ "title": "Open a case" }]
    });
    SupportPlan::create(PlanSpec::parse(&body).unwrap(), &actor(), now())
}

fn workload(name: &str, criticality: &str, dependencies: &[&str], matching: Value) -> Workload {
    let body = json!({
        "name": name,
        "owner": { "team": "team-a", "email": "team-a@example.com" },
        "criticality": criticality,
        "dependencies": dependencies,
        "match": matching
    });
    let spec = WorkloadSpec::parse(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
    Workload::create(spec, &actor(), now())
}

fn plans() -> Vec<SupportPlan> {
    [
        "aws-business",
        "stripe-premium",
        "mongodb-atlas",
        "datadog-enterprise",
    ]
    .into_iter()
    .map(plan)
    .collect()
}

/// Three workloads, given least critical first so the order must be sorted.
fn workloads() -> Vec<Workload> {
    vec![
        workload(
            "analytics",
            "tier-3",
            &["mongodb-atlas", "aws-business"],
            json!({
                "response_plans": ["arn:aws:ssm-incidents::111122223333:response-plan/analytics-degraded"],
                "resource_patterns": ["arn:aws:glue:*:*:job/analytics-*"],
                "title_keywords": ["analytics", "warehouse"]
            }),
        ),
        workload(
            "checkout-web",
            "tier-2",
            &["datadog-enterprise", "stripe-premium"],
            json!({
                "response_plans": ["checkout-web-outage"],
                "resource_patterns": ["arn:aws:ecs:*:*:service/checkout-web/*"],
                "title_keywords": ["checkout", "cart"]
            }),
        ),
        workload(
            "payments",
            "tier-1",
            &["stripe-premium", "aws-business"],
            json!({
                "response_plans": ["payments-critical"],
                "resource_patterns": ["arn:aws:rds:*:*:db:payments-*"],
                "title_keywords": ["payments", "refund"]
            }),
        ),
    ]
}

fn names(outcome: &Outcome<'_>) -> Vec<String> {
    outcome
        .workloads
        .iter()
        .map(|m| m.workload.name().to_string())
        .collect()
}

fn plan_ids(outcome: &Outcome<'_>) -> Vec<String> {
    outcome.plans.iter().map(|p| p.id().to_string()).collect()
}

fn incident() -> Incident {
    Incident {
        title: "Elevated error rate".into(),
        ..Incident::default()
    }
}

// ---------------------------------------------------------------- each kind alone

#[test]
fn an_explicit_workload_matches() {
    let (ws, ps) = (workloads(), plans());
    let i = Incident {
        workloads: vec!["analytics".into()],
        ..incident()
    };
    let out = match_incident(&i, &ws, &ps);
    assert_eq!(names(&out), ["analytics"]);
    assert_eq!(out.workloads[0].reasons, [Reason::Explicit]);
    assert_eq!(
        plan_ids(&out),
        ["mongodb-atlas", "aws-business"],
        "in the workload's dependency order"
    );
    assert!(!out.is_unmatched());
}

#[test]
fn an_explicit_workload_must_name_it_exactly() {
    let (ws, ps) = (workloads(), plans());
    for name in ["analytic", "analytics-2", "ANALYTICS", " analytics"] {
        let i = Incident {
            workloads: vec![name.into()],
            ..incident()
        };
        assert!(match_incident(&i, &ws, &ps).is_unmatched(), "{name:?} matched");
    }
}

#[test]
fn the_response_plan_name_in_the_incident_arn_matches() {
    let (ws, ps) = (workloads(), plans());
    let i = Incident {
        arn: Some(INCIDENT_ARN.into()),
        ..incident()
    };
    let out = match_incident(&i, &ws, &ps);
    assert_eq!(names(&out), ["payments"]);
    assert_eq!(
        out.workloads[0].reasons,
        [Reason::ResponsePlan {
            response_plan: "payments-critical".into()
        }]
    );
    assert_eq!(plan_ids(&out), ["stripe-premium", "aws-business"]);
}

#[test]
fn a_response_plan_arn_in_the_workloads_match_list_matches() {
    let (ws, ps) = (workloads(), plans());
    // From the incident ARN…
    let i = Incident {
        arn: Some("arn:aws:ssm-incidents::111122223333:incident-record/analytics-degraded/0f1e2d".into()),
        ..incident()
    };
    let out = match_incident(&i, &ws, &ps);
    assert_eq!(names(&out), ["analytics"]);
    assert_eq!(
        out.workloads[0].reasons,
        [Reason::ResponsePlan {
            response_plan: "arn:aws:ssm-incidents::111122223333:response-plan/analytics-degraded".into()
        }]
    );
    // …and from a response-plan ARN given by the trigger.
    let i = Incident {
        response_plan: Some("arn:aws:ssm-incidents::111122223333:response-plan/analytics-degraded".into()),
        ..incident()
    };
    assert_eq!(names(&match_incident(&i, &ws, &ps)), ["analytics"]);
    // A trigger's response-plan ARN also matches a workload listing the name.
    let i = Incident {
        response_plan: Some("arn:aws:ssm-incidents::111122223333:response-plan/checkout-web-outage".into()),
        ..incident()
    };
    assert_eq!(names(&match_incident(&i, &ws, &ps)), ["checkout-web"]);
}

#[test]
fn a_different_response_plan_does_not_match() {
    let (ws, ps) = (workloads(), plans());
    for arn in [
        "arn:aws:ssm-incidents::111122223333:incident-record/payments-critical-2/abc123",
        "arn:aws:ssm-incidents::111122223333:incident-record/payments/abc123",
        "arn:aws:ssm-incidents::111122223333:incident-record/other/payments-critical",
    ] {
        let i = Incident {
            arn: Some(arn.into()),
            ..incident()
        };
        assert!(match_incident(&i, &ws, &ps).is_unmatched(), "{arn} matched");
    }
}

#[test]
fn an_involved_resource_matching_a_glob_matches() {
    let (ws, ps) = (workloads(), plans());
    let i = Incident {
        resources: vec![
            "arn:aws:s3:::unrelated-bucket".into(),
            "arn:aws:rds:eu-west-1:111122223333:db:payments-ledger".into(),
        ],
        ..incident()
    };
    let out = match_incident(&i, &ws, &ps);
    assert_eq!(names(&out), ["payments"]);
    assert_eq!(
        out.workloads[0].reasons,
        [Reason::Resource {
            resource: "arn:aws:rds:eu-west-1:111122223333:db:payments-ledger".into(),
            pattern: "arn:aws:rds:*:*:db:payments-*".into()
        }]
    );
}

#[test]
fn a_resource_not_matching_the_glob_does_not_match() {
    let (ws, ps) = (workloads(), plans());
    for resource in [
        "arn:aws:rds:eu-west-1:111122223333:db:orders-main",
        "arn:aws:rds:eu-west-1:111122223333:cluster:payments-main",
        "arn:aws:lambda:eu-west-1:111122223333:function:payments-api",
        "arn:aws:rds:eu-west-1:111122223333:db:payments",
    ] {
        let i = Incident {
            resources: vec![resource.into()],
            ..incident()
        };
        assert!(match_incident(&i, &ws, &ps).is_unmatched(), "{resource} matched");
    }
}

#[test]
fn a_title_keyword_matches_on_word_boundaries_case_insensitively() {
    let (ws, ps) = (workloads(), plans());
    for title in [
        "Payments API latency",
        "PAYMENTS DOWN",
        "High error rate in payments",
        "payments-api: 500s",
        "Refund queue stuck (payments)",
        "refund delays",
    ] {
        let i = Incident {
            title: title.into(),
            ..incident()
        };
        let out = match_incident(&i, &ws, &ps);
        assert_eq!(names(&out), ["payments"], "title {title:?}");
        assert!(
            matches!(&out.workloads[0].reasons[..], [Reason::TitleKeyword { .. }]),
            "{:?}",
            out.workloads[0].reasons
        );
    }
}

#[test]
fn a_title_keyword_inside_another_word_does_not_match() {
    let (ws, ps) = (workloads(), plans());
    for title in [
        "Prepayments delayed",
        "paymentsystem slow",
        "Refunded twice",
        "carting",
        "datawarehouses",
    ] {
        let i = Incident {
            title: title.into(),
            ..incident()
        };
        let out = match_incident(&i, &ws, &ps);
        assert!(out.is_unmatched(), "title {title:?} matched {:?}", names(&out));
    }
}

#[test]
fn reasons_list_every_kind_that_matched() {
    let (ws, ps) = (workloads(), plans());
    let i = Incident {
        arn: Some(INCIDENT_ARN.into()),
        title: "Payments down".into(),
        resources: vec!["arn:aws:rds:us-east-1:111122223333:db:payments-main".into()],
        workloads: vec!["payments".into()],
        ..Incident::default()
    };
    let out = match_incident(&i, &ws, &ps);
    assert_eq!(names(&out), ["payments"]);
    let reasons = &out.workloads[0].reasons;
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert!(reasons.contains(&Reason::Explicit));
    assert!(reasons.contains(&Reason::TitleKeyword {
        keyword: "payments".into()
    }));
    assert!(reasons.iter().any(|r| matches!(r, Reason::ResponsePlan { .. })));
    assert!(reasons.iter().any(|r| matches!(r, Reason::Resource { .. })));
}

// ---------------------------------------------------------------- combining workloads

#[test]
fn matched_workloads_are_most_critical_first_and_plans_follow_and_are_deduplicated() {
    let (ws, ps) = (workloads(), plans());
    let i = Incident {
        workloads: vec!["analytics".into(), "checkout-web".into(), "payments".into()],
        ..incident()
    };
    let out = match_incident(&i, &ws, &ps);
    assert_eq!(names(&out), ["payments", "checkout-web", "analytics"]);
    // payments: stripe, aws; checkout-web: datadog, (stripe); analytics: mongodb, (aws).
    assert_eq!(
        plan_ids(&out),
        [
            "stripe-premium",
            "aws-business",
            "datadog-enterprise",
            "mongodb-atlas"
        ]
    );
}

#[test]
fn a_plan_shared_by_two_matched_workloads_appears_once() {
    let (ws, ps) = (workloads(), plans());
    // payments by title, analytics by resource: both depend on aws-business.
    let i = Incident {
        title: "payments slow".into(),
        resources: vec!["arn:aws:glue:us-east-1:111122223333:job/analytics-nightly".into()],
        ..Incident::default()
    };
    let out = match_incident(&i, &ws, &ps);
    assert_eq!(names(&out), ["payments", "analytics"]);
    let ids = plan_ids(&out);
    assert_eq!(ids, ["stripe-premium", "aws-business", "mongodb-atlas"]);
    assert_eq!(ids.iter().filter(|id| *id == "aws-business").count(), 1);
}

#[test]
fn the_order_does_not_depend_on_the_order_workloads_are_given() {
    let ps = plans();
    let mut ws = workloads();
    ws.reverse();
    let i = Incident {
        title: "checkout and payments and warehouse all down".into(),
        ..Incident::default()
    };
    let out = match_incident(&i, &ws, &ps);
    assert_eq!(names(&out), ["payments", "checkout-web", "analytics"]);
}

#[test]
fn workloads_of_equal_criticality_are_ordered_by_name() {
    let ps = plans();
    let ws = vec![
        workload(
            "zeta",
            "tier-2",
            &["datadog-enterprise"],
            json!({ "title_keywords": ["blackout"] }),
        ),
        workload(
            "alpha",
            "tier-2",
            &["mongodb-atlas"],
            json!({ "title_keywords": ["blackout"] }),
        ),
        workload(
            "mid",
            "tier-1",
            &["aws-business"],
            json!({ "title_keywords": ["blackout"] }),
        ),
    ];
    let i = Incident {
        title: "Blackout".into(),
        ..Incident::default()
    };
    let out = match_incident(&i, &ws, &ps);
    assert_eq!(names(&out), ["mid", "alpha", "zeta"]);
    assert_eq!(
        plan_ids(&out),
        ["aws-business", "mongodb-atlas", "datadog-enterprise"]
    );
}

#[test]
fn retired_plans_are_left_out() {
    let ws = workloads();
    let now = now();
    let ps: Vec<SupportPlan> = plans()
        .into_iter()
        .map(|p| {
            if p.id().as_str() == "stripe-premium" {
                p.retired(&actor(), now)
            } else {
                p
            }
        })
        .collect();
    let i = Incident {
        workloads: vec!["payments".into()],
        ..incident()
    };
    let out = match_incident(&i, &ws, &ps);
    assert_eq!(names(&out), ["payments"], "the workload still matches");
    assert_eq!(plan_ids(&out), ["aws-business"]);
}

#[test]
fn dependencies_without_a_plan_are_skipped() {
    let ws = workloads();
    let ps = vec![plan("aws-business")];
    let i = Incident {
        workloads: vec!["payments".into(), "checkout-web".into()],
        ..incident()
    };
    let out = match_incident(&i, &ws, &ps);
    assert_eq!(names(&out), ["payments", "checkout-web"]);
    assert_eq!(plan_ids(&out), ["aws-business"]);
}

#[test]
fn retired_workloads_are_left_out() {
    let ps = plans();
    let ws: Vec<Workload> = workloads()
        .into_iter()
        .map(|w| {
            if w.name().as_str() == "payments" {
                w.retired(&actor(), now())
            } else {
                w
            }
        })
        .collect();
    // Every kind of match that would have picked payments.
    let i = Incident {
        arn: Some(INCIDENT_ARN.into()),
        title: "Payments down".into(),
        resources: vec!["arn:aws:rds:us-east-1:111122223333:db:payments-main".into()],
        workloads: vec!["payments".into()],
        ..Incident::default()
    };
    let out = match_incident(&i, &ws, &ps);
    assert!(out.is_unmatched(), "matched {:?}", names(&out));
    assert!(out.plans.is_empty());

    // Other workloads still match.
    let i = Incident {
        workloads: vec!["payments".into(), "analytics".into()],
        ..incident()
    };
    let out = match_incident(&i, &ws, &ps);
    assert_eq!(names(&out), ["analytics"]);
}

#[test]
fn no_match_is_unmatched_with_no_plans() {
    let (ws, ps) = (workloads(), plans());
    let i = Incident {
        arn: Some("arn:aws:ssm-incidents::111122223333:incident-record/unknown-plan/abc".into()),
        title: "Something odd on the intranet".into(),
        resources: vec!["arn:aws:ec2:us-east-1:111122223333:instance/i-0abc".into()],
        workloads: vec!["intranet".into()],
        response_plan: Some("unknown-plan".into()),
        pagerduty_service: Some(PagerDutyService {
            id: "PINTRA1".into(),
            name: "Intranet".into(),
        }),
    };
    let out = match_incident(&i, &ws, &ps);
    assert!(out.is_unmatched());
    assert!(out.workloads.is_empty());
    assert!(out.plans.is_empty());

    let empty = match_incident(&Incident::default(), &ws, &ps);
    assert!(empty.is_unmatched());
    assert!(match_incident(&i, &[], &[]).is_unmatched());
}

#[test]
fn a_resource_longer_than_an_arn_can_be_is_never_matched() {
    let ws = workloads();
    let long = format!(
        "arn:aws:rds:us-east-1:111122223333:db:payments-{}",
        "x".repeat(2048)
    );
    let i = Incident {
        resources: vec![long],
        ..Incident::default()
    };
    assert!(match_incident(&i, &ws, &plans()).is_unmatched());
    let fits = format!(
        "arn:aws:rds:us-east-1:111122223333:db:payments-{}",
        "x".repeat(2048)
    );
    let fits = fits[..2048].to_owned();
    let i = Incident {
        resources: vec![fits],
        ..Incident::default()
    };
    assert_eq!(names(&match_incident(&i, &ws, &plans())), ["payments"]);
}

mod glob {
    use std::time::{Duration, Instant};

    use support_plans_domain::matching::glob_match;

    #[test]
    fn stars_match_any_run_and_literals_match_themselves() {
        for (pattern, text, expected) in [
            (
                "arn:aws:rds:*:*:db:payments-*",
                "arn:aws:rds:us-east-1:1:db:payments-main",
                true,
            ),
            (
                "arn:aws:rds:*:*:db:payments-*",
                "arn:aws:rds:us-east-1:1:db:orders-main",
                false,
            ),
            ("*", "", true),
            ("*", "anything", true),
            ("**", "", true),
            ("", "", true),
            ("", "x", false),
            ("abc", "abc", true),
            ("abc", "abcd", false),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("a*b*c", "abc", true),
            ("a*a", "a", false),
            ("ab*ba", "aba", false),
            ("ab*ba", "abba", true),
            ("*a*", "bab", true),
            ("*x*", "bab", false),
            ("a*bc*bd", "abcbcbd", true),
            ("*payments-*-main", "db:payments-eu-main", true),
            ("*ab", "aab", true),
            ("a**b", "ab", true),
            ("é*ü", "éxü", true),
        ] {
            assert_eq!(glob_match(pattern, text), expected, "{pattern} against {text}");
        }
    }

    /// Each call at the length bounds, many times over: the old matcher was
    /// |pattern| × |text| per call (seconds here); a linear one is microseconds.
    fn time(pattern: &str, text: &str, expected: bool) -> Duration {
        let start = Instant::now();
        for _ in 0..200 {
            assert_eq!(glob_match(pattern, text), expected);
        }
        start.elapsed()
    }

    #[test]
    fn adversarial_patterns_cost_linear_time() {
        let text = "a".repeat(2048);
        let cases = [
            // a*a*a*…b: each star could restart the search.
            (format!("{}b", "a*".repeat(512)), false),
            (format!("{}b*", "a*".repeat(512)), false),
            // *aaaa…ab: a long segment failing at its last character.
            (format!("*{}b", "a".repeat(1022)), false),
            (format!("*{}b*", "a".repeat(1021)), false),
            (format!("*{}*{}b*", "a".repeat(500), "a".repeat(500)), false),
            (format!("*{}*", "a".repeat(1022)), true),
        ];
        for (pattern, expected) in &cases {
            let took = time(pattern, &text, *expected);
            assert!(
                took < Duration::from_millis(300),
                "200 matches of a {}-character pattern against {} characters took {took:?}",
                pattern.len(),
                text.len()
            );
        }
    }
}

// ---------------------------------------------------------------- PagerDuty services

/// `payments` names its PagerDuty service by id, `checkout-web` by name.
fn pagerduty_workloads() -> Vec<Workload> {
    vec![
        workload(
            "payments",
            "tier-1",
            &["stripe-premium"],
            json!({"pagerduty_services": ["PABC123"]}),
        ),
        workload(
            "checkout-web",
            "tier-2",
            &["datadog-enterprise"],
            json!({"pagerduty_services": ["Checkout Web"]}),
        ),
    ]
}

fn on_service(id: &str, name: &str) -> Incident {
    Incident {
        pagerduty_service: Some(PagerDutyService {
            id: id.into(),
            name: name.into(),
        }),
        ..incident()
    }
}

#[test]
fn a_pagerduty_service_id_matches_exactly() {
    let (ws, ps) = (pagerduty_workloads(), plans());
    let out = match_incident(&on_service("PABC123", "Payments (prod)"), &ws, &ps);
    assert_eq!(names(&out), ["payments"]);
    assert_eq!(
        out.workloads[0].reasons,
        [Reason::PagerDutyService {
            pagerduty_service: "PABC123".into()
        }]
    );
    assert_eq!(plan_ids(&out), ["stripe-premium"]);

    for id in ["pabc123", "PABC12", "PABC1234", " PABC123"] {
        let out = match_incident(&on_service(id, "Payments (prod)"), &ws, &ps);
        assert!(out.is_unmatched(), "{id:?} is another service's id");
    }
}

#[test]
fn a_pagerduty_service_name_matches_whatever_its_case() {
    let (ws, ps) = (pagerduty_workloads(), plans());
    for name in ["Checkout Web", "checkout web", "CHECKOUT WEB"] {
        let out = match_incident(&on_service("PQRS999", name), &ws, &ps);
        assert_eq!(names(&out), ["checkout-web"], "{name:?}");
        assert_eq!(
            out.workloads[0].reasons,
            [Reason::PagerDutyService {
                pagerduty_service: "Checkout Web".into()
            }]
        );
    }
    for name in ["Checkout", "Checkout Web EU", "Checkout-Web"] {
        let out = match_incident(&on_service("PQRS999", name), &ws, &ps);
        assert!(out.is_unmatched(), "{name:?} is another service");
    }
}

#[test]
fn an_incident_without_a_pagerduty_service_matches_no_service_rule() {
    let (ws, ps) = (pagerduty_workloads(), plans());
    let i = Incident {
        title: "PABC123 Checkout Web".into(),
        ..Incident::default()
    };
    assert!(match_incident(&i, &ws, &ps).is_unmatched());
}

#[test]
fn a_pagerduty_service_adds_its_reason_to_the_others() {
    let ws = vec![workload(
        "payments",
        "tier-1",
        &["stripe-premium"],
        json!({"pagerduty_services": ["Payments"], "title_keywords": ["refund"]}),
    )];
    let i = Incident {
        title: "Refund queue stuck".into(),
        ..on_service("PABC123", "payments")
    };
    let ps = plans();
    let out = match_incident(&i, &ws, &ps);
    assert_eq!(
        out.workloads[0].reasons,
        [
            Reason::PagerDutyService {
                pagerduty_service: "Payments".into()
            },
            Reason::TitleKeyword {
                keyword: "refund".into()
            }
        ]
    );
}

#[test]
fn the_note_says_which_pagerduty_service_matched() {
    let (ws, ps) = (pagerduty_workloads(), plans());
    let out = match_incident(&on_service("PABC123", "Payments (prod)"), &ws, &ps);
    assert_eq!(
        support_plans_domain::post::why_line(&out.workloads[0]),
        "Posted for workload `payments` (owner team team-a) — matched PagerDuty service `PABC123`"
    );
    let reason = serde_json::to_value(&out.workloads[0].reasons[0]).unwrap();
    assert_eq!(
        reason,
        json!({"kind": "pagerduty-service", "pagerduty_service": "PABC123"}),
        "as `POST /match` shows it"
    );
}
