//! Kafka Connect's v1 REST API over a [`Herder`]. This first cut serves the read-only
//! endpoints: `GET /`, `GET /connectors`, `GET /connectors/{name}`,
//! `GET /connectors/{name}/config` and `GET /connectors/{name}/status`, with Kafka Connect's
//! JSON shapes and `{"error_code", "message"}` error bodies.

pub mod registry;
pub mod security;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use tributary_runtime::herder::Herder;
use tributary_runtime::worker::ConnectorStatus;

/// Shared state of the handlers.
pub type AppState = Arc<dyn Herder>;

/// An error answered as Kafka Connect does.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn not_found(name: &str) -> Self {
        Self { status: StatusCode::NOT_FOUND, message: format!("Connector {name} not found") }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"error_code": self.status.as_u16(), "message": self.message}))).into_response()
    }
}

/// The API's routes; serve them with `axum::serve`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/connectors", get(list))
        .route("/connectors/{name}", get(info))
        .route("/connectors/{name}/config", get(config))
        .route("/connectors/{name}/status", get(status))
        .fallback(|| async { ApiError { status: StatusCode::NOT_FOUND, message: "HTTP 404 Not Found".into() } })
        .with_state(state)
}

async fn root() -> Json<Value> {
    Json(
        json!({"version": env!("CARGO_PKG_VERSION"), "commit": option_env!("TRIBUTARY_COMMIT").unwrap_or("unknown"), "kafka_cluster_id": null}),
    )
}

async fn list(State(h): State<AppState>) -> Json<Vec<String>> {
    Json(h.connectors().await)
}

async fn info(State(h): State<AppState>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    let config = h.connector_config(&name).await.ok_or_else(|| ApiError::not_found(&name))?;
    let status = h.connector_status(&name).await.ok_or_else(|| ApiError::not_found(&name))?;
    let tasks: Vec<Value> = (0..status.tasks.len()).map(|i| json!({"connector": name, "task": i})).collect();
    Ok(Json(json!({"name": name, "config": config, "tasks": tasks, "type": status.kind.name()})))
}

async fn config(State(h): State<AppState>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    let config = h.connector_config(&name).await.ok_or_else(|| ApiError::not_found(&name))?;
    Ok(Json(json!(config)))
}

async fn status(State(h): State<AppState>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    let s = h.connector_status(&name).await.ok_or_else(|| ApiError::not_found(&name))?;
    Ok(Json(status_json(&s)))
}

fn status_json(s: &ConnectorStatus) -> Value {
    let tasks: Vec<Value> = s
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut v = json!({"id": i, "state": t.state.name(), "worker_id": t.worker_id});
            if let Some(trace) = &t.trace {
                v["trace"] = json!(trace);
            }
            v
        })
        .collect();
    json!({
        "name": s.name,
        "connector": {"state": s.state.name(), "worker_id": s.worker_id},
        "tasks": tasks,
        "type": s.kind.name(),
    })
}
