use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use jiazheng_store::registry::divisions::Division;
use serde::Deserialize;
use utoipa::IntoParams;

use super::ApiQuery;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/divisions", get(list))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DivisionQuery {
    /// Twelve-digit code whose children to list; omitted lists the cities.
    pub parent: Option<String>,
}

/// Children of a division (city → districts → streets → village-level units).
#[utoipa::path(get, path = "/api/v1/divisions", tag = "registry", params(DivisionQuery),
    responses((status = 200, body = Vec<Division>)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<DivisionQuery>,
) -> Result<Json<Vec<Division>>, AppError> {
    let parent =
        super::optional_division(q.parent.as_deref()).map_err(super::field_error("parent"))?.map(|d| d.to_string());
    let children = state.store.child_divisions(parent.as_deref()).await?;
    Ok(Json(children))
}
