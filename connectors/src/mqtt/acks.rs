//! Acknowledgements the driver owes the broker for received QoS 1/2 messages.
//!
//! They are written straight into the connection's write buffer and flushed, rather than
//! queued as rumqttc requests. rumqttc handles at most one request per `EventLoop::poll`,
//! after it has returned every packet of the last network read (up to ten), and a request from
//! its `pending` queue waits for a timer tick first; under a steady stream acknowledgements
//! then fall behind the messages they acknowledge (10,000 were still queued when a broker
//! restart test stopped the broker, and the broker redelivered all of them). A PUBACK or
//! PUBREC needs no client state (rumqttc only reports it as an event), so writing the packet
//! is all `AsyncClient::ack` would have done, minus the wait.
//!
//! Acknowledgements of an older connection, or given while disconnected, are dropped: the
//! broker redelivers those messages (persistent session) or forgot them (clean session), and
//! a stale packet id could acknowledge another message.

use std::collections::VecDeque;
use std::time::Duration;

use rumqttc::{EventLoop, Packet, PubAck, PubRec, QoS, Request};
use tokio::sync::mpsc;

use super::client::Ack;

/// Most acknowledgements written before one flush.
const BATCH: usize = 1024;
/// How long a flush may take before the acknowledgements are given up (the connection is
/// then as good as lost, and the event loop will say so).
const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// The driver's owed acknowledgements.
#[derive(Debug)]
pub(super) struct AckQueue {
    rx: Option<mpsc::Receiver<Ack>>,
    queue: VecDeque<Ack>,
    /// The generation of the live connection, `None` while disconnected.
    live: Option<u64>,
}

impl AckQueue {
    /// Acknowledgements the task sends on `rx` (`None`: the task acknowledges nothing).
    pub(super) fn new(rx: Option<mpsc::Receiver<Ack>>) -> Self {
        Self { rx, queue: VecDeque::new(), live: None }
    }

    /// Connection `generation` is up.
    pub(super) fn connected(&mut self, generation: u64) {
        self.live = Some(generation);
    }

    /// The connection failed: acknowledgements not written yet belong to it, also any that
    /// rumqttc moved into `eventloop.pending`.
    pub(super) fn connection_lost(&mut self, eventloop: &mut EventLoop) {
        self.live = None;
        self.queue.clear();
        eventloop.pending.retain(|r| !matches!(r, Request::PubAck(_) | Request::PubRec(_)));
    }

    /// Waits for the task's next acknowledgement (forever if it gives none) and takes it,
    /// with those that follow it without waiting, up to a batch.
    pub(super) async fn recv(&mut self) {
        let Some(rx) = self.rx.as_mut() else { return std::future::pending().await };
        let Some(first) = rx.recv().await else { return std::future::pending().await };
        self.owe(first);
        while self.queue.len() < BATCH {
            match self.rx.as_mut().map(mpsc::Receiver::try_recv) {
                Some(Ok(ack)) => self.owe(ack),
                _ => break,
            }
        }
    }

    /// Queues `ack` if it belongs to the live connection.
    fn owe(&mut self, ack: Ack) {
        if ack.qos != QoS::AtMostOnce && self.live == Some(ack.generation) {
            self.queue.push_back(ack);
        }
    }

    /// Writes the queued acknowledgements to the connection and flushes it. A write error is
    /// left to the event loop, which meets it on its next read or write and reconnects.
    pub(super) async fn send(&mut self, eventloop: &mut EventLoop) {
        let Some(network) = eventloop.network.as_mut() else {
            self.queue.clear();
            return;
        };
        while let Some(ack) = self.queue.pop_front() {
            let packet = match ack.qos {
                QoS::AtLeastOnce => Packet::PubAck(PubAck::new(ack.pkid)),
                QoS::ExactlyOnce => Packet::PubRec(PubRec::new(ack.pkid)),
                QoS::AtMostOnce => continue,
            };
            if let Err(e) = network.write(packet).await {
                tracing::debug!(error = %e, "cannot write an acknowledgement; the broker will redeliver");
                self.queue.clear();
                return;
            }
        }
        match tokio::time::timeout(FLUSH_TIMEOUT, network.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::debug!(error = %e, "cannot flush acknowledgements; the broker will redeliver"),
            Err(_) => tracing::debug!("flushing acknowledgements timed out; the broker will redeliver"),
        }
    }

    /// Acknowledgements queued and not yet written.
    #[cfg(test)]
    pub(super) fn queued(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use rumqttc::{AsyncClient, MqttOptions};

    use super::*;

    fn ack(generation: u64, pkid: u16) -> Ack {
        Ack { generation, qos: QoS::AtLeastOnce, pkid }
    }

    async fn queue_of(acks: &[Ack]) -> AckQueue {
        let (tx, rx) = mpsc::channel(16);
        for a in acks {
            tx.send(*a).await.unwrap();
        }
        AckQueue::new(Some(rx))
    }

    #[tokio::test]
    async fn takes_acks_of_the_live_connection_in_batches() {
        let mut q = queue_of(&[ack(1, 1), ack(1, 2), ack(1, 3)]).await;
        q.connected(1);
        q.recv().await;
        assert_eq!(q.queued(), 3);
    }

    #[tokio::test]
    async fn drops_acks_of_older_connections_and_while_disconnected() {
        let mut q = queue_of(&[ack(1, 1)]).await;
        q.recv().await;
        assert_eq!(q.queued(), 0, "no connection yet");
        let mut q = queue_of(&[ack(1, 2), ack(2, 3)]).await;
        q.connected(2);
        q.recv().await;
        assert_eq!(q.queued(), 1, "an acknowledgement of generation 1 kept on generation 2");
        let (_client, mut eventloop) = AsyncClient::new(MqttOptions::new("t", "127.0.0.1", 1), 1);
        eventloop.pending.push_back(Request::PubRec(PubRec::new(9)));
        q.connection_lost(&mut eventloop);
        assert_eq!(q.queued(), 0);
        assert!(eventloop.pending.is_empty(), "stale PUBREC kept");
        // Disconnected: nothing to write to, nothing kept.
        q.send(&mut eventloop).await;
        assert_eq!(q.queued(), 0);
    }
}
