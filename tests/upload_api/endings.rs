//! How uploads end other than by completing: aborted, signed again and aborted until
//! stored, finished for good, swept when stale.

use super::*;

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
    // honours the condition (where not, docs/security.md says so: until the URL expires)...
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
