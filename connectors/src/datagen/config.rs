//! Keys of the datagen connector, as Confluent's kafka-connect-datagen names them.

use tributary_runtime::api::{ConfigDef, ConfigKey, ConfigType, Importance, Validator};

use super::quickstart::QUICKSTARTS;

/// Datagen keys.
pub(crate) fn config_def() -> ConfigDef {
    use ConfigType::*;
    use Importance::*;
    let names: Vec<&'static str> = QUICKSTARTS.iter().map(|q| q.name).collect();
    ConfigDef::new()
        .define(ConfigKey::new("kafka.topic", String, High, "Topic to write to.").validator(Validator::NonEmpty))
        .define(
            ConfigKey::new("quickstart", String, High, "Which quickstart schema to generate: users, orders or pageviews.")
                .validator(Validator::OneOfIgnoreCase(names)),
        )
        .define(
            ConfigKey::new(
                "max.interval",
                Long,
                Medium,
                "Maximum milliseconds between records; each wait is random up to this. 0 generates as fast as Kafka accepts.",
            )
            .default("500")
            .validator(Validator::at_least(0.0)),
        )
        .define(
            ConfigKey::new(
                "iterations",
                Int,
                Medium,
                "Records each task generates before it goes idle; below 1 for no limit.",
            )
            .default("-1"),
        )
        .define(
            ConfigKey::new(
                "schema.keyfield",
                String,
                Medium,
                "Field of the value used as record key; default: the quickstart's key field.",
            )
            .default(""),
        )
        .define(
            ConfigKey::new("random.seed", Long, Low, "Seed of the random generator, for reproducible data; empty for random.")
                .default(""),
        )
}
