//! `/admin/loggers`: Kafka Connect's `LoggingResource` over tracing's filter.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tributary_runtime::loggers;

use crate::error::ApiError;
use crate::query;

#[allow(unused_imports)]
use crate::openapi::*;

type Answer = Result<Response, ApiError>;

fn level_json(level: &str, modified: Option<u64>) -> Value {
    json!({"level": level, "last_modified": modified})
}

#[utoipa::path(get, path = "/admin/loggers", tag = "loggers", responses((status = 200, body = BTreeMap<String, LoggerLevel>)))]
pub(crate) async fn list() -> Answer {
    let mut out = Map::new();
    for (name, level, modified) in loggers::all() {
        out.insert(name, level_json(&level, modified));
    }
    Ok(Json(Value::Object(out)).into_response())
}

#[utoipa::path(get, path = "/admin/loggers/{logger}", tag = "loggers", params(("logger" = String, Path)), responses((status = 200, body = LoggerLevel), (status = 404, body = ErrorMessage)))]
pub(crate) async fn get(Path(logger): Path<String>) -> Answer {
    if !loggers::exists(&logger) {
        return Err(ApiError::not_found(format!("Logger {logger} not found.")));
    }
    let (level, modified) = loggers::level(&logger);
    Ok(Json(level_json(&level, modified)).into_response())
}

#[utoipa::path(put, path = "/admin/loggers/{logger}", tag = "loggers", params(("logger" = String, Path), ("scope" = Option<String>, Query)), request_body = SetLevel, responses((status = 200, body = Vec<String>), (status = 204), (status = 400, body = ErrorMessage), (status = 404, body = ErrorMessage)))]
pub(crate) async fn set(
    Path(logger): Path<String>,
    RawQuery(q): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let body = body?;
    let v: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))?;
    let Some(level) = v.get("level").and_then(Value::as_str) else {
        return Err(ApiError::bad_request("Desired 'level' parameter was not specified in request."));
    };
    if !loggers::is_level(level) {
        // Kafka Connect answers an unknown level with 404.
        return Err(ApiError::not_found(format!("invalid log level '{level}'.")));
    }
    let scope = query::one(q.as_deref(), "scope").unwrap_or_else(|| "worker".to_owned());
    let affected = loggers::set(&logger, level).map_err(|e| {
        if e.starts_with("invalid logger name") {
            ApiError::bad_request(e)
        } else {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e)
        }
    })?;
    if scope.eq_ignore_ascii_case("cluster") {
        // One standalone worker is the whole cluster.
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(Json(affected).into_response())
}
