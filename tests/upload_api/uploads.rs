//! Uploads that succeed: one PUT, parts (resumed from the store), completion checked
//! against the plan, the whole file's checksum, folders in keys, the page and policy.

use super::*;

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
async fn the_page_and_the_policy_are_served() {
    let server = TestServer::start(&["--max-file-size", "10MB"]).await;
    let page = server.http.get(server.url("/")).send().await.expect("page");
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains(s3drop::components::text::DROP_HINT), "{html}");
    let policy = server
        .http
        .post(server.url("/api/policy"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("policy");
    let policy: s3drop::core::policy::UploadPolicy = policy.json().await.expect("json");
    assert_eq!(policy.max_file_size, 10_000_000);
    assert_eq!(policy.part_size, 8 * MIB as u64, "the part size");
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

/// A part sent once more and cut on the way, after the store held it whole: a store that
/// completes with the cut try (Garage) has completion answer `PartToSendAgain`, and once
/// the part is sent again the upload completes whole; other stores complete at once.
#[tokio::test]
async fn a_part_cut_after_it_landed_is_asked_for_again_where_the_store_completes_with_it() {
    let server = TestServer::start(&[]).await;
    let data = bytes(13 * MIB, 36);
    let started = start(&server, "cut.bin", data.len(), "")
        .await
        .expect("started");
    let plan = plan_of(&started, data.len());
    let part = |n: u32| {
        let (from, to) = plan.range(n).expect("in plan");
        data[from as usize..to as usize].to_vec()
    };
    let sign = |n: u32| json!({ "token": started.token, "parts": [{ "part_number": n, "crc32c": crc32c(&part(n)) }] });
    let mut parts = Vec::new();
    let mut urls = Vec::new();
    for n in 1..=plan.part_count {
        let signed: Vec<SignedPart> = server.call("uploads/sign", &sign(n)).await.expect("signed");
        let (status, etag) = put_part(&server, &signed[0], part(n)).await;
        assert_eq!(status, 200, "part {n}");
        parts.push(CompletedPart {
            part_number: n,
            etag: etag.expect("an etag"),
            crc32c: Some(crc32c(&part(n))),
        });
        urls.push(signed[0].clone());
    }
    // Part 1 again, its connection cut once 2 MiB of it are on their way (well past
    // the first block Garage reads before it records a try).
    cut_put(&server, &urls[0], part(1), 2 * MIB).await;

    let complete = |parts: &Vec<CompletedPart>| {
        let body = json!({ "token": started.token, "parts": parts });
        let server = &server;
        async move { server.call::<StoredObject>("uploads/complete", &body).await }
    };
    let stored = match (
        complete(&parts).await,
        store_facts().completes_with_a_cut_try,
    ) {
        (Ok(stored), false) => stored,
        (Err((409, ApiError::PartToSendAgain)), true) => {
            let (status, etag) = put_part(&server, &urls[0], part(1)).await;
            assert_eq!(status, 200, "part 1 sent again");
            parts[0].etag = etag.expect("an etag");
            complete(&parts)
                .await
                .expect("completed once part 1 was sent again")
        }
        (other, expected) => panic!(
            "completing after a cut try answered {other:?}; the store's facts say it completes with a cut try: {expected}"
        ),
    };
    assert_eq!(download(&server, &stored).await, data);
}

/// PUTs the first `sent` bytes of `body` to a signed part's URL, then cuts the
/// connection (the body fails) before the rest.
async fn cut_put(server: &TestServer, part: &SignedPart, body: Vec<u8>, sent: usize) {
    let first = bytes::Bytes::copy_from_slice(&body[..sent]);
    use futures::StreamExt;
    let chunks = futures::stream::iter([Ok::<_, std::io::Error>(first)]).chain(
        futures::stream::once(async {
            // Time for the store to take in what arrived before the cut.
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            Err(std::io::Error::other("cut"))
        }),
    );
    let mut put = server
        .http
        .put(&part.url)
        .header("content-length", body.len())
        .body(reqwest::Body::wrap_stream(chunks));
    for (name, value) in &part.headers {
        if !name.eq_ignore_ascii_case("content-length") {
            put = put.header(name, value);
        }
    }
    assert!(put.send().await.is_err(), "the cut PUT must fail");
}
