//! The test environment: hands tests a running Kafka broker (and, as they arrive, the other
//! external systems), so every test gets real services the same way.
//!
//! Lookup order for Kafka:
//! 1. `KAFKA_BOOTSTRAP_SERVERS` in the environment: use that cluster.
//! 2. Otherwise start (once per machine, idempotently) the project's single-node Apache Kafka
//!    with `scripts/kafka.sh start --port 19092`, shared by every test of the run; tests use
//!    random topic names so they can run in parallel and re-run.
//!
//! With `CI=true`, a missing service fails the test loudly. Elsewhere, [`TestEnv::kafka`]
//! returns `None` after printing what to install, and the test returns early.

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
}

static ENV: OnceLock<TestEnv> = OnceLock::new();

impl TestEnv {
    /// The shared environment, started on first use.
    pub fn get() -> &'static TestEnv {
        ENV.get_or_init(|| TestEnv { kafka: find_or_start_kafka() })
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
    let script = repo_root().join("scripts").join("kafka.sh");
    let mut cmd = Command::new("bash");
    cmd.arg(&script).arg(command).arg("--port").arg(port.to_string());
    if let Some(d) = dir {
        cmd.arg("--dir").arg(d);
    }
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
