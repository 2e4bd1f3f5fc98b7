//! Any bytes read as an Avro datum of a schema with every type the Connect mapping knows: an
//! error or a value, never a panic or a runaway allocation; a value read writes back and reads
//! again to the same value (the check is shared with `converters/tests/avro_datum.rs`).
//!
//! Run: `cargo +nightly fuzz run --sanitizer none avro_datum -- -max_total_time=60`.
#![no_main]

#[path = "../../converters/tests/common/avro_datum.rs"]
mod check;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| check::round_trip(data));
