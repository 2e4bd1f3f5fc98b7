//! REST API throughput and latency: `GET /connectors?expand=status` with 100 running
//! connectors, against `GET /` on the same server in the same run (the baseline: routing,
//! HTTP and JSON without any connector work).
//!
//! Run: `scripts/kafka.sh start --port 19092 && cargo bench --bench rest` (BENCH_SECONDS=5,
//! BENCH_CLIENTS=8 by default). A worker with 100 datagen connectors (one task each, one record
//! per 100 s) is built in this process and served on a loopback port; clients keep their
//! connections alive. Prints requests/s, p50 and p99 latency for each endpoint.

mod support;
use support::env_or;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tributary_runtime::Registry;
use tributary_runtime::worker::Worker;
use tributary_runtime::worker::config::WorkerConfig;
use tributary_runtime::worker::offsets::MemoryOffsetStore;

async fn load(url: &str, clients: usize, seconds: u64) -> (f64, Duration, Duration) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut handles = Vec::new();
    for _ in 0..clients {
        let url = url.to_owned();
        handles.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let r = client.get(&url).send().await.expect("request");
                assert!(r.status().is_success());
                let _ = r.bytes().await.expect("body");
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.expect("client"));
    }
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    (all.len() as f64 / seconds as f64, pct(0.5), pct(0.99))
}

fn main() {
    let seconds = env_or("BENCH_SECONDS", 5) as u64;
    let clients = env_or("BENCH_CLIENTS", 8);
    let bootstrap = std::env::var("KAFKA_BOOTSTRAP_SERVERS").unwrap_or_else(|_| "127.0.0.1:19092".to_owned());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let mut registry = Registry::new();
        tributary_converters::register(&mut registry);
        tributary_connectors::register(&mut registry);
        let config =
            WorkerConfig::from_props(BTreeMap::from([("bootstrap.servers".to_owned(), bootstrap)])).expect("config");
        let cancel = CancellationToken::new();
        let worker = Arc::new(Worker::new(
            config,
            Arc::new(registry),
            Arc::new(MemoryOffsetStore::default()),
            "127.0.0.1:0",
            cancel.clone(),
        ));
        for i in 0..100 {
            let props = BTreeMap::from([
                ("name".to_owned(), format!("gen-{i:03}")),
                ("connector.class".to_owned(), "DatagenConnector".to_owned()),
                ("kafka.topic".to_owned(), "bench-rest".to_owned()),
                ("quickstart".to_owned(), "users".to_owned()),
                ("max.interval".to_owned(), "100000".to_owned()),
            ]);
            worker.start_connector(props).await.expect("connector");
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = tributary_rest_api::router(worker.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        println!("100 connectors, {clients} keep-alive clients, {seconds} s per endpoint\n");
        println!("| endpoint | requests/s | p50 | p99 |");
        println!("|---|---|---|---|");
        for (name, path) in [("GET / (baseline)", "/"), ("GET /connectors?expand=status", "/connectors?expand=status")]
        {
            let (rps, p50, p99) = load(&format!("http://{addr}{path}"), clients, seconds).await;
            println!("| {name} | {rps:.0} | {:.2} ms | {:.2} ms |", p50.as_secs_f64() * 1e3, p99.as_secs_f64() * 1e3);
        }
        worker.shutdown().await;
    });
}
