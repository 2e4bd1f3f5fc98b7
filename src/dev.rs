//! `tributary dev`: a local broker, the schema registry and a one-worker distributed cluster
//! with its REST API, in one command.
//!
//! The worker is a distributed one (group `--group-id`, `tributary-dev` by default), so dev
//! behaves as production clusters do: connectors, task configs, offsets and statuses live in
//! the internal topics `<group>-configs`, `<group>-offsets` and `<group>-status`, which the
//! embedded broker keeps under `--data-dir`; a restarted `tributary dev` finds the connectors
//! created before, and `tributary distributed` workers with the same group and topics join it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use tokio_util::sync::CancellationToken;
use tributary_converters::registry::{CompatibilityLevel, DEFAULT_TOPIC, KafkaStoreConfig};
use tributary_runtime::Registry;
use tributary_runtime::api::Props;
use tributary_runtime::herder::Herder;
use tributary_runtime::worker::State;
use tributary_runtime::worker::config::WorkerConfig;

use crate::broker::{self, LocalKafka};
use crate::cli::DevArgs;
use crate::distributed::{self, Member};
use crate::listeners::RestSettings;
use crate::{run, schema_registry};

pub(crate) async fn run(args: DevArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let plugins = run::registry();
    let connectors = run::load_connectors(&plugins, &args.connectors)?;
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
    let outcome = run_worker(&args, &bootstrap, plugins, connectors, started).await;
    if let Some(k) = kafka {
        println!("Stopping Kafka ...");
        k.stop().await?;
        println!("Kafka stopped.");
    }
    outcome
}

/// The worker properties of dev's one-worker cluster: Kafka Connect's distributed keys, with
/// internal topics named after the group, replicated once (the dev broker has one node), and
/// group timeouts short enough that a restart or an added worker takes seconds.
fn worker_props(args: &DevArgs, bootstrap: &str) -> BTreeMap<String, String> {
    let group = &args.group_id;
    [
        ("bootstrap.servers", bootstrap.to_owned()),
        ("listeners", format!("http://127.0.0.1:{}", args.rest_port)),
        ("group.id", group.clone()),
        ("config.storage.topic", format!("{group}-configs")),
        ("offset.storage.topic", format!("{group}-offsets")),
        ("status.storage.topic", format!("{group}-status")),
        ("config.storage.replication.factor", "1".to_owned()),
        ("offset.storage.replication.factor", "1".to_owned()),
        ("status.storage.replication.factor", "1".to_owned()),
        ("offset.storage.partitions", "5".to_owned()),
        ("status.storage.partitions", "1".to_owned()),
        ("offset.flush.interval.ms", "10000".to_owned()),
        ("session.timeout.ms", "6000".to_owned()),
        ("heartbeat.interval.ms", "2000".to_owned()),
        ("scheduled.rebalance.max.delay.ms", "10000".to_owned()),
        ("exactly.once.source.support", if args.exactly_once { "enabled" } else { "disabled" }.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Runs the worker, the REST API and the schema registry until Ctrl-C, with the connectors of
/// `--connector` created or updated through the cluster.
async fn run_worker(
    args: &DevArgs,
    bootstrap: &str,
    plugins: Arc<Registry>,
    connectors: Vec<Props>,
    started: Instant,
) -> anyhow::Result<()> {
    let config = WorkerConfig::from_props(worker_props(args, bootstrap)).map_err(|e| anyhow!("{e}"))?;
    let rest = RestSettings::from_worker(&config)?;
    let dcfg = distributed::distributed_config(&config, &rest).map_err(|e| anyhow!("--rest-port: {e}"))?;
    let (group, worker_id) = (dcfg.group.group_id.clone(), dcfg.worker_id.clone());
    let topics =
        [&dcfg.config_topic.topic, &dcfg.offset_topic.topic, &dcfg.status_topic.topic].map(String::as_str).join(", ");
    let cancel = CancellationToken::new();
    let member = Member::start(dcfg, config, plugins, &rest, true, &cancel).await?;
    let outcome = async {
        println!("REST API         {} (Swagger UI at /docs)", member.urls().join(", "));
        serve_schema_registry(args, bootstrap, &cancel).await?;
        println!(
            "Cluster          group {group}, this worker {worker_id}; more workers join with `tributary distributed` and the same group.id and topics"
        );
        if !member.join().await? {
            return anyhow::Ok(());
        }
        let put = async {
            for props in connectors {
                member.put_connector_config(props).await?;
            }
            anyhow::Ok(describe_connectors(&member).await)
        };
        // Ctrl-C still stops dev while the connectors are put (retried during rebalances).
        let described = tokio::select! {
            biased;
            _ = run::shutdown_signal() => return anyhow::Ok(()),
            described = put => described?,
        };
        println!("Connectors       {described}; state in topics {topics}");
        println!("Ready in {} ms. Press Ctrl-C to stop.", started.elapsed().as_millis());
        tracing::info!(startup_ms = started.elapsed().as_millis() as u64, "Tributary dev ready");
        tributary_rest_api::set_ready();
        member.serve().await
    }
    .await;
    member.stop().await;
    cancel.cancel();
    outcome
}

/// Serves the embedded schema registry on `--registry-port`, schemas in the `_schemas` topic.
async fn serve_schema_registry(args: &DevArgs, bootstrap: &str, cancel: &CancellationToken) -> anyhow::Result<()> {
    let registry = schema_registry::open(
        KafkaStoreConfig::new(bootstrap.to_owned(), DEFAULT_TOPIC),
        CompatibilityLevel::default(),
    )
    .await?;
    let addr = run::listener_addr(&format!("http://127.0.0.1:{}", args.registry_port))?;
    schema_registry::serve(registry, addr, cancel.clone())
        .await
        .map_err(|e| anyhow!("{e:#}; choose another port with --registry-port"))?;
    println!("Schema registry  http://{addr}");
    Ok(())
}

/// How many of the cluster's connectors run, once each has left UNASSIGNED (or after 15 s):
/// `2 running`, or `1 running, 1 paused`.
async fn describe_connectors(member: &Member) -> String {
    let herder = member.herder();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut counts = BTreeMap::new();
    loop {
        counts.clear();
        for name in herder.connectors().await {
            let state = herder.connector_status(&name).await.map_or(State::Unassigned, |s| s.state);
            *counts.entry(state.name().to_lowercase()).or_insert(0) += 1;
        }
        if !counts.contains_key("unassigned") || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let running = counts.remove("running").unwrap_or(0);
    let mut parts = vec![format!("{running} running")];
    parts.extend(counts.into_iter().map(|(state, n)| format!("{n} {state}")));
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn dev_args(flags: &[&str]) -> DevArgs {
        match Cli::parse_from(["tributary", "dev"].iter().chain(flags)).command {
            Command::Dev(args) => args,
            other => panic!("not dev: {other:?}"),
        }
    }

    fn dev_config(flags: &[&str]) -> tributary_runtime::distributed::herder::DistributedConfig {
        let config = WorkerConfig::from_props(worker_props(&dev_args(flags), "127.0.0.1:9092")).unwrap();
        distributed::distributed_config(&config, &RestSettings::from_worker(&config).unwrap()).unwrap()
    }

    #[test]
    fn dev_worker_is_a_distributed_worker_on_one_replica_topics_named_after_its_group() {
        let c = dev_config(&[]);
        assert_eq!(c.group.group_id, "tributary-dev");
        let topics = [&c.config_topic, &c.offset_topic, &c.status_topic];
        assert_eq!(
            topics.map(|t| t.topic.as_str()),
            ["tributary-dev-configs", "tributary-dev-offsets", "tributary-dev-status"]
        );
        assert!(topics.iter().all(|t| t.replication_factor == 1));
        assert_eq!((c.offset_topic.partitions, c.status_topic.partitions), (5, 1));
        assert_eq!(c.advertised_url, "http://127.0.0.1:8083");
        assert_eq!(c.worker_id, "127.0.0.1:8083");
        assert_eq!(c.group.session_timeout, Duration::from_secs(6));
    }

    #[test]
    fn group_id_and_rest_port_flags_name_the_group_topics_and_worker() {
        let c = dev_config(&["--group-id", "team-a", "--rest-port", "18000"]);
        assert_eq!(c.group.group_id, "team-a");
        assert_eq!(c.config_topic.topic, "team-a-configs");
        assert_eq!(c.status_topic.topic, "team-a-status");
        assert_eq!(c.worker_id, "127.0.0.1:18000");
    }
}
