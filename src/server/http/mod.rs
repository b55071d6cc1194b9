//! The HTTP surface: the router and what wraps requests on their way to a handler
//! (login, rate limits, security headers, request logs), health checks and `/metrics`.

pub mod access;
pub mod health;
pub mod plain_page;
pub mod rate_limit;
pub mod router;
pub mod security_headers;
