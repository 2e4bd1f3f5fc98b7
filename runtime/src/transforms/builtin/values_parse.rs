//! InsertHeader's literal: the type Kafka's `Values.parseString` infers for a string.
//!
//! Covered: `null`, `true`/`false` (exact case), numbers (the narrowest of int8..int64, else a
//! float, else a Decimal, as Kafka picks), ISO dates, times and timestamps in Connect's
//! formats (`2023-11-14`, `22:13:20.123Z`, `2023-11-14T22:13:20.123Z`), arrays and maps of
//! those, quoted strings inside them. Anything else stays the string itself. Like Kafka, a
//! leading scalar followed by a delimiter (`22:13`) yields just that scalar.

use std::sync::Arc;

use crate::api::{Schema, SchemaBuilder, SchemaType, Value};

use super::civil::days_from_civil;

type Parsed = (Option<Arc<Schema>>, Value);

/// The schema and value Kafka infers for `text`.
pub(crate) fn parse_string(text: &str) -> Parsed {
    if text.is_empty() {
        return string(text);
    }
    if let Some(t) = temporal(text) {
        return t;
    }
    let trimmed = text.trim();
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        let mut p = Parser { chars: trimmed.chars().collect(), pos: 0 };
        return match p.value() {
            Some(v) if p.pos == p.chars.len() => v,
            _ => string(text),
        };
    }
    let token = trimmed.split(|c| "[]{}:,\"".contains(c)).next().unwrap_or("").trim();
    scalar(token).unwrap_or_else(|| string(text))
}

fn string(s: &str) -> Parsed {
    (Some(Schema::primitive(SchemaType::String)), Value::String(s.trim().to_owned()))
}

fn scalar(token: &str) -> Option<Parsed> {
    match token {
        "null" => return Some((None, Value::Null)),
        "true" => return Some((Some(Schema::primitive(SchemaType::Boolean)), Value::Boolean(true))),
        "false" => return Some((Some(Schema::primitive(SchemaType::Boolean)), Value::Boolean(false))),
        _ => {}
    }
    number(token)
}

fn temporal(text: &str) -> Option<Parsed> {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        if s.bytes().all(|c| c.is_ascii_digit()) { s.parse().ok() } else { None }
    };
    let date = |off: usize| -> Option<i64> {
        if b.get(off + 4) != Some(&b'-') || b.get(off + 7) != Some(&b'-') {
            return None;
        }
        let (y, m, d) = (digits(off..off + 4)?, digits(off + 5..off + 7)?, digits(off + 8..off + 10)?);
        ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| days_from_civil(y, m, d))
    };
    let time = |off: usize| -> Option<i64> {
        if b.get(off + 2) != Some(&b':') || b.get(off + 5) != Some(&b':') || b.get(off + 8) != Some(&b'.') {
            return None;
        }
        let (h, m, s, ms) =
            (digits(off..off + 2)?, digits(off + 3..off + 5)?, digits(off + 6..off + 8)?, digits(off + 9..off + 12)?);
        (h < 24 && m < 60 && s < 60 && b.get(off + 12) == Some(&b'Z')).then_some(((h * 60 + m) * 60 + s) * 1000 + ms)
    };
    match b.len() {
        10 => Some((Some(SchemaBuilder::date().build_arc()), Value::Int32(i32::try_from(date(0)?).ok()?))),
        13 => Some((Some(SchemaBuilder::time().build_arc()), Value::Int32(i32::try_from(time(0)?).ok()?))),
        24 if b[10] == b'T' => {
            let ms = date(0)? * 86_400_000 + time(11)?;
            Some((Some(SchemaBuilder::timestamp().build_arc()), Value::Int64(ms)))
        }
        _ => None,
    }
}

/// A Java `BigDecimal` literal as its digits (no sign), sign and scale.
pub(crate) fn big_decimal(token: &str) -> Option<(bool, String, i64)> {
    let (negative, rest) = match token.as_bytes().first()? {
        b'-' => (true, &token[1..]),
        b'+' => (false, &token[1..]),
        _ => (false, token),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
        None => (rest, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() || !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let digits = format!("{int}{frac}").trim_start_matches('0').to_owned();
    let scale = i64::try_from(frac.len()).ok()? - exponent;
    Some((negative, if digits.is_empty() { "0".to_owned() } else { digits }, scale))
}

fn number(token: &str) -> Option<Parsed> {
    let (negative, digits, scale) = big_decimal(token)?;
    let prim = |t: SchemaType, v: Value| Some((Some(Schema::primitive(t)), v));
    // Integral when the digits dropped by the scale are all zero.
    let integral_digits = if scale <= 0 {
        // More than 19 zeros cannot fit a long: no need to build the digits.
        let zeros = usize::try_from(-scale).ok().filter(|z| *z <= 19);
        zeros.filter(|_| digits != "0").map(|z| format!("{digits}{}", "0".repeat(z)))
    } else {
        let cut = digits.len().saturating_sub(usize::try_from(scale).ok()?);
        digits[cut..].bytes().all(|c| c == b'0').then(|| digits[..cut].to_owned())
    };
    if let Some(int) = integral_digits.map(|d| if d.is_empty() { "0".to_owned() } else { d }) {
        if let Ok(v) = format!("{}{int}", if negative { "-" } else { "" }).parse::<i64>() {
            return if let Ok(v) = i8::try_from(v) {
                prim(SchemaType::Int8, Value::Int8(v))
            } else if let Ok(v) = i16::try_from(v) {
                prim(SchemaType::Int16, Value::Int16(v))
            } else if let Ok(v) = i32::try_from(v) {
                prim(SchemaType::Int32, Value::Int32(v))
            } else {
                prim(SchemaType::Int64, Value::Int64(v))
            };
        }
    } else if digits == "0" {
        return prim(SchemaType::Int8, Value::Int8(0));
    }
    let as_float: f64 = token.parse().ok()?;
    if scale != 0 && (as_float as f32).is_finite() {
        return prim(SchemaType::Float32, Value::Float32(as_float as f32));
    }
    if scale != 0 && as_float.is_finite() {
        return prim(SchemaType::Float64, Value::Float64(as_float));
    }
    let scale = i32::try_from(scale).ok()?;
    let schema = SchemaBuilder::decimal(scale).build_arc();
    Some((Some(schema), Value::Bytes(twos_complement(negative, &digits))))
}

/// The big-endian two's complement bytes of a decimal digit string.
pub(crate) fn twos_complement(negative: bool, digits: &str) -> Vec<u8> {
    let mut num: Vec<u32> = digits.bytes().map(|c| u32::from(c - b'0')).collect();
    let mut bytes = Vec::new();
    while num.iter().any(|&d| d != 0) {
        let mut rem = 0u32;
        for d in num.iter_mut() {
            let cur = rem * 10 + *d;
            *d = cur / 256;
            rem = cur % 256;
        }
        bytes.push(rem as u8);
    }
    bytes.push(0);
    if negative {
        let mut carry = true;
        for b in bytes.iter_mut() {
            *b = !*b;
            if carry {
                let (v, c) = b.overflowing_add(1);
                *b = v;
                carry = c;
            }
        }
    }
    bytes.reverse();
    // Minimal form, as BigInteger.toByteArray.
    while bytes.len() > 1 && ((bytes[0] == 0 && bytes[1] & 0x80 == 0) || (bytes[0] == 0xff && bytes[1] & 0x80 != 0)) {
        bytes.remove(0);
    }
    bytes
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn skip_ws(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }
    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        let hit = self.chars.get(self.pos) == Some(&c);
        if hit {
            self.pos += 1;
        }
        hit
    }
    fn value(&mut self) -> Option<Parsed> {
        self.skip_ws();
        match self.chars.get(self.pos)? {
            '[' => self.array(),
            '{' => self.map(),
            '"' => {
                let end = self.chars[self.pos + 1..].iter().position(|&c| c == '"')? + self.pos + 1;
                let s: String = self.chars[self.pos + 1..end].iter().collect();
                self.pos = end + 1;
                Some((Some(Schema::primitive(SchemaType::String)), Value::String(s)))
            }
            _ => {
                let start = self.pos;
                while self.chars.get(self.pos).is_some_and(|c| !"[]{}:,\"".contains(*c)) {
                    self.pos += 1;
                }
                let token: String = self.chars[start..self.pos].iter().collect();
                scalar(token.trim())
            }
        }
    }
    fn array(&mut self) -> Option<Parsed> {
        self.pos += 1;
        let mut items = Vec::new();
        if !self.eat(']') {
            loop {
                items.push(self.value()?);
                if self.eat(']') {
                    break;
                }
                if !self.eat(',') {
                    return None;
                }
            }
        }
        let elem = common_schema(items.iter().map(|(s, _)| s));
        let schema = match elem {
            Some(e) => SchemaBuilder::array(e).build_arc(),
            None => SchemaBuilder::new(SchemaType::Array).build_arc(),
        };
        Some((Some(schema), Value::Array(items.into_iter().map(|(_, v)| v).collect())))
    }
    fn map(&mut self) -> Option<Parsed> {
        self.pos += 1;
        let mut entries = Vec::new();
        if !self.eat('}') {
            loop {
                let k = self.value()?;
                if !self.eat(':') {
                    return None;
                }
                let v = self.value()?;
                entries.push((k, v));
                if self.eat('}') {
                    break;
                }
                if !self.eat(',') {
                    return None;
                }
            }
        }
        let keys = common_schema(entries.iter().map(|((s, _), _)| s));
        let values = common_schema(entries.iter().map(|(_, (s, _))| s));
        let schema = match (keys, values) {
            (Some(k), Some(v)) => SchemaBuilder::map(k, v).build_arc(),
            _ => SchemaBuilder::new(SchemaType::Map).build_arc(),
        };
        Some((Some(schema), Value::Map(entries.into_iter().map(|((_, k), (_, v))| (k, v)).collect())))
    }
}

fn common_schema<'a>(mut schemas: impl Iterator<Item = &'a Option<Arc<Schema>>>) -> Option<Arc<Schema>> {
    let first = schemas.next()?.clone()?;
    schemas.all(|s| s.as_deref() == Some(&*first)).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> Option<SchemaType> {
        parse_string(text).0.map(|s| s.kind())
    }

    #[test]
    fn numbers_take_the_narrowest_type() {
        assert_eq!(parse_string("42").1, Value::Int8(42));
        assert_eq!(parse_string("-129").1, Value::Int16(-129));
        assert_eq!(parse_string("32768").1, Value::Int32(32768));
        assert_eq!(parse_string("3000000000").1, Value::Int64(3_000_000_000));
        assert_eq!(parse_string("1e3").1, Value::Int16(1000));
        assert_eq!(parse_string("0.1").1, Value::Float32(0.1));
        let (schema, value) = parse_string("12345678901234567890");
        assert_eq!(schema.unwrap().name(), Some(crate::api::schema::DECIMAL_NAME));
        assert_eq!(value, Value::Bytes(vec![0, 0xab, 0x54, 0xa9, 0x8c, 0xeb, 0x1f, 0x0a, 0xd2]));
    }

    #[test]
    fn words_stay_strings_and_temporals_are_logical() {
        assert_eq!(kind("FALSE"), Some(SchemaType::String));
        assert_eq!(parse_string("true").1, Value::Boolean(true));
        assert_eq!(parse_string("null"), (None, Value::Null));
        assert_eq!(parse_string("2023-11-14").1, Value::Int32(19675));
        assert_eq!(parse_string("2023-11-14T22:13:20.123Z").1, Value::Int64(1_700_000_000_123));
        assert_eq!(parse_string("{a:b}").1, Value::from("{a:b}"));
        assert_eq!(parse_string("22:13:20.123").1, Value::Int8(22));
    }

    #[test]
    fn arrays_of_one_type_get_an_element_schema() {
        let (schema, value) = parse_string("[1,2,3]");
        assert_eq!(schema.unwrap().value_schema().unwrap().kind(), SchemaType::Int8);
        assert_eq!(value, Value::Array(vec![Value::Int8(1), Value::Int8(2), Value::Int8(3)]));
        assert!(parse_string("[1,\"a\"]").0.unwrap().value_schema().is_none());
    }
}
