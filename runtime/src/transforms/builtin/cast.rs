//! `Cast$Key` / `Cast$Value`: casts fields, or the whole key or value, to another primitive
//! type, with Java's conversions (narrowing wraps, strings parse, bytes become base64, dates
//! print in Connect's formats).

use std::sync::Arc;

use crate::api::schema::{DATE_NAME, DECIMAL_NAME, DECIMAL_SCALE, TIME_NAME, TIMESTAMP_NAME};
use crate::api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectRecord, ConnectResult, Importance, Props, Schema,
    SchemaBuilder, SchemaType, Transformation, Value,
};

use super::java_text;
use super::util::{
    REPLACE_NULL, REPLACE_NULL_DOC, SchemaCache, Side, base64, build_struct, configure, copy_schema_basics, data_err,
    field_value, map_get, map_put, require_map, require_struct,
};
use super::validators::list_check;

const PURPOSE: &str = "cast types";
const OUTPUTS: &str = "[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]";

/// Kafka's type names in the spec (`Schema.Type` names, any case).
fn type_named(name: &str) -> Option<SchemaType> {
    Some(match name.to_ascii_uppercase().as_str() {
        "INT8" => SchemaType::Int8,
        "INT16" => SchemaType::Int16,
        "INT32" => SchemaType::Int32,
        "INT64" => SchemaType::Int64,
        "FLOAT32" => SchemaType::Float32,
        "FLOAT64" => SchemaType::Float64,
        "BOOLEAN" => SchemaType::Boolean,
        "STRING" => SchemaType::String,
        "BYTES" => SchemaType::Bytes,
        "ARRAY" => SchemaType::Array,
        "MAP" => SchemaType::Map,
        "STRUCT" => SchemaType::Struct,
        _ => return None,
    })
}

fn upper(t: SchemaType) -> String {
    match t {
        SchemaType::Float32 => "FLOAT32".into(),
        SchemaType::Float64 => "FLOAT64".into(),
        other => other.name().to_ascii_uppercase(),
    }
}

fn output_type(name: &str) -> Result<SchemaType, String> {
    let t = type_named(name.trim()).ok_or_else(|| format!("Invalid type found in casting spec: {}", name.trim()))?;
    if matches!(t, SchemaType::Bytes | SchemaType::Array | SchemaType::Map | SchemaType::Struct) {
        return Err(format!(
            "Cast transformation does not support casting to {}; supported types are {OUTPUTS}",
            upper(t)
        ));
    }
    Ok(t)
}

/// The spec: `(None, type)` casts the whole value.
type Spec = Vec<(Option<String>, SchemaType)>;

fn parse_spec(mappings: &[String]) -> Result<Spec, String> {
    if mappings.is_empty() {
        return Err("Must specify at least one field to cast.".into());
    }
    let mut out = Vec::new();
    for m in mappings {
        let mut parts: Vec<&str> = m.split(':').collect();
        while parts.len() > 1 && parts.last() == Some(&"") {
            parts.pop();
        }
        match parts.as_slice() {
            [t] => out.push((None, output_type(t)?)),
            [f, t] => out.push((Some(f.trim().to_owned()), output_type(t)?)),
            _ => return Err(format!("Invalid rename mapping: {m}")),
        }
    }
    if out.iter().any(|(f, _)| f.is_none()) && mappings.len() > 1 {
        return Err("Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec".into());
    }
    Ok(out)
}

/// Kafka's `Cast.CONFIG_DEF`.
pub(crate) fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new(
                "spec",
                ConfigType::List,
                Importance::High,
                "List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of Maps or Structs. A single type to cast the entire value. Valid types are int8, int16, int32, int64, float32, float64, boolean, and string. Note that binary fields can only be cast to string.",
            )
            .validator(list_check(|l| parse_spec(l).map(drop))),
        )
        .define(ConfigKey::new(REPLACE_NULL, ConfigType::Boolean, Importance::Medium, REPLACE_NULL_DOC).default("true"))
}

/// The configured transform.
pub(crate) struct Cast {
    side: Side,
    whole: Option<SchemaType>,
    fields: Vec<(String, SchemaType)>,
    replace_null_with_default: bool,
    cache: SchemaCache,
}

impl Cast {
    /// Configures one for `side`.
    pub(crate) fn create(side: Side, props: &Props) -> ConnectResult<Box<dyn Transformation>> {
        let c = configure(&config_def(), props)?;
        let spec = parse_spec(&c.list("spec")).map_err(|e| ConnectError::config("spec", e))?;
        let whole = spec.iter().find(|(f, _)| f.is_none()).map(|(_, t)| *t);
        let fields = spec.into_iter().filter_map(|(f, t)| f.map(|f| (f, t))).collect();
        Ok(Box::new(Self {
            side,
            whole,
            fields,
            replace_null_with_default: c.bool(REPLACE_NULL),
            cache: SchemaCache::default(),
        }))
    }

    fn target(&self, field: &str) -> Option<SchemaType> {
        self.fields.iter().rev().find(|(f, _)| f == field).map(|(_, t)| *t)
    }

    fn updated_schema(&self, schema: &Schema) -> ConnectResult<Arc<Schema>> {
        let mut b = match self.whole {
            Some(t) => copy_schema_basics(schema, SchemaBuilder::new(t)),
            None => {
                let mut b = copy_schema_basics(schema, SchemaBuilder::struct_());
                for f in schema.fields() {
                    let field_schema = match self.target(&f.name) {
                        Some(t) => {
                            let mut fb = SchemaBuilder::new(t).set_optional(f.schema.is_optional());
                            if let Some(d) = f.schema.default_value() {
                                fb = fb.default_value(cast(Some(&f.schema), d, t)?).map_err(data_err)?;
                            }
                            fb.build_arc()
                        }
                        None => f.schema.clone(),
                    };
                    b = b.field(f.name.clone(), field_schema).map_err(data_err)?;
                }
                b
            }
        };
        if schema.is_optional() {
            b = b.optional();
        }
        if let (Some(d), Some(t)) = (schema.default_value(), self.whole) {
            b = b.default_value(cast(Some(schema), d, t)?).map_err(data_err)?;
        }
        Ok(b.build_arc())
    }
}

impl Transformation for Cast {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let side = self.side;
        let value = side.value(record);
        if value.is_null() {
            return Ok(true);
        }
        let Some(schema) = side.schema(record).cloned() else {
            if let Some(t) = self.whole {
                let v = cast(None, value, t)?;
                side.set(record, None, v);
                return Ok(true);
            }
            let entries = require_map(value, PURPOSE)?;
            let mut out = entries.to_vec();
            for (f, t) in &self.fields {
                let v = cast(None, map_get(entries, f).unwrap_or(&Value::Null), *t)?;
                map_put(&mut out, f, v);
            }
            side.set(record, None, Value::Map(out));
            return Ok(true);
        };
        let mut cache = std::mem::take(&mut self.cache);
        let updated = cache.get_or_try(&schema, || self.updated_schema(&schema));
        self.cache = cache;
        let updated = updated?;
        if let Some(t) = self.whole {
            let v = cast(Some(&schema), value, t)?;
            side.set(record, Some(updated), v);
            return Ok(true);
        }
        let s = require_struct(Some(&schema), value, PURPOSE)?;
        let mut values = Vec::with_capacity(s.schema().fields().len());
        for f in s.schema().fields() {
            let v = field_value(s, &f.name, self.replace_null_with_default);
            values.push(match self.target(&f.name) {
                Some(t) => cast(Some(&f.schema), &v, t)?,
                None => v,
            });
        }
        let out = build_struct(&updated, values)?;
        side.set(record, Some(updated), Value::Struct(out));
        Ok(true)
    }
}

/// A number as Java's `Number` would give it: integral or floating.
enum Num {
    Int(i128),
    Float(f64),
}

fn out_of_range(text: &str) -> ConnectError {
    ConnectError::data(format!("Value ({text}) was out of range for requested data type"))
}

/// Kafka's `castValueToType`.
fn cast(schema: Option<&Schema>, value: &Value, target: SchemaType) -> ConnectResult<Value> {
    let Some(inferred) = schema.map(Schema::kind).or_else(|| value.schema_type()) else { return Ok(Value::Null) };
    if value.is_null() {
        return Ok(Value::Null);
    }
    if matches!(inferred, SchemaType::Array | SchemaType::Map | SchemaType::Struct) {
        return Err(ConnectError::data(format!(
            "Cast transformation does not support casting from {}; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]",
            upper(inferred)
        )));
    }
    let logical = schema.and_then(Schema::name);
    if target == SchemaType::String {
        return to_string(logical, schema, value);
    }
    let num = match (logical, value) {
        (Some(DECIMAL_NAME), Value::Bytes(b)) => {
            let scale =
                schema.and_then(|s| s.parameters().get(DECIMAL_SCALE)).and_then(|s| s.parse::<i32>().ok()).unwrap_or(0);
            let n = java_text::unscaled_i128(b).ok_or_else(|| ConnectError::data("Decimal value too wide to cast"))?;
            if target == SchemaType::Float32 || target == SchemaType::Float64 {
                Num::Float(n as f64 / 10f64.powi(scale))
            } else {
                Num::Int(if scale >= 0 {
                    n / 10i128.pow(scale.unsigned_abs().min(38))
                } else {
                    n.saturating_mul(10i128.pow(scale.unsigned_abs().min(38)))
                })
            }
        }
        (_, Value::Boolean(b)) => Num::Int(i128::from(*b)),
        (_, Value::Float32(f)) => Num::Float(f64::from(*f)),
        (_, Value::Float64(f)) => Num::Float(*f),
        (_, Value::String(s)) => return parse_to(s, target),
        (_, v) => match v.as_i64() {
            Some(i) => Num::Int(i.into()),
            None => {
                return Err(ConnectError::data(format!(
                    "Unexpected type in Cast transformation: class {}",
                    super::util::java_class(schema, v)
                )));
            }
        },
    };
    // Java's Number.xxxValue(): integers wrap; floats go through (int)/(long) saturating casts.
    let as_long = |n: &Num| match n {
        Num::Int(i) => *i as i64,
        Num::Float(f) => *f as i64,
    };
    let as_int = |n: &Num| match n {
        Num::Int(i) => *i as i32,
        Num::Float(f) => *f as i32,
    };
    Ok(match target {
        SchemaType::Int8 => Value::Int8(as_int(&num) as i8),
        SchemaType::Int16 => Value::Int16(as_int(&num) as i16),
        SchemaType::Int32 => Value::Int32(as_int(&num)),
        SchemaType::Int64 => Value::Int64(as_long(&num)),
        SchemaType::Float32 => Value::Float32(match num {
            Num::Int(i) => i as f32,
            Num::Float(f) => f as f32,
        }),
        SchemaType::Float64 => Value::Float64(match num {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }),
        _ => Value::Boolean(as_long(&num) != 0),
    })
}

/// Java's `Byte.parseByte`... `Boolean.parseBoolean` of a string.
fn parse_to(s: &str, target: SchemaType) -> ConnectResult<Value> {
    let java_int = |s: &str| -> ConnectResult<i64> {
        let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
        if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
            return Err(out_of_range(s));
        }
        s.parse::<i64>().map_err(|_| out_of_range(s))
    };
    let java_float = |s: &str| -> ConnectResult<f64> {
        let t = s.trim();
        let t = t.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(t);
        let t = t.replace("Infinity", "inf");
        if t.contains(['i', 'n', 'N']) && !matches!(t.trim_start_matches(['+', '-']), "inf" | "NaN") {
            return Err(out_of_range(s));
        }
        t.parse::<f64>().map_err(|_| out_of_range(s))
    };
    let ranged = |v: i64, min: i64, max: i64| if (min..=max).contains(&v) { Ok(v) } else { Err(out_of_range(s)) };
    Ok(match target {
        SchemaType::Int8 => Value::Int8(ranged(java_int(s)?, i8::MIN.into(), i8::MAX.into())? as i8),
        SchemaType::Int16 => Value::Int16(ranged(java_int(s)?, i16::MIN.into(), i16::MAX.into())? as i16),
        SchemaType::Int32 => Value::Int32(ranged(java_int(s)?, i32::MIN.into(), i32::MAX.into())? as i32),
        SchemaType::Int64 => Value::Int64(java_int(s)?),
        SchemaType::Float32 => Value::Float32(java_float(s)? as f32),
        SchemaType::Float64 => Value::Float64(java_float(s)?),
        _ => Value::Boolean(s.eq_ignore_ascii_case("true")),
    })
}

fn to_string(logical: Option<&str>, schema: Option<&Schema>, value: &Value) -> ConnectResult<Value> {
    let text = match (logical, value) {
        (Some(DATE_NAME), Value::Int32(d)) => java_text::connect_date(i64::from(*d) * 86_400_000),
        (Some(TIME_NAME), Value::Int32(ms)) => java_text::connect_date(i64::from(*ms)),
        (Some(TIMESTAMP_NAME), Value::Int64(ms)) => java_text::connect_date(*ms),
        (Some(DECIMAL_NAME), Value::Bytes(b)) => {
            let scale =
                schema.and_then(|s| s.parameters().get(DECIMAL_SCALE)).and_then(|s| s.parse::<i32>().ok()).unwrap_or(0);
            java_text::big_decimal(b, scale).ok_or_else(|| ConnectError::data("Decimal value too wide to cast"))?
        }
        (_, Value::Bytes(b)) => base64(b),
        (_, Value::Float32(f)) => java_text::float(*f),
        (_, Value::Float64(f)) => java_text::double(*f),
        (_, other) => other.to_string(),
    };
    Ok(Value::String(text))
}
