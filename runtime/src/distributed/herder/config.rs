//! The worker keys of distributed mode, with Kafka Connect's names and defaults
//! (`DistributedConfig`), declared once in [`distributed_config_def`].

use std::collections::BTreeMap;
use std::time::Duration;

use crate::api::{Config, ConfigDef, ConfigErrors, ConfigKey, ConfigType, Importance, Validator};
use crate::distributed::group::{ConnectProtocol, GroupConfig};
use crate::distributed::stores::{StoreSettings, TopicKind};

/// Every key distributed mode reads beyond the worker's common ones.
pub fn distributed_config_def() -> ConfigDef {
    use ConfigType::*;
    use Importance::*;
    let topic = |name: &str, doc: &str| ConfigKey::new(name, String, High, doc).validator(Validator::NonEmpty);
    let rf = |name: &str| {
        ConfigKey::new(
            name,
            Int,
            Low,
            "Replication factor when the topic is created (-1: the broker's default). An existing topic is used as it is.",
        )
        .default("3")
    };
    ConfigDef::new()
        .define(
            ConfigKey::new("group.id", String, High, "The Connect cluster: workers with the same group.id share work.")
                .validator(Validator::NonEmpty),
        )
        .define(topic("config.storage.topic", "Topic of connector and task configs (1 partition, compacted)."))
        .define(topic("offset.storage.topic", "Topic of source connectors' offsets (compacted)."))
        .define(topic("status.storage.topic", "Topic of connector and task statuses (compacted)."))
        .define(rf("config.storage.replication.factor"))
        .define(rf("offset.storage.replication.factor"))
        .define(rf("status.storage.replication.factor"))
        .define(
            ConfigKey::new(
                "offset.storage.partitions",
                Int,
                Low,
                "Partitions of the offset topic when created (-1: broker default).",
            )
            .default("25"),
        )
        .define(
            ConfigKey::new(
                "status.storage.partitions",
                Int,
                Low,
                "Partitions of the status topic when created (-1: broker default).",
            )
            .default("5"),
        )
        .define(ms(
            "session.timeout.ms",
            "10000",
            "The coordinator drops a worker silent for this long; its work moves.",
        ))
        .define(ms("heartbeat.interval.ms", "3000", "Time between heartbeats to the group coordinator."))
        .define(ms("rebalance.timeout.ms", "60000", "How long members may take to rejoin during a rebalance."))
        .define(ms(
            "scheduled.rebalance.max.delay.ms",
            "300000",
            "How long a departed worker's connectors and tasks are held for it before they are reassigned (KIP-415).",
        ))
        .define(
            ConfigKey::new(
                "exactly.once.source.support",
                String,
                High,
                "Whether to enable exactly-once support for source connectors in the cluster by using transactions \
                 to write source records and their source offsets, and by proactively fencing out old task \
                 generations before bringing up new ones: disabled (default), preparing (a step of a rolling \
                 upgrade: accepted, not used) or enabled.",
            )
            .default("disabled")
            .validator(Validator::OneOfIgnoreCase(vec!["disabled", "preparing", "enabled"])),
        )
        .define(
            ConfigKey::new(
                "connect.protocol",
                String,
                Low,
                "Group protocol: sessioned (default), compatible or eager.",
            )
            .default("sessioned")
            .validator(Validator::OneOf(vec!["eager", "compatible", "sessioned"])),
        )
        .define(
            ConfigKey::new(
                "rest.advertised.host.name",
                String,
                Low,
                "Host name other workers use to reach this worker's REST API (default: the listener's host).",
            )
            .default(""),
        )
        .define(
            ConfigKey::new(
                "rest.advertised.port",
                Int,
                Low,
                "Port other workers use to reach this worker's REST API (default: the listener's port).",
            )
            .default("-1"),
        )
        .define(
            ConfigKey::new(
                "rest.advertised.listener",
                String,
                Low,
                "http or https: the scheme advertised to other workers.",
            )
            .default(""),
        )
}

fn ms(name: &str, default: &str, doc: &str) -> ConfigKey {
    ConfigKey::new(name, ConfigType::Int, Importance::Medium, doc).default(default).validator(Validator::at_least(1.0))
}

/// Parsed distributed-mode settings.
#[derive(Debug, Clone)]
pub struct DistributedConfig {
    /// Group membership.
    pub group: GroupConfig,
    /// The config topic.
    pub config_topic: StoreSettings,
    /// The offset topic.
    pub offset_topic: StoreSettings,
    /// The status topic.
    pub status_topic: StoreSettings,
    /// `scheduled.rebalance.max.delay.ms`.
    pub scheduled_rebalance_max_delay: Duration,
    /// This worker's REST URL as other workers reach it (`http://host:port`).
    pub advertised_url: String,
    /// This worker's id in statuses (`host:port`).
    pub worker_id: String,
}

/// Client settings passed from the worker file to the stores' Kafka clients.
fn client_props(props: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    props
        .iter()
        .filter(|(k, _)| *k == "bootstrap.servers" || *k == "security.protocol" || k.starts_with("sasl."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

impl DistributedConfig {
    /// Reads the distributed keys of `props` (every problem at once). `listener` is this
    /// worker's REST listener as bound (`http://host:port`), advertised unless
    /// `rest.advertised.*` say otherwise.
    pub fn from_props(props: &BTreeMap<String, String>, listener: &str) -> Result<Self, ConfigErrors> {
        let c: Config = distributed_config_def().parse(props)?;
        let bootstrap = props.get("bootstrap.servers").cloned().unwrap_or_else(|| "localhost:9092".to_owned());
        let ms = |k: &str| c.millis(k).unwrap_or_default();
        let group_id = c.string("group.id");
        let protocol =
            ConnectProtocol::from_config(&c.string("connect.protocol")).unwrap_or(ConnectProtocol::Sessioned);
        let advertised_url = advertised(&c, listener);
        let worker_id = advertised_url.split_once("://").map_or(advertised_url.as_str(), |(_, r)| r).to_owned();
        let group = GroupConfig::new(bootstrap.clone(), group_id.clone())
            .with_timeouts(ms("session.timeout.ms"), ms("rebalance.timeout.ms"), ms("heartbeat.interval.ms"))
            .with_protocol(protocol)
            .with_client_id(format!("tributary-{group_id}-{worker_id}"));
        let store = |kind: TopicKind, topic: &str, rf: &str, partitions: Option<&str>| {
            let mut s = StoreSettings::new(kind, c.string(topic), bootstrap.clone())
                .with_replication_factor(c.long(rf).unwrap_or(3) as i32);
            if let Some(p) = partitions {
                s = s.with_partitions(c.long(p).unwrap_or(-1) as i32);
            }
            s.client = client_props(props);
            s.client_id = format!("tributary-{group_id}");
            s
        };
        Ok(Self {
            group,
            config_topic: store(TopicKind::Config, "config.storage.topic", "config.storage.replication.factor", None),
            offset_topic: store(
                TopicKind::Offset,
                "offset.storage.topic",
                "offset.storage.replication.factor",
                Some("offset.storage.partitions"),
            ),
            status_topic: store(
                TopicKind::Status,
                "status.storage.topic",
                "status.storage.replication.factor",
                Some("status.storage.partitions"),
            ),
            scheduled_rebalance_max_delay: ms("scheduled.rebalance.max.delay.ms"),
            advertised_url,
            worker_id,
        })
    }
}

/// The URL other workers reach this one at: `rest.advertised.*` over the bound listener.
fn advertised(c: &Config, listener: &str) -> String {
    let (scheme, rest) = listener.split_once("://").unwrap_or(("http", listener));
    let (host, port) = rest.trim_end_matches('/').rsplit_once(':').unwrap_or((rest, ""));
    let scheme =
        c.opt_string("rest.advertised.listener").filter(|s| !s.is_empty()).unwrap_or_else(|| scheme.to_owned());
    let host = c.opt_string("rest.advertised.host.name").filter(|s| !s.is_empty()).unwrap_or_else(|| host.to_owned());
    let port = c.long("rest.advertised.port").filter(|p| *p > 0).map_or_else(|| port.to_owned(), |p| p.to_string());
    format!("{scheme}://{host}:{port}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(extra: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut p: BTreeMap<String, String> = [
            ("bootstrap.servers", "b:9092"),
            ("group.id", "g"),
            ("config.storage.topic", "c"),
            ("offset.storage.topic", "o"),
            ("status.storage.topic", "s"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        p.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        p
    }

    #[test]
    fn kafka_connect_defaults_and_the_listener_advertised() {
        let c = DistributedConfig::from_props(&props(&[]), "http://127.0.0.1:8083").unwrap();
        assert_eq!(c.group.session_timeout, Duration::from_secs(10));
        assert_eq!(c.group.heartbeat_interval, Duration::from_secs(3));
        assert_eq!(c.scheduled_rebalance_max_delay, Duration::from_secs(300));
        assert_eq!(c.offset_topic.partitions, 25);
        assert_eq!(c.status_topic.partitions, 5);
        assert_eq!(c.config_topic.replication_factor, 3);
        assert_eq!(c.advertised_url, "http://127.0.0.1:8083");
        assert_eq!(c.worker_id, "127.0.0.1:8083");
    }

    #[test]
    fn advertised_keys_win_and_missing_topics_are_all_reported() {
        let c = DistributedConfig::from_props(
            &props(&[("rest.advertised.host.name", "w1.example"), ("rest.advertised.port", "9000")]),
            "http://0.0.0.0:8083",
        )
        .unwrap();
        assert_eq!(c.advertised_url, "http://w1.example:9000");
        let err = DistributedConfig::from_props(&BTreeMap::new(), "http://h:1").unwrap_err();
        let keys: Vec<&str> = err.0.iter().map(|e| e.key.as_str()).collect();
        for k in ["group.id", "config.storage.topic", "offset.storage.topic", "status.storage.topic"] {
            assert!(keys.contains(&k), "{k} missing from {err}");
        }
    }
}
