//! End to end, through the binaries that deploy: the plans API, the incident
//! responder and the freshness check running under `cargo lambda watch`, with
//! moto and the Incident Manager emulator, as `make local-up` starts them
//! (`make test` runs this inside a private stack). The same flow as `make demo`:
//! samples loaded through the API, a response plan wired to the responder, an
//! incident started with the SDK, the posts appearing with no other call, the
//! freshness check's reminders, the readiness figures.
//!
//! Every name carries this run's id, so the test also runs against a stack
//! that already holds data (a developer's `make local-up`).

use std::time::{Duration, Instant};

use aws_sdk_ssmincidents::types::{ChatChannel, IncidentTemplate, ItemValue};
use serde_json::{Value, json};
use support_plans_tests::http::request;
use support_plans_tests::incidents::{involved_resource, runbook_action};
use support_plans_tests::stack_env as env;
use support_plans_tests::{api, drain, local_config, topic_with_queue};

fn sample(path: &str) -> Value {
    let file = format!("{}/../infra/local/samples/{path}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&file).expect("sample file")).expect("sample JSON")
}

/// The samples, renamed for this run: plan ids, owner teams, the workloads'
/// dependencies and match rules (only this run's incident can match them).
struct Samples {
    plans: Vec<Value>,
    workloads: Vec<Value>,
}

fn samples(run: &str) -> Samples {
    let plan_files = [
        "aws-business",
        "datadog-enterprise",
        "mongodb-atlas",
        "stripe-premium",
    ];
    let plans = plan_files
        .iter()
        .map(|f| {
            let mut p = sample(&format!("plans/{f}.json"));
            p["id"] = json!(format!("{f}-{run}"));
            p["owner"]["team"] = json!(format!("{}-{run}", p["owner"]["team"].as_str().unwrap()));
            p
        })
        .collect();
    let workloads = ["payments", "checkout-web", "analytics"]
        .iter()
        .map(|f| {
            let mut w = sample(&format!("workloads/{f}.json"));
            w["name"] = json!(format!("{f}-{run}"));
            w["owner"]["team"] = json!(format!("{}-{run}", w["owner"]["team"].as_str().unwrap()));
            let deps: Vec<String> = w["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| format!("{}-{run}", d.as_str().unwrap()))
                .collect();
            w["dependencies"] = json!(deps);
            w["match"] = json!({
                "response_plans": [format!("{f}-critical-{run}")],
                "resource_patterns": [format!("arn:aws:rds:*:*:db:{f}-{run}-*")],
                "title_keywords": [format!("{f}{run}")],
            });
            w
        })
        .collect();
    Samples { plans, workloads }
}

fn attr<'a>(envelope: &'a Value, name: &str) -> &'a str {
    envelope["MessageAttributes"][name]["Value"]
        .as_str()
        .unwrap_or_default()
}

async fn readiness() -> Value {
    let r = api("GET", "/readiness", "platform", None).await;
    assert_eq!(r.status, 200, "GET /readiness: {}", r.body);
    r.json()
}

#[tokio::test]
async fn the_story_through_the_binaries_that_deploy() {
    let run = format!("{:x}", jiff::Timestamp::now().as_millisecond() % 0xff_ffff);
    let config = local_config().await;
    let im = aws_sdk_ssmincidents::Client::new(&config);
    let sns = aws_sdk_sns::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let before = readiness().await;

    // 1. The samples, loaded through the API by their owner teams.
    let s = samples(&run);
    for p in &s.plans {
        let r = api("POST", "/plans", p["owner"]["team"].as_str().unwrap(), Some(p)).await;
        assert_eq!(r.status, 201, "POST /plans {}: {}", p["id"], r.body);
        assert_eq!(r.header("etag"), Some("\"1\""));
    }
    for w in &s.workloads {
        let r = api(
            "POST",
            "/workloads",
            w["owner"]["team"].as_str().unwrap(),
            Some(w),
        )
        .await;
        assert_eq!(r.status, 201, "POST /workloads {}: {}", w["name"], r.body);
    }
    // A bad plan is refused, naming the field, and nothing is written.
    let mut bad = s.plans[0].clone();
    bad["id"] = json!(format!("bad-{run}"));
    bad["contacts"][0]["email"] = json!("not an address");
    let r = api(
        "POST",
        "/plans",
        bad["owner"]["team"].as_str().unwrap(),
        Some(&bad),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("contacts[0].email"), "{}", r.body);
    let r = api("GET", &format!("/plans/bad-{run}"), "platform", None).await;
    assert_eq!(r.status, 404, "a refused plan must not be stored: {}", r.body);

    // 2. A response plan wired as deployed: the runbook action with the two
    // dynamic parameters, and an AWS Chatbot SNS topic as its chat channel.
    let (chat_topic, chat_queue) = topic_with_queue(&sns, &sqs, &format!("chat-{run}")).await;
    let plan_arn = im
        .create_response_plan()
        .name(format!("payments-critical-{run}"))
        .incident_template(
            IncidentTemplate::builder()
                .title("Payments incident")
                .impact(2)
                .build()
                .unwrap(),
        )
        .chat_channel(ChatChannel::ChatbotSns(vec![chat_topic.clone()]))
        .actions(runbook_action())
        .send()
        .await
        .expect("create the response plan")
        .arn;

    // 3. The incident, started with the SDK; nothing else is called.
    let db = format!("arn:aws:rds:us-east-1:111122223333:db:payments-{run}-ledger");
    let started = Instant::now();
    let incident = im
        .start_incident()
        .response_plan_arn(&plan_arn)
        .title(format!("Ledger timeouts {run}"))
        .impact(1)
        .related_items(involved_resource(&db))
        .send()
        .await
        .expect("start the incident")
        .incident_record_arn;

    // Both triggers (the CloudTrail event and the runbook payload) are
    // delivered to the responder under cargo lambda watch and answered.
    let emulator = env("AWS_ENDPOINT_URL_SSM_INCIDENTS");
    let deliveries = loop {
        let all = request("GET", &format!("{emulator}/_emulator/deliveries"), &[], None)
            .await
            .json();
        let ours: Vec<Value> = all["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["incident_record_arn"] == json!(incident))
            .cloned()
            .collect();
        if ours.len() >= 2 || started.elapsed() > Duration::from_secs(120) {
            break ours;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let kinds: Vec<&str> = deliveries.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(deliveries.len(), 2, "two triggers delivered: {deliveries:?}");
    assert!(
        deliveries
            .iter()
            .all(|d| d["delivered"] == json!(true) && d["status"] == json!(200)),
        "the responder answered both: {deliveries:?}"
    );

    // One note per plan the payments workload relies on, each naming its
    // vendor and the vendor severity for impact 1.
    let events = im
        .list_timeline_events()
        .incident_record_arn(&incident)
        .send()
        .await
        .expect("timeline")
        .event_summaries;
    let mut notes = Vec::new();
    for e in events.iter().filter(|e| e.event_type == "Note") {
        let event = im
            .get_timeline_event()
            .incident_record_arn(&incident)
            .event_id(&e.event_id)
            .send()
            .await
            .expect("the note")
            .event
            .unwrap();
        notes.push(event.event_data);
    }
    // aws-business opens its AWS Support case at impact 2 or worse (SPEC §13):
    // one more note, with the case id, once.
    let (cases, notes): (Vec<String>, Vec<String>) = notes
        .into_iter()
        .partition(|n| n.contains("### AWS Support case"));
    assert_eq!(cases.len(), 1, "the AWS case's note, once: {cases:#?}");
    assert_eq!(
        notes.len(),
        4,
        "one note per plan of payments, once, after {kinds:?}: {notes:#?}"
    );
    for p in &s.plans {
        let vendor = p["vendor"].as_str().unwrap();
        let severity = p["severities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["impacts"].as_array().unwrap().contains(&json!(1)))
            .map(|v| v["name"].as_str().unwrap())
            .unwrap_or_else(|| panic!("{vendor}'s sample maps impact 1"));
        let note = notes
            .iter()
            .find(|n| n.contains(vendor))
            .unwrap_or_else(|| panic!("no note names {vendor}: {notes:#?}"));
        assert!(
            note.contains(severity),
            "{vendor}'s note lacks its impact-1 severity {severity:?}: {note}"
        );
    }

    // The vendors' portals, once each.
    let items = im
        .list_related_items()
        .incident_record_arn(&incident)
        .send()
        .await
        .expect("related items")
        .related_items;
    let urls: Vec<String> = items
        .iter()
        .filter_map(|i| match i.identifier.as_ref()?.value.as_ref()? {
            ItemValue::Url(u) => Some(u.clone()),
            _ => None,
        })
        .collect();
    let mut unique = urls.clone();
    unique.sort();
    unique.dedup();
    assert!(!urls.is_empty(), "no portal was added: {items:?}");
    assert_eq!(urls.len(), unique.len(), "a portal was added twice: {urls:?}");

    // Exactly one chat message on the response plan's channel, threaded on
    // the incident, although two triggers arrived.
    let chats = drain(&sqs, &chat_queue, 2).await;
    assert_eq!(chats.len(), 1, "one chat message: {chats:#?}");
    let chat: Value = serde_json::from_str(chats[0]["Message"].as_str().unwrap()).unwrap();
    assert_eq!(chat["metadata"]["threadId"], json!(incident), "{chat}");

    // 4. The freshness check, invoked as its schedule would: every owner team
    // of this run gets one reminder naming its plan (contacts never verified).
    let lambda = env("LAMBDA_ENDPOINT");
    let r = request(
        "POST",
        &format!("{lambda}/2015-03-31/functions/freshness-check/invocations"),
        &[],
        Some(&json!({})),
    )
    .await;
    assert_eq!(r.status, 200, "freshness-check: {}", r.body);
    assert!(
        r.header("x-amz-function-error").is_none(),
        "freshness-check failed: {}",
        r.body
    );
    let reminders = drain(&sqs, &env("REMINDER_QUEUE_URL"), 2).await;
    for p in &s.plans {
        let team = p["owner"]["team"].as_str().unwrap();
        let theirs: Vec<&Value> = reminders
            .iter()
            .filter(|m| attr(m, "owner_team") == team)
            .collect();
        assert_eq!(theirs.len(), 1, "one reminder to {team}: {reminders:#?}");
        let plan_ids: Vec<String> = serde_json::from_str(attr(theirs[0], "plan_ids")).unwrap();
        assert!(
            plan_ids.contains(&p["id"].as_str().unwrap().to_owned()),
            "{plan_ids:?}"
        );
        assert!(
            theirs[0]["Message"].as_str().unwrap().contains("/verify/"),
            "a one-click link"
        );
    }

    // 5. The readiness figures moved by what this run did.
    let after = readiness().await;
    let delta = |k: &str| after[k].as_u64().unwrap() - before[k].as_u64().unwrap();
    assert_eq!(delta("plans"), 4, "{after}");
    assert_eq!(delta("workloads"), 3, "{after}");
    assert_eq!(
        delta("incidents_matched"),
        1,
        "the incident counted once: {after}"
    );
    assert!(delta("reminders_sent") >= 4, "{after}");
}
