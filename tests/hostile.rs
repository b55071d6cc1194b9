//! Hostile input, straight at the server functions and the store (not through the
//! page): each case gets a clear error, and the store is left exactly as it was.

mod common;

use common::{MIB, TestServer, bytes, external_store, send_parts};
use s3drop::api::{ApiError, StoredObject, UploadStart};
use serde_json::{Value, json};

/// What the store holds: object keys and multipart uploads.
async fn store_contents(server: &TestServer) -> (Vec<String>, Vec<String>) {
    (server.object_keys().await, server.upload_keys().await)
}

async fn raw_start(server: &TestServer, request: Value) -> Result<UploadStart, (u16, ApiError)> {
    server
        .call("uploads/start", &json!({ "request": request }))
        .await
}

#[tokio::test]
async fn hostile_starts_are_refused_and_create_nothing() {
    let server = TestServer::start(&["--max-file-size", "1GiB"]).await;
    let before = store_contents(&server).await;
    let long_name = "x".repeat(10_000);
    let refused = [
        json!({ "name": "../../../etc/passwd", "size": 1, "content_type": "" }),
        json!({ "name": "a\u{0}b.txt", "size": 1, "content_type": "" }),
        json!({ "name": "line\nbreak.txt", "size": 1, "content_type": "" }),
        json!({ "name": long_name, "size": 1, "content_type": "" }),
        json!({ "name": "", "size": 1, "content_type": "" }),
        json!({ "name": "..", "size": 1, "content_type": "" }),
        json!({ "name": "big.bin", "size": u64::MAX, "content_type": "" }),
        json!({ "name": "big.bin", "size": (1u64 << 30) + 1, "content_type": "" }),
        json!({ "name": "a.txt", "size": 1, "content_type": "text/plain\r\nx-evil: 1" }),
    ];
    for request in refused {
        let result = raw_start(&server, request.clone()).await;
        assert!(
            matches!(result, Err((422, ApiError::Refused(_)))),
            "{request}: {result:?}"
        );
    }
    let malformed = [
        json!({ "name": "a.txt", "size": -5, "content_type": "" }),
        json!({ "name": "a.txt", "size": 1e30, "content_type": "" }),
        json!({ "name": "a.txt", "content_type": "" }),
        json!("not an object"),
    ];
    for request in malformed {
        let result = raw_start(&server, request.clone()).await;
        assert!(matches!(result, Err((400, _))), "{request}: {result:?}");
    }
    assert_eq!(
        store_contents(&server).await,
        before,
        "the store is unchanged"
    );
}

#[tokio::test]
async fn a_token_for_another_upload_completes_nothing() {
    let server = TestServer::start(&[]).await;
    let a_data = bytes(12 * MIB, 41);
    let b_data = bytes(12 * MIB, 42);
    let start = |name: &str| {
        raw_start(
            &server,
            json!({ "name": name, "size": 12 * MIB, "content_type": "" }),
        )
    };
    let a = start("a.bin").await.expect("started");
    let b = start("b.bin").await.expect("started");
    let _ = send_parts(&server, &a, &a_data).await;
    let b_parts = send_parts(&server, &b, &b_data).await;
    let before = store_contents(&server).await;

    // A's token with B's parts: the store's parts for A do not match.
    let crossed: Result<StoredObject, _> = server
        .call(
            "uploads/complete",
            &json!({ "token": a.token, "parts": b_parts }),
        )
        .await;
    assert!(
        matches!(crossed, Err((400, ApiError::BadRequest(_)))),
        "{crossed:?}"
    );
    // A token stitched from A's payload and B's signature is not a token at all.
    let (a_payload, _) = a.token.split_once('.').expect("two halves");
    let (_, b_tag) = b.token.split_once('.').expect("two halves");
    let stitched: Result<(), _> = server
        .call(
            "uploads/abort",
            &json!({ "token": format!("{a_payload}.{b_tag}") }),
        )
        .await;
    assert!(
        matches!(stitched, Err((403, ApiError::BadToken))),
        "{stitched:?}"
    );
    assert_eq!(
        store_contents(&server).await,
        before,
        "the store is unchanged"
    );

    // B itself still completes, with exactly its bytes.
    let stored: StoredObject = server
        .call(
            "uploads/complete",
            &json!({ "token": b.token, "parts": b_parts }),
        )
        .await
        .expect("completed");
    let got = server
        .http
        .get(&stored.download_url)
        .send()
        .await
        .expect("got");
    assert_eq!(got.bytes().await.expect("body").to_vec(), b_data);
}

#[tokio::test]
async fn oversized_calls_and_floods_are_refused() {
    let server = TestServer::start(&["--rate-limit", "1"]).await;
    // A request body far beyond any real call.
    let huge = "x".repeat(3 << 20);
    let response = server
        .http
        .post(server.url("/api/uploads/start"))
        .header("content-type", "application/json")
        .body(format!(
            "{{\"request\":{{\"name\":\"{huge}\",\"size\":1,\"content_type\":\"\"}}}}"
        ))
        .send()
        .await
        .expect("answers");
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    assert!(matches!(status, 400 | 413), "{status}: {body}");
    assert!(!body.contains(&huge[..100]), "the body was not taken in");

    // A burst of ten is allowed at one call a second; then 429 with Retry-After.
    let mut statuses = Vec::new();
    for _ in 0..15 {
        let response = server
            .http
            .post(server.url("/api/policy"))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("answers");
        statuses.push(response.status().as_u16());
        if response.status().as_u16() == 429 {
            assert_eq!(response.headers()["retry-after"], "1");
            let error: ApiError = response.json().await.expect("json");
            assert_eq!(error, ApiError::RateLimited);
        }
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(statuses.iter().take(9).all(|&s| s == 200), "{statuses:?}");
    // The embedded store shares the app's origin, but not its limit: while server calls
    // are refused, twenty store requests in a row are answered (parts must flow). An
    // external store is another origin, out of the limit's reach by construction.
    if !external_store() {
        let s3 = server.s3();
        for n in 0..20 {
            s3.list_objects_v2()
                .bucket(&server.bucket)
                .max_keys(1)
                .send()
                .await
                .unwrap_or_else(|e| panic!("store request {n} while /api is limited: {e:?}"));
        }
    }
}

#[tokio::test]
async fn a_single_put_is_not_completed_with_parts() {
    let server = TestServer::start(&[]).await;
    let start: UploadStart = raw_start(
        &server,
        json!({ "name": "s.txt", "size": 3, "content_type": "" }),
    )
    .await
    .expect("started");
    let result: Result<StoredObject, _> = server
        .call(
            "uploads/complete",
            &json!({ "token": start.token, "parts": [{ "part_number": 1, "etag": "\"x\"" }] }),
        )
        .await;
    assert!(
        matches!(result, Err((400, ApiError::BadRequest(_)))),
        "{result:?}"
    );
}

/// An uploader of one link, turned against the others: guessed secrets, folders that
/// climb out, a token whose link is rewritten, the record and the store's list read.
#[tokio::test]
async fn an_uploader_cannot_climb_out_of_their_link() {
    let password = "operator password 1";
    let server = TestServer::start(&["--access-password", password, "--list-files"]).await;
    let operator = server.log_in(password).await;
    let create = |label: &str, folder: &str| {
        let link = json!({"link": {"label": label, "folder": folder, "expires": "1d"}});
        let operator = operator.clone();
        let server = &server;
        async move {
            server
                .call_as::<s3drop::api::CreatedLink>(Some(&operator), "links/create", &link)
                .await
                .expect("made")
        }
    };
    let mine = create("mine", "clients/mine").await;
    let theirs = create("theirs", "clients/theirs").await;
    let before = store_contents(&server).await;
    let start = |secret: &str, folder: &str| {
        let body = json!({
            "files": [{"name": "a.txt", "size": 5, "content_type": "text/plain", "folder": folder}],
            "link": {"secret": secret},
        });
        let server = &server;
        async move {
            server
                .call::<Vec<Result<UploadStart, ApiError>>>("uploads/start-batch", &body)
                .await
        }
    };
    // A folder that climbs out of the link's is refused; nothing is made.
    for folder in [
        "..",
        "../theirs",
        "a/../../theirs",
        "/clients/theirs",
        "a\\..\\b",
    ] {
        let answers = start(&mine.secret, folder).await.expect("answered");
        assert!(answers[0].is_err(), "{folder:?}: {answers:?}");
    }
    assert_eq!(store_contents(&server).await, before);
    // Secrets one character off, or of the right shape, open nothing.
    let mut off = mine.secret.clone().into_bytes();
    off[31] = if off[31] == b'A' { b'B' } else { b'A' };
    let off = String::from_utf8(off).expect("ascii");
    for secret in [off.as_str(), &"-".repeat(32), &mine.link.id] {
        assert_eq!(
            start(secret, "").await.expect_err("refused").0,
            404,
            "{secret}"
        );
    }
    // What a link's upload may do is in its token: its key stays in the link's folder,
    // and rewriting the token's link (to escape a revocation) breaks its signature.
    let started = start(&mine.secret, "x").await.expect("answered");
    let upload = started[0].as_ref().expect("started");
    assert!(
        upload
            .key
            .starts_with(&format!("{}uploads/clients/mine/", server.ns)),
        "{}",
        upload.key
    );
    let (payload, tag) = upload.token.split_once('.').expect("a token");
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: Value =
        serde_json::from_slice(&engine.decode(payload).expect("base64")).expect("json");
    claims["link"] = json!(theirs.link.id);
    let forged = format!("{}.{tag}", engine.encode(claims.to_string()));
    let refused = server
        .call::<StoredObject>("uploads/complete", &json!({"token": forged, "parts": []}))
        .await
        .expect_err("refused");
    assert_eq!(refused, (403, ApiError::BadToken));
    // Neither the record nor the store's list is theirs to read.
    let refused = server
        .call::<Value>(
            "record/list",
            &json!({"filter": {"link_id": theirs.link.id}, "after": null, "limit": 10}),
        )
        .await
        .expect_err("refused");
    assert_eq!(refused, (401, ApiError::OperatorOnly));
    let listed: Value = server
        .call("files/list", &json!({"after": null, "limit": 10}))
        .await
        .expect("answered");
    assert_eq!(listed, Value::Null);
    // The page's visit says the same to them, and the list's to the operator.
    let visit: s3drop::api::Visit = server.call("visit", &json!({})).await.expect("visit");
    assert!(!visit.stored_files);
    let operators: s3drop::api::Visit = server
        .call_as(Some(&operator), "visit", &json!({}))
        .await
        .expect("visit");
    assert!(operators.stored_files);
    let export = server
        .http
        .get(server.url("/record.csv"))
        .send()
        .await
        .expect("answers");
    assert_eq!(export.status().as_u16(), 401);
}
