//! Kafka Connect's number converters (`ShortConverter`, `IntegerConverter`, `LongConverter`,
//! `FloatConverter`, `DoubleConverter`, KIP-305): one number per message in the bytes of Kafka's
//! own serializers, big-endian two's complement for integers and IEEE 754 for floats. Each is
//! also a header converter, with the same bytes.
//!
//! As in Kafka, writing ignores the schema and accepts only values of the converter's own type
//! (an `Int32` for IntegerConverter; a `Int16` is not widened), reading always gives the
//! optional schema of that type, null is a Kafka null both ways, and a message of any other
//! length is a data error. DoubleConverter writes every NaN as Java's canonical NaN
//! (`Double.doubleToLongBits`); FloatConverter keeps the NaN's bits (`Float.floatToRawIntBits`).

use std::sync::Arc;

use tributary_runtime::api::{
    ConfigDef, ConnectError, ConnectResult, Converter, HeaderConverter, Props, Schema, SchemaAndValue, SchemaType,
    Value,
};

use crate::config::{converter_config_def, or_value};

/// Class name of ShortConverter in Kafka Connect.
pub const SHORT_CLASS: &str = "org.apache.kafka.connect.converters.ShortConverter";
/// Class name of IntegerConverter in Kafka Connect.
pub const INTEGER_CLASS: &str = "org.apache.kafka.connect.converters.IntegerConverter";
/// Class name of LongConverter in Kafka Connect.
pub const LONG_CLASS: &str = "org.apache.kafka.connect.converters.LongConverter";
/// Class name of FloatConverter in Kafka Connect.
pub const FLOAT_CLASS: &str = "org.apache.kafka.connect.converters.FloatConverter";
/// Class name of DoubleConverter in Kafka Connect.
pub const DOUBLE_CLASS: &str = "org.apache.kafka.connect.converters.DoubleConverter";

/// The five number converters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumberType {
    /// `org.apache.kafka.connect.converters.ShortConverter`: `int16`, 2 bytes.
    Short,
    /// `org.apache.kafka.connect.converters.IntegerConverter`: `int32`, 4 bytes.
    Integer,
    /// `org.apache.kafka.connect.converters.LongConverter`: `int64`, 8 bytes.
    Long,
    /// `org.apache.kafka.connect.converters.FloatConverter`: `float`, 4 bytes.
    Float,
    /// `org.apache.kafka.connect.converters.DoubleConverter`: `double`, 8 bytes.
    Double,
}

impl NumberType {
    /// Every number converter.
    pub const ALL: [Self; 5] = [Self::Short, Self::Integer, Self::Long, Self::Float, Self::Double];

    /// Class name in Kafka Connect.
    pub fn class(self) -> &'static str {
        match self {
            Self::Short => SHORT_CLASS,
            Self::Integer => INTEGER_CLASS,
            Self::Long => LONG_CLASS,
            Self::Float => FLOAT_CLASS,
            Self::Double => DOUBLE_CLASS,
        }
    }

    /// The name Kafka's messages use (`typeName` in `NumberConverter`).
    pub fn type_name(self) -> &'static str {
        match self {
            Self::Short => "short",
            Self::Integer => "integer",
            Self::Long => "long",
            Self::Float => "float",
            Self::Double => "double",
        }
    }

    /// The Connect type of the values.
    pub fn schema_type(self) -> SchemaType {
        match self {
            Self::Short => SchemaType::Int16,
            Self::Integer => SchemaType::Int32,
            Self::Long => SchemaType::Int64,
            Self::Float => SchemaType::Float32,
            Self::Double => SchemaType::Float64,
        }
    }

    /// Bytes per value.
    pub fn size(self) -> usize {
        match self {
            Self::Short => 2,
            Self::Integer | Self::Float => 4,
            Self::Long | Self::Double => 8,
        }
    }

    /// Kafka's message for a message of the wrong size (Float and Double's deserializers do
    /// not name themselves).
    fn size_error(self) -> String {
        let who = match self {
            Self::Short => "ShortDeserializer",
            Self::Integer => "IntegerDeserializer",
            Self::Long => "LongDeserializer",
            Self::Float | Self::Double => "Deserializer",
        };
        format!("Size of data received by {who} is not {}", self.size())
    }
}

/// The class Java would print for a Connect value (`value.getClass()`), for Kafka's messages.
pub(crate) fn java_class(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Int8(_) => "class java.lang.Byte",
        Value::Int16(_) => "class java.lang.Short",
        Value::Int32(_) => "class java.lang.Integer",
        Value::Int64(_) => "class java.lang.Long",
        Value::Float32(_) => "class java.lang.Float",
        Value::Float64(_) => "class java.lang.Double",
        Value::Boolean(_) => "class java.lang.Boolean",
        Value::String(_) => "class java.lang.String",
        Value::Bytes(_) => "class [B",
        Value::Array(_) => "class java.util.ArrayList",
        Value::Map(_) => "class java.util.HashMap",
        Value::Struct(_) => "class org.apache.kafka.connect.data.Struct",
    }
}

/// The converter's keys: Kafka's `NumberConverterConfig` (`converter.type` only).
pub fn config_def() -> ConfigDef {
    converter_config_def()
}

/// One of Kafka Connect's number converters.
#[derive(Debug)]
pub struct NumberConverter {
    kind: NumberType,
    schema: Arc<Schema>,
}

impl NumberConverter {
    /// A converter of `kind` configured from `props` (`converter.type` defaults to `value`).
    pub fn new(kind: NumberType, props: &Props) -> ConnectResult<Self> {
        config_def().parse(&or_value(props))?;
        Ok(Self { kind, schema: Schema::optional_primitive(kind.schema_type()) })
    }

    /// Which number this converter reads and writes.
    pub fn kind(&self) -> NumberType {
        self.kind
    }

    fn write(&self, value: &Value, out: &mut Vec<u8>) -> ConnectResult<bool> {
        out.clear();
        match (self.kind, value) {
            (_, Value::Null) => return Ok(false),
            (NumberType::Short, Value::Int16(v)) => out.extend_from_slice(&v.to_be_bytes()),
            (NumberType::Integer, Value::Int32(v)) => out.extend_from_slice(&v.to_be_bytes()),
            (NumberType::Long, Value::Int64(v)) => out.extend_from_slice(&v.to_be_bytes()),
            (NumberType::Float, Value::Float32(v)) => out.extend_from_slice(&v.to_bits().to_be_bytes()),
            (NumberType::Double, Value::Float64(v)) => {
                // Java's doubleToLongBits: every NaN is written as the canonical one.
                let bits = if v.is_nan() { 0x7ff8_0000_0000_0000 } else { v.to_bits() };
                out.extend_from_slice(&bits.to_be_bytes());
            }
            (kind, other) => {
                return Err(ConnectError::data(format!(
                    "Failed to serialize to {} (was {})",
                    kind.type_name(),
                    java_class(other)
                )));
            }
        }
        Ok(true)
    }

    fn read(&self, bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue> {
        let schema = Some(self.schema.clone());
        let Some(bytes) = bytes else { return Ok(SchemaAndValue { schema, value: Value::Null }) };
        let value = match self.kind {
            NumberType::Short => bytes.try_into().map(|b| Value::Int16(i16::from_be_bytes(b))),
            NumberType::Integer => bytes.try_into().map(|b| Value::Int32(i32::from_be_bytes(b))),
            NumberType::Long => bytes.try_into().map(|b| Value::Int64(i64::from_be_bytes(b))),
            NumberType::Float => bytes.try_into().map(|b| Value::Float32(f32::from_bits(u32::from_be_bytes(b)))),
            NumberType::Double => bytes.try_into().map(|b| Value::Float64(f64::from_bits(u64::from_be_bytes(b)))),
        };
        let value = value.map_err(|_| {
            ConnectError::data(format!("Failed to deserialize {}: {}", self.kind.type_name(), self.kind.size_error()))
        })?;
        Ok(SchemaAndValue { schema, value })
    }
}

impl Converter for NumberConverter {
    fn from_connect(
        &self,
        _topic: &str,
        _schema: Option<&Arc<Schema>>,
        value: &Value,
    ) -> ConnectResult<Option<Vec<u8>>> {
        let mut out = Vec::with_capacity(self.kind.size());
        Ok(self.write(value, &mut out)?.then_some(out))
    }

    fn from_connect_into(
        &self,
        _topic: &str,
        _schema: Option<&Arc<Schema>>,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> ConnectResult<bool> {
        self.write(value, out)
    }

    fn to_connect(&self, _topic: &str, bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue> {
        self.read(bytes)
    }
}

impl HeaderConverter for NumberConverter {
    fn from_connect_header(
        &self,
        _topic: &str,
        _key: &str,
        _schema: Option<&Schema>,
        value: &Value,
    ) -> ConnectResult<Option<Vec<u8>>> {
        let mut out = Vec::with_capacity(self.kind.size());
        Ok(self.write(value, &mut out)?.then_some(out))
    }

    fn to_connect_header(&self, _topic: &str, _key: &str, bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue> {
        self.read(bytes)
    }
}

#[cfg(test)]
mod tests;
