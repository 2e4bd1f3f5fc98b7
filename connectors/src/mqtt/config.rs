//! Keys of the MQTT connectors. The names of Confluent's MQTT connectors are kept where they
//! exist (`mqtt.server.uri`, `mqtt.topics`, `kafka.topic`, `mqtt.qos`, ...); Tributary's
//! extensions use the same style and say so in their documentation.

use std::time::Duration;

use rumqttc::QoS;
use tributary_runtime::api::{
    ConfigDef, ConfigError, ConfigErrors, ConfigKey, ConfigType, ConfigValue, Importance, Password, Props, Validator,
};

use super::topic::{is_shared, validate_filter, validate_topic_template};

pub(super) const SERVER_URI: &str = "mqtt.server.uri";
pub(super) const TOPICS: &str = "mqtt.topics";
pub(super) const KAFKA_TOPIC: &str = "kafka.topic";
pub(super) const SLASH_REPLACEMENT: &str = "kafka.topic.slash.replacement";
pub(super) const TOPIC_REGEX: &str = "kafka.topic.regex";
pub(super) const TOPIC_REPLACEMENT: &str = "kafka.topic.replacement";
pub(super) const TOPIC_REGEX_UNMATCHED: &str = "kafka.topic.regex.unmatched";
pub(super) const QOS: &str = "mqtt.qos";
pub(super) const CLIENT_ID: &str = "mqtt.client.id";
pub(super) const CLEAN_SESSION: &str = "mqtt.clean.session.enabled";
pub(super) const USERNAME: &str = "mqtt.username";
pub(super) const PASSWORD: &str = "mqtt.password";
pub(super) const KEEPALIVE: &str = "mqtt.keepalive.interval.seconds";
pub(super) const CONNECT_TIMEOUT: &str = "mqtt.connect.timeout.seconds";
pub(super) const SSL_CA: &str = "mqtt.ssl.ca.path";
pub(super) const SSL_CERT: &str = "mqtt.ssl.cert.path";
pub(super) const SSL_KEY: &str = "mqtt.ssl.key.path";
pub(super) const MAX_MESSAGE_BYTES: &str = "mqtt.max.message.bytes";
pub(super) const RECORD_KEY: &str = "mqtt.record.key";
pub(super) const PAYLOAD_FORMAT: &str = "mqtt.payload.format";
pub(super) const MAX_UNACKED: &str = "mqtt.max.unacked.messages";
pub(super) const MQTT_TOPIC: &str = "mqtt.topic";
pub(super) const RETAIN: &str = "mqtt.retain.enabled";
pub(super) const MAX_INFLIGHT: &str = "mqtt.max.inflight.messages";
pub(super) const VERSION: &str = "mqtt.version";
pub(super) const SESSION_EXPIRY: &str = "mqtt.session.expiry.interval.seconds";
pub(super) const SHARED_GROUP: &str = "mqtt.shared.subscription.group";

const CONNECTION: &str = "Connection";
const SOURCE: &str = "Source";
const SINK: &str = "Sink";

/// The MQTT protocol version (`mqtt.version`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Version {
    V311,
    V5,
}

impl Version {
    /// The version a config names; 3.1.1 unless `mqtt.version` is `5`.
    pub(super) fn of(props: &Props) -> Self {
        match props.get(VERSION).map(|v| v.trim()) {
            Some("5") => Self::V5,
            _ => Self::V311,
        }
    }
}

/// Connection settings shared by the source and the sink, typed.
#[derive(Clone, Debug)]
pub(super) struct ConnectionSettings {
    /// Broker URIs, tried in order (failover).
    pub(super) servers: Vec<ServerUri>,
    /// Client id; empty means derived from the connector name and task number.
    pub(super) client_id: String,
    pub(super) clean_session: bool,
    pub(super) username: Option<String>,
    pub(super) password: Option<Password>,
    pub(super) keep_alive: Duration,
    pub(super) connect_timeout: Duration,
    pub(super) ca: Option<String>,
    pub(super) client_cert: Option<(String, String)>,
    pub(super) max_message_bytes: usize,
    pub(super) qos: QoS,
    pub(super) version: Version,
    /// MQTT 5 session expiry interval in seconds (`u32::MAX`: never); `None` with 3.1.1.
    pub(super) session_expiry: Option<u32>,
}

/// How a broker of `mqtt.server.uri` is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Scheme {
    /// `tcp://` (or `mqtt://`): MQTT over TCP, port 1883 by default.
    Tcp,
    /// `ssl://` (or `tls://`, `mqtts://`): MQTT over TLS, port 8883 by default.
    Ssl,
    /// `ws://`: MQTT over a WebSocket, port 80 and path `/mqtt` by default.
    Ws,
    /// `wss://`: MQTT over a WebSocket over TLS, port 443 and path `/mqtt` by default.
    Wss,
}

impl Scheme {
    fn name(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Ssl => "ssl",
            Self::Ws => "ws",
            Self::Wss => "wss",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Self::Tcp => 1883,
            Self::Ssl => 8883,
            Self::Ws => 80,
            Self::Wss => 443,
        }
    }
}

/// One parsed `mqtt.server.uri` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ServerUri {
    pub(super) scheme: Scheme,
    pub(super) host: String,
    pub(super) port: u16,
    /// The WebSocket path (`ws://`, `wss://`), starting with `/`; empty otherwise.
    pub(super) path: String,
}

impl ServerUri {
    /// The host as a URL writes it: an IPv6 address in brackets.
    fn url_host(&self) -> String {
        if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() }
    }
}

impl std::fmt::Display for ServerUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}{}", self.scheme.name(), self.url_host(), self.port, self.path)
    }
}

/// Parses `tcp://host[:port]`, `ssl://host[:port]`, `ws://host[:port][/path]` or
/// `wss://host[:port][/path]` (ports 1883, 8883, 80 and 443, path `/mqtt` by default, as
/// Eclipse Paho's clients do).
pub(super) fn parse_server_uri(uri: &str) -> Result<ServerUri, String> {
    let Some((scheme, rest)) = uri.trim().split_once("://") else {
        return Err(format!("'{uri}' is not a URI: expected tcp://host:port, ssl://host:port or ws://host:port/path"));
    };
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "tcp" | "mqtt" => Scheme::Tcp,
        "ssl" | "tls" | "mqtts" => Scheme::Ssl,
        "ws" => Scheme::Ws,
        "wss" => Scheme::Wss,
        other => {
            return Err(format!(
                "'{uri}' has the unsupported scheme '{other}': use tcp:// (or mqtt://), ssl:// (or mqtts://), ws:// or wss://"
            ));
        }
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let path = match scheme {
        Scheme::Ws | Scheme::Wss if path.is_empty() || path == "/" => "/mqtt".to_owned(),
        Scheme::Ws | Scheme::Wss => {
            if path.chars().any(|c| c.is_whitespace() || c == '#') {
                return Err(format!("'{uri}' has a WebSocket path with spaces or '#'"));
            }
            path.to_owned()
        }
        Scheme::Tcp | Scheme::Ssl if path.is_empty() || path == "/" => String::new(),
        Scheme::Tcp | Scheme::Ssl => {
            return Err(format!(
                "'{uri}' must be scheme://host[:port] with no path (only ws:// and wss:// take a path)"
            ));
        }
    };
    if authority.contains('@') {
        return Err(format!("'{uri}' has user information: credentials go in mqtt.username and mqtt.password"));
    }
    // host, host:port, [v6] or [v6]:port
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((h, "")) => (h, None),
            Some((h, p)) if p.starts_with(':') => (h, Some(&p[1..])),
            _ => return Err(format!("'{uri}' has a malformed IPv6 address: write [address]:port")),
        },
        None => match authority.split_once(':') {
            Some((_, p)) if p.contains(':') => {
                return Err(format!("'{uri}' has an IPv6 address without brackets: write [address]:port"));
            }
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    let port = match port {
        None => scheme.default_port(),
        Some(p) => match p.parse::<u16>() {
            Ok(port) if port > 0 => port,
            _ => return Err(format!("'{uri}' has an invalid port '{p}'")),
        },
    };
    if host.is_empty() {
        return Err(format!("'{uri}' has no host"));
    }
    if let Some(c) =
        host.chars().find(|c| matches!(c, '?' | '#' | '%' | '[' | ']') || c.is_whitespace() || c.is_control())
    {
        return Err(format!("'{uri}' has '{c}' in its host '{host}'"));
    }
    Ok(ServerUri { scheme, host: host.to_owned(), port, path })
}

fn check_uris(v: Option<&ConfigValue>) -> Result<(), String> {
    match v {
        Some(ConfigValue::List(l)) if l.is_empty() => Err("at least one broker URI is required".into()),
        Some(ConfigValue::List(l)) => l.iter().try_for_each(|u| parse_server_uri(u).map(|_| ())),
        _ => Ok(()),
    }
}

fn check_filters(v: Option<&ConfigValue>) -> Result<(), String> {
    match v {
        Some(ConfigValue::List(l)) if l.is_empty() => Err("at least one topic filter is required".into()),
        Some(ConfigValue::List(l)) => l.iter().try_for_each(|f| validate_filter(f)),
        _ => Ok(()),
    }
}

fn check_session_expiry(v: Option<&ConfigValue>) -> Result<(), String> {
    match v {
        Some(ConfigValue::Long(n)) if u32::try_from(*n).is_err() => {
            Err(format!("{n} is out of range: seconds from 0 to 4294967295 (never expires)"))
        }
        _ => Ok(()),
    }
}

fn check_group(v: Option<&ConfigValue>) -> Result<(), String> {
    match v {
        Some(ConfigValue::String(s)) if s.contains(['/', '+', '#']) => {
            Err(format!("'{s}' is not a shared subscription group name: it must not contain / + or #"))
        }
        _ => Ok(()),
    }
}

fn check_template(v: Option<&ConfigValue>) -> Result<(), String> {
    match v {
        Some(ConfigValue::String(s)) => validate_topic_template(s),
        _ => Ok(()),
    }
}

fn check_source_template(v: Option<&ConfigValue>) -> Result<(), String> {
    check_template(v)?;
    match v {
        Some(ConfigValue::String(s)) if s.contains("${key}") || s.contains("${header:") => {
            Err(format!("'{s}' may only use ${{topic}} (the MQTT topic)"))
        }
        _ => Ok(()),
    }
}

fn connection_keys(def: ConfigDef, default_qos: &str) -> ConfigDef {
    let key = |name: &str, kind, importance, doc: &str| ConfigKey::new(name, kind, importance, doc).group(CONNECTION);
    def.define(
        key(
            SERVER_URI,
            ConfigType::List,
            Importance::High,
            "MQTT brokers to connect to, comma separated: tcp://host:port (or mqtt://), ssl://host:port (or mqtts://), \
             and MQTT over WebSocket ws://host:port/path and wss://host:port/path (path /mqtt by default). \
             When a connection fails the next URI is tried (failover), with back-off and jitter between rounds.",
        )
        .validator(Validator::custom(check_uris)),
    )
    .define(
        key(QOS, ConfigType::Int, Importance::High, "MQTT quality of service: 0 (at most once), 1 (at least once) or 2 (exactly once between client and broker). The source subscribes with it; the sink publishes with it.")
            .default(default_qos)
            .validator(Validator::between(0.0, 2.0)),
    )
    .define(
        key(CLIENT_ID, ConfigType::String, Importance::Medium, "MQTT client id. Empty: tributary-<connector>-<task> (stable across restarts, so a persistent session resumes). When set, task N > 0 appends -N, since the broker allows one connection per client id.")
            .default(""),
    )
    .define(
        key(CLEAN_SESSION, ConfigType::Boolean, Importance::High, "Start a clean session on connect. Set to false (with QoS 1 or 2) for no loss: the broker keeps the subscriptions and queues messages while the connector is down, and redelivers those it did not get an acknowledgement for.")
            .default("true"),
    )
    .define(key(USERNAME, ConfigType::String, Importance::High, "User name to log in with; empty for anonymous.").default(""))
    .define(key(PASSWORD, ConfigType::Password, Importance::High, "Password of mqtt.username. Never logged.").default(""))
    .define(
        key(KEEPALIVE, ConfigType::Int, Importance::Low, "Seconds between keep-alive pings (at least 5, as rumqttc requires).")
            .default("60")
            .validator(Validator::between(5.0, 65535.0)),
    )
    .define(
        key(CONNECT_TIMEOUT, ConfigType::Int, Importance::Low, "Seconds to wait for a connection (TCP, TLS and CONNACK) before trying the next broker.")
            .default("30")
            .validator(Validator::at_least(1.0)),
    )
    .define(key(SSL_CA, ConfigType::String, Importance::Medium, "PEM file of the certificate authorities that sign the brokers' certificates, for ssl:// and wss:// URIs. Empty: the system's trust store.").default(""))
    .define(key(SSL_CERT, ConfigType::String, Importance::Low, "PEM file of the client certificate, for brokers that require TLS client authentication (with mqtt.ssl.key.path).").default(""))
    .define(key(SSL_KEY, ConfigType::String, Importance::Low, "PEM file of the client certificate's private key.").default(""))
    .define(
        key(VERSION, ConfigType::String, Importance::Medium, "MQTT protocol version (Tributary extension): 3.1.1, or 5 for MQTT 5 (message properties as headers, session expiry, shared subscriptions over tasks).")
            .default("3.1.1")
            .validator(Validator::OneOf(vec!["3.1.1", "5"])),
    )
    .define(
        key(SESSION_EXPIRY, ConfigType::Long, Importance::Medium, "MQTT 5 only (Tributary extension): seconds the broker keeps the session (subscriptions and unacknowledged messages) after the connection closes, 0 to 4294967295 (never expires). Empty: never with mqtt.clean.session.enabled=false, as a 3.1.1 persistent session; 0 otherwise. Set it for a persistent session to survive a worker restart shorter than it. An error with mqtt.version=3.1.1, whose sessions last until a clean session ends them.")
            .optional()
            .validator(Validator::custom(check_session_expiry)),
    )
    .define(
        key(MAX_MESSAGE_BYTES, ConfigType::Int, Importance::Low, "Largest MQTT packet accepted or sent, in bytes (Tributary extension). A larger message makes the connection fail: the source then stops with an error naming this key, and the broker keeps the message.")
            .default("1048576")
            .validator(Validator::between(1024.0, 268435455.0)),
    )
}

/// The source connector's keys.
pub(super) fn source_config_def() -> ConfigDef {
    let key = |name: &str, kind, importance, doc: &str| ConfigKey::new(name, kind, importance, doc).group(SOURCE);
    connection_keys(ConfigDef::new(), "0")
        .define(
            key(TOPICS, ConfigType::List, Importance::High, "MQTT topic filters to subscribe to, comma separated; + and # wildcards allowed, and shared subscriptions ($share/<group>/<filter>), with MQTT 3.1.1 where the broker supports them (Mosquitto does). MQTT 3.1.1: without $share, each filter goes to one task, and validation refuses a tasks.max above the number of filters. MQTT 5 with tasks.max above 1: every task shares every filter (see mqtt.shared.subscription.group).")
                .validator(Validator::custom(check_filters)),
        )
        .define(
            key(KAFKA_TOPIC, ConfigType::String, Importance::High, "Kafka topic to write to. A template when it contains ${topic}: replaced by the MQTT topic, whose / become kafka.topic.slash.replacement and other characters Kafka does not allow become _ (Tributary extension). Example: mqtt.${topic} maps sensors/1/temp to mqtt.sensors.1.temp.")
                .validator(Validator::custom(check_source_template)),
        )
        .define(
            key(SLASH_REPLACEMENT, ConfigType::String, Importance::Low, "What / in an MQTT topic becomes when kafka.topic is a template (Tributary extension): one of . _ -")
                .default(".")
                .validator(Validator::OneOf(vec![".", "_", "-"])),
        )
        .define(
            key(TOPIC_REGEX, ConfigType::String, Importance::Medium, "Regular expression matched against the whole MQTT topic, to choose the Kafka topic from its groups (Tributary extension; Rust regex syntax, close to Java's). A matching message goes to kafka.topic.replacement; others as kafka.topic.regex.unmatched says. Example: sensors/(\\w+)/temp with kafka.topic.replacement=temp.$1 maps sensors/kitchen/temp to temp.kitchen.")
                .default("")
                .validator(Validator::custom(|v| match v {
                    Some(ConfigValue::String(s)) => super::topic_map::check_regex(s),
                    _ => Ok(()),
                })),
        )
        .define(
            key(TOPIC_REPLACEMENT, ConfigType::String, Importance::Medium, "Kafka topic for MQTT topics that match kafka.topic.regex (Tributary extension): $1 or ${1} for a numbered group, ${name} for a named group (?P<name>...). In group values, / becomes kafka.topic.slash.replacement and characters Kafka does not allow become _; a result that is no valid topic name (empty, longer than 249) is a data error.")
                .default(""),
        )
        .define(
            key(TOPIC_REGEX_UNMATCHED, ConfigType::String, Importance::Medium, "Where messages go whose MQTT topic kafka.topic.regex does not match (Tributary extension): 'kafka.topic' to kafka.topic (which may use ${topic}), or 'fail' to make each a data error naming the MQTT topic and the regex, so errors.tolerance decides (the task fails, or skips and logs the message).")
                .default("kafka.topic")
                .validator(Validator::OneOfIgnoreCase(vec!["kafka.topic", "fail"])),
        )
        .define(
            key(RECORD_KEY, ConfigType::String, Importance::Medium, "Record key (Tributary extension): 'topic' for the MQTT topic as a string, 'none' for no key.")
                .default("topic")
                .validator(Validator::OneOfIgnoreCase(vec!["topic", "none"])),
        )
        .define(
            key(PAYLOAD_FORMAT, ConfigType::String, Importance::Medium, "Record value (Tributary extension): 'bytes' for the payload as bytes (schema BYTES, for the ByteArrayConverter), 'string' for UTF-8 text (invalid UTF-8 is a data error), 'json' for JSON parsed into a schemaless value (invalid JSON is a data error: errors.tolerance decides).")
                .default("bytes")
                .validator(Validator::OneOfIgnoreCase(vec!["bytes", "string", "json"])),
        )
        .define(
            key(SHARED_GROUP, ConfigType::String, Importance::Low, "MQTT 5 only (Tributary extension): with tasks.max above 1, every task subscribes to each filter of mqtt.topics as $share/<group>/<filter>, so the broker spreads the messages over the tasks. Empty: tributary-<connector name>. Must not contain / + or #. With mqtt.version=3.1.1 filters are not shared (write $share/... in mqtt.topics where the broker allows it) and this key is an error.")
                .default("")
                .validator(Validator::custom(check_group)),
        )
        .define(
            key(MAX_UNACKED, ConfigType::Int, Importance::Low, "Most QoS 1/2 messages a task holds that Kafka has not acknowledged yet (Tributary extension). When reached, the task stops reading from the broker until Kafka catches up.")
                .default("10000")
                .validator(Validator::between(1.0, 1_000_000.0)),
        )
}

/// The sink connector's keys.
pub(super) fn sink_config_def() -> ConfigDef {
    let key = |name: &str, kind, importance, doc: &str| ConfigKey::new(name, kind, importance, doc).group(SINK);
    connection_keys(ConfigDef::new(), "1")
        .define(
            key(MQTT_TOPIC, ConfigType::String, Importance::High, "MQTT topic to publish each record to (Tributary extension): a fixed topic, or a template with ${topic} (the Kafka topic), ${key} (the record key as a string), ${header:NAME} (a header's value) and ${field:PATH} (a field of the value, a struct or a schemaless JSON object; dots for nested fields). A record whose template names a missing key, header or field is a data error.")
                .default("${topic}")
                .validator(Validator::custom(check_template)),
        )
        .define(
            key(RETAIN, ConfigType::Boolean, Importance::Medium, "Publish with the retain flag set.")
                .default("false"),
        )
        .define(
            key(MAX_INFLIGHT, ConfigType::Int, Importance::Low, "Most QoS 1/2 publishes waiting for their PUBACK/PUBCOMP (Tributary extension); put waits when the window is full.")
                .default("1000")
                .validator(Validator::between(1.0, 65535.0)),
        )
}

/// Reads the connection settings of a parsed config.
pub(super) fn connection_settings(props: &Props, def: &ConfigDef) -> Result<ConnectionSettings, ConfigErrors> {
    let c = def.parse(props)?;
    let servers = c.list(SERVER_URI).iter().filter_map(|u| parse_server_uri(u).ok()).collect();
    let qos = match c.long(QOS) {
        Some(2) => QoS::ExactlyOnce,
        Some(1) => QoS::AtLeastOnce,
        _ => QoS::AtMostOnce,
    };
    let cert = c.opt_string(SSL_CERT);
    let key = c.opt_string(SSL_KEY);
    let client_cert = match (cert, key) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        (Some(_), None) => return Err(ConfigErrors::single(SSL_KEY, "mqtt.ssl.cert.path is set: set its key too")),
        (None, Some(_)) => {
            return Err(ConfigErrors::single(SSL_CERT, "mqtt.ssl.key.path is set: set the certificate too"));
        }
    };
    let username = c.opt_string(USERNAME);
    let password = c.password(PASSWORD);
    if password.is_some() && username.is_none() {
        return Err(ConfigErrors::single(USERNAME, "mqtt.password is set but mqtt.username is empty"));
    }
    let cross = cross_check(props);
    if !cross.is_empty() {
        return Err(ConfigErrors(cross));
    }
    let version = Version::of(props);
    let clean_session = c.bool(CLEAN_SESSION);
    let session_expiry = match (version, c.long(SESSION_EXPIRY)) {
        (Version::V311, _) => None,
        (Version::V5, Some(n)) => Some(u32::try_from(n).unwrap_or(u32::MAX)),
        (Version::V5, None) if clean_session => Some(0),
        (Version::V5, None) => Some(u32::MAX),
    };
    Ok(ConnectionSettings {
        servers,
        client_id: c.string(CLIENT_ID),
        clean_session,
        username,
        password,
        keep_alive: Duration::from_secs(c.long(KEEPALIVE).unwrap_or(60).max(5) as u64),
        connect_timeout: Duration::from_secs(c.long(CONNECT_TIMEOUT).unwrap_or(30).max(1) as u64),
        ca: c.opt_string(SSL_CA),
        client_cert,
        max_message_bytes: c.long(MAX_MESSAGE_BYTES).unwrap_or(1 << 20).max(1024) as usize,
        qos,
        version,
        session_expiry,
    })
}

/// Whether `key` is given a non-empty value.
fn is_set(props: &Props, key: &str) -> bool {
    props.get(key).is_some_and(|v| !v.trim().is_empty())
}

/// Checks across keys: the MQTT 5 settings need `mqtt.version=5`.
pub(super) fn cross_check(props: &Props) -> Vec<ConfigError> {
    if Version::of(props) == Version::V5 {
        return Vec::new();
    }
    [
        (SESSION_EXPIRY, "MQTT 3.1.1 sessions last until a clean session ends them"),
        (SHARED_GROUP, "with MQTT 3.1.1 filters are not shared; write $share/<group>/<filter> in mqtt.topics instead"),
    ]
    .into_iter()
    .filter(|(key, _)| is_set(props, key))
    .map(|(key, why)| ConfigError {
        key: key.to_owned(),
        message: format!("{key} is an MQTT 5 setting: set mqtt.version=5, or remove it ({why})"),
    })
    .collect()
}

/// [`cross_check`] and, for the source, that MQTT 3.1.1 can run `tasks.max` tasks: it gives
/// each filter of `mqtt.topics` to one task (filters already `$share/...` go to every task),
/// so more tasks than filters would leave some idle.
pub(super) fn source_cross_check(props: &Props) -> Vec<ConfigError> {
    let mut errors = cross_check(props);
    if Version::of(props) == Version::V5 {
        return errors;
    }
    let filters: Vec<&str> =
        props.get(TOPICS).map(|t| t.split(',').map(str::trim).filter(|f| !f.is_empty()).collect()).unwrap_or_default();
    let tasks_max = props.get("tasks.max").and_then(|t| t.trim().parse::<usize>().ok()).unwrap_or(1);
    if !filters.is_empty() && !filters.iter().any(|f| is_shared(f)) && tasks_max > filters.len() {
        let n = filters.len();
        errors.push(ConfigError {
            key: "tasks.max".to_owned(),
            message: format!(
                "tasks.max is {tasks_max}, but MQTT 3.1.1 gives each filter of mqtt.topics to one task and mqtt.topics has \
                 {n}, so at most {n} tasks would run: set tasks.max to {n} or lower, set mqtt.version=5 to share every \
                 filter over tasks.max tasks, or use shared subscriptions ($share/<group>/<filter>) where the broker \
                 supports them"
            ),
        });
    }
    errors
}

/// The client id of task `task` of `connector`.
pub(super) fn client_id(configured: &str, connector: &str, task: usize) -> String {
    match (configured.is_empty(), task) {
        (true, _) => format!("tributary-{connector}-{task}"),
        (false, 0) => configured.to_owned(),
        (false, n) => format!("{configured}-{n}"),
    }
}
