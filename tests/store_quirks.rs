//! How s3drop copes with a store that lacks a feature it uses: a real store (s3drop's
//! embedded one, as an external store) behind an HTTP relay that answers as such a store
//! would, and passes everything else on untouched.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use common::{MIB, TestServer, bytes, send_parts, start};
use s3drop::api::StoredObject;
use s3drop::core::checksum::{composite_crc32c, crc32c, is_composite};
use s3drop::server::cli::secrets;
use serde_json::json;
use tokio::net::TcpListener;

/// A relay to `target` that refuses a CreateMultipartUpload asking for S3's full-object
/// checksum type, as stores without it do (400 InvalidRequest), counting the refusals.
async fn without_full_object_checksums(target: String) -> (String, Arc<AtomicUsize>) {
    let refused = Arc::new(AtomicUsize::new(0));
    let counted = refused.clone();
    let http = reqwest::Client::new();
    let relay = move |method: Method, uri: Uri, headers: HeaderMap, body: Body| {
        let (http, target, refused) = (http.clone(), target.clone(), counted.clone());
        async move {
            let creates = method == Method::POST
                && uri
                    .query()
                    .is_some_and(|q| q.split('&').any(|p| p == "uploads" || p == "uploads="));
            let full_object = headers
                .get("x-amz-checksum-type")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"FULL_OBJECT"));
            if creates && full_object {
                refused.fetch_add(1, Ordering::SeqCst);
                let error = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InvalidRequest</Code>\
                    <Message>The FULL_OBJECT checksum type is not supported.</Message></Error>";
                return (StatusCode::BAD_REQUEST, error).into_response();
            }
            let path = uri.path_and_query().map_or("/", |p| p.as_str());
            let body = axum::body::to_bytes(body, usize::MAX)
                .await
                .expect("a body");
            // The Host header goes on as it came: SigV4 signs it.
            let answer = http
                .request(method, format!("{target}{path}"))
                .headers(headers)
                .body(body)
                .send()
                .await
                .expect("the store answers");
            let mut response = Response::builder().status(answer.status().as_u16());
            for (name, value) in answer.headers() {
                response = response.header(name, value);
            }
            let body = answer.bytes().await.expect("a body");
            response.body(Body::from(body)).expect("a response")
        }
    };
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, request: Request<Body>| {
            relay(method, uri, headers, request.into_body())
        },
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let url = format!("http://{}", listener.local_addr().expect("bound"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, refused)
}

#[tokio::test]
async fn a_store_without_full_object_checksums_gets_the_composite_kind() {
    let store = TestServer::start(&[]).await;
    let (relay, refused) = without_full_object_checksums(store.url("")).await;
    let keys = secrets::load_or_create(store.data.path()).expect("the store's keys");
    let server = TestServer::start(&[
        "--bucket",
        &store.bucket,
        "--endpoint-url",
        &relay,
        "--path-style",
        "--region",
        "us-east-1",
        "--access-key-id",
        &keys.store_access_key,
        "--secret-access-key",
        &keys.store_secret_key,
    ])
    .await;

    for (i, name) in ["first.bin", "second.bin"].into_iter().enumerate() {
        let data = bytes(9 * MIB, 40 + i as u64);
        let started = start(&server, name, data.len(), "").await.expect("started");
        let parts = send_parts(&server, &started, &data).await;
        let stored: StoredObject = server
            .call(
                "uploads/complete",
                &json!({ "token": started.token, "parts": parts }),
            )
            .await
            .expect("completed");
        // S3's composite of the parts' CRC32Cs, not the whole file's (which the store
        // cannot record), and the object is the file.
        let composite = composite_crc32c(parts.iter().map(|p| p.crc32c.as_deref()));
        let crc = stored.crc32c.clone().expect("a checksum");
        assert!(is_composite(&crc), "{crc}");
        assert_eq!(Some(crc), composite);
        assert_ne!(stored.crc32c, Some(crc32c(&data)));
        assert_eq!(server.fetch(&stored.download_url).await, data, "{name}");
    }
    // The store was asked for the full-object kind once; after its refusal, not again.
    assert_eq!(refused.load(Ordering::SeqCst), 1);
}
