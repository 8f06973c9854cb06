//! Issue 15's acceptance, through the local stack as `make local-up` starts
//! it (SPEC §11): the PagerDuty stand-in delivers its signed V3 webhook to the
//! incident-hooks function under `cargo lambda watch`, which hands it to the
//! incident responder, which reads the incident back from the stand-in and
//! posts its notes there; the chat message goes to the stack's incident
//! topic, read from its SQS queue. And the generic Standard Webhooks route.
//!
//! What is counted is what a responder or an attacker would see: the notes on
//! the PagerDuty incident, the REST calls the stand-in served, the messages
//! on the queue. Every name carries this run's id.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use support_plans_tests::http::{Reply, request, request_bytes};
use support_plans_tests::stack_env as env;
use support_plans_tests::{api, drain, local_config, plan_body};

const PLANS: usize = 2;

type Headers<'a> = Vec<(&'a str, &'a str)>;

fn run_id() -> String {
    format!("{:x}", jiff::Timestamp::now().as_millisecond() % 0xff_ffff)
}

/// A call to the stand-in's REST API with the local token.
async fn pd(method: &str, path: &str, body: Option<&Value>) -> Reply {
    let token = format!("Token token={}", env("PAGERDUTY_TOKEN"));
    let headers = [
        ("authorization", token.as_str()),
        ("accept", "application/vnd.pagerduty+json;version=2"),
        ("from", "oncall-lead@example.com"),
    ];
    request(method, &format!("{}{path}", env("PAGERDUTY_URL")), &headers, body).await
}

/// The stand-in's own admin API (`/_standin/...`).
async fn standin(method: &str, path: &str, body: Option<&Value>) -> Value {
    let r = request(
        method,
        &format!("{}/_standin/{path}", env("PAGERDUTY_URL")),
        &[],
        body,
    )
    .await;
    assert!(
        (200..300).contains(&r.status),
        "{method} /_standin/{path}: {} {}",
        r.status,
        r.body
    );
    r.json()
}

/// Two plans, a workload relying on both that names the PagerDuty service
/// `Checkout <run>`, and that service on the stand-in. Returns the service id.
async fn workload_on_a_service(run: &str) -> String {
    let team = format!("pd-{run}");
    for (i, vendor) in ["Acme Cloud", "Beta Payments"].iter().enumerate() {
        let mut plan = plan_body(&format!("pd-plan-{i}-{run}"), &team);
        plan["vendor"] = json!(vendor);
        let r = api("POST", "/plans", &team, Some(&plan)).await;
        assert_eq!(r.status, 201, "POST /plans: {}", r.body);
    }
    let workload = json!({
        "name": format!("pd-{run}"),
        "owner": {"team": team, "email": format!("{team}@example.com")},
        "criticality": "tier-1",
        "dependencies": [format!("pd-plan-0-{run}"), format!("pd-plan-1-{run}")],
        "match": {"pagerduty_services": [format!("Checkout {run}")]},
    });
    let r = api("POST", "/workloads", &team, Some(&workload)).await;
    assert_eq!(r.status, 201, "POST /workloads: {}", r.body);
    let r = pd(
        "POST",
        "/services",
        Some(&json!({"service": {"type": "service", "name": format!("Checkout {run}")}})),
    )
    .await;
    assert_eq!(r.status, 201, "POST /services: {}", r.body);
    r.json()["service"]["id"].as_str().unwrap().to_owned()
}

async fn priority(name: &str) -> String {
    let all = pd("GET", "/priorities", None).await.json();
    all["priorities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no priority {name}: {all}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn create_incident(service: &str, title: &str, priority: Option<&str>) -> String {
    let mut incident = json!({
        "type": "incident",
        "title": title,
        "service": {"id": service, "type": "service_reference"},
    });
    if let Some(p) = priority {
        incident["priority"] = json!({"id": p, "type": "priority_reference"});
    }
    let r = pd("POST", "/incidents", Some(&json!({ "incident": incident }))).await;
    assert_eq!(r.status, 201, "POST /incidents: {}", r.body);
    r.json()["incident"]["id"].as_str().unwrap().to_owned()
}

async fn notes(incident: &str) -> Vec<String> {
    let r = pd("GET", &format!("/incidents/{incident}/notes"), None).await;
    assert_eq!(r.status, 200, "GET notes: {}", r.body);
    r.json()["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["content"].as_str().unwrap().to_owned())
        .collect()
}

/// The notes once `want` are there (or whatever came within 120 s).
async fn wait_notes(incident: &str, want: usize) -> Vec<String> {
    let started = Instant::now();
    loop {
        let got = notes(incident).await;
        if got.len() >= want || started.elapsed() > Duration::from_secs(120) {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The stand-in's webhook deliveries for `incident`, once none is pending.
async fn settled_deliveries(incident: &str) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let all = standin("GET", "deliveries", None).await;
        if all["pending"] == 0 || started.elapsed() > Duration::from_secs(120) {
            return all["deliveries"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["incident_id"] == incident)
                .cloned()
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The chat messages on the stack's incident topic that name `incident`,
/// read for `secs` seconds (the queue is drained: the tests of this file run
/// one at a time, .config/nextest.toml).
async fn chat_messages(incident: &str, secs: u64) -> usize {
    let sqs = aws_sdk_sqs::Client::new(&local_config().await);
    let queue = env("INCIDENT_QUEUE_URL");
    let until = Instant::now() + Duration::from_secs(secs);
    let mut count = 0;
    while Instant::now() < until {
        count += drain(&sqs, &queue, 1)
            .await
            .iter()
            .filter(|m| m["Message"].as_str().unwrap_or_default().contains(incident))
            .count();
    }
    count
}

async fn calls(operation: &str) -> u64 {
    standin("GET", "calls", None).await["calls"][operation]
        .as_u64()
        .unwrap_or(0)
}

fn hex_hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

fn pagerduty_signature(secret: &str, body: &[u8]) -> String {
    let tag: String = hex_hmac(secret.as_bytes(), &[body])
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("v1={tag}")
}

fn standard_signature(secret: &str, id: &str, ts: i64, body: &[u8]) -> String {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .unwrap();
    let tag = hex_hmac(
        &key,
        &[id.as_bytes(), b".", ts.to_string().as_bytes(), b".", body],
    );
    format!("v1,{}", STANDARD.encode(tag))
}

/// Delivers `body` to `/hooks/{route}` as a sender does: a 503 ("deliver
/// again": the table or the hand-off too slow for the delivery's deadline
/// while the stack is busy) is delivered again, the same bytes, up to 3 times.
async fn hook(route: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut all = headers.to_vec();
    all.push(("content-type", "application/json"));
    let url = format!("{}/hooks/{route}", env("HOOKS_URL"));
    let mut reply = request_bytes("POST", &url, &all, body).await;
    for wait in [1, 2, 4] {
        if reply.status != 503 {
            break;
        }
        eprintln!("{route}: 503 ({}), delivering again in {wait} s", reply.body);
        tokio::time::sleep(Duration::from_secs(wait)).await;
        reply = request_bytes("POST", &url, &all, body).await;
    }
    reply
}

#[tokio::test]
async fn an_incident_on_a_named_service_gets_one_note_per_plan_and_one_chat_message() {
    let run = run_id();
    let service = workload_on_a_service(&run).await;
    let p1 = priority("P1").await;
    let incident = create_incident(&service, "Elevated errors at checkout", Some(&p1)).await;

    let got = wait_notes(&incident, PLANS).await;
    assert_eq!(got.len(), PLANS, "one note per plan: {got:#?}");
    for vendor in ["Acme Cloud", "Beta Payments"] {
        let note = got
            .iter()
            .find(|n| n.contains(vendor))
            .unwrap_or_else(|| panic!("no note for {vendor}: {got:#?}"));
        for expected in [
            "**Open as: Sev 1** (impact 1)",
            "due by",
            "Open a Sev 1 case",
            "Call the TAM",
            "Vendor Support",
            "Dana Reyes",
            &format!("matched PagerDuty service `Checkout {run}`"),
        ] {
            assert!(
                note.contains(expected),
                "{vendor}'s note lacks {expected:?}:\n{note}"
            );
        }
    }
    let deliveries = settled_deliveries(&incident).await;
    assert_eq!(deliveries.len(), 1, "{deliveries:#?}");
    assert_eq!(deliveries[0]["status"], 202, "{deliveries:#?}");
    assert_eq!(chat_messages(&incident, 3).await, 1, "one chat message");
    assert_eq!(notes(&incident).await.len(), PLANS, "nothing more later");
}

#[tokio::test]
async fn five_deliveries_and_a_429_then_a_500_still_post_one_note_per_plan() {
    let run = run_id();
    let service = workload_on_a_service(&run).await;
    standin(
        "POST",
        "faults",
        Some(&json!([
            {"operation": "CreateNote", "status": 429, "retry_after": 1, "count": 1},
            {"operation": "CreateNote", "status": 500, "count": 1},
        ])),
    )
    .await;
    let before = calls("CreateNote").await;
    let incident = create_incident(&service, "Checkout is down", None).await;
    let first = settled_deliveries(&incident).await;
    assert_eq!(first.len(), 1, "{first:#?}");
    let webhook = first[0]["webhook_id"].as_str().unwrap().to_owned();
    for _ in 0..4 {
        standin("POST", &format!("deliveries/{webhook}/redeliver"), None).await;
    }
    settled_deliveries(&incident).await;
    let got = wait_notes(&incident, PLANS).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = notes(&incident).await;
    standin("DELETE", "faults", None).await;
    assert_eq!(got.len(), PLANS, "{got:#?}");
    assert_eq!(
        after.len(),
        PLANS,
        "still one note per plan after five deliveries: {after:#?}"
    );
    assert!(
        calls("CreateNote").await >= before + PLANS as u64 + 2,
        "the 429 and the 500 were served and retried"
    );
    assert!(
        after.iter().all(|n| n.contains("(impact 2)")),
        "urgency high without a priority is impact 2: {after:#?}"
    );
    assert_eq!(chat_messages(&incident, 3).await, 1, "one chat message");
}

#[tokio::test]
async fn forged_unsigned_or_tampered_pagerduty_deliveries_change_nothing() {
    let run = run_id();
    let service = workload_on_a_service(&run).await;
    // The subscription watches another service, so only this test's own
    // deliveries reach the hook for this incident.
    let decoy = pd(
        "POST",
        "/services",
        Some(&json!({"service": {"type": "service", "name": format!("Decoy {run}")}})),
    )
    .await
    .json()["service"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    standin(
        "PUT",
        "subscription",
        Some(&json!({"filter": {"type": "service_reference", "id": decoy}})),
    )
    .await;
    let incident = create_incident(&service, "Checkout is down", None).await;
    standin(
        "PUT",
        "subscription",
        Some(&json!({"filter": {"type": "account_reference"}})),
    )
    .await;
    let body = serde_json::to_vec(&json!({"event": {
        "id": format!("01FORGED{run}"),
        "event_type": "incident.triggered",
        "resource_type": "incident",
        "occurred_at": jiff::Timestamp::now().to_string(),
        "agent": null,
        "client": null,
        "data": {"id": incident, "type": "incident", "title": "Checkout is down"},
    }}))
    .unwrap();
    let reads_before = calls("GetIncident").await;

    let secret = env("PAGERDUTY_WEBHOOK_SECRET");
    let wrong = pagerduty_signature("not-the-subscription-secret", &body);
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    let signed_other = pagerduty_signature(&secret, &tampered);
    // Unsigned, forged or tampered: 401; a header that holds no v1 value is
    // malformed: 400.
    let cases: [(&str, Headers, u16); 4] = [
        ("no signature", vec![], 401),
        (
            "a wrong secret",
            vec![("x-pagerduty-signature", wrong.as_str())],
            401,
        ),
        (
            "a signature of other bytes",
            vec![("x-pagerduty-signature", signed_other.as_str())],
            401,
        ),
        ("not a v1 value", vec![("x-pagerduty-signature", "v0=00")], 400),
    ];
    for (what, headers, status) in &cases {
        let r = hook("pagerduty", headers, &body).await;
        assert_eq!(r.status, *status, "{what}: {}", r.body);
        assert!(!r.body.contains(&secret), "{what}: the answer shows the secret");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(notes(&incident).await.len(), 0, "nothing posted");
    assert_eq!(
        calls("GetIncident").await,
        reads_before,
        "the incident was not even read"
    );
    assert_eq!(chat_messages(&incident, 2).await, 0, "no chat message");

    // The same bytes signed with the subscription's secret are answered.
    let good = pagerduty_signature(&secret, &body);
    let r = hook("pagerduty", &[("x-pagerduty-signature", &good)], &body).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(wait_notes(&incident, PLANS).await.len(), PLANS);
}

#[tokio::test]
async fn generic_webhooks_stale_forged_or_replayed_are_refused_and_post_nothing() {
    let run = run_id();
    workload_on_a_service(&run).await;
    let secret = env("INCIDENT_WEBHOOK_SECRET");
    let now = jiff::Timestamp::now().as_second();
    let refused_id = format!("INC-REFUSED-{run}");
    let body = |id: &str| {
        serde_json::to_vec(&json!({
            "id": id,
            "title": "Checkout errors",
            "impact": 2,
            "workload": format!("pd-{run}"),
            "url": "https://incidents.example.com/1",
        }))
        .unwrap()
    };
    let refused = body(&refused_id);
    let msg = format!("msg_refused_{run}");
    let stale_sig = standard_signature(&secret, &msg, now - 600, &refused);
    let stale_ts = (now - 600).to_string();
    let not_ours = format!("whsec_{}", STANDARD.encode([7u8; 32]));
    let wrong_sig = standard_signature(&not_ours, &msg, now, &refused);
    let now_ts = now.to_string();
    let cases: [(&str, Headers); 3] = [
        (
            "unsigned",
            vec![("webhook-id", &msg), ("webhook-timestamp", &now_ts)],
        ),
        (
            "a wrong secret",
            vec![
                ("webhook-id", &msg),
                ("webhook-timestamp", &now_ts),
                ("webhook-signature", &wrong_sig),
            ],
        ),
        (
            "ten minutes old",
            vec![
                ("webhook-id", &msg),
                ("webhook-timestamp", &stale_ts),
                ("webhook-signature", &stale_sig),
            ],
        ),
    ];
    for (what, headers) in &cases {
        let r = hook("incident", headers, &refused).await;
        assert_eq!(r.status, 401, "{what}: {}", r.body);
    }
    assert_eq!(
        chat_messages(&refused_id, 2).await,
        0,
        "nothing told for refused deliveries"
    );

    let accepted_id = format!("INC-OK-{run}");
    let ok = body(&accepted_id);
    let id = format!("msg_ok_{run}");
    let sig = standard_signature(&secret, &id, now, &ok);
    let headers = [
        ("webhook-id", id.as_str()),
        ("webhook-timestamp", now_ts.as_str()),
        ("webhook-signature", sig.as_str()),
    ];
    let r = hook("incident", &headers, &ok).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let replay = hook("incident", &headers, &ok).await;
    assert_eq!(replay.status, 409, "a replayed webhook-id: {}", replay.body);
    assert_eq!(
        chat_messages(&accepted_id, 4).await,
        1,
        "the accepted delivery is told once"
    );
}

/// SPEC §13 for PagerDuty: an incident aged in the stand-in hears each due
/// step once in its notes, over overlapping sweeps; a portal marks a vendor
/// as responding (`POST /incidents/{id}/plans/{plan}/responded`), after
/// which that plan hears nothing more while the other still does.
#[tokio::test]
async fn an_aged_pagerduty_incident_is_followed_up_until_a_portal_marks_its_vendor_responding() {
    let run = run_id();
    let service = workload_on_a_service(&run).await;
    let p1 = priority("P1").await;
    let incident = create_incident(&service, "Checkout follow-through", Some(&p1)).await;
    assert_eq!(wait_notes(&incident, PLANS).await.len(), PLANS);

    // Minute 35: each plan's step at minute 30 (plan_body's "Call the TAM"),
    // once, although two sweeps overlap and a third follows.
    standin(
        "POST",
        &format!("incidents/{incident}/age"),
        Some(&json!({"minutes": 35})),
    )
    .await;
    let sweep = || async {
        let r = request(
            "POST",
            &format!(
                "{}/2015-03-31/functions/incident-responder/invocations",
                env("LAMBDA_ENDPOINT")
            ),
            &[],
            Some(&json!({"sweep": true})),
        )
        .await;
        assert_eq!(r.status, 200, "sweep: {}", r.body);
    };
    tokio::join!(sweep(), sweep());
    sweep().await;
    let follow_ups = |all: Vec<String>| -> Vec<String> {
        all.into_iter().filter(|n| n.contains("### Follow-up")).collect()
    };
    let due = follow_ups(wait_notes(&incident, PLANS * 2).await);
    assert_eq!(due.len(), PLANS, "one follow-up per plan: {due:#?}");
    assert!(
        due.iter()
            .all(|n| n.contains("Call the TAM") && n.contains("support-plans ref "))
    );

    // A portal marks Beta Payments' vendor as responding.
    let plan = format!("pd-plan-1-{run}");
    let url = format!("{}/incidents/{incident}/plans/{plan}/responded", env("HOOKS_URL"));
    let who = [("x-local-principal", "portal@example.com")];
    let r = request("POST", &url, &who, None).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["by"], "portal@example.com", "{}", r.body);
    let again = request(
        "POST",
        &url,
        &[("x-local-principal", "someone@example.com")],
        None,
    )
    .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json()["by"], "portal@example.com", "the first mark stands");
    let unknown = request(
        "POST",
        &format!(
            "{}/incidents/{incident}/plans/no-such-plan-{run}/responded",
            env("HOOKS_URL")
        ),
        &who,
        None,
    )
    .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);

    // Minute 65: both first responses are due, but only Acme's is told.
    standin(
        "POST",
        &format!("incidents/{incident}/age"),
        Some(&json!({"minutes": 30})),
    )
    .await;
    sweep().await;
    sweep().await;
    let all = wait_notes(&incident, PLANS * 2 + 2).await;
    let told: Vec<&String> = all
        .iter()
        .filter(|n| n.contains("### Vendor responding"))
        .collect();
    assert_eq!(told.len(), 1, "{all:#?}");
    assert!(told[0].contains("Beta Payments") && told[0].contains("portal@example.com"));
    let due: Vec<&String> = all
        .iter()
        .filter(|n| n.contains("### First response due"))
        .collect();
    assert_eq!(due.len(), 1, "{all:#?}");
    assert!(due[0].contains("Acme Cloud"), "{}", due[0]);
}
