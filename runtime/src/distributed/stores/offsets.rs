//! The offset store on `offset.storage.topic`, in Kafka Connect's format
//! (`KafkaOffsetBackingStore` with the JSON converter, schemas disabled): key
//! `["<connector>",{source partition}]`, value `{source offset}` or null when removed.
//!
//! Lookups match keys by their JSON meaning, not their bytes, so the order of fields in a
//! partition map does not matter. A write reuses the exact key bytes last read for the same
//! partition (written by Kafka Connect, say), so both land on the same topic partition and
//! compact together. `put` and `alter` are durable when the broker acknowledged them; `get` and
//! `list` first read the topic to its end, so they see every write acknowledged before the call,
//! by any worker.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::{Value as Json, json};

use super::config::lock;
use super::log::{KafkaBasedLog, LogRecord};
use super::topics::TopicKind;
use super::{StoreResult, StoreSettings, parse_json};
use crate::api::{ConnectResult, OffsetMap};
use crate::worker::offsets::{OffsetRecords, OffsetStore};

/// One stored offset.
#[derive(Clone, Debug, PartialEq)]
struct Entry {
    raw_key: Vec<u8>,
    connector: String,
    partition: OffsetMap,
    offset: OffsetMap,
}

/// Offsets by canonical key (the JSON key with object fields sorted).
#[derive(Debug, Default)]
pub(crate) struct OffsetState {
    entries: BTreeMap<String, Entry>,
}

impl OffsetState {
    pub(crate) fn apply(&mut self, topic: &str, record: &LogRecord) {
        let Some(raw_key) = record.key.as_deref() else {
            tracing::warn!(
                topic,
                partition = record.partition,
                offset = record.offset,
                "skipping an offset record without a key"
            );
            return;
        };
        match parse_record(raw_key, record.value.as_deref()) {
            Ok((connector, partition, offset)) => {
                let canonical = canonical_key(&connector, &partition);
                match offset {
                    Some(offset) => {
                        let raw_key = raw_key.to_vec();
                        self.entries.insert(canonical, Entry { raw_key, connector, partition, offset });
                    }
                    None => {
                        self.entries.remove(&canonical);
                    }
                }
            }
            Err(e) => tracing::error!(
                topic,
                key = %String::from_utf8_lossy(raw_key),
                partition = record.partition,
                offset = record.offset,
                "skipping an offset record: {e}"
            ),
        }
    }

    pub(crate) fn get(&self, connector: &str, partition: &OffsetMap) -> Option<OffsetMap> {
        self.entries.get(&canonical_key(connector, partition)).map(|e| e.offset.clone())
    }

    pub(crate) fn list(&self, connector: &str) -> Vec<(OffsetMap, OffsetMap)> {
        self.entries
            .values()
            .filter(|e| e.connector == connector)
            .map(|e| (e.partition.clone(), e.offset.clone()))
            .collect()
    }

    /// The key bytes to write for this partition: those already in the topic, if any.
    fn raw_key(&self, connector: &str, partition: &OffsetMap) -> Vec<u8> {
        self.entries
            .get(&canonical_key(connector, partition))
            .map_or_else(|| json!([connector, partition]).to_string().into_bytes(), |e| e.raw_key.clone())
    }
}

/// Reads a record of the offset topic: (connector, source partition, source offset or removed).
pub(crate) fn parse_record(key: &[u8], value: Option<&[u8]>) -> Result<(String, OffsetMap, Option<OffsetMap>), String> {
    let key: Json = serde_json::from_slice(key).map_err(|e| format!("key is not JSON ({e})"))?;
    let Json::Array(parts) = key else {
        return Err(format!("key should be a [connector, partition] array but is {key}"));
    };
    let [Json::String(connector), partition] = parts.as_slice() else {
        return Err("key should be a [connector name, partition] array of two".into());
    };
    let partition = match partition {
        Json::Object(p) => p.clone(),
        Json::Null => OffsetMap::new(),
        other => return Err(format!("source partition should be an object but is {other}")),
    };
    let offset = match parse_json(value)? {
        None | Some(Json::Null) => None,
        Some(Json::Object(o)) => Some(o),
        Some(other) => return Err(format!("source offset should be an object but is {other}")),
    };
    Ok((connector.clone(), partition, offset))
}

/// The key as JSON with every object's fields sorted: equal for equal meanings.
pub(crate) fn canonical_key(connector: &str, partition: &OffsetMap) -> String {
    fn sorted(v: &Json) -> Json {
        match v {
            Json::Object(m) => {
                let fields: BTreeMap<&String, Json> = m.iter().map(|(k, v)| (k, sorted(v))).collect();
                Json::Object(fields.into_iter().map(|(k, v)| (k.clone(), v)).collect())
            }
            Json::Array(a) => Json::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    json!([connector, sorted(&Json::Object(partition.clone()))]).to_string()
}

/// Source offsets in Kafka, readable by Kafka Connect workers and written in their format.
#[derive(Debug)]
pub struct KafkaOffsetStore {
    log: KafkaBasedLog,
    state: Arc<Mutex<OffsetState>>,
    settings: StoreSettings,
    /// Stores on connectors' own topics (`offsets.storage.topic`), opened on first use and
    /// shared by every task of those connectors on this worker.
    connector_stores: tokio::sync::Mutex<BTreeMap<String, Arc<KafkaOffsetStore>>>,
}

impl KafkaOffsetStore {
    /// Creates or checks the topic (compacted, `settings.partitions`) and reads it to the end.
    pub async fn start(settings: &StoreSettings) -> StoreResult<Self> {
        let state = Arc::new(Mutex::new(OffsetState::default()));
        let (shared, topic) = (Arc::clone(&state), settings.topic.clone());
        let callback = Box::new(move |r: &LogRecord| lock(&shared).apply(&topic, r));
        let log = KafkaBasedLog::start(TopicKind::Offset, settings, callback).await?;
        Ok(Self { log, state, settings: settings.clone(), connector_stores: Default::default() })
    }

    /// Waits until every write made before this call has been read.
    pub async fn read_to_end(&self) -> StoreResult<()> {
        self.log.read_to_end().await
    }

    /// Every connector with stored offsets.
    pub fn connectors(&self) -> Vec<String> {
        let s = lock(&self.state);
        let mut names: Vec<String> = s.entries.values().map(|e| e.connector.clone()).collect();
        names.dedup();
        names.sort();
        names.dedup();
        names
    }

    async fn write(&self, connector: &str, changes: Vec<(OffsetMap, Option<OffsetMap>)>) -> StoreResult<()> {
        let records: Vec<(Vec<u8>, Option<Vec<u8>>)> = {
            let s = lock(&self.state);
            changes
                .into_iter()
                .map(|(p, o)| (s.raw_key(connector, &p), o.map(|o| Json::Object(o).to_string().into_bytes())))
                .collect()
        };
        self.log.send_all(&records).await
    }

    /// Stops the reader, and those of the connectors' own topics.
    pub fn stop(&self) {
        self.log.stop();
        if let Ok(stores) = self.connector_stores.try_lock() {
            stores.values().for_each(|s| s.stop());
        }
    }
}

#[async_trait]
impl OffsetStore for KafkaOffsetStore {
    async fn get(&self, connector: &str, partition: &OffsetMap) -> ConnectResult<Option<OffsetMap>> {
        self.log.read_to_end().await?;
        Ok(lock(&self.state).get(connector, partition))
    }

    async fn put(&self, connector: &str, offsets: Vec<(OffsetMap, OffsetMap)>) -> ConnectResult<()> {
        Ok(self.write(connector, offsets.into_iter().map(|(p, o)| (p, Some(o))).collect()).await?)
    }

    async fn list(&self, connector: &str) -> ConnectResult<Vec<(OffsetMap, OffsetMap)>> {
        self.log.read_to_end().await?;
        Ok(lock(&self.state).list(connector))
    }

    fn records(&self, connector: &str, offsets: &[(OffsetMap, OffsetMap)]) -> Option<OffsetRecords> {
        let s = lock(&self.state);
        let records = offsets
            .iter()
            .map(|(p, o)| (s.raw_key(connector, p), Json::Object(o.clone()).to_string().into_bytes()))
            .collect();
        Some(OffsetRecords { topic: self.log.topic().to_owned(), records })
    }

    async fn alter(&self, connector: &str, changes: Vec<(OffsetMap, Option<OffsetMap>)>) -> ConnectResult<()> {
        self.write(connector, changes).await?;
        // Alterations are followed by reads (REST GET offsets): make them visible at once.
        Ok(self.log.read_to_end().await?)
    }

    fn topic(&self) -> Option<&str> {
        Some(&self.settings.topic)
    }

    async fn on_topic(&self, topic: &str) -> ConnectResult<Option<Arc<dyn OffsetStore>>> {
        let mut stores = self.connector_stores.lock().await;
        if let Some(store) = stores.get(topic) {
            return Ok(Some(store.clone()));
        }
        // Made as the worker's own offset topic is (partitions, replication, configs).
        let settings = StoreSettings { topic: topic.to_owned(), ..self.settings.clone() };
        let store = Arc::new(Self::start(&settings).await?);
        tracing::info!(topic, "reading a connector's own offsets topic");
        stores.insert(topic.to_owned(), store.clone());
        Ok(Some(store))
    }
}
