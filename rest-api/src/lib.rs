//! Kafka Connect's v1 REST API over a [`Herder`]: the paths, query parameters, JSON shapes,
//! status codes and `{"error_code", "message"}` error bodies of Kafka Connect 4.x's
//! `RootResource`, `ConnectorsResource`, `ConnectorPluginsResource` and `LoggingResource`.
//! Request bodies are limited to [`MAX_BODY_BYTES`]; a malformed body is a 400, never a 500.

mod connectors;
mod error;
mod forward;
mod loggers;
mod openapi;
mod plugins;
pub mod registry;
pub mod security;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
#[allow(unused_imports)]
use openapi::*;
use serde_json::json;
use tributary_runtime::herder::Herder;

pub use error::ApiError;

/// Shared state of the handlers.
pub type AppState = Arc<dyn Herder>;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

static READY: AtomicBool = AtomicBool::new(false);

/// Marks the worker as started: `GET /health` answers 200 from now on (503 before).
pub fn set_ready() {
    READY.store(true, Ordering::Relaxed);
}

/// The OpenAPI 3 document of this API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <openapi::ApiDoc as utoipa::OpenApi>::openapi()
}

/// The API's routes with `/openapi.json`; serve them with `axum::serve`.
pub fn router(state: AppState) -> Router {
    routes(state).route("/openapi.json", get(|| async { Json(openapi()) }))
}

/// [`router`] plus Swagger UI at `/docs` (on by default in `tributary dev`).
pub fn router_with_docs(state: AppState) -> Router {
    let ui: Router = utoipa_swagger_ui::SwaggerUi::new("/docs").url("/openapi.json", openapi()).into();
    routes(state).merge(ui)
}

fn routes(state: AppState) -> Router {
    use connectors as c;
    Router::new()
        .route("/", get(root))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/connectors", get(c::list).post(c::create))
        .route("/connectors/{name}", get(c::get).delete(c::delete))
        .route("/connectors/{name}/config", get(c::get_config).put(c::put_config).patch(c::patch_config))
        .route("/connectors/{name}/status", get(c::status))
        .route("/connectors/{name}/tasks", get(c::tasks).post(forward::put_tasks))
        .route("/connectors/{name}/tasks/{task}/status", get(c::task_status))
        .route("/connectors/{name}/tasks/{task}/restart", post(c::restart_task))
        .route("/connectors/{name}/pause", put(c::pause))
        .route("/connectors/{name}/resume", put(c::resume))
        .route("/connectors/{name}/stop", put(c::stop))
        .route("/connectors/{name}/restart", post(c::restart))
        .route("/connectors/{name}/topics", get(c::topics))
        .route("/connectors/{name}/topics/reset", put(c::reset_topics))
        .route("/connectors/{name}/offsets", get(c::offsets).patch(c::alter_offsets).delete(c::reset_offsets))
        .route("/connector-plugins", get(plugins::list))
        .route("/connector-plugins/{plugin}/config", get(plugins::config))
        .route("/connector-plugins/{plugin}/config/validate", put(plugins::validate))
        .route("/admin/loggers", get(loggers::list))
        .route("/admin/loggers/{logger}", get(loggers::get).put(loggers::set))
        .fallback(|| async { ApiError::http_not_found() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "HTTP 405 Method Not Allowed")
        })
        .layer(axum::middleware::from_fn_with_state(state.clone(), forward::forward))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(guard))
        .with_state(state)
}

/// Longest request target accepted (Jetty's default header buffer).
const MAX_URI_BYTES: usize = 8 * 1024;

/// What Kafka Connect's HTTP server refuses before any resource sees the request: a request
/// target longer than its header buffer (414) and a body that is not JSON (415).
async fn guard(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if req.uri().to_string().len() > MAX_URI_BYTES {
        return ApiError::new(StatusCode::URI_TOO_LONG, "URI Too Long").into_response();
    }
    let has_body =
        matches!(*req.method(), axum::http::Method::POST | axum::http::Method::PUT | axum::http::Method::PATCH);
    if has_body && let Some(ct) = req.headers().get(axum::http::header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
        let essence = ct.split(';').next().unwrap_or_default().trim();
        if !(essence == "application/json" || essence.ends_with("+json")) {
            return ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "HTTP 415 Unsupported Media Type")
                .into_response();
        }
    }
    next.run(req).await
}

#[utoipa::path(get, path = "/", tag = "root", responses((status = 200, body = ServerInfo)))]
async fn root(State(h): State<AppState>) -> Response {
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "commit": option_env!("TRIBUTARY_COMMIT").unwrap_or("unknown"),
        "kafka_cluster_id": h.kafka_cluster_id().await,
    }))
    .into_response()
}

/// The tasks' metrics in Prometheus's text format. Not part of Kafka Connect's REST API (it
/// serves metrics through JMX), so not in the OpenAPI document either.
async fn metrics(State(h): State<AppState>) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], h.metrics()).into_response()
}

/// KIP-1017's health check.
#[utoipa::path(get, path = "/health", tag = "root", responses((status = 200, body = Health), (status = 503, body = Health)))]
async fn health() -> Response {
    if READY.load(Ordering::Relaxed) {
        Json(json!({"status": "healthy", "message": "Worker has completed startup and is ready to handle requests."}))
            .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "starting", "message": "Worker is still starting up."})),
        )
            .into_response()
    }
}

/// Query string helpers (repeated keys, booleans as Jersey reads them).
mod query {
    use crate::error::ApiError;

    fn pairs(q: Option<&str>) -> impl Iterator<Item = (String, String)> + '_ {
        q.unwrap_or_default().split('&').filter(|p| !p.is_empty()).map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
    }

    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }

    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' => match (bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
                    (Some(h), Some(l)) => {
                        out.push(h * 16 + l);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                },
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Every value of `key`.
    pub(crate) fn all(q: Option<&str>, key: &str) -> Vec<String> {
        pairs(q).filter(|(k, _)| k == key).map(|(_, v)| v).collect()
    }

    /// The first value of `key`.
    pub(crate) fn one(q: Option<&str>, key: &str) -> Option<String> {
        pairs(q).find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// A boolean parameter, false when absent; anything but true/false is Jersey's 404.
    pub(crate) fn flag(q: Option<&str>, key: &str) -> Result<bool, ApiError> {
        match one(q, key) {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(_) => Err(ApiError::http_not_found()),
        }
    }
}
