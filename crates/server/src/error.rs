//! One error type for the web layer. API callers get JSON with field-level messages in both
//! languages; page visitors get the same error as an HTML page. Internals are logged, never shown.

use askama::Template;
use axum::Json;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use jiazheng_core::FieldErrors;
use jiazheng_core::field::FieldError;
use jiazheng_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::i18n::Lang;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid input")]
    Invalid(FieldErrors),
    #[error("not found")]
    NotFound,
    #[error("sign in first")]
    Unauthorized,
    #[error("not allowed")]
    Forbidden,
    #[error("conflict: {code}")]
    Conflict { code: &'static str, message_zh: String, message_en: String, existing_id: Option<i64> },
    #[error("too many attempts")]
    TooManyAttempts { retry_after_secs: u64 },
    /// A count that resets at midnight, Beijing time (e.g. "already registered" answers).
    #[error("daily limit reached")]
    DailyLimit { retry_after_secs: u64 },
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("body too large")]
    TooLarge,
    /// The database is busy (a long write holds it): try again shortly.
    #[error("busy")]
    Busy,
    #[error("internal: {0}")]
    Internal(String),
}

/// The JSON body of every error.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    pub message_zh: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_id: Option<i64>,
    pub fields: Vec<FieldErrorBody>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldErrorBody {
    pub field: String,
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

impl From<&FieldError> for FieldErrorBody {
    fn from(e: &FieldError) -> Self {
        Self {
            field: e.field.clone(),
            code: e.code.into(),
            message_zh: e.message_zh.clone(),
            message_en: e.message_en.clone(),
        }
    }
}

impl AppError {
    pub fn invalid(field: &str, code: &'static str, zh: &str, en: &str) -> Self {
        AppError::Invalid(FieldErrors(vec![FieldError {
            field: field.into(),
            code,
            message_zh: zh.into(),
            message_en: en.into(),
        }]))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::TooManyAttempts { .. } | AppError::DailyLimit { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Seconds after which trying again may succeed, for the Retry-After header.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::TooManyAttempts { retry_after_secs } | AppError::DailyLimit { retry_after_secs } => {
                Some(*retry_after_secs)
            }
            AppError::Busy => Some(1),
            _ => None,
        }
    }

    pub fn body(&self) -> ErrorBody {
        let (code, zh, en, existing_id) = match self {
            AppError::Invalid(_) => {
                ("invalid", "提交的内容有误，请按提示修改".into(), "Some fields are not valid".into(), None)
            }
            AppError::NotFound => ("not_found", "找不到该页面或记录".into(), "Not found".into(), None),
            AppError::Unauthorized => ("unauthorized", "请先登录".into(), "Please sign in".into(), None),
            AppError::Forbidden => {
                ("forbidden", "您无权进行此操作".into(), "You are not allowed to do this".into(), None)
            }
            AppError::Conflict { code, message_zh, message_en, existing_id } => {
                (*code, message_zh.clone(), message_en.clone(), *existing_id)
            }
            AppError::TooManyAttempts { retry_after_secs } => {
                let (zh, en) = match *retry_after_secs {
                    0..60 => (format!("{retry_after_secs}秒"), format!("{retry_after_secs} seconds")),
                    60..120 => ("1分钟".to_string(), "a minute".to_string()),
                    secs => (format!("{}分钟", secs.div_ceil(60)), format!("{} minutes", secs.div_ceil(60))),
                };
                (
                    "too_many_attempts",
                    format!("尝试次数过多，请{zh}后再试"),
                    format!("Too many attempts; try again in {en}"),
                    None,
                )
            }
            AppError::DailyLimit { .. } => (
                "daily_limit",
                "今日次数已达上限，北京时间零点后恢复".into(),
                "Today's limit is reached; it resets at midnight, Beijing time".into(),
                None,
            ),
            AppError::TooLarge => ("too_large", "提交的内容过大".into(), "The request body is too large".into(), None),
            AppError::Busy => (
                "busy",
                "系统繁忙，请稍后重试".into(),
                "The platform is busy; please try again in a moment".into(),
                None,
            ),
            AppError::BadRequest(reason) => {
                // The reason comes from the framework in English; the Chinese message says what to do.
                ("bad_request", "请求格式无效，请检查后重试".into(), format!("Bad request: {reason}"), None)
            }
            AppError::Internal(_) => {
                ("internal", "服务器内部错误，请稍后再试".into(), "Internal error; please try again".into(), None)
            }
        };
        let fields = match self {
            AppError::Invalid(errors) => errors.0.iter().map(FieldErrorBody::from).collect(),
            _ => Vec::new(),
        };
        ErrorBody { error: ErrorDetail { code: code.into(), message: en, message_zh: zh, existing_id, fields } }
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Invalid(errors) => AppError::Invalid(errors),
            StoreError::Stale => AppError::Conflict {
                code: "stale",
                message_zh: "该记录已被他人修改，请刷新后重试".into(),
                message_en: "Someone else changed this record; reload and try again".into(),
                existing_id: None,
            },
            StoreError::Conflict { what, existing_id } => {
                let (zh, en) = match what {
                    "worker_id_number" => ("该身份证号已登记", "A worker with this ID number is already registered"),
                    "brand_recognised" => ("该企业已有认定品牌", "This agency already has a recognised brand"),
                    "tie_in_open_round" => (
                        "该企业正在一轮未发布的评价中，关联声明在评价发布前不能撤回",
                        "This agency is in a round not yet published; the tie stands until it is",
                    ),
                    "agency_uscc" => ("该统一社会信用代码已登记", "An agency with this code is already registered"),
                    "account_username" => ("用户名已被使用", "This username is taken"),
                    "binding_open" => ("已有待确认或有效的关联", "An open binding already exists"),
                    "already_enrolled" => ("该服务员已报名此课程", "This worker is already enrolled in this course"),
                    "provider_code" => ("该机构代码已登记", "A provider with this code is already registered"),
                    "consent_pending" => {
                        ("已提交申请，请等待服务员同意", "A request is already waiting for the worker")
                    }
                    "already_revoked" => ("该证书已被吊销", "This certificate is already revoked"),
                    "certificate_current" => {
                        ("该服务员已有有效的上门服务证", "This worker already holds a certificate in force")
                    }
                    "already_confirmed" => ("该服务已确认", "This service is already confirmed"),
                    "already_rated" => ("每次服务只能评价一次", "This service has already been rated"),
                    "already_reviewed" => ("该记录已审核", "This entry has already been reviewed"),
                    "proposal_open" => {
                        ("该对象已有待审核的名单提议", "A listing proposal for this subject is already open")
                    }
                    "appeal_open" => ("该记录已有待处理的申诉", "An appeal against this entry is already open"),
                    "menu_item_exists" => (
                        "该项目已按此方式发布，请修改已有的价格",
                        "This item is already on the menu this way; change its price instead",
                    ),
                    "already_completed" => ("该订单已完成", "This order is already completed"),
                    "already_signed" => ("您已签署过这份合同", "You have already signed this contract"),
                    "already_disputed" => (
                        "该订单已提出过争议，请等待监管部门处理投诉",
                        "This order was disputed before; the regulator handles the complaint",
                    ),
                    "price_changed" => (
                        "企业刚刚调整了价格或规则，请查看新价格后再预约",
                        "The agency has just changed the price or terms; check the new price and book again",
                    ),
                    "event_not_over" => {
                        ("活动结束后才能确认参与时长", "Participation is confirmed once the event is over")
                    }
                    "point_closed" => {
                        ("该网点已关闭，不能再添加内容", "This service point is closed and takes no more changes")
                    }
                    "survey_answer" => (
                        "您家已经填写过这份调查，每户只能填写一次",
                        "Your household has already answered this survey: one answer per household",
                    ),
                    "claim_decided" => ("该申报已审核，不能再次审核", "This claim is already decided"),
                    "claim_unit_taken" => (
                        "所申报的内容已在另一份申报中，请刷新后重试",
                        "Something claimed is already in another claim; reload and try again",
                    ),
                    "rectification_exists" => (
                        "该处罚或投诉已下达过整改通知",
                        "A rectification order already follows this penalty or complaint",
                    ),
                    _ => ("记录冲突", "Conflicting record"),
                };
                AppError::Conflict { code: what, message_zh: zh.into(), message_en: en.into(), existing_id }
            }
            StoreError::Refused(reason) => {
                tracing::info!(%reason, "refused");
                AppError::Forbidden
            }
            StoreError::File(reason) => AppError::BadRequest(reason),
            StoreError::BadSheet { zh, en } => AppError::invalid("file", "bad_sheet", &zh, &en),
            StoreError::Overlap { start, end } => {
                let taken = jiazheng_core::market::slot::Slot { start, end }.describe();
                AppError::Conflict {
                    code: "overlap",
                    message_zh: format!("该服务员在 {taken}（北京时间）已有安排，请换一个时段或服务员"),
                    message_en: format!(
                        "The worker is already booked {taken} (Beijing time); pick another time or worker"
                    ),
                    existing_id: None,
                }
            }
            StoreError::TooSoon(secs) => AppError::TooManyAttempts { retry_after_secs: secs },
            StoreError::Limited(_) => AppError::DailyLimit {
                retry_after_secs: jiazheng_core::calendar::seconds_to_beijing_midnight(chrono::Utc::now()),
            },
            busy if busy.is_busy() => {
                tracing::warn!(error = %busy, "database busy");
                AppError::Busy
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// Marks a response as an error so pages can render it as HTML.
#[derive(Clone)]
struct RenderedError(ErrorBody, StatusCode);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let status = self.status();
        let body = self.body();
        let mut response = (status, Json(body.clone())).into_response();
        if let Some(value) = self.retry_after().and_then(|secs| secs.to_string().parse().ok()) {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, value);
        }
        response.extensions_mut().insert(RenderedError(body, status));
        response
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: crate::pages::Chrome,
    status: u16,
    message: String,
    fields: Vec<FieldErrorBody>,
}

/// Renders errors of page routes as HTML; the API keeps its JSON.
pub async fn render_html_errors(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    request: Request,
    next: Next,
) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let (parts, body) = request.into_parts();
    let lang = Lang::from_parts(&parts);
    let path = parts.uri.path().to_string();
    // Kept to show the page as the signed-in person sees every other page (their name, their
    // menu), should it be an error.
    let headers = if is_api { Default::default() } else { parts.headers.clone() };
    let response = next.run(Request::from_parts(parts, body)).await;
    let (body, status, response) = match response.extensions().get::<RenderedError>().cloned() {
        Some(RenderedError(body, status)) => (body, status, response),
        None if (response.status().is_client_error() || response.status().is_server_error())
            && is_plain_text(&response) =>
        {
            // A rejection made by the framework itself (a path that does not parse, a method the
            // route lacks, a body over the limit) comes as plain text: answer it in our shape,
            // keeping its status.
            let status = response.status();
            if status.is_server_error() {
                // Ours or the framework's, a 5xx is a fault to look into (a 4xx is the client's).
                tracing::error!(%status, path, "the framework answered a server error");
            }
            let body = framework_error(status).body();
            let mut ours = (status, Json(body.clone())).into_response();
            if let Some(allow) = response.headers().get(axum::http::header::ALLOW) {
                ours.headers_mut().insert(axum::http::header::ALLOW, allow.clone());
            }
            (body, status, ours)
        }
        None => return response,
    };
    if is_api {
        return response;
    }
    let (mut signed, _) = Request::new(()).into_parts();
    signed.headers = headers;
    use axum::extract::FromRequestParts;
    let chrome = match crate::auth::Viewer::from_request_parts(&mut signed, &state).await {
        Ok(viewer) => crate::pages::Chrome::new(lang, &viewer, &path, lang.t("error.title")),
        Err(_) => crate::pages::Chrome::anonymous(lang, &path, lang.t("error.title")),
    };
    let page = ErrorPage {
        chrome,
        status: status.as_u16(),
        message: lang.pick(&body.error.message_zh, &body.error.message).to_string(),
        fields: body.error.fields,
    };
    match page.render() {
        Ok(html) => {
            let mut out = (status, Html(html)).into_response();
            if let Some(retry) = response.headers().get(axum::http::header::RETRY_AFTER) {
                out.headers_mut().insert(axum::http::header::RETRY_AFTER, retry.clone());
            }
            out
        }
        Err(_) => response,
    }
}

/// The error of ours that says what a framework rejection with this status says.
fn framework_error(status: StatusCode) -> AppError {
    match status {
        StatusCode::NOT_FOUND => AppError::NotFound,
        StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge,
        StatusCode::METHOD_NOT_ALLOWED => AppError::BadRequest("method not allowed on this address".into()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::BadRequest("unsupported content type".into()),
        StatusCode::UNAUTHORIZED => AppError::Unauthorized,
        StatusCode::FORBIDDEN => AppError::Forbidden,
        s if s.is_server_error() => AppError::Internal(format!("framework answered {s}")),
        _ => AppError::BadRequest("the request does not match this address (a number was expected?)".into()),
    }
}

/// The framework's own rejections are plain text (or bodiless); our pages and JSON are not.
fn is_plain_text(response: &Response) -> bool {
    response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"))
}
