//! The schema registry behind `tributary schema-registry` and `tributary dev`: Confluent's data
//! model (subjects, versions, global ids, compatibility levels, modes), compatibility checks,
//! and persistence in a compacted Kafka topic.
//!
//! - [`SchemaRegistry`] holds the state and performs Confluent's operations; the REST API in
//!   `tributary_rest_api::registry` is a thin layer over it.
//! - Ids are global and start at 1; an equal schema (same type, canonical text and references)
//!   gets the same id under every subject. Versions count per subject from 1.
//! - Avro schemas are stored in the canonical text Avro Java's `Schema.toString()` writes (see
//!   [`canonical`]), so equal schemas written differently share an id, as in Confluent.
//! - With a Kafka store ([`SchemaRegistry::open_kafka`]), the topic is the source of truth (see
//!   [`log`]): state is rebuilt from it at start and follows it afterwards.

pub mod canonical;
mod compat;
mod error;
mod json_compat;
pub mod log;
mod model;
mod records;
mod state;
mod store;

pub use error::RegistryError;
pub use log::KafkaStoreConfig;
pub use model::{
    CompatibilityLevel, CompatibilityReport, Mode, SchemaById, SchemaReference, SchemaRequest, SchemaType,
    SubjectSchema, VersionSpec,
};
pub use store::{RegistryStats, SchemaRegistry};

/// The default topic, as Confluent's `kafkastore.topic`.
pub const DEFAULT_TOPIC: &str = "_schemas";

#[cfg(test)]
mod tests;
