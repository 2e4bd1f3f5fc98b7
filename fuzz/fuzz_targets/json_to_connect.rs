//! Any bytes given to the JsonConverter's reader: an error or a value, never a panic; and a
//! value read with a schema writes back and reads again to the same value.
//!
//! Run: `cargo +nightly fuzz run json_to_connect -- -max_total_time=60` from the repository root.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use tributary_converters::json::JsonConverter;
use tributary_runtime::api::Converter;

fuzz_target!(|data: &[u8]| {
    for schemas in ["true", "false"] {
        for format in ["BASE64", "NUMERIC"] {
            let props = BTreeMap::from([
                ("schemas.enable".to_owned(), schemas.to_owned()),
                ("decimal.format".to_owned(), format.to_owned()),
            ]);
            let Ok(conv) = JsonConverter::new(&props) else { return };
            if let Ok(read) = conv.to_connect("fuzz", Some(data)) {
                if let Ok(Some(bytes)) = conv.from_connect("fuzz", read.schema.as_ref(), &read.value) {
                    let again = conv.to_connect("fuzz", Some(&bytes)).expect("our own output reads back");
                    let bytes_again = conv.from_connect("fuzz", again.schema.as_ref(), &again.value).expect("writes");
                    assert_eq!(Some(bytes), bytes_again, "write → read → write is stable");
                }
            }
        }
    }
});
