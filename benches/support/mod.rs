//! What the benchmarks share: the test Kafka, the median of the rounds, settings from the
//! environment, and a counting MQTT subscriber.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rumqttc::{AsyncClient, Event, Incoming, MqttOptions};

/// The test Kafka's bootstrap servers, or `None` after saying how to start it.
pub(crate) fn kafka() -> Option<&'static str> {
    let bootstrap = tributary_testcontainers::TestEnv::get().kafka();
    if bootstrap.is_none() {
        eprintln!("no Kafka broker: start one with scripts/kafka.sh start --port 19092");
    }
    bootstrap
}

/// The median of `v` (the upper one of an even count).
pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The number in the environment variable `key`, or `default`.
pub(crate) fn env_or(key: &str, default: usize) -> usize {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A counting MQTT subscriber's connection to 127.0.0.1:`port`: `received` counts PUBLISHes;
/// the receiver fires at the first SUBACK.
pub(crate) fn counting_subscriber(
    port: u16,
    id: &str,
    clean: bool,
    received: Arc<AtomicUsize>,
) -> (AsyncClient, tokio::task::JoinHandle<()>, tokio::sync::oneshot::Receiver<()>) {
    let mut o = MqttOptions::new(id, "127.0.0.1", port);
    o.set_keep_alive(Duration::from_secs(30)).set_max_packet_size(1 << 20, 1 << 20).set_clean_session(clean);
    let (client, mut eventloop) = AsyncClient::new(o, 1000);
    let (ready_tx, ready) = tokio::sync::oneshot::channel();
    let driver = tokio::spawn(async move {
        let mut ready_tx = Some(ready_tx);
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Incoming::Publish(_))) => {
                    received.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Event::Incoming(Incoming::SubAck(_))) => {
                    if let Some(tx) = ready_tx.take() {
                        let _ = tx.send(());
                    }
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    (client, driver, ready)
}
