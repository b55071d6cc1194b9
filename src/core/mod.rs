//! The pure logic both sides share: S3's limits, part planning, the upload policy, key
//! naming, part checksums, retry policy, concurrency limits, the transfer state
//! machine, upload speed and time left, upload tokens' claims and format, upload links'
//! limits, who a request's client is, webhook signatures, and API tokens' shape.
//!
//! Nothing here touches the browser, the network, a runtime or a clock; time comes in
//! as an argument, so every rule is unit-tested natively with plain `cargo test`.

pub mod api_token;
pub mod checksum;
pub mod concurrency;
pub mod forwarded;
pub mod key;
pub mod limits;
pub mod link;
pub mod plan;
pub mod policy;
pub mod retry;
pub mod speed;
pub mod token;
pub mod transfer;
pub mod webhook;
