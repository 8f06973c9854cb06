//! `If-Match` as HTTP says (SPEC §3 "Preconditions, as HTTP says"; RFC 9110
//! §13.1.1): a list of entity-tags compared strongly; a well-formed tag that
//! does not name the current version is 412, only a malformed header is 400,
//! and `*` is refused (428). Through the real handler against moto, for PUT
//! and DELETE of plans and workloads.

mod common;

use common::{ADMIN, Api, READER, workload_body};
use serde_json::{Value, json};
use support_plans_tests::plan_body;

/// One writable resource: where it lives and a body that replaces it.
struct Target {
    path: &'static str,
    body: Value,
}

/// The plan `stripe` and the workload `checkout`, both at version 1.
async fn targets(api: &Api) -> [Target; 2] {
    api.seed_plan("stripe", "payments").await;
    let w = api
        .post(
            "/workloads",
            &ADMIN,
            &workload_body("checkout", "payments", &["stripe"]),
        )
        .await;
    assert_eq!(w.status, 201, "{}", w.text);
    let mut plan = plan_body("stripe", "payments");
    plan["tier"] = json!("Basic");
    let mut workload = workload_body("checkout", "payments", &["stripe"]);
    workload["description"] = json!("Checkout, replaced");
    [
        Target {
            path: "/plans/stripe",
            body: plan,
        },
        Target {
            path: "/workloads/checkout",
            body: workload,
        },
    ]
}

async fn version(api: &Api, path: &str) -> String {
    api.get(path, &READER).await.etag()
}

#[tokio::test]
async fn a_list_naming_the_current_version_anywhere_succeeds() {
    let api = Api::new().await;
    for t in targets(&api).await {
        let r = api.put(t.path, &ADMIN, Some("\"stale\", \"1\""), &t.body).await;
        assert_eq!(r.status, 200, "PUT {} with a list: {}", t.path, r.text);
        assert_eq!(r.etag(), "\"2\"");
        // Spaces, tabs and empty list elements are allowed (RFC 9110 §5.6.1).
        let r = api.delete(t.path, &ADMIN, Some("\"7\" ,\t, \"2\"")).await;
        assert_eq!(r.status, 200, "DELETE {} with a list: {}", t.path, r.text);
        assert_eq!(r.json()["status"], "retired");
    }
}

#[tokio::test]
async fn a_well_formed_tag_that_is_not_the_version_is_412_and_writes_nothing() {
    let api = Api::new().await;
    for t in targets(&api).await {
        for tag in ["\"nope\"", "\"7\"", "\"01\"", "\"\"", "\"2\", \"3\""] {
            let put = api.put(t.path, &ADMIN, Some(tag), &t.body).await;
            assert_eq!(put.status, 412, "PUT {} If-Match: {tag}: {}", t.path, put.text);
            assert!(
                put.json()["detail"].as_str().unwrap().contains("version 1"),
                "{}",
                put.text
            );
            let del = api.delete(t.path, &ADMIN, Some(tag)).await;
            assert_eq!(del.status, 412, "DELETE {} If-Match: {tag}: {}", t.path, del.text);
        }
        assert_eq!(version(&api, t.path).await, "\"1\"", "nothing was written");
    }
}

/// A PUT and a DELETE of `t` with `If-Match: tag` both answer `status`; the
/// PUT's detail says why (names `why`).
async fn refused(api: &Api, t: &Target, tag: &str, status: u16, why: &str) {
    let put = api.put(t.path, &ADMIN, Some(tag), &t.body).await;
    assert_eq!(put.status, status, "PUT {} If-Match: {tag}: {}", t.path, put.text);
    assert!(
        put.json()["detail"].as_str().unwrap().contains(why),
        "the answer says why: {}",
        put.text
    );
    let del = api.delete(t.path, &ADMIN, Some(tag)).await;
    assert_eq!(
        del.status, status,
        "DELETE {} If-Match: {tag}: {}",
        t.path, del.text
    );
}

#[tokio::test]
async fn a_weak_tag_never_matches() {
    let api = Api::new().await;
    for t in targets(&api).await {
        refused(&api, &t, "W/\"1\"", 412, "weak").await;
        assert_eq!(version(&api, t.path).await, "\"1\"", "nothing was written");
        // A strong tag in the same list still names it.
        let ok = api.put(t.path, &ADMIN, Some("W/\"1\", \"1\""), &t.body).await;
        assert_eq!(ok.status, 200, "{}", ok.text);
    }
}

#[tokio::test]
async fn only_a_malformed_header_is_400_and_names_the_header() {
    let api = Api::new().await;
    for t in targets(&api).await {
        for raw in [
            "garbage-without-quotes",
            "1",
            "\"1",
            "\"1\" \"2\"",
            "\"1\";\"2\"",
            "w/\"1\"",
            "\"1\", *",
            "",
            " , ",
        ] {
            let put = api.put(t.path, &ADMIN, Some(raw), &t.body).await;
            assert_eq!(put.status, 400, "PUT {} If-Match: {raw:?}: {}", t.path, put.text);
            assert_eq!(put.fields(), vec!["If-Match"], "{raw:?}");
            let del = api.delete(t.path, &ADMIN, Some(raw)).await;
            assert_eq!(
                del.status, 400,
                "DELETE {} If-Match: {raw:?}: {}",
                t.path, del.text
            );
        }
        assert_eq!(version(&api, t.path).await, "\"1\"", "nothing was written");
    }
}

#[tokio::test]
async fn a_wildcard_is_refused_as_no_precondition() {
    let api = Api::new().await;
    for t in targets(&api).await {
        refused(&api, &t, "*", 428, "*").await;
        assert_eq!(api.put(t.path, &ADMIN, None, &t.body).await.status, 428);
        assert_eq!(api.delete(t.path, &ADMIN, None).await.status, 428);
        assert_eq!(version(&api, t.path).await, "\"1\"", "nothing was written");
    }
}

#[tokio::test]
async fn if_match_on_several_header_lines_is_one_list() {
    let api = Api::new().await;
    let [plan, _] = targets(&api).await;
    // API Gateway's payload 2.0 joins repeated headers with commas; the same
    // list arriving as one line must mean the same.
    let r = api
        .call(
            "PUT",
            plan.path,
            &ADMIN,
            &[("if-match", "\"0\",\"1\"")],
            Some(&plan.body.to_string()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}
