//! Multipart uploads in the storage layer: create, put a part, list parts and uploads,
//! complete (enforcing S3's 5 MiB minimum for every part but the last) and abort.

use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use tokio::fs;

use super::body::{self, EtagOf, Incoming, Promised};
use super::checksums::Checksums;
use super::disk::Disk;
use super::error::{Error, Result};
use super::layout::{
    self, Layout, ObjectData, ObjectHeaders, ObjectMeta, PartMeta, Segment, UploadMeta,
};
use crate::core::checksum::{composite_crc32c, full_object_crc32c};
use crate::core::limits::{MAX_PART_SIZE, MAX_PARTS, MIB, MIN_PART_SIZE};

/// A part as a completion names it.
#[derive(Debug, Clone)]
pub struct Requested {
    pub part_number: u32,
    /// The ETag the client was given for the part, without quotes.
    pub etag: String,
}

/// One page of a listing of uploads.
#[derive(Debug, Default)]
pub struct Uploads {
    /// Ids and records, in key then id order.
    pub uploads: Vec<(String, UploadMeta)>,
    pub truncated: bool,
}

impl Disk {
    /// The directory and record of an upload, or `NoSuchUpload`.
    async fn upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(PathBuf, UploadMeta)> {
        let dir = self
            .layout
            .upload_dir(upload_id)
            .ok_or(Error::NoSuchUpload)?;
        let meta: UploadMeta = layout::read_json(&Layout::upload_meta(&dir))
            .await?
            .ok_or(Error::NoSuchUpload)?;
        if meta.bucket != bucket || meta.key != key {
            return Err(Error::NoSuchUpload);
        }
        Ok((dir, meta))
    }

    /// Every upload in the store, by id.
    async fn all_uploads(&self) -> std::io::Result<Vec<(String, UploadMeta)>> {
        let mut uploads = Vec::new();
        let mut entries = fs::read_dir(self.layout.uploads_dir()).await?;
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

    /// Every stored part of an upload, in part order.
    async fn stored_parts(&self, dir: &Path) -> Result<Vec<PartMeta>> {
        let mut parts = Vec::new();
        let mut entries = fs::read_dir(dir).await?;
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name();
            if name.to_str().is_some_and(Layout::is_part_meta) {
                parts.extend(layout::read_json::<PartMeta>(&entry.path()).await?);
            }
        }
        parts.sort_by_key(|p| p.part_number);
        Ok(parts)
    }

    /// Starts an upload of `key`; its id names it from now on.
    pub async fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        content_type: String,
        headers: ObjectHeaders,
        full_object_crc32c: bool,
    ) -> Result<String> {
        self.require_bucket(bucket)?;
        let upload_id = layout::random_id();
        let dir = self
            .layout
            .upload_dir(&upload_id)
            .ok_or_else(|| std::io::Error::other("a new upload id is not a safe file name"))?;
        fs::create_dir_all(&dir).await?;
        let meta = UploadMeta {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            content_type,
            initiated: layout::now_secs(),
            headers,
            full_object_crc32c,
        };
        layout::write_json(&self.layout, &Layout::upload_meta(&dir), &meta).await?;
        Ok(upload_id)
    }

    /// Stores part `part_number` of an upload, replacing any part sent with that number.
    pub async fn put_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: i32,
        body: Incoming,
        promised: Promised,
    ) -> Result<PartMeta> {
        let part_number = u32::try_from(part_number)
            .ok()
            .filter(|n| (1..=MAX_PARTS).contains(n))
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "Part number must be an integer between 1 and {MAX_PARTS}, inclusive"
                ))
            })?;
        promised.check_length(MAX_PART_SIZE)?;
        let (dir, _) = self.upload(bucket, key, upload_id).await?;
        let layout = &self.layout;
        let received = body::receive(layout, body, promised, EtagOf::Fingerprint).await?;

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
        let _commit = self.commit.lock().await;
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
                Error::NoSuchUpload
            } else {
                err.into()
            });
        }
        let replaced: Option<PartMeta> = layout::read_json(&meta_path).await?;
        layout::write_json(layout, &meta_path, &meta).await?;
        if let Some(old) = replaced {
            layout::remove_file(&dir.join(old.data)).await?;
        }
        Ok(meta)
    }

    /// Up to `max` parts numbered above `after`, and whether more follow.
    pub async fn list_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        after: u32,
        max: usize,
    ) -> Result<(Vec<PartMeta>, bool)> {
        let (dir, _) = self.upload(bucket, key, upload_id).await?;
        let mut parts: Vec<PartMeta> = self
            .stored_parts(&dir)
            .await?
            .into_iter()
            .filter(|p| p.part_number > after)
            .collect();
        let truncated = parts.len() > max;
        parts.truncate(max);
        Ok((parts, truncated))
    }

    /// Up to `max` uploads of keys starting with `prefix`, after the key and id markers
    /// (an id marker counts only with a key marker, as in S3).
    pub async fn list_uploads(
        &self,
        bucket: &str,
        prefix: &str,
        key_marker: &str,
        id_marker: &str,
        max: usize,
    ) -> Result<Uploads> {
        self.require_bucket(bucket)?;
        let mut uploads: Vec<(String, UploadMeta)> = self
            .all_uploads()
            .await?
            .into_iter()
            .filter(|(_, u)| u.bucket == bucket && u.key.starts_with(prefix))
            .filter(|(id, u)| {
                key_marker.is_empty()
                    || u.key.as_str() > key_marker
                    || (u.key == key_marker && !id_marker.is_empty() && id.as_str() > id_marker)
            })
            .collect();
        uploads.sort_by(|(a_id, a), (b_id, b)| (&a.key, a_id).cmp(&(&b.key, b_id)));
        let truncated = uploads.len() > max;
        uploads.truncate(max);
        Ok(Uploads { uploads, truncated })
    }

    /// Makes the named parts the object `key`, and ends the upload. A full-object upload
    /// is checked against the whole object's CRC32C the client gives, if it gives one.
    pub async fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        requested: &[Requested],
        promised_crc32c: Option<&str>,
    ) -> Result<ObjectMeta> {
        let (dir, upload) = match self.upload(bucket, key, upload_id).await {
            Err(Error::NoSuchUpload) => return self.completed_before(bucket, key, upload_id),
            found => found?,
        };
        if requested.is_empty() {
            return Err(Error::MalformedXml(
                "the request must list at least one part".into(),
            ));
        }
        let stored = self.stored_parts(&dir).await?;

        // Every requested part is checked against what is stored before anything changes.
        let chosen = choose_parts(requested, &stored)?;
        let crc32c = object_crc32c(&upload, &chosen, promised_crc32c)?;

        // The parts' files become the object's by hard links (the parts are durable
        // already); the upload's own names go with its directory.
        let layout = &self.layout;
        let object_dir = layout.object_dir(bucket, &upload.key);
        let numbers: Vec<u32> = chosen.iter().map(|p| p.part_number).collect();
        let names = layout.new_object_segments(bucket, &upload.key, &numbers);
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
            return Err(e.into());
        }
        let size = segments.iter().map(|s| s.size).sum();

        let meta = ObjectMeta {
            key: upload.key,
            size,
            etag: multipart_etag(&chosen)?,
            content_type: upload.content_type,
            last_modified: layout::now_secs(),
            data: ObjectData::Segments { segments },
            checksums: Checksums {
                crc32c,
                ..Checksums::default()
            },
            headers: upload.headers,
        };
        let meta = self.commit_object(bucket, meta, false).await?;
        let _commit = self.commit.lock().await;
        fs::remove_dir_all(&dir).await?;
        self.completed().record(upload_id, bucket, key, &meta.etag);
        Ok(meta)
    }

    /// A completion asked again (its answer was lost): the object it made, while that is
    /// still the object under its key, as S3 answers it.
    fn completed_before(&self, bucket: &str, key: &str, upload_id: &str) -> Result<ObjectMeta> {
        let completed = self.completed();
        let etag = completed
            .etag(upload_id, bucket, key)
            .ok_or(Error::NoSuchUpload)?;
        match self.object(bucket, key) {
            Ok(meta) if meta.etag == etag => Ok(meta),
            _ => Err(Error::NoSuchUpload),
        }
    }

    /// Ends an upload and removes its parts.
    pub async fn abort_upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<()> {
        let (dir, _) = self.upload(bucket, key, upload_id).await?;
        let _commit = self.commit.lock().await;
        fs::remove_dir_all(&dir).await?;
        Ok(())
    }
}

/// The CRC32C the object completed from `chosen` records: the whole object's for a
/// full-object upload (every part must carry one, and it must equal what the client
/// promised), else S3's composite of the parts' when every part has one (what a client
/// says of a composite object at completion is not checked).
fn object_crc32c(
    upload: &UploadMeta,
    chosen: &[PartMeta],
    promised: Option<&str>,
) -> Result<Option<String>> {
    let parts = chosen.iter().map(|p| p.checksums.crc32c.as_deref());
    if !upload.full_object_crc32c {
        return Ok(composite_crc32c(parts));
    }
    let whole = full_object_crc32c(parts.zip(chosen.iter().map(|p| p.size))).ok_or_else(|| {
        Error::InvalidRequest(
            "The upload was created using the crc32c checksum algorithm. All parts must have \
             checksum values."
                .into(),
        )
    })?;
    match promised {
        Some(promised) if promised != whole => Err(Error::BadDigest(
            "The crc32c you specified did not match the calculated checksum.".into(),
        )),
        _ => Ok(Some(whole)),
    }
}

/// The stored parts a completion names, in its order: each must be stored, with the
/// `ETag` the client names, in ascending order, and all but the last at least 5 MiB.
fn choose_parts(requested: &[Requested], stored: &[PartMeta]) -> Result<Vec<PartMeta>> {
    let mut chosen = Vec::with_capacity(requested.len());
    let mut previous = 0;
    for (i, part) in requested.iter().enumerate() {
        let number = part.part_number;
        if number <= previous {
            return Err(Error::InvalidPartOrder);
        }
        previous = number;
        let meta = stored
            .iter()
            .find(|p| p.part_number == number)
            .ok_or_else(|| Error::InvalidPart(format!("part {number} was not uploaded")))?;
        if part.etag != meta.etag {
            return Err(Error::InvalidPart(format!(
                "part {number}'s ETag does not match"
            )));
        }
        let is_last = i + 1 == requested.len();
        if !is_last && meta.size < MIN_PART_SIZE {
            return Err(Error::EntityTooSmall(format!(
                "part {number} is {} bytes; every part but the last must be at least {} MiB",
                meta.size,
                MIN_PART_SIZE / MIB
            )));
        }
        chosen.push(meta.clone());
    }
    Ok(chosen)
}

/// The multipart ETag, as S3 makes it: the MD5 of the parts' binary ETags, then "-" and
/// the part count.
fn multipart_etag(parts: &[PartMeta]) -> Result<String> {
    let mut md5 = Md5::new();
    for part in parts {
        md5.update(hex::decode(&part.etag).map_err(std::io::Error::other)?);
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

    fn named(parts: &[(u32, &str)]) -> Vec<Requested> {
        parts
            .iter()
            .map(|&(part_number, etag)| Requested {
                part_number,
                etag: etag.to_owned(),
            })
            .collect()
    }

    fn code(error: Error) -> String {
        s3s::S3Error::from(error).code().as_str().to_owned()
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
        let refused: [(&[(u32, &str)], &str); 4] = [
            (&[(2, &e2), (1, &e1)], "InvalidPartOrder"),
            (&[(1, &e1), (4, &e1)], "InvalidPart"),
            (&[(1, &e2)], "InvalidPart"),
            (&[(2, &e2), (4, &e2)], "InvalidPart"),
        ];
        for (request, expected) in refused {
            let err = choose_parts(&named(request), &parts).expect_err("refused");
            assert_eq!(code(err), expected, "{request:?}");
        }
        let small = stored(&[1, big]);
        let err = choose_parts(&named(&[(1, &e1), (2, &e2)]), &small).expect_err("too small");
        assert_eq!(code(err), "EntityTooSmall");
    }

    #[test]
    fn the_multipart_etag_is_the_md5_of_the_parts_etags_and_their_count() {
        let parts = stored(&[1, 1]);
        let etag = multipart_etag(&parts).expect("hex etags");
        assert!(etag.ends_with("-2") && etag.len() == 34, "{etag}");
    }
}
