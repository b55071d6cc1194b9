//! What the embedded store's tests share: the bucket, SDK calls they repeat, and how a
//! refusal is read.

use super::*;

pub const BUCKET: &str = "s3drop";

pub async fn read_all(s3: &aws_sdk_s3::Client, key: &str) -> Vec<u8> {
    let object = s3
        .get_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .expect("get");
    object
        .body
        .collect()
        .await
        .expect("body")
        .into_bytes()
        .to_vec()
}

/// Uploads `parts` into an upload of `key` and answers them as completion lists them.
pub async fn send_parts(
    s3: &aws_sdk_s3::Client,
    key: &str,
    upload_id: &str,
    parts: &[Vec<u8>],
) -> Vec<CompletedPart> {
    let mut completed = Vec::new();
    for (i, data) in parts.iter().enumerate() {
        let number = i as i32 + 1;
        let sent = s3
            .upload_part()
            .bucket(BUCKET)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .body(ByteStream::from(data.clone()))
            .send()
            .await
            .expect("upload part");
        completed.push(
            CompletedPart::builder()
                .part_number(number)
                .e_tag(sent.e_tag().expect("an etag"))
                .build(),
        );
    }
    completed
}

/// Sends part `n` of `upload_id` with `body`, and answers what the store said.
pub async fn send_part(
    s3: &aws_sdk_s3::Client,
    key: &str,
    upload_id: &str,
    n: i32,
    body: &'static [u8],
) -> Result<
    aws_sdk_s3::operation::upload_part::UploadPartOutput,
    aws_sdk_s3::error::SdkError<aws_sdk_s3::operation::upload_part::UploadPartError>,
> {
    s3.upload_part()
        .bucket(BUCKET)
        .key(key)
        .upload_id(upload_id)
        .part_number(n)
        .body(ByteStream::from_static(body))
        .send()
        .await
}

/// Completes `key` from `parts` and answers the object's ETag.
pub async fn upload_in_parts(s3: &aws_sdk_s3::Client, key: &str, parts: &[Vec<u8>]) -> String {
    let upload_id = start_upload(s3, key).await;
    let completed = send_parts(s3, key, &upload_id, parts).await;
    let done = complete(s3, key, &upload_id, completed)
        .await
        .expect("complete");
    done.e_tag().expect("etag").to_owned()
}

/// Starts a multipart upload of `key`; answers its id.
pub async fn start_upload(s3: &aws_sdk_s3::Client, key: &str) -> String {
    let upload = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .expect("create");
    upload.upload_id().expect("an id").to_owned()
}

/// Completes `upload_id` of `key` from `parts`.
pub async fn complete(
    s3: &aws_sdk_s3::Client,
    key: &str,
    upload_id: &str,
    parts: Vec<CompletedPart>,
) -> Result<
    aws_sdk_s3::operation::complete_multipart_upload::CompleteMultipartUploadOutput,
    aws_sdk_s3::error::SdkError<
        aws_sdk_s3::operation::complete_multipart_upload::CompleteMultipartUploadError,
    >,
> {
    s3.complete_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .upload_id(upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
}

/// Puts a small object of `body` at `key`.
pub async fn put_small(s3: &aws_sdk_s3::Client, key: &str, body: &'static [u8]) {
    s3.put_object()
        .bucket(BUCKET)
        .key(key)
        .body(ByteStream::from_static(body))
        .send()
        .await
        .expect("put");
}

/// The object data files under the store's buckets.
pub fn data_files(server: &TestServer) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "data") {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(&server.data.path().join("store/buckets"), &mut found);
    found
}

/// The HTTP status the store refused a request with; a request that got no answer at
/// all (a crash, a cut connection) fails the test.
pub fn refused_with<T, E>(result: Result<T, aws_sdk_s3::error::SdkError<E>>) -> u16
where
    E: std::fmt::Debug,
    T: std::fmt::Debug,
{
    let err = result.expect_err("the store refuses");
    match err.raw_response() {
        Some(response) => response.status().as_u16(),
        None => panic!("no answer from the store: {err:?}"),
    }
}

pub fn service_code<T, E>(result: Result<T, aws_sdk_s3::error::SdkError<E>>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug,
    T: std::fmt::Debug,
{
    let err = result.expect_err("the store refuses");
    err.as_service_error()
        .and_then(|e| e.code())
        .unwrap_or("no code")
        .to_owned()
}

// What real S3 clients (rclone, the AWS CLI, boto3, CDNs) rely on and S3 does; each
// below failed against the embedded store before it was made to behave as S3 does.
