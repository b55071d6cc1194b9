//! What the links' tests share: a server with an operator, links made through its calls,
//! files started and sent through a link.

use super::*;

/// The operator's password on every server here.
pub const PASSWORD: &str = "operator password 1";

/// A server with an operator's password (and any `args`), and the operator's cookie.
pub async fn operator_server(args: &[&str]) -> (TestServer, String) {
    let mut all = vec!["--access-password", PASSWORD];
    all.extend_from_slice(args);
    let server = TestServer::start(&all).await;
    let cookie = server.log_in(PASSWORD).await;
    (server, cookie)
}

/// Makes a link as the operator; `link` is `create_link`'s argument (label and expiry
/// filled in when left out).
pub async fn create_link(
    server: &TestServer,
    cookie: &str,
    mut link: serde_json::Value,
) -> CreatedLink {
    let fields = link.as_object_mut().expect("an object");
    fields.entry("label").or_insert(json!("Test link"));
    fields.entry("expires").or_insert(json!("1d"));
    server
        .call_as(Some(cookie), "links/create", &json!({ "link": link }))
        .await
        .expect("the link is made")
}

/// A link as the operator sees it now.
pub async fn link_info(server: &TestServer, cookie: &str, id: &str) -> LinkInfo {
    let all: Vec<LinkInfo> = server
        .call_as(Some(cookie), "links/list", &json!({}))
        .await
        .expect("listed");
    all.into_iter()
        .find(|l| l.id == id)
        .expect("the link is listed")
}

/// A file of `size` bytes named `name`, with its CRC32C when it is sent in one PUT.
pub fn file(name: &str, size: usize) -> StartRequest {
    StartRequest {
        name: name.into(),
        size: size as u64,
        content_type: "application/octet-stream".into(),
        folder: String::new(),
        crc32c: (size <= 5 * MIB).then(|| crc32c(&bytes(size, size as u64))),
        drop: None,
    }
}

/// Starts `files` in one batch through the link with `pass` (`{"secret": …}`).
pub async fn start_through(
    server: &TestServer,
    pass: serde_json::Value,
    files: &[StartRequest],
) -> Result<Vec<Result<UploadStart, ApiError>>, (u16, ApiError)> {
    server
        .call(
            "uploads/start-batch",
            &json!({ "files": files, "link": pass }),
        )
        .await
}

/// Starts `files` through the link with `pass`, every one of them expected to start.
pub async fn start_all(
    server: &TestServer,
    pass: serde_json::Value,
    files: &[StartRequest],
) -> Vec<UploadStart> {
    start_through(server, pass, files)
        .await
        .expect("answered")
        .into_iter()
        .map(|s| s.expect("started"))
        .collect()
}

/// Sends a single-PUT file's bytes (those [`file`] made) and completes it.
pub async fn send_and_complete(
    server: &TestServer,
    start: &UploadStart,
) -> Result<StoredObject, (u16, ApiError)> {
    let size = start.plan.size as usize;
    let put = single_put(server, start).await;
    let (status, _) = put_part(server, &put, bytes(size, size as u64)).await;
    assert_eq!(status, 200, "the PUT is stored");
    server
        .call(
            "uploads/complete",
            &json!({ "token": start.token, "parts": [] }),
        )
        .await
}

/// The record's uploads matching `filter`, as the operator reads them.
pub async fn record(server: &TestServer, cookie: &str, filter: serde_json::Value) -> RecordPage {
    server
        .call_as(
            Some(cookie),
            "record/list",
            &json!({ "filter": filter, "after": null, "limit": 500 }),
        )
        .await
        .expect("the record is read")
}
