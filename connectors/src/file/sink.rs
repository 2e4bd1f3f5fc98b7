//! FileStreamSink: appends each record's value and a newline to a file, as Kafka Connect's
//! FileStreamSinkTask does (`println(record.value())`). Written data is flushed to the OS
//! before offsets are committed.

use async_trait::async_trait;
use tokio::io::{AsyncWriteExt, BufWriter};
use tributary_runtime::api::{
    ConnectError, ConnectResult, Props, SinkOffsets, SinkRecord, SinkTask, SinkTaskContext, Value,
};

use super::config::sink_config_def;

/// Appends record values to a file.
#[derive(Debug, Default)]
pub struct FileSinkTask {
    path: String,
    out: Option<BufWriter<tokio::fs::File>>,
    line: Vec<u8>,
}

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
        self.out = Some(BufWriter::with_capacity(256 * 1024, f));
        Ok(())
    }

    async fn put(&mut self, records: Vec<SinkRecord>) -> ConnectResult<()> {
        let out = self.out.as_mut().ok_or_else(|| ConnectError::fatal("file sink used before start"))?;
        for r in records {
            self.line.clear();
            match &r.value {
                Value::String(s) => self.line.extend_from_slice(s.as_bytes()),
                other => self.line.extend_from_slice(other.to_string().as_bytes()),
            }
            self.line.push(b'\n');
            out.write_all(&self.line)
                .await
                .map_err(|e| ConnectError::retriable_from(format!("cannot write to {}", self.path), e))?;
        }
        Ok(())
    }

    async fn flush(&mut self, _offsets: &SinkOffsets) -> ConnectResult<()> {
        if let Some(out) = self.out.as_mut() {
            out.flush().await.map_err(|e| ConnectError::retriable_from(format!("cannot flush {}", self.path), e))?;
        }
        Ok(())
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        if let Some(mut out) = self.out.take() {
            out.flush().await.map_err(|e| ConnectError::retriable_from(format!("cannot flush {}", self.path), e))?;
        }
        Ok(())
    }
}
