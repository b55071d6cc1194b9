//! Batch calls, as the page sends them for a folder: many starts in one call, many
//! completions in another, each entry checked and answered on its own, and the store
//! left as it was by every entry that was refused.

mod common;

use common::{MIB, TestServer, bytes, put_part};
use s3drop::api::{Answer, ApiError, SignedPart, StartRequest, StoredObject, UploadStart};
use s3drop::core::checksum::{crc32c, is_checksum_refusal};
use s3drop::core::limits::MAX_BATCH;
use serde_json::{Value, json};

fn small(name: &str, data: &[u8]) -> StartRequest {
    StartRequest {
        name: name.into(),
        size: data.len() as u64,
        content_type: "text/plain".into(),
        folder: "batch/folder".into(),
        crc32c: Some(crc32c(data)),
        drop: None,
    }
}

async fn start_batch(
    server: &TestServer,
    files: Value,
) -> Result<Vec<Answer<UploadStart>>, (u16, ApiError)> {
    server
        .call("uploads/start-batch", &json!({ "files": files }))
        .await
}

async fn complete_batch(
    server: &TestServer,
    uploads: Value,
) -> Result<Vec<Answer<StoredObject>>, (u16, ApiError)> {
    server
        .call("uploads/complete-batch", &json!({ "uploads": uploads }))
        .await
}

/// The single PUT a start answered with (the batch sent each small file's checksum).
fn single_put(start: &UploadStart) -> SignedPart {
    start
        .put
        .clone()
        .unwrap_or_else(|| panic!("expected a signed single PUT: {start:?}"))
}

async fn store_contents(server: &TestServer) -> (Vec<String>, Vec<String>) {
    (server.object_keys().await, server.upload_keys().await)
}

#[tokio::test]
async fn a_folder_of_small_files_costs_one_start_call_one_completion_call_and_its_puts() {
    let server = TestServer::start(&[]).await;
    let files: Vec<Vec<u8>> = (0..40).map(|i| bytes(100 + i * 37, i as u64)).collect();
    let requests: Vec<StartRequest> = files
        .iter()
        .enumerate()
        .map(|(i, data)| small(&format!("file {i}.txt"), data))
        .collect();
    let starts = start_batch(&server, json!(requests))
        .await
        .expect("started");
    assert_eq!(starts.len(), files.len(), "one answer per file, in order");
    let mut completions = Vec::new();
    for (i, (start, data)) in starts.iter().zip(&files).enumerate() {
        let start = start.as_ref().expect("each file started");
        assert!(
            start.key.ends_with(&format!("/batch/folder/file {i}.txt")),
            "{}",
            start.key
        );
        let put = single_put(start);
        assert!(
            put.headers
                .iter()
                .any(|(name, value)| name == "x-amz-checksum-crc32c" && *value == crc32c(data)),
            "the PUT is signed with the file's checksum: {:?}",
            put.headers
        );
        assert!(put.expires_at > 0, "the answer says when the URL expires");
        assert_eq!(
            put_part(&server, &put, data.clone()).await.0,
            200,
            "file {i}"
        );
        completions.push(json!({ "token": start.token }));
    }
    let stored = complete_batch(&server, json!(completions))
        .await
        .expect("completed");
    assert_eq!(stored.len(), files.len());
    for (stored, data) in stored.iter().zip(&files) {
        let stored = stored.as_ref().expect("each file completed");
        assert_eq!(stored.size, data.len() as u64);
        assert_eq!(stored.crc32c.as_deref(), Some(crc32c(data).as_str()));
        assert_eq!(&server.fetch(&stored.download_url).await, data);
    }
}

#[tokio::test]
async fn a_put_signed_with_a_files_checksum_refuses_other_bytes() {
    let server = TestServer::start(&[]).await;
    let data = bytes(5_000, 3);
    let starts = start_batch(&server, json!([small("a.txt", &data)]))
        .await
        .expect("started");
    let start = starts[0].as_ref().expect("started");
    let mut other = data.clone();
    other[10] ^= 1;
    // The store's own checksum refusal (400 BadDigest, or Garage's InvalidDigest), not
    // some other 4xx.
    let signed = single_put(start);
    let mut put = server.http.put(&signed.url).body(other);
    for (name, value) in &signed.headers {
        put = put.header(name, value);
    }
    let answer = put.send().await.expect("answers");
    let status = answer.status().as_u16();
    let body = answer.text().await.expect("a body");
    assert_eq!(status, 400, "{body}");
    assert!(is_checksum_refusal(&body), "{body}");
    assert_eq!(server.object_keys().await, Vec::<String>::new());
}

#[tokio::test]
async fn a_batch_of_starts_is_answered_entry_by_entry() {
    let server = TestServer::start(&["--max-file-size", "100MiB"]).await;
    let before = store_contents(&server).await;
    let ok = bytes(10, 1);
    let files = json!([
        small("fine.txt", &ok),
        { "name": "../../etc/passwd", "size": 1, "content_type": "" },
        { "name": "huge.bin", "size": 200 * MIB, "content_type": "" },
        { "name": "bad sum.txt", "size": 10, "content_type": "", "crc32c": "not base64!" },
        { "name": "deep.txt", "size": 1, "content_type": "", "folder": "a/../b" },
        { "name": "large.bin", "size": 20 * MIB, "content_type": "" },
        small("also fine.txt", &ok),
    ]);
    let answers = start_batch(&server, files).await.expect("answered");
    let kinds: Vec<&str> = answers
        .iter()
        .map(|a| match a {
            Ok(start) if start.is_multipart() => "multipart",
            Ok(_) => "single",
            Err(ApiError::Refused(_)) => "refused",
            Err(ApiError::BadRequest(_)) => "bad",
            Err(_) => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "single",
            "refused",
            "refused",
            "bad",
            "refused",
            "multipart",
            "single"
        ]
    );
    // Nothing was stored; the one multipart upload is the large file's.
    let (objects, uploads) = store_contents(&server).await;
    assert_eq!(objects, before.0);
    assert_eq!(uploads.len(), before.1.len() + 1, "{uploads:?}");
    assert!(uploads.iter().any(|k| k.ends_with("/large.bin")));
}

#[tokio::test]
async fn a_batch_of_completions_is_answered_entry_by_entry() {
    let server = TestServer::start(&[]).await;
    let (sent, unsent) = (bytes(1_000, 5), bytes(2_000, 6));
    let starts = start_batch(
        &server,
        json!([small("sent.txt", &sent), small("unsent.txt", &unsent)]),
    )
    .await
    .expect("started");
    let (a, b) = (
        starts[0].as_ref().expect("started"),
        starts[1].as_ref().expect("started"),
    );
    assert_eq!(put_part(&server, &single_put(a), sent.clone()).await.0, 200);
    let (payload, tag) = a.token.split_once('.').expect("two halves");
    let tampered = format!("{}x.{tag}", payload);
    let answers = complete_batch(
        &server,
        json!([
            { "token": "forged.token" },
            { "token": tampered },
            { "token": b.token },
            { "token": a.token, "parts": [{ "part_number": 1, "etag": "\"x\"" }] },
            { "token": a.token },
        ]),
    )
    .await
    .expect("answered");
    assert!(
        matches!(answers[0], Err(ApiError::BadToken)),
        "{:?}",
        answers[0]
    );
    assert!(
        matches!(answers[1], Err(ApiError::BadToken)),
        "{:?}",
        answers[1]
    );
    assert!(
        matches!(answers[2], Err(ApiError::NotFound(_))),
        "{:?}",
        answers[2]
    );
    assert!(
        matches!(answers[3], Err(ApiError::BadRequest(_))),
        "{:?}",
        answers[3]
    );
    let stored = answers[4].as_ref().expect("the sent file completes");
    assert_eq!(&server.fetch(&stored.download_url).await, &sent);
    assert_eq!(server.object_keys().await, vec![a.key.clone()]);
}

#[tokio::test]
async fn empty_oversized_and_malformed_batches_are_refused_whole() {
    let server = TestServer::start(&[]).await;
    let before = store_contents(&server).await;
    let one = small("a.txt", b"abc");
    let too_many: Vec<StartRequest> = (0..=MAX_BATCH).map(|_| one.clone()).collect();
    for files in [
        json!([]),
        json!(too_many),
        json!("nope"),
        json!([{ "name": "a.txt" }]),
    ] {
        let result = start_batch(&server, files).await;
        assert!(
            matches!(result, Err((400, ApiError::BadRequest(_)))),
            "{result:?}"
        );
    }
    let too_many: Vec<Value> = (0..=MAX_BATCH).map(|_| json!({ "token": "x.y" })).collect();
    for uploads in [json!([]), json!(too_many)] {
        let result = complete_batch(&server, uploads).await;
        assert!(
            matches!(result, Err((400, ApiError::BadRequest(_)))),
            "{result:?}"
        );
    }
    assert_eq!(
        store_contents(&server).await,
        before,
        "the store is unchanged"
    );
}

#[tokio::test]
async fn a_flood_of_batch_calls_is_still_rate_limited() {
    let server = TestServer::start(&["--rate-limit", "1"]).await;
    let files = json!([small("a.txt", b"abc")]);
    let mut statuses = Vec::new();
    for _ in 0..15 {
        statuses.push(match start_batch(&server, files.clone()).await {
            Ok(_) => 200,
            Err((status, _)) => status,
        });
    }
    assert!(statuses.iter().take(9).all(|&s| s == 200), "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
}
