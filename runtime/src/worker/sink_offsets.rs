//! Sink connector offsets (KIP-875): the offsets committed by the connector's consumer group
//! `connect-<name>`, shown as Kafka Connect shows them (`{"kafka_topic", "kafka_partition"}` →
//! `{"kafka_offset"}`), changed by committing for the group, and reset by deleting the group.
//! Only called for STOPPED connectors (changes) or read-only (listing); blocking calls, run on
//! the blocking pool.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::Value as Json;

use super::config::WorkerConfig;
use super::kafka;
use super::lifecycle::ChangeError;
use crate::api::{OffsetMap, Props};

const TIMEOUT: Duration = Duration::from_secs(15);

fn failed(what: &str, e: impl std::fmt::Display) -> ChangeError {
    ChangeError::Failed(format!("{what}: {e}"))
}

fn consumer(worker: &WorkerConfig, connector: &str) -> Result<BaseConsumer, ChangeError> {
    kafka::consumer_config(worker, connector, &format!("connector-offsets-{connector}"))
        .create()
        .map_err(|e| failed("cannot create a consumer for the connector's group", e))
}

/// The topics a sink connector reads: `topics`, or the topics matching `topics.regex`.
fn topics_of(consumer: &BaseConsumer, config: &Props) -> Result<Vec<(String, i32)>, ChangeError> {
    let md = consumer.fetch_metadata(None, TIMEOUT).map_err(|e| failed("cannot read the cluster's topics", e))?;
    let listed: Vec<&str> = config
        .get("topics")
        .map(|t| t.split(',').map(str::trim).filter(|t| !t.is_empty()).collect())
        .unwrap_or_default();
    let pattern = config.get("topics.regex").filter(|r| !r.trim().is_empty());
    let regex = match pattern {
        Some(r) => Some(
            regex::Regex::new(&format!("^(?:{r})$"))
                .map_err(|e| ChangeError::BadRequest(format!("invalid topics.regex '{r}': {e}")))?,
        ),
        None => None,
    };
    let mut out = Vec::new();
    for t in md.topics() {
        let wanted = listed.contains(&t.name()) || regex.as_ref().is_some_and(|r| r.is_match(t.name()));
        if wanted {
            out.extend(t.partitions().iter().map(|p| (t.name().to_owned(), p.id())));
        }
    }
    Ok(out)
}

fn partition_map(topic: &str, partition: i32) -> OffsetMap {
    let mut m = OffsetMap::new();
    m.insert("kafka_topic".into(), Json::String(topic.to_owned()));
    m.insert("kafka_partition".into(), Json::from(partition));
    m
}

/// Committed offsets of the connector's group for the partitions it reads.
pub(crate) fn committed(
    worker: &WorkerConfig,
    connector: &str,
    config: &Props,
) -> Result<Vec<(OffsetMap, OffsetMap)>, ChangeError> {
    let c = consumer(worker, connector)?;
    let mut tpl = TopicPartitionList::new();
    for (t, p) in topics_of(&c, config)? {
        tpl.add_partition(&t, p);
    }
    if tpl.count() == 0 {
        return Ok(Vec::new());
    }
    let committed =
        c.committed_offsets(tpl, TIMEOUT).map_err(|e| failed("cannot read the group's committed offsets", e))?;
    let mut out = Vec::new();
    for e in committed.elements() {
        if let Offset::Offset(o) = e.offset() {
            let mut offset = OffsetMap::new();
            offset.insert("kafka_offset".into(), Json::from(o));
            out.push((partition_map(e.topic(), e.partition()), offset));
        }
    }
    Ok(out)
}

/// Reads one sink partition key as Kafka Connect requires it.
fn sink_partition(p: &OffsetMap) -> Result<(String, i32), ChangeError> {
    let topic = p
        .get("kafka_topic")
        .and_then(Json::as_str)
        .ok_or_else(|| ChangeError::BadRequest("Kafka topic names must be valid strings and may not be null".into()))?;
    let partition = p
        .get("kafka_partition")
        .and_then(Json::as_i64)
        .and_then(|v| i32::try_from(v).ok())
        .filter(|v| *v >= 0)
        .ok_or_else(|| ChangeError::BadRequest("Kafka partitions must be valid numbers and may not be null".into()))?;
    Ok((topic.to_owned(), partition))
}

/// Commits the given offsets for the connector's group (the connector is stopped, so the group
/// has no members).
pub(crate) fn alter(
    worker: &WorkerConfig,
    connector: &str,
    _config: &Props,
    changes: Vec<(OffsetMap, Option<OffsetMap>)>,
) -> Result<(), ChangeError> {
    let mut tpl = TopicPartitionList::new();
    let mut resets = Vec::new();
    for (p, o) in &changes {
        let (topic, partition) = sink_partition(p)?;
        let Some(o) = o else {
            resets.push((topic, partition));
            continue;
        };
        let offset = o.get("kafka_offset").and_then(Json::as_i64).filter(|v| *v >= 0).ok_or_else(|| {
            ChangeError::BadRequest("Kafka offsets must be valid numbers and may not be negative".into())
        })?;
        tpl.add_partition_offset(&topic, partition, Offset::Offset(offset))
            .map_err(|e| failed("invalid partition offset", e))?;
    }
    if !resets.is_empty() {
        delete_offsets(worker, connector, &resets)?;
    }
    if tpl.count() == 0 {
        return Ok(());
    }
    let c = consumer(worker, connector)?;
    c.commit(&tpl, CommitMode::Sync).map_err(|e| failed("cannot commit offsets for the connector's group", e))
}

/// Deletes the group's committed offsets of single partitions (a `null` offset), as Kafka
/// Connect does with `Admin.deleteConsumerGroupOffsets`: the next consumer starts them from
/// `auto.offset.reset`. Spoken over Tributary's own Kafka protocol client, which talks to
/// PLAINTEXT listeners only; with another `security.protocol` the error says to reset the whole
/// connector instead.
fn delete_offsets(worker: &WorkerConfig, connector: &str, partitions: &[(String, i32)]) -> Result<(), ChangeError> {
    let protocol = ["consumer.security.protocol", "security.protocol"]
        .iter()
        .find_map(|k| worker.props.get(*k))
        .map(|p| p.trim().to_ascii_uppercase())
        .unwrap_or_else(|| "PLAINTEXT".into());
    if protocol != "PLAINTEXT" {
        return Err(ChangeError::BadRequest(format!(
            "resetting single partitions of a sink connector needs a PLAINTEXT listener in Tributary (this worker uses {protocol}); reset them all with DELETE /connectors/{connector}/offsets"
        )));
    }
    let bootstrap = worker.props.get("consumer.bootstrap.servers").unwrap_or(&worker.bootstrap_servers).clone();
    let group = format!("connect-{connector}");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| failed("runtime", e))?;
    rt.block_on(crate::distributed::group::delete_group_offsets(&bootstrap, &group, partitions, TIMEOUT))
        .map_err(|e| failed("cannot delete the connector's committed offsets", e))
}

/// Deletes the connector's consumer group, which resets every committed offset.
pub(crate) fn reset(worker: &WorkerConfig, connector: &str) -> Result<(), ChangeError> {
    // The consumer's settings (security included), as the connector's own consumers use them.
    let cfg = kafka::consumer_config(worker, connector, &format!("connector-offsets-admin-{connector}"));
    let admin: AdminClient<DefaultClientContext> =
        cfg.create().map_err(|e| failed("cannot create an admin client", e))?;
    let group = format!("connect-{connector}");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| failed("runtime", e))?;
    let results = rt
        .block_on(admin.delete_groups(&[&group], &AdminOptions::new().request_timeout(Some(TIMEOUT))))
        .map_err(|e| failed("cannot delete the connector's consumer group", e))?;
    for r in results {
        match r {
            Ok(_) => {}
            // A group that never committed does not exist: nothing to reset.
            Err((_, rdkafka::types::RDKafkaErrorCode::GroupIdNotFound)) => {}
            Err((g, e)) => return Err(failed(&format!("cannot delete consumer group {g}"), e)),
        }
    }
    Ok(())
}
