//! A source task's producer: librdkafka's threaded producer, whose delivery reports carry the
//! record's sequence number (an integer opaque, so nothing is allocated per record) into an
//! acknowledgement list that the task loop drains, woken by a [`Notify`].

use std::sync::{Arc, Mutex};

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{DeliveryResult, ProducerContext, ThreadedProducer};
use tokio::sync::Notify;

use super::kafka::TaskClientContext;

/// Where a record landed, or why it did not.
pub(crate) type Outcome = Result<(i32, i64), KafkaError>;

/// Delivery reports not yet taken by the task loop.
#[derive(Debug, Default)]
pub(crate) struct Acks {
    done: Mutex<Vec<(u64, Outcome)>>,
    pub(crate) notify: Notify,
}

impl Acks {
    /// Takes every report received so far.
    pub(crate) fn take(&self, into: &mut Vec<(u64, Outcome)>) {
        if let Ok(mut done) = self.done.lock() {
            std::mem::swap(&mut *done, into);
        }
    }
}

/// Client context of a source task's producer.
#[derive(Debug)]
pub(crate) struct SourceProducerContext {
    client: TaskClientContext,
    pub(crate) acks: Arc<Acks>,
}

impl SourceProducerContext {
    pub(crate) fn new(client: TaskClientContext) -> Self {
        Self { client, acks: Arc::new(Acks::default()) }
    }
}

impl ClientContext for SourceProducerContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        self.client.log(level, fac, log_message);
    }
    fn error(&self, error: KafkaError, reason: &str) {
        self.client.error(error, reason);
    }
}

impl ProducerContext for SourceProducerContext {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, seq: usize) {
        let outcome = match result {
            Ok(m) => Ok((m.partition(), m.offset())),
            Err((e, _)) => Err(e.clone()),
        };
        if let Ok(mut done) = self.acks.done.lock() {
            done.push((seq as u64, outcome));
        }
        self.acks.notify.notify_one();
    }
}

/// The producer of one source task.
pub(crate) type SourceProducer = ThreadedProducer<SourceProducerContext>;
