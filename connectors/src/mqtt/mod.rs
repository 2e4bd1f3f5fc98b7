//! MQTT source and sink connectors (MQTT 3.1.1, or MQTT 5 with `mqtt.version=5`, over
//! rumqttc), with the class names and keys of Confluent's MQTT connectors
//! (`io.confluent.connect.mqtt.MqttSourceConnector`, `io.confluent.connect.mqtt.MqttSinkConnector`).
//!
//! One code path serves both versions: `protocol.rs` wraps rumqttc's 3.1.1 and v5 clients
//! behind one client handle and one event loop that speak in neutral messages; the driver
//! (`client.rs`), the source and the sink do not know which version runs. MQTT 5 adds message
//! properties, mapped to and from Kafka headers in `headers.rs` (`mqtt.user.<name>`,
//! `mqtt.content.type`, `mqtt.correlation.data`, `mqtt.response.topic`), a session expiry
//! interval (`mqtt.session.expiry.interval.seconds`), and shared subscriptions over tasks.
//! Either version runs over TCP (`tcp://`), TLS (`ssl://`, with client certificates), or a
//! WebSocket (`ws://`, `wss://`); `mqtt.server.uri` lists brokers tried in turn.
//!
//! Source delivery: at-least-once with QoS 1/2 and `mqtt.clean.session.enabled=false`: a
//! message is acknowledged to the broker only once Kafka holds its record, so the broker
//! redelivers whatever a crash or disconnect left unacknowledged. With QoS 0 or a clean
//! session, messages published while the task is away are lost (MQTT semantics). No source
//! offsets are stored: the broker's session is the position. Ordering: per MQTT topic as the
//! broker delivers, within one task; redeliveries come after newer messages.
//!
//! Bad input: a payload that is not the configured `mqtt.payload.format` (not UTF-8, not JSON),
//! or an MQTT topic that `kafka.topic.regex` does not match under
//! `kafka.topic.regex.unmatched=fail`, becomes a failed record (`SourceRecord::failed`), so
//! the runtime's `errors.tolerance` decides: the task fails naming the MQTT topic and the
//! problem, or the message is skipped, logged and acknowledged in order like a delivered one.
//!
//! Sink delivery: at-least-once; consumer offsets are committed only after every QoS 1/2
//! publish before them was acknowledged (PUBACK/PUBCOMP). At most
//! `mqtt.max.inflight.messages` publishes are unacknowledged at a time: `put` waits for the
//! window.
//!
//! Tasks, MQTT 3.1.1: filters of the form `$share/<group>/<filter>` (shared subscriptions) are
//! given to every task, and the broker spreads messages among them; other filters are spread
//! over the tasks, one task per filter at most, since two plain subscriptions would each get
//! every message (validation refuses a `tasks.max` above the number of filters). MQTT 5 with
//! `tasks.max` > 1: every task subscribes to every filter as `$share/<group>/<filter>`
//! (`mqtt.shared.subscription.group`, default `tributary-<connector>`). Each task has its own
//! client id (`-<task>` appended for tasks above 0).
//!
//! ```properties
//! name=sensors
//! connector.class=io.confluent.connect.mqtt.MqttSourceConnector
//! mqtt.server.uri=tcp://127.0.0.1:1883
//! mqtt.topics=sensors/+/temp
//! mqtt.qos=1
//! mqtt.clean.session.enabled=false
//! kafka.topic=mqtt.${topic}
//! value.converter=org.apache.kafka.connect.converters.ByteArrayConverter
//! ```

mod acks;
mod client;
mod config;
mod headers;
mod payload;
mod protocol;
mod sink;
mod source;
mod topic;
mod topic_map;

use async_trait::async_trait;
use tributary_runtime::api::{
    ConfigDef, ConfigError, ConnectResult, Connector, OffsetMap, Props, SinkConnector, SinkTask, SourceConnector,
    SourceTask,
};
use tributary_runtime::plugins::{AnyConnector, ConnectorKind, ConnectorPlugin, Registry};

pub use sink::MqttSinkTask;
pub use source::MqttSourceTask;

/// Subscribes to MQTT topic filters and writes each message to Kafka.
#[derive(Debug, Default)]
pub struct MqttSourceConnector {
    props: Props,
}

/// Splits `filters` over at most `max_tasks` tasks: shared subscriptions go to every task,
/// other filters round-robin, one task per filter at most (MQTT 3.1.1).
fn split_filters(filters: &[String], max_tasks: usize) -> Vec<Vec<String>> {
    let (shared, plain): (Vec<&String>, Vec<&String>) = filters.iter().partition(|f| topic::is_shared(f));
    let tasks = if shared.is_empty() { plain.len().min(max_tasks) } else { max_tasks }.max(1);
    let mut out: Vec<Vec<String>> = vec![shared.iter().map(|s| (*s).clone()).collect(); tasks];
    for (i, f) in plain.iter().enumerate() {
        out[i % tasks].push((*f).clone());
    }
    out
}

/// MQTT 5: `max_tasks` tasks, each subscribing to every filter as `$share/<group>/<filter>`
/// (filters already shared are kept), so the broker spreads the messages over them; one task
/// keeps its filters as they are.
fn share_filters(filters: &[String], max_tasks: usize, group: &str) -> Vec<Vec<String>> {
    if max_tasks <= 1 {
        return vec![filters.to_vec()];
    }
    let shared: Vec<String> =
        filters.iter().map(|f| if topic::is_shared(f) { f.clone() } else { format!("$share/{group}/{f}") }).collect();
    vec![shared; max_tasks]
}

/// The default shared subscription group of a connector: `tributary-<name>`, with the
/// characters a group name may not hold (`/ + #`) replaced by `_`.
fn default_group(connector: &str) -> String {
    let name: String = connector.chars().map(|c| if matches!(c, '/' | '+' | '#') { '_' } else { c }).collect();
    format!("tributary-{name}")
}

#[async_trait]
impl Connector for MqttSourceConnector {
    fn config_def(&self) -> ConfigDef {
        config::source_config_def()
    }
    async fn start(&mut self, props: &Props) -> ConnectResult<()> {
        let def = config::source_config_def();
        config::connection_settings(props, &def)?;
        topic_map::TopicMap::from_config(&def.parse(props)?)?;
        self.props = props.clone();
        Ok(())
    }
    fn validate(&self, props: &Props) -> Vec<ConfigError> {
        config::source_cross_check(props)
    }
    fn task_configs(&self, max_tasks: usize) -> ConnectResult<Vec<Props>> {
        let c = config::source_config_def().parse(&self.props)?;
        let filters = c.list(config::TOPICS);
        let max_tasks = max_tasks.max(1);
        let split = if config::Version::of(&self.props) == config::Version::V5 {
            let group = match c.string(config::SHARED_GROUP) {
                g if g.trim().is_empty() => default_group(self.props.get("name").map_or("", String::as_str)),
                g => g,
            };
            if max_tasks > 1 {
                tracing::info!(tasks = max_tasks, group, "MQTT 5: every task subscribes to $share/{group}/<filter>");
            }
            share_filters(&filters, max_tasks, &group)
        } else {
            split_filters(&filters, max_tasks)
        };
        Ok(split
            .into_iter()
            .map(|f| {
                let mut p = self.props.clone();
                p.insert(config::TOPICS.to_owned(), f.join(","));
                p
            })
            .collect())
    }
    /// No offsets are stored (the broker's session is the position): nothing to check.
    fn alter_offsets(&self, _config: &Props, _offsets: &[(OffsetMap, Option<OffsetMap>)]) -> ConnectResult<bool> {
        Ok(true)
    }
}

impl SourceConnector for MqttSourceConnector {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(MqttSourceTask::default())
    }
}

/// Publishes Kafka records to MQTT.
#[derive(Debug, Default)]
pub struct MqttSinkConnector {
    props: Props,
}

#[async_trait]
impl Connector for MqttSinkConnector {
    fn config_def(&self) -> ConfigDef {
        config::sink_config_def()
    }
    fn validate(&self, props: &Props) -> Vec<ConfigError> {
        config::cross_check(props)
    }
    async fn start(&mut self, props: &Props) -> ConnectResult<()> {
        let def = config::sink_config_def();
        config::connection_settings(props, &def)?;
        self.props = props.clone();
        Ok(())
    }
    /// `tasks.max` tasks; each gets its own client id (`-N` appended).
    fn task_configs(&self, max_tasks: usize) -> ConnectResult<Vec<Props>> {
        Ok(vec![self.props.clone(); max_tasks.max(1)])
    }
}

impl SinkConnector for MqttSinkConnector {
    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(MqttSinkTask::default())
    }
}

/// Adds the MQTT connectors.
pub fn register(registry: &mut Registry) {
    registry.add_connector(ConnectorPlugin {
        class: "io.confluent.connect.mqtt.MqttSourceConnector",
        aliases: &[],
        kind: ConnectorKind::Source,
        task_class: "io.confluent.connect.mqtt.MqttSourceTask",
        factory: || AnyConnector::Source(Box::new(MqttSourceConnector::default())),
    });
    registry.add_connector(ConnectorPlugin {
        class: "io.confluent.connect.mqtt.MqttSinkConnector",
        aliases: &[],
        kind: ConnectorKind::Sink,
        task_class: "io.confluent.connect.mqtt.MqttSinkTask",
        factory: || AnyConnector::Sink(Box::new(MqttSinkConnector::default())),
    });
}

#[cfg(test)]
mod tests;
