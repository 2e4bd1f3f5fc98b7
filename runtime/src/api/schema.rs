//! Connect schemas: the type system every record, converter and transform shares.
//!
//! A [`Schema`] mirrors Kafka Connect's `org.apache.kafka.connect.data.Schema`: a type, whether
//! the value may be null, an optional default, a name and version (logical types are named
//! schemas such as `org.apache.kafka.connect.data.Decimal`), documentation, string parameters,
//! and for container types the schemas of their elements or fields. Schemas are immutable and
//! shared behind [`Arc`], so a record costs one pointer per schema, not a copy.

use std::fmt;
use std::sync::Arc;

use super::value::Value;

/// The Connect type of a schema, spelled as Kafka Connect's JSON envelope spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SchemaType {
    /// 8-bit signed integer.
    Int8,
    /// 16-bit signed integer.
    Int16,
    /// 32-bit signed integer.
    Int32,
    /// 64-bit signed integer.
    Int64,
    /// IEEE 754 single precision.
    Float32,
    /// IEEE 754 double precision.
    Float64,
    /// true or false.
    Boolean,
    /// UTF-8 text.
    String,
    /// Arbitrary bytes.
    Bytes,
    /// A sequence of values of one value schema.
    Array,
    /// Key/value pairs with one key schema and one value schema.
    Map,
    /// Named fields, each with its own schema.
    Struct,
}

impl SchemaType {
    /// The lowercase name Kafka Connect uses in JSON (`int8`, `string`, `struct`...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Int8 => "int8",
            Self::Int16 => "int16",
            Self::Int32 => "int32",
            Self::Int64 => "int64",
            Self::Float32 => "float",
            Self::Float64 => "double",
            Self::Boolean => "boolean",
            Self::String => "string",
            Self::Bytes => "bytes",
            Self::Array => "array",
            Self::Map => "map",
            Self::Struct => "struct",
        }
    }

    /// Parses the JSON name of a type; `None` for an unknown name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "int8" => Self::Int8,
            "int16" => Self::Int16,
            "int32" => Self::Int32,
            "int64" => Self::Int64,
            "float" => Self::Float32,
            "double" => Self::Float64,
            "boolean" => Self::Boolean,
            "string" => Self::String,
            "bytes" => Self::Bytes,
            "array" => Self::Array,
            "map" => Self::Map,
            "struct" => Self::Struct,
            _ => return None,
        })
    }

    /// Whether this is a primitive (non-container) type.
    pub fn is_primitive(self) -> bool {
        !matches!(self, Self::Array | Self::Map | Self::Struct)
    }
}

impl fmt::Display for SchemaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A field of a struct schema.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// Field name.
    pub name: String,
    /// Position in the struct.
    pub index: usize,
    /// Schema of the field's value.
    pub schema: Arc<Schema>,
}

/// Name of the Decimal logical type (BYTES holding a two's complement unscaled integer).
pub const DECIMAL_NAME: &str = "org.apache.kafka.connect.data.Decimal";
/// Parameter of Decimal holding its scale.
pub const DECIMAL_SCALE: &str = "scale";
/// Name of the Date logical type (INT32 days since the epoch).
pub const DATE_NAME: &str = "org.apache.kafka.connect.data.Date";
/// Name of the Time logical type (INT32 milliseconds since midnight).
pub const TIME_NAME: &str = "org.apache.kafka.connect.data.Time";
/// Name of the Timestamp logical type (INT64 milliseconds since the epoch).
pub const TIMESTAMP_NAME: &str = "org.apache.kafka.connect.data.Timestamp";

/// A schema's string parameters, kept in insertion order as Kafka Connect keeps them (its
/// JSON and Avro forms list them in that order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parameters(Vec<(String, String)>);

impl Parameters {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&String> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    /// Sets `key`, keeping its first position if it was set before.
    pub fn insert(&mut self, key: String, value: String) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.0.push((key, value)),
        }
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// In insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

/// An immutable Connect schema. Build one with [`SchemaBuilder`].
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    kind: SchemaType,
    optional: bool,
    default: Option<Value>,
    name: Option<String>,
    version: Option<i32>,
    doc: Option<String>,
    parameters: Parameters,
    fields: Vec<Field>,
    key: Option<Arc<Schema>>,
    value: Option<Arc<Schema>>,
}

impl Schema {
    /// The schema's type.
    pub fn kind(&self) -> SchemaType {
        self.kind
    }
    /// Whether null is a valid value.
    pub fn is_optional(&self) -> bool {
        self.optional
    }
    /// The default value, if any.
    pub fn default_value(&self) -> Option<&Value> {
        self.default.as_ref()
    }
    /// The schema name (for logical types, the logical type's name).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    /// The schema version.
    pub fn version(&self) -> Option<i32> {
        self.version
    }
    /// The schema documentation.
    pub fn doc(&self) -> Option<&str> {
        self.doc.as_deref()
    }
    /// String parameters (e.g. Decimal's `scale`), in the order they were added.
    pub fn parameters(&self) -> &Parameters {
        &self.parameters
    }
    /// Fields of a struct schema, in order; empty for other types.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }
    /// The field with this name, for struct schemas.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
    /// Key schema of a map.
    pub fn key_schema(&self) -> Option<&Arc<Schema>> {
        self.key.as_ref()
    }
    /// Value schema of a map or element schema of an array.
    pub fn value_schema(&self) -> Option<&Arc<Schema>> {
        self.value.as_ref()
    }

    /// A builder starting from this schema (to derive a changed copy, e.g. not optional).
    pub fn to_builder(&self) -> SchemaBuilder {
        SchemaBuilder { schema: self.clone() }
    }

    /// A required schema of a primitive type.
    pub fn primitive(kind: SchemaType) -> Arc<Schema> {
        SchemaBuilder::new(kind).build_arc()
    }
    /// An optional schema of a primitive type.
    pub fn optional_primitive(kind: SchemaType) -> Arc<Schema> {
        SchemaBuilder::new(kind).optional().build_arc()
    }

    /// Checks that `value` conforms to this schema, naming the path of the first problem.
    pub fn validate(&self, value: &Value) -> Result<(), SchemaError> {
        self.validate_at(value, "")
    }

    fn validate_at(&self, value: &Value, path: &str) -> Result<(), SchemaError> {
        let here = || if path.is_empty() { "value".to_owned() } else { path.to_owned() };
        if value.is_null() {
            if self.optional || self.default.is_some() {
                return Ok(());
            }
            return Err(SchemaError::new(format!("{} is null but its schema is not optional", here())));
        }
        if !value.matches_type(self) {
            return Err(SchemaError::new(format!(
                "{} is {} but its schema expects {}",
                here(),
                value.type_name(),
                self.describe()
            )));
        }
        match value {
            Value::Array(items) => {
                if let Some(elem) = &self.value {
                    for (i, item) in items.iter().enumerate() {
                        elem.validate_at(item, &format!("{}[{i}]", here()))?;
                    }
                }
            }
            Value::Map(entries) => {
                for (k, v) in entries {
                    if let Some(ks) = &self.key {
                        ks.validate_at(k, &format!("{} key", here()))?;
                    }
                    if let Some(vs) = &self.value {
                        vs.validate_at(v, &format!("{}[{k}]", here()))?;
                    }
                }
            }
            Value::Struct(s) if s.schema().as_ref() != self => {
                return Err(SchemaError::new(format!("{} is a struct of a different schema than expected", here())));
            }
            _ => {}
        }
        Ok(())
    }

    /// A short description: the logical name when there is one, else the type.
    pub fn describe(&self) -> String {
        match &self.name {
            Some(n) => format!("{} ({n})", self.kind),
            None => self.kind.to_string(),
        }
    }
}

/// A value that does not conform to its schema.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SchemaError {
    message: String,
}

impl SchemaError {
    /// A new error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into() }
    }
}

/// Builds a [`Schema`].
#[derive(Clone, Debug)]
pub struct SchemaBuilder {
    schema: Schema,
}

impl SchemaBuilder {
    /// A required schema of `kind` with nothing else set.
    pub fn new(kind: SchemaType) -> Self {
        Self {
            schema: Schema {
                kind,
                optional: false,
                default: None,
                name: None,
                version: None,
                doc: None,
                parameters: Parameters::default(),
                fields: Vec::new(),
                key: None,
                value: None,
            },
        }
    }
    /// A struct schema builder.
    pub fn struct_() -> Self {
        Self::new(SchemaType::Struct)
    }
    /// An array of `elem`.
    pub fn array(elem: Arc<Schema>) -> Self {
        let mut b = Self::new(SchemaType::Array);
        b.schema.value = Some(elem);
        b
    }
    /// A map from `key` to `value`.
    pub fn map(key: Arc<Schema>, value: Arc<Schema>) -> Self {
        let mut b = Self::new(SchemaType::Map);
        b.schema.key = Some(key);
        b.schema.value = Some(value);
        b
    }
    /// Decimal logical type with this scale.
    pub fn decimal(scale: i32) -> Self {
        Self::new(SchemaType::Bytes).name(DECIMAL_NAME).version(1).parameter(DECIMAL_SCALE, scale.to_string())
    }
    /// Date logical type.
    pub fn date() -> Self {
        Self::new(SchemaType::Int32).name(DATE_NAME).version(1)
    }
    /// Time logical type.
    pub fn time() -> Self {
        Self::new(SchemaType::Int32).name(TIME_NAME).version(1)
    }
    /// Timestamp logical type.
    pub fn timestamp() -> Self {
        Self::new(SchemaType::Int64).name(TIMESTAMP_NAME).version(1)
    }
    /// Allows null.
    pub fn optional(mut self) -> Self {
        self.schema.optional = true;
        self
    }
    /// Sets the optional flag.
    pub fn set_optional(mut self, optional: bool) -> Self {
        self.schema.optional = optional;
        self
    }
    /// Sets the name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.schema.name = Some(name.into());
        self
    }
    /// Sets the version.
    pub fn version(mut self, version: i32) -> Self {
        self.schema.version = Some(version);
        self
    }
    /// Sets the documentation.
    pub fn doc(mut self, doc: impl Into<String>) -> Self {
        self.schema.doc = Some(doc.into());
        self
    }
    /// Adds a parameter.
    pub fn parameter(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.schema.parameters.insert(key.into(), value.into());
        self
    }
    /// Sets the default value, checked against the schema built so far.
    pub fn default_value(mut self, value: Value) -> Result<Self, SchemaError> {
        self.schema.validate(&value)?;
        self.schema.default = Some(value);
        Ok(self)
    }
    /// Adds a field to a struct schema; fails on a duplicate name or a non-struct schema.
    pub fn field(mut self, name: impl Into<String>, schema: Arc<Schema>) -> Result<Self, SchemaError> {
        let name = name.into();
        if self.schema.kind != SchemaType::Struct {
            return Err(SchemaError::new(format!("cannot add field {name} to a schema of type {}", self.schema.kind)));
        }
        if self.schema.field(&name).is_some() {
            return Err(SchemaError::new(format!("duplicate field {name}")));
        }
        let index = self.schema.fields.len();
        self.schema.fields.push(Field { name, index, schema });
        Ok(self)
    }
    /// The finished schema.
    pub fn build(self) -> Schema {
        self.schema
    }
    /// The finished schema, shared.
    pub fn build_arc(self) -> Arc<Schema> {
        Arc::new(self.schema)
    }
}
