//! The records of the `_schemas` topic, in Confluent's formats, so Confluent's Schema Registry
//! and its tooling read a topic Tributary wrote, and the other way round.
//!
//! | key | value |
//! |---|---|
//! | `{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}` | `{"subject":"s","version":1,"id":1,"schemaType":"JSON","schema":"...","deleted":false}` (`schemaType` only when not AVRO, `references` only when some), or a tombstone for a permanent delete |
//! | `{"keytype":"CONFIG","subject":null,"magic":0}` (`null` = global) | `{"compatibilityLevel":"FULL"}`, or a tombstone |
//! | `{"keytype":"MODE","subject":null,"magic":0}` | `{"mode":"READONLY"}`, or a tombstone |
//! | `{"keytype":"DELETE_SUBJECT","subject":"s","magic":0}` | `{"subject":"s","version":3}`: versions up to 3 are soft-deleted |
//! | `{"keytype":"NOOP","magic":0}` | none: a barrier to read up to |
//!
//! Records of other key types (Confluent's CONTEXT, CLEAR_SUBJECT, ...) are skipped.

use serde_json::{Value, json};

use super::model::{CompatibilityLevel, Mode, SchemaReference, SchemaType};

/// One change of the registry's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Record {
    /// A version of a subject; `None` removes it (permanent delete).
    Schema { subject: String, version: i32, value: Option<SchemaValue> },
    /// A compatibility level, global when `subject` is `None`; `None` level removes it.
    Config { subject: Option<String>, level: Option<CompatibilityLevel> },
    /// A mode, global when `subject` is `None`; `None` mode removes it.
    Mode { subject: Option<String>, mode: Option<Mode> },
    /// Soft-deletes every version of `subject` up to `version`.
    DeleteSubject { subject: String, version: i32 },
    /// A barrier.
    Noop,
}

/// The value of a SCHEMA record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SchemaValue {
    pub(crate) id: i32,
    pub(crate) schema_type: SchemaType,
    pub(crate) schema: String,
    pub(crate) references: Vec<SchemaReference>,
    pub(crate) deleted: bool,
}

impl Record {
    /// The record's key and value bytes.
    pub(crate) fn encode(&self) -> (Vec<u8>, Option<Vec<u8>>) {
        let (key, value) = match self {
            Self::Schema { subject, version, value } => (
                json!({"keytype": "SCHEMA", "subject": subject, "version": version, "magic": 1}),
                value.as_ref().map(|v| {
                    let mut out = json!({"subject": subject, "version": version, "id": v.id});
                    if v.schema_type != SchemaType::Avro {
                        out["schemaType"] = json!(v.schema_type.name());
                    }
                    if !v.references.is_empty() {
                        out["references"] = json!(v.references);
                    }
                    out["schema"] = json!(v.schema);
                    out["deleted"] = json!(v.deleted);
                    out
                }),
            ),
            Self::Config { subject, level } => (
                json!({"keytype": "CONFIG", "subject": subject, "magic": 0}),
                level.map(|l| json!({"compatibilityLevel": l.name()})),
            ),
            Self::Mode { subject, mode } => {
                (json!({"keytype": "MODE", "subject": subject, "magic": 0}), mode.map(|m| json!({"mode": m.name()})))
            }
            Self::DeleteSubject { subject, version } => (
                json!({"keytype": "DELETE_SUBJECT", "subject": subject, "magic": 0}),
                Some(json!({"subject": subject, "version": version})),
            ),
            Self::Noop => (json!({"keytype": "NOOP", "magic": 0}), None),
        };
        (key.to_string().into_bytes(), value.map(|v| v.to_string().into_bytes()))
    }

    /// Reads a record; `Ok(None)` for key types this registry does not use.
    pub(crate) fn decode(key: &[u8], value: Option<&[u8]>) -> Result<Option<Self>, String> {
        let key: Value = serde_json::from_slice(key).map_err(|e| format!("key is not JSON: {e}"))?;
        let value: Option<Value> =
            value.map(|v| serde_json::from_slice(v).map_err(|e| format!("value is not JSON: {e}"))).transpose()?;
        let value = value.filter(|v| !v.is_null());
        let keytype = key.get("keytype").and_then(Value::as_str).ok_or("key has no 'keytype'")?;
        let subject = || key.get("subject").and_then(Value::as_str).map(str::to_owned);
        let required_subject = || subject().ok_or_else(|| format!("{keytype} key has no 'subject'"));
        Ok(Some(match keytype {
            "SCHEMA" => {
                let version = int(&key, "version").ok_or("SCHEMA key has no integer 'version'")?;
                let value = value.map(|v| schema_value(&v)).transpose()?;
                Self::Schema { subject: required_subject()?, version, value }
            }
            "CONFIG" => {
                let level = value
                    .as_ref()
                    .and_then(|v| v.get("compatibilityLevel").or_else(|| v.get("compatibility")))
                    .and_then(Value::as_str)
                    .map(|l| l.parse::<CompatibilityLevel>().map_err(|e| format!("CONFIG value: {e}")))
                    .transpose()?;
                Self::Config { subject: subject(), level }
            }
            "MODE" => {
                let mode = value
                    .as_ref()
                    .and_then(|v| v.get("mode"))
                    .and_then(Value::as_str)
                    .map(|m| m.parse::<Mode>().map_err(|e| format!("MODE value: {e}")))
                    .transpose()?;
                Self::Mode { subject: subject(), mode }
            }
            "DELETE_SUBJECT" => {
                let version = value
                    .as_ref()
                    .and_then(|v| int(v, "version"))
                    .ok_or("DELETE_SUBJECT value has no integer 'version'")?;
                Self::DeleteSubject { subject: required_subject()?, version }
            }
            "NOOP" => Self::Noop,
            _ => return Ok(None),
        }))
    }
}

fn int(v: &Value, key: &str) -> Option<i32> {
    v.get(key).and_then(Value::as_i64).and_then(|n| i32::try_from(n).ok())
}

fn schema_value(v: &Value) -> Result<SchemaValue, String> {
    let id = int(v, "id").ok_or("SCHEMA value has no integer 'id'")?;
    let schema = v.get("schema").and_then(Value::as_str).ok_or("SCHEMA value has no string 'schema'")?.to_owned();
    let schema_type = match v.get("schemaType").and_then(Value::as_str) {
        None | Some("AVRO") => SchemaType::Avro,
        Some("JSON") => SchemaType::Json,
        Some(other) => return Err(format!("SCHEMA value has unsupported schemaType '{other}'")),
    };
    let references = match v.get("references") {
        None | Some(Value::Null) => Vec::new(),
        Some(r) => serde_json::from_value(r.clone()).map_err(|e| format!("SCHEMA value 'references': {e}"))?,
    };
    let deleted = v.get("deleted").and_then(Value::as_bool).unwrap_or(false);
    Ok(SchemaValue { id, schema_type, schema, references, deleted })
}
