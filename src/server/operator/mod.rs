//! The operator's calls: managing upload links and reading the record. Each needs the
//! operator's session (`--access-password`); without a password set there is no
//! operator on the page, and links are managed with `s3drop links`.

pub mod links;
pub mod record;
