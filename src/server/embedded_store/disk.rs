//! The storage layer: buckets, objects and uploads on local disk, with an in-memory
//! index of every object. It speaks plain Rust types and [`Error`]; `s3.rs` translates
//! S3's wire types to it, so the rules of storing live here and the protocol there.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::io;
use std::path::Path;
use std::sync::{Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use tokio::fs;

use super::error::{Error, Result};
use super::layout::{self, Layout, ObjectMeta};
use super::reading;

/// Every object of a bucket, by key, in key order (the order listings answer in).
type BucketIndex = BTreeMap<String, ObjectMeta>;

/// The store's files and its index of them, loaded at start.
#[derive(Debug)]
pub struct Disk {
    pub(super) layout: Layout,
    /// Buckets and their objects. Held only for in-memory work, never across an await.
    index: RwLock<HashMap<String, BucketIndex>>,
    /// Serialises the moment an object or part replaces another, so each replaced data
    /// file is removed exactly once.
    pub(super) commit: tokio::sync::Mutex<()>,
    /// Data files being read, kept until their readers are done.
    pub(super) readers: reading::Readers,
    /// Uploads completed lately, so a completion asked again is answered again.
    pub(super) completed: Mutex<Completed>,
}

/// The most recent completions, by upload id: what each made. A client asks again when
/// the answer was lost, seconds later, so memory serves (after a restart a repeat gets
/// `NoSuchUpload`, as it does after S3's own window).
#[derive(Debug, Default)]
pub struct Completed {
    by_id: HashMap<String, (String, String, String)>,
    order: VecDeque<String>,
}

impl Completed {
    /// How many completions are remembered.
    const KEPT: usize = 10_000;

    /// Remembers that `upload_id` made the object `key` of `bucket` with `etag`.
    pub fn record(&mut self, upload_id: &str, bucket: &str, key: &str, etag: &str) {
        if self.order.len() == Self::KEPT
            && let Some(oldest) = self.order.pop_front()
        {
            self.by_id.remove(&oldest);
        }
        self.order.push_back(upload_id.to_owned());
        let made = (bucket.to_owned(), key.to_owned(), etag.to_owned());
        self.by_id.insert(upload_id.to_owned(), made);
    }

    /// The ETag of the object `upload_id` made, when it made `key` of `bucket`.
    pub fn etag(&self, upload_id: &str, bucket: &str, key: &str) -> Option<&str> {
        let (b, k, etag) = self.by_id.get(upload_id)?;
        (b == bucket && k == key).then_some(etag.as_str())
    }
}

impl Disk {
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
            layout,
            index: RwLock::new(index),
            commit: tokio::sync::Mutex::new(()),
            readers: reading::Readers::default(),
            completed: Mutex::default(),
        })
    }

    /// Creates `bucket` unless it exists.
    pub async fn ensure_bucket(&self, bucket: &str) -> io::Result<()> {
        fs::create_dir_all(self.layout.bucket_dir(bucket)).await?;
        self.write_index().entry(bucket.to_owned()).or_default();
        Ok(())
    }

    /// Every bucket's name, in order.
    pub fn bucket_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.read_index().keys().cloned().collect();
        names.sort();
        names
    }

    /// `NoSuchBucket` unless `bucket` exists.
    pub fn require_bucket(&self, bucket: &str) -> Result<()> {
        if self.read_index().contains_key(bucket) {
            Ok(())
        } else {
            Err(Error::NoSuchBucket)
        }
    }

    /// An object's metadata.
    pub fn object(&self, bucket: &str, key: &str) -> Result<ObjectMeta> {
        self.with_object(bucket, key, ObjectMeta::clone)
    }

    /// Runs `f` on an object's metadata while the index lock is held (so a reader can
    /// hold its files before a newer version could retire them).
    pub(super) fn with_object<T>(
        &self,
        bucket: &str,
        key: &str,
        f: impl FnOnce(&ObjectMeta) -> T,
    ) -> Result<T> {
        self.read_index()
            .get(bucket)
            .ok_or(Error::NoSuchBucket)?
            .get(key)
            .map(f)
            .ok_or(Error::NoSuchKey)
    }

    pub(super) fn read_index(&self) -> RwLockReadGuard<'_, HashMap<String, BucketIndex>> {
        // A panic while holding the lock leaves the map itself consistent.
        self.index.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn write_index(&self) -> RwLockWriteGuard<'_, HashMap<String, BucketIndex>> {
        self.index.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn completed(&self) -> std::sync::MutexGuard<'_, Completed> {
        self.completed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
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
        let mut named = HashSet::new();
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
