//! The upload protocol end to end without a browser: server functions over HTTP, bytes
//! PUT to the presigned URLs with a plain HTTP client, then read back and compared.

mod common;

use common::{
    MIB, TestServer, bytes, plan_of, put_part, send_parts, single_put, start, store_facts, to_sign,
};
use s3drop::api::{ApiError, CompletedPart, SignedPart, StoredObject, StoredPart, UploadStart};
use s3drop::core::checksum::{crc32c, is_checksum_refusal};
use serde_json::json;

async fn download(server: &TestServer, stored: &StoredObject) -> Vec<u8> {
    let response = server
        .http
        .get(&stored.download_url)
        .send()
        .await
        .expect("download");
    assert_eq!(response.status().as_u16(), 200);
    let disposition = response
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    response.bytes().await.expect("body").to_vec()
}

#[tokio::test]
async fn a_small_file_goes_in_one_presigned_put() {
    let server = TestServer::start(&[]).await;
    let data = bytes(10_000, 7);
    let start = start(&server, "notes 2026.txt", data.len(), "text/plain")
        .await
        .expect("started");
    let prefix = format!("{}uploads/", server.ns);
    assert!(start.key.starts_with(&prefix), "{}", start.key);
    assert!(start.key.ends_with("/notes 2026.txt"), "{}", start.key);
    assert!(
        start.put.is_none(),
        "no URL is signed that the page would throw away"
    );
    let SignedPart { url, headers, .. } = single_put(&server, &start).await;
    let mut put = server.http.put(url).body(data.clone());
    for (name, value) in headers {
        put = put.header(name, value);
    }
    assert_eq!(put.send().await.expect("sent").status().as_u16(), 200);

    let stored: StoredObject = server
        .call(
            "uploads/complete",
            &json!({ "token": start.token, "parts": [] }),
        )
        .await
        .expect("completed");
    assert_eq!(
        (stored.size, stored.name.as_str()),
        (10_000, "notes 2026.txt")
    );
    assert_eq!(stored.content_type, "text/plain");
    assert_eq!(download(&server, &stored).await, data);
}

#[tokio::test]
async fn presigned_urls_are_bound_to_length_and_type() {
    let server = TestServer::start(&[]).await;
    let start = start(&server, "a.txt", 100, "text/plain")
        .await
        .expect("started");
    let SignedPart { url, headers, .. } = &single_put(&server, &start).await;
    // The headers signed with the URL, but for the one thing each PUT changes.
    let put = |url: String, content_type: &'static str, length: usize| {
        let mut request = server.http.put(url).body(vec![0u8; length]);
        for (name, value) in headers {
            if !name.eq_ignore_ascii_case("content-type") {
                request = request.header(name, value);
            }
        }
        let request = request.header("content-type", content_type);
        async move { request.send().await.expect("answers").status().as_u16() }
    };
    // A longer body, another content type, or another key than signed for is refused.
    assert_eq!(put(url.clone(), "text/plain", 200).await, 403);
    assert_eq!(put(url.clone(), "text/html", 100).await, 403);
    assert_eq!(
        put(url.replacen("/a.txt", "/b.txt", 1), "text/plain", 100).await,
        403
    );
    // Nothing was stored, so completion says so.
    let result: Result<StoredObject, _> = server
        .call(
            "uploads/complete",
            &json!({ "token": start.token, "parts": [] }),
        )
        .await;
    assert!(
        matches!(result, Err((404, ApiError::NotFound(_)))),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_large_file_goes_in_parts_and_resumes_from_the_store() {
    let server = TestServer::start(&[]).await;
    let data = bytes(21 * MIB + 5, 8);
    let start = start(&server, "big.bin", data.len(), "")
        .await
        .expect("started");
    assert!(start.is_multipart(), "expected multipart");
    let plan = start.plan;
    assert_eq!((plan.part_size, plan.part_count), (8 * MIB as u64, 3));
    let part = |n: u32| {
        let (from, to) = plan.range(n).expect("in plan");
        data[from as usize..to as usize].to_vec()
    };
    let sign = |n: u32| json!({ "token": start.token, "parts": [{ "part_number": n, "crc32c": crc32c(&part(n)) }] });

    // Parts 1 and 3 are stored; then the page goes away and the server restarts.
    for n in [1, 3] {
        let signed: Vec<SignedPart> = server.call("uploads/sign", &sign(n)).await.expect("signed");
        assert_eq!(put_part(&server, &signed[0], part(n)).await.0, 200);
    }
    let server = server.restart(&[]).await;

    // What the store holds is all a resume needs: the parts, their sizes and ETags.
    let listed: Vec<StoredPart> = server
        .call("uploads/parts", &json!({ "token": start.token }))
        .await
        .expect("listed");
    let held: Vec<(u32, u64)> = listed.iter().map(|p| (p.part_number, p.size)).collect();
    assert_eq!(held, [(1, 8 * MIB as u64), (3, 5 * MIB as u64 + 5)]);
    let signed: Vec<SignedPart> = server.call("uploads/sign", &sign(2)).await.expect("signed");
    let (status, etag) = put_part(&server, &signed[0], part(2)).await;
    assert_eq!(status, 200);
    let mut parts: Vec<CompletedPart> = listed
        .into_iter()
        .map(|p| CompletedPart {
            part_number: p.part_number,
            etag: p.etag,
            crc32c: p.crc32c,
        })
        .collect();
    parts.push(CompletedPart {
        part_number: 2,
        etag: etag.expect("an etag"),
        crc32c: Some(crc32c(&part(2))),
    });
    parts.sort_by_key(|p| p.part_number);

    let stored: StoredObject = server
        .call(
            "uploads/complete",
            &json!({ "token": start.token, "parts": parts }),
        )
        .await
        .expect("completed");
    assert_eq!(stored.size, data.len() as u64);
    assert_eq!(stored.content_type, "application/octet-stream");
    assert_eq!(download(&server, &stored).await, data);

    // Completing again (a retry after a lost answer) finds the same object.
    let again: StoredObject = server
        .call(
            "uploads/complete",
            &json!({ "token": start.token, "parts": parts }),
        )
        .await
        .expect("completed again");
    assert_eq!((again.key, again.etag), (stored.key, stored.etag));
}

#[tokio::test]
async fn completion_checks_the_parts_against_the_plan() {
    let server = TestServer::start(&[]).await;
    let data = bytes(17 * MIB, 9);
    let start = start(&server, "f.bin", data.len(), "")
        .await
        .expect("started");
    let parts = send_parts(&server, &start, &data).await;

    let cases = [
        ("missing a part", parts[..2].to_vec()),
        (
            "duplicated part",
            vec![parts[0].clone(), parts[0].clone(), parts[2].clone()],
        ),
        (
            "out of order",
            vec![parts[1].clone(), parts[0].clone(), parts[2].clone()],
        ),
        (
            "wrong etag",
            vec![
                parts[0].clone(),
                CompletedPart {
                    part_number: 2,
                    etag: "\"0123\"".into(),
                    crc32c: parts[1].crc32c.clone(),
                },
                parts[2].clone(),
            ],
        ),
        (
            "wrong checksum",
            vec![
                parts[0].clone(),
                CompletedPart {
                    crc32c: parts[0].crc32c.clone(),
                    ..parts[1].clone()
                },
                parts[2].clone(),
            ],
        ),
    ];
    for (what, listed) in cases {
        let result: Result<StoredObject, _> = server
            .call(
                "uploads/complete",
                &json!({ "token": start.token, "parts": listed }),
            )
            .await;
        assert!(
            matches!(result, Err((400, ApiError::BadRequest(_)))),
            "{what}: {result:?}"
        );
    }
    // After all that, the real parts still complete the upload.
    let stored: StoredObject = server
        .call(
            "uploads/complete",
            &json!({ "token": start.token, "parts": parts }),
        )
        .await
        .expect("completed");
    assert_eq!(download(&server, &stored).await, data);
}

#[tokio::test]
async fn abort_leaves_nothing_in_the_store() {
    let server = TestServer::start(&[]).await;
    let data = bytes(12 * MIB, 10);
    let start = start(&server, "gone.bin", data.len(), "")
        .await
        .expect("started");
    let _ = send_parts(&server, &start, &data).await;
    let () = server
        .call("uploads/abort", &json!({ "token": start.token }))
        .await
        .expect("aborted");
    assert!(server.upload_keys().await.is_empty());
    // Asked again (a lost answer, a retry), an abort still succeeds: nothing is left.
    let () = server
        .call("uploads/abort", &json!({ "token": start.token }))
        .await
        .expect("aborted again");
    let parts: Result<Vec<StoredPart>, _> = server
        .call("uploads/parts", &json!({ "token": start.token }))
        .await;
    assert!(
        matches!(parts, Err((404, ApiError::NotFound(_)))),
        "{parts:?}"
    );
}

#[tokio::test]
async fn bad_requests_are_refused_and_change_nothing() {
    let server = TestServer::start(&[
        "--max-file-size",
        "1GiB",
        "--allowed-types",
        "image/*,text/plain",
    ])
    .await;
    let refused = [
        ("", 10, "text/plain"),
        ("../../etc/passwd", 10, "text/plain"),
        ("a/b.txt", 10, "text/plain"),
        ("big.png", 2 << 30, "image/png"),
        ("page.html", 10, "text/html"),
        ("weird", 10, "not a type"),
    ];
    for (name, size, content_type) in refused {
        let result = start(&server, name, size, content_type).await;
        assert!(
            matches!(result, Err((422, ApiError::Refused(_)))),
            "{name}: {result:?}"
        );
    }
    // A negative size is not even a valid request.
    let negative: Result<UploadStart, _> = server
        .call(
            "uploads/start",
            &json!({ "request": { "name": "a.txt", "size": -1, "content_type": "" } }),
        )
        .await;
    assert!(matches!(negative, Err((400, _))), "{negative:?}");

    let ok = start(&server, "pic.png", 20 * MIB, "image/png")
        .await
        .expect("started");
    let forged = format!("{}x", ok.token);
    // Outside the plan, none, or (part 1) without the CRC32C every part must carry.
    for numbers in [vec![0], vec![4], vec![10_001], vec![], vec![1]] {
        let result: Result<Vec<SignedPart>, _> = server
            .call(
                "uploads/sign",
                &json!({ "token": ok.token, "parts": to_sign(&numbers) }),
            )
            .await;
        assert!(
            matches!(result, Err((400, ApiError::BadRequest(_)))),
            "{numbers:?}: {result:?}"
        );
    }
    let result: Result<Vec<SignedPart>, _> = server
        .call(
            "uploads/sign",
            &json!({ "token": forged, "parts": to_sign(&[1]) }),
        )
        .await;
    assert!(
        matches!(result, Err((403, ApiError::BadToken))),
        "{result:?}"
    );

    // A token from another server (another secret) is refused too.
    let other = TestServer::start(&[]).await;
    let foreign = start(&other, "x.bin", 20 * MIB, "").await.expect("started");
    let result: Result<(), _> = server
        .call("uploads/abort", &json!({ "token": foreign.token }))
        .await;
    assert!(
        matches!(result, Err((403, ApiError::BadToken))),
        "{result:?}"
    );

    // Only the one legitimate upload exists in the store.
    assert_eq!(server.upload_keys().await.len(), 1);
    assert!(server.object_keys().await.is_empty());
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let server = TestServer::start(&["--token-ttl", "1"]).await;
    let start = start(&server, "slow.bin", 20 * MIB, "")
        .await
        .expect("started");
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    let result: Result<Vec<SignedPart>, _> = server
        .call(
            "uploads/sign",
            &json!({ "token": start.token, "parts": to_sign(&[1]) }),
        )
        .await;
    assert!(
        matches!(result, Err((403, ApiError::TokenExpired))),
        "{result:?}"
    );
}

#[tokio::test]
async fn the_page_and_the_policy_are_served() {
    let server = TestServer::start(&["--max-file-size", "10MB"]).await;
    let page = server.http.get(server.url("/")).send().await.expect("page");
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains(s3drop::components::text::DROP_HINT), "{html}");
    let policy = server
        .http
        .post(server.url("/api/policy"))
        .send()
        .await
        .expect("policy");
    let policy: s3drop::core::policy::UploadPolicy = policy.json().await.expect("json");
    assert_eq!(policy.max_file_size, 10_000_000);
    assert_eq!(policy.part_size, 8 * MIB as u64, "the part size");
}

#[tokio::test]
async fn a_single_put_can_be_signed_again_and_is_aborted_until_its_file_is_stored() {
    let server = TestServer::start(&[]).await;
    let data = bytes(3_000, 11);
    let start = start(&server, "again.txt", data.len(), "text/plain")
        .await
        .expect("started");
    let signed: Vec<SignedPart> = server
        .call(
            "uploads/sign",
            &json!({ "token": start.token, "parts": to_sign(&[1]) }),
        )
        .await
        .expect("a fresh URL for the one part");
    let outside: Result<Vec<SignedPart>, _> = server
        .call(
            "uploads/sign",
            &json!({ "token": start.token, "parts": to_sign(&[2]) }),
        )
        .await;
    assert!(matches!(outside, Err((400, _))), "{outside:?}");

    // Cancelled before its PUT landed: nothing is in the store, and aborting says so.
    let () = server
        .call("uploads/abort", &json!({ "token": start.token }))
        .await
        .expect("aborted");
    assert_eq!(server.object_keys().await, Vec::<String>::new());

    // Once the PUT has stored it whole, the upload has finished: abort is refused and
    // the file stays (the page then shows it stored rather than cancelled).
    assert_eq!(put_part(&server, &signed[0], data.clone()).await.0, 200);
    let aborted: Result<(), _> = server
        .call("uploads/abort", &json!({ "token": start.token }))
        .await;
    assert!(
        matches!(aborted, Err((409, ApiError::Finished))),
        "{aborted:?}"
    );
    assert_eq!(server.object_keys().await, vec![start.key.clone()]);
}

#[tokio::test]
async fn a_finished_small_file_cannot_be_replaced_or_removed_with_its_token() {
    let server = TestServer::start(&[]).await;
    let data = bytes(4_000, 21);
    let start = start(&server, "final.txt", data.len(), "text/plain")
        .await
        .expect("started");
    let put = single_put(&server, &start).await;
    assert_eq!(put_part(&server, &put, data.clone()).await.0, 200);
    // The URL only creates: a store with conditional writes refuses it once the file is
    // there (a retry whose first answer was lost); Garage 2.5 ignores the condition.
    let conditional = store_facts().if_none_match;
    let only_creates = if conditional { 412 } else { 200 };
    assert_eq!(put_part(&server, &put, data.clone()).await.0, only_creates);
    let complete = json!({ "token": start.token, "parts": [] });
    let stored: StoredObject = server
        .call("uploads/complete", &complete)
        .await
        .expect("completed");

    // A URL signed before the upload finished cannot replace the file, where the store
    // honours the condition (where not, the README says so: until the URL expires)...
    let other = bytes(data.len(), 22);
    assert_eq!(put_part(&server, &put, other.clone()).await.0, only_creates);
    let now = if conditional { &data } else { &other };
    // ...nor can the token sign another, or remove the file.
    let signed: Result<Vec<SignedPart>, _> = server
        .call(
            "uploads/sign",
            &json!({ "token": start.token, "parts": to_sign(&[1]) }),
        )
        .await;
    assert!(
        matches!(signed, Err((409, ApiError::Finished))),
        "{signed:?}"
    );
    let aborted: Result<(), _> = server
        .call("uploads/abort", &json!({ "token": start.token }))
        .await;
    assert!(
        matches!(aborted, Err((409, ApiError::Finished))),
        "{aborted:?}"
    );
    assert_eq!(&download(&server, &stored).await, now);
    // Completing again (a retried call) still answers the file.
    let again: StoredObject = server
        .call("uploads/complete", &complete)
        .await
        .expect("completed again");
    assert_eq!(again.key, stored.key);
}

#[tokio::test]
async fn stale_multipart_uploads_are_swept_in_s3drops_part_of_the_store_only() {
    let server = TestServer::start(&["--key-prefix", "drop/"]).await;
    let data = bytes(12 * MIB, 12);
    let start = start(&server, "stale.bin", data.len(), "")
        .await
        .expect("started");
    let _ = send_parts(&server, &start, &data).await;
    // An upload outside s3drop's prefix: someone else's in an external bucket.
    let other = format!("{}other/file", server.ns);
    let s3 = server.s3();
    s3.create_multipart_upload()
        .bucket(&server.bucket)
        .key(&other)
        .send()
        .await
        .expect("created");

    // The sweep the server runs every hour, as it is wired at start-up.
    let sweeper = &server.sweeper;
    let young = sweeper
        .sweep(std::time::Duration::from_secs(3_600))
        .await
        .expect("swept");
    assert_eq!(young, 0, "a fresh upload is not stale");
    assert_eq!(server.upload_keys().await.len(), 2);
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let swept = sweeper
        .sweep(std::time::Duration::from_secs(1))
        .await
        .expect("swept");
    if common::external_store() {
        // Only s3drop's own upload goes; the other is left alone.
        assert_eq!(swept, 1);
        assert_eq!(server.upload_keys().await, [other]);
    } else {
        // The embedded store is s3drop's alone: every stale upload in it goes.
        assert_eq!(swept, 2);
        assert!(server.upload_keys().await.is_empty());
    }
    assert_eq!(server.state.metrics.stale_swept.get(), swept as u64);
}

#[tokio::test]
async fn a_checksum_signed_into_a_part_url_is_enforced_by_the_store() {
    let server = TestServer::start(&[]).await;
    let data = bytes(12 * MIB, 13);
    let start = start(&server, "checked.bin", data.len(), "")
        .await
        .expect("started");
    assert!(start.is_multipart());
    let plan = &start.plan;
    let (from, to) = plan.range(1).expect("in plan");
    let part = &data[from as usize..to as usize];
    let crc = s3drop::core::checksum::crc32c(part);
    let signed: Vec<SignedPart> = server
        .call(
            "uploads/sign",
            &json!({ "token": start.token, "parts": [{ "part_number": 1, "crc32c": crc }] }),
        )
        .await
        .expect("signed");
    let headers = &signed[0].headers;
    assert!(
        headers
            .iter()
            .any(|(n, v)| n == "x-amz-checksum-crc32c" && *v == crc),
        "{headers:?}"
    );
    // Each PUT on a connection of its own: a store that refused the last one may close
    // its connection while a pooled client is about to send the next on it.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let put = |body: Vec<u8>, with_headers: bool| {
        let mut request = http.put(&signed[0].url).body(body);
        if with_headers {
            for (name, value) in headers {
                request = request.header(name, value);
            }
        }
        // A store may refuse before reading the body and close the connection: the
        // status is then unknown (0), but the part is refused all the same.
        async move {
            match request.send().await {
                Ok(response) => (
                    response.status().as_u16(),
                    response.text().await.unwrap_or_default(),
                ),
                Err(_) => (0, String::new()),
            }
        }
    };
    // One flipped bit: the store refuses the part as corrupted.
    let mut corrupted = part.to_vec();
    corrupted[1234] ^= 1;
    let (status, body) = put(corrupted, true).await;
    assert_eq!(status, 400);
    assert!(is_checksum_refusal(&body), "{body}");
    // Without the signed checksum header, the signature does not match (403), or the
    // store refuses it otherwise (Garage, now and then: 400), or closes the connection.
    let (status, body) = put(part.to_vec(), false).await;
    assert!(matches!(status, 400 | 403 | 0), "{status} {body}");
    assert_eq!(put(part.to_vec(), true).await.0, 200);

    let stored: Vec<StoredPart> = server
        .call("uploads/parts", &json!({ "token": start.token }))
        .await
        .expect("listed");
    assert_eq!(stored.len(), 1, "only the good part is stored");

    let bad: Result<Vec<SignedPart>, _> = server
        .call(
            "uploads/sign",
            &json!({ "token": start.token, "parts": [{ "part_number": 2, "crc32c": "nope" }] }),
        )
        .await;
    assert!(
        matches!(bad, Err((400, ApiError::BadRequest(_)))),
        "{bad:?}"
    );
}

#[tokio::test]
async fn the_whole_files_checksum_is_recorded_and_returned() {
    use s3drop::core::checksum::composite_crc32c;
    let server = TestServer::start(&[]).await;

    // Multipart: every part signed with its CRC32C; the object gets S3's composite.
    let data = bytes(20 * MIB, 14);
    let started = start(&server, "whole.bin", data.len(), "")
        .await
        .expect("started");
    let parts = send_parts(&server, &started, &data).await;
    let plan = plan_of(&started, data.len());
    let crcs: Vec<String> = (1..=plan.part_count)
        .map(|n| {
            let (from, to) = plan.range(n).expect("in plan");
            crc32c(&data[from as usize..to as usize])
        })
        .collect();
    let stored: StoredObject = server
        .call(
            "uploads/complete",
            &json!({ "token": started.token, "parts": parts }),
        )
        .await
        .expect("completed");
    // The whole file's CRC32C, as any tool computes it over the file: not S3's
    // composite of the parts' (`…-3`). The store checked it at completion and records it.
    let composite = composite_crc32c(crcs.iter().map(|c| Some(c.as_str())));
    assert_ne!(stored.crc32c, composite);
    assert_eq!(stored.crc32c, Some(crc32c(&data)));
    let head = server
        .s3()
        .head_object()
        .bucket(&server.bucket)
        .key(&stored.key)
        .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
        .send()
        .await
        .expect("head");
    assert_eq!(head.checksum_crc32_c(), Some(crc32c(&data).as_str()));
    assert_eq!(
        head.checksum_type(),
        Some(&aws_sdk_s3::types::ChecksumType::FullObject)
    );

    // Single PUT: the file's own CRC32C.
    let small = bytes(1_000, 15);
    let started = start(&server, "small.bin", small.len(), "")
        .await
        .expect("started");
    let _ = send_parts(&server, &started, &small).await;
    let stored: StoredObject = server
        .call(
            "uploads/complete",
            &json!({ "token": started.token, "parts": [] }),
        )
        .await
        .expect("completed");
    assert_eq!(stored.crc32c, Some(crc32c(&small)));
}

#[tokio::test]
async fn a_files_folder_is_kept_in_its_key_and_checked() {
    let server = TestServer::start(&[]).await;
    let data = bytes(100, 61);
    let request = |folder: &str| json!({ "request": { "name": "a.txt", "size": data.len(), "content_type": "text/plain", "folder": folder } });
    let started: UploadStart = server
        .call("uploads/start", &request("trip/day 1"))
        .await
        .expect("started");
    assert!(
        started.key.ends_with("/trip/day 1/a.txt"),
        "{}",
        started.key
    );
    for bad in ["../up", "/abs", "a//b", "x/\u{7}"] {
        let refused: Result<UploadStart, _> = server.call("uploads/start", &request(bad)).await;
        assert!(
            matches!(refused, Err((422, ApiError::Refused(_)))),
            "{bad:?}: {refused:?}"
        );
    }
}

/// Uploads a small file in one PUT and completes it.
async fn upload_small(server: &TestServer, name: &str, data: &[u8]) -> StoredObject {
    let started = start(server, name, data.len(), "text/plain")
        .await
        .expect("started");
    let parts = send_parts(server, &started, data).await;
    assert_eq!(parts.len(), 1);
    server
        .call(
            "uploads/complete",
            &json!({ "token": started.token, "parts": [] }),
        )
        .await
        .expect("completed")
}

/// A page of `files/list`.
async fn list(
    server: &TestServer,
    after: Option<String>,
    limit: u32,
) -> Option<s3drop::api::FilePage> {
    let body = json!({ "after": after, "limit": limit });
    server.call("files/list", &body).await.expect("listed")
}

#[tokio::test]
async fn the_file_list_pages_through_uploads_and_deletes_when_allowed() {
    // Off unless the operator turns it on.
    let closed = TestServer::start(&[]).await;
    assert_eq!(list(&closed, None, 10).await, None);

    let server = TestServer::start(&["--list-files"]).await;
    let mut stored = Vec::new();
    for (i, name) in ["one.txt", "two.txt", "three.txt"].iter().enumerate() {
        stored.push(upload_small(&server, name, &bytes(50 + i, 70 + i as u64)).await);
    }
    let first = list(&server, None, 2).await.expect("on");
    assert_eq!(first.files.len(), 2);
    assert!(!first.can_delete);
    let second = list(&server, first.next.clone(), 2).await.expect("on");
    assert_eq!(second.files.len(), 1);
    assert_eq!(second.next, None);
    let paths: Vec<_> = first
        .files
        .iter()
        .chain(&second.files)
        .map(|f| f.path.clone())
        .collect();
    assert_eq!(paths, ["three.txt", "two.txt", "one.txt"], "newest first");
    let listed = first.files.iter().chain(&second.files);
    for file in listed {
        let original = stored.iter().find(|s| s.key == file.key).expect("uploaded");
        assert_eq!(file.size, original.size);
        let body = server.fetch(&file.download_url).await;
        assert_eq!(body.len() as u64, original.size);
    }

    // Deleting needs --allow-delete, and only ever touches s3drop's own uploads.
    let key = stored[0].key.clone();
    let refused: Result<(), _> = server.call("files/delete", &json!({ "key": key })).await;
    assert!(matches!(refused, Err((422, _))), "{refused:?}");
    let deleting = server.restart(&["--list-files", "--allow-delete"]).await;
    let foreign = format!("{}uploads/not-an-upload", deleting.ns);
    let refused: Result<(), _> = deleting
        .call("files/delete", &json!({ "key": foreign }))
        .await;
    assert!(matches!(refused, Err((400, _))), "{refused:?}");
    let () = deleting
        .call("files/delete", &json!({ "key": key }))
        .await
        .expect("deleted");
    let left = list(&deleting, None, 10).await.expect("on");
    assert!(left.can_delete);
    assert_eq!(left.files.len(), 2);
    assert!(left.files.iter().all(|f| f.key != key));
}

#[tokio::test]
async fn the_file_list_walks_back_through_the_days() {
    let server = TestServer::start(&["--list-files"]).await;
    let today = upload_small(&server, "today.txt", &bytes(10, 1)).await;
    // Files of earlier days, as s3drop would have named them then, and an object of
    // someone else's under the prefix, which is never listed.
    let s3 = server.s3();
    let id = "0123456789abcdef0123456789abcdef";
    let prefix = format!("{}uploads/", server.ns);
    for key in [
        format!("{prefix}2025/01/02/{id}/january.txt"),
        format!("{prefix}2025/01/01/{id}/new year.txt"),
        format!("{prefix}2024/12/31/{id}/trip/december.txt"),
        format!("{prefix}2025/01/02/not-an-upload"),
    ] {
        s3.put_object()
            .bucket(&server.bucket)
            .key(key)
            .body(b"old".to_vec().into())
            .send()
            .await
            .expect("stored");
    }
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let page = list(&server, after, 2).await.expect("on");
        pages.push(
            page.files
                .iter()
                .map(|f| f.path.clone())
                .collect::<Vec<_>>(),
        );
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(
        pages,
        [
            vec!["today.txt".to_owned(), "january.txt".into()],
            vec!["new year.txt".into(), "trip/december.txt".into()],
        ]
    );
    assert_eq!(today.name, "today.txt");
    let junk: Result<Option<s3drop::api::FilePage>, _> = server
        .call("files/list", &json!({ "after": "elsewhere/x", "limit": 2 }))
        .await;
    assert!(
        matches!(junk, Err((400, ApiError::BadRequest(_)))),
        "{junk:?}"
    );
}

/// A signed request, or one with a thing it was signed with changed or dropped.
#[derive(Clone)]
struct Variant {
    what: &'static str,
    method: reqwest::Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Variant {
    /// The PUT as it was signed.
    fn signed(url: &str, headers: &[(String, String)], body: &[u8]) -> Self {
        Self {
            what: "as signed",
            method: reqwest::Method::PUT,
            url: url.to_owned(),
            headers: headers.to_vec(),
            body: body.to_vec(),
        }
    }

    /// The variants every presigned PUT of s3drop's must refuse: another method (with
    /// the signed length and body, so only the method differs), another CRC32C, none.
    fn method_and_checksum_changed(&self, other_crc32c: &str) -> Vec<Self> {
        let crc = |value: Option<&str>| with_header(&self.headers, "x-amz-checksum-crc32c", value);
        vec![
            Self {
                what: "method GET",
                method: reqwest::Method::GET,
                ..self.clone()
            },
            Self {
                what: "another CRC32C",
                headers: crc(Some(other_crc32c)),
                ..self.clone()
            },
            Self {
                what: "no CRC32C",
                headers: crc(None),
                ..self.clone()
            },
        ]
    }

    /// Sends it; answers the status.
    async fn send(&self, server: &TestServer) -> u16 {
        let request = server.http.request(self.method.clone(), &self.url);
        let mut request = request.body(self.body.clone());
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        request.send().await.expect("answers").status().as_u16()
    }

    /// How the store refuses it: a header it was signed with left out is the store's
    /// own status for that (`tests/store-facts.json`), anything changed 403.
    fn refusal(&self) -> u16 {
        match self.what.starts_with("no ") {
            true => store_facts().missing_signed_header_status,
            false => 403,
        }
    }
}

/// `headers` without the one named `name`, and with it set to `value` when given.
fn with_header(
    headers: &[(String, String)],
    name: &str,
    value: Option<&str>,
) -> Vec<(String, String)> {
    let mut out: Vec<_> = headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case(name))
        .cloned()
        .collect();
    if let Some(value) = value {
        out.push((name.to_owned(), value.to_owned()));
    }
    out
}

#[tokio::test]
async fn a_small_files_url_is_bound_to_each_signed_header_and_field() {
    let server = TestServer::start(&[]).await;
    let data = bytes(100, 31);
    let start = start(&server, "bound.txt", data.len(), "text/plain")
        .await
        .expect("started");
    let signed: Vec<SignedPart> = server
        .call(
            "uploads/sign",
            &json!({ "token": start.token, "parts": [{ "part_number": 1, "crc32c": crc32c(&data) }] }),
        )
        .await
        .expect("signed");
    let SignedPart { url, headers, .. } = &signed[0];
    let signed_names: Vec<_> = headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    for name in ["content-type", "if-none-match", "x-amz-checksum-crc32c"] {
        assert!(
            signed_names.iter().any(|n| n == name),
            "{name} in {headers:?}"
        );
    }
    let other_crc = crc32c(&bytes(100, 32));
    // Each variant changes or drops one thing the URL was signed with; the store refuses
    // every one (and so stores nothing).
    let signed = Variant::signed(url, headers, &data);
    let mut variants = signed.method_and_checksum_changed(&other_crc);
    variants.extend([
        Variant {
            what: "another key",
            url: url.replacen("/bound.txt", "/other.txt", 1),
            ..signed.clone()
        },
        Variant {
            what: "a longer body",
            body: bytes(101, 31),
            ..signed.clone()
        },
        Variant {
            what: "another type",
            headers: with_header(headers, "content-type", Some("text/html")),
            ..signed.clone()
        },
        Variant {
            what: "no type",
            headers: with_header(headers, "content-type", None),
            ..signed.clone()
        },
        Variant {
            what: "no If-None-Match",
            headers: with_header(headers, "if-none-match", None),
            ..signed.clone()
        },
    ]);
    for variant in &variants {
        let status = variant.send(&server).await;
        assert_eq!(status, variant.refusal(), "{}", variant.what);
    }
    let nothing: Result<StoredObject, _> = server
        .call(
            "uploads/complete",
            &json!({ "token": start.token, "parts": [] }),
        )
        .await;
    assert!(
        matches!(nothing, Err((404, ApiError::NotFound(_)))),
        "{nothing:?}"
    );
    // The URL as signed works.
    assert_eq!(signed.send(&server).await, 200);
}

#[tokio::test]
async fn a_part_url_is_bound_to_its_part_number_upload_method_and_checksum() {
    let server = TestServer::start(&[]).await;
    // The last part is ten bytes: a store that refuses a request before reading its
    // body (as Garage does) cannot cut a large one short.
    let data = bytes(8 * MIB + 10, 33);
    let start = start(&server, "bound.bin", data.len(), "")
        .await
        .expect("started");
    let plan = plan_of(&start, data.len());
    assert_eq!(plan.part_count, 2);
    let (from, to) = plan.range(2).expect("part 2");
    let part = data[from as usize..to as usize].to_vec();
    let signed: Vec<SignedPart> = server
        .call(
            "uploads/sign",
            &json!({ "token": start.token, "parts": [{ "part_number": 2, "crc32c": crc32c(&part) }] }),
        )
        .await
        .expect("signed");
    let SignedPart { url, headers, .. } = &signed[0];
    let upload_id = url
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("uploadId="))
        .expect("an upload id")
        .to_owned();
    let other_crc = crc32c(&data[..100]);
    let signed = Variant::signed(url, headers, &part);
    let mut variants = signed.method_and_checksum_changed(&other_crc);
    variants.extend([
        Variant {
            what: "part number 1",
            url: url.replacen("partNumber=2", "partNumber=1", 1),
            ..signed.clone()
        },
        Variant {
            what: "another upload id",
            url: url.replacen(&upload_id, &format!("{upload_id}x"), 1),
            ..signed.clone()
        },
    ]);
    for variant in &variants {
        let status = variant.send(&server).await;
        assert_eq!(status, variant.refusal(), "{}", variant.what);
    }
    // The store holds no part of the upload; the URL as signed stores part 2.
    let held: Vec<StoredPart> = server
        .call("uploads/parts", &json!({ "token": start.token }))
        .await
        .expect("listed");
    assert!(held.is_empty(), "{held:?}");
    assert_eq!(signed.send(&server).await, 200);
    let held: Vec<StoredPart> = server
        .call("uploads/parts", &json!({ "token": start.token }))
        .await
        .expect("listed");
    assert_eq!(held.iter().map(|p| p.part_number).collect::<Vec<_>>(), [2]);
}
