//! `tributary schema-registry`: the embedded Confluent-compatible schema registry on its own,
//! configured like Confluent's (`schema-registry.properties` keys), and the helper `dev` uses to
//! serve it next to the worker.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tributary_converters::registry::{CompatibilityLevel, DEFAULT_TOPIC, KafkaStoreConfig, SchemaRegistry};

use crate::cli::SchemaRegistryArgs;
use crate::run;

/// Confluent's default listener.
const DEFAULT_LISTENER: &str = "http://0.0.0.0:8081";
/// Keys read from the properties file; other `kafkastore.security.*`, `kafkastore.sasl.*` and
/// `kafkastore.ssl.*` keys go to the Kafka clients without their prefix.
const KNOWN_KEYS: [&str; 7] = [
    "listeners",
    "kafkastore.bootstrap.servers",
    "kafkastore.topic",
    "kafkastore.topic.replication.factor",
    "kafkastore.timeout.ms",
    "schema.compatibility.level",
    "avro.compatibility.level",
];

/// What the command runs with, after merging the properties file and the flags.
#[derive(Debug)]
struct Settings {
    listener: String,
    store: Option<KafkaStoreConfig>,
    compatibility: CompatibilityLevel,
}

fn settings(args: &SchemaRegistryArgs) -> anyhow::Result<Settings> {
    let props = match &args.properties {
        Some(p) => run::read_properties(p, "schema registry properties")?,
        None => BTreeMap::new(),
    };
    let from =
        |what: &str| args.properties.as_ref().map_or_else(String::new, |p| format!(" in {} ({what})", p.display()));
    let listener = match (&args.listeners, props.get("listeners")) {
        (Some(l), _) => l.clone(),
        (None, Some(l)) => l.split(',').next().unwrap_or_default().trim().to_owned(),
        (None, None) => DEFAULT_LISTENER.to_owned(),
    };
    let compatibility = match props.get("schema.compatibility.level").or_else(|| props.get("avro.compatibility.level"))
    {
        Some(l) => {
            l.parse().map_err(|e| anyhow!("invalid value for 'schema.compatibility.level'{}: {e}", from("key")))?
        }
        None => CompatibilityLevel::default(),
    };
    let bootstrap = args.bootstrap_servers.clone().or_else(|| props.get("kafkastore.bootstrap.servers").cloned());
    let store = match (args.in_memory, bootstrap) {
        (true, _) => None,
        (false, None) => bail!(
            "no Kafka cluster to store schemas in: set 'kafkastore.bootstrap.servers' in --properties, pass --bootstrap-servers, or use --in-memory"
        ),
        (false, Some(b)) => {
            // Confluent writes listeners-style entries (PLAINTEXT://host:9092); librdkafka wants host:port.
            let bootstrap =
                b.split(',').map(|s| s.trim().rsplit("://").next().unwrap_or_default()).collect::<Vec<_>>().join(",");
            let topic = args
                .topic
                .clone()
                .or_else(|| props.get("kafkastore.topic").cloned())
                .unwrap_or_else(|| DEFAULT_TOPIC.to_owned());
            let mut config = KafkaStoreConfig::new(bootstrap, topic);
            if let Some(rf) = props.get("kafkastore.topic.replication.factor") {
                config.replication_factor = rf.trim().parse().map_err(|e| {
                    anyhow!("invalid value for 'kafkastore.topic.replication.factor'{}: '{rf}': {e}", from("key"))
                })?;
            }
            if let Some(ms) = props.get("kafkastore.timeout.ms") {
                let ms: u64 =
                    ms.trim().parse().map_err(|e| anyhow!("invalid value for 'kafkastore.timeout.ms': '{ms}': {e}"))?;
                config.timeout = Duration::from_millis(ms.max(1));
            }
            for (k, v) in &props {
                if let Some(client_key) = k.strip_prefix("kafkastore.")
                    && ["security.", "sasl.", "ssl."].iter().any(|p| client_key.starts_with(p))
                {
                    config.client.insert(client_key.to_owned(), v.clone());
                }
            }
            Some(config)
        }
    };
    for k in props.keys() {
        let passed = k
            .strip_prefix("kafkastore.")
            .is_some_and(|c| ["security.", "sasl.", "ssl."].iter().any(|p| c.starts_with(p)));
        if !KNOWN_KEYS.contains(&k.as_str()) && !passed {
            tracing::warn!("ignoring '{k}'{}: Tributary's schema registry does not use it", from("key"));
        }
    }
    Ok(Settings { listener, store, compatibility })
}

/// Binds `addr` and serves the registry's API until `cancel`; the handle ends when the server has.
pub(crate) async fn serve(
    registry: Arc<SchemaRegistry>,
    addr: SocketAddr,
    cancel: CancellationToken,
) -> anyhow::Result<JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr} for the schema registry (is another registry running on that port?)")
    })?;
    let app = tributary_rest_api::registry::router(registry);
    Ok(tokio::spawn(async move {
        let served = axum::serve(listener, app).with_graceful_shutdown(cancel.cancelled_owned()).await;
        if let Err(e) = served {
            tracing::error!("schema registry stopped: {e}");
        }
    }))
}

/// Opens the registry on a Kafka store and says what it loaded.
pub(crate) async fn open(
    config: KafkaStoreConfig,
    compatibility: CompatibilityLevel,
) -> anyhow::Result<Arc<SchemaRegistry>> {
    let (topic, bootstrap) = (config.topic.clone(), config.bootstrap_servers.clone());
    let registry = SchemaRegistry::open_kafka_with(config)
        .await
        .map_err(|e| anyhow!("cannot open the schema store: {e}"))?
        .with_default_compatibility(compatibility);
    let s = registry.stats();
    println!(
        "Schema store     topic {topic} on {bootstrap}: {} subjects, {} schemas, {} versions loaded",
        s.subjects, s.schemas, s.versions
    );
    Ok(Arc::new(registry))
}

pub(crate) async fn run(args: SchemaRegistryArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let settings = settings(&args)?;
    let addr = run::listener_addr(&settings.listener)?;
    let registry = match settings.store {
        Some(config) => open(config, settings.compatibility).await?,
        None => {
            println!("Schema store     in memory (schemas are lost on exit)");
            Arc::new(SchemaRegistry::in_memory().with_default_compatibility(settings.compatibility))
        }
    };
    let cancel = CancellationToken::new();
    let server = serve(registry, addr, cancel.clone()).await?;
    println!("Schema registry  http://{addr} (Confluent Schema Registry API; AVRO and JSON schemas)");
    println!("Compatibility    {} unless a subject or PUT /config sets another", settings.compatibility);
    println!("Ready in {} ms. Press Ctrl-C to stop.", started.elapsed().as_millis());
    tracing::info!(listener = %addr, startup_ms = started.elapsed().as_millis() as u64, "schema registry ready");
    run::shutdown_signal().await;
    tracing::info!("stopping the schema registry: finishing requests in flight");
    cancel.cancel();
    if tokio::time::timeout(Duration::from_secs(10), server).await.is_err() {
        tracing::warn!("requests still in flight after 10 s; stopping anyway");
    }
    println!("Schema registry stopped.");
    Ok(())
}
