//! Static files compiled into the binary.

use axum::extract::Path;
use axum::http::header;
use axum::response::IntoResponse;

use crate::AppError;

const STYLE: &str = include_str!("../../static/style.css");

pub async fn serve(Path(file): Path<String>) -> Result<impl IntoResponse, AppError> {
    match file.as_str() {
        "style.css" => Ok((
            [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
            STYLE,
        )),
        _ => Err(AppError::NotFound),
    }
}
