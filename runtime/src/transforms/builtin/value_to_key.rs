//! `ValueToKey`: replaces the key with a struct (or map) of some of the value's fields.

use std::sync::Arc;

use crate::api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectRecord, ConnectResult, Importance, Props, Schema,
    SchemaBuilder, Transformation, Value,
};

use super::util::{
    REPLACE_NULL, REPLACE_NULL_DOC, SchemaCache, build_struct, configure, data_err, field_value, map_get, require_map,
    require_struct,
};
use super::validators::non_empty_list;

const PURPOSE: &str = "copying fields from value to key";

/// Kafka's `ValueToKey.CONFIG_DEF`.
pub(crate) fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new(
                "fields",
                ConfigType::List,
                Importance::High,
                "Field names on the record value to extract as the record key.",
            )
            .validator(non_empty_list()),
        )
        .define(ConfigKey::new(REPLACE_NULL, ConfigType::Boolean, Importance::Medium, REPLACE_NULL_DOC).default("true"))
}

/// The configured transform.
pub(crate) struct ValueToKey {
    fields: Vec<String>,
    replace_null_with_default: bool,
    cache: SchemaCache,
}

impl ValueToKey {
    /// Configures one.
    pub(crate) fn create(props: &Props) -> ConnectResult<Box<dyn Transformation>> {
        let c = configure(&config_def(), props)?;
        Ok(Box::new(Self {
            fields: c.list("fields"),
            replace_null_with_default: c.bool(REPLACE_NULL),
            cache: SchemaCache::default(),
        }))
    }

    fn key_schema(&self, value_schema: &Schema) -> ConnectResult<Arc<Schema>> {
        let mut b = SchemaBuilder::struct_();
        for name in &self.fields {
            let field =
                value_schema.field(name).ok_or_else(|| ConnectError::data(format!("Field does not exist: {name}")))?;
            b = b.field(name.clone(), field.schema.clone()).map_err(data_err)?;
        }
        Ok(b.build_arc())
    }
}

impl Transformation for ValueToKey {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let Some(schema) = record.value_schema().cloned() else {
            let entries = require_map(record.value(), PURPOSE)?;
            let key = self
                .fields
                .iter()
                .map(|f| (Value::String(f.clone()), map_get(entries, f).cloned().unwrap_or(Value::Null)))
                .collect();
            record.set_key(None, Value::Map(key));
            return Ok(true);
        };
        let value = require_struct(Some(&schema), record.value(), PURPOSE)?;
        let mut cache = std::mem::take(&mut self.cache);
        let key_schema = cache.get_or_try(value.schema(), || self.key_schema(value.schema()));
        self.cache = cache;
        let key_schema = key_schema?;
        let values = self.fields.iter().map(|f| field_value(value, f, self.replace_null_with_default)).collect();
        let key = build_struct(&key_schema, values)?;
        record.set_key(Some(key_schema), Value::Struct(key));
        Ok(true)
    }
}
