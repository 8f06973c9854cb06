//! `POST /match`: the incident responder's dry run. The same matching and the
//! same renderer as the responder (`support_plans_domain::post::prepare`),
//! and the AWS case it would open for a plan (`case::case_for`, SPEC §13).

use axum::Json;
use axum::extract::State;
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;
use support_plans_domain::case::{CaseRequest, case_for};
use support_plans_domain::matching::{Incident, MAX_RESOURCE_LEN, PagerDutyService, needed_plans};
use support_plans_domain::model::{MAX_PAGERDUTY_SERVICE_CHARS, Status};
use support_plans_domain::ports::{PlanStore as _, WorkloadStore as _};
use support_plans_domain::post::{IncidentContext, PlanNote, Posts, prepare};
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

/// The AWS Support case the responder would open for a plan (SPEC §13): the
/// plan has `open_case` and the incident is at or above its `min_impact`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CasePreview {
    /// AWS Support `serviceCode`.
    service_code: String,
    /// AWS Support `categoryCode`.
    category_code: String,
    /// The mapped severity's `code` (`low` · `normal` · `high` · `urgent` · `critical`).
    severity_code: String,
    /// The case's subject: `[impact N]` and the incident's title.
    subject: String,
    /// Copied on the case: the plan's owner, then `open_case.cc_emails`.
    cc_emails: Vec<String>,
}

impl From<CaseRequest> for CasePreview {
    fn from(c: CaseRequest) -> Self {
        Self {
            service_code: c.service_code,
            category_code: c.category_code,
            severity_code: c.severity_code,
            subject: c.subject,
            cc_emails: c.cc_emails,
        }
    }
}

/// One plan's note, with the case the responder would open for it, if any.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // the schema of the answer, which is written from `Posts` and the cases
pub struct MatchNote {
    #[serde(flatten)]
    note: PlanNote,
    /// Present when the responder would open an AWS Support case for this plan.
    case: Option<CasePreview>,
}

/// `POST /match`'s answer: what the responder would post, each plan's note
/// with the case it would open.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // as MatchNote
pub struct MatchAnswer {
    #[serde(flatten)]
    posts: Posts,
    notes: Vec<MatchNote>,
}

/// The incident's key in a dry run (no incident exists).
const DRY_RUN: &str = "dry-run";

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
        (status = 200, body = MatchAnswer, description = "the matched workloads, plans and the exact text the responder would post, and each AWS case it would open"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn match_incident(
    State(st): State<AppState>,
    _caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let mut ctx = parse(&body)?;
    if body.get("started_at").is_none_or(serde_json::Value::is_null) {
        ctx.started_at = st.now();
    }
    let (workloads, _) = st.store.all_workloads(Status::Active).await?;
    let plans = st.store.get_plans(&needed_plans(&ctx.facts, &workloads)).await?;
    let posts = prepare(&ctx, DRY_RUN, &workloads, &plans, &st.links, &st.policy);
    let mut answer = serde_json::to_value(&posts).expect("posts serialize");
    let notes = answer.get_mut("notes").and_then(Value::as_array_mut);
    for (note, posted) in notes.into_iter().flatten().zip(&posts.notes) {
        let case = plans
            .iter()
            .find(|p| p.id().as_str() == posted.plan_id)
            .and_then(|p| case_for(p, &ctx, DRY_RUN, None));
        if let (Some(case), Some(note)) = (case, note.as_object_mut()) {
            let preview = serde_json::to_value(CasePreview::from(case)).expect("a case serializes");
            note.insert("case".into(), preview);
        }
    }
    Ok(Json(answer))
}
