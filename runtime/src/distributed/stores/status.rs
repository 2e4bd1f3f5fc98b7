//! The status store on `status.storage.topic`, in Kafka Connect's formats
//! (`KafkaStatusBackingStore`): `status-connector-<name>` and `status-task-<name>-<n>` hold
//! `{"state","trace","worker_id","generation"}`, null once the connector is deleted;
//! `status-topic-<topic>:connector-<name>` holds the topics a connector used (KIP-558) as
//! `{"topic":{"name","connector","task","discoverTimestamp"}}`.
//!
//! As in Kafka Connect, an UNASSIGNED task status read after a RUNNING one of the same or a later
//! generation is stale and ignored, and a "safe" write is skipped when another worker wrote a
//! later generation.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value as Json, json};

use super::config::{lock, parse_task_key};
use super::log::{KafkaBasedLog, LogRecord};
use super::topics::TopicKind;
use super::{StoreResult, StoreSettings, int_field, parse_json};

/// A connector's or task's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Not assigned to a worker.
    Unassigned,
    /// Running.
    Running,
    /// Paused.
    Paused,
    /// Failed; the trace says why.
    Failed,
    /// Being restarted.
    Restarting,
    /// Stopped (connectors only).
    Stopped,
    /// Deleted: written as a tombstone, never stored.
    Destroyed,
}

impl State {
    /// Kafka Connect's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unassigned => "UNASSIGNED",
            Self::Running => "RUNNING",
            Self::Paused => "PAUSED",
            Self::Failed => "FAILED",
            Self::Restarting => "RESTARTING",
            Self::Stopped => "STOPPED",
            Self::Destroyed => "DESTROYED",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Unassigned, Self::Running, Self::Paused, Self::Failed, Self::Restarting, Self::Stopped, Self::Destroyed]
            .into_iter()
            .find(|st| st.as_str() == s)
    }
}

/// A connector's or task's status as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// The state.
    pub state: State,
    /// The error's stack trace, for FAILED.
    pub trace: Option<String>,
    /// The worker reporting it (`host:port`).
    pub worker_id: String,
    /// The group generation it was reported in.
    pub generation: i32,
}

/// A topic a connector used (KIP-558).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicStatus {
    /// The topic.
    pub topic: String,
    /// The connector.
    pub connector: String,
    /// The task that first used it.
    pub task: i32,
    /// When, epoch milliseconds.
    pub discover_timestamp: i64,
}

/// What the status topic says.
#[derive(Clone, Debug, Default)]
pub(crate) struct StatusState {
    pub(crate) connectors: BTreeMap<String, Status>,
    pub(crate) tasks: BTreeMap<(String, u32), Status>,
    pub(crate) topics: BTreeMap<String, BTreeMap<String, TopicStatus>>,
}

impl StatusState {
    pub(crate) fn apply(&mut self, topic: &str, record: &LogRecord) {
        let Some(key) = record.key.as_deref().and_then(|k| std::str::from_utf8(k).ok()) else {
            tracing::warn!(topic, offset = record.offset, "skipping a status record without a UTF-8 key");
            return;
        };
        if let Err(e) = self.apply_value(key, record.value.as_deref()) {
            tracing::warn!(
                topic,
                key,
                partition = record.partition,
                offset = record.offset,
                "skipping a status record: {e}"
            );
        }
    }

    fn apply_value(&mut self, key: &str, value: Option<&[u8]>) -> Result<(), String> {
        let value = parse_json(value)?;
        if let Some(name) = key.strip_prefix("status-connector-") {
            if name.is_empty() {
                return Err("invalid connector status key".into());
            }
            match value {
                None => {
                    self.connectors.remove(name);
                    self.tasks.retain(|(c, _), _| c != name);
                }
                Some(v) => {
                    self.connectors.insert(name.to_owned(), parse_status(&v)?);
                }
            }
        } else if key.starts_with("status-task-") {
            let id = parse_task_key(key, 2).ok_or("invalid task status key")?;
            match value {
                None => {
                    self.tasks.remove(&id);
                }
                Some(v) => {
                    let status = parse_status(&v)?;
                    let stale = status.state == State::Unassigned
                        && self
                            .tasks
                            .get(&id)
                            .is_some_and(|s| s.state == State::Running && s.generation >= status.generation);
                    if !stale {
                        self.tasks.insert(id, status);
                    }
                }
            }
        } else if let Some(rest) = key.strip_prefix("status-topic-") {
            let (topic, connector) = rest.split_once(":connector-").ok_or("invalid topic status key")?;
            if topic.is_empty() || connector.is_empty() {
                return Err("invalid topic status key with an empty topic or connector".into());
            }
            match value {
                None => {
                    if let Some(t) = self.topics.get_mut(connector) {
                        t.remove(topic);
                        if t.is_empty() {
                            self.topics.remove(connector);
                        }
                    }
                }
                Some(v) => {
                    let status = parse_topic_status(&v)?;
                    self.topics.entry(connector.to_owned()).or_default().insert(topic.to_owned(), status);
                }
            }
        } else {
            return Err("unknown key".into());
        }
        Ok(())
    }
}

fn as_object(v: &Json) -> Result<&Map<String, Json>, String> {
    v.as_object().ok_or_else(|| format!("value should be an object but is {v}"))
}

pub(crate) fn parse_status(v: &Json) -> Result<Status, String> {
    let m = as_object(v)?;
    let state = m.get("state").and_then(Json::as_str).ok_or("field \"state\" should be a string")?;
    let state = State::parse(state).ok_or_else(|| format!("unknown state {state}"))?;
    let trace = match m.get("trace") {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(s.clone()),
        Some(other) => return Err(format!("field \"trace\" should be a string but is {other}")),
    };
    let worker_id =
        m.get("worker_id").and_then(Json::as_str).ok_or("field \"worker_id\" should be a string")?.to_owned();
    let generation = i32::try_from(int_field(m, "generation")?).map_err(|_| "field \"generation\" is out of range")?;
    Ok(Status { state, trace, worker_id, generation })
}

pub(crate) fn parse_topic_status(v: &Json) -> Result<TopicStatus, String> {
    let inner = as_object(v)?.get("topic").ok_or("field \"topic\" is missing")?;
    let m = as_object(inner)?;
    let s =
        |f: &str| m.get(f).and_then(Json::as_str).map(str::to_owned).ok_or(format!("field \"{f}\" should be a string"));
    Ok(TopicStatus {
        topic: s("name")?,
        connector: s("connector")?,
        task: i32::try_from(int_field(m, "task")?).map_err(|_| "field \"task\" is out of range")?,
        discover_timestamp: int_field(m, "discoverTimestamp")?,
    })
}

pub(crate) fn status_value(status: &Status) -> Option<Json> {
    if status.state == State::Destroyed {
        return None;
    }
    // The optional trace is written as null when absent, as Kafka Connect's JsonConverter does.
    Some(
        json!({"state": status.state.as_str(), "trace": status.trace, "worker_id": status.worker_id, "generation": status.generation}),
    )
}

/// Statuses of connectors, tasks and their topics, shared by every worker.
#[derive(Debug)]
pub struct KafkaStatusStore {
    log: KafkaBasedLog,
    state: Arc<Mutex<StatusState>>,
}

impl KafkaStatusStore {
    /// Creates or checks the topic (compacted, `settings.partitions`) and reads it to the end.
    pub async fn start(settings: &StoreSettings) -> StoreResult<Self> {
        let state = Arc::new(Mutex::new(StatusState::default()));
        let (shared, topic) = (Arc::clone(&state), settings.topic.clone());
        let callback = Box::new(move |r: &LogRecord| lock(&shared).apply(&topic, r));
        let log = KafkaBasedLog::start(TopicKind::Status, settings, callback).await?;
        Ok(Self { log, state })
    }

    /// Waits until every write made before this call has been read.
    pub async fn read_to_end(&self) -> StoreResult<()> {
        self.log.read_to_end().await
    }

    /// Writes a connector's status (DESTROYED: a tombstone).
    pub async fn put_connector(&self, connector: &str, status: &Status) -> StoreResult<()> {
        self.send(format!("status-connector-{connector}"), status_value(status)).await
    }

    /// Writes a task's status (DESTROYED: a tombstone).
    pub async fn put_task(&self, connector: &str, task: u32, status: &Status) -> StoreResult<()> {
        self.send(format!("status-task-{connector}-{task}"), status_value(status)).await
    }

    /// Writes a task's status unless the stored one comes from another worker in a later
    /// generation (Kafka Connect's `putSafe`); returns whether it was written.
    pub async fn put_task_safe(&self, connector: &str, task: u32, status: &Status) -> StoreResult<bool> {
        let safe = lock(&self.state)
            .tasks
            .get(&(connector.to_owned(), task))
            .is_none_or(|s| s.worker_id == status.worker_id || s.generation <= status.generation);
        if safe {
            self.put_task(connector, task, status).await?;
        }
        Ok(safe)
    }

    /// Records that `connector` used `status.topic` (KIP-558).
    pub async fn put_topic(&self, status: &TopicStatus) -> StoreResult<()> {
        let value = json!({"topic": {
            "name": status.topic, "connector": status.connector, "task": status.task,
            "discoverTimestamp": status.discover_timestamp,
        }});
        self.send(format!("status-topic-{}:connector-{}", status.topic, status.connector), Some(value)).await
    }

    /// Forgets that `connector` used `topic` (a tombstone).
    pub async fn delete_topic(&self, connector: &str, topic: &str) -> StoreResult<()> {
        self.send(format!("status-topic-{topic}:connector-{connector}"), None).await
    }

    async fn send(&self, key: String, value: Option<Json>) -> StoreResult<()> {
        self.log.send(key.as_bytes(), value.map(|v| v.to_string().into_bytes()).as_deref()).await
    }

    /// The status of `connector`.
    pub fn connector(&self, connector: &str) -> Option<Status> {
        lock(&self.state).connectors.get(connector).cloned()
    }

    /// The status of a task.
    pub fn task(&self, connector: &str, task: u32) -> Option<Status> {
        lock(&self.state).tasks.get(&(connector.to_owned(), task)).cloned()
    }

    /// The statuses of `connector`'s tasks, by task number.
    pub fn tasks(&self, connector: &str) -> BTreeMap<u32, Status> {
        let s = lock(&self.state);
        s.tasks.iter().filter(|((c, _), _)| c == connector).map(|((_, t), st)| (*t, st.clone())).collect()
    }

    /// Connectors with a status.
    pub fn connectors(&self) -> Vec<String> {
        lock(&self.state).connectors.keys().cloned().collect()
    }

    /// The topics `connector` used.
    pub fn topics(&self, connector: &str) -> Vec<TopicStatus> {
        lock(&self.state).topics.get(connector).map(|t| t.values().cloned().collect()).unwrap_or_default()
    }

    /// Stops the reader.
    pub fn stop(&self) {
        self.log.stop();
    }
}
