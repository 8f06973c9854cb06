//! Drives the real handler: an API Gateway HTTP API (payload 2.0) event in,
//! the response out, against a table of its own on moto.

#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use plans_api::auth::AuthConfig;
use plans_api::{AppState, app};
use serde_json::{Value, json};
use tower::ServiceExt as _;

pub const ADMIN_GROUP: &str = "support-plans-admins";
pub const ADMIN_ROLE: &str = "arn:aws:iam::111122223333:role/SupportPlansAdmin";

/// Who calls: nobody, a JWT user with groups, or an IAM principal.
#[derive(Debug, Clone)]
pub enum Who {
    Nobody,
    Jwt(&'static str, &'static [&'static str]),
    Iam(&'static str),
}

pub const ADMIN: Who = Who::Jwt("admin@example.com", &[ADMIN_GROUP]);
pub const PAYMENTS: Who = Who::Jwt("dana@example.com", &["payments"]);
pub const PLATFORM: Who = Who::Jwt("ali@example.com", &["platform"]);
pub const READER: Who = Who::Iam("arn:aws:sts::111122223333:assumed-role/PortalReader/portal");

pub struct Api {
    app: Router,
    pub state: AppState,
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    pub fn etag(&self) -> String {
        self.headers
            .get("etag")
            .expect("an ETag")
            .to_str()
            .unwrap()
            .to_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The field paths of a problem response.
    pub fn fields(&self) -> Vec<String> {
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.text
        );
        self.json()["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Api {
    pub async fn new() -> Self {
        let store = support_plans_tests::fresh_store().await;
        let auth = AuthConfig {
            admin_principals: vec![format!("{ADMIN_ROLE}*")],
            admin_groups: vec![ADMIN_GROUP.into()],
            ..AuthConfig::default()
        };
        let state = AppState::new(store, auth);
        Self {
            app: app(state.clone()),
            state,
        }
    }

    /// The DynamoDB store under the API (tests that look inside the table).
    pub fn dynamo(&self) -> &support_plans_aws::DynamoStore {
        self.state
            .store
            .downcast_ref()
            .expect("the API over the DynamoDB store")
    }

    /// The API over `state` (e.g. with a verification key).
    pub fn from_state(state: AppState) -> Self {
        Self {
            app: app(state.clone()),
            state,
        }
    }

    /// The API Gateway event for a request, as API Gateway would send it.
    pub fn event(
        method: &str,
        path_and_query: &str,
        who: &Who,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Value {
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        let mut hs = serde_json::Map::new();
        for (k, v) in headers {
            hs.insert(k.to_ascii_lowercase(), json!(v));
        }
        if body.is_some() && !hs.contains_key("content-type") {
            hs.insert("content-type".into(), json!("application/json"));
        }
        let authorizer = match who {
            Who::Nobody => Value::Null,
            Who::Jwt(user, groups) => json!({"jwt": {
                "claims": {"sub": "0b1c", "email": user, "email_verified": "true", "groups": format!("[{}]", groups.join(" "))},
                "scopes": null
            }}),
            Who::Iam(arn) => json!({"iam": {
                "accessKey": "ASIAEXAMPLE", "accountId": "111122223333", "callerId": "AROAEXAMPLE:portal",
                "principalOrgId": null, "userArn": arn, "userId": "AROAEXAMPLE:portal"
            }}),
        };
        let mut ctx = json!({
            "accountId": "111122223333", "apiId": "a1b2c3", "domainName": "a1b2c3.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "a1b2c3", "requestId": "req-1", "routeKey": "$default", "stage": "$default",
            "time": "21/Nov/2026:10:00:00 +0000", "timeEpoch": 1795255200000u64,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "10.0.0.1", "userAgent": "tests"}
        });
        if !authorizer.is_null() {
            ctx["authorizer"] = authorizer;
        }
        json!({
            "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
            "headers": hs, "requestContext": ctx, "body": body, "isBase64Encoded": false
        })
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        who: &Who,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Resp {
        send_event(&self.app, &Self::event(method, path, who, headers, body)).await
    }

    pub async fn get(&self, path: &str, who: &Who) -> Resp {
        self.call("GET", path, who, &[], None).await
    }
    pub async fn post(&self, path: &str, who: &Who, body: &Value) -> Resp {
        self.call("POST", path, who, &[], Some(&body.to_string())).await
    }
    pub async fn put(&self, path: &str, who: &Who, etag: Option<&str>, body: &Value) -> Resp {
        let headers: Vec<(&str, &str)> = etag.map(|e| ("if-match", e)).into_iter().collect();
        self.call("PUT", path, who, &headers, Some(&body.to_string()))
            .await
    }
    pub async fn delete(&self, path: &str, who: &Who, etag: Option<&str>) -> Resp {
        let headers: Vec<(&str, &str)> = etag.map(|e| ("if-match", e)).into_iter().collect();
        self.call("DELETE", path, who, &headers, None).await
    }

    /// Creates the plan `id` owned by `team`, as an admin; returns its ETag.
    pub async fn seed_plan(&self, id: &str, team: &str) -> String {
        let r = self
            .post("/plans", &ADMIN, &support_plans_tests::plan_body(id, team))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.etag()
    }
}

/// Sends an API Gateway event through `app`, as Lambda would hand it over.
pub async fn send_event(app: &Router, event: &Value) -> Resp {
    let request = lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway event");
    let (parts, body) = request.into_parts();
    let body = match body {
        lambda_http::Body::Empty => Body::empty(),
        lambda_http::Body::Text(t) => Body::from(t),
        lambda_http::Body::Binary(b) => Body::from(b),
        _ => Body::empty(),
    };
    let response = app
        .clone()
        .oneshot(axum::http::Request::from_parts(parts, body))
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Resp {
        status,
        headers,
        text: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

/// The contact `id` of a plan as the API returns it.
pub fn contact<'a>(plan: &'a Value, id: &str) -> &'a Value {
    plan["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap()
}

pub fn workload_body(name: &str, team: &str, deps: &[&str]) -> Value {
    json!({
        "name": name,
        "description": "Card payments for the web shop",
        "owner": {"team": team, "email": format!("{team}@example.com")},
        "criticality": "tier-1",
        "dependencies": deps,
        "match": {"response_plans": ["payments-critical"], "resource_patterns": ["arn:aws:rds:*:*:db:payments-*"], "title_keywords": ["payments"]}
    })
}
