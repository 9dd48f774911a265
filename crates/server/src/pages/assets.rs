//! Static files compiled into the binary.

use axum::extract::Path;
use axum::http::header;
use axum::response::IntoResponse;

use crate::AppError;

const STYLE: &str = include_str!("../../static/style.css");
const PRINT: &str = include_str!("../../static/print.js");
const SCOPE: &str = include_str!("../../static/scope.js");

pub async fn serve(Path(file): Path<String>) -> Result<impl IntoResponse, AppError> {
    let (body, kind) = match file.as_str() {
        "style.css" => (STYLE, "text/css; charset=utf-8"),
        "print.js" => (PRINT, "text/javascript; charset=utf-8"),
        "scope.js" => (SCOPE, "text/javascript; charset=utf-8"),
        _ => return Err(AppError::NotFound),
    };
    Ok(([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "public, max-age=3600")], body))
}
