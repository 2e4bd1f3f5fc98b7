//! Tributary's runtime: the Connect data model and connector API ([`api`]), the plugin
//! registry, the worker that runs tasks, and the stores that keep their offsets.
//!
//! Connectors and converters depend on [`api`] only. The binary wires the rest.

pub mod api;
pub mod config_providers;
pub mod distributed;
pub mod herder;
pub mod loggers;
pub mod metrics;
pub mod plugins;
pub mod properties;
pub mod transforms;
pub mod worker;

pub use plugins::Registry;
