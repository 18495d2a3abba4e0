//! Message content and mail-domain data (no I/O): parsing (mail-parser), building (mail-builder), threading and HTML to text.

pub mod attachment;
pub mod compose;
pub mod folder;
pub mod html;
pub mod links;
pub mod mailto;
pub mod parse;
pub mod quote;
pub mod reply;
