//! Reminders that arrive (SPEC §14): subscription upkeep over the in-memory
//! SNS and store. The same rules run against moto in
//! tests/tests/subscriptions.rs.

use jiff::Timestamp;
use serde_json::json;
use support_plans_domain::reminders::subscriptions::{
    Keeper, PlanReach, Reach, Record, SubscriptionRecords as _, Topic, filter_policy, lets_through,
    owners_unreachable, upkeep, wanted,
};
use support_plans_domain::testing::store::InMemoryStore;
use support_plans_domain::testing::subscriptions::FakeSns;
use support_plans_domain::{Actor, PlanSpec, SupportPlan};

fn now() -> Timestamp {
    "2026-11-21T08:00:00Z".parse().unwrap()
}

fn plan(id: &str, owner: &str, escalation: Option<&str>) -> SupportPlan {
    let mut o = json!({"team": "payments", "email": owner});
    if let Some(e) = escalation {
        o["escalation_email"] = json!(e);
    }
    let body = json!({
        "id": id, "vendor": "Vendor", "product": "Cloud", "tier": "Gold", "owner": o,
        "channels": [{"kind": "portal", "value": "https://support.vendor.example.net", "hours": "24x7"}],
        "escalation_steps": [{"title": "Open a case", "instructions": "", "after_minutes": 0}],
        "contacts": [],
    });
    SupportPlan::create(
        PlanSpec::parse(&body).unwrap(),
        &Actor::parse("seed").unwrap(),
        now(),
    )
}

fn keeper<'a>(
    sns: &'a FakeSns,
    store: &'a InMemoryStore,
    manage: bool,
) -> Keeper<'a, FakeSns, InMemoryStore> {
    Keeper {
        sns,
        records: store,
        manage,
    }
}

#[test]
fn each_owner_and_escalation_address_is_wanted_once_on_its_topic() {
    let plans = [
        plan("plan-a", "pay@example.com", Some("cto@example.com")),
        plan("plan-b", "pay@example.com", Some("cto@example.com")),
        plan("plan-c", "search@example.com", None),
    ];
    let w: Vec<(Topic, String)> = wanted(&plans).into_iter().map(|w| (w.topic, w.address)).collect();
    assert_eq!(
        w,
        [
            (Topic::Reminder, "pay@example.com".to_owned()),
            (Topic::Reminder, "search@example.com".to_owned()),
            (Topic::Escalation, "cto@example.com".to_owned()),
        ]
    );
    assert_eq!(
        filter_policy(Topic::Escalation, "cto@example.com"),
        r#"{"escalation_email":["cto@example.com"]}"#
    );
}

#[test]
fn a_retired_plans_owner_is_not_wanted() {
    let p = plan("plan-a", "pay@example.com", None).retired(&Actor::parse("seed").unwrap(), now());
    assert!(wanted(&[p]).is_empty());
}

#[test]
fn a_hand_made_filter_lets_through_no_policy_the_address_or_its_case_insensitive_form() {
    let a = "pay@example.com";
    assert!(lets_through(None, "owner_email", a));
    assert!(lets_through(
        Some(r#"{"owner_email": ["x@example.com", "pay@example.com"]}"#),
        "owner_email",
        a
    ));
    assert!(lets_through(
        Some(r#"{"owner_email": [{"equals-ignore-case": "PAY@example.com"}]}"#),
        "owner_email",
        a
    ));
    assert!(lets_through(Some(r#"{"kind": ["reminder"]}"#), "owner_email", a));
    assert!(!lets_through(
        Some(r#"{"owner_email": ["x@example.com"]}"#),
        "owner_email",
        a
    ));
    assert!(!lets_through(Some("not json"), "owner_email", a));
}

#[tokio::test]
async fn a_first_run_subscribes_each_address_with_its_filter_and_a_second_changes_nothing() {
    let (sns, store) = (FakeSns::new(), InMemoryStore::new());
    let plans = [
        plan("plan-a", "pay@example.com", Some("cto@example.com")),
        plan("plan-b", "search@example.com", Some("cto@example.com")),
    ];
    let r = keeper(&sns, &store, true)
        .run(&plans, now(), false)
        .await
        .unwrap();
    assert_eq!(r.created.len(), 3, "{r:?}");
    let reminder = sns.subscriptions(Topic::Reminder);
    assert_eq!(reminder.len(), 2);
    for s in &reminder {
        assert_eq!(s.protocol, "email");
        assert_eq!(
            s.filter_policy.as_deref(),
            Some(format!(r#"{{"owner_email":["{}"]}}"#, s.endpoint).as_str())
        );
    }
    let esc = sns.subscriptions(Topic::Escalation);
    assert_eq!(esc.len(), 1);
    assert_eq!(
        esc[0].filter_policy.as_deref(),
        Some(r#"{"escalation_email":["cto@example.com"]}"#)
    );
    // Pending until confirmed: every address is unreachable.
    assert_eq!(r.owners_unreachable.len(), 2);
    assert_eq!(
        r.owner_unreachable("pay@example.com"),
        Some(Reach::PendingConfirmation)
    );

    sns.confirm(Topic::Reminder, "pay@example.com");
    sns.reset_calls();
    let r = keeper(&sns, &store, true)
        .run(&plans, now(), false)
        .await
        .unwrap();
    assert!(r.created.is_empty() && r.removed.is_empty(), "{r:?}");
    assert_eq!(sns.calls().get("Subscribe"), None);
    assert_eq!(sns.calls().get("Unsubscribe"), None);
    // Two owners: at most 2 SNS calls each.
    assert!(sns.total_calls() <= 2 * 2, "{:?}", sns.calls());
    assert_eq!(r.sns_calls, sns.total_calls());
    assert_eq!(r.owner_unreachable("pay@example.com"), None);
    assert_eq!(
        r.owner_unreachable("search@example.com"),
        Some(Reach::PendingConfirmation)
    );
    assert_eq!(sns.subscriptions(Topic::Reminder).len(), 2);
}

#[tokio::test]
async fn an_owner_replaced_loses_the_managed_subscription_and_the_new_one_gets_one() {
    let (sns, store) = (FakeSns::new(), InMemoryStore::new());
    let k = keeper(&sns, &store, true);
    k.run(&[plan("plan-a", "old@example.com", None)], now(), false)
        .await
        .unwrap();
    sns.confirm(Topic::Reminder, "old@example.com");
    let r = k
        .run(&[plan("plan-a", "new@example.com", None)], now(), false)
        .await
        .unwrap();
    assert_eq!(r.removed.len(), 1);
    assert_eq!(r.removed[0].address, "old@example.com");
    assert_eq!(r.created[0].address, "new@example.com");
    let endpoints: Vec<String> = sns
        .subscriptions(Topic::Reminder)
        .into_iter()
        .map(|s| s.endpoint)
        .collect();
    assert_eq!(endpoints, ["new@example.com"]);
    let (records, _) = store.all_records().await.unwrap();
    assert_eq!(
        records.len(),
        1,
        "the old address's record is forgotten: {records:?}"
    );
}

#[tokio::test]
async fn a_hand_made_subscription_is_never_touched_and_counts_when_its_filter_lets_through() {
    let (sns, store) = (FakeSns::new(), InMemoryStore::new());
    let k = keeper(&sns, &store, true);
    // One for an owner, one for an address that owns nothing, one filtering another address.
    let mine = sns.by_hand(Topic::Reminder, "pay@example.com", None);
    let stray = sns.by_hand(
        Topic::Reminder,
        "gone@example.com",
        Some(r#"{"owner_email":["gone@example.com"]}"#),
    );
    let other = sns.by_hand(
        Topic::Reminder,
        "search@example.com",
        Some(r#"{"owner_email":["x@example.com"]}"#),
    );
    let plans = [
        plan("plan-a", "pay@example.com", None),
        plan("plan-b", "search@example.com", None),
    ];
    for _ in 0..3 {
        let r = k.run(&plans, now(), false).await.unwrap();
        assert!(r.created.is_empty() && r.removed.is_empty(), "{r:?}");
        assert_eq!(r.owner_unreachable("pay@example.com"), None);
        assert_eq!(
            r.owner_unreachable("search@example.com"),
            Some(Reach::FilteredOut)
        );
    }
    let arns: Vec<String> = sns
        .subscriptions(Topic::Reminder)
        .into_iter()
        .map(|s| s.arn)
        .collect();
    assert_eq!(arns, [mine, stray, other]);
    // Even with nothing wanted at all.
    k.run(&[], now(), false).await.unwrap();
    assert_eq!(sns.subscriptions(Topic::Reminder).len(), 3);
}

#[tokio::test]
async fn a_dry_run_reports_the_changes_and_makes_none() {
    let (sns, store) = (FakeSns::new(), InMemoryStore::new());
    let k = keeper(&sns, &store, true);
    k.run(&[plan("plan-a", "old@example.com", None)], now(), false)
        .await
        .unwrap();
    sns.confirm(Topic::Reminder, "old@example.com");
    let before = sns.subscriptions(Topic::Reminder);
    let (records_before, _) = store.all_records().await.unwrap();
    let r = k
        .run(
            &[plan("plan-a", "new@example.com", Some("cto@example.com"))],
            now(),
            true,
        )
        .await
        .unwrap();
    let changes: Vec<(Topic, &str)> = r.created.iter().map(|c| (c.topic, c.address.as_str())).collect();
    assert_eq!(
        changes,
        [
            (Topic::Reminder, "new@example.com"),
            (Topic::Escalation, "cto@example.com")
        ]
    );
    assert_eq!(r.removed[0].address, "old@example.com");
    assert_eq!(sns.subscriptions(Topic::Reminder), before);
    assert!(sns.subscriptions(Topic::Escalation).is_empty());
    assert_eq!(store.all_records().await.unwrap().0, records_before);
    assert_eq!(
        sns.calls().get("Subscribe"),
        Some(&1),
        "only the first, real run subscribed"
    );
}

#[tokio::test]
async fn not_managing_finds_reachability_and_changes_nothing() {
    let (sns, store) = (FakeSns::new(), InMemoryStore::new());
    let r = keeper(&sns, &store, false)
        .run(&[plan("plan-a", "pay@example.com", None)], now(), false)
        .await
        .unwrap();
    assert!(r.created.is_empty());
    assert_eq!(
        r.owner_unreachable("pay@example.com"),
        Some(Reach::NoSubscription)
    );
    assert!(sns.subscriptions(Topic::Reminder).is_empty());
    let p = plan("plan-a", "pay@example.com", None);
    let reach = PlanReach::read(&p, &store).await.unwrap();
    assert!(reach.owner.is_unreachable());
    assert_eq!(reach.owner.reach, Some(Reach::NoSubscription));
}

#[tokio::test]
async fn an_expired_confirmation_is_asked_again() {
    let (sns, store) = (FakeSns::new(), InMemoryStore::new());
    let k = keeper(&sns, &store, true);
    let plans = [plan("plan-a", "pay@example.com", None)];
    k.run(&plans, now(), false).await.unwrap();
    sns.expire_pending();
    let r = k.run(&plans, now(), false).await.unwrap();
    assert_eq!(r.created.len(), 1);
    assert_eq!(sns.subscriptions(Topic::Reminder).len(), 1);
    let (records, _) = store.all_records().await.unwrap();
    assert_eq!(
        records[0].managed_arn.as_deref(),
        Some(sns.subscriptions(Topic::Reminder)[0].arn.as_str())
    );
}

#[tokio::test]
async fn a_topic_that_cannot_be_listed_is_reported_and_nothing_is_changed() {
    let (sns, store) = (FakeSns::new(), InMemoryStore::new());
    sns.fail_listing(true);
    let r = keeper(&sns, &store, true)
        .run(&[plan("plan-a", "pay@example.com", None)], now(), false)
        .await
        .unwrap();
    assert_eq!(r.failures.len(), 2, "{r:?}");
    assert!(r.created.is_empty());
    assert!(store.all_records().await.unwrap().0.is_empty());
}

#[test]
fn readiness_counts_each_unreachable_owner_of_an_active_plan_once() {
    let rec = |address: &str, reach| Record {
        topic: Topic::Reminder,
        address: address.into(),
        managed_arn: None,
        reach,
        checked_at: now(),
    };
    let plans = [
        plan("plan-a", "pay@example.com", None),
        plan("plan-b", "pay@example.com", None),
        plan("plan-c", "search@example.com", None),
        plan("plan-d", "ok@example.com", None),
    ];
    let records = [
        rec("pay@example.com", Reach::PendingConfirmation),
        rec("search@example.com", Reach::NoSubscription),
        rec("ok@example.com", Reach::Confirmed),
        rec("gone@example.com", Reach::NoSubscription),
    ];
    assert_eq!(owners_unreachable(&plans, &records), 2);
    let p = upkeep(Topic::Reminder, &wanted(&plans), &[], &records, true);
    assert_eq!(p.create.len(), 3);
}

#[test]
fn the_support_card_says_when_reminders_do_not_reach_the_plan_owner() {
    use support_plans_domain::card;
    use support_plans_domain::freshness::{Policy, evaluate};
    use support_plans_domain::model::{Workload, WorkloadSpec};
    let workload = Workload::create(
        WorkloadSpec::parse(&json!({
            "name": "payments", "description": "", "criticality": "tier-1",
            "owner": {"team": "payments", "email": "pay@example.com"},
            "dependencies": ["plan-a", "plan-b"],
        }))
        .unwrap(),
        &Actor::parse("seed").unwrap(),
        now(),
    );
    let rec = |address: &str, topic, reach| Record {
        topic,
        address: address.into(),
        managed_arn: None,
        reach,
        checked_at: now(),
    };
    let records = [
        rec("pay@example.com", Topic::Reminder, Reach::PendingConfirmation),
        rec("cto@example.com", Topic::Escalation, Reach::Confirmed),
        rec("ok@example.com", Topic::Reminder, Reach::Confirmed),
    ];
    let plans: Vec<_> = [
        plan("plan-a", "pay@example.com", Some("cto@example.com")),
        plan("plan-b", "ok@example.com", None),
    ]
    .into_iter()
    .map(|p| {
        let f = evaluate(&p, now(), &Policy::default());
        let r = PlanReach::of(&p, &records);
        (p, f, Some(r))
    })
    .collect();
    let text = card::markdown(&workload, &plans, &[], now());
    assert_eq!(text.matches("Reminders do not reach").count(), 1, "{text}");
    assert!(
        text.contains(
            "> **Reminders do not reach the plan owner (pay@example.com): subscribed, but the confirmation SNS e-mailed has not been followed yet.**"
        ),
        "{text}"
    );
}

/// SNS lets nobody delete a subscription pending confirmation and drops it
/// after 48 hours: one the service made for an address no longer wanted is
/// left to expire, and removed if it is confirmed meanwhile.
#[tokio::test]
async fn a_pending_subscription_no_longer_wanted_is_left_to_expire_or_removed_once_confirmed() {
    let (sns, store) = (FakeSns::new(), InMemoryStore::new());
    let k = keeper(&sns, &store, true);
    k.run(&[plan("plan-a", "old@example.com", None)], now(), false)
        .await
        .unwrap();
    let nobody: [SupportPlan; 0] = [];
    let r = k.run(&nobody, now(), false).await.unwrap();
    assert!(r.removed.is_empty(), "{r:?}");
    assert_eq!(sns.calls().get("Unsubscribe"), None);
    assert_eq!(
        store.all_records().await.unwrap().0.len(),
        1,
        "kept until SNS drops it"
    );
    // The old owner confirms after all: now it can go.
    sns.confirm(Topic::Reminder, "old@example.com");
    let r = k.run(&nobody, now(), false).await.unwrap();
    assert_eq!(r.removed.len(), 1, "{r:?}");
    assert!(sns.subscriptions(Topic::Reminder).is_empty());
    assert!(store.all_records().await.unwrap().0.is_empty());
    // Or it expires: the record is forgotten, no call made.
    k.run(&[plan("plan-a", "old@example.com", None)], now(), false)
        .await
        .unwrap();
    k.run(&nobody, now(), false).await.unwrap();
    sns.expire_pending();
    sns.reset_calls();
    let r = k.run(&nobody, now(), false).await.unwrap();
    assert!(r.removed.is_empty());
    assert_eq!(sns.calls().get("Unsubscribe"), None);
    assert!(store.all_records().await.unwrap().0.is_empty());
}
