//! `/workloads`: the same rules as plans, plus the support card.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Serialize;
use support_plans_domain::model::{Change, MatchPolicy, Revision, Status, Workload, WorkloadSpec};
use support_plans_domain::ports::{PlanStore as _, WorkloadFilter, WorkloadStore as _};
use support_plans_domain::reminders::subscriptions::{PlanReach, SubscriptionRecords as _, Topic};
use support_plans_domain::types::Slug;
use support_plans_domain::{FieldError, ValidationErrors, card};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::http::{IfMatch, JsonBody, Params, path_slug, with_etag};
use crate::plans::PlanView;

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkloadList {
    pub items: Vec<Workload>,
    /// Pass as `cursor` for the next page; present only when more may follow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkloadHistory {
    /// Every version, newest first (the current one included), with who and when.
    pub items: Vec<Revision<Workload>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Everything a responder needs for one workload, freshness flagged.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupportCard {
    pub workload: Workload,
    pub generated_at: Timestamp,
    /// The plans it relies on, in its dependency order (retired ones flagged by `status`).
    pub plans: Vec<PlanView>,
    /// Dependencies with no plan in the directory.
    pub missing_plans: Vec<Slug>,
}

impl AppState {
    async fn workload_or_404(&self, name: &str) -> Result<Workload, ApiError> {
        let slug = path_slug("name", name)?;
        self.store
            .get_workload(&slug)
            .await?
            .ok_or_else(|| ApiError::not_found("workload", name))
    }

    fn workload_response(&self, status: StatusCode, w: Workload) -> Response {
        let mut headers = with_etag(w.meta.version);
        if status == StatusCode::CREATED {
            let location = format!("/workloads/{}", w.name());
            headers.insert(
                header::LOCATION,
                location.parse().expect("a slug is a valid header value"),
            );
        }
        (status, headers, Json(w)).into_response()
    }

    /// Each dependency must name an existing plan at write time (SPEC §2).
    async fn check_dependencies(&self, spec: &WorkloadSpec) -> Result<(), ApiError> {
        let found = self.store.get_plans(&spec.dependencies).await?;
        let missing: Vec<FieldError> = spec
            .dependencies
            .iter()
            .enumerate()
            .filter(|(_, d)| !found.iter().any(|p| p.id() == *d))
            .map(|(i, d)| FieldError {
                field: format!("dependencies[{i}]"),
                message: format!("no plan '{d}'; create the plan first"),
            })
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(ValidationErrors(missing)))
        }
    }
}

#[utoipa::path(get, path = "/workloads", tag = "workloads",
    params(
        ("owner_team" = Option<String>, Query),
        ("status" = Option<String>, Query, description = "active or retired"),
        ("limit" = Option<u32>, Query),
        ("cursor" = Option<String>, Query),
    ),
    responses(
        (status = 200, body = WorkloadList),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_workloads(
    State(st): State<AppState>,
    _caller: Caller,
    params: Params,
) -> Result<Json<WorkloadList>, ApiError> {
    params.only(&["owner_team", "status", "limit", "cursor"])?;
    let page = params.page()?;
    let team = params.slug("owner_team")?;
    let status = params.status()?;
    let filter = match (&team, status) {
        (Some(t), _) => WorkloadFilter::OwnerTeam(t.clone()),
        (None, Some(s)) => WorkloadFilter::Status(s),
        (None, None) => WorkloadFilter::All,
    };
    // With a team, the status is applied to what its index reads, and the
    // store reads on to fill the page (SPEC §3).
    let by_status = status.filter(|_| team.is_some());
    let keep = |w: &Workload| by_status.is_none_or(|s| w.status == s);
    let found = st
        .store
        .list_workloads_where(&filter, &page, by_status.is_some().then_some(&keep as _))
        .await?;
    Ok(Json(WorkloadList {
        items: found.items,
        next_cursor: found.next_cursor,
    }))
}

#[utoipa::path(post, path = "/workloads", tag = "workloads", request_body = WorkloadSpec,
    responses(
        (status = 201, body = Workload, headers(("ETag" = String), ("Location" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_workload(
    State(st): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    // A broad match rule (SPEC §2) is an admin's to write.
    let policy = if st.auth.is_admin(&caller) {
        MatchPolicy::Admin
    } else {
        MatchPolicy::Team
    };
    let spec = WorkloadSpec::parse_with(&body, policy)?;
    st.auth.may_write(&caller, spec.owner.team.as_str(), None)?;
    st.check_dependencies(&spec).await?;
    let w = Workload::create(spec, &caller.actor()?, st.now());
    st.store.create_workload(&w).await?;
    Ok(st.workload_response(StatusCode::CREATED, w))
}

#[utoipa::path(get, path = "/workloads/{name}", tag = "workloads",
    params(("name" = String, Path)),
    responses(
        (status = 200, body = Workload, headers(("ETag" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_workload(
    State(st): State<AppState>,
    _caller: Caller,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let w = st.workload_or_404(&name).await?;
    Ok(st.workload_response(StatusCode::OK, w))
}

#[utoipa::path(put, path = "/workloads/{name}", tag = "workloads", request_body = WorkloadSpec,
    params(("name" = String, Path), ("If-Match" = String, Header, description = "Required. One or more entity-tags separated by commas, e.g. `\"3\"` or `\"2\", \"3\"`: the ETag of the version you read. Compared strongly (RFC 9110 §13.1.1): a weak `W/\"3\"` never matches. Without the header, or with `*`, the write is refused (428); a well-formed list that does not name the current version fails (412); only a malformed header is a 400.")),
    responses(
        (status = 200, body = Workload, headers(("ETag" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 428, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_workload(
    State(st): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    if_match: IfMatch,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let admin = st.auth.is_admin(&caller);
    let spec = WorkloadSpec::parse_with(&body, MatchPolicy::Admin)?;
    let current = st.workload_or_404(&name).await?;
    st.auth.may_write(
        &caller,
        current.spec.owner.team.as_str(),
        Some(spec.owner.team.as_str()),
    )?;
    if !admin {
        // A team may keep the broad rules an admin gave its workload, as they
        // are, but not add one: the body again, with the stored rules kept.
        WorkloadSpec::parse_with(&body, MatchPolicy::TeamKeeping(&current.spec.matching))?;
    }
    if_match.required()?;
    if_match.check(current.meta.version)?;
    st.check_dependencies(&spec).await?;
    let next = current.replaced(spec, &caller.actor()?, st.now())?;
    st.store.put_workload_version(&next, Change::Replaced).await?;
    Ok(st.workload_response(StatusCode::OK, next))
}

#[utoipa::path(delete, path = "/workloads/{name}", tag = "workloads",
    params(("name" = String, Path), ("If-Match" = String, Header, description = "Required. One or more entity-tags separated by commas, e.g. `\"3\"` or `\"2\", \"3\"`: the ETag of the version you read. Compared strongly (RFC 9110 §13.1.1): a weak `W/\"3\"` never matches. Without the header, or with `*`, the write is refused (428); a well-formed list that does not name the current version fails (412); only a malformed header is a 400.")),
    responses(
        (status = 200, body = Workload, description = "the retired workload; its history is kept", headers(("ETag" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 428, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn retire_workload(
    State(st): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    if_match: IfMatch,
) -> Result<Response, ApiError> {
    let current = st.workload_or_404(&name).await?;
    st.auth
        .may_write(&caller, current.spec.owner.team.as_str(), None)?;
    if_match.required()?;
    if_match.check(current.meta.version)?;
    if current.status == Status::Retired {
        return Ok(st.workload_response(StatusCode::OK, current));
    }
    let next = current.retired(&caller.actor()?, st.now());
    st.store.put_workload_version(&next, Change::Retired).await?;
    Ok(st.workload_response(StatusCode::OK, next))
}

#[utoipa::path(get, path = "/workloads/{name}/history", tag = "workloads",
    params(("name" = String, Path), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses(
        (status = 200, body = WorkloadHistory),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn workload_history(
    State(st): State<AppState>,
    _caller: Caller,
    Path(name): Path<String>,
    params: Params,
) -> Result<Json<WorkloadHistory>, ApiError> {
    params.only(&["limit", "cursor"])?;
    let page = params.page()?;
    let w = st.workload_or_404(&name).await?;
    let found = st.store.workload_history(w.name(), &page).await?;
    Ok(Json(WorkloadHistory {
        items: found.items,
        next_cursor: found.next_cursor,
    }))
}

#[utoipa::path(get, path = "/workloads/{name}/support", tag = "workloads",
    params(("name" = String, Path), ("format" = Option<String>, Query, description = "json (default) or markdown")),
    responses(
        (status = 200, description = "the card; text/markdown with format=markdown",
            content((SupportCard = "application/json"), (String = "text/markdown"))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn support_card(
    State(st): State<AppState>,
    _caller: Caller,
    Path(name): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    params.only(&["format"])?;
    let markdown = match params.get("format") {
        None | Some("json") => false,
        Some("markdown") => true,
        Some(_) => return Err(ApiError::field("format", "must be json or markdown")),
    };
    let w = st.workload_or_404(&name).await?;
    let plans = st.store.get_plans(&w.spec.dependencies).await?;
    let missing: Vec<Slug> = w
        .spec
        .dependencies
        .iter()
        .filter(|d| !plans.iter().any(|p| p.id() == *d))
        .cloned()
        .collect();
    let now = st.now();
    // One batch read for every plan's addresses.
    let keys: Vec<(Topic, String)> = plans.iter().flat_map(PlanReach::keys).collect();
    let refs: Vec<(Topic, &str)> = keys.iter().map(|(t, a)| (*t, a.as_str())).collect();
    let records = st.store.records(&refs).await?;
    let views: Vec<PlanView> = plans
        .into_iter()
        .map(|p| PlanView {
            reachability: Some(PlanReach::of(&p, &records)),
            ..st.view(p)
        })
        .collect();
    if markdown {
        let pairs: Vec<_> = views
            .into_iter()
            .map(|v| (v.plan, v.freshness, v.reachability))
            .collect();
        let text = card::markdown(&w, &pairs, &missing, now);
        return Ok(([(header::CONTENT_TYPE, "text/markdown; charset=utf-8")], text).into_response());
    }
    Ok(Json(SupportCard {
        workload: w,
        generated_at: now,
        plans: views,
        missing_plans: missing,
    })
    .into_response())
}
