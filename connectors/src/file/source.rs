//! FileStreamSource: each line of a file becomes one record whose value is the line (a
//! required `string`), as Kafka Connect's FileStreamSourceTask does.
//!
//! Offsets: partition `{"filename": <file>}`, offset `{"position": <byte position after the
//! line>}`. A restarted task seeks to the stored position and continues, so a line is re-sent
//! only if it was read but its offset was not yet stored (at-least-once). Only complete lines
//! (ending in `\n`, an `\r` before it is dropped) are emitted; a partial last line waits for
//! its newline. Lines are read as UTF-8, invalid bytes replaced.

use std::io::SeekFrom;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::BytesMut;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tributary_runtime::api::{
    ConnectError, ConnectResult, Props, Schema, SchemaType, SourceRecord, SourceTask, SourceTaskContext, Value,
    decode_map, encode_map,
};

use super::config::source_config_def;

const READ_CHUNK: usize = 256 * 1024;
const IDLE_WAIT: Duration = Duration::from_millis(200);

#[derive(Serialize, Deserialize)]
struct FilePartition {
    filename: String,
}

#[derive(Serialize, Deserialize)]
struct FilePosition {
    position: i64,
}

/// Reads lines of a file.
#[derive(Debug)]
pub struct FileSourceTask {
    path: String,
    topic: Arc<str>,
    batch_size: usize,
    partition: Arc<tributary_runtime::api::OffsetMap>,
    file: Option<tokio::fs::File>,
    /// Bytes read but not yet emitted as lines.
    buf: BytesMut,
    /// File position of `buf[0]`.
    position: i64,
    schema: Option<Arc<Schema>>,
    warned_missing: bool,
}

impl Default for FileSourceTask {
    fn default() -> Self {
        Self {
            path: String::new(),
            topic: Arc::from(""),
            batch_size: 0,
            partition: Arc::default(),
            file: None,
            buf: BytesMut::new(),
            position: 0,
            schema: None,
            warned_missing: false,
        }
    }
}

impl FileSourceTask {
    async fn open(&mut self) -> ConnectResult<bool> {
        if self.file.is_some() {
            return Ok(true);
        }
        match tokio::fs::File::open(&self.path).await {
            Ok(mut f) => {
                if self.position > 0 {
                    f.seek(SeekFrom::Start(self.position as u64))
                        .await
                        .map_err(|e| ConnectError::fatal_from(format!("cannot seek in {}", self.path), e))?;
                    tracing::info!(file = %self.path, position = self.position, "resuming from stored offset");
                }
                self.file = Some(f);
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !self.warned_missing {
                    tracing::warn!(file = %self.path, "file does not exist yet; waiting for it to be created");
                    self.warned_missing = true;
                }
                Ok(false)
            }
            Err(e) => Err(ConnectError::fatal_from(format!("cannot open {} (check config key 'file')", self.path), e)),
        }
    }

    fn take_lines(&mut self) -> ConnectResult<Vec<SourceRecord>> {
        let mut records = Vec::new();
        while records.len() < self.batch_size {
            let Some(nl) = memchr(&self.buf) else { break };
            let chunk = self.buf.split_to(nl + 1);
            let line_end = if nl > 0 && chunk[nl - 1] == b'\r' { nl - 1 } else { nl };
            let line = match std::str::from_utf8(&chunk[..line_end]) {
                Ok(s) => s.to_owned(),
                Err(_) => String::from_utf8_lossy(&chunk[..line_end]).into_owned(),
            };
            self.position += chunk.len() as i64;
            // Built directly rather than through serde: this runs once per line.
            let mut offset = tributary_runtime::api::OffsetMap::new();
            offset.insert("position".to_owned(), self.position.into());
            records.push(SourceRecord::new(
                self.partition.clone(),
                offset,
                self.topic.clone(),
                self.schema.clone(),
                Value::String(line),
            ));
        }
        Ok(records)
    }
}

fn memchr(haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|b| *b == b'\n')
}

#[async_trait]
impl SourceTask for FileSourceTask {
    async fn start(&mut self, ctx: SourceTaskContext, props: &Props) -> ConnectResult<()> {
        let c = source_config_def().parse(props)?;
        self.path = c.string("file");
        if self.path.is_empty() {
            return Err(ConnectError::config("file", "reading standard input is not supported; set 'file' to a path"));
        }
        self.topic = c.string("topic").into();
        // Below 1, one record per poll, as Kafka Connect's task behaves.
        self.batch_size = c.long("batch.size").unwrap_or(2000).max(1) as usize;
        self.schema = Some(Schema::primitive(SchemaType::String));
        self.partition = Arc::new(
            encode_map(&FilePartition { filename: self.path.clone() })
                .map_err(|e| ConnectError::fatal_from("cannot encode partition", e))?,
        );
        if let Some(stored) = ctx.offsets.offset(&self.partition).await? {
            let pos: FilePosition = decode_map(&stored).map_err(|e| {
                ConnectError::fatal_from(format!("stored offset of {} is not a position", self.path), e)
            })?;
            self.position = pos.position.max(0);
        }
        Ok(())
    }

    async fn poll(&mut self) -> ConnectResult<Vec<SourceRecord>> {
        if !self.open().await? {
            tokio::time::sleep(Duration::from_secs(1)).await;
            return Ok(Vec::new());
        }
        loop {
            let records = self.take_lines()?;
            if !records.is_empty() {
                return Ok(records);
            }
            let Some(file) = self.file.as_mut() else { return Ok(Vec::new()) };
            self.buf.reserve(READ_CHUNK);
            let n = file
                .read_buf(&mut self.buf)
                .await
                .map_err(|e| ConnectError::retriable_from(format!("cannot read {}", self.path), e))?;
            if n == 0 {
                // At the end of the file: wait for more data.
                tokio::time::sleep(IDLE_WAIT).await;
                return Ok(Vec::new());
            }
        }
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        self.file = None;
        Ok(())
    }
}
