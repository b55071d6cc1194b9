//! Bad hooks and bad receivers: each answered with a clear error, nothing else changed.

use std::time::Duration;

use super::*;

#[tokio::test]
async fn hooks_that_cannot_work_are_refused_clearly() {
    let (server, cookie) = operator_server(&[]).await;
    let make = |hook: serde_json::Value| {
        let (server, cookie) = (&server, &cookie);
        async move {
            server
                .call_as::<CreatedHook>(Some(cookie), "hooks/create", &json!({ "hook": hook }))
                .await
                .expect_err("refused")
        }
    };
    let (status, err) = make(json!({ "url": "ftp://example.com/hook" })).await;
    assert_eq!(status, 400);
    assert!(err.to_string().contains("http:// or https://"), "{err}");
    let (status, err) = make(json!({ "url": "https://" })).await;
    assert_eq!(status, 400, "{err}");
    let (status, err) = make(json!({ "url": "https://example.com/", "link_id": "nope" })).await;
    assert_eq!(status, 404);
    assert!(err.to_string().contains("no upload link"), "{err}");
    let (status, err) = make(json!({ "url": "https://example.com/", "secret": "mine" })).await;
    assert_eq!(status, 400, "an unknown field is refused: {err}");
    let (status, _) =
        make(json!({ "url": "https://example.com/", "events": ["upload.started"] })).await;
    assert_eq!(status, 400, "an unknown event is refused");
    let hooks: Vec<HookInfo> = server
        .call_as(Some(&cookie), "hooks/list", &json!({}))
        .await
        .expect("listed");
    assert!(hooks.is_empty(), "nothing was made");

    // Only the operator manages hooks.
    let (status, _) = server
        .call::<Vec<HookInfo>>("hooks/list", &json!({}))
        .await
        .expect_err("refused");
    assert_eq!(status, 401);
}

#[tokio::test]
async fn receivers_that_redirect_or_hang_are_told_apart_and_a_removed_hook_gives_up() {
    let receiver = Receiver::start().await;
    receiver.answer(302);
    let (server, cookie) = operator_server(&["--hook-timeout", "1"]).await;
    let hook = create_hook(
        &server,
        &cookie,
        &receiver,
        json!({ "url": receiver.url("/hook") }),
    )
    .await;
    let link = create_link(&server, &cookie, json!({})).await;
    let pass = json!({ "secret": link.secret });
    send_through(&server, &pass, &[file("a.txt", 10, None)]).await;
    let shown = wait_for_error(&server, &cookie, &hook.hook.id, "do not follow redirects").await;
    assert_eq!(shown.last_status, Some(302));

    receiver.answer(204);
    receiver.delay(Duration::from_secs(3));
    wait_for_error(&server, &cookie, &hook.hook.id, "did not answer within 1 s").await;

    // Removed: what it had pending is given up, and it is sent no more.
    let removed: HookInfo = server
        .call_as(
            Some(&cookie),
            "hooks/remove",
            &json!({ "id": hook.hook.id }),
        )
        .await
        .expect("removed");
    assert_eq!(removed.id, hook.hook.id);
    let hooks: Vec<HookInfo> = server
        .call_as(Some(&cookie), "hooks/list", &json!({}))
        .await
        .expect("listed");
    assert!(hooks.is_empty());
    let (status, _) = server
        .call_as::<DeliveryInfo>(Some(&cookie), "hooks/resend", &json!({ "id": shown.id }))
        .await
        .expect_err("a removed hook's delivery is not sent again");
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_delivery_is_sent_again_on_request_under_its_id() {
    let receiver = Receiver::start().await;
    let (server, cookie) = operator_server(&[]).await;
    let hook = create_hook(
        &server,
        &cookie,
        &receiver,
        json!({ "url": receiver.url("/hook") }),
    )
    .await;
    let link = create_link(&server, &cookie, json!({})).await;
    send_through(
        &server,
        &json!({ "secret": link.secret }),
        &[file("a.txt", 10, None)],
    )
    .await;
    let got = receiver
        .wait_for("the file", |got| count(got, "upload.completed") == 1)
        .await;
    let id = got[0].id.clone();
    let again: DeliveryInfo = server
        .call_as(Some(&cookie), "hooks/resend", &json!({ "id": id }))
        .await
        .expect("sent again");
    assert_eq!(again.state, DeliveryState::Pending);
    let got = receiver
        .wait_for("the file again", |got| count(got, "upload.completed") == 2)
        .await;
    assert!(got.iter().all(|g| g.id == id), "under the same webhook-id");
    let shown = delivered(&server, &cookie, &hook.hook.id, 1).await;
    assert_eq!(shown[0].attempts, 2);
    let (status, _) = server
        .call_as::<DeliveryInfo>(Some(&cookie), "hooks/resend", &json!({ "id": "msg_nope" }))
        .await
        .expect_err("no such delivery");
    assert_eq!(status, 404);
}

/// Waits until the hook's latest delivery's last error says `says`; answers it.
async fn wait_for_error(server: &TestServer, cookie: &str, hook: &str, says: &str) -> DeliveryInfo {
    for _ in 0..400 {
        let shown = deliveries(server, cookie, hook).await;
        if let Some(d) = shown
            .into_iter()
            .find(|d| d.last_error.as_deref().is_some_and(|e| e.contains(says)))
        {
            assert_eq!(d.state, DeliveryState::Pending, "tried again later");
            return d;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "no delivery failed with \"{says}\": {:?}",
        deliveries(server, cookie, hook).await
    );
}

#[tokio::test]
async fn hooks_added_on_the_command_line_hear_a_drop_without_an_operator() {
    use clap::Parser;
    use s3drop::server::cli::hooks::{HooksCommand, run};

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        hooks: HooksCommand,
    }
    let command = |args: &[&str]| {
        let mut all = vec!["hooks"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).expect("parses").hooks
    };
    let receiver = Receiver::start().await;
    // No operator's password: the open drop, and hooks managed from the shell.
    let server = TestServer::start(&[]).await;
    let db = &server.state.database;
    let url = receiver.url("/hook");
    let out = run(db, &command(&["add", &url, "--events", "upload.completed"]))
        .await
        .expect("added");
    let secret = out.lines().next().expect("the secret first");
    receiver.expect_secret(secret);
    assert!(out.contains("hears: upload.completed"), "{out}");
    assert!(
        Cli::try_parse_from(["hooks", "add", &url, "--events", "upload.started"]).is_err(),
        "an unknown event is refused"
    );
    let refused = run(db, &command(&["add", "hooks.example.com"]))
        .await
        .expect_err("refused");
    assert!(refused.contains("http:// or https://"), "{refused}");

    let answers: Vec<Result<UploadStart, ApiError>> = server
        .call(
            "uploads/start-batch",
            &json!({ "files": [file("a.txt", 10, None)] }),
        )
        .await
        .expect("started on the open drop");
    let key = send_and_complete(&server, answers[0].as_ref().expect("started"))
        .await
        .key;
    let got = receiver
        .wait_for("the file", |got| count(got, "upload.completed") == 1)
        .await;
    assert_eq!(got[0].data()["key"], json!(key));
    assert_eq!(got[0].data()["link"], json!(null));

    let listed = run(db, &command(&["list"])).await.expect("listed");
    let id = listed.split_whitespace().next().expect("an id").to_owned();
    for _ in 0..100 {
        let shown = run(db, &command(&["deliveries", &id]))
            .await
            .expect("shown");
        if shown.contains("delivered") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let shown = run(db, &command(&["deliveries", &id]))
        .await
        .expect("shown");
    assert!(shown.contains("upload.completed  delivered"), "{shown}");
    let removed = run(db, &command(&["remove", &id])).await.expect("removed");
    assert!(removed.starts_with("removed"), "{removed}");
    let refused = run(db, &command(&["remove", &id])).await.expect_err("gone");
    assert!(refused.contains("no hook"), "{refused}");
}
