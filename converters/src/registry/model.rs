//! Confluent's data model: schema types, compatibility levels, modes, references and the
//! shapes the registry answers with.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::RegistryError;

/// The kind of a schema. Confluent's third kind, PROTOBUF, is refused with a 42201.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum SchemaType {
    /// Apache Avro (the default when a request names no type).
    #[default]
    Avro,
    /// JSON Schema.
    Json,
}

impl SchemaType {
    /// The name in requests, responses and the Kafka store.
    pub fn name(self) -> &'static str {
        match self {
            Self::Avro => "AVRO",
            Self::Json => "JSON",
        }
    }

    /// Parses a request's `schemaType` (absent or null means AVRO).
    pub fn parse(name: Option<&str>) -> Result<Self, RegistryError> {
        match name.map(str::to_ascii_uppercase).as_deref() {
            None | Some("AVRO") | Some("") => Ok(Self::Avro),
            Some("JSON") => Ok(Self::Json),
            Some("PROTOBUF") => Err(RegistryError::InvalidSchema(
                "Invalid schema type PROTOBUF: this registry stores AVRO and JSON schemas only (PROTOBUF is not supported)"
                    .into(),
            )),
            Some(_) => Err(RegistryError::InvalidSchema(format!(
                "Invalid schema type '{}': supported types are AVRO and JSON",
                name.unwrap_or_default()
            ))),
        }
    }
}

/// A compatibility level, checked when a subject gets a new version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CompatibilityLevel {
    /// No check.
    None,
    /// The new schema reads data written with the latest one (the default).
    #[default]
    Backward,
    /// The new schema reads data written with every live version.
    BackwardTransitive,
    /// The latest schema reads data written with the new one.
    Forward,
    /// Every live version reads data written with the new one.
    ForwardTransitive,
    /// Backward and forward against the latest version.
    Full,
    /// Backward and forward against every live version.
    FullTransitive,
}

impl CompatibilityLevel {
    /// Confluent's name, e.g. `BACKWARD_TRANSITIVE`.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::Backward => "BACKWARD",
            Self::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Self::Forward => "FORWARD",
            Self::ForwardTransitive => "FORWARD_TRANSITIVE",
            Self::Full => "FULL",
            Self::FullTransitive => "FULL_TRANSITIVE",
        }
    }

    /// Whether the new schema must read data of the previous ones.
    pub fn backward(self) -> bool {
        matches!(self, Self::Backward | Self::BackwardTransitive | Self::Full | Self::FullTransitive)
    }

    /// Whether the previous schemas must read data of the new one.
    pub fn forward(self) -> bool {
        matches!(self, Self::Forward | Self::ForwardTransitive | Self::Full | Self::FullTransitive)
    }

    /// Whether every live version is checked, not only the latest.
    pub fn transitive(self) -> bool {
        matches!(self, Self::BackwardTransitive | Self::ForwardTransitive | Self::FullTransitive)
    }
}

impl FromStr for CompatibilityLevel {
    type Err = RegistryError;

    /// Case-insensitive, as Confluent's `CompatibilityLevel.forName`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_uppercase().as_str() {
            "NONE" => Self::None,
            "BACKWARD" => Self::Backward,
            "BACKWARD_TRANSITIVE" => Self::BackwardTransitive,
            "FORWARD" => Self::Forward,
            "FORWARD_TRANSITIVE" => Self::ForwardTransitive,
            "FULL" => Self::Full,
            "FULL_TRANSITIVE" => Self::FullTransitive,
            _ => return Err(RegistryError::InvalidCompatibility(s.to_owned())),
        })
    }
}

impl fmt::Display for CompatibilityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The registry's (or a subject's) mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// Normal operation (the default).
    #[default]
    ReadWrite,
    /// Every write is refused with 42205.
    ReadOnly,
    /// Registration keeps the ids and versions given in the request, without compatibility checks.
    Import,
}

impl Mode {
    /// Confluent's name, e.g. `READWRITE`.
    pub fn name(self) -> &'static str {
        match self {
            Self::ReadWrite => "READWRITE",
            Self::ReadOnly => "READONLY",
            Self::Import => "IMPORT",
        }
    }
}

impl FromStr for Mode {
    type Err = RegistryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "READWRITE" => Ok(Self::ReadWrite),
            "READONLY" | "READONLY_OVERRIDE" => Ok(Self::ReadOnly),
            "IMPORT" => Ok(Self::Import),
            _ => Err(RegistryError::InvalidMode(s.to_owned())),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A reference from a schema to a version of another subject (Avro named types defined
/// elsewhere, JSON `$ref`s to other documents).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SchemaReference {
    /// The name the referencing schema uses (an Avro full name, a JSON `$ref` URL).
    pub name: String,
    /// The referenced subject.
    pub subject: String,
    /// The referenced version.
    pub version: i32,
}

/// A version path parameter: a number, or the latest live version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSpec {
    /// `latest` or `-1`.
    Latest,
    /// A version number, 1 to 2^31-1.
    Number(i32),
}

impl FromStr for VersionSpec {
    type Err = RegistryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("latest") {
            return Ok(Self::Latest);
        }
        match t.parse::<i32>() {
            Ok(-1) => Ok(Self::Latest),
            Ok(n) if n >= 1 => Ok(Self::Number(n)),
            _ => Err(RegistryError::InvalidVersion(s.to_owned())),
        }
    }
}

/// A request to register, look up or check a schema (`RegisterSchemaRequest`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaRequest {
    /// The schema text.
    pub schema: String,
    /// Its type.
    pub schema_type: SchemaType,
    /// Its references.
    pub references: Vec<SchemaReference>,
    /// In IMPORT mode: the id to register the schema with.
    pub id: Option<i32>,
    /// In IMPORT mode: the version to register the schema as.
    pub version: Option<i32>,
}

impl SchemaRequest {
    /// An Avro schema without references.
    pub fn avro(schema: impl Into<String>) -> Self {
        Self { schema: schema.into(), ..Self::default() }
    }

    /// A JSON Schema without references.
    pub fn json(schema: impl Into<String>) -> Self {
        Self { schema: schema.into(), schema_type: SchemaType::Json, ..Self::default() }
    }
}

/// A schema under a subject, as `GET /subjects/{s}/versions/{v}` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectSchema {
    /// The subject.
    pub subject: String,
    /// The version under the subject.
    pub version: i32,
    /// The global id.
    pub id: i32,
    /// The type.
    pub schema_type: SchemaType,
    /// The references.
    pub references: Vec<SchemaReference>,
    /// The canonical schema text.
    pub schema: String,
    /// Whether this version is soft-deleted.
    pub deleted: bool,
}

/// A schema by id, as `GET /schemas/ids/{id}` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaById {
    /// The type.
    pub schema_type: SchemaType,
    /// The references.
    pub references: Vec<SchemaReference>,
    /// The canonical schema text.
    pub schema: String,
}

/// The result of a compatibility check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompatibilityReport {
    /// Whether the schema is compatible.
    pub is_compatible: bool,
    /// What is incompatible (empty when compatible).
    pub messages: Vec<String>,
}
