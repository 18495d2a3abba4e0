//! Test support: private Dovecot and Postfix servers, raw protocol clients, a message generator.
//! Each test binary uses part of it.
#![allow(
    dead_code,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod certs;
pub mod cli;
pub mod corpus;
pub mod discovery;
pub mod fake_pop3;
pub mod fake_smtp;
pub mod mailbox;
pub mod pop3_cli;
pub mod proxy;
pub mod raw;
pub mod screens;
pub mod servers;
pub mod trials;
pub mod wire;

pub use servers::{MailServers, User};
