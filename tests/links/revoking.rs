//! A revoked or expired link: new files refused at once, completions of those in flight
//! refused with a clear message, and nothing half-done left in the store.

use s3drop::server::upload::abort::end_abandoned;

use super::*;

/// A 12 MiB file: a multipart upload of three parts (part size 5 MiB).
const BIG: usize = 12 * MIB;

#[tokio::test]
async fn a_revoked_link_refuses_starts_and_completions_and_clears_what_was_in_flight() {
    let (server, cookie) = operator_server(&["--part-size", "5MiB"]).await;
    let created = create_link(&server, &cookie, json!({"limits": {"max_files": 10}})).await;
    let pass = json!({ "secret": created.secret });
    let started = start_through(
        &server,
        pass.clone(),
        &[file("small.bin", 100), file("big.bin", BIG)],
    )
    .await
    .expect("answered");
    let small = started[0].clone().expect("started");
    let big = started[1].clone().expect("started");
    assert!(big.is_multipart());
    // Both sent whole before the link is revoked; neither completed.
    let put = single_put(&server, &small).await;
    assert_eq!(put_part(&server, &put, bytes(100, 100)).await.0, 200);
    let parts: Vec<CompletedPart> = send_parts(&server, &big, &bytes(BIG, 7)).await;
    let done_before = create_link(&server, &cookie, json!({})).await;
    let stored = start_through(
        &server,
        json!({"secret": done_before.secret}),
        &[file("kept.bin", 50)],
    )
    .await
    .expect("answered");
    let kept = send_and_complete(&server, stored[0].as_ref().expect("started"))
        .await
        .expect("stored");

    let _: LinkInfo = server
        .call_as(
            Some(&cookie),
            "links/revoke",
            &json!({ "id": created.link.id }),
        )
        .await
        .expect("revoked");
    let _: LinkInfo = server
        .call_as(
            Some(&cookie),
            "links/revoke",
            &json!({ "id": done_before.link.id }),
        )
        .await
        .expect("revoked");

    // New files: refused at once.
    let refused = start_through(&server, pass, &[file("late.bin", 5)])
        .await
        .expect_err("refused");
    assert_eq!(
        refused,
        (
            422,
            ApiError::Refused("this upload link has been revoked".into())
        )
    );
    // In flight, with tokens obtained before: refused, and cleared from the store.
    let cancelled =
        "this upload link has been revoked: the upload was cancelled, and nothing of it was kept";
    let answer = server
        .call::<StoredObject>(
            "uploads/complete",
            &json!({"token": small.token, "parts": []}),
        )
        .await;
    assert_eq!(
        answer.expect_err("refused"),
        (422, ApiError::Refused(cancelled.into()))
    );
    let answer = server
        .call::<StoredObject>(
            "uploads/complete",
            &json!({"token": big.token, "parts": parts}),
        )
        .await;
    assert_eq!(
        answer.expect_err("refused"),
        (422, ApiError::Refused(cancelled.into()))
    );
    let keys = server.object_keys().await;
    assert_eq!(
        keys,
        std::slice::from_ref(&kept.key),
        "only the file stored before is kept"
    );
    assert!(
        server.upload_keys().await.is_empty(),
        "no multipart upload is left"
    );

    // The record says so, and what they held is given back.
    let recorded = record(&server, &cookie, json!({"link_id": created.link.id}))
        .await
        .uploads;
    assert_eq!(recorded.len(), 2);
    for upload in &recorded {
        assert_eq!(upload.state, UploadState::Cancelled, "{upload:?}");
        assert!(
            upload
                .reason
                .as_deref()
                .unwrap_or_default()
                .contains("revoked"),
            "{upload:?}"
        );
    }
    let link = link_info(&server, &cookie, &created.link.id).await;
    assert_eq!((link.held.files, link.held.bytes), (0, 0));
    // Finished stays finished: the file stored before its link was revoked stays.
    let again = server
        .call::<StoredObject>(
            "uploads/complete",
            &json!({"token": stored[0].as_ref().expect("started").token, "parts": []}),
        )
        .await
        .expect("a completion asked again finds it");
    assert_eq!(again.key, kept.key);
}

#[tokio::test]
async fn a_link_that_expires_stops_and_what_it_left_in_flight_is_cleared() {
    let (server, cookie) = operator_server(&["--part-size", "5MiB"]).await;
    let created = create_link(&server, &cookie, json!({"expires": "1h"})).await;
    let pass = json!({ "secret": created.secret });
    let started = start_through(&server, pass, &[file("big.bin", BIG)])
        .await
        .expect("answered");
    let big = started[0].clone().expect("started");
    assert_eq!(server.upload_keys().await.len(), 1);
    // An hour and a bit later, the sweep every server runs ends it.
    let later = s3drop::server::system::now_secs() + 3_700;
    let ended = end_abandoned(&server.state, later).await.expect("swept");
    assert_eq!(ended, 1);
    assert!(server.upload_keys().await.is_empty());
    let recorded = record(&server, &cookie, json!({})).await.uploads;
    assert_eq!(recorded[0].state, UploadState::Cancelled);
    assert_eq!(recorded[0].key, big.key);
    let link = link_info(&server, &cookie, &created.link.id).await;
    assert_eq!((link.held.files, link.held.bytes), (0, 0));
}
