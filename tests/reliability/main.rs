//! The reliability suite in one test binary (one link, and its parts run side by side): cuts
//! on the wire, crashes, another client, TLS refusals, big and hostile messages, secrets and the
//! fuzz seeds. `docs/RELIABILITY.md` has the figures.

#[path = "../support/mod.rs"]
mod support;

mod big_messages;
mod crash_trials;
mod fuzz_seeds;
mod hostile_mail;
mod secrets;
mod tls_refusals;
mod wire_faults;
