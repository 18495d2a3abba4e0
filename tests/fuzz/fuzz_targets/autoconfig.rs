//! cargo-fuzz target: `tern::fuzzing::autoconfig`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tern::fuzzing::autoconfig(data));
