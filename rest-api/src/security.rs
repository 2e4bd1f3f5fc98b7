//! Authentication of REST requests, as a layer any router can wear ([`secure`]).
//!
//! - HTTP basic auth as Kafka Connect's `BasicAuthSecurityRestExtension`: the worker lists
//!   `rest.extension.classes=org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension`
//!   and a JAAS file names the credentials file:
//!
//!   ```text
//!   KafkaConnect {
//!     org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required
//!     file="/etc/tributary/credentials.properties";
//!   };
//!   ```
//!
//!   Kafka takes the JAAS file from the JVM's `-Djava.security.auth.login.config=PATH`; Tributary
//!   reads the same flag from the `KAFKA_OPTS` environment variable, or the worker key
//!   `rest.basic.auth.jaas.config.file` (which wins). The credentials file is a Java properties
//!   file of `user: password` lines. As in Kafka, an empty credentials file lets every request
//!   through (a warning says so at startup).
//! - Bearer tokens (a Tributary extension): `rest.bearer.tokens.file` names a file with one token
//!   a line; `Authorization: Bearer TOKEN` is accepted for any of them.
//!
//! With both configured, either kind of credential is accepted. A request without valid
//! credentials gets `401 {"error_code":401,"message":"User cannot access the resource."}` (Kafka
//! Connect's message). Secrets are compared in constant time over their bytes and never logged.
//! Unlike Kafka Connect, no path is exempt: Kafka lets the inter-worker endpoints through
//! because it signs them, Tributary has no such endpoints yet.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use subtle::{Choice, ConstantTimeEq};

mod jaas;

/// Worker key listing REST extension classes.
pub const REST_EXTENSION_CLASSES: &str = "rest.extension.classes";
/// Kafka Connect's basic auth extension.
pub const BASIC_AUTH_EXTENSION: &str =
    "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension";
/// Worker key naming the JAAS file (Tributary; Kafka takes it from a JVM flag).
pub const JAAS_CONFIG_FILE: &str = "rest.basic.auth.jaas.config.file";
/// Worker key naming the bearer tokens file (Tributary extension).
pub const BEARER_TOKENS_FILE: &str = "rest.bearer.tokens.file";
/// The JVM flag Kafka reads the JAAS file from, looked for in `KAFKA_OPTS`.
pub const JAAS_JVM_FLAG: &str = "-Djava.security.auth.login.config=";
/// Kafka Connect's answer to a request that fails authentication.
pub const UNAUTHORIZED_MESSAGE: &str = "User cannot access the resource.";

/// A security setting that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecurityError {
    /// A worker key, or a file it names, is wrong.
    #[error("invalid value for '{key}': {message}")]
    Config {
        /// The worker key at fault.
        key: String,
        /// What is wrong.
        message: String,
    },
}

impl SecurityError {
    fn config(key: &str, message: impl Into<String>) -> Self {
        Self::Config { key: key.to_owned(), message: message.into() }
    }
}

/// Basic auth credentials from a PropertyFileLoginModule file.
struct BasicAuth {
    file: PathBuf,
    users: Vec<(String, String)>,
}

struct Inner {
    basic: Option<BasicAuth>,
    bearer: Option<(PathBuf, Vec<String>)>,
}

/// How REST requests are authenticated; cheap to clone.
#[derive(Clone)]
pub struct RestSecurity(Arc<Inner>);

impl fmt::Debug for RestSecurity {
    // Counts and files only: never a user name, password or token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Default for RestSecurity {
    fn default() -> Self {
        Self::none()
    }
}

impl RestSecurity {
    /// No authentication: every request passes.
    pub fn none() -> Self {
        Self(Arc::new(Inner { basic: None, bearer: None }))
    }

    /// Reads `rest.extension.classes`, `rest.basic.auth.jaas.config.file` and
    /// `rest.bearer.tokens.file` from worker properties; `kafka_opts` is the `KAFKA_OPTS`
    /// environment variable, where Kafka's `-Djava.security.auth.login.config=PATH` may be.
    pub fn from_worker_props(
        props: &BTreeMap<String, String>,
        kafka_opts: Option<&str>,
    ) -> Result<Self, SecurityError> {
        let extensions: Vec<&str> = props
            .get(REST_EXTENSION_CLASSES)
            .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default();
        let mut basic = None;
        for class in extensions {
            if class != BASIC_AUTH_EXTENSION && Some(class) != BASIC_AUTH_EXTENSION.rsplit('.').next() {
                return Err(SecurityError::config(
                    REST_EXTENSION_CLASSES,
                    format!("unknown REST extension class '{class}'; supported: {BASIC_AUTH_EXTENSION}"),
                ));
            }
            let (key, jaas) = match (props.get(JAAS_CONFIG_FILE).filter(|v| !v.trim().is_empty()), kafka_opts) {
                (Some(path), _) => (JAAS_CONFIG_FILE, PathBuf::from(path.trim())),
                (None, Some(opts)) => match jaas_flag(opts) {
                    Some(path) => ("KAFKA_OPTS", PathBuf::from(path)),
                    None => return Err(missing_jaas()),
                },
                (None, None) => return Err(missing_jaas()),
            };
            basic = Some(load_basic(key, &jaas)?);
        }
        let bearer = match props.get(BEARER_TOKENS_FILE).filter(|v| !v.trim().is_empty()) {
            Some(path) => Some(load_tokens(Path::new(path.trim()))?),
            None => None,
        };
        Ok(Self(Arc::new(Inner { basic, bearer })))
    }

    /// Whether requests must authenticate.
    pub fn is_enabled(&self) -> bool {
        self.0.basic.is_some() || self.0.bearer.is_some()
    }

    /// What is required, for the startup line: `basic auth (2 users from FILE), bearer tokens (1)`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(b) = &self.0.basic {
            parts.push(format!("basic auth ({} users from {})", b.users.len(), b.file.display()));
        }
        if let Some((file, tokens)) = &self.0.bearer {
            parts.push(format!("bearer tokens ({} from {})", tokens.len(), file.display()));
        }
        if parts.is_empty() { "no authentication".to_owned() } else { parts.join(", ") }
    }

    /// Warnings worth logging at startup (an empty credentials file lets everyone in).
    pub fn warnings(&self) -> Vec<String> {
        match &self.0.basic {
            Some(b) if b.users.is_empty() => vec![format!(
                "credentials file {} is empty; as in Kafka Connect, every REST request is permitted",
                b.file.display()
            )],
            _ => Vec::new(),
        }
    }

    /// Whether the request's `Authorization` header is accepted.
    pub fn authorize(&self, headers: &HeaderMap) -> bool {
        if !self.is_enabled() {
            return true;
        }
        if let Some(b) = &self.0.basic
            && b.users.is_empty()
        {
            return true;
        }
        let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let Some((scheme, rest)) = value.split_once(' ') else {
            return false;
        };
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("basic") {
            let Some(b) = &self.0.basic else { return false };
            let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(rest) else {
                return false;
            };
            let Ok(decoded) = String::from_utf8(decoded) else { return false };
            match decoded.split_once(':') {
                Some((user, password)) if !user.is_empty() => any_match(
                    b.users
                        .iter()
                        .map(|(u, p)| u.as_bytes().ct_eq(user.as_bytes()) & p.as_bytes().ct_eq(password.as_bytes())),
                ),
                _ => false,
            }
        } else if scheme.eq_ignore_ascii_case("bearer") {
            let Some((_, tokens)) = &self.0.bearer else { return false };
            any_match(tokens.iter().map(|t| t.as_bytes().ct_eq(rest.as_bytes())))
        } else {
            false
        }
    }

    fn challenge(&self) -> &'static str {
        if self.0.basic.is_some() { "Basic realm=\"Kafka Connect\"" } else { "Bearer" }
    }
}

/// Looks at every entry, so the time taken does not tell which one matched.
fn any_match(choices: impl Iterator<Item = Choice>) -> bool {
    choices.fold(Choice::from(0), |acc, c| acc | c).into()
}

fn missing_jaas() -> SecurityError {
    SecurityError::config(
        REST_EXTENSION_CLASSES,
        format!(
            "BasicAuthSecurityRestExtension needs a JAAS file: set {JAAS_CONFIG_FILE}=PATH in the worker properties \
             or {JAAS_JVM_FLAG}PATH in KAFKA_OPTS"
        ),
    )
}

/// The path in `-Djava.security.auth.login.config=PATH` among JVM options.
fn jaas_flag(opts: &str) -> Option<String> {
    opts.split_whitespace()
        .filter_map(|o| o.trim_matches(['"', '\'']).strip_prefix(JAAS_JVM_FLAG))
        .map(|p| p.trim_matches(['"', '\'']).to_owned())
        .find(|p| !p.is_empty())
}

fn load_basic(key: &str, jaas_file: &Path) -> Result<BasicAuth, SecurityError> {
    let text = std::fs::read_to_string(jaas_file)
        .map_err(|e| SecurityError::config(key, format!("cannot read JAAS file {}: {e}", jaas_file.display())))?;
    let file = jaas::credentials_file(&text)
        .map_err(|m| SecurityError::config(key, format!("JAAS file {}: {m}", jaas_file.display())))?;
    let file = PathBuf::from(file);
    let creds = std::fs::read_to_string(&file).map_err(|e| {
        SecurityError::config(
            key,
            format!("cannot read credentials file {} named in the JAAS file: {e}", file.display()),
        )
    })?;
    let users = tributary_runtime::properties::parse(&creds)
        .map_err(|e| {
            SecurityError::config(key, format!("malformed credentials file {} at line {}", file.display(), e.line))
        })?
        .into_iter()
        .collect();
    Ok(BasicAuth { file, users })
}

fn load_tokens(path: &Path) -> Result<(PathBuf, Vec<String>), SecurityError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| SecurityError::config(BEARER_TOKENS_FILE, format!("cannot read {}: {e}", path.display())))?;
    let tokens: Vec<String> =
        text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_owned).collect();
    if tokens.is_empty() {
        return Err(SecurityError::config(
            BEARER_TOKENS_FILE,
            format!("{} holds no token (one a line; # starts a comment)", path.display()),
        ));
    }
    Ok((path.to_path_buf(), tokens))
}

/// `router` with every request authenticated by `security`; unchanged when it requires nothing.
pub fn secure<S>(router: Router<S>, security: &RestSecurity) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    if !security.is_enabled() {
        return router;
    }
    router.layer(axum::middleware::from_fn_with_state(security.clone(), authenticate))
}

async fn authenticate(State(security): State<RestSecurity>, request: Request, next: Next) -> Response {
    if security.authorize(request.headers()) {
        return next.run(request).await;
    }
    tracing::debug!(method = %request.method(), path = %request.uri().path(), "REST request failed authentication");
    let body = serde_json::json!({"error_code": 401, "message": UNAUTHORIZED_MESSAGE});
    let mut response = (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(security.challenge()));
    response
}

#[cfg(test)]
mod tests;
