//! cargo-fuzz target: `tern::fuzzing::imap_responses`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tern::fuzzing::imap_responses(data));
