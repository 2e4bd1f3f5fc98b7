use std::collections::BTreeMap;

use tributary_runtime::api::{Schema, SchemaType, Value};

use super::*;

fn registry() -> Registry {
    let mut r = Registry::new();
    register(&mut r);
    r
}

const KAFKA: [&str; 9] = [
    "org.apache.kafka.connect.converters.BooleanConverter",
    "org.apache.kafka.connect.converters.ByteArrayConverter",
    "org.apache.kafka.connect.converters.DoubleConverter",
    "org.apache.kafka.connect.converters.FloatConverter",
    "org.apache.kafka.connect.converters.IntegerConverter",
    "org.apache.kafka.connect.converters.LongConverter",
    "org.apache.kafka.connect.converters.ShortConverter",
    "org.apache.kafka.connect.json.JsonConverter",
    "org.apache.kafka.connect.storage.StringConverter",
];

#[test]
fn lists_kafkas_converters_and_header_converters() {
    let r = registry();
    let mut converters: Vec<&str> = r.converters().iter().map(|p| p.class).collect();
    converters.sort_unstable();
    let mut expected: Vec<&str> = KAFKA.to_vec();
    expected.push(avro::CLASS);
    expected.sort_unstable();
    assert_eq!(converters, expected);
    let mut headers: Vec<&str> = r.header_converters().iter().map(|p| p.class).collect();
    headers.sort_unstable();
    let mut expected: Vec<&str> = KAFKA.to_vec();
    expected.push(string::HEADER_CLASS);
    expected.sort_unstable();
    assert_eq!(headers, expected);
}

#[test]
fn resolves_class_simple_and_short_names() {
    let r = registry();
    for (name, class) in [
        ("IntegerConverter", NumberType::Integer.class()),
        ("Integer", NumberType::Integer.class()),
        ("org.apache.kafka.connect.converters.LongConverter", NumberType::Long.class()),
        ("Double", NumberType::Double.class()),
        ("Boolean", boolean::CLASS),
        ("ShortConverter", NumberType::Short.class()),
        ("Float", NumberType::Float.class()),
    ] {
        assert_eq!(r.converter(name).unwrap().class, class, "{name}");
        assert_eq!(r.header_converter(name).unwrap().class, class, "{name}");
    }
    assert_eq!(r.header_converter("JsonConverter").unwrap().class, json::CLASS);
    assert_eq!(r.header_converter("json").unwrap().class, json::CLASS);
    assert_eq!(r.header_converter("StringConverter").unwrap().class, string::CLASS);
    assert_eq!(r.header_converter("ByteArray").unwrap().class, bytes::CLASS);
    assert!(r.header_converter("AvroConverter").is_err(), "Confluent's AvroConverter is no header converter");
}

#[test]
fn factories_set_the_converter_type_as_kafka_does() {
    let r = registry();
    // A user's converter.type is overwritten, as Kafka's configure(props, isKey) does.
    let odd = BTreeMap::from([("converter.type".to_owned(), "not-a-type".to_owned())]);
    for class in KAFKA {
        let c = r.converter(class).unwrap();
        assert!(c.factory.create(&BTreeMap::new(), true).is_ok(), "{class}");
        assert!(c.factory.create(&odd, false).is_ok(), "{class}");
        let h = r.header_converter(class).unwrap();
        assert!((h.factory)(&BTreeMap::new()).is_ok(), "{class}");
        assert!((h.factory)(&odd).is_ok(), "{class}");
    }
}

#[test]
fn config_definitions_start_with_converter_type() {
    let r = registry();
    for class in KAFKA {
        let def = (r.converter(class).unwrap().config_def)();
        assert_eq!(def.keys().first().map(|k| k.name.as_str()), Some("converter.type"), "{class}");
        let header_def = (r.header_converter(class).unwrap().config_def)();
        assert_eq!(header_def.keys().len(), def.keys().len(), "{class}");
    }
    assert!((r.header_converter(string::HEADER_CLASS).unwrap().config_def)().keys().is_empty());
    let json: Vec<String> = json::config_def().keys().iter().map(|k| k.name.clone()).collect();
    assert_eq!(
        json,
        ["converter.type", "schemas.enable", "schemas.cache.size", "decimal.format", "replace.null.with.default"]
    );
}

#[test]
fn header_converters_write_what_the_converters_write() {
    let r = registry();
    let cases = [
        ("Integer", Some(Schema::primitive(SchemaType::Int32)), Value::Int32(7)),
        ("Boolean", None, Value::Boolean(true)),
        ("String", None, Value::from("x")),
        ("ByteArray", None, Value::Bytes(vec![1, 2])),
        ("Json", Some(Schema::primitive(SchemaType::Int64)), Value::Int64(-1)),
    ];
    for (name, schema, value) in cases {
        let c = r.converter(name).unwrap().factory.create(&BTreeMap::new(), false).unwrap();
        let h = (r.header_converter(name).unwrap().factory)(&BTreeMap::new()).unwrap();
        let bytes = c.from_connect("t", schema.as_ref(), &value).unwrap();
        assert_eq!(h.from_connect_header("t", "k", schema.as_deref(), &value).unwrap(), bytes, "{name}");
        assert_eq!(
            h.to_connect_header("t", "k", bytes.as_deref()).unwrap(),
            c.to_connect("t", bytes.as_deref()).unwrap()
        );
    }
}

#[test]
fn json_header_converter_keeps_the_envelope_setting() {
    let plain = BTreeMap::from([("schemas.enable".to_owned(), "false".to_owned())]);
    let h = json_header(&plain).unwrap();
    let bytes = h.from_connect_header("t", "k", Some(&Schema::primitive(SchemaType::Int32)), &Value::Int32(3)).unwrap();
    assert_eq!(bytes.as_deref(), Some(&b"3"[..]));
    let h = json_header(&BTreeMap::new()).unwrap();
    let bytes = h.from_connect_header("t", "k", Some(&Schema::primitive(SchemaType::Int32)), &Value::Int32(3)).unwrap();
    assert_eq!(bytes.as_deref(), Some(&br#"{"schema":{"type":"int32","optional":false},"payload":3}"#[..]));
    assert_eq!(h.to_connect_header("t", "k", bytes.as_deref()).unwrap().value, Value::Int32(3));
    assert!(h.to_connect_header("t", "k", Some(b"3")).is_err(), "an enveloped converter needs the envelope");
    assert_eq!(h.from_connect_header("t", "k", None, &Value::Null).unwrap(), None);
}

#[test]
fn no_input_bytes_make_a_converter_panic() {
    let r = registry();
    let converters: Vec<Box<dyn Converter>> =
        KAFKA.iter().map(|c| r.converter(c).unwrap().factory.create(&BTreeMap::new(), false).unwrap()).collect();
    let headers: Vec<Box<dyn HeaderConverter>> =
        KAFKA.iter().map(|c| (r.header_converter(c).unwrap().factory)(&BTreeMap::new()).unwrap()).collect();
    let mut inputs: Vec<Vec<u8>> = vec![vec![]];
    inputs.extend((0..=255u8).map(|b| vec![b]));
    inputs.extend((0..=u16::MAX).step_by(7).map(|v| v.to_be_bytes().to_vec()));
    // A fixed xorshift sequence of longer inputs.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for len in 3..40 {
        for _ in 0..40 {
            let bytes = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x.to_le_bytes()[0]
                })
                .collect();
            inputs.push(bytes);
        }
    }
    for bytes in &inputs {
        for c in &converters {
            let _ = c.to_connect("t", Some(bytes));
        }
        for h in &headers {
            let _ = h.to_connect_header("t", "k", Some(bytes));
        }
    }
}
