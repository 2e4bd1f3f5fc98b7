//! Exactly-once into a transactional target: a test sink writes each batch of rows and the
//! next offset of each partition in one SQLite transaction, and tells the worker those offsets
//! on assignment (`stored_offsets`). The worker runs in a child process (this test binary, in
//! its `sqlite_sink_child` entry) that is SIGKILLed three times mid-stream and started again;
//! at the end the table holds every record exactly once.

mod common;

use common::plugins::{OneTaskSink, registry_with};
use common::send_waiting;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rdkafka::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rusqlite::{Connection, params};
use tokio_util::sync::CancellationToken;
use tributary_runtime::api::{
    ConnectError, ConnectResult, Props, SinkOffsets, SinkRecord, SinkTask, SinkTaskContext, TopicPartition,
};
use tributary_runtime::plugins::{AnyConnector, ConnectorKind, ConnectorPlugin};
use tributary_runtime::worker::Worker;
use tributary_runtime::worker::config::WorkerConfig;
use tributary_runtime::worker::offsets::MemoryOffsetStore;
use tributary_testcontainers::{TestEnv, create_topic, unique_name};

const CHILD: &str = "TRIBUTARY_TEST_SQLITE_SINK";

/// Rows and offsets in one database, changed in one transaction per batch.
#[derive(Default)]
struct SqliteTask {
    db: Option<Connection>,
}

fn sql(e: rusqlite::Error) -> ConnectError {
    ConnectError::fatal(format!("sqlite: {e}"))
}

fn open(path: &str) -> rusqlite::Result<Connection> {
    let db = Connection::open(path)?;
    db.busy_timeout(Duration::from_secs(10))?;
    db.pragma_update(None, "journal_mode", "WAL")?;
    db.execute_batch(
        "CREATE TABLE IF NOT EXISTS rows (topic TEXT, partition INTEGER, kafka_offset INTEGER, value TEXT);
         CREATE TABLE IF NOT EXISTS offsets (topic TEXT, partition INTEGER, next INTEGER, PRIMARY KEY (topic, partition));",
    )?;
    Ok(db)
}

#[async_trait]
impl SinkTask for SqliteTask {
    async fn start(&mut self, _ctx: SinkTaskContext, props: &Props) -> ConnectResult<()> {
        let path = std::env::var("SQLITE_SINK_DB").map_err(|_| ConnectError::config("db", "SQLITE_SINK_DB unset"))?;
        let _ = props;
        self.db = Some(open(&path).map_err(sql)?);
        Ok(())
    }
    async fn stored_offsets(&mut self, partitions: &[TopicPartition]) -> ConnectResult<SinkOffsets> {
        let db = self.db.as_ref().ok_or_else(|| ConnectError::fatal("not started"))?;
        let mut out = SinkOffsets::new();
        for p in partitions {
            let next: Option<i64> = db
                .query_row(
                    "SELECT next FROM offsets WHERE topic = ?1 AND partition = ?2",
                    params![p.topic, p.partition],
                    |r| r.get(0),
                )
                .ok();
            if let Some(n) = next {
                out.insert(p.clone(), n);
            }
        }
        Ok(out)
    }
    async fn put(&mut self, records: Vec<SinkRecord>) -> ConnectResult<()> {
        let db = self.db.as_mut().ok_or_else(|| ConnectError::fatal("not started"))?;
        let tx = db.transaction().map_err(sql)?;
        let mut next: BTreeMap<(String, i32), i64> = BTreeMap::new();
        for r in &records {
            let value = match &r.value {
                tributary_runtime::api::Value::String(s) => s.clone(),
                other => format!("{other:?}"),
            };
            tx.execute(
                "INSERT INTO rows (topic, partition, kafka_offset, value) VALUES (?1, ?2, ?3, ?4)",
                params![r.topic, r.kafka_partition, r.kafka_offset, value],
            )
            .map_err(sql)?;
            next.insert((r.topic.clone(), r.kafka_partition), r.kafka_offset + 1);
        }
        for ((topic, partition), n) in next {
            tx.execute(
                "INSERT INTO offsets (topic, partition, next) VALUES (?1, ?2, ?3)
                 ON CONFLICT (topic, partition) DO UPDATE SET next = excluded.next",
                params![topic, partition, n],
            )
            .map_err(sql)?;
        }
        tx.commit().map_err(sql)
    }
    async fn pre_commit(&mut self, _offsets: SinkOffsets) -> ConnectResult<SinkOffsets> {
        // The database holds the offsets; the group's are not used.
        Ok(SinkOffsets::new())
    }
    async fn stop(&mut self) -> ConnectResult<()> {
        Ok(())
    }
}

/// The child process: a worker running the SQLite sink until it is killed.
#[test]
#[ignore = "run by sqlite_sink_rows_equal_records_across_sigkills as its worker process"]
fn sqlite_sink_child() {
    let (Ok(bootstrap), Ok(topic), Ok(name)) =
        (std::env::var(CHILD), std::env::var("SQLITE_SINK_TOPIC"), std::env::var("SQLITE_SINK_NAME"))
    else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let r = registry_with(ConnectorPlugin {
            class: "test.SqliteSink",
            aliases: &[],
            kind: ConnectorKind::Sink,
            task_class: "test.SqliteTask",
            factory: || AnyConnector::Sink(Box::<OneTaskSink<SqliteTask>>::default()),
        });
        let config = WorkerConfig::from_props(
            [("bootstrap.servers", bootstrap.as_str()), ("listeners", "")]
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
        )
        .unwrap();
        let worker = Worker::new(config, r, Arc::new(MemoryOffsetStore::default()), "child", CancellationToken::new());
        let connector: Props = [
            ("name", name.as_str()),
            ("connector.class", "test.SqliteSink"),
            ("topics", topic.as_str()),
            ("key.converter", "org.apache.kafka.connect.storage.StringConverter"),
            ("value.converter", "org.apache.kafka.connect.storage.StringConverter"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        worker.start_connector(connector).await.unwrap();
        std::future::pending::<()>().await;
    });
}

fn spawn_child(bootstrap: &str, topic: &str, name: &str, db: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "sqlite_sink_child", "--nocapture"])
        .env(CHILD, bootstrap)
        .env("SQLITE_SINK_TOPIC", topic)
        .env("SQLITE_SINK_NAME", name)
        .env("SQLITE_SINK_DB", db)
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(format!("{db}.child.log")).unwrap()))
        .spawn()
        .unwrap()
}

#[test]
fn sqlite_sink_rows_equal_records_across_sigkills() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("target.db").display().to_string();
    let topic = unique_name("eos-sink");
    let name = unique_name("sqlite-sink");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(create_topic(bootstrap, &topic, 3)).unwrap();
    let n: i64 = 100_000;
    let producer: BaseProducer =
        ClientConfig::new().set("bootstrap.servers", bootstrap).set("linger.ms", "20").create().unwrap();
    for i in 0..n {
        let value = format!("v{i}");
        send_waiting(&producer, BaseRecord::<str, str>::to(&topic).payload(&value).key(&value));
    }
    producer.flush(Duration::from_secs(60)).unwrap();

    // A reader of its own, read-only: the child writes all along (WAL lets both go on).
    let count = |sql: &str| -> i64 {
        Connection::open_with_flags(&db_path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|db| {
                db.busy_timeout(Duration::from_secs(10))?;
                db.query_row(sql, [], |r| r.get(0))
            })
            .unwrap_or_else(|e| {
                eprintln!("reading {db_path}: {e}");
                0
            })
    };
    let mut child = spawn_child(bootstrap, &topic, &name, &db_path);
    for share in [20, 50, 80] {
        let deadline = Instant::now() + Duration::from_secs(120);
        while count("SELECT COUNT(*) FROM rows") < n * share / 100 {
            assert!(Instant::now() < deadline, "the sink stalled at {} rows", count("SELECT COUNT(*) FROM rows"));
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        child = spawn_child(bootstrap, &topic, &name, &db_path);
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while count("SELECT COUNT(*) FROM rows") < n {
        assert!(Instant::now() < deadline, "the sink stalled at {} rows", count("SELECT COUNT(*) FROM rows"));
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(2));
    child.kill().unwrap();
    child.wait().unwrap();
    let rows = count("SELECT COUNT(*) FROM rows");
    let distinct = count("SELECT COUNT(DISTINCT value) FROM rows");
    println!("3 SIGKILLs of the sink worker: {n} records, {rows} rows, {distinct} distinct values");
    assert_eq!((rows, distinct), (n, n), "rows must equal records exactly");
}
