//! Avro binary encoding of Connect values, straight from Connect values to bytes and back
//! without an intermediate Avro value tree. A [`Plan`] pairs a Connect schema with its Avro
//! schema once; encoding and decoding then only walk the plan.

use std::sync::Arc;

use tributary_runtime::api::schema::DECIMAL_NAME;
use tributary_runtime::api::{Schema, SchemaType, Struct, Value};

use super::from_avro::{is_map_entry, union_member_name};
use super::schema::{Avro, Node};
use super::to_avro::{MappingError, is_union};

fn fail<T>(msg: impl Into<String>) -> Result<T, MappingError> {
    Err(MappingError(msg.into()))
}

/// How a Connect value is written as Avro, and read back.
#[derive(Debug)]
pub(crate) enum Plan {
    Boolean,
    Int8,
    Int16,
    Int32,
    Long,
    Float,
    Double,
    String,
    Bytes,
    /// Fixed of this size; `decimal` when it holds a Decimal (padded / minimised).
    Fixed {
        size: usize,
        decimal: bool,
    },
    Enum(Vec<String>),
    Array(Box<Plan>),
    /// Avro map (string keys).
    Map(Box<Plan>),
    /// Connect map with non-string keys as an array of key/value records.
    MapEntries(Box<Plan>, Box<Plan>),
    Record(Arc<Schema>, Vec<Plan>),
    /// `[null, T]`, `[T, null]` or `[T]`.
    Optional {
        null: Option<u64>,
        value: u64,
        inner: Box<Plan>,
    },
    /// A general union as Confluent's `io.confluent.connect.avro.Union` struct: per Avro
    /// branch, the struct field it fills (`None` for the null branch).
    Union(Arc<Schema>, Vec<Option<(usize, Plan)>>),
}

/// Pairs `schema` with `node`.
pub(crate) fn plan(schema: &Arc<Schema>, node: &Node) -> Result<Plan, MappingError> {
    let mismatch =
        || MappingError(format!("Connect schema {} does not match Avro type {}", schema.describe(), node.type_name()));
    Ok(match &node.ty {
        Avro::Union(members) if is_union(schema) => {
            let mut branches = Vec::with_capacity(members.len());
            for m in members {
                if matches!(m.ty, Avro::Null) {
                    branches.push(None);
                    continue;
                }
                let name = union_member_name(m);
                let Some(f) = schema.field(&name) else {
                    return fail(format!("union branch {name} has no field in the Connect union schema"));
                };
                branches.push(Some((f.index, plan(&f.schema, m)?)));
            }
            Plan::Union(schema.clone(), branches)
        }
        Avro::Union(members) => {
            let null = members.iter().position(|m| matches!(m.ty, Avro::Null)).map(|i| i as u64);
            let value = members.iter().position(|m| !matches!(m.ty, Avro::Null));
            let Some(value) = value.filter(|_| members.len() <= 2) else { return Err(mismatch()) };
            Plan::Optional { null, value: value as u64, inner: Box::new(plan(schema, &members[value])?) }
        }
        Avro::Null => return Err(mismatch()),
        Avro::Boolean if schema.kind() == SchemaType::Boolean => Plan::Boolean,
        Avro::Int => match schema.kind() {
            SchemaType::Int8 => Plan::Int8,
            SchemaType::Int16 => Plan::Int16,
            SchemaType::Int32 => Plan::Int32,
            _ => return Err(mismatch()),
        },
        Avro::Long if schema.kind() == SchemaType::Int64 => Plan::Long,
        Avro::Float if schema.kind() == SchemaType::Float32 => Plan::Float,
        Avro::Double if schema.kind() == SchemaType::Float64 => Plan::Double,
        Avro::String if schema.kind() == SchemaType::String => Plan::String,
        Avro::Enum(e) if schema.kind() == SchemaType::String => Plan::Enum(e.symbols.clone()),
        Avro::Bytes if schema.kind() == SchemaType::Bytes => Plan::Bytes,
        Avro::Fixed(f) if schema.kind() == SchemaType::Bytes => {
            Plan::Fixed { size: f.size, decimal: schema.name() == Some(DECIMAL_NAME) }
        }
        Avro::Array(items) if schema.kind() == SchemaType::Map && is_map_entry(items) => {
            let (Avro::Record(r), Some(ks), Some(vs)) = (&items.ty, schema.key_schema(), schema.value_schema()) else {
                return Err(mismatch());
            };
            let k = r.fields.iter().find(|f| f.name == "key").ok_or_else(mismatch)?;
            let v = r.fields.iter().find(|f| f.name == "value").ok_or_else(mismatch)?;
            if r.fields.len() != 2 || r.fields[0].name != "key" {
                return fail("map entries must be records of exactly \"key\" then \"value\"");
            }
            Plan::MapEntries(Box::new(plan(ks, &k.schema)?), Box::new(plan(vs, &v.schema)?))
        }
        Avro::Array(items) if schema.kind() == SchemaType::Array => {
            Plan::Array(Box::new(plan(schema.value_schema().ok_or_else(mismatch)?, items)?))
        }
        Avro::Map(values) if schema.kind() == SchemaType::Map => {
            Plan::Map(Box::new(plan(schema.value_schema().ok_or_else(mismatch)?, values)?))
        }
        Avro::Record(r) if schema.kind() == SchemaType::Struct => {
            if r.fields.len() != schema.fields().len() {
                return Err(mismatch());
            }
            let mut fields = Vec::with_capacity(r.fields.len());
            for (af, cf) in r.fields.iter().zip(schema.fields()) {
                fields.push(plan(&cf.schema, &af.schema)?);
            }
            Plan::Record(schema.clone(), fields)
        }
        _ => return Err(mismatch()),
    })
}

/// Appends the zig-zag varint of `v`.
#[inline]
pub(crate) fn write_long(out: &mut Vec<u8>, v: i64) {
    let mut n = ((v << 1) ^ (v >> 63)) as u64;
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn write_bytes(out: &mut Vec<u8>, b: &[u8]) {
    write_long(out, b.len() as i64);
    out.extend_from_slice(b);
}

fn type_error<T>(plan: &Plan, v: &Value) -> Result<T, MappingError> {
    fail(format!("a {} value cannot be written as {plan:?}", v.type_name()))
}

impl Plan {
    /// Writes `v` (already checked against the Connect schema by the caller's schema).
    pub(crate) fn encode(&self, v: &Value, out: &mut Vec<u8>) -> Result<(), MappingError> {
        match (self, v) {
            (Plan::Optional { null, value, inner }, v) => {
                if v.is_null() {
                    let Some(n) = null else { return fail("null value for a required Avro type") };
                    write_long(out, *n as i64);
                } else {
                    write_long(out, *value as i64);
                    inner.encode(v, out)?;
                }
            }
            (Plan::Union(_, branches), Value::Null) => {
                let Some(i) = branches.iter().position(Option::is_none) else {
                    return fail("null value for a union without a null branch");
                };
                write_long(out, i as i64);
            }
            (Plan::Union(_, branches), Value::Struct(s)) => {
                let set = branches.iter().enumerate().find_map(|(i, b)| {
                    let (f, p) = b.as_ref()?;
                    s.get_index(*f).filter(|v| !v.is_null()).map(|v| (i, p, v))
                });
                let Some((i, p, v)) = set else { return fail("a union struct with no field set") };
                write_long(out, i as i64);
                p.encode(v, out)?;
            }
            (_, Value::Null) => return fail("null value for a required Avro type"),
            (Plan::Boolean, Value::Boolean(b)) => out.push(u8::from(*b)),
            (Plan::Int8, Value::Int8(i)) => write_long(out, (*i).into()),
            (Plan::Int16, Value::Int16(i)) => write_long(out, (*i).into()),
            (Plan::Int32, Value::Int32(i)) => write_long(out, (*i).into()),
            (Plan::Long, Value::Int64(i)) => write_long(out, *i),
            (Plan::Float, Value::Float32(f)) => out.extend_from_slice(&f.to_le_bytes()),
            (Plan::Double, Value::Float64(f)) => out.extend_from_slice(&f.to_le_bytes()),
            (Plan::String, Value::String(s)) => write_bytes(out, s.as_bytes()),
            (Plan::Bytes, Value::Bytes(b)) => write_bytes(out, b),
            (Plan::Fixed { size, decimal }, Value::Bytes(b)) => {
                if b.len() == *size {
                    out.extend_from_slice(b);
                } else if *decimal && b.len() < *size {
                    let pad = if b.first().is_some_and(|f| *f & 0x80 != 0) { 0xff } else { 0 };
                    out.extend(std::iter::repeat_n(pad, size - b.len()));
                    out.extend_from_slice(b);
                } else {
                    return fail(format!("{} bytes for an Avro fixed of size {size}", b.len()));
                }
            }
            (Plan::Enum(symbols), Value::String(s)) => {
                let Some(i) = symbols.iter().position(|x| x == s) else {
                    return fail(format!("'{s}' is not a symbol of the enum ({})", symbols.join(", ")));
                };
                write_long(out, i as i64);
            }
            (Plan::Array(p), Value::Array(items)) => {
                if !items.is_empty() {
                    write_long(out, items.len() as i64);
                    for i in items {
                        p.encode(i, out)?;
                    }
                }
                out.push(0);
            }
            (Plan::Map(p), Value::Map(entries)) => {
                if !entries.is_empty() {
                    write_long(out, entries.len() as i64);
                    for (k, v) in entries {
                        let Value::String(k) = k else { return fail("an Avro map needs string keys") };
                        write_bytes(out, k.as_bytes());
                        p.encode(v, out)?;
                    }
                }
                out.push(0);
            }
            (Plan::MapEntries(kp, vp), Value::Map(entries)) => {
                if !entries.is_empty() {
                    write_long(out, entries.len() as i64);
                    for (k, v) in entries {
                        kp.encode(k, out)?;
                        vp.encode(v, out)?;
                    }
                }
                out.push(0);
            }
            (Plan::Record(schema, fields), Value::Struct(s)) => {
                for (i, p) in fields.iter().enumerate() {
                    let v = s.get_index(i).unwrap_or(&Value::Null);
                    let v = match (v, schema.fields()[i].schema.default_value()) {
                        (Value::Null, Some(d)) => d,
                        _ => v,
                    };
                    p.encode(v, out)
                        .map_err(|e| MappingError(format!("field {}: {}", schema.fields()[i].name, e.0)))?;
                }
            }
            (p, v) => return type_error(p, v),
        }
        Ok(())
    }

    /// Reads one value from `r`.
    pub(crate) fn decode(&self, r: &mut Reader<'_>) -> Result<Value, MappingError> {
        Ok(match self {
            Plan::Boolean => match r.byte()? {
                0 => Value::Boolean(false),
                1 => Value::Boolean(true),
                b => return fail(format!("invalid boolean byte {b}")),
            },
            Plan::Int8 => Value::Int8(i8::try_from(r.int()?).map_err(|_| MappingError("int8 out of range".into()))?),
            Plan::Int16 => {
                Value::Int16(i16::try_from(r.int()?).map_err(|_| MappingError("int16 out of range".into()))?)
            }
            Plan::Int32 => Value::Int32(r.int()?),
            Plan::Long => Value::Int64(r.long()?),
            Plan::Float => Value::Float32(f32::from_le_bytes(r.array()?)),
            Plan::Double => Value::Float64(f64::from_le_bytes(r.array()?)),
            Plan::String => {
                let b = r.bytes()?;
                Value::String(
                    std::str::from_utf8(b).map_err(|_| MappingError("string is not valid UTF-8".into()))?.to_owned(),
                )
            }
            Plan::Bytes => Value::Bytes(r.bytes()?.to_vec()),
            Plan::Fixed { size, decimal } => {
                let b = r.take(*size)?;
                Value::Bytes(if *decimal { minimal_twos_complement(b) } else { b.to_vec() })
            }
            Plan::Enum(symbols) => {
                let i = r.long()?;
                let s = usize::try_from(i).ok().and_then(|i| symbols.get(i));
                Value::String(s.ok_or_else(|| MappingError(format!("enum index {i} out of range")))?.clone())
            }
            Plan::Array(p) => {
                let mut items = Vec::new();
                r.blocks(p.min_size(), |r| {
                    items.push(p.decode(r)?);
                    Ok(())
                })?;
                Value::Array(items)
            }
            Plan::Map(p) => {
                let mut entries = Vec::new();
                r.blocks(1, |r| {
                    let k = Plan::String.decode(r)?;
                    entries.push((k, p.decode(r)?));
                    Ok(())
                })?;
                Value::Map(entries)
            }
            Plan::MapEntries(kp, vp) => {
                let mut entries = Vec::new();
                r.blocks(kp.min_size().saturating_add(vp.min_size()), |r| {
                    let k = kp.decode(r)?;
                    entries.push((k, vp.decode(r)?));
                    Ok(())
                })?;
                Value::Map(entries)
            }
            Plan::Record(schema, fields) => {
                let mut s = Struct::new(schema.clone()).map_err(|e| MappingError(e.to_string()))?;
                for (i, p) in fields.iter().enumerate() {
                    let v = p.decode(r)?;
                    s.put_index(i, v).map_err(|e| MappingError(e.to_string()))?;
                }
                Value::Struct(s)
            }
            Plan::Optional { null, value, inner } => {
                let i = r.long()?;
                if Some(i as u64) == *null && i >= 0 {
                    Value::Null
                } else if i as u64 == *value && i >= 0 {
                    inner.decode(r)?
                } else {
                    return fail(format!("union index {i} out of range"));
                }
            }
            Plan::Union(schema, branches) => {
                let i = r.long()?;
                let Some(branch) = usize::try_from(i).ok().and_then(|i| branches.get(i)) else {
                    return fail(format!("union index {i} out of range"));
                };
                match branch {
                    None => Value::Null,
                    Some((f, p)) => {
                        let mut s = Struct::new(schema.clone()).map_err(|e| MappingError(e.to_string()))?;
                        let v = p.decode(r)?;
                        s.put_index(*f, v).map_err(|e| MappingError(e.to_string()))?;
                        Value::Struct(s)
                    }
                }
            }
        })
    }

    /// The fewest bytes one value takes (bounds item counts read from untrusted input).
    fn min_size(&self) -> usize {
        match self {
            Plan::Float => 4,
            Plan::Double => 8,
            Plan::Fixed { size, .. } => *size,
            Plan::Record(_, fields) => fields.iter().map(Plan::min_size).fold(0usize, usize::saturating_add),
            _ => 1,
        }
    }
}

/// Drops redundant sign bytes, as `BigInteger.toByteArray` would not write them.
fn minimal_twos_complement(b: &[u8]) -> Vec<u8> {
    let mut start = 0;
    while start + 1 < b.len() {
        let (first, next) = (b[start], b[start + 1]);
        if (first == 0 && next & 0x80 == 0) || (first == 0xff && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    b[start..].to_vec()
}

/// Items that take no bytes (empty records, zero-size fixed) allowed in one datum, across all
/// its arrays and maps, so a hostile count cannot spin or fill memory from a few bytes.
const MAX_EMPTY_ITEMS: usize = 1 << 20;

/// A cursor over Avro binary data; every read is bounds-checked.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Zero-size items still allowed in this datum.
    empty_budget: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0, empty_budget: MAX_EMPTY_ITEMS }
    }
    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }
    fn truncated() -> MappingError {
        MappingError("truncated Avro data".into())
    }
    fn byte(&mut self) -> Result<u8, MappingError> {
        let b = *self.data.get(self.pos).ok_or_else(Self::truncated)?;
        self.pos += 1;
        Ok(b)
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], MappingError> {
        if n > self.remaining() {
            return Err(Self::truncated());
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], MappingError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    pub(crate) fn long(&mut self) -> Result<i64, MappingError> {
        let mut n: u64 = 0;
        let mut shift = 0;
        loop {
            let b = self.byte()?;
            if shift >= 64 {
                return fail("varint longer than 64 bits");
            }
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        Ok(((n >> 1) as i64) ^ -((n & 1) as i64))
    }
    fn int(&mut self) -> Result<i32, MappingError> {
        let v = self.long()?;
        i32::try_from(v).map_err(|_| MappingError(format!("int value {v} out of range")))
    }
    fn bytes(&mut self) -> Result<&'a [u8], MappingError> {
        let n = self.long()?;
        let n = usize::try_from(n).map_err(|_| MappingError(format!("negative length {n}")))?;
        self.take(n)
    }
    /// Reads array/map blocks, calling `item` once per item.
    fn blocks(
        &mut self,
        min_item: usize,
        mut item: impl FnMut(&mut Self) -> Result<(), MappingError>,
    ) -> Result<(), MappingError> {
        loop {
            let mut count = self.long()?;
            if count == 0 {
                return Ok(());
            }
            if count < 0 {
                count = count.checked_neg().ok_or_else(|| MappingError("invalid block count".into()))?;
                self.long()?; // block size in bytes
            }
            let count = usize::try_from(count).map_err(|_| MappingError("invalid block count".into()))?;
            if min_item > 0 && count > self.remaining() / min_item {
                return Err(Self::truncated());
            }
            if min_item == 0 {
                self.empty_budget = self.empty_budget.checked_sub(count).ok_or_else(|| {
                    MappingError(format!("more than {MAX_EMPTY_ITEMS} items that take no bytes in one datum"))
                })?;
            }
            for _ in 0..count {
                item(self)?;
            }
        }
    }
}
