//! Every write by a regulator or an evaluator lands in the audit. Writes whose store function
//! records its own row (with the value before and after, in the write's transaction) are left to
//! it; for the others this layer records who, when, which action on which record, and the fields
//! submitted, once the write has succeeded.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jiazheng_core::account::Role;
use jiazheng_store::oversight::audit::AuditRecord;
use serde_json::{Map, Value};

use crate::auth::Viewer;
use crate::{AppError, AppState};

/// Fields never copied into the audit.
const SECRET_FIELDS: &[&str] = &["csrf", "password", "code", "token", "new_password"];
const MAX_FIELDS: usize = 40;
const MAX_VALUE_CHARS: usize = 200;

/// What a person reads for a route's action, and the kind of record its first path parameter names.
fn describe(path: &str) -> (&'static str, &'static str) {
    let p = path.trim_start_matches("/api/v1");
    match p {
        "/agencies" => ("agency.create", "agency"),
        "/agencies/{id}" => ("agency.update", "agency"),
        "/providers" => ("provider.create", "provider"),
        "/complaints/{id}/decision" | "/regulator/complaints/{id}" => ("complaint.decide", "complaint"),
        "/credit/entries/{seq}/review" | "/regulator/entries/{seq}" | "/regulator/entries/approve" => {
            ("entry.review", "ledger_entry")
        }
        "/credit/actions" | "/regulator/actions" => ("credit.action", "ledger_entry"),
        "/credit/list-proposals" | "/regulator/listings" => ("listing.propose", "listing"),
        "/credit/list-proposals/{id}/review" | "/regulator/listings/{id}" => ("listing.review", "listing"),
        "/appeals/{id}/decision" | "/regulator/appeals/{id}" => ("appeal.decide", "appeal"),
        "/workers/{id}/identity-verification" => ("worker.verify_identity", "worker"),
        "/workers/{id}/certificate" => ("certificate.issue", "worker"),
        "/certificates/{number}/revocation" => ("certificate.revoke", "certificate"),
        "/workers/{id}/background-checks" => ("worker.background_check", "worker"),
        "/orders/{id}/steps" => ("order.step", "order"),
        "/orders/{id}/payment/refunds" => ("order.refund", "order"),
        "/coverage/radius" => ("coverage.radius", "coverage"),
        "/coverage/declarations/{point}/{community}" | "/coverage/declarations/{point}/{community}/{decision}" => {
            ("coverage.declaration", "service_point")
        }
        "/subsidies/budgets" | "/regulator/subsidies" => ("subsidy.budget", "district"),
        _ => ("other.write", "request"),
    }
}

/// The value of the route's first parameter in the request's path: `/regulator/complaints/12`
/// against `/regulator/complaints/{id}` gives "12".
fn first_parameter(matched: &str, actual: &str) -> Option<String> {
    matched
        .split('/')
        .zip(actual.split('/'))
        .find(|(pattern, _)| pattern.starts_with('{'))
        .map(|(_, value)| value.to_string())
}

/// The submitted fields as JSON, secrets dropped and long values cut.
fn submitted(content_type: &str, body: &Bytes) -> Option<Value> {
    let pairs: Vec<(String, Value)> = if content_type.starts_with("application/json") {
        match serde_json::from_slice::<Value>(body).ok()? {
            Value::Object(map) => map.into_iter().collect(),
            other => vec![("body".to_string(), other)],
        }
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .ok()?
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect()
    } else {
        return None;
    };
    let mut out = Map::new();
    for (key, value) in pairs.into_iter().filter(|(k, _)| !SECRET_FIELDS.contains(&k.as_str())).take(MAX_FIELDS) {
        let value = match value {
            Value::String(s) => Value::String(s.chars().take(MAX_VALUE_CHARS).collect()),
            other => {
                let text = other.to_string();
                if text.chars().count() > MAX_VALUE_CHARS {
                    Value::String(text.chars().take(MAX_VALUE_CHARS).collect())
                } else {
                    other
                }
            }
        };
        // A repeated form field (ticked boxes) keeps every value.
        match out.get_mut(&key) {
            Some(Value::Array(list)) => list.push(value),
            Some(existing) => *existing = Value::Array(vec![existing.take(), value]),
            None => {
                out.insert(key, value);
            }
        }
    }
    Some(Value::Object(out))
}

/// Runs a regulator's or evaluator's write and records it when it succeeded and its store
/// function did not record it already.
pub async fn record_write(state: &AppState, viewer: &Viewer, matched: &str, request: Request, next: Next) -> Response {
    let Some(session) = viewer.session.as_ref() else { return next.run(request).await };
    let writes = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !writes || !matches!(session.principal.role, Role::Regulator | Role::Evaluator) {
        return next.run(request).await;
    }
    let actor = session.principal.account_id;
    let content_type =
        request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let path = request.uri().path().to_string();
    // JSON and form bodies are small (the layer below refuses more than 64 KB) and are read here.
    let parsed =
        content_type.starts_with("application/json") || content_type.starts_with("application/x-www-form-urlencoded");
    // Uploads (multipart, or a raw file such as a report's evidence) pass untouched: their
    // own routes set their limits, and only JSON and form fields are copied into the audit.
    let (request, fields) = if !parsed {
        (request, None)
    } else {
        let (parts, body) = request.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, crate::BODY_LIMIT).await else {
            return AppError::TooLarge.into_response();
        };
        let fields = submitted(&content_type, &bytes);
        (Request::from_parts(parts, Body::from(bytes)), fields)
    };
    let before = match state.store.audit_high_water(actor).await {
        Ok(id) => id,
        Err(error) => return AppError::from(error).into_response(),
    };
    let response = next.run(request).await;
    if !(response.status().is_success() || response.status().is_redirection()) {
        return response;
    }
    match state.store.audit_high_water(actor).await {
        Ok(after) if after > before => response,
        _ => record_after(state, actor, matched, &path, fields, response).await,
    }
}

async fn record_after(
    state: &AppState,
    actor: i64,
    matched: &str,
    path: &str,
    fields: Option<Value>,
    response: Response,
) -> Response {
    if !(response.status().is_success() || response.status().is_redirection()) {
        return response;
    }
    let (action, subject_kind) = describe(matched);
    let parameter = first_parameter(matched, path);
    let subject_id = parameter.as_deref().and_then(|p| p.parse().ok()).unwrap_or(0);
    let record = AuditRecord {
        actor,
        action,
        subject_kind,
        subject_id,
        subject_label: match parameter {
            Some(p) => format!("{subject_kind} {p}"),
            None => String::new(),
        },
        before: None,
        after: fields,
    };
    if let Err(error) = state.store.record_audit(&record).await {
        // The write has happened; its audit row is missing. Say so loudly rather than undo it.
        tracing::error!(%error, action, actor, "could not record a regulator's write in the audit");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_name_their_action_and_subject() {
        assert_eq!(describe("/regulator/complaints/{id}"), ("complaint.decide", "complaint"));
        assert_eq!(describe("/api/v1/complaints/{id}/decision"), ("complaint.decide", "complaint"));
        assert_eq!(first_parameter("/regulator/complaints/{id}", "/regulator/complaints/12").as_deref(), Some("12"));
        assert_eq!(first_parameter("/regulator/actions", "/regulator/actions"), None);
    }

    #[test]
    fn secrets_are_dropped_and_repeats_kept() {
        let body = Bytes::from("csrf=abc&reason=%E8%AF%81%E6%8D%AE%E4%B8%8D%E8%B6%B3&serves=1&serves=2&password=x");
        let json = submitted("application/x-www-form-urlencoded", &body).unwrap();
        assert_eq!(json, serde_json::json!({"reason": "证据不足", "serves": ["1", "2"]}));
        let long = Bytes::from(format!(r#"{{"note": "{}"}}"#, "长".repeat(500)));
        let json = submitted("application/json", &long).unwrap();
        assert_eq!(json["note"].as_str().unwrap().chars().count(), MAX_VALUE_CHARS);
        assert_eq!(submitted("multipart/form-data", &body), None);
    }
}
