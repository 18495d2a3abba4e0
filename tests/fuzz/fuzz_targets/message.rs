//! cargo-fuzz target: `tern::fuzzing::message`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tern::fuzzing::message(data));
