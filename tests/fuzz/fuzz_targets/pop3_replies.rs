//! cargo-fuzz target: `tern::fuzzing::pop3_replies`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tern::fuzzing::pop3_replies(data));
