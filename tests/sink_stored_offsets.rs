//! A sink task that stores its offsets in its target (as an exactly-once SQL sink does, in the
//! same transaction as the rows) makes the worker resume where the target says, not where the
//! consumer group committed: an in-process worker with a sink whose "target" is shared memory.

mod common;

use common::plugins::{OneTaskSink, registry_with};

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;
use tributary_runtime::api::{
    ConnectResult, Props, SinkOffsets, SinkRecord, SinkTask, SinkTaskContext, TopicPartition,
};
use tributary_runtime::plugins::{AnyConnector, ConnectorKind, ConnectorPlugin};
use tributary_runtime::worker::Worker;
use tributary_runtime::worker::config::WorkerConfig;
use tributary_runtime::worker::offsets::MemoryOffsetStore;
use tributary_testcontainers::{TestEnv, create_topic, unique_name};

/// The target: rows (the Kafka offsets written) and the next offset per partition, changed
/// together, as one database transaction would.
#[derive(Default)]
struct Target {
    rows: Vec<i64>,
    next: BTreeMap<TopicPartition, i64>,
}

static TARGET: Mutex<Option<Target>> = Mutex::new(None);

fn target<T>(f: impl FnOnce(&mut Target) -> T) -> T {
    let mut guard = TARGET.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    f(guard.get_or_insert_with(Target::default))
}

#[derive(Default)]
struct InTargetTask;

#[async_trait]
impl SinkTask for InTargetTask {
    async fn start(&mut self, _ctx: SinkTaskContext, _props: &Props) -> ConnectResult<()> {
        Ok(())
    }
    async fn stored_offsets(&mut self, partitions: &[TopicPartition]) -> ConnectResult<SinkOffsets> {
        Ok(target(|t| partitions.iter().filter_map(|p| t.next.get(p).map(|n| (p.clone(), *n))).collect()))
    }
    async fn put(&mut self, records: Vec<SinkRecord>) -> ConnectResult<()> {
        target(|t| {
            for r in records {
                t.rows.push(r.kafka_offset);
                t.next.insert(
                    TopicPartition { topic: r.topic.clone(), partition: r.kafka_partition },
                    r.kafka_offset + 1,
                );
            }
        });
        Ok(())
    }
    async fn pre_commit(&mut self, _offsets: SinkOffsets) -> ConnectResult<SinkOffsets> {
        // The target holds the offsets: nothing for the group.
        Ok(SinkOffsets::new())
    }
    async fn stop(&mut self) -> ConnectResult<()> {
        Ok(())
    }
}

fn registry() -> Arc<tributary_runtime::Registry> {
    registry_with(ConnectorPlugin {
        class: "test.InTargetSink",
        aliases: &[],
        kind: ConnectorKind::Sink,
        task_class: "test.InTargetTask",
        factory: || AnyConnector::Sink(Box::<OneTaskSink<InTargetTask>>::default()),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_resumes_at_the_offset_its_target_stored_not_the_groups() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    let topic = unique_name("in-target");
    create_topic(bootstrap, &topic, 1).await.unwrap();
    let producer: BaseProducer = ClientConfig::new().set("bootstrap.servers", bootstrap).create().unwrap();
    for i in 0..100 {
        producer.send(BaseRecord::<str, str>::to(&topic).payload(&format!("r{i}"))).map_err(|(e, _)| e).unwrap();
    }
    producer.flush(Duration::from_secs(10)).unwrap();
    // The group committed offset 80; the target says it holds everything before 40.
    let name = unique_name("in-target");
    let group: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("connect-{name}"))
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&topic, 0, Offset::Offset(80)).unwrap();
    group.commit(&tpl, CommitMode::Sync).unwrap();
    drop(group);
    target(|t| {
        *t = Target::default();
        t.next.insert(TopicPartition { topic: topic.clone(), partition: 0 }, 40);
    });

    let config = WorkerConfig::from_props(
        [("bootstrap.servers", bootstrap), ("listeners", "")].iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
    )
    .unwrap();
    let worker =
        Worker::new(config, registry(), Arc::new(MemoryOffsetStore::default()), "test", CancellationToken::new());
    let connector: Props = [
        ("name", name.as_str()),
        ("connector.class", "test.InTargetSink"),
        ("topics", topic.as_str()),
        ("value.converter", "org.apache.kafka.connect.storage.StringConverter"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    worker.start_connector(connector).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while target(|t| t.rows.len()) < 60 {
        assert!(Instant::now() < deadline, "rows: {:?}", target(|t| t.rows.clone()));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(worker.shutdown().await);
    let rows = target(|t| t.rows.clone());
    assert_eq!(rows, (40..100).collect::<Vec<i64>>(), "the sink resumed at the target's offset 40, once each");
}
