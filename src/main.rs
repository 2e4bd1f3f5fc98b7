//! The `tributary` command: parses arguments and worker files, wires the crates, runs.

mod broker;
mod cli;
mod dev;
mod distributed;
mod listeners;
mod logging;
mod run;
mod schema_registry;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc: the worker allocates and frees small buffers per record (values, converted bytes,
/// offsets); mimalloc's thread-local free lists cost less than glibc's malloc on that pattern.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    logging::init(&cli.log_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            cli::Command::Standalone(args) => run::standalone(args).await,
            cli::Command::Distributed(args) => distributed::run(args).await,
            cli::Command::Dev(args) => dev::run(args).await,
            cli::Command::SchemaRegistry(args) => schema_registry::run(args).await,
        }
    });
    // Whatever still runs (a task that ignored cancellation) gets a bounded time to end.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
