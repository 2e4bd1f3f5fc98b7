//! Connector-defined transaction boundaries (`transaction.boundary=connector`, KIP-618) against
//! Apache Kafka: an in-process exactly-once worker runs a source task that numbers its records
//! and, through its `TransactionContext`, commits after every tenth record and aborts the
//! transaction ending with each x49. Batches of 7 do not line up with those boundaries, so a
//! worker that commits per poll (or ignores the aborts) fails every check:
//! - a read_committed consumer sees every number once, except the aborted x40..x49;
//! - in the one-partition topic each transaction is followed by exactly one control marker, so
//!   number n sits at offset n + n/10;
//! - the task hears `commit_record` once per record, with no metadata for the aborted ones;
//! - the stored source offset is the last record's (aborted records' offsets are committed
//!   too, so a restarted task does not read them again).

mod common;

use common::plugins::registry_with;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rdkafka::message::Message;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tributary_runtime::api::{
    ConfigDef, ConnectResult, Connector, OffsetMap, Props, RecordMetadata, SourceConnector, SourceRecord, SourceTask,
    SourceTaskContext, TransactionContext, Value,
};
use tributary_runtime::distributed::stores::{KafkaOffsetStore, StoreSettings, TopicKind};
use tributary_runtime::plugins::{AnyConnector, ConnectorKind, ConnectorPlugin};
use tributary_runtime::worker::Worker;
use tributary_runtime::worker::config::WorkerConfig;
use tributary_runtime::worker::offsets::OffsetStore;
use tributary_testcontainers::{TestEnv, create_topic, unique_name};

const RECORDS: i64 = 1_000;
const BATCH: i64 = 7;

/// `commit_record` calls: (number, metadata).
static COMMITTED: Mutex<Vec<(i64, Option<RecordMetadata>)>> = Mutex::new(Vec::new());

fn committed() -> std::sync::MutexGuard<'static, Vec<(i64, Option<RecordMetadata>)>> {
    COMMITTED.lock().unwrap_or_else(PoisonError::into_inner)
}

fn aborted(n: i64) -> bool {
    (40..50).contains(&(n % 100))
}

#[derive(Default)]
struct Numbers(Props);

#[async_trait]
impl Connector for Numbers {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }
    async fn start(&mut self, props: &Props) -> ConnectResult<()> {
        self.0 = props.clone();
        Ok(())
    }
    fn task_configs(&self, _max_tasks: usize) -> ConnectResult<Vec<Props>> {
        Ok(vec![self.0.clone()])
    }
}

impl SourceConnector for Numbers {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(NumbersTask { next: 0, topic: String::new(), transactions: None })
    }
    fn exactly_once_support(&self, _config: &Props) -> Option<bool> {
        Some(true)
    }
    fn can_define_transaction_boundaries(&self, _config: &Props) -> bool {
        true
    }
}

struct NumbersTask {
    next: i64,
    topic: String,
    transactions: Option<Arc<TransactionContext>>,
}

fn partition() -> OffsetMap {
    json!({"numbers": "all"}).as_object().cloned().unwrap_or_default()
}

#[async_trait]
impl SourceTask for NumbersTask {
    async fn start(&mut self, ctx: SourceTaskContext, props: &Props) -> ConnectResult<()> {
        self.topic = props.get("topic").cloned().unwrap_or_default();
        self.transactions = ctx.transactions;
        assert!(self.transactions.is_some(), "transaction.boundary=connector hands the task a TransactionContext");
        Ok(())
    }
    async fn poll(&mut self) -> ConnectResult<Vec<SourceRecord>> {
        if self.next >= RECORDS {
            tokio::time::sleep(Duration::from_millis(20)).await;
            return Ok(Vec::new());
        }
        let end = (self.next + BATCH).min(RECORDS);
        let mut batch = Vec::new();
        for n in self.next..end {
            let offset = json!({"n": n}).as_object().cloned().unwrap_or_default();
            let record =
                SourceRecord::new(partition(), offset, self.topic.as_str(), None, Value::String(n.to_string()));
            if let Some(ctx) = &self.transactions
                && n % 10 == 9
            {
                if aborted(n) { ctx.abort_transaction_on(&record) } else { ctx.commit_transaction_on(&record) }
            }
            batch.push(record);
        }
        self.next = end;
        Ok(batch)
    }
    async fn commit_record(&mut self, record: &SourceRecord, metadata: Option<RecordMetadata>) -> ConnectResult<()> {
        let n = match &record.value {
            Value::String(s) => s.parse().unwrap_or(-1),
            _ => -1,
        };
        committed().push((n, metadata));
        Ok(())
    }
    async fn stop(&mut self) -> ConnectResult<()> {
        Ok(())
    }
}

fn registry() -> Arc<tributary_runtime::Registry> {
    registry_with(ConnectorPlugin {
        class: "test.Numbers",
        aliases: &[],
        kind: ConnectorKind::Source,
        task_class: "test.NumbersTask",
        factory: || AnyConnector::Source(Box::<Numbers>::default()),
    })
}

/// (number, offset) of every record in `topic` (one partition) up to its end.
fn read(bootstrap: &str, topic: &str, isolation: &str) -> Vec<(i64, i64)> {
    common::numbers::read_all(bootstrap, topic, isolation, |m| {
        (std::str::from_utf8(m.payload().unwrap_or_default()).unwrap().parse().unwrap(), m.offset())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_commits_and_aborts_where_it_asks() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    let topic = unique_name("boundaries");
    create_topic(bootstrap, &topic, 1).await.unwrap();
    let offsets_topic = unique_name("boundaries-offsets");
    let store = Arc::new(
        KafkaOffsetStore::start(
            &StoreSettings::new(TopicKind::Offset, &offsets_topic, bootstrap).with_replication_factor(1),
        )
        .await
        .unwrap(),
    );
    let group = unique_name("boundaries-group");
    let config = WorkerConfig::from_props(
        [
            ("bootstrap.servers", bootstrap),
            ("listeners", ""),
            ("group.id", group.as_str()),
            ("exactly.once.source.support", "enabled"),
        ]
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect(),
    )
    .unwrap();
    committed().clear();
    let worker = Worker::new(config, registry(), store.clone(), "test", CancellationToken::new());
    let name = unique_name("boundaries");
    let connector: Props = [
        ("name", name.as_str()),
        ("connector.class", "test.Numbers"),
        ("topic", topic.as_str()),
        ("transaction.boundary", "connector"),
        ("value.converter", "org.apache.kafka.connect.storage.StringConverter"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    worker.start_connector(connector).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let calls = committed().len();
        if calls >= RECORDS as usize {
            break;
        }
        let status = worker.status(&name).await;
        assert!(Instant::now() < deadline, "commit_record calls: {calls}; status: {status:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(worker.shutdown().await);

    let visible: Vec<i64> = read(bootstrap, &topic, "read_committed").into_iter().map(|(n, _)| n).collect();
    let expected: Vec<i64> = (0..RECORDS).filter(|n| !aborted(*n)).collect();
    let unexpected: Vec<&i64> = visible.iter().filter(|n| aborted(**n)).collect();
    assert!(unexpected.is_empty(), "read_committed sees aborted records: {unexpected:?}");
    assert_eq!(visible, expected, "read_committed sees every number once, except the aborted x40..x49");

    let all = read(bootstrap, &topic, "read_uncommitted");
    assert_eq!(all.len(), RECORDS as usize, "every record was written once, aborted ones included");
    for (n, offset) in &all {
        assert_eq!(*offset, n + n / 10, "number {n}: one transaction marker after every tenth record");
    }

    let calls = committed().clone();
    assert_eq!(calls.iter().map(|(n, _)| *n).collect::<Vec<_>>(), (0..RECORDS).collect::<Vec<_>>());
    for (n, metadata) in &calls {
        match metadata {
            None => assert!(aborted(*n), "number {n} was committed but the task heard of no metadata"),
            Some(m) => {
                assert!(!aborted(*n), "number {n} was aborted but the task heard of {m:?}");
                assert_eq!(m.offset, n + n / 10, "number {n}");
            }
        }
    }

    store.read_to_end().await.unwrap();
    let stored = store.get(&name, &partition()).await.unwrap();
    assert_eq!(stored, json!({"n": RECORDS - 1}).as_object().cloned(), "the last record's offset is stored");
    store.stop();
}
