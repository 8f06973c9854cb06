//! The DynamoDB store against moto server, through the real SDK over HTTP.
//! Each test has its own table.

use std::collections::BTreeSet;

use jiff::Timestamp;
use support_plans_domain::model::{Change, PlanSpec, Status, VerifiedVia};
use support_plans_domain::ports::{
    PageRequest, PlanFilter, PlanStore, StoreError, WorkloadFilter, WorkloadStore, encode_cursor,
};
use support_plans_domain::types::Slug;
use support_plans_tests::{actor, fresh_store, new_plan, new_workload, plan_body};

fn slug(s: &str) -> Slug {
    Slug::parse(s).unwrap()
}

#[tokio::test]
async fn create_then_get_returns_the_same_plan() {
    let store = fresh_store().await;
    let plan = new_plan("acme-cloud", "platform");
    store.create_plan(&plan).await.unwrap();
    let got = store
        .get_plan(&slug("acme-cloud"))
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(got, plan);
    assert_eq!(got.meta.version, 1);
    assert!(store.get_plan(&slug("no-such-plan")).await.unwrap().is_none());
}

#[tokio::test]
async fn creating_an_existing_id_is_refused_and_keeps_the_first() {
    let store = fresh_store().await;
    let first = new_plan("acme-cloud", "platform");
    store.create_plan(&first).await.unwrap();
    let second = new_plan("acme-cloud", "payments");
    let err = store.create_plan(&second).await.unwrap_err();
    assert!(
        matches!(err, StoreError::AlreadyExists(ref id) if id == "acme-cloud"),
        "{err:?}"
    );
    let got = store.get_plan(&slug("acme-cloud")).await.unwrap().unwrap();
    assert_eq!(got.spec.owner.team.as_str(), "platform");
}

#[tokio::test]
async fn replace_is_conditional_on_the_version_read() {
    let store = fresh_store().await;
    let v1 = new_plan("acme-cloud", "platform");
    store.create_plan(&v1).await.unwrap();

    let mut spec = v1.spec.clone();
    spec.tier = "Premier 24x7".into();
    let v2 = v1.replaced(spec, &actor("alice"), Timestamp::now()).unwrap();
    store.put_plan_version(&v2, Change::Replaced).await.unwrap();

    // A second writer that also read v1 must not overwrite v2.
    let mut stale_spec = v1.spec.clone();
    stale_spec.tier = "Basic".into();
    let stale = v1.replaced(stale_spec, &actor("bob"), Timestamp::now()).unwrap();
    let err = store
        .put_plan_version(&stale, Change::Replaced)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { expected: 1, .. }), "{err:?}");

    let got = store.get_plan(&slug("acme-cloud")).await.unwrap().unwrap();
    assert_eq!(got.spec.tier, "Premier 24x7");
    assert_eq!(got.meta.version, 2);
    assert_eq!(got.meta.updated_by.as_str(), "alice");
    assert_eq!(got.meta.created_at, v1.meta.created_at);
}

#[tokio::test]
async fn replacing_a_plan_that_does_not_exist_is_not_found() {
    let store = fresh_store().await;
    let ghost = new_plan("ghost", "platform");
    let next = ghost.retired(&actor("alice"), Timestamp::now());
    let err = store.put_plan_version(&next, Change::Retired).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    assert!(store.get_plan(&slug("ghost")).await.unwrap().is_none());
}

#[tokio::test]
async fn a_replace_without_server_owned_fields_keeps_attestations() {
    let store = fresh_store().await;
    let v1 = new_plan("acme-cloud", "platform");
    store.create_plan(&v1).await.unwrap();
    let v2 = v1
        .contact_verified(
            "tam",
            &actor("carol"),
            VerifiedVia::Api,
            Some("called, still TAM".into()),
            Timestamp::now(),
        )
        .unwrap();
    store
        .put_plan_version(&v2, Change::ContactVerified { contact: slug("tam") })
        .await
        .unwrap();
    let v3 = v2.reviewed(&actor("carol"), Timestamp::now());
    store.put_plan_version(&v3, Change::Reviewed).await.unwrap();

    // The plan as kept in a repository: no attestation, no review, one new contact.
    let mut body = plan_body("acme-cloud", "platform");
    body["contacts"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"id": "am", "name": "Sam Lee", "role": "vendor-account-manager", "email": "sam@example.net"}));
    let spec = PlanSpec::parse(&body).unwrap();
    let current = store.get_plan(&slug("acme-cloud")).await.unwrap().unwrap();
    let v4 = current
        .replaced(spec, &actor("ci-pipeline"), Timestamp::now())
        .unwrap();
    store.put_plan_version(&v4, Change::Replaced).await.unwrap();

    let got = store.get_plan(&slug("acme-cloud")).await.unwrap().unwrap();
    let tam = got.spec.contacts.iter().find(|c| c.id.as_str() == "tam").unwrap();
    assert_eq!(tam.verified_by.as_ref().map(|a| a.as_str()), Some("carol"));
    assert_eq!(tam.verified_via, Some(VerifiedVia::Api));
    assert_eq!(tam.verified_note.as_deref(), Some("called, still TAM"));
    assert_eq!(tam.verified_at, v2.spec.contacts[1].verified_at);
    let am = got.spec.contacts.iter().find(|c| c.id.as_str() == "am").unwrap();
    assert!(am.verified_at.is_none());
    assert_eq!(got.reviewed_at, v3.reviewed_at);
    assert_eq!(got.meta.version, 4);

    // Every attestation is kept in the history.
    let history = store
        .plan_history(&slug("acme-cloud"), &PageRequest::first(100))
        .await
        .unwrap();
    let verified = history.items.iter().find(|r| r.version == 2).unwrap();
    assert_eq!(verified.change, Change::ContactVerified { contact: slug("tam") });
    assert_eq!(verified.by.as_str(), "carol");
    assert!(verified.record.spec.contacts[1].verified_at.is_some());
}

#[tokio::test]
async fn retire_keeps_the_plan_and_its_history() {
    let store = fresh_store().await;
    let v1 = new_plan("acme-cloud", "platform");
    store.create_plan(&v1).await.unwrap();
    let v2 = v1.retired(&actor("alice"), Timestamp::now());
    store.put_plan_version(&v2, Change::Retired).await.unwrap();

    let got = store.get_plan(&slug("acme-cloud")).await.unwrap().unwrap();
    assert_eq!(got.spec.status, Status::Retired);
    let active = store
        .list_plans(&PlanFilter::Status(Status::Active), &PageRequest::first(100))
        .await
        .unwrap();
    assert!(active.items.is_empty());
    let retired = store
        .list_plans(&PlanFilter::Status(Status::Retired), &PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(retired.items.len(), 1);

    let history = store
        .plan_history(&slug("acme-cloud"), &PageRequest::first(100))
        .await
        .unwrap();
    let changes: Vec<(u64, Change)> = history
        .items
        .iter()
        .map(|r| (r.version, r.change.clone()))
        .collect();
    assert_eq!(changes, vec![(2, Change::Retired), (1, Change::Created)]);
    assert_eq!(history.items[1].record, v1);
}

#[tokio::test]
async fn history_is_newest_first_with_who_and_when_and_pages() {
    let store = fresh_store().await;
    let mut current = new_plan("acme-cloud", "platform");
    store.create_plan(&current).await.unwrap();
    for i in 0..6 {
        let mut spec = current.spec.clone();
        spec.tier = format!("Tier {i}");
        let next = current
            .replaced(spec, &actor(&format!("editor-{i}")), Timestamp::now())
            .unwrap();
        store.put_plan_version(&next, Change::Replaced).await.unwrap();
        current = next;
    }
    let mut versions = Vec::new();
    let mut page = PageRequest::first(3);
    loop {
        let got = store.plan_history(&slug("acme-cloud"), &page).await.unwrap();
        assert!(got.items.len() <= 3);
        for r in &got.items {
            versions.push(r.version);
            assert_eq!(r.record.meta.version, r.version);
            assert_eq!(r.by, r.record.meta.updated_by);
            assert_eq!(r.at, r.record.meta.updated_at);
        }
        match got.next_cursor {
            Some(c) => page = PageRequest::parse(Some(3), Some(&c)).unwrap(),
            None => break,
        }
    }
    assert_eq!(versions, vec![7, 6, 5, 4, 3, 2, 1]);
}

#[tokio::test]
async fn listing_250_plans_pages_through_every_one_once() {
    let store = fresh_store().await;
    let teams = ["platform", "payments", "data"];
    for i in 0..250 {
        let plan = new_plan(&format!("plan-{i:03}"), teams[i % 3]);
        store.create_plan(&plan).await.unwrap();
    }

    let mut seen = Vec::new();
    let mut pages = 0;
    let mut page = PageRequest::first(100);
    loop {
        let got = store.list_plans(&PlanFilter::All, &page).await.unwrap();
        pages += 1;
        assert!(got.items.len() <= 100);
        seen.extend(got.items.iter().map(|p| p.id().to_string()));
        match got.next_cursor {
            Some(c) => page = PageRequest::parse(Some(100), Some(&c)).unwrap(),
            None => break,
        }
    }
    assert_eq!(pages, 3, "250 plans in pages of 100");
    assert_eq!(seen.len(), 250, "no plan twice");
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 250);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "listed in id order");

    // By owner team, in small pages.
    let mut payments = 0;
    let mut page = PageRequest::first(7);
    loop {
        let got = store
            .list_plans(&PlanFilter::OwnerTeam(slug("payments")), &page)
            .await
            .unwrap();
        assert!(got.items.iter().all(|p| p.spec.owner.team.as_str() == "payments"));
        payments += got.items.len();
        match got.next_cursor {
            Some(c) => page = PageRequest::parse(Some(7), Some(&c)).unwrap(),
            None => break,
        }
    }
    assert_eq!(payments, 83, "plans 1, 4, 7, … 247 belong to payments");
}

#[tokio::test]
async fn plans_by_workload_follow_its_dependency_order() {
    let store = fresh_store().await;
    for id in ["aws-business", "stripe", "datadog", "unrelated"] {
        store.create_plan(&new_plan(id, "platform")).await.unwrap();
    }
    let w = new_workload("payments", "payments", &["stripe", "aws-business", "datadog"]);
    store.create_workload(&w).await.unwrap();

    let first = store
        .list_plans(&PlanFilter::Workload(slug("payments")), &PageRequest::first(2))
        .await
        .unwrap();
    let ids: Vec<&str> = first.items.iter().map(|p| p.id().as_str()).collect();
    assert_eq!(ids, vec!["stripe", "aws-business"]);
    let cursor = first.next_cursor.expect("a second page");
    let second = store
        .list_plans(
            &PlanFilter::Workload(slug("payments")),
            &PageRequest::parse(Some(2), Some(&cursor)).unwrap(),
        )
        .await
        .unwrap();
    let ids: Vec<&str> = second.items.iter().map(|p| p.id().as_str()).collect();
    assert_eq!(ids, vec!["datadog"]);
    assert!(second.next_cursor.is_none());

    let err = store
        .list_plans(&PlanFilter::Workload(slug("nobody")), &PageRequest::first(10))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    let foreign = PageRequest::parse(Some(2), Some(&encode_cursor("unrelated"))).unwrap();
    let err = store
        .list_plans(&PlanFilter::Workload(slug("payments")), &foreign)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidPage(_)), "{err:?}");
}

#[tokio::test]
async fn twenty_concurrent_replaces_of_one_version_one_wins() {
    let store = fresh_store().await;
    let v1 = new_plan("acme-cloud", "platform");
    store.create_plan(&v1).await.unwrap();

    let writers = (0..20).map(|i| {
        let store = store.clone();
        let mut spec = v1.spec.clone();
        spec.tier = format!("written by {i}");
        let next = v1
            .replaced(spec, &actor(&format!("writer-{i}")), Timestamp::now())
            .unwrap();
        tokio::spawn(async move {
            let result = store.put_plan_version(&next, Change::Replaced).await;
            (next, result)
        })
    });
    let mut winners = Vec::new();
    let mut conflicts = 0;
    for handle in writers.collect::<Vec<_>>() {
        let (next, result) = handle.await.unwrap();
        match result {
            Ok(()) => winners.push(next),
            Err(StoreError::Conflict { expected: 1, .. }) => conflicts += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one writer succeeds");
    assert_eq!(conflicts, 19, "every other writer gets a conflict");

    let winner = &winners[0];
    let current = store.get_plan(&slug("acme-cloud")).await.unwrap().unwrap();
    assert_eq!(&current, winner);
    let history = store
        .plan_history(&slug("acme-cloud"), &PageRequest::first(100))
        .await
        .unwrap();
    let records: Vec<_> = history.items.iter().map(|r| &r.record).collect();
    assert_eq!(
        records,
        vec![winner, &v1],
        "history holds exactly the winner after the original"
    );
}

#[tokio::test]
async fn a_forged_cursor_is_refused() {
    let err = PageRequest::parse(Some(10), Some("eyJwayI6IlBMQU4jeCJ9")).unwrap_err();
    assert!(matches!(err, StoreError::InvalidPage(_)));
    let store = fresh_store().await;
    let not_a_version = PageRequest::parse(Some(10), Some(&encode_cursor("acme-cloud"))).unwrap();
    let err = store
        .plan_history(&slug("acme-cloud"), &not_a_version)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidPage(_)), "{err:?}");
}

#[tokio::test]
async fn get_plans_returns_the_ones_that_exist_in_the_order_asked() {
    let store = fresh_store().await;
    for id in ["b-plan", "a-plan", "c-plan"] {
        store.create_plan(&new_plan(id, "platform")).await.unwrap();
    }
    let got = store
        .get_plans(&[slug("c-plan"), slug("missing"), slug("a-plan"), slug("c-plan")])
        .await
        .unwrap();
    let ids: Vec<&str> = got.iter().map(|p| p.id().as_str()).collect();
    assert_eq!(ids, vec!["c-plan", "a-plan"]);
}

#[tokio::test]
async fn workloads_create_replace_retire_list_and_history() {
    let store = fresh_store().await;
    let w1 = new_workload("payments", "payments", &[]);
    store.create_workload(&w1).await.unwrap();
    store
        .create_workload(&new_workload("analytics", "data", &[]))
        .await
        .unwrap();
    let err = store
        .create_workload(&new_workload("payments", "data", &[]))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists(_)));

    let mut spec = w1.spec.clone();
    spec.description = "Card payments".into();
    let w2 = w1.replaced(spec, &actor("alice"), Timestamp::now()).unwrap();
    store.put_workload_version(&w2, Change::Replaced).await.unwrap();
    let err = store
        .put_workload_version(&w2, Change::Replaced)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { expected: 1, .. }), "{err:?}");
    let w3 = w2.retired(&actor("alice"), Timestamp::now());
    store.put_workload_version(&w3, Change::Retired).await.unwrap();

    assert_eq!(store.get_workload(&slug("payments")).await.unwrap().unwrap(), w3);
    let all = store
        .list_workloads(&WorkloadFilter::All, &PageRequest::first(10))
        .await
        .unwrap();
    let names: Vec<&str> = all.items.iter().map(|w| w.name().as_str()).collect();
    assert_eq!(names, vec!["analytics", "payments"]);
    let active = store
        .list_workloads(&WorkloadFilter::Status(Status::Active), &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(active.items.len(), 1);
    let data = store
        .list_workloads(&WorkloadFilter::OwnerTeam(slug("data")), &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(data.items[0].name().as_str(), "analytics");

    let history = store
        .workload_history(&slug("payments"), &PageRequest::first(10))
        .await
        .unwrap();
    let versions: Vec<u64> = history.items.iter().map(|r| r.version).collect();
    assert_eq!(versions, vec![3, 2, 1]);
}

#[tokio::test]
async fn the_freshness_job_reads_every_active_plan_in_pages() {
    let store = fresh_store().await;
    for i in 0..30 {
        store
            .create_plan(&new_plan(&format!("plan-{i:02}"), "platform"))
            .await
            .unwrap();
    }
    let retired = new_plan("old-vendor", "platform");
    store.create_plan(&retired).await.unwrap();
    store
        .put_plan_version(&retired.retired(&actor("a"), Timestamp::now()), Change::Retired)
        .await
        .unwrap();
    let (plans, reads) = store.all_plans(Status::Active).await.unwrap();
    assert_eq!(plans.len(), 30);
    assert!(plans.iter().all(|p| p.is_active()));
    assert!(reads >= 1);
}

#[tokio::test]
async fn the_samples_load_into_a_table_as_make_local_seed_does() {
    let store = fresh_store().await;
    let samples = local_stack::seed::load(&local_stack::seed::samples_dir(), Timestamp::now()).unwrap();
    for p in &samples.plans {
        store.create_plan(p).await.unwrap();
    }
    for w in &samples.workloads {
        store.create_workload(w).await.unwrap();
    }
    let plans = store
        .list_plans(&PlanFilter::All, &PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(plans.items.len(), samples.plans.len());
    let payments = store
        .get_workload(&slug("payments"))
        .await
        .unwrap()
        .expect("the payments sample");
    let deps = store
        .list_plans(&PlanFilter::Workload(slug("payments")), &PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(
        deps.items.len(),
        payments.spec.dependencies.len(),
        "every dependency of payments is a sample plan"
    );
}

/// 30 plans `p-00`…`p-29`; the filter keeps every 5th (`p-04`, … `p-29`).
async fn thirty_plans_every_fifth_kept() -> support_plans_aws::DynamoStore {
    let store = fresh_store().await;
    for i in 0..30 {
        store
            .create_plan(&new_plan(&format!("p-{i:02}"), "platform"))
            .await
            .unwrap();
    }
    store
}

fn every_fifth(p: &support_plans_domain::model::SupportPlan) -> bool {
    p.id().as_str()[2..].parse::<u32>().unwrap() % 5 == 4
}

/// Every page of a filtered list: (ids, has a cursor).
async fn filtered_pages(
    store: &support_plans_aws::DynamoStore,
    filter: &PlanFilter,
    limit: u32,
) -> Vec<(Vec<String>, bool)> {
    let mut out = Vec::new();
    let mut page = PageRequest::parse(Some(limit), None).unwrap();
    for _ in 0..50 {
        let got = store
            .list_plans_where(filter, &page, Some(&every_fifth))
            .await
            .unwrap();
        let ids = got.items.iter().map(|p| p.id().to_string()).collect();
        out.push((ids, got.next_cursor.is_some()));
        match got.next_cursor {
            Some(c) => page = PageRequest::parse(Some(limit), Some(&c)).unwrap(),
            None => return out,
        }
    }
    panic!("still a cursor after 50 pages: {out:?}");
}

fn owned(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn a_filtered_list_reads_on_until_its_page_is_full() {
    let store = thirty_plans_every_fifth_kept().await;
    assert_eq!(
        filtered_pages(&store, &PlanFilter::All, 5).await,
        vec![
            (owned(&["p-04", "p-09", "p-14", "p-19", "p-24"]), true),
            (owned(&["p-29"]), false),
        ]
    );
    // The data ends exactly at the limit: no cursor on the last page.
    assert_eq!(
        filtered_pages(&store, &PlanFilter::All, 3).await,
        vec![
            (owned(&["p-04", "p-09", "p-14"]), true),
            (owned(&["p-19", "p-24", "p-29"]), false),
        ]
    );
    assert_eq!(
        filtered_pages(&store, &PlanFilter::Status(Status::Active), 6).await,
        vec![(owned(&["p-04", "p-09", "p-14", "p-19", "p-24", "p-29"]), false)]
    );
    // Nothing kept at all: one empty page, no cursor.
    let none = store
        .list_plans_where(&PlanFilter::All, &PageRequest::first(5), Some(&|_| false))
        .await
        .unwrap();
    assert!(none.items.is_empty() && none.next_cursor.is_none(), "{none:?}");
}

#[tokio::test]
async fn a_filtered_list_stops_at_its_read_budget_with_a_cursor() {
    use support_plans_aws::store::ReadBudget;
    let store = thirty_plans_every_fifth_kept()
        .await
        .with_read_budget(ReadBudget {
            reads: 2,
            items_per_read: 5,
        });
    let pages = filtered_pages(&store, &PlanFilter::All, 5).await;
    // Each request examines at most 2 × 5 plans: two kept, and a cursor
    // because more may follow.
    assert_eq!(pages[0], (owned(&["p-04", "p-09"]), true), "{pages:?}");
    assert_eq!(pages[1], (owned(&["p-14", "p-19"]), true), "{pages:?}");
    let all: Vec<String> = pages.iter().flat_map(|(ids, _)| ids.clone()).collect();
    assert_eq!(
        all,
        owned(&["p-04", "p-09", "p-14", "p-19", "p-24", "p-29"]),
        "following the cursors gets every kept plan once"
    );
    assert!(!pages.last().unwrap().1, "no cursor on the last page");

    // A workload's plans read in the same budget.
    let deps: Vec<String> = (0..30).map(|i| format!("p-{i:02}")).collect();
    let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
    store
        .create_workload(&new_workload("shop", "platform", &deps))
        .await
        .unwrap();
    let pages = filtered_pages(&store, &PlanFilter::Workload(slug("shop")), 5).await;
    assert_eq!(pages[0], (owned(&["p-04", "p-09"]), true), "{pages:?}");
    let all: Vec<String> = pages.iter().flat_map(|(ids, _)| ids.clone()).collect();
    assert_eq!(all, owned(&["p-04", "p-09", "p-14", "p-19", "p-24", "p-29"]));
    assert!(!pages.last().unwrap().1, "no cursor on the last page");
}
