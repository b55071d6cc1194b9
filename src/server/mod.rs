//! The server side, one folder per job. Requests flow from `http` (the router and the
//! layers every request passes) to `upload` (the server functions' bodies) to `s3` (the
//! S3 client); `cli` reads the settings and starts everything; `embedded_store` is the
//! S3 server s3drop runs itself when no external store is configured.
//!
//! Each floor uses only those below it (`scripts/layers.py` checks): the files here that
//! every job builds on (`signing`, `system`, `token`, `metrics`), the stores (`s3`,
//! `embedded_store`), the `state` that holds them, the jobs (`upload`, `http`), and `cli`.

pub mod cli;
pub mod embedded_store;
pub mod http;
pub mod metrics;
pub mod s3;
pub mod signing;
pub mod state;
pub mod system;
pub mod token;
pub mod upload;
