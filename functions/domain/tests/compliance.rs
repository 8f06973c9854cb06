//! The AWS Config rule's evaluation (SPEC §15) of the sample data, of a
//! fixed-up copy of it, of gaps of every kind, and of figures with more gaps
//! than 256 characters can name; and the rule's invocation over the
//! in-memory snapshot and a fake Config.

mod common;

use jiff::{SignedDuration, Timestamp};
use support_plans_domain::freshness::{Policy, evaluate as freshness};
use support_plans_domain::model::{Channel, Criticality, Status, SupportPlan, Workload};
use support_plans_domain::ports::PortError;
use support_plans_domain::readiness::compliance::{
    ACCOUNT_RESOURCE_TYPE, Compliance, Evaluation, MAX_ANNOTATION_CHARS, ReportError, Reported,
    ResourceEvaluation, RuleInvocation, evaluate, report,
};
use support_plans_domain::readiness::{Activity, Readiness, ReadinessSnapshots as _, figures};
use support_plans_domain::testing::evaluations::FakeEvaluations;
use support_plans_domain::testing::store::InMemoryStore;
use support_plans_domain::{Actor, Slug};

use common::{seeded_plans, seeded_workloads};

/// The day the samples' README describes.
fn now() -> Timestamp {
    "2026-11-21T08:00:00Z".parse().unwrap()
}

fn readiness_of(workloads: &[Workload], plans: &[SupportPlan], now: Timestamp) -> Readiness {
    let fresh: Vec<_> = plans
        .iter()
        .map(|p| freshness(p, now, &Policy::default()))
        .collect();
    figures(workloads, plans, &fresh, Activity::default(), 0, now)
}

fn samples() -> (Vec<Workload>, Vec<SupportPlan>) {
    (seeded_workloads(now()), seeded_plans(now()))
}

/// Every contact of `plans` verified an hour before `now`.
fn verify_all(plans: &mut [SupportPlan]) {
    let by = Actor::parse("maya.okafor@example.com").unwrap();
    for plan in plans {
        for c in &mut plan.spec.contacts {
            c.verified_at = Some(now() - SignedDuration::from_hours(1));
            c.verified_by = Some(by.clone());
        }
    }
}

fn slug(s: &str) -> Slug {
    Slug::parse(s).unwrap()
}

#[test]
fn the_samples_are_non_compliant_for_their_overdue_contacts() {
    let (workloads, plans) = samples();
    let r = readiness_of(&workloads, &plans, now());
    // Every sample workload relies on active plans, and payments (tier-1)
    // has 24x7 channels: only the five overdue contacts are in the way.
    assert_eq!(
        (
            r.workloads,
            r.workloads_without_active_plan,
            r.tier1_workloads_without_24x7
        ),
        (3, 0, 0)
    );
    assert_eq!(
        evaluate(&r, now()),
        Evaluation {
            compliance: Compliance::NonCompliant,
            annotation: "5 of 18 contacts overdue for verification. \
                         Also: 1 lapsed contract; 1 plan due for review."
                .into(),
        }
    );
}

#[test]
fn a_fixed_up_copy_of_the_samples_is_compliant() {
    let (workloads, mut plans) = samples();
    verify_all(&mut plans);
    let r = readiness_of(&workloads, &plans, now());
    assert_eq!(
        evaluate(&r, now()),
        Evaluation {
            compliance: Compliance::Compliant,
            // The lapsed contract and the review are named, not judged.
            annotation: "Every workload (3) relies on an active plan, every tier-1 one has a \
                         24x7 channel and no contact (18) is overdue for verification. \
                         Also: 1 lapsed contract; 1 plan due for review."
                .into(),
        }
    );
}

#[test]
fn each_gap_makes_the_samples_non_compliant_worst_first() {
    let (mut workloads, mut plans) = samples();
    verify_all(&mut plans);
    // Stripe is retired: checkout-web keeps AWS and Datadog, payments too.
    // analytics (tier-3) now relies on MongoDB only, which is retired too:
    // it has no active plan. payments becomes tier-1 on plans whose
    // channels are all business hours.
    for p in &mut plans {
        if ["stripe-premium", "mongodb-atlas"].contains(&p.id().as_str()) {
            p.spec.status = Status::Retired;
        }
    }
    let plans: Vec<SupportPlan> = plans.into_iter().filter(|p| p.is_active()).collect();
    for w in &mut workloads {
        if w.spec.name.as_str() == "analytics" {
            w.spec.dependencies = vec![slug("mongodb-atlas")];
        }
    }
    let mut plans = plans;
    for p in &mut plans {
        for Channel { hours, .. } in &mut p.spec.channels {
            *hours = "business-hours".into();
        }
    }
    let payments = workloads
        .iter()
        .find(|w| w.spec.name.as_str() == "payments")
        .unwrap();
    assert_eq!(payments.spec.criticality, Criticality::Tier1);
    let r = readiness_of(&workloads, &plans, now());
    assert_eq!(
        evaluate(&r, now()),
        Evaluation {
            compliance: Compliance::NonCompliant,
            annotation: "1 tier-1 workload without a 24x7 support channel; \
                         1 of 3 workloads without an active support plan. \
                         Also: 1 plan due for review."
                .into(),
        }
    );
}

#[test]
fn no_workload_at_all_is_not_compliant() {
    let (_, mut plans) = samples();
    verify_all(&mut plans);
    let r = readiness_of(&[], &plans, now());
    let e = evaluate(&r, now());
    assert_eq!(e.compliance, Compliance::NonCompliant);
    assert!(
        e.annotation
            .starts_with("No active workload is registered, so none is known to rely on a support plan."),
        "{}",
        e.annotation
    );
}

#[test]
fn figures_the_freshness_check_left_days_ago_are_not_compliant() {
    let (workloads, mut plans) = samples();
    verify_all(&mut plans);
    let r = readiness_of(&workloads, &plans, now());
    // Eight days on: still the account's state.
    let eight = now() + SignedDuration::from_hours(8 * 24);
    assert_eq!(evaluate(&r, eight).compliance, Compliance::Compliant);
    // Nine: the check has stopped.
    let nine = now() + SignedDuration::from_hours(9 * 24);
    let e = evaluate(&r, nine);
    assert_eq!(e.compliance, Compliance::NonCompliant);
    assert!(
        e.annotation.starts_with(
            "Figures 9 days old (as of 2026-11-21): the freshness check has not run since. Also:"
        ),
        "{}",
        e.annotation
    );
}

#[test]
fn many_gaps_are_cut_after_a_word_within_256_characters_worst_first() {
    let (workloads, plans) = samples();
    let mut r = readiness_of(&workloads, &plans, now());
    let huge = u64::MAX;
    r.workloads = huge;
    r.workloads_without_active_plan = huge - 1;
    r.tier1_workloads_without_24x7 = huge - 2;
    r.contacts = huge;
    r.contacts_overdue = huge - 3;
    r.owners_unreachable = huge;
    r.contracts_lapsed = huge;
    r.plans_due_for_review = huge;
    let later = now() + SignedDuration::from_hours(400 * 24);
    let e = evaluate(&r, later);
    assert_eq!(e.compliance, Compliance::NonCompliant);
    let chars = e.annotation.chars().count();
    assert!(chars <= MAX_ANNOTATION_CHARS, "{chars}: {}", e.annotation);
    // Counted in characters: the ellipsis is three bytes.
    assert!(e.annotation.ends_with('…'), "{}", e.annotation);
    assert!(e.annotation.len() > chars);
    // The worst gaps first: the stale figures, tier-1 without 24x7,
    // workloads without a plan; cut after the last whole word that fits,
    // so the overdue contacts and the rest are left out.
    assert_eq!(
        e.annotation,
        "Figures 400 days old (as of 2026-11-21): the freshness check has not run since; \
         18446744073709551613 tier-1 workloads without a 24x7 support channel; \
         18446744073709551614 of 18446744073709551615 workloads without an active support plan…"
    );
}

// ---------------------------------------------------------------- the invocation

fn invocation() -> RuleInvocation {
    RuleInvocation {
        account_id: "111122223333".into(),
        notified_at: now() + SignedDuration::from_hours(2),
        result_token: "token-1".into(),
    }
}

#[tokio::test]
async fn without_a_snapshot_nothing_is_put() {
    let store = InMemoryStore::default();
    let config = FakeEvaluations::default();
    let reported = report(&store, &config, &invocation()).await.unwrap();
    assert!(matches!(reported, Reported::Nothing { .. }), "{reported:?}");
    assert!(config.put().is_empty());
}

#[tokio::test]
async fn the_snapshot_is_evaluated_and_put_for_the_account_with_the_token() {
    let store = InMemoryStore::default();
    let (workloads, plans) = samples();
    let r = readiness_of(&workloads, &plans, now());
    store.replace_snapshot(&r, None).await.unwrap();
    let config = FakeEvaluations::default();

    let reported = report(&store, &config, &invocation()).await.unwrap();
    let expected = ResourceEvaluation {
        resource_type: ACCOUNT_RESOURCE_TYPE,
        resource_id: "111122223333".into(),
        compliance: Compliance::NonCompliant,
        annotation: evaluate(&r, now()).annotation,
        ordering: invocation().notified_at,
    };
    assert_eq!(reported, Reported::Evaluation(expected.clone()));
    assert_eq!(config.put(), [("token-1".to_owned(), expected)]);
}

#[tokio::test]
async fn a_refused_or_failed_put_is_an_error_that_says_which() {
    let store = InMemoryStore::default();
    let (workloads, plans) = samples();
    store
        .replace_snapshot(&readiness_of(&workloads, &plans, now()), None)
        .await
        .unwrap();
    let config = FakeEvaluations::default();
    config.fail_next(1);
    let err = report(&store, &config, &invocation()).await.unwrap_err();
    assert!(matches!(err, ReportError::Put(PortError::Retry(_))), "{err:?}");
    config.refuse("InvalidResultTokenException");
    let err = report(&store, &config, &invocation()).await.unwrap_err();
    assert!(matches!(err, ReportError::Put(PortError::Refused(_))), "{err:?}");
    assert!(config.put().is_empty());
}
