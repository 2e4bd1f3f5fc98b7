//! `MaskField$Key` / `MaskField$Value`: replaces fields with the type's empty value (0, false,
//! "", empty list or map, the epoch) or with a configured replacement.

use std::collections::HashSet;

use crate::api::schema::{DATE_NAME, DECIMAL_NAME, TIME_NAME, TIMESTAMP_NAME};
use crate::api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectRecord, ConnectResult, Importance, Props, Schema,
    Transformation, Value,
};

use super::util::{
    REPLACE_NULL, REPLACE_NULL_DOC, Side, build_struct, configure, field_value, java_class, map_get, map_put,
    require_map, require_struct,
};
use super::validators::{non_empty_list, non_empty_string};
use super::values_parse::{big_decimal, parse_string, twos_complement};

const PURPOSE: &str = "mask fields";

/// Kafka's `MaskField.CONFIG_DEF`.
pub(crate) fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(ConfigKey::new("fields", ConfigType::List, Importance::High, "Names of fields to mask.").validator(non_empty_list()))
        .define(
            ConfigKey::new(
                "replacement",
                ConfigType::String,
                Importance::Low,
                "Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string values only).",
            )
            .optional()
            .validator(non_empty_string()),
        )
        .define(ConfigKey::new(REPLACE_NULL, ConfigType::Boolean, Importance::Medium, REPLACE_NULL_DOC).default("true"))
}

/// The configured transform.
pub(crate) struct MaskField {
    side: Side,
    fields: HashSet<String>,
    replacement: Option<String>,
    replace_null_with_default: bool,
}

impl MaskField {
    /// Configures one for `side`.
    pub(crate) fn create(side: Side, props: &Props) -> ConnectResult<Box<dyn Transformation>> {
        let c = configure(&config_def(), props)?;
        let replacement = match c.get("replacement") {
            Some(crate::api::ConfigValue::String(s)) => Some(s.clone()),
            _ => None,
        };
        Ok(Box::new(Self {
            side,
            fields: c.list("fields").into_iter().collect(),
            replacement,
            replace_null_with_default: c.bool(REPLACE_NULL),
        }))
    }

    fn masked(&self, schema: Option<&Schema>, value: &Value) -> ConnectResult<Value> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        match &self.replacement {
            None => empty_value(schema, value),
            Some(r) => replaced(schema, value, r),
        }
    }
}

fn logical(schema: Option<&Schema>) -> Option<&str> {
    schema.and_then(Schema::name).filter(|n| [DECIMAL_NAME, DATE_NAME, TIME_NAME, TIMESTAMP_NAME].contains(n))
}

fn empty_value(schema: Option<&Schema>, value: &Value) -> ConnectResult<Value> {
    Ok(match (logical(schema), value) {
        (Some(DECIMAL_NAME), _) => Value::Bytes(vec![0]),
        (Some(_), Value::Int64(_)) => Value::Int64(0),
        (Some(_), Value::Int32(_)) => Value::Int32(0),
        (_, Value::Boolean(_)) => Value::Boolean(false),
        (_, Value::Int8(_)) => Value::Int8(0),
        (_, Value::Int16(_)) => Value::Int16(0),
        (_, Value::Int32(_)) => Value::Int32(0),
        (_, Value::Int64(_)) => Value::Int64(0),
        (_, Value::Float32(_)) => Value::Float32(0.0),
        (_, Value::Float64(_)) => Value::Float64(0.0),
        (_, Value::String(_)) => Value::String(String::new()),
        (_, Value::Array(_)) => Value::Array(Vec::new()),
        (_, Value::Map(_)) => Value::Map(Vec::new()),
        (_, other) => {
            return Err(ConnectError::data(format!("Cannot mask value of type: class {}", java_class(schema, other))));
        }
    })
}

fn replaced(schema: Option<&Schema>, value: &Value, r: &str) -> ConnectResult<Value> {
    if logical(schema) == Some(DECIMAL_NAME) {
        return match big_decimal(r) {
            Some((neg, digits, _)) => Ok(Value::Bytes(twos_complement(neg, &digits))),
            None => Err(ConnectError::data(format!("Unable to convert {r} (class java.lang.String) to number"))),
        };
    }
    if logical(schema).is_some() || !matches!(value.schema_type().map(crate::api::SchemaType::is_primitive), Some(true))
    {
        return Err(ConnectError::data(format!(
            "Cannot mask value of type class {} with custom replacement.",
            java_class(schema, value)
        )));
    }
    let number = || -> ConnectResult<f64> {
        match parse_string(r).1 {
            Value::Int8(v) => Ok(v.into()),
            Value::Int16(v) => Ok(v.into()),
            Value::Int32(v) => Ok(v.into()),
            Value::Int64(v) => Ok(v as f64),
            Value::Float32(v) => Ok(v.into()),
            Value::Float64(v) => Ok(v),
            _ => Err(ConnectError::data(format!("Unable to convert {r} (class java.lang.String) to a number"))),
        }
    };
    let exact_long = || r.trim().parse::<i64>().ok();
    Ok(match value {
        Value::String(_) => Value::String(r.to_owned()),
        Value::Int8(_) => Value::Int8(exact_long().map_or_else(|| number().map(|n| n as i64), Ok)? as i8),
        Value::Int16(_) => Value::Int16(exact_long().map_or_else(|| number().map(|n| n as i64), Ok)? as i16),
        Value::Int32(_) => Value::Int32(exact_long().map_or_else(|| number().map(|n| n as i64), Ok)? as i32),
        Value::Int64(_) => Value::Int64(exact_long().map_or_else(|| number().map(|n| n as i64), Ok)?),
        Value::Float32(_) => Value::Float32(number()? as f32),
        Value::Float64(_) => Value::Float64(number()?),
        other => {
            return Err(ConnectError::data(format!(
                "Cannot mask value of type class {} with custom replacement.",
                java_class(schema, other)
            )));
        }
    })
}

impl Transformation for MaskField {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let side = self.side;
        let Some(schema) = side.schema(record).cloned() else {
            let entries = require_map(side.value(record), PURPOSE)?;
            let mut out = entries.to_vec();
            for f in &self.fields {
                let masked = self.masked(None, map_get(entries, f).unwrap_or(&Value::Null))?;
                map_put(&mut out, f, masked);
            }
            side.set(record, None, Value::Map(out));
            return Ok(true);
        };
        let value = require_struct(Some(&schema), side.value(record), PURPOSE)?;
        let mut values = Vec::with_capacity(value.schema().fields().len());
        for f in value.schema().fields() {
            let v = field_value(value, &f.name, self.replace_null_with_default);
            values.push(if self.fields.contains(&f.name) { self.masked(Some(&f.schema), &v)? } else { v });
        }
        let out = build_struct(value.schema(), values)?;
        side.set(record, Some(schema), Value::Struct(out));
        Ok(true)
    }
}
