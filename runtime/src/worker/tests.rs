//! Worker behaviour that needs no broker: task failures and panics become FAILED statuses.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::config::WorkerConfig;
use super::offsets::MemoryOffsetStore;
use super::{State, Worker};
use crate::api::{
    ConfigDef, ConnectError, ConnectResult, Connector, Converter, Props, Schema, SchemaAndValue, SourceConnector,
    SourceRecord, SourceTask, SourceTaskContext, Value,
};
use crate::plugins::{AnyConnector, ConnectorKind, ConnectorPlugin, ConverterPlugin, Registry};

#[derive(Debug, Default)]
struct Boom;

#[async_trait]
impl Connector for Boom {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }
    async fn start(&mut self, _props: &Props) -> ConnectResult<()> {
        Ok(())
    }
    fn task_configs(&self, max_tasks: usize) -> ConnectResult<Vec<Props>> {
        Ok((0..max_tasks)
            .map(|i| Props::from([("mode".to_owned(), if i == 0 { "panic" } else { "error" }.to_owned())]))
            .collect())
    }
}

impl SourceConnector for Boom {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(BoomTask::default())
    }
}

#[derive(Debug, Default)]
struct BoomTask {
    mode: String,
}

#[async_trait]
impl SourceTask for BoomTask {
    async fn start(&mut self, _ctx: SourceTaskContext, props: &Props) -> ConnectResult<()> {
        self.mode = props.get("mode").cloned().unwrap_or_default();
        Ok(())
    }
    async fn poll(&mut self) -> ConnectResult<Vec<SourceRecord>> {
        if self.mode == "panic" {
            panic!("the task's poll went wrong");
        }
        if self.mode == "idle" {
            tokio::time::sleep(Duration::from_millis(50)).await;
            return Ok(Vec::new());
        }
        Err(ConnectError::fatal("the upstream system refused the login"))
    }
    async fn stop(&mut self) -> ConnectResult<()> {
        Ok(())
    }
}

/// A connector whose task count follows [`GROWING_TASKS`] and that asks for reconfiguration
/// when told to (as a connector watching tables or topics does).
#[derive(Debug, Default)]
struct Growing;

static GROWING_TASKS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
static GROWING_CTX: std::sync::Mutex<Option<crate::api::ConnectorContext>> = std::sync::Mutex::new(None);

#[async_trait]
impl Connector for Growing {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }
    fn initialize(&mut self, ctx: crate::api::ConnectorContext) {
        *GROWING_CTX.lock().unwrap() = Some(ctx);
    }
    async fn start(&mut self, _props: &Props) -> ConnectResult<()> {
        Ok(())
    }
    fn task_configs(&self, _max_tasks: usize) -> ConnectResult<Vec<Props>> {
        let n = GROWING_TASKS.load(std::sync::atomic::Ordering::SeqCst);
        Ok((0..n)
            .map(|i| Props::from([("table".to_owned(), format!("t{i}")), ("mode".to_owned(), "idle".to_owned())]))
            .collect())
    }
}

impl SourceConnector for Growing {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(BoomTask::default())
    }
}

/// A connector whose `start()` and `stop()` take a while (a remote system being slow).
#[derive(Debug, Default)]
struct Slow;

const SLOW: Duration = Duration::from_millis(1500);

#[async_trait]
impl Connector for Slow {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }
    async fn start(&mut self, _props: &Props) -> ConnectResult<()> {
        tokio::time::sleep(SLOW).await;
        Ok(())
    }
    fn task_configs(&self, _max_tasks: usize) -> ConnectResult<Vec<Props>> {
        Ok(Vec::new())
    }
    async fn stop(&mut self) -> ConnectResult<()> {
        tokio::time::sleep(SLOW).await;
        Ok(())
    }
}

impl SourceConnector for Slow {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(BoomTask::default())
    }
}

#[derive(Debug)]
struct Nothing;

impl Converter for Nothing {
    fn from_connect(&self, _: &str, _: Option<&Arc<Schema>>, _: &Value) -> ConnectResult<Option<Vec<u8>>> {
        Ok(None)
    }
    fn to_connect(&self, _: &str, _: Option<&[u8]>) -> ConnectResult<SchemaAndValue> {
        Ok(SchemaAndValue::null())
    }
}

pub(super) fn registry() -> Registry {
    let mut r = Registry::new();
    r.add_connector(ConnectorPlugin {
        class: "test.BoomConnector",
        aliases: &[],
        kind: ConnectorKind::Source,
        task_class: "test.Task",
        factory: || AnyConnector::Source(Box::new(Boom)),
    });
    r.add_connector(ConnectorPlugin {
        class: "test.GrowingConnector",
        aliases: &[],
        kind: ConnectorKind::Source,
        task_class: "test.Task",
        factory: || AnyConnector::Source(Box::new(Growing)),
    });
    r.add_connector(ConnectorPlugin {
        class: "test.SlowConnector",
        aliases: &[],
        kind: ConnectorKind::Source,
        task_class: "test.Task",
        factory: || AnyConnector::Source(Box::new(Slow)),
    });
    r.add_converter(ConverterPlugin {
        class: super::config::DEFAULT_CONVERTER,
        aliases: &[],
        factory: Arc::new(|_: &Props, _: bool| Ok(Box::new(Nothing) as Box<dyn Converter>)),
        config_def: crate::api::ConfigDef::new,
    });
    r.add_header_converter(crate::plugins::HeaderConverterPlugin {
        class: super::converters::DEFAULT_HEADER_CONVERTER,
        aliases: &[],
        factory: |_| Err(ConnectError::fatal("unused")),
        config_def: crate::api::ConfigDef::new,
    });
    r
}

#[tokio::test]
async fn panicking_and_failing_tasks_are_failed_with_their_message_and_the_worker_lives() {
    let config =
        WorkerConfig::from_props(BTreeMap::from([("bootstrap.servers".into(), "127.0.0.1:1".into())])).unwrap();
    let worker = Worker::new(
        config,
        Arc::new(registry()),
        Arc::new(MemoryOffsetStore::default()),
        "w",
        CancellationToken::new(),
    );
    let props = Props::from([
        ("name".to_owned(), "boom".to_owned()),
        ("connector.class".to_owned(), "BoomConnector".to_owned()),
        ("tasks.max".to_owned(), "2".to_owned()),
    ]);
    let err = worker.start_connector(props.clone()).await;
    assert!(err.is_err(), "the header converter factory fails, so the connector must not start");

    let worker = worker_with_headers("w", CancellationToken::new());
    worker.start_connector(props).await.unwrap();
    assert!(worker.wait_tasks(Duration::from_secs(10)).await, "failed tasks end");
    let status = worker.status("boom").await.unwrap();
    assert_eq!(status.tasks[0].state, State::Failed);
    assert!(status.tasks[0].trace.as_deref().unwrap().contains("task panicked: the task's poll went wrong"));
    assert_eq!(status.tasks[1].state, State::Failed);
    assert_eq!(status.tasks[1].trace.as_deref(), Some("the upstream system refused the login"));
    assert!(worker.shutdown().await);
}

#[derive(Debug)]
pub(super) struct NoHeaders;

/// A worker `id` with [`registry`]'s plugins and a working header converter
/// ([`NoHeaders`]), its broker unreachable (127.0.0.1:1), offsets in memory.
pub(super) fn worker_with_headers(id: &str, cancel: CancellationToken) -> Worker {
    let mut r = registry();
    r.add_header_converter(crate::plugins::HeaderConverterPlugin {
        class: "test.Headers",
        aliases: &[],
        factory: |_| Ok(Box::new(NoHeaders)),
        config_def: crate::api::ConfigDef::new,
    });
    let config = WorkerConfig::from_props(BTreeMap::from([
        ("bootstrap.servers".into(), "127.0.0.1:1".into()),
        ("header.converter".into(), "test.Headers".into()),
    ]))
    .unwrap();
    Worker::new(config, Arc::new(r), Arc::new(MemoryOffsetStore::default()), id, cancel)
}

impl crate::api::HeaderConverter for NoHeaders {
    fn from_connect_header(&self, _: &str, _: &str, _: Option<&Schema>, _: &Value) -> ConnectResult<Option<Vec<u8>>> {
        Ok(None)
    }
    fn to_connect_header(&self, _: &str, _: &str, _: Option<&[u8]>) -> ConnectResult<SchemaAndValue> {
        Ok(SchemaAndValue::null())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_connector_start_or_stop_does_not_hold_up_status_reads() {
    let worker = Arc::new(worker_with_headers("w", CancellationToken::new()));
    let props = |name: &str| {
        Props::from([("name".to_owned(), name.to_owned()), ("connector.class".to_owned(), "SlowConnector".to_owned())])
    };
    worker.start_connector(props("slow")).await.unwrap();
    for change in ["restart", "stop", "resume", "put"] {
        let w = worker.clone();
        let p = props("slow");
        let busy = tokio::spawn(async move {
            match change {
                "restart" => w.restart_connector("slow").await,
                "stop" => w.stop_connector("slow").await,
                "resume" => w.resume_connector("slow").await,
                _ => w.put_connector_config("slow", p).await.map(drop),
            }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        let t0 = std::time::Instant::now();
        assert!(worker.status("slow").await.is_some());
        assert_eq!(worker.statuses().await.len(), 1);
        assert!(
            t0.elapsed() < Duration::from_millis(500),
            "{change}: status waited {:?} for the connector",
            t0.elapsed()
        );
        busy.await.unwrap().unwrap();
    }
    assert!(worker.shutdown().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_asking_for_reconfiguration_gets_its_new_tasks() {
    let cancel = CancellationToken::new();
    let worker = Arc::new(worker_with_headers("w", cancel.clone()));
    let serving = {
        let (w, c) = (worker.clone(), cancel.child_token());
        tokio::spawn(async move { w.serve_reconfigurations(c).await })
    };
    let props = Props::from([
        ("name".to_owned(), "growing".to_owned()),
        ("connector.class".to_owned(), "GrowingConnector".to_owned()),
        ("tasks.max".to_owned(), "5".to_owned()),
    ]);
    worker.start_connector(props).await.unwrap();
    let tasks = || async { worker.status("growing").await.unwrap().tasks };
    assert_eq!(tasks().await.len(), 1);
    let ctx = GROWING_CTX.lock().unwrap().clone().unwrap();
    assert_eq!(ctx.connector, "growing");

    // The same answer: nothing restarts.
    ctx.request_task_reconfiguration();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(tasks().await.len(), 1);

    // New tables appear: the connector asks, and three tasks run.
    GROWING_TASKS.store(3, std::sync::atomic::Ordering::SeqCst);
    ctx.request_task_reconfiguration();
    ctx.request_task_reconfiguration();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let t = tasks().await;
        if t.len() == 3 && t.iter().all(|s| s.state == State::Running) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "tasks after reconfiguration: {t:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let configs = worker.task_configs("growing").await.unwrap();
    assert_eq!(configs[2].get("table").map(String::as_str), Some("t2"));
    assert!(worker.shutdown().await);
    cancel.cancel();
    serving.await.unwrap();
}
