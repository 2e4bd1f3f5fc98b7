//! Acknowledgements the driver owes the broker for received QoS 1/2 messages.
//!
//! rumqttc sends a request from its `pending` queue only after a timer tick, and handles at
//! most one request per `EventLoop::poll`, after it has returned every packet of the last
//! network read (up to ten); a new network read cancels the wait. Under a steady stream,
//! acknowledgements queued there fall behind the messages they acknowledge (10,000 were still
//! queued when a broker restart test stopped the broker, and the broker redelivered all of
//! them). So they do not go there:
//!
//! - MQTT 3.1.1: they are written straight into the connection's write buffer (the event
//!   loop's public `network`) in batches and flushed. A PUBACK or PUBREC needs no client
//!   state (rumqttc only reports it as an event), so writing the packet is all
//!   `AsyncClient::ack` would have done, minus the wait.
//! - MQTT 5: rumqttc's v5 event loop keeps its connection private, so they go through its
//!   request channel, which it serves without a timer, one per poll, at the same priority as
//!   network reads. That bounds the backlog by the receive maximum (`mqtt.max.unacked.messages`)
//!   rather than removing it: the broker stops sending when that many are unacknowledged, and
//!   the event loop then only has acknowledgements to send.
//!
//! Acknowledgements of an older connection, or given while disconnected, are dropped: the
//! broker redelivers those messages (persistent session) or forgot them (clean session), and
//! a stale packet id could acknowledge another message.

use std::collections::VecDeque;

use rumqttc::QoS;
use tokio::sync::mpsc;

use super::client::Ack;
use super::protocol::Link;

/// Most acknowledgements taken from the task before they are sent.
const BATCH: usize = 1024;

/// The driver's owed acknowledgements.
#[derive(Debug)]
pub(super) struct AckQueue {
    rx: Option<mpsc::Receiver<Ack>>,
    /// QoS and packet id of acknowledgements of the live connection not sent yet.
    queue: VecDeque<(QoS, u16)>,
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

    /// The connection failed: acknowledgements not sent yet belong to it, also any that
    /// rumqttc moved into its `pending` queue.
    pub(super) fn connection_lost(&mut self, link: &mut Link) {
        self.live = None;
        self.queue.clear();
        link.forget_acks();
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
            self.queue.push_back((ack.qos, ack.pkid));
        }
    }

    /// Sends the queued acknowledgements (all with 3.1.1, as many as the event loop takes with
    /// MQTT 5). A write error is left to the event loop, which meets it on its next read or
    /// write and reconnects.
    pub(super) async fn send(&mut self, link: &mut Link) {
        if !self.queue.is_empty() {
            link.send_acks(&mut self.queue).await;
        }
    }

    /// Whether acknowledgements wait to be sent.
    pub(super) fn has_queued(&self) -> bool {
        !self.queue.is_empty()
    }

    /// Acknowledgements queued and not yet sent.
    #[cfg(test)]
    pub(super) fn queued(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use rumqttc::v5 as mqtt5;
    use rumqttc::v5::mqttbytes::v5 as packets5;
    use rumqttc::{AsyncClient, MqttOptions, PubRec, Request};

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

    fn link_v311() -> Link {
        let (_client, eventloop) = AsyncClient::new(MqttOptions::new("t", "127.0.0.1", 1), 1);
        Link::V311 { eventloop: Box::new(eventloop), servers: Vec::new() }
    }

    fn link_v5(capacity: usize) -> Link {
        let (acker, eventloop) = mqtt5::AsyncClient::new(mqtt5::MqttOptions::new("t", "127.0.0.1", 1), capacity);
        Link::V5 { eventloop: Box::new(eventloop), servers: Vec::new(), acker }
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
        let mut link = link_v311();
        if let Link::V311 { eventloop, .. } = &mut link {
            eventloop.pending.push_back(Request::PubRec(PubRec::new(9)));
        }
        q.connection_lost(&mut link);
        assert_eq!(q.queued(), 0);
        let Link::V311 { eventloop, .. } = &link else { unreachable!() };
        assert!(eventloop.pending.is_empty(), "stale PUBREC kept");
        // Disconnected: nothing to write to, nothing kept.
        q.send(&mut link).await;
        assert_eq!(q.queued(), 0);
    }

    #[tokio::test]
    async fn v5_hands_acks_to_the_event_loop_as_it_takes_them() {
        let mut q = queue_of(&[ack(1, 1), ack(1, 2), ack(1, 3)]).await;
        q.connected(1);
        q.recv().await;
        let mut link = link_v5(2);
        q.send(&mut link).await;
        assert_eq!(q.queued(), 1, "more handed over than the request channel holds");
        assert!(q.has_queued());
    }

    #[tokio::test]
    async fn v5_drops_acks_of_a_lost_connection() {
        let mut q = queue_of(&[ack(1, 1)]).await;
        q.connected(1);
        q.recv().await;
        let mut link = link_v5(1);
        if let Link::V5 { eventloop, .. } = &mut link {
            eventloop.pending.push_back(mqtt5::Request::PubRec(packets5::PubRec::new(9, None)));
            eventloop.pending.push_back(mqtt5::Request::PubAck(packets5::PubAck::new(8, None)));
        }
        q.connection_lost(&mut link);
        assert_eq!(q.queued(), 0);
        let Link::V5 { eventloop, .. } = &link else { unreachable!() };
        assert!(eventloop.pending.is_empty(), "stale MQTT 5 acknowledgements kept");
    }
}
