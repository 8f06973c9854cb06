//! `POST /match`: the incident responder's dry run. The same matching and the
//! same renderer as the responder (`support_plans_domain::post::prepare`).

use axum::Json;
use axum::extract::State;
use jiff::Timestamp;
use serde_json::Value;
use support_plans_domain::matching::{Incident, MAX_RESOURCE_LEN, PagerDutyService, needed_plans};
use support_plans_domain::model::{MAX_PAGERDUTY_SERVICE_CHARS, Status};
use support_plans_domain::ports::{PlanStore as _, WorkloadStore as _};
use support_plans_domain::post::{IncidentContext, Posts, prepare};
use support_plans_domain::types::Slug;
use support_plans_domain::validate::{Cx, Lines, int, list, parsed, text};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::http::JsonBody;

/// The most involved resources one request may name. Matching costs each
/// workload's patterns × the resources' bytes: with 50 patterns and 10
/// resources of the longest ARN, one request stays well under 10 ms of CPU
/// per workload (the `/match at the input limits` row of `make bench`).
pub const MAX_RESOURCES: usize = 10;

/// An incident as the responder would see it.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[allow(dead_code)] // the schema of the body; parsing is checked field by field below
pub struct MatchRequest {
    /// The incident's title.
    title: Option<String>,
    /// A response-plan name or ARN.
    response_plan: Option<String>,
    /// Involved resource ARNs.
    resources: Option<Vec<String>>,
    /// Incident Manager impact, 1 (critical) to 5 (no impact).
    impact: Option<u8>,
    /// A workload named explicitly.
    workload: Option<String>,
    /// When the incident started (RFC 3339); the vendor's response is due from
    /// here. Default: now.
    started_at: Option<String>,
    /// The PagerDuty service the incident is on, by id or name: a workload
    /// matches when its `match.pagerduty_services` names it (an id exactly,
    /// a name whatever its case). Here one string stands for both.
    pagerduty_service: Option<String>,
}

fn parse(body: &Value) -> Result<IncidentContext, ApiError> {
    let parsed_ctx = Cx::run(|cx| {
        let o = cx.object(
            body,
            &[
                "title",
                "response_plan",
                "resources",
                "impact",
                "workload",
                "started_at",
                "pagerduty_service",
            ],
            &[],
        )?;
        let title = cx.or(o, "title", String::new(), |v, cx| {
            text(v, cx, 0..=200, Lines::Single)
        });
        let response_plan = cx.opt(o, "response_plan", |v, cx| text(v, cx, 1..=1000, Lines::Single));
        let resources = cx.or(o, "resources", Vec::new(), |v, cx| {
            list(v, cx, 0..=MAX_RESOURCES, |v, cx| {
                parsed(v, cx, |s| {
                    if s.len() > MAX_RESOURCE_LEN {
                        Err(format!(
                            "must be at most {MAX_RESOURCE_LEN} characters (the longest ARN AWS allows), has {}",
                            s.len()
                        ))
                    } else if s.starts_with("arn:")
                        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
                    {
                        Ok(s.to_owned())
                    } else {
                        Err("must be a resource ARN".into())
                    }
                })
            })
        });
        let impact = cx.opt(o, "impact", |v, cx| {
            int(v, cx, 1..=5).and_then(|n| u8::try_from(n).ok())
        });
        let workload = cx.opt(o, "workload", |v, cx| parsed(v, cx, Slug::parse));
        let started_at = cx.opt(o, "started_at", |v, cx| {
            parsed(v, cx, |s| {
                s.parse::<Timestamp>()
                    .map_err(|_| "must be an RFC 3339 timestamp like 2026-11-21T10:00:00Z".to_owned())
            })
        });
        let pagerduty_service = cx.opt(o, "pagerduty_service", |v, cx| {
            text(v, cx, 1..=MAX_PAGERDUTY_SERVICE_CHARS, Lines::Single)
        });
        Some(IncidentContext {
            facts: Incident {
                arn: None,
                title: title?,
                response_plan: response_plan?,
                resources: resources?,
                workloads: workload?.map(|w| w.to_string()).into_iter().collect(),
                pagerduty_service: pagerduty_service?.map(|s| PagerDutyService {
                    id: s.clone(),
                    name: s,
                }),
            },
            impact: impact?,
            started_at: started_at?.unwrap_or(Timestamp::UNIX_EPOCH),
        })
    })?;
    Ok(parsed_ctx)
}

#[utoipa::path(post, path = "/match", tag = "incidents", request_body = MatchRequest,
    responses(
        (status = 200, body = Posts, description = "the matched workloads, plans and the exact text the responder would post"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn match_incident(
    State(st): State<AppState>,
    _caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Json<Posts>, ApiError> {
    let mut ctx = parse(&body)?;
    if body.get("started_at").is_none_or(serde_json::Value::is_null) {
        ctx.started_at = st.now();
    }
    let (workloads, _) = st.store.all_workloads(Status::Active).await?;
    let plans = st.store.get_plans(&needed_plans(&ctx.facts, &workloads)).await?;
    Ok(Json(prepare(
        &ctx, "dry-run", &workloads, &plans, &st.links, &st.policy,
    )))
}
