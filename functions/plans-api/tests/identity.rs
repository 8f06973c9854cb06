//! Who the caller is (SPEC §3 "Who may do what"), through the real handler
//! against moto, with JWT callers as API Gateway's HTTP API presents them:
//! the claims flattened into strings in the request context (an array claim
//! becomes `[a b]`), and the bearer token the authorizer verified in the
//! `Authorization` header. Groups are read exactly, a JWT caller is named by
//! its subject and never matched against IAM ARN patterns, and an e-mail is
//! shown only when verified. IAM callers as API Gateway names them, by their
//! role session: a role's patterns (`ADMIN_PRINCIPALS`, `TEAM_PRINCIPALS`)
//! match its sessions and nothing named like it. Also: the `plans-api`
//! binary refuses `LOCAL_AUTH` when it runs in AWS, and a bad principal
//! setting at start.

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
    let store = api.dynamo();
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

// IAM callers are people too (SPEC §3): API Gateway names a role's caller by
// its session, `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` (the role's
// path is not in it); patterns are written for the role,
// `arn:aws:iam::ACCOUNT:role/PATH/ROLE`.

const ACCOUNT_ROLE_ADMIN: &str = "arn:aws:iam::111122223333:role/SupportPlansAdmin";
const SSO_ADMIN_PATTERN: &str = "arn:aws:iam::111122223333:role/AWSReservedSSO_PlatformAdmin_*";
/// TEAM_PRINCIPALS as an operator writes it: a CI role and an SSO permission
/// set for payments, a CI role (under a path) for platform.
const TEAMS: &str = "payments=arn:aws:iam::111122223333:role/payments-ci,\
    arn:aws:iam::111122223333:role/AWSReservedSSO_Payments_*; \
    platform=arn:aws:iam::111122223333:role/pipelines/platform-ci";

const ADMIN_SESSION: Who = Who::Iam("arn:aws:sts::111122223333:assumed-role/SupportPlansAdmin/alice");
const SSO_ADMIN_SESSION: Who = Who::Iam(
    "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_PlatformAdmin_0123456789abcdef/bob@example.com",
);
const PAYMENTS_CI: Who = Who::Iam("arn:aws:sts::111122223333:assumed-role/payments-ci/github-actions-4711");
const PAYMENTS_SSO: Who = Who::Iam(
    "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Payments_fedcba9876543210/dana@example.com",
);
const PLATFORM_CI: Who = Who::Iam("arn:aws:sts::111122223333:assumed-role/platform-ci/build-17");

/// The API configured from the environment as the function reads it at start.
async fn iam_api() -> Api {
    let vars = [
        (
            "ADMIN_PRINCIPALS",
            format!("{ACCOUNT_ROLE_ADMIN},{SSO_ADMIN_PATTERN}"),
        ),
        ("ADMIN_GROUPS", ADMIN_GROUP.to_owned()),
        ("TEAM_PRINCIPALS", TEAMS.to_owned()),
    ];
    let auth = plans_api::auth::AuthConfig::from_vars(|k| {
        vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
    })
    .expect("a valid configuration");
    let store = support_plans_tests::fresh_store().await;
    let api = Api::from_state(plans_api::AppState::new(store, auth));
    for (id, team) in [("stripe", "payments"), ("aws-business", "platform")] {
        let r = api.post("/plans", &ADMIN, &plan_body(id, team)).await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    api
}

/// Replaces `id` (owned by `team`) as `who`, naming the version read.
async fn replace(api: &Api, who: &Who, id: &str, team: &str) -> Resp {
    let etag = api.get(&format!("/plans/{id}"), &READER_SESSION).await.etag();
    let mut body = plan_body(id, team);
    body["tier"] = json!("Changed");
    api.put(&format!("/plans/{id}"), who, Some(&etag), &body).await
}

const READER_SESSION: Who = Who::Iam("arn:aws:sts::111122223333:assumed-role/PortalReader/portal");

#[tokio::test]
async fn the_sessions_of_an_admin_role_are_admins() {
    let api = iam_api().await;
    for who in [&ADMIN_SESSION, &SSO_ADMIN_SESSION] {
        for (id, team) in [("stripe", "payments"), ("aws-business", "platform")] {
            let r = replace(&api, who, id, team).await;
            assert_eq!(r.status, 200, "{who:?} replaces {id}: {}", r.text);
        }
    }
    let r = api
        .post(
            "/plans",
            &SSO_ADMIN_SESSION,
            &plan_body("datadog", "observability"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.json()["updated_by"],
        "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_PlatformAdmin_0123456789abcdef/bob@example.com",
        "the history names the session, who did it"
    );
}

#[tokio::test]
async fn similarly_named_roles_and_other_accounts_are_not_matched() {
    let api = iam_api().await;
    for who in [
        Who::Iam("arn:aws:sts::111122223333:assumed-role/SupportPlansAdmin2/alice"),
        Who::Iam("arn:aws:sts::111122223333:assumed-role/XSupportPlansAdmin/alice"),
        Who::Iam("arn:aws:sts::444455556666:assumed-role/SupportPlansAdmin/alice"),
        Who::Iam("arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_PlatformAdminX/bob"),
        Who::Iam("arn:aws:sts::111122223333:federated-user/SupportPlansAdmin"),
        Who::Iam("arn:aws:sts::111122223333:assumed-role/payments-ci2/github"),
        Who::Iam("arn:aws:sts::444455556666:assumed-role/payments-ci/github"),
        Who::Iam("arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_PaymentsAdmin_0123/eve"),
        Who::Iam("arn:aws:iam::111122223333:user/payments-ci"),
    ] {
        let r = replace(&api, &who, "stripe", "payments").await;
        assert_eq!(r.status, 403, "{who:?} was allowed: {}", r.text);
    }
    // A JWT caller whose subject reads like a team's session is not one.
    let jwt = payload(
        "arn:aws:sts::111122223333:assumed-role/payments-ci/github",
        json!({}),
    );
    let app = plans_api::app(api.state.clone());
    let r = replace_stripe(&app, &Jwt::of(&jwt)).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(
        api.get("/plans/stripe", &READER_SESSION).await.etag(),
        "\"1\"",
        "the plan did not change"
    );
}

#[tokio::test]
async fn team_principals_write_their_teams_plans_and_workloads_only() {
    let api = iam_api().await;
    for who in [&PAYMENTS_CI, &PAYMENTS_SSO] {
        let r = replace(&api, who, "stripe", "payments").await;
        assert_eq!(r.status, 200, "{who:?} replaces its team's plan: {}", r.text);
        let r = replace(&api, who, "aws-business", "platform").await;
        assert_eq!(r.status, 403, "{who:?} replaced platform's plan: {}", r.text);
        assert!(
            r.json()["detail"].as_str().unwrap().contains("platform"),
            "the 403 names the team needed: {}",
            r.text
        );
    }
    let r = replace(&api, &PLATFORM_CI, "aws-business", "platform").await;
    assert_eq!(r.status, 200, "a role under a path: {}", r.text);

    // Create: for its own team only; not an admin.
    let r = api
        .post("/plans", &PAYMENTS_CI, &plan_body("adyen", "payments"))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = api
        .post("/plans", &PAYMENTS_CI, &plan_body("pagerduty", "platform"))
        .await;
    assert_eq!(r.status, 403, "{}", r.text);

    // Workloads follow the same rule.
    let w = common::workload_body("checkout", "payments", &["stripe"]);
    let r = api.post("/workloads", &PAYMENTS_SSO, &w).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let mut w2 = w.clone();
    w2["description"] = json!("replaced by CI");
    let r = api
        .put("/workloads/checkout", &PAYMENTS_CI, Some("\"1\""), &w2)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = api
        .delete("/workloads/checkout", &PLATFORM_CI, Some("\"2\""))
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    // Handing a plan over to another team needs both teams.
    let r = api
        .put(
            "/plans/adyen",
            &PAYMENTS_CI,
            Some("\"1\""),
            &plan_body("adyen", "platform"),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
}

#[test]
fn a_bad_principal_setting_stops_the_start_and_names_it() {
    for (name, value) in [
        ("TEAM_PRINCIPALS", "payments"),
        ("TEAM_PRINCIPALS", "payments="),
        ("TEAM_PRINCIPALS", "Not A Team=arn:aws:iam::111122223333:role/x"),
        ("TEAM_PRINCIPALS", "payments=role/payments-ci"),
        (
            "TEAM_PRINCIPALS",
            "payments=arn:aws:iam::111122223333:role/aws-reserved/*",
        ),
        (
            "ADMIN_PRINCIPALS",
            "arn:aws:iam::111122223333:role/aws-reserved/*",
        ),
        (
            "TEAM_PRINCIPALS",
            "payments=arn:aws:iam::111122223333:role/payments/*-deployer",
        ),
    ] {
        let ended = run_plans_api(&[(name, value)]);
        let err = ended.expect_err(&format!("plans-api started with {name}={value}"));
        assert!(err.contains(name), "the error does not name {name}: {err}");
    }
    let first = run_plans_api(&[
        ("TEAM_PRINCIPALS", TEAMS),
        ("ADMIN_PRINCIPALS", SSO_ADMIN_PATTERN),
    ])
    .expect("plans-api starts with a valid TEAM_PRINCIPALS");
    assert!(
        first.starts_with("GET /2018-06-01/runtime/invocation/next"),
        "{first}"
    );
}
