//! Throughput of Tributary's source path against a bare rdkafka producer, in one run.
//!
//! Run: `scripts/kafka.sh start --port 19092 && cargo bench --bench pipeline`
//! (`BENCH_RECORDS` sets the record count, default 1000000; `BENCH_ROUNDS` the rounds, default
//! 5; `KAFKA_BOOTSTRAP_SERVERS` the broker).
//!
//! For each source (datagen `orders`, the same with a chain of five transforms, and a file of
//! 100-byte lines, all with the JSON converter and schemas enabled), a warm-up run of the connector writes N records, which are read back:
//! those key/value bytes are what the bare rdkafka `BaseProducer` sends, with the same settings
//! (idempotent, acks=all, linger.ms=5). Then Tributary (an in-process worker in a fresh child
//! process, as the binary runs it) and the bare producer each write N records to a fresh topic,
//! in alternating order from round to round. Times run from before the client is created until
//! the broker acknowledged the last record; CPU is the process's user + system time over the
//! same span. The ratio is Tributary's records/s over the bare producer's; the median over the
//! rounds is printed last. Topics are deleted after each round.

mod support;
use support::{env_or, median};

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use tokio_util::sync::CancellationToken;
use tributary_runtime::Registry;
use tributary_runtime::worker::Worker;
use tributary_runtime::worker::config::WorkerConfig;
use tributary_runtime::worker::offsets::MemoryOffsetStore;
use tributary_testcontainers::{TestEnv, create_topic, unique_name};

/// Key, value and headers of one record as Tributary wrote it.
struct Record {
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Option<OwnedHeaders>,
    bytes: usize,
}

/// The same allocator as the `tributary` binary, so the in-process worker runs as it does there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn registry() -> Arc<Registry> {
    let mut r = Registry::new();
    tributary_converters::register(&mut r);
    tributary_connectors::register(&mut r);
    tributary_runtime::transforms::register(&mut r);
    Arc::new(r)
}

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// Runs one connector in an in-process worker until the topic holds `n` records.
async fn run_tributary(bootstrap: &str, connector: BTreeMap<String, String>, topic: &str, n: i64) -> Duration {
    let config = WorkerConfig::from_props(props(&[("bootstrap.servers", bootstrap), ("listeners", "")])).unwrap();
    let cancel = CancellationToken::new();
    let worker = Worker::new(config, registry(), Arc::new(MemoryOffsetStore::default()), "bench", cancel.clone());
    let start = Instant::now();
    worker.start_connector(connector).await.unwrap();
    // One client polls the high watermark; a new client per check would load the machine.
    let watcher: BaseConsumer = ClientConfig::new().set("bootstrap.servers", bootstrap).create().unwrap();
    let t = topic.to_owned();
    let watcher = Arc::new(watcher);
    loop {
        let (w, t) = (watcher.clone(), t.clone());
        let high = tokio::task::spawn_blocking(move || {
            w.fetch_watermarks(&t, 0, Duration::from_secs(5)).map_or(0, |(_, h)| h)
        })
        .await
        .unwrap();
        if high >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = start.elapsed();
    assert!(worker.shutdown().await, "the benchmark worker did not stop cleanly");
    elapsed
}

fn read_back(bootstrap: &str, topic: &str, n: usize) -> Vec<Record> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique_name("bench-read"))
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    c.subscribe(&[topic]).unwrap();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        if let Some(Ok(m)) = c.poll(Duration::from_secs(1)) {
            let mut bytes = m.key().map_or(0, <[u8]>::len) + m.payload().map_or(0, <[u8]>::len);
            let headers = m.headers().map(|hs| {
                let mut owned = OwnedHeaders::new_with_capacity(hs.count());
                for h in hs.iter() {
                    bytes += h.key.len() + h.value.map_or(0, <[u8]>::len);
                    owned = owned.insert(Header { key: h.key, value: h.value });
                }
                owned
            });
            out.push(Record {
                key: m.key().map(<[u8]>::to_vec),
                value: m.payload().map(<[u8]>::to_vec),
                headers,
                bytes,
            });
        }
    }
    out
}

struct Counter(Arc<AtomicU64>);
impl rdkafka::ClientContext for Counter {}
impl ProducerContext for Counter {
    type DeliveryOpaque = ();
    fn delivery(&self, r: &DeliveryResult<'_>, _: ()) {
        assert!(r.is_ok(), "bare producer delivery failed");
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Sends the records with a bare BaseProducer; time until all are acknowledged.
fn run_bare(bootstrap: &str, topic: &str, records: Vec<Record>) -> Duration {
    let n = records.len() as u64;
    let acked = Arc::new(AtomicU64::new(0));
    // The clock starts before the client exists, as Tributary's includes its start-up.
    let start = Instant::now();
    let p: BaseProducer<Counter> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("message.timeout.ms", "0")
        .set("linger.ms", "5")
        .create_with_context(Counter(acked.clone()))
        .unwrap();
    for r in &records {
        let mut rec: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic);
        if let Some(k) = &r.key {
            rec = rec.key(k);
        }
        if let Some(v) = &r.value {
            rec = rec.payload(v);
        }
        if let Some(h) = &r.headers {
            // The record was read back with its headers; a bare producer sends them as they are.
            rec = rec.headers(h.clone());
        }
        loop {
            match p.send(rec) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    rec = r;
                    p.poll(Duration::from_millis(5));
                }
                Err((e, _)) => panic!("bare send failed: {e}"),
            }
        }
        p.poll(Duration::ZERO);
    }
    while acked.load(Ordering::Relaxed) < n {
        p.poll(Duration::from_millis(5));
    }
    let elapsed = start.elapsed();
    p.flush(Duration::from_secs(10)).unwrap();
    elapsed
}

/// CPU seconds (user + system) this process has used, from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

struct Row {
    name: String,
    records: usize,
    bytes: usize,
    secs: f64,
    cpu: f64,
}

impl Row {
    /// Prints the row; returns its ratio to `baseline`.
    fn print(&self, baseline: Option<&Row>) -> f64 {
        let rps = self.records as f64 / self.secs;
        let mbps = self.bytes as f64 / self.secs / 1e6;
        let ratio = baseline.map_or(1.0, |b| rps / (b.records as f64 / b.secs));
        let shown = if baseline.is_some() { format!("{ratio:.2}") } else { "1.00 (baseline)".to_owned() };
        let us = self.cpu * 1e6 / self.records as f64;
        println!("| {} | {} | {:.0} | {:.1} | {:.2} | {} |", self.name, self.records, rps, mbps, us, shown);
        ratio
    }
}

async fn delete_topics(bootstrap: &str, topics: &[&str]) {
    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", bootstrap).create().unwrap();
    let _ = admin.delete_topics(topics, &AdminOptions::new()).await;
}

/// One comparison: Tributary and the bare producer on the same bytes. `tributary_first`
/// alternates which runs first, so drift of the shared machine does not favour one side.
async fn compare(
    bootstrap: &str,
    label: &str,
    connector: impl Fn(&str) -> BTreeMap<String, String>,
    n: usize,
    tributary_first: bool,
) -> f64 {
    // The bytes to send: Tributary's own output of a warm-up run of the same connector.
    let sample = unique_name(&format!("bench-{label}-sample"));
    create_topic(bootstrap, &sample, 1).await.unwrap();
    run_tributary_process(bootstrap, &connector(&sample), &sample, n);
    let (b, tp) = (bootstrap.to_owned(), sample.clone());
    let records = tokio::task::spawn_blocking(move || read_back(&b, &tp, n)).await.unwrap();
    let bytes: usize = records.iter().map(|r| r.bytes).sum();
    let mut records = Some(records);
    let topic = unique_name(&format!("bench-{label}"));
    let bare_topic = unique_name(&format!("bench-{label}-bare"));
    create_topic(bootstrap, &topic, 1).await.unwrap();
    create_topic(bootstrap, &bare_topic, 1).await.unwrap();
    let mut tributary = None;
    let mut bare = None;
    for side in if tributary_first { [true, false] } else { [false, true] } {
        if side {
            tributary = Some(run_tributary_process(bootstrap, &connector(&topic), &topic, n));
        } else {
            let (b, t, r) = (bootstrap.to_owned(), bare_topic.clone(), records.take().unwrap_or_default());
            let cpu0 = cpu_seconds();
            let d = tokio::task::spawn_blocking(move || run_bare(&b, &t, r)).await.unwrap();
            bare = Some((d, cpu_seconds() - cpu0));
        }
    }
    delete_topics(bootstrap, &[&sample, &topic, &bare_topic]).await;
    let ((t, t_cpu), (b, b_cpu)) = (tributary.unwrap(), bare.unwrap());
    let name = format!("bare rdkafka producer, {label} bytes");
    let base = Row { name, records: n, bytes, secs: b.as_secs_f64(), cpu: b_cpu };
    base.print(None);
    let name = format!("tributary {label} → Kafka (JSON)");
    Row { name, records: n, bytes, secs: t.as_secs_f64(), cpu: t_cpu }.print(Some(&base))
}

/// Runs the worker in a fresh process (this binary, as a child), so its allocator and threads
/// start clean as a real worker's do; returns its elapsed and CPU seconds.
fn run_tributary_process(
    bootstrap: &str,
    connector: &BTreeMap<String, String>,
    topic: &str,
    n: usize,
) -> (Duration, f64) {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .env("BENCH_CHILD_CONNECTOR", serde_json::to_string(connector).unwrap())
        .env("BENCH_CHILD_TOPIC", topic)
        .env("BENCH_RECORDS", n.to_string())
        .env("KAFKA_BOOTSTRAP_SERVERS", bootstrap)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find_map(|l| l.strip_prefix("RESULT ")).unwrap_or_else(|| panic!("child failed: {text}"));
    let mut it = line.split_whitespace().map(|v| v.parse::<f64>().unwrap());
    (Duration::from_secs_f64(it.next().unwrap()), it.next().unwrap())
}

fn child(bootstrap: &str, connector: &str) {
    let connector: BTreeMap<String, String> = serde_json::from_str(connector).unwrap();
    let topic = std::env::var("BENCH_CHILD_TOPIC").unwrap();
    let n: i64 = std::env::var("BENCH_RECORDS").unwrap().parse().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let elapsed = rt.block_on(run_tributary(bootstrap, connector, &topic, n));
    println!("RESULT {} {}", elapsed.as_secs_f64(), cpu_seconds());
}

fn main() {
    let Some(bootstrap) = TestEnv::get().kafka().map(str::to_owned) else { return };
    if let Ok(connector) = std::env::var("BENCH_CHILD_CONNECTOR") {
        return child(&bootstrap, &connector);
    }
    let n = env_or("BENCH_RECORDS", 1_000_000);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("lines.txt");
    let line = "x".repeat(90);
    let text: String = (0..n).map(|i| format!("{i:09} {line}\n")).collect();
    std::fs::write(&input, text).unwrap();
    println!("| run | records | records/s | MB/s | CPU µs/record | records/s ratio to bare producer |");
    println!("|---|---|---|---|---|---|");
    let rounds = env_or("BENCH_ROUNDS", 5);
    let (mut datagen, mut file, mut smt) = (Vec::new(), Vec::new(), Vec::new());
    rt.block_on(async {
        for round in 0..rounds {
            let first = round % 2 == 0;
            let r = compare(
                &bootstrap,
                "datagen-orders",
                |t| {
                    props(&[
                        ("name", &unique_name("bench-datagen")),
                        ("connector.class", "DatagenConnector"),
                        ("kafka.topic", t),
                        ("quickstart", "orders"),
                        ("max.interval", "0"),
                        ("iterations", &n.to_string()),
                        ("random.seed", "1"),
                    ])
                },
                n,
                first,
            )
            .await;
            datagen.push(r);
            let r = compare(
                &bootstrap,
                "datagen-orders-5-transforms",
                |t| {
                    props(&[
                        ("name", &unique_name("bench-smt")),
                        ("connector.class", "DatagenConnector"),
                        ("kafka.topic", t),
                        ("quickstart", "orders"),
                        ("max.interval", "0"),
                        ("iterations", &n.to_string()),
                        ("random.seed", "1"),
                        ("transforms", "insert,rename,mask,tokey,extract"),
                        ("transforms.insert.type", "org.apache.kafka.connect.transforms.InsertField$Value"),
                        ("transforms.insert.static.field", "origin"),
                        ("transforms.insert.static.value", "bench"),
                        ("transforms.rename.type", "org.apache.kafka.connect.transforms.ReplaceField$Value"),
                        ("transforms.rename.renames", "orderunits:units"),
                        ("transforms.mask.type", "org.apache.kafka.connect.transforms.MaskField$Value"),
                        ("transforms.mask.fields", "itemid"),
                        ("transforms.tokey.type", "org.apache.kafka.connect.transforms.ValueToKey"),
                        ("transforms.tokey.fields", "orderid"),
                        ("transforms.extract.type", "org.apache.kafka.connect.transforms.ExtractField$Key"),
                        ("transforms.extract.field", "orderid"),
                    ])
                },
                n,
                first,
            )
            .await;
            smt.push(r);
            let path = input.to_str().unwrap().to_owned();
            let r = compare(
                &bootstrap,
                "file-lines",
                move |t| {
                    props(&[
                        ("name", &unique_name("bench-file")),
                        ("connector.class", "FileStreamSource"),
                        ("file", &path),
                        ("topic", t),
                    ])
                },
                n,
                first,
            )
            .await;
            file.push(r);
        }
    });
    println!(
        "\nmedian ratio over {rounds} rounds: datagen-orders {:.2}, datagen-orders-5-transforms {:.2}, file-lines {:.2}",
        median(datagen),
        median(smt),
        median(file)
    );
}
