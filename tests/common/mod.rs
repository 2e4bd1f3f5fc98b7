//! Helpers for end-to-end tests: run the `tributary` binary as a real process.
#![allow(dead_code)]

pub(crate) mod cluster;
pub(crate) mod mqtt;
pub(crate) mod mqtt_broker;
pub(crate) mod numbers;
pub(crate) mod plugins;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub(crate) fn tributary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tributary"))
}

/// Writes a properties file.
pub(crate) fn write_props(path: &Path, pairs: &[(&str, &str)]) -> PathBuf {
    let mut f = std::fs::File::create(path).unwrap();
    for (k, v) in pairs {
        writeln!(f, "{k}={v}").unwrap();
    }
    path.to_path_buf()
}

/// A worker process whose stderr goes to a log file.
pub(crate) struct WorkerProcess {
    pub(crate) child: Child,
    pub(crate) log: PathBuf,
}

impl WorkerProcess {
    /// Starts `tributary standalone worker conns...`.
    pub(crate) fn standalone(dir: &Path, worker: &Path, connectors: &[&Path], run: usize) -> Self {
        let log = dir.join(format!("worker-{run}.log"));
        let err = std::fs::File::create(&log).unwrap();
        let child = tributary()
            .arg("standalone")
            .arg(worker)
            .args(connectors)
            .env("TRIBUTARY_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::from(err))
            .spawn()
            .unwrap();
        Self { child, log }
    }

    /// The log so far.
    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log contains `needle`.
    pub(crate) fn wait_log(&mut self, needle: &str, timeout: Duration) {
        self.wait_log_count(needle, 1, timeout);
    }

    /// Waits until the log contains `needle` at least `count` times.
    pub(crate) fn wait_log_count(&mut self, needle: &str, count: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.log_text().matches(needle).count() < count {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("worker exited ({status}) before logging '{needle}' {count} times:\n{}", self.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for '{needle}' ({count} times):\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL.
    pub(crate) fn kill9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then waits for exit.
    pub(crate) fn terminate(&mut self, timeout: Duration) -> std::process::ExitStatus {
        Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status().unwrap();
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            if Instant::now() > deadline {
                self.child.kill().unwrap();
                panic!("worker did not exit within {timeout:?} of SIGTERM:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `cond` holds, panicking with `what` after `timeout`.
pub(crate) fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Standard worker properties for a test.
pub(crate) fn worker_props(dir: &Path, bootstrap: &str, extra: &[(&str, &str)]) -> PathBuf {
    let offsets = dir.join("offsets.json");
    let mut pairs: Vec<(&str, &str)> = vec![
        ("bootstrap.servers", bootstrap),
        ("key.converter", "org.apache.kafka.connect.json.JsonConverter"),
        ("value.converter", "org.apache.kafka.connect.json.JsonConverter"),
        ("offset.storage.file.filename", offsets.to_str().unwrap()),
        ("offset.flush.interval.ms", "1000"),
        ("listeners", ""),
    ];
    pairs.extend_from_slice(extra);
    write_props(&dir.join("worker.properties"), &pairs)
}

/// The worker log lines that contain every one of `needles`.
pub(crate) fn lines_with(log: &str, needles: &[&str]) -> usize {
    log.lines().filter(|l| needles.iter().all(|n| l.contains(n))).count()
}

/// The value of `metric{connector="CONNECTOR",task="TASK"}` in the Prometheus text that
/// `GET /metrics` answers.
pub(crate) fn task_metric(text: &str, metric: &str, connector: &str, task: u32) -> Option<i64> {
    let prefix = format!("{metric}{{connector=\"{connector}\",task=\"{task}\"}} ");
    text.lines().find_map(|l| l.strip_prefix(prefix.as_str())).and_then(|v| v.parse().ok())
}

/// `GET url` (a worker's `/metrics`): the Prometheus text.
pub(crate) fn get_metrics(url: &str) -> String {
    let (status, body) = cluster::call("GET", url, None);
    assert_eq!(status, 200, "GET {url}: {body}");
    body.as_str().unwrap_or_default().to_owned()
}

/// `GET url` (a worker's `/metrics`) until task 0 of `connector` reports `gauge` = `want`,
/// or 30 s passed: the last Prometheus text.
pub(crate) fn metrics_when(url: &str, connector: &str, gauge: &str, want: i64) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = get_metrics(url);
        if task_metric(&text, gauge, connector, 0) == Some(want) || Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Sends `record` with `producer`, serving the producer's events while its queue is full;
/// panics on any other error.
pub(crate) fn send_waiting<K, P>(
    producer: &rdkafka::producer::BaseProducer,
    mut record: rdkafka::producer::BaseRecord<'_, K, P>,
) where
    K: rdkafka::message::ToBytes + ?Sized,
    P: rdkafka::message::ToBytes + ?Sized,
{
    loop {
        match producer.send(record) {
            Ok(()) => break,
            Err((rdkafka::error::KafkaError::MessageProduction(rdkafka::types::RDKafkaErrorCode::QueueFull), back)) => {
                record = back;
                producer.poll(Duration::from_millis(1));
            }
            Err((e, _)) => panic!("producing a test record: {e}"),
        }
    }
    producer.poll(Duration::ZERO);
}
