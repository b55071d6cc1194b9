//! Objects in the storage layer: put, open for reading (whole or a range), delete, list.

use std::ops::Bound;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::Stream;

use super::body::{self, EtagOf, Incoming, Promised};
use super::disk::Disk;
use super::error::{Error, Result};
use super::layout::{self, ObjectData, ObjectHeaders, ObjectMeta};
use super::reading::{self, ReadGuard};
use crate::core::limits::MAX_SINGLE_PUT_SIZE;

/// An object held for reading: its files stay until the reader drops it.
pub struct Opened {
    pub meta: ObjectMeta,
    dir: PathBuf,
    guard: ReadGuard,
}

impl Opened {
    /// The bytes from `start` up to `end` (exclusive).
    pub fn read(
        self,
        start: u64,
        end: u64,
    ) -> impl Stream<Item = std::io::Result<Bytes>> + Send + Sync + use<> {
        let Self { meta, dir, guard } = self;
        reading::stream(&dir, reading::pieces(&meta, start, end), guard)
    }
}

/// What a listing asks for.
#[derive(Debug, Default)]
pub struct ListQuery<'a> {
    pub prefix: &'a str,
    /// Keys after this one (a continuation token or a start-after key).
    pub after: &'a str,
    /// Keys with this after the prefix are rolled up into one common prefix.
    pub delimiter: Option<&'a str>,
    pub max_keys: usize,
}

/// One page of a listing, in key order.
#[derive(Debug, Default)]
pub struct Listing {
    pub objects: Vec<ObjectMeta>,
    pub common_prefixes: Vec<String>,
    /// Whether more entries follow.
    pub truncated: bool,
    /// Where the next page starts after: this page's last entry, when more follow.
    pub next: Option<String>,
}

/// What a PutObject asks to store, besides its body.
pub struct NewObject {
    pub key: String,
    pub content_type: String,
    pub headers: ObjectHeaders,
    /// Only if the key holds no object (`If-None-Match: *`).
    pub only_if_new: bool,
}

impl Disk {
    /// Stores a body as `key`, replacing any object there once the new one is durable.
    pub async fn put_object(
        &self,
        bucket: &str,
        object: NewObject,
        body: Incoming,
        promised: Promised,
    ) -> Result<ObjectMeta> {
        let NewObject {
            key,
            content_type,
            headers,
            only_if_new,
        } = object;
        self.require_bucket(bucket)?;
        promised.check_length(MAX_SINGLE_PUT_SIZE)?;
        // Refused before the body is read when the key is taken already; checked again
        // at the commit, which decides.
        if only_if_new && self.object(bucket, &key).is_ok() {
            return Err(Error::PreconditionFailed);
        }
        let layout = &self.layout;
        let received = body::receive(layout, body, promised, EtagOf::Md5).await?;
        // The data into place, then the metadata (the commit point), which retires the
        // replaced version's files.
        let data = layout.new_object_data(bucket, &key);
        let dir = layout.object_dir(bucket, &key);
        layout::publish(&received.tmp, &dir.join(&data)).await?;
        let meta = ObjectMeta {
            key,
            size: received.size,
            etag: received.etag,
            content_type,
            last_modified: layout::now_secs(),
            data: ObjectData::File { data },
            checksums: received.checksums,
            headers,
        };
        self.commit_object(bucket, meta, only_if_new).await
    }

    /// Records `meta` (its data files already in place and durable) as the object's
    /// current version, and retires the files of the version it replaces; with
    /// `only_if_new`, refuses (and removes `meta`'s files) when the key holds an object.
    pub(super) async fn commit_object(
        &self,
        bucket: &str,
        meta: ObjectMeta,
        only_if_new: bool,
    ) -> Result<ObjectMeta> {
        let layout = &self.layout;
        let dir = layout.object_dir(bucket, &meta.key);
        let _commit = self.commit.lock().await;
        if only_if_new && self.object(bucket, &meta.key).is_ok() {
            for path in data_paths(&dir, &meta) {
                tokio::fs::remove_file(path).await?;
            }
            return Err(Error::PreconditionFailed);
        }
        layout::write_json(layout, &layout.object_meta(bucket, &meta.key), &meta).await?;
        let replaced = self
            .write_index()
            .entry(bucket.to_owned())
            .or_default()
            .insert(meta.key.clone(), meta.clone());
        if let Some(old) = replaced {
            self.readers.retire(data_paths(&dir, &old))?;
        }
        Ok(meta)
    }

    /// Holds an object's files for reading. They are held while the index still names
    /// them: a newer version or a delete retires them, and the last reader removes them.
    pub fn open_object(&self, bucket: &str, key: &str) -> Result<Opened> {
        let dir = self.layout.object_dir(bucket, key);
        let (meta, guard) = self.with_object(bucket, key, |meta| {
            (meta.clone(), self.readers.hold(data_paths(&dir, meta)))
        })?;
        Ok(Opened { meta, dir, guard })
    }

    /// Deletes an object; like S3, deleting a missing key succeeds.
    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<()> {
        self.require_bucket(bucket)?;
        let layout = &self.layout;
        let dir = layout.object_dir(bucket, key);
        let _commit = self.commit.lock().await;
        let removed = self
            .write_index()
            .get_mut(bucket)
            .and_then(|objects| objects.remove(key));
        if let Some(meta) = removed {
            layout::remove_file(&layout.object_meta(bucket, key)).await?;
            self.readers.retire(data_paths(&dir, &meta))?;
        }
        Ok(())
    }

    /// One page of the keys that start with the query's prefix, after its `after`.
    pub fn list_objects(&self, bucket: &str, query: &ListQuery<'_>) -> Result<Listing> {
        let index = self.read_index();
        let objects = index.get(bucket).ok_or(Error::NoSuchBucket)?;
        let ListQuery {
            prefix,
            after,
            delimiter,
            max_keys,
        } = *query;
        let mut listing = Listing::default();
        if max_keys == 0 {
            // S3 answers an empty page that is not truncated.
            return Ok(listing);
        }
        let mut last_entry = None;
        // After a common prefix, none of its keys come again.
        let resume_after_prefix =
            delimiter.is_some_and(|d| !after.is_empty() && after.ends_with(d));
        let keys = objects
            .range::<str, _>((Bound::Excluded(after), Bound::Unbounded))
            .filter(|(key, _)| key.starts_with(prefix))
            .filter(|(key, _)| !(resume_after_prefix && key.starts_with(after)));
        for (key, meta) in keys {
            let common = delimiter.and_then(|d| {
                key[prefix.len()..]
                    .find(d)
                    .map(|at| key[..prefix.len() + at + d.len()].to_owned())
            });
            if common.is_some() && listing.common_prefixes.last() == common.as_ref() {
                continue;
            }
            if listing.objects.len() + listing.common_prefixes.len() >= max_keys {
                listing.truncated = true;
                break;
            }
            if let Some(common) = common {
                last_entry = Some(common.clone());
                listing.common_prefixes.push(common);
                continue;
            }
            listing.objects.push(meta.clone());
            last_entry = Some(key.clone());
        }
        if listing.truncated {
            listing.next = last_entry;
        }
        Ok(listing)
    }
}

/// The paths of an object's data files.
fn data_paths(dir: &Path, meta: &ObjectMeta) -> Vec<PathBuf> {
    meta.files()
        .into_iter()
        .map(|(file, _)| dir.join(file))
        .collect()
}
