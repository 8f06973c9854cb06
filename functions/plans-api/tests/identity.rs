//! Who the caller is (SPEC §3 "Who may do what"), through the real handler
//! against moto, with JWT callers as API Gateway's HTTP API presents them:
//! the claims flattened into strings in the request context (an array claim
//! becomes `[a b]`), and the bearer token the authorizer verified in the
//! `Authorization` header. Groups are read exactly, a JWT caller is named by
//! its subject and never matched against IAM ARN patterns, and an e-mail is
//! shown only when verified. Also: the `plans-api` binary refuses
//! `LOCAL_AUTH` when it runs in AWS.

mod common;

use axum::Router;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{ADMIN, ADMIN_GROUP, ADMIN_ROLE, Api, Resp, Who, send_event};
use serde_json::{Map, Value, json};
use support_plans_tests::plan_body;

const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example";

/// A token's payload: the claims an identity provider signed.
fn payload(sub: &str, extra: Value) -> Value {
    let mut p = json!({
        "sub": sub, "iss": ISSUER, "aud": "client-1", "token_use": "id",
        "iat": 1_795_251_600u64, "exp": 1_795_255_200u64, "jti": format!("jti-{sub}"),
    });
    p.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    p
}

/// The claims as API Gateway's JWT authorizer hands them to the function:
/// every value a string, an array as `[a b]`.
fn flattened(payload: &Value) -> Value {
    let flat: Map<String, Value> = payload
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Array(items) => format!(
                    "[{}]",
                    items
                        .iter()
                        .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                other => other.to_string(),
            };
            (k.clone(), Value::String(s))
        })
        .collect();
    Value::Object(flat)
}

/// A compact JWT carrying `payload` (the signature is API Gateway's to check).
fn bearer(payload: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","kid":"key-1","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(payload.to_string());
    format!("Bearer {header}.{body}.c2lnbmF0dXJl")
}

/// One JWT caller: the authorizer's claims, and the token in the header (or none).
struct Jwt {
    claims: Value,
    authorization: Option<String>,
}

impl Jwt {
    /// As API Gateway sends it: the claims of `payload` and its token.
    fn of(payload: &Value) -> Self {
        Self {
            claims: flattened(payload),
            authorization: Some(bearer(payload)),
        }
    }
    /// Only the flattened claims, no token to read them from.
    fn claims_only(payload: &Value) -> Self {
        Self {
            claims: flattened(payload),
            authorization: None,
        }
    }
}

async fn send(
    app: &Router,
    method: &str,
    path: &str,
    jwt: &Jwt,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Resp {
    let mut hs: Vec<(&str, &str)> = headers.to_vec();
    if let Some(a) = &jwt.authorization {
        hs.push(("authorization", a));
    }
    let body = body.map(Value::to_string);
    let mut event = Api::event(method, path, &Who::Nobody, &hs, body.as_deref());
    event["requestContext"]["authorizer"] = json!({"jwt": {"claims": jwt.claims, "scopes": null}});
    send_event(app, &event).await
}

/// The API with the payments team's plan `stripe` at version 1.
async fn with_payments_plan() -> (Api, Router) {
    let api = Api::new().await;
    api.seed_plan("stripe", "payments").await;
    let app = plans_api::app(api.state.clone());
    (api, app)
}

/// Tries to replace the payments team's plan as `jwt`; the status.
async fn replace_stripe(app: &Router, jwt: &Jwt) -> Resp {
    let mut body = plan_body("stripe", "payments");
    body["tier"] = json!("Basic");
    send(
        app,
        "PUT",
        "/plans/stripe",
        jwt,
        &[("if-match", "\"1\"")],
        Some(&body),
    )
    .await
}

async fn version_of_stripe(api: &Api) -> String {
    api.get("/plans/stripe", &ADMIN).await.etag()
}

#[tokio::test]
async fn a_group_named_x_admins_is_one_group_not_the_admin_group() {
    let (api, app) = with_payments_plan().await;
    // The identity provider let an insider name a group "x support-plans-admins".
    let mallory = payload(
        "u-mallory",
        json!({"cognito:groups": [format!("x {ADMIN_GROUP}")]}),
    );
    let r = replace_stripe(&app, &Jwt::of(&mallory)).await;
    assert_eq!(
        r.status, 403,
        "a group named 'x {ADMIN_GROUP}' made an admin: {}",
        r.text
    );
    assert_eq!(version_of_stripe(&api).await, "\"1\"", "the plan changed");

    // Without the token the flattened `[x support-plans-admins]` is ambiguous:
    // no groups, never two.
    let r = replace_stripe(&app, &Jwt::claims_only(&mallory)).await;
    assert_eq!(r.status, 403, "the flattened claim was split: {}", r.text);
    let two_teams = payload("u-mallory", json!({"groups": ["x", "payments"]}));
    let r = replace_stripe(&app, &Jwt::claims_only(&two_teams)).await;
    assert_eq!(
        r.status, 403,
        "an ambiguous `[x payments]` gave groups: {}",
        r.text
    );
    assert_eq!(version_of_stripe(&api).await, "\"1\"", "the plan changed");
}

#[tokio::test]
async fn real_groups_still_count_one_by_one() {
    let (api, app) = with_payments_plan().await;
    // Two groups in the token: one of them is the admin group.
    let lead = payload(
        "u-lead",
        json!({"groups": ["platform", ADMIN_GROUP], "email": "lead@example.com", "email_verified": true}),
    );
    let r = replace_stripe(&app, &Jwt::of(&lead)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // One group, no token: `[payments]` can only be read one way.
    let dana = payload("u-dana", json!({"cognito:groups": ["payments"]}));
    let r = send(
        &app,
        "POST",
        "/plans/stripe/review",
        &Jwt::claims_only(&dana),
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(version_of_stripe(&api).await, "\"3\"");
}

#[tokio::test]
async fn a_token_other_than_the_one_the_authorizer_checked_is_refused() {
    let (api, app) = with_payments_plan().await;
    let checked = payload("u-dana", json!({"cognito:groups": ["payments"]}));
    for (what, forged) in [
        (
            "sub",
            payload("u-other", json!({"cognito:groups": [ADMIN_GROUP]})),
        ),
        ("exp", {
            let mut p = checked.clone();
            p["exp"] = json!(1_895_255_200u64);
            p["cognito:groups"] = json!([ADMIN_GROUP]);
            p
        }),
        ("iss", {
            let mut p = checked.clone();
            p["iss"] = json!("https://idp.example.net");
            p
        }),
        ("jti", {
            let mut p = checked.clone();
            p["jti"] = json!("jti-another");
            p
        }),
    ] {
        let jwt = Jwt {
            claims: flattened(&checked),
            authorization: Some(bearer(&forged)),
        };
        let r = send(&app, "POST", "/plans/stripe/review", &jwt, &[], None).await;
        assert_eq!(r.status, 401, "a token with another {what} was taken: {}", r.text);
        let r = send(&app, "GET", "/plans/stripe", &jwt, &[], None).await;
        assert_eq!(r.status, 401, "a token with another {what} was taken: {}", r.text);
    }
    let jwt = Jwt {
        claims: flattened(&checked),
        authorization: Some("Bearer not-a-jwt".into()),
    };
    let r = send(&app, "GET", "/plans/stripe", &jwt, &[], None).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(version_of_stripe(&api).await, "\"1\"", "the plan changed");
}

#[tokio::test]
async fn a_jwt_caller_named_like_the_admin_role_is_not_an_admin() {
    // ADMIN_PRINCIPALS is `<ADMIN_ROLE>*`: IAM principals only.
    let (api, app) = with_payments_plan().await;
    let lookalikes = [
        payload(ADMIN_ROLE, json!({})),
        payload(
            "u-1",
            json!({"email": format!("{ADMIN_ROLE}-x"), "email_verified": true}),
        ),
        payload("u-2", json!({"email": format!("{ADMIN_ROLE}-x")})),
        payload("u-3", json!({"username": ADMIN_ROLE})),
        payload("u-4", json!({"cognito:username": ADMIN_ROLE})),
    ];
    for p in &lookalikes {
        let r = replace_stripe(&app, &Jwt::of(p)).await;
        assert_eq!(r.status, 403, "{p} was taken for an admin: {}", r.text);
    }
    assert_eq!(version_of_stripe(&api).await, "\"1\"", "the plan changed");
    // The IAM role itself still is one.
    let r = api
        .put(
            "/plans/stripe",
            &Who::Iam(ADMIN_ROLE),
            Some("\"1\""),
            &plan_body("stripe", "payments"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn an_unverified_email_is_not_shown_as_the_caller() {
    let api = Api::new().await;
    let app = plans_api::app(api.state.clone());
    // Anyone can put any address in an unverified e-mail claim.
    let unverified = payload(
        "u-dana",
        json!({"cognito:groups": ["payments"], "email": "ceo@example.com", "email_verified": false}),
    );
    let r = send(
        &app,
        "POST",
        "/plans",
        &Jwt::of(&unverified),
        &[],
        Some(&plan_body("stripe", "payments")),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["updated_by"], "jwt:u-dana", "{}", r.text);
    // No e-mail_verified claim at all: the same.
    let unsaid = payload(
        "u-dana",
        json!({"cognito:groups": ["payments"], "email": "ceo@example.com"}),
    );
    let r = send(&app, "POST", "/plans/stripe/review", &Jwt::of(&unsaid), &[], None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["reviewed_by"], "jwt:u-dana", "{}", r.text);
    // Verified: the history shows the address.
    let verified = payload(
        "u-dana",
        json!({"cognito:groups": ["payments"], "email": "dana@example.com", "email_verified": true}),
    );
    let r = send(
        &app,
        "POST",
        "/plans/stripe/contacts/tam/verify",
        &Jwt::of(&verified),
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let plan = r.json();
    assert_eq!(plan["updated_by"], "dana@example.com");
    assert_eq!(plan["contacts"][1]["verified_by"], "dana@example.com");
    let history = api.get("/plans/stripe/history", &ADMIN).await.json();
    let by: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["by"].as_str().unwrap())
        .collect();
    assert_eq!(by, ["dana@example.com", "jwt:u-dana", "jwt:u-dana"]);
}

/// What moto cannot check: IAM lets the plans API write only the partition
/// keys its policy in `template.yaml` names (`dynamodb:LeadingKeys`). Every
/// write route, then every item in the table: each under one of them.
#[tokio::test]
async fn every_item_the_api_writes_is_under_a_key_its_policy_allows() {
    let api = Api::new().await;
    let r = api.post("/plans", &ADMIN, &plan_body("stripe", "payments")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = api
        .put(
            "/plans/stripe",
            &ADMIN,
            Some("\"1\""),
            &plan_body("stripe", "payments"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    for path in ["/plans/stripe/contacts/tam/verify", "/plans/stripe/review"] {
        let r = api.call("POST", path, &ADMIN, &[], None).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
    }
    let workload = common::workload_body("checkout", "payments", &["stripe"]);
    let r = api.post("/workloads", &ADMIN, &workload).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = api
        .put("/workloads/checkout", &ADMIN, Some("\"1\""), &workload)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = api.delete("/workloads/checkout", &ADMIN, Some("\"2\"")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = api.delete("/plans/stripe", &ADMIN, Some("\"4\"")).await;
    assert_eq!(r.status, 200, "{}", r.text);

    let allowed = local_stack::policy::Template::read(&local_stack::template_path())
        .unwrap()
        .write_prefixes("PlansApiFunction")
        .unwrap();
    let store = &api.state.store;
    let items = store
        .client()
        .scan()
        .table_name(store.table())
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    assert_eq!(items.len(), 10, "2 current items and 8 versions");
    for item in &items {
        let pk = item["pk"].as_s().unwrap();
        let ok = allowed.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => pk.starts_with(prefix),
            None => pk == p,
        });
        assert!(
            ok,
            "the plans API wrote {pk}, which its policy ({allowed:?}) refuses in AWS"
        );
    }
}

/// Runs the built `plans-api` binary as the Lambda service would start it,
/// against a runtime API stand-in on loopback: `Ok` with the first request
/// line the function sent it, or `Err` with how the process ended.
fn run_plans_api(extra_env: &[(&str, &str)]) -> Result<String, String> {
    use std::io::{BufRead as _, BufReader};
    use std::net::TcpListener;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let runtime_api = listener.local_addr().unwrap().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_plans-api"))
        .env_clear()
        .envs([
            ("AWS_LAMBDA_RUNTIME_API", runtime_api.as_str()),
            ("AWS_LAMBDA_FUNCTION_NAME", "plans-api"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "1"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("TABLE_NAME", "plans"),
        ])
        .envs(extra_env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the plans-api binary runs");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok((stream, _)) = listener.accept() {
            stream.set_nonblocking(false).unwrap();
            let mut line = String::new();
            BufReader::new(stream).read_line(&mut line).unwrap();
            child.kill().ok();
            child.wait().ok();
            return Ok(line.trim().to_owned());
        }
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            return Err(format!("{status}: {}", String::from_utf8_lossy(&out.stderr)));
        }
        if Instant::now() > deadline {
            child.kill().ok();
            child.wait().ok();
            panic!("plans-api neither asked for an event nor stopped within 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn local_auth_is_refused_at_start_in_aws() {
    // Lambda sets LAMBDA_TASK_ROOT for every runtime (AWS_EXECUTION_ENV is not
    // set for the provided.* runtimes); cargo lambda watch sets neither.
    for signal in [
        ("LAMBDA_TASK_ROOT", "/var/task"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_rust"),
    ] {
        let ended = run_plans_api(&[("LOCAL_AUTH", "1"), signal]);
        let err = ended.expect_err(&format!("plans-api started with LOCAL_AUTH=1 and {}", signal.0));
        assert!(
            err.contains("LOCAL_AUTH"),
            "the error does not name LOCAL_AUTH: {err}"
        );
    }
}

#[test]
fn local_auth_starts_outside_aws_and_aws_starts_without_it() {
    let first = run_plans_api(&[("LOCAL_AUTH", "1")]).expect("plans-api starts locally with LOCAL_AUTH=1");
    assert!(
        first.starts_with("GET /2018-06-01/runtime/invocation/next"),
        "{first}"
    );
    let first = run_plans_api(&[("LAMBDA_TASK_ROOT", "/var/task")]).expect("plans-api starts in AWS");
    assert!(
        first.starts_with("GET /2018-06-01/runtime/invocation/next"),
        "{first}"
    );
}
