//! `GET /readiness`: the figures of SPEC §6, from the active workloads and
//! plans (each read once through the status index) and the activity counts.

use axum::Json;
use axum::extract::State;
use support_plans_domain::model::Status;
use support_plans_domain::readiness::{ActivityLog as _, Readiness, figures, window_start};
use support_plans_domain::reminders::evaluate_all;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::http::Params;

#[utoipa::path(get, path = "/readiness", tag = "readiness",
    responses(
        (status = 200, body = Readiness),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn readiness(
    State(st): State<AppState>,
    _caller: Caller,
    params: Params,
) -> Result<Json<Readiness>, ApiError> {
    params.only(&[])?;
    let now = st.now();
    let (plans, _) = st.store.all_plans(Status::Active).await?;
    let (workloads, _) = st.store.all_workloads(Status::Active).await?;
    let freshness = evaluate_all(&plans, now, &st.policy);
    let activity = st.store.since(window_start(now)).await?;
    Ok(Json(figures(&workloads, &plans, &freshness, activity, now)))
}
