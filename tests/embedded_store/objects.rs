//! Objects: put, get, head, list and delete; what survives a restart; the metadata and
//! headers real S3 clients rely on; conditional writes; batch deletes.

use super::*;

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
