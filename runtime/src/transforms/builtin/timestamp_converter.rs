//! `TimestampConverter$Key` / `TimestampConverter$Value`: converts a timestamp field (or the
//! whole key or value) between strings (SimpleDateFormat patterns, see `date_format`), Unix
//! epochs of a chosen precision and Connect's Date, Time and Timestamp, in UTC.

use std::sync::Arc;

use crate::api::schema::{DATE_NAME, TIME_NAME, TIMESTAMP_NAME};
use crate::api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectRecord, ConnectResult, Importance, Props, Schema,
    SchemaBuilder, SchemaType, Struct, Transformation, Validator, Value,
};

use super::date_format::DateFormat;
use super::util::{
    REPLACE_NULL, REPLACE_NULL_DOC, SchemaCache, Side, build_struct, config_error, configure, copy_schema_basics,
    data_err, field_value, java_class, map_get, map_put, require_map, require_struct,
};

const PURPOSE: &str = "converting timestamp formats";

/// Kafka's `TimestampConverter.CONFIG_DEF`.
pub(crate) fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new("field", ConfigType::String, Importance::High, "The field containing the timestamp, or empty if the entire value is a timestamp")
                .default(""),
        )
        .define(
            ConfigKey::new("target.type", ConfigType::String, Importance::High, "The desired timestamp representation: string, unix, Date, Time, or Timestamp")
                .validator(Validator::OneOf(vec!["string", "unix", "Date", "Time", "Timestamp"])),
        )
        .define(
            ConfigKey::new("format", ConfigType::String, Importance::Medium, "A SimpleDateFormat-compatible format for the timestamp. Used to generate the output when type=string or used to parse the input if the input is a string.")
                .default(""),
        )
        .define(
            ConfigKey::new("unix.precision", ConfigType::String, Importance::Low, "The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or nanoseconds. Used to generate the output when type=unix or used to parse the input if the input is a Long.Note: This SMT will cause precision loss during conversions from, and to, values with sub-millisecond components.")
                .default("milliseconds")
                .validator(Validator::OneOf(vec!["nanoseconds", "microseconds", "milliseconds", "seconds"])),
        )
        .define(ConfigKey::new(REPLACE_NULL, ConfigType::Boolean, Importance::Medium, REPLACE_NULL_DOC).default("true"))
}

/// A timestamp representation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    String,
    Unix,
    Date,
    Time,
    Timestamp,
}

/// The configured transform.
pub(crate) struct TimestampConverter {
    side: Side,
    field: String,
    target: Kind,
    format: Option<DateFormat>,
    /// Milliseconds per unit (`seconds` = 1000), or units per millisecond as a negative divisor.
    precision: &'static str,
    replace_null_with_default: bool,
    cache: SchemaCache,
}

impl TimestampConverter {
    /// Configures one for `side`.
    pub(crate) fn create(side: Side, props: &Props) -> ConnectResult<Box<dyn Transformation>> {
        let c = configure(&config_def(), props)?;
        let target = match c.string("target.type").as_str() {
            "string" => Kind::String,
            "unix" => Kind::Unix,
            "Date" => Kind::Date,
            "Time" => Kind::Time,
            _ => Kind::Timestamp,
        };
        let pattern = c.string("format");
        if target == Kind::String && pattern.trim().is_empty() {
            return Err(config_error(
                "format",
                "TimestampConverter requires format option to be specified when using string timestamps",
            ));
        }
        let format = if pattern.trim().is_empty() {
            None
        } else {
            Some(DateFormat::new(&pattern).map_err(|e| {
                config_error("format", format!("TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: {pattern} ({e})"))
            })?)
        };
        let precision = match c.string("unix.precision").as_str() {
            "seconds" => "seconds",
            "microseconds" => "microseconds",
            "nanoseconds" => "nanoseconds",
            _ => "milliseconds",
        };
        Ok(Box::new(Self {
            side,
            field: c.string("field"),
            target,
            format,
            precision,
            replace_null_with_default: c.bool(REPLACE_NULL),
            cache: SchemaCache::default(),
        }))
    }

    fn type_schema(&self, optional: bool) -> Arc<Schema> {
        let b = match self.target {
            Kind::String => SchemaBuilder::new(SchemaType::String),
            Kind::Unix => SchemaBuilder::new(SchemaType::Int64),
            Kind::Date => SchemaBuilder::date(),
            Kind::Time => SchemaBuilder::time(),
            Kind::Timestamp => SchemaBuilder::timestamp(),
        };
        b.set_optional(optional).build_arc()
    }

    /// Milliseconds since the epoch of `value` read as `kind`.
    fn to_raw(&self, kind: Kind, schema: Option<&Schema>, value: &Value) -> ConnectResult<i64> {
        let found = || java_class(schema, value);
        match (kind, value) {
            (Kind::String, Value::String(s)) => {
                let Some(f) = &self.format else {
                    return Err(ConnectError::data(
                        "TimestampConverter requires format option to be specified when using string timestamps",
                    ));
                };
                f.parse(s).map_err(ConnectError::data)?.ok_or_else(|| {
                    ConnectError::data(format!(
                        "Could not parse timestamp: value ({s}) does not match pattern ({})",
                        f.pattern()
                    ))
                })
            }
            (Kind::String, _) => Err(ConnectError::data(format!(
                "Expected string timestamp to be a String, but found class {}",
                found()
            ))),
            (Kind::Unix, Value::Int64(t)) => Ok(match self.precision {
                "seconds" => t.saturating_mul(1000),
                "microseconds" => t / 1000,
                "nanoseconds" => t / 1_000_000,
                _ => *t,
            }),
            (Kind::Unix, _) => {
                Err(ConnectError::data(format!("Expected Unix timestamp to be a Long, but found class {}", found())))
            }
            (Kind::Date, Value::Int32(d)) => Ok(i64::from(*d) * 86_400_000),
            (Kind::Time, Value::Int32(ms)) => Ok(i64::from(*ms)),
            (Kind::Timestamp, Value::Int64(ms)) => Ok(*ms),
            (k, _) => {
                Err(ConnectError::data(format!("Expected {k:?} to be a java.util.Date, but found class {}", found())))
            }
        }
    }

    fn to_type(&self, ms: i64) -> Value {
        match self.target {
            Kind::String => Value::String(self.format.as_ref().map(|f| f.format(ms)).unwrap_or_default()),
            Kind::Unix => Value::Int64(match self.precision {
                "seconds" => ms / 1000,
                "microseconds" => ms.saturating_mul(1000),
                "nanoseconds" => ms.saturating_mul(1_000_000),
                _ => ms,
            }),
            Kind::Date => Value::Int32(ms.div_euclid(86_400_000) as i32),
            Kind::Time => Value::Int32(ms.rem_euclid(86_400_000) as i32),
            Kind::Timestamp => Value::Int64(ms),
        }
    }

    fn convert(&self, kind: Option<Kind>, schema: Option<&Schema>, value: &Value) -> ConnectResult<Value> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        let kind = match kind {
            Some(k) => k,
            None => match value {
                Value::Int64(_) => Kind::Unix,
                Value::String(_) => Kind::String,
                other => {
                    return Err(ConnectError::data(format!(
                        "TimestampConverter does not support class {} objects as timestamps",
                        java_class(None, other)
                    )));
                }
            },
        };
        Ok(self.to_type(self.to_raw(kind, schema, value)?))
    }
}

/// Kafka's `timestampTypeFromSchema`.
fn kind_of(schema: &Schema) -> ConnectResult<Kind> {
    Ok(match (schema.name(), schema.kind()) {
        (Some(TIMESTAMP_NAME), _) => Kind::Timestamp,
        (Some(DATE_NAME), _) => Kind::Date,
        (Some(TIME_NAME), _) => Kind::Time,
        (_, SchemaType::String) => Kind::String,
        (_, SchemaType::Int64) => Kind::Unix,
        (name, kind) => {
            let upper = match kind {
                SchemaType::Float32 => "FLOAT32".to_owned(),
                SchemaType::Float64 => "FLOAT64".to_owned(),
                k => k.name().to_ascii_uppercase(),
            };
            let shown = name.map_or(upper.clone(), |n| format!("{n}:{upper}"));
            return Err(ConnectError::data(format!(
                "Schema Schema{{{shown}}} does not correspond to a known timestamp type format"
            )));
        }
    })
}

impl TimestampConverter {
    fn updated_schema(&self, schema: &Schema) -> ConnectResult<Arc<Schema>> {
        let mut b = copy_schema_basics(schema, SchemaBuilder::struct_());
        for f in schema.fields() {
            let s = if f.name == self.field { self.type_schema(f.schema.is_optional()) } else { f.schema.clone() };
            b = b.field(f.name.clone(), s).map_err(data_err)?;
        }
        if schema.is_optional() {
            b = b.optional();
        }
        if let Some(Value::Struct(d)) = schema.default_value() {
            let interim = b.clone().build_arc();
            let converted = self.convert_struct(d, &interim)?;
            b = b.default_value(Value::Struct(converted)).map_err(data_err)?;
        }
        Ok(b.build_arc())
    }

    fn convert_struct(&self, value: &Struct, updated: &Arc<Schema>) -> ConnectResult<Struct> {
        let mut values = Vec::with_capacity(value.schema().fields().len());
        for f in value.schema().fields() {
            let v = field_value(value, &f.name, self.replace_null_with_default);
            values.push(if f.name == self.field {
                self.convert(Some(kind_of(&f.schema)?), Some(&f.schema), &v)?
            } else {
                v
            });
        }
        build_struct(updated, values)
    }
}

impl Transformation for TimestampConverter {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let side = self.side;
        let value = side.value(record);
        let Some(schema) = side.schema(record).cloned() else {
            if value.is_null() || self.field.is_empty() {
                let v = self.convert(None, None, value)?;
                side.set(record, None, v);
                return Ok(true);
            }
            let entries = require_map(value, PURPOSE)?;
            let v = self.convert(None, None, map_get(entries, &self.field).unwrap_or(&Value::Null))?;
            let mut out = entries.to_vec();
            map_put(&mut out, &self.field, v);
            side.set(record, None, Value::Map(out));
            return Ok(true);
        };
        if self.field.is_empty() {
            let v = self.convert(Some(kind_of(&schema)?), Some(&schema), value)?;
            side.set(record, Some(self.type_schema(schema.is_optional())), v);
            return Ok(true);
        }
        let s = if value.is_null() { None } else { Some(require_struct(Some(&schema), value, PURPOSE)?) };
        let mut cache = std::mem::take(&mut self.cache);
        let updated = cache.get_or_try(&schema, || self.updated_schema(&schema));
        self.cache = cache;
        let updated = updated?;
        let out = match s {
            Some(s) => Value::Struct(self.convert_struct(s, &updated)?),
            None => Value::Null,
        };
        side.set(record, Some(updated), out);
        Ok(true)
    }
}
