//! The HTTP surface: the router and what wraps requests on their way to a handler
//! (login, rate limits, security headers, request logs), health checks, `/metrics`, and
//! the record's exports.

pub mod access;
pub mod health;
pub mod plain_page;
pub mod rate_limit;
pub mod record_export;
pub mod router;
pub mod security_headers;
