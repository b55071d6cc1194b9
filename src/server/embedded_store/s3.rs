//! The S3 face of the store: each operation reads s3s's wire types into the storage
//! layer's plain ones, calls [`super::disk::Disk`], and writes the answer back as S3 shapes it.
//! Nothing here decides how anything is stored.

use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};

use super::EmbeddedStore;
use super::body::Promised;
use super::checksums::Checksums;
use super::error::Error;
use super::layout::ObjectHeaders;
use super::multipart::Requested;
use super::objects::{ListQuery, Listing, NewObject};
use super::wire::{
    algorithm, asked_for, checksum_type, content_length, content_type, full_object_kind, http_date,
    incoming, metadata_out, only_if_new, owner, page_size, parse_http_date, sdk_algorithm,
    stored_encoding, timestamp, to_i32, to_i64, url_encode,
};

/// Builds an s3s output struct with `fields` and every checksum of `checksums` (the
/// wire types name the same five fields, `checksum_<name>`, in each output).
macro_rules! with_checksums {
    ($output:ident { $($field:ident : $value:expr),* $(,)? }, $checksums:expr) => {{
        let checksums: Checksums = $checksums;
        // Some outputs have no other fields.
        #[allow(clippy::needless_update)]
        let output = $output {
            $($field: $value,)*
            checksum_crc32: checksums.crc32,
            checksum_crc32c: checksums.crc32c,
            checksum_sha1: checksums.sha1,
            checksum_sha256: checksums.sha256,
            checksum_crc64nvme: checksums.crc64nvme,
            ..Default::default()
        };
        output
    }};
}

/// What an s3s input struct promises of its body (each names the same fields). The
/// algorithm to compute is the request's `x-amz-checksum-algorithm` (or its trailer's),
/// else the one the AWS SDKs name in `x-amz-sdk-checksum-algorithm` when they send no
/// value themselves: S3 computes it either way.
macro_rules! promised_by {
    ($input:expr, $headers:expr) => {
        Promised {
            content_length: content_length($input.content_length)?,
            content_md5: $input.content_md5,
            algorithm: $input
                .checksum_algorithm
                .map(algorithm)
                .or_else(|| sdk_algorithm(&$headers))
                .transpose()?,
            checksums: Checksums {
                crc32: $input.checksum_crc32,
                crc32c: $input.checksum_crc32c,
                sha1: $input.checksum_sha1,
                sha256: $input.checksum_sha256,
                crc64nvme: $input.checksum_crc64nvme,
            },
        }
    };
}

/// What an s3s input struct says of its object besides type and bytes (PutObject and
/// CreateMultipartUpload name the same fields).
macro_rules! headers_in {
    ($input:expr) => {
        ObjectHeaders {
            metadata: $input.metadata.unwrap_or_default().into_iter().collect(),
            cache_control: $input.cache_control,
            content_disposition: $input.content_disposition,
            content_encoding: $input.content_encoding.and_then(stored_encoding),
            content_language: $input.content_language,
            expires: $input.expires.as_ref().and_then(http_date),
        }
    };
}

/// The store answers only the operations s3drop and ordinary S3 clients need; s3s
/// answers `NotImplemented` for the rest.
#[async_trait::async_trait]
impl S3 for EmbeddedStore {
    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        // The store keeps s3drop's one bucket, made at start; more need an external store.
        match self.disk.require_bucket(&req.input.bucket) {
            Ok(()) => Err(Error::BucketAlreadyOwnedByYou.into()),
            Err(_) => Err(s3_error!(
                NotImplemented,
                "the embedded store keeps one bucket; use an external store for more"
            )),
        }
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.disk.require_bucket(&req.input.bucket)?;
        Ok(S3Response::new(HeadBucketOutput::default()))
    }

    async fn list_buckets(
        &self,
        _req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let buckets = self
            .disk
            .bucket_names()
            .into_iter()
            .map(|name| Bucket {
                name: Some(name),
                ..Default::default()
            })
            .collect();
        Ok(S3Response::new(ListBucketsOutput {
            buckets: Some(buckets),
            owner: Some(owner()),
            ..Default::default()
        }))
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let input = req.input;
        let promised = promised_by!(input, req.headers);
        let body = incoming(input.body, req.trailing_headers)?;
        let object = NewObject {
            only_if_new: only_if_new(input.if_match.as_ref(), input.if_none_match.as_ref())?,
            content_type: content_type(input.content_type),
            headers: headers_in!(input),
            key: input.key,
        };
        let meta = self
            .disk
            .put_object(&input.bucket, object, body, promised)
            .await?;
        Ok(S3Response::new(with_checksums!(
            PutObjectOutput {
                e_tag: Some(ETag::Strong(meta.etag))
            },
            meta.checksums
        )))
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let input = req.input;
        let object = self.disk.open_object(&input.bucket, &input.key)?;
        let size = object.meta.size;
        let range = match &input.range {
            Some(range) => Some(range.check(size).map_err(|_| s3_error!(InvalidRange))?),
            None => None,
        };
        let (start, end) = range.as_ref().map_or((0, size), |r| (r.start, r.end));
        let meta = object.meta.clone();
        let body = StreamingBlob::wrap(object.read(start, end));
        let checksums = asked_for(input.checksum_mode.as_ref(), meta.checksums);
        let kind = checksum_type(&checksums);
        let headers = meta.headers;
        Ok(S3Response::new(with_checksums!(
            GetObjectOutput {
                checksum_type: kind,
                body: Some(body),
                content_length: Some(to_i64(end - start)),
                content_range: range
                    .map(|_| format!("bytes {start}-{}/{size}", end.saturating_sub(1))),
                accept_ranges: Some("bytes".into()),
                content_type: Some(input.response_content_type.unwrap_or(meta.content_type)),
                content_disposition: input
                    .response_content_disposition
                    .or(headers.content_disposition),
                cache_control: input.response_cache_control.or(headers.cache_control),
                content_encoding: input.response_content_encoding.or(headers.content_encoding),
                content_language: input.response_content_language.or(headers.content_language),
                expires: headers.expires.as_deref().and_then(parse_http_date),
                metadata: metadata_out(headers.metadata),
                e_tag: Some(ETag::Strong(meta.etag)),
                last_modified: Some(timestamp(meta.last_modified)),
            },
            checksums
        )))
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let input = req.input;
        let meta = self.disk.object(&input.bucket, &input.key)?;
        let checksums = asked_for(input.checksum_mode.as_ref(), meta.checksums);
        let kind = checksum_type(&checksums);
        let headers = meta.headers;
        Ok(S3Response::new(with_checksums!(
            HeadObjectOutput {
                checksum_type: kind,
                content_length: Some(to_i64(meta.size)),
                content_type: Some(meta.content_type),
                content_disposition: headers.content_disposition,
                cache_control: headers.cache_control,
                content_encoding: headers.content_encoding,
                content_language: headers.content_language,
                expires: headers.expires.as_deref().and_then(parse_http_date),
                metadata: metadata_out(headers.metadata),
                accept_ranges: Some("bytes".into()),
                e_tag: Some(ETag::Strong(meta.etag)),
                last_modified: Some(timestamp(meta.last_modified)),
            },
            checksums
        )))
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.disk
            .delete_object(&req.input.bucket, &req.input.key)
            .await?;
        Ok(S3Response::new(DeleteObjectOutput::default()))
    }

    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let input = req.input;
        self.disk.require_bucket(&input.bucket)?;
        let (mut deleted, mut errors) = (Vec::new(), Vec::new());
        for object in input.delete.objects {
            match self.disk.delete_object(&input.bucket, &object.key).await {
                Ok(()) => deleted.push(DeletedObject {
                    key: Some(object.key),
                    ..Default::default()
                }),
                Err(err) => {
                    let err = s3s::S3Error::from(err);
                    errors.push(s3s::dto::Error {
                        code: Some(err.code().as_str().to_owned()),
                        message: err.message().map(str::to_owned),
                        key: Some(object.key),
                        version_id: None,
                    });
                }
            }
        }
        // Quiet mode answers only the failures.
        let quiet = input.delete.quiet.unwrap_or(false);
        Ok(S3Response::new(DeleteObjectsOutput {
            deleted: (!quiet).then_some(deleted),
            errors: Some(errors),
            ..Default::default()
        }))
    }

    /// ListObjects, the first version, which rclone and older clients still use: the
    /// same listing as V2, paged by `marker` instead of a continuation token.
    async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        let input = req.input;
        let max_keys = page_size(input.max_keys);
        let delimiter = input.delimiter.filter(|d| !d.is_empty());
        let query = ListQuery {
            prefix: input.prefix.as_deref().unwrap_or_default(),
            after: input.marker.as_deref().unwrap_or_default(),
            delimiter: delimiter.as_deref(),
            max_keys: max_keys as usize,
        };
        let listing = self.disk.list_objects(&input.bucket, &query)?;
        let page = Page::of(listing, input.encoding_type.as_ref(), false);
        let encode = |text: String| page.encode(text);
        Ok(S3Response::new(ListObjectsOutput {
            name: Some(input.bucket),
            prefix: input.prefix.map(encode),
            delimiter: delimiter.map(encode),
            marker: input.marker.map(encode),
            encoding_type: input.encoding_type,
            max_keys: Some(to_i32(max_keys as usize)),
            is_truncated: Some(page.truncated),
            // S3 gives NextMarker only with a delimiter; clients that lack it page on
            // from the last key, which is the same entry.
            next_marker: page.next.clone().map(encode),
            contents: Some(page.contents),
            common_prefixes: Some(page.common_prefixes),
            ..Default::default()
        }))
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let input = req.input;
        let max_keys = page_size(input.max_keys);
        let after = input
            .continuation_token
            .as_deref()
            .or(input.start_after.as_deref())
            .unwrap_or_default();
        // An empty delimiter is no delimiter, and is not echoed.
        let delimiter = input.delimiter.filter(|d| !d.is_empty());
        let query = ListQuery {
            prefix: input.prefix.as_deref().unwrap_or_default(),
            after,
            delimiter: delimiter.as_deref(),
            max_keys: max_keys as usize,
        };
        let listing = self.disk.list_objects(&input.bucket, &query)?;
        let owner = input.fetch_owner.unwrap_or(false);
        let page = Page::of(listing, input.encoding_type.as_ref(), owner);
        let encode = |text: String| page.encode(text);
        let key_count = page.contents.len() + page.common_prefixes.len();
        Ok(S3Response::new(ListObjectsV2Output {
            name: Some(input.bucket),
            prefix: input.prefix.map(encode),
            delimiter: delimiter.map(encode),
            start_after: input.start_after.map(encode),
            encoding_type: input.encoding_type,
            max_keys: Some(to_i32(max_keys as usize)),
            key_count: Some(to_i32(key_count)),
            continuation_token: input.continuation_token,
            is_truncated: Some(page.truncated),
            next_continuation_token: page.next,
            contents: Some(page.contents),
            common_prefixes: Some(page.common_prefixes),
            ..Default::default()
        }))
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let input = req.input;
        let content_type = content_type(input.content_type);
        let headers = headers_in!(input);
        let full_object_crc32c = full_object_kind(
            input.checksum_type.as_ref(),
            input.checksum_algorithm.as_ref(),
        )?;
        let upload_id = self
            .disk
            .create_upload(
                &input.bucket,
                &input.key,
                content_type,
                headers,
                full_object_crc32c,
            )
            .await?;
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(upload_id),
            checksum_algorithm: input.checksum_algorithm,
            checksum_type: input.checksum_type,
            ..Default::default()
        }))
    }

    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let input = req.input;
        let promised = promised_by!(input, req.headers);
        let body = incoming(input.body, req.trailing_headers)?;
        let part = self
            .disk
            .put_part(
                &input.bucket,
                &input.key,
                &input.upload_id,
                input.part_number,
                body,
                promised,
            )
            .await?;
        Ok(S3Response::new(with_checksums!(
            UploadPartOutput {
                e_tag: Some(ETag::Strong(part.etag))
            },
            part.checksums
        )))
    }

    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        let input = req.input;
        let max_parts = page_size(input.max_parts);
        let after = input
            .part_number_marker
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0);
        let (page, truncated) = self
            .disk
            .list_parts(
                &input.bucket,
                &input.key,
                &input.upload_id,
                after,
                max_parts as usize,
            )
            .await?;
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

    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        let input = req.input;
        let max_uploads = page_size(input.max_uploads);
        let page = self
            .disk
            .list_uploads(
                &input.bucket,
                input.prefix.as_deref().unwrap_or_default(),
                input.key_marker.as_deref().unwrap_or_default(),
                input.upload_id_marker.as_deref().unwrap_or_default(),
                max_uploads as usize,
            )
            .await?;
        let (next_key, next_id) = match page.uploads.last() {
            Some((id, u)) if page.truncated => (Some(u.key.clone()), Some(id.clone())),
            _ => (None, None),
        };
        let uploads = page
            .uploads
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
            is_truncated: Some(page.truncated),
            next_key_marker: next_key,
            next_upload_id_marker: next_id,
            uploads: Some(uploads),
            ..Default::default()
        }))
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let input = req.input;
        let requested = input
            .multipart_upload
            .and_then(|m| m.parts)
            .unwrap_or_default()
            .into_iter()
            .map(|part| {
                Some(Requested {
                    part_number: u32::try_from(part.part_number?).ok()?,
                    etag: part.e_tag?.value().trim_matches('"').to_owned(),
                })
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| Error::InvalidPart("every part needs its number and ETag".into()))?;
        let meta = self
            .disk
            .complete_upload(
                &input.bucket,
                &input.key,
                &input.upload_id,
                &requested,
                input.checksum_crc32c.as_deref(),
            )
            .await?;
        Ok(S3Response::new(CompleteMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(meta.key),
            e_tag: Some(ETag::Strong(meta.etag)),
            checksum_type: checksum_type(&meta.checksums),
            checksum_crc32c: meta.checksums.crc32c,
            ..Default::default()
        }))
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let input = req.input;
        self.disk
            .abort_upload(&input.bucket, &input.key, &input.upload_id)
            .await?;
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }
}

/// One page of a listing in S3's shapes, for ListObjects and ListObjectsV2 alike.
struct Page {
    contents: Vec<Object>,
    common_prefixes: Vec<CommonPrefix>,
    truncated: bool,
    /// The last entry of the page, when more follow (as the listing gave it, unencoded).
    next: Option<String>,
    url_encoded: bool,
}

impl Page {
    /// The page of `listing`; with `encoding-type=url`, every key and prefix in it is
    /// URL-encoded (keys may hold characters XML cannot carry).
    fn of(listing: Listing, encoding: Option<&EncodingType>, with_owner: bool) -> Self {
        let url_encoded = encoding.is_some_and(|e| e.as_str() == EncodingType::URL);
        let encode = |text: String| encoded(url_encoded, text);
        let owner = with_owner.then(owner);
        let contents = listing
            .objects
            .into_iter()
            .map(|meta| Object {
                key: Some(encode(meta.key)),
                size: Some(to_i64(meta.size)),
                e_tag: Some(ETag::Strong(meta.etag)),
                last_modified: Some(timestamp(meta.last_modified)),
                storage_class: Some(ObjectStorageClass::from_static(
                    ObjectStorageClass::STANDARD,
                )),
                owner: owner.clone(),
                ..Default::default()
            })
            .collect();
        let common_prefixes = listing
            .common_prefixes
            .into_iter()
            .map(|p| CommonPrefix {
                prefix: Some(encode(p)),
            })
            .collect();
        Self {
            contents,
            common_prefixes,
            truncated: listing.truncated,
            next: listing.next,
            url_encoded,
        }
    }

    /// `text` as this page encodes keys and prefixes.
    fn encode(&self, text: String) -> String {
        encoded(self.url_encoded, text)
    }
}

fn encoded(url_encoded: bool, text: String) -> String {
    match url_encoded {
        true => url_encode(&text),
        false => text,
    }
}
