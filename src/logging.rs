//! Log output: human-readable lines on stderr, filtered by `--log-level` / TRIBUTARY_LOG, with
//! levels changeable at run time through `/admin/loggers` (a reloadable filter).

use std::io::IsTerminal;

use tracing::subscriber::Interest;
use tracing::{Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, reload};

pub(crate) fn init(filter: &str) {
    let (filter, text) = match EnvFilter::try_new(filter) {
        Ok(f) => (f, filter.to_owned()),
        Err(e) => {
            eprintln!("warning: invalid log filter '{filter}' ({e}); using 'info'");
            (EnvFilter::new("info"), "info".to_owned())
        }
    };
    let (filter, handle) = reload::Layer::new(filter);
    tracing_subscriber::registry()
        .with(KnownTargets)
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_target(false)
                .with_ansi(std::io::stderr().is_terminal()),
        )
        .init();
    tributary_runtime::loggers::install(&text, move |f| {
        let new = EnvFilter::try_new(f).map_err(|e| format!("invalid log filter '{f}': {e}"))?;
        handle.reload(new).map_err(|e| format!("cannot change the log filter: {e}"))
    });
}

/// Tells the run-time loggers which targets exist (every log statement registers once, whatever
/// its level); innermost, and interested always, so it never changes what is logged.
struct KnownTargets;

impl<S: Subscriber> Layer<S> for KnownTargets {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        tributary_runtime::loggers::note_target(metadata.target());
        Interest::always()
    }
}
