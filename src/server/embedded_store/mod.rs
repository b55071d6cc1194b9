//! The embedded S3-compatible store: s3drop's zero-config default.
//!
//! s3s does the protocol (routing, XML, SigV4 for headers and presigned URLs); this
//! module is the backend behind it, keeping objects on local disk. The browser and the
//! server talk to it exactly as they would to AWS.

mod body;
mod checksums;
mod layout;
mod multipart;
mod objects;
mod reading;
mod wire;

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::Path;
use std::sync::{Arc, RwLock};

use s3s::auth::SimpleAuth;
use s3s::dto::*;
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};
use tokio::fs;

use layout::{Layout, ObjectMeta};
use wire::OrInternal;

/// Every object of a bucket, by key, in key order (the order ListObjectsV2 answers in).
type BucketIndex = BTreeMap<String, ObjectMeta>;

/// The store: its files, and an in-memory index of its objects loaded at start.
#[derive(Clone, Debug)]
pub struct EmbeddedStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    layout: Layout,
    /// Buckets and their objects. Held only for in-memory work, never across an await.
    index: RwLock<HashMap<String, BucketIndex>>,
    /// Serialises the moment an object or part replaces another, so each replaced data
    /// file is removed exactly once.
    commit: tokio::sync::Mutex<()>,
    /// Data files being read, kept until their readers are done.
    readers: reading::Readers,
}

impl EmbeddedStore {
    /// Opens (or creates) the store under `root`, empties its temporary directory and
    /// loads the index of every bucket.
    pub async fn open(root: &Path) -> io::Result<Self> {
        let layout = Layout::new(root);
        let _ = fs::remove_dir_all(layout.tmp_dir()).await;
        for dir in [layout.tmp_dir(), layout.buckets_dir(), layout.uploads_dir()] {
            fs::create_dir_all(&dir).await?;
        }
        let mut index = HashMap::new();
        let mut buckets = fs::read_dir(layout.buckets_dir()).await?;
        while let Some(bucket) = buckets.next_entry().await? {
            if let Some(name) = bucket.file_name().to_str() {
                index.insert(name.to_owned(), load_bucket(&bucket.path()).await?);
            }
        }
        Ok(Self {
            inner: Arc::new(Inner {
                layout,
                index: RwLock::new(index),
                commit: tokio::sync::Mutex::new(()),
                readers: reading::Readers::default(),
            }),
        })
    }

    /// Creates `bucket` unless it exists.
    pub async fn ensure_bucket(&self, bucket: &str) -> io::Result<()> {
        fs::create_dir_all(self.inner.layout.bucket_dir(bucket)).await?;
        self.write_index().entry(bucket.to_owned()).or_default();
        Ok(())
    }

    /// The S3 service over this store, accepting requests signed with the given key pair.
    pub fn service(&self, access_key: &str, secret_key: &str) -> S3Service {
        let mut builder = S3ServiceBuilder::new(self.clone());
        builder.set_auth(SimpleAuth::from_single(access_key, secret_key));
        builder.build()
    }

    fn read_index(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, BucketIndex>> {
        // A panic while holding the lock leaves the map itself consistent.
        self.inner
            .index
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write_index(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, BucketIndex>> {
        self.inner
            .index
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn require_bucket(&self, bucket: &str) -> S3Result<()> {
        if self.read_index().contains_key(bucket) {
            Ok(())
        } else {
            Err(s3_error!(NoSuchBucket))
        }
    }

    fn lookup(&self, bucket: &str, key: &str) -> S3Result<ObjectMeta> {
        self.with_object(bucket, key, ObjectMeta::clone)
    }

    /// Runs `f` on an object's metadata while the index lock is held (so a reader can
    /// hold its files before a newer version could retire them).
    fn with_object<T>(
        &self,
        bucket: &str,
        key: &str,
        f: impl FnOnce(&ObjectMeta) -> T,
    ) -> S3Result<T> {
        self.read_index()
            .get(bucket)
            .ok_or_else(|| s3_error!(NoSuchBucket))?
            .get(key)
            .map(f)
            .ok_or_else(|| s3_error!(NoSuchKey))
    }
}

/// Reads every object's metadata under a bucket directory, and removes data files no
/// object names (left by a crash between writing the data and committing the metadata,
/// or retired while a reader held them).
async fn load_bucket(dir: &Path) -> io::Result<BucketIndex> {
    let mut objects = BucketIndex::new();
    let mut shards = fs::read_dir(dir).await?;
    while let Some(shard) = shards.next_entry().await? {
        if !shard.file_type().await?.is_dir() {
            continue;
        }
        let mut data_files = Vec::new();
        let mut named = std::collections::HashSet::new();
        let mut files = fs::read_dir(shard.path()).await?;
        while let Some(file) = files.next_entry().await? {
            let path = file.path();
            match path.extension().and_then(|e| e.to_str()) {
                Some("json") => {
                    if let Some(meta) = layout::read_json::<ObjectMeta>(&path).await? {
                        named.extend(meta.files().into_iter().map(|(f, _)| f.to_owned()));
                        objects.insert(meta.key.clone(), meta);
                    }
                }
                Some("data") => data_files.push(path),
                _ => {}
            }
        }
        for path in data_files {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if !named.contains(name) {
                layout::remove_file(&path).await?;
            }
        }
    }
    Ok(objects)
}

/// The store answers only the operations s3drop and ordinary S3 clients need; s3s
/// answers `NotImplemented` for the rest.
#[async_trait::async_trait]
impl S3 for EmbeddedStore {
    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let bucket = req.input.bucket;
        if self.read_index().contains_key(&bucket) {
            return Err(s3_error!(BucketAlreadyOwnedByYou));
        }
        self.ensure_bucket(&bucket).await.or_internal()?;
        Ok(S3Response::new(CreateBucketOutput::default()))
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.require_bucket(&req.input.bucket)?;
        Ok(S3Response::new(HeadBucketOutput::default()))
    }

    async fn list_buckets(
        &self,
        _req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let mut names: Vec<String> = self.read_index().keys().cloned().collect();
        names.sort();
        let buckets = names
            .into_iter()
            .map(|name| Bucket {
                name: Some(name),
                ..Default::default()
            })
            .collect();
        Ok(S3Response::new(ListBucketsOutput {
            buckets: Some(buckets),
            ..Default::default()
        }))
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        self.put_object_impl(req).await
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        self.get_object_impl(req.input).await
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        self.head_object_impl(req.input)
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.delete_object_impl(req.input).await
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.list_objects_v2_impl(req.input)
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        self.create_multipart_upload_impl(req.input).await
    }

    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        self.upload_part_impl(req).await
    }

    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        self.list_parts_impl(req.input).await
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        self.list_multipart_uploads_impl(req.input).await
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        self.complete_multipart_upload_impl(req.input).await
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        self.abort_multipart_upload_impl(req.input).await
    }
}
