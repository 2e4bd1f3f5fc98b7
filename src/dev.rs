//! `tributary dev`: a local broker and a worker with its REST API, in one command.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, bail};
use tokio_util::sync::CancellationToken;
use tributary_converters::registry::{CompatibilityLevel, DEFAULT_TOPIC, KafkaStoreConfig};
use tributary_runtime::worker::Worker;
use tributary_runtime::worker::config::WorkerConfig;
use tributary_runtime::worker::offsets::{FileOffsetStore, OffsetStore};

use crate::broker::{self, LocalKafka};
use crate::cli::DevArgs;
use crate::listeners::RestSettings;
use crate::{run, schema_registry};

pub(crate) async fn run(args: DevArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let registry = run::registry();
    let connectors = run::load_connectors(&registry, &args.connectors)?;
    std::fs::create_dir_all(&args.data_dir)?;
    let (kafka, bootstrap) = match &args.bootstrap_servers {
        Some(b) => {
            if !broker::ping(b).await {
                bail!("no Kafka broker answers at {b} (--bootstrap-servers)");
            }
            println!("Kafka            {b} (existing cluster)");
            (None, b.clone())
        }
        None => {
            println!(
                "Kafka            starting Apache Kafka {} on 127.0.0.1:{} ...",
                broker::KAFKA_VERSION,
                args.kafka_port
            );
            let k = LocalKafka::start(&args.data_dir.join("kafka"), args.kafka_port).await?;
            println!("Kafka            {} (log: {})", k.bootstrap, k.log.display());
            let b = k.bootstrap.clone();
            (Some(k), b)
        }
    };
    let offsets_path = args.data_dir.join("offsets.json");
    let config = WorkerConfig::from_props(
        [
            ("bootstrap.servers", bootstrap.clone()),
            ("offset.storage.file.filename", offsets_path.display().to_string()),
            ("offset.flush.interval.ms", "10000".to_owned()),
            ("listeners", format!("http://127.0.0.1:{}", args.rest_port)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
    )
    .map_err(|e| anyhow!("{e}"))?;
    let offsets: Arc<dyn OffsetStore> =
        Arc::new(FileOffsetStore::open(&offsets_path).map_err(|e| anyhow!("{}", e.chain()))?);
    let cancel = CancellationToken::new();
    let rest = RestSettings::from_worker(&config)?;
    let worker_id = rest.worker_id().unwrap_or_else(|| format!("127.0.0.1:{}", args.rest_port));
    let worker = Arc::new(Worker::new(config, registry, offsets, worker_id, cancel.child_token()));
    let outcome = async {
        let urls = run::serve_rest(worker.clone(), &rest, true, cancel.clone()).await?;
        println!("REST API         {} (Swagger UI at /docs)", urls.join(", "));
        let registry = schema_registry::open(
            KafkaStoreConfig::new(bootstrap.clone(), DEFAULT_TOPIC),
            CompatibilityLevel::default(),
        )
        .await?;
        let registry_addr = run::listener_addr(&format!("http://127.0.0.1:{}", args.registry_port))?;
        schema_registry::serve(registry, registry_addr, cancel.clone())
            .await
            .map_err(|e| anyhow!("{e:#}; choose another port with --registry-port"))?;
        println!("Schema registry  http://{registry_addr}");
        let n = connectors.len();
        run::start_connectors(&worker, connectors).await?;
        println!("Connectors       {n} running; offsets in {}", offsets_path.display());
        println!("Ready in {} ms. Press Ctrl-C to stop.", started.elapsed().as_millis());
        tracing::info!(startup_ms = started.elapsed().as_millis() as u64, "Tributary dev ready");
        tributary_rest_api::set_ready();
        run::shutdown_signal().await;
        anyhow::Ok(())
    }
    .await;
    run::stop(&worker, &cancel).await;
    if let Some(k) = kafka {
        println!("Stopping Kafka ...");
        k.stop().await?;
        println!("Kafka stopped.");
    }
    outcome
}
