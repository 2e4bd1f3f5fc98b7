//! Worker configuration: the keys of Kafka Connect's worker properties that Tributary reads,
//! declared once in [`worker_config_def`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::api::{Config, ConfigDef, ConfigErrors, ConfigKey, ConfigType, Importance, Validator};

/// Default key and value converter, as Kafka Connect's quickstart configures.
pub const DEFAULT_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";

/// Every worker key Tributary reads.
pub fn worker_config_def() -> ConfigDef {
    use ConfigType::*;
    use Importance::*;
    ConfigDef::new()
        .define(
            ConfigKey::new("bootstrap.servers", List, High, "Kafka brokers to connect to, host:port, comma-separated.")
                .default("localhost:9092"),
        )
        .define(
            ConfigKey::new("key.converter", Class, High, "Converter for record keys, unless a connector sets its own.")
                .default(DEFAULT_CONVERTER),
        )
        .define(
            ConfigKey::new("value.converter", Class, High, "Converter for record values, unless a connector sets its own.")
                .default(DEFAULT_CONVERTER),
        )
        .define(
            ConfigKey::new(
                "offset.storage.file.filename",
                String,
                High,
                "Standalone mode: file that stores source offsets. Written atomically (temp file, fsync, rename).",
            )
            .default(""),
        )
        .define(
            ConfigKey::new(
                "offset.flush.interval.ms",
                Long,
                Low,
                "How often source offsets of acknowledged records are stored and sink offsets committed.",
            )
            .default("60000")
            .validator(Validator::at_least(1.0)),
        )
        .define(
            ConfigKey::new(
                "offset.flush.timeout.ms",
                Long,
                Low,
                "How long a stopping source task waits for outstanding records to be acknowledged before storing offsets.",
            )
            .default("5000")
            .validator(Validator::at_least(0.0)),
        )
        .define(
            ConfigKey::new(
                "task.shutdown.graceful.timeout.ms",
                Long,
                Low,
                "How long the worker waits for tasks to stop on shutdown before abandoning them.",
            )
            .default("5000")
            .validator(Validator::at_least(0.0)),
        )
        .define(
            ConfigKey::new(
                "listeners",
                List,
                Low,
                "REST listeners, e.g. http://127.0.0.1:8083. Empty disables the REST API in standalone mode.",
            )
            .default("http://:8083"),
        )
        .merge(&security_config_def())
        .define(
            ConfigKey::new(
                "source.max.in.flight.records",
                Int,
                Low,
                "Tributary: records a source task may have sent but not yet acknowledged; polling waits beyond it.",
            )
            .default("20000")
            .validator(Validator::at_least(1.0)),
        )
        .define(
            ConfigKey::new(
                "plugin.path",
                List,
                Low,
                "Accepted for compatibility and ignored: Tributary's plugins are compiled in.",
            )
            .default(""),
        )
}

/// Keys of config providers, REST authentication and the HTTPS listener. The `ssl.*` keys are
/// also read with the `listeners.https.` prefix, which wins as a whole when any is set.
fn security_config_def() -> ConfigDef {
    use ConfigType::*;
    use Importance::*;
    let key = |name: &str, kind: ConfigType, importance: Importance, doc: &str| {
        ConfigKey::new(name, kind, importance, doc).default("").group("Security")
    };
    ConfigDef::new()
        .define(key(
            "config.providers",
            List,
            Low,
            "Names of config providers, each configured by config.providers.<name>.class (FileConfigProvider, \
             DirectoryConfigProvider or EnvVarConfigProvider of org.apache.kafka.common.config.provider) and \
             config.providers.<name>.param.* (allowed.paths, allowlist.pattern). Connector values may then hold \
             ${<name>:[path:]key} variables, resolved only inside the worker.",
        ))
        .define(key(
            "rest.extension.classes",
            List,
            Low,
            "REST extensions: org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension \
             enables HTTP basic auth from the JAAS file's PropertyFileLoginModule credentials file.",
        ))
        .define(key(
            "rest.basic.auth.jaas.config.file",
            String,
            Low,
            "Tributary: JAAS file of the basic auth extension (a KafkaConnect entry with PropertyFileLoginModule \
             file=...). Without it, -Djava.security.auth.login.config=PATH in the KAFKA_OPTS environment variable.",
        ))
        .define(key(
            "rest.bearer.tokens.file",
            String,
            Low,
            "Tributary: file of REST bearer tokens, one a line; Authorization: Bearer <token> is then accepted.",
        ))
        .define(key(
            "ssl.keystore.type",
            String,
            Medium,
            "HTTPS listener keystore format: PEM (JKS and PKCS12 must be converted to PEM).",
        ))
        .define(key(
            "ssl.keystore.location",
            String,
            High,
            "HTTPS listener: PEM file holding the private key and the certificate chain.",
        ))
        .define(key(
            "ssl.keystore.certificate.chain",
            Password,
            High,
            "HTTPS listener: certificate chain in PEM, inline (instead of ssl.keystore.location).",
        ))
        .define(key(
            "ssl.keystore.key",
            Password,
            High,
            "HTTPS listener: unencrypted private key in PEM (PKCS#8, PKCS#1 or SEC1), inline.",
        ))
        .define(key(
            "ssl.client.auth",
            String,
            Low,
            "HTTPS listener: required, requested or none (default) client certificates, checked against the PEM \
             truststore.",
        ))
        .define(key("ssl.truststore.type", String, Medium, "HTTPS listener truststore format: PEM."))
        .define(key(
            "ssl.truststore.location",
            String,
            High,
            "HTTPS listener: PEM file of CA certificates that client certificates must chain to.",
        ))
        .define(key(
            "ssl.truststore.certificates",
            Password,
            High,
            "HTTPS listener: CA certificates in PEM, inline (instead of ssl.truststore.location).",
        ))
        .define(key("ssl.enabled.protocols", List, Medium, "HTTPS listener: TLSv1.2 and/or TLSv1.3 (default both)."))
}

/// Parsed worker configuration.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Kafka bootstrap servers.
    pub bootstrap_servers: String,
    /// Offsets file (standalone).
    pub offset_file: Option<PathBuf>,
    /// Offset flush interval.
    pub offset_flush_interval: Duration,
    /// Offset flush timeout.
    pub offset_flush_timeout: Duration,
    /// Task shutdown deadline.
    pub task_shutdown_timeout: Duration,
    /// REST listeners.
    pub listeners: Vec<String>,
    /// Source in-flight bound.
    pub max_in_flight: usize,
    /// Every property as given (converter settings, `producer.*`, `consumer.*`).
    pub props: BTreeMap<String, String>,
}

impl WorkerConfig {
    /// Parses worker properties, reporting every bad key at once.
    pub fn from_props(props: BTreeMap<String, String>) -> Result<Self, ConfigErrors> {
        let c: Config = worker_config_def().parse(&props)?;
        let ms = |k: &str| c.millis(k).unwrap_or_default();
        Ok(Self {
            bootstrap_servers: c.list("bootstrap.servers").join(","),
            offset_file: c.opt_string("offset.storage.file.filename").map(PathBuf::from),
            offset_flush_interval: ms("offset.flush.interval.ms"),
            offset_flush_timeout: ms("offset.flush.timeout.ms"),
            task_shutdown_timeout: ms("task.shutdown.graceful.timeout.ms"),
            listeners: c.list("listeners"),
            max_in_flight: c.long("source.max.in.flight.records").unwrap_or(20000) as usize,
            props,
        })
    }

    /// Properties under `prefix`, with the prefix removed.
    pub fn with_prefix(&self, prefix: &str) -> BTreeMap<String, String> {
        strip_prefix(&self.props, prefix)
    }
}

/// Entries of `props` whose key starts with `prefix`, with the prefix removed.
pub fn strip_prefix(props: &BTreeMap<String, String>, prefix: &str) -> BTreeMap<String, String> {
    props.iter().filter_map(|(k, v)| k.strip_prefix(prefix).map(|k| (k.to_owned(), v.clone()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_type_names_the_key() {
        let props = BTreeMap::from([("offset.flush.interval.ms".to_owned(), "soon".to_owned())]);
        let err = WorkerConfig::from_props(props).unwrap_err();
        assert_eq!(err.0[0].key, "offset.flush.interval.ms");
    }

    #[test]
    fn defaults_match_kafka_connect() {
        let c = WorkerConfig::from_props(BTreeMap::new()).unwrap();
        assert_eq!(c.offset_flush_interval, Duration::from_secs(60));
        assert_eq!(c.bootstrap_servers, "localhost:9092");
    }
}
