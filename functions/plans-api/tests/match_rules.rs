//! SPEC §2 "Incident match", §3: a team's match rules cannot claim the world
//! (a pattern wild in its service or resource part, a short or common incident
//! word) while an admin's may; `POST /match` refuses resources longer than an
//! ARN can be. Through the real handler against moto.

mod common;

use common::{ADMIN, Api, PAYMENTS, READER, Resp, workload_body};
use serde_json::{Value, json};

fn with_match(name: &str, matching: Value) -> Value {
    let mut body = workload_body(name, "payments", &["aws-business"]);
    body["match"] = matching;
    body
}

/// A 400 naming exactly `field`, with a message that says an admin may write it.
fn refused(r: &Resp, field: &str) -> String {
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.fields(), vec![field.to_owned()], "{}", r.text);
    let problem = r.json();
    let message = problem["errors"][0]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("admin"), "{message}");
    message
}

async fn api() -> Api {
    let api = Api::new().await;
    api.seed_plan("aws-business", "platform").await;
    api
}

#[tokio::test]
async fn a_team_may_not_claim_every_incident_with_a_wild_pattern_or_a_common_word() {
    let api = api().await;
    let wild = with_match("grabby", json!({"resource_patterns": ["arn:*:*:*:*:*"]}));
    let r = api.post("/workloads", &PAYMENTS, &wild).await;
    let message = refused(&r, "match.resource_patterns[0]");
    assert!(message.contains("service"), "{message}");

    let wild = with_match(
        "grabby",
        json!({"resource_patterns": ["arn:aws:rds:*:*:db:payments-*", "arn:aws:rds:*:*:*"]}),
    );
    let r = api.post("/workloads", &PAYMENTS, &wild).await;
    let message = refused(&r, "match.resource_patterns[1]");
    assert!(message.contains("resource"), "{message}");

    let common = with_match("grabby", json!({"title_keywords": ["payments", "down"]}));
    let r = api.post("/workloads", &PAYMENTS, &common).await;
    refused(&r, "match.title_keywords[1]");

    let short = with_match("grabby", json!({"title_keywords": ["api"]}));
    let r = api.post("/workloads", &PAYMENTS, &short).await;
    refused(&r, "match.title_keywords[0]");

    // Nothing was stored.
    assert_eq!(api.get("/workloads/grabby", &READER).await.status, 404);
}

#[tokio::test]
async fn an_admin_may_write_a_broad_rule() {
    let api = api().await;
    let broad = with_match(
        "everything",
        json!({"resource_patterns": ["arn:*:*:*:*:*"], "title_keywords": ["down"]}),
    );
    let r = api.post("/workloads", &ADMIN, &broad).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["match"]["resource_patterns"][0], "arn:*:*:*:*:*");
}

#[tokio::test]
async fn a_team_may_keep_an_admins_broad_rule_unchanged_but_not_add_one() {
    let api = api().await;
    let broad = with_match(
        "payments",
        json!({"resource_patterns": ["arn:aws:rds:*:*:*"], "title_keywords": ["payments", "outage"]}),
    );
    let created = api.post("/workloads", &ADMIN, &broad).await;
    assert_eq!(created.status, 201, "{}", created.text);

    // The owner team edits the description and keeps the admin's rules as they are.
    let mut same = broad.clone();
    same["description"] = json!("Card payments, reviewed");
    let r = api
        .put("/workloads/payments", &PAYMENTS, Some(&created.etag()), &same)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // A new broad rule is the team's own: refused.
    let mut more = same.clone();
    more["match"]["title_keywords"] = json!(["payments", "outage", "error"]);
    let r = api
        .put("/workloads/payments", &PAYMENTS, Some(&r.etag()), &more)
        .await;
    refused(&r, "match.title_keywords[2]");
    let mut more = same.clone();
    more["match"]["resource_patterns"] = json!(["arn:aws:rds:*:*:*", "arn:aws:lambda:*:*:*"]);
    let current = api.get("/workloads/payments", &READER).await;
    let r = api
        .put("/workloads/payments", &PAYMENTS, Some(&current.etag()), &more)
        .await;
    refused(&r, "match.resource_patterns[1]");
}

#[tokio::test]
async fn match_refuses_a_resource_longer_than_an_arn_can_be() {
    let api = api().await;
    let long = format!("arn:aws:s3:::bucket/{}", "k".repeat(2048));
    let r = api
        .post(
            "/match",
            &READER,
            &json!({"title": "x", "resources": ["arn:aws:s3:::ok", long]}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.fields(), vec!["resources[1]".to_owned()]);
    let message = r.json()["errors"][0]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("2048"), "{message}");

    let fits = format!("arn:aws:s3:::bucket/{}", "k".repeat(2048 - 20));
    assert_eq!(fits.len(), 2048);
    let r = api
        .post("/match", &READER, &json!({"title": "x", "resources": [fits]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn match_takes_at_most_ten_resources() {
    let api = api().await;
    let resources: Vec<String> = (0..11).map(|i| format!("arn:aws:s3:::bucket-{i}")).collect();
    let r = api
        .post(
            "/match",
            &READER,
            &json!({"title": "x", "resources": &resources[..11]}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.fields(), vec!["resources".to_owned()]);
    let r = api
        .post(
            "/match",
            &READER,
            &json!({"title": "x", "resources": &resources[..10]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn match_says_for_which_workload_and_owner_team_and_why() {
    let api = api().await;
    let w = api
        .post(
            "/workloads",
            &PAYMENTS,
            &workload_body("payments", "payments", &["aws-business"]),
        )
        .await;
    assert_eq!(w.status, 201, "{}", w.text);
    let body = json!({"title": "Card payments failing", "impact": 1,
                      "resources": ["arn:aws:rds:us-east-1:111122223333:db:payments-main"]});
    let posts = api.post("/match", &READER, &body).await.json();
    assert_eq!(posts["workloads"][0]["owner_team"], "payments", "{posts}");
    let note = posts["notes"][0]["text"].as_str().unwrap();
    assert!(
        note.contains(
            "Posted for workload `payments` (owner team payments) — matched resource `arn:aws:rds:us-east-1:111122223333:db:payments-main` by pattern `arn:aws:rds:*:*:db:payments-*`"
        ),
        "{note}"
    );
}

/// SPEC §4: `POST /match` shows the note the responder posts for a matched
/// workload no active plan covers, and that the incident counts without plan.
#[tokio::test]
async fn match_shows_the_note_for_a_workload_no_active_plan_covers() {
    let api = api().await;
    let w = api
        .post(
            "/workloads",
            &PAYMENTS,
            &workload_body("payments", "payments", &[]),
        )
        .await;
    assert_eq!(w.status, 201, "{}", w.text);
    let r = api
        .post("/match", &READER, &json!({"title": "payments down", "impact": 1}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let posts = r.json();
    assert_eq!(posts["workloads"][0]["name"], "payments");
    assert_eq!(posts["notes"], json!([]));
    assert_eq!(posts["without_plan"], true, "{posts}");
    assert_eq!(posts["no_plan_notes"][0]["workload"], "payments", "{posts}");
    let text = posts["no_plan_notes"][0]["text"].as_str().unwrap_or_default();
    for part in [
        "No vendor support plan covers workload `payments`",
        "tier-1, owner team payments, payments@example.com",
    ] {
        assert!(text.contains(part), "{part} missing from:\n{text}");
    }
}

// ---------------------------------------------------------------- PagerDuty services (SPEC §11)

#[tokio::test]
async fn a_workload_names_its_pagerduty_services_and_match_finds_it_by_one() {
    let api = api().await;
    let body = with_match(
        "payments",
        json!({"title_keywords": ["payments"], "pagerduty_services": ["PABC123", "Payments API"]}),
    );
    let w = api.post("/workloads", &PAYMENTS, &body).await;
    assert_eq!(w.status, 201, "{}", w.text);
    let read = api.get("/workloads/payments", &READER).await.json();
    assert_eq!(
        read["match"]["pagerduty_services"],
        json!(["PABC123", "Payments API"])
    );

    let by_id = json!({"title": "Checkout slow", "impact": 1, "pagerduty_service": "PABC123"});
    let r = api.post("/match", &READER, &by_id).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let posts = r.json();
    assert_eq!(posts["workloads"][0]["name"], "payments", "{posts}");
    assert_eq!(
        posts["workloads"][0]["reasons"],
        json!([{"kind": "pagerduty-service", "pagerduty_service": "PABC123"}])
    );
    let note = posts["notes"][0]["text"].as_str().unwrap();
    assert!(
        note.contains(
            "Posted for workload `payments` (owner team payments) — matched PagerDuty service `PABC123`"
        ),
        "{note}"
    );

    let by_name = json!({"title": "Checkout slow", "pagerduty_service": "payments api"});
    let posts = api.post("/match", &READER, &by_name).await.json();
    assert_eq!(
        posts["workloads"][0]["reasons"],
        json!([{"kind": "pagerduty-service", "pagerduty_service": "Payments API"}]),
        "a name matches whatever its case: {posts}"
    );

    let other = json!({"title": "Checkout slow", "pagerduty_service": "PZZZ999"});
    let posts = api.post("/match", &READER, &other).await.json();
    assert_eq!(posts["workloads"], json!([]), "{posts}");
}

#[tokio::test]
async fn a_workload_without_pagerduty_services_reads_as_before() {
    let api = api().await;
    let body = workload_body("payments", "payments", &["aws-business"]);
    let w = api.post("/workloads", &PAYMENTS, &body).await;
    assert_eq!(w.status, 201, "{}", w.text);
    let read = api.get("/workloads/payments", &READER).await.json();
    assert_eq!(
        read["match"], body["match"],
        "no `pagerduty_services` key: {read}"
    );
}

#[tokio::test]
async fn bad_pagerduty_services_are_refused_by_field() {
    let api = api().await;
    let cases = [
        (
            json!({"pagerduty_services": ["PABC123", "pabc123"]}),
            "match.pagerduty_services[1]",
        ),
        (
            json!({"pagerduty_services": ["PABC123", ""]}),
            "match.pagerduty_services[1]",
        ),
        (
            json!({"pagerduty_services": ["x".repeat(256)]}),
            "match.pagerduty_services[0]",
        ),
        (
            json!({"pagerduty_services": (0..21).map(|i| format!("P{i:06}")).collect::<Vec<_>>()}),
            "match.pagerduty_services",
        ),
    ];
    for (matching, field) in cases {
        let r = api
            .post("/workloads", &PAYMENTS, &with_match("payments", matching))
            .await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(r.fields(), vec![field.to_owned()], "{}", r.text);
    }
    assert_eq!(api.get("/workloads/payments", &READER).await.status, 404);

    for (service, why) in [
        (json!(""), "empty"),
        (json!("x".repeat(256)), "too long"),
        (json!(["PABC123"]), "not a string"),
        (json!("PABC\n123"), "two lines"),
    ] {
        let r = api
            .post(
                "/match",
                &READER,
                &json!({"title": "x", "pagerduty_service": service}),
            )
            .await;
        assert_eq!(r.status, 400, "{why}: {}", r.text);
        assert_eq!(r.fields(), vec!["pagerduty_service".to_owned()], "{why}");
        let message = r.json()["errors"][0]["message"].as_str().unwrap().to_owned();
        assert_ne!(message, "unknown field", "{why}: a known field, checked");
    }
}

// ---------------------------------------------------------------- the AWS case (SPEC §13)

/// SPEC §13: `POST /match` shows, in a plan's entry, the AWS case the
/// responder would open for it: at or above `min_impact`, not below, and
/// never for a plan without `open_case`.
#[tokio::test]
async fn match_shows_the_aws_case_a_plan_would_open_at_or_above_its_min_impact() {
    let api = Api::new().await;
    let mut aws = support_plans_tests::plan_body("aws-business", "platform");
    aws["vendor"] = json!("AWS");
    aws["severities"] = json!([
        {"name": "Production system down", "response_minutes": 60, "impacts": [1], "code": "urgent"},
        {"name": "Production system impaired", "response_minutes": 240, "impacts": [2], "code": "high"},
        {"name": "System impaired", "response_minutes": 720, "impacts": [3]}
    ]);
    aws["open_case"] = json!({
        "min_impact": 2,
        "service_code": "amazon-dynamodb",
        "category_code": "general-guidance",
        "cc_emails": ["sre@example.com", "Platform@Example.com"]
    });
    let r = api.post("/plans", &ADMIN, &aws).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["open_case"]["min_impact"], 2, "{}", r.text);
    assert_eq!(r.json()["severities"][0]["code"], "urgent", "{}", r.text);
    api.seed_plan("datadog", "platform").await;
    let w = api
        .post(
            "/workloads",
            &PAYMENTS,
            &workload_body("payments", "payments", &["aws-business", "datadog"]),
        )
        .await;
    assert_eq!(w.status, 201, "{}", w.text);

    let at =
        |impact: u8| json!({"title": "Payments API returns 500s", "impact": impact, "workload": "payments"});
    let posts = api.post("/match", &READER, &at(2)).await.json();
    let note = |posts: &Value, plan: &str| -> Value {
        posts["notes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["plan_id"] == plan)
            .unwrap_or_else(|| panic!("no note for {plan}: {posts}"))
            .clone()
    };
    assert_eq!(
        note(&posts, "aws-business")["case"],
        json!({
            "service_code": "amazon-dynamodb",
            "category_code": "general-guidance",
            "severity_code": "high",
            "subject": "[impact 2] Payments API returns 500s",
            "cc_emails": ["platform@example.com", "sre@example.com"]
        }),
        "{posts}"
    );
    assert!(note(&posts, "aws-business")["text"].is_string(), "{posts}");
    assert!(
        note(&posts, "datadog").get("case").is_none(),
        "no open_case: {posts}"
    );

    let posts = api.post("/match", &READER, &at(1)).await.json();
    assert_eq!(
        note(&posts, "aws-business")["case"]["severity_code"],
        "urgent",
        "{posts}"
    );

    let posts = api.post("/match", &READER, &at(3)).await.json();
    assert!(
        note(&posts, "aws-business").get("case").is_none(),
        "impact 3 < min_impact 2: {posts}"
    );

    // Unknown impact: no case either.
    let unknown = json!({"title": "Payments API returns 500s", "workload": "payments"});
    let posts = api.post("/match", &READER, &unknown).await.json();
    assert!(note(&posts, "aws-business").get("case").is_none(), "{posts}");
}
