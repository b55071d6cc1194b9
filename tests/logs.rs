//! Log lines: one per request and per upload event, and nothing secret in any of them.
//! In a test binary of its own, because it installs the process-wide log subscriber.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{MIB, TestServer, bytes, send_parts};
use s3drop::api::StoredObject;
use s3drop::server::cli::secrets;
use serde_json::json;

/// Everything logged, as JSON lines.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn uploads_are_logged_without_secrets() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .json()
        .with_env_filter("info")
        .with_writer(move || writer.clone())
        .init();

    let server = TestServer::start(&[]).await;
    let data = bytes(12 * MIB, 31);
    let start = common::start(&server, "logged.bin", data.len(), "")
        .await
        .expect("started");
    let parts = send_parts(&server, &start, &data).await;
    let _: StoredObject = server
        .call(
            "uploads/complete",
            &json!({ "token": start.token, "parts": parts }),
        )
        .await
        .expect("completed");
    // An upload left unfinished, found stale by the sweep.
    let left = common::start(&server, "left.bin", 12 * MIB, "")
        .await
        .expect("started");
    assert!(left.is_multipart());
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let swept = server
        .sweeper
        .sweep(std::time::Duration::from_secs(1))
        .await
        .expect("swept");
    assert_eq!(swept, 1);
    let forged: Result<StoredObject, _> = server
        .call("uploads/complete", &json!({ "token": "x.y", "parts": [] }))
        .await;
    assert!(forged.is_err());

    let logs = String::from_utf8(captured.0.lock().expect("not poisoned").clone()).expect("utf-8");
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let messages: Vec<&str> = lines
        .iter()
        .filter_map(|l| l["fields"]["message"].as_str())
        .collect();
    assert!(messages.contains(&"upload started"), "{logs}");
    assert!(messages.contains(&"upload completed"), "{logs}");
    let completed = lines
        .iter()
        .find(|l| l["fields"]["message"] == "upload completed")
        .expect("logged");
    assert_eq!(completed["fields"]["size"], 12 * MIB as u64);
    assert!(
        completed["span"]["id"].is_string(),
        "tagged with the request id: {completed}"
    );
    let sweep = lines
        .iter()
        .find(|l| l["fields"]["message"] == "aborted stale multipart uploads")
        .expect("the sweep is logged");
    assert_eq!(sweep["fields"]["swept"], 1, "{sweep}");
    let part_puts = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "request" && l["fields"]["method"] == "PUT")
        .count();
    assert_eq!(part_puts, 2, "one line per request");

    let keys = secrets::load_or_create(server.data.path()).expect("secrets");
    for secret in [
        start.token.as_str(),
        left.token.as_str(),
        "X-Amz-Signature",
        "X-Amz-Credential",
        keys.store_secret_key.as_str(),
        keys.token_key.as_str(),
    ] {
        assert!(
            !logs.contains(secret),
            "{secret:?} leaked into the logs:\n{logs}"
        );
    }
}
