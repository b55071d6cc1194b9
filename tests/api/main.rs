//! The API as scripts use it, against a real server: API tokens (made, used for every
//! call the operator makes and for uploads, refused once revoked), and the OpenAPI
//! document that describes it.

#[path = "../common/mod.rs"]
mod common;
mod openapi;
mod tokens;

use common::{TestServer, bytes, put_part, single_put};
use s3drop::api::{ApiError, ApiTokenInfo, CreatedApiToken, StartRequest, UploadStart};
use serde_json::json;

/// The operator's password on the servers here that have one.
pub const PASSWORD: &str = "operator password 1";

/// A small file sent in one PUT.
pub fn file(name: &str, size: usize) -> StartRequest {
    common::small_file(name, size, None)
}

/// Uploads a small file with an API token (start, PUT, complete); answers its key.
pub async fn upload_with(server: &TestServer, token: &str, name: &str, size: usize) -> String {
    let started: Vec<Result<UploadStart, ApiError>> = server
        .call_with_token(
            token,
            "uploads/start-batch",
            &json!({ "files": [file(name, size)] }),
        )
        .await
        .expect("started");
    let start = started.into_iter().next().expect("one").expect("started");
    let put = single_put(server, &start).await;
    let (status, _) = put_part(server, &put, bytes(size, size as u64)).await;
    assert_eq!(status, 200);
    let stored: serde_json::Value = server
        .call_with_token(
            token,
            "uploads/complete",
            &json!({ "token": start.token, "parts": [] }),
        )
        .await
        .expect("completed");
    stored["key"].as_str().expect("a key").to_owned()
}
