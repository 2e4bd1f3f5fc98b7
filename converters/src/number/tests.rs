use std::collections::BTreeMap;

use tributary_runtime::api::ErrorKind;

use super::*;

fn conv(kind: NumberType) -> NumberConverter {
    NumberConverter::new(kind, &BTreeMap::new()).unwrap()
}

fn write(kind: NumberType, v: Value) -> Option<Vec<u8>> {
    conv(kind).from_connect("t", None, &v).unwrap()
}

fn read(kind: NumberType, bytes: &[u8]) -> Value {
    conv(kind).to_connect("t", Some(bytes)).unwrap().value
}

#[test]
fn integers_are_big_endian_twos_complement() {
    assert_eq!(write(NumberType::Short, Value::Int16(0x1234)), Some(vec![0x12, 0x34]));
    assert_eq!(write(NumberType::Short, Value::Int16(-2)), Some(vec![0xff, 0xfe]));
    assert_eq!(write(NumberType::Integer, Value::Int32(1)), Some(vec![0, 0, 0, 1]));
    assert_eq!(write(NumberType::Integer, Value::Int32(i32::MIN)), Some(vec![0x80, 0, 0, 0]));
    assert_eq!(write(NumberType::Long, Value::Int64(-1)), Some(vec![0xff; 8]));
    assert_eq!(write(NumberType::Long, Value::Int64(0x0102_0304_0506_0708)), Some(vec![1, 2, 3, 4, 5, 6, 7, 8]));
}

#[test]
fn floats_are_big_endian_ieee_754() {
    assert_eq!(write(NumberType::Float, Value::Float32(1.5)), Some(vec![0x3f, 0xc0, 0, 0]));
    assert_eq!(write(NumberType::Float, Value::Float32(-0.0)), Some(vec![0x80, 0, 0, 0]));
    assert_eq!(write(NumberType::Double, Value::Float64(1.0)), Some(vec![0x3f, 0xf0, 0, 0, 0, 0, 0, 0]));
    assert_eq!(write(NumberType::Double, Value::Float64(f64::NEG_INFINITY)), Some(vec![0xff, 0xf0, 0, 0, 0, 0, 0, 0]));
}

#[test]
fn double_nans_are_canonical_and_float_nans_keep_their_bits() {
    let odd_double = f64::from_bits(0xfff0_0000_0000_0001);
    assert_eq!(write(NumberType::Double, Value::Float64(odd_double)), Some(vec![0x7f, 0xf8, 0, 0, 0, 0, 0, 0]));
    let odd_float = f32::from_bits(0x7f80_0001);
    assert_eq!(write(NumberType::Float, Value::Float32(odd_float)), Some(vec![0x7f, 0x80, 0, 1]));
    // Reading keeps whatever bits were written.
    match read(NumberType::Double, &[0xff, 0xf0, 0, 0, 0, 0, 0, 1]) {
        Value::Float64(v) => assert_eq!(v.to_bits(), 0xfff0_0000_0000_0001),
        other => panic!("{other:?}"),
    }
}

#[test]
fn round_trips_extremes_of_every_type() {
    let cases: Vec<(NumberType, Vec<Value>)> = vec![
        (NumberType::Short, vec![Value::Int16(i16::MIN), Value::Int16(0), Value::Int16(i16::MAX)]),
        (NumberType::Integer, vec![Value::Int32(i32::MIN), Value::Int32(-1), Value::Int32(i32::MAX)]),
        (NumberType::Long, vec![Value::Int64(i64::MIN), Value::Int64(42), Value::Int64(i64::MAX)]),
        (
            NumberType::Float,
            vec![Value::Float32(f32::MIN_POSITIVE), Value::Float32(f32::MAX), Value::Float32(f32::INFINITY)],
        ),
        (NumberType::Double, vec![Value::Float64(f64::MIN), Value::Float64(5e-324), Value::Float64(-0.0)]),
    ];
    for (kind, values) in cases {
        let c = conv(kind);
        for v in values {
            let bytes = c.from_connect("t", None, &v).unwrap().unwrap();
            assert_eq!(bytes.len(), kind.size());
            let back = c.to_connect("t", Some(&bytes)).unwrap();
            assert_eq!(back.value, v, "{kind:?}");
            let schema = back.schema.unwrap();
            assert_eq!((schema.kind(), schema.is_optional()), (kind.schema_type(), true));
        }
    }
}

#[test]
fn null_is_a_kafka_null_both_ways() {
    for kind in NumberType::ALL {
        let c = conv(kind);
        let schema = Schema::optional_primitive(kind.schema_type());
        assert_eq!(c.from_connect("t", Some(&schema), &Value::Null).unwrap(), None);
        let mut out = vec![9];
        assert!(!c.from_connect_into("t", None, &Value::Null, &mut out).unwrap());
        assert!(out.is_empty());
        let back = c.to_connect("t", None).unwrap();
        assert_eq!(back.value, Value::Null);
        assert_eq!(back.schema.map(|s| s.kind()), Some(kind.schema_type()));
    }
}

#[test]
fn wrong_sizes_are_data_errors_worded_as_kafka() {
    let cases = [
        (NumberType::Short, "Failed to deserialize short: Size of data received by ShortDeserializer is not 2"),
        (NumberType::Integer, "Failed to deserialize integer: Size of data received by IntegerDeserializer is not 4"),
        (NumberType::Long, "Failed to deserialize long: Size of data received by LongDeserializer is not 8"),
        (NumberType::Float, "Failed to deserialize float: Size of data received by Deserializer is not 4"),
        (NumberType::Double, "Failed to deserialize double: Size of data received by Deserializer is not 8"),
    ];
    for (kind, msg) in cases {
        let c = conv(kind);
        for len in [0, 1, kind.size() - 1, kind.size() + 1, 16] {
            let err = c.to_connect("t", Some(&vec![0u8; len])).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Data);
            assert_eq!(err.to_string(), msg);
            assert!(c.to_connect_header("t", "h", Some(&vec![0u8; len])).is_err());
        }
    }
}

#[test]
fn other_types_are_data_errors_even_narrower_ones() {
    let c = conv(NumberType::Integer);
    for (v, class) in [
        (Value::Int64(1), "class java.lang.Long"),
        (Value::Int16(1), "class java.lang.Short"),
        (Value::from("1"), "class java.lang.String"),
        (Value::Float32(1.0), "class java.lang.Float"),
        (Value::Bytes(vec![0, 0, 0, 1]), "class [B"),
        (Value::Boolean(true), "class java.lang.Boolean"),
    ] {
        let err = c.from_connect("t", None, &v).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Data);
        assert_eq!(err.to_string(), format!("Failed to serialize to integer (was {class})"));
    }
    let err = conv(NumberType::Double).from_connect("t", None, &Value::Float32(1.0)).unwrap_err();
    assert_eq!(err.to_string(), "Failed to serialize to double (was class java.lang.Float)");
}

#[test]
fn the_schema_given_is_ignored_when_writing() {
    // As in Kafka: NumberConverter never looks at the schema.
    let string = Schema::primitive(SchemaType::String);
    let c = conv(NumberType::Long);
    assert_eq!(c.from_connect("t", Some(&string), &Value::Int64(7)).unwrap(), Some(7i64.to_be_bytes().to_vec()));
}

#[test]
fn header_variant_matches_the_converter() {
    for kind in NumberType::ALL {
        let c = conv(kind);
        let v = match kind {
            NumberType::Short => Value::Int16(-300),
            NumberType::Integer => Value::Int32(70_000),
            NumberType::Long => Value::Int64(-5_000_000_000),
            NumberType::Float => Value::Float32(3.25),
            NumberType::Double => Value::Float64(-2.5e300),
        };
        let bytes = c.from_connect_header("t", "h", None, &v).unwrap();
        assert_eq!(bytes, c.from_connect("t", None, &v).unwrap());
        assert_eq!(
            c.to_connect_header("t", "h", bytes.as_deref()).unwrap(),
            c.to_connect("t", bytes.as_deref()).unwrap()
        );
        assert_eq!(c.from_connect_header("t", "h", None, &Value::Null).unwrap(), None);
        assert!(c.from_connect_header("t", "h", None, &Value::from("x")).is_err());
    }
}

#[test]
fn converter_type_is_its_only_key() {
    let keys: Vec<String> = config_def().keys().iter().map(|k| k.name.clone()).collect();
    assert_eq!(keys, ["converter.type"]);
    for t in ["key", "value", "header"] {
        let props = BTreeMap::from([("converter.type".to_owned(), t.to_owned())]);
        assert!(NumberConverter::new(NumberType::Short, &props).is_ok());
    }
    let props = BTreeMap::from([("converter.type".to_owned(), "nope".to_owned())]);
    let err = NumberConverter::new(NumberType::Short, &props).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("converter.type"), "{err}");
}

#[test]
fn class_names_and_types_are_kafkas() {
    let names: Vec<&str> = NumberType::ALL.iter().map(|k| k.class().rsplit('.').next().unwrap_or("")).collect();
    assert_eq!(names, ["ShortConverter", "IntegerConverter", "LongConverter", "FloatConverter", "DoubleConverter"]);
    assert_eq!(conv(NumberType::Float).kind(), NumberType::Float);
}
