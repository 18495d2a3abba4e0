//! Server discovery for the setup wizard (issue 12): the Thunderbird autoconfig format
//! (`config-v1.1.xml`, as served by providers, their `/.well-known/` URL and the ISPDB),
//! parsed completely, with the username placeholders filled in, and the choice of the best
//! server per protocol (implicit TLS, then STARTTLS, never plain unless asked for).
//!
//! Fetching (HTTP, DNS) comes on top of this; the parser does no I/O.

mod xml;

pub use xml::{Auth, AutoconfigError, ProviderConfig, ServerConfig, ServerKind, parse};
