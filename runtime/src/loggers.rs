//! Log levels changed at run time, as Kafka Connect's `/admin/loggers` changes log4j's: a root
//! level and levels set per logger (a tracing target such as `tributary_runtime::worker`,
//! applying to everything under it), with when each was last set. The binary installs the
//! function that applies a new filter; the REST API reads and changes levels through here.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

/// The root logger's name, as in Kafka Connect.
pub const ROOT: &str = "root";

/// Levels as Kafka Connect (log4j) names them.
pub const LEVELS: [&str; 7] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF"];

type Apply = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

struct State {
    root: String,
    /// Explicit levels: logger → (level, last modified in ms since the epoch; `None` when set
    /// at start-up).
    levels: BTreeMap<String, (String, Option<u64>)>,
    apply: Apply,
}

static STATE: OnceLock<Mutex<State>> = OnceLock::new();

/// Targets of every log statement the process has reached (the loggers that exist, as log4j's
/// do once created).
static KNOWN: Mutex<std::collections::BTreeSet<String>> = Mutex::new(std::collections::BTreeSet::new());

/// Records that a log statement of `target` exists (called once per statement, when first run).
pub fn note_target(target: &str) {
    let mut known = KNOWN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if !known.contains(target) {
        known.insert(target.to_owned());
    }
}

/// Whether `logger` exists: the root, a logger with an explicit level, or a target (or an
/// ancestor of a target) some log statement uses.
pub fn exists(logger: &str) -> bool {
    if logger == ROOT || state().is_some_and(|s| s.levels.contains_key(logger)) {
        return true;
    }
    let known = KNOWN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let prefix = format!("{logger}::");
    known.iter().any(|t| t == logger || t.starts_with(&prefix))
}

fn tracing_level(level: &str) -> &'static str {
    match level {
        "TRACE" => "trace",
        "DEBUG" => "debug",
        "INFO" => "info",
        "WARN" => "warn",
        "ERROR" | "FATAL" => "error",
        _ => "off",
    }
}

fn kafka_level(directive_level: &str) -> Option<String> {
    let up = directive_level.to_ascii_uppercase();
    let up = if up == "WARNING" { "WARN".to_owned() } else { up };
    LEVELS.contains(&up.as_str()).then_some(up)
}

fn filter(root: &str, levels: &BTreeMap<String, (String, Option<u64>)>) -> String {
    let mut f = tracing_level(root).to_owned();
    for (logger, (level, _)) in levels {
        f.push(',');
        f.push_str(logger);
        f.push('=');
        f.push_str(tracing_level(level));
    }
    f
}

/// Installs the run-time levels, starting from a filter such as `info,tributary_runtime=debug`
/// (directives this module cannot express stay out of its view) and `apply`, which installs a
/// new filter string.
pub fn install(initial: &str, apply: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static) {
    let mut root = "INFO".to_owned();
    let mut levels = BTreeMap::new();
    for d in initial.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        match d.split_once('=') {
            None => {
                if let Some(l) = kafka_level(d) {
                    root = l;
                }
            }
            Some((target, level)) if !target.contains(['[', '{']) => {
                if let Some(l) = kafka_level(level) {
                    levels.insert(target.to_owned(), (l, None));
                }
            }
            Some(_) => {}
        }
    }
    let _ = STATE.set(Mutex::new(State { root, levels, apply: Box::new(apply) }));
}

fn state() -> Option<std::sync::MutexGuard<'static, State>> {
    STATE.get().map(|m| m.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
}

/// Every logger with an explicit level, and the root: (name, level, last modified).
pub fn all() -> Vec<(String, String, Option<u64>)> {
    let Some(s) = state() else { return vec![(ROOT.to_owned(), "INFO".to_owned(), None)] };
    let mut out: Vec<_> = s.levels.iter().map(|(k, (l, t))| (k.clone(), l.clone(), *t)).collect();
    out.push((ROOT.to_owned(), s.root.clone(), None));
    out
}

/// The level of `logger`: its own, else its nearest ancestor's, else the root's.
pub fn level(logger: &str) -> (String, Option<u64>) {
    let Some(s) = state() else { return ("INFO".to_owned(), None) };
    if logger == ROOT {
        return (s.root.clone(), None);
    }
    let mut name = logger;
    loop {
        if let Some((l, t)) = s.levels.get(name) {
            return (l.clone(), if name == logger { *t } else { None });
        }
        match name.rsplit_once("::").or_else(|| name.rsplit_once('.')) {
            Some((parent, _)) => name = parent,
            None => return (s.root.clone(), None),
        }
    }
}

/// Whether `level` is a level name Kafka Connect accepts (any case).
pub fn is_level(level: &str) -> bool {
    LEVELS.contains(&level.to_ascii_uppercase().as_str())
}

/// Sets `logger` (and everything under it) to `level`; answers the loggers whose level changed.
pub fn set(logger: &str, level: &str) -> Result<Vec<String>, String> {
    let level = level.to_ascii_uppercase();
    if !LEVELS.contains(&level.as_str()) {
        return Err(format!("invalid log level '{level}'."));
    }
    if logger.is_empty() || !logger.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.' | '-')) {
        return Err(format!("invalid logger name '{logger}': use a target such as tributary_runtime::worker"));
    }
    let Some(mut s) = state() else { return Err("log levels cannot be changed in this process".into()) };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).ok();
    // Work on a copy: the levels change only if the new filter applies.
    let (mut root, mut levels) = (s.root.clone(), s.levels.clone());
    let mut affected = Vec::new();
    if logger == ROOT {
        root = level.clone();
        affected.push(ROOT.to_owned());
        let children: Vec<String> = levels.keys().cloned().collect();
        for c in children {
            levels.insert(c.clone(), (level.clone(), now));
            affected.push(c);
        }
    } else {
        let prefix = format!("{logger}::");
        let children: Vec<String> = levels.keys().filter(|k| k.starts_with(&prefix)).cloned().collect();
        levels.insert(logger.to_owned(), (level.clone(), now));
        affected.push(logger.to_owned());
        for c in children {
            levels.insert(c.clone(), (level.clone(), now));
            affected.push(c);
        }
    }
    let f = filter(&root, &levels);
    (s.apply)(&f)?;
    s.root = root;
    s.levels = levels;
    affected.sort();
    Ok(affected)
}
