//! The local Apache Kafka broker of `tributary dev`: a single-node KRaft broker run from the
//! jars that `scripts/kafka.sh fetch` caches, supervised as a child process and stopped with
//! SIGTERM (then SIGKILL after 30 s) when dev mode exits.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use base64::Engine;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use tokio::process::{Child, Command};

/// The Kafka version `scripts/kafka.sh` fetches.
pub(crate) const KAFKA_VERSION: &str = "4.1.1";

/// Where the jars are cached.
pub(crate) fn kafka_libs() -> PathBuf {
    let cache = std::env::var_os("TRIBUTARY_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
        home.join(".cache").join("tributary")
    });
    cache.join(format!("kafka-{KAFKA_VERSION}")).join("libs")
}

/// A running child broker.
#[derive(Debug)]
pub(crate) struct LocalKafka {
    child: Child,
    pub(crate) bootstrap: String,
    pub(crate) log: PathBuf,
}

fn server_properties(dir: &Path, port: u16) -> String {
    let cport = port.wrapping_add(1);
    format!(
        "process.roles=broker,controller\nnode.id=1\ncontroller.quorum.voters=1@127.0.0.1:{cport}\n\
         listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}\n\
         advertised.listeners=PLAINTEXT://127.0.0.1:{port}\ncontroller.listener.names=CONTROLLER\n\
         listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\ninter.broker.listener.name=PLAINTEXT\n\
         log.dirs={}\nnum.partitions=1\noffsets.topic.replication.factor=1\n\
         transaction.state.log.replication.factor=1\ntransaction.state.log.min.isr=1\n\
         group.initial.rebalance.delay.ms=0\nauto.create.topics.enable=true\n",
        dir.join("data").display()
    )
}

fn log4j_properties(log: &Path) -> String {
    format!(
        "status = warn\nappender.file.type = File\nappender.file.name = FILE\nappender.file.fileName = {}\n\
         appender.file.layout.type = PatternLayout\nappender.file.layout.pattern = [%d] %p %m (%c)%n\n\
         rootLogger.level = INFO\nrootLogger.appenderRef.file.ref = FILE\n",
        log.display()
    )
}

fn java(libs: &Path, log4j: &Path) -> Command {
    let mut cmd = Command::new("java");
    cmd.arg("-Xms256m")
        .arg("-Xmx1g")
        .arg(format!("-Dlog4j2.configurationFile={}", log4j.display()))
        .arg("-cp")
        .arg(format!("{}/*", libs.display()));
    cmd
}

impl LocalKafka {
    /// Formats `dir` on first use and starts the broker on 127.0.0.1:`port`, returning once it
    /// answers metadata requests.
    pub(crate) async fn start(dir: &Path, port: u16) -> anyhow::Result<Self> {
        let libs = kafka_libs();
        if !libs.join(".complete").exists() && std::fs::read_dir(&libs).map_or(true, |mut d| d.next().is_none()) {
            bail!(
                "Apache Kafka {KAFKA_VERSION} jars are not in {}; fetch them with `scripts/kafka.sh fetch` \
                 (or pass --bootstrap-servers to use a running Kafka)",
                libs.display()
            );
        }
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let dir = dir.canonicalize()?;
        let props = dir.join("server.properties");
        let log = dir.join("kafka.log");
        let log4j = dir.join("log4j2.properties");
        std::fs::write(&props, server_properties(&dir, port))?;
        std::fs::write(&log4j, log4j_properties(&log))?;
        if !dir.join("data").join("meta.properties").exists() {
            let id = cluster_id();
            tracing::info!(dir = %dir.display(), "formatting a new KRaft log directory");
            let out = java(&libs, &log4j)
                .args(["kafka.tools.StorageTool", "format", "-t", &id, "-c"])
                .arg(&props)
                .output()
                .await
                .context("cannot run java (install a JDK 17+)")?;
            if !out.status.success() {
                bail!("formatting Kafka storage failed: {}", String::from_utf8_lossy(&out.stderr));
            }
        }
        let stdout = std::fs::File::create(dir.join("kafka.out"))?;
        let child = java(&libs, &log4j)
            .arg("kafka.Kafka")
            .arg(&props)
            .stdout(Stdio::from(stdout.try_clone()?))
            .stderr(Stdio::from(stdout))
            .kill_on_drop(true)
            // Its own process group: Ctrl-C in the terminal reaches dev mode only, which stops
            // the connectors first and the broker after them.
            .process_group(0)
            .spawn()
            .context("cannot start java (install a JDK 17+)")?;
        let mut kafka = Self { child, bootstrap: format!("127.0.0.1:{port}"), log };
        kafka.wait_ready(Duration::from_secs(90)).await?;
        Ok(kafka)
    }

    async fn wait_ready(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("the Kafka broker exited ({status}) while starting; see {}", self.log.display());
            }
            if ping(&self.bootstrap).await {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the Kafka broker did not answer within {timeout:?}; see {}", self.log.display());
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Stops the broker: SIGTERM, then SIGKILL after 30 s.
    pub(crate) async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status().await;
        }
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(status) => {
                status?;
                Ok(())
            }
            Err(_) => {
                self.child.kill().await?;
                Err(anyhow!("the Kafka broker did not stop within 30 s and was killed"))
            }
        }
    }
}

/// A random Kafka cluster id: 16 bytes in URL-safe base64, never starting with '-' (the
/// storage tool would read it as an option; Kafka's own `Uuid.randomUuid` avoids it too).
fn cluster_id() -> String {
    loop {
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>());
        if !id.starts_with('-') {
            return id;
        }
    }
}

/// Whether a Kafka broker answers a metadata request at `bootstrap`.
pub(crate) async fn ping(bootstrap: &str) -> bool {
    let bootstrap = bootstrap.to_owned();
    tokio::task::spawn_blocking(move || {
        let consumer: Result<BaseConsumer, _> =
            ClientConfig::new().set("bootstrap.servers", &bootstrap).set("log_level", "0").create();
        consumer.is_ok_and(|c| c.fetch_metadata(None, Duration::from_secs(2)).is_ok())
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cluster_ids_are_valid_for_the_storage_tool() {
        for _ in 0..2000 {
            let id = super::cluster_id();
            assert_eq!(id.len(), 22);
            assert!(!id.starts_with('-'), "{id}");
        }
    }
}
