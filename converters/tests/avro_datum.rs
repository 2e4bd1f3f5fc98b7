//! Avro datums through `read_datum` / `write_datum`: inputs the fuzz target
//! (`fuzz/fuzz_targets/avro_datum.rs`) found, kept as regression tests.

#[path = "common/avro_datum.rs"]
mod check;

#[test]
fn fuzz_findings_round_trip() {
    check::round_trip(&[
        0, 35, 251, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 96, 0, 0, 0,
        0, 0, 0, 0, 0, 122, 0,
    ]);
}
