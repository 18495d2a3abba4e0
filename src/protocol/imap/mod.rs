//! IMAP4rev1 client: the session layer (`session`) over imap-codec's fuzz-tested grammar, and
//! conversions from its types to Tern's (`folders`).

pub mod fetch;
pub mod folders;
pub mod preview;
pub mod session;
pub mod structure;

pub use session::{Completion, Endpoint, IdleEnd, PreviewItem, Session};
