//! The server side: configuration, the app state, upload tokens, the S3 client, the
//! server functions' bodies, the router, and the embedded store.

pub mod access;
pub mod calls;
pub mod config;
pub mod file_list;
pub mod headers;
pub mod metrics;
pub mod operations;
pub mod rate_limit;
pub mod router;
pub mod secrets;
pub mod startup;
pub mod state;
pub mod storage;
pub mod store;
pub mod store_check;
pub mod system;
pub mod token;
