//! Reminders that arrive (SPEC §14), through the binaries that deploy: the
//! plans API and the freshness check under `cargo lambda watch`, SNS in moto
//! (made faithful: an e-mail subscription is pending until its owner follows
//! SNS's link, which `POST /_support_plans/sns-confirm` stands in for).
//!
//! One story: a dry run that only reports; a run that subscribes the owner
//! and the escalation address, each with its filter policy, and shows them
//! unreachable while pending (plan read, support card, readiness); the
//! owners confirm; a run that changes nothing and counts its SNS calls; an
//! owner replaced; hand-made subscriptions left alone throughout.
//!
//! Runs in the `shared-stack-figures` group: readiness counts the whole
//! table, and no other test of the group writes while this one reads.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_sns::Client as Sns;
use serde_json::{Value, json};
use support_plans_tests::http::request;
use support_plans_tests::stack_env as env;
use support_plans_tests::{api, as_team, invoke, local_config, plan_body, succeeded};

fn run_id() -> String {
    let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    format!("{}{}", std::process::id(), t.subsec_nanos() % 100_000)
}

/// The freshness check, invoked as its schedule would; its summary.
async fn freshness(dry_run: bool) -> Value {
    let r = invoke("freshness-check", &json!({"dry_run": dry_run})).await;
    succeeded("freshness-check", &r)
}

/// `(topic, address)` pairs of a summary's `created` or `removed`, for `ours` only.
fn changes(summary: &Value, which: &str, ours: &[&str]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = summary["subscriptions"][which]
        .as_array()
        .unwrap_or_else(|| panic!("no subscriptions.{which}: {summary}"))
        .iter()
        .map(|c| {
            (
                c["topic"].as_str().unwrap().to_owned(),
                c["address"].as_str().unwrap().to_owned(),
            )
        })
        .filter(|(_, a)| ours.contains(&a.as_str()))
        .collect();
    out.sort();
    out
}

/// The e-mail subscriptions of `topic` for `address`: (ARN or
/// `PendingConfirmation`, filter policy when confirmed).
async fn email_subscriptions(sns: &Sns, topic: &str, address: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut next = None;
    loop {
        let page = sns
            .list_subscriptions_by_topic()
            .topic_arn(topic)
            .set_next_token(next)
            .send()
            .await
            .expect("ListSubscriptionsByTopic");
        for s in page.subscriptions() {
            if s.protocol() == Some("email") && s.endpoint() == Some(address) {
                let arn = s.subscription_arn().unwrap().to_owned();
                let policy = if arn == "PendingConfirmation" {
                    None
                } else {
                    sns.get_subscription_attributes()
                        .subscription_arn(&arn)
                        .send()
                        .await
                        .expect("GetSubscriptionAttributes")
                        .attributes()
                        .and_then(|a| a.get("FilterPolicy").cloned())
                };
                out.push((arn, policy));
            }
        }
        next = page.next_token().map(str::to_owned);
        if next.is_none() {
            return out;
        }
    }
}

/// The owner follows SNS's confirmation link (moto's stand-in for it).
async fn confirm(topic: &str, address: &str) {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL of the local stack");
    let r = request(
        "POST",
        &format!("{endpoint}/_support_plans/sns-confirm"),
        &[],
        Some(&json!({"topic_arn": topic, "endpoint": address})),
    )
    .await;
    assert_eq!(r.status, 200, "confirming {address}: {}", r.body);
}

/// A write of plan `id` conditional on the version just read.
async fn write(team: &str, method: &str, id: &str, body: Option<&Value>) -> support_plans_tests::http::Reply {
    let current = api("GET", &format!("/plans/{id}"), team, None).await;
    let etag = current.header("etag").expect("an ETag").to_owned();
    let who = as_team(team);
    let mut headers: Vec<(&str, &str)> = who.iter().map(|(k, v)| (*k, v.as_str())).collect();
    headers.push(("if-match", etag.as_str()));
    request(method, &format!("{}/plans/{id}", env("API_URL")), &headers, body).await
}

async fn readiness() -> Value {
    let r = api("GET", "/readiness", "platform", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

#[tokio::test]
async fn the_freshness_check_keeps_owners_subscribed_and_shows_who_is_unreachable() {
    let run = run_id();
    let sns = Sns::new(&local_config().await);
    let (reminder, escalation) = (env("REMINDER_TOPIC_ARN"), env("ESCALATION_TOPIC_ARN"));
    let team = format!("subs-{run}");
    let owner = format!("owner-{run}@example.com");
    let esc = format!("esc-{run}@example.com");
    let other = format!("other-{run}@example.com");
    let listed = format!("list-{run}@example.com");
    let (plan_a, plan_b) = (format!("subs-a-{run}"), format!("subs-b-{run}"));

    // Two plans: A's owner and escalation address are new; B's owner is
    // served by a subscription made by hand, with no filter policy. A third
    // hand-made one is for an address that owns nothing.
    let mut a = plan_body(&plan_a, &team);
    a["owner"] = json!({"team": team, "email": owner, "escalation_email": esc});
    let mut b = plan_body(&plan_b, &team);
    b["owner"] = json!({"team": team, "email": other});
    for body in [&a, &b] {
        let r = api("POST", "/plans", &team, Some(body)).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let workload = format!("subs-w-{run}");
    let r = api(
        "POST",
        "/workloads",
        &team,
        Some(&json!({"name": workload, "owner": {"team": team, "email": owner},
                     "criticality": "tier-1", "dependencies": [plan_a, plan_b]})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    for (address, policy) in [(&other, None), (&listed, Some(json!({"owner_team": [team]})))] {
        let mut req = sns
            .subscribe()
            .topic_arn(&reminder)
            .protocol("email")
            .endpoint(address.as_str())
            .return_subscription_arn(true);
        if let Some(p) = policy {
            req = req.attributes("FilterPolicy", p.to_string());
        }
        req.send().await.expect("a subscription made by hand");
        confirm(&reminder, address).await;
    }
    let hand_made = [
        email_subscriptions(&sns, &reminder, &other).await,
        email_subscriptions(&sns, &reminder, &listed).await,
    ];
    let ours = [owner.as_str(), esc.as_str(), other.as_str(), listed.as_str()];

    // 1. A dry run reports what it would create, and creates nothing.
    let dry = freshness(true).await;
    assert_eq!(
        changes(&dry, "created", &ours),
        [
            ("escalation".to_owned(), esc.clone()),
            ("reminder".to_owned(), owner.clone())
        ],
        "{dry}"
    );
    assert!(email_subscriptions(&sns, &reminder, &owner).await.is_empty());
    assert!(email_subscriptions(&sns, &escalation, &esc).await.is_empty());

    // 2. The run subscribes them; SNS asks each to confirm: unreachable.
    let first = freshness(false).await;
    assert_eq!(changes(&first, "created", &ours).len(), 2, "{first}");
    let pending = [("PendingConfirmation".to_owned(), None)];
    assert_eq!(email_subscriptions(&sns, &reminder, &owner).await, pending);
    assert_eq!(email_subscriptions(&sns, &escalation, &esc).await, pending);
    let plan = api("GET", &format!("/plans/{plan_a}"), &team, None).await.json();
    let reach = &plan["reachability"];
    assert_eq!(reach["owner"]["address"], json!(owner), "{plan}");
    assert_eq!(reach["owner"]["reach"], json!("pending_confirmation"), "{plan}");
    assert_eq!(reach["owner"]["reachable"], json!(false), "{plan}");
    assert_eq!(
        reach["escalation"]["reach"],
        json!("pending_confirmation"),
        "{plan}"
    );
    let plan_b_read = api("GET", &format!("/plans/{plan_b}"), &team, None).await.json();
    assert_eq!(
        plan_b_read["reachability"]["owner"]["reach"],
        json!("confirmed"),
        "a hand-made subscription without a filter reaches B's owner: {plan_b_read}"
    );
    let card = api(
        "GET",
        &format!("/workloads/{workload}/support?format=markdown"),
        &team,
        None,
    )
    .await;
    assert_eq!(card.status, 200, "{}", card.body);
    assert!(
        card.body.contains(&format!(
            "Reminders do not reach the plan owner ({owner}): subscribed, but the confirmation"
        )),
        "{}",
        card.body
    );
    assert_eq!(
        card.body.matches("Reminders do not reach the plan owner").count(),
        1
    );
    let card_json = api("GET", &format!("/workloads/{workload}/support"), &team, None)
        .await
        .json();
    let unreachable_in_card: Vec<&Value> = card_json["plans"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["reachability"]["owner"]["reachable"] == json!(false))
        .collect();
    assert_eq!(unreachable_in_card.len(), 1, "{card_json}");
    let before = readiness().await;
    assert!(before["owners_unreachable"].as_u64().unwrap() >= 1, "{before}");

    // 3. The owners follow SNS's links; the next run changes nothing of
    //    theirs, makes at most two SNS calls per owner, and finds them reachable.
    confirm(&reminder, &owner).await;
    confirm(&escalation, &esc).await;
    let second = freshness(false).await;
    assert!(changes(&second, "created", &ours).is_empty(), "{second}");
    assert!(changes(&second, "removed", &ours).is_empty(), "{second}");
    let subs = &second["subscriptions"];
    let (calls, addresses) = (
        subs["sns_calls"].as_u64().unwrap(),
        subs["addresses"].as_u64().unwrap(),
    );
    assert!(
        calls <= 2 * addresses,
        "{calls} SNS calls for {addresses} addresses: {second}"
    );
    let filtered = |attr: &str, address: &str| Some(json!({attr: [address]}).to_string());
    let confirmed = email_subscriptions(&sns, &reminder, &owner).await;
    assert_eq!(confirmed.len(), 1, "{confirmed:?}");
    assert_eq!(confirmed[0].1, filtered("owner_email", &owner));
    let confirmed_esc = email_subscriptions(&sns, &escalation, &esc).await;
    assert_eq!(confirmed_esc.len(), 1, "{confirmed_esc:?}");
    assert_eq!(confirmed_esc[0].1, filtered("escalation_email", &esc));
    let plan = api("GET", &format!("/plans/{plan_a}"), &team, None).await.json();
    assert_eq!(plan["reachability"]["owner"]["reachable"], json!(true), "{plan}");
    let after = readiness().await;
    assert_eq!(
        after["owners_unreachable"].as_u64().unwrap() + 1,
        before["owners_unreachable"].as_u64().unwrap(),
        "one owner fewer unreachable: {before} → {after}"
    );

    // 4. A's owner replaced: the managed subscription of the old address
    //    goes, the new address gets one. B retired: its owner's hand-made
    //    subscription stays, as does the one for an address owning nothing.
    let replaced = format!("new-owner-{run}@example.com");
    let mut next = a.clone();
    next["owner"]["email"] = json!(replaced);
    let r = write(&team, "PUT", &plan_a, Some(&next)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = write(&team, "DELETE", &plan_b, None).await;
    assert!(r.status < 300, "{}", r.body);
    let ours = [ours.as_slice(), &[replaced.as_str()]].concat();
    let third = freshness(false).await;
    assert_eq!(
        changes(&third, "removed", &ours),
        [("reminder".to_owned(), owner.clone())],
        "{third}"
    );
    assert_eq!(
        changes(&third, "created", &ours),
        [("reminder".to_owned(), replaced.clone())],
        "{third}"
    );
    assert!(email_subscriptions(&sns, &reminder, &owner).await.is_empty());
    assert_eq!(email_subscriptions(&sns, &reminder, &replaced).await, pending);
    assert_eq!(
        email_subscriptions(&sns, &escalation, &esc).await.len(),
        1,
        "the escalation address still escalates for A"
    );
    assert_eq!(
        [
            email_subscriptions(&sns, &reminder, &other).await,
            email_subscriptions(&sns, &reminder, &listed).await,
        ],
        hand_made,
        "hand-made subscriptions are never touched"
    );
}
