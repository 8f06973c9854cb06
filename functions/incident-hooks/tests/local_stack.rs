//! The webhook edge's adapters against the local stack (SPEC §11, §13): the
//! webhook ids and the response marks in the table (moto DynamoDB), the secrets (moto Secrets
//! Manager), and the hand-off's Lambda `Invoke` against a listener in the
//! test playing the Lambda API. Run inside the stack:
//! `infra/local/with-stack.sh cargo nextest run -p incident-hooks --test local_stack`.

use std::sync::{Arc, Mutex};

use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::response::IntoResponse;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use incident_hooks::{Hooks, app};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support_plans_aws::adapters::HooksAdapters;
use support_plans_aws::hand_off::LambdaHandOff;
use support_plans_aws::secrets::SecretsManagerText;
use support_plans_domain::ports::{HandOff, PortError, SecretText, WebhookIds};
use support_plans_domain::responded::{Marked, PostedNotes, Responded, ResponseMarks, Via};
use support_plans_domain::testing::hand_off::FakeHandOff;
use tower::ServiceExt as _;

// ---- WebhookIds on the table ------------------------------------------------

#[tokio::test]
async fn a_webhook_id_is_a_replay_once_handed_off_until_it_expires() {
    let store = support_plans_tests::fresh_store().await;
    let now = Timestamp::now();
    let until = now + SignedDuration::from_mins(5);
    assert!(
        !store.handed_off_before("msg_a", now).await.unwrap(),
        "never seen"
    );
    store.handed_off("msg_a", until).await.unwrap();
    // Recorded twice (a retried call that had landed): no error, the same record.
    store.handed_off("msg_a", until).await.unwrap();
    assert!(store.handed_off_before("msg_a", now).await.unwrap(), "a replay");
    assert!(
        store.handed_off_before("msg_a", until).await.unwrap(),
        "to the window's end"
    );
    assert!(
        !store.handed_off_before("msg_b", now).await.unwrap(),
        "another id"
    );
    // The item as the table holds it: its own key, the TTL attribute.
    let item = store
        .client()
        .get_item()
        .table_name(store.table())
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("WEBHOOK#msg_a".into()),
        )
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("STATE".into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("the id is stored");
    assert_eq!(item["expires_at"].as_n().unwrap(), &until.as_second().to_string());
    // Expired (the TTL has not deleted it yet): no replay.
    let later = until + SignedDuration::from_secs(1);
    assert!(!store.handed_off_before("msg_a", later).await.unwrap());
}

// ---- ResponseMarks and PostedNotes on the table (SPEC §13) -------------------

const ARN: &str = "arn:aws:ssm-incidents::111122223333:incident-record/payments-critical/6ac3b7d0";

fn mark(plan: &str, by: &str, at: Timestamp, via: Via) -> Responded {
    Responded {
        plan: plan.into(),
        by: by.into(),
        at,
        via,
    }
}

fn second(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap()
}

#[tokio::test]
async fn the_first_mark_stands_and_a_second_gets_it_back() {
    let store = support_plans_tests::fresh_store().await;
    let at = second(Timestamp::now());
    let first = mark("aws-business", "Dana Reyes", at, Via::Link);
    assert_eq!(store.mark(ARN, &first).await.unwrap(), Marked::First);
    let later = mark(
        "aws-business",
        "arn:aws:sts::1:assumed-role/p/s",
        at + SignedDuration::from_mins(3),
        Via::Api,
    );
    assert_eq!(
        store.mark(ARN, &later).await.unwrap(),
        Marked::Already(first.clone())
    );
    // The item as the table holds it: beside the claim item, with the TTL.
    let item = store
        .client()
        .get_item()
        .table_name(store.table())
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("CLAIM#{ARN}")),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("RESPONDED#aws-business".into()),
        )
        .send()
        .await
        .unwrap()
        .item
        .expect("the mark is stored");
    assert_eq!(item["by"].as_s().unwrap(), "Dana Reyes");
    assert_eq!(item["via"].as_s().unwrap(), "link");
    assert_eq!(item["at"].as_s().unwrap(), &at.to_string());
    assert_eq!(
        item["expires_at"].as_n().unwrap(),
        &(at + SignedDuration::from_hours(24 * 14)).as_second().to_string()
    );
}

#[tokio::test]
async fn of_concurrent_marks_exactly_one_is_first_and_the_others_get_it() {
    let store = support_plans_tests::fresh_store().await;
    let at = second(Timestamp::now());
    let tries: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .mark(ARN, &mark("aws-business", &format!("person {i}"), at, Via::Api))
                    .await
            })
        })
        .collect();
    let mut firsts = 0;
    let mut told = Vec::new();
    for t in tries {
        match t.await.unwrap().unwrap() {
            Marked::First => firsts += 1,
            Marked::Already(m) => told.push(m),
        }
    }
    assert_eq!(firsts, 1);
    let stored = store.marks(ARN).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(told.len(), 7);
    assert!(told.iter().all(|m| *m == stored["aws-business"]), "{told:?}");
}

#[tokio::test]
async fn marks_lists_every_plan_of_the_incident_only() {
    let store = support_plans_tests::fresh_store().await;
    let at = second(Timestamp::now());
    for plan in ["aws-business", "stripe-premium", "datadog"] {
        store.mark(ARN, &mark(plan, "Dana", at, Via::Link)).await.unwrap();
    }
    store
        .mark("pagerduty:PGR0VU2", &mark("aws-business", "Sam", at, Via::Api))
        .await
        .unwrap();
    // The incident's claim item, beside the marks, is not one.
    put_claim(&store, ARN, &["NOTE#aws-business"]).await;
    let marks = store.marks(ARN).await.unwrap();
    assert_eq!(
        marks.keys().map(String::as_str).collect::<Vec<_>>(),
        ["aws-business", "datadog", "stripe-premium"]
    );
    assert_eq!(marks["datadog"], mark("datadog", "Dana", at, Via::Link));
    assert_eq!(store.marks("pagerduty:PGR0VU2").await.unwrap().len(), 1);
    assert!(store.marks("pagerduty:NONE").await.unwrap().is_empty());
}

#[tokio::test]
async fn a_note_counts_as_posted_only_when_the_claim_item_has_it_done() {
    let store = support_plans_tests::fresh_store().await;
    assert!(
        !store.note_posted(ARN, "aws-business").await.unwrap(),
        "no claim item"
    );
    put_claim(
        &store,
        ARN,
        &["NOTE#aws-business", "LINK#aws-business", "COUNTED"],
    )
    .await;
    assert!(store.note_posted(ARN, "aws-business").await.unwrap());
    assert!(!store.note_posted(ARN, "stripe-premium").await.unwrap());
    assert!(
        !store
            .note_posted("pagerduty:PGR0VU2", "aws-business")
            .await
            .unwrap()
    );
}

/// A claim item as the responder leaves it after posting `done`.
async fn put_claim(store: &support_plans_aws::DynamoStore, incident: &str, done: &[&str]) {
    use aws_sdk_dynamodb::types::AttributeValue;
    store
        .client()
        .put_item()
        .table_name(store.table())
        .item("pk", AttributeValue::S(format!("CLAIM#{incident}")))
        .item("sk", AttributeValue::S("STATE".into()))
        .item("version", AttributeValue::N("2".into()))
        .item(
            "done",
            AttributeValue::Ss(done.iter().map(|d| (*d).to_owned()).collect()),
        )
        .send()
        .await
        .unwrap();
}

// ---- The responded routes' deadlines (SPEC §13) ------------------------------

/// A portal's call (or a person's click) is not a webhook delivery that its
/// sender gives up on after 5 s: through the function's own adapters, with
/// every storage call taking 1.2 s (over the webhooks' 1 s attempt and 1.5 s
/// call deadlines), the mark is still recorded, not answered 503.
#[tokio::test]
async fn a_portals_mark_waits_out_storage_slower_than_a_webhooks_deadline() {
    let store = support_plans_tests::fresh_store().await;
    let incident = "pagerduty:PSLOW01";
    put_claim(&store, incident, &["NOTE#aws-business"]).await;
    support_plans_tests::local_config().await; // refuses anything but the local stack
    let moto = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL of the local stack");
    let slow = std::time::Duration::from_millis(1200);
    assert!(slow > support_plans_aws::deadlines::HOOKS_OPERATION_TIMEOUT * 3 / 4);
    let (url, _proxy) = support_plans_tests::proxy::latency_proxy(&moto, slow).await;
    // Loaded again: an endpoint set on the loader wins over AWS_ENDPOINT_URL.
    let sdk = support_plans_aws::sdk::loader().endpoint_url(url).load().await;
    let a = HooksAdapters::new(
        &sdk,
        store.table(),
        "no-pagerduty-secret",
        "no-incident-secret",
        "no-link-keys",
        "no-responder",
    );
    let handed = FakeHandOff::default();
    let mut hooks = Hooks::new(
        a.ids,
        a.marks,
        handed.clone(),
        a.pagerduty_secret,
        a.incident_secret,
        a.responded_key,
    );
    hooks.local_auth = true;
    let started = std::time::Instant::now();
    let response = app(hooks)
        .oneshot(
            Request::post("/incidents/PSLOW01/plans/aws-business/responded")
                .header("x-local-principal", "portal@example.com")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    assert_eq!(
        status,
        StatusCode::CREATED,
        "after {:?}: {}",
        started.elapsed(),
        String::from_utf8_lossy(&bytes)
    );
    let marks = store.marks(incident).await.unwrap();
    assert_eq!(marks["aws-business"].by, "portal@example.com");
    assert_eq!(handed.payloads().len(), 1, "handed to the responder once");
}

// ---- The secrets ------------------------------------------------------------

async fn secret(value: Option<&str>) -> (aws_sdk_secretsmanager::Client, String) {
    let config = support_plans_tests::local_config().await;
    let client = aws_sdk_secretsmanager::Client::new(&config);
    let name = format!(
        "webhook-{}-{}",
        std::process::id(),
        Timestamp::now().as_nanosecond()
    );
    let mut create = client.create_secret().name(&name);
    if let Some(v) = value {
        create = create.secret_string(v);
    }
    create.send().await.unwrap();
    (client, name)
}

fn made_up() -> Vec<u8> {
    Sha256::digest(format!(
        "{}/{}",
        std::process::id(),
        Timestamp::now().as_nanosecond()
    ))
    .to_vec()
}

#[tokio::test]
async fn the_secrets_are_read_from_secrets_manager_and_verify_deliveries() {
    let pd: String = made_up().iter().map(|b| format!("{b:02x}")).collect();
    let whsec = format!("whsec_{}", STANDARD.encode(made_up()));
    let (client, pd_name) = secret(Some(&pd)).await;
    let (_, std_name) = secret(Some(&whsec)).await;
    let pd_secret = SecretsManagerText::new(client.clone(), &pd_name);
    assert_eq!(pd_secret.read_text().await.unwrap(), pd);

    // Through the handler, over the table and the two secrets.
    let store = support_plans_tests::fresh_store().await;
    let handed = FakeHandOff::default();
    let app = app(Hooks::new(
        store.clone(),
        store.clone(),
        handed.clone(),
        pd_secret,
        SecretsManagerText::new(client.clone(), &std_name),
        SecretsManagerText::new(client.clone(), &std_name),
    ));
    let body = serde_json::to_vec(
        &json!({"event": {"id": "E1", "event_type": "incident.triggered", "data": {"id": "PGR0VU2"}}}),
    )
    .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(pd.as_bytes()).unwrap();
    mac.update(&body);
    let sig: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let request = Request::post("/hooks/pagerduty")
        .header("x-pagerduty-signature", format!("v1={sig}"))
        .body(Body::from(body))
        .unwrap();
    assert_eq!(app.clone().oneshot(request).await.unwrap().status(), 202);

    let send = signed_incident(
        &whsec,
        "msg_local",
        &json!({"id": "INC-1", "title": "Payments down"}),
    );
    assert_eq!(app.clone().oneshot(send()).await.unwrap().status(), 202);
    assert_eq!(
        app.clone().oneshot(send()).await.unwrap().status(),
        409,
        "replayed"
    );
    assert_eq!(handed.payloads().len(), 2);
}

#[tokio::test]
async fn a_secret_without_a_value_makes_its_route_503() {
    let (client, empty) = secret(None).await;
    let (_, blank) = secret(Some("")).await;
    assert!(
        SecretsManagerText::new(client.clone(), &empty)
            .read_text()
            .await
            .is_err()
    );
    let store = support_plans_tests::fresh_store().await;
    let app = app(Hooks::new(
        store.clone(),
        store,
        FakeHandOff::default(),
        SecretsManagerText::new(client.clone(), &empty),
        SecretsManagerText::new(client.clone(), &blank),
        SecretsManagerText::new(client.clone(), &empty),
    ));
    for route in ["/hooks/pagerduty", "/hooks/incident"] {
        let response = app
            .clone()
            .oneshot(Request::post(route).body(Body::from("{}")).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), 503, "{route}");
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let detail = serde_json::from_slice::<Value>(&bytes).unwrap()["detail"].to_string();
        assert!(detail.contains("_WEBHOOK_SECRET_ARN"), "{detail}");
    }
}

/// A `POST /hooks/incident` of `incident` as delivery `id`, signed now with
/// `whsec` (Standard Webhooks); each call makes the same request again.
fn signed_incident(whsec: &str, id: &str, incident: &Value) -> impl Fn() -> Request<Body> + use<> {
    let ts = Timestamp::now().as_second().to_string();
    let body = serde_json::to_vec(incident).unwrap();
    let key = STANDARD.decode(whsec.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(&body);
    let sig = STANDARD.encode(mac.finalize().into_bytes());
    let id = id.to_owned();
    move || {
        Request::post("/hooks/incident")
            .header("webhook-id", &id)
            .header("webhook-timestamp", &ts)
            .header("webhook-signature", format!("v1,{sig}"))
            .body(Body::from(body.clone()))
            .unwrap()
    }
}

/// A delivery the table is too slow for is answered 503 (PagerDuty's 5 s
/// leave no room to wait), and the sender's redelivery of the same message,
/// to another instance once the table is quick again, is handed off: the
/// slow call's write landed after its deadline, and is no replay.
#[tokio::test]
async fn a_delivery_answered_503_for_a_slow_table_is_handed_off_when_redelivered() {
    let whsec = format!("whsec_{}", STANDARD.encode(made_up()));
    let (client, std_name) = secret(Some(&whsec)).await;
    let store = support_plans_tests::fresh_store().await;
    let moto = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL of the local stack");
    let slow = std::time::Duration::from_millis(1200);
    let (url, _proxy) = support_plans_tests::proxy::latency_proxy(&moto, slow).await;
    // Loaded again: an endpoint set on the loader wins over AWS_ENDPOINT_URL.
    let sdk = support_plans_aws::sdk::loader().endpoint_url(url).load().await;
    let slow_table = HooksAdapters::new(&sdk, store.table(), "-", "-", "-", "-").ids;
    let handed = FakeHandOff::default();
    let instance = |ids: support_plans_aws::DynamoStore| {
        app(Hooks::new(
            ids.clone(),
            ids,
            handed.clone(),
            SecretsManagerText::new(client.clone(), &std_name),
            SecretsManagerText::new(client.clone(), &std_name),
            SecretsManagerText::new(client.clone(), &std_name),
        ))
    };
    let send = signed_incident(
        &whsec,
        "msg_slow",
        &json!({"id": "INC-2", "title": "Checkout down"}),
    );

    let first = instance(slow_table).oneshot(send()).await.unwrap();
    assert_eq!(
        first.status(),
        503,
        "the table answered after the delivery's deadline"
    );
    assert!(handed.payloads().is_empty());
    // The proxy still delivers what the abandoned attempts sent.
    tokio::time::sleep(slow * 2).await;

    let quick = instance(store.clone());
    let again = quick.clone().oneshot(send()).await.unwrap();
    assert_eq!(again.status(), 202, "the redelivery is not a replay");
    assert_eq!(handed.payloads().len(), 1);
    let replay = quick.oneshot(send()).await.unwrap();
    assert_eq!(
        replay.status(),
        409,
        "once handed off, the same message is a replay"
    );
    assert_eq!(handed.payloads().len(), 1);
}

// ---- The hand-off: Lambda Invoke --------------------------------------------

/// One Invoke request: its path, `X-Amz-Invocation-Type`, its payload.
type Call = (String, Option<String>, Value);

#[derive(Debug, Clone, Default)]
struct LambdaApi {
    /// (path, invocation type, body) of every request.
    calls: Arc<Mutex<Vec<Call>>>,
    /// What to answer: status and error type.
    answer: Arc<Mutex<(u16, &'static str)>>,
}

async fn invoke(
    State(api): State<LambdaApi>,
    Path(function): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let kind = headers
        .get("x-amz-invocation-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let payload = serde_json::from_slice(&body).unwrap_or(Value::Null);
    api.calls.lock().unwrap().push((
        format!("/2015-03-31/functions/{function}/invocations"),
        kind,
        payload,
    ));
    let (status, error) = *api.answer.lock().unwrap();
    let status = StatusCode::from_u16(status).unwrap();
    if status.is_success() {
        (status, [("x-amzn-errortype", "")], String::new()).into_response()
    } else {
        (
            status,
            [("x-amzn-errortype", error)],
            json!({"Type": "User", "message": "from the test's Lambda API"}).to_string(),
        )
            .into_response()
    }
}

/// A Lambda API on a free loopback port, and a hand-off to `function` through it.
async fn lambda_api(function: &str) -> (LambdaApi, LambdaHandOff) {
    let api = LambdaApi::default();
    *api.answer.lock().unwrap() = (202, "");
    let router = Router::new()
        .route(
            "/2015-03-31/functions/{function}/invocations",
            axum::routing::post(invoke),
        )
        .with_state(api.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(url)
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(std::time::Duration::from_millis(1)),
        )
        .timeout_config(support_plans_aws::deadlines::hooks_timeouts())
        .http_client(support_plans_aws::sdk::http_client())
        .build();
    let hand_off = LambdaHandOff::new(aws_sdk_lambda::Client::from_conf(config), function);
    (api, hand_off)
}

#[tokio::test]
async fn the_hand_off_invokes_the_responder_asynchronously_with_the_payload() {
    let (api, hand_off) = lambda_api("support-plans-responder").await;
    let payload = json!({"pagerduty": {"incident_id": "PGR0VU2", "event_id": "E1"}});
    hand_off.hand_off(&payload).await.unwrap();
    assert_eq!(
        *api.calls.lock().unwrap(),
        vec![(
            "/2015-03-31/functions/support-plans-responder/invocations".to_owned(),
            Some("Event".to_owned()),
            payload
        )]
    );
}

#[tokio::test]
async fn a_throttled_or_failing_lambda_is_retried_then_retry_and_a_missing_function_refused() {
    let (api, hand_off) = lambda_api("support-plans-responder").await;
    let payload = json!({"pagerduty": {"incident_id": "PGR0VU2", "event_id": "E1"}});
    *api.answer.lock().unwrap() = (429, "TooManyRequestsException");
    assert!(matches!(
        hand_off.hand_off(&payload).await,
        Err(PortError::Retry(_))
    ));
    assert_eq!(api.calls.lock().unwrap().len(), 3, "the SDK's standard retry");
    api.calls.lock().unwrap().clear();
    *api.answer.lock().unwrap() = (500, "ServiceException");
    assert!(matches!(
        hand_off.hand_off(&payload).await,
        Err(PortError::Retry(_))
    ));
    assert_eq!(api.calls.lock().unwrap().len(), 3);
    api.calls.lock().unwrap().clear();
    *api.answer.lock().unwrap() = (404, "ResourceNotFoundException");
    let e = hand_off.hand_off(&payload).await.unwrap_err();
    assert!(e.is_refused(), "{e}");
    assert!(e.to_string().contains("support-plans-responder"), "{e}");
    assert_eq!(api.calls.lock().unwrap().len(), 1, "not retried");
}

/// The local stack's responder, under `cargo lambda watch`: the hand-off
/// reaches it through its Invoke API (which, unlike Lambda, runs the
/// function before it answers).
#[tokio::test]
async fn the_hand_off_reaches_the_responder_under_cargo_lambda_watch() {
    let endpoint = support_plans_tests::stack_env("LAMBDA_ENDPOINT");
    let config = support_plans_tests::local_config().await;
    let config = aws_sdk_lambda::config::Builder::from(&config)
        .endpoint_url(&endpoint)
        .timeout_config(support_plans_aws::deadlines::hooks_timeouts())
        .build();
    let hand_off = LambdaHandOff::new(aws_sdk_lambda::Client::from_conf(config), "incident-responder");
    // cargo lambda watch starts a function on its first invocation, which on
    // a loaded machine takes longer than the hand-off's 1.5 s budget (a
    // deployed function is started by Lambda, not by the Invoke call): start
    // it first, without a budget.
    let warm = support_plans_tests::http::request(
        "POST",
        &format!("{endpoint}/2015-03-31/functions/incident-responder/invocations"),
        &[],
        Some(&json!({"hands_off": "nothing"})),
    )
    .await;
    assert_eq!(warm.status, 200, "{}", warm.body);
    // An event the responder ignores at once (logged, not retried).
    let started = std::time::Instant::now();
    hand_off.hand_off(&json!({"hands_off": "nothing"})).await.unwrap();
    println!("hand-off to cargo lambda watch: {:?}", started.elapsed());
    let missing = LambdaHandOff::new(
        aws_sdk_lambda::Client::from_conf(
            aws_sdk_lambda::config::Builder::from(&support_plans_tests::local_config().await)
                .endpoint_url(support_plans_tests::stack_env("LAMBDA_ENDPOINT"))
                .build(),
        ),
        "no-such-function",
    );
    let e = missing.hand_off(&json!({})).await.unwrap_err();
    assert!(
        e.is_refused(),
        "a function that does not exist is not retried: {e}"
    );
}

/// The local stack's incident-hooks function, under `cargo lambda watch`,
/// verifies "vendor responded" links with the stack's own key
/// (`RESPONDED_KEY_SECRET_ARN`, as up.sh creates it), and records nothing
/// for a plan whose note is in no incident.
#[tokio::test]
async fn the_stacks_hooks_function_verifies_responded_links_with_the_stacks_key() {
    use support_plans_domain::responded::issue_link;
    use support_plans_domain::token::KeySet;
    use support_plans_tests::http::request_bytes;
    let hooks = support_plans_tests::stack_env("HOOKS_URL");
    assert_eq!(
        support_plans_tests::stack_env("RESPONDED_URL"),
        format!("{hooks}/responded/")
    );
    let config = support_plans_tests::local_config().await;
    let key = aws_sdk_secretsmanager::Client::new(&config)
        .get_secret_value()
        .secret_id(support_plans_tests::stack_env("RESPONDED_KEY_SECRET_ARN"))
        .send()
        .await
        .unwrap()
        .secret_string
        .unwrap();
    let keys = KeySet::parse(&key).unwrap();
    let incident = format!("pagerduty:NOTE{}", std::process::id());
    let token = issue_link(&keys, &incident, "aws-business", Timestamp::now());
    let url = format!("{hooks}/responded/{token}");
    let page = request_bytes("GET", &url, &[], b"").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("name=\"by\" required"), "{}", page.body);
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let post = request_bytes("POST", &url, &form, b"by=Dana").await;
    assert_eq!(
        post.status, 404,
        "no note of the plan in that incident: {}",
        post.body
    );
    // Signed with another key: refused.
    let forged = issue_link(
        &KeySet::parse(&"f".repeat(64)).unwrap(),
        &incident,
        "aws-business",
        Timestamp::now(),
    );
    let refused = request_bytes("POST", &format!("{hooks}/responded/{forged}"), &form, b"by=Dana").await;
    assert_eq!(refused.status, 400, "{}", refused.body);
}
