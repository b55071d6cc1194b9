//! Requests refused before anything changes: bad input, expired tokens.

use super::*;

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
