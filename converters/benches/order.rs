//! The 10-field order record the converter benchmarks share (`converters/benches/json.rs`,
//! `benches/avro.rs`): as plain Rust data, as a Connect schema, and as a Connect Struct.
// Cargo also builds this file as a bench target of its own (benches/*.rs), where nothing uses
// it; the benchmarks that include it use every item.
#![allow(dead_code)]

use std::sync::Arc;

use serde::Serialize;
use tributary_runtime::api::{Schema, SchemaBuilder, SchemaType, Struct, Value};

#[derive(Serialize)]
pub(crate) struct Order {
    pub(crate) id: i64,
    pub(crate) customer: String,
    pub(crate) item: String,
    pub(crate) units: i32,
    pub(crate) price: f64,
    pub(crate) discount: f32,
    pub(crate) express: bool,
    pub(crate) region: String,
    pub(crate) created: i64,
    pub(crate) note: Option<String>,
}

pub(crate) fn schema() -> Arc<Schema> {
    let f = |t| Schema::primitive(t);
    SchemaBuilder::struct_()
        .name("bench.Order")
        .field("id", f(SchemaType::Int64))
        .and_then(|b| b.field("customer", f(SchemaType::String)))
        .and_then(|b| b.field("item", f(SchemaType::String)))
        .and_then(|b| b.field("units", f(SchemaType::Int32)))
        .and_then(|b| b.field("price", f(SchemaType::Float64)))
        .and_then(|b| b.field("discount", f(SchemaType::Float32)))
        .and_then(|b| b.field("express", f(SchemaType::Boolean)))
        .and_then(|b| b.field("region", f(SchemaType::String)))
        .and_then(|b| b.field("created", f(SchemaType::Int64)))
        .and_then(|b| b.field("note", Schema::optional_primitive(SchemaType::String)))
        .unwrap()
        .build_arc()
}

pub(crate) fn record(i: i64, schema: &Arc<Schema>) -> (Struct, Order) {
    let o = Order {
        id: i,
        customer: format!("customer-{}", i % 977),
        item: format!("Item_{}", i % 131),
        units: (i % 17) as i32,
        price: 19.99 + (i % 100) as f64 / 7.0,
        discount: 0.15,
        express: i % 3 == 0,
        region: "Region_7".to_owned(),
        created: 1_700_000_000_000 + i,
        note: (i % 5 == 0).then(|| "leave at the door".to_owned()),
    };
    let mut s = Struct::new(schema.clone()).unwrap();
    s.put("id", o.id).unwrap();
    s.put("customer", o.customer.as_str()).unwrap();
    s.put("item", o.item.as_str()).unwrap();
    s.put("units", o.units).unwrap();
    s.put("price", o.price).unwrap();
    s.put("discount", Value::Float32(o.discount)).unwrap();
    s.put("express", o.express).unwrap();
    s.put("region", o.region.as_str()).unwrap();
    s.put("created", o.created).unwrap();
    s.put("note", o.note.clone().map_or(Value::Null, Value::from)).unwrap();
    (s, o)
}
