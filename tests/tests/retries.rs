//! Writes that tell the truth under retries (issue 12): a write whose answer
//! is lost after it committed is retried by the SDK with the same
//! `ClientRequestToken`, and DynamoDB answers the retry as it answered the
//! first call. Without the token the retry fails its own condition and a
//! write that happened is reported as a conflict.

use jiff::Timestamp;
use support_plans_domain::model::Change;
use support_plans_domain::ports::{PlanStore as _, WorkloadStore as _};
use support_plans_domain::types::Slug;
use support_plans_tests::{actor, fresh_store, lose_transact_answers, new_plan, new_workload};

fn slug(s: &str) -> Slug {
    Slug::parse(s).unwrap()
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_reports_success_once() {
    let store = fresh_store().await;
    lose_transact_answers(store.table(), 1).await;
    let plan = new_plan("acme-cloud", "platform");
    store
        .create_plan(&plan)
        .await
        .expect("the retry of a committed create reports success, not 'already exists'");
    let history = store
        .plan_history(
            &slug("acme-cloud"),
            &support_plans_domain::ports::PageRequest::first(100),
        )
        .await
        .unwrap();
    assert_eq!(
        history.items.len(),
        1,
        "one version written, not two: {history:?}"
    );
}

#[tokio::test]
async fn a_replace_whose_answer_was_lost_reports_success() {
    let store = fresh_store().await;
    let v1 = new_plan("acme-cloud", "platform");
    store.create_plan(&v1).await.unwrap();
    let mut spec = v1.spec.clone();
    spec.tier = "Premier 24x7".into();
    let v2 = v1.replaced(spec, &actor("alice"), Timestamp::now()).unwrap();

    lose_transact_answers(store.table(), 1).await;
    store
        .put_plan_version(&v2, Change::Replaced)
        .await
        .expect("the retry of a committed replace reports success, not a conflict");
    let got = store.get_plan(&slug("acme-cloud")).await.unwrap().unwrap();
    assert_eq!((got.meta.version, got.spec.tier.as_str()), (2, "Premier 24x7"));

    // A different write of the same version is still a conflict: the token
    // belongs to one write, not to a version number.
    let mut other = v1.spec.clone();
    other.tier = "Basic".into();
    let stale = v1.replaced(other, &actor("bob"), Timestamp::now()).unwrap();
    let err = store
        .put_plan_version(&stale, Change::Replaced)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            support_plans_domain::ports::StoreError::Conflict { expected: 1, .. }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_workload_write_whose_answer_was_lost_reports_success() {
    let store = fresh_store().await;
    store
        .create_plan(&new_plan("acme-cloud", "platform"))
        .await
        .unwrap();
    lose_transact_answers(store.table(), 1).await;
    store
        .create_workload(&new_workload("payments", "payments", &["acme-cloud"]))
        .await
        .expect("the retry of a committed workload create reports success");
}
