#![allow(dead_code)]
//! A cluster of `tributary distributed` processes on 127.0.0.1 for end-to-end tests, and what
//! tests read of it: REST answers, task spreads, log lines, topic contents.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use serde_json::{Value, json};
use tributary_testcontainers::unique_name;

use super::{WorkerProcess, write_props};

/// One request with curl: (status, JSON body or Null).
pub(crate) fn call(method: &str, url: &str, body: Option<&str>) -> (u16, Value) {
    let mut cmd = Command::new("curl");
    cmd.args(["-s", "-m", "60", "-o", "-", "-w", "\n%{http_code}", "-X", method, url]);
    if let Some(b) = body {
        cmd.args(["-H", "Content-Type: application/json", "--data-binary", b]);
    }
    let out = cmd.output().expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    let json = if body.trim().is_empty() { Value::Null } else { serde_json::from_str(body).unwrap_or(json!(body)) };
    (code.trim().parse().unwrap_or(0), json)
}

/// A change, retried while the cluster answers 409 (a rebalance runs), as clients do.
pub(crate) fn change(method: &str, url: &str, body: Option<&str>, expected: u16) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (s, v) = call(method, url, body);
        if s == expected {
            return v;
        }
        assert!(s == 409 && Instant::now() < deadline, "{method} {url} answered {s}: {v}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Workers of one group, each with a fixed REST port (its worker id) kept across restarts.
pub(crate) struct Cluster {
    pub(crate) dir: PathBuf,
    pub(crate) group: String,
    pub(crate) workers: Vec<WorkerProcess>,
    pub(crate) ports: Vec<u16>,
    props: Vec<PathBuf>,
    /// Every log written so far, of every incarnation of every worker, by worker index.
    pub(crate) all_logs: Vec<Vec<PathBuf>>,
}

impl Cluster {
    /// `n` workers, started one at a time (the first leads).
    pub(crate) fn start(dir: &Path, bootstrap: &str, n: usize) -> Self {
        Self::start_with(dir, bootstrap, n, &[])
    }

    /// `n` workers with `extra` worker properties.
    pub(crate) fn start_with(dir: &Path, bootstrap: &str, n: usize, extra: &[(&str, &str)]) -> Self {
        let group = unique_name("dist-group");
        let mut cluster = Self {
            dir: dir.to_path_buf(),
            group,
            workers: Vec::new(),
            ports: Vec::new(),
            props: Vec::new(),
            all_logs: Vec::new(),
        };
        for _ in 0..n {
            cluster.add(bootstrap, extra);
        }
        cluster
    }

    /// Worker properties of this group for a worker on `port`, with `extra` keys replacing
    /// or adding to the defaults.
    pub(crate) fn worker_props(&self, bootstrap: &str, port: u16, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let group = &self.group;
        let mut pairs: Vec<(String, String)> = [
            ("bootstrap.servers", bootstrap.to_owned()),
            ("group.id", group.clone()),
            ("config.storage.topic", format!("{group}-configs")),
            ("offset.storage.topic", format!("{group}-offsets")),
            ("status.storage.topic", format!("{group}-status")),
            ("config.storage.replication.factor", "1".to_owned()),
            ("offset.storage.replication.factor", "1".to_owned()),
            ("status.storage.replication.factor", "1".to_owned()),
            ("listeners", format!("http://127.0.0.1:{port}")),
            ("heartbeat.interval.ms", "1000".to_owned()),
            ("session.timeout.ms", "6000".to_owned()),
            ("scheduled.rebalance.max.delay.ms", "3000".to_owned()),
            ("offset.flush.interval.ms", "500".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        for (k, v) in extra {
            match pairs.iter_mut().find(|(key, _)| key == k) {
                Some(pair) => pair.1 = (*v).to_owned(),
                None => pairs.push(((*k).to_owned(), (*v).to_owned())),
            }
        }
        pairs
    }

    /// Starts one more worker with `extra` properties and waits until it has joined; returns
    /// its index.
    pub(crate) fn add(&mut self, bootstrap: &str, extra: &[(&str, &str)]) -> usize {
        let i = self.workers.len();
        let port = free_port();
        let pairs = self.worker_props(bootstrap, port, extra);
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let props = write_props(&self.dir.join(format!("worker-{i}.properties")), &borrowed);
        self.ports.push(port);
        self.props.push(props);
        self.all_logs.push(Vec::new());
        let w = self.spawn(i);
        self.workers.push(w);
        self.workers[i].wait_log("Tributary distributed worker ready", Duration::from_secs(60));
        i
    }

    /// Starts worker `i`'s process (a new incarnation with a log of its own).
    fn spawn(&mut self, i: usize) -> WorkerProcess {
        let log = self.dir.join(format!("worker-{i}.{}.log", self.all_logs[i].len()));
        self.all_logs[i].push(log.clone());
        let child = super::tributary()
            .arg("distributed")
            .arg(&self.props[i])
            .env("TRIBUTARY_LOG", std::env::var("TEST_WORKER_LOG").unwrap_or_else(|_| "info".to_owned()))
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
            .spawn()
            .unwrap();
        WorkerProcess { child, log }
    }

    /// Starts worker `i` again (after it stopped) with the same properties and port, and
    /// waits until it has joined.
    pub(crate) fn restart(&mut self, i: usize) {
        let w = self.spawn(i);
        self.workers[i] = w;
        self.workers[i].wait_log("Tributary distributed worker ready", Duration::from_secs(60));
    }

    pub(crate) fn url(&self, i: usize, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.ports[i])
    }

    pub(crate) fn id(&self, i: usize) -> String {
        format!("127.0.0.1:{}", self.ports[i])
    }

    /// Index of the running worker whose latest join made it leader.
    pub(crate) fn leader(&self) -> usize {
        (0..self.workers.len())
            .find(|i| {
                let log = self.workers[*i].log_text();
                log.lines().rev().find(|l| l.contains("joined group as")).is_some_and(|l| l.contains("as leader"))
            })
            .expect("a leader")
    }

    /// Status of `name` as worker `i` answers it.
    pub(crate) fn status(&self, i: usize, name: &str) -> Value {
        call("GET", &self.url(i, &format!("/connectors/{name}/status")), None).1
    }

    /// Every log of every incarnation, labelled.
    pub(crate) fn logs(&self) -> String {
        self.all_logs
            .iter()
            .enumerate()
            .flat_map(|(i, logs)| logs.iter().enumerate().map(move |(n, p)| (i, n, p)))
            .map(|(i, n, p)| format!("--- worker {i} run {n}\n{}", std::fs::read_to_string(p).unwrap_or_default()))
            .collect()
    }
}

/// Task counts per worker id when the connector and every one of `tasks` tasks are RUNNING.
pub(crate) fn spread(status: &Value, tasks: usize) -> Option<BTreeMap<String, usize>> {
    let list = status["tasks"].as_array()?;
    if list.len() != tasks || list.iter().any(|t| t["state"] != "RUNNING") || status["connector"]["state"] != "RUNNING"
    {
        return None;
    }
    let mut out = BTreeMap::new();
    for t in list {
        *out.entry(t["worker_id"].as_str()?.to_owned()).or_insert(0) += 1;
    }
    Some(out)
}

/// Every value in `topic`, read from the beginning to the current end.
pub(crate) fn read_values(bootstrap: &str, topic: &str) -> Vec<String> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique_name("dist-reader"))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(10)).unwrap();
    let mut ends = BTreeMap::new();
    for p in md.topics()[0].partitions() {
        ends.insert(p.id(), consumer.fetch_watermarks(topic, p.id(), Duration::from_secs(10)).unwrap().1);
    }
    let total: i64 = ends.values().sum();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while (out.len() as i64) < total && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(500)) {
            out.push(String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned());
        }
    }
    out
}
