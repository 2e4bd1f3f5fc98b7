//! The internal topics: created compacted when missing, checked when present, as Kafka Connect's
//! `KafkaTopicBasedBackingStore` and `TopicAdmin` do.
//!
//! A new topic gets `cleanup.policy=compact`, the store's partitions (the config topic always
//! exactly 1) and replication factor, plus any further topic configs. An existing topic must
//! have `cleanup.policy=compact` and nothing else, and the config topic exactly one partition;
//! otherwise the store refuses to start with Kafka Connect's own message.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::types::RDKafkaErrorCode;

use super::{StoreError, StoreResult, StoreSettings};

/// Which internal topic a store uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopicKind {
    /// `config.storage.topic`: connector and task configs, target states.
    Config,
    /// `offset.storage.topic`: source offsets.
    Offset,
    /// `status.storage.topic`: connector, task and topic statuses.
    Status,
}

impl TopicKind {
    /// The worker key naming the topic.
    pub fn worker_key(self) -> &'static str {
        match self {
            Self::Config => "config.storage.topic",
            Self::Offset => "offset.storage.topic",
            Self::Status => "status.storage.topic",
        }
    }

    /// What the topic holds, in Kafka Connect's words.
    pub fn purpose(self) -> &'static str {
        match self {
            Self::Config => "connector configurations",
            Self::Offset => "source connector offsets",
            Self::Status => "connector and task statuses",
        }
    }

    /// Kafka Connect's default partition count.
    pub fn default_partitions(self) -> i32 {
        match self {
            Self::Config => 1,
            Self::Offset => 25,
            Self::Status => 5,
        }
    }
}

pub(crate) fn client_config(settings: &StoreSettings, role: &str) -> ClientConfig {
    let mut cfg = ClientConfig::new();
    for (k, v) in &settings.client {
        cfg.set(k, v);
    }
    cfg.set("client.id", format!("{}-{role}", settings.client_id));
    cfg
}

/// Creates the topic compacted if it is missing, or checks it if it exists; returns its
/// partition count once the broker's metadata shows it.
pub async fn ensure_topic(kind: TopicKind, settings: &StoreSettings) -> StoreResult<i32> {
    let topic = settings.topic.as_str();
    if topic.trim().is_empty() {
        return Err(StoreError::Config(format!("Must specify topic for {}.", kind.purpose())));
    }
    let admin: AdminClient<DefaultClientContext> = client_config(settings, "admin")
        .create()
        .map_err(|e| StoreError::kafka(topic, "cannot create the admin client", e))?;
    let opts = AdminOptions::new().operation_timeout(Some(settings.timeout)).request_timeout(Some(settings.timeout));
    let partitions = if kind == TopicKind::Config { 1 } else { settings.partitions };
    let mut new_topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(settings.replication_factor));
    for (k, v) in &settings.topic_configs {
        if k != "cleanup.policy" {
            new_topic = new_topic.set(k, v);
        }
    }
    new_topic = new_topic.set("cleanup.policy", "compact");
    let results = admin
        .create_topics([&new_topic], &opts)
        .await
        .map_err(|e| StoreError::kafka(topic, format!("cannot create the topic for {}", kind.purpose()), e))?;
    let mut created = false;
    for r in results {
        match r {
            Ok(_) => created = true,
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => {
                return Err(StoreError::kafka(
                    topic,
                    format!("cannot create the topic for {}", kind.purpose()),
                    rdkafka::error::KafkaError::AdminOp(code),
                ));
            }
        }
    }
    if created {
        tracing::info!(
            topic,
            partitions,
            replication_factor = settings.replication_factor,
            "created the internal topic for {}",
            kind.purpose()
        );
    } else {
        verify_cleanup_policy(&admin, &opts, kind, topic).await?;
    }
    let count = partition_count(settings, settings.timeout).await?;
    if kind == TopicKind::Config && count > 1 {
        return Err(StoreError::Config(format!(
            "Topic '{topic}' supplied via the '{}' property is required to have a single partition in order to \
             guarantee consistency of connector configurations, but found {count} partitions.",
            kind.worker_key()
        )));
    }
    Ok(count)
}

async fn verify_cleanup_policy(
    admin: &AdminClient<DefaultClientContext>,
    opts: &AdminOptions,
    kind: TopicKind,
    topic: &str,
) -> StoreResult<()> {
    let described = admin
        .describe_configs([&ResourceSpecifier::Topic(topic)], opts)
        .await
        .map_err(|e| StoreError::kafka(topic, "cannot describe the topic's configs", e))?;
    let policy =
        described.into_iter().find_map(Result::ok).and_then(|r| r.get("cleanup.policy").and_then(|e| e.value.clone()));
    let Some(policy) = policy else {
        tracing::info!(
            topic,
            "unable to verify the cleanup policy of the topic is 'compact' (older broker or no permission to describe topic configs)"
        );
        return Ok(());
    };
    check_cleanup_policy(kind, topic, &policy)
}

/// Kafka Connect's check: the policy must be exactly `compact`.
pub(crate) fn check_cleanup_policy(kind: TopicKind, topic: &str, policy: &str) -> StoreResult<()> {
    let policies: BTreeSet<&str> = policy.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
    if policies == BTreeSet::from(["compact"]) {
        return Ok(());
    }
    let found = policies.into_iter().collect::<Vec<_>>().join(",");
    let (key, purpose) = (kind.worker_key(), kind.purpose());
    Err(StoreError::Config(format!(
        "Topic '{topic}' supplied via the '{key}' property is required to have 'cleanup.policy=compact' to guarantee \
         consistency and durability of {purpose}, but found the topic currently has 'cleanup.policy={found}'. \
         Continuing would likely result in eventually losing {purpose} and problems restarting this Connect cluster \
         in the future. Change the '{key}' property in the Connect worker configurations to use a topic with \
         'cleanup.policy=compact'."
    )))
}

/// The topic's partition count, waiting (up to `timeout`) for a just-created topic to appear in
/// the metadata.
pub(crate) async fn partition_count(settings: &StoreSettings, timeout: Duration) -> StoreResult<i32> {
    let topic = settings.topic.clone();
    let cfg = client_config(settings, "metadata");
    let blocking = tokio::task::spawn_blocking(move || -> StoreResult<i32> {
        let consumer: BaseConsumer =
            cfg.create().map_err(|e| StoreError::kafka(&topic, "cannot create a metadata client", e))?;
        let deadline = Instant::now() + timeout;
        let mut pause = Duration::from_millis(50);
        loop {
            let md = consumer
                .fetch_metadata(Some(&topic), timeout)
                .map_err(|e| StoreError::kafka(&topic, "cannot read the topic's metadata", e))?;
            let count = md
                .topics()
                .iter()
                .find(|t| t.name() == topic && t.error().is_none())
                .map_or(0, |t| t.partitions().len());
            if count > 0 {
                return i32::try_from(count)
                    .map_err(|_| StoreError::Config(format!("topic {topic} has {count} partitions")));
            }
            if Instant::now() >= deadline {
                return Err(StoreError::Timeout {
                    topic,
                    what: "looking up the partitions of the topic; it may not exist or be unavailable".into(),
                    after: timeout,
                });
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(1000));
        }
    });
    blocking
        .await
        .map_err(|e| StoreError::Config(format!("metadata lookup of topic {} panicked: {e}", settings.topic)))?
}
