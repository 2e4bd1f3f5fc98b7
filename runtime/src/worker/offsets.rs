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

use crate::api::{ConnectError, ConnectResult, OffsetMap, OffsetReader};

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
}
