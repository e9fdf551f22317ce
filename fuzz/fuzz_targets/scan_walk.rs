//! Fuzzes segment decoding: `scan::walk` over arbitrary bytes with arbitrary small parameters
//! (harness shared with tests/engine_fuzz_props.rs).
#![no_main]

#[path = "../../tests/engine_fuzz_harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::scan_walk(data));
