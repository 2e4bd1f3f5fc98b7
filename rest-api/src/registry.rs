//! Confluent Schema Registry REST API over the store in `tributary_converters::registry`.
//!
//! Endpoints, bodies, error codes and statuses follow Confluent's (`SubjectsResource`,
//! `SubjectVersionsResource`, `SchemasResource`, `ConfigResource`, `CompatibilityResource`,
//! `ModeResource`); answers carry `application/vnd.schemaregistry.v1+json`. Request bodies are
//! read whatever their content type (Confluent's clients send
//! `application/vnd.schemaregistry.v1+json`, curl users `application/json`), up to
//! [`MAX_BODY_BYTES`]; a body that is not JSON answers 400, JSON of the wrong shape 422, both
//! with `{"error_code", "message"}` naming the field.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tributary_converters::registry::{
    CompatibilityLevel, Mode, RegistryError, SchemaReference, SchemaRegistry, SchemaRequest, SchemaType, SubjectSchema,
    VersionSpec,
};

/// Largest request body accepted (a schema and its JSON envelope).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Confluent's content type.
pub const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

type Shared = State<Arc<SchemaRegistry>>;
type Answer = Result<Response, ApiError>;

/// An error answered as Confluent does: `{"error_code": N, "message": "..."}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: u32,
    message: String,
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self { status, code: e.error_code(), message: e.to_string() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(error_code = self.code, "schema registry request failed: {}", self.message);
        }
        respond(self.status, &json!({"error_code": self.code, "message": self.message}))
    }
}

fn respond(status: StatusCode, body: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))], body.to_string()).into_response()
}

fn ok(body: Value) -> Answer {
    Ok(respond(StatusCode::OK, &body))
}

/// The routes; serve them with `axum::serve`.
pub fn router(registry: Arc<SchemaRegistry>) -> Router {
    Router::new()
        .route("/", get(|| async { ok(json!({})) }))
        .route("/schemas/types", get(|| async { ok(json!(["AVRO", "JSON"])) }))
        .route("/subjects", get(subjects))
        .route("/subjects/{subject}", post(lookup).delete(delete_subject))
        .route("/subjects/{subject}/versions", get(versions).post(register))
        .route("/subjects/{subject}/versions/{version}", get(version).delete(delete_version))
        .route("/subjects/{subject}/versions/{version}/schema", get(version_schema))
        .route("/subjects/{subject}/versions/{version}/referencedby", get(referenced_by))
        .route("/schemas/ids/{id}", get(by_id))
        .route("/schemas/ids/{id}/schema", get(by_id_schema))
        .route("/schemas/ids/{id}/versions", get(id_versions))
        .route("/schemas/ids/{id}/subjects", get(id_subjects))
        .route("/config", get(global_config).put(put_global_config).delete(delete_global_config))
        .route("/config/{subject}", get(subject_config).put(put_subject_config).delete(delete_subject_config))
        .route("/compatibility/subjects/{subject}/versions", post(compatibility_all))
        .route("/compatibility/subjects/{subject}/versions/{version}", post(compatibility_version))
        .route("/mode", get(global_mode).put(put_global_mode))
        .route("/mode/{subject}", get(subject_mode).put(put_subject_mode).delete(delete_subject_mode))
        .fallback(|| async {
            respond(StatusCode::NOT_FOUND, &json!({"error_code": 404, "message": "HTTP 404 Not Found"}))
        })
        .method_not_allowed_fallback(|| async {
            respond(
                StatusCode::METHOD_NOT_ALLOWED,
                &json!({"error_code": 405, "message": "HTTP 405 Method Not Allowed"}),
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(registry)
}

// ---- request pieces ----

/// Query parameters, percent-decoded.
struct Query(HashMap<String, String>);

impl Query {
    fn parse(raw: Option<String>) -> Self {
        let mut out = HashMap::new();
        for pair in raw.as_deref().unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            out.insert(decode(k), decode(v));
        }
        Self(out)
    }

    /// A boolean parameter, true only for `true` (any case), as JAX-RS reads booleans.
    fn flag(&self, name: &str) -> bool {
        self.0.get(name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b'+', ..) => {
                out.push(b' ');
                i += 1;
            }
            (b, ..) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn path<T>(p: Result<Path<T>, PathRejection>) -> Result<T, ApiError> {
    p.map(|Path(t)| t).map_err(|e| RegistryError::UnprocessableRequest(format!("invalid path: {e}")).into())
}

fn version_spec(v: &str) -> Result<VersionSpec, ApiError> {
    Ok(v.parse::<VersionSpec>()?)
}

fn schema_id(id: &str) -> Result<i64, ApiError> {
    let t = id.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        // Confluent (JAX-RS) cannot match a non-numeric id: a plain 404.
        return Err(ApiError { status: StatusCode::NOT_FOUND, code: 404, message: "HTTP 404 Not Found".into() });
    }
    // An id past i32 (or even i64) simply does not exist.
    t.parse::<i64>().map_err(|_| ApiError {
        status: StatusCode::NOT_FOUND,
        code: 40403,
        message: format!("Schema {t} not found"),
    })
}

/// The JSON object of a request body.
fn body_json(body: Result<Bytes, BytesRejection>) -> Result<serde_json::Map<String, Value>, ApiError> {
    let bytes = body.map_err(|e| {
        let status = e.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE { 413 } else { 400 };
        ApiError {
            status: StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST),
            code: u32::from(code),
            message: format!("cannot read the request body: {e} (bodies are limited to {MAX_BODY_BYTES} bytes)"),
        }
    })?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| RegistryError::MalformedRequest(format!("the request body is not valid JSON: {e}")))?;
    match value {
        Value::Object(m) => Ok(m),
        other => Err(RegistryError::UnprocessableRequest(format!(
            "the request body must be a JSON object, not {}",
            kind(&other)
        ))
        .into()),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn optional_str<'a>(m: &'a serde_json::Map<String, Value>, field: &str) -> Result<Option<&'a str>, ApiError> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => {
            Err(RegistryError::UnprocessableRequest(format!("field '{field}' must be a string, not {}", kind(other)))
                .into())
        }
    }
}

fn optional_int(m: &serde_json::Map<String, Value>, field: &str) -> Result<Option<i32>, ApiError> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().and_then(|n| i32::try_from(n).ok()).map(Some).ok_or_else(|| {
            RegistryError::UnprocessableRequest(format!("field '{field}' must be a 32-bit integer, not {v}")).into()
        }),
    }
}

/// A `RegisterSchemaRequest` body: `schema`, `schemaType`, `references`, and in IMPORT mode
/// `id` and `version`; other fields (`metadata`, `ruleSet`) are accepted and ignored.
fn schema_request(body: Result<Bytes, BytesRejection>) -> Result<SchemaRequest, ApiError> {
    let m = body_json(body)?;
    let schema = optional_str(&m, "schema")?
        .ok_or_else(|| RegistryError::InvalidSchema("Invalid schema: the request has no 'schema' string".into()))?;
    let schema_type = SchemaType::parse(optional_str(&m, "schemaType")?)?;
    let references = match m.get("references") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, r)| {
                serde_json::from_value::<SchemaReference>(r.clone()).map_err(|e| {
                    ApiError::from(RegistryError::UnprocessableRequest(format!(
                        "references[{i}] must be {{\"name\", \"subject\", \"version\"}}: {e}"
                    )))
                })
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(RegistryError::UnprocessableRequest(format!(
                "field 'references' must be an array, not {}",
                kind(other)
            ))
            .into());
        }
    };
    let id = optional_int(&m, "id")?.filter(|id| *id >= 0);
    let version = optional_int(&m, "version")?.filter(|v| *v > 0);
    Ok(SchemaRequest { schema: schema.to_owned(), schema_type, references, id, version })
}

fn subject_schema_json(s: &SubjectSchema) -> Value {
    let mut out = json!({"subject": s.subject, "version": s.version, "id": s.id});
    if s.schema_type != SchemaType::Avro {
        out["schemaType"] = json!(s.schema_type.name());
    }
    if !s.references.is_empty() {
        out["references"] = json!(s.references);
    }
    out["schema"] = json!(s.schema);
    out
}

// ---- subjects and versions ----

async fn subjects(State(r): Shared, RawQuery(q): RawQuery) -> Answer {
    let q = Query::parse(q);
    ok(json!(r.subjects(q.get("subjectPrefix").unwrap_or(""), q.flag("deleted"))))
}

async fn versions(State(r): Shared, p: Result<Path<String>, PathRejection>, RawQuery(q): RawQuery) -> Answer {
    ok(json!(r.versions(&path(p)?, Query::parse(q).flag("deleted"))?))
}

async fn version(State(r): Shared, p: Result<Path<(String, String)>, PathRejection>, RawQuery(q): RawQuery) -> Answer {
    let (subject, v) = path(p)?;
    let s = r.version(&subject, version_spec(&v)?, Query::parse(q).flag("deleted"))?;
    ok(subject_schema_json(&s))
}

async fn version_schema(
    State(r): Shared,
    p: Result<Path<(String, String)>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Answer {
    let (subject, v) = path(p)?;
    let s = r.version(&subject, version_spec(&v)?, Query::parse(q).flag("deleted"))?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))], s.schema).into_response())
}

async fn referenced_by(
    State(r): Shared,
    p: Result<Path<(String, String)>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Answer {
    let (subject, v) = path(p)?;
    ok(json!(r.referenced_by(&subject, version_spec(&v)?, Query::parse(q).flag("deleted"))?))
}

async fn register(
    State(r): Shared,
    p: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let subject = path(p)?;
    let req = schema_request(body)?;
    let id = r.register(&subject, &req).await?;
    tracing::debug!(subject = %subject, id, "registered schema");
    ok(json!({"id": id}))
}

async fn lookup(
    State(r): Shared,
    p: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let subject = path(p)?;
    let req = schema_request(body)?;
    ok(subject_schema_json(&r.lookup(&subject, &req, Query::parse(q).flag("deleted"))?))
}

async fn delete_subject(State(r): Shared, p: Result<Path<String>, PathRejection>, RawQuery(q): RawQuery) -> Answer {
    ok(json!(r.delete_subject(&path(p)?, Query::parse(q).flag("permanent")).await?))
}

async fn delete_version(
    State(r): Shared,
    p: Result<Path<(String, String)>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Answer {
    let (subject, v) = path(p)?;
    ok(json!(r.delete_version(&subject, version_spec(&v)?, Query::parse(q).flag("permanent")).await?))
}

// ---- schemas by id ----

async fn by_id(State(r): Shared, p: Result<Path<String>, PathRejection>) -> Answer {
    let s = r.schema_by_id(schema_id(&path(p)?)?)?;
    let mut out = json!({});
    if s.schema_type != SchemaType::Avro {
        out["schemaType"] = json!(s.schema_type.name());
    }
    out["schema"] = json!(s.schema);
    if !s.references.is_empty() {
        out["references"] = json!(s.references);
    }
    ok(out)
}

async fn by_id_schema(State(r): Shared, p: Result<Path<String>, PathRejection>) -> Answer {
    let s = r.schema_by_id(schema_id(&path(p)?)?)?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))], s.schema).into_response())
}

async fn id_versions(State(r): Shared, p: Result<Path<String>, PathRejection>, RawQuery(q): RawQuery) -> Answer {
    let uses = r.id_versions(schema_id(&path(p)?)?, Query::parse(q).flag("deleted"))?;
    ok(Value::Array(
        uses.into_iter().map(|(subject, version)| json!({"subject": subject, "version": version})).collect(),
    ))
}

async fn id_subjects(State(r): Shared, p: Result<Path<String>, PathRejection>, RawQuery(q): RawQuery) -> Answer {
    ok(json!(r.id_subjects(schema_id(&path(p)?)?, Query::parse(q).flag("deleted"))?))
}

// ---- config ----

fn level_from(body: Result<Bytes, BytesRejection>) -> Result<CompatibilityLevel, ApiError> {
    let m = body_json(body)?;
    let level = match optional_str(&m, "compatibility")? {
        Some(l) => l,
        None => optional_str(&m, "compatibilityLevel")?.ok_or_else(|| {
            RegistryError::UnprocessableRequest(
                "the request needs a 'compatibility' string, e.g. {\"compatibility\": \"BACKWARD\"}".into(),
            )
        })?,
    };
    Ok(level.parse()?)
}

async fn global_config(State(r): Shared) -> Answer {
    ok(json!({"compatibilityLevel": r.config(None, true)?.name()}))
}

async fn put_global_config(State(r): Shared, body: Result<Bytes, BytesRejection>) -> Answer {
    ok(json!({"compatibility": r.set_config(None, level_from(body)?).await?.name()}))
}

async fn delete_global_config(State(r): Shared) -> Answer {
    ok(json!({"compatibilityLevel": r.delete_config(None).await?.name()}))
}

async fn subject_config(State(r): Shared, p: Result<Path<String>, PathRejection>, RawQuery(q): RawQuery) -> Answer {
    let level = r.config(Some(&path(p)?), Query::parse(q).flag("defaultToGlobal"))?;
    ok(json!({"compatibilityLevel": level.name()}))
}

async fn put_subject_config(
    State(r): Shared,
    p: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let subject = path(p)?;
    ok(json!({"compatibility": r.set_config(Some(&subject), level_from(body)?).await?.name()}))
}

async fn delete_subject_config(State(r): Shared, p: Result<Path<String>, PathRejection>) -> Answer {
    ok(json!({"compatibilityLevel": r.delete_config(Some(&path(p)?)).await?.name()}))
}

// ---- compatibility ----

async fn compatibility(
    r: &SchemaRegistry,
    subject: &str,
    version: Option<VersionSpec>,
    verbose: bool,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let req = schema_request(body)?;
    let messages = match r.check_compatibility(subject, version, &req) {
        Ok(m) => m,
        Err(e @ RegistryError::InvalidSchema(_)) if verbose => vec![e.to_string()],
        Err(e) => return Err(e.into()),
    };
    let mut out = json!({"is_compatible": messages.is_empty()});
    if verbose {
        out["messages"] = json!(messages);
    }
    ok(out)
}

async fn compatibility_all(
    State(r): Shared,
    p: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    compatibility(&r, &path(p)?, None, Query::parse(q).flag("verbose"), body).await
}

async fn compatibility_version(
    State(r): Shared,
    p: Result<Path<(String, String)>, PathRejection>,
    RawQuery(q): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let (subject, v) = path(p)?;
    compatibility(&r, &subject, Some(version_spec(&v)?), Query::parse(q).flag("verbose"), body).await
}

// ---- mode ----

fn mode_from(body: Result<Bytes, BytesRejection>) -> Result<Mode, ApiError> {
    let m = body_json(body)?;
    let mode = optional_str(&m, "mode")?.ok_or_else(|| {
        RegistryError::UnprocessableRequest("the request needs a 'mode' string, e.g. {\"mode\": \"READONLY\"}".into())
    })?;
    Ok(mode.parse()?)
}

async fn global_mode(State(r): Shared) -> Answer {
    ok(json!({"mode": r.mode(None, true)?.name()}))
}

async fn put_global_mode(State(r): Shared, RawQuery(q): RawQuery, body: Result<Bytes, BytesRejection>) -> Answer {
    let mode = mode_from(body)?;
    ok(json!({"mode": r.set_mode(None, mode, Query::parse(q).flag("force")).await?.name()}))
}

async fn subject_mode(State(r): Shared, p: Result<Path<String>, PathRejection>, RawQuery(q): RawQuery) -> Answer {
    ok(json!({"mode": r.mode(Some(&path(p)?), Query::parse(q).flag("defaultToGlobal"))?.name()}))
}

async fn put_subject_mode(
    State(r): Shared,
    p: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let subject = path(p)?;
    let mode = mode_from(body)?;
    ok(json!({"mode": r.set_mode(Some(&subject), mode, Query::parse(q).flag("force")).await?.name()}))
}

async fn delete_subject_mode(State(r): Shared, p: Result<Path<String>, PathRejection>) -> Answer {
    ok(json!({"mode": r.delete_mode(Some(&path(p)?)).await?.name()}))
}
