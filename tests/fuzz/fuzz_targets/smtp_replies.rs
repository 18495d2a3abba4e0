//! cargo-fuzz target: `tern::fuzzing::smtp_replies`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tern::fuzzing::smtp_replies(data));
