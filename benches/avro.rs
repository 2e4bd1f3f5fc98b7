//! AvroConverter against apache-avro used directly, on the same 10-field record, in one run.
//!
//! Run: `cargo bench --bench avro`. Tributary's schema registry serves the converter in this
//! process (in memory); its answers are cached after the first record, so what is measured is
//! the hot path. Serialize: a Connect Struct through `from_connect_into` (Confluent wire
//! format: magic byte, schema id, Avro binary) against apache-avro building its
//! `types::Value::Record` from the same data and writing it with a `GenericDatumWriter` after
//! the same 5-byte header. Deserialize: `to_connect` of those bytes (a Connect Struct) against
//! apache-avro's `GenericDatumReader::read_value` (an Avro value tree). Prints records/s and the
//! ratio to apache-avro.

mod support;
use support::env_or;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use apache_avro::types::Value as AvroValue;
use tributary_converters::avro::AvroConverter;
use tributary_runtime::api::{Converter, Schema, Value};

const AVRO_SCHEMA: &str = r#"{"type":"record","name":"Order","namespace":"bench","fields":[{"name":"id","type":"long"},{"name":"customer","type":"string"},{"name":"item","type":"string"},{"name":"units","type":"int"},{"name":"price","type":"double"},{"name":"discount","type":"float"},{"name":"express","type":"boolean"},{"name":"region","type":"string"},{"name":"created","type":"long"},{"name":"note","type":["null","string"],"default":null}],"connect.name":"bench.Order"}"#;

#[path = "../converters/benches/order.rs"]
mod order;

use order::{Order, record, schema};

fn connect(i: i64, schema: &Arc<Schema>) -> Value {
    Value::Struct(record(i, schema).0)
}

fn avro(o: &Order) -> AvroValue {
    AvroValue::Record(vec![
        ("id".into(), AvroValue::Long(o.id)),
        ("customer".into(), AvroValue::String(o.customer.clone())),
        ("item".into(), AvroValue::String(o.item.clone())),
        ("units".into(), AvroValue::Int(o.units)),
        ("price".into(), AvroValue::Double(o.price)),
        ("discount".into(), AvroValue::Float(o.discount)),
        ("express".into(), AvroValue::Boolean(o.express)),
        ("region".into(), AvroValue::String(o.region.clone())),
        ("created".into(), AvroValue::Long(o.created)),
        (
            "note".into(),
            match &o.note {
                Some(n) => AvroValue::Union(1, Box::new(AvroValue::String(n.clone()))),
                None => AvroValue::Union(0, Box::new(AvroValue::Null)),
            },
        ),
    ])
}

fn rate(n: usize, f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    n as f64 / start.elapsed().as_secs_f64()
}

fn best(n: usize, mut f: impl FnMut()) -> f64 {
    (0..3).map(|_| rate(n, &mut f)).fold(0.0, f64::max)
}

fn row(name: &str, ours: f64, theirs: f64) {
    println!("| {name} | {ours:.0} | {theirs:.0} | {:.2} |", ours / theirs);
}

fn main() {
    let n = env_or("BENCH_RECORDS", 300_000);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = rt.block_on(async {
        let store = Arc::new(tributary_converters::registry::SchemaRegistry::in_memory());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, tributary_rest_api::registry::router(store)).await });
        format!("http://{addr}")
    });
    let conv = AvroConverter::new(&BTreeMap::from([("schema.registry.url".to_owned(), url)]), false).unwrap();
    let schema = schema();
    let orders: Vec<Order> = (0..n as i64).map(|i| record(i, &schema).1).collect();
    let values: Vec<Value> = (0..n as i64).map(|i| connect(i, &schema)).collect();
    let avro_schema = apache_avro::Schema::parse_str(AVRO_SCHEMA).unwrap();
    let writer = apache_avro::writer::datum::GenericDatumWriter::builder(&avro_schema).build().unwrap();
    let reader = apache_avro::reader::datum::GenericDatumReader::builder(&avro_schema).build().unwrap();

    // Warm the caches (registers the schema once) and check both sides write the same bytes.
    let ours_bytes: Vec<Vec<u8>> =
        values.iter().map(|v| conv.from_connect("bench", Some(&schema), v).unwrap().unwrap()).collect();
    let header = ours_bytes[0][..5].to_vec();
    let mut theirs = header.clone();
    writer.write_value(&mut theirs, avro(&orders[0])).unwrap();
    assert_eq!(ours_bytes[0], theirs, "both sides must write the same bytes");

    println!("{n} records of 10 fields, best of 3 runs each\n");
    println!("| operation | Tributary records/s | apache-avro records/s | ratio |");
    println!("|---|---|---|---|");
    let mut buf = Vec::with_capacity(256);
    let ours = best(n, || {
        for v in &values {
            black_box(conv.from_connect_into("bench", Some(&schema), v, &mut buf).unwrap());
        }
    });
    let theirs = best(n, || {
        for o in &orders {
            buf.clear();
            buf.extend_from_slice(&header);
            writer.write_value(&mut buf, avro(o)).unwrap();
            black_box(&buf);
        }
    });
    row("serialize", ours, theirs);
    let ours = best(n, || {
        for b in &ours_bytes {
            black_box(conv.to_connect("bench", Some(b)).unwrap());
        }
    });
    let theirs = best(n, || {
        for b in &ours_bytes {
            black_box(reader.read_value(&mut &b[5..]).unwrap());
        }
    });
    row("deserialize", ours, theirs);
}
