//! Log output: human-readable lines on stderr, filtered by `--log-level` / TRIBUTARY_LOG.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub(crate) fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|e| {
        eprintln!("warning: invalid log filter '{filter}' ({e}); using 'info'");
        EnvFilter::new("info")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
