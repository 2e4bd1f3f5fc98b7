//! The test environment: hands tests a running Kafka broker (and, as they arrive, the other
//! external systems), so every test gets real services the same way.
//!
//! Lookup order for Kafka:
//! 1. `KAFKA_BOOTSTRAP_SERVERS` in the environment: use that cluster.
//! 2. Otherwise start (once per machine, idempotently) the project's single-node Apache Kafka
//!    with `scripts/kafka.sh start --port 19092`, shared by every test of the run; tests use
//!    random topic names so they can run in parallel and re-run.
//!
//! Lookup order for MQTT ([`TestEnv::mqtt`]):
//! 1. `MQTT_URL` (and `MQTT_AUTH_URL` for the broker that needs a password) in the environment.
//! 2. Otherwise start (idempotently) Mosquitto with `scripts/mosquitto.sh start --port 11883`
//!    (and `--port 11884 --passwd tributary:tributary-secret`), installing the Debian package
//!    if it is missing.
//!
//! With `CI=true`, a missing service fails the test loudly. Elsewhere, [`TestEnv::kafka`] and
//! [`TestEnv::mqtt`] return `None` after printing what to install, and the test returns early.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};

/// Port of the shared test broker the scripts start.
pub const TEST_KAFKA_PORT: u16 = 19092;

/// The repository root (where `scripts/` lives).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

/// Whether this run is CI, where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Handles to running services.
#[derive(Debug)]
pub struct TestEnv {
    kafka: Result<String, String>,
    mqtt: OnceLock<Result<MqttBrokers, String>>,
}

/// Port of the shared open Mosquitto the scripts start.
pub const TEST_MQTT_PORT: u16 = 11883;
/// Port of the shared Mosquitto that requires [`TEST_MQTT_USER`] / [`TEST_MQTT_PASSWORD`].
pub const TEST_MQTT_AUTH_PORT: u16 = 11884;
/// User of the password-protected test broker.
pub const TEST_MQTT_USER: &str = "tributary";
/// Password of [`TEST_MQTT_USER`].
pub const TEST_MQTT_PASSWORD: &str = "tributary-secret";

/// Running MQTT brokers.
#[derive(Debug, Clone)]
pub struct MqttBrokers {
    /// `tcp://host:port` of a broker that accepts anonymous clients.
    pub url: String,
    /// `tcp://host:port` of a broker that requires [`TEST_MQTT_USER`] / [`TEST_MQTT_PASSWORD`].
    pub auth_url: String,
}

impl MqttBrokers {
    /// Host and port of [`MqttBrokers::url`].
    pub fn host_port(&self) -> (String, u16) {
        split_url(&self.url)
    }
}

/// Host and port of a `tcp://host:port` URL (port 1883 when absent).
pub fn split_url(url: &str) -> (String, u16) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    match rest.rsplit_once(':') {
        Some((h, p)) => (h.to_owned(), p.parse().unwrap_or(1883)),
        None => (rest.to_owned(), 1883),
    }
}

static ENV: OnceLock<TestEnv> = OnceLock::new();

impl TestEnv {
    /// The shared environment, started on first use.
    pub fn get() -> &'static TestEnv {
        ENV.get_or_init(|| TestEnv { kafka: find_or_start_kafka(), mqtt: OnceLock::new() })
    }

    /// Bootstrap servers of a running broker; `None` (after printing why and what to install)
    /// when none can be had outside CI. Panics in CI.
    pub fn kafka(&self) -> Option<&str> {
        match &self.kafka {
            Ok(b) => Some(b),
            Err(why) if in_ci() => panic!("CI=true and no Kafka broker: {why}"),
            Err(why) => {
                eprintln!(
                    "SKIPPED: no Kafka broker ({why}). Install a JDK 17+ and Maven, then run \
                     `scripts/kafka.sh start --port {TEST_KAFKA_PORT}`, or set KAFKA_BOOTSTRAP_SERVERS."
                );
                None
            }
        }
    }

    /// MQTT brokers (Mosquitto); `None` (after printing why and what to install) when none can
    /// be had outside CI. Panics in CI.
    pub fn mqtt(&self) -> Option<&MqttBrokers> {
        match self.mqtt.get_or_init(find_or_start_mqtt) {
            Ok(m) => Some(m),
            Err(why) if in_ci() => panic!("CI=true and no MQTT broker: {why}"),
            Err(why) => {
                eprintln!(
                    "SKIPPED: no MQTT broker ({why}). Install the Debian package mosquitto \
                     (apt-get install mosquitto), then run `scripts/mosquitto.sh start --port {TEST_MQTT_PORT}`, \
                     or set MQTT_URL."
                );
                None
            }
        }
    }
}

fn find_or_start_mqtt() -> Result<MqttBrokers, String> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let url = match env("MQTT_URL") {
        Some(u) => u,
        None => {
            start_mosquitto(TEST_MQTT_PORT, None, None)?;
            format!("tcp://127.0.0.1:{TEST_MQTT_PORT}")
        }
    };
    let auth_url = match env("MQTT_AUTH_URL") {
        Some(u) => u,
        None => {
            start_mosquitto(TEST_MQTT_AUTH_PORT, None, Some((TEST_MQTT_USER, TEST_MQTT_PASSWORD)))?;
            format!("tcp://127.0.0.1:{TEST_MQTT_AUTH_PORT}")
        }
    };
    for u in [&url, &auth_url] {
        let (host, port) = split_url(u);
        if !wait_for_port(&host, port, Duration::from_secs(10)) {
            return Err(format!("{u} does not accept connections"));
        }
    }
    Ok(MqttBrokers { url, auth_url })
}

/// Starts Mosquitto with `scripts/mosquitto.sh start` on `port` (state in `dir`, or the
/// script's default), optionally requiring `(user, password)`; returns once it listens.
pub fn start_mosquitto(port: u16, dir: Option<&Path>, login: Option<(&str, &str)>) -> Result<(), String> {
    let mut extra = Vec::new();
    if let Some((u, p)) = login {
        extra.push("--passwd".to_owned());
        extra.push(format!("{u}:{p}"));
    }
    run_script("mosquitto.sh", "start", port, dir, &extra)
}

/// Starts Mosquitto with `scripts/mosquitto.sh start` on `port`, state in `dir`, with more
/// options of the script (`--tls`, `--client-certs`, `--ws-port PORT`: see its `--help`).
/// Returns once it listens.
pub fn start_mosquitto_args(port: u16, dir: &Path, args: &[String]) -> Result<(), String> {
    run_script("mosquitto.sh", "start", port, Some(dir), args)
}

/// Stops a Mosquitto started with [`start_mosquitto`] or [`start_mosquitto_args`].
pub fn stop_mosquitto(port: u16, dir: Option<&Path>) -> Result<(), String> {
    run_script("mosquitto.sh", "stop", port, dir, &[])
}

/// Whether something accepts TCP connections on `host:port` within `timeout`.
pub fn wait_for_port(host: &str, port: u16, timeout: Duration) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if std::net::TcpStream::connect((host, port)).is_ok() {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn find_or_start_kafka() -> Result<String, String> {
    if let Ok(b) = std::env::var("KAFKA_BOOTSTRAP_SERVERS")
        && !b.is_empty()
    {
        return if wait_for_kafka(&b, Duration::from_secs(30)) {
            Ok(b)
        } else {
            Err(format!("KAFKA_BOOTSTRAP_SERVERS={b} does not answer"))
        };
    }
    let bootstrap = format!("127.0.0.1:{TEST_KAFKA_PORT}");
    if wait_for_kafka(&bootstrap, Duration::from_secs(2)) {
        return Ok(bootstrap);
    }
    start_kafka(TEST_KAFKA_PORT, None)?;
    Ok(bootstrap)
}

/// Runs `scripts/kafka.sh COMMAND --port PORT [--dir DIR]`.
fn kafka_script(command: &str, port: u16, dir: Option<&Path>) -> Result<(), String> {
    run_script("kafka.sh", command, port, dir, &[])
}

/// Runs `scripts/SCRIPT COMMAND --port PORT [--dir DIR] EXTRA...`.
fn run_script(script: &str, command: &str, port: u16, dir: Option<&Path>, extra: &[String]) -> Result<(), String> {
    let script = repo_root().join("scripts").join(script);
    let mut cmd = Command::new("bash");
    cmd.arg(&script).arg(command).arg("--port").arg(port.to_string());
    if let Some(d) = dir {
        cmd.arg("--dir").arg(d);
    }
    cmd.args(extra);
    let out = cmd.output().map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{} {command} failed: {}{}",
        script.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// Starts a broker with `scripts/kafka.sh start` on `port` (data in `dir`, or the script's
/// default); returns once it answers.
pub fn start_kafka(port: u16, dir: Option<&Path>) -> Result<(), String> {
    kafka_script("start", port, dir)?;
    let bootstrap = format!("127.0.0.1:{port}");
    if wait_for_kafka(&bootstrap, Duration::from_secs(60)) {
        Ok(())
    } else {
        Err(format!("broker on {bootstrap} started but does not answer"))
    }
}

/// Stops a broker started with [`start_kafka`].
pub fn stop_kafka(port: u16, dir: Option<&Path>) -> Result<(), String> {
    kafka_script("stop", port, dir)
}

/// Whether a broker at `bootstrap` answers a metadata request within `timeout`.
pub fn wait_for_kafka(bootstrap: &str, timeout: Duration) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let consumer: Result<BaseConsumer, _> =
            ClientConfig::new().set("bootstrap.servers", bootstrap).set("log_level", "0").create();
        if consumer.is_ok_and(|c| c.fetch_metadata(None, Duration::from_secs(2)).is_ok()) {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// A fresh name for a topic, queue or table: `prefix-<random>`.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{:016x}", rand::random::<u64>())
}

/// Creates a topic (idempotent).
pub async fn create_topic(bootstrap: &str, topic: &str, partitions: i32) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new().set("bootstrap.servers", bootstrap).create()?;
    let results = admin
        .create_topics(&[NewTopic::new(topic, partitions, TopicReplication::Fixed(1))], &AdminOptions::new())
        .await?;
    for r in results {
        match r {
            Ok(_) | Err((_, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((t, e)) => anyhow::bail!("cannot create topic {t}: {e}"),
        }
    }
    Ok(())
}

/// Sum of the high watermarks of a topic's partitions (records written, for a fresh topic).
pub fn topic_end_offset(bootstrap: &str, topic: &str) -> anyhow::Result<i64> {
    let consumer: BaseConsumer = ClientConfig::new().set("bootstrap.servers", bootstrap).create()?;
    let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let mut total = 0;
    for t in md.topics() {
        for p in t.partitions() {
            let (_, high) = consumer.fetch_watermarks(topic, p.id(), Duration::from_secs(10))?;
            total += high;
        }
    }
    Ok(total)
}

static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// The Python interpreter of the virtualenv with Confluent's client (`confluent-kafka[avro]`),
/// created on first use by `scripts/python-env.sh`, or `TRIBUTARY_PYTHON` when set. `None`
/// (after printing what to install) when it cannot be had outside CI; panics in CI.
pub fn confluent_python() -> Option<PathBuf> {
    let found = PYTHON.get_or_init(|| {
        if let Ok(p) = std::env::var("TRIBUTARY_PYTHON")
            && !p.is_empty()
        {
            return Ok(PathBuf::from(p));
        }
        let script = repo_root().join("scripts").join("python-env.sh");
        let out =
            Command::new("bash").arg(&script).output().map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if !out.status.success() {
            return Err(format!("{} failed: {}", script.display(), String::from_utf8_lossy(&out.stderr)));
        }
        Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
    });
    match found {
        Ok(p) => Some(p.clone()),
        Err(why) if in_ci() => panic!("CI=true and no Python client env: {why}"),
        Err(why) => {
            eprintln!(
                "SKIPPED: no Python env with confluent-kafka ({why}). Install python3 and python3-venv, then run scripts/python-env.sh."
            );
            None
        }
    }
}
