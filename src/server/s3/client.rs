//! The S3 client side of the server: presigning URLs for the browser (PUTs, parts,
//! downloads), and the calls the server makes itself: create, list the parts of,
//! complete and abort multipart uploads; head, delete and list objects (and the date
//! folders of the stored files list); sweep stale uploads; and the one-key listing the
//! bucket check and `/readyz` use.
//!
//! Works the same against the embedded store and any external one. Presigned URLs are
//! signed for the host the browser will use, which may differ from the endpoint the
//! server itself calls.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
    SharedCredentialsProvider,
};
use aws_sdk_s3::presigning::{PresignedRequest, PresigningConfig};
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumType, CompletedMultipartUpload, CompletedPart as S3CompletedPart,
};

use super::error::StoreError;
use crate::core::limits::MAX_LIST_PAGE;

/// The one way s3drop (and its tests) build an SDK client: `shared`'s region and
/// credentials, at `endpoint` when given. Checksums only where an operation requires
/// them: the browser sends its own CRC32C, and stores that know no other algorithm would
/// refuse the SDK's default CRC32 on every call.
pub fn sdk_client(shared: &SdkConfig, endpoint: Option<&str>, path_style: bool) -> Client {
    let mut builder = aws_sdk_s3::config::Builder::from(shared)
        .force_path_style(path_style)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
    if let Some(endpoint) = endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    Client::from_conf(builder.build())
}

/// A region and fixed credentials, nothing read from the environment (the embedded
/// store's own keys, or a test's).
pub fn fixed_config(region: &str, access_key: &str, secret_key: &str) -> SdkConfig {
    let credentials = Credentials::new(access_key, secret_key, None, None, "s3drop");
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .build()
}

/// Where presigned URLs point.
#[derive(Debug, Clone)]
pub enum PresignEndpoint {
    /// Always this client's endpoint (an external store, or a configured public URL).
    Fixed(Client),
    /// The host each request arrived at (the embedded store on the app's own origin).
    RequestHost { scheme: &'static str },
}

/// A URL and the headers the browser must send with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presigned {
    pub url: String,
    pub headers: Vec<(String, String)>,
}

/// What HeadObject tells of a stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
    pub content_type: String,
    pub etag: String,
    /// The object's CRC32C, if the store recorded one.
    pub crc32c: Option<String>,
}

/// A part as ListParts tells of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedPart {
    pub number: u32,
    pub etag: String,
    pub size: u64,
    /// The part's CRC32C, when it was sent with one.
    pub crc32c: Option<String>,
}

/// A part to complete an upload with: its number, the `ETag` the store gave it and the
/// CRC32C it was sent with (stores that record part checksums require it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartToComplete {
    pub number: u32,
    pub etag: String,
    pub crc32c: Option<String>,
}

/// What ListObjectsV2 tells of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSummary {
    pub key: String,
    pub size: u64,
    /// Seconds since the epoch.
    pub modified: i64,
}

/// One bucket, reached through aws-sdk-s3.
#[derive(Debug, Clone)]
pub struct Storage {
    /// The client for the server's own calls.
    client: Client,
    /// Where presigned URLs point.
    presign: PresignEndpoint,
    /// The bucket every object goes into.
    bucket: String,
    /// How long presigned URLs live.
    url_ttl: Duration,
    /// Whether the store takes S3's full-object checksums for multipart uploads: assumed
    /// until it refuses one, then every later upload gets the composite kind.
    full_object: Arc<AtomicBool>,
}

impl Storage {
    /// A storage over `client`'s endpoint and `bucket`.
    pub fn new(
        client: Client,
        presign: PresignEndpoint,
        bucket: String,
        url_ttl: Duration,
    ) -> Self {
        Self {
            client,
            presign,
            bucket,
            url_ttl,
            full_object: Arc::new(AtomicBool::new(true)),
        }
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// How long presigned URLs live.
    pub fn url_ttl(&self) -> Duration {
        self.url_ttl
    }

    /// The client for the server's own calls (the store check makes a few more).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The client that presigns for a browser that reached the server at `host`.
    fn presigner(&self, host: Option<&str>) -> Client {
        match (&self.presign, host) {
            (PresignEndpoint::RequestHost { scheme }, Some(host)) => {
                let config = self
                    .client
                    .config()
                    .to_builder()
                    .endpoint_url(format!("{scheme}://{host}"))
                    .build();
                Client::from_conf(config)
            }
            (PresignEndpoint::Fixed(client), _) => client.clone(),
            (PresignEndpoint::RequestHost { .. }, None) => self.client.clone(),
        }
    }

    fn presigning(&self, operation: &'static str) -> Result<PresigningConfig, StoreError> {
        PresigningConfig::expires_in(self.url_ttl).map_err(|err| StoreError::Invalid {
            operation,
            detail: err.to_string(),
        })
    }

    /// The origin browsers send presigned requests to, when it is fixed (an external
    /// store); `None` when it is the app's own origin.
    pub async fn browser_origin(&self) -> Option<String> {
        let PresignEndpoint::Fixed(_) = &self.presign else {
            return None;
        };
        let url = self
            .presign_get(None, "origin-probe", "inline")
            .await
            .ok()?;
        origin_of(&url)
    }

    /// A PUT of a whole object, bound to its content type, exact length and, when
    /// given, its CRC32C. It only creates (`If-None-Match: *`, signed in): on stores with
    /// conditional writes, no URL can replace the object once it is stored.
    pub async fn presign_put(
        &self,
        host: Option<&str>,
        key: &str,
        content_type: &str,
        length: u64,
        crc32c: Option<&str>,
    ) -> Result<Presigned, StoreError> {
        let request = self
            .presigner(host)
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(as_i64("presign PutObject", length)?)
            .set_checksum_crc32_c(crc32c.map(str::to_owned))
            .if_none_match("*")
            .presigned(self.presigning("presign PutObject")?)
            .await
            .map_err(|e| StoreError::from_sdk("presign PutObject", e))?;
        Ok(browser_request(&request))
    }

    /// An UploadPart, bound to the part's exact length and, when given, its CRC32C.
    pub async fn presign_part(
        &self,
        host: Option<&str>,
        key: &str,
        upload_id: &str,
        part_number: u32,
        length: u64,
        crc32c: Option<&str>,
    ) -> Result<Presigned, StoreError> {
        let request = self
            .presigner(host)
            .upload_part()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(as_i32("presign UploadPart", part_number)?)
            .content_length(as_i64("presign UploadPart", length)?)
            .set_checksum_crc32_c(crc32c.map(str::to_owned))
            .presigned(self.presigning("presign UploadPart")?)
            .await
            .map_err(|e| StoreError::from_sdk("presign UploadPart", e))?;
        Ok(browser_request(&request))
    }

    /// A GET that downloads the object with the given `Content-Disposition`.
    pub async fn presign_get(
        &self,
        host: Option<&str>,
        key: &str,
        disposition: &str,
    ) -> Result<String, StoreError> {
        let request = self
            .presigner(host)
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_disposition(disposition)
            .presigned(self.presigning("presign GetObject")?)
            .await
            .map_err(|e| StoreError::from_sdk("presign GetObject", e))?;
        Ok(request.uri().to_owned())
    }

    /// Starts a multipart upload whose parts each carry a CRC32C, so the store checks
    /// and records the whole object's: the CRC32C of the whole file (S3's
    /// `FULL_OBJECT` type) where the store takes it, else S3's composite of the parts'.
    /// Answers the upload id and whether it is of the full-object kind.
    pub async fn create_multipart(
        &self,
        key: &str,
        content_type: &str,
    ) -> Result<(String, bool), StoreError> {
        let create = async |full_object: bool| {
            self.client
                .create_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .content_type(content_type)
                .checksum_algorithm(ChecksumAlgorithm::Crc32C)
                .set_checksum_type(full_object.then_some(ChecksumType::FullObject))
                .send()
                .await
                .map_err(|e| StoreError::from_sdk("CreateMultipartUpload", e))
        };
        let mut full_object = self.full_object.load(Ordering::Relaxed);
        let mut created = create(full_object).await;
        if full_object
            && let Err(err) = &created
            && refuses_full_object(err)
        {
            self.full_object.store(false, Ordering::Relaxed);
            tracing::info!(
                reason = %err,
                "the store does not take full-object checksums: multipart objects get S3's composite CRC32C"
            );
            full_object = false;
            created = create(false).await;
        }
        let output = created?;
        let upload_id =
            output
                .upload_id()
                .map(str::to_owned)
                .ok_or_else(|| StoreError::Refused {
                    operation: "CreateMultipartUpload",
                    status: 200,
                    code: String::new(),
                    message: Some("an answer without an upload id".into()),
                })?;
        Ok((upload_id, full_object))
    }

    /// Every part the store holds for an upload, following ListParts' pages.
    pub async fn list_parts(
        &self,
        key: &str,
        upload_id: &str,
    ) -> Result<Vec<ListedPart>, StoreError> {
        let mut parts = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let output = self
                .client
                .list_parts()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(upload_id)
                .max_parts(as_i32("ListParts", MAX_LIST_PAGE)?)
                .set_part_number_marker(marker.take())
                .send()
                .await
                .map_err(|e| StoreError::from_sdk("ListParts", e))?;
            for part in output.parts() {
                parts.push(ListedPart {
                    number: part
                        .part_number()
                        .and_then(|n| u32::try_from(n).ok())
                        .unwrap_or_default(),
                    etag: part.e_tag().unwrap_or_default().to_owned(),
                    size: part
                        .size()
                        .and_then(|n| u64::try_from(n).ok())
                        .unwrap_or_default(),
                    crc32c: part.checksum_crc32_c().map(str::to_owned),
                });
            }
            match (output.is_truncated(), output.next_part_number_marker()) {
                (Some(true), Some(next)) => marker = Some(next.to_owned()),
                _ => break,
            }
        }
        parts.sort_by_key(|p| p.number);
        Ok(parts)
    }

    /// Completes a multipart upload with `parts`, in order, each with its CRC32C (stores
    /// that record part checksums require them), and for a full-object upload with the
    /// whole file's CRC32C, which the store checks against what it holds.
    pub async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[PartToComplete],
        full_object_crc32c: Option<&str>,
    ) -> Result<(), StoreError> {
        let operation = "CompleteMultipartUpload";
        let parts = parts
            .iter()
            .map(|p| {
                Ok(S3CompletedPart::builder()
                    .part_number(as_i32(operation, p.number)?)
                    .e_tag(&p.etag)
                    .set_checksum_crc32_c(p.crc32c.clone())
                    .build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .set_checksum_crc32_c(full_object_crc32c.map(str::to_owned))
            .set_checksum_type(full_object_crc32c.map(|_| ChecksumType::FullObject))
            .send()
            .await
            .map_err(|e| StoreError::from_sdk(operation, e))?;
        Ok(())
    }

    /// Aborts a multipart upload; the store drops its parts. An upload the store no
    /// longer knows counts as aborted: an abort asked again (the SDK retries one whose
    /// answer was lost, and S3 then answers `NoSuchUpload`) leaves nothing behind either.
    pub async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<(), StoreError> {
        let aborted = self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("AbortMultipartUpload", e));
        match aborted {
            Err(err) if err.is_no_such_upload() => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// Whether the bucket answers: a one-key listing of `prefix`, which a policy that
    /// grants `s3:ListBucket` only on s3drop's prefix allows (HeadBucket needs it
    /// without a condition).
    pub async fn check(&self, prefix: &str) -> Result<(), StoreError> {
        self.client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .max_keys(1)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("ListObjectsV2", e))?;
        Ok(())
    }

    /// Removes an object (removing a missing one succeeds, as in S3).
    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("DeleteObject", e))?;
        Ok(())
    }

    /// What HeadObject tells of the object under `key`, or `None` when nothing is stored
    /// there. AWS answers a missing key's HeadObject 403, not 404, to a caller that may
    /// list the bucket only under a prefix (docs/stores.md's policy); a 403 is read by
    /// listing the key itself, which that policy grants.
    pub async fn find(&self, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        match self.head(key).await {
            Ok(info) => Ok(Some(info)),
            Err(err) if err.is_not_found() => Ok(None),
            Err(err) if err.is_forbidden() => match self.listed(key).await? {
                // Stored, yet not ours to read: the refusal was real.
                true => Err(err),
                false => Ok(None),
            },
            Err(err) => Err(err),
        }
    }

    /// Whether an object is stored under `key` (see [`Storage::find`]).
    pub async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.find(key).await?.is_some())
    }

    /// Whether a listing of `key` as a prefix names `key` itself (first, if at all: a
    /// key sorts before every longer key it starts).
    async fn listed(&self, key: &str) -> Result<bool, StoreError> {
        let (objects, _) = self.list_objects(key, None, 1).await?;
        Ok(objects.first().is_some_and(|o| o.key == key))
    }

    /// Aborts multipart uploads under `prefix` started more than `max_age` ago,
    /// following ListMultipartUploads' pages; answers how many it aborted.
    pub async fn sweep_stale_uploads(
        &self,
        prefix: &str,
        max_age: Duration,
    ) -> Result<usize, StoreError> {
        let cutoff = std::time::SystemTime::now() - max_age;
        let mut stale = Vec::new();
        let (mut key_marker, mut id_marker) = (None, None);
        loop {
            let page = self
                .client
                .list_multipart_uploads()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_key_marker(key_marker.take())
                .set_upload_id_marker(id_marker.take())
                .send()
                .await
                .map_err(|e| StoreError::from_sdk("ListMultipartUploads", e))?;
            for upload in page.uploads() {
                let started = upload
                    .initiated()
                    .and_then(|t| std::time::SystemTime::try_from(*t).ok());
                if let (Some(key), Some(id), Some(started)) =
                    (upload.key(), upload.upload_id(), started)
                    && started <= cutoff
                {
                    stale.push((key.to_owned(), id.to_owned()));
                }
            }
            match (page.is_truncated(), page.next_key_marker()) {
                (Some(true), Some(next)) => {
                    key_marker = Some(next.to_owned());
                    id_marker = page.next_upload_id_marker().map(str::to_owned);
                }
                _ => break,
            }
        }
        for (key, upload_id) in &stale {
            self.abort_multipart(key, upload_id).await?;
        }
        Ok(stale.len())
    }

    /// Up to `limit` objects under `prefix`, in key order from just after `start_after`
    /// (ListObjectsV2), and whether more follow.
    pub async fn list_objects(
        &self,
        prefix: &str,
        start_after: Option<String>,
        limit: u32,
    ) -> Result<(Vec<ObjectSummary>, bool), StoreError> {
        let output = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .max_keys(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_start_after(start_after)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("ListObjectsV2", e))?;
        let objects = output
            .contents()
            .iter()
            .filter_map(|o| {
                Some(ObjectSummary {
                    key: o.key()?.to_owned(),
                    size: o.size().and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                    modified: o.last_modified().map_or(0, |t| t.secs()),
                })
            })
            .collect();
        Ok((objects, output.is_truncated() == Some(true)))
    }

    /// The "folders" right under `prefix` (ListObjectsV2's common prefixes for `/`), in
    /// key order; the first thousand, which is more than a level of dates holds.
    pub async fn list_folders(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let output = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .delimiter("/")
            .max_keys(as_i32("ListObjectsV2", MAX_LIST_PAGE)?)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("ListObjectsV2", e))?;
        Ok(output
            .common_prefixes()
            .iter()
            .filter_map(|p| p.prefix().map(str::to_owned))
            .collect())
    }

    /// Size, type and `ETag` of a stored object.
    pub async fn head(&self, key: &str) -> Result<ObjectInfo, StoreError> {
        let output = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
            .send()
            .await
            .map_err(|e| StoreError::from_sdk("HeadObject", e))?;
        Ok(ObjectInfo {
            size: output
                .content_length()
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or_default(),
            content_type: output.content_type().unwrap_or_default().to_owned(),
            etag: output.e_tag().unwrap_or_default().to_owned(),
            crc32c: output.checksum_crc32_c().map(str::to_owned),
        })
    }
}

/// Whether a store's refusal of a full-object CreateMultipartUpload says it does not
/// know the kind (rather than refusing the upload itself, which the composite kind
/// would not change).
fn refuses_full_object(err: &StoreError) -> bool {
    matches!(err, StoreError::Refused { status: 400 | 501, code, .. }
        if matches!(code.as_str(), "InvalidArgument" | "InvalidRequest" | "NotImplemented" | "InvalidChecksumType"))
}

/// `scheme://host[:port]` of a URL (no path, no query: safe to show for presigned URLs);
/// `None` without a scheme.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    Some(format!("{scheme}://{host}"))
}

/// The presigned request as the browser must send it. The browser sets `Content-Length`
/// itself from the body (it may not set it by hand), so that header is left out.
fn browser_request(request: &PresignedRequest) -> Presigned {
    Presigned {
        url: request.uri().to_owned(),
        headers: request
            .headers()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("content-length"))
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect(),
    }
}

fn as_i64(operation: &'static str, n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Invalid {
        operation,
        detail: format!("{n} is out of range"),
    })
}

fn as_i32(operation: &'static str, n: u32) -> Result<i32, StoreError> {
    i32::try_from(n).map_err(|_| StoreError::Invalid {
        operation,
        detail: format!("{n} is out of range"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(endpoint: &str, path_style: bool) -> Client {
        sdk_client(
            &fixed_config("eu-west-1", "id", "secret"),
            Some(endpoint),
            path_style,
        )
    }

    fn storage(server: Client, presigner: Client) -> Storage {
        Storage::new(
            server,
            PresignEndpoint::Fixed(presigner),
            "my-uploads".into(),
            Duration::from_secs(60),
        )
    }

    #[test]
    fn origins_hide_paths_and_signatures() {
        assert_eq!(
            origin_of("https://b.s3.amazonaws.com/k?X-Amz-Signature=abc").as_deref(),
            Some("https://b.s3.amazonaws.com")
        );
        assert_eq!(
            origin_of("http://localhost:3100").as_deref(),
            Some("http://localhost:3100")
        );
        assert_eq!(origin_of("no scheme"), None);
    }

    // Presigning is offline: these need no store.
    #[tokio::test]
    async fn presigned_urls_follow_the_addressing_and_the_public_endpoint() {
        let internal = "http://store.internal:3900";
        let path = storage(client(internal, true), client(internal, true));
        let url = path.presign_get(None, "uploads/a b", "inline").await;
        let url = url.expect("presigned");
        assert!(
            url.starts_with("http://store.internal:3900/my-uploads/uploads/a%20b?"),
            "{url}"
        );

        let hosted = storage(client(internal, false), client(internal, false));
        let url = hosted.presign_get(None, "k", "inline").await;
        let url = url.expect("presigned");
        assert!(
            url.starts_with("http://my-uploads.store.internal:3900/k?"),
            "{url}"
        );

        // Browsers reach the store elsewhere: URLs are signed for that host, and it is
        // the origin the page's CSP allows.
        let public = "https://files.example.com";
        let behind = storage(client(internal, true), client(public, true));
        let put = behind.presign_put(None, "k", "text/plain", 5, None).await;
        let put = put.expect("presigned");
        assert!(
            put.url
                .starts_with("https://files.example.com/my-uploads/k?"),
            "{}",
            put.url
        );
        assert_eq!(
            behind.browser_origin().await.as_deref(),
            Some("https://files.example.com")
        );
    }
}
