//! `SetSchemaMetadata$Key` / `SetSchemaMetadata$Value`: sets the schema's name and/or version.

use std::sync::Arc;

use crate::api::{
    ConfigDef, ConfigKey, ConfigType, ConnectRecord, ConnectResult, Importance, Props, Schema, Transformation, Value,
};

use super::util::{
    REPLACE_NULL, REPLACE_NULL_DOC, Side, build_struct, config_error, configure, field_value, require_schema,
};

/// Kafka's `SetSchemaMetadata.CONFIG_DEF`.
pub(crate) fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(ConfigKey::new("schema.name", ConfigType::String, Importance::High, "Schema name to set.").optional())
        .define(
            ConfigKey::new("schema.version", ConfigType::Int, Importance::High, "Schema version to set.").optional(),
        )
        .define(ConfigKey::new(REPLACE_NULL, ConfigType::Boolean, Importance::Medium, REPLACE_NULL_DOC).default("true"))
}

/// The configured transform.
pub(crate) struct SetSchemaMetadata {
    side: Side,
    name: Option<String>,
    version: Option<i32>,
    replace_null_with_default: bool,
}

impl SetSchemaMetadata {
    /// Configures one for `side`.
    pub(crate) fn create(side: Side, props: &Props) -> ConnectResult<Box<dyn Transformation>> {
        let c = configure(&config_def(), props)?;
        let name = match c.get("schema.name") {
            Some(crate::api::ConfigValue::String(s)) => Some(s.clone()),
            _ => None,
        };
        let version = c.long("schema.version").and_then(|v| i32::try_from(v).ok());
        if name.is_none() && version.is_none() {
            return Err(config_error("schema.name", "Neither schema name nor version configured"));
        }
        Ok(Box::new(Self { side, name, version, replace_null_with_default: c.bool(REPLACE_NULL) }))
    }

    fn updated(&self, schema: &Schema) -> Arc<Schema> {
        let mut b = schema.to_builder();
        if let Some(n) = &self.name {
            b = b.name(n.clone());
        }
        if let Some(v) = self.version {
            b = b.version(v);
        }
        b.build_arc()
    }
}

impl Transformation for SetSchemaMetadata {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let side = self.side;
        if side.value(record).is_null() && side.schema(record).is_none() {
            return Ok(true);
        }
        let schema = require_schema(side.schema(record), "updating schema metadata")?.clone();
        if schema.kind() != crate::api::SchemaType::Struct {
            // Kafka 4.1 copies `schema.fields()` into the new schema, which fails this way for
            // every non-struct schema; Tributary fails alike rather than rename it.
            return Err(crate::api::ConnectError::data("Cannot list fields on non-struct type"));
        }
        let updated = self.updated(&schema);
        let value = match side.value(record) {
            Value::Struct(s) => {
                let values =
                    updated.fields().iter().map(|f| field_value(s, &f.name, self.replace_null_with_default)).collect();
                Value::Struct(build_struct(&updated, values)?)
            }
            other => other.clone(),
        };
        side.set(record, Some(updated), value);
        Ok(true)
    }
}
