//! The embedded store driven by the real aws-sdk-s3 client, as any S3 client would.

mod common;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use common::{MIB, TestServer, bytes};

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
    assert!(missing.is_err());
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

    let upload = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .expect("create");
    let upload_id = upload.upload_id().expect("an id");

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
    let upload = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .expect("create");
    let upload_id = upload.upload_id().expect("an id");
    let completed = send_parts(s3, key, upload_id, parts).await;
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
    done.e_tag().expect("etag").to_owned()
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
    let upload = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("k")
        .send()
        .await
        .expect("create");
    let upload_id = upload.upload_id().expect("id");
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
    assert!(
        s3.head_object()
            .bucket(BUCKET)
            .key("k")
            .send()
            .await
            .is_err()
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
    assert!(
        s3.head_object()
            .bucket(BUCKET)
            .key("bad")
            .send()
            .await
            .is_err()
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
    assert!(result.is_err());
    let anonymous = server
        .http
        .put(server.url("/s3drop/anon"))
        .body("x")
        .send()
        .await
        .expect("answers");
    assert_eq!(anonymous.status().as_u16(), 403);
    assert!(
        server
            .s3()
            .head_object()
            .bucket(BUCKET)
            .key("intrusion")
            .send()
            .await
            .is_err()
    );
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
