//! Distributed mode: requests that change something are handled by the leader, as Kafka
//! Connect's `HerderRequestHandler` does. On a follower they are forwarded to the leader's URL
//! with `forward=false` (the leader then handles them itself, or answers 409, never forwarding
//! again); while a rebalance runs, or the leader is not known yet, they get Kafka Connect's 409.
//! Reads are never forwarded. Standalone workers handle everything locally.
//!
//! Also serves Kafka Connect's internal `POST /connectors/{name}/tasks`, by which a worker
//! running a connector hands its task configs to the leader. Requests between workers are not
//! signed yet (KIP-507's `X-Connect-Authorization`); protect the REST port accordingly.

use std::sync::OnceLock;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderName, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tributary_runtime::api::Props;
use tributary_runtime::herder::WriteRoute;

use crate::error::ApiError;
use crate::{AppState, MAX_BODY_BYTES};

/// The query parameter that stops forwarding (Kafka Connect's).
const NO_FORWARD: &str = "forward=false";

/// Headers passed to the leader and back.
const PASSED: [HeaderName; 3] = [header::CONTENT_TYPE, header::AUTHORIZATION, header::ACCEPT];

fn client() -> Result<&'static reqwest::Client, ApiError> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(c) = CLIENT.get() {
        return Ok(c);
    }
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(90))
        .build()
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot build an HTTP client: {e}")))?;
    Ok(CLIENT.get_or_init(|| c))
}

/// Whether `req` changes connectors (and so is the leader's to handle).
fn is_change(req: &Request) -> bool {
    matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH | Method::DELETE)
        && req.uri().path().starts_with("/connectors")
}

/// The middleware: forwards changes to the leader when this worker is a follower.
pub(crate) async fn forward(State(h): State<AppState>, req: Request, next: Next) -> Response {
    if !is_change(&req) || req.uri().query().is_some_and(|q| q.split('&').any(|p| p == NO_FORWARD)) {
        return next.run(req).await;
    }
    match h.write_route() {
        WriteRoute::Local => next.run(req).await,
        WriteRoute::Conflict(message) => ApiError::new(StatusCode::CONFLICT, message).into_response(),
        WriteRoute::Forward(leader) => match proxy(&leader, req).await {
            Ok(r) => r,
            Err(e) => e.into_response(),
        },
    }
}

async fn proxy(leader: &str, req: Request) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    let query = match parts.uri.query() {
        Some(q) if !q.is_empty() => format!("?{q}&{NO_FORWARD}"),
        _ => format!("?{NO_FORWARD}"),
    };
    let url = format!("{}{}{query}", leader.trim_end_matches('/'), parts.uri.path());
    let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|e| ApiError::bad_request(format!("cannot read the request body: {e}")))?;
    let method = reqwest::Method::from_bytes(parts.method.as_str().as_bytes())
        .map_err(|e| ApiError::bad_request(format!("unsupported method: {e}")))?;
    let mut request = client()?.request(method, &url).body(body.to_vec());
    for name in PASSED {
        if let Some(v) = parts.headers.get(&name) {
            request = request.header(name.as_str(), v.as_bytes());
        }
    }
    tracing::debug!(%url, "forwarding a request to the leader");
    let response = request.send().await.map_err(|e| {
        ApiError::new(
            StatusCode::CONFLICT,
            format!("Cannot complete request because the leader at {leader} could not be reached: {e}"),
        )
    })?;
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut out = Response::builder().status(status);
    for name in [header::CONTENT_TYPE, header::LOCATION] {
        if let Some(v) = response.headers().get(name.as_str()) {
            out = out.header(name, v.as_bytes());
        }
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| ApiError::new(StatusCode::BAD_GATEWAY, format!("the leader's answer was cut short: {e}")))?;
    out.body(Body::from(bytes)).map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

/// Kafka Connect's internal `POST /connectors/{name}/tasks`: a JSON list of task configs.
pub(crate) async fn put_tasks(
    State(h): State<AppState>,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let value: Value =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("task configs are not JSON: {e}")))?;
    let Value::Array(list) = value else {
        return Err(ApiError::bad_request("task configs must be a JSON list of objects of strings"));
    };
    let mut configs = Vec::with_capacity(list.len());
    for item in list {
        let Value::Object(map) = item else {
            return Err(ApiError::bad_request("each task config must be a JSON object of strings"));
        };
        let props: Props = map
            .into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k, s)),
                other => Err(ApiError::bad_request(format!("task config value of {k} must be a string, not {other}"))),
            })
            .collect::<Result<_, _>>()?;
        configs.push(props);
    }
    h.put_task_configs(&name, configs).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
