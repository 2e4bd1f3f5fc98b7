//! Writes Connect values as JSON bytes exactly as Kafka Connect's JsonConverter (Jackson)
//! does: compact, keys in Connect's order, `\uXXXX` escapes in upper-case hex, floats in
//! Java's `Double.toString` / `Float.toString` form, bytes as padded base64.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tributary_runtime::api::schema::{DECIMAL_NAME, DECIMAL_SCALE};
use tributary_runtime::api::{ConnectError, ConnectResult, Schema, SchemaType, Value};

/// Settings that change how values are written or read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Opts {
    /// `decimal.format=NUMERIC`.
    pub(crate) numeric_decimal: bool,
    /// `replace.null.with.default`.
    pub(crate) replace_null_with_default: bool,
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

pub(crate) fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    // Most strings need no escape: check without early exit, which the compiler vectorizes.
    let needs_escape = bytes.iter().fold(false, |acc, &b| acc | (b < 0x20) | (b == b'"') | (b == b'\\') | (b >= 0xf0));
    if !needs_escape {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            // Outside the BMP (4-byte UTF-8): Jackson writes the UTF-16 surrogate pair escaped.
            0xf0..=0xff => {
                out.extend_from_slice(&bytes[start..i]);
                let ch = s[i..].chars().next().unwrap_or('\u{fffd}');
                let mut units = [0u16; 2];
                for unit in ch.encode_utf16(&mut units) {
                    let u = *unit as usize;
                    out.extend_from_slice(&[
                        b'\\',
                        b'u',
                        HEX[(u >> 12) & 15],
                        HEX[(u >> 8) & 15],
                        HEX[(u >> 4) & 15],
                        HEX[u & 15],
                    ]);
                }
                start = i + ch.len_utf8();
                continue;
            }
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// A small text buffer on the stack, for formatting numbers without a heap allocation.
pub(crate) struct StackText {
    buf: [u8; 48],
    len: usize,
}

impl StackText {
    pub(crate) fn new() -> Self {
        Self { buf: [0; 48], len: 0 }
    }
    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(std::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Java's `Double.toString` / `Float.toString` layout for the shortest round-trip digits;
/// `sci` is Rust's `{:e}` form of the same number (shortest digits, e.g. `-1.2345e3`).
pub(crate) fn java_float(out: &mut Vec<u8>, v: f64, sci: &[u8]) {
    // Jackson quotes the non-finite values (QUOTE_NON_NUMERIC_NUMBERS, on by default).
    if v.is_nan() {
        out.extend_from_slice(b"\"NaN\"");
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"\"Infinity\"" } else { b"\"-Infinity\"" });
        return;
    }
    if v == 0.0 {
        out.extend_from_slice(if v.is_sign_negative() { b"-0.0" } else { b"0.0" });
        return;
    }
    let e_at = sci.iter().position(|b| *b == b'e').unwrap_or(sci.len());
    let (mantissa, exp) = (&sci[..e_at], sci.get(e_at + 1..).unwrap_or_default());
    let exp: i32 = std::str::from_utf8(exp).ok().and_then(|e| e.parse().ok()).unwrap_or(0);
    let (neg, mantissa) = match mantissa.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, mantissa),
    };
    let mut digits = [0u8; 40];
    let mut n = 0;
    for &c in mantissa.iter().filter(|c| **c != b'.').take(digits.len()) {
        digits[n] = c;
        n += 1;
    }
    // Trailing zeros carry nothing (the layout below pads as Java does).
    while n > 1 && digits[n - 1] == b'0' {
        n -= 1;
    }
    let digits = &digits[..n];
    if neg {
        out.push(b'-');
    }
    let abs = v.abs();
    if (1e-3..1e7).contains(&abs) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            for i in 0..int_len {
                out.push(digits.get(i).copied().unwrap_or(b'0'));
            }
            out.push(b'.');
            let frac = digits.get(int_len..).unwrap_or_default();
            out.extend_from_slice(if frac.is_empty() { b"0" } else { frac });
        } else {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', (-exp - 1) as usize));
            out.extend_from_slice(digits);
        }
    } else {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        out.extend_from_slice(first);
        out.push(b'.');
        out.extend_from_slice(if rest.is_empty() { b"0" } else { rest });
        out.push(b'E');
        int(out, exp);
    }
}

/// Writes `v` as Java (17+ for two or more digits, 19+ always) prints it: the shortest digits
/// that round-trip, but at least two significant digits, the pair closest to the exact value
/// when one would do (`4.9E-324`, not `5.0E-324`).
pub(crate) fn float<T: std::fmt::LowerExp + Copy>(out: &mut Vec<u8>, v: T, wide: f64) {
    use std::fmt::Write as _;
    let mut text = StackText::new();
    let _ = write!(text, "{v:e}");
    if !text.bytes().contains(&b'.') {
        text = StackText::new();
        let _ = write!(text, "{v:.1e}");
    }
    java_float(out, wide, text.bytes());
}

fn int(out: &mut Vec<u8>, v: impl itoa_like::Int) {
    v.write(out);
}

mod itoa_like {
    pub(crate) trait Int {
        fn write(self, out: &mut Vec<u8>);
    }
    macro_rules! impl_int {
        ($($t:ty),*) => {$(impl Int for $t {
            fn write(self, out: &mut Vec<u8>) {
                // Digits from the right into a stack buffer; i64::MIN has 20 characters.
                let mut buf = [0u8; 20];
                let mut i = buf.len();
                let neg = self < 0;
                let mut n = (self as i64).unsigned_abs();
                loop {
                    i -= 1;
                    buf[i] = b'0' + (n % 10) as u8;
                    n /= 10;
                    if n == 0 {
                        break;
                    }
                }
                if neg {
                    i -= 1;
                    buf[i] = b'-';
                }
                out.extend_from_slice(&buf[i..]);
            }
        })*};
    }
    impl_int!(i8, i16, i32, i64);
}

/// The schema in Kafka Connect's JSON schema form.
pub(crate) fn schema(out: &mut Vec<u8>, s: &Schema, field_name: Option<&str>, opts: Opts) -> ConnectResult<()> {
    out.extend_from_slice(b"{\"type\":");
    string(out, s.kind().name());
    match s.kind() {
        SchemaType::Array => {
            out.extend_from_slice(b",\"items\":");
            schema(out, elem(s, s.value_schema())?, None, opts)?;
        }
        SchemaType::Map => {
            out.extend_from_slice(b",\"keys\":");
            schema(out, elem(s, s.key_schema())?, None, opts)?;
            out.extend_from_slice(b",\"values\":");
            schema(out, elem(s, s.value_schema())?, None, opts)?;
        }
        SchemaType::Struct => {
            out.extend_from_slice(b",\"fields\":[");
            for (i, f) in s.fields().iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                schema(out, &f.schema, Some(&f.name), opts)?;
            }
            out.push(b']');
        }
        _ => {}
    }
    out.extend_from_slice(if s.is_optional() { b",\"optional\":true" } else { b",\"optional\":false" });
    if let Some(n) = s.name() {
        out.extend_from_slice(b",\"name\":");
        string(out, n);
    }
    if let Some(v) = s.version() {
        out.extend_from_slice(b",\"version\":");
        int(out, v);
    }
    if let Some(d) = s.doc() {
        out.extend_from_slice(b",\"doc\":");
        string(out, d);
    }
    if !s.parameters().is_empty() {
        out.extend_from_slice(b",\"parameters\":{");
        for (i, (k, v)) in s.parameters().iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            string(out, k);
            out.push(b':');
            string(out, v);
        }
        out.push(b'}');
    }
    if let Some(d) = s.default_value() {
        out.extend_from_slice(b",\"default\":");
        value(out, Some(s), d, opts)?;
    }
    if let Some(f) = field_name {
        out.extend_from_slice(b",\"field\":");
        string(out, f);
    }
    out.push(b'}');
    Ok(())
}

fn elem<'a>(s: &Schema, e: Option<&'a std::sync::Arc<Schema>>) -> ConnectResult<&'a Schema> {
    e.map(|a| a.as_ref()).ok_or_else(|| ConnectError::data(format!("{} schema without element schema", s.kind())))
}

/// The value, checked against `schema` when there is one.
pub(crate) fn value(out: &mut Vec<u8>, schema: Option<&Schema>, v: &Value, opts: Opts) -> ConnectResult<()> {
    if v.is_null() {
        if let Some(s) = schema {
            if let Some(d) = s.default_value().filter(|_| opts.replace_null_with_default) {
                return value(out, Some(s), d, opts);
            }
            if !s.is_optional() {
                return Err(ConnectError::data(
                    "conversion error: null value for field that is required and has no default value",
                ));
            }
        }
        out.extend_from_slice(b"null");
        return Ok(());
    }
    if let Some(s) = schema
        && v.schema_type() != Some(s.kind())
    {
        return Err(ConnectError::data(format!("invalid type {} for schema {}", v.type_name(), s.describe())));
    }
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Int8(n) => int(out, *n),
        Value::Int16(n) => int(out, *n),
        Value::Int32(n) => int(out, *n),
        Value::Int64(n) => int(out, *n),
        Value::Float32(f) => float(out, *f, f64::from(*f)),
        Value::Float64(f) => float(out, *f, *f),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::String(s) => string(out, s),
        Value::Bytes(b) if opts.numeric_decimal && schema.is_some_and(|s| s.name() == Some(DECIMAL_NAME)) => {
            let scale =
                schema.and_then(|s| s.parameters().get(DECIMAL_SCALE)).and_then(|v| v.parse().ok()).unwrap_or(0);
            out.extend_from_slice(super::decimal::to_text(b, scale).as_bytes());
        }
        Value::Bytes(b) => {
            out.push(b'"');
            out.extend_from_slice(STANDARD.encode(b).as_bytes());
            out.push(b'"');
        }
        Value::Array(items) => {
            let es = schema.and_then(|s| s.value_schema()).map(|a| a.as_ref());
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                value(out, es, item, opts)?;
            }
            out.push(b']');
        }
        Value::Map(entries) => map(out, schema, entries, opts)?,
        Value::Struct(st) => {
            let s = schema.unwrap_or(st.schema());
            // Same allocation first (the common case), a deep comparison only otherwise.
            if !std::ptr::eq(st.schema().as_ref(), s) && st.schema().as_ref() != s {
                return Err(ConnectError::data("mismatching schema for struct value"));
            }
            out.push(b'{');
            for (i, f) in s.fields().iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                string(out, &f.name);
                out.push(b':');
                value(out, Some(&f.schema), st.get_index(f.index).unwrap_or(&Value::Null), opts)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn map(out: &mut Vec<u8>, schema: Option<&Schema>, entries: &[(Value, Value)], opts: Opts) -> ConnectResult<()> {
    let ks = schema.and_then(|s| s.key_schema()).map(|a| a.as_ref());
    let vs = schema.and_then(|s| s.value_schema()).map(|a| a.as_ref());
    let object = match ks {
        Some(k) => k.kind() == SchemaType::String,
        None => entries.iter().all(|(k, _)| matches!(k, Value::String(_))),
    };
    if object {
        out.push(b'{');
        for (i, (k, v)) in entries.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match k {
                Value::String(k) => string(out, k),
                other => {
                    return Err(ConnectError::data(format!(
                        "map key of type {} where string expected",
                        other.type_name()
                    )));
                }
            }
            out.push(b':');
            value(out, vs, v, opts)?;
        }
        out.push(b'}');
    } else {
        out.push(b'[');
        for (i, (k, v)) in entries.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'[');
            value(out, ks, k, opts)?;
            out.push(b',');
            value(out, vs, v, opts)?;
            out.push(b']');
        }
        out.push(b']');
    }
    Ok(())
}

/// A float as Jackson writes it (`Float.toString` / `Double.toString`), as a JSON value.
pub(crate) fn java_float_json<T: std::fmt::LowerExp + Copy>(v: T, wide: f64) -> serde_json::Value {
    let mut out = Vec::with_capacity(24);
    float(&mut out, v, wide);
    serde_json::from_slice(&out).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f64s(v: f64) -> String {
        let mut out = Vec::new();
        float(&mut out, v, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn integers_print_like_java() {
        let mut out = Vec::new();
        for v in [0i64, 7, -7, 1234567890123, i64::MIN, i64::MAX] {
            out.clear();
            int(&mut out, v);
            assert_eq!(String::from_utf8(out.clone()).unwrap(), v.to_string());
        }
        out.clear();
        int(&mut out, i8::MIN);
        assert_eq!(out, b"-128");
    }

    #[test]
    fn float32_uses_its_own_shortest_digits() {
        let mut out = Vec::new();
        let f = 0.1f32;
        float(&mut out, f, f64::from(f));
        assert_eq!(out, b"0.1");
    }

    #[test]
    fn floats_follow_java_double_to_string() {
        assert_eq!(f64s(1.0), "1.0");
        assert_eq!(f64s(12.5), "12.5");
        assert_eq!(f64s(0.001), "0.001");
        assert_eq!(f64s(0.0001), "1.0E-4");
        assert_eq!(f64s(1e7), "1.0E7");
        assert_eq!(f64s(1234567.0), "1234567.0");
        assert_eq!(f64s(-2.5e-10), "-2.5E-10");
        assert_eq!(f64s(f64::NAN), "\"NaN\"");
        assert_eq!(f64s(f64::NEG_INFINITY), "\"-Infinity\"");
        assert_eq!(f64s(4.9e-324), "4.9E-324");
        assert_eq!(f64s(-0.0), "-0.0");
    }

    #[test]
    fn strings_escape_like_jackson() {
        let mut out = Vec::new();
        string(&mut out, "a\"b\\c\n\u{1f}é");
        assert_eq!(String::from_utf8(out).unwrap(), "\"a\\\"b\\\\c\\n\\u001Fé\"");
    }
}
