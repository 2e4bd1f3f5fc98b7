//! `HeaderFrom$Key` / `HeaderFrom$Value`: copies or moves fields into headers.

use std::sync::Arc;

use crate::api::{
    ConfigDef, ConfigKey, ConfigType, ConnectRecord, ConnectResult, Importance, Props, Schema, SchemaBuilder,
    Transformation, Validator, Value,
};

use super::util::{
    REPLACE_NULL, REPLACE_NULL_DOC, SchemaCache, Side, build_struct, config_error, configure, copy_schema_basics,
    data_err, field_value, map_get, require_map, require_struct,
};
use super::validators::non_empty_list;

/// Kafka's `HeaderFrom.CONFIG_DEF`.
pub(crate) fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new(
                "fields",
                ConfigType::List,
                Importance::High,
                "Field names in the record whose values are to be copied or moved to headers.",
            )
            .validator(non_empty_list()),
        )
        .define(
            ConfigKey::new(
                "headers",
                ConfigType::List,
                Importance::High,
                "Header names, in the same order as the field names listed in the fields configuration property.",
            )
            .validator(non_empty_list()),
        )
        .define(
            ConfigKey::new(
                "operation",
                ConfigType::String,
                Importance::High,
                "Either <code>move</code> if the fields are to be moved to the headers (removed from the key/value), or <code>copy</code> if the fields are to be copied to the headers (retained in the key/value).",
            )
            .validator(Validator::OneOf(vec!["move", "copy"])),
        )
        .define(ConfigKey::new(REPLACE_NULL, ConfigType::Boolean, Importance::Medium, REPLACE_NULL_DOC).default("true"))
}

/// The configured transform.
pub(crate) struct HeaderFrom {
    side: Side,
    fields: Vec<String>,
    headers: Vec<String>,
    moving: bool,
    replace_null_with_default: bool,
    cache: SchemaCache,
}

impl HeaderFrom {
    /// Configures one for `side`.
    pub(crate) fn create(side: Side, props: &Props) -> ConnectResult<Box<dyn Transformation>> {
        let c = configure(&config_def(), props)?;
        let (fields, headers) = (c.list("fields"), c.list("headers"));
        if fields.len() != headers.len() {
            return Err(config_error(
                "headers",
                "'fields' config must have the same number of elements as 'headers' config.",
            ));
        }
        Ok(Box::new(Self {
            side,
            fields,
            headers,
            moving: c.string("operation") == "move",
            replace_null_with_default: c.bool(REPLACE_NULL),
            cache: SchemaCache::default(),
        }))
    }

    fn purpose(&self) -> &'static str {
        if self.moving { "header move" } else { "header copy" }
    }

    fn moved_schema(&self, schema: &Schema) -> ConnectResult<Arc<Schema>> {
        let mut b = copy_schema_basics(schema, SchemaBuilder::struct_());
        for f in schema.fields().iter().filter(|f| !self.fields.contains(&f.name)) {
            b = b.field(f.name.clone(), f.schema.clone()).map_err(data_err)?;
        }
        Ok(b.build_arc())
    }
}

impl Transformation for HeaderFrom {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let side = self.side;
        let Some(schema) = side.schema(record).cloned() else {
            let entries = require_map(side.value(record), self.purpose())?;
            let mut added = Vec::with_capacity(self.fields.len());
            for (f, h) in self.fields.iter().zip(&self.headers) {
                added.push((h.clone(), map_get(entries, f).cloned().unwrap_or(Value::Null)));
            }
            let mut out = entries.to_vec();
            if self.moving {
                out.retain(|(k, _)| !k.as_str().is_some_and(|k| self.fields.iter().any(|f| f == k)));
            }
            side.set(record, None, Value::Map(out));
            for (h, v) in added {
                record.headers_mut().add(h, None, v);
            }
            return Ok(true);
        };
        let value = require_struct(Some(&schema), side.value(record), self.purpose())?;
        let mut added = Vec::with_capacity(self.fields.len());
        for (f, h) in self.fields.iter().zip(&self.headers) {
            let field_schema = schema.field(f).map(|fd| fd.schema.clone()).ok_or_else(|| {
                crate::api::ConnectError::data(format!("Cannot invoke \"org.apache.kafka.connect.data.Field.schema()\" because the field {f} does not exist"))
            })?;
            let v = if value.schema().field(f).is_some() {
                field_value(value, f, self.replace_null_with_default)
            } else {
                Value::Null
            };
            added.push((h.clone(), field_schema, v));
        }
        if self.moving {
            let mut cache = std::mem::take(&mut self.cache);
            let moved = cache.get_or_try(&schema, || self.moved_schema(&schema));
            self.cache = cache;
            let moved = moved?;
            let values =
                moved.fields().iter().map(|f| field_value(value, &f.name, self.replace_null_with_default)).collect();
            let out = build_struct(&moved, values)?;
            side.set(record, Some(moved), Value::Struct(out));
        }
        for (h, s, v) in added {
            record.headers_mut().add(h, Some(s), v);
        }
        Ok(true)
    }
}
