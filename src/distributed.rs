//! `tributary distributed worker.properties`: one worker of a Connect cluster.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use tokio_util::sync::CancellationToken;
use tributary_runtime::config_providers::ConfigProviders;
use tributary_runtime::distributed::herder::{DistributedConfig, DistributedHerder};
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

pub(crate) async fn run(args: DistributedArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let file = args.worker_properties.display().to_string();
    let invalid = |e: String| anyhow!("invalid worker configuration in {file}: {e}");
    let raw = run::read_properties(&args.worker_properties, "worker properties")?;
    let providers = ConfigProviders::from_worker_props(&raw).map_err(|e| invalid(e.chain()))?;
    let props = providers.resolve_worker(&raw).map_err(|e| invalid(e.chain()))?;
    let config = WorkerConfig::from_props(props).map_err(|e| invalid(e.to_string()))?;
    let rest = RestSettings::from_worker(&config).map_err(|e| invalid(format!("{e:#}")))?;
    let Some(first) = rest.listeners.first() else {
        bail!(invalid(
            "'listeners' is empty: distributed workers need a REST listener (other workers forward requests to it)"
                .to_owned()
        ));
    };
    if first.port == 0 {
        bail!(invalid(
            "the first listener needs a fixed port in distributed mode (other workers are told it)".to_owned()
        ));
    }
    let dcfg =
        DistributedConfig::from_props(&config.props, &listener_url(first)).map_err(|e| invalid(e.to_string()))?;
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
    let group = dcfg.group.group_id.clone();
    let url = dcfg.advertised_url.clone();
    let cancel = CancellationToken::new();
    let herder = DistributedHerder::start(dcfg, config, run::registry(), cancel.child_token())
        .await
        .map_err(|e| anyhow!("cannot start the distributed worker: {e}"))?;
    let herder = Arc::new(herder);
    let docs =
        herder.worker().config().props.get("rest.docs.enable").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let outcome = async {
        let urls = run::serve_rest(herder.clone(), &rest, docs, cancel.clone()).await?;
        herder.join();
        let joined = async {
            while !herder.joined() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::select! {
            biased;
            _ = run::shutdown_signal() => return anyhow::Ok(()),
            reason = herder.failed() => bail!(reason),
            _ = joined => {}
        }
        tracing::info!(
            group = %group,
            rest = %urls.join(", "),
            advertised = %url,
            startup_ms = started.elapsed().as_millis() as u64,
            "Tributary distributed worker ready"
        );
        tributary_rest_api::set_ready();
        tokio::select! {
            _ = run::shutdown_signal() => anyhow::Ok(()),
            reason = herder.failed() => Err(anyhow!(reason)),
        }
    }
    .await;
    tracing::info!("stopping: tasks store their offsets, then the worker leaves the group");
    let clean = herder.shutdown().await;
    cancel.cancel();
    if clean {
        tracing::info!("worker stopped cleanly");
    }
    outcome
}
