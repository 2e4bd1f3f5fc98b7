//! Datagen: generated records for demos and benchmarks, compatible with Confluent's
//! kafka-connect-datagen (alias `io.confluent.kafka.connect.datagen.DatagenConnector`, keys
//! `kafka.topic`, `quickstart`, `iterations`, `max.interval`, `schema.keyfield`,
//! `random.seed`).
//!
//! Delivery: at-least-once; each task's offset is the number of records it generated
//! (`{"task.id": n}` → `{"task.generation": g, "current.iteration": i}`), so a restarted task
//! continues its count and `iterations` is not exceeded by more than the records re-sent after
//! a crash. Ordering: per task. Unlike Confluent's task, which fails once `iterations` is
//! reached, a finished task stays RUNNING and idle.
//!
//! ```properties
//! name=users
//! connector.class=DatagenConnector
//! kafka.topic=users
//! quickstart=users
//! max.interval=100
//! ```

mod config;
mod quickstart;
mod regex;
mod source;

use async_trait::async_trait;
use tributary_runtime::api::{ConfigDef, ConnectResult, Connector, Props, SourceConnector, SourceTask};
use tributary_runtime::plugins::{AnyConnector, ConnectorKind, ConnectorPlugin, Registry};

pub use source::DatagenTask;

/// Runs `tasks.max` identical generators.
#[derive(Debug, Default)]
pub struct DatagenConnector {
    props: Props,
}

#[async_trait]
impl Connector for DatagenConnector {
    fn config_def(&self) -> ConfigDef {
        config::config_def()
    }
    async fn start(&mut self, props: &Props) -> ConnectResult<()> {
        config::config_def().parse(props)?;
        self.props = props.clone();
        Ok(())
    }
    fn task_configs(&self, max_tasks: usize) -> ConnectResult<Vec<Props>> {
        Ok(vec![self.props.clone(); max_tasks.max(1)])
    }
}

impl SourceConnector for DatagenConnector {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(DatagenTask::default())
    }
}

/// Adds the datagen connector.
pub fn register(registry: &mut Registry) {
    registry.add_connector(ConnectorPlugin {
        class: "io.confluent.kafka.connect.datagen.DatagenConnector",
        aliases: &["datagen"],
        kind: ConnectorKind::Source,
        factory: || AnyConnector::Source(Box::new(DatagenConnector::default())),
    });
}

#[cfg(test)]
mod tests;
