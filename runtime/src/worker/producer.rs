//! A source task's producer: a librdkafka producer polled by a thread of its own, whose
//! delivery reports carry the record's sequence number (an integer opaque, so nothing is
//! allocated per record) into an acknowledgement list that the task loop drains, woken by a
//! [`Notify`].

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, DeliveryResult, ProducerContext};
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

/// How long each poll of a task's producer may wait. rust-rdkafka's `poll` waits in whole
/// milliseconds and then spins through the sub-millisecond rest of its timeout, so the 100 ms
/// polls of its `ThreadedProducer` keep an idle producer busy about 1 % of a core (a quarter of
/// a core for a worker with 33 idle tasks). Delivery reports still come as they arrive: a
/// wait ends at each event.
const POLL_WAIT: Duration = Duration::from_secs(1);

/// The producer of one task, polled by its own thread: a source task's (with
/// [`SourceProducerContext`]), or a Kafka-to-Kafka sink task's.
pub(crate) struct SourceProducer<C: ProducerContext + 'static = SourceProducerContext> {
    producer: Arc<BaseProducer<C>>,
    stop: Arc<AtomicBool>,
}

impl<C: ProducerContext + 'static> SourceProducer<C> {
    /// Creates the producer and its poll thread.
    pub(crate) fn new(config: &ClientConfig, context: C) -> Result<Self, KafkaError> {
        let producer: Arc<BaseProducer<C>> = Arc::new(config.create_with_context(context)?);
        let stop = Arc::new(AtomicBool::new(false));
        let (polled, stopped) = (Arc::clone(&producer), Arc::clone(&stop));
        std::thread::Builder::new()
            .name("producer poll".to_owned())
            .spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    polled.poll(POLL_WAIT);
                }
                // When the task has dropped its handle, the producer is destroyed here, off the
                // async runtime.
            })
            .map_err(|e| KafkaError::ClientCreation(format!("cannot start the producer's poll thread: {e}")))?;
        Ok(Self { producer, stop })
    }
}

impl<C: ProducerContext + 'static> SourceProducer<C> {
    /// The producer itself, for blocking calls made off the async runtime (transactions).
    pub(crate) fn shared(&self) -> Arc<BaseProducer<C>> {
        Arc::clone(&self.producer)
    }
}

impl<C: ProducerContext + 'static> Deref for SourceProducer<C> {
    type Target = BaseProducer<C>;

    fn deref(&self) -> &Self::Target {
        &self.producer
    }
}

impl<C: ProducerContext + 'static> Drop for SourceProducer<C> {
    fn drop(&mut self) {
        // The poll thread ends within POLL_WAIT and drops the last reference.
        self.stop.store(true, Ordering::Relaxed);
    }
}
