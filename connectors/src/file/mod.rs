//! FileStream connectors, compatible with Kafka Connect's `FileStreamSource` and
//! `FileStreamSink`.
//!
//! Delivery: at-least-once both ways. The source stores the byte position after each line
//! once Kafka acknowledged it; the sink flushes the file before committing consumer offsets.
//! Ordering: one task, lines in file order.
//!
//! ```properties
//! name=local-file-source
//! connector.class=FileStreamSource
//! file=/tmp/input.txt
//! topic=lines
//! ```

mod config;
mod sink;
mod source;

use async_trait::async_trait;
use tributary_runtime::api::{
    ConfigDef, ConnectError, ConnectResult, Connector, OffsetMap, Props, SinkConnector, SinkTask, SourceConnector,
    SourceTask,
};
use tributary_runtime::plugins::{AnyConnector, ConnectorKind, ConnectorPlugin, Registry};

pub use sink::FileSinkTask;
pub use source::FileSourceTask;

/// Splits nothing: a file is read by one task.
#[derive(Debug, Default)]
pub struct FileStreamSourceConnector {
    props: Props,
}

#[async_trait]
impl Connector for FileStreamSourceConnector {
    fn config_def(&self) -> ConfigDef {
        config::source_config_def()
    }
    async fn start(&mut self, props: &Props) -> ConnectResult<()> {
        config::source_config_def().parse(props)?;
        self.props = props.clone();
        Ok(())
    }
    fn task_configs(&self, _max_tasks: usize) -> ConnectResult<Vec<Props>> {
        Ok(vec![self.props.clone()])
    }
    /// As Kafka's: null offsets are always allowed (to clean up); others need a non-negative
    /// integer `position`, and partitions a `filename`. The task checks the position against the
    /// file when it starts.
    fn alter_offsets(&self, _config: &Props, offsets: &[(OffsetMap, Option<OffsetMap>)]) -> ConnectResult<bool> {
        for (partition, offset) in offsets {
            let Some(offset) = offset else { continue };
            let Some(position) = offset.get("position") else {
                return Err(ConnectError::data("Offset objects should either be null or contain the key 'position'"));
            };
            match position.as_i64() {
                Some(p) if p >= 0 => {}
                Some(_) => {
                    return Err(ConnectError::data(
                        "The value for the 'position' key in the offset should be a non-negative value",
                    ));
                }
                None => {
                    return Err(ConnectError::data(
                        "The value for the 'position' key in the offset is expected to be a Long value",
                    ));
                }
            }
            if !partition.contains_key("filename") {
                return Err(ConnectError::data("Partition objects should contain the key 'filename'"));
            }
        }
        Ok(true)
    }
}

impl SourceConnector for FileStreamSourceConnector {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(FileSourceTask::default())
    }

    /// As Kafka's: supported when reading a file (its position is the offset), not standard
    /// input.
    fn exactly_once_support(&self, config: &Props) -> Option<bool> {
        Some(config.get("file").is_some_and(|f| !f.trim().is_empty()))
    }
}

/// Writes to one file from one task.
#[derive(Debug, Default)]
pub struct FileStreamSinkConnector {
    props: Props,
}

#[async_trait]
impl Connector for FileStreamSinkConnector {
    fn config_def(&self) -> ConfigDef {
        config::sink_config_def()
    }
    async fn start(&mut self, props: &Props) -> ConnectResult<()> {
        config::sink_config_def().parse(props)?;
        self.props = props.clone();
        Ok(())
    }
    /// `tasks.max` identical tasks, as Kafka's FileStreamSinkConnector (they append to the same
    /// file, a line per write).
    fn task_configs(&self, max_tasks: usize) -> ConnectResult<Vec<Props>> {
        Ok(vec![self.props.clone(); max_tasks.max(1)])
    }
    /// Nothing kept outside Kafka and nothing to check, as Kafka's.
    fn alter_offsets(&self, _config: &Props, _offsets: &[(OffsetMap, Option<OffsetMap>)]) -> ConnectResult<bool> {
        Ok(true)
    }
}

impl SinkConnector for FileStreamSinkConnector {
    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(FileSinkTask::default())
    }
}

/// Adds the FileStream connectors.
pub fn register(registry: &mut Registry) {
    registry.add_connector(ConnectorPlugin {
        class: "org.apache.kafka.connect.file.FileStreamSourceConnector",
        aliases: &[],
        kind: ConnectorKind::Source,
        task_class: "org.apache.kafka.connect.file.FileStreamSourceTask",
        factory: || AnyConnector::Source(Box::new(FileStreamSourceConnector::default())),
    });
    registry.add_connector(ConnectorPlugin {
        class: "org.apache.kafka.connect.file.FileStreamSinkConnector",
        aliases: &[],
        kind: ConnectorKind::Sink,
        task_class: "org.apache.kafka.connect.file.FileStreamSinkTask",
        factory: || AnyConnector::Sink(Box::new(FileStreamSinkConnector::default())),
    });
}

#[cfg(test)]
mod tests;
