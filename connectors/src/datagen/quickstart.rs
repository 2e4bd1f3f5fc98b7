//! The quickstart schemas of Confluent's kafka-connect-datagen (`users`, `orders`,
//! `pageviews`): record and field names, types and value rules, and the key field of each.
//! Values are Connect structs named as Confluent's AvroConverter names them (`ksql.users`).

use std::sync::Arc;

use rand::Rng;
use tributary_runtime::api::{ConnectError, ConnectResult, Schema, SchemaBuilder, SchemaType, Struct, Value};

use super::regex::Pattern;

/// How one field's values are made.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Gen {
    /// Random `int64` in `[min, max)`.
    LongRange(i64, i64),
    /// Random `double` in `[min, max)`.
    DoubleRange(f64, f64),
    /// `int32` counting from `start` by `step` per record.
    IntIteration(i32, i32),
    /// `int64` counting from `start` by `step` per record.
    LongIteration(i64, i64),
    /// Random `string` matching the pattern.
    Regex(&'static str),
    /// One of these strings.
    Options(&'static [&'static str]),
    /// A nested record.
    Record(&'static str, &'static [FieldSpec]),
}

/// One field.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldSpec {
    pub(crate) name: &'static str,
    pub(crate) rule: Gen,
}

/// One quickstart.
#[derive(Debug)]
pub(crate) struct Quickstart {
    pub(crate) name: &'static str,
    pub(crate) record: &'static str,
    pub(crate) key_field: &'static str,
    pub(crate) fields: &'static [FieldSpec],
}

const fn f(name: &'static str, rule: Gen) -> FieldSpec {
    FieldSpec { name, rule }
}

/// Every quickstart this connector offers.
pub(crate) static QUICKSTARTS: &[Quickstart] = &[
    Quickstart {
        name: "users",
        record: "ksql.users",
        key_field: "userid",
        fields: &[
            f("registertime", Gen::LongRange(1_487_715_775_521, 1_519_273_364_600)),
            f("userid", Gen::Regex("User_[1-9]")),
            f("regionid", Gen::Regex("Region_[1-9]")),
            f("gender", Gen::Options(&["MALE", "FEMALE", "OTHER"])),
        ],
    },
    Quickstart {
        name: "pageviews",
        record: "ksql.pageviews",
        key_field: "viewtime",
        fields: &[
            f("viewtime", Gen::LongIteration(1, 10)),
            f("userid", Gen::Regex("User_[1-9]")),
            f("pageid", Gen::Regex("Page_[1-9][0-9]")),
        ],
    },
    Quickstart {
        name: "orders",
        record: "ksql.orders",
        key_field: "orderid",
        fields: &[
            f("ordertime", Gen::LongRange(1_487_715_775_521, 1_519_273_364_600)),
            f("orderid", Gen::IntIteration(0, 1)),
            f("itemid", Gen::Regex("Item_[1-9][0-9]{0,2}")),
            f("orderunits", Gen::DoubleRange(0.1, 10.0)),
            f(
                "address",
                Gen::Record(
                    "ksql.address",
                    &[
                        f("city", Gen::Regex("City_[1-9]{0,2}")),
                        f("state", Gen::Regex("State_[1-9]{0,2}")),
                        f("zipcode", Gen::LongRange(10_000, 99_999)),
                    ],
                ),
            ),
        ],
    },
];

/// The quickstart named `name`.
pub(crate) fn find(name: &str) -> Option<&'static Quickstart> {
    QUICKSTARTS.iter().find(|q| q.name.eq_ignore_ascii_case(name))
}

/// One field's compiled rule: patterns parsed and nested schemas built once.
#[derive(Debug)]
enum Step {
    LongRange(i64, i64),
    DoubleRange(f64, f64),
    IntIteration(i32, i32),
    LongIteration(i64, i64),
    Regex(Pattern),
    Options(&'static [&'static str]),
    Record(Arc<Schema>, Vec<Step>),
}

/// A compiled quickstart: its schema and one step per field, in field order.
#[derive(Debug)]
pub(crate) struct Generator {
    schema: Arc<Schema>,
    steps: Vec<Step>,
}

fn field_schema(rule: &Gen) -> ConnectResult<Arc<Schema>> {
    Ok(match rule {
        Gen::LongRange(..) | Gen::LongIteration(..) => Schema::primitive(SchemaType::Int64),
        Gen::IntIteration(..) => Schema::primitive(SchemaType::Int32),
        Gen::DoubleRange(..) => Schema::primitive(SchemaType::Float64),
        Gen::Regex(_) | Gen::Options(_) => Schema::primitive(SchemaType::String),
        Gen::Record(name, fields) => struct_schema(name, fields)?,
    })
}

fn struct_schema(name: &str, fields: &[FieldSpec]) -> ConnectResult<Arc<Schema>> {
    let mut b = SchemaBuilder::struct_().name(name);
    for fs in fields {
        b = b.field(fs.name, field_schema(&fs.rule)?).map_err(|e| ConnectError::fatal(e.to_string()))?;
    }
    Ok(b.build_arc())
}

fn compile(schema: &Schema, fields: &[FieldSpec]) -> ConnectResult<Vec<Step>> {
    fields
        .iter()
        .map(|fs| {
            Ok(match fs.rule {
                Gen::LongRange(a, b) => Step::LongRange(a, b),
                Gen::DoubleRange(a, b) => Step::DoubleRange(a, b),
                Gen::IntIteration(a, b) => Step::IntIteration(a, b),
                Gen::LongIteration(a, b) => Step::LongIteration(a, b),
                Gen::Regex(p) => Step::Regex(Pattern::parse(p).map_err(|e| ConnectError::fatal(e.to_string()))?),
                Gen::Options(o) => Step::Options(o),
                Gen::Record(_, nested) => {
                    let ns = schema
                        .field(fs.name)
                        .map(|f| f.schema.clone())
                        .ok_or_else(|| ConnectError::fatal("schema mismatch"))?;
                    let steps = compile(&ns, nested)?;
                    Step::Record(ns, steps)
                }
            })
        })
        .collect()
}

impl Generator {
    pub(crate) fn new(spec: &'static Quickstart) -> ConnectResult<Self> {
        let schema = struct_schema(spec.record, spec.fields)?;
        let steps = compile(&schema, spec.fields)?;
        Ok(Self { schema, steps })
    }

    pub(crate) fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    /// The value of record number `iteration` (iteration fields count from it).
    pub(crate) fn generate(&self, rng: &mut impl Rng, iteration: i64) -> ConnectResult<Struct> {
        build(&self.schema, &self.steps, rng, iteration)
    }
}

fn build(schema: &Arc<Schema>, steps: &[Step], rng: &mut impl Rng, it: i64) -> ConnectResult<Struct> {
    let mut s = Struct::new(schema.clone()).map_err(|e| ConnectError::fatal(e.to_string()))?;
    for (i, step) in steps.iter().enumerate() {
        let v = match step {
            Step::LongRange(a, b) => Value::Int64(rng.random_range(*a..*b)),
            Step::DoubleRange(a, b) => Value::Float64(rng.random_range(*a..*b)),
            Step::IntIteration(start, step) => Value::Int32(start.wrapping_add(step.wrapping_mul(it as i32))),
            Step::LongIteration(start, step) => Value::Int64(start.wrapping_add(step.wrapping_mul(it))),
            Step::Regex(p) => Value::String(p.generate(rng)),
            Step::Options(opts) => Value::String(opts[rng.random_range(0..opts.len())].to_owned()),
            Step::Record(ns, nested) => Value::Struct(build(ns, nested, rng, it)?),
        };
        s.put_index(i, v).map_err(|e| ConnectError::fatal(e.to_string()))?;
    }
    Ok(s)
}
