//! The config store: connector configs, task configs, target states, task count records,
//! session keys, restart requests and cluster logger levels on `config.storage.topic`, in Kafka
//! Connect's formats (`KafkaConfigBackingStore`).
//!
//! Task configs are written one record per task, then a `commit-<name>` record with the task
//! count. A reader buffers task configs and applies them only when a commit arrives and every
//! task `0..count` has a buffered config: uncommitted task configs are never visible. A commit
//! that finds an incomplete set (compaction removed some, or a writer died half-way) marks the
//! connector inconsistent until the next complete commit, as Kafka Connect does.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value as Json, json};
use tokio::sync::watch;

use super::log::{KafkaBasedLog, LogRecord};
use super::topics::TopicKind;
use super::{StoreResult, StoreSettings, int_field, parse_json};

/// A connector's (and its tasks') wanted state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TargetState {
    /// Running.
    Started,
    /// Paused: instances kept, no data moved.
    Paused,
    /// Stopped: no instances (KIP-875).
    Stopped,
}

impl TargetState {
    /// Kafka Connect's name (`STARTED`, `PAUSED`, `STOPPED`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Started => "STARTED",
            Self::Paused => "PAUSED",
            Self::Stopped => "STOPPED",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "STARTED" => Some(Self::Started),
            "PAUSED" => Some(Self::Paused),
            "STOPPED" => Some(Self::Stopped),
            _ => None,
        }
    }
}

/// The key a leader signs internal requests with (KIP-507).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionKey {
    /// The key, base64 as stored.
    pub key: String,
    /// The MAC algorithm, e.g. `HmacSHA256`.
    pub algorithm: String,
    /// When it was made, epoch milliseconds.
    pub creation_timestamp: i64,
}

/// A request to restart a connector and maybe its tasks (KIP-745).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestartRequest {
    /// The connector.
    pub connector: String,
    /// Only instances that failed.
    pub only_failed: bool,
    /// Tasks too.
    pub include_tasks: bool,
    /// Offset of the record in the config topic.
    pub offset: i64,
}

/// String properties as stored under `"properties"`.
pub type Properties = BTreeMap<String, String>;

/// What the config topic says, as of `offset`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClusterConfigState {
    /// Offset of the next record to read from the config topic (Kafka Connect's config offset).
    pub offset: i64,
    /// The latest session key.
    pub session_key: Option<SessionKey>,
    /// Connector configs by name.
    pub connector_configs: BTreeMap<String, Properties>,
    /// Target states by connector (STARTED unless a record says otherwise).
    pub target_states: BTreeMap<String, TargetState>,
    /// Committed task counts by connector.
    pub task_counts: BTreeMap<String, u32>,
    /// Committed task configs by (connector, task).
    pub task_configs: BTreeMap<(String, u32), Properties>,
    /// Connectors whose last commit found an incomplete set of task configs.
    pub inconsistent: BTreeSet<String>,
    /// Task count records (`tasks-fencing-<name>`) by connector.
    pub task_count_records: BTreeMap<String, u32>,
    /// Connectors whose task configs were committed after their last task count record.
    pub pending_fencing: BTreeSet<String>,
    /// The latest restart request per connector.
    pub restart_requests: BTreeMap<String, RestartRequest>,
    /// Cluster-wide logger levels by namespace, with the offset they were read at.
    pub logger_levels: BTreeMap<String, (String, i64)>,
}

impl ClusterConfigState {
    /// The committed task configs of `connector`, task 0 first; empty when none are committed
    /// or the connector is inconsistent.
    pub fn tasks(&self, connector: &str) -> Vec<Properties> {
        if self.inconsistent.contains(connector) {
            return Vec::new();
        }
        let count = self.task_counts.get(connector).copied().unwrap_or(0);
        (0..count).filter_map(|t| self.task_configs.get(&(connector.to_owned(), t)).cloned()).collect()
    }

    /// The target state of `connector`, if it exists.
    pub fn target_state(&self, connector: &str) -> Option<TargetState> {
        self.connector_configs
            .contains_key(connector)
            .then(|| self.target_states.get(connector).copied().unwrap_or(TargetState::Started))
    }
}

/// The state plus the task configs read but not committed yet.
#[derive(Debug, Default)]
pub(crate) struct ConfigState {
    pub(crate) view: ClusterConfigState,
    deferred: BTreeMap<String, BTreeMap<u32, Properties>>,
}

impl ConfigState {
    /// Applies one record of the config topic; a record that cannot be read is logged and
    /// skipped.
    pub(crate) fn apply(&mut self, topic: &str, record: &LogRecord) {
        self.view.offset = record.offset + 1;
        let Some(key) = record.key.as_deref().and_then(|k| std::str::from_utf8(k).ok()) else {
            tracing::warn!(topic, offset = record.offset, "skipping a config record without a UTF-8 key");
            return;
        };
        let value = match parse_json(record.value.as_deref()) {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(topic, key, offset = record.offset, "skipping a corrupt config record: {e}");
                return;
            }
        };
        if let Err(e) = self.apply_value(key, value, record.offset) {
            tracing::error!(topic, key, offset = record.offset, "skipping a config record: {e}");
        }
    }

    fn apply_value(&mut self, key: &str, value: Option<Json>, offset: i64) -> Result<(), String> {
        // The order of these checks is Kafka Connect's; it matters for names such as
        // "target-state-x", which also starts with neither "connector-" nor "task-".
        if let Some(name) = key.strip_prefix("target-state-") {
            self.target_state(name, value)
        } else if let Some(name) = key.strip_prefix("connector-") {
            self.connector_config(name, value)
        } else if key.starts_with("task-") {
            let (name, task) = parse_task_key(key, 1).ok_or("the key cannot be parsed as a task config key")?;
            let props = properties(&value.ok_or("task config is unexpectedly null")?)?;
            self.deferred.entry(name).or_default().insert(task, props);
            Ok(())
        } else if let Some(name) = key.strip_prefix("commit-") {
            self.commit(name, value)
        } else if let Some(name) = key.strip_prefix("restart-connector-") {
            let v = object(value.as_ref())?;
            let flag = |f: &str, default: bool| v.get(f).and_then(Json::as_bool).unwrap_or(default);
            let request = RestartRequest {
                connector: name.to_owned(),
                only_failed: flag("only-failed", false),
                include_tasks: flag("include-tasks", false),
                offset,
            };
            self.view.restart_requests.insert(name.to_owned(), request);
            Ok(())
        } else if let Some(name) = key.strip_prefix("tasks-fencing-") {
            let count = count_field(object(value.as_ref())?, "task-count")?;
            self.view.task_count_records.insert(name.to_owned(), count);
            self.view.pending_fencing.remove(name);
            Ok(())
        } else if key == "session-key" {
            self.view.session_key = Some(session_key(object(value.as_ref())?)?);
            Ok(())
        } else if let Some(ns) = key.strip_prefix("logger-cluster-") {
            let level = object(value.as_ref())?
                .get("level")
                .and_then(Json::as_str)
                .ok_or("field \"level\" should be a string")?;
            self.view.logger_levels.insert(ns.to_owned(), (level.to_owned(), offset));
            Ok(())
        } else {
            tracing::warn!(key, offset, "discarding a config record with an unknown key");
            Ok(())
        }
    }

    fn target_state(&mut self, name: &str, value: Option<Json>) -> Result<(), String> {
        let Some(value) = value else {
            self.view.target_states.remove(name);
            if self.view.connector_configs.contains_key(name) {
                self.view.target_states.insert(name.to_owned(), TargetState::Started);
            }
            return Ok(());
        };
        let v = object(Some(&value))?;
        let state = match v.get("state.v2").and_then(Json::as_str) {
            Some(s) => s,
            None => v.get("state").and_then(Json::as_str).ok_or("field \"state\" should be a string")?,
        };
        let state = TargetState::parse(state).ok_or_else(|| format!("invalid target state {state}"))?;
        self.view.target_states.insert(name.to_owned(), state);
        Ok(())
    }

    fn connector_config(&mut self, name: &str, value: Option<Json>) -> Result<(), String> {
        match value {
            None => {
                self.remove_connector(name);
                Ok(())
            }
            Some(v) => {
                let props = properties(&v)?;
                self.view.connector_configs.insert(name.to_owned(), props);
                self.view.target_states.entry(name.to_owned()).or_insert(TargetState::Started);
                Ok(())
            }
        }
    }

    fn commit(&mut self, name: &str, value: Option<Json>) -> Result<(), String> {
        if !self.view.connector_configs.contains_key(name) {
            // Deleted before its tasks were committed, and compaction removed the traces.
            self.remove_connector(name);
            return Ok(());
        }
        let count = count_field(object(value.as_ref())?, "tasks")?;
        let deferred = self.deferred.remove(name).unwrap_or_default();
        if (0..count).all(|t| deferred.contains_key(&t)) {
            for (task, props) in deferred {
                self.view.task_configs.insert((name.to_owned(), task), props);
            }
            self.view.inconsistent.remove(name);
        } else {
            tracing::warn!(
                connector = name,
                tasks = count,
                "incomplete set of task configs at commit (compaction or a failed write); keeping the previous ones"
            );
            self.view.inconsistent.insert(name.to_owned());
        }
        // Task configs beyond the committed count are stale: drop them to stay bounded.
        self.view.task_configs.retain(|(c, t), _| c != name || *t < count);
        self.view.task_counts.insert(name.to_owned(), count);
        self.view.pending_fencing.insert(name.to_owned());
        Ok(())
    }

    fn remove_connector(&mut self, name: &str) {
        self.view.connector_configs.remove(name);
        self.view.task_counts.remove(name);
        self.view.task_configs.retain(|(c, _), _| c != name);
        self.view.inconsistent.remove(name);
        self.deferred.remove(name);
    }
}

/// `task-<name>-<n>` (skip = 1) or `status-task-<name>-<n>` (skip = 2): Kafka Connect splits on
/// `-`, drops `skip` leading parts and takes the last one as the task number.
pub(crate) fn parse_task_key(key: &str, skip: usize) -> Option<(String, u32)> {
    let parts: Vec<&str> = key.split('-').collect();
    if parts.len() < skip + 2 {
        return None;
    }
    let task = parts.last()?.parse().ok()?;
    Some((parts[skip..parts.len() - 1].join("-"), task))
}

fn object(value: Option<&Json>) -> Result<&Map<String, Json>, String> {
    match value {
        Some(Json::Object(m)) => Ok(m),
        Some(other) => Err(format!("value should be an object but is {other}")),
        None => Err("value is unexpectedly null".into()),
    }
}

fn properties(value: &Json) -> Result<Properties, String> {
    let props = object(Some(value))?.get("properties").ok_or("field \"properties\" is missing")?;
    let Json::Object(props) = props else {
        return Err(format!("field \"properties\" should be an object but is {props}"));
    };
    props
        .iter()
        .filter_map(|(k, v)| match v {
            Json::String(s) => Some(Ok((k.clone(), s.clone()))),
            // Kafka Connect allows null values in the map; a missing key reads the same.
            Json::Null => None,
            other => Some(Err(format!("property {k} should be a string but is {other}"))),
        })
        .collect()
}

fn count_field(obj: &Map<String, Json>, field: &str) -> Result<u32, String> {
    let n = int_field(obj, field)?;
    u32::try_from(n).map_err(|_| format!("field \"{field}\" should be a count but is {n}"))
}

fn session_key(v: &Map<String, Json>) -> Result<SessionKey, String> {
    let s =
        |f: &str| v.get(f).and_then(Json::as_str).map(str::to_owned).ok_or(format!("field \"{f}\" should be a string"));
    Ok(SessionKey {
        key: s("key")?,
        algorithm: s("algorithm")?,
        creation_timestamp: int_field(v, "creation-timestamp")?,
    })
}

/// The config store on `config.storage.topic`.
#[derive(Debug)]
pub struct KafkaConfigStore {
    log: KafkaBasedLog,
    state: Arc<Mutex<ConfigState>>,
    updates: watch::Receiver<i64>,
}

impl KafkaConfigStore {
    /// Creates or checks the topic (exactly one partition, compacted) and reads it to the end.
    pub async fn start(settings: &StoreSettings) -> StoreResult<Self> {
        let state = Arc::new(Mutex::new(ConfigState::default()));
        let (tx, updates) = watch::channel(0);
        let (shared, topic) = (Arc::clone(&state), settings.topic.clone());
        let callback = Box::new(move |r: &LogRecord| {
            let mut s = lock(&shared);
            s.apply(&topic, r);
            tx.send_replace(s.view.offset);
        });
        let log = KafkaBasedLog::start(TopicKind::Config, settings, callback).await?;
        Ok(Self { log, state, updates })
    }

    /// A copy of the current state.
    pub fn snapshot(&self) -> ClusterConfigState {
        lock(&self.state).view.clone()
    }

    /// Changes to the config offset: wakes whoever waits for updates.
    pub fn updates(&self) -> watch::Receiver<i64> {
        self.updates.clone()
    }

    /// Waits until every write made before this call has been read.
    pub async fn read_to_end(&self) -> StoreResult<()> {
        self.log.read_to_end().await
    }

    /// Writes a connector config (and a target state first, if given), then reads it back.
    pub async fn put_connector_config(
        &self,
        name: &str,
        props: &Properties,
        target: Option<TargetState>,
    ) -> StoreResult<()> {
        let mut records = Vec::new();
        if let Some(t) = target {
            records.push(record(format!("target-state-{name}"), Some(target_state_value(t))));
        }
        records.push(record(format!("connector-{name}"), Some(json!({ "properties": props }))));
        self.log.send_all(&records).await?;
        self.log.read_to_end().await
    }

    /// Deletes a connector: tombstones for its config and target state.
    pub async fn remove_connector_config(&self, name: &str) -> StoreResult<()> {
        let records = [record(format!("connector-{name}"), None), record(format!("target-state-{name}"), None)];
        self.log.send_all(&records).await?;
        self.log.read_to_end().await
    }

    /// Writes the task configs of a connector, then the commit record that makes them visible.
    pub async fn put_task_configs(&self, name: &str, tasks: &[Properties]) -> StoreResult<()> {
        let records: Vec<_> = tasks
            .iter()
            .enumerate()
            .map(|(i, p)| record(format!("task-{name}-{i}"), Some(json!({ "properties": p }))))
            .collect();
        self.log.send_all(&records).await?;
        if !records.is_empty() {
            self.log.read_to_end().await?;
        }
        self.log.send_all(&[record(format!("commit-{name}"), Some(json!({ "tasks": tasks.len() })))]).await?;
        self.log.read_to_end().await
    }

    /// Writes a target state (acknowledged, not read back, as Kafka Connect).
    pub async fn put_target_state(&self, name: &str, state: TargetState) -> StoreResult<()> {
        self.log.send_all(&[record(format!("target-state-{name}"), Some(target_state_value(state)))]).await
    }

    /// Writes a task count record (exactly-once sources), then reads it back.
    pub async fn put_task_count_record(&self, name: &str, count: u32) -> StoreResult<()> {
        self.log.send_all(&[record(format!("tasks-fencing-{name}"), Some(json!({ "task-count": count })))]).await?;
        self.log.read_to_end().await
    }

    /// Writes a session key, then reads it back.
    pub async fn put_session_key(&self, key: &SessionKey) -> StoreResult<()> {
        let value = json!({"key": key.key, "algorithm": key.algorithm, "creation-timestamp": key.creation_timestamp});
        self.log.send_all(&[record("session-key".into(), Some(value))]).await?;
        self.log.read_to_end().await
    }

    /// Writes a restart request, then reads it back.
    pub async fn put_restart_request(
        &self,
        connector: &str,
        only_failed: bool,
        include_tasks: bool,
    ) -> StoreResult<()> {
        let value = json!({"include-tasks": include_tasks, "only-failed": only_failed});
        self.log.send_all(&[record(format!("restart-connector-{connector}"), Some(value))]).await?;
        self.log.read_to_end().await
    }

    /// Writes a cluster-wide logger level.
    pub async fn put_logger_level(&self, namespace: &str, level: &str) -> StoreResult<()> {
        self.log.send_all(&[record(format!("logger-cluster-{namespace}"), Some(json!({ "level": level })))]).await
    }

    /// Stops the reader.
    pub fn stop(&self) {
        self.log.stop();
    }
}

/// Kafka Connect's target state value: `state` for older workers (STOPPED reads as PAUSED there).
pub(crate) fn target_state_value(state: TargetState) -> Json {
    let v1 = if state == TargetState::Stopped { TargetState::Paused } else { state };
    json!({"state": v1.as_str(), "state.v2": state.as_str()})
}

fn record(key: String, value: Option<Json>) -> (Vec<u8>, Option<Vec<u8>>) {
    (key.into_bytes(), value.map(|v| v.to_string().into_bytes()))
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A callback that panicked leaves a state that is still a valid view of the records it applied.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
