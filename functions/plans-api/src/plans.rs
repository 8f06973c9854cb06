//! `/plans`: thin routes over the domain and the store.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use support_plans_domain::freshness::{self, PlanFreshness};
use support_plans_domain::model::{Change, PlanSpec, Revision, Status, SupportPlan, VerifiedVia};
use support_plans_domain::ports::{PlanFilter, PlanStore as _};
use support_plans_domain::reminders::subscriptions::PlanReach;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::http::{IfMatch, JsonBody, OptionalJsonBody, Params, path_slug, with_etag};

/// A plan with its freshness state (per contact, review and contract).
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanView {
    #[serde(flatten)]
    pub plan: SupportPlan,
    pub freshness: PlanFreshness,
    /// Whether reminders reach the owner's and the escalation address (SPEC
    /// §14), as the freshness check last found: on the plan read and the
    /// support card.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reachability: Option<PlanReach>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanList {
    pub items: Vec<PlanView>,
    /// Pass as `cursor` for the next page; present only when more may
    /// follow, absent on the last page. A filtered page is full (`limit`
    /// items) unless the data ended or its read budget ran out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanHistory {
    /// Every version, newest first (the current one included), with who and when.
    pub items: Vec<Revision<SupportPlan>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The optional body of verify and review: a note kept with the attestation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttestationNote {
    pub note: Option<String>,
}

impl AppState {
    pub fn view(&self, plan: SupportPlan) -> PlanView {
        let freshness = freshness::evaluate(&plan, self.now(), &self.policy);
        PlanView {
            plan,
            freshness,
            reachability: None,
        }
    }

    /// [`AppState::view`] with the reachability of its addresses (one batch read).
    pub async fn view_reach(&self, plan: SupportPlan) -> Result<PlanView, ApiError> {
        let reach = PlanReach::read(&plan, &self.store).await?;
        Ok(PlanView {
            reachability: Some(reach),
            ..self.view(plan)
        })
    }

    fn plan_response(&self, status: StatusCode, plan: SupportPlan) -> Response {
        let mut headers = with_etag(plan.meta.version);
        if status == StatusCode::CREATED {
            let location = format!("/plans/{}", plan.id());
            headers.insert(
                header::LOCATION,
                location.parse().expect("a slug is a valid header value"),
            );
        }
        (status, headers, Json(self.view(plan))).into_response()
    }

    pub async fn plan_or_404(&self, id: &str) -> Result<SupportPlan, ApiError> {
        let slug = path_slug("id", id)?;
        self.store
            .get_plan(&slug)
            .await?
            .ok_or_else(|| ApiError::not_found("plan", id))
    }
}

fn parse_note(body: Option<serde_json::Value>) -> Result<Option<String>, ApiError> {
    match body {
        None => Ok(None),
        Some(v) => serde_json::from_value::<AttestationNote>(v)
            .map(|n| n.note)
            .map_err(|e| ApiError::field("note", format!("the body must be {{\"note\": \"…\"}}: {e}"))),
    }
}

#[utoipa::path(get, path = "/plans", tag = "plans",
    params(
        ("workload" = Option<String>, Query, description = "plans this workload relies on, in its dependency order"),
        ("owner_team" = Option<String>, Query, description = "plans owned by this team"),
        ("status" = Option<String>, Query, description = "active or retired"),
        ("stale" = Option<bool>, Query, description = "only plans with an item due soon or overdue"),
        ("limit" = Option<u32>, Query, description = "1–100, default 50"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses(
        (status = 200, body = PlanList),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "no such workload"),
    ))]
pub async fn list_plans(
    State(st): State<AppState>,
    _caller: Caller,
    params: Params,
) -> Result<Json<PlanList>, ApiError> {
    params.only(&["workload", "owner_team", "status", "stale", "limit", "cursor"])?;
    let page = params.page()?;
    let workload = params.slug("workload")?;
    let team = params.slug("owner_team")?;
    let status = params.status()?;
    let stale = params.flag("stale")?;
    // One index answers the most selective filter; any other is applied to
    // what it reads, and the store reads on to fill the page (SPEC §3).
    let filter = match (&workload, &team, status) {
        (Some(w), _, _) => PlanFilter::Workload(w.clone()),
        (None, Some(t), _) => PlanFilter::OwnerTeam(t.clone()),
        (None, None, Some(s)) => PlanFilter::Status(s),
        (None, None, None) => PlanFilter::All,
    };
    let by_team = team
        .as_ref()
        .filter(|_| !matches!(filter, PlanFilter::OwnerTeam(_)));
    let by_status = status.filter(|_| !matches!(filter, PlanFilter::Status(_)));
    let now = st.now();
    let keep = |p: &SupportPlan| {
        by_team.is_none_or(|t| &p.spec.owner.team == t)
            && by_status.is_none_or(|s| p.spec.status == s)
            && (!stale || freshness::evaluate(p, now, &st.policy).is_stale())
    };
    let filtered = by_team.is_some() || by_status.is_some() || stale;
    let found = st
        .store
        .list_plans_where(&filter, &page, filtered.then_some(&keep as _))
        .await?;
    Ok(Json(PlanList {
        items: found.items.into_iter().map(|p| st.view(p)).collect(),
        next_cursor: found.next_cursor,
    }))
}

#[utoipa::path(post, path = "/plans", tag = "plans", request_body = PlanSpec,
    responses(
        (status = 201, body = PlanView, headers(("ETag" = String), ("Location" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_plan(
    State(st): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let spec = PlanSpec::parse(&body)?;
    st.auth.may_write(&caller, spec.owner.team.as_str(), None)?;
    let plan = SupportPlan::create(spec, &caller.actor()?, st.now());
    st.store.create_plan(&plan).await?;
    Ok(st.plan_response(StatusCode::CREATED, plan))
}

#[utoipa::path(get, path = "/plans/{id}", tag = "plans",
    params(("id" = String, Path)),
    responses(
        (status = 200, body = PlanView, headers(("ETag" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_plan(
    State(st): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let plan = st.plan_or_404(&id).await?;
    let headers = with_etag(plan.meta.version);
    Ok((headers, Json(st.view_reach(plan).await?)).into_response())
}

#[utoipa::path(put, path = "/plans/{id}", tag = "plans", request_body = PlanSpec,
    params(("id" = String, Path), ("If-Match" = String, Header, description = "Required. One or more entity-tags separated by commas, e.g. `\"3\"` or `\"2\", \"3\"`: the ETag of the version you read. Compared strongly (RFC 9110 §13.1.1): a weak `W/\"3\"` never matches. Without the header, or with `*`, the write is refused (428); a well-formed list that does not name the current version fails (412); only a malformed header is a 400.")),
    responses(
        (status = 200, body = PlanView, headers(("ETag" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 428, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_plan(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let spec = PlanSpec::parse(&body)?;
    let current = st.plan_or_404(&id).await?;
    st.auth.may_write(
        &caller,
        current.spec.owner.team.as_str(),
        Some(spec.owner.team.as_str()),
    )?;
    if_match.required()?;
    if_match.check(current.meta.version)?;
    let next = current.replaced(spec, &caller.actor()?, st.now())?;
    st.store.put_plan_version(&next, Change::Replaced).await?;
    Ok(st.plan_response(StatusCode::OK, next))
}

#[utoipa::path(delete, path = "/plans/{id}", tag = "plans",
    params(("id" = String, Path), ("If-Match" = String, Header, description = "Required. One or more entity-tags separated by commas, e.g. `\"3\"` or `\"2\", \"3\"`: the ETag of the version you read. Compared strongly (RFC 9110 §13.1.1): a weak `W/\"3\"` never matches. Without the header, or with `*`, the write is refused (428); a well-formed list that does not name the current version fails (412); only a malformed header is a 400.")),
    responses(
        (status = 200, body = PlanView, description = "the retired plan; its history is kept", headers(("ETag" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 428, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn retire_plan(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> Result<Response, ApiError> {
    let current = st.plan_or_404(&id).await?;
    st.auth
        .may_write(&caller, current.spec.owner.team.as_str(), None)?;
    if_match.required()?;
    if_match.check(current.meta.version)?;
    if current.spec.status == Status::Retired {
        return Ok(st.plan_response(StatusCode::OK, current));
    }
    let next = current.retired(&caller.actor()?, st.now());
    st.store.put_plan_version(&next, Change::Retired).await?;
    Ok(st.plan_response(StatusCode::OK, next))
}

#[utoipa::path(get, path = "/plans/{id}/history", tag = "plans",
    params(("id" = String, Path), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses(
        (status = 200, body = PlanHistory),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn plan_history(
    State(st): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<PlanHistory>, ApiError> {
    params.only(&["limit", "cursor"])?;
    let page = params.page()?;
    let plan = st.plan_or_404(&id).await?;
    let found = st.store.plan_history(plan.id(), &page).await?;
    Ok(Json(PlanHistory {
        items: found.items,
        next_cursor: found.next_cursor,
    }))
}

/// Reads, changes and writes one plan, conditional on the version read. With
/// an `If-Match` naming versions a stale one is 412; without one (or with
/// `*`, true of any current version), a lost race is retried on the new
/// version (verify and review do not depend on what they replace).
async fn attest(
    st: &AppState,
    caller: &Caller,
    id: &str,
    if_match: IfMatch,
    change: Change,
    apply: impl Fn(&SupportPlan) -> Result<SupportPlan, ApiError>,
) -> Result<Response, ApiError> {
    for _ in 0..3 {
        let current = st.plan_or_404(id).await?;
        st.auth
            .may_write(caller, current.spec.owner.team.as_str(), None)?;
        if_match.check(current.meta.version)?;
        let next = apply(&current)?;
        match st.store.put_plan_version(&next, change.clone()).await {
            Ok(()) => return Ok(st.plan_response(StatusCode::OK, next)),
            Err(support_plans_domain::ports::StoreError::Conflict { .. }) if !if_match.names_versions() => {
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::new(
        StatusCode::CONFLICT,
        "busy",
        "the plan kept changing while this was recorded; try again",
    ))
}

#[utoipa::path(post, path = "/plans/{id}/contacts/{contact_id}/verify", tag = "plans",
    request_body(content = Option<AttestationNote>, description = "optional note kept with the attestation"),
    params(("id" = String, Path), ("contact_id" = String, Path), ("If-Match" = Option<String>, Header, description = "Optional. One or more entity-tags, e.g. `\"3\"`, compared strongly (a weak tag never matches): the write happens only on that version, else 412; a malformed header is a 400. Without it (or with `*`) the attestation applies to the current version.")),
    responses(
        (status = 200, body = PlanView, headers(("ETag" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn verify_contact(
    State(st): State<AppState>,
    caller: Caller,
    Path((id, contact_id)): Path<(String, String)>,
    if_match: IfMatch,
    OptionalJsonBody(body): OptionalJsonBody,
) -> Result<Response, ApiError> {
    let note = parse_note(body)?;
    let contact = path_slug("contact_id", &contact_id)?;
    let actor = caller.actor()?;
    let now = st.now();
    let change = Change::ContactVerified {
        contact: contact.clone(),
    };
    attest(&st, &caller, &id, if_match, change, |p| {
        Ok(p.contact_verified(contact.as_str(), &actor, VerifiedVia::Api, note.clone(), now)?)
    })
    .await
}

#[utoipa::path(post, path = "/plans/{id}/review", tag = "plans",
    params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "Optional. One or more entity-tags, e.g. `\"3\"`, compared strongly (a weak tag never matches): the write happens only on that version, else 412; a malformed header is a 400. Without it (or with `*`) the attestation applies to the current version.")),
    responses(
        (status = 200, body = PlanView, headers(("ETag" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn review_plan(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> Result<Response, ApiError> {
    let actor = caller.actor()?;
    let now = st.now();
    attest(&st, &caller, &id, if_match, Change::Reviewed, |p| {
        Ok(p.reviewed(&actor, now))
    })
    .await
}

/// Headers helper for tests and other routes.
pub fn etag_of(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::ETAG)?
        .to_str()
        .ok()?
        .trim_matches('"')
        .parse()
        .ok()
}
