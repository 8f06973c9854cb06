//! The real handler over the domain's in-memory store (feature `testing`):
//! the API's rules (SPEC §3, §5, §6) checked in milliseconds, no local stack.
//! The same rules against DynamoDB (moto) are in the other test files.

mod common;

use common::{ADMIN, Api, PAYMENTS, PLATFORM, READER};
use jiff::Timestamp;
use plans_api::AppState;
use plans_api::auth::AuthConfig;
use plans_api::verify::KeySource;
use serde_json::Value;
use support_plans_domain::model::Change;
use support_plans_domain::ports::{PageRequest, PlanFilter, PlanStore as _, StoreError};
use support_plans_domain::readiness::{Activity, ActivityLog as _};
use support_plans_domain::testing::store::InMemoryStore;
use support_plans_domain::token::{KeySet, LinkFor, VerifyKey, issue};
use support_plans_domain::types::Slug;
use support_plans_tests::{actor, new_plan, plan_body};

fn now() -> Timestamp {
    "2026-11-21T08:00:00Z".parse().unwrap()
}

fn slug(s: &str) -> Slug {
    Slug::parse(s).unwrap()
}

/// The API over a fresh in-memory store (kept to look inside), at [`now`].
fn api() -> (Api, InMemoryStore) {
    let store = InMemoryStore::new();
    let auth = AuthConfig {
        admin_groups: vec![common::ADMIN_GROUP.into()],
        ..AuthConfig::default()
    };
    let mut state = AppState::new(store.clone(), auth);
    state.clock = now;
    (Api::from_state(state), store)
}

fn ids(r: &Value) -> Vec<&str> {
    r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().or(p["name"].as_str()).unwrap())
        .collect()
}

#[tokio::test]
async fn a_plan_is_created_read_replaced_and_retired() {
    let (api, store) = api();
    let created = api.post("/plans", &ADMIN, &plan_body("stripe", "payments")).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.header("location"), Some("/plans/stripe"));
    assert_eq!(created.etag(), "\"1\"");

    let read = api.get("/plans/stripe", &READER).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.json()["vendor"], "Example Vendor");

    let mut body = plan_body("stripe", "payments");
    body["tier"] = "Premium".into();
    let replaced = api.put("/plans/stripe", &PAYMENTS, Some("\"1\""), &body).await;
    assert_eq!(replaced.status, 200, "{}", replaced.text);
    assert_eq!(replaced.etag(), "\"2\"");
    assert_eq!(api.get("/plans/stripe", &READER).await.json()["tier"], "Premium");

    let retired = api.delete("/plans/stripe", &PAYMENTS, Some("\"2\"")).await;
    assert_eq!(retired.status, 200, "{}", retired.text);
    assert_eq!(retired.json()["status"], "retired");

    let history = api.get("/plans/stripe/history?limit=2", &READER).await;
    assert_eq!(history.status, 200, "{}", history.text);
    let versions: Vec<u64> = history.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, [3, 2], "newest first");
    let cursor = history.json()["next_cursor"].as_str().unwrap().to_owned();
    let rest = api
        .get(&format!("/plans/stripe/history?limit=2&cursor={cursor}"), &READER)
        .await;
    assert_eq!(
        rest.json()["items"][0]["change"]["kind"],
        "created",
        "{}",
        rest.text
    );
    assert!(rest.json().get("next_cursor").is_none());

    // The store kept the retired plan: retire is the only delete.
    let stored = store.get_plan(&slug("stripe")).await.unwrap().unwrap();
    assert!(!stored.is_active());
    assert_eq!(
        api.post("/plans", &ADMIN, &plan_body("stripe", "payments"))
            .await
            .status,
        409
    );
}

#[tokio::test]
async fn a_stale_if_match_is_412_and_changes_nothing() {
    let (api, _) = api();
    let etag = api.seed_plan("stripe", "payments").await;
    let mut body = plan_body("stripe", "payments");
    body["tier"] = "First".into();
    assert_eq!(
        api.put("/plans/stripe", &PAYMENTS, Some(&etag), &body)
            .await
            .status,
        200
    );

    body["tier"] = "Second".into();
    let stale = api.put("/plans/stripe", &PAYMENTS, Some(&etag), &body).await;
    assert_eq!(stale.status, 412, "{}", stale.text);
    assert_eq!(api.get("/plans/stripe", &READER).await.json()["tier"], "First");
    let missing = api.put("/plans/stripe", &PAYMENTS, None, &body).await;
    assert_eq!(missing.status, 428, "{}", missing.text);
}

#[tokio::test]
async fn another_team_is_refused_403() {
    let (api, _) = api();
    let etag = api.seed_plan("stripe", "payments").await;
    let body = plan_body("stripe", "payments");
    let r = api.put("/plans/stripe", &PLATFORM, Some(&etag), &body).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = api.delete("/plans/stripe", &PLATFORM, Some(&etag)).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = api
        .post("/plans", &PLATFORM, &plan_body("adyen", "payments"))
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(api.get("/plans/stripe", &READER).await.etag(), etag, "unchanged");
}

#[tokio::test]
async fn a_filtered_list_fills_its_page_and_says_when_more_follow() {
    let (api, _) = api();
    for (id, team) in [
        ("a1", "payments"),
        ("a2", "payments"),
        ("a3", "payments"),
        ("a4", "payments"),
        ("a5", "payments"),
        ("b1", "platform"),
        ("b2", "platform"),
    ] {
        api.seed_plan(id, team).await;
    }
    for id in ["a2", "a4"] {
        let r = api.delete(&format!("/plans/{id}"), &ADMIN, Some("\"1\"")).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }

    // The team's index reads a1..a5; the status filter drops a2 and a4, and
    // the page is still full.
    let first = api
        .get("/plans?owner_team=payments&status=active&limit=2", &READER)
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(ids(&first.json()), ["a1", "a3"]);
    let cursor = first.json()["next_cursor"].as_str().unwrap().to_owned();
    let next = api
        .get(
            &format!("/plans?owner_team=payments&status=active&limit=2&cursor={cursor}"),
            &READER,
        )
        .await;
    assert_eq!(ids(&next.json()), ["a5"]);
    assert!(next.json().get("next_cursor").is_none(), "{}", next.text);

    let retired = api.get("/plans?status=retired", &READER).await;
    assert_eq!(ids(&retired.json()), ["a2", "a4"]);
    let forged = api.get("/plans?cursor=!!", &READER).await;
    assert_eq!(forged.status, 400, "{}", forged.text);

    // A workload's plans, in its dependency order.
    let w = common::workload_body("checkout", "payments", &["a5", "b1", "a1"]);
    assert_eq!(api.post("/workloads", &ADMIN, &w).await.status, 201);
    let deps = api.get("/plans?workload=checkout&limit=2", &READER).await;
    assert_eq!(ids(&deps.json()), ["a5", "b1"], "{}", deps.text);
    assert!(deps.json()["next_cursor"].is_string());
}

#[tokio::test]
async fn readiness_counts_the_directory_and_the_window() {
    let (api, store) = api();
    api.seed_plan("stripe", "payments").await;
    api.seed_plan("datadog", "platform").await;
    api.seed_plan("old", "platform").await;
    api.delete("/plans/old", &ADMIN, Some("\"1\"")).await;
    for (name, deps) in [("checkout", &["stripe"][..]), ("legacy", &["old"][..])] {
        let mut w = common::workload_body(name, "payments", deps);
        w["criticality"] = "tier-1".into();
        let r = api.post("/workloads", &ADMIN, &w).await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let today = jiff::tz::Offset::UTC.to_datetime(now()).date();
    let sent = Activity {
        reminders_sent: 3,
        ..Activity::default()
    };
    store.record(today, &sent).await.unwrap();
    store.record("2026-09-01".parse().unwrap(), &sent).await.unwrap();

    let r = api.get("/readiness", &READER).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let f = r.json();
    assert_eq!(f["as_of"], "2026-11-21T08:00:00Z");
    assert_eq!(f["workloads"], 2);
    assert_eq!(
        f["workloads_without_active_plan"], 1,
        "legacy relies on a retired plan"
    );
    assert_eq!(f["tier1_workloads_without_24x7"], 1);
    assert_eq!(f["plans"], 2);
    assert_eq!(f["contacts"], 4);
    assert_eq!(f["window_days"], 30);
    assert_eq!(f["reminders_sent"], 3, "September is outside the window");
}

/// The contact's POST to their verification link: the confirmation.
async fn confirm(api: &Api, token: &str) -> common::Resp {
    api.call(
        "POST",
        &format!("/verify/{token}"),
        &common::Who::Nobody,
        &[],
        None,
    )
    .await
}

#[tokio::test]
async fn a_link_confirms_once_then_says_already_confirmed() {
    let (api, store) = api();
    api.seed_plan("stripe", "payments").await;
    let keys = KeySet::single(VerifyKey::new(b"in-memory-test-key-in-memory-test-key-01".to_vec()).unwrap());
    let mut state = api.state.clone();
    state.verify_key = KeySource::Keys(keys.clone());
    let api = Api::from_state(state);
    let plan = store.get_plan(&slug("stripe")).await.unwrap().unwrap();
    let token = issue(&keys, &LinkFor::of(&plan, &plan.spec.contacts[1]), now());

    let page = api.get(&format!("/verify/{token}"), &common::Who::Nobody).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(
        store.get_plan(&slug("stripe")).await.unwrap().unwrap(),
        plan,
        "GET changes nothing"
    );

    let confirmed = confirm(&api, &token).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    assert!(
        confirmed.text.contains("Thank you: confirmed"),
        "{}",
        confirmed.text
    );
    let after = store.get_plan(&slug("stripe")).await.unwrap().unwrap();
    let tam = &after.spec.contacts[1];
    assert_eq!(tam.verified_at, Some(now()));
    assert_eq!(tam.verified_by.as_ref().unwrap().as_str(), "payments@example.com");

    let again = confirm(&api, &token).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert!(again.text.contains("Already confirmed"), "{}", again.text);
    assert_eq!(
        store.get_plan(&slug("stripe")).await.unwrap().unwrap(),
        after,
        "nothing written"
    );
}

#[tokio::test]
async fn the_store_answers_conditional_writes_as_dynamodb_does() {
    let store = InMemoryStore::new();
    let v1 = new_plan("stripe", "payments");
    store.create_plan(&v1).await.unwrap();
    assert!(matches!(
        store.create_plan(&v1).await,
        Err(StoreError::AlreadyExists(id)) if id == "stripe"
    ));
    let by = actor("arn:aws:iam::111122223333:user/editor");
    let v2 = v1.reviewed(&by, now());
    store.put_plan_version(&v2, Change::Reviewed).await.unwrap();
    // A second writer of version 2, from the same version 1: a lost race.
    let late = v1.retired(&by, now());
    assert!(matches!(
        store.put_plan_version(&late, Change::Retired).await,
        Err(StoreError::Conflict { id, expected: 1 }) if id == "stripe"
    ));
    let gone = new_plan("nowhere", "payments").reviewed(&by, now());
    assert!(matches!(
        store.put_plan_version(&gone, Change::Reviewed).await,
        Err(StoreError::NotFound(id)) if id == "nowhere"
    ));
    assert_eq!(store.get_plan(&slug("stripe")).await.unwrap(), Some(v2));

    let page = store
        .list_plans_where(&PlanFilter::Workload(slug("none")), &PageRequest::first(10), None)
        .await;
    assert!(matches!(page, Err(StoreError::NotFound(_))));
    let many = store
        .get_plans(&[slug("nowhere"), slug("stripe"), slug("stripe")])
        .await
        .unwrap();
    assert_eq!(many.len(), 1, "missing left out, a repeated id once");
}
