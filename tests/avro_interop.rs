//! Tributary's AvroConverter against Confluent's own Python client (confluent-kafka 2.16.1 with
//! its AvroSerializer / AvroDeserializer), through Tributary's schema registry and a real
//! Apache Kafka: each side reads what the other writes.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::Message;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::{Value as Json, json};
use tributary_converters::avro::AvroConverter;
use tributary_runtime::api::{Converter, Schema, SchemaBuilder, SchemaType, Struct, Value};
use tributary_testcontainers::{TestEnv, confluent_python, create_topic, repo_root, unique_name};

/// Serves Tributary's schema registry (in memory) on a free loopback port.
async fn registry() -> String {
    let store = Arc::new(tributary_converters::registry::SchemaRegistry::in_memory());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, tributary_rest_api::registry::router(store)).await;
    });
    format!("http://{addr}")
}

fn python(args: &[&str]) -> Option<String> {
    let py = confluent_python()?;
    let script = repo_root().join("tests/python/avro_interop.py");
    let out = Command::new(py).arg(script).args(args).output().expect("run python");
    assert!(
        out.status.success(),
        "python {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).expect("utf-8"))
}

fn converter(url: &str) -> AvroConverter {
    let props: BTreeMap<String, String> = [("schema.registry.url".to_owned(), url.to_owned())].into();
    AvroConverter::new(&props, false).expect("converter")
}

fn all_types_schema() -> Arc<Schema> {
    let address = SchemaBuilder::struct_()
        .name("com.example.Address")
        .field("city", Schema::primitive(SchemaType::String))
        .and_then(|b| b.field("zip", Schema::optional_primitive(SchemaType::Int32)))
        .expect("address")
        .build_arc();
    let fields: Vec<(&str, Arc<Schema>)> = vec![
        ("i8", Schema::primitive(SchemaType::Int8)),
        ("i16", Schema::primitive(SchemaType::Int16)),
        ("i32", Schema::primitive(SchemaType::Int32)),
        ("i64", Schema::primitive(SchemaType::Int64)),
        ("f32", Schema::primitive(SchemaType::Float32)),
        ("f64", Schema::primitive(SchemaType::Float64)),
        ("flag", Schema::primitive(SchemaType::Boolean)),
        ("text", Schema::primitive(SchemaType::String)),
        ("blob", Schema::primitive(SchemaType::Bytes)),
        ("maybe", Schema::optional_primitive(SchemaType::String)),
        ("price", SchemaBuilder::decimal(2).build_arc()),
        ("day", SchemaBuilder::date().build_arc()),
        ("clock", SchemaBuilder::time().build_arc()),
        ("at", SchemaBuilder::timestamp().build_arc()),
        ("tags", SchemaBuilder::array(Schema::primitive(SchemaType::String)).build_arc()),
        (
            "counts",
            SchemaBuilder::map(Schema::primitive(SchemaType::String), Schema::primitive(SchemaType::Int32)).build_arc(),
        ),
        (
            "names",
            SchemaBuilder::map(Schema::primitive(SchemaType::Int32), Schema::primitive(SchemaType::String)).build_arc(),
        ),
        ("address", address),
        (
            "level",
            SchemaBuilder::new(SchemaType::Int32)
                .optional()
                .default_value(Value::Int32(3))
                .expect("default")
                .build_arc(),
        ),
    ];
    let mut b = SchemaBuilder::struct_().name("com.example.AllTypes").version(2);
    for (n, s) in fields {
        b = b.field(n, s).expect("field");
    }
    b.build_arc()
}

fn all_types_value(schema: &Arc<Schema>, i: i64) -> Value {
    let address_schema = schema.field("address").expect("address").schema.clone();
    let mut address = Struct::new(address_schema).expect("address");
    address.put("city", Value::String(format!("Zürich {i}"))).expect("city");
    address.put("zip", if i % 2 == 0 { Value::Int32(8000 + i as i32) } else { Value::Null }).expect("zip");
    let unscaled = (i * 1234 - 20_000) as i32;
    let mut s = Struct::new(schema.clone()).expect("struct");
    let puts = [
        ("i8", Value::Int8((i as i8).wrapping_mul(3))),
        ("i16", Value::Int16(-(i as i16) * 300)),
        ("i32", Value::Int32(i as i32 * 100_000)),
        ("i64", Value::Int64(i * 10_000_000_000)),
        ("f32", Value::Float32(i as f32 + 0.25)),
        ("f64", Value::Float64(i as f64 / 8.0)),
        ("flag", Value::Boolean(i % 2 == 0)),
        ("text", Value::String(format!("record {i} ✓"))),
        ("blob", Value::Bytes(vec![i as u8, 0xff, 0])),
        ("maybe", if i % 3 == 0 { Value::Null } else { Value::String(format!("m{i}")) }),
        ("price", Value::Bytes(minimal_be(unscaled.into()))),
        ("day", Value::Int32(19_000 + i as i32)),
        ("clock", Value::Int32(i as i32 * 1000)),
        ("at", Value::Int64(1_700_000_000_000 + i)),
        ("tags", Value::Array((0..i % 3).map(|j| Value::String(format!("t{j}"))).collect())),
        ("counts", Value::Map(vec![(Value::String("a".into()), Value::Int32(i as i32))])),
        ("names", Value::Map(vec![(Value::Int32(i as i32), Value::String(format!("n{i}")))])),
        ("address", Value::Struct(address)),
        ("level", if i % 2 == 0 { Value::Int32(i as i32) } else { Value::Null }),
    ];
    for (n, v) in puts {
        s.put(n, v).expect(n);
    }
    Value::Struct(s)
}

/// Big-endian two's complement without redundant sign bytes (Java's `BigInteger.toByteArray`).
fn minimal_be(v: i128) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    while start + 1 < bytes.len()
        && ((bytes[start] == 0 && bytes[start + 1] & 0x80 == 0)
            || (bytes[start] == 0xff && bytes[start + 1] & 0x80 != 0))
    {
        start += 1;
    }
    bytes[start..].to_vec()
}

/// What Confluent's Python deserializer prints for record `i` (see tests/python/avro_interop.py).
fn expected_python_view(i: i64) -> Json {
    let unscaled = i * 1234 - 20_000;
    let price = format!("{}{}.{:02}", if unscaled < 0 { "-" } else { "" }, unscaled.abs() / 100, unscaled.abs() % 100);
    json!({
        "i8": (i as i8).wrapping_mul(3),
        "i16": -(i as i16) * 300,
        "i32": i * 100_000,
        "i64": i * 10_000_000_000,
        "f32": i as f64 + 0.25,
        "f64": i as f64 / 8.0,
        "flag": i % 2 == 0,
        "text": format!("record {i} ✓"),
        "blob": {"hex": format!("{:02x}ff00", i as u8)},
        "maybe": if i % 3 == 0 { Json::Null } else { json!(format!("m{i}")) },
        "price": {"decimal": price},
        "day": {"epoch_day": 19_000 + i},
        "clock": {"time": format!("00:00:{:02}", i)},
        "at": {"epoch_ms": 1_700_000_000_000 + i},
        "tags": (0..i % 3).map(|j| format!("t{j}")).collect::<Vec<_>>(),
        "counts": {"a": i},
        "names": [{"key": i, "value": format!("n{i}")}],
        "address": {"city": format!("Zürich {i}"), "zip": if i % 2 == 0 { json!(8000 + i) } else { Json::Null }},
        "level": if i % 2 == 0 { json!(i) } else { json!(3) },
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confluent_deserializer_reads_what_tributary_writes() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    let Some(_) = confluent_python() else { return };
    let url = registry().await;
    let topic = unique_name("avro-out");
    create_topic(bootstrap, &topic, 1).await.expect("topic");
    let conv = converter(&url);
    let schema = all_types_schema();
    let producer: FutureProducer = ClientConfig::new().set("bootstrap.servers", bootstrap).create().expect("producer");
    let n = 40;
    let mut ids = std::collections::HashSet::new();
    for i in 0..n {
        let bytes =
            conv.from_connect(&topic, Some(&schema), &all_types_value(&schema, i)).expect("converts").expect("bytes");
        ids.insert(u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]));
        producer.send(FutureRecord::<(), _>::to(&topic).payload(&bytes), Duration::from_secs(10)).await.expect("sent");
    }
    assert_eq!(ids.len(), 1, "one schema, one id: {ids:?}");
    let out = tokio::task::spawn_blocking({
        let (bootstrap, url, topic) = (bootstrap.to_owned(), url.clone(), topic.clone());
        move || python(&["consume", &bootstrap, &url, &topic, &n.to_string()])
    })
    .await
    .expect("join")
    .expect("python");
    let lines: Vec<Json> = out.lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
    assert_eq!(lines.len(), n as usize);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["schema_id"], json!(ids.iter().next().copied()), "record {i}");
        assert_eq!(line["value"], expected_python_view(i as i64), "record {i} as Confluent's deserializer reads it");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tributary_reads_what_confluent_serializer_writes() {
    let Some(bootstrap) = TestEnv::get().kafka() else { return };
    let Some(_) = confluent_python() else { return };
    let url = registry().await;
    let topic = unique_name("avro-in");
    create_topic(bootstrap, &topic, 1).await.expect("topic");
    let n = 30;
    let out = tokio::task::spawn_blocking({
        let (bootstrap, url, topic) = (bootstrap.to_owned(), url.clone(), topic.clone());
        move || python(&["produce", &bootstrap, &url, &topic, &n.to_string()])
    })
    .await
    .expect("join")
    .expect("python");
    let report: Json = serde_json::from_str(out.trim()).expect("report");
    let records = report["records"].as_array().expect("records");

    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique_name("avro-in"))
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("consumer");
    consumer.subscribe(&[&topic]).expect("subscribe");
    let conv = converter(&url);
    let mut seen = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while seen < n && std::time::Instant::now() < deadline {
        let Some(m) = consumer.poll(Duration::from_millis(500)) else { continue };
        let m = m.expect("message");
        let id = m.payload().map(|p| u32::from_be_bytes([p[1], p[2], p[3], p[4]]));
        assert_eq!(id.map(u64::from), report["schema_id"].as_u64(), "the id the registry gave Confluent's serializer");
        let sv = tokio::task::block_in_place(|| conv.to_connect(&topic, m.payload())).expect("Tributary reads it");
        let schema = sv.schema.expect("schema");
        assert_eq!(schema.name(), Some("iot.python.Reading"));
        assert_eq!(schema.version(), Some(1), "the registry's version of the writer schema");
        let Value::Struct(s) = sv.value else { panic!("not a struct") };
        check_reading(&s, &records[seen]);
        seen += 1;
    }
    assert_eq!(seen, n, "records read");
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn check_reading(s: &Struct, want: &Json) {
    let seq = want["seq"].as_i64().expect("seq");
    let ctx = format!("record {seq}");
    assert_eq!(s.get("seq"), Some(&Value::Int64(seq)), "{ctx}");
    assert_eq!(s.get("sensor"), Some(&Value::String(want["sensor"].as_str().expect("s").into())), "{ctx}");
    assert_eq!(s.get("kind"), Some(&Value::String(want["kind"].as_str().expect("k").into())), "{ctx}");
    assert_eq!(s.get("value"), Some(&Value::Float64(want["value"].as_f64().expect("v"))), "{ctx}");
    assert_eq!(s.get("ratio"), Some(&Value::Float32(0.5)), "{ctx}");
    assert_eq!(s.get("ok"), Some(&Value::Boolean(want["ok"].as_bool().expect("ok"))), "{ctx}");
    assert_eq!(s.get("count"), Some(&Value::Int32(want["count"].as_i64().expect("c") as i32)), "{ctx}");
    match want["note"].as_str() {
        Some(n) => assert_eq!(s.get("note"), Some(&Value::String(n.into())), "{ctx}"),
        None => assert_eq!(s.get("note"), Some(&Value::Null), "{ctx}"),
    }
    match (s.get("either"), &want["either"]) {
        (Some(Value::Null), Json::Null) => {}
        (Some(Value::Struct(u)), Json::Number(n)) => {
            assert_eq!(u.get("long"), Some(&Value::Int64(n.as_i64().expect("n"))))
        }
        (Some(Value::Struct(u)), Json::String(t)) => assert_eq!(u.get("string"), Some(&Value::String(t.clone()))),
        (got, want) => panic!("{ctx}: union {got:?} vs {want}"),
    }
    let bytes_hex = |f: &str| match s.get(f) {
        Some(Value::Bytes(b)) => hex(b),
        other => panic!("{ctx}: {f} is {other:?}"),
    };
    assert_eq!(bytes_hex("raw"), want["raw"]["hex"].as_str().expect("raw"), "{ctx}");
    assert_eq!(bytes_hex("mac"), want["mac"]["hex"].as_str().expect("mac"), "{ctx}");
    let price: f64 = want["price"]["decimal"].as_str().expect("price").parse().expect("decimal");
    let unscaled = (price * 100.0).round() as i128;
    assert_eq!(s.get("price"), Some(&Value::Bytes(minimal_be(unscaled))), "{ctx}");
    assert_eq!(s.get("day"), Some(&Value::Int32(want["day"]["epoch_day"].as_i64().expect("day") as i32)), "{ctx}");
    assert_eq!(s.get("at"), Some(&Value::Int64(want["at"]["epoch_ms"].as_i64().expect("at"))), "{ctx}");
    let tags: Vec<Value> =
        want["tags"].as_array().expect("tags").iter().map(|t| Value::String(t.as_str().expect("t").into())).collect();
    assert_eq!(s.get("tags"), Some(&Value::Array(tags)), "{ctx}");
    let attrs: Vec<(Value, Value)> = want["attrs"]
        .as_object()
        .expect("attrs")
        .iter()
        .map(|(k, v)| (Value::String(k.clone()), Value::Int32(v.as_i64().expect("v") as i32)))
        .collect();
    assert_eq!(s.get("attrs"), Some(&Value::Map(attrs)), "{ctx}");
    assert_eq!(s.get("level"), Some(&Value::Int32(want["level"].as_i64().expect("level") as i32)), "{ctx}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_avro_input_is_a_clear_error() {
    let url = registry().await;
    let conv = converter(&url);
    let schema = all_types_schema();
    let good = tokio::task::block_in_place(|| conv.from_connect("t", Some(&schema), &all_types_value(&schema, 1)))
        .expect("converts")
        .expect("bytes");
    let err = |bytes: &[u8]| {
        tokio::task::block_in_place(|| conv.to_connect("t", Some(bytes))).expect_err("must fail").chain()
    };
    assert!(err(&[0, 0, 1]).contains("shorter than the 5-byte Confluent header"), "{}", err(&[0, 0, 1]));
    let mut wrong_magic = good.clone();
    wrong_magic[0] = 1;
    assert!(err(&wrong_magic).contains("Unknown magic byte 0x01"), "{}", err(&wrong_magic));
    let mut unknown = good.clone();
    unknown[1..5].copy_from_slice(&999_999u32.to_be_bytes());
    assert!(err(&unknown).contains("schema id 999999"), "{}", err(&unknown));
    let truncated = &good[..good.len() - 3];
    assert!(err(truncated).contains("truncated Avro data"), "{}", err(truncated));
    let mut extra = good.clone();
    extra.extend_from_slice(&[1, 2, 3]);
    assert!(err(&extra).contains("3 bytes left"), "{}", err(&extra));
    // Schemaless values have no Avro form here.
    let e = conv.from_connect("t", None, &Value::String("x".into())).expect_err("schemaless").chain();
    assert!(e.contains("needs a schema"), "{e}");
}
