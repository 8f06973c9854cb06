//! "Vendor responded" on the webhook edge (SPEC §13), over in-memory ports:
//! the signed link's page and form, the portals' route, what each answer
//! says, and what reaches the table and the responder. A forged, expired or
//! altered link changes nothing.

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use incident_hooks::{Hooks, app};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support_plans_domain::responded::{Responded, Via, issue_link};
use support_plans_domain::testing::hand_off::FakeHandOff;
use support_plans_domain::testing::responded::FakeResponseMarks;
use support_plans_domain::testing::secret_text::FakeSecret;
use support_plans_domain::testing::webhook_ids::FakeWebhookIds;
use support_plans_domain::token::KeySet;
use tower::ServiceExt as _;

const ARN: &str = "arn:aws:ssm-incidents::111122223333:incident-record/payments-critical/6ac3b7d0";
const ARN_ENCODED: &str =
    "arn%3Aaws%3Assm-incidents%3A%3A111122223333%3Aincident-record%2Fpayments-critical%2F6ac3b7d0";
const PLAN: &str = "aws-business";
const NOW: &str = "2026-11-21T10:00:00Z";
const ROLE: &str = "arn:aws:sts::111122223333:assumed-role/portal/dana";

fn now() -> Timestamp {
    NOW.parse().unwrap()
}

fn later() -> Timestamp {
    now() + SignedDuration::from_hours(24 * 14)
}

/// A key no one wrote down: 64 hex characters of a hash of this run and `label`.
fn made_up(label: &str) -> String {
    let seed = format!(
        "{label}/{}/{}",
        std::process::id(),
        Timestamp::now().as_nanosecond()
    );
    Sha256::digest(seed.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

struct Edge {
    app: Router,
    marks: FakeResponseMarks,
    handed: FakeHandOff,
    keys: KeySet,
}

fn edge_with(key: &str, clock: fn() -> Timestamp, local_auth: bool) -> Edge {
    let marks = FakeResponseMarks::default();
    let handed = FakeHandOff::default();
    let mut hooks = Hooks::new(
        FakeWebhookIds::default(),
        marks.clone(),
        handed.clone(),
        FakeSecret::new(""),
        FakeSecret::new(""),
        FakeSecret::new(key),
    );
    hooks.clock = clock;
    hooks.local_auth = local_auth;
    Edge {
        app: app(hooks),
        marks,
        handed,
        keys: KeySet::parse(key).unwrap_or_else(|_| KeySet::parse(&made_up("unused")).unwrap()),
    }
}

fn edge() -> Edge {
    edge_with(&made_up("responded"), now, false)
}

#[derive(Debug)]
struct Answer {
    status: u16,
    headers: axum::http::HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

impl Edge {
    fn token(&self, incident: &str, plan: &str) -> String {
        issue_link(&self.keys, incident, plan, now())
    }

    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        Answer {
            status,
            headers,
            text: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    async fn get(&self, token: &str) -> Answer {
        self.send(
            Request::get(format!("/responded/{token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// The page's form, posted as a browser posts it.
    async fn post(&self, token: &str, form: &str) -> Answer {
        let request = Request::post(format!("/responded/{token}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form.to_owned()))
            .unwrap();
        self.send(request).await
    }

    /// The portals' route as API Gateway hands it over, with `authorizer`
    /// in the request context (none when null) and `headers`.
    async fn api(&self, incident: &str, plan: &str, authorizer: Value, headers: &[(&str, &str)]) -> Answer {
        let path = format!("/incidents/{incident}/plans/{plan}/responded");
        let mut ctx = json!({
            "accountId": "111122223333", "apiId": "a1b2c3", "domainName": "a1b2c3.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "a1b2c3", "requestId": "req-1", "routeKey": "POST /incidents/{incident}/plans/{plan}/responded",
            "stage": "$default", "time": "21/Nov/2026:10:00:00 +0000", "timeEpoch": 1795255200000u64,
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "10.0.0.1", "userAgent": "tests"}
        });
        if !authorizer.is_null() {
            ctx["authorizer"] = authorizer;
        }
        let hs: serde_json::Map<String, Value> =
            headers.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
        let event = json!({
            "version": "2.0", "routeKey": "POST /incidents/{incident}/plans/{plan}/responded", "rawPath": path,
            "rawQueryString": "", "headers": hs, "requestContext": ctx, "body": null, "isBase64Encoded": false
        });
        let request = lambda_http::request::from_str(&event.to_string()).expect("an API Gateway event");
        let (parts, _) = request.into_parts();
        self.send(Request::from_parts(parts, Body::empty())).await
    }

    fn nothing_recorded(&self) {
        assert!(self.marks.all().is_empty(), "{:?}", self.marks.all());
        assert!(self.handed.payloads().is_empty(), "{:?}", self.handed.payloads());
    }
}

fn iam(arn: &str) -> Value {
    json!({"iam": {"accessKey": "ASIAEXAMPLE", "accountId": "111122223333", "callerId": "AROAEXAMPLE:dana",
        "principalOrgId": null, "userArn": arn, "userId": "AROAEXAMPLE:dana"}})
}

fn jwt(sub: &str) -> Value {
    json!({"jwt": {"claims": {"sub": sub, "iss": "https://idp.example.com"}, "scopes": null}})
}

fn assert_page(a: &Answer, status: u16, says: &[&str]) {
    assert_eq!(a.status, status, "{}", a.text);
    assert_eq!(a.headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(a.headers["cache-control"], "no-store");
    assert_eq!(a.headers["referrer-policy"], "no-referrer");
    assert_eq!(a.headers["x-content-type-options"], "nosniff");
    let csp = a.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    for s in says {
        assert!(a.text.contains(s), "{s:?} not in {}", a.text);
    }
}

fn handed_off(incident: &str, plan: &str) -> Value {
    json!({"responded": {"incident": incident, "plan": plan}})
}

// ---- GET /responded/{token} ---------------------------------------------------

#[tokio::test]
async fn the_link_shows_a_confirm_page_asking_for_a_name_and_changes_nothing() {
    let e = edge();
    e.marks.posted(ARN, PLAN);
    let a = e.get(&e.token(ARN, PLAN)).await;
    assert_page(
        &a,
        200,
        &[
            PLAN,
            "6ac3b7d0",
            "<form method=\"post\">",
            "name=\"by\" required",
            "Your name",
        ],
    );
    let pd = e.get(&e.token("pagerduty:PGR0VU2", PLAN)).await;
    assert_page(&pd, 200, &["PGR0VU2"]);
    e.nothing_recorded();
}

// ---- POST /responded/{token} --------------------------------------------------

#[tokio::test]
async fn the_first_mark_is_recorded_and_handed_off_and_a_second_is_told_the_first() {
    let e = edge();
    e.marks.posted(ARN, PLAN);
    let token = e.token(ARN, PLAN);
    let a = e.post(&token, "by=+Dana+Reyes+").await;
    assert_page(
        &a,
        200,
        &[&format!(
            "Recorded: <code>{PLAN}</code> marked as responding by Dana Reyes at {NOW}"
        )],
    );
    assert_eq!(
        e.marks.all(),
        [(
            ARN.to_owned(),
            Responded {
                plan: PLAN.into(),
                by: "Dana Reyes".into(),
                at: now(),
                via: Via::Link
            }
        )]
    );
    assert_eq!(e.handed.payloads(), [handed_off(ARN, PLAN)]);

    let again = e.post(&token, "by=Sam").await;
    assert_page(&again, 200, &[&format!("Already marked by Dana Reyes at {NOW}")]);
    assert_eq!(e.marks.all().len(), 1);
    assert_eq!(e.marks.all()[0].1.by, "Dana Reyes", "the first mark stands");
    assert_eq!(e.handed.payloads().len(), 1, "handed off once");
}

#[tokio::test]
async fn forged_expired_altered_or_foreign_links_change_nothing() {
    let e = edge();
    e.marks.posted(ARN, PLAN);
    e.marks.posted(ARN, "stripe-premium");
    let good = e.token(ARN, PLAN);
    // Signed with another key: forged.
    let forged = issue_link(&KeySet::parse(&made_up("other")).unwrap(), ARN, PLAN, now());
    // The payload changed to another plan, the tag kept: altered.
    let (payload, tag) = good.split_once('.').unwrap();
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let altered = format!(
        "{}.{tag}",
        URL_SAFE_NO_PAD.encode(payload.replace(PLAN, "stripe-premium"))
    );
    // A one-click verification token under the same key: not a responded link.
    let plan = support_plans_domain::SupportPlan::create(
        support_plans_domain::PlanSpec::parse(&support_plans_tests::plan_body(PLAN, "platform")).unwrap(),
        &support_plans_tests::actor("alice@example.com"),
        now(),
    );
    let verify = support_plans_domain::token::issue(
        &e.keys,
        &support_plans_domain::token::LinkFor::of(&plan, &plan.spec.contacts[0]),
        now(),
    );
    for (token, status, says) in [
        (forged.as_str(), 400, "not issued by support-plans"),
        (altered.as_str(), 400, "not issued by support-plans"),
        (verify.as_str(), 400, "incomplete or damaged"),
        ("abc", 400, "incomplete or damaged"),
        (&good[..good.len() - 4], 400, "incomplete or damaged"),
    ] {
        assert_page(&e.get(token).await, status, &[says, "Nothing was recorded"]);
        assert_page(
            &e.post(token, "by=Mallory").await,
            status,
            &[says, "Nothing was recorded"],
        );
    }
    e.nothing_recorded();

    // Fourteen days on, a link of today has expired.
    let e2 = edge_with(&made_up("expiry"), later, false);
    e2.marks.posted(ARN, PLAN);
    let old = issue_link(&e2.keys, ARN, PLAN, now());
    assert_page(&e2.get(&old).await, 410, &["expired", "Nothing was recorded"]);
    assert_page(&e2.post(&old, "by=Dana").await, 410, &["expired"]);
    e2.nothing_recorded();
}

#[tokio::test]
async fn a_missing_blank_multiline_or_long_name_is_asked_again_and_nothing_is_recorded() {
    let e = edge();
    e.marks.posted(ARN, PLAN);
    let token = e.token(ARN, PLAN);
    let long = format!("by={}", "x".repeat(101));
    for form in ["", "by=", "by=+++", "by=Dana%0AReyes", long.as_str()] {
        let a = e.post(&token, form).await;
        assert_page(
            &a,
            400,
            &["Your name:", "name=\"by\" required", "Nothing was recorded"],
        );
    }
    // Not a form at all.
    let json = Request::post(format!("/responded/{token}"))
        .header("content-type", "application/json")
        .body(Body::from(r#"{"by": "Dana"}"#))
        .unwrap();
    assert_eq!(e.send(json).await.status, 400);
    e.nothing_recorded();
}

#[tokio::test]
async fn a_plan_whose_note_is_not_in_the_incident_cannot_be_marked() {
    let e = edge();
    // Its note went into another incident; another plan's into this one.
    e.marks.posted("pagerduty:PGR0VU2", PLAN);
    e.marks.posted(ARN, "stripe-premium");
    let a = e.post(&e.token(ARN, PLAN), "by=Dana").await;
    assert_page(&a, 404, &["not in this incident", "Nothing was recorded"]);
    e.nothing_recorded();
}

#[tokio::test]
async fn a_failed_hand_off_keeps_the_mark_and_still_says_recorded() {
    let e = edge();
    e.marks.posted(ARN, PLAN);
    e.handed.fail(1);
    let a = e.post(&e.token(ARN, PLAN), "by=Dana").await;
    assert_page(&a, 200, &["Recorded:"]);
    assert_eq!(e.marks.all().len(), 1);
    assert!(e.handed.payloads().is_empty(), "the sweep posts the note later");
}

#[tokio::test]
async fn what_was_typed_is_escaped() {
    let e = edge();
    e.marks.posted(ARN, PLAN);
    let a = e
        .post(&e.token(ARN, PLAN), "by=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        .await;
    assert_page(&a, 200, &["by &lt;script&gt;alert(1)&lt;/script&gt; at"]);
    assert!(!a.text.contains("<script>"));
}

#[tokio::test]
async fn without_usable_keys_the_link_routes_answer_503_naming_the_variable() {
    let e = edge_with("too short", now, false);
    e.marks.posted(ARN, PLAN);
    let token = issue_link(&KeySet::parse(&made_up("k")).unwrap(), ARN, PLAN, now());
    assert_page(&e.get(&token).await, 503, &["RESPONDED_KEY_SECRET_ARN"]);
    assert_page(
        &e.post(&token, "by=Dana").await,
        503,
        &["RESPONDED_KEY_SECRET_ARN"],
    );
    e.nothing_recorded();
}

#[tokio::test]
async fn a_storage_failure_is_a_503_page() {
    let e = edge();
    e.marks.posted(ARN, PLAN);
    e.marks.fail();
    let a = e.post(&e.token(ARN, PLAN), "by=Dana").await;
    assert_page(&a, 503, &["storage", "Nothing was recorded"]);
    assert!(e.handed.payloads().is_empty());
}

// ---- POST /incidents/{incident}/plans/{plan}/responded ------------------------

#[tokio::test]
async fn a_portal_marks_as_its_caller_and_a_second_mark_gets_the_first() {
    let e = edge();
    e.marks.posted(ARN, PLAN);
    let a = e.api(ARN_ENCODED, PLAN, iam(ROLE), &[]).await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(
        a.json(),
        json!({"incident": ARN, "plan": PLAN, "by": ROLE, "at": NOW, "via": "api"})
    );
    assert_eq!(e.handed.payloads(), [handed_off(ARN, PLAN)]);
    let again = e.api(ARN_ENCODED, PLAN, jwt("u-sam"), &[]).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.json()["by"], ROLE, "the first mark stands");
    assert_eq!(e.handed.payloads().len(), 1);

    // A PagerDuty incident, a JWT caller.
    e.marks.posted("pagerduty:PGR0VU2", PLAN);
    let pd = e.api("PGR0VU2", PLAN, jwt("u-dana"), &[]).await;
    assert_eq!(pd.status, 201, "{}", pd.text);
    assert_eq!(pd.json()["incident"], "pagerduty:PGR0VU2");
    assert_eq!(pd.json()["by"], "jwt:u-dana");
    assert_eq!(e.handed.payloads()[1], handed_off("pagerduty:PGR0VU2", PLAN));
}

#[tokio::test]
async fn the_portals_route_refuses_what_is_malformed_unposted_or_anonymous() {
    let e = edge();
    e.marks.posted(ARN, PLAN);
    let problem = |a: &Answer, status: u16, says: &str| {
        assert_eq!(a.status, status, "{}", a.text);
        assert_eq!(a.headers["content-type"], "application/problem+json");
        let detail = a.json()["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains(says), "{detail}");
    };
    problem(
        &e.api(ARN_ENCODED, PLAN, Value::Null, &[]).await,
        401,
        "authenticated caller",
    );
    // The local header counts only under LOCAL_AUTH.
    problem(
        &e.api(ARN_ENCODED, PLAN, Value::Null, &[("x-local-principal", "dana")])
            .await,
        401,
        "authenticated caller",
    );
    problem(&e.api("pgr0vu2", PLAN, iam(ROLE), &[]).await, 400, "incident");
    problem(
        &e.api("arn%3Aaws%3As3%3A%3A%3Abucket", PLAN, iam(ROLE), &[]).await,
        400,
        "incident",
    );
    problem(
        &e.api(ARN_ENCODED, "Not_A_Plan", iam(ROLE), &[]).await,
        400,
        "plan",
    );
    problem(
        &e.api(ARN_ENCODED, "stripe-premium", iam(ROLE), &[]).await,
        404,
        "stripe-premium",
    );
    problem(&e.api("PGR0VU2", PLAN, iam(ROLE), &[]).await, 404, PLAN);
    e.nothing_recorded();
}

#[tokio::test]
async fn locally_the_caller_is_the_local_principal_header() {
    let e = edge_with(&made_up("local"), now, true);
    e.marks.posted(ARN, PLAN);
    let none = e.api(ARN_ENCODED, PLAN, Value::Null, &[]).await;
    assert_eq!(none.status, 401);
    e.nothing_recorded();
    let a = e
        .api(
            ARN_ENCODED,
            PLAN,
            Value::Null,
            &[("x-local-principal", "dana@example.com")],
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.json()["by"], "dana@example.com");
}

#[tokio::test]
async fn other_methods_on_the_responded_routes_are_405() {
    let e = edge();
    let token = e.token(ARN, PLAN);
    let put = Request::put(format!("/responded/{token}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(e.send(put).await.status, 405);
    let get = Request::get(format!("/incidents/{ARN_ENCODED}/plans/{PLAN}/responded"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(e.send(get).await.status, 405);
    e.nothing_recorded();
}
