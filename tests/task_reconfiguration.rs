//! Task reconfiguration in distributed mode (issue 6): a connector that finds new work (new
//! tables, new topics) asks through its `ConnectorContext`; the herder publishes the new task
//! configs to the config topic and the tasks follow, without restarting the connector.
//!
//! An in-process distributed worker against the test broker, with a test connector whose
//! task count the test controls.

mod common;

use common::plugins::registry_with;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;
use tributary_runtime::api::{
    ConfigDef, ConnectResult, Connector, ConnectorContext, Props, SourceConnector, SourceRecord, SourceTask,
    SourceTaskContext,
};
use tributary_runtime::distributed::herder::{DistributedConfig, DistributedHerder};
use tributary_runtime::herder::Herder;
use tributary_runtime::plugins::{AnyConnector, ConnectorKind, ConnectorPlugin, Registry};
use tributary_runtime::worker::config::WorkerConfig;
use tributary_runtime::worker::{State, TargetState};
use tributary_testcontainers::{TestEnv, unique_name};

static TABLES: AtomicUsize = AtomicUsize::new(1);
static CONTEXT: Mutex<Option<ConnectorContext>> = Mutex::new(None);
static STARTS: AtomicUsize = AtomicUsize::new(0);

/// One task per "table"; the count is [`TABLES`].
struct Tables;

#[async_trait]
impl Connector for Tables {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }
    fn initialize(&mut self, ctx: ConnectorContext) {
        *CONTEXT.lock().unwrap() = Some(ctx);
    }
    async fn start(&mut self, _props: &Props) -> ConnectResult<()> {
        STARTS.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    fn task_configs(&self, max_tasks: usize) -> ConnectResult<Vec<Props>> {
        let n = TABLES.load(Ordering::SeqCst).min(max_tasks);
        Ok((0..n).map(|i| Props::from([("table".to_owned(), format!("t{i}"))])).collect())
    }
}

impl SourceConnector for Tables {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(Idle)
    }
}

struct Idle;

#[async_trait]
impl SourceTask for Idle {
    async fn start(&mut self, _ctx: SourceTaskContext, _props: &Props) -> ConnectResult<()> {
        Ok(())
    }
    async fn poll(&mut self) -> ConnectResult<Vec<SourceRecord>> {
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok(Vec::new())
    }
    async fn stop(&mut self) -> ConnectResult<()> {
        Ok(())
    }
}

fn registry() -> Arc<Registry> {
    registry_with(ConnectorPlugin {
        class: "test.TablesConnector",
        aliases: &[],
        kind: ConnectorKind::Source,
        task_class: "test.TablesTask",
        factory: || AnyConnector::Source(Box::new(Tables)),
    })
}

async fn wait_tasks(herder: &DistributedHerder, name: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(s) = herder.connector_status(name).await
            && s.tasks.len() == n
            && s.tasks.iter().all(|t| t.state == State::Running)
        {
            return;
        }
        assert!(Instant::now() < deadline, "{name} never ran {n} tasks: {:?}", herder.connector_status(name).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_task_configs_requested_by_a_connector_are_published_and_run() {
    let Some(kafka) = TestEnv::get().kafka() else { return };
    let id = unique_name("reconf");
    let props: BTreeMap<String, String> = [
        ("bootstrap.servers", kafka),
        ("group.id", &id),
        ("config.storage.topic", &format!("{id}-configs")),
        ("offset.storage.topic", &format!("{id}-offsets")),
        ("status.storage.topic", &format!("{id}-status")),
        ("config.storage.replication.factor", "1"),
        ("offset.storage.replication.factor", "1"),
        ("status.storage.replication.factor", "1"),
        ("offset.storage.partitions", "1"),
        ("status.storage.partitions", "1"),
        ("session.timeout.ms", "6000"),
        ("heartbeat.interval.ms", "1000"),
        ("scheduled.rebalance.max.delay.ms", "1000"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let dcfg = DistributedConfig::from_props(&props, "http://127.0.0.1:9").unwrap();
    let worker = WorkerConfig::from_props(props).unwrap();
    let cancel = CancellationToken::new();
    let herder = DistributedHerder::start(dcfg, worker, registry(), cancel.child_token()).await.unwrap();
    herder.join();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !herder.joined() {
        assert!(Instant::now() < deadline, "the worker never joined its group");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let name = format!("{id}-tables");
    let config = Props::from([
        ("name".to_owned(), name.clone()),
        ("connector.class".to_owned(), "test.TablesConnector".to_owned()),
        ("tasks.max".to_owned(), "4".to_owned()),
    ]);
    // The leader may still be settling its first assignment: retry a refused write.
    let deadline = Instant::now() + Duration::from_secs(60);
    while let Err(e) = herder.create_connector(config.clone(), TargetState::Started).await {
        assert!(Instant::now() < deadline, "cannot create the connector: {e}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    wait_tasks(&herder, &name, 1).await;
    let starts = STARTS.load(Ordering::SeqCst);

    TABLES.store(3, Ordering::SeqCst);
    CONTEXT.lock().unwrap().clone().expect("the connector got its context").request_task_reconfiguration();
    wait_tasks(&herder, &name, 3).await;
    let configs = herder.task_configs(&name).await.unwrap();
    let tables: Vec<&str> = configs.iter().filter_map(|c| c.get("table").map(String::as_str)).collect();
    assert_eq!(tables, ["t0", "t1", "t2"], "task configs in the config topic");
    assert_eq!(STARTS.load(Ordering::SeqCst), starts, "the connector itself was not restarted");

    assert!(herder.shutdown().await);
    cancel.cancel();
}
