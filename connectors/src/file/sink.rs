//! FileStreamSink: appends each record's value and a newline to a file, as Kafka Connect's
//! FileStreamSinkTask does (`println(record.value())`). Written data is flushed to the OS
//! before offsets are committed. Lines are buffered and written whole, in one append each time,
//! so several tasks appending to one file (`tasks.max` > 1, as Kafka allows) never cut each
//! other's lines.

use async_trait::async_trait;
use tokio::io::AsyncWriteExt;
use tributary_runtime::api::{
    ConnectError, ConnectResult, Props, SinkOffsets, SinkRecord, SinkTask, SinkTaskContext, Value,
};

use super::config::sink_config_def;

/// Appends record values to a file.
#[derive(Debug, Default)]
pub struct FileSinkTask {
    path: String,
    out: Option<tokio::fs::File>,
    /// Whole lines not written yet.
    buf: Vec<u8>,
}

/// Lines are written once this many bytes are buffered (and on every flush).
const WRITE_AT: usize = 256 * 1024;

#[async_trait]
impl SinkTask for FileSinkTask {
    async fn start(&mut self, _ctx: SinkTaskContext, props: &Props) -> ConnectResult<()> {
        let c = sink_config_def().parse(props)?;
        self.path = c.string("file");
        if self.path.is_empty() {
            return Err(ConnectError::config(
                "file",
                "writing to standard output is not supported; set 'file' to a path",
            ));
        }
        let f = tokio::fs::OpenOptions::new().create(true).append(true).open(&self.path).await.map_err(|e| {
            ConnectError::fatal_from(format!("cannot open {} for appending (check config key 'file')", self.path), e)
        })?;
        self.out = Some(f);
        self.buf = Vec::with_capacity(WRITE_AT + 4096);
        Ok(())
    }

    async fn put(&mut self, records: Vec<SinkRecord>) -> ConnectResult<()> {
        if self.out.is_none() {
            return Err(ConnectError::fatal("file sink used before start"));
        }
        for r in records {
            match &r.value {
                Value::String(s) => self.buf.extend_from_slice(s.as_bytes()),
                other => self.buf.extend_from_slice(other.to_string().as_bytes()),
            }
            self.buf.push(b'\n');
            if self.buf.len() >= WRITE_AT {
                self.write_buffered().await?;
            }
        }
        Ok(())
    }

    async fn flush(&mut self, _offsets: &SinkOffsets) -> ConnectResult<()> {
        self.write_buffered().await
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        self.write_buffered().await?;
        self.out = None;
        Ok(())
    }
}

impl FileSinkTask {
    /// Appends the buffered lines in one write and hands them to the OS.
    async fn write_buffered(&mut self) -> ConnectResult<()> {
        let Some(out) = self.out.as_mut() else { return Ok(()) };
        if !self.buf.is_empty() {
            out.write_all(&self.buf)
                .await
                .map_err(|e| ConnectError::retriable_from(format!("cannot write to {}", self.path), e))?;
            self.buf.clear();
        }
        out.flush().await.map_err(|e| ConnectError::retriable_from(format!("cannot flush {}", self.path), e))
    }
}
