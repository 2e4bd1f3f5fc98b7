use super::*;
use tributary_runtime::api::{SchemaBuilder, SchemaType, Struct};

fn conv(schemas: bool) -> JsonConverter {
    JsonConverter::new(&BTreeMap::from([("schemas.enable".to_owned(), schemas.to_string())])).unwrap()
}

fn text(b: Option<Vec<u8>>) -> String {
    String::from_utf8(b.unwrap()).unwrap()
}

#[test]
fn string_with_schema_matches_kafka_connect_bytes() {
    let s = Schema::primitive(SchemaType::String);
    let out = conv(true).from_connect("t", Some(&s), &Value::from("hello")).unwrap();
    assert_eq!(text(out), r#"{"schema":{"type":"string","optional":false},"payload":"hello"}"#);
}

#[test]
fn struct_envelope_matches_kafka_connect_layout() {
    let s = SchemaBuilder::struct_()
        .name("ksql.users")
        .field("id", Schema::primitive(SchemaType::Int64))
        .unwrap()
        .field("tags", SchemaBuilder::array(Schema::primitive(SchemaType::String)).optional().build_arc())
        .unwrap()
        .field("d", SchemaBuilder::decimal(2).optional().build_arc())
        .unwrap()
        .build_arc();
    let v =
        Struct::new(s.clone()).unwrap().with("id", 7i64).unwrap().with("d", Value::Bytes(vec![0x30, 0x39])).unwrap();
    let out = text(conv(true).from_connect("t", Some(&s), &Value::Struct(v.clone())).unwrap());
    assert_eq!(
        out,
        r#"{"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"},{"type":"array","items":{"type":"string","optional":false},"optional":true,"field":"tags"},{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"d"}],"optional":false,"name":"ksql.users"},"payload":{"id":7,"tags":null,"d":"MDk="}}"#
    );
    let back = conv(true).to_connect("t", Some(out.as_bytes())).unwrap();
    assert_eq!(back.value, Value::Struct(v));
    assert_eq!(back.schema.as_deref(), Some(s.as_ref()));
}

#[test]
fn schemaless_reads_plain_json() {
    let back = conv(false).to_connect("t", Some(br#"{"a":1,"b":[true,2.5]}"#)).unwrap();
    assert_eq!(
        back.value,
        Value::Map(vec![
            (Value::from("a"), Value::Int64(1)),
            (Value::from("b"), Value::Array(vec![Value::Boolean(true), Value::Float64(2.5)]))
        ])
    );
}

#[test]
fn envelope_required_when_schemas_enabled() {
    let err = conv(true).to_connect("t", Some(br#"{"a":1}"#)).unwrap_err();
    assert!(err.to_string().contains("set schemas.enable=false"), "{err}");
}

#[test]
fn corrupt_json_is_a_data_error_not_a_panic() {
    let err = conv(true).to_connect("t", Some(b"{\"schema\":")).unwrap_err();
    assert_eq!(err.kind(), tributary_runtime::api::ErrorKind::Data);
}

#[test]
fn null_without_schema_is_a_tombstone() {
    assert_eq!(conv(true).from_connect("t", None, &Value::Null).unwrap(), None);
    assert_eq!(conv(true).to_connect("t", None).unwrap(), SchemaAndValue::null());
}

#[test]
fn map_with_non_string_keys_is_an_array_of_pairs() {
    let s = SchemaBuilder::map(Schema::primitive(SchemaType::Int32), Schema::primitive(SchemaType::String)).build_arc();
    let v = Value::Map(vec![(Value::Int32(1), Value::from("a"))]);
    let out = text(conv(false).from_connect("t", Some(&s), &v).unwrap());
    assert_eq!(out, r#"[[1,"a"]]"#);
}

#[test]
fn quoted_non_finite_floats_read_as_their_values() {
    let back = conv(true)
        .to_connect("t", Some(br#"{"schema":{"type":"double","optional":false},"payload":"-Infinity"}"#))
        .unwrap();
    assert_eq!(back.value, Value::Float64(f64::NEG_INFINITY));
    let err = conv(true).to_connect("t", Some(br#"{"schema":{"type":"double","optional":false},"payload":"x"}"#));
    assert!(err.is_err(), "other strings are not numbers");
}

#[test]
fn overflowing_numbers_round_trip_as_kafka_writes_them() {
    // Found by the fuzzer: a number beyond f64 reads as infinity and is written quoted.
    let c = conv(false);
    let read = c.to_connect("t", Some(b"1.7976931372485163E308")).unwrap();
    let written = c.from_connect("t", read.schema.as_ref(), &read.value).unwrap().unwrap();
    assert_eq!(written, b"\"Infinity\"");
    let again = c.to_connect("t", Some(&written)).unwrap();
    assert_eq!(c.from_connect("t", again.schema.as_ref(), &again.value).unwrap().unwrap(), written);
}
