//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Tributary: a Kafka Connect-compatible connector runtime.
///
/// Moves records between files, generated data and Kafka with Kafka Connect's worker and
/// connector configuration keys, its REST API and its JSON formats, in one native binary.
#[derive(Debug, Parser)]
#[command(name = "tributary", version, about, long_about)]
pub(crate) struct Cli {
    /// Log filter, e.g. `info`, `debug`, or `info,tributary_runtime=debug` (env: TRIBUTARY_LOG).
    #[arg(long, global = true, env = "TRIBUTARY_LOG", default_value = "info")]
    pub(crate) log_level: String,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run a standalone worker, like Kafka Connect's connect-standalone.sh.
    ///
    /// Reads Kafka Connect worker properties (bootstrap.servers, key.converter,
    /// value.converter, offset.storage.file.filename, offset.flush.interval.ms, listeners,
    /// producer.*, consumer.*) and one properties file per connector, checks all of them before
    /// starting anything, and runs until SIGINT or SIGTERM, when it stops polling, stores
    /// offsets of acknowledged records and exits.
    Standalone(StandaloneArgs),
    /// Run one worker of a cluster, like Kafka Connect's connect-distributed.sh.
    ///
    /// Workers started with the same group.id form a cluster through Kafka's group coordinator:
    /// connectors and tasks are spread over them (incremental cooperative rebalancing), move when
    /// a worker leaves (after session.timeout.ms plus scheduled.rebalance.max.delay.ms), and any
    /// worker answers the REST API (changes are forwarded to the leader). State lives in three
    /// compacted topics, created if missing: config.storage.topic (connector and task configs),
    /// offset.storage.topic (source offsets) and status.storage.topic (statuses), in Kafka
    /// Connect's formats.
    ///
    /// Worker keys (Kafka Connect's): bootstrap.servers, group.id, config.storage.topic,
    /// offset.storage.topic, status.storage.topic, <topic>.replication.factor,
    /// offset.storage.partitions, status.storage.partitions, listeners,
    /// rest.advertised.host.name, rest.advertised.port, session.timeout.ms,
    /// heartbeat.interval.ms, rebalance.timeout.ms, scheduled.rebalance.max.delay.ms,
    /// connect.protocol (sessioned, compatible, eager), key.converter, value.converter,
    /// producer.*, consumer.*. Connectors are created over REST. Stops on SIGINT or SIGTERM: tasks
    /// store their offsets, then the worker leaves the group so the others take over at once.
    Distributed(DistributedArgs),
    /// Run everything on this machine: Apache Kafka, a schema registry and a one-worker cluster.
    ///
    /// Starts a single-node Apache Kafka (KRaft) from the jars cached by `scripts/kafka.sh
    /// fetch` as a child process, its data under --data-dir (or uses --bootstrap-servers), then
    /// the schema registry on --registry-port (schemas in the `_schemas` topic), then a
    /// distributed worker with its REST API on --rest-port: group --group-id, connectors, task
    /// configs, offsets and statuses in the topics <group>-configs, <group>-offsets and
    /// <group>-status, as in `tributary distributed`. The connectors given with --connector are
    /// created or updated there; connectors created before (over REST too) run again, since
    /// they live in those topics. More workers join with `tributary distributed` and the same
    /// group.id and topics. Ctrl-C stops the connectors (tasks store their offsets), the worker
    /// leaves the group, then the broker stops.
    Dev(DevArgs),
    /// Run the embedded Confluent-compatible schema registry.
    ///
    /// Serves Confluent Schema Registry's REST API (subjects, versions, ids, compatibility,
    /// config, mode) for AVRO and JSON schemas, stored in a compacted Kafka topic (`_schemas`)
    /// in Confluent's record format, so a restarted registry finds every schema again. Reads
    /// Confluent's schema-registry.properties keys: listeners, kafkastore.bootstrap.servers,
    /// kafkastore.topic, kafkastore.topic.replication.factor, kafkastore.timeout.ms,
    /// schema.compatibility.level, and kafkastore.security.*/sasl.*/ssl.* for the Kafka clients;
    /// flags override the file. Stops on SIGINT or SIGTERM.
    SchemaRegistry(SchemaRegistryArgs),
}

#[derive(Debug, Args)]
pub(crate) struct SchemaRegistryArgs {
    /// Confluent schema-registry.properties file (listeners, kafkastore.bootstrap.servers,
    /// kafkastore.topic, schema.compatibility.level, ...).
    #[arg(long, value_name = "FILE")]
    pub(crate) properties: Option<PathBuf>,
    /// Where to serve the API, e.g. http://0.0.0.0:8081 (default; overrides `listeners`).
    #[arg(long, value_name = "URL")]
    pub(crate) listeners: Option<String>,
    /// Kafka cluster holding the schemas topic (overrides `kafkastore.bootstrap.servers`).
    #[arg(long, value_name = "HOST:PORT")]
    pub(crate) bootstrap_servers: Option<String>,
    /// Topic holding the schemas, created compacted with 1 partition if missing (default
    /// `_schemas`; overrides `kafkastore.topic`).
    #[arg(long, value_name = "NAME")]
    pub(crate) topic: Option<String>,
    /// Keep schemas in this process only, without Kafka (they are lost on exit).
    #[arg(long)]
    pub(crate) in_memory: bool,
}

#[derive(Debug, Args)]
pub(crate) struct StandaloneArgs {
    /// Worker properties file (Kafka Connect's connect-standalone.properties keys).
    pub(crate) worker_properties: PathBuf,
    /// Connector properties files, one connector each.
    pub(crate) connector_properties: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct DistributedArgs {
    /// Worker properties file (Kafka Connect's connect-distributed.properties keys).
    pub(crate) worker_properties: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct DevArgs {
    /// Directory of the local broker's log and data, which hold the worker's internal topics
    /// (connectors, offsets, statuses) and the schemas.
    #[arg(long, default_value = ".tributary")]
    pub(crate) data_dir: PathBuf,
    /// Port of the local broker's PLAINTEXT listener (its KRaft controller takes the next port).
    #[arg(long, default_value_t = 9092)]
    pub(crate) kafka_port: u16,
    /// Port of the REST API.
    #[arg(long, default_value_t = 8083)]
    pub(crate) rest_port: u16,
    /// Port of the embedded Confluent-compatible schema registry (schemas persisted in the
    /// `_schemas` topic of the dev broker).
    #[arg(long, default_value_t = 8081)]
    pub(crate) registry_port: u16,
    /// Use this Kafka cluster instead of starting a local broker (the internal topics are
    /// created there with replication factor 1 if missing).
    #[arg(long, value_name = "HOST:PORT")]
    pub(crate) bootstrap_servers: Option<String>,
    /// The worker's group.id; its internal topics are <group>-configs, <group>-offsets and
    /// <group>-status.
    #[arg(long, value_name = "ID", default_value = "tributary-dev")]
    pub(crate) group_id: String,
    /// Run source tasks exactly once (exactly.once.source.support=enabled): each task writes
    /// its records and their offsets in Kafka transactions. Refused, with the reason, when the
    /// Kafka cluster cannot do transactions.
    #[arg(long)]
    pub(crate) exactly_once: bool,
    /// Connector properties file to create, or update if it exists, in the cluster (repeatable).
    #[arg(long = "connector", value_name = "FILE")]
    pub(crate) connectors: Vec<PathBuf>,
}
