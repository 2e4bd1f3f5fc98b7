//! The OpenAPI 3 document of the REST API, generated from the handlers' annotations
//! (`/openapi.json`), and the schemas of its bodies as Kafka Connect shapes them.

#![allow(dead_code)] // The types below exist to describe bodies, not to build them.

use std::collections::BTreeMap;

use utoipa::{OpenApi, ToSchema};

/// `{"error_code": N, "message": "..."}`.
#[derive(ToSchema)]
pub(crate) struct ErrorMessage {
    error_code: i32,
    message: String,
}

/// `GET /`.
#[derive(ToSchema)]
pub(crate) struct ServerInfo {
    version: String,
    commit: String,
    #[schema(nullable)]
    kafka_cluster_id: Option<String>,
}

/// `GET /health` (KIP-1017).
#[derive(ToSchema)]
pub(crate) struct Health {
    status: String,
    message: String,
}

/// A task's id.
#[derive(ToSchema)]
pub(crate) struct TaskId {
    connector: String,
    task: i32,
}

/// A connector's name, config, tasks and type.
#[derive(ToSchema)]
pub(crate) struct ConnectorInfo {
    name: String,
    config: BTreeMap<String, String>,
    tasks: Vec<TaskId>,
    #[schema(rename = "type")]
    r#type: String,
}

/// `POST /connectors`.
#[derive(ToSchema)]
pub(crate) struct CreateConnectorRequest {
    name: String,
    config: BTreeMap<String, String>,
    /// RUNNING (default), PAUSED or STOPPED (KIP-980).
    #[schema(nullable)]
    initial_state: Option<String>,
}

/// A connector's own state.
#[derive(ToSchema)]
pub(crate) struct ConnectorState {
    state: String,
    worker_id: String,
    version: String,
    trace: Option<String>,
}

/// A task's state.
#[derive(ToSchema)]
pub(crate) struct TaskState {
    id: i32,
    state: String,
    worker_id: String,
    version: String,
    trace: Option<String>,
}

/// A connector's status.
#[derive(ToSchema)]
pub(crate) struct ConnectorStateInfo {
    name: String,
    connector: ConnectorState,
    tasks: Vec<TaskState>,
    #[schema(rename = "type")]
    r#type: String,
}

/// One task and its configuration.
#[derive(ToSchema)]
pub(crate) struct TaskInfo {
    id: TaskId,
    config: BTreeMap<String, String>,
}

/// Topics of one connector.
#[derive(ToSchema)]
pub(crate) struct ActiveTopics {
    topics: Vec<String>,
}

/// One partition's offset.
#[derive(ToSchema)]
pub(crate) struct PartitionOffset {
    partition: BTreeMap<String, serde_json::Value>,
    #[schema(nullable)]
    offset: Option<BTreeMap<String, serde_json::Value>>,
}

/// A connector's offsets (KIP-875).
#[derive(ToSchema)]
pub(crate) struct ConnectorOffsets {
    offsets: Vec<PartitionOffset>,
}

/// `{"message": "..."}`.
#[derive(ToSchema)]
pub(crate) struct Message {
    message: String,
}

/// An installed plugin.
#[derive(ToSchema)]
pub(crate) struct PluginInfo {
    class: String,
    #[schema(rename = "type")]
    r#type: String,
    version: String,
}

/// One configuration key's definition.
#[derive(ToSchema)]
pub(crate) struct ConfigKeyInfo {
    name: String,
    #[schema(rename = "type")]
    r#type: String,
    required: bool,
    #[schema(nullable)]
    default_value: Option<String>,
    importance: String,
    documentation: String,
    /// The key's group; null when it has none.
    #[schema(nullable)]
    group: Option<String>,
    width: String,
    display_name: String,
    dependents: Vec<String>,
    order: i32,
}

/// A key's value in a validation answer.
#[derive(ToSchema)]
pub(crate) struct ConfigValueInfo {
    name: String,
    #[schema(nullable)]
    value: Option<String>,
    recommended_values: Vec<String>,
    errors: Vec<String>,
    visible: bool,
}

/// A key in a validation answer.
#[derive(ToSchema)]
pub(crate) struct ConfigInfo {
    definition: ConfigKeyInfo,
    value: ConfigValueInfo,
}

/// `PUT /connector-plugins/{plugin}/config/validate`.
#[derive(ToSchema)]
pub(crate) struct ConfigInfos {
    name: String,
    error_count: i32,
    groups: Vec<String>,
    configs: Vec<ConfigInfo>,
}

/// A logger's level.
#[derive(ToSchema)]
pub(crate) struct LoggerLevel {
    level: String,
    #[schema(nullable)]
    last_modified: Option<i64>,
}

/// `PUT /admin/loggers/{logger}`.
#[derive(ToSchema)]
pub(crate) struct SetLevel {
    level: String,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Tributary REST API", description = "Kafka Connect's v1 REST API, as Tributary serves it."),
    paths(
        crate::root,
        crate::health,
        crate::connectors::list,
        crate::connectors::create,
        crate::connectors::get,
        crate::connectors::delete,
        crate::connectors::get_config,
        crate::connectors::put_config,
        crate::connectors::patch_config,
        crate::connectors::status,
        crate::connectors::tasks,
        crate::connectors::task_status,
        crate::connectors::restart_task,
        crate::connectors::pause,
        crate::connectors::resume,
        crate::connectors::stop,
        crate::connectors::restart,
        crate::connectors::topics,
        crate::connectors::reset_topics,
        crate::connectors::offsets,
        crate::connectors::alter_offsets,
        crate::connectors::reset_offsets,
        crate::plugins::list,
        crate::plugins::config,
        crate::plugins::validate,
        crate::loggers::list,
        crate::loggers::get,
        crate::loggers::set,
    ),
    components(schemas(
        ErrorMessage,
        ServerInfo,
        Health,
        TaskId,
        ConnectorInfo,
        CreateConnectorRequest,
        ConnectorState,
        TaskState,
        ConnectorStateInfo,
        TaskInfo,
        ActiveTopics,
        PartitionOffset,
        ConnectorOffsets,
        Message,
        PluginInfo,
        ConfigKeyInfo,
        ConfigValueInfo,
        ConfigInfo,
        ConfigInfos,
        LoggerLevel,
        SetLevel
    ))
)]
pub(crate) struct ApiDoc;
