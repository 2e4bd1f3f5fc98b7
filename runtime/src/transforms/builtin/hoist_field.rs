//! `HoistField$Key` / `HoistField$Value`: wraps the key or value in a struct (or map) of one
//! field.

use std::sync::Arc;

use crate::api::{
    ConfigDef, ConfigKey, ConfigType, ConnectRecord, ConnectResult, Importance, Props, SchemaBuilder, Transformation,
    Value,
};

use super::util::{SchemaCache, Side, build_struct, configure, data_err};

/// Kafka's `HoistField.CONFIG_DEF`.
pub(crate) fn config_def() -> ConfigDef {
    ConfigDef::new().define(ConfigKey::new(
        "field",
        ConfigType::String,
        Importance::Medium,
        "Field name for the single field that will be created in the resulting Struct or Map.",
    ))
}

/// The configured transform.
pub(crate) struct HoistField {
    side: Side,
    field: String,
    cache: SchemaCache,
}

impl HoistField {
    /// Configures one for `side`.
    pub(crate) fn create(side: Side, props: &Props) -> ConnectResult<Box<dyn Transformation>> {
        let c = configure(&config_def(), props)?;
        Ok(Box::new(Self { side, field: c.string("field"), cache: SchemaCache::default() }))
    }
}

impl Transformation for HoistField {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let (schema, value) = self.side.take(record);
        match schema {
            None => {
                let hoisted = Value::Map(vec![(Value::String(self.field.clone()), value)]);
                self.side.set(record, None, hoisted);
            }
            Some(schema) => {
                let field = &self.field;
                let updated = self.cache.get_or_try(&schema, || {
                    Ok(SchemaBuilder::struct_().field(field.clone(), schema.clone()).map_err(data_err)?.build_arc())
                });
                let updated: Arc<_> = match updated {
                    Ok(s) => s,
                    Err(e) => {
                        self.side.set(record, Some(schema), value);
                        return Err(e);
                    }
                };
                match build_struct(&updated, vec![value.clone()]) {
                    Ok(s) => self.side.set(record, Some(updated), Value::Struct(s)),
                    Err(e) => {
                        self.side.set(record, Some(schema), value);
                        return Err(e);
                    }
                }
            }
        }
        Ok(true)
    }
}
