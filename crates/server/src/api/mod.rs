//! The JSON API under `/api/v1`: one module per area, every handler described for OpenAPI.

pub mod agencies;
pub mod bindings;
pub mod casework;
pub mod claims;
pub mod community;
pub mod community_ops;
pub mod contracts;
pub mod credit;
pub mod divisions;
pub mod evaluation;
pub mod libraries;
pub mod market;
pub mod oversight;
pub mod payments;
pub mod plan_tracker;
pub mod providers;
pub mod rectification;
pub mod service_points;
pub mod session;
pub mod subsidies;
pub mod workers;
pub mod workforce;

use axum::Router;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use jiazheng_core::FieldErrors;
use jiazheng_core::division::DivisionCode;
use jiazheng_core::field::Invalid;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};
use utoipa_swagger_ui::SwaggerUi;

use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(divisions::router())
        .merge(agencies::router())
        .merge(workers::router())
        .merge(bindings::router())
        .merge(service_points::router())
        .merge(session::router())
        .merge(workforce::router())
        .merge(providers::router())
        .merge(credit::router())
        .merge(casework::router())
        .merge(market::router())
        .merge(contracts::router())
        .merge(subsidies::router())
        .merge(community::router())
        .merge(payments::router())
        .merge(community_ops::router())
        .merge(oversight::router())
        .merge(evaluation::router())
        .merge(libraries::router())
        .merge(plan_tracker::router())
        .merge(claims::router())
        .merge(rectification::router())
        .route("/openapi.json", axum::routing::get(|| async { axum::Json(ApiDoc::openapi()) }))
}

/// The browsable API page, served from the binary (no CDN).
pub fn docs() -> Router<AppState> {
    Router::new().merge(SwaggerUi::new("/api/docs").url("/api/docs/openapi.json", ApiDoc::openapi()))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "jiazheng API", description = "家政服务平台 — registry, and the workforce facts that decide who may be sent into a home."),
    paths(
        divisions::list,
        agencies::list, agencies::detail, agencies::create, agencies::update,
        workers::list, workers::detail, workers::identifiers, workers::create, workers::update,
        bindings::request, bindings::act,
        service_points::list, service_points::create,
        session::login, session::logout,
        workforce::record, workforce::compliance, workforce::add_training, workforce::add_certificate,
        workforce::add_health_check, workforce::add_insurance, workforce::set_social_insurance,
        workforce::set_education, workforce::agency_policies, workforce::add_agency_policy, workforce::board,
        workforce::inbox, workforce::mark_read, workforce::rates,
        providers::list, providers::detail, providers::create, providers::courses, providers::create_course,
        providers::enrolments, providers::enrol, providers::enter_result,
        credit::keys, credit::revocations, credit::verify_identity, credit::issue, credit::revoke, credit::timeline,
        credit::check, credit::record, credit::request_consent, credit::claim_code, credit::create_code,
        credit::decide, credit::background_check, credit::weights, credit::agency_grade, credit::worker_grade_api,
        casework::record_service, casework::my_services, casework::confirm_service, casework::rate_service,
        casework::file_complaint, casework::complaints, casework::act_on_complaint, casework::review_queue,
        casework::review_entry, casework::record_action, casework::propose_listing, casework::open_listings,
        casework::review_listing, casework::credit_list, casework::file_appeal, casework::open_appeals,
        casework::decide_appeal, casework::agency_credit, casework::credit_report, casework::released_report, casework::banks,
        market::catalog, market::agency_menu, market::price_history, market::offers, market::available,
        market::send_code, market::resident_session, market::profile, market::set_profile, market::erase,
        market::publish, market::update_item, market::withdraw, market::shifts, market::set_shifts, market::calendar,
        market::add_leave, market::remove_leave, market::create_order, market::orders, market::order, market::step,
        market::rate, market::price_rises, market::assign_next_day, market::set_nightly,
        contracts::order_contract, contracts::set_identity, contracts::contract, contracts::pdf, contracts::send_code,
        contracts::sign, contracts::check, contracts::contract_use,
        subsidies::budgets, subsidies::set_budget, subsidies::grants, subsidies::statement, subsidies::own_subsidy,
        payments::payment, payments::pay, payments::refund, payments::notify,
        community::coverage, community::set_radius, community::declarations, community::decide,
        community::surveys, community::create_survey, community::survey, community::demand, community::gap,
        community::close_survey, community::survey_by_link, community::answer, community::supply,
        community_ops::operations, community_ops::set_hours, community_ops::add_duty, community_ops::add_tool,
        community_ops::check_out, community_ops::give_back, community_ops::add_event, community_ops::overdue,
        community_ops::stations, community_ops::propose_station, community_ops::confirm_station,
        community_ops::end_station, community_ops::projects, community_ops::create_project,
        community_ops::add_volunteer_event, community_ops::volunteer_events, community_ops::join_event,
        community_ops::confirm_participant, community_ops::community,
        oversight::targets, oversight::series, oversight::agencies, oversight::recognise, oversight::withdraw,
        oversight::audit,
        evaluation::rounds, evaluation::open_round, evaluation::round, evaluation::set_weights, evaluation::subjects,
        evaluation::add_subject, evaluation::assignments, evaluation::assign, evaluation::upload_evidence,
        evaluation::scorecard, evaluation::record_scores, evaluation::submit, evaluation::results, evaluation::publish,
        evaluation::front_runners, evaluation::orgs, evaluation::create_org, evaluation::ties, evaluation::declare_tie,
        evaluation::withdraw_tie,
        libraries::list, libraries::criteria, libraries::nominate, libraries::nominations, libraries::decide,
        libraries::remove,
        plan_tracker::units, plan_tracker::tasks, plan_tracker::task, plan_tracker::report, plan_tracker::attach,
        plan_tracker::set_deadline, plan_tracker::reopen,
        claims::standards, claims::set_standard, claims::candidates, claims::list, claims::create, claims::detail,
        claims::lines, claims::decide,
        rectification::list, rectification::sources, rectification::open, rectification::detail,
        rectification::report, rectification::review,
    ),
    components(schemas(crate::error::ErrorBody)),
    tags(
        (name = "registry", description = "Divisions, agencies, workers, service points"),
        (name = "workforce", description = "Training, certificates, health checks, insurance, education, compliance"),
        (name = "credit", description = "Ledger, signed checkpoints, home-service certificates"),
        (name = "market", description = "Catalog, menus and prices, available workers, residents, orders"),
        (name = "contracts", description = "Model contracts: drafting, the PDF, signatures, the public check, the rate of use"),
        (name = "oversight", description = "The plan's targets live from the records, their monthly series, recognised brands, the audit of regulator and evaluator writes; the libraries of key agencies and talent; the plan's tasks, their units and progress; agencies' subsidy claims checked against the records; rectification orders"),
        (name = "community", description = "Service-point coverage, demand surveys, supply menus and the gap; 家政驿站, volunteer service, a community's public page"),
        (name = "evaluation", description = "Third-party evaluation (task 12): rounds with published weights over seven dimensions, evaluator organisations and their ties, scores with evidence, results and front-runners"),
    ),
    modifiers(&BearerAuth, &ErrorAnswers)
)]
pub struct ApiDoc;

/// Every error an operation can answer, in the one error shape: the access gate (401/403), path
/// and body rejections (400/404/413/422), the limits (429) and a busy database (503). Handlers
/// document their own; this adds the ones the layers around them may give.
struct ErrorAnswers;

impl utoipa::Modify for ErrorAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{Content, Ref, ResponseBuilder};
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content("application/json", Content::new(Some(Ref::from_schema_name("ErrorBody"))))
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for operation in operations.into_iter().flatten() {
                let secured = operation.security.is_some();
                let answers = &mut operation.responses.responses;
                let mut add = |status: &str, description: &str| {
                    answers.entry(status.to_string()).or_insert_with(|| error(description).into());
                };
                add("400", "The request does not match this operation (a path or body that does not parse)");
                add("404", "No such record");
                add("413", "The body is over the limit (64 KB; uploads 20 MB)");
                add("422", "Field errors, each in Chinese and English");
                add("429", "Too many attempts; Retry-After says when to try again");
                add("503", "The database is busy; Retry-After says when to try again");
                if secured {
                    add("401", "Sign in first");
                    add("403", "Not allowed for this account or object");
                }
            }
        }
    }
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// One page of results with the total, as every list answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageOf<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    pub total: i64,
}

impl<T> From<jiazheng_store::Page<T>> for PageOf<T> {
    fn from(page: jiazheng_store::Page<T>) -> Self {
        Self::from_page(page, |item| item)
    }
}

impl<T> PageOf<T> {
    pub fn from_page<S>(page: jiazheng_store::Page<S>, map: impl FnMut(S) -> T) -> Self {
        Self {
            items: page.items.into_iter().map(map).collect(),
            page: page.page,
            per_page: page.per_page,
            total: page.total,
        }
    }
}

/// JSON bodies whose rejections are answered in the API's error shape.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

/// Query strings whose rejections are answered in the API's error shape.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(e) => {
                AppError::invalid("body", "json_data", "请求内容的字段类型不正确", &e.body_text())
            }
            other if other.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge,
            other => AppError::BadRequest(other.body_text()),
        }
    }
}

impl From<axum::extract::multipart::MultipartError> for AppError {
    fn from(error: axum::extract::multipart::MultipartError) -> Self {
        if error.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge
        } else {
            AppError::BadRequest(error.body_text())
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::invalid("query", "query", "查询参数无效", &rejection.body_text())
    }
}

/// An optional division code from a query string (6, 9 or 12 digits); empty means absent.
pub fn optional_division(raw: Option<&str>) -> Result<Option<DivisionCode>, Invalid> {
    raw.map(str::trim).filter(|v| !v.is_empty()).map(DivisionCode::parse).transpose()
}

/// A 422 naming one field.
pub fn field_error(field: &str) -> impl FnOnce(Invalid) -> AppError {
    move |invalid| AppError::Invalid(FieldErrors(vec![invalid.at(field)]))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}
