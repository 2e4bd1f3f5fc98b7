//! REST listeners as Kafka Connect configures them: `listeners=http://host:port,https://host:port`,
//! every one served with the same router.
//!
//! HTTPS takes Kafka's SSL keys, with the `listeners.https.` prefix or without it. As Kafka's
//! `valuesWithPrefixAllOrNothing`: once any `listeners.https.*` key is set, only the prefixed
//! keys are read. Kafka Connect reads JKS or PKCS12 keystores; Tributary (rustls) reads Kafka's
//! PEM keystores: `ssl.keystore.type=PEM` with `ssl.keystore.certificate.chain` and
//! `ssl.keystore.key` given inline, or `ssl.keystore.location` naming a PEM file that holds the
//! private key and the certificate chain. Client certificates: `ssl.client.auth=required` or
//! `requested` with a PEM truststore (`ssl.truststore.certificates` inline, or
//! `ssl.truststore.location`). `ssl.enabled.protocols` takes TLSv1.2 and TLSv1.3.
//!
//! A TLS handshake runs in its own task with a deadline, so a slow client never holds up the
//! others; accepted connections reach axum's server through a bounded channel.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use axum::Router;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{self, RootCertStore, ServerConfig};
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tributary_rest_api::security::RestSecurity;
use tributary_runtime::worker::config::WorkerConfig;

/// Prefix of the HTTPS listener's SSL keys.
pub(crate) const HTTPS_PREFIX: &str = "listeners.https.";
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_HANDSHAKES: usize = 256;

/// One entry of `listeners`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Listener {
    /// Whether it serves TLS.
    pub(crate) https: bool,
    /// Host to bind (an IP, or a name to resolve).
    pub(crate) host: String,
    /// Port to bind (0: any free port).
    pub(crate) port: u16,
}

impl Listener {
    /// Parses `http://host:port` or `https://host:port`; an empty host means every interface.
    pub(crate) fn parse(listener: &str) -> anyhow::Result<Self> {
        let bad = |why: &str| anyhow!("invalid value for 'listeners': '{listener}' {why}");
        let trimmed = listener.trim().trim_end_matches('/');
        let lower = trimmed.to_ascii_lowercase();
        let (https, rest) = if lower.starts_with("http://") {
            (false, &trimmed[7..])
        } else if lower.starts_with("https://") {
            (true, &trimmed[8..])
        } else {
            return Err(bad("must start with http:// or https://"));
        };
        let (host, port) = rest.rsplit_once(':').ok_or_else(|| bad("has no port"))?;
        let port = port.parse::<u16>().map_err(|_| bad("has no valid port (0 to 65535)"))?;
        let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        let host = match host {
            "" => "0.0.0.0",
            "localhost" => "127.0.0.1",
            h => h,
        };
        if host.contains(['/', '@', '?', '#']) {
            return Err(bad("has a path or user part; write scheme://host:port"));
        }
        Ok(Self { https, host: host.to_owned(), port })
    }

    /// The URL clients use for `addr`, the address this listener was bound to.
    fn url(&self, addr: SocketAddr) -> String {
        format!("{}://{addr}", if self.https { "https" } else { "http" })
    }

    /// `host:port` as written, for worker ids.
    pub(crate) fn host_port(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Parses every entry of `listeners`.
pub(crate) fn parse_all(listeners: &[String]) -> anyhow::Result<Vec<Listener>> {
    listeners.iter().filter(|l| !l.trim().is_empty()).map(|l| Listener::parse(l)).collect()
}

/// The SSL keys of the HTTPS listener, prefixed or not (all or nothing, as Kafka) and the
/// prefix they were found under, for error messages.
fn ssl_keys(props: &BTreeMap<String, String>) -> (BTreeMap<String, String>, &'static str) {
    let prefixed: BTreeMap<String, String> =
        props.iter().filter_map(|(k, v)| k.strip_prefix(HTTPS_PREFIX).map(|k| (k.to_owned(), v.clone()))).collect();
    if prefixed.is_empty() {
        (props.iter().filter(|(k, _)| k.starts_with("ssl.")).map(|(k, v)| (k.clone(), v.clone())).collect(), "")
    } else {
        (prefixed, HTTPS_PREFIX)
    }
}

/// The rustls configuration of the HTTPS listeners, from Kafka's SSL worker keys.
pub(crate) fn server_tls(props: &BTreeMap<String, String>) -> anyhow::Result<Arc<ServerConfig>> {
    let (ssl, prefix) = ssl_keys(props);
    let key_name = |k: &str| format!("{prefix}{k}");
    let get = |k: &str| ssl.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let err = |k: &str, m: String| anyhow!("invalid value for '{}': {m}", key_name(k));

    if let Some(t) = get("ssl.keystore.type").filter(|t| !t.eq_ignore_ascii_case("PEM")) {
        return Err(err(
            "ssl.keystore.type",
            format!(
                "keystore type {t} is not supported; Tributary reads PEM keystores (convert with \
                 `openssl pkcs12 -in keystore.p12 -nodes -out keystore.pem`, after \
                 `keytool -importkeystore -srckeystore keystore.jks -destkeystore keystore.p12 -deststoretype PKCS12` for JKS)"
            ),
        ));
    }
    let (pem, pem_key) = match (
        get("ssl.keystore.certificate.chain"),
        get("ssl.keystore.key"),
        get("ssl.keystore.location"),
    ) {
        (Some(chain), Some(key), _) => {
            (format!("{}\n{}", normalize_pem(chain), normalize_pem(key)), "ssl.keystore.key")
        }
        (Some(_), None, _) => {
            return Err(err("ssl.keystore.key", "missing: set it with ssl.keystore.certificate.chain".into()));
        }
        (None, Some(_), _) => {
            return Err(err("ssl.keystore.certificate.chain", "missing: set it with ssl.keystore.key".into()));
        }
        (None, None, Some(location)) => {
            let text = std::fs::read_to_string(location)
                .map_err(|e| err("ssl.keystore.location", format!("cannot read PEM keystore {location}: {e}")))?;
            (normalize_pem(&text), "ssl.keystore.location")
        }
        (None, None, None) => {
            return Err(anyhow!(
                "an https:// listener needs a key and certificate: set {0}ssl.keystore.location (a PEM file with the \
                 private key and certificate chain), or {0}ssl.keystore.certificate.chain and {0}ssl.keystore.key",
                prefix
            ));
        }
    };
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(pem_key, format!("malformed PEM certificate: {e}")))?;
    if certs.is_empty() {
        let k = if pem_key == "ssl.keystore.key" { "ssl.keystore.certificate.chain" } else { pem_key };
        return Err(err(k, "no PEM certificate (-----BEGIN CERTIFICATE-----) found".into()));
    }
    if pem.contains("ENCRYPTED PRIVATE KEY") || pem.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(err(
            pem_key,
            "encrypted private keys are not supported (ssl.key.password); decrypt the key with \
             `openssl pkcs8 -in key.pem -out plain-key.pem` and protect the file instead"
                .into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| err(pem_key, format!("no usable PEM private key (PKCS#8, PKCS#1 or SEC1): {e}")))?;

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let versions = protocol_versions(get("ssl.enabled.protocols")).map_err(|m| err("ssl.enabled.protocols", m))?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| err("ssl.enabled.protocols", e.to_string()))?;
    let client_auth = get("ssl.client.auth").unwrap_or("none").to_ascii_lowercase();
    let builder = match client_auth.as_str() {
        "none" => builder.with_no_client_auth(),
        "required" | "requested" => {
            let roots = truststore(&ssl, &key_name)?;
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if client_auth == "requested" { verifier.allow_unauthenticated() } else { verifier };
            builder.with_client_cert_verifier(
                verifier.build().map_err(|e| err("ssl.truststore.location", format!("unusable truststore: {e}")))?,
            )
        }
        other => return Err(err("ssl.client.auth", format!("'{other}' is not one of required, requested, none"))),
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| err(pem_key, format!("the private key and certificate chain do not fit together: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn protocol_versions(value: Option<&str>) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, String> {
    let Some(value) = value else {
        return Ok(vec![&rustls::version::TLS13, &rustls::version::TLS12]);
    };
    let mut out = Vec::new();
    for p in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match p {
            "TLSv1.3" => out.push(&rustls::version::TLS13),
            "TLSv1.2" => out.push(&rustls::version::TLS12),
            other => return Err(format!("protocol {other} is not supported; use TLSv1.2 and/or TLSv1.3")),
        }
    }
    if out.is_empty() {
        return Err("no protocol listed; use TLSv1.2 and/or TLSv1.3".into());
    }
    Ok(out)
}

fn truststore(ssl: &BTreeMap<String, String>, key_name: &dyn Fn(&str) -> String) -> anyhow::Result<RootCertStore> {
    let get = |k: &str| ssl.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    if let Some(t) = get("ssl.truststore.type").filter(|t| !t.eq_ignore_ascii_case("PEM")) {
        bail!("invalid value for '{}': truststore type {t} is not supported; use PEM", key_name("ssl.truststore.type"));
    }
    let (pem, key) = match (get("ssl.truststore.certificates"), get("ssl.truststore.location")) {
        (Some(inline), _) => (normalize_pem(inline), "ssl.truststore.certificates"),
        (None, Some(location)) => {
            let text = std::fs::read_to_string(location).with_context(|| {
                format!("invalid value for '{}': cannot read {location}", key_name("ssl.truststore.location"))
            })?;
            (normalize_pem(&text), "ssl.truststore.location")
        }
        (None, None) => bail!(
            "invalid value for '{}': client authentication needs the CA certificates to trust: set {} or {}",
            key_name("ssl.client.auth"),
            key_name("ssl.truststore.location"),
            key_name("ssl.truststore.certificates")
        ),
    };
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        let cert = cert.map_err(|e| anyhow!("invalid value for '{}': malformed PEM: {e}", key_name(key)))?;
        roots.add(cert).map_err(|e| anyhow!("invalid value for '{}': unusable certificate: {e}", key_name(key)))?;
    }
    if roots.is_empty() {
        bail!("invalid value for '{}': no PEM certificate found", key_name(key));
    }
    Ok(roots)
}

/// PEM blocks rewritten with their own lines: a properties file joins continued lines, so an
/// inline `ssl.keystore.key` often arrives as one line.
fn normalize_pem(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(begin) = rest.find("-----BEGIN ") {
        let after = &rest[begin + 11..];
        let Some(label_end) = after.find("-----") else { break };
        let label = &after[..label_end];
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = body_start.find(&end_marker) else { break };
        let body = &body_start[..end];
        out.push_str(&format!("-----BEGIN {label}-----\n"));
        // Header lines (Proc-Type: ...) stay as they are so encrypted keys are recognised.
        if body.contains(':') {
            out.push_str(body.trim());
            out.push('\n');
        } else {
            let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            for chunk in b64.as_bytes().chunks(64) {
                out.push_str(&String::from_utf8_lossy(chunk));
                out.push('\n');
            }
        }
        out.push_str(&end_marker);
        out.push('\n');
        rest = &body_start[end + end_marker.len()..];
    }
    out
}

/// How the REST API is served: where, with which TLS keys, with which authentication.
#[derive(Debug)]
pub(crate) struct RestSettings {
    /// The `listeners` entries.
    pub(crate) listeners: Vec<Listener>,
    /// TLS of the https:// listeners (present when there is one).
    pub(crate) tls: Option<Arc<ServerConfig>>,
    /// Authentication required of every request.
    pub(crate) security: RestSecurity,
}

impl RestSettings {
    /// Reads `listeners`, the SSL keys when a listener is https://, and the security keys
    /// (`rest.extension.classes`, `rest.basic.auth.jaas.config.file`, `rest.bearer.tokens.file`,
    /// and the JAAS flag in the `KAFKA_OPTS` environment variable).
    pub(crate) fn from_worker(config: &WorkerConfig) -> anyhow::Result<Self> {
        let listeners = parse_all(&config.listeners)?;
        let tls = if listeners.iter().any(|l| l.https) { Some(server_tls(&config.props)?) } else { None };
        let kafka_opts = std::env::var("KAFKA_OPTS").ok();
        let security = RestSecurity::from_worker_props(&config.props, kafka_opts.as_deref())?;
        Ok(Self { listeners, tls, security })
    }

    /// The worker id: the first listener's `host:port`, as Kafka Connect advertises it.
    pub(crate) fn worker_id(&self) -> Option<String> {
        self.listeners.first().map(Listener::host_port)
    }
}

/// Binds every listener, then serves `app` on each until `cancel`; returns the URLs served.
pub(crate) async fn serve(
    listeners: &[Listener],
    app: Router,
    tls: Option<Arc<ServerConfig>>,
    cancel: CancellationToken,
) -> anyhow::Result<Vec<String>> {
    let mut bound = Vec::with_capacity(listeners.len());
    for l in listeners {
        let tcp = TcpListener::bind((l.host.as_str(), l.port)).await.with_context(|| {
            format!(
                "cannot listen on {} for the REST API (is another worker running? change 'listeners')",
                l.host_port()
            )
        })?;
        let addr = tcp.local_addr()?;
        bound.push((l, tcp, addr));
    }
    let mut urls = Vec::with_capacity(bound.len());
    for (l, tcp, addr) in bound {
        urls.push(l.url(addr));
        let app = app.clone();
        let cancel = cancel.clone();
        if l.https {
            let config = tls.clone().ok_or_else(|| anyhow!("an https:// listener needs the SSL keys"))?;
            let (tx, rx) = mpsc::channel(64);
            tokio::spawn(accept_tls(tcp, TlsAcceptor::from(config), tx, cancel.clone()));
            let listener = TlsListener { rx, local: addr };
            tokio::spawn(async move {
                let served = axum::serve(listener, app).with_graceful_shutdown(cancel.cancelled_owned()).await;
                if let Err(e) = served {
                    tracing::error!("REST API on https://{addr} stopped: {e}");
                }
            });
        } else {
            tokio::spawn(async move {
                let served = axum::serve(tcp, app).with_graceful_shutdown(cancel.cancelled_owned()).await;
                if let Err(e) = served {
                    tracing::error!("REST API on http://{addr} stopped: {e}");
                }
            });
        }
    }
    Ok(urls)
}

/// TLS connections whose handshake is done.
struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(conn) => conn,
            // The acceptor stopped on cancellation; axum's graceful shutdown ends this server.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// Accepts TCP connections and runs each TLS handshake in its own task, with a deadline.
async fn accept_tls(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    tx: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
    cancel: CancellationToken,
) {
    let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    let tracker = TaskTracker::new();
    loop {
        let permit = tokio::select! {
            biased;
            _ = cancel.cancelled() => break,
            p = handshakes.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            biased;
            _ = cancel.cancelled() => break,
            accepted = tcp.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors or similar: back off rather than spin.
                    tracing::warn!("cannot accept a REST connection: {e}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            },
        };
        let (acceptor, tx, cancel) = (acceptor.clone(), tx.clone(), cancel.clone());
        tracker.spawn(async move {
            let _permit = permit;
            let handshake = async {
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => {
                        let _ = tx.send((tls, peer)).await;
                    }
                    Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                }
            };
            tokio::select! {
                biased;
                _ = cancel.cancelled() => {}
                _ = handshake => {}
            }
        });
    }
    tracker.close();
    tracker.wait().await;
}

#[cfg(test)]
#[path = "listeners_tests.rs"]
mod tests;
