//! Golden vectors from Kafka Connect 4.1.1's own classes (`tools/number-golden/run.sh` runs
//! `tools/number-golden/GeneratePrimitiveVectors.java` against Kafka's jars): the converter and
//! header converter plugins Kafka Connect lists, their configuration keys, and what Boolean,
//! Short, Integer, Long, Float, Double, ByteArray and String converters (and JsonConverter as
//! a header converter) write and read, as converters and as header converters. Tributary must
//! list the same plugins and keys, write the same bytes, read the same values, and fail where
//! Kafka fails, with Kafka's message.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use serde_json::Value as Json;
use tributary_runtime::api::{ConfigDef, ConnectResult, Schema, SchemaAndValue, SchemaType, Validator, Value};
use tributary_runtime::plugins::Registry;

fn lines() -> Vec<Json> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/primitive_vectors.jsonl");
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn registry() -> Registry {
    let mut r = Registry::new();
    tributary_converters::register(&mut r);
    r
}

fn of_kind<'a>(all: &'a [Json], kind: &str) -> impl Iterator<Item = &'a Json> {
    all.iter().filter(move |l| l["kind"] == kind)
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap()).collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn value(j: &Json) -> Value {
    if j.is_null() {
        return Value::Null;
    }
    let v = &j["v"];
    let s = v.as_str().unwrap_or_default();
    match j["t"].as_str().unwrap() {
        "int8" => Value::Int8(s.parse().unwrap()),
        "int16" => Value::Int16(s.parse().unwrap()),
        "int32" => Value::Int32(s.parse().unwrap()),
        "int64" => Value::Int64(s.parse().unwrap()),
        "float32" => Value::Float32(f32::from_bits(u32::from_str_radix(s, 16).unwrap())),
        "float64" => Value::Float64(f64::from_bits(u64::from_str_radix(s, 16).unwrap())),
        "boolean" => Value::Boolean(s == "true"),
        "string" => Value::String(s.to_owned()),
        "bytes" => Value::Bytes(unhex(s)),
        "array" => Value::Array(v.as_array().unwrap().iter().map(value).collect()),
        "map" => Value::Map(v.as_array().unwrap().iter().map(|e| (value(&e[0]), value(&e[1]))).collect()),
        other => panic!("unknown value type {other}"),
    }
}

/// Values compared with floats by their bits (NaN payloads and -0.0 matter here).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float32(x), Value::Float32(y)) => x.to_bits() == y.to_bits(),
        (Value::Float64(x), Value::Float64(y)) => x.to_bits() == y.to_bits(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
        _ => a == b,
    }
}

/// What Tributary's message must be: Kafka's DataException message, completed with its
/// SerializationException cause (Kafka's message ends in ": " for it); a ClassCastException
/// cause (the JVM's wording) is left out.
fn expected_error(line: &Json) -> String {
    let error = line["error"].as_str().unwrap();
    match (line["cause_class"].as_str(), line["cause"].as_str()) {
        (Some("SerializationException"), Some(cause)) => format!("{error}{cause}"),
        _ => error.trim_end_matches(": ").to_owned(),
    }
}

fn config(line: &Json) -> BTreeMap<String, String> {
    let obj = line["config"].as_object().unwrap();
    obj.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect()
}

#[test]
fn lists_the_plugins_kafka_connect_lists() {
    let all = lines();
    let kafka: BTreeSet<(String, String)> = of_kind(&all, "plugin")
        .map(|l| (l["class"].as_str().unwrap().to_owned(), l["type"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(kafka.len(), 19, "{kafka:?}");
    let r = registry();
    let ours: BTreeSet<(String, String)> = r
        .converters()
        .iter()
        .map(|p| (p.class.to_owned(), "converter".to_owned()))
        .chain(r.header_converters().iter().map(|p| (p.class.to_owned(), "header_converter".to_owned())))
        // Confluent's converter is not part of Kafka Connect's own distribution.
        .filter(|(class, _)| !class.starts_with("io.confluent."))
        .collect();
    assert_eq!(ours, kafka);
}

fn definition(r: &Registry, class: &str) -> ConfigDef {
    match r.converter(class) {
        Ok(p) => (p.config_def)(),
        Err(_) => (r.header_converter(class).unwrap().config_def)(),
    }
}

#[test]
fn declares_the_keys_kafka_declares() {
    let all = lines();
    let r = registry();
    let mut classes: BTreeMap<String, Vec<&Json>> = BTreeMap::new();
    for l in of_kind(&all, "plugin") {
        classes.entry(l["class"].as_str().unwrap().to_owned()).or_default();
    }
    for l in of_kind(&all, "config") {
        classes.entry(l["class"].as_str().unwrap().to_owned()).or_default().push(l);
    }
    for (class, keys) in classes {
        let def = definition(&r, &class);
        let names: Vec<&str> = def.keys().iter().map(|k| k.name.as_str()).collect();
        let kafka: Vec<&str> = keys.iter().map(|k| k["name"].as_str().unwrap()).collect();
        assert_eq!(names, kafka, "{class}");
        for (ours, k) in def.keys().iter().zip(keys) {
            let what = format!("{class} {}", ours.name);
            assert_eq!(ours.kind.name(), k["type"], "{what}");
            assert_eq!(ours.default.as_deref(), k["default"].as_str(), "{what}");
            assert_eq!(ours.importance.name(), k["importance"], "{what}");
            assert_eq!(ours.doc, k["documentation"].as_str().unwrap(), "{what}");
            assert_eq!(ours.required, k["required"].as_bool().unwrap(), "{what}");
            assert_eq!(ours.group.as_deref(), k["group"].as_str(), "{what}");
            assert_eq!(i64::from(ours.order), k["order_in_group"].as_i64().unwrap(), "{what}");
            assert_eq!(ours.width.name(), k["width"], "{what}");
            assert_eq!(ours.display_name.as_deref().unwrap_or(&ours.name), k["display_name"], "{what}");
            let case_insensitive = k["validator"].as_str().is_some_and(|v| v.starts_with("(case insensitive)"));
            // Kafka's `ValidString` prints as `[a, b]`, possibly in another order.
            let kafka_options: BTreeSet<String> = k["validator"]
                .as_str()
                .and_then(|v| v.rsplit_once('[')?.1.strip_suffix(']').map(str::to_owned))
                .map(|v| v.split(", ").map(str::to_owned).collect())
                .unwrap_or_default();
            let options: BTreeSet<String> = ours
                .validators
                .iter()
                .flat_map(|v| match v {
                    Validator::OneOf(o) if !case_insensitive => o.iter().map(|s| (*s).to_owned()).collect(),
                    Validator::OneOfIgnoreCase(o) if case_insensitive => o.iter().map(|s| (*s).to_owned()).collect(),
                    _ => Vec::new(),
                })
                .collect();
            assert_eq!(options, kafka_options, "{what}");
        }
    }
}

fn schema_of(name: Option<&str>) -> Option<Arc<Schema>> {
    let kind = match name? {
        "FLOAT32" => SchemaType::Float32,
        "FLOAT64" => SchemaType::Float64,
        other => SchemaType::from_name(&other.to_ascii_lowercase()).unwrap(),
    };
    Some(Schema::primitive(kind))
}

fn write(r: &Registry, line: &Json) -> ConnectResult<Option<Vec<u8>>> {
    let (class, cfg) = (line["class"].as_str().unwrap(), config(line));
    let schema = schema_of(line["schema"].as_str());
    let v = value(&line["value"]);
    if line["as"] == "header" {
        let h = (r.header_converter(class).unwrap().factory)(&cfg)?;
        h.from_connect_header("golden", "h", schema.as_deref(), &v)
    } else {
        let c = r.converter(class).unwrap().factory.create(&cfg, false)?;
        c.from_connect("golden", schema.as_ref(), &v)
    }
}

fn read(r: &Registry, line: &Json) -> ConnectResult<SchemaAndValue> {
    let (class, cfg) = (line["class"].as_str().unwrap(), config(line));
    let bytes = line["bytes"].as_str().map(unhex);
    if line["as"] == "header" {
        let h = (r.header_converter(class).unwrap().factory)(&cfg)?;
        h.to_connect_header("golden", "h", bytes.as_deref())
    } else {
        let c = r.converter(class).unwrap().factory.create(&cfg, false)?;
        c.to_connect("golden", bytes.as_deref())
    }
}

/// JsonConverter's messages are Tributary's own (checked in its unit tests); the others match.
fn check_error(line: &Json, err: &tributary_runtime::api::ConnectError, label: &str, failures: &mut Vec<String>) {
    if line["class"] != "org.apache.kafka.connect.json.JsonConverter" && err.to_string() != expected_error(line) {
        failures.push(format!("{label}: message {:?}, Kafka's {:?}", err.to_string(), expected_error(line)));
    }
}

#[test]
fn writes_the_bytes_kafka_writes() {
    let all = lines();
    let r = registry();
    let mut failures = Vec::new();
    let writes: Vec<&Json> = of_kind(&all, "write").collect();
    assert!(writes.len() > 150, "too few vectors: {}", writes.len());
    for line in writes {
        let label =
            format!("{} as {} writing {} (schema {})", line["class"], line["as"], line["value"], line["schema"]);
        match (write(&r, line), line["error"].is_null()) {
            (Ok(bytes), true) => {
                let ours = bytes.as_deref().map(hex);
                if ours.as_deref() != line["bytes"].as_str() {
                    failures.push(format!("{label}: wrote {ours:?}, Kafka {}", line["bytes"]));
                }
            }
            (Ok(bytes), false) => failures.push(format!("{label}: wrote {bytes:?}, Kafka fails: {}", line["error"])),
            (Err(e), true) => failures.push(format!("{label}: fails ({e}), Kafka writes {}", line["bytes"])),
            (Err(e), false) => check_error(line, &e, &label, &mut failures),
        }
    }
    assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn reads_the_values_kafka_reads() {
    let all = lines();
    let r = registry();
    let mut failures = Vec::new();
    let reads: Vec<&Json> = of_kind(&all, "read").collect();
    assert!(reads.len() > 300, "too few vectors: {}", reads.len());
    for line in reads {
        let label = format!("{} as {} reading {}", line["class"], line["as"], line["bytes"]);
        match (read(&r, line), line["error"].is_null()) {
            (Ok(sv), true) => {
                let schema = sv.schema.map(|s| (s.kind().name().to_ascii_uppercase(), s.is_optional()));
                let kafka = line["schema"].as_object().map(|s| {
                    let t = s["type"].as_str().unwrap().replace("FLOAT32", "FLOAT").replace("FLOAT64", "DOUBLE");
                    (t, s["optional"].as_bool().unwrap())
                });
                if schema != kafka {
                    failures.push(format!("{label}: schema {schema:?}, Kafka's {kafka:?}"));
                }
                if !same(&sv.value, &value(&line["value"])) {
                    failures.push(format!("{label}: value {:?}, Kafka's {}", sv.value, line["value"]));
                }
            }
            (Ok(sv), false) => failures.push(format!("{label}: read {:?}, Kafka fails: {}", sv.value, line["error"])),
            (Err(e), true) => failures.push(format!("{label}: fails ({e}), Kafka reads {}", line["value"])),
            (Err(e), false) => check_error(line, &e, &label, &mut failures),
        }
    }
    assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.join("\n"));
}
