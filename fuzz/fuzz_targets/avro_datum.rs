//! Any bytes read as an Avro datum of a schema with every type the Connect mapping knows
//! (records, unions, enums, fixed, decimals, maps with string and non-string keys, arrays,
//! logical types): an error or a value, never a panic or a runaway allocation; and a value
//! read writes back to the same bytes it was read from.
//!
//! Run: `cargo +nightly fuzz run --sanitizer none avro_datum -- -max_total_time=60`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary_converters::avro::{read_datum, write_datum};

const SCHEMA: &str = r#"{"type":"record","name":"All","namespace":"fuzz","fields":[
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

fuzz_target!(|data: &[u8]| {
    if let Ok(read) = read_datum(SCHEMA, data) {
        let schema = read.schema.expect("a schema");
        // Some Avro schemas have no way back through Connect (a union of a string and an enum
        // becomes two strings, as with Confluent's converter): an error then, never a panic.
        let Ok((text, bytes)) = write_datum(&schema, &read.value) else { return };
        // Read back with the schema it was written with (Connect's mapping writes enums as
        // strings, as Confluent's does); blocks may be split differently, the value must be the
        // same (compared as text, where NaN equals NaN).
        let again = read_datum(&text, &bytes).expect("our own output reads back");
        assert_eq!(format!("{:?}", again.value), format!("{:?}", read.value));
    }
});
