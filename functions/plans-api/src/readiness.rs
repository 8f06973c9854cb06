//! `GET /readiness`: the figures of SPEC §6 from the snapshot (SPEC §15),
//! one item read whatever the number of plans. Before the first freshness
//! run there is none: the first request computes every figure (the plans
//! read page by page) and keeps it as the snapshot.

use axum::Json;
use axum::extract::State;
use support_plans_domain::ports::StoreError;
use support_plans_domain::readiness::{self, Readiness, ReadinessSnapshots as _};

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
    if let Some(stored) = st.store.load_snapshot().await? {
        return Ok(Json(stored.readiness));
    }
    let (figures, _) = readiness::compute(&st.store, st.now(), &st.policy).await?;
    match st.store.replace_snapshot(&figures, None).await {
        // Another request or a freshness run wrote one meanwhile: either is as good.
        Ok(()) | Err(StoreError::Conflict { .. }) => {}
        Err(e) => tracing::warn!(error = %e, "the readiness snapshot was not kept"),
    }
    Ok(Json(figures))
}
