//! What the upload protocol's tests share.

use super::*;

/// The bytes a stored file's download link serves, checked to download as a file.
pub async fn download(server: &TestServer, stored: &StoredObject) -> Vec<u8> {
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
