//! Standalone mode, and the pieces the other modes share with it: the plugin registry, loading
//! properties files, checking connector configs, serving REST, waiting for a signal.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, anyhow, bail};
use tokio_util::sync::CancellationToken;
use tributary_runtime::Registry;
use tributary_runtime::api::Props;
use tributary_runtime::config_providers::ConfigProviders;
use tributary_runtime::worker::config::WorkerConfig;
use tributary_runtime::worker::offsets::{FileOffsetStore, OffsetStore};
use tributary_runtime::worker::{Worker, validate_connector};

use crate::cli::StandaloneArgs;
use crate::listeners::{self, Listener, RestSettings};

/// Every plugin compiled into this binary.
pub(crate) fn registry() -> Arc<Registry> {
    let mut r = Registry::new();
    tributary_converters::register(&mut r);
    tributary_connectors::register(&mut r);
    tributary_runtime::transforms::register(&mut r);
    Arc::new(r)
}

pub(crate) fn read_properties(path: &Path, what: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {what} file {}", path.display()))?;
    tributary_runtime::properties::parse(&text).with_context(|| format!("malformed {what} file {}", path.display()))
}

/// Reads and checks every connector file, reporting all problems before anything starts.
pub(crate) fn load_connectors(registry: &Arc<Registry>, paths: &[PathBuf]) -> anyhow::Result<Vec<Props>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        match read_properties(path, "connector properties") {
            Ok(props) => match validate_connector(registry, &props, &Props::new()) {
                Ok(_) => out.push(props),
                Err(e) => problems.push(format!("{}: {e}", path.display())),
            },
            Err(e) => problems.push(format!("{e:#}")),
        }
    }
    if !problems.is_empty() {
        bail!("invalid connector configuration:\n  {}", problems.join("\n  "));
    }
    Ok(out)
}

/// The socket address of an `http://host:port` listener whose host is an IP address or
/// `localhost` (the schema registry's listener).
pub(crate) fn listener_addr(listener: &str) -> anyhow::Result<SocketAddr> {
    let l = Listener::parse(listener)?;
    if l.https {
        bail!("invalid value for 'listeners': '{listener}': only http:// is supported here");
    }
    l.host_port().parse().map_err(|e| anyhow!("invalid value for 'listeners': '{listener}': {e}"))
}

/// Serves the REST API on every listener of `rest`, behind its authentication, until `cancel`;
/// returns the URLs served.
pub(crate) async fn serve_rest(
    worker: Arc<dyn tributary_runtime::herder::Herder>,
    rest: &RestSettings,
    docs: bool,
    cancel: CancellationToken,
) -> anyhow::Result<Vec<String>> {
    let router = if docs { tributary_rest_api::router_with_docs(worker) } else { tributary_rest_api::router(worker) };
    let app = tributary_rest_api::security::secure(router, &rest.security);
    let urls = listeners::serve(&rest.listeners, app, rest.tls.clone(), cancel).await?;
    for warning in rest.security.warnings() {
        tracing::warn!("{warning}");
    }
    tracing::info!(urls = %urls.join(", "), authentication = %rest.security.describe(), "REST API listening");
    Ok(urls)
}

/// Resolves on SIGINT or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM ({e}); only Ctrl-C stops the worker");
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Starts the connectors on `worker`, failing on the first that cannot start.
pub(crate) async fn start_connectors(worker: &Worker, connectors: Vec<Props>) -> anyhow::Result<()> {
    for props in connectors {
        let name = props.get("name").cloned().unwrap_or_default();
        worker.start_connector(props).await.map_err(|e| anyhow!("cannot start connector {name}: {}", e.chain()))?;
    }
    Ok(())
}

/// Stops the worker and reports how it went.
pub(crate) async fn stop(worker: &Worker, cancel: &CancellationToken) {
    tracing::info!("stopping: tasks finish their batch, store offsets and stop");
    let clean = worker.shutdown().await;
    cancel.cancel();
    if clean {
        tracing::info!("worker stopped cleanly");
    }
}

pub(crate) async fn standalone(args: StandaloneArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let raw = read_properties(&args.worker_properties, "worker properties")?;
    let invalid = |e: String| anyhow!("invalid worker configuration in {}: {e}", args.worker_properties.display());
    // Worker keys may use the config providers too (e.g. ssl.keystore.key=${file:...}).
    let providers = ConfigProviders::from_worker_props(&raw).map_err(|e| invalid(e.chain()))?;
    let props = providers.resolve_worker(&raw).map_err(|e| invalid(e.chain()))?;
    let config = WorkerConfig::from_props(props).map_err(|e| invalid(e.to_string()))?;
    let rest = RestSettings::from_worker(&config).map_err(|e| invalid(format!("{e:#}")))?;
    let Some(offset_file) = config.offset_file.clone() else {
        bail!(
            "invalid worker configuration in {}: missing required key 'offset.storage.file.filename' (standalone mode stores source offsets in that file)",
            args.worker_properties.display()
        );
    };
    let registry = registry();
    let connectors = load_connectors(&registry, &args.connector_properties)?;
    let offsets: Arc<dyn OffsetStore> =
        Arc::new(FileOffsetStore::open(&offset_file).map_err(|e| anyhow!("{}", e.chain()))?);
    let worker_id = rest.worker_id().unwrap_or_else(|| "standalone".to_owned());
    let cancel = CancellationToken::new();
    let worker = Arc::new(Worker::new(config, registry, offsets, worker_id, cancel.child_token()));
    // Swagger UI at /docs when the worker file asks for it (a Tributary key).
    let docs = worker.config().props.get("rest.docs.enable").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let urls = serve_rest(worker.clone(), &rest, docs, cancel.clone()).await?;
    // Connectors that ask for new task configs (new tables, new topics) get them applied here.
    let reconfigurations = worker.clone();
    let until = cancel.child_token();
    tokio::spawn(async move { reconfigurations.serve_reconfigurations(until).await });
    let n = connectors.len();
    let started_connectors = start_connectors(&worker, connectors).await;
    if let Err(e) = started_connectors {
        stop(&worker, &cancel).await;
        return Err(e);
    }
    tracing::info!(
        connectors = n,
        rest = %if urls.is_empty() { "disabled".to_owned() } else { urls.join(", ") },
        offsets = %offset_file.display(),
        startup_ms = started.elapsed().as_millis() as u64,
        "Tributary standalone worker ready"
    );
    tributary_rest_api::set_ready();
    shutdown_signal().await;
    stop(&worker, &cancel).await;
    Ok(())
}
