//! `tributary distributed worker.properties`: one worker of a Connect cluster.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use tokio_util::sync::CancellationToken;
use tributary_runtime::Registry;
use tributary_runtime::api::Props;
use tributary_runtime::config_providers::ConfigProviders;
use tributary_runtime::distributed::herder::{DistributedConfig, DistributedHerder};
use tributary_runtime::herder::{Herder, WriteRoute};
use tributary_runtime::worker::ChangeError;
use tributary_runtime::worker::config::WorkerConfig;

use crate::cli::DistributedArgs;
use crate::listeners::{Listener, RestSettings};
use crate::run;

/// The URL of `listener` as other workers should reach it before `rest.advertised.*` apply: a
/// wildcard or empty host is replaced by this machine's host name.
fn listener_url(listener: &Listener) -> String {
    let scheme = if listener.https { "https" } else { "http" };
    let host = match listener.host.as_str() {
        "" | "0.0.0.0" | "::" | "[::]" => std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| {
            tracing::warn!("the REST listener binds every address; advertising 127.0.0.1 (set rest.advertised.host.name so other machines' workers reach this one)");
            "127.0.0.1".to_owned()
        }),
        h => h.to_owned(),
    };
    let host = if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host };
    format!("{scheme}://{host}:{}", listener.port)
}

/// Reads the distributed keys of `config` for a worker serving its REST API on `rest`'s
/// listeners; the first one is advertised to the other workers.
pub(crate) fn distributed_config(config: &WorkerConfig, rest: &RestSettings) -> Result<DistributedConfig, String> {
    let Some(first) = rest.listeners.first() else {
        return Err(
            "'listeners' is empty: distributed workers need a REST listener (other workers forward requests to it)"
                .to_owned(),
        );
    };
    if first.port == 0 {
        return Err("the first listener needs a fixed port in distributed mode (other workers are told it)".to_owned());
    }
    DistributedConfig::from_props(&config.props, &listener_url(first)).map_err(|e| e.to_string())
}

/// A distributed worker whose REST API is served: what `tributary distributed` and
/// `tributary dev` share. It joins its group with [`Member::join`] and leaves it with
/// [`Member::stop`].
#[derive(Debug)]
pub(crate) struct Member {
    herder: Arc<DistributedHerder>,
    urls: Vec<String>,
}

impl Member {
    /// Creates or reads the internal topics, then serves the REST API (Swagger UI at /docs when
    /// `docs`) until `cancel`.
    pub(crate) async fn start(
        dcfg: DistributedConfig,
        config: WorkerConfig,
        plugins: Arc<Registry>,
        rest: &RestSettings,
        docs: bool,
        cancel: &CancellationToken,
    ) -> anyhow::Result<Self> {
        tracing::info!(
            group = %dcfg.group.group_id,
            bootstrap = %dcfg.group.bootstrap_servers,
            config_topic = %dcfg.config_topic.topic,
            offset_topic = %dcfg.offset_topic.topic,
            status_topic = %dcfg.status_topic.topic,
            rest_url = %dcfg.advertised_url,
            protocol = %dcfg.group.protocol,
            "starting a distributed worker"
        );
        let herder = DistributedHerder::start(dcfg, config, plugins, cancel.child_token())
            .await
            .map_err(|e| anyhow!("cannot start the distributed worker: {e}"))?;
        let herder = Arc::new(herder);
        match run::serve_rest(herder.clone(), rest, docs, cancel.clone()).await {
            Ok(urls) => Ok(Self { herder, urls }),
            Err(e) => {
                herder.shutdown().await;
                Err(e)
            }
        }
    }

    /// The herder, for the REST API's operations.
    pub(crate) fn herder(&self) -> &Arc<DistributedHerder> {
        &self.herder
    }

    /// The URLs the REST API is served on.
    pub(crate) fn urls(&self) -> &[String] {
        &self.urls
    }

    /// Joins the group and waits until the first join is done; `false` when a shutdown signal
    /// came first, an error when the worker gave up (its config does not fit the group's).
    pub(crate) async fn join(&self) -> anyhow::Result<bool> {
        self.herder.join();
        let joined = async {
            while !self.herder.joined() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::select! {
            biased;
            _ = run::shutdown_signal() => Ok(false),
            reason = self.herder.failed() => Err(anyhow!(reason)),
            _ = joined => Ok(true),
        }
    }

    /// Runs until a shutdown signal (`Ok`) or until the worker gives up (the reason).
    pub(crate) async fn serve(&self) -> anyhow::Result<()> {
        tokio::select! {
            _ = run::shutdown_signal() => Ok(()),
            reason = self.herder.failed() => Err(anyhow!(reason)),
        }
    }

    /// Creates or updates a connector, as `PUT /connectors/{name}/config` does: here when this
    /// worker leads, else at the leader's REST API; retried while a rebalance runs (Kafka
    /// Connect's 409 answers), for up to a minute.
    pub(crate) async fn put_connector_config(&self, config: Props) -> anyhow::Result<()> {
        let name = config.get("name").cloned().unwrap_or_default();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let outcome = match self.herder.write_route() {
                WriteRoute::Local => self.herder.put_connector_config(&name, config.clone()).await.map(|_| ()),
                WriteRoute::Forward(leader) => put_at_leader(&leader, &name, &config).await,
                WriteRoute::Conflict(message) => Err(ChangeError::Conflict(message)),
            };
            match outcome {
                Ok(()) => return Ok(()),
                Err(ChangeError::Conflict(message)) if Instant::now() < deadline => {
                    tracing::debug!(connector = %name, "retrying the connector's config: {message}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => bail!("cannot create or update connector {name}: {e}"),
            }
        }
    }

    /// Stops: tasks store their offsets, then the worker leaves the group (the others take
    /// over at once).
    pub(crate) async fn stop(self) {
        tracing::info!("stopping: tasks store their offsets, then the worker leaves the group");
        if self.herder.shutdown().await {
            tracing::info!("worker stopped cleanly");
        }
    }
}

/// `PUT /connectors/{name}/config?forward=false` at the leader; its 409 is a `Conflict`.
async fn put_at_leader(leader: &str, name: &str, config: &Props) -> Result<(), ChangeError> {
    let failed = |e: String| ChangeError::Failed(format!("the leader at {leader}: {e}"));
    let mut url = reqwest::Url::parse(leader).map_err(|e| failed(e.to_string()))?;
    url.path_segments_mut().map_err(|()| failed("not a base URL".to_owned()))?.pop_if_empty().extend([
        "connectors",
        name,
        "config",
    ]);
    url.set_query(Some("forward=false"));
    let client =
        reqwest::Client::builder().timeout(Duration::from_secs(90)).build().map_err(|e| failed(e.to_string()))?;
    // An unreachable leader is a rebalance in the making: retried like Kafka Connect's 409.
    let response =
        client.put(url).json(config).send().await.map_err(|e| ChangeError::Conflict(format!("{leader}: {e}")))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    match status.as_u16() {
        200..=299 => Ok(()),
        409 => Err(ChangeError::Conflict(body)),
        _ => Err(failed(format!("{status}: {body}"))),
    }
}

pub(crate) async fn run(args: DistributedArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let file = args.worker_properties.display().to_string();
    let invalid = |e: String| anyhow!("invalid worker configuration in {file}: {e}");
    let raw = run::read_properties(&args.worker_properties, "worker properties")?;
    let providers = ConfigProviders::from_worker_props(&raw).map_err(|e| invalid(e.chain()))?;
    let props = providers.resolve_worker(&raw).map_err(|e| invalid(e.chain()))?;
    let config = WorkerConfig::from_props(props).map_err(|e| invalid(e.to_string()))?;
    let rest = RestSettings::from_worker(&config).map_err(|e| invalid(format!("{e:#}")))?;
    let dcfg = distributed_config(&config, &rest).map_err(invalid)?;
    let group = dcfg.group.group_id.clone();
    let url = dcfg.advertised_url.clone();
    // Swagger UI at /docs when the worker file asks for it (a Tributary key).
    let docs = config.props.get("rest.docs.enable").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let cancel = CancellationToken::new();
    let member = Member::start(dcfg, config, run::registry(), &rest, docs, &cancel).await?;
    let outcome = async {
        if !member.join().await? {
            return Ok(());
        }
        tracing::info!(
            group = %group,
            rest = %member.urls().join(", "),
            advertised = %url,
            startup_ms = started.elapsed().as_millis() as u64,
            "Tributary distributed worker ready"
        );
        tributary_rest_api::set_ready();
        member.serve().await
    }
    .await;
    member.stop().await;
    cancel.cancel();
    outcome
}
