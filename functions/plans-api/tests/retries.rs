//! Through the real handler (issue 12): a write whose answer was lost after
//! it committed is retried by the SDK, and the caller hears the truth: 201
//! or 200, never 409 or 412 for a write that happened, and one version.

mod common;

use common::{ADMIN, Api, PAYMENTS};
use support_plans_tests::lose_transact_answers;

#[tokio::test]
async fn a_put_whose_answer_was_lost_is_answered_200_once() {
    let api = Api::new().await;
    let mut body = support_plans_tests::plan_body("stripe", "payments");
    lose_transact_answers(api.dynamo().table(), 1).await;
    let created = api.post("/plans", &ADMIN, &body).await;
    assert_eq!(created.status, 201, "{}", created.text);

    body["tier"] = "Premium support".into();
    lose_transact_answers(api.dynamo().table(), 1).await;
    let replaced = api
        .put("/plans/stripe", &PAYMENTS, Some(&created.etag()), &body)
        .await;
    assert_eq!(replaced.status, 200, "{}", replaced.text);
    assert_eq!(replaced.etag(), "\"2\"");

    let history = api.get("/plans/stripe/history", &PAYMENTS).await;
    assert_eq!(history.status, 200, "{}", history.text);
    let versions: Vec<u64> = history.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|v| v["version"].as_u64().expect("a version"))
        .collect();
    assert_eq!(versions, [2, 1], "each write once: {}", history.text);
}
