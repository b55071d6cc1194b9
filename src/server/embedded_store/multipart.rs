//! Multipart operations of the embedded store: create, upload part, list parts, list
//! uploads, complete (enforcing S3's 5 MiB minimum for every part but the last) and abort.

use std::path::PathBuf;

use md5::{Digest, Md5};
use s3s::dto::*;
use s3s::{S3Error, S3Request, S3Response, S3Result, s3_error};
use tokio::fs;

use super::EmbeddedStore;
use super::body::{self, EtagOf, Promised};
use super::layout::{self, ObjectMeta, PartMeta, Segment, UploadMeta};
use super::objects::{timestamp, to_i64};
use crate::core::checksum::composite_crc32c;
use crate::core::limits::{MAX_LIST_PAGE, MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE};

impl EmbeddedStore {
    /// The directory and record of an upload, or `NoSuchUpload`.
    async fn upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> S3Result<(PathBuf, UploadMeta)> {
        let dir = self
            .inner
            .layout
            .upload_dir(upload_id)
            .ok_or_else(|| s3_error!(NoSuchUpload))?;
        let meta: UploadMeta = layout::read_json(&dir.join("upload.json"))
            .await
            .map_err(S3Error::internal_error)?
            .ok_or_else(|| s3_error!(NoSuchUpload))?;
        if meta.bucket != bucket || meta.key != key {
            return Err(s3_error!(NoSuchUpload));
        }
        Ok((dir, meta))
    }

    /// Every upload in the store, by id.
    pub(super) async fn all_uploads(&self) -> std::io::Result<Vec<(String, UploadMeta)>> {
        let mut uploads = Vec::new();
        let mut entries = fs::read_dir(self.inner.layout.uploads_dir()).await?;
        while let Some(entry) = entries.next_entry().await? {
            let Some(id) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if let Some(meta) =
                layout::read_json::<UploadMeta>(&entry.path().join("upload.json")).await?
            {
                uploads.push((id, meta));
            }
        }
        Ok(uploads)
    }

    /// Every part of an upload, in part order.
    async fn parts(&self, dir: &PathBuf) -> S3Result<Vec<PartMeta>> {
        let mut parts = Vec::new();
        let mut entries = fs::read_dir(dir).await.map_err(S3Error::internal_error)?;
        while let Some(entry) = entries
            .next_entry()
            .await
            .map_err(S3Error::internal_error)?
        {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.ends_with(".json") && name != "upload.json" {
                let part = layout::read_json::<PartMeta>(&entry.path())
                    .await
                    .map_err(S3Error::internal_error)?;
                parts.extend(part);
            }
        }
        parts.sort_by_key(|p| p.part_number);
        Ok(parts)
    }

    pub(super) async fn create_multipart_upload_impl(
        &self,
        input: CreateMultipartUploadInput,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        self.require_bucket(&input.bucket)?;
        let upload_id = layout::random_id();
        let dir = self
            .inner
            .layout
            .upload_dir(&upload_id)
            .ok_or_else(|| s3_error!(InternalError))?;
        fs::create_dir_all(&dir)
            .await
            .map_err(S3Error::internal_error)?;
        let meta = UploadMeta {
            bucket: input.bucket.clone(),
            key: input.key.clone(),
            content_type: input
                .content_type
                .unwrap_or_else(|| "application/octet-stream".into()),
            initiated: layout::now_secs(),
        };
        layout::write_json(&self.inner.layout, &dir.join("upload.json"), &meta)
            .await
            .map_err(S3Error::internal_error)?;
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(upload_id),
            ..Default::default()
        }))
    }

    pub(super) async fn upload_part_impl(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let input = req.input;
        let part_number = u32::try_from(input.part_number)
            .ok()
            .filter(|n| (1..=MAX_PARTS).contains(n))
            .ok_or_else(|| {
                s3_error!(
                    InvalidArgument,
                    "Part number must be an integer between 1 and 10000, inclusive"
                )
            })?;
        let promised = Promised::new(
            input.content_length,
            input.content_md5,
            input.checksum_algorithm,
            [
                input.checksum_crc32,
                input.checksum_crc32c,
                input.checksum_sha1,
                input.checksum_sha256,
                input.checksum_crc64nvme,
            ],
        );
        promised.check_length(MAX_PART_SIZE)?;
        let (dir, _) = self
            .upload(&input.bucket, &input.key, &input.upload_id)
            .await?;
        let layout = &self.inner.layout;
        let received = body::receive(
            layout,
            input.body,
            promised,
            req.trailing_headers,
            EtagOf::Fingerprint,
        )
        .await?;

        let data = format!("{part_number:05}.{}.data", layout::random_id());
        let meta = PartMeta {
            part_number,
            size: received.size,
            etag: received.etag,
            last_modified: layout::now_secs(),
            data: data.clone(),
            checksums: received.checksums,
        };
        let meta_path = dir.join(format!("{part_number:05}.json"));
        let _commit = self.inner.commit.lock().await;
        // The upload may have been completed or aborted while the body arrived; then
        // its directory is gone and must not be brought back.
        let moved = if dir.join("upload.json").exists() {
            layout::publish_into_existing(&received.tmp, &dir.join(&data)).await
        } else {
            Err(std::io::ErrorKind::NotFound.into())
        };
        if let Err(err) = moved {
            let _ = layout::remove_file(&received.tmp).await;
            return Err(if err.kind() == std::io::ErrorKind::NotFound {
                s3_error!(NoSuchUpload)
            } else {
                S3Error::internal_error(err)
            });
        }
        let replaced: Option<PartMeta> = layout::read_json(&meta_path)
            .await
            .map_err(S3Error::internal_error)?;
        layout::write_json(layout, &meta_path, &meta)
            .await
            .map_err(S3Error::internal_error)?;
        if let Some(old) = replaced {
            layout::remove_file(&dir.join(old.data))
                .await
                .map_err(S3Error::internal_error)?;
        }
        Ok(S3Response::new(UploadPartOutput {
            e_tag: Some(ETag::Strong(meta.etag)),
            checksum_crc32: meta.checksums.get("crc32").cloned(),
            checksum_crc32c: meta.checksums.get("crc32c").cloned(),
            checksum_sha1: meta.checksums.get("sha1").cloned(),
            checksum_sha256: meta.checksums.get("sha256").cloned(),
            checksum_crc64nvme: meta.checksums.get("crc64nvme").cloned(),
            ..Default::default()
        }))
    }

    pub(super) async fn list_parts_impl(
        &self,
        input: ListPartsInput,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        let (dir, _) = self
            .upload(&input.bucket, &input.key, &input.upload_id)
            .await?;
        let max_parts = input.max_parts.map_or(MAX_LIST_PAGE, |n| {
            u32::try_from(n).unwrap_or(0).min(MAX_LIST_PAGE)
        });
        let marker = input
            .part_number_marker
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0);
        let after_marker: Vec<PartMeta> = self
            .parts(&dir)
            .await?
            .into_iter()
            .filter(|p| p.part_number > marker)
            .collect();
        let truncated = after_marker.len() > max_parts as usize;
        let page: Vec<PartMeta> = after_marker.into_iter().take(max_parts as usize).collect();
        let next_marker = page.last().map(|p| p.part_number);
        let parts = page
            .into_iter()
            .map(|p| Part {
                part_number: i32::try_from(p.part_number).ok(),
                size: Some(to_i64(p.size)),
                e_tag: Some(ETag::Strong(p.etag)),
                last_modified: Some(timestamp(p.last_modified)),
                checksum_crc32c: p.checksums.get("crc32c").cloned(),
                checksum_sha256: p.checksums.get("sha256").cloned(),
                ..Default::default()
            })
            .collect();
        Ok(S3Response::new(ListPartsOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(input.upload_id),
            max_parts: i32::try_from(max_parts).ok(),
            part_number_marker: input.part_number_marker,
            next_part_number_marker: next_marker.and_then(|n| i32::try_from(n).ok()),
            is_truncated: Some(truncated),
            parts: Some(parts),
            ..Default::default()
        }))
    }

    pub(super) async fn list_multipart_uploads_impl(
        &self,
        input: ListMultipartUploadsInput,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        self.require_bucket(&input.bucket)?;
        let max_uploads = input.max_uploads.map_or(MAX_LIST_PAGE, |n| {
            u32::try_from(n).unwrap_or(0).min(MAX_LIST_PAGE)
        });
        let prefix = input.prefix.clone().unwrap_or_default();
        let key_marker = input.key_marker.clone().unwrap_or_default();
        let id_marker = input.upload_id_marker.clone().unwrap_or_default();
        let mut uploads: Vec<(String, UploadMeta)> = self
            .all_uploads()
            .await
            .map_err(S3Error::internal_error)?
            .into_iter()
            .filter(|(_, u)| u.bucket == input.bucket && u.key.starts_with(&prefix))
            .filter(|(id, u)| {
                key_marker.is_empty()
                    || u.key > key_marker
                    || (u.key == key_marker && !id_marker.is_empty() && *id > id_marker)
            })
            .collect();
        uploads.sort_by(|(a_id, a), (b_id, b)| (&a.key, a_id).cmp(&(&b.key, b_id)));
        let truncated = uploads.len() > max_uploads as usize;
        uploads.truncate(max_uploads as usize);
        let (next_key, next_id) = match uploads.last() {
            Some((id, u)) if truncated => (Some(u.key.clone()), Some(id.clone())),
            _ => (None, None),
        };
        let list = uploads
            .into_iter()
            .map(|(id, u)| MultipartUpload {
                key: Some(u.key),
                upload_id: Some(id),
                initiated: Some(timestamp(u.initiated)),
                ..Default::default()
            })
            .collect();
        Ok(S3Response::new(ListMultipartUploadsOutput {
            bucket: Some(input.bucket),
            prefix: input.prefix,
            key_marker: input.key_marker,
            upload_id_marker: input.upload_id_marker,
            max_uploads: i32::try_from(max_uploads).ok(),
            is_truncated: Some(truncated),
            next_key_marker: next_key,
            next_upload_id_marker: next_id,
            uploads: Some(list),
            ..Default::default()
        }))
    }

    pub(super) async fn complete_multipart_upload_impl(
        &self,
        input: CompleteMultipartUploadInput,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let (dir, upload) = self
            .upload(&input.bucket, &input.key, &input.upload_id)
            .await?;
        let requested = input
            .multipart_upload
            .and_then(|m| m.parts)
            .filter(|p| !p.is_empty())
            .ok_or_else(|| s3_error!(MalformedXML, "the request must list at least one part"))?;
        let stored = self.parts(&dir).await?;

        // Check every requested part against what is stored, before touching anything.
        let mut chosen = Vec::with_capacity(requested.len());
        let mut previous = 0;
        for (i, part) in requested.iter().enumerate() {
            let number = part
                .part_number
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| s3_error!(InvalidPart))?;
            if number <= previous {
                return Err(s3_error!(InvalidPartOrder));
            }
            previous = number;
            let meta = stored
                .iter()
                .find(|p| p.part_number == number)
                .ok_or_else(|| s3_error!(InvalidPart, "part {number} was not uploaded"))?;
            let etag_matches = part
                .e_tag
                .as_ref()
                .is_some_and(|e| e.value().trim_matches('"') == meta.etag);
            if !etag_matches {
                return Err(s3_error!(
                    InvalidPart,
                    "part {number}'s ETag does not match"
                ));
            }
            let is_last = i + 1 == requested.len();
            if !is_last && meta.size < MIN_PART_SIZE {
                return Err(s3_error!(
                    EntityTooSmall,
                    "part {number} is {} bytes; every part but the last must be at least 5 MiB",
                    meta.size
                ));
            }
            chosen.push(meta.clone());
        }

        // The parts' files become the object's by hard links (the parts are durable
        // already); the upload's own names go with its directory.
        let (object_dir, stem) = self.inner.layout.object_stem(&input.bucket, &upload.key);
        let version = layout::random_id();
        let segments: Vec<Segment> = chosen
            .iter()
            .map(|p| Segment {
                data: format!("{stem}.{version}.{:05}.data", p.part_number),
                size: p.size,
            })
            .collect();
        let links: Vec<(PathBuf, PathBuf)> = chosen
            .iter()
            .zip(&segments)
            .map(|(p, s)| (dir.join(&p.data), object_dir.join(&s.data)))
            .collect();
        if let Err(e) = link_all(&object_dir, &links).await {
            for (_, link) in &links {
                let _ = layout::remove_file(link).await;
            }
            return Err(S3Error::internal_error(e));
        }
        let size = segments.iter().map(|s| s.size).sum();

        // The multipart ETag, as S3 makes it: MD5 of the parts' binary ETags, then "-"
        // and the part count.
        let mut md5 = Md5::new();
        for part in &chosen {
            md5.update(hex::decode(&part.etag).map_err(S3Error::internal_error)?);
        }
        let etag = format!("{}-{}", hex::encode(md5.finalize()), chosen.len());
        // With every part's CRC32C, the object records S3's composite of them.
        let composite = composite_crc32c(
            chosen
                .iter()
                .map(|p| p.checksums.get("crc32c").map(String::as_str)),
        );
        let meta = ObjectMeta {
            key: upload.key.clone(),
            size,
            etag: etag.clone(),
            content_type: upload.content_type,
            last_modified: layout::now_secs(),
            data: String::new(),
            segments,
            checksums: composite
                .clone()
                .map(|c| ("crc32c".to_owned(), c))
                .into_iter()
                .collect(),
        };
        self.commit_object(&input.bucket, meta).await?;
        let _commit = self.inner.commit.lock().await;
        fs::remove_dir_all(&dir)
            .await
            .map_err(S3Error::internal_error)?;
        Ok(S3Response::new(CompleteMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(upload.key),
            e_tag: Some(ETag::Strong(etag)),
            checksum_crc32c: composite,
            ..Default::default()
        }))
    }

    pub(super) async fn abort_multipart_upload_impl(
        &self,
        input: AbortMultipartUploadInput,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let (dir, _) = self
            .upload(&input.bucket, &input.key, &input.upload_id)
            .await?;
        let _commit = self.inner.commit.lock().await;
        fs::remove_dir_all(&dir)
            .await
            .map_err(S3Error::internal_error)?;
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }
}

/// Makes each `(source, link)` pair's link, in `dir`, and the links durable. Where the
/// data directory spans file systems (a bucket mounted elsewhere), the part is copied.
async fn link_all(dir: &std::path::Path, links: &[(PathBuf, PathBuf)]) -> std::io::Result<()> {
    fs::create_dir_all(dir).await?;
    for (source, link) in links {
        match fs::hard_link(source, link).await {
            Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices => {
                fs::copy(source, link).await?;
                fs::File::open(link).await?.sync_all().await?;
            }
            result => result?,
        }
    }
    layout::sync_dir(dir).await
}
