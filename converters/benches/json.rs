//! JsonConverter against serde_json used directly, on the same 10-field record, in one run.
//!
//! Run: `cargo bench -p tributary-converters --bench json`. Serialize: a Connect Struct through
//! `from_connect_into` (with and without the schema envelope) against `serde_json::to_writer`
//! of a derived struct with the same fields and values. Deserialize: `to_connect` of those bytes
//! against `serde_json::from_slice` into a `serde_json::Value`, the same generic work (a derived
//! struct cannot read an envelope whose schema it does not know, nor schemaless data of any
//! shape). Prints records/s and the ratio to serde_json.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use tributary_converters::json::JsonConverter;
use tributary_runtime::api::{Converter, Value};

mod order;

use order::{Order, record, schema};

fn rate(n: usize, f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    n as f64 / start.elapsed().as_secs_f64()
}

fn row(name: &str, ours: f64, serde: f64) {
    println!("| {name} | {ours:.0} | {serde:.0} | {:.2} |", ours / serde);
}

fn main() {
    let n: usize = std::env::var("BENCH_RECORDS").ok().and_then(|v| v.parse().ok()).unwrap_or(300_000);
    let schema = schema();
    let data: Vec<(Value, Order)> = (0..n as i64)
        .map(|i| {
            let (s, o) = record(i, &schema);
            (Value::Struct(s), o)
        })
        .collect();
    let conv = |schemas: bool| {
        JsonConverter::new(&BTreeMap::from([("schemas.enable".to_owned(), schemas.to_string())])).unwrap()
    };
    println!("{n} records of 10 fields, best of 3 runs each\n");
    println!("| operation | Tributary records/s | serde_json records/s | ratio |");
    println!("|---|---|---|---|");
    for schemas in [false, true] {
        let c = conv(schemas);
        let label = if schemas { "with schemas" } else { "without schemas" };
        let mut buf = Vec::with_capacity(1024);
        let ours = (0..3)
            .map(|_| {
                rate(n, || {
                    for (v, _) in &data {
                        black_box(c.from_connect_into("t", Some(&schema), v, &mut buf).unwrap());
                    }
                })
            })
            .fold(0.0, f64::max);
        let serde = (0..3)
            .map(|_| {
                rate(n, || {
                    for (_, o) in &data {
                        buf.clear();
                        if schemas {
                            // The envelope: the schema JSON is a constant prefix for serde.
                            buf.extend_from_slice(b"{\"schema\":");
                            buf.extend_from_slice(SCHEMA_JSON.as_bytes());
                            buf.extend_from_slice(b",\"payload\":");
                            serde_json::to_writer(&mut buf, o).unwrap();
                            buf.push(b'}');
                        } else {
                            serde_json::to_writer(&mut buf, o).unwrap();
                        }
                        black_box(&buf);
                    }
                })
            })
            .fold(0.0, f64::max);
        row(&format!("serialize, {label}"), ours, serde);
        let encoded: Vec<Vec<u8>> =
            data.iter().map(|(v, _)| c.from_connect("t", Some(&schema), v).unwrap().unwrap()).collect();
        let ours = (0..3)
            .map(|_| {
                rate(n, || {
                    for b in &encoded {
                        black_box(c.to_connect("t", Some(b)).unwrap());
                    }
                })
            })
            .fold(0.0, f64::max);
        let serde = (0..3)
            .map(|_| {
                rate(n, || {
                    for b in &encoded {
                        black_box(serde_json::from_slice::<serde_json::Value>(b).unwrap());
                    }
                })
            })
            .fold(0.0, f64::max);
        row(&format!("deserialize, {label}"), ours, serde);
    }
}

const SCHEMA_JSON: &str = r#"{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"},{"type":"string","optional":false,"field":"customer"},{"type":"string","optional":false,"field":"item"},{"type":"int32","optional":false,"field":"units"},{"type":"double","optional":false,"field":"price"},{"type":"float","optional":false,"field":"discount"},{"type":"boolean","optional":false,"field":"express"},{"type":"string","optional":false,"field":"region"},{"type":"int64","optional":false,"field":"created"},{"type":"string","optional":true,"field":"note"}],"optional":false,"name":"bench.Order"}"#;
