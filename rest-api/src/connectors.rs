//! `/connectors`: Kafka Connect's `ConnectorsResource` (create, list, read, reconfigure,
//! pause, resume, stop, restart, delete, tasks, topics, offsets) with its JSON shapes.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tributary_runtime::api::Props;
use tributary_runtime::herder::ConnectorInfo as Info;
use tributary_runtime::worker::{ConnectorStatus, TargetState, TaskStatus, parse_offsets_body};

use crate::error::ApiError;
use crate::{AppState, query};

#[allow(unused_imports)]
use crate::openapi::*;

type Answer = Result<Response, ApiError>;

pub(crate) fn info_json(i: &Info) -> Value {
    let tasks: Vec<Value> = (0..i.tasks).map(|t| json!({"connector": i.name, "task": t})).collect();
    json!({"name": i.name, "config": i.config, "tasks": tasks, "type": i.kind.name()})
}

/// The version of a running plugin (every plugin is built into this binary).
const PLUGIN_VERSION: &str = env!("CARGO_PKG_VERSION");

fn task_json(id: usize, t: &TaskStatus) -> Value {
    let mut v = json!({"id": id, "state": t.state.name(), "worker_id": t.worker_id, "version": PLUGIN_VERSION});
    if let Some(trace) = &t.trace {
        v["trace"] = json!(trace);
    }
    v
}

pub(crate) fn status_json(s: &ConnectorStatus) -> Value {
    let mut connector = json!({"state": s.state.name(), "worker_id": s.worker_id, "version": PLUGIN_VERSION});
    if let Some(trace) = &s.trace {
        connector["trace"] = json!(trace);
    }
    let tasks: Vec<Value> = s.tasks.iter().enumerate().map(|(i, t)| task_json(i, t)).collect();
    json!({"name": s.name, "connector": connector, "tasks": tasks, "type": s.kind.name()})
}

/// Parses a JSON body, answering 400 with the parser's message (Kafka Connect answers these
/// with a 500; a malformed request is the client's error).
fn parse_body(body: Result<Bytes, BytesRejection>) -> Result<Value, ApiError> {
    let body = body?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("the request body is empty; a JSON object is required"));
    }
    serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
}

/// A JSON object of string values (numbers and booleans are taken as their text, as Jackson
/// does); with `allow_null`, null values are kept as `None` (PATCH removes those keys).
fn string_map(v: &Value, what: &str, allow_null: bool) -> Result<BTreeMap<String, Option<String>>, ApiError> {
    let Value::Object(o) = v else {
        return Err(ApiError::bad_request(format!("{what} must be a JSON object of strings")));
    };
    let mut out = BTreeMap::new();
    for (k, v) in o {
        let s = match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null if allow_null => None,
            other => {
                return Err(ApiError::bad_request(format!(
                    "{what}: the value of '{k}' must be a string, not {}",
                    match other {
                        Value::Null => "null",
                        Value::Array(_) => "an array",
                        _ => "an object",
                    }
                )));
            }
        };
        out.insert(k.clone(), s);
    }
    Ok(out)
}

fn props(map: BTreeMap<String, Option<String>>) -> Props {
    map.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect()
}

/// The name in the URL must match a `name` in the config, which gets it when absent.
fn check_name(name: &str, config: &mut Props) -> Result<(), ApiError> {
    match config.get("name") {
        Some(n) if n != name => Err(ApiError::bad_request(format!(
            "Connector name configuration ({n}) doesn't match connector name in the URL ({name})"
        ))),
        Some(_) => Ok(()),
        None => {
            config.insert("name".into(), name.to_owned());
            Ok(())
        }
    }
}

fn created(name: &str, body: Value) -> Response {
    let location = format!("/connectors/{name}");
    (StatusCode::CREATED, [(header::LOCATION, location)], Json(body)).into_response()
}

#[utoipa::path(get, path = "/connectors", tag = "connectors", params(("expand" = Option<Vec<String>>, Query, description = "status and/or info")), responses((status = 200, description = "Names, or with expand a map of name to status/info", body = serde_json::Value)))]
pub(crate) async fn list(State(h): State<AppState>, RawQuery(q): RawQuery) -> Answer {
    let names = h.connectors().await;
    let expand = query::all(q.as_deref(), "expand");
    if expand.is_empty() {
        return Ok(Json(names).into_response());
    }
    let mut statuses: BTreeMap<String, ConnectorStatus> = if expand.iter().any(|e| e == "status") {
        h.connector_statuses().await.into_iter().map(|s| (s.name.clone(), s)).collect()
    } else {
        BTreeMap::new()
    };
    let mut out = Map::new();
    for name in names {
        let mut entry = Map::new();
        for e in &expand {
            match e.as_str() {
                "status" => {
                    if let Some(s) = statuses.remove(&name) {
                        entry.insert("status".into(), status_json(&s));
                    }
                }
                "info" => {
                    if let Ok(i) = h.connector_info(&name).await {
                        entry.insert("info".into(), info_json(&i));
                    }
                }
                _ => {}
            }
        }
        out.insert(name, Value::Object(entry));
    }
    Ok(Json(Value::Object(out)).into_response())
}

#[utoipa::path(post, path = "/connectors", tag = "connectors", request_body = CreateConnectorRequest, responses((status = 201, body = ConnectorInfo), (status = 400, body = ErrorMessage), (status = 409, body = ErrorMessage), (status = 413, body = ErrorMessage)))]
pub(crate) async fn create(State(h): State<AppState>, body: Result<Bytes, BytesRejection>) -> Answer {
    let body = parse_body(body)?;
    let Value::Object(o) = &body else {
        return Err(ApiError::bad_request("the request body must be a JSON object with \"name\" and \"config\""));
    };
    if let Some(k) = o.keys().find(|k| !["name", "config", "initial_state"].contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!(
            "Unrecognized field \"{k}\": a create request has only \"name\", \"config\" and \"initial_state\""
        )));
    }
    let name = match o.get("name") {
        Some(Value::String(n)) => n.trim().to_owned(),
        None | Some(Value::Null) => String::new(),
        Some(_) => return Err(ApiError::bad_request("\"name\" must be a string")),
    };
    let mut config = match o.get("config") {
        Some(c @ Value::Object(_)) => props(string_map(c, "config", false)?),
        None | Some(Value::Null) => Props::new(),
        Some(_) => return Err(ApiError::bad_request("\"config\" must be a JSON object of strings")),
    };
    let target = match o.get("initial_state") {
        None | Some(Value::Null) => TargetState::Started,
        Some(Value::String(s)) => TargetState::from_initial_state(s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "Cannot deserialize value of type `TargetState` from String \"{s}\": not one of the values accepted: [RUNNING, PAUSED, STOPPED]"
            ))
        })?,
        Some(_) => return Err(ApiError::bad_request("\"initial_state\" must be RUNNING, PAUSED or STOPPED")),
    };
    check_name(&name, &mut config)?;
    let info = h.create_connector(config, target).await?;
    Ok(created(&info.name, info_json(&info)))
}

#[utoipa::path(get, path = "/connectors/{name}", tag = "connectors", params(("name" = String, Path, description = "Connector name")), responses((status = 200, body = ConnectorInfo), (status = 404, description = "No such connector", body = ErrorMessage)))]
pub(crate) async fn get(State(h): State<AppState>, Path(name): Path<String>) -> Answer {
    Ok(Json(info_json(&h.connector_info(&name).await?)).into_response())
}

#[utoipa::path(get, path = "/connectors/{name}/config", tag = "connectors", params(("name" = String, Path, description = "Connector name")), responses((status = 200, body = BTreeMap<String, String>), (status = 404, description = "No such connector", body = ErrorMessage)))]
pub(crate) async fn get_config(State(h): State<AppState>, Path(name): Path<String>) -> Answer {
    Ok(Json(h.connector_config(&name).await?).into_response())
}

#[utoipa::path(put, path = "/connectors/{name}/config", tag = "connectors", params(("name" = String, Path, description = "Connector name")), request_body = BTreeMap<String, String>, responses((status = 200, body = ConnectorInfo), (status = 201, body = ConnectorInfo), (status = 400, body = ErrorMessage), (status = 413, body = ErrorMessage)))]
pub(crate) async fn put_config(
    State(h): State<AppState>,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let mut config = props(string_map(&parse_body(body)?, "the connector config", false)?);
    check_name(&name, &mut config)?;
    let (was_created, info) = h.put_connector_config(&name, config).await?;
    Ok(if was_created { created(&name, info_json(&info)) } else { Json(info_json(&info)).into_response() })
}

#[utoipa::path(patch, path = "/connectors/{name}/config", tag = "connectors", params(("name" = String, Path, description = "Connector name")), request_body = BTreeMap<String, String>, responses((status = 200, body = ConnectorInfo), (status = 400, body = ErrorMessage), (status = 404, description = "No such connector", body = ErrorMessage)))]
pub(crate) async fn patch_config(
    State(h): State<AppState>,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let patch = string_map(&parse_body(body)?, "the config patch", true)?;
    if let Some(Some(n)) = patch.get("name")
        && n != &name
    {
        return Err(ApiError::bad_request(format!(
            "Connector name configuration ({n}) doesn't match connector name in the URL ({name})"
        )));
    }
    Ok(Json(info_json(&h.patch_connector_config(&name, patch).await?)).into_response())
}

#[utoipa::path(get, path = "/connectors/{name}/status", tag = "connectors", params(("name" = String, Path, description = "Connector name")), responses((status = 200, body = ConnectorStateInfo), (status = 404, description = "No such connector", body = ErrorMessage)))]
pub(crate) async fn status(State(h): State<AppState>, Path(name): Path<String>) -> Answer {
    Ok(Json(status_json(&h.connector_status(&name).await?)).into_response())
}

fn task_id(raw: &str) -> Result<usize, ApiError> {
    raw.parse().map_err(|_| ApiError::http_not_found())
}

#[utoipa::path(get, path = "/connectors/{name}/tasks/{task}/status", tag = "tasks", params(("name" = String, Path, description = "Connector name"), ("task" = i32, Path, description = "Task id")), responses((status = 200, body = TaskState), (status = 404, description = "No such connector", body = ErrorMessage)))]
pub(crate) async fn task_status(State(h): State<AppState>, Path((name, task)): Path<(String, String)>) -> Answer {
    let id = task_id(&task)?;
    Ok(Json(task_json(id, &h.task_status(&name, id).await?)).into_response())
}

#[utoipa::path(get, path = "/connectors/{name}/tasks", tag = "tasks", params(("name" = String, Path, description = "Connector name")), responses((status = 200, body = Vec<TaskInfo>), (status = 404, description = "No such connector", body = ErrorMessage)))]
pub(crate) async fn tasks(State(h): State<AppState>, Path(name): Path<String>) -> Answer {
    let configs = h.task_configs(&name).await?;
    let out: Vec<Value> = configs
        .into_iter()
        .enumerate()
        .map(|(i, c)| json!({"id": {"connector": name, "task": i}, "config": c}))
        .collect();
    Ok(Json(out).into_response())
}

#[utoipa::path(put, path = "/connectors/{name}/pause", tag = "connectors", params(("name" = String, Path, description = "Connector name")), responses((status = 202), (status = 404, description = "No such connector", body = ErrorMessage)))]
pub(crate) async fn pause(State(h): State<AppState>, Path(name): Path<String>) -> Answer {
    h.pause_connector(&name).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

#[utoipa::path(put, path = "/connectors/{name}/resume", tag = "connectors", params(("name" = String, Path, description = "Connector name")), responses((status = 202), (status = 404, description = "No such connector", body = ErrorMessage)))]
pub(crate) async fn resume(State(h): State<AppState>, Path(name): Path<String>) -> Answer {
    h.resume_connector(&name).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

#[utoipa::path(put, path = "/connectors/{name}/stop", tag = "connectors", params(("name" = String, Path, description = "Connector name")), responses((status = 204), (status = 404, description = "No such connector", body = ErrorMessage)))]
pub(crate) async fn stop(State(h): State<AppState>, Path(name): Path<String>) -> Answer {
    h.stop_connector(&name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(post, path = "/connectors/{name}/restart", tag = "connectors", params(("name" = String, Path, description = "Connector name"), ("includeTasks" = Option<bool>, Query), ("onlyFailed" = Option<bool>, Query)), responses((status = 202, body = ConnectorStateInfo), (status = 204), (status = 404, description = "No such connector", body = ErrorMessage)))]
pub(crate) async fn restart(State(h): State<AppState>, Path(name): Path<String>, RawQuery(q): RawQuery) -> Answer {
    let include_tasks = query::flag(q.as_deref(), "includeTasks")?;
    let only_failed = query::flag(q.as_deref(), "onlyFailed")?;
    if !include_tasks && !only_failed {
        h.restart_connector(&name).await?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let plan = h.restart_connector_and_tasks(&name, include_tasks, only_failed).await?;
    Ok((StatusCode::ACCEPTED, Json(status_json(&plan))).into_response())
}

#[utoipa::path(post, path = "/connectors/{name}/tasks/{task}/restart", tag = "tasks", params(("name" = String, Path, description = "Connector name"), ("task" = i32, Path, description = "Task id")), responses((status = 204), (status = 404, description = "No such connector", body = ErrorMessage)))]
pub(crate) async fn restart_task(State(h): State<AppState>, Path((name, task)): Path<(String, String)>) -> Answer {
    h.restart_task(&name, task_id(&task)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(delete, path = "/connectors/{name}", tag = "connectors", params(("name" = String, Path, description = "Connector name")), responses((status = 204), (status = 404, description = "No such connector", body = ErrorMessage)))]
pub(crate) async fn delete(State(h): State<AppState>, Path(name): Path<String>) -> Answer {
    h.delete_connector(&name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/connectors/{name}/topics", tag = "connectors", params(("name" = String, Path, description = "Connector name")), responses((status = 200, body = BTreeMap<String, ActiveTopics>), (status = 404, description = "No such connector", body = ErrorMessage)))]
pub(crate) async fn topics(State(h): State<AppState>, Path(name): Path<String>) -> Answer {
    // Kafka Connect answers an unknown connector with an empty list, not a 404.
    let topics = h.active_topics(&name).await.unwrap_or_default();
    Ok(Json(json!({ name: {"topics": topics} })).into_response())
}

#[utoipa::path(put, path = "/connectors/{name}/topics/reset", tag = "connectors", params(("name" = String, Path, description = "Connector name")), responses((status = 202), (status = 404, description = "No such connector", body = ErrorMessage)))]
pub(crate) async fn reset_topics(State(h): State<AppState>, Path(name): Path<String>) -> Answer {
    h.reset_active_topics(&name).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

#[utoipa::path(get, path = "/connectors/{name}/offsets", tag = "offsets", params(("name" = String, Path, description = "Connector name")), responses((status = 200, body = ConnectorOffsets), (status = 404, description = "No such connector", body = ErrorMessage)))]
pub(crate) async fn offsets(State(h): State<AppState>, Path(name): Path<String>) -> Answer {
    let offsets: Vec<Value> =
        h.connector_offsets(&name).await?.into_iter().map(|(p, o)| json!({"partition": p, "offset": o})).collect();
    Ok(Json(json!({ "offsets": offsets })).into_response())
}

#[utoipa::path(patch, path = "/connectors/{name}/offsets", tag = "offsets", params(("name" = String, Path, description = "Connector name")), request_body = ConnectorOffsets, responses((status = 200, body = Message), (status = 400, body = ErrorMessage), (status = 404, description = "No such connector", body = ErrorMessage)))]
pub(crate) async fn alter_offsets(
    State(h): State<AppState>,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let changes = parse_offsets_body(&parse_body(body)?)?;
    let message = h.alter_connector_offsets(&name, changes).await?;
    Ok(Json(json!({ "message": message })).into_response())
}

#[utoipa::path(delete, path = "/connectors/{name}/offsets", tag = "offsets", params(("name" = String, Path, description = "Connector name")), responses((status = 200, body = Message), (status = 400, body = ErrorMessage), (status = 404, description = "No such connector", body = ErrorMessage)))]
pub(crate) async fn reset_offsets(State(h): State<AppState>, Path(name): Path<String>) -> Answer {
    let message = h.reset_connector_offsets(&name).await?;
    Ok(Json(json!({ "message": message })).into_response())
}
