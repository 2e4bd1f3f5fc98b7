//! The Connect ↔ Avro mapping and the binary codec, without a registry.

use std::sync::Arc;

use tributary_runtime::api::{Schema, SchemaBuilder, SchemaType, Struct, Value};

use super::codec::{Reader, plan};
use super::from_avro::to_connect;
use super::schema::{parse, to_json};
use super::to_avro::{Options, from_connect};

const META: Options = Options { meta: true };

fn avro_text(s: &Schema) -> String {
    to_json(&from_connect(s, META).expect("maps")).expect("writes")
}

#[test]
fn primitives_map_as_confluent_writes_them() {
    let cases = [
        (SchemaType::Int8, r#"{"type":"int","connect.type":"int8"}"#),
        (SchemaType::Int16, r#"{"type":"int","connect.type":"int16"}"#),
        (SchemaType::Int32, r#""int""#),
        (SchemaType::Int64, r#""long""#),
        (SchemaType::Float32, r#""float""#),
        (SchemaType::Float64, r#""double""#),
        (SchemaType::Boolean, r#""boolean""#),
        (SchemaType::String, r#""string""#),
        (SchemaType::Bytes, r#""bytes""#),
    ];
    for (t, want) in cases {
        assert_eq!(avro_text(&SchemaBuilder::new(t).build()), want, "{t:?}");
    }
    assert_eq!(avro_text(&SchemaBuilder::new(SchemaType::String).optional().build()), r#"["null","string"]"#);
}

#[test]
fn logical_types_carry_both_avro_and_connect_properties() {
    assert_eq!(
        avro_text(&SchemaBuilder::decimal(2).build()),
        r#"{"type":"bytes","scale":2,"precision":64,"connect.version":1,"connect.parameters":{"scale":"2"},"connect.name":"org.apache.kafka.connect.data.Decimal","logicalType":"decimal"}"#
    );
    assert_eq!(
        avro_text(&SchemaBuilder::date().build()),
        r#"{"type":"int","connect.version":1,"connect.name":"org.apache.kafka.connect.data.Date","logicalType":"date"}"#
    );
    assert_eq!(
        avro_text(&SchemaBuilder::time().build()),
        r#"{"type":"int","connect.version":1,"connect.name":"org.apache.kafka.connect.data.Time","logicalType":"time-millis"}"#
    );
    assert_eq!(
        avro_text(&SchemaBuilder::timestamp().build()),
        r#"{"type":"long","connect.version":1,"connect.name":"org.apache.kafka.connect.data.Timestamp","logicalType":"timestamp-millis"}"#
    );
}

fn user_schema() -> Arc<Schema> {
    SchemaBuilder::struct_()
        .name("com.example.User")
        .version(3)
        .doc("a user")
        .field("id", Schema::primitive(SchemaType::Int64))
        .and_then(|b| b.field("name", Schema::optional_primitive(SchemaType::String)))
        .and_then(|b| {
            b.field(
                "score",
                SchemaBuilder::new(SchemaType::Int32).optional().default_value(Value::Int32(7)).expect("d").build_arc(),
            )
        })
        .and_then(|b| b.field("tags", SchemaBuilder::array(Schema::primitive(SchemaType::String)).build_arc()))
        .and_then(|b| {
            b.field(
                "by_id",
                SchemaBuilder::map(Schema::primitive(SchemaType::Int32), Schema::primitive(SchemaType::String))
                    .build_arc(),
            )
        })
        .and_then(|b| b.field("small", Schema::primitive(SchemaType::Int16)))
        .and_then(|b| b.field("price", SchemaBuilder::decimal(2).optional().build_arc()))
        .expect("schema")
        .build_arc()
}

#[test]
fn structs_become_records_with_connect_metadata() {
    let text = avro_text(&user_schema());
    assert_eq!(
        text,
        concat!(
            r#"{"type":"record","name":"User","namespace":"com.example","fields":["#,
            r#"{"name":"id","type":"long"},"#,
            r#"{"name":"name","type":["null","string"],"default":null},"#,
            r#"{"name":"score","type":[{"type":"int","connect.default":7},"null"],"default":7},"#,
            r#"{"name":"tags","type":{"type":"array","items":"string"}},"#,
            r#"{"name":"by_id","type":{"type":"array","items":{"type":"record","name":"MapEntry","namespace":"io.confluent.connect.avro","fields":[{"name":"key","type":"int"},{"name":"value","type":"string"}]}}},"#,
            r#"{"name":"small","type":{"type":"int","connect.type":"int16"}},"#,
            r#"{"name":"price","type":["null",{"type":"bytes","scale":2,"precision":64,"connect.version":1,"connect.parameters":{"scale":"2"},"connect.name":"org.apache.kafka.connect.data.Decimal","logicalType":"decimal"}],"default":null}"#,
            r#"],"connect.doc":"a user","connect.version":3,"connect.name":"com.example.User"}"#
        )
    );
    // What we write is valid Avro by apache-avro's reading.
    apache_avro::Schema::parse_str(&text).expect("valid Avro");
}

#[test]
fn unnamed_structs_get_confluent_default_names() {
    let inner = SchemaBuilder::struct_().field("a", Schema::primitive(SchemaType::Int32)).expect("f").build_arc();
    let other = SchemaBuilder::struct_().field("b", Schema::primitive(SchemaType::Int32)).expect("f").build_arc();
    let outer = SchemaBuilder::struct_()
        .field("x", inner.clone())
        .and_then(|b| b.field("y", inner))
        .and_then(|b| b.field("z", other))
        .expect("f")
        .build();
    assert_eq!(
        avro_text(&outer),
        concat!(
            r#"{"type":"record","name":"ConnectDefault","namespace":"io.confluent.connect.avro","fields":["#,
            r#"{"name":"x","type":{"type":"record","name":"ConnectDefault2","fields":[{"name":"a","type":"int"}]}},"#,
            r#"{"name":"y","type":"ConnectDefault2"},"#,
            r#"{"name":"z","type":{"type":"record","name":"ConnectDefault3","fields":[{"name":"b","type":"int"}]}}]}"#
        )
    );
}

fn sample_user(schema: &Arc<Schema>) -> Value {
    let mut s = Struct::new(schema.clone()).expect("struct");
    s.put("id", Value::Int64(-42)).expect("id");
    s.put("name", Value::String("Ada Lovelace ✓".into())).expect("name");
    s.put("tags", Value::Array(vec![Value::String("a".into()), Value::String("".into())])).expect("tags");
    s.put("by_id", Value::Map(vec![(Value::Int32(1), Value::String("one".into()))])).expect("map");
    s.put("small", Value::Int16(-300)).expect("small");
    s.put("price", Value::Bytes(vec![0x30, 0x39])).expect("price");
    Value::Struct(s)
}

#[test]
fn values_round_trip_through_avro_binary() {
    let schema = user_schema();
    let node = from_connect(&schema, META).expect("maps");
    let value = sample_user(&schema);
    let mut out = Vec::new();
    plan(&schema, &node).expect("plan").encode(&value, &mut out).expect("encodes");

    // Read back with the Connect schema the Avro schema maps to: equal schema, equal value.
    let text = to_json(&node).expect("json");
    let back_schema = to_connect(&parse(&text).expect("parses"), None, true).expect("to connect");
    assert_eq!(*back_schema, *schema);
    let mut r = Reader::new(&out);
    let back = plan(&back_schema, &parse(&text).expect("parses")).expect("plan").decode(&mut r).expect("decodes");
    assert_eq!(r.remaining(), 0);
    // The default of `score` is written for its null.
    let Value::Struct(b) = &back else { panic!("not a struct") };
    assert_eq!(b.get_index(2), Some(&Value::Int32(7)));
    let Value::Struct(orig) = &value else { panic!("not a struct") };
    for i in [0, 1, 3, 4, 5, 6] {
        assert_eq!(b.get_index(i), orig.get_index(i), "field {i}");
    }

    // apache-avro reads our bytes with the same schema.
    let avro_schema = apache_avro::Schema::parse_str(&text).expect("schema");
    let reader = apache_avro::reader::datum::GenericDatumReader::builder(&avro_schema).build().expect("reader");
    let decoded = reader.read_value(&mut &out[..]).expect("apache-avro reads it");
    let apache_avro::types::Value::Record(fields) = decoded else { panic!("not a record") };
    assert_eq!(fields[0], ("id".to_owned(), apache_avro::types::Value::Long(-42)));
}

#[test]
fn avro_written_by_others_maps_to_connect() {
    let text = r#"{"type":"record","name":"Reading","namespace":"iot","doc":"one reading","fields":[
        {"name":"sensor","type":"string","doc":"sensor id"},
        {"name":"kind","type":{"type":"enum","name":"Kind","symbols":["TEMP","HUM"]}},
        {"name":"value","type":["null","double","string"]},
        {"name":"raw","type":{"type":"fixed","name":"Raw","size":2}},
        {"name":"level","type":"int","default":5},
        {"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
        {"name":"props","type":{"type":"map","values":"long"}}]}"#;
    let node = parse(text).expect("parses");
    let schema = to_connect(&node, Some(4), true).expect("maps");
    assert_eq!(schema.name(), Some("iot.Reading"));
    assert_eq!(schema.version(), Some(4));
    assert_eq!(
        schema.parameters().get("io.confluent.connect.avro.record.doc").map(String::as_str),
        Some("one reading")
    );
    let kind = &schema.field("kind").expect("kind").schema;
    assert_eq!(kind.kind(), SchemaType::String);
    assert_eq!(kind.parameters().get("io.confluent.connect.avro.Enum").map(String::as_str), Some("iot.Kind"));
    let value = &schema.field("value").expect("value").schema;
    assert_eq!(value.name(), Some("io.confluent.connect.avro.Union"));
    assert!(value.is_optional());
    assert_eq!(value.fields().iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["double", "string"]);
    let level = &schema.field("level").expect("level").schema;
    assert_eq!(level.default_value(), Some(&Value::Int32(5)));
    assert_eq!(level.parameters().get("io.confluent.connect.avro.field.default").map(String::as_str), Some("true"));
    assert_eq!(schema.field("at").expect("at").schema.name(), Some("org.apache.kafka.connect.data.Timestamp"));
    assert_eq!(
        schema.field("raw").expect("raw").schema.parameters().get("connect.fixed.size").map(String::as_str),
        Some("2")
    );

    // Encode with apache-avro, decode with ours.
    use apache_avro::types::Value as A;
    let avro_schema = apache_avro::Schema::parse_str(text).expect("schema");
    let record = A::Record(vec![
        ("sensor".into(), A::String("s-1".into())),
        ("kind".into(), A::Enum(1, "HUM".into())),
        ("value".into(), A::Union(2, Box::new(A::String("n/a".into())))),
        ("raw".into(), A::Fixed(2, vec![1, 2])),
        ("level".into(), A::Int(9)),
        ("at".into(), A::TimestampMillis(1_700_000_000_000)),
        ("props".into(), A::Map([("k".to_owned(), A::Long(3))].into_iter().collect())),
    ]);
    let mut bytes = Vec::new();
    apache_avro::writer::datum::GenericDatumWriter::builder(&avro_schema)
        .build()
        .expect("writer")
        .write_value(&mut bytes, record)
        .expect("apache-avro writes");
    let mut r = Reader::new(&bytes);
    let v = plan(&schema, &node).expect("plan").decode(&mut r).expect("decodes");
    let Value::Struct(s) = v else { panic!("not a struct") };
    assert_eq!(s.get("kind"), Some(&Value::String("HUM".into())));
    let Some(Value::Struct(u)) = s.get("value") else { panic!("union is a struct") };
    assert_eq!(u.get("string"), Some(&Value::String("n/a".into())));
    assert_eq!(u.get("double"), Some(&Value::Null));
    assert_eq!(s.get("raw"), Some(&Value::Bytes(vec![1, 2])));
    assert_eq!(s.get("at"), Some(&Value::Int64(1_700_000_000_000)));
    assert_eq!(s.get("props"), Some(&Value::Map(vec![(Value::String("k".into()), Value::Int64(3))])));
}

#[test]
fn hostile_bytes_are_errors_not_panics() {
    let schema = user_schema();
    let node = from_connect(&schema, META).expect("maps");
    let p = plan(&schema, &node).expect("plan");
    let mut good = Vec::new();
    p.encode(&sample_user(&schema), &mut good).expect("encodes");
    for cut in 0..good.len() {
        assert!(p.decode(&mut Reader::new(&good[..cut])).is_err(), "truncated at {cut} must fail");
    }
    // A huge array count, a negative string length, an overlong varint.
    for bad in [&[0x02, 0xfe, 0xff, 0xff, 0xff, 0x0f][..], &[0x02, 0x00, 0x01][..], &[0xff; 12][..]] {
        assert!(p.decode(&mut Reader::new(bad)).is_err());
    }
}

#[test]
fn bad_configs_name_the_key() {
    use std::collections::BTreeMap;
    let make = |pairs: &[(&str, &str)]| {
        let props: BTreeMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        super::AvroConverter::new(&props, false).map(|_| ()).map_err(|e| e.chain())
    };
    let e = make(&[]).expect_err("url required");
    assert!(e.contains("schema.registry.url"), "{e}");
    let e = make(&[("schema.registry.url", "localhost:8081")]).expect_err("scheme");
    assert!(e.contains("schema.registry.url") && e.contains("http://"), "{e}");
    let e = make(&[("schema.registry.url", "http://r:8081"), ("enhanced.avro.schema.support", "true")])
        .expect_err("enhanced");
    assert!(e.contains("enhanced.avro.schema.support"), "{e}");
    let e = make(&[("schema.registry.url", "http://r:8081"), ("basic.auth.credentials.source", "USER_INFO")])
        .expect_err("user info");
    assert!(e.contains("basic.auth.user.info"), "{e}");
    let e = make(&[("schema.registry.url", "http://r:8081"), ("value.subject.name.strategy", "Nope")])
        .expect_err("strategy");
    assert!(e.contains("value.subject.name.strategy"), "{e}");
    make(&[
        ("schema.registry.url", "http://u:p@r:8081,http://s:8081"),
        ("value.subject.name.strategy", "RecordNameStrategy"),
    ])
    .expect("valid");
}

#[test]
fn secrets_stay_out_of_debug_output() {
    use std::collections::BTreeMap;
    let props: BTreeMap<String, String> = [
        ("schema.registry.url".to_owned(), "http://r:8081".to_owned()),
        ("basic.auth.credentials.source".to_owned(), "USER_INFO".to_owned()),
        ("basic.auth.user.info".to_owned(), "alice:s3cr3t".to_owned()),
    ]
    .into();
    let c = super::AvroConverter::new(&props, false).expect("converter");
    assert!(!format!("{c:?}").contains("s3cr3t"));
}

#[test]
fn nested_empty_items_share_one_budget() {
    // Ten arrays of a million empty records each, from 42 bytes.
    let schema = r#"{"type":"array","items":{"type":"array","items":{"type":"record","name":"E","fields":[]}}}"#;
    let mut data = vec![20u8]; // 10 outer items
    for _ in 0..10 {
        super::codec::write_long(&mut data, 1_000_000);
        data.push(0);
    }
    data.push(0);
    let e = super::read_datum(schema, &data).expect_err("refused").chain();
    assert!(e.contains("take no bytes"), "{e}");
}

#[test]
fn schemas_that_explode_when_inlined_are_refused() {
    let mut text = String::from(r#"{"type":"record","name":"T0","fields":[{"name":"x","type":"int"}]}"#);
    // T_i has two fields of type T_{i-1}: 2^30 nodes once inlined.
    let mut defs = vec![text.clone()];
    for i in 1..30 {
        defs.push(format!(
            r#"{{"type":"record","name":"T{i}","fields":[{{"name":"a","type":{prev}}},{{"name":"b","type":"T{p}"}}]}}"#,
            prev = defs[i - 1],
            p = i - 1
        ));
    }
    text = defs.pop().unwrap_or_default();
    let started = std::time::Instant::now();
    let e = super::read_datum(&text, &[]).expect_err("refused").chain();
    assert!(e.contains("expands to more than"), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let big_fixed = r#"{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"fixed","name":"F","size":9223372036854775807}}]}"#;
    assert!(super::read_datum(big_fixed, &[]).is_err());
}

#[test]
fn an_unknown_schema_id_is_remembered_not_asked_again() {
    use std::io::{Read, Write};
    use tributary_runtime::api::Converter;
    // A registry that answers one request (schema not found), then is gone.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().expect("accept");
        let mut buf = [0u8; 4096];
        let _ = conn.read(&mut buf);
        let body = r#"{"error_code":40403,"message":"Schema 12345 not found"}"#;
        let answer = format!(
            "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = conn.write_all(answer.as_bytes());
    });
    let props = std::collections::BTreeMap::from([
        ("schema.registry.url".to_owned(), format!("http://127.0.0.1:{port}")),
        ("request.timeout.ms".to_owned(), "2000".to_owned()),
    ]);
    let conv = super::AvroConverter::new(&props, false).expect("converter");
    let record = [0u8, 0, 0, 0x30, 0x39, 2];
    let first = conv.to_connect("t", Some(&record)).expect_err("unknown id");
    server.join().expect("server");
    assert!(first.chain().contains("12345"), "{}", first.chain());
    assert!(!first.is_retriable());
    // The registry is gone now: the same answer comes from memory, not a connection error.
    let second = conv.to_connect("t", Some(&record)).expect_err("still unknown");
    assert_eq!(second.chain(), first.chain());
}
