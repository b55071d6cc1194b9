//! What the hooks' tests share: a server with an operator and a hook, links, files
//! started and sent through a link.

use super::*;

/// The operator's password on every server here.
pub const PASSWORD: &str = "operator password 1";

/// A server with an operator's password (and `args`), and the operator's cookie; failed
/// deliveries are tried again after a second.
pub async fn operator_server(args: &[&str]) -> (TestServer, String) {
    let mut all = vec!["--access-password", PASSWORD, "--hook-retry-first", "1"];
    all.extend_from_slice(args);
    let server = TestServer::start(&all).await;
    let cookie = server.log_in(PASSWORD).await;
    (server, cookie)
}

/// Makes a hook as the operator (`hook` is `create_hook`'s argument); the receiver is
/// told its secret.
pub async fn create_hook(
    server: &TestServer,
    cookie: &str,
    receiver: &Receiver,
    hook: serde_json::Value,
) -> CreatedHook {
    let created: CreatedHook = server
        .call_as(Some(cookie), "hooks/create", &json!({ "hook": hook }))
        .await
        .expect("the hook is made");
    receiver.expect_secret(&created.secret);
    created
}

/// Makes a link as the operator, with `link`'s fields (label and expiry filled in).
pub async fn create_link(
    server: &TestServer,
    cookie: &str,
    mut link: serde_json::Value,
) -> CreatedLink {
    let fields = link.as_object_mut().expect("an object");
    fields.entry("label").or_insert(json!("Acme's folder"));
    fields.entry("expires").or_insert(json!("1d"));
    server
        .call_as(Some(cookie), "links/create", &json!({ "link": link }))
        .await
        .expect("the link is made")
}

/// A hook's deliveries, as the operator sees them.
pub async fn deliveries(server: &TestServer, cookie: &str, hook: &str) -> Vec<DeliveryInfo> {
    server
        .call_as(
            Some(cookie),
            "hooks/deliveries",
            &json!({ "hook_id": hook, "limit": 200 }),
        )
        .await
        .expect("listed")
}

/// A hook's deliveries once `n` of them are noted delivered (a receiver has what it was
/// sent a moment before the server notes its answer).
pub async fn delivered(
    server: &TestServer,
    cookie: &str,
    hook: &str,
    n: usize,
) -> Vec<DeliveryInfo> {
    for _ in 0..400 {
        let shown = deliveries(server, cookie, hook).await;
        if shown
            .iter()
            .filter(|d| d.state == DeliveryState::Delivered)
            .count()
            >= n
        {
            return shown;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "not {n} delivered: {:?}",
        deliveries(server, cookie, hook).await
    );
}

/// A small file named `name` (sent in one PUT), in the drop `drop` of `files`.
pub fn file(name: &str, size: usize, drop: Option<(&str, u32)>) -> StartRequest {
    let drop = drop.map(|(id, files)| s3drop::api::DropTag {
        id: id.into(),
        files,
    });
    common::small_file(name, size, drop)
}

/// Starts `files` in one batch through the link with `pass` (`{"secret": …}`).
pub async fn start_through(
    server: &TestServer,
    pass: &serde_json::Value,
    files: &[StartRequest],
) -> Vec<Result<UploadStart, ApiError>> {
    server
        .call(
            "uploads/start-batch",
            &json!({ "files": files, "link": pass }),
        )
        .await
        .expect("the batch is answered")
}

/// Sends a started file's bytes (those [`file`] made) and completes it.
pub async fn send_and_complete(server: &TestServer, start: &UploadStart) -> StoredObject {
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
        .expect("completed")
}

/// Starts `files` through the link and stores every one that starts; answers the keys.
pub async fn send_through(
    server: &TestServer,
    pass: &serde_json::Value,
    files: &[StartRequest],
) -> Vec<String> {
    let mut keys = Vec::new();
    for start in start_through(server, pass, files)
        .await
        .into_iter()
        .flatten()
    {
        keys.push(send_and_complete(server, &start).await.key);
    }
    keys
}

/// The first of `got` that is an `event` (the test fails when none is).
pub fn event<'a>(got: &'a [receiver::Got], event: &str) -> &'a receiver::Got {
    got.iter()
        .find(|g| g.event() == event)
        .unwrap_or_else(|| panic!("no {event} among {} deliveries", got.len()))
}

/// How many of `got` are `event`s.
pub fn count(got: &[receiver::Got], event: &str) -> usize {
    got.iter().filter(|g| g.event() == event).count()
}
