//! The plans API (SPEC §3): an axum router behind API Gateway's HTTP API.
//! Routes are thin: parse into the domain, one store call, map the result.

pub mod auth;
pub mod config;
pub mod error;
pub mod http;
pub mod matching;
pub mod plans;
pub mod readiness;
pub mod store;
pub mod verify;
pub mod workloads;

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use jiff::Timestamp;
use support_plans_domain::freshness::Policy;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::AuthConfig;
use crate::config::Config;
use crate::error::ApiError;
use crate::store::Store;

/// What every request needs, built once per process.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The plans, workloads and activity counts: DynamoDB in the function,
    /// the domain's in-memory store in tests.
    pub store: Store,
    pub auth: AuthConfig,
    pub policy: Policy,
    /// The clock; tests fix it.
    pub clock: fn() -> Timestamp,
    /// Where posts point for a full plan and for the directory.
    pub links: support_plans_domain::post::Links,
    /// The one-click verification key (SPEC §5), read from its secret on
    /// the first `/verify` request and kept for the process; without one
    /// `/verify/{token}` answers 503.
    pub verify_key: verify::KeySource,
}

impl AppState {
    /// Over `store`, with the default policy and links, no verification key.
    pub fn new(store: impl store::Ports + 'static, auth: AuthConfig) -> Self {
        Self {
            store: Store::new(store, Policy::default()),
            auth,
            policy: Policy::default(),
            clock: Timestamp::now,
            links: support_plans_domain::post::Links::from_lookup(|_| None),
            verify_key: verify::KeySource::Off,
        }
    }

    /// Over `store`, as `config` says (the key source is wired apart).
    pub fn with_config(store: impl store::Ports + 'static, config: Config) -> Self {
        Self {
            store: Store::new(store, config.policy),
            policy: config.policy,
            links: config.links,
            auth: config.auth,
            clock: Timestamp::now,
            verify_key: verify::KeySource::Off,
        }
    }

    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "support-plans",
        description = "Vendor support plans for production workloads (AWS Well-Architected OPS07-BP06).",
    ),
    tags(
        (name = "plans", description = "Vendor support plans"),
        (name = "workloads", description = "Production workloads and the plans they rely on"),
        (name = "incidents", description = "What the incident responder would post"),
        (name = "readiness", description = "How ready the workloads are (SPEC §6)"),
        (name = "verification", description = "One-click verification from a reminder; the signed token is the credential"),
    )
)]
struct ApiDoc;

/// The router and the OpenAPI document built from the same route list, so
/// the two cannot disagree.
fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(plans::list_plans, plans::create_plan))
        .routes(routes!(plans::get_plan, plans::put_plan, plans::retire_plan))
        .routes(routes!(plans::plan_history))
        .routes(routes!(plans::verify_contact))
        .routes(routes!(plans::review_plan))
        .routes(routes!(workloads::list_workloads, workloads::create_workload))
        .routes(routes!(
            workloads::get_workload,
            workloads::put_workload,
            workloads::retire_workload
        ))
        .routes(routes!(workloads::workload_history))
        .routes(routes!(workloads::support_card))
        .routes(routes!(readiness::readiness))
        .routes(routes!(verify::verify_page, verify::verify_confirm))
        .routes(routes!(verify::verify_change))
        .routes(routes!(matching::match_incident))
}

/// The whole application: the API's routes, `/openapi.json`, and problem
/// answers for unknown routes and methods.
pub fn app(state: AppState) -> Router {
    let (router, mut doc) = api_router().split_for_parts();
    doc.paths.paths.insert(
        "/openapi.json".into(),
        utoipa::openapi::PathItem::new(
            utoipa::openapi::HttpMethod::Get,
            utoipa::openapi::path::OperationBuilder::new()
                .operation_id(Some("openapi"))
                .summary(Some("This document"))
                .response("200", utoipa::openapi::Response::new("the OpenAPI 3.1 document")),
        ),
    );
    // Serialized on the first request for it, not during the cold start.
    let doc = Arc::new(doc);
    let json: Arc<OnceLock<String>> = Arc::default();
    router
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let body = json
                    .get_or_init(|| doc.to_json().expect("the document serializes"))
                    .clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], body) }
            }),
        )
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no-route", "no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "this route does not take that method",
            )
            .into_response()
        })
        .with_state(state)
}
