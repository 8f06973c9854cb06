//! `GET /readiness`: the figures of SPEC §6, from the active workloads and
//! plans (each read once through the status index) and the activity counts.

use axum::Json;
use axum::extract::State;
use support_plans_domain::readiness::{self, Readiness};

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
    Ok(Json(readiness::current(&st.store, st.now(), &st.policy).await?))
}
