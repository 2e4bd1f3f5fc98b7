//! Config providers (Kafka's KIP-297 and KIP-421): connector configs name secrets with
//! variables such as `${file:/etc/secrets/db.properties:password}`,
//! `${directory:/run/secrets:db-password}` or `${env:DB_PASSWORD}`, and only the worker replaces
//! them, just before a connector or task starts. Everything stored or shown over REST keeps the
//! placeholder.
//!
//! The worker file declares the providers as Kafka Connect's does:
//!
//! ```properties
//! config.providers=file,directory,env
//! config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider
//! config.providers.file.param.allowed.paths=/etc/secrets
//! config.providers.directory.class=org.apache.kafka.common.config.provider.DirectoryConfigProvider
//! config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider
//! config.providers.env.param.allowlist.pattern=^DB_.*
//! ```
//!
//! Variables follow Kafka's `ConfigTransformer` pattern `${provider:[path:]key}`: the provider
//! name runs to the first `:`, the path (optional) to the next `:`, the key to the `}`. A value
//! may hold several variables and text around them. Replacement is one pass: a resolved value
//! that itself looks like a variable is not resolved again. A variable naming a provider that is
//! not configured is left as it is, as Kafka does.
//!
//! Where Tributary is stricter than Kafka: a variable of a configured provider that cannot be
//! resolved (missing file, missing key, path outside `allowed.paths`, environment variable not
//! set or not allowed) is an error naming the connector key and the variable, never the value;
//! Kafka leaves such a variable in place and the connector fails later on the literal `${...}`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use crate::api::config::ConfigError;
use crate::api::{ConfigErrors, ConnectError, ConnectResult, Props};
use crate::worker::config::strip_prefix;

/// Worker key listing the provider names.
pub const CONFIG_PROVIDERS: &str = "config.providers";
/// Kafka's provider reading a Java properties file: `${file:PATH:KEY}`.
pub const FILE_CONFIG_PROVIDER: &str = "org.apache.kafka.common.config.provider.FileConfigProvider";
/// Kafka's provider reading one file per key in a directory: `${directory:DIR:FILE}`.
pub const DIRECTORY_CONFIG_PROVIDER: &str = "org.apache.kafka.common.config.provider.DirectoryConfigProvider";
/// Kafka's provider reading environment variables: `${env:NAME}`.
pub const ENV_VAR_CONFIG_PROVIDER: &str = "org.apache.kafka.common.config.provider.EnvVarConfigProvider";
/// Every provider class Tributary implements.
pub const SUPPORTED_CLASSES: [&str; 3] = [FILE_CONFIG_PROVIDER, DIRECTORY_CONFIG_PROVIDER, ENV_VAR_CONFIG_PROVIDER];

/// Kafka's `ConfigTransformer.DEFAULT_PATTERN`, unchanged.
static VARIABLE: LazyLock<Regex> = LazyLock::new(|| {
    // A constant pattern, checked by the unit tests: it always compiles.
    Regex::new(r"\$\{([^}]*?):(([^}]*?):)?([^}]*?)\}").unwrap_or_else(|e| unreachable!("constant pattern: {e}"))
});

/// Whether `value` holds at least one `${provider:[path:]key}` variable.
pub fn has_variables(value: &str) -> bool {
    VARIABLE.is_match(value)
}

/// One configured provider.
enum Provider {
    File { allowed: AllowedPaths },
    Directory { allowed: AllowedPaths },
    Env { vars: HashMap<String, String> },
}

impl Provider {
    fn class(&self) -> &'static str {
        match self {
            Self::File { .. } => FILE_CONFIG_PROVIDER,
            Self::Directory { .. } => DIRECTORY_CONFIG_PROVIDER,
            Self::Env { .. } => ENV_VAR_CONFIG_PROVIDER,
        }
    }

    /// Every key of `path` this provider knows, for the keys asked.
    fn lookup(&self, name: &str, path: &str, keys: &[&str]) -> Result<HashMap<String, String>, String> {
        match self {
            Self::File { allowed } => {
                let file = allowed.check(name, path)?;
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| format!("cannot read properties file {}: {e}", file.display()))?;
                let mut props = crate::properties::parse(&text)
                    .map_err(|e| format!("malformed properties file {} at line {}", file.display(), e.line))?;
                Ok(keys.iter().filter_map(|k| props.remove(*k).map(|v| ((*k).to_owned(), v))).collect())
            }
            Self::Directory { allowed } => {
                let dir = allowed.check(name, path)?;
                if !dir.is_dir() {
                    return Err(format!("{} is not a directory", dir.display()));
                }
                let mut out = HashMap::new();
                for key in keys {
                    if !is_file_name(key) {
                        continue; // as in Kafka, only names of files in the directory match
                    }
                    let file = dir.join(key);
                    if !file.is_file() {
                        continue;
                    }
                    let bytes = std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
                    let text =
                        String::from_utf8(bytes).map_err(|_| format!("{} is not valid UTF-8", file.display()))?;
                    out.insert((*key).to_owned(), text);
                }
                Ok(out)
            }
            Self::Env { vars } => {
                if !path.is_empty() {
                    return Err(format!(
                        "path is not supported for EnvVarConfigProvider, invalid value '{path}' (write ${{{name}:NAME}})"
                    ));
                }
                Ok(keys.iter().filter_map(|k| vars.get(*k).map(|v| ((*k).to_owned(), v.clone()))).collect())
            }
        }
    }

    fn missing(&self, path: &str, key: &str) -> String {
        match self {
            Self::File { .. } => format!("key '{key}' not found in properties file {path}"),
            Self::Directory { .. } if !is_file_name(key) => {
                format!("'{key}' is not a file name (the key of a directory variable names a file in it)")
            }
            Self::Directory { .. } => format!("no regular file named '{key}' in directory {path}"),
            Self::Env { .. } => {
                format!("environment variable '{key}' is not set or does not match the provider's allowlist.pattern")
            }
        }
    }
}

fn is_file_name(key: &str) -> bool {
    !(key.is_empty() || key.contains(['/', '\\']) || key == "." || key == "..")
}

/// `allowed.paths` of the file and directory providers (Kafka's `AllowedPaths`): absolute,
/// existing paths; a variable's path must lie under one of them once `.` and `..` are removed.
struct AllowedPaths(Option<Vec<PathBuf>>);

impl AllowedPaths {
    fn parse(value: Option<&String>) -> Result<Self, String> {
        let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
            return Ok(Self(None));
        };
        let mut paths = Vec::new();
        for raw in value.split(',').map(str::trim) {
            let path = normalize(Path::new(raw));
            if !path.is_absolute() {
                return Err(format!("path {} is not absolute", path.display()));
            }
            if !path.exists() {
                return Err(format!("path {} does not exist", path.display()));
            }
            paths.push(path);
        }
        Ok(Self(Some(paths)))
    }

    fn check(&self, name: &str, path: &str) -> Result<PathBuf, String> {
        if path.is_empty() {
            return Err(format!("provider '{name}' needs a path: ${{{name}:PATH:KEY}}"));
        }
        let Some(allowed) = &self.0 else {
            return Ok(PathBuf::from(path));
        };
        let normalized = normalize(Path::new(path));
        if allowed.iter().any(|a| normalized.starts_with(a)) {
            Ok(normalized)
        } else {
            Err(format!("path {path} is not under config.providers.{name}.param.allowed.paths"))
        }
    }
}

/// Removes `.` and resolves `..` lexically, as Java's `Path.normalize`.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() && !out.has_root() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// What each (provider, path) looked up gave: the values found, or why the lookup failed.
type Lookups<'a> = HashMap<(&'a str, &'a str), Result<HashMap<String, String>, String>>;

/// The config providers of a worker, by name.
pub struct ConfigProviders {
    providers: BTreeMap<String, Provider>,
}

impl fmt::Debug for ConfigProviders {
    // Never prints what a provider holds (the env provider keeps the allowed variables).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.providers.iter().map(|(n, p)| (n, p.class()))).finish()
    }
}

impl ConfigProviders {
    /// Reads `config.providers` and `config.providers.<name>.class` / `.param.*` from worker
    /// properties; the env provider sees this process's environment as it is now.
    pub fn from_worker_props(props: &BTreeMap<String, String>) -> ConnectResult<Self> {
        Self::from_worker_props_with_env(props, std::env::vars())
    }

    /// As [`ConfigProviders::from_worker_props`], with the environment given (tests, embedding).
    pub fn from_worker_props_with_env(
        props: &BTreeMap<String, String>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> ConnectResult<Self> {
        let env: Vec<(String, String)> = env.into_iter().collect();
        let mut providers = BTreeMap::new();
        let mut errors = Vec::new();
        let names = props.get(CONFIG_PROVIDERS).map(String::as_str).unwrap_or_default();
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match provider(props, name, &env) {
                Ok(p) => {
                    providers.insert(name.to_owned(), p);
                }
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() { Ok(Self { providers }) } else { Err(ConnectError::Config(ConfigErrors(errors))) }
    }

    /// Whether no provider is configured.
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }

    /// Names of the configured providers.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.providers.keys().map(String::as_str)
    }

    /// `props` with every variable of a configured provider replaced by its value. Each file or
    /// directory is read once per call. Errors name the key and the variable, never a value.
    pub fn resolve(&self, props: &BTreeMap<String, String>) -> ConnectResult<BTreeMap<String, String>> {
        if self.providers.is_empty() {
            return Ok(props.clone());
        }
        // Kafka's ConfigTransformer: collect the keys asked per provider and path, look each
        // path up once, then replace.
        let mut wanted: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
        for value in props.values() {
            for v in variables(value).filter(|v| self.providers.contains_key(v.provider)) {
                let keys = wanted.entry((v.provider, v.path)).or_default();
                if !keys.contains(&v.key) {
                    keys.push(v.key);
                }
            }
        }
        let mut found: Lookups<'_> = HashMap::new();
        for ((name, path), keys) in wanted {
            let provider = &self.providers[name];
            found.insert((name, path), provider.lookup(name, path, &keys));
        }
        let mut out = BTreeMap::new();
        let mut errors = Vec::new();
        for (key, value) in props {
            match self.replace(value, &found) {
                Ok(v) => {
                    out.insert(key.clone(), v);
                }
                Err(message) => errors.push(ConfigError { key: key.clone(), message }),
            }
        }
        if errors.is_empty() { Ok(out) } else { Err(ConnectError::Config(ConfigErrors(errors))) }
    }

    /// Worker properties with their own variables resolved, as Kafka's `AbstractConfig` does for
    /// worker configs; the `config.providers*` keys themselves are kept as written.
    pub fn resolve_worker(&self, props: &BTreeMap<String, String>) -> ConnectResult<BTreeMap<String, String>> {
        let (own, rest): (BTreeMap<_, _>, BTreeMap<_, _>) =
            props.clone().into_iter().partition(|(k, _)| k.starts_with(CONFIG_PROVIDERS));
        let mut resolved = self.resolve(&rest)?;
        resolved.extend(own);
        Ok(resolved)
    }

    fn replace(&self, value: &str, found: &Lookups<'_>) -> Result<String, String> {
        let mut out = String::with_capacity(value.len());
        let mut last = 0;
        for v in variables(value) {
            let Some(provider) = self.providers.get(v.provider) else {
                continue; // an unknown provider's variable stays as written
            };
            let data = match found.get(&(v.provider, v.path)) {
                Some(Ok(data)) => data,
                Some(Err(e)) => return Err(format!("cannot resolve {}: {e}", v.text)),
                None => return Err(format!("cannot resolve {}: not looked up", v.text)),
            };
            let Some(replacement) = data.get(v.key) else {
                return Err(format!("cannot resolve {}: {}", v.text, provider.missing(v.path, v.key)));
            };
            out.push_str(&value[last..v.start]);
            out.push_str(replacement);
            last = v.end;
        }
        out.push_str(&value[last..]);
        Ok(out)
    }
}

/// Task configs as shown over REST: wherever the connector's raw config had a variable under a
/// key, the task config's value for that key is replaced by the raw placeholder (Kafka's
/// `AbstractHerder.reverseTransform`, which does this for every such key the task config has).
pub fn reverse_transform(raw: &Props, resolved_task: &Props) -> Props {
    let mut out = resolved_task.clone();
    for (key, raw_value) in raw.iter().filter(|(_, v)| has_variables(v)) {
        if let Some(v) = out.get_mut(key) {
            v.clone_from(raw_value);
        }
    }
    out
}

struct Variable<'a> {
    text: &'a str,
    start: usize,
    end: usize,
    provider: &'a str,
    path: &'a str,
    key: &'a str,
}

fn variables(value: &str) -> impl Iterator<Item = Variable<'_>> {
    VARIABLE.captures_iter(value).filter_map(|c| {
        let whole = c.get(0)?;
        Some(Variable {
            text: whole.as_str(),
            start: whole.start(),
            end: whole.end(),
            provider: c.get(1)?.as_str(),
            path: c.get(3).map_or("", |m| m.as_str()),
            key: c.get(4)?.as_str(),
        })
    })
}

fn provider(props: &BTreeMap<String, String>, name: &str, env: &[(String, String)]) -> Result<Provider, ConfigError> {
    let class_key = format!("{CONFIG_PROVIDERS}.{name}.class");
    let err = |key: &str, message: String| ConfigError { key: key.to_owned(), message };
    let Some(class) = props.get(&class_key).map(|c| c.trim()) else {
        return Err(err(
            &class_key,
            format!("missing: provider '{name}' is listed in config.providers but has no class"),
        ));
    };
    let params = strip_prefix(props, &format!("{CONFIG_PROVIDERS}.{name}.param."));
    // Kafka's class names, or their simple names.
    let simple = SUPPORTED_CLASSES
        .iter()
        .find(|c| **c == class || c.rsplit('.').next() == Some(class))
        .map_or(class, |c| c.rsplit('.').next().unwrap_or(c));
    let paths_key = format!("{CONFIG_PROVIDERS}.{name}.param.allowed.paths");
    match simple {
        "FileConfigProvider" | "DirectoryConfigProvider" => {
            let allowed = AllowedPaths::parse(params.get("allowed.paths")).map_err(|m| err(&paths_key, m))?;
            Ok(if simple == "FileConfigProvider" {
                Provider::File { allowed }
            } else {
                Provider::Directory { allowed }
            })
        }
        "EnvVarConfigProvider" => {
            let pattern_key = format!("{CONFIG_PROVIDERS}.{name}.param.allowlist.pattern");
            let pattern = params.get("allowlist.pattern").map_or(".*", String::as_str);
            // Java's Matcher.matches(): the whole name must match.
            let re = Regex::new(&format!("^(?:{pattern})$"))
                .map_err(|e| err(&pattern_key, format!("not a valid regular expression: {e}")))?;
            let vars = env.iter().filter(|(k, _)| re.is_match(k)).cloned().collect();
            Ok(Provider::Env { vars })
        }
        _ => Err(err(
            &class_key,
            format!("unknown config provider class '{class}'; supported: {}", SUPPORTED_CLASSES.join(", ")),
        )),
    }
}

#[cfg(test)]
#[path = "config_providers_tests.rs"]
mod tests;
