//! Group administration librdkafka's admin API lacks: deleting a group's committed offsets for
//! some partitions (Kafka's `Admin.deleteConsumerGroupOffsets`, the OffsetDelete request),
//! which Kafka Connect uses to reset single partitions of a stopped sink connector (KIP-875).

use std::time::Duration;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::offset_delete_request::{OffsetDeleteRequestPartition, OffsetDeleteRequestTopic};
use kafka_protocol::messages::{GroupId, OffsetDeleteRequest, TopicName};
use kafka_protocol::protocol::StrBytes;

use super::GroupError;
use super::connection::Connection;

/// Deletes `group`'s committed offsets of `partitions` (topic, partition), through the group's
/// coordinator. A group that never committed has nothing to delete, which is not an error.
pub async fn delete_group_offsets(
    bootstrap: &str,
    group: &str,
    partitions: &[(String, i32)],
    timeout: Duration,
) -> Result<(), GroupError> {
    let mut conn = Connection::connect_any(bootstrap, "tributary-offsets-admin", timeout).await?;
    let coordinator = conn.find_coordinator(group, timeout).await?;
    if coordinator.addr != conn.addr() {
        conn = Connection::connect(&coordinator.addr, "tributary-offsets-admin", timeout).await?;
    }
    let mut topics: Vec<OffsetDeleteRequestTopic> = Vec::new();
    for (topic, partition) in partitions {
        let p = OffsetDeleteRequestPartition::default().with_partition_index(*partition);
        match topics.iter_mut().find(|t| t.name.as_str() == topic) {
            Some(t) => t.partitions.push(p),
            None => topics.push(
                OffsetDeleteRequestTopic::default()
                    .with_name(TopicName(StrBytes::from_string(topic.clone())))
                    .with_partitions(vec![p]),
            ),
        }
    }
    let request = OffsetDeleteRequest::default()
        .with_group_id(GroupId(StrBytes::from_string(group.to_owned())))
        .with_topics(topics);
    let (response, _version) = conn.send(&request, 0, timeout).await?;
    let not_found = ResponseError::GroupIdNotFound.code();
    if response.error_code != 0 && response.error_code != not_found {
        return Err(GroupError::broker("OffsetDelete", response.error_code));
    }
    for t in &response.topics {
        for p in &t.partitions {
            if p.error_code != 0 {
                return Err(GroupError::broker("OffsetDelete", p.error_code));
            }
        }
    }
    Ok(())
}
