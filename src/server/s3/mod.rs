//! Talking to an S3 store as a client: presigning and the server's own calls, what a
//! failed call means, and the check of a bucket before s3drop relies on it.

pub mod bucket_check;
pub mod client;
pub mod error;
