//! The API handler with its store faked at the HTTP layer: the real
//! `DynamoStore` over an SDK client whose HTTP client answers from an
//! in-process map at once. What is timed is the handler's own work plus
//! the SDK's request/response marshalling and signing (an upper bound of
//! "excluding the store"): the API Gateway event parsed by `lambda_http`,
//! the router, the extractors, the store call, the response body.
//!
//! Also `POST /match` at its input limits (SPEC §2 "Incident match"): the
//! workloads' rules and the request as large as validation lets them be,
//! built so that every pattern is tried against every resource and none
//! matches (the matcher's worst case).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorFuture, SharedHttpConnector, http_client_fn,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_types::body::SdkBody;
use axum::Router;
use axum::body::Body;
use plans_api::auth::AuthConfig;
use plans_api::{AppState, app};
use serde_json::{Value, json};
use support_plans_aws::DynamoStore;
use tower::ServiceExt as _;

/// Items by (pk, sk): enough DynamoDB for create-then-get, a query of one
/// index partition and a batch read.
#[derive(Debug, Default, Clone)]
struct FakeDynamo {
    items: Arc<Mutex<HashMap<(String, String), Value>>>,
}

fn key_of(item: &Value) -> Option<(String, String)> {
    Some((
        item["pk"]["S"].as_str()?.to_owned(),
        item["sk"]["S"].as_str()?.to_owned(),
    ))
}

impl FakeDynamo {
    fn answer(&self, target: &str, body: &Value) -> (u16, Value) {
        let mut items = self.items.lock().expect("not poisoned");
        match target {
            "DynamoDB_20120810.TransactWriteItems" => {
                for t in body["TransactItems"].as_array().into_iter().flatten() {
                    if let Some(item) = t.get("Put").map(|p| &p["Item"])
                        && let Some(key) = key_of(item)
                    {
                        items.insert(key, item.clone());
                    }
                }
                (200, json!({}))
            }
            "DynamoDB_20120810.PutItem" => {
                if let Some(key) = key_of(&body["Item"]) {
                    items.insert(key, body["Item"].clone());
                }
                (200, json!({}))
            }
            "DynamoDB_20120810.GetItem" => match key_of(&body["Key"]).and_then(|k| items.get(&k)) {
                Some(item) => (200, json!({"Item": item})),
                None => (200, json!({})),
            },
            // `#pk = :pk` on an index, in one page.
            "DynamoDB_20120810.Query" => {
                let attribute = body["ExpressionAttributeNames"]["#pk"].as_str().unwrap_or("pk");
                let value = &body["ExpressionAttributeValues"][":pk"];
                let found: Vec<&Value> = items.values().filter(|i| &i[attribute] == value).collect();
                (
                    200,
                    json!({"Items": found, "Count": found.len(), "ScannedCount": found.len()}),
                )
            }
            "DynamoDB_20120810.BatchGetItem" => {
                let mut responses = serde_json::Map::new();
                for (table, wanted) in body["RequestItems"].as_object().into_iter().flatten() {
                    let found: Vec<&Value> = wanted["Keys"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|k| items.get(&key_of(k)?))
                        .collect();
                    responses.insert(table.clone(), json!(found));
                }
                (200, json!({"Responses": responses, "UnprocessedKeys": {}}))
            }
            other => (
                400,
                json!({"__type": "com.amazon.coral.validate#ValidationException",
                       "message": format!("the bench's fake DynamoDB does not answer {other}")}),
            ),
        }
    }
}

impl HttpConnector for FakeDynamo {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let target = request
            .headers()
            .get("x-amz-target")
            .unwrap_or_default()
            .to_owned();
        let body: Value = request
            .body()
            .bytes()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(Value::Null);
        let (status, answer) = self.answer(&target, &body);
        let mut response = HttpResponse::new(
            status.try_into().expect("a status code"),
            SdkBody::from(answer.to_string()),
        );
        response
            .headers_mut()
            .insert("content-type", "application/x-amz-json-1.0");
        HttpConnectorFuture::ready(Ok(response))
    }
}

/// The plan every timed GET reads.
pub const PLAN_ID: &str = "bench-overhead-plan";

/// The router over a faked store holding one plan.
#[derive(Debug, Clone)]
pub struct Fixture {
    app: Router,
    get_event: String,
}

/// An API Gateway HTTP API (payload 2.0) event, as API Gateway sends it for
/// a JWT user in `groups`.
pub fn api_event(method: &str, path: &str, groups: &[&str], body: Option<&Value>) -> Value {
    let mut headers = json!({"accept": "application/json"});
    if body.is_some() {
        headers["content-type"] = json!("application/json");
    }
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "111122223333", "apiId": "a1b2c3", "domainName": "a1b2c3.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "a1b2c3", "requestId": "bench", "routeKey": "$default", "stage": "$default",
            "time": "21/Nov/2026:10:00:00 +0000", "timeEpoch": 1795255200000u64,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "10.0.0.1", "userAgent": "bench"},
            "authorizer": {"jwt": {"claims": {"sub": "0b1c", "email": "bench@example.com",
                                              "groups": format!("[{}]", groups.join(" "))}, "scopes": null}}
        },
        "body": body.map(Value::to_string), "isBase64Encoded": false
    })
}

/// A complete plan body (the tests' sample plan).
pub fn plan_body(id: &str, team: &str) -> Value {
    json!({
        "id": id, "vendor": "Example Vendor", "product": "Example Cloud", "tier": "Enterprise",
        "owner": {"team": team, "email": format!("{team}@example.com")},
        "account_ref": "Customer #AC-1001",
        "channels": [
            {"kind": "portal", "value": "https://support.example.net/cases", "hours": "24x7"},
            {"kind": "phone", "value": "+12065550100", "hours": "business-hours"}
        ],
        "severities": [
            {"name": "Sev 1", "response_minutes": 60, "impacts": [1, 2]},
            {"name": "Sev 2", "response_minutes": 240, "impacts": [3]}
        ],
        "escalation_steps": [
            {"title": "Open a Sev 1 case", "instructions": "Use the portal.", "after_minutes": 0, "contact": "support"},
            {"title": "Call the TAM", "instructions": "If no answer in 30 minutes.", "after_minutes": 30, "contact": "tam"}
        ],
        "contacts": [
            {"id": "support", "name": "Vendor Support", "role": "vendor-support", "email": "support@example.net"},
            {"id": "tam", "name": "Dana Reyes", "role": "vendor-tam", "phone": "+12065550101"}
        ]
    })
}

/// One API Gateway event (as `lambda_http` parses it) through a router:
/// the answer's status and body.
pub async fn call_router(app: &Router, event: &str) -> (u16, String) {
    let request = lambda_http::request::from_str(event).expect("a valid API Gateway event");
    let (parts, body) = request.into_parts();
    let body = match body {
        lambda_http::Body::Text(t) => Body::from(t),
        lambda_http::Body::Binary(b) => Body::from(b),
        _ => Body::empty(),
    };
    let response = app
        .clone()
        .oneshot(axum::http::Request::from_parts(parts, body))
        .await
        .expect("the router is infallible");
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("a body");
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

impl Fixture {
    /// The app over the fake store, with [`PLAN_ID`] created through the API.
    pub async fn new() -> Result<Self, String> {
        // One map for every connector the SDK asks for.
        let fake = FakeDynamo::default();
        let http = http_client_fn(move |_, _| SharedHttpConnector::new(fake.clone()));
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("bench", "bench", None, None, "bench"))
            .http_client(http)
            .build();
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), "support-plans");
        let auth = AuthConfig {
            admin_groups: vec!["support-plans-admins".into()],
            ..AuthConfig::default()
        };
        let app = app(AppState::new(store, auth));
        let fixture = Self {
            app,
            get_event: api_event("GET", &format!("/plans/{PLAN_ID}"), &["platform"], None).to_string(),
        };
        let create = api_event(
            "POST",
            "/plans",
            &["support-plans-admins"],
            Some(&plan_body(PLAN_ID, "platform")),
        );
        let (status, text) = fixture.call(&create.to_string()).await;
        if status != 201 {
            return Err(format!(
                "creating the plan through the faked store: {status} {text}"
            ));
        }
        let (status, text) = fixture.call(&fixture.get_event).await;
        if status != 200 || !text.contains(PLAN_ID) {
            return Err(format!(
                "reading the plan through the faked store: {status} {text}"
            ));
        }
        Ok(fixture)
    }

    async fn call(&self, event: &str) -> (u16, String) {
        call_router(&self.app, event).await
    }

    /// One `GET /plans/{id}` through the handler; panics on anything but 200.
    pub async fn get_plan(&self) -> usize {
        let (status, text) = self.call(&self.get_event).await;
        assert_eq!(status, 200, "{text}");
        text.len()
    }
}

// ---------------------------------------------------------------- /match at the limits

/// Workloads loaded at the match-rule limits for the `/match` row (the
/// issue's case: one workload's 50 patterns against one request's longest
/// resources). The cost grows linearly with their number.
pub const LIMIT_WORKLOADS: usize = 1;
/// `match.resource_patterns` per workload, and `match.title_keywords`.
pub const MAX_PATTERNS: usize = 50;
pub const MAX_KEYWORDS: usize = 20;
/// `match.resource_patterns[]`, in bytes (the domain's `MAX_PATTERN_LEN`).
pub const PATTERN_LEN: usize = 1024;
/// `/match` `resources`: as many as validation lets in, each of at most
/// 2,048 bytes (`MAX_RESOURCE_LEN`).
pub const MAX_RESOURCES: usize = plans_api::matching::MAX_RESOURCES;
pub const RESOURCE_LEN: usize = 2048;

/// A workload of `team` whose rules are all at their limits and written as
/// the team may (no broad rule), none matching [`match_limits_event`]: half
/// the patterns are six segments (`*06*aaa*…*aaa…ab*`), half one long
/// segment (`*07*aaa…ab*`), the last failing at its last character.
pub fn workload_at_limits(i: usize, team: &str) -> Value {
    let patterns: Vec<String> = (0..MAX_PATTERNS)
        .map(|j| {
            // Each pattern its own: a number every resource has; then 10 stars in all.
            let mut p = format!("arn:aws:rds:*:*:db:*{j:02}*");
            if j % 2 == 0 {
                // five runs of a, each found, then a long one failing at its end
                for _ in 0..5 {
                    p.push_str(&"a".repeat(100));
                    p.push('*');
                }
            }
            while p.len() < PATTERN_LEN - 2 {
                p.push('a');
            }
            p.push_str("b*");
            p
        })
        .collect();
    let keywords: Vec<String> = (0..MAX_KEYWORDS)
        .map(|j| format!("w{i:03}k{j:02}{}", "q".repeat(50 - 7)))
        .collect();
    json!({
        "name": format!("limits-{i:03}"),
        "owner": {"team": team, "email": format!("{team}@example.com")},
        "criticality": "tier-1",
        "dependencies": [PLAN_ID],
        "match": {"resource_patterns": patterns, "title_keywords": keywords}
    })
}

/// The `/match` body at its limits: as many resources of [`RESOURCE_LEN`]
/// bytes as the body limit lets in (at most [`MAX_RESOURCES`]), each fitting
/// every pattern's prefix and number, and a 200-character title no keyword is in.
pub fn match_limits_body() -> Value {
    let head = "arn:aws:rds:us-east-1:111122223333:db:";
    let numbers: String = (0..MAX_PATTERNS).map(|j| format!("{j:02}")).collect();
    let title: String = "card payments ledger slow at checkout "
        .repeat(6)
        .chars()
        .take(200)
        .collect();
    let mut body = json!({"title": title, "impact": 1, "resources": []});
    for r in 0..MAX_RESOURCES {
        let mut s = format!("{head}r{r:02}-{numbers}");
        while s.len() < RESOURCE_LEN {
            s.push('a');
        }
        body["resources"].as_array_mut().expect("a list").push(json!(s));
        if body.to_string().len() > plans_api::http::MAX_BODY {
            body["resources"].as_array_mut().expect("a list").pop();
            break;
        }
    }
    body
}

/// The API Gateway event of [`match_limits_body`].
pub fn match_limits_event() -> String {
    api_event("POST", "/match", &["platform"], Some(&match_limits_body())).to_string()
}

impl Fixture {
    /// Creates [`LIMIT_WORKLOADS`] workloads at the limits through the API,
    /// as their team; returns the `/match` event to time.
    pub async fn load_match_limits(&self) -> Result<String, String> {
        for i in 0..LIMIT_WORKLOADS {
            let team = format!("team-{i:03}");
            let create = api_event(
                "POST",
                "/workloads",
                &[&team],
                Some(&workload_at_limits(i, &team)),
            );
            let (status, text) = self.call(&create.to_string()).await;
            if status != 201 {
                return Err(format!("creating workload {i} at the limits: {status} {text}"));
            }
        }
        let event = match_limits_event();
        let (status, text) = self.call(&event).await;
        if status != 200 {
            return Err(format!("POST /match at the limits: {status} {text}"));
        }
        if !text.contains("\"unmatched_note\":\"") {
            return Err(format!(
                "POST /match at the limits matched something: {}",
                &text[..text.len().min(300)]
            ));
        }
        Ok(event)
    }

    /// One `POST /match` through the handler; panics on anything but 200.
    pub async fn post_match(&self, event: &str) -> usize {
        let (status, text) = self.call(event).await;
        assert_eq!(status, 200, "{text}");
        text.len()
    }
}
