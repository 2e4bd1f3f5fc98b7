//! Counting numbered records in Kafka: what the exactly-once tests check (each number once, no
//! gap), read as a read_committed consumer sees them.

use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{BorrowedMessage, Message};
use tributary_testcontainers::unique_name;

use super::wait_until;

/// Whatever `each` takes from every record of `topic` (all partitions) up to its current end,
/// read with `isolation` (`read_committed` or `read_uncommitted`).
pub(crate) fn read_all<T>(
    bootstrap: &str,
    topic: &str,
    isolation: &str,
    mut each: impl FnMut(&BorrowedMessage<'_>) -> T,
) -> Vec<T> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique_name("test-reader"))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("isolation.level", isolation)
        .set("enable.partition.eof", "true")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let partitions =
        consumer.fetch_metadata(Some(topic), Duration::from_secs(10)).unwrap().topics()[0].partitions().len();
    let mut at_end = 0;
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    while at_end < partitions && Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(500)) {
            Some(Ok(m)) => out.push(each(&m)),
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(_))) => at_end += 1,
            Some(Err(e)) => panic!("reading {topic}: {e}"),
            None => {}
        }
    }
    out
}

/// Every number a read_committed consumer reads from `topic` (all partitions) up to its current
/// end, each taken from a record's value by `number`.
pub(crate) fn committed_numbers(bootstrap: &str, topic: &str, number: impl Fn(&[u8]) -> u64) -> Vec<u64> {
    read_all(bootstrap, topic, "read_committed", |m| number(m.payload().unwrap_or_default()))
}

/// (missing numbers below `count`, duplicate deliveries).
pub(crate) fn tally(numbers: &[u64], count: u64) -> (u64, u64) {
    let mut seen = vec![0u32; usize::try_from(count).unwrap()];
    for n in numbers {
        seen[usize::try_from(*n).unwrap()] += 1;
    }
    let missing = seen.iter().filter(|n| **n == 0).count() as u64;
    let duplicates = seen.iter().map(|n| u64::from(n.saturating_sub(1))).sum();
    (missing, duplicates)
}

/// The end offset of one partition of `topic` (0 when it cannot be read).
pub(crate) fn end_offset(bootstrap: &str, topic: &str, partition: i32) -> i64 {
    let consumer: BaseConsumer = ClientConfig::new().set("bootstrap.servers", bootstrap).create().unwrap();
    consumer.fetch_watermarks(topic, partition, Duration::from_secs(10)).map(|w| w.1).unwrap_or(0)
}

/// The sum of the end offsets of `topic`'s `partitions`.
pub(crate) fn end_offsets(bootstrap: &str, topic: &str, partitions: i32) -> i64 {
    (0..partitions).map(|p| end_offset(bootstrap, topic, p)).sum()
}

/// Waits until `topic` holds at least `count` records and stopped growing (its writer is done).
pub(crate) fn settled(bootstrap: &str, topic: &str, partitions: i32, count: u64) {
    let mut last = (-1, Instant::now());
    wait_until("the connector to have written every record", Duration::from_secs(300), || {
        let now = end_offsets(bootstrap, topic, partitions);
        if now != last.0 {
            last = (now, Instant::now());
        }
        now >= i64::try_from(count).unwrap() && last.1.elapsed() > Duration::from_secs(3)
    });
}
