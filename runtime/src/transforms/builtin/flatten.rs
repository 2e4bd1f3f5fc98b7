//! `Flatten$Key` / `Flatten$Value`: nested structs (or maps) become one level, field names
//! joined with the delimiter. Arrays are kept as they are; optionality and defaults of parent
//! structs carry down to the flattened fields.

use std::sync::Arc;

use crate::api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectRecord, ConnectResult, Importance, Props, Schema,
    SchemaBuilder, SchemaType, Struct, Transformation, Value,
};

use super::util::{
    SchemaCache, Side, build_struct, configure, copy_schema_basics, data_err, java_class, require_map, require_struct,
};

const PURPOSE: &str = "flattening";

/// Kafka's `Flatten.CONFIG_DEF`.
pub(crate) fn config_def() -> ConfigDef {
    ConfigDef::new().define(
        ConfigKey::new(
            "delimiter",
            ConfigType::String,
            Importance::Medium,
            "Delimiter to insert between field names from the input record when generating field names for the output record",
        )
        .default("."),
    )
}

/// The configured transform.
pub(crate) struct Flatten {
    side: Side,
    delimiter: String,
    cache: SchemaCache,
}

impl Flatten {
    /// Configures one for `side`.
    pub(crate) fn create(side: Side, props: &Props) -> ConnectResult<Box<dyn Transformation>> {
        let c = configure(&config_def(), props)?;
        Ok(Box::new(Self { side, delimiter: c.string("delimiter"), cache: SchemaCache::default() }))
    }

    fn name(&self, prefix: &str, name: &str) -> String {
        if prefix.is_empty() { name.to_owned() } else { format!("{prefix}{}{name}", self.delimiter) }
    }

    fn flatten_map(
        &self,
        entries: &[(Value, Value)],
        prefix: &str,
        out: &mut Vec<(Value, Value)>,
    ) -> ConnectResult<()> {
        for (k, v) in entries {
            let name = self.name(prefix, &k.to_string());
            match v {
                Value::Map(inner) => self.flatten_map(inner, &name, out)?,
                Value::Struct(_) => {
                    return Err(ConnectError::data(format!(
                        "Flatten transformation does not support class {} for record without schemas (for field {name}).",
                        java_class(None, v)
                    )));
                }
                _ => super::util::map_put(out, &name, v.clone()),
            }
        }
        Ok(())
    }

    fn build_schema(
        &self,
        schema: &Schema,
        prefix: &str,
        mut b: SchemaBuilder,
        optional: bool,
        parent_default: Option<&Struct>,
    ) -> ConnectResult<SchemaBuilder> {
        for f in schema.fields() {
            let name = self.name(prefix, &f.name);
            let field_optional = optional || f.schema.is_optional();
            let default =
                f.schema.default_value().cloned().or_else(|| parent_default.and_then(|d| d.get(&f.name).cloned()));
            match f.schema.kind() {
                SchemaType::Struct => {
                    let d = match &default {
                        Some(Value::Struct(s)) => Some(s),
                        _ => None,
                    };
                    b = self.build_schema(&f.schema, &name, b, field_optional, d)?;
                }
                SchemaType::Map => {
                    return Err(ConnectError::data(format!(
                        "Flatten transformation does not support MAP for record with schemas (for field {name})."
                    )));
                }
                _ => {
                    let mut fb = copy_schema_basics(
                        &f.schema,
                        match f.schema.value_schema() {
                            Some(e) if f.schema.kind() == SchemaType::Array => SchemaBuilder::array(e.clone()),
                            _ => SchemaBuilder::new(f.schema.kind()),
                        },
                    );
                    if field_optional {
                        fb = fb.optional();
                    }
                    if let Some(d) = default.filter(|d| !d.is_null()) {
                        fb = fb.default_value(d).map_err(data_err)?;
                    }
                    b = b.field(name, fb.build_arc()).map_err(data_err)?;
                }
            }
        }
        Ok(b)
    }

    fn flatten_struct(&self, s: &Struct, prefix: &str, out: &mut Vec<Value>) {
        for f in s.schema().fields() {
            match f.schema.kind() {
                SchemaType::Struct => match s.get(&f.name) {
                    Some(Value::Struct(inner)) => self.flatten_struct(inner, &self.name(prefix, &f.name), out),
                    _ => out.extend(std::iter::repeat_n(Value::Null, leaf_count(&f.schema))),
                },
                _ => out.push(s.get(&f.name).cloned().unwrap_or(Value::Null)),
            }
        }
    }
}

/// How many flattened fields a struct schema yields.
fn leaf_count(schema: &Schema) -> usize {
    schema.fields().iter().map(|f| if f.schema.kind() == SchemaType::Struct { leaf_count(&f.schema) } else { 1 }).sum()
}

impl Transformation for Flatten {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let side = self.side;
        let value = side.value(record);
        if value.is_null() {
            return Ok(true);
        }
        let Some(schema) = side.schema(record).cloned() else {
            let mut out = Vec::new();
            self.flatten_map(require_map(value, PURPOSE)?, "", &mut out)?;
            side.set(record, None, Value::Map(out));
            return Ok(true);
        };
        let value = require_struct(Some(&schema), value, PURPOSE)?;
        let mut cache = std::mem::take(&mut self.cache);
        let updated: ConnectResult<Arc<Schema>> = cache.get_or_try(&schema, || {
            let default = match schema.default_value() {
                Some(Value::Struct(s)) => Some(s),
                _ => None,
            };
            let b = copy_schema_basics(&schema, SchemaBuilder::struct_());
            Ok(self.build_schema(&schema, "", b, schema.is_optional(), default)?.build_arc())
        });
        self.cache = cache;
        let updated = updated?;
        let mut values = Vec::with_capacity(updated.fields().len());
        self.flatten_struct(value, "", &mut values);
        let out = build_struct(&updated, values)?;
        side.set(record, Some(updated), Value::Struct(out));
        Ok(true)
    }
}
