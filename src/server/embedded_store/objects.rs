//! Object operations of the embedded store: put, get (with ranges), head, delete, list.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use super::body::{self, EtagOf, Promised};
use super::checksums::{checksums_in, with_checksums};
use super::layout::{self, ObjectData, ObjectMeta};
use super::wire::{OrInternal, timestamp, to_i64};
use super::{EmbeddedStore, reading};
use crate::core::limits::{MAX_LIST_PAGE, MAX_SINGLE_PUT_SIZE};

impl EmbeddedStore {
    pub(super) async fn put_object_impl(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let input = req.input;
        self.require_bucket(&input.bucket)?;
        let promised = Promised {
            content_length: input.content_length,
            content_md5: input.content_md5,
            algorithm: input.checksum_algorithm,
            checksums: checksums_in!(input),
        };
        promised.check_length(MAX_SINGLE_PUT_SIZE)?;
        let layout = &self.inner.layout;
        let received = body::receive(
            layout,
            input.body,
            promised,
            req.trailing_headers,
            EtagOf::Md5,
        )
        .await?;
        // The data into place, then the metadata (the commit point), which retires the
        // replaced version's files.
        let data = layout.new_object_data(&input.bucket, &input.key);
        let dir = layout.object_dir(&input.bucket, &input.key);
        layout::publish(&received.tmp, &dir.join(&data))
            .await
            .or_internal()?;
        let meta = ObjectMeta {
            key: input.key,
            size: received.size,
            etag: received.etag,
            content_type: input
                .content_type
                .unwrap_or_else(|| "application/octet-stream".into()),
            last_modified: layout::now_secs(),
            data: ObjectData::File { data },
            checksums: received.checksums,
        };
        let meta = self.commit_object(&input.bucket, meta).await?;
        let output = with_checksums!(
            PutObjectOutput {
                e_tag: Some(ETag::Strong(meta.etag))
            },
            meta.checksums
        );
        Ok(S3Response::new(output))
    }

    /// Records `meta` (its data files already in place and durable) as the object's
    /// current version, and retires the files of the version it replaces.
    pub(super) async fn commit_object(
        &self,
        bucket: &str,
        meta: ObjectMeta,
    ) -> S3Result<ObjectMeta> {
        let layout = &self.inner.layout;
        let dir = layout.object_dir(bucket, &meta.key);
        let _commit = self.inner.commit.lock().await;
        layout::write_json(layout, &layout.object_meta(bucket, &meta.key), &meta)
            .await
            .or_internal()?;
        let replaced = self
            .write_index()
            .entry(bucket.to_owned())
            .or_default()
            .insert(meta.key.clone(), meta.clone());
        if let Some(old) = replaced {
            self.inner
                .readers
                .retire(data_paths(&dir, &old))
                .or_internal()?;
        }
        Ok(meta)
    }

    pub(super) async fn get_object_impl(
        &self,
        input: GetObjectInput,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let dir = self.inner.layout.object_dir(&input.bucket, &input.key);
        // The files are held while the index still names them: a newer version or a
        // delete retires them, and the last reader removes them.
        let (meta, guard) = self.with_object(&input.bucket, &input.key, |meta| {
            (
                meta.clone(),
                self.inner.readers.hold(data_paths(&dir, meta)),
            )
        })?;
        let range = match &input.range {
            Some(range) => Some(
                range
                    .check(meta.size)
                    .map_err(|_| s3_error!(InvalidRange))?,
            ),
            None => None,
        };
        let (start, end) = range.as_ref().map_or((0, meta.size), |r| (r.start, r.end));
        let length = end - start;
        let stream = reading::stream(&dir, reading::pieces(&meta, start, end), guard);
        let output = with_checksums!(
            GetObjectOutput {
                body: Some(StreamingBlob::wrap(stream)),
                content_length: Some(to_i64(length)),
                content_range: range.map(|_| format!(
                    "bytes {start}-{}/{}",
                    end.saturating_sub(1),
                    meta.size
                )),
                accept_ranges: Some("bytes".into()),
                content_type: Some(input.response_content_type.unwrap_or(meta.content_type)),
                content_disposition: input.response_content_disposition,
                cache_control: input.response_cache_control,
                e_tag: Some(ETag::Strong(meta.etag)),
                last_modified: Some(timestamp(meta.last_modified)),
            },
            meta.checksums
        );
        Ok(S3Response::new(output))
    }

    pub(super) fn head_object_impl(
        &self,
        input: HeadObjectInput,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let meta = self.lookup(&input.bucket, &input.key)?;
        let output = with_checksums!(
            HeadObjectOutput {
                content_length: Some(to_i64(meta.size)),
                content_type: Some(meta.content_type),
                accept_ranges: Some("bytes".into()),
                e_tag: Some(ETag::Strong(meta.etag)),
                last_modified: Some(timestamp(meta.last_modified)),
            },
            meta.checksums
        );
        Ok(S3Response::new(output))
    }

    pub(super) async fn delete_object_impl(
        &self,
        input: DeleteObjectInput,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.require_bucket(&input.bucket)?;
        let layout = &self.inner.layout;
        let dir = layout.object_dir(&input.bucket, &input.key);
        let _commit = self.inner.commit.lock().await;
        let removed = self
            .write_index()
            .get_mut(&input.bucket)
            .and_then(|objects| objects.remove(&input.key));
        if let Some(meta) = removed {
            layout::remove_file(&layout.object_meta(&input.bucket, &input.key))
                .await
                .or_internal()?;
            self.inner
                .readers
                .retire(data_paths(&dir, &meta))
                .or_internal()?;
        }
        // Like S3, deleting a missing key succeeds.
        Ok(S3Response::new(DeleteObjectOutput::default()))
    }

    pub(super) fn list_objects_v2_impl(
        &self,
        input: ListObjectsV2Input,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let max_keys = input.max_keys.map_or(MAX_LIST_PAGE, |n| {
            u32::try_from(n).unwrap_or(0).min(MAX_LIST_PAGE)
        });
        let prefix = input.prefix.clone().unwrap_or_default();
        let after = input
            .continuation_token
            .clone()
            .or_else(|| input.start_after.clone())
            .unwrap_or_default();
        let delimiter = input.delimiter.clone().filter(|d| !d.is_empty());

        let index = self.read_index();
        let objects = index
            .get(&input.bucket)
            .ok_or_else(|| s3_error!(NoSuchBucket))?;
        let mut contents = Vec::new();
        let mut prefixes: Vec<String> = Vec::new();
        let mut last_entry = None;
        let mut truncated = false;
        let resume_after_prefix = delimiter
            .as_ref()
            .is_some_and(|d| !after.is_empty() && after.ends_with(d.as_str()));
        let keys = objects
            .range::<String, _>((
                std::ops::Bound::Excluded(after.clone()),
                std::ops::Bound::Unbounded,
            ))
            .filter(|(key, _)| key.starts_with(&prefix))
            .filter(|(key, _)| !(resume_after_prefix && key.starts_with(&after)));
        for (key, meta) in keys {
            let common = delimiter.as_ref().and_then(|d| {
                key[prefix.len()..]
                    .find(d.as_str())
                    .map(|at| key[..prefix.len() + at + d.len()].to_owned())
            });
            if common.is_some() && prefixes.last() == common.as_ref() {
                continue;
            }
            if contents.len() + prefixes.len() >= max_keys as usize {
                truncated = true;
                break;
            }
            if let Some(common) = common {
                last_entry = Some(common.clone());
                prefixes.push(common);
                continue;
            }
            contents.push(Object {
                key: Some(key.clone()),
                size: Some(to_i64(meta.size)),
                e_tag: Some(ETag::Strong(meta.etag.clone())),
                last_modified: Some(timestamp(meta.last_modified)),
                storage_class: Some(ObjectStorageClass::from_static(
                    ObjectStorageClass::STANDARD,
                )),
                ..Default::default()
            });
            last_entry = Some(key.clone());
        }
        let key_count = contents.len() + prefixes.len();
        let output = ListObjectsV2Output {
            name: Some(input.bucket),
            prefix: input.prefix,
            delimiter: input.delimiter,
            max_keys: Some(i32::try_from(max_keys).unwrap_or(i32::MAX)),
            key_count: Some(i32::try_from(key_count).unwrap_or(i32::MAX)),
            continuation_token: input.continuation_token,
            start_after: input.start_after,
            is_truncated: Some(truncated),
            next_continuation_token: if truncated { last_entry } else { None },
            contents: Some(contents),
            common_prefixes: Some(
                prefixes
                    .into_iter()
                    .map(|p| CommonPrefix { prefix: Some(p) })
                    .collect(),
            ),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }
}

/// The paths of an object's data files.
fn data_paths(dir: &std::path::Path, meta: &ObjectMeta) -> Vec<std::path::PathBuf> {
    meta.files()
        .into_iter()
        .map(|(file, _)| dir.join(file))
        .collect()
}
