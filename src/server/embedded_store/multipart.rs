//! Multipart operations of the embedded store: create, upload part, list parts, list
//! uploads, complete (enforcing S3's 5 MiB minimum for every part but the last) and abort.

use std::path::PathBuf;

use md5::{Digest, Md5};
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};
use tokio::fs;

use super::EmbeddedStore;
use super::body::{self, EtagOf, Promised};
use super::checksums::{Checksums, checksums_in, with_checksums};
use super::layout::{self, Layout, ObjectData, ObjectMeta, PartMeta, Segment, UploadMeta};
use super::wire::{OrInternal, timestamp, to_i64};
use crate::core::checksum::composite_crc32c;
use crate::core::limits::{MAX_LIST_PAGE, MAX_PART_SIZE, MAX_PARTS, MIB, MIN_PART_SIZE};

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
        let meta: UploadMeta = layout::read_json(&Layout::upload_meta(&dir))
            .await
            .or_internal()?
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
                layout::read_json::<UploadMeta>(&Layout::upload_meta(&entry.path())).await?
            {
                uploads.push((id, meta));
            }
        }
        Ok(uploads)
    }

    /// Every part of an upload, in part order.
    async fn parts(&self, dir: &PathBuf) -> S3Result<Vec<PartMeta>> {
        let mut parts = Vec::new();
        let mut entries = fs::read_dir(dir).await.or_internal()?;
        while let Some(entry) = entries.next_entry().await.or_internal()? {
            let name = entry.file_name();
            if name.to_str().is_some_and(Layout::is_part_meta) {
                let part = layout::read_json::<PartMeta>(&entry.path())
                    .await
                    .or_internal()?;
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
        fs::create_dir_all(&dir).await.or_internal()?;
        let meta = UploadMeta {
            bucket: input.bucket.clone(),
            key: input.key.clone(),
            content_type: input
                .content_type
                .unwrap_or_else(|| "application/octet-stream".into()),
            initiated: layout::now_secs(),
        };
        layout::write_json(&self.inner.layout, &Layout::upload_meta(&dir), &meta)
            .await
            .or_internal()?;
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
                    "Part number must be an integer between 1 and {MAX_PARTS}, inclusive"
                )
            })?;
        let promised = Promised {
            content_length: input.content_length,
            content_md5: input.content_md5,
            algorithm: input.checksum_algorithm,
            checksums: checksums_in!(input),
        };
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

        let data = Layout::new_part_data(part_number);
        let meta = PartMeta {
            part_number,
            size: received.size,
            etag: received.etag,
            last_modified: layout::now_secs(),
            data: data.clone(),
            checksums: received.checksums,
        };
        let meta_path = Layout::part_meta(&dir, part_number);
        let _commit = self.inner.commit.lock().await;
        // The upload may have been completed or aborted while the body arrived; then
        // its directory is gone and must not be brought back.
        let moved = if Layout::upload_meta(&dir).exists() {
            layout::publish_into_existing(&received.tmp, &dir.join(&data)).await
        } else {
            Err(std::io::ErrorKind::NotFound.into())
        };
        if let Err(err) = moved {
            let _ = layout::remove_file(&received.tmp).await;
            return Err(if err.kind() == std::io::ErrorKind::NotFound {
                s3_error!(NoSuchUpload)
            } else {
                s3s::S3Error::internal_error(err)
            });
        }
        let replaced: Option<PartMeta> = layout::read_json(&meta_path).await.or_internal()?;
        layout::write_json(layout, &meta_path, &meta)
            .await
            .or_internal()?;
        if let Some(old) = replaced {
            layout::remove_file(&dir.join(old.data))
                .await
                .or_internal()?;
        }
        Ok(S3Response::new(with_checksums!(
            UploadPartOutput {
                e_tag: Some(ETag::Strong(meta.etag))
            },
            meta.checksums
        )))
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
            .map(|p| {
                with_checksums!(
                    Part {
                        part_number: i32::try_from(p.part_number).ok(),
                        size: Some(to_i64(p.size)),
                        e_tag: Some(ETag::Strong(p.etag)),
                        last_modified: Some(timestamp(p.last_modified)),
                    },
                    p.checksums
                )
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
            .or_internal()?
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

        // Every requested part is checked against what is stored before anything changes.
        let chosen = choose_parts(&requested, &stored)?;

        // The parts' files become the object's by hard links (the parts are durable
        // already); the upload's own names go with its directory.
        let layout = &self.inner.layout;
        let object_dir = layout.object_dir(&input.bucket, &upload.key);
        let numbers: Vec<u32> = chosen.iter().map(|p| p.part_number).collect();
        let names = layout.new_object_segments(&input.bucket, &upload.key, &numbers);
        let segments: Vec<Segment> = chosen
            .iter()
            .zip(names)
            .map(|(p, data)| Segment { data, size: p.size })
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
            return Err(s3s::S3Error::internal_error(e));
        }
        let size = segments.iter().map(|s| s.size).sum();

        let etag = multipart_etag(&chosen)?;
        // With every part's CRC32C, the object records S3's composite of them.
        let composite = composite_crc32c(chosen.iter().map(|p| p.checksums.crc32c.as_deref()));
        let meta = ObjectMeta {
            key: upload.key.clone(),
            size,
            etag: etag.clone(),
            content_type: upload.content_type,
            last_modified: layout::now_secs(),
            data: ObjectData::Segments { segments },
            checksums: Checksums {
                crc32c: composite.clone(),
                ..Checksums::default()
            },
        };
        self.commit_object(&input.bucket, meta).await?;
        let _commit = self.inner.commit.lock().await;
        fs::remove_dir_all(&dir).await.or_internal()?;
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
        fs::remove_dir_all(&dir).await.or_internal()?;
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }
}

/// The stored parts a completion names, in its order: each must be stored, with the
/// `ETag` the client names, in ascending order, and all but the last at least 5 MiB.
fn choose_parts(requested: &[CompletedPart], stored: &[PartMeta]) -> S3Result<Vec<PartMeta>> {
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
                "part {number} is {} bytes; every part but the last must be at least {} MiB",
                meta.size,
                MIN_PART_SIZE / MIB
            ));
        }
        chosen.push(meta.clone());
    }
    Ok(chosen)
}

/// The multipart ETag, as S3 makes it: the MD5 of the parts' binary ETags, then "-" and
/// the part count.
fn multipart_etag(parts: &[PartMeta]) -> S3Result<String> {
    let mut md5 = Md5::new();
    for part in parts {
        md5.update(hex::decode(&part.etag).or_internal()?);
    }
    Ok(format!("{}-{}", hex::encode(md5.finalize()), parts.len()))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(sizes: &[u64]) -> Vec<PartMeta> {
        (1..)
            .zip(sizes)
            .map(|(n, &size)| PartMeta {
                part_number: n,
                size,
                etag: format!("{n:032x}"),
                last_modified: 0,
                data: String::new(),
                checksums: Checksums::default(),
            })
            .collect()
    }

    fn named(parts: &[(i32, &str)]) -> Vec<CompletedPart> {
        parts
            .iter()
            .map(|&(n, etag)| CompletedPart {
                part_number: Some(n),
                e_tag: Some(ETag::Strong(etag.to_owned())),
                ..Default::default()
            })
            .collect()
    }

    #[test]
    fn a_completion_names_stored_parts_in_order_all_but_the_last_large_enough() {
        let big = MIN_PART_SIZE;
        let parts = stored(&[big, big, 1]);
        let etag = |n: u32| format!("{n:032x}");
        let (e1, e2, e3) = (etag(1), etag(2), etag(3));
        let chosen = choose_parts(&named(&[(1, &e1), (2, &e2), (3, &e3)]), &parts);
        assert_eq!(chosen.map(|c| c.len()).ok(), Some(3));
        // Leaving a part out is allowed; what remains must still be in order.
        assert!(choose_parts(&named(&[(1, &e1), (3, &e3)]), &parts).is_ok());
        let refused: [(&[(i32, &str)], &str); 4] = [
            (&[(2, &e2), (1, &e1)], "InvalidPartOrder"),
            (&[(1, &e1), (4, &e1)], "InvalidPart"),
            (&[(1, &e2)], "InvalidPart"),
            (&[(2, &e2), (4, &e2)], "InvalidPart"),
        ];
        for (request, code) in refused {
            let err = choose_parts(&named(request), &parts).expect_err("refused");
            assert_eq!(err.code().as_str(), code, "{request:?}");
        }
        let small = stored(&[1, big]);
        let err = choose_parts(&named(&[(1, &e1), (2, &e2)]), &small).expect_err("too small");
        assert_eq!(err.code().as_str(), "EntityTooSmall");
    }

    #[test]
    fn the_multipart_etag_is_the_md5_of_the_parts_etags_and_their_count() {
        let parts = stored(&[1, 1]);
        let etag = multipart_etag(&parts).expect("hex etags");
        assert!(etag.ends_with("-2") && etag.len() == 34, "{etag}");
    }
}
