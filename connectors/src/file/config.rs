//! Keys of the FileStream connectors, as Kafka Connect declares them.

use tributary_runtime::api::{ConfigDef, ConfigKey, ConfigType, Importance, Validator};

/// FileStreamSource keys.
pub(super) fn source_config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new(
                "file",
                ConfigType::String,
                Importance::High,
                "Source filename. If not specified, the standard input will be used.",
            )
            .default(""),
        )
        .define(
            ConfigKey::new("topic", ConfigType::List, Importance::High, "The topic to publish data to.")
                .validator(Validator::NonEmpty),
        )
        .define(
            ConfigKey::new(
                "batch.size",
                ConfigType::Int,
                Importance::Low,
                "The maximum number of records the source task can read from the file each time it is polled.",
            )
            .default("2000")
            .validator(Validator::at_least(1.0)),
        )
}

/// FileStreamSink keys.
pub(super) fn sink_config_def() -> ConfigDef {
    ConfigDef::new().define(
        ConfigKey::new(
            "file",
            ConfigType::String,
            Importance::High,
            "Destination filename. If not specified, the standard output will be used.",
        )
        .default(""),
    )
}
