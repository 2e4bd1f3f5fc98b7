//! Kafka Connect's single message transforms and predicates: the built-in plugins
//! (`org.apache.kafka.connect.transforms.*`) and the chain a connector's `transforms` and
//! `predicates` keys build for each task.

mod builtin;
mod chain;

pub use chain::TransformChain;

use crate::plugins::Registry;

/// Adds the built-in transforms and predicates to `registry`.
pub fn register(registry: &mut Registry) {
    builtin::register(registry);
}
