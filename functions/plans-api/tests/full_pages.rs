//! Filtered lists are full pages (SPEC §3): a filter the index cannot answer
//! alone (`stale=true`, combined filters) reads on until it has `limit`
//! items or the data ends, and a page carries a cursor only when more may
//! follow. Through the real handler against moto.

mod common;

use common::{ADMIN, Api, READER, workload_body};

/// The ids of one page and whether it carries a cursor.
#[derive(Debug, PartialEq)]
struct Page {
    ids: Vec<String>,
    cursor: bool,
}

/// Every page of `query`, following cursors (at most 20 pages).
async fn pages(api: &Api, path: &str, query: &str) -> Vec<Page> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let url = match &cursor {
            None => format!("{path}?{query}"),
            Some(c) => format!("{path}?{query}&cursor={c}"),
        };
        let r = api.get(&url, &READER).await;
        assert_eq!(r.status, 200, "{url}: {}", r.text);
        let body = r.json();
        let key = if path == "/plans" { "id" } else { "name" };
        let ids = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p[key].as_str().unwrap().to_owned())
            .collect();
        cursor = body["next_cursor"].as_str().map(str::to_owned);
        out.push(Page {
            ids,
            cursor: cursor.is_some(),
        });
        if cursor.is_none() {
            return out;
        }
    }
    panic!("{path}?{query}: still a cursor after 20 pages: {out:?}");
}

fn page(ids: &[&str], cursor: bool) -> Page {
    Page {
        ids: ids.iter().map(|s| (*s).to_owned()).collect(),
        cursor,
    }
}

/// 30 plans `p-00`…`p-29`, even ones owned by payments and odd ones by
/// platform. Every 5th (`p-04`, `p-09`, … `p-29`) is stale: its contacts
/// were never verified; the others had both contacts verified just now.
/// Retired: `p-00`, `p-09`, `p-10`, `p-20`.
async fn thirty_plans() -> Api {
    let api = Api::new().await;
    for i in 0..30 {
        let id = format!("p-{i:02}");
        let team = if i % 2 == 0 { "payments" } else { "platform" };
        api.seed_plan(&id, team).await;
        if i % 5 != 4 {
            for contact in ["support", "tam"] {
                let r = api
                    .call(
                        "POST",
                        &format!("/plans/{id}/contacts/{contact}/verify"),
                        &ADMIN,
                        &[],
                        None,
                    )
                    .await;
                assert_eq!(r.status, 200, "{}", r.text);
            }
        }
    }
    for id in ["p-00", "p-09", "p-10", "p-20"] {
        let etag = api.get(&format!("/plans/{id}"), &READER).await.etag();
        let r = api.delete(&format!("/plans/{id}"), &ADMIN, Some(&etag)).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    api
}

#[tokio::test]
async fn stale_and_combined_plan_filters_fill_their_pages() {
    let api = thirty_plans().await;

    assert_eq!(
        pages(&api, "/plans", "stale=true&limit=5").await,
        vec![
            page(&["p-04", "p-09", "p-14", "p-19", "p-24"], true),
            page(&["p-29"], false),
        ],
        "stale=true: full pages, every stale plan once, no cursor on the last"
    );
    assert_eq!(
        pages(&api, "/plans", "stale=true&limit=3").await,
        vec![
            page(&["p-04", "p-09", "p-14"], true),
            page(&["p-19", "p-24", "p-29"], false),
        ],
        "the data ends exactly at the limit: no cursor"
    );
    assert_eq!(
        pages(&api, "/plans", "stale=true&limit=6").await,
        vec![page(&["p-04", "p-09", "p-14", "p-19", "p-24", "p-29"], false)],
    );
    assert_eq!(
        pages(&api, "/plans", "stale=true&status=active&limit=5").await,
        vec![page(&["p-04", "p-14", "p-19", "p-24", "p-29"], false)],
        "status and stale together"
    );
    assert_eq!(
        pages(&api, "/plans", "owner_team=payments&status=retired&limit=2").await,
        vec![page(&["p-00", "p-10"], true), page(&["p-20"], false)],
        "owner_team and status together"
    );
    assert_eq!(
        pages(&api, "/plans", "owner_team=platform&stale=true&limit=2").await,
        vec![page(&["p-09", "p-19"], true), page(&["p-29"], false)],
    );
    // Filters the index answers alone keep their pages as they were.
    assert_eq!(
        pages(&api, "/plans", "status=retired&limit=4").await,
        vec![page(&["p-00", "p-09", "p-10", "p-20"], false)],
    );
}

#[tokio::test]
async fn a_workloads_plans_filtered_by_team_fill_their_pages() {
    let api = thirty_plans().await;
    let deps: Vec<String> = (1..=12).map(|i| format!("p-{i:02}")).collect();
    let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
    let r = api
        .post("/workloads", &ADMIN, &workload_body("shop", "payments", &deps))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        pages(&api, "/plans", "workload=shop&owner_team=payments&limit=3").await,
        vec![
            page(&["p-02", "p-04", "p-06"], true),
            page(&["p-08", "p-10", "p-12"], false),
        ],
        "in the workload's dependency order, full pages, no cursor at the exact end"
    );
    assert_eq!(
        pages(&api, "/plans", "workload=shop&stale=true&limit=5").await,
        vec![page(&["p-04", "p-09"], false)],
    );
}

#[tokio::test]
async fn workloads_by_team_and_status_fill_their_pages() {
    let api = Api::new().await;
    api.seed_plan("stripe", "payments").await;
    for i in 0..6 {
        let name = format!("w-{i}");
        let r = api
            .post(
                "/workloads",
                &ADMIN,
                &workload_body(&name, "payments", &["stripe"]),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let other = api
        .post(
            "/workloads",
            &ADMIN,
            &workload_body("x-0", "platform", &["stripe"]),
        )
        .await;
    assert_eq!(other.status, 201, "{}", other.text);
    for name in ["w-0", "w-3", "x-0"] {
        let r = api
            .delete(&format!("/workloads/{name}"), &ADMIN, Some("\"1\""))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    assert_eq!(
        pages(&api, "/workloads", "owner_team=payments&status=retired&limit=1").await,
        vec![page(&["w-0"], true), page(&["w-3"], false)],
    );
    assert_eq!(
        pages(&api, "/workloads", "owner_team=payments&status=active&limit=4").await,
        vec![page(&["w-1", "w-2", "w-4", "w-5"], false)],
    );
}
