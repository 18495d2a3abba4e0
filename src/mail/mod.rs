//! Message content: parsing (mail-parser), building (mail-builder), threading and HTML to text.

pub mod parse;
