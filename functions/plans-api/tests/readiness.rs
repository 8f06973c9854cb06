//! `GET /readiness` (SPEC §6) through the real handler against moto, over the
//! sample data aged to a fixed day, plus a few records that make every
//! figure non-trivial. The expected figures are counted by hand below.

mod common;

use common::{ADMIN, Api, READER, Who};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use support_plans_domain::model::{Actor, Change, PlanSpec, SupportPlan, Workload, WorkloadSpec};
use support_plans_domain::ports::{PlanStore as _, WorkloadStore as _};
use support_plans_domain::readiness::{Activity, ActivityLog as _, ReadinessSnapshots as _};
use support_plans_domain::reminders::subscriptions::{Reach, Record, SubscriptionRecords as _, Topic};

const NOW: &str = "2026-11-21T08:00:00Z";

fn now() -> Timestamp {
    NOW.parse().unwrap()
}

fn day(s: &str) -> Date {
    s.parse().unwrap()
}

#[tokio::test]
async fn readiness_agrees_with_a_count_by_hand_over_the_samples() {
    let mut state = Api::new().await.state;
    state.clock = now;
    let api = Api::from_state(state);
    let store = &api.state.store;
    let actor = Actor::parse("local-seed").unwrap();

    let samples = local_stack::seed::load(&local_stack::seed::samples_dir(), now()).unwrap();
    for p in &samples.plans {
        store.create_plan(p).await.unwrap();
    }
    for w in &samples.workloads {
        store.create_workload(w).await.unwrap();
    }
    // A plan open business hours only (its two contacts never verified,
    // created yesterday), a retired plan, a tier-1 workload on the first, a
    // workload on the second only, and a retired workload.
    let mut body = support_plans_tests::plan_body("biz-hours", "platform");
    body["channels"] = json!([{"kind": "phone", "value": "+12065550100", "hours": "business-hours"}]);
    let biz = SupportPlan::create(
        PlanSpec::parse(&body).unwrap(),
        &actor,
        now() - SignedDuration::from_hours(24),
    );
    store.create_plan(&biz).await.unwrap();
    let old = SupportPlan::create(
        support_plans_tests::plan_spec("old-vendor", "platform"),
        &actor,
        now(),
    );
    store.create_plan(&old).await.unwrap();
    store
        .put_plan_version(&old.retired(&actor, now()), Change::Retired)
        .await
        .unwrap();
    let workload = |name: &str, criticality: &str, deps: &[&str]| {
        let spec = WorkloadSpec::parse(&json!({
            "name": name, "owner": {"team": "platform", "email": "platform-team@example.com"},
            "criticality": criticality, "dependencies": deps,
        }))
        .unwrap();
        Workload::create(spec, &actor, now())
    };
    store
        .create_workload(&workload("legacy-batch", "tier-1", &["biz-hours"]))
        .await
        .unwrap();
    store
        .create_workload(&workload("reports", "tier-3", &["old-vendor"]))
        .await
        .unwrap();
    let gone = workload("gone", "tier-1", &[]);
    store.create_workload(&gone).await.unwrap();
    store
        .put_workload_version(&gone.retired(&actor, now()), Change::Retired)
        .await
        .unwrap();
    // Activity: today and 29 days ago count (the window is 30 days, today
    // included); 30 days ago does not.
    let counts = |r, e, m, u, w| Activity {
        reminders_sent: r,
        escalations_sent: e,
        incidents_matched: m,
        incidents_unmatched: u,
        incidents_without_plan: w,
    };
    store
        .record(day("2026-11-21"), &counts(2, 1, 3, 0, 1))
        .await
        .unwrap();
    store
        .record(day("2026-11-21"), &counts(1, 0, 0, 0, 0))
        .await
        .unwrap();
    store
        .record(day("2026-10-23"), &counts(0, 1, 1, 1, 0))
        .await
        .unwrap();
    store
        .record(day("2026-10-22"), &counts(100, 100, 100, 100, 100))
        .await
        .unwrap();

    // What the freshness check's last look at the subscriptions found: the
    // platform owner has not confirmed, data's has, and an address that
    // owns nothing any more is not counted.
    for (address, reach) in [
        ("platform-team@example.com", Reach::PendingConfirmation),
        ("data-team@example.com", Reach::Confirmed),
        ("gone-team@example.com", Reach::NoSubscription),
    ] {
        store
            .save_record(&Record {
                topic: Topic::Reminder,
                address: address.into(),
                managed_arn: None,
                reach,
                checked_at: now(),
            })
            .await
            .unwrap();
    }

    let r = api.get("/readiness", &READER).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // By hand, on 2026-11-21 (infra/local/samples/README.md for the samples):
    // - workloads: payments, checkout-web, analytics, legacy-batch, reports = 5
    //   (gone is retired);
    // - without an active plan: reports (old-vendor is retired) = 1;
    // - tier-1 without a 24x7 channel: legacy-batch (biz-hours is business
    //   hours only; payments relies on aws-business, 24x7) = 1;
    // - plans: the 4 samples + biz-hours = 5 (old-vendor is retired);
    // - contacts: 5 + 4 + 5 + 4 + 2 = 20; overdue: aws-solutions-architect,
    //   platform-escalation-manager, mongodb-tam, mongodb-support,
    //   stripe-support, and biz-hours' support and tam (never verified) = 7;
    //   fresh: 13 / 20 = 65.0 %;
    // - due for review: aws-business (20 days overdue) = 1;
    // - renewing within 60 days: mongodb-atlas (40 days) = 1; lapsed: stripe-premium = 1;
    // - activity over 2026-10-23..2026-11-21: reminders 2 + 1 + 0 = 3,
    //   escalations 1 + 0 + 1 = 2, incidents matched 3 + 1 = 4, unmatched 1,
    //   without plan 1 (one of the matched);
    // - owners unreachable: platform-team@example.com (pending) = 1.
    assert_eq!(
        r.json(),
        json!({
            "as_of": NOW,
            "workloads": 5,
            "workloads_without_active_plan": 1,
            "tier1_workloads_without_24x7": 1,
            "plans": 5,
            "contacts": 20,
            "contacts_fresh_percent": 65.0,
            "contacts_overdue": 7,
            "owners_unreachable": 1,
            "plans_due_for_review": 1,
            "contracts_renewing": 1,
            "contracts_lapsed": 1,
            "window_days": 30,
            "reminders_sent": 3,
            "escalations_sent": 2,
            "incidents_matched": 4,
            "incidents_unmatched": 1,
            "incidents_without_plan": 1,
        })
    );
}

#[tokio::test]
async fn readiness_needs_an_identity_and_takes_no_parameters() {
    let api = Api::new().await;
    assert_eq!(api.get("/readiness", &Who::Nobody).await.status, 401);
    let r = api.get("/readiness?stale=true", &READER).await;
    assert_eq!(r.status, 400, "{}", r.text);
    // An empty directory: zeros, and no percentage to give.
    let r = api.get("/readiness", &READER).await.json();
    assert_eq!(r["workloads"], 0);
    assert_eq!(r["contacts_fresh_percent"], json!(null));
}

/// SPEC §15: `GET /readiness` answers from the snapshot, and every write
/// through the API keeps it equal to a full recomputation at its `as_of`
/// over the current data (the reference: every plan and workload in memory,
/// `readiness::current`). Through the real handler and DynamoDB (moto).
#[tokio::test]
async fn the_snapshot_after_writes_and_retirements_equals_a_full_recomputation() {
    let mut state = Api::new().await.state;
    state.clock = now;
    let api = Api::from_state(state);
    let store = &api.state.store;
    let samples = local_stack::seed::load(&local_stack::seed::samples_dir(), now()).unwrap();
    for p in &samples.plans {
        store.create_plan(p).await.unwrap();
    }
    for w in &samples.workloads {
        store.create_workload(w).await.unwrap();
    }
    for address in ["platform-team@example.com", "new-owner@example.com"] {
        store
            .save_record(&Record {
                topic: Topic::Reminder,
                address: address.into(),
                managed_arn: None,
                reach: Reach::PendingConfirmation,
                checked_at: now(),
            })
            .await
            .unwrap();
    }
    store
        .record(
            day("2026-11-20"),
            &Activity {
                incidents_matched: 2,
                ..Activity::default()
            },
        )
        .await
        .unwrap();
    let policy = api.state.policy;
    let check = |step: &'static str| {
        let api = &api;
        async move {
            let served = api.get("/readiness", &READER).await;
            assert_eq!(served.status, 200, "{step}: {}", served.text);
            let reference = support_plans_domain::readiness::current(api.dynamo(), now(), &policy)
                .await
                .unwrap();
            assert_eq!(
                served.json(),
                serde_json::to_value(&reference).unwrap(),
                "after {step}"
            );
            served.json()
        }
    };
    let before = check("the first GET, which computes and keeps the snapshot").await;
    assert!(
        api.dynamo().load_snapshot().await.unwrap().is_some(),
        "the first GET keeps what it computed"
    );

    // Each write, then the snapshot against the recomputation.
    let edit = |id: &'static str, change: fn(&mut serde_json::Value)| {
        let api = &api;
        async move {
            let r = api.get(&format!("/plans/{id}"), &ADMIN).await;
            let mut body = r.json();
            for server in [
                "version",
                "created_at",
                "updated_at",
                "updated_by",
                "reachability",
                "reviewed_at",
                "reviewed_by",
            ] {
                body.as_object_mut().unwrap().remove(server);
            }
            change(&mut body);
            let w = api
                .put(&format!("/plans/{id}"), &ADMIN, Some(&r.etag()), &body)
                .await;
            assert_eq!(w.status, 200, "{id}: {}", w.text);
        }
    };
    // An owner replaced by an unreachable address that owned nothing.
    edit("mongodb-atlas", |b| {
        b["owner"]["email"] = json!("new-owner@example.com")
    })
    .await;
    let after_owner = check("mongodb-atlas's owner replaced").await;
    assert_eq!(after_owner["owners_unreachable"], 2, "{after_owner}");
    // A contact verified.
    let r = api
        .post(
            "/plans/stripe-premium/contacts/stripe-support/verify",
            &ADMIN,
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let verified = check("stripe-support verified").await;
    assert_eq!(
        verified["contacts_overdue"].as_u64().unwrap() + 1,
        before["contacts_overdue"].as_u64().unwrap()
    );
    // A plan every workload relies on retired; its owner owns nothing more.
    let etag = api.get("/plans/aws-business", &ADMIN).await.etag();
    let r = api.delete("/plans/aws-business", &ADMIN, Some(&etag)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let retired = check("aws-business retired").await;
    assert_eq!(retired["owners_unreachable"], 1, "{retired}");
    // A tier-1 workload's only 24x7 plan made business hours only.
    let r = api
        .post(
            "/workloads",
            &ADMIN,
            &common::workload_body("ledger", "payments", &["mongodb-atlas"]),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    check("a tier-1 workload created").await;
    edit("mongodb-atlas", |b| {
        for c in b["channels"].as_array_mut().unwrap() {
            c["hours"] = json!("business-hours");
        }
    })
    .await;
    let hours = check("mongodb-atlas's channels made business hours").await;
    assert_eq!(hours["tier1_workloads_without_24x7"], 1, "{hours}");
    // A workload retired, another's dependencies replaced.
    let etag = api.get("/workloads/analytics", &ADMIN).await.etag();
    assert_eq!(
        api.delete("/workloads/analytics", &ADMIN, Some(&etag))
            .await
            .status,
        200
    );
    check("analytics retired").await;
    // A plan retired and made active again is the same as never retired.
    let etag = api.get("/plans/stripe-premium", &ADMIN).await.etag();
    assert_eq!(
        api.delete("/plans/stripe-premium", &ADMIN, Some(&etag))
            .await
            .status,
        200
    );
    check("stripe-premium retired").await;
    edit("stripe-premium", |b| b["status"] = json!("active")).await;
    check("stripe-premium active again").await;
    // A new plan.
    api.seed_plan("pagerduty-business", "observability").await;
    check("a plan created").await;
}
