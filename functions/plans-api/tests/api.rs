//! Every route through the real handler against moto: success and each error
//! a caller can meet (400, 401, 403, 404, 409, 412, 413, 428).

mod common;

use common::{ADMIN, ADMIN_ROLE, Api, PAYMENTS, PLATFORM, READER, Who, workload_body};
use serde_json::{Value, json};
use support_plans_tests::plan_body;

#[tokio::test]
async fn a_plan_is_created_read_replaced_retired_and_its_history_kept() {
    let api = Api::new().await;
    let created = api
        .post("/plans", &PAYMENTS, &plan_body("stripe", "payments"))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.header("location"), Some("/plans/stripe"));
    assert_eq!(created.etag(), "\"1\"");
    assert_eq!(created.json()["updated_by"], "dana@example.com");

    let got = api.get("/plans/stripe", &READER).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.etag(), "\"1\"");
    let plan = got.json();
    assert_eq!(plan["vendor"], "Example Vendor");
    assert_eq!(plan["freshness"]["contacts"][0]["contact"], "support");
    assert_eq!(
        plan["freshness"]["contacts"][0]["state"], "overdue",
        "never verified is overdue"
    );

    let mut body = plan_body("stripe", "payments");
    body["tier"] = json!("Premium support");
    let replaced = api.put("/plans/stripe", &PAYMENTS, Some("\"1\""), &body).await;
    assert_eq!(replaced.status, 200, "{}", replaced.text);
    assert_eq!(replaced.etag(), "\"2\"");
    assert_eq!(replaced.json()["tier"], "Premium support");

    let retired = api.delete("/plans/stripe", &PAYMENTS, Some("\"2\"")).await;
    assert_eq!(retired.status, 200, "{}", retired.text);
    assert_eq!(retired.json()["status"], "retired");
    assert_eq!(
        api.get("/plans/stripe", &READER).await.json()["status"],
        "retired",
        "retire keeps the plan"
    );

    let history = api.get("/plans/stripe/history", &READER).await;
    assert_eq!(history.status, 200);
    let items = history.json()["items"].as_array().unwrap().clone();
    let summary: Vec<(u64, &str, &str)> = items
        .iter()
        .map(|r| {
            (
                r["version"].as_u64().unwrap(),
                r["change"]["kind"].as_str().unwrap(),
                r["by"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (3, "retired", "dana@example.com"),
            (2, "replaced", "dana@example.com"),
            (1, "created", "dana@example.com")
        ]
    );
    assert_eq!(
        items[2]["record"]["tier"], "Enterprise",
        "the first version as it was"
    );
}

#[tokio::test]
async fn lists_filter_and_page_with_a_cursor() {
    let api = Api::new().await;
    for i in 0..5 {
        api.seed_plan(&format!("pay-{i}"), "payments").await;
    }
    api.seed_plan("infra-1", "platform").await;

    let first = api.get("/plans?owner_team=payments&limit=2", &READER).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let ids = |r: &common::Resp| -> Vec<String> {
        r.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&first), vec!["pay-0", "pay-1"]);
    let cursor = first.json()["next_cursor"].as_str().unwrap().to_owned();
    let mut seen = ids(&first);
    let mut next = Some(cursor);
    while let Some(c) = next {
        let page = api
            .get(&format!("/plans?owner_team=payments&limit=2&cursor={c}"), &READER)
            .await;
        assert_eq!(page.status, 200, "{}", page.text);
        seen.extend(ids(&page));
        next = page.json()["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, vec!["pay-0", "pay-1", "pay-2", "pay-3", "pay-4"]);

    assert_eq!(ids(&api.get("/plans", &READER).await).len(), 6);
    assert_eq!(ids(&api.get("/plans?status=retired", &READER).await).len(), 0);
    // Every sample plan is stale (its contacts were never verified).
    assert_eq!(ids(&api.get("/plans?stale=true", &READER).await).len(), 6);

    api.post(
        "/workloads",
        &PAYMENTS,
        &workload_body("payments", "payments", &["pay-3", "infra-1"]),
    )
    .await;
    assert_eq!(
        ids(&api.get("/plans?workload=payments", &READER).await),
        vec!["pay-3", "infra-1"]
    );

    let bad = api.get("/plans?limit=500&colour=red", &READER).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.fields(), vec!["colour"]);
    assert_eq!(api.get("/plans?limit=500", &READER).await.fields(), vec!["limit"]);
    assert_eq!(
        api.get("/plans?cursor=not-ours!", &READER).await.fields(),
        vec!["cursor"]
    );
    assert_eq!(
        api.get("/plans?status=gone", &READER).await.fields(),
        vec!["status"]
    );
    assert_eq!(api.get("/plans?workload=nobody", &READER).await.status, 404);
}

#[tokio::test]
async fn invalid_bodies_get_400_with_every_field_path_and_write_nothing() {
    let api = Api::new().await;
    let mut body = plan_body("stripe", "payments");
    body["contacts"][1] = json!({"id": "tam", "name": "Dana", "role": "vendor-tam"});
    body["severities"][1]["impacts"] = json!([1]);
    body["colour"] = json!("blue");
    let r = api.post("/plans", &ADMIN, &body).await;
    assert_eq!(r.status, 400);
    let mut fields = r.fields();
    fields.sort();
    assert_eq!(
        fields,
        vec!["colour", "contacts[1].email", "severities[1].impacts"]
    );
    let problem = r.json();
    assert_eq!(problem["status"], 400);
    assert_eq!(problem["title"], "Bad Request");
    assert!(
        problem["type"]
            .as_str()
            .unwrap()
            .starts_with("urn:support-plans:problem:")
    );

    let malformed = api.call("POST", "/plans", &ADMIN, &[], Some("{\"id\": ")).await;
    assert_eq!(malformed.status, 400);
    assert!(
        malformed.json()["detail"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );
    let empty = api.call("POST", "/plans", &ADMIN, &[], Some("")).await;
    assert_eq!(empty.status, 400);
    let xml = api
        .call(
            "POST",
            "/plans",
            &ADMIN,
            &[("content-type", "application/xml")],
            Some("<plan/>"),
        )
        .await;
    assert_eq!(xml.status, 415);

    assert_eq!(
        api.get("/plans/stripe", &READER).await.status,
        404,
        "nothing was written"
    );
}

#[tokio::test]
async fn identity_and_authorization() {
    let api = Api::new().await;
    let body = plan_body("stripe", "payments");
    assert_eq!(api.post("/plans", &Who::Nobody, &body).await.status, 401);
    assert_eq!(api.get("/plans", &Who::Nobody).await.status, 401);
    assert_eq!(api.get("/plans/stripe", &Who::Nobody).await.status, 401);

    // A member of another team may not create a plan for payments.
    let denied = api.post("/plans", &PLATFORM, &body).await;
    assert_eq!(denied.status, 403, "{}", denied.text);
    assert_eq!(denied.header("content-type"), Some("application/problem+json"));
    // An IAM principal that is not an admin may read but not write.
    assert_eq!(api.post("/plans", &READER, &body).await.status, 403);
    assert_eq!(api.get("/plans", &READER).await.status, 200);
    // An admin role (ADMIN_PRINCIPALS pattern) may.
    let admin_role = Who::Iam("arn:aws:iam::111122223333:role/SupportPlansAdmin");
    let _ = ADMIN_ROLE;
    assert_eq!(api.post("/plans", &admin_role, &body).await.status, 201);

    // Owner-team members write their own plans; others may not.
    let etag = api.get("/plans/stripe", &READER).await.etag();
    assert_eq!(
        api.put("/plans/stripe", &PLATFORM, Some(&etag), &body)
            .await
            .status,
        403
    );
    assert_eq!(
        api.delete("/plans/stripe", &PLATFORM, Some(&etag)).await.status,
        403
    );
    assert_eq!(
        api.post("/plans/stripe/review", &PLATFORM, &json!({}))
            .await
            .status,
        403
    );
    assert_eq!(
        api.put("/plans/stripe", &PAYMENTS, Some(&etag), &body)
            .await
            .status,
        200
    );
    // Handing a plan to another team needs both teams (or an admin).
    let mut handover = body.clone();
    handover["owner"]["team"] = json!("platform");
    let etag = api.get("/plans/stripe", &READER).await.etag();
    assert_eq!(
        api.put("/plans/stripe", &PAYMENTS, Some(&etag), &handover)
            .await
            .status,
        403
    );
    assert_eq!(
        api.put("/plans/stripe", &ADMIN, Some(&etag), &handover)
            .await
            .status,
        200
    );
    assert_eq!(
        api.get("/plans/stripe", &READER).await.json()["owner"]["team"],
        "platform"
    );
}

#[tokio::test]
async fn not_found_conflict_and_preconditions() {
    let api = Api::new().await;
    assert_eq!(api.get("/plans/nothing-here", &READER).await.status, 404);
    assert_eq!(api.get("/plans/Not%20A%20Slug", &READER).await.status, 400);
    assert_eq!(api.get("/plans/nothing-here/history", &READER).await.status, 404);
    assert_eq!(
        api.put(
            "/plans/nothing-here",
            &ADMIN,
            Some("\"1\""),
            &plan_body("nothing-here", "payments")
        )
        .await
        .status,
        404
    );
    assert_eq!(
        api.delete("/plans/nothing-here", &ADMIN, Some("\"1\""))
            .await
            .status,
        404
    );
    assert_eq!(api.get("/nowhere", &READER).await.status, 404);
    assert_eq!(api.call("PATCH", "/plans", &READER, &[], None).await.status, 405);

    api.seed_plan("stripe", "payments").await;
    let again = api.post("/plans", &ADMIN, &plan_body("stripe", "platform")).await;
    assert_eq!(again.status, 409);
    assert_eq!(
        api.get("/plans/stripe", &READER).await.json()["owner"]["team"],
        "payments"
    );

    let body = plan_body("stripe", "payments");
    let missing = api.put("/plans/stripe", &ADMIN, None, &body).await;
    assert_eq!(missing.status, 428);
    assert_eq!(api.delete("/plans/stripe", &ADMIN, None).await.status, 428);
    // A wildcard names no version (SPEC §3): refused as no precondition.
    assert_eq!(
        api.put("/plans/stripe", &ADMIN, Some("*"), &body).await.status,
        428
    );
    let stale = api.put("/plans/stripe", &ADMIN, Some("\"7\""), &body).await;
    assert_eq!(stale.status, 412);
    assert!(stale.json()["detail"].as_str().unwrap().contains("version 1"));
    assert_eq!(
        api.delete("/plans/stripe", &ADMIN, Some("\"0\"")).await.status,
        412
    );
    assert_eq!(
        api.get("/plans/stripe", &READER).await.etag(),
        "\"1\"",
        "nothing was written"
    );

    // The id in the body must be the plan's.
    let other = api
        .put(
            "/plans/stripe",
            &ADMIN,
            Some("\"1\""),
            &plan_body("paypal", "payments"),
        )
        .await;
    assert_eq!(other.status, 400);
    assert_eq!(other.fields(), vec!["id"]);
}

#[tokio::test]
async fn bodies_over_64_kib_get_413_and_write_nothing() {
    let api = Api::new().await;
    let mut body = plan_body("stripe", "payments");
    body["escalation_steps"][0]["instructions"] = json!("x".repeat(70 * 1024));
    let r = api.post("/plans", &ADMIN, &body).await;
    assert_eq!(r.status, 413, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(api.get("/plans/stripe", &READER).await.status, 404);
}

#[tokio::test]
async fn a_put_without_server_owned_fields_keeps_attestations_and_cannot_set_them() {
    let api = Api::new().await;
    api.seed_plan("stripe", "payments").await;
    let verified = api
        .post(
            "/plans/stripe/contacts/tam/verify",
            &PAYMENTS,
            &json!({"note": "called, still our TAM"}),
        )
        .await;
    assert_eq!(verified.status, 200, "{}", verified.text);
    let tam = &verified.json()["contacts"][1];
    assert_eq!(tam["verified_by"], "dana@example.com");
    assert_eq!(tam["verified_via"], "api");
    assert_eq!(tam["verified_note"], "called, still our TAM");
    let verified_at = tam["verified_at"].clone();
    assert_eq!(verified.json()["freshness"]["contacts"][1]["state"], "ok");

    // The plan as kept in a repository, re-applied: no attestation in it.
    let etag = verified.etag();
    let r = api
        .put(
            "/plans/stripe",
            &PAYMENTS,
            Some(&etag),
            &plan_body("stripe", "payments"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["contacts"][1]["verified_at"], verified_at);
    assert_eq!(r.json()["contacts"][1]["verified_by"], "dana@example.com");

    // A PUT that tries to set server-owned fields: ignored, never applied.
    let mut forged = plan_body("stripe", "payments");
    forged["contacts"][0]["verified_at"] = json!("2026-01-01T00:00:00Z");
    forged["contacts"][0]["verified_by"] = json!("mallory");
    forged["version"] = json!(99);
    forged["reviewed_at"] = json!("2026-01-01T00:00:00Z");
    let r = api
        .put("/plans/stripe", &PAYMENTS, Some(&r.etag()), &forged)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let plan = r.json();
    assert!(plan["contacts"][0].get("verified_at").is_none());
    assert!(plan["contacts"][0].get("verified_by").is_none());
    assert!(plan.get("reviewed_at").is_none());
    assert_eq!(plan["version"], 4);

    // Review records who and when; the history keeps every attestation.
    let reviewed = api.post("/plans/stripe/review", &PAYMENTS, &json!({})).await;
    assert_eq!(reviewed.status, 200, "{}", reviewed.text);
    assert_eq!(reviewed.json()["reviewed_by"], "dana@example.com");
    let history = api.get("/plans/stripe/history", &READER).await.json();
    let kinds: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["change"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec!["reviewed", "replaced", "replaced", "contact-verified", "created"]
    );
    assert_eq!(history["items"][3]["change"]["contact"], "tam");

    assert_eq!(
        api.post("/plans/stripe/contacts/nobody/verify", &PAYMENTS, &json!({}))
            .await
            .status,
        404
    );
    let bad_note = api
        .post(
            "/plans/stripe/contacts/tam/verify",
            &PAYMENTS,
            &json!({"note": 5}),
        )
        .await;
    assert_eq!(bad_note.status, 400);
    let stale = api
        .call(
            "POST",
            "/plans/stripe/review",
            &PAYMENTS,
            &[("if-match", "\"1\"")],
            None,
        )
        .await;
    assert_eq!(stale.status, 412);
}

#[tokio::test]
async fn twenty_concurrent_puts_with_one_etag_one_wins() {
    let api = std::sync::Arc::new(Api::new().await);
    let etag = api.seed_plan("stripe", "payments").await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let api = api.clone();
            let etag = etag.clone();
            tokio::spawn(async move {
                let mut body = plan_body("stripe", "payments");
                body["tier"] = json!(format!("written by {i}"));
                api.put("/plans/stripe", &PAYMENTS, Some(&etag), &body)
                    .await
                    .status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 412).count(), 19, "{statuses:?}");

    let history = api.get("/plans/stripe/history", &READER).await.json();
    let versions: Vec<u64> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, vec![2, 1], "no version lost, none extra");
    let current = api.get("/plans/stripe", &READER).await.json();
    assert_eq!(history["items"][0]["record"]["tier"], current["tier"]);
}

#[tokio::test]
async fn hostile_inputs_get_4xx_and_write_nothing() {
    let api = Api::new().await;
    let mut deep = json!("x");
    for _ in 0..200 {
        deep = json!([deep]);
    }
    let deep_text = {
        let mut s = String::new();
        s.push_str(&"[".repeat(5000));
        s.push_str(&"]".repeat(5000));
        s
    };
    let mut cases: Vec<(&str, String)> = vec![
        ("nested 5000 deep", deep_text),
        ("nested value in a known field", {
            let mut b = plan_body("stripe", "payments");
            b["vendor"] = deep;
            b.to_string()
        }),
    ];
    let mut edit = |label: &'static str, f: &dyn Fn(&mut Value)| {
        let mut b = plan_body("stripe", "payments");
        f(&mut b);
        cases.push((label, b.to_string()));
    };
    edit("huge string", &|b| b["vendor"] = json!("v".repeat(60_000)));
    edit("control characters", &|b| {
        b["vendor"] = json!("Acme\u{0007}\u{001b}[31m")
    });
    edit("javascript: URL", &|b| {
        b["channels"][0]["value"] = json!("javascript:alert(document.cookie)")
    });
    edit("docs javascript:", &|b| {
        b["docs_url"] = json!("javascript:alert(1)")
    });
    edit("number out of range", &|b| b["verify_every_days"] = json!(1e308));
    edit("negative number", &|b| {
        b["severities"][0]["response_minutes"] = json!(-5)
    });
    edit("number as string", &|b| b["review_every_days"] = json!("90"));
    edit("bidi override", &|b| {
        b["contacts"][0]["name"] = json!("Support\u{202e}lanigirO")
    });
    edit("null bytes in id", &|b| b["id"] = json!("stripe\u{0000}"));
    for (label, body) in cases {
        let r = api.call("POST", "/plans", &ADMIN, &[], Some(&body)).await;
        assert!((400..500).contains(&r.status), "{label}: {} {}", r.status, r.text);
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{label}"
        );
    }
    let list = api.get("/plans", &READER).await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "nothing was written");
}

#[tokio::test]
async fn workloads_need_existing_plans_and_give_a_support_card() {
    let api = Api::new().await;
    api.seed_plan("stripe", "payments").await;
    api.seed_plan("aws-business", "platform").await;

    let missing = api
        .post(
            "/workloads",
            &PAYMENTS,
            &workload_body("payments", "payments", &["stripe", "ghost"]),
        )
        .await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.fields(), vec!["dependencies[1]"]);
    assert_eq!(api.get("/workloads/payments", &READER).await.status, 404);

    let created = api
        .post(
            "/workloads",
            &PAYMENTS,
            &workload_body("payments", "payments", &["aws-business", "stripe"]),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.header("location"), Some("/workloads/payments"));
    assert_eq!(
        api.post(
            "/workloads",
            &PAYMENTS,
            &workload_body("payments", "payments", &[])
        )
        .await
        .status,
        409
    );
    assert_eq!(
        api.post("/workloads", &PLATFORM, &workload_body("other", "payments", &[]))
            .await
            .status,
        403
    );

    let card = api.get("/workloads/payments/support", &READER).await;
    assert_eq!(card.status, 200, "{}", card.text);
    let json = card.json();
    let plan_ids: Vec<&str> = json["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(plan_ids, vec!["aws-business", "stripe"]);
    assert_eq!(json["plans"][0]["freshness"]["contacts"][0]["state"], "overdue");

    let md = api
        .get("/workloads/payments/support?format=markdown", &READER)
        .await;
    assert_eq!(md.status, 200);
    assert!(md.header("content-type").unwrap().starts_with("text/markdown"));
    assert!(
        md.text.starts_with("# Support card: payments (tier-1)"),
        "{}",
        md.text
    );
    assert!(md.text.contains("| Sev 1 | 1, 2 | 60 min |"), "{}", md.text);
    assert!(md.text.contains(
        "1. **Open a Sev 1 case** (from minute 0) — Vendor Support (vendor support), support@example.net"
    ));
    assert!(
        md.text
            .contains("| Dana Reyes | vendor TAM |  | +12065550101 | never | **overdue** |"),
        "{}",
        md.text
    );
    assert_eq!(
        api.get("/workloads/payments/support?format=pdf", &READER)
            .await
            .fields(),
        vec!["format"]
    );

    let etag = created.etag();
    let mut body = workload_body("payments", "payments", &["stripe"]);
    body["criticality"] = json!("tier-2");
    assert_eq!(
        api.put("/workloads/payments", &PAYMENTS, None, &body)
            .await
            .status,
        428
    );
    let put = api
        .put("/workloads/payments", &PAYMENTS, Some(&etag), &body)
        .await;
    assert_eq!(put.status, 200, "{}", put.text);
    assert_eq!(
        api.put("/workloads/payments", &PAYMENTS, Some(&etag), &body)
            .await
            .status,
        412
    );
    let retired = api
        .delete("/workloads/payments", &PAYMENTS, Some(&put.etag()))
        .await;
    assert_eq!(retired.status, 200);
    assert_eq!(retired.json()["status"], "retired");
    let list = api.get("/workloads?status=active", &READER).await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    let history = api.get("/workloads/payments/history", &READER).await.json();
    assert_eq!(history["items"].as_array().unwrap().len(), 3);
    assert_eq!(
        api.get("/workloads?owner_team=payments", &READER).await.json()["items"][0]["name"],
        "payments"
    );
}

/// Every route: 401 without an identity, 404 for an unknown resource, 403 for a
/// write by someone outside the owner team, 428 for a write without If-Match.
#[tokio::test]
async fn every_route_answers_401_404_403_and_428_where_they_apply() {
    let api = Api::new().await;
    api.seed_plan("stripe", "payments").await;
    let w = api
        .post(
            "/workloads",
            &PAYMENTS,
            &workload_body("payments", "payments", &["stripe"]),
        )
        .await;
    assert_eq!(w.status, 201, "{}", w.text);
    let plan = plan_body("stripe", "payments").to_string();
    let workload = workload_body("payments", "payments", &["stripe"]).to_string();

    // (method, path on an existing resource, path on a missing one, body, a write?)
    type Route<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>, bool);
    let routes: &[Route] = &[
        ("GET", "/plans", None, None, false),
        ("POST", "/plans", None, Some(&plan), true),
        ("GET", "/plans/stripe", Some("/plans/ghost"), None, false),
        ("PUT", "/plans/stripe", Some("/plans/ghost"), Some(&plan), true),
        ("DELETE", "/plans/stripe", Some("/plans/ghost"), None, true),
        (
            "GET",
            "/plans/stripe/history",
            Some("/plans/ghost/history"),
            None,
            false,
        ),
        (
            "POST",
            "/plans/stripe/contacts/tam/verify",
            Some("/plans/ghost/contacts/tam/verify"),
            None,
            true,
        ),
        (
            "POST",
            "/plans/stripe/review",
            Some("/plans/ghost/review"),
            None,
            true,
        ),
        ("GET", "/workloads", None, None, false),
        ("POST", "/workloads", None, Some(&workload), true),
        (
            "GET",
            "/workloads/payments",
            Some("/workloads/ghost"),
            None,
            false,
        ),
        (
            "PUT",
            "/workloads/payments",
            Some("/workloads/ghost"),
            Some(&workload),
            true,
        ),
        (
            "DELETE",
            "/workloads/payments",
            Some("/workloads/ghost"),
            None,
            true,
        ),
        (
            "GET",
            "/workloads/payments/history",
            Some("/workloads/ghost/history"),
            None,
            false,
        ),
        (
            "GET",
            "/workloads/payments/support",
            Some("/workloads/ghost/support"),
            None,
            false,
        ),
    ];
    for (method, path, missing, body, write) in routes {
        let r = api.call(method, path, &Who::Nobody, &[], *body).await;
        assert_eq!(r.status, 401, "{method} {path} without identity");
        if let Some(missing) = missing {
            let r = api
                .call(method, missing, &ADMIN, &[("if-match", "\"1\"")], *body)
                .await;
            assert_eq!(r.status, 404, "{method} {missing}: {}", r.text);
        }
        if *write {
            let r = api
                .call(method, path, &PLATFORM, &[("if-match", "\"1\"")], *body)
                .await;
            assert_eq!(r.status, 403, "{method} {path} by another team: {}", r.text);
        }
        if *write && (*method == "PUT" || *method == "DELETE") {
            let r = api.call(method, path, &PAYMENTS, &[], *body).await;
            assert_eq!(r.status, 428, "{method} {path} without If-Match: {}", r.text);
        }
    }
    // Nothing above changed anything.
    assert_eq!(api.get("/plans/stripe", &READER).await.etag(), "\"1\"");
    assert_eq!(api.get("/workloads/payments", &READER).await.etag(), "\"1\"");
}

#[tokio::test]
async fn match_shows_the_workloads_plans_and_exact_text_the_responder_would_post() {
    let api = Api::new().await;
    api.seed_plan("stripe", "payments").await;
    api.seed_plan("aws-business", "platform").await;
    let w = api
        .post(
            "/workloads",
            &PAYMENTS,
            &workload_body("payments", "payments", &["stripe", "aws-business"]),
        )
        .await;
    assert_eq!(w.status, 201, "{}", w.text);

    let body = json!({"title": "Checkout errors", "impact": 1, "resources": ["arn:aws:rds:us-east-1:111122223333:db:payments-main"]});
    let r = api.post("/match", &READER, &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let posts = r.json();
    assert_eq!(posts["workloads"][0]["name"], "payments");
    assert_eq!(posts["workloads"][0]["reasons"][0]["kind"], "resource");
    let plans: Vec<&str> = posts["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["plan_id"].as_str().unwrap())
        .collect();
    assert_eq!(plans, vec!["stripe", "aws-business"]);
    assert!(
        posts["notes"][0]["text"]
            .as_str()
            .unwrap()
            .contains("**Open as: Sev 1** (impact 1)"),
        "{}",
        posts["notes"][0]["text"]
    );
    assert_eq!(posts["related"][0]["url"], "https://support.example.net/cases");
    assert!(posts["unmatched_note"].is_null());

    let none = api
        .post("/match", &READER, &json!({"title": "Printer jam"}))
        .await
        .json();
    assert_eq!(none["notes"].as_array().unwrap().len(), 0);
    assert!(
        none["unmatched_note"]
            .as_str()
            .unwrap()
            .contains("no workload matched")
    );

    let bad = api
        .post(
            "/match",
            &READER,
            &json!({"impact": 9, "resources": ["not-an-arn"], "colour": 1}),
        )
        .await;
    assert_eq!(bad.status, 400);
    let mut fields = bad.fields();
    fields.sort();
    assert_eq!(fields, vec!["colour", "impact", "resources[0]"]);
    assert_eq!(api.post("/match", &Who::Nobody, &body).await.status, 401);
}
