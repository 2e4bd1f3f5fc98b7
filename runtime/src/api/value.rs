//! Connect values: what a record's key, value and headers hold.
//!
//! [`Value`] is the Rust counterpart of the Java objects Kafka Connect passes around. Logical
//! types are carried in their physical form (a Date is an `Int32` of days, a Decimal is `Bytes`
//! of the unscaled two's complement integer) exactly as Connect's converters see them on the
//! wire; the schema's name says how to read them. [`Struct`] values keep their schema and are
//! validated field by field when built.

use std::fmt;
use std::sync::Arc;

use super::schema::{Schema, SchemaError, SchemaType};

/// A Connect value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// No value.
    Null,
    /// `int8`.
    Int8(i8),
    /// `int16`.
    Int16(i16),
    /// `int32` (also Date and Time).
    Int32(i32),
    /// `int64` (also Timestamp).
    Int64(i64),
    /// `float`.
    Float32(f32),
    /// `double`.
    Float64(f64),
    /// `boolean`.
    Boolean(bool),
    /// `string`.
    String(String),
    /// `bytes` (also Decimal).
    Bytes(Vec<u8>),
    /// `array`.
    Array(Vec<Value>),
    /// `map`, in insertion order (keys may be of any type, as in Connect).
    Map(Vec<(Value, Value)>),
    /// `struct`.
    Struct(Struct),
}

impl Value {
    /// Whether this is [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }

    /// The Connect type of this value, `None` for null.
    pub fn schema_type(&self) -> Option<SchemaType> {
        Some(match self {
            Self::Null => return None,
            Self::Int8(_) => SchemaType::Int8,
            Self::Int16(_) => SchemaType::Int16,
            Self::Int32(_) => SchemaType::Int32,
            Self::Int64(_) => SchemaType::Int64,
            Self::Float32(_) => SchemaType::Float32,
            Self::Float64(_) => SchemaType::Float64,
            Self::Boolean(_) => SchemaType::Boolean,
            Self::String(_) => SchemaType::String,
            Self::Bytes(_) => SchemaType::Bytes,
            Self::Array(_) => SchemaType::Array,
            Self::Map(_) => SchemaType::Map,
            Self::Struct(_) => SchemaType::Struct,
        })
    }

    /// The type name for error messages.
    pub fn type_name(&self) -> &'static str {
        self.schema_type().map_or("null", SchemaType::name)
    }

    pub(crate) fn matches_type(&self, schema: &Schema) -> bool {
        self.schema_type() == Some(schema.kind())
    }

    /// The string inside a `String` value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// The integer inside any integer value, widened.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Self::Int8(v) => Some(v.into()),
            Self::Int16(v) => Some(v.into()),
            Self::Int32(v) => Some(v.into()),
            Self::Int64(v) => Some(v),
            _ => None,
        }
    }

    /// The struct inside a `Struct` value.
    pub fn as_struct(&self) -> Option<&Struct> {
        match self {
            Self::Struct(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    /// Formats like Kafka Connect's `Values.convertToString`: strings bare, containers in
    /// brackets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("null"),
            Self::Int8(v) => write!(f, "{v}"),
            Self::Int16(v) => write!(f, "{v}"),
            Self::Int32(v) => write!(f, "{v}"),
            Self::Int64(v) => write!(f, "{v}"),
            Self::Float32(v) => write!(f, "{v}"),
            Self::Float64(v) => write!(f, "{v}"),
            Self::Boolean(v) => write!(f, "{v}"),
            Self::String(v) => f.write_str(v),
            Self::Bytes(v) => write!(f, "{} bytes", v.len()),
            Self::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Self::Map(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{k}={v}")?;
                }
                f.write_str("}")
            }
            Self::Struct(s) => write!(f, "{s}"),
        }
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self::String(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Self::String(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Self::Int32(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Self::Int64(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Self::Boolean(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Self::Float64(v)
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Self::Bytes(v)
    }
}
impl From<Struct> for Value {
    fn from(v: Struct) -> Self {
        Self::Struct(v)
    }
}

/// A struct value: one value per field of its schema, validated on every write.
#[derive(Clone, Debug, PartialEq)]
pub struct Struct {
    schema: Arc<Schema>,
    values: Vec<Value>,
}

impl Struct {
    /// An empty struct of `schema` (every field null until put); fails if the schema is not a
    /// struct schema.
    pub fn new(schema: Arc<Schema>) -> Result<Self, SchemaError> {
        if schema.kind() != SchemaType::Struct {
            return Err(SchemaError::new(format!("a struct needs a struct schema, not {}", schema.kind())));
        }
        let values = vec![Value::Null; schema.fields().len()];
        Ok(Self { schema, values })
    }

    /// The struct's schema.
    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    /// Sets field `name`, checking the value against the field's schema.
    pub fn put(&mut self, name: &str, value: impl Into<Value>) -> Result<&mut Self, SchemaError> {
        let field =
            self.schema.field(name).ok_or_else(|| SchemaError::new(format!("{name} is not a field of this struct")))?;
        let value = value.into();
        field.schema.validate(&value).map_err(|e| SchemaError::new(format!("field {name}: {e}")))?;
        self.values[field.index] = value;
        Ok(self)
    }

    /// Sets the field at `index` (its position in the schema), checking the value.
    pub fn put_index(&mut self, index: usize, value: Value) -> Result<&mut Self, SchemaError> {
        let field = self
            .schema
            .fields()
            .get(index)
            .ok_or_else(|| SchemaError::new(format!("this struct has no field at index {index}")))?;
        // A nested struct built on this very schema was validated field by field already.
        let prevalidated = matches!(&value, Value::Struct(s) if Arc::ptr_eq(s.schema(), &field.schema));
        if !prevalidated {
            field.schema.validate(&value).map_err(|e| SchemaError::new(format!("field {}: {e}", field.name)))?;
        }
        self.values[index] = value;
        Ok(self)
    }

    /// Builder form of [`Struct::put`].
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Result<Self, SchemaError> {
        self.put(name, value)?;
        Ok(self)
    }

    /// The value of field `name`, with the field's default in place of null.
    pub fn get(&self, name: &str) -> Option<&Value> {
        let field = self.schema.field(name)?;
        let v = &self.values[field.index];
        if v.is_null()
            && let Some(d) = field.schema.default_value()
        {
            return Some(d);
        }
        Some(v)
    }

    /// The raw value of field `index` (no default substitution).
    pub fn get_index(&self, index: usize) -> Option<&Value> {
        self.values.get(index)
    }

    /// Checks that every required field without a default is set.
    pub fn validate(&self) -> Result<(), SchemaError> {
        for f in self.schema.fields() {
            f.schema.validate(&self.values[f.index]).map_err(|e| SchemaError::new(format!("field {}: {e}", f.name)))?;
        }
        Ok(())
    }
}

impl fmt::Display for Struct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Struct{")?;
        let mut first = true;
        for field in self.schema.fields() {
            let v = &self.values[field.index];
            if v.is_null() {
                continue;
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            write!(f, "{}={v}", field.name)?;
        }
        f.write_str("}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::schema::SchemaBuilder;

    fn person() -> Arc<Schema> {
        SchemaBuilder::struct_()
            .name("person")
            .field("name", Schema::primitive(SchemaType::String))
            .unwrap()
            .field("age", Schema::optional_primitive(SchemaType::Int32))
            .unwrap()
            .build_arc()
    }

    #[test]
    fn struct_rejects_value_of_wrong_type_naming_the_field() {
        let mut s = Struct::new(person()).unwrap();
        let err = s.put("age", "old").unwrap_err();
        assert_eq!(err.to_string(), "field age: value is string but its schema expects int32");
    }

    #[test]
    fn struct_validation_reports_missing_required_field() {
        let s = Struct::new(person()).unwrap();
        let err = s.validate().unwrap_err();
        assert!(err.to_string().contains("field name"), "{err}");
    }

    #[test]
    fn struct_get_substitutes_default_for_null() {
        let schema = SchemaBuilder::struct_()
            .field("n", SchemaBuilder::new(SchemaType::Int32).default_value(Value::Int32(7)).unwrap().build_arc())
            .unwrap()
            .build_arc();
        let s = Struct::new(schema).unwrap();
        assert_eq!(s.get("n"), Some(&Value::Int32(7)));
    }

    #[test]
    fn array_validation_names_the_element() {
        let schema = SchemaBuilder::array(Schema::primitive(SchemaType::Int64)).build();
        let err = schema.validate(&Value::Array(vec![Value::Int64(1), Value::Int32(2)])).unwrap_err();
        assert_eq!(err.to_string(), "value[1] is int32 but its schema expects int64");
    }

    #[test]
    fn unknown_field_is_an_error_not_a_panic() {
        let mut s = Struct::new(person()).unwrap();
        assert!(s.put("nope", 1).is_err());
    }
}
