//! Bounded property-test versions of the cargo-fuzz targets in `fuzz/` (same harnesses, from
//! `tests/engine_fuzz_harness/`): segment decoding over arbitrary bytes, and recovery of stores
//! made of arbitrary segment and offset files. They run in the normal suite; the fuzzers run
//! for longer on demand (see fuzz/README.md).

mod engine_fuzz_harness;

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn scan_walk_never_panics(data in prop::collection::vec(any::<u8>(), 0..400)) {
        engine_fuzz_harness::scan_walk(&data);
    }
}

/// Bytes biased towards what records are made of (0x00, 0xFF, 0xEE, small lengths).
fn store_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => Just(0u8),
        3 => Just(0xFFu8),
        1 => Just(0xEEu8),
        2 => 0u8..16,
        3 => any::<u8>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn recovery_of_arbitrary_stores_ends_consistent(
        data in prop::collection::vec(store_byte(), 0..300)
    ) {
        engine_fuzz_harness::recovery(&data);
    }
}

/// A fuzz finding kept as a fixed case: a fixed store whose consumer sits on a leftover record
/// after an unwritten slot; after the repair, `StartAt::Latest` must be where the producer
/// appends.
#[test]
fn recovery_fixed_consumer_on_a_leftover_record_after_an_unwritten_slot() {
    engine_fuzz_harness::recovery(&[0, 238, 0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 0, 71, 0, 0, 1, 6]);
}

/// Fuzz findings kept as fixed cases (issue #14's gap rules): a store whose records start far
/// past an empty first segment, zeros in no file below the confirmed offset, and a fixed store
/// whose damage below the scan is left alone while the producer appends past it. After the
/// repair and an append, nothing needs a repair and `StartAt::Latest` is where the producer
/// appends.
#[test]
fn recovery_gap_and_data_end_findings() {
    // Empty stream files at 0 and 1, zeros at 2, no offsets but a one-byte confirmed file.
    let mut empty_files = vec![1, 188, 8, 0, 0, 0, 0, 0, 0, 0, 193];
    empty_files.extend([0; 61]);
    empty_files.extend([238, 255]);
    engine_fuzz_harness::recovery(&empty_files);
    engine_fuzz_harness::recovery(&[
        238, 0, 0, 0, 0, 0, 238, 0, 0, 0, 0, 0, 0, 0, 1, 238, 0, 0, 0, 0, 0, 255, 0, 0, 0,
    ]);
    engine_fuzz_harness::recovery(&[
        0, 5, 0, 255, 0, 0, 0, 255, 0, 0, 198, 0, 0, 0, 0, 0, 255, 0, 0, 4, 1, 255, 0, 0, 0, 0, 0,
        0,
    ]);
    engine_fuzz_harness::recovery(&[
        0, 255, 0, 255, 0, 0, 255, 238, 0, 255, 0, 0, 0, 255, 6, 0, 255, 26, 11, 238, 0,
    ]);
}
