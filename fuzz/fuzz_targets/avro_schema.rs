//! Any text as the writer schema a registry hands the AvroConverter: an error or a Connect
//! schema, never a panic; schemas that map also read an empty and a short datum safely.
//!
//! Run: `cargo +nightly fuzz run --sanitizer none avro_schema -- -max_total_time=60`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary_converters::avro::read_datum;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = read_datum(text, &[]);
    let _ = read_datum(text, &[2, 4, 6, 8, 0, 1]);
});
