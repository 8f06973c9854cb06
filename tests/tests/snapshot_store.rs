//! The readiness snapshot item and the owner index on DynamoDB (moto), each
//! test in a table of its own: the conditions that keep concurrent writers
//! from overwriting each other (SPEC §15), and the owner index's order and
//! pages.

use jiff::Timestamp;
use support_plans_domain::model::{Actor, SupportPlan};
use support_plans_domain::ports::{OwnerIndex as _, OwnerPages, PlanStore as _, StoreError};
use support_plans_domain::readiness::{
    Activity, ActivityLog as _, Delta, Readiness, ReadinessSnapshots as _,
};
use support_plans_tests::{fresh_store, plan_spec};

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn figures(as_of: Timestamp) -> Readiness {
    Readiness {
        as_of,
        workloads: 3,
        workloads_without_active_plan: 1,
        tier1_workloads_without_24x7: 0,
        plans: 4,
        contacts: 10,
        contacts_fresh_percent: Some(70.0),
        contacts_overdue: 3,
        owners_unreachable: 1,
        plans_due_for_review: 2,
        contracts_renewing: 1,
        contracts_lapsed: 0,
        window_days: 30,
        activity: Activity {
            reminders_sent: 5,
            ..Activity::default()
        },
    }
}

#[tokio::test]
async fn the_snapshot_is_replaced_only_as_expected_and_adjusted_only_at_its_as_of() {
    let store = fresh_store().await;
    let t0 = at("2026-12-01T08:00:00Z");
    assert!(store.load_snapshot().await.unwrap().is_none());
    // No snapshot: a delta has nowhere to go.
    let d = Delta {
        contacts_overdue: -1,
        plans: 1,
        ..Delta::default()
    };
    assert!(matches!(
        store.adjust_snapshot(&d, t0).await,
        Err(StoreError::NotFound(_))
    ));

    store.replace_snapshot(&figures(t0), None).await.unwrap();
    // A second "first" write loses: someone wrote one meanwhile.
    assert!(matches!(
        store.replace_snapshot(&figures(t0), None).await,
        Err(StoreError::Conflict { .. })
    ));
    let stored = store.load_snapshot().await.unwrap().unwrap();
    assert_eq!(stored.readiness, figures(t0));
    assert_eq!((stored.seq, stored.activity_seq), (0, 0));

    // A delta computed at another as_of is refused; at its own, added.
    assert!(matches!(
        store.adjust_snapshot(&d, at("2026-11-30T08:00:00Z")).await,
        Err(StoreError::Conflict { .. })
    ));
    store.adjust_snapshot(&d, t0).await.unwrap();
    let stored = store.load_snapshot().await.unwrap().unwrap();
    assert_eq!(
        (stored.readiness.plans, stored.readiness.contacts_overdue),
        (5, 2)
    );
    assert_eq!(stored.readiness.contacts_fresh_percent, Some(80.0));
    assert_eq!((stored.seq, stored.activity_seq), (1, 0));

    // Activity counted as it happens.
    store
        .record(
            "2026-12-01".parse().unwrap(),
            &Activity {
                incidents_matched: 2,
                ..Activity::default()
            },
        )
        .await
        .unwrap();
    let stored = store.load_snapshot().await.unwrap().unwrap();
    assert_eq!(stored.readiness.activity.incidents_matched, 2);
    assert_eq!((stored.seq, stored.activity_seq), (1, 1));

    // A run that started before the write and the count does not replace it.
    let t1 = at("2026-12-02T08:00:00Z");
    assert!(matches!(
        store.replace_snapshot(&figures(t1), Some((0, 0))).await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        store.replace_snapshot(&figures(t1), Some((1, 0))).await,
        Err(StoreError::Conflict { .. })
    ));
    store.replace_snapshot(&figures(t1), Some((1, 1))).await.unwrap();
    let stored = store.load_snapshot().await.unwrap().unwrap();
    assert_eq!(stored.readiness, figures(t1));
    assert_eq!((stored.seq, stored.activity_seq), (0, 0));
}

#[tokio::test]
async fn the_owner_index_holds_active_plans_in_owner_order_and_batches_keep_owners_whole() {
    let store = fresh_store().await;
    let actor = Actor::parse("test").unwrap();
    let now = at("2026-12-01T08:00:00Z");
    // 30 plans of 3 owners, written in id order; one retired.
    let mut ids = Vec::new();
    for i in 0..30 {
        let team = ["zeta", "alpha", "mid"][i % 3];
        let plan = SupportPlan::create(plan_spec(&format!("plan-{i:02}"), team), &actor, now);
        store.create_plan(&plan).await.unwrap();
        ids.push(plan);
    }
    let retired = ids[0].retired(&actor, now);
    store
        .put_plan_version(&retired, support_plans_domain::model::Change::Retired)
        .await
        .unwrap();

    // Pages of 4: an owner's ten plans run over three pages, and every
    // batch holds whole owners.
    let paged = store.clone().with_owner_page(4);
    let mut seen: Vec<SupportPlan> = Vec::new();
    let mut pages = OwnerPages::default();
    let mut batches = 0;
    while let Some(batch) = pages.next(&paged).await.unwrap() {
        let owners: std::collections::BTreeSet<&str> =
            batch.iter().map(|p| p.spec.owner.email.as_str()).collect();
        for o in owners {
            assert!(
                seen.iter().all(|p| p.spec.owner.email.as_str() != o),
                "{o}'s plans came in two batches"
            );
        }
        seen.extend(batch);
        batches += 1;
    }
    assert_eq!(seen.len(), 29, "active plans only");
    assert!(pages.reads >= 8, "29 plans by 4: {} reads", pages.reads);
    assert!(batches >= 2, "{batches} batches");
    let keys: Vec<String> = seen.iter().map(SupportPlan::owner_key).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "in owner order");
    // Digests: what the check reads, without what it does not.
    assert!(
        seen.iter()
            .all(|p| p.spec.escalation_steps.is_empty() && p.spec.severities.is_empty())
    );
    assert_eq!(seen[0].spec.contacts, ids[1].spec.contacts);
    // The owner's plans, and no other's.
    let alpha = store.active_plans_of("alpha@example.com", 100).await.unwrap();
    assert_eq!(alpha.len(), 10, "{alpha:?}");
}
