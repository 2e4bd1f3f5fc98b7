//! Keys of the FileStream connectors, exactly as Kafka Connect 4.1 declares them (their
//! documentation included: `/connector-plugins/{plugin}/config` answers are compared with
//! Kafka Connect's by `tests/rest_differential.rs`).

use tributary_runtime::api::{ConfigDef, ConfigKey, ConfigType, Importance, Validator};

/// FileStreamSource keys. `batch.size` has no validator in Kafka Connect, whose task then
/// returns one record per poll for a value below 1; Tributary's task does the same.
pub(super) fn source_config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new(
                "file",
                ConfigType::String,
                Importance::High,
                "Source filename. If not specified, the standard input will be used",
            )
            .optional(),
        )
        .define(
            ConfigKey::new("topic", ConfigType::String, Importance::High, "The topic to publish data to").validator(
                Validator::custom(|v| match v {
                    Some(tributary_runtime::api::ConfigValue::String(s)) if s.is_empty() => {
                        Err("String must be non-empty".into())
                    }
                    _ => Ok(()),
                }),
            ),
        )
        .define(
            ConfigKey::new(
                "batch.size",
                ConfigType::Int,
                Importance::Low,
                "The maximum number of records the source task can read from the file each time it is polled",
            )
            .default("2000"),
        )
}

/// FileStreamSink keys.
pub(super) fn sink_config_def() -> ConfigDef {
    ConfigDef::new().define(
        ConfigKey::new(
            "file",
            ConfigType::String,
            Importance::High,
            "Destination filename. If not specified, the standard output will be used",
        )
        .optional(),
    )
}
