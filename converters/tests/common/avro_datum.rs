//! The Avro datum round trip shared by the fuzz target (`fuzz/fuzz_targets/avro_datum.rs`) and
//! its regression tests (`converters/tests/avro_datum.rs`): any bytes read as a datum of a
//! schema with every type the Connect mapping knows are an error or a value, never a panic or
//! a runaway allocation; a value read writes back and reads again to the same value.

use tributary_converters::avro::{read_datum, write_datum};

/// Records, unions, enums, fixed, decimals, maps with string and non-string keys, arrays of
/// records and of empty records, logical types.
pub(crate) const SCHEMA: &str = r#"{"type":"record","name":"All","namespace":"fuzz","fields":[
 {"name":"b","type":"boolean"},{"name":"i","type":"int"},{"name":"l","type":"long"},
 {"name":"f","type":"float"},{"name":"d","type":"double"},{"name":"s","type":"string"},
 {"name":"by","type":"bytes"},{"name":"i8","type":{"type":"int","connect.type":"int8"}},
 {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B","C"]}},
 {"name":"fx","type":{"type":"fixed","name":"F","size":3}},
 {"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
 {"name":"fdec","type":{"type":"fixed","name":"FD","size":4,"logicalType":"decimal","precision":9,"scale":2}},
 {"name":"day","type":{"type":"int","logicalType":"date"}},
 {"name":"u","type":["null","long","string","E"]},
 {"name":"o","type":["null",{"type":"record","name":"In","fields":[{"name":"x","type":"int"}]}]},
 {"name":"a","type":{"type":"array","items":"In"}},
 {"name":"m","type":{"type":"map","values":["null","double"]}},
 {"name":"nm","type":{"type":"array","items":{"type":"record","name":"MapEntry","namespace":"io.confluent.connect.avro","fields":[{"name":"key","type":"int"},{"name":"value","type":"string"}]}}},
 {"name":"empty","type":{"type":"array","items":{"type":"record","name":"Nothing","fields":[]}}}]}"#;

/// Reads `data`; when it is a value, writes it back and reads that again.
pub(crate) fn round_trip(data: &[u8]) {
    let Ok(read) = read_datum(SCHEMA, data) else { return };
    let schema = read.schema.expect("a schema");
    // Some Avro schemas have no way back through Connect (a union of a string and an enum
    // becomes two strings, as with Confluent's converter): an error then, never a panic.
    let Ok((text, bytes)) = write_datum(&schema, &read.value) else { return };
    let again = read_datum(&text, &bytes)
        .unwrap_or_else(|e| panic!("{e:?}\nread {:?}\nfrom {data:?}\nwrote {bytes:?}", read.value));
    assert_eq!(format!("{:?}", again.value), format!("{:?}", read.value));
}
