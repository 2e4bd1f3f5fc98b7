//! The distributed herder: one worker of a Connect cluster, as Kafka Connect's
//! `DistributedHerder`.
//!
//! # How a cluster works
//!
//! Every worker reads the config topic to its end, then joins the group with its REST URL and
//! the config offset it has read as metadata ([`group`](super::group)). The coordinator elects
//! a leader, which assigns connectors and tasks with the [`IncrementalCooperativeAssignor`]
//! (KIP-415): a rebalance revokes only what must move; members stop what was revoked and rejoin
//! at once so the leader can hand it out; a departed worker's work is held for
//! `scheduled.rebalance.max.delay.ms`, after which every member rejoins and it is reassigned.
//!
//! A connector instance and each of its tasks are separate units of work. The worker that runs
//! connector `x` asks it for task configs; the leader writes them to the config topic (a
//! follower sends them to the leader over Kafka Connect's internal
//! `POST /connectors/x/tasks`). When the leader reads a change in the set of connectors or in
//! a connector's task count, it rejoins, and the next assignment starts the new tasks.
//!
//! Reads are answered locally from the stores (every worker reads every topic). Changes are
//! made by the leader: it writes the config record and waits until it has read it back;
//! a follower's REST API forwards them to the leader's URL (see
//! [`Herder::write_route`](crate::herder::Herder::write_route)). While a rebalance runs, or the
//! worker knows its config is stale, changes are refused with Kafka Connect's 409 messages.
//!
//! Statuses of the units a worker runs are written to the status topic with its worker id and
//! generation; source offsets go to the offset topic through the [`KafkaOffsetStore`].
//!
//! Not done yet: KIP-507 signing of internal requests (the task-config endpoint trusts its
//! callers, as Kafka Connect does with `inter.worker.key.*` unset in old versions), exactly-once
//! source fencing, cluster-wide logger levels.

mod api;
mod config;
mod fencing;
mod members;
mod reconcile;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::group::{GroupError, GroupMember, IncrementalCooperativeAssignor};
use super::stores::{KafkaConfigStore, KafkaOffsetStore, KafkaStatusStore, StoreError};
use crate::plugins::Registry;
use crate::worker::Worker;
use crate::worker::config::WorkerConfig;
use crate::worker::offsets::OffsetStore;

pub use config::{DistributedConfig, distributed_config_def};

/// Kafka Connect's 409 while a rebalance is expected (`RebalanceNeededException`, as the REST
/// layer words it).
pub const STALE_CONFIG: &str =
    "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)";
/// Kafka Connect's 409 when the leader is not known yet.
pub const NO_LEADER: &str =
    "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway.";
/// Kafka Connect's 409 when a forwarded request reaches a worker that cannot handle it.
pub const CONFLICTING_OPERATION: &str =
    "Cannot complete request because of a conflicting operation (e.g. worker rebalance)";

/// Why the herder could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HerderError {
    /// An internal topic could not be created, checked or read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The group could not be joined.
    #[error(transparent)]
    Group(#[from] GroupError),
    /// The HTTP client for talking to other workers could not be built.
    #[error("cannot build the HTTP client for other workers: {0}")]
    Http(String),
    /// Exactly-once source support is enabled but the Kafka cluster cannot do transactions.
    #[error(
        "exactly.once.source.support=enabled, but the Kafka cluster at {bootstrap} cannot do transactions: {reason}. \
         Use a cluster whose transaction coordinator works (transaction.state.log.replication.factor no larger than \
         its number of brokers), or set exactly.once.source.support=disabled"
    )]
    NoTransactions {
        /// The cluster.
        bootstrap: String,
        /// What the probe got.
        reason: String,
    },
}

/// What this worker knows of the group.
#[derive(Debug, Clone, Default)]
pub(crate) struct View {
    generation: i32,
    is_leader: bool,
    leader_url: Option<String>,
    /// A rebalance runs or is expected: changes are refused.
    rebalancing: bool,
    /// Joined at least once.
    joined: bool,
}

/// State shared by the REST side and the membership loop.
#[derive(Debug)]
pub(crate) struct Inner {
    cfg: DistributedConfig,
    worker: Arc<Worker>,
    configs: KafkaConfigStore,
    statuses: KafkaStatusStore,
    offsets: Arc<KafkaOffsetStore>,
    view: Mutex<View>,
    http: reqwest::Client,
    /// Why the worker gave up (it left the group and cannot go on as configured).
    failure: tokio::sync::watch::Sender<Option<String>>,
}

impl Inner {
    /// Records why the worker cannot go on; [`DistributedHerder::failed`] returns it.
    fn fail(&self, reason: String) {
        self.failure.send_replace(Some(reason));
    }

    fn view(&self) -> std::sync::MutexGuard<'_, View> {
        // Updates are whole assignments of plain fields: a poisoned view is still consistent.
        self.view.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Checks that the cluster can do transactions before any source task counts on them: a
/// producer with the transactional id `<group.id>-exactly-once-probe` must initialise within
/// 15 s.
async fn probe_transactions(cfg: &DistributedConfig, worker: &WorkerConfig) -> Result<(), HerderError> {
    let mut config = crate::worker::kafka::producer_config(worker, "exactly-once-probe");
    config.set("transactional.id", format!("{}-exactly-once-probe", cfg.group.group_id));
    let bootstrap = worker.bootstrap_servers.clone();
    let refused = |reason: String| HerderError::NoTransactions { bootstrap: bootstrap.clone(), reason };
    let producer: rdkafka::producer::BaseProducer =
        config.create().map_err(|e| refused(format!("cannot create a transactional producer ({e})")))?;
    tracing::info!("exactly-once source support: checking that the Kafka cluster can do transactions");
    let outcome = tokio::task::spawn_blocking(move || {
        use rdkafka::producer::Producer;
        producer.init_transactions(Duration::from_secs(15))
    })
    .await
    .map_err(|e| refused(e.to_string()))?;
    outcome.map_err(|e| {
        if e.to_string().contains("Timed out") {
            refused(format!("no transaction coordinator became available within 15 s ({e})"))
        } else {
            refused(e.to_string())
        }
    })
}

/// One worker of a distributed cluster. See the [module docs](self).
#[derive(Debug)]
pub struct DistributedHerder {
    inner: Arc<Inner>,
    cancel: CancellationToken,
    tracker: tokio_util::task::TaskTracker,
    /// The membership loop until [`DistributedHerder::join`] starts it.
    membership: Mutex<Option<members::Membership>>,
}

impl DistributedHerder {
    /// Creates or checks the internal topics and reads them; [`join`](Self::join) then joins
    /// the group (once the REST API listens, so other workers can reach it).
    pub async fn start(
        cfg: DistributedConfig,
        worker_config: WorkerConfig,
        registry: Arc<Registry>,
        cancel: CancellationToken,
    ) -> Result<Self, HerderError> {
        if crate::worker::exactly_once::ExactlyOnceSupport::enabled(&worker_config) {
            probe_transactions(&cfg, &worker_config).await?;
        }
        let offsets = Arc::new(KafkaOffsetStore::start(&cfg.offset_topic).await?);
        let configs = KafkaConfigStore::start(&cfg.config_topic).await?;
        let statuses = KafkaStatusStore::start(&cfg.status_topic).await?;
        tracing::info!(
            group = %cfg.group.group_id,
            config = %cfg.config_topic.topic,
            offsets = %cfg.offset_topic.topic,
            status = %cfg.status_topic.topic,
            config_offset = configs.snapshot().offset,
            "internal topics ready"
        );
        let store: Arc<dyn OffsetStore> = offsets.clone();
        let worker = Arc::new(Worker::new(worker_config, registry, store, cfg.worker_id.clone(), cancel.child_token()));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| HerderError::Http(e.to_string()))?;
        let inner = Arc::new(Inner {
            cfg,
            worker,
            configs,
            statuses,
            offsets,
            view: Mutex::new(View { rebalancing: true, ..View::default() }),
            http,
            failure: tokio::sync::watch::channel(None).0,
        });
        let assignor = Arc::new(IncrementalCooperativeAssignor::new(inner.cfg.scheduled_rebalance_max_delay));
        let member = GroupMember::new(inner.cfg.group.clone(), inner.cfg.advertised_url.clone(), -1, assignor.clone());
        let membership = Mutex::new(Some(members::Membership::new(inner.clone(), member, assignor)));
        Ok(Self { inner, cancel, tracker: tokio_util::task::TaskTracker::new(), membership })
    }

    /// Starts the membership loop: it joins the group in the background and runs what it is
    /// assigned; [`joined`](Self::joined) tells when the first join is done. Idempotent.
    pub fn join(&self) {
        let membership = self.membership.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(m) = membership {
            self.tracker.spawn(m.run(self.cancel.clone()));
        }
        self.tracker.close();
    }

    /// The worker running this herder's units.
    pub fn worker(&self) -> &Arc<Worker> {
        &self.inner.worker
    }

    /// Waits until the worker gives up for good (its config does not fit the group's, e.g. a
    /// different `config.storage.topic`) and returns why; by then it has left the group.
    pub async fn failed(&self) -> String {
        let mut rx = self.inner.failure.subscribe();
        loop {
            if let Some(reason) = rx.borrow_and_update().clone() {
                return reason;
            }
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// Whether this worker has joined the group at least once.
    pub fn joined(&self) -> bool {
        self.inner.view().joined
    }

    /// Stops: units drain and store their offsets, the worker leaves the group (so the others
    /// rebalance at once), the stores stop. Returns whether everything stopped in time.
    pub async fn shutdown(&self) -> bool {
        self.cancel.cancel();
        let deadline = self.inner.worker.config().task_shutdown_timeout * 2 + Duration::from_secs(15);
        let clean = tokio::time::timeout(deadline, self.tracker.wait()).await.is_ok();
        if !clean {
            tracing::warn!("the membership loop did not stop in time");
        }
        // Whatever the loop could not stop (it timed out) stops here.
        self.inner.worker.stop_all_units().await;
        let worker_clean = self.inner.worker.shutdown().await;
        self.inner.configs.stop();
        self.inner.statuses.stop();
        self.inner.offsets.stop();
        clean && worker_clean
    }
}
