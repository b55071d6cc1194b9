//! The embedded S3-compatible store: s3drop's zero-config default.
//!
//! Split as s3s-fs splits its store: s3s does the protocol (routing, XML, SigV4 for
//! headers and presigned URLs); `s3.rs` translates its wire types to the storage layer
//! (`disk.rs`, `objects.rs`, `multipart.rs`), which keeps objects on local disk and never
//! sees an s3s type, with `wire.rs` holding the conversions and S3's request checks;
//! `error.rs` is the one way back. What it answers: `README.md` here. The browser and the server talk to
//! it exactly as they would to AWS.

mod body;
mod checksums;
mod disk;
mod error;
mod layout;
mod multipart;
mod objects;
mod reading;
mod s3;
mod wire;

use std::io;
use std::path::Path;
use std::sync::Arc;

use s3s::auth::SimpleAuth;
use s3s::service::{S3Service, S3ServiceBuilder};

use disk::Disk;

/// The store, shared by the S3 service and start-up.
#[derive(Clone, Debug)]
pub struct EmbeddedStore {
    disk: Arc<Disk>,
}

impl EmbeddedStore {
    /// Opens (or creates) the store under `root`, empties its temporary directory and
    /// loads the index of every bucket.
    pub async fn open(root: &Path) -> io::Result<Self> {
        Ok(Self {
            disk: Arc::new(Disk::open(root).await?),
        })
    }

    /// Creates `bucket` unless it exists.
    pub async fn ensure_bucket(&self, bucket: &str) -> io::Result<()> {
        self.disk.ensure_bucket(bucket).await
    }

    /// The S3 service over this store, accepting requests signed with the given key pair.
    pub fn service(&self, access_key: &str, secret_key: &str) -> S3Service {
        let mut builder = S3ServiceBuilder::new(self.clone());
        builder.set_auth(SimpleAuth::from_single(access_key, secret_key));
        builder.set_access(wire::RequestRules);
        builder.build()
    }
}
