//! Kafka Connect's StringConverter: values as UTF-8 text, written as Java's `toString()` of the
//! value would be (the schema is ignored), read back as an optional string. As in Kafka, bytes
//! that are not valid UTF-8 read with U+FFFD in place of each bad sequence instead of failing.
//! Also a header converter, with the same bytes.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::Arc;

use tributary_runtime::api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectResult, Converter, HeaderConverter, Importance, Schema,
    SchemaAndValue, SchemaType, Value, Width,
};

use crate::config::{converter_config_def, or_value};

/// Class name in Kafka Connect.
pub const CLASS: &str = "org.apache.kafka.connect.storage.StringConverter";

/// Name of the encoding key.
pub const ENCODING_CONFIG: &str = "converter.encoding";

/// Java's names of UTF-8 (compared ignoring case), the one encoding Tributary supports.
const UTF8_NAMES: [&str; 3] = ["UTF-8", "UTF8", "unicode-1-1-utf-8"];

/// The converter's keys: Kafka's `StringConverterConfig`.
pub fn config_def() -> ConfigDef {
    converter_config_def().define(
        ConfigKey::new(
            ENCODING_CONFIG,
            ConfigType::String,
            Importance::High,
            "The name of the Java character set to use for encoding strings as byte arrays.",
        )
        .default("UTF-8")
        .width(Width::Medium)
        .display_name("Encoding"),
    )
}

/// String converter.
#[derive(Debug, Default)]
pub struct StringConverter;

impl StringConverter {
    /// A converter configured from `props` (`converter.type` defaults to `value`).
    pub fn new(props: &BTreeMap<String, String>) -> ConnectResult<Self> {
        let config = config_def().parse(&or_value(props))?;
        let encoding = config.string(ENCODING_CONFIG);
        if !UTF8_NAMES.iter().any(|n| n.eq_ignore_ascii_case(&encoding)) {
            return Err(ConnectError::config(
                ENCODING_CONFIG,
                format!("Invalid value {encoding} for configuration {ENCODING_CONFIG}: Tributary supports UTF-8 only"),
            ));
        }
        Ok(Self)
    }
}

fn read(bytes: Option<&[u8]>) -> SchemaAndValue {
    let schema = Some(Schema::optional_primitive(SchemaType::String));
    let value = match bytes {
        None => Value::Null,
        Some(b) => Value::String(java_lossy(b)),
    };
    SchemaAndValue { schema, value }
}

/// The text Java's `new String(bytes, UTF_8)` gives: each malformed sequence becomes one U+FFFD.
/// Java cuts sequences as Unicode's "maximal subpart" rule does (what Rust's lossy decoding
/// follows), with one exception: it takes `ED A0..BF` as the start of a three-byte sequence
/// (an encoded surrogate), so `ED A0 80` and a truncated `ED A0` are one U+FFFD each, not two
/// or three.
fn java_lossy(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (valid, bad) = rest.split_at(e.valid_up_to());
                if let Ok(s) = std::str::from_utf8(valid) {
                    out.push_str(s);
                }
                out.push(char::REPLACEMENT_CHARACTER);
                let skip = match bad {
                    [0xed, 0xa0..=0xbf, b3, ..] if b3 & 0xc0 == 0x80 => 3,
                    [0xed, 0xa0..=0xbf, ..] => 2,
                    _ => e.error_len().unwrap_or(bad.len()),
                };
                rest = bad.get(skip..).unwrap_or_default();
            }
        }
    }
}

/// Writes Java's `toString()` of the object Kafka Connect holds for `value`.
fn java_string(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::String(s) => out.extend_from_slice(s.as_bytes()),
        Value::Float32(v) => java_float(out, *v, f64::from(*v)),
        Value::Float64(v) => java_float(out, *v, *v),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                java_string(out, item);
            }
            out.push(b']');
        }
        Value::Map(entries) => {
            out.push(b'{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                java_string(out, k);
                out.push(b'=');
                java_string(out, v);
            }
            out.push(b'}');
        }
        Value::Struct(s) => {
            out.extend_from_slice(b"Struct{");
            let mut first = true;
            for field in s.schema().fields() {
                let Some(v) = s.get_index(field.index).filter(|v| !v.is_null()) else { continue };
                if !first {
                    out.push(b',');
                }
                first = false;
                out.extend_from_slice(field.name.as_bytes());
                out.push(b'=');
                java_string(out, v);
            }
            out.push(b'}');
        }
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// `Float.toString` / `Double.toString`.
fn java_float<T: std::fmt::LowerExp + Copy>(out: &mut Vec<u8>, v: T, wide: f64) {
    if wide.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if wide.is_infinite() {
        out.extend_from_slice(if wide > 0.0 { b"Infinity" } else { b"-Infinity" });
    } else {
        crate::json::write::float(out, v, wide);
    }
}

fn write(value: &Value, out: &mut Vec<u8>) -> bool {
    out.clear();
    if value.is_null() {
        return false;
    }
    java_string(out, value);
    true
}

impl Converter for StringConverter {
    fn from_connect(
        &self,
        _topic: &str,
        _schema: Option<&Arc<Schema>>,
        value: &Value,
    ) -> ConnectResult<Option<Vec<u8>>> {
        let mut out = Vec::new();
        Ok(write(value, &mut out).then_some(out))
    }
    fn from_connect_into(
        &self,
        _topic: &str,
        _schema: Option<&Arc<Schema>>,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> ConnectResult<bool> {
        Ok(write(value, out))
    }
    fn to_connect(&self, _topic: &str, bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue> {
        Ok(read(bytes))
    }
}

impl HeaderConverter for StringConverter {
    fn from_connect_header(
        &self,
        _topic: &str,
        _key: &str,
        _schema: Option<&Schema>,
        value: &Value,
    ) -> ConnectResult<Option<Vec<u8>>> {
        let mut out = Vec::new();
        Ok(write(value, &mut out).then_some(out))
    }
    fn to_connect_header(&self, _topic: &str, _key: &str, bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue> {
        Ok(read(bytes))
    }
}

/// Kafka Connect's SimpleHeaderConverter, reduced: values are written as their string form;
/// read back as strings (or bytes when not UTF-8).
#[derive(Debug, Default)]
pub struct SimpleHeaderConverter;

/// Class name of the header converter in Kafka Connect.
pub const HEADER_CLASS: &str = "org.apache.kafka.connect.storage.SimpleHeaderConverter";

impl HeaderConverter for SimpleHeaderConverter {
    fn from_connect_header(
        &self,
        _topic: &str,
        _key: &str,
        _schema: Option<&Schema>,
        value: &Value,
    ) -> ConnectResult<Option<Vec<u8>>> {
        Ok(match value {
            Value::Null => None,
            Value::Bytes(b) => Some(b.clone()),
            Value::String(s) => Some(s.as_bytes().to_vec()),
            other => Some(other.to_string().into_bytes()),
        })
    }
    fn to_connect_header(&self, _topic: &str, _key: &str, bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue> {
        match bytes.map(std::str::from_utf8) {
            Some(Err(_)) => Ok(SchemaAndValue {
                schema: Some(Schema::optional_primitive(SchemaType::Bytes)),
                value: Value::Bytes(bytes.unwrap_or_default().to_vec()),
            }),
            _ => Ok(read(bytes)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_text_and_null() {
        let c = StringConverter;
        assert_eq!(c.from_connect("t", None, &Value::from("héllo")).unwrap(), Some("héllo".as_bytes().to_vec()));
        assert_eq!(c.from_connect("t", None, &Value::Null).unwrap(), None);
        assert_eq!(c.to_connect("t", Some(b"x")).unwrap().value, Value::from("x"));
        let back = c.to_connect("t", Some(&[b'a', 0xff, 0xfe, b'b'])).unwrap();
        assert_eq!(back.value, Value::from("a\u{fffd}\u{fffd}b"));
        assert_eq!(back.schema.map(|s| (s.kind(), s.is_optional())), Some((SchemaType::String, true)));
        assert_eq!(c.to_connect("t", None).unwrap().value, Value::Null);
    }

    #[test]
    fn replaces_malformed_utf8_as_java_does() {
        for (bytes, text) in [
            (&b"ok"[..], "ok"),
            (&[0xed, 0xa0, 0x80], "\u{fffd}"),
            (&[0xed, 0xa0], "\u{fffd}"),
            (&[0xed, 0xa0, b'A'], "\u{fffd}A"),
            (&[0xed, 0x9f, 0xbf], "\u{d7ff}"),
            (&[0xc0, 0x80], "\u{fffd}\u{fffd}"),
            (&[0xf0, 0x9f, 0x98], "\u{fffd}"),
            (&[0xf0, 0x9f, b'A'], "\u{fffd}A"),
            (&[0xf4, 0x90, 0x80, 0x80], "\u{fffd}\u{fffd}\u{fffd}\u{fffd}"),
            (&[0xed], "\u{fffd}"),
        ] {
            assert_eq!(java_lossy(bytes), text, "{bytes:02x?}");
        }
    }

    fn text(v: Value) -> String {
        String::from_utf8(StringConverter.from_connect("t", None, &v).unwrap().unwrap()).unwrap()
    }

    #[test]
    fn writes_what_java_to_string_gives() {
        assert_eq!(text(Value::Int64(-12)), "-12");
        assert_eq!(text(Value::Boolean(true)), "true");
        assert_eq!(text(Value::Float64(1.0)), "1.0");
        assert_eq!(text(Value::Float64(1e10)), "1.0E10");
        assert_eq!(text(Value::Float32(0.1)), "0.1");
        assert_eq!(text(Value::Float64(f64::NAN)), "NaN");
        assert_eq!(text(Value::Float32(f32::NEG_INFINITY)), "-Infinity");
        assert_eq!(text(Value::Array(vec![Value::Int32(1), Value::from("a")])), "[1, a]");
        assert_eq!(text(Value::Map(vec![(Value::from("k"), Value::Float64(2.5))])), "{k=2.5}");
    }

    #[test]
    fn header_variant_matches_the_converter() {
        let c = StringConverter;
        let bytes = c.from_connect_header("t", "h", None, &Value::Int32(5)).unwrap();
        assert_eq!(bytes.as_deref(), Some(&b"5"[..]));
        assert_eq!(c.from_connect_header("t", "h", None, &Value::Null).unwrap(), None);
        let back = c.to_connect_header("t", "h", Some(b"5")).unwrap();
        assert_eq!(back, c.to_connect("t", Some(b"5")).unwrap());
        assert_eq!(back.value, Value::from("5"));
    }

    #[test]
    fn rejects_other_encodings_naming_the_key() {
        let err = StringConverter::new(&BTreeMap::from([("converter.encoding".into(), "latin1".into())])).unwrap_err();
        assert!(err.to_string().contains("converter.encoding"), "{err}");
        for utf8 in ["UTF-8", "utf8", "Unicode-1-1-UTF-8"] {
            assert!(StringConverter::new(&BTreeMap::from([(ENCODING_CONFIG.into(), utf8.into())])).is_ok());
        }
    }

    #[test]
    fn declares_kafkas_keys() {
        let keys: Vec<String> = config_def().keys().iter().map(|k| k.name.clone()).collect();
        assert_eq!(keys, ["converter.type", "converter.encoding"]);
        let typed = BTreeMap::from([("converter.type".to_owned(), "header".to_owned())]);
        assert!(StringConverter::new(&typed).is_ok());
        let typed = BTreeMap::from([("converter.type".to_owned(), "other".to_owned())]);
        assert!(StringConverter::new(&typed).is_err());
    }
}
