//! Source offset storage.
//!
//! Offsets are keyed as in Kafka Connect's offset topic: the JSON array
//! `["<connector>", {source partition}]`, with the source offset map as value. The standalone
//! store keeps them in memory and writes the whole set to `offset.storage.file.filename`
//! atomically on every flush: a temporary file beside it, fsync, rename over the old file,
//! fsync of the directory. A crash at any point leaves either the old or the new file, never a
//! torn one. (Kafka Connect's own file holds Java-serialized maps; Tributary's holds JSON.)

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value as Json, json};
use tokio::sync::Mutex;

use crate::api::{ConnectError, ConnectResult, OffsetMap, OffsetReader, Props};

/// Where source offsets are kept.
#[async_trait]
pub trait OffsetStore: Send + Sync + std::fmt::Debug {
    /// The stored offset of `partition` for `connector`.
    async fn get(&self, connector: &str, partition: &OffsetMap) -> ConnectResult<Option<OffsetMap>>;
    /// Stores these offsets; durable when this returns.
    async fn put(&self, connector: &str, offsets: Vec<(OffsetMap, OffsetMap)>) -> ConnectResult<()>;
    /// Every stored (partition, offset) of `connector`.
    async fn list(&self, connector: &str) -> ConnectResult<Vec<(OffsetMap, OffsetMap)>>;
    /// Sets (`Some`) or removes (`None`) offsets of `connector`; durable when this returns.
    async fn alter(&self, connector: &str, changes: Vec<(OffsetMap, Option<OffsetMap>)>) -> ConnectResult<()>;
    /// The records that would store these offsets, for a task to write them itself in its own
    /// transaction (exactly-once sources): the topic and each (key, value). `None`: this store
    /// is not a Kafka topic.
    fn records(&self, _connector: &str, _offsets: &[(OffsetMap, OffsetMap)]) -> Option<OffsetRecords> {
        None
    }
    /// Offsets a task just committed in its own transaction with [`OffsetStore::records`]:
    /// a store that also keeps them elsewhere writes them there now.
    async fn committed_elsewhere(&self, _connector: &str, _offsets: Vec<(OffsetMap, OffsetMap)>) -> ConnectResult<()> {
        Ok(())
    }
    /// The Kafka topic this store keeps its offsets in, if it is one.
    fn topic(&self) -> Option<&str> {
        None
    }
    /// A store of the same kind on another topic, for a connector with its own
    /// `offsets.storage.topic`; `None` when this store has no topics (standalone).
    async fn on_topic(&self, _topic: &str) -> ConnectResult<Option<Arc<dyn OffsetStore>>> {
        Ok(None)
    }
}

/// The connector key naming a connector's own offsets topic (KIP-618).
pub const CONNECTOR_TOPIC_KEY: &str = "offsets.storage.topic";

/// The offset store of a connector, as its config asks: the worker's, or (distributed workers,
/// `offsets.storage.topic` set) one on the connector's own topic backed by the worker's.
pub async fn for_connector(worker: &Arc<dyn OffsetStore>, config: &Props) -> ConnectResult<Arc<dyn OffsetStore>> {
    let name = config.get("name").map(String::as_str).unwrap_or_default();
    on_connector_topic(worker, name, connector_topic(config)).await
}

/// The connector's own offsets topic, if its config names one.
pub fn connector_topic(config: &Props) -> Option<&str> {
    config.get(CONNECTOR_TOPIC_KEY).map(|t| t.trim()).filter(|t| !t.is_empty())
}

/// The offset store of `connector` whose own offsets topic is `topic` (see [`for_connector`]).
pub async fn on_connector_topic(
    worker: &Arc<dyn OffsetStore>,
    connector: &str,
    topic: Option<&str>,
) -> ConnectResult<Arc<dyn OffsetStore>> {
    let Some(topic) = topic else { return Ok(worker.clone()) };
    if worker.topic() == Some(topic) {
        return Ok(worker.clone());
    }
    match worker.on_topic(topic).await? {
        Some(own) => Ok(Arc::new(ConnectorOffsetStore { own, worker: worker.clone() })),
        None => {
            // As in Kafka Connect, the key has no effect in standalone mode.
            tracing::debug!(
                connector,
                "{CONNECTOR_TOPIC_KEY} is used by distributed workers only; this worker keeps the connector's offsets \
                 with its own"
            );
            Ok(worker.clone())
        }
    }
}

/// A connector's offsets on its own topic, backed by the worker's topic as Kafka Connect's
/// `ConnectorOffsetBackingStore` is: reads prefer the connector's topic and fall back to the
/// worker's (offsets stored before the connector had its own topic); writes go to the
/// connector's topic, then to the worker's; alterations and resets go to both, so a reset
/// offset does not come back from the fallback.
#[derive(Debug)]
struct ConnectorOffsetStore {
    own: Arc<dyn OffsetStore>,
    worker: Arc<dyn OffsetStore>,
}

impl ConnectorOffsetStore {
    /// Copies offsets to the worker's topic; the connector's own topic holds them already, so
    /// a failure here loses nothing and is only reported.
    async fn copy_to_worker(&self, connector: &str, offsets: Vec<(OffsetMap, OffsetMap)>) {
        if let Err(e) = self.worker.put(connector, offsets).await {
            tracing::warn!(connector, "could not copy source offsets to the worker's offsets topic: {}", e.chain());
        }
    }
}

#[async_trait]
impl OffsetStore for ConnectorOffsetStore {
    async fn get(&self, connector: &str, partition: &OffsetMap) -> ConnectResult<Option<OffsetMap>> {
        match self.own.get(connector, partition).await? {
            Some(offset) => Ok(Some(offset)),
            None => self.worker.get(connector, partition).await,
        }
    }

    async fn put(&self, connector: &str, offsets: Vec<(OffsetMap, OffsetMap)>) -> ConnectResult<()> {
        self.own.put(connector, offsets.clone()).await?;
        self.copy_to_worker(connector, offsets).await;
        Ok(())
    }

    async fn list(&self, connector: &str) -> ConnectResult<Vec<(OffsetMap, OffsetMap)>> {
        let mut all = self.worker.list(connector).await?;
        for (partition, offset) in self.own.list(connector).await? {
            match all.iter_mut().find(|(p, _)| *p == partition) {
                Some(entry) => entry.1 = offset,
                None => all.push((partition, offset)),
            }
        }
        Ok(all)
    }

    async fn alter(&self, connector: &str, changes: Vec<(OffsetMap, Option<OffsetMap>)>) -> ConnectResult<()> {
        self.own.alter(connector, changes.clone()).await?;
        self.worker.alter(connector, changes).await
    }

    fn records(&self, connector: &str, offsets: &[(OffsetMap, OffsetMap)]) -> Option<OffsetRecords> {
        self.own.records(connector, offsets)
    }

    async fn committed_elsewhere(&self, connector: &str, offsets: Vec<(OffsetMap, OffsetMap)>) -> ConnectResult<()> {
        self.copy_to_worker(connector, offsets).await;
        Ok(())
    }

    fn topic(&self) -> Option<&str> {
        self.own.topic()
    }
}

/// Offset records for a Kafka topic: what [`OffsetStore::records`] gives.
#[derive(Debug, Clone)]
pub struct OffsetRecords {
    /// The offset topic.
    pub topic: String,
    /// Each record's key and value bytes, as the store writes them.
    pub records: Vec<(Vec<u8>, Vec<u8>)>,
}

fn list_of(table: &OffsetTable, connector: &str) -> Vec<(OffsetMap, OffsetMap)> {
    table
        .iter()
        .filter_map(|(k, v)| {
            let key: Json = serde_json::from_str(k).ok()?;
            let [c, p] = key.as_array()?.as_slice() else { return None };
            (c.as_str() == Some(connector)).then(|| p.as_object().map(|p| (p.clone(), v.clone()))).flatten()
        })
        .collect()
}

fn alter_all(table: &mut OffsetTable, connector: &str, changes: Vec<(OffsetMap, Option<OffsetMap>)>) {
    for (p, o) in changes {
        match o {
            Some(o) => table.insert(key(connector, &p), o),
            None => table.remove(&key(connector, &p)),
        };
    }
}

fn key(connector: &str, partition: &OffsetMap) -> String {
    json!([connector, partition]).to_string()
}

/// Offsets by storage key; the in-memory part of every store.
type OffsetTable = BTreeMap<String, OffsetMap>;

fn insert_all(table: &mut OffsetTable, connector: &str, offsets: Vec<(OffsetMap, OffsetMap)>) {
    for (p, o) in offsets {
        table.insert(key(connector, &p), o);
    }
}

/// Offsets in a JSON file, rewritten atomically on each put.
#[derive(Debug)]
pub struct FileOffsetStore {
    path: PathBuf,
    data: Mutex<OffsetTable>,
}

impl FileOffsetStore {
    /// Opens (or creates on first write) the store at `path`, reading what it holds.
    pub fn open(path: impl Into<PathBuf>) -> ConnectResult<Self> {
        let path = path.into();
        let data = match std::fs::read(&path) {
            Ok(bytes) => parse_file(&bytes).map_err(|e| {
                ConnectError::fatal(format!(
                    "offset file {} is not a Tributary offsets file ({e}); move it away to start from scratch",
                    path.display()
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(ConnectError::fatal_from(format!("cannot read offset file {}", path.display()), e)),
        };
        Ok(Self { path, data: Mutex::new(data) })
    }
}

fn parse_file(bytes: &[u8]) -> Result<OffsetTable, String> {
    let doc: Json = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let entries = doc.get("offsets").and_then(Json::as_array).ok_or("missing \"offsets\" array")?;
    let mut out = BTreeMap::new();
    for e in entries {
        let k = e.get("key").ok_or("entry without \"key\"")?;
        let v = e.get("value").and_then(Json::as_object).ok_or("entry without object \"value\"")?;
        out.insert(k.to_string(), v.clone());
    }
    Ok(out)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

#[async_trait]
impl OffsetStore for FileOffsetStore {
    async fn get(&self, connector: &str, partition: &OffsetMap) -> ConnectResult<Option<OffsetMap>> {
        Ok(self.data.lock().await.get(&key(connector, partition)).cloned())
    }

    async fn put(&self, connector: &str, offsets: Vec<(OffsetMap, OffsetMap)>) -> ConnectResult<()> {
        // The lock is held across the write so two flushes never race to rename.
        let mut data = self.data.lock().await;
        insert_all(&mut data, connector, offsets);
        self.write(&data).await
    }

    async fn list(&self, connector: &str) -> ConnectResult<Vec<(OffsetMap, OffsetMap)>> {
        Ok(list_of(&*self.data.lock().await, connector))
    }

    async fn alter(&self, connector: &str, changes: Vec<(OffsetMap, Option<OffsetMap>)>) -> ConnectResult<()> {
        let mut data = self.data.lock().await;
        alter_all(&mut data, connector, changes);
        self.write(&data).await
    }
}

impl FileOffsetStore {
    async fn write(&self, data: &OffsetTable) -> ConnectResult<()> {
        let entries: Vec<Json> = data
            .iter()
            .map(|(k, v)| {
                let key: Json = serde_json::from_str(k).unwrap_or(Json::Null);
                json!({"key": key, "value": v})
            })
            .collect();
        let bytes = serde_json::to_vec_pretty(&json!({"version": 1, "offsets": entries}))
            .map_err(|e| ConnectError::fatal_from("cannot encode offsets", e))?;
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || write_atomically(&path, &bytes))
            .await
            .map_err(|e| ConnectError::fatal_from("offset writer panicked", e))?
            .map_err(|e| ConnectError::retriable_from(format!("cannot write offset file {}", self.path.display()), e))
    }
}

/// Offsets kept in memory only (used when no offset file is configured, and in tests).
#[derive(Debug, Default)]
pub struct MemoryOffsetStore {
    data: Mutex<OffsetTable>,
}

#[async_trait]
impl OffsetStore for MemoryOffsetStore {
    async fn get(&self, connector: &str, partition: &OffsetMap) -> ConnectResult<Option<OffsetMap>> {
        Ok(self.data.lock().await.get(&key(connector, partition)).cloned())
    }
    async fn put(&self, connector: &str, offsets: Vec<(OffsetMap, OffsetMap)>) -> ConnectResult<()> {
        insert_all(&mut *self.data.lock().await, connector, offsets);
        Ok(())
    }
    async fn list(&self, connector: &str) -> ConnectResult<Vec<(OffsetMap, OffsetMap)>> {
        Ok(list_of(&*self.data.lock().await, connector))
    }
    async fn alter(&self, connector: &str, changes: Vec<(OffsetMap, Option<OffsetMap>)>) -> ConnectResult<()> {
        alter_all(&mut *self.data.lock().await, connector, changes);
        Ok(())
    }
}

/// One connector's view of an [`OffsetStore`], handed to its tasks.
#[derive(Debug, Clone)]
pub(crate) struct ConnectorOffsets {
    pub(crate) store: Arc<dyn OffsetStore>,
    pub(crate) connector: String,
}

#[async_trait]
impl OffsetReader for ConnectorOffsets {
    async fn offset(&self, partition: &OffsetMap) -> ConnectResult<Option<OffsetMap>> {
        self.store.get(&self.connector, partition).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: Json) -> OffsetMap {
        v.as_object().unwrap().clone()
    }

    #[tokio::test]
    async fn file_store_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("offsets.json");
        let store = FileOffsetStore::open(&path).unwrap();
        let part = map(json!({"filename": "/tmp/in.txt"}));
        store.put("src", vec![(part.clone(), map(json!({"position": 10})))]).await.unwrap();
        store.put("src", vec![(part.clone(), map(json!({"position": 20})))]).await.unwrap();
        let reopened = FileOffsetStore::open(&path).unwrap();
        assert_eq!(reopened.get("src", &part).await.unwrap(), Some(map(json!({"position": 20}))));
        assert_eq!(reopened.get("other", &part).await.unwrap(), None);
        assert!(!dir.path().join("offsets.json.tmp").exists());
    }

    #[test]
    fn corrupt_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("offsets.json");
        std::fs::write(&path, b"{not json").unwrap();
        let err = FileOffsetStore::open(&path).unwrap_err();
        assert!(err.to_string().contains("is not a Tributary offsets file"), "{err}");
    }

    #[tokio::test]
    async fn a_connector_topic_store_prefers_its_own_offsets_and_resets_both() {
        let (own, worker) = (Arc::new(MemoryOffsetStore::default()), Arc::new(MemoryOffsetStore::default()));
        let store = ConnectorOffsetStore { own: own.clone(), worker: worker.clone() };
        let (a, b) = (map(json!({"file": "a"})), map(json!({"file": "b"})));
        // Stored before the connector had its own topic: the fallback.
        worker.put("c", vec![(a.clone(), map(json!({"pos": 1}))), (b.clone(), map(json!({"pos": 5})))]).await.unwrap();
        store.put("c", vec![(a.clone(), map(json!({"pos": 2})))]).await.unwrap();
        assert_eq!(store.get("c", &a).await.unwrap(), Some(map(json!({"pos": 2}))));
        assert_eq!(store.get("c", &b).await.unwrap(), Some(map(json!({"pos": 5}))), "falls back to the worker's");
        assert_eq!(own.get("c", &b).await.unwrap(), None);
        assert_eq!(worker.get("c", &a).await.unwrap(), Some(map(json!({"pos": 2}))), "copied to the worker's");
        let mut listed = store.list("c").await.unwrap();
        listed.sort_by_key(|(p, _)| Json::Object(p.clone()).to_string());
        assert_eq!(listed, vec![(a.clone(), map(json!({"pos": 2}))), (b.clone(), map(json!({"pos": 5})))]);
        store.alter("c", vec![(a.clone(), None), (b.clone(), None)]).await.unwrap();
        assert_eq!(store.get("c", &a).await.unwrap(), None, "a reset offset does not come back from the fallback");
        assert_eq!(store.list("c").await.unwrap(), vec![]);
    }

    #[tokio::test]
    async fn a_store_without_topics_keeps_a_connectors_offsets_itself() {
        let worker: Arc<dyn OffsetStore> = Arc::new(MemoryOffsetStore::default());
        let config: Props = [("name".to_owned(), "c".to_owned()), (CONNECTOR_TOPIC_KEY.to_owned(), " own ".to_owned())]
            .into_iter()
            .collect();
        assert_eq!(connector_topic(&config), Some("own"));
        let store = for_connector(&worker, &config).await.unwrap();
        assert!(Arc::ptr_eq(&store, &worker));
    }
}
