//! The embedded store driven by the real aws-sdk-s3 client, as any S3 client would.

mod common;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use common::{MIB, TestServer, bytes};
use futures::StreamExt;

const BUCKET: &str = "s3drop";

async fn read_all(s3: &aws_sdk_s3::Client, key: &str) -> Vec<u8> {
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

#[tokio::test]
async fn objects_put_get_head_list_delete() {
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    let data = bytes(100_000, 1);
    s3.put_object()
        .bucket(BUCKET)
        .key("docs/a.bin")
        .content_type("application/x-test")
        .body(ByteStream::from(data.clone()))
        .send()
        .await
        .expect("put");
    s3.put_object()
        .bucket(BUCKET)
        .key("docs/sub/b.txt")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await
        .expect("put");
    assert_eq!(read_all(&s3, "docs/a.bin").await, data);

    let head = s3
        .head_object()
        .bucket(BUCKET)
        .key("docs/a.bin")
        .send()
        .await
        .expect("head");
    assert_eq!(head.content_length(), Some(100_000));
    assert_eq!(head.content_type(), Some("application/x-test"));

    // A range is served exactly.
    let range = s3
        .get_object()
        .bucket(BUCKET)
        .key("docs/a.bin")
        .range("bytes=10-19")
        .send()
        .await
        .expect("ranged get");
    let slice = range.body.collect().await.expect("body").into_bytes();
    assert_eq!(&slice[..], &data[10..20]);

    let listed = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("docs/")
        .delimiter("/")
        .send()
        .await
        .expect("list");
    let keys: Vec<_> = listed.contents().iter().filter_map(|o| o.key()).collect();
    let prefixes: Vec<_> = listed
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(keys, ["docs/a.bin"]);
    assert_eq!(prefixes, ["docs/sub/"]);

    // Overwriting replaces the content; deleting removes it.
    s3.put_object()
        .bucket(BUCKET)
        .key("docs/a.bin")
        .body(ByteStream::from_static(b"new"))
        .send()
        .await
        .expect("overwrite");
    assert_eq!(read_all(&s3, "docs/a.bin").await, b"new");
    s3.delete_object()
        .bucket(BUCKET)
        .key("docs/a.bin")
        .send()
        .await
        .expect("delete");
    let missing = s3
        .get_object()
        .bucket(BUCKET)
        .key("docs/a.bin")
        .send()
        .await;
    assert_eq!(refused_with(missing), 404);
}

#[tokio::test]
async fn listing_pages_through_many_keys() {
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    for i in 0..25 {
        s3.put_object()
            .bucket(BUCKET)
            .key(format!("k/{i:03}"))
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .expect("put");
    }
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(BUCKET)
            .max_keys(10)
            .set_continuation_token(token.take())
            .send()
            .await
            .expect("list");
        seen.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
        match page.next_continuation_token() {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    let expected: Vec<_> = (0..25).map(|i| format!("k/{i:03}")).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn objects_survive_a_restart() {
    let server = TestServer::start(&[]).await;
    server
        .s3()
        .put_object()
        .bucket(BUCKET)
        .key("kept")
        .body(ByteStream::from_static(b"still here"))
        .send()
        .await
        .expect("put");
    let server = server.restart(&[]).await;
    assert_eq!(read_all(&server.s3(), "kept").await, b"still here");
}

#[tokio::test]
async fn multipart_uploads_assemble_list_and_abort() {
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    let key = "multi/file.bin";
    let part1 = bytes(5 * MIB, 2);
    let part2 = bytes(1_234, 3);

    let upload_id = start_upload(&s3, key).await;
    let upload_id = upload_id.as_str();

    let listed = s3
        .list_multipart_uploads()
        .bucket(BUCKET)
        .send()
        .await
        .expect("list uploads");
    assert_eq!(listed.uploads().len(), 1);
    assert_eq!(listed.uploads()[0].upload_id(), Some(upload_id));

    let completed = send_parts(&s3, key, upload_id, &[part1.clone(), part2.clone()]).await;
    let parts = s3
        .list_parts()
        .bucket(BUCKET)
        .key(key)
        .upload_id(upload_id)
        .send()
        .await
        .expect("list parts");
    let sizes: Vec<_> = parts.parts().iter().map(|p| p.size()).collect();
    assert_eq!(sizes, [Some(5 * MIB as i64), Some(1_234)]);

    let done = s3
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .upload_id(upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(completed))
                .build(),
        )
        .send()
        .await
        .expect("complete");
    assert!(done.e_tag().expect("etag").ends_with("-2\""));
    assert_eq!(read_all(&s3, key).await, [part1, part2].concat());

    // Completed uploads are gone from the list; an aborted one leaves nothing.
    let other = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("x")
        .send()
        .await
        .expect("create");
    let other_id = other.upload_id().expect("id");
    s3.abort_multipart_upload()
        .bucket(BUCKET)
        .key("x")
        .upload_id(other_id)
        .send()
        .await
        .expect("abort");
    let listed = s3
        .list_multipart_uploads()
        .bucket(BUCKET)
        .send()
        .await
        .expect("list uploads");
    assert!(listed.uploads().is_empty());
    let gone = s3
        .upload_part()
        .bucket(BUCKET)
        .key("x")
        .upload_id(other_id)
        .part_number(1)
        .body(ByteStream::from_static(b"late"))
        .send()
        .await;
    assert_eq!(service_code(gone), "NoSuchUpload");
}

/// Uploads `parts` into an upload of `key` and answers them as completion lists them.
async fn send_parts(
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

/// Completes `key` from `parts` and answers the object's ETag.
async fn upload_in_parts(s3: &aws_sdk_s3::Client, key: &str, parts: &[Vec<u8>]) -> String {
    let upload_id = start_upload(s3, key).await;
    let completed = send_parts(s3, key, &upload_id, parts).await;
    let done = complete(s3, key, &upload_id, completed)
        .await
        .expect("complete");
    done.e_tag().expect("etag").to_owned()
}

/// Starts a multipart upload of `key`; answers its id.
async fn start_upload(s3: &aws_sdk_s3::Client, key: &str) -> String {
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
async fn complete(
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
async fn put_small(s3: &aws_sdk_s3::Client, key: &str, body: &'static [u8]) {
    s3.put_object()
        .bucket(BUCKET)
        .key(key)
        .body(ByteStream::from_static(body))
        .send()
        .await
        .expect("put");
}

/// The object data files under the store's buckets.
fn data_files(server: &TestServer) -> Vec<std::path::PathBuf> {
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

#[tokio::test]
async fn objects_completed_from_parts_read_across_parts_and_outlive_replacement() {
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    let key = "parts/file.bin";
    let parts = [bytes(5 * MIB, 7), bytes(5 * MIB, 8), bytes(1_234, 9)];
    let whole = parts.concat();
    upload_in_parts(&s3, key, &parts).await;

    // A range across the first boundary, one inside a part, the tail.
    for (first, last) in [
        (5 * MIB - 10, 5 * MIB + 9),
        (6 * MIB, 7 * MIB),
        (10 * MIB, whole.len() - 1),
    ] {
        let got = s3
            .get_object()
            .bucket(BUCKET)
            .key(key)
            .range(format!("bytes={first}-{last}"))
            .send()
            .await
            .expect("ranged get")
            .body
            .collect()
            .await
            .expect("body")
            .into_bytes();
        assert_eq!(got.as_ref(), &whole[first..=last], "bytes {first}-{last}");
    }

    // A reader that started before the object was replaced and then deleted still
    // reads the version it started on, to the end.
    let mut reading = s3
        .get_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .expect("get")
        .body;
    let mut read = reading
        .next()
        .await
        .expect("a chunk")
        .expect("bytes")
        .to_vec();
    s3.put_object()
        .bucket(BUCKET)
        .key(key)
        .body(ByteStream::from_static(b"newer"))
        .send()
        .await
        .expect("replace");
    s3.delete_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .expect("delete");
    while let Some(chunk) = reading.next().await {
        read.extend_from_slice(&chunk.expect("bytes"));
    }
    assert!(read == whole, "the old version was read whole");
    drop(reading);
    assert_eq!(data_files(&server), Vec::<std::path::PathBuf>::new());

    // An object from parts survives a restart; files no object names are swept then.
    upload_in_parts(&s3, key, &parts).await;
    let orphan = server
        .data
        .path()
        .join("store/buckets/s3drop/00/orphan.data");
    std::fs::create_dir_all(orphan.parent().expect("a parent")).expect("mkdir");
    std::fs::write(&orphan, b"left by a crash").expect("write");
    let server = server.restart(&[]).await;
    assert!(read_all(&server.s3(), key).await == whole);
    assert!(!orphan.exists(), "swept at start");
    assert_eq!(data_files(&server).len(), parts.len());
}

#[tokio::test]
async fn etags_follow_s3s_shapes() {
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    let put = s3
        .put_object()
        .bucket(BUCKET)
        .key("one")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await
        .expect("put");
    // An object written in one PUT: its MD5, which tools compare with the file's.
    assert_eq!(put.e_tag(), Some("\"5d41402abc4b2a76b9719d911017c592\""));
    let etag = upload_in_parts(&s3, "two", &[bytes(5 * MIB, 1), bytes(10, 2)]).await;
    let shape = etag.trim_matches('"');
    let (digest, count) = shape.split_once('-').expect("digest-count");
    assert_eq!((digest.len(), count), (32, "2"), "{etag}");
    assert!(digest.bytes().all(|b| b.is_ascii_hexdigit()));
}

#[tokio::test]
async fn small_non_final_parts_are_refused_at_completion() {
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    let upload_id = start_upload(&s3, "k").await;
    let upload_id = upload_id.as_str();
    let small = bytes(5 * MIB - 1, 4);
    let parts = send_parts(&s3, "k", upload_id, &[small.clone(), small]).await;
    let result = s3
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key("k")
        .upload_id(upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await;
    assert_eq!(service_code(result), "EntityTooSmall");
    // Nothing was created.
    assert_eq!(
        refused_with(s3.head_object().bucket(BUCKET).key("k").send().await),
        404
    );
}

#[tokio::test]
async fn checksums_are_verified() {
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    // The CRC32C of "hello" is 9a71bb4c; base64 "mnG7TA==".
    s3.put_object()
        .bucket(BUCKET)
        .key("ok")
        .checksum_crc32_c("mnG7TA==")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await
        .expect("a matching checksum is accepted");
    let wrong = s3
        .put_object()
        .bucket(BUCKET)
        .key("bad")
        .checksum_crc32_c("AAAAAA==")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await;
    assert_eq!(service_code(wrong), "BadDigest");
    assert_eq!(
        refused_with(s3.head_object().bucket(BUCKET).key("bad").send().await),
        404
    );
}

#[tokio::test]
async fn requests_signed_with_other_credentials_are_refused() {
    let server = TestServer::start(&[]).await;
    let intruder = server.s3_with("S3DROPNOTME", "not-the-secret");
    let result = intruder
        .put_object()
        .bucket(BUCKET)
        .key("intrusion")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await;
    assert_eq!(refused_with(result), 403);
    let anonymous = server
        .http
        .put(server.url("/s3drop/anon"))
        .body("x")
        .send()
        .await
        .expect("answers");
    assert_eq!(anonymous.status().as_u16(), 403);
    assert_eq!(
        refused_with(
            server
                .s3()
                .head_object()
                .bucket(BUCKET)
                .key("intrusion")
                .send()
                .await
        ),
        404
    );
}

/// The HTTP status the store refused a request with; a request that got no answer at
/// all (a crash, a cut connection) fails the test.
fn refused_with<T, E>(result: Result<T, aws_sdk_s3::error::SdkError<E>>) -> u16
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

fn service_code<T, E>(result: Result<T, aws_sdk_s3::error::SdkError<E>>) -> String
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

#[tokio::test]
async fn object_metadata_and_headers_are_kept_and_answered() {
    use aws_sdk_s3::primitives::DateTime;
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    let expires = DateTime::from_secs(1_900_000_000);
    s3.put_object()
        .bucket(BUCKET)
        .key("kept.txt")
        .metadata("mtime", "1700000000.5")
        .metadata("Owner-Name", "Ada Lovelace")
        .cache_control("max-age=60")
        .content_disposition("attachment; filename=\"kept.txt\"")
        .content_encoding("identity")
        .content_language("fr")
        .expires(expires)
        .body(ByteStream::from_static(b"kept"))
        .send()
        .await
        .expect("put");
    let head = s3
        .head_object()
        .bucket(BUCKET)
        .key("kept.txt")
        .send()
        .await
        .expect("head");
    let get = s3
        .get_object()
        .bucket(BUCKET)
        .key("kept.txt")
        .send()
        .await
        .expect("get");
    for (metadata, cache, disposition, encoding, language, when) in [
        (
            head.metadata(),
            head.cache_control(),
            head.content_disposition(),
            head.content_encoding(),
            head.content_language(),
            head.expires_string(),
        ),
        (
            get.metadata(),
            get.cache_control(),
            get.content_disposition(),
            get.content_encoding(),
            get.content_language(),
            get.expires_string(),
        ),
    ] {
        let metadata = metadata.expect("metadata");
        assert_eq!(
            metadata.get("mtime").map(String::as_str),
            Some("1700000000.5")
        );
        assert_eq!(
            metadata.get("owner-name").map(String::as_str),
            Some("Ada Lovelace")
        );
        assert_eq!(cache, Some("max-age=60"));
        assert_eq!(disposition, Some("attachment; filename=\"kept.txt\""));
        assert_eq!(encoding, Some("identity"));
        assert_eq!(language, Some("fr"));
        assert_eq!(when, Some("Sun, 17 Mar 2030 17:46:40 GMT"));
    }

    // A multipart upload keeps what its creation said.
    let upload = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("parts.bin")
        .metadata("mtime", "42")
        .cache_control("no-cache")
        .send()
        .await
        .expect("create");
    let upload_id = upload.upload_id().expect("an id");
    let parts = send_parts(&s3, "parts.bin", upload_id, &[bytes(1000, 3)]).await;
    complete(&s3, "parts.bin", upload_id, parts)
        .await
        .expect("complete");
    let head = s3
        .head_object()
        .bucket(BUCKET)
        .key("parts.bin")
        .send()
        .await
        .expect("head");
    assert_eq!(
        head.metadata()
            .and_then(|m| m.get("mtime"))
            .map(String::as_str),
        Some("42")
    );
    assert_eq!(head.cache_control(), Some("no-cache"));
}

#[tokio::test]
async fn checksums_are_answered_when_asked_for_crc64nvme_included() {
    use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode};
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    s3.put_object()
        .bucket(BUCKET)
        .key("summed.bin")
        .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
        .body(ByteStream::from(bytes(5000, 4)))
        .send()
        .await
        .expect("put");
    // Without x-amz-checksum-mode: ENABLED, S3 does not answer checksums.
    let plain = s3
        .head_object()
        .bucket(BUCKET)
        .key("summed.bin")
        .send()
        .await
        .expect("head");
    assert_eq!(plain.checksum_crc64_nvme(), None);
    let asked = s3
        .head_object()
        .bucket(BUCKET)
        .key("summed.bin")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("head");
    assert!(
        asked.checksum_crc64_nvme().is_some_and(|c| !c.is_empty()),
        "{asked:?}"
    );
    let got = s3
        .get_object()
        .bucket(BUCKET)
        .key("summed.bin")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("get");
    assert_eq!(got.checksum_crc64_nvme(), asked.checksum_crc64_nvme());

    let upload = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("summed-parts.bin")
        .checksum_algorithm(ChecksumAlgorithm::Crc32C)
        .send()
        .await
        .expect("create");
    assert_eq!(
        upload.checksum_algorithm(),
        Some(&ChecksumAlgorithm::Crc32C)
    );
}

#[tokio::test]
async fn a_full_object_upload_records_and_checks_the_whole_objects_crc32c() {
    use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, ChecksumType};
    use s3drop::core::checksum::crc32c;
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    let parts = [bytes(5 * MIB, 30), bytes(777, 31)];
    let whole = crc32c(&parts.concat());
    // (what the client says the whole object's CRC32C is, what the store answers)
    for (i, (promised, answer)) in [
        (Some(whole.clone()), Ok(())),
        (None, Ok(())),
        (Some(crc32c(b"other bytes")), Err("BadDigest")),
    ]
    .into_iter()
    .enumerate()
    {
        let key = format!("whole-{i}.bin");
        let upload = s3
            .create_multipart_upload()
            .bucket(BUCKET)
            .key(&key)
            .checksum_algorithm(ChecksumAlgorithm::Crc32C)
            .checksum_type(ChecksumType::FullObject)
            .send()
            .await
            .expect("create");
        assert_eq!(upload.checksum_type(), Some(&ChecksumType::FullObject));
        let upload_id = upload.upload_id().expect("an id");
        let mut completed = Vec::new();
        for (n, data) in (1..).zip(&parts) {
            let sent = s3
                .upload_part()
                .bucket(BUCKET)
                .key(&key)
                .upload_id(upload_id)
                .part_number(n)
                .checksum_crc32_c(crc32c(data))
                .body(ByteStream::from(data.clone()))
                .send()
                .await
                .expect("part");
            completed.push(
                CompletedPart::builder()
                    .part_number(n)
                    .e_tag(sent.e_tag().expect("etag"))
                    .checksum_crc32_c(crc32c(data))
                    .build(),
            );
        }
        let done = s3
            .complete_multipart_upload()
            .bucket(BUCKET)
            .key(&key)
            .upload_id(upload_id)
            .set_checksum_crc32_c(promised)
            .checksum_type(ChecksumType::FullObject)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(completed))
                    .build(),
            )
            .send()
            .await;
        match answer {
            Ok(()) => {
                let done = done.expect("complete");
                assert_eq!(done.checksum_crc32_c(), Some(whole.as_str()));
                let head = s3
                    .head_object()
                    .bucket(BUCKET)
                    .key(&key)
                    .checksum_mode(ChecksumMode::Enabled)
                    .send()
                    .await
                    .expect("head");
                assert_eq!(head.checksum_crc32_c(), Some(whole.as_str()));
                assert_eq!(head.checksum_type(), Some(&ChecksumType::FullObject));
            }
            Err(code) => {
                assert_eq!(service_code(done), code);
                // Nothing was made, and the upload is still there to complete rightly.
                let head = s3.head_object().bucket(BUCKET).key(&key).send().await;
                assert_eq!(refused_with(head), 404);
                let listed = s3
                    .list_parts()
                    .bucket(BUCKET)
                    .key(&key)
                    .upload_id(upload_id)
                    .send()
                    .await
                    .expect("still listed");
                assert_eq!(listed.parts().len(), 2);
            }
        }
    }

    // The store combines CRC32Cs only; a full-object type needs an algorithm.
    let sha = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("sha.bin")
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .checksum_type(ChecksumType::FullObject)
        .send()
        .await;
    assert_eq!(service_code(sha), "NotImplemented");
    let bare = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("bare.bin")
        .checksum_type(ChecksumType::FullObject)
        .send()
        .await;
    assert_eq!(service_code(bare), "InvalidRequest");
}

#[tokio::test]
async fn completing_an_upload_again_answers_the_object() {
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    let upload_id = start_upload(&s3, "twice.bin").await;
    let upload_id = upload_id.as_str();
    let parts = send_parts(
        &s3,
        "twice.bin",
        upload_id,
        &[bytes(6 * MIB, 5), bytes(10, 6)],
    )
    .await;
    let first = complete(&s3, "twice.bin", upload_id, parts.clone())
        .await
        .expect("complete");
    // A client whose answer was lost asks again: S3 answers with the object again.
    let again = complete(&s3, "twice.bin", upload_id, parts)
        .await
        .expect("complete again");
    assert_eq!(again.e_tag(), first.e_tag());
    // Parts of a completed upload are gone, as in S3.
    let late = s3
        .upload_part()
        .bucket(BUCKET)
        .key("twice.bin")
        .upload_id(upload_id)
        .part_number(3)
        .body(ByteStream::from_static(b"late"))
        .send()
        .await;
    assert_eq!(service_code(late), "NoSuchUpload");
}

#[tokio::test]
async fn a_part_sent_twice_at_once_completes_with_the_answer_that_came_last() {
    use aws_sdk_s3::presigning::PresigningConfig;
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    let upload_id = start_upload(&s3, "raced.bin").await;
    let url = s3
        .upload_part()
        .bucket(BUCKET)
        .key("raced.bin")
        .upload_id(&upload_id)
        .part_number(1)
        .presigned(PresigningConfig::expires_in(std::time::Duration::from_secs(300)).expect("ttl"))
        .await
        .expect("presigned")
        .uri()
        .to_owned();
    let (slow_data, fast_data) = (bytes(200_000, 7), bytes(200_000, 8));
    // The first request starts first and finishes last: the rest of its body waits until
    // the second, started once the first's head is on its way, has been answered.
    let (head_sent, started) = tokio::sync::oneshot::channel::<()>();
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let slow_body = {
        let (head, tail) = slow_data.split_at(1000);
        let (head, tail) = (
            bytes::Bytes::copy_from_slice(head),
            bytes::Bytes::copy_from_slice(tail),
        );
        futures::stream::iter([Ok::<_, std::io::Error>(head)]).chain(futures::stream::once(
            async move {
                let _ = head_sent.send(());
                let _ = released.await;
                Ok(tail)
            },
        ))
    };
    let http = reqwest::Client::new();
    let slow = http
        .put(&url)
        .header("content-length", slow_data.len())
        .body(reqwest::Body::wrap_stream(slow_body))
        .send();
    let fast = async {
        started.await.expect("the first request's head went");
        let answer = http.put(&url).body(fast_data.clone()).send().await;
        let _ = release.send(());
        answer
    };
    let (slow, fast) = tokio::join!(slow, fast);
    let (slow, fast) = (slow.expect("slow answers"), fast.expect("fast answers"));
    assert_eq!((slow.status().as_u16(), fast.status().as_u16()), (200, 200));
    let etag = |r: &reqwest::Response| r.headers()["etag"].to_str().expect("etag").to_owned();
    let last = etag(&slow);
    assert_ne!(last, etag(&fast));
    let part = CompletedPart::builder().part_number(1).e_tag(last).build();
    complete(&s3, "raced.bin", &upload_id, vec![part])
        .await
        .expect("completes with the ETag answered last");
    assert_eq!(read_all(&s3, "raced.bin").await, slow_data);
}

#[tokio::test]
async fn listings_answer_their_parameters_as_s3_does() {
    use aws_sdk_s3::types::EncodingType;
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    for key in ["list/a b+c/ü.txt", "list/z.txt"] {
        put_small(&s3, key, b"x").await;
    }
    let encoded = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("list/")
        .encoding_type(EncodingType::Url)
        .fetch_owner(true)
        .send()
        .await
        .expect("list");
    assert_eq!(encoded.encoding_type(), Some(&EncodingType::Url));
    let keys: Vec<_> = encoded.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["list/a%20b%2Bc/%C3%BC.txt", "list/z.txt"]);
    assert!(
        encoded
            .contents()
            .iter()
            .all(|o| o.owner().and_then(|w| w.id()).is_some())
    );
    let plain = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("list/")
        .send()
        .await
        .expect("list");
    assert!(plain.contents().iter().all(|o| o.owner().is_none()));

    let none = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .max_keys(0)
        .send()
        .await
        .expect("list");
    assert_eq!(
        (none.key_count(), none.is_truncated()),
        (Some(0), Some(false))
    );
    let empty_delimiter = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .delimiter("")
        .send()
        .await
        .expect("list");
    assert_eq!(empty_delimiter.delimiter(), None);
}

/// ListObjects, the first version, as rclone (with its defaults for "other" stores) and
/// older clients page through a bucket: by marker.
#[tokio::test]
async fn the_first_listing_version_pages_by_marker() {
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    for key in [
        "v1/a.txt",
        "v1/b/c.txt",
        "v1/b/d.txt",
        "v1/e.txt",
        "v1/f g.txt",
    ] {
        put_small(&s3, key, b"x").await;
    }
    let mut keys = Vec::new();
    let mut marker = None;
    loop {
        let page = s3
            .list_objects()
            .bucket(BUCKET)
            .prefix("v1/")
            .max_keys(2)
            .set_marker(marker.clone())
            .send()
            .await
            .expect("listed");
        let page_keys: Vec<String> = page
            .contents()
            .iter()
            .filter_map(|o| o.key())
            .map(str::to_owned)
            .collect();
        assert!(page_keys.len() <= 2);
        keys.extend(page_keys);
        if !page.is_truncated().unwrap_or(false) {
            break;
        }
        marker = Some(
            page.next_marker()
                .map_or_else(|| keys.last().cloned().expect("a key"), str::to_owned),
        );
    }
    assert_eq!(
        keys,
        [
            "v1/a.txt",
            "v1/b/c.txt",
            "v1/b/d.txt",
            "v1/e.txt",
            "v1/f g.txt"
        ]
    );
    let folders = s3
        .list_objects()
        .bucket(BUCKET)
        .prefix("v1/")
        .delimiter("/")
        .send()
        .await
        .expect("listed");
    let prefixes: Vec<_> = folders
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["v1/b/"]);
    assert_eq!(folders.contents().len(), 3);
    assert_eq!(folders.is_truncated(), Some(false));
}

#[tokio::test]
async fn requests_for_other_buckets_are_answered_no_such_bucket() {
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    let listed = s3.list_objects_v2().bucket("not-this-store").send().await;
    assert_eq!(service_code(listed), "NoSuchBucket");
    let got = s3
        .get_object()
        .bucket("not-this-store")
        .key("k")
        .send()
        .await;
    assert_eq!(service_code(got), "NoSuchBucket");
    let buckets = s3.list_buckets().send().await.expect("list buckets");
    let names: Vec<_> = buckets.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, [BUCKET]);
    // The page's own 404 stays for whatever is not an S3 request.
    let page = server
        .http
        .get(server.url("/not-this-store/k"))
        .send()
        .await
        .expect("answers");
    assert_eq!(page.status().as_u16(), 404);
    assert!(page.text().await.expect("text").contains("<html"));
}

#[tokio::test]
async fn presigned_urls_claiming_more_than_seven_days_are_refused() {
    use aws_sigv4::http_request::{
        SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
    };
    use aws_sigv4::sign::v4;
    let server = TestServer::start(&[]).await;
    let secrets =
        s3drop::server::cli::secrets::load_or_create(server.data.path()).expect("secrets");
    put_small(&server.s3(), "week.txt", b"a week").await;
    let presign = |seconds: u64| {
        let identity = aws_credential_types::Credentials::new(
            &secrets.store_access_key,
            &secrets.store_secret_key,
            None,
            None,
            "test",
        )
        .into();
        let mut settings = SigningSettings::default();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(std::time::Duration::from_secs(seconds));
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("s3")
            .time(std::time::SystemTime::now())
            .settings(settings)
            .build()
            .expect("params")
            .into();
        let url = server.url("/s3drop/week.txt");
        let request = SignableRequest::new(
            "GET",
            &url,
            std::iter::empty(),
            SignableBody::UnsignedPayload,
        )
        .expect("signable");
        let (instructions, _) = sign(request, &params).expect("signed").into_parts();
        let mut url = reqwest::Url::parse(&url).expect("url");
        for (name, value) in instructions.params() {
            url.query_pairs_mut().append_pair(name, value);
        }
        url.to_string()
    };
    let week = server
        .http
        .get(presign(604_800))
        .send()
        .await
        .expect("answers");
    assert_eq!(week.status().as_u16(), 200);
    let longer = server
        .http
        .get(presign(604_801))
        .send()
        .await
        .expect("answers");
    assert_eq!(longer.status().as_u16(), 400);
    assert!(
        longer
            .text()
            .await
            .expect("text")
            .contains("AuthorizationQueryParametersError")
    );
}

#[tokio::test]
async fn batch_deletes_work_and_what_the_store_leaves_out_is_not_implemented() {
    use aws_sdk_s3::types::{
        BucketVersioningStatus, Delete, ObjectIdentifier, VersioningConfiguration,
    };
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    for key in ["batch/a", "batch/b"] {
        put_small(&s3, key, b"x").await;
    }
    // `aws s3 rm --recursive` and `sync --delete` delete in batches.
    let batch = |keys: &[&str], quiet: bool| {
        let objects = keys
            .iter()
            .map(|k| ObjectIdentifier::builder().key(*k).build().expect("an id"))
            .collect();
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(quiet)
            .build()
            .expect("a batch");
        s3.delete_objects().bucket(BUCKET).delete(delete).send()
    };
    let answer = batch(&["batch/a", "batch/b", "batch/missing"], false)
        .await
        .expect("deleted");
    let keys: Vec<_> = answer.deleted().iter().filter_map(|d| d.key()).collect();
    assert_eq!(keys, ["batch/a", "batch/b", "batch/missing"]);
    assert!(answer.errors().is_empty());
    let listed = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("batch/")
        .send()
        .await
        .expect("list");
    assert_eq!(listed.key_count(), Some(0));
    let quiet = batch(&["batch/a"], true).await.expect("deleted");
    assert!(quiet.deleted().is_empty());

    let other = s3.create_bucket().bucket("another").send().await;
    assert_eq!(service_code(other), "NotImplemented");
    let again = s3.create_bucket().bucket(BUCKET).send().await;
    assert_eq!(service_code(again), "BucketAlreadyOwnedByYou");
    let versioning = s3
        .put_bucket_versioning()
        .bucket(BUCKET)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await;
    assert_eq!(service_code(versioning), "NotImplemented");
}

#[tokio::test]
async fn a_conditional_put_only_creates_and_other_conditions_are_not_ignored() {
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    let put = |body: &'static [u8]| {
        s3.put_object()
            .bucket(BUCKET)
            .key("only-new")
            .if_none_match("*")
            .body(ByteStream::from_static(body))
            .send()
    };
    put(b"first").await.expect("created");
    let files_before = data_files(&server);
    let again = put(b"second").await;
    assert_eq!(service_code(again), "PreconditionFailed");
    assert_eq!(read_all(&s3, "only-new").await, b"first");
    assert_eq!(
        data_files(&server),
        files_before,
        "the refused body is not kept"
    );

    // Conditions the store does not evaluate are refused, not taken as granted.
    let if_match = s3
        .put_object()
        .bucket(BUCKET)
        .key("only-new")
        .if_match("\"abc\"")
        .body(ByteStream::from_static(b"third"))
        .send()
        .await;
    assert_eq!(service_code(if_match), "NotImplemented");
    let if_none_match_etag = s3
        .put_object()
        .bucket(BUCKET)
        .key("only-new")
        .if_none_match("\"abc\"")
        .body(ByteStream::from_static(b"third"))
        .send()
        .await;
    assert_eq!(service_code(if_none_match_etag), "NotImplemented");
    assert_eq!(read_all(&s3, "only-new").await, b"first");

    // Two at once: both bodies arrive, one commits, the other is refused and removed.
    let racer = |seed| {
        s3.put_object()
            .bucket(BUCKET)
            .key("raced")
            .if_none_match("*")
            .body(ByteStream::from(bytes(4 * MIB, seed)))
            .send()
    };
    let files_before = data_files(&server);
    let (a, b) = tokio::join!(racer(1), racer(2));
    let winner = match (&a, &b) {
        (Ok(_), Err(_)) => 1,
        (Err(_), Ok(_)) => 2,
        _ => panic!("exactly one conditional PUT wins: {a:?} {b:?}"),
    };
    let loser = if winner == 1 { b } else { a };
    assert_eq!(service_code(loser), "PreconditionFailed");
    assert_eq!(read_all(&s3, "raced").await, bytes(4 * MIB, winner));
    assert_eq!(data_files(&server).len(), files_before.len() + 1);
}

#[tokio::test]
async fn a_server_sweeps_uploads_older_than_its_hours_as_it_starts() {
    let server = TestServer::start(&["--stale-upload-hours", "2"]).await;
    let s3 = server.s3();
    let (old, young) = (
        format!("{}old.bin", server.ns),
        format!("{}young.bin", server.ns),
    );
    let old_id = start_upload(&s3, &old).await;
    start_upload(&s3, &young).await;
    // Three hours old, as the store records it: the one thing an upload's age is read from.
    let record = server
        .data
        .path()
        .join("store/uploads")
        .join(&old_id)
        .join("upload.json");
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&record).expect("the upload's record"))
            .expect("json");
    let initiated = meta["initiated"].as_u64().expect("seconds");
    meta["initiated"] = (initiated - 3 * 60 * 60).into();
    std::fs::write(&record, meta.to_string()).expect("aged");

    // What `main` runs: the sweep at start-up (then every hour), with the hours given.
    let server = server.restart(&["--stale-upload-hours", "2"]).await;
    let mut left = Vec::new();
    for _ in 0..100 {
        left = server.upload_keys().await;
        if left.len() < 2 && server.state.metrics.stale_swept.get() > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(left, [young], "only the upload older than 2 hours is swept");
    assert_eq!(server.state.metrics.stale_swept.get(), 1);
}
