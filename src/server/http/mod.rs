//! The HTTP surface: the router and what wraps requests on their way to a handler
//! (login, rate limits, security headers, request logs), health checks, `/metrics`, and
//! the record's exports, and the API's OpenAPI document.

pub mod access;
pub mod health;
pub mod openapi;
pub mod plain_page;
pub mod rate_limit;
pub mod record_export;
pub mod router;
pub mod security_headers;

/// The largest server-function request body: a batch of 100 starts with the longest
/// names and folders is ~110 KiB, the completion of a 10,000-part upload ~900 KiB.
pub const MAX_CALL_BODY: usize = 2 * 1024 * 1024;
