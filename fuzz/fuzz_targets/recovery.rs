//! Fuzzes recovery planning: arbitrary bytes become segment and offset files of a temporary
//! store; inspect + plan + apply must not panic and must leave it consistent (harness shared
//! with tests/engine_fuzz_props.rs).
#![no_main]

#[path = "../../tests/engine_fuzz_harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::recovery(data));
