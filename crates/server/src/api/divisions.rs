use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use jiazheng_store::registry::divisions::Division;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiQuery;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/divisions", get(list))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DivisionView {
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_code: Option<String>,
    pub unit_type: Option<String>,
    pub urban_rural_code: Option<String>,
}

impl From<Division> for DivisionView {
    fn from(d: Division) -> Self {
        Self {
            code: d.code,
            name: d.name,
            level: d.level,
            parent_code: d.parent_code,
            unit_type: d.unit_type,
            urban_rural_code: d.urban_rural_code,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DivisionQuery {
    /// Twelve-digit code whose children to list; omitted lists the cities.
    pub parent: Option<String>,
}

/// Children of a division (city → districts → streets → village-level units).
#[utoipa::path(get, path = "/api/v1/divisions", tag = "registry", params(DivisionQuery),
    responses((status = 200, body = Vec<DivisionView>)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<DivisionQuery>,
) -> Result<Json<Vec<DivisionView>>, AppError> {
    let parent =
        super::optional_division(q.parent.as_deref()).map_err(super::field_error("parent"))?.map(|d| d.to_string());
    let children = state.store.child_divisions(parent.as_deref()).await?;
    Ok(Json(children.into_iter().map(DivisionView::from).collect()))
}
