//! Datagen: generated records for demos and benchmarks, compatible with Confluent's
//! kafka-connect-datagen (alias `io.confluent.kafka.connect.datagen.DatagenConnector`, keys
//! `kafka.topic`, `quickstart`, `iterations`, `max.interval`, `schema.keyfield`,
//! `random.seed`).
//!
//! Delivery: at-least-once. Offsets as Confluent's task stores them: partition
//! `{"task.id": n}`, offset `{"task.generation": g+1, "current.iteration": i+1, "random.seed": s}`
//! (the state to resume from; the generator is reseeded with `s` after every record, so a
//! restarted task continues the same sequence). Every record carries the `long` headers
//! `task.generation`, `task.id` and `current.iteration`. Ordering: per task. Unlike Confluent's
//! task, which fails once `iterations` is reached, a finished task stays RUNNING and idle. The
//! random values follow each quickstart's ranges, options and patterns, with the same length
//! distribution for optional pattern tails (stop with probability 0.35 wherever the string may
//! end, as Confluent's Generex does), but not the same random sequence.
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

    /// Supported: a task's offset holds its iteration and the seed its generator was reseeded
    /// with, so it resumes with exactly the records that follow the committed ones.
    fn exactly_once_support(&self, _config: &Props) -> Option<bool> {
        Some(true)
    }
}

/// Adds the datagen connector.
pub fn register(registry: &mut Registry) {
    registry.add_connector(ConnectorPlugin {
        class: "io.confluent.kafka.connect.datagen.DatagenConnector",
        aliases: &["datagen"],
        kind: ConnectorKind::Source,
        task_class: "io.confluent.kafka.connect.datagen.DatagenTask",
        factory: || AnyConnector::Source(Box::new(DatagenConnector::default())),
    });
}

#[cfg(test)]
mod tests;
