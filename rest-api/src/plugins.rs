//! `/connector-plugins`: Kafka Connect's `ConnectorPluginsResource` (list, config definition,
//! validation answering ConfigInfos with per-key errors).

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tributary_runtime::worker::{config_infos, connector_plugin_keys};

use crate::error::ApiError;
use crate::{AppState, query};

#[allow(unused_imports)]
use crate::openapi::*;

type Answer = Result<Response, ApiError>;

const VERSION: &str = env!("CARGO_PKG_VERSION");

#[utoipa::path(get, path = "/connector-plugins", tag = "plugins", params(("connectorsOnly" = Option<bool>, Query)), responses((status = 200, body = Vec<PluginInfo>)))]
pub(crate) async fn list(State(h): State<AppState>, RawQuery(q): RawQuery) -> Answer {
    let connectors_only = match query::one(q.as_deref(), "connectorsOnly") {
        None => true,
        Some(v) => v.parse::<bool>().map_err(|_| ApiError::http_not_found())?,
    };
    let r = h.registry();
    let mut out: Vec<(String, &str)> = r.connectors().iter().map(|p| (p.class.to_owned(), p.kind.name())).collect();
    if !connectors_only {
        out.extend(r.converters().iter().map(|p| (p.class.to_owned(), "converter")));
        out.extend(r.header_converters().iter().map(|p| (p.class.to_owned(), "header_converter")));
        out.extend(r.transforms().iter().map(|p| (p.class.to_owned(), "transformation")));
        out.extend(r.predicates().iter().map(|p| (p.class.to_owned(), "predicate")));
    }
    out.sort();
    let out: Vec<Value> =
        out.into_iter().map(|(class, kind)| json!({"class": class, "type": kind, "version": VERSION})).collect();
    Ok(Json(out).into_response())
}

/// `GET /connector-plugins/{plugin}/config`: a connector's own keys then the common ones, or
/// another plugin's own keys.
fn plugin_keys(h: &AppState, plugin: &str) -> Result<Vec<Value>, ApiError> {
    let r = h.registry();
    if let Ok(p) = r.connector(plugin) {
        return Ok(connector_plugin_keys(r, p));
    }
    let def = if let Ok(c) = r.converter(plugin) {
        (c.config_def)()
    } else if let Ok(c) = r.header_converter(plugin) {
        (c.config_def)()
    } else if let Ok(t) = r.transform(plugin) {
        (t.config_def)()
    } else if let Ok(p) = r.predicate(plugin) {
        (p.config_def)()
    } else {
        return Err(ApiError::not_found(format!("Unknown plugin {plugin}.")));
    };
    Ok(def.key_infos())
}

#[utoipa::path(get, path = "/connector-plugins/{plugin}/config", tag = "plugins", params(("plugin" = String, Path)), responses((status = 200, body = Vec<ConfigKeyInfo>), (status = 404, body = ErrorMessage)))]
pub(crate) async fn config(State(h): State<AppState>, Path(plugin): Path<String>) -> Answer {
    Ok(Json(plugin_keys(&h, &plugin)?).into_response())
}

fn java_map(m: &BTreeMap<String, String>) -> String {
    let inner: Vec<String> = m.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", inner.join(", "))
}

#[utoipa::path(put, path = "/connector-plugins/{plugin}/config/validate", tag = "plugins", params(("plugin" = String, Path)), request_body = BTreeMap<String, String>, responses((status = 200, body = ConfigInfos), (status = 400, body = ErrorMessage)))]
pub(crate) async fn validate(
    State(h): State<AppState>,
    Path(plugin): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let body = body?;
    let v: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))?;
    let Value::Object(o) = v else {
        return Err(ApiError::bad_request("the request body must be a JSON object of strings"));
    };
    let mut props = BTreeMap::new();
    for (k, v) in o {
        let s = match v {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return Err(ApiError::bad_request(format!("the value of '{k}' must be a string"))),
        };
        props.insert(k, s);
    }
    let r = h.registry();
    let included = props.get("connector.class").cloned();
    if let Some(c) = &included {
        let matches = match (r.connector(c), r.connector(&plugin)) {
            (Ok(a), Ok(b)) => a.class == b.class,
            _ => c.ends_with(plugin.trim_end_matches("Connector")),
        };
        if !matches {
            return Err(ApiError::bad_request(format!(
                "Included connector type {c} does not match request type {plugin}"
            )));
        }
    }
    let Some(class) = included else {
        return Err(ApiError::bad_request(format!("Connector config {} contains no connector type", java_map(&props))));
    };
    let p = r.connector(&class).map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(Json(config_infos(r, p, &props, &h.converter_defaults())).into_response())
}
