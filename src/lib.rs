//! Tern: a desktop email client. The library holds every layer; `main.rs` is a thin edge.
//!
//! Layers depend one way: `ui → engine → {protocol, store, mail}`; `account` holds settings and
//! credentials shared by all; `cli` drives the engine headlessly; `instance` keeps one window per
//! data directory. See ARCHITECTURE.md.

pub mod account;
pub mod cli;
pub mod engine;
pub mod fuzzing;
pub mod instance;
pub mod mail;
pub mod protocol;
pub mod store;
pub mod ui;
