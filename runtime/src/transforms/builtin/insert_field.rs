//! `InsertField$Key` / `InsertField$Value`: adds the topic, partition, offset, timestamp or a
//! static string as fields. A `!` suffix makes the field required in the schema, `?` (the
//! default) optional.

use std::sync::Arc;

use crate::api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectRecord, ConnectResult, Importance, Props, Schema,
    SchemaBuilder, SchemaType, Transformation, Value,
};

use super::util::{
    REPLACE_NULL, REPLACE_NULL_DOC, SchemaCache, Side, build_struct, config_error, configure, copy_schema_basics,
    data_err, field_value, map_put, require_map, require_struct,
};

const PURPOSE: &str = "field insertion";
const OPTIONALITY_DOC: &str =
    "Suffix with <code>!</code> to make this a required field, or <code>?</code> to keep it optional (the default).";

/// Kafka's `InsertField.CONFIG_DEF`.
pub(crate) fn config_def() -> ConfigDef {
    let key = |name: &str, doc: String| ConfigKey::new(name, ConfigType::String, Importance::Medium, &doc).optional();
    ConfigDef::new()
        .define(key("topic.field", format!("Field name for Kafka topic. {OPTIONALITY_DOC}")))
        .define(key("partition.field", format!("Field name for Kafka partition. {OPTIONALITY_DOC}")))
        .define(key(
            "offset.field",
            format!("Field name for Kafka offset - only applicable to sink connectors.<br/>{OPTIONALITY_DOC}"),
        ))
        .define(key("timestamp.field", format!("Field name for record timestamp. {OPTIONALITY_DOC}")))
        .define(key("static.field", format!("Field name for static data field. {OPTIONALITY_DOC}")))
        .define(key("static.value", "Static field value, if field name configured.".to_owned()))
        .define(ConfigKey::new(REPLACE_NULL, ConfigType::Boolean, Importance::Medium, REPLACE_NULL_DOC).default("true"))
}

/// A field to insert: its name and whether its schema is optional.
#[derive(Clone, Debug)]
struct Spec {
    name: String,
    optional: bool,
}

fn spec(c: &crate::api::Config, key: &str) -> Option<Spec> {
    let crate::api::ConfigValue::String(s) = c.get(key)? else { return None };
    Some(if let Some(n) = s.strip_suffix('?') {
        Spec { name: n.to_owned(), optional: true }
    } else if let Some(n) = s.strip_suffix('!') {
        Spec { name: n.to_owned(), optional: false }
    } else {
        Spec { name: s.clone(), optional: true }
    })
}

/// The configured transform.
pub(crate) struct InsertField {
    side: Side,
    topic: Option<Spec>,
    partition: Option<Spec>,
    offset: Option<Spec>,
    timestamp: Option<Spec>,
    static_field: Option<Spec>,
    static_value: String,
    replace_null_with_default: bool,
    cache: SchemaCache,
}

impl InsertField {
    /// Configures one for `side`.
    pub(crate) fn create(side: Side, props: &Props) -> ConnectResult<Box<dyn Transformation>> {
        let c = configure(&config_def(), props)?;
        let (topic, partition, offset) =
            (spec(&c, "topic.field"), spec(&c, "partition.field"), spec(&c, "offset.field"));
        let (timestamp, static_field) = (spec(&c, "timestamp.field"), spec(&c, "static.field"));
        if topic.is_none() && partition.is_none() && offset.is_none() && timestamp.is_none() && static_field.is_none() {
            return Err(config_error("topic.field", "No field insertion configured"));
        }
        let static_value = match c.get("static.value") {
            Some(crate::api::ConfigValue::String(s)) => Some(s.clone()),
            _ => None,
        };
        if let (Some(f), None) = (&static_field, &static_value) {
            return Err(config_error(
                "static.value",
                format!(
                    "Invalid value null for configuration static.value: No value specified for static field: {}",
                    f.name
                ),
            ));
        }
        Ok(Box::new(Self {
            side,
            topic,
            partition,
            offset,
            timestamp,
            static_field,
            static_value: static_value.unwrap_or_default(),
            replace_null_with_default: c.bool(REPLACE_NULL),
            cache: SchemaCache::default(),
        }))
    }

    /// The fields to insert with their values, in Kafka's order; a field whose value the record
    /// lacks (no partition, no timestamp) is left out.
    fn insertions(&self, record: &dyn ConnectRecord) -> ConnectResult<Vec<(&str, Value)>> {
        let mut out = Vec::new();
        if let Some(s) = &self.topic {
            out.push((s.name.as_str(), Value::String(record.topic().to_owned())));
        }
        if let (Some(s), Some(p)) = (&self.partition, record.kafka_partition()) {
            out.push((s.name.as_str(), Value::Int32(p)));
        }
        if let Some(s) = &self.offset {
            // Only sink records have an offset; Kafka refuses source records here.
            let Some(o) = record.kafka_offset() else {
                return Err(ConnectError::data(
                    "Only SinkRecord supported for [field insertion], found: org.apache.kafka.connect.source.SourceRecord",
                ));
            };
            out.push((s.name.as_str(), Value::Int64(o)));
        }
        if let (Some(s), Some(t)) = (&self.timestamp, record.timestamp()) {
            out.push((s.name.as_str(), Value::Int64(t)));
        }
        if let Some(s) = &self.static_field {
            out.push((s.name.as_str(), Value::String(self.static_value.clone())));
        }
        Ok(out)
    }

    fn updated_schema(&self, schema: &Schema) -> ConnectResult<Arc<Schema>> {
        let mut b = copy_schema_basics(schema, SchemaBuilder::struct_());
        for f in schema.fields() {
            b = b.field(f.name.clone(), f.schema.clone()).map_err(data_err)?;
        }
        let prim = |t: SchemaType, s: &Spec| SchemaBuilder::new(t).set_optional(s.optional).build_arc();
        let added = [
            self.topic.as_ref().map(|s| (s, prim(SchemaType::String, s))),
            self.partition.as_ref().map(|s| (s, prim(SchemaType::Int32, s))),
            self.offset.as_ref().map(|s| (s, prim(SchemaType::Int64, s))),
            self.timestamp.as_ref().map(|s| (s, SchemaBuilder::timestamp().set_optional(s.optional).build_arc())),
            self.static_field.as_ref().map(|s| (s, prim(SchemaType::String, s))),
        ];
        for (s, field_schema) in added.into_iter().flatten() {
            b = b.field(s.name.clone(), field_schema).map_err(|e| {
                ConnectError::data(if e.to_string().starts_with("duplicate field") {
                    format!("Cannot create field because of field name duplication {}", s.name)
                } else {
                    e.to_string()
                })
            })?;
        }
        Ok(b.build_arc())
    }
}

impl Transformation for InsertField {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let side = self.side;
        if side.value(record).is_null() {
            return Ok(true);
        }
        let Some(schema) = side.schema(record).cloned() else {
            let mut out = require_map(side.value(record), PURPOSE)?.to_vec();
            for (name, v) in self.insertions(record)? {
                map_put(&mut out, name, v);
            }
            side.set(record, None, Value::Map(out));
            return Ok(true);
        };
        let value = require_struct(Some(&schema), side.value(record), PURPOSE)?;
        let mut cache = std::mem::take(&mut self.cache);
        let updated = cache.get_or_try(value.schema(), || self.updated_schema(value.schema()));
        self.cache = cache;
        let updated = updated?;
        let mut values: Vec<Value> = value
            .schema()
            .fields()
            .iter()
            .map(|f| field_value(value, &f.name, self.replace_null_with_default))
            .collect();
        values.resize(updated.fields().len(), Value::Null);
        for (name, v) in self.insertions(record)? {
            if let Some(f) = updated.field(name) {
                values[f.index] = v;
            }
        }
        let out = build_struct(&updated, values)?;
        side.set(record, Some(updated), Value::Struct(out));
        Ok(true)
    }
}
