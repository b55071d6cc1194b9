//! The server side, one folder per job. Requests flow from `http` (the router and the
//! layers every request passes) to `upload` and `operator` (the server functions'
//! bodies) to `s3` (the S3 client) and `database`, whose tables `links` (upload links),
//! `record` (every upload's life, and drops), `hooks` (webhooks and their outbox) and
//! `api_tokens` own; `cli` reads the settings, starts everything and runs the one-shot
//! commands; `embedded_store` is the S3 server s3drop runs itself when no external
//! store is configured.
//!
//! Each floor uses only those below it (`scripts/layers.py` checks): the files here that
//! every job builds on (`signing`, `system`, `token`, `metrics`), the stores (`s3`,
//! `embedded_store`, `database`), the tables' rooms (`api_tokens`, `hooks`, `links`,
//! `record`), the `state` that holds the stores, the jobs (`upload`, `operator`,
//! `http`), and `cli`.

pub mod api_tokens;
pub mod cli;
pub mod database;
pub mod embedded_store;
pub mod hooks;
pub mod http;
pub mod links;
pub mod metrics;
pub mod operator;
pub mod record;
pub mod s3;
pub mod signing;
pub mod state;
pub mod system;
pub mod token;
pub mod upload;
