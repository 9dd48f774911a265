use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{Datelike, NaiveDate};
use jiazheng_core::FieldErrors;
use jiazheng_core::registry::binding::BindingKind;
use jiazheng_core::registry::worker::WorkerForm;
use jiazheng_core::registry::{ServiceKind, ServiceSet};
use jiazheng_store::PageRequest;
use jiazheng_store::registry::workers::{Revealed, Worker, WorkerQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::agencies::csrf_header;
use super::{ApiJson, ApiQuery, Created, PageOf};
use crate::auth::Viewer;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/workers", get(list).post(create))
        .route("/workers/{id}", get(detail).put(update))
        .route("/workers/{id}/identifiers", get(identifiers))
}

/// A worker as the public sees them: no digit of the ID number and no home street (with the
/// age and sex shown, at least 180,000 ID numbers fit what is public), age instead of birth date.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerView {
    pub id: i64,
    pub name: String,
    pub phone_masked: String,
    pub sex: String,
    pub age: i32,
    pub ethnicity: String,
    pub education_level: String,
    pub education_major: Option<String>,
    pub education_related: bool,
    pub district_code: String,
    pub services: Vec<String>,
    pub version: i64,
}

pub fn today() -> NaiveDate {
    chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset")).date_naive()
}

pub fn age_on(birth: NaiveDate, today: NaiveDate) -> i32 {
    let had_birthday = (today.month(), today.day()) >= (birth.month(), birth.day());
    today.year() - birth.year() - i32::from(!had_birthday)
}

impl From<Worker> for WorkerView {
    fn from(w: Worker) -> Self {
        Self {
            id: w.id,
            age: age_on(w.birth_date, today()),
            name: w.name,
            phone_masked: w.phone_masked,
            sex: w.sex,
            ethnicity: w.ethnicity,
            education_level: w.education_level,
            education_major: w.education_major,
            education_related: w.education_related,
            district_code: w.district_code,
            services: ServiceSet::from_bits(w.services).kinds().iter().map(|k| k.as_str().to_string()).collect(),
            version: w.version,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct WorkerListQuery {
    /// District or street code.
    pub district: Option<String>,
    /// Service code, e.g. `maternity`.
    pub service: Option<String>,
    /// Part of the name (Chinese characters).
    pub name: Option<String>,
    /// Only workers this agency employs (both sides confirmed).
    pub agency: Option<i64>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

fn present(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl WorkerListQuery {
    pub fn parse(&self) -> Result<WorkerQuery, AppError> {
        let mut errors = FieldErrors::default();
        let district = errors.take("district", super::optional_division(self.district.as_deref())).flatten();
        let service = present(&self.service).and_then(|s| errors.take("service", ServiceKind::parse(s)));
        // A fragment of a name is no longer than a name.
        let name =
            errors.take("name", jiazheng_core::field::optional_text(self.name.as_deref().unwrap_or(""), 30)).flatten();
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        Ok(WorkerQuery {
            district,
            service,
            name,
            agency: self.agency,
            pending_too: false,
            page: PageRequest::new(self.page, self.per_page),
        })
    }

    /// The query as the public may ask it: by district, never by street (a name and a street
    /// would say where a person lives).
    pub fn parse_public(&self) -> Result<WorkerQuery, AppError> {
        let mut query = self.parse()?;
        query.district = query.district.map(|d| d.district());
        Ok(query)
    }
}

/// Search workers by district, service and a fragment of the name. Identifiers are masked.
#[utoipa::path(get, path = "/api/v1/workers", tag = "registry", params(WorkerListQuery),
    responses((status = 200, body = PageOf<WorkerView>), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<WorkerListQuery>,
) -> Result<crate::cache::Body, AppError> {
    let query = q.parse_public()?;
    // The day is in the key: the records show ages.
    crate::reads::current(&state, format!("workers|{query:?}|{}", today()), async {
        let page = state.store.search_workers(&query).await?;
        crate::reads::json(&PageOf::from_page(page, WorkerView::from))
    })
    .await
}

/// One worker's public (masked) record.
#[utoipa::path(get, path = "/api/v1/workers/{id}", tag = "registry",
    responses((status = 200, body = WorkerView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn detail(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<WorkerView>, AppError> {
    Ok(Json(state.store.worker(id).await?.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PurposeQuery {
    /// Why the identifiers are read; kept in the access log.
    pub purpose: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdentifiersView {
    pub id_number: String,
    pub phone: String,
}

/// The unmasked ID number and phone: the worker, an owning agency or a regulator in scope. Logged.
#[utoipa::path(get, path = "/api/v1/workers/{id}/identifiers", tag = "registry", params(PurposeQuery), security(("bearer" = [])),
    responses((status = 200, body = IdentifiersView), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn identifiers(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<PurposeQuery>,
) -> Result<Json<IdentifiersView>, AppError> {
    let session = viewer.require()?;
    let worker = state.store.worker(id).await?;
    let purpose = match q.purpose.as_deref() {
        Some(text) => jiazheng_core::field::required_text(text, 100).map_err(super::field_error("purpose"))?,
        None => "api".to_string(),
    };
    let Revealed { id_number, phone } = state.store.reveal_worker(&session.principal, &worker, &purpose).await?;
    Ok(Json(IdentifiersView { id_number, phone }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewWorker {
    #[serde(flatten)]
    pub form: WorkerForm,
    /// `employee` (员工制, default) or `intermediary` (中介制).
    #[serde(default)]
    pub kind: Option<String>,
}

pub fn parse_kind(raw: Option<&str>) -> Result<BindingKind, AppError> {
    match raw.map(str::trim).filter(|k| !k.is_empty()) {
        None => Ok(BindingKind::Employee),
        Some(k) => BindingKind::parse(k).map_err(|e| AppError::Invalid(FieldErrors(vec![e.at("kind")]))),
    }
}

/// Registers a worker for the caller's agency (agency admin). A known ID number answers 409
/// with the existing record's id.
#[utoipa::path(post, path = "/api/v1/workers", tag = "registry", request_body = NewWorker, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<NewWorker>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let (_, agency) = viewer.require_agency()?;
    viewer.check_csrf(csrf_header(&headers))?;
    let kind = parse_kind(body.kind.as_deref());
    let draft = body.form.parse(today());
    let (draft, kind) = match (draft, kind) {
        (Ok(d), Ok(k)) => (d, k),
        (d, k) => {
            let mut errors = d.err().unwrap_or_default();
            if let Err(AppError::Invalid(e)) = k {
                errors.0.extend(e.0);
            }
            return Err(AppError::Invalid(errors));
        }
    };
    let id = state.store.create_worker(&draft, Some((agency, kind))).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct WorkerUpdate {
    pub version: i64,
    #[serde(flatten)]
    pub form: WorkerForm,
}

/// Edits a worker's record: an owning agency's admin only.
#[utoipa::path(put, path = "/api/v1/workers/{id}", tag = "registry", request_body = WorkerUpdate, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<WorkerUpdate>,
) -> Result<StatusCode, AppError> {
    let (_, agency) = viewer.require_agency()?;
    viewer.check_csrf(csrf_header(&headers))?;
    let worker = state.store.worker(id).await?;
    if !state.store.employing_agencies(worker.id).await?.contains(&agency) {
        return Err(AppError::Forbidden);
    }
    let draft = body.form.parse(today()).map_err(AppError::Invalid)?;
    state.store.update_worker(id, body.version, &draft, agency).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_counts_only_past_birthdays() {
        let birth = NaiveDate::from_ymd_opt(1985, 6, 12).unwrap();
        assert_eq!(age_on(birth, NaiveDate::from_ymd_opt(2026, 6, 11).unwrap()), 40);
        assert_eq!(age_on(birth, NaiveDate::from_ymd_opt(2026, 6, 12).unwrap()), 41);
    }
}
