//! SPEC §2 "Incident match", §4: another team cannot speak in the victim's
//! incident. An "attacker" team writes, through the plans API as a team
//! member, the broadest match rules it still may; a "victim" (payments)
//! incident is started in the Incident Manager emulator and answered by the
//! real responder handler. Nothing of the attacker's plan is posted unless its
//! rule really matched, and what is posted then names the attacker's
//! workload, its owner team and the reason.

mod common;

use axum::body::Body;
use common::{RDS, World};
use plans_api::auth::AuthConfig;
use plans_api::{AppState, app};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const EVIL_PORTAL: &str = "https://evil.example.net/open-a-case";
const EVIL_VENDOR: &str = "Attacker Consulting";
const LEDGER: &str = "arn:aws:dynamodb:us-east-1:111122223333:table/payments-ledger";

/// A call to the plans API as a member of `team` (the local stack's identity headers).
async fn api(w: &World, method: &str, path: &str, team: &str, body: &Value) -> (u16, Value) {
    let auth = AuthConfig {
        local_auth: true,
        ..AuthConfig::default()
    };
    let router = app(AppState::new(w.responder.store().clone(), auth));
    let request = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .header("x-local-principal", format!("mallory@{team}.example.com"))
        .header("x-local-groups", team)
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// The attacker's plan (its portal and phone would land in the victim's
/// incident) and a workload with the broadest rules a team may write.
async fn attacker(w: &World) {
    let mut plan = support_plans_tests::plan_body("attacker-support", "attacker");
    plan["vendor"] = json!(EVIL_VENDOR);
    plan["channels"][0]["value"] = json!(EVIL_PORTAL);
    let (status, body) = api(w, "POST", "/plans", "attacker", &plan).await;
    assert_eq!(status, 201, "{body}");

    let mut workload = json!({
        "name": "attacker-tools",
        "owner": {"team": "attacker", "email": "attacker@example.com"},
        "criticality": "tier-1",
        "dependencies": ["attacker-support"],
        "match": {"resource_patterns": ["arn:*:*:*:*:*"], "title_keywords": ["down", "failing", "card"]}
    });
    // Claiming the world is refused, naming the field.
    let (status, body) = api(w, "POST", "/workloads", "attacker", &workload).await;
    assert_eq!(status, 400, "a team's arn:*:*:*:*:* was accepted: {body}");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "match.resource_patterns[0]",
            "match.title_keywords[0]",
            "match.title_keywords[1]"
        ],
        "{body}"
    );

    // The broadest it may still write: one service each, anything in the
    // resource but one letter; keywords of four letters and more that are
    // not common incident words.
    workload["match"] = json!({
        "resource_patterns": [
            "arn:*:rds:*:*:*q*",
            "arn:*:dynamodb:*:*:*a*",
            "arn:*:lambda:*:*:*e*",
            "arn:*:ecs:*:*:*e*",
        ],
        "title_keywords": ["checkout", "storefront", "wallet"],
    });
    let (status, body) = api(w, "POST", "/workloads", "attacker", &workload).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn another_teams_broadest_rules_post_nothing_into_an_incident_they_do_not_match() {
    let w = World::new().await;
    attacker(&w).await;
    let arn = w.start_incident("Card payments failing", 1, &[RDS]).await;
    let summary = w
        .handle(&json!({"incident_record_arn": arn, "involved_resources": [RDS]}))
        .await
        .unwrap();
    assert_eq!(summary["workloads"], json!(["payments"]), "{summary}");

    let notes = w.notes(&arn).await;
    assert!(!notes.is_empty());
    for n in &notes {
        assert!(!n.event_data.contains(EVIL_VENDOR), "{}", n.event_data);
        assert!(!n.event_data.contains(EVIL_PORTAL), "{}", n.event_data);
        assert!(!n.event_data.contains("attacker"), "{}", n.event_data);
        assert!(
            n.event_data
                .contains("Posted for workload `payments` (owner team payments) — "),
            "{}",
            n.event_data
        );
    }
    let links = w.links(&arn).await;
    assert!(!links.is_empty());
    assert!(
        links
            .iter()
            .all(|(t, u)| u != EVIL_PORTAL && !t.contains(EVIL_VENDOR)),
        "{links:?}"
    );
    for queue in [&w.chat_queue, &w.incident_queue] {
        let messages = w.drain(queue).await;
        assert_eq!(messages.len(), 1);
        let text = messages[0].to_string();
        assert!(
            !text.contains(EVIL_VENDOR) && !text.contains(EVIL_PORTAL),
            "{text}"
        );
        assert!(!text.contains("attacker"), "{text}");
    }
}

#[tokio::test]
async fn when_another_teams_rule_really_matches_what_is_posted_names_that_team_and_why() {
    let w = World::new().await;
    attacker(&w).await;
    let arn = w.start_incident("Card payments failing", 1, &[RDS, LEDGER]).await;
    let summary = w
        .handle(&json!({"incident_record_arn": arn, "involved_resources": [RDS, LEDGER]}))
        .await
        .unwrap();
    let matched: Vec<&str> = summary["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        matched.contains(&"attacker-tools") && matched.contains(&"payments"),
        "{summary}"
    );

    let why = format!(
        "Posted for workload `attacker-tools` (owner team attacker) — matched resource `{LEDGER}` by pattern `arn:*:dynamodb:*:*:*a*`"
    );
    let notes = w.notes(&arn).await;
    let evil: Vec<_> = notes
        .iter()
        .filter(|n| n.event_data.contains(EVIL_VENDOR))
        .collect();
    assert_eq!(evil.len(), 1, "one note for the attacker's plan");
    assert!(evil[0].event_data.contains(&why), "{}", evil[0].event_data);
    assert!(
        !evil[0].event_data.contains("workload `payments`"),
        "the victim's workload does not vouch for the attacker's plan: {}",
        evil[0].event_data
    );
    for n in notes.iter().filter(|n| !n.event_data.contains(EVIL_VENDOR)) {
        assert!(!n.event_data.contains("attacker"), "{}", n.event_data);
    }

    let links = w.links(&arn).await;
    let (title, _) = links
        .iter()
        .find(|(_, u)| u == EVIL_PORTAL)
        .expect("the attacker's portal, as its rule matched");
    assert!(
        title.contains("for workload attacker-tools (owner team attacker)"),
        "{title}"
    );

    let messages = w.drain(&w.chat_queue).await;
    assert_eq!(messages.len(), 1);
    let description = messages[0]["content"]["description"].as_str().unwrap();
    assert!(description.contains(&why), "{description}");
    assert!(
        description.contains("Posted for workload `payments` (owner team payments) — "),
        "{description}"
    );
}
