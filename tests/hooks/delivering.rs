//! Events delivered: each stored file, each drop once, a link full or expired; retried
//! while the receiver is down, across a restart, and from two servers at once.

use std::collections::{HashMap, HashSet};

use s3drop::core::webhook::{Secret, WebhookError};

use super::*;

#[tokio::test]
async fn every_event_arrives_signed_and_a_drop_is_told_once() {
    let receiver = Receiver::start().await;
    let (server, cookie) = operator_server(&[]).await;
    let hook = create_hook(
        &server,
        &cookie,
        &receiver,
        json!({ "url": receiver.url("/hook") }),
    )
    .await;
    let link = create_link(
        &server,
        &cookie,
        json!({ "limits": { "max_files": 3 }, "ask_name": true }),
    )
    .await;
    let pass = json!({ "secret": link.secret, "uploader": "Ada at Acme" });
    let drop = Some(("drop-0123456789abcdef", 4));
    let files: Vec<StartRequest> = (1..=4)
        .map(|n| file(&format!("f{n}.txt"), 100 * n, drop))
        .collect();

    let answers = start_through(&server, &pass, &files).await;
    assert!(
        matches!(answers[3], Err(ApiError::Refused(_))),
        "the fourth is over the limit"
    );
    let mut keys = Vec::new();
    for start in answers.iter().flatten() {
        keys.push(send_and_complete(&server, start).await.key);
    }

    let got = receiver
        .wait_for("3 uploads, a drop and a full link", |got| {
            count(got, "upload.completed") == 3
                && count(got, "batch.completed") == 1
                && count(got, "link.limit_reached") == 1
        })
        .await;
    assert!(
        got.iter().all(|g| g.verified),
        "every delivery is signed with the hook's secret"
    );
    let ids: HashSet<&str> = got.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(ids.len(), got.len(), "each event has its own webhook-id");

    for (n, key) in keys.iter().enumerate() {
        let size = 100 * (n + 1);
        let event = got
            .iter()
            .find(|g| g.event() == "upload.completed" && g.data()["key"] == json!(key))
            .expect("each stored file is told");
        let data = event.data();
        assert_eq!(data["name"], json!(format!("f{}.txt", n + 1)));
        assert_eq!(data["size"], json!(size));
        assert_eq!(data["crc32c"], json!(crc32c(&bytes(size, size as u64))));
        assert_eq!(data["link"]["label"], json!("Acme's folder"));
        assert_eq!(data["uploader"], json!("Ada at Acme"));
        assert_eq!(data["drop"], json!("drop-0123456789abcdef"));
        assert!(data["stored_at"].as_str().is_some_and(|t| t.ends_with('Z')));
        let url = data["download_url"].as_str().expect("a download URL");
        assert_eq!(
            server.fetch(url).await,
            bytes(size, size as u64),
            "the URL downloads the file"
        );
    }
    let batch = event(&got, "batch.completed");
    let data = batch.data();
    assert_eq!(
        (
            data["files"].clone(),
            data["stored"].clone(),
            data["refused"].clone(),
            data["failed"].clone()
        ),
        (json!(4), json!(3), json!(1), json!(0))
    );
    assert_eq!(data["bytes_stored"], json!(100 + 200 + 300));
    assert_eq!(data["whole"], json!(true));
    assert_eq!(data["uploader"], json!("Ada at Acme"));
    let full = event(&got, "link.limit_reached");
    assert_eq!(
        (
            full.data()["max_files"].clone(),
            full.data()["files_held"].clone()
        ),
        (json!(3), json!(3))
    );

    let shown = delivered(&server, &cookie, &hook.hook.id, 5).await;
    assert_eq!(shown.len(), 5);
    assert!(shown.iter().all(|d| d.state == DeliveryState::Delivered
        && d.attempts == 1
        && d.last_status.is_some()));
    let hooks: Vec<HookInfo> = server
        .call_as(Some(&cookie), "hooks/list", &json!({}))
        .await
        .expect("listed");
    assert_eq!(
        (hooks[0].delivered, hooks[0].pending, hooks[0].failed),
        (5, 0, 0)
    );

    // A tampered body, id or timestamp does not verify, by the specification's algorithm
    // or by s3drop's own verifier.
    let one = &got[0];
    let secret = Secret::parse(&hook.secret).expect("whsec_");
    let mut tampered = one.body.clone();
    tampered[10] ^= 1;
    let key = receiver_key(&hook.secret);
    assert!(receiver::verify(
        &key,
        &one.id,
        one.timestamp,
        &one.body,
        &one.signature
    ));
    assert!(!receiver::verify(
        &key,
        &one.id,
        one.timestamp,
        &tampered,
        &one.signature
    ));
    assert!(!receiver::verify(
        &key,
        "msg_other",
        one.timestamp,
        &one.body,
        &one.signature
    ));
    assert!(!receiver::verify(
        &key,
        &one.id,
        one.timestamp + 1,
        &one.body,
        &one.signature
    ));
    assert_eq!(
        secret.verify(
            &one.id,
            one.timestamp,
            &tampered,
            &one.signature,
            one.timestamp
        ),
        Err(WebhookError::NoMatchingSignature)
    );
    assert_eq!(
        secret.verify(
            &one.id,
            one.timestamp,
            &one.body,
            &one.signature,
            one.timestamp
        ),
        Ok(())
    );
}

fn receiver_key(secret: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .expect("base64")
}

#[tokio::test]
async fn a_receiver_that_was_down_gets_every_event_under_the_same_id() {
    let receiver = Receiver::start().await;
    receiver.answer(503);
    let (server, cookie) = operator_server(&[]).await;
    let hook = create_hook(
        &server,
        &cookie,
        &receiver,
        json!({ "url": receiver.url("/hook"), "events": ["upload.completed"] }),
    )
    .await;
    let link = create_link(&server, &cookie, json!({})).await;
    let pass = json!({ "secret": link.secret });
    let keys = send_through(
        &server,
        &pass,
        &[file("a.txt", 10, None), file("b.txt", 20, None)],
    )
    .await;

    // Refused at least twice each (the second try a second later).
    for _ in 0..200 {
        if receiver.got().len() >= 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let refused = receiver.got();
    assert!(refused.len() >= 4, "tried again: {}", refused.len());
    let shown = deliveries(&server, &cookie, &hook.hook.id).await;
    assert!(shown.iter().all(|d| d.state == DeliveryState::Pending));
    assert!(shown.iter().any(|d| d.last_status == Some(503)
        && d.last_error.as_deref().is_some_and(|e| e.contains("503"))));

    receiver.answer(200);
    let got = receiver
        .wait_for("both files", |got| count(got, "upload.completed") == 2)
        .await;
    let told: HashSet<&str> = got
        .iter()
        .filter_map(|g| g.data()["key"].as_str())
        .collect();
    assert_eq!(told, keys.iter().map(String::as_str).collect());
    let tried: HashSet<&str> = refused.iter().map(|g| g.id.as_str()).collect();
    assert!(
        got.iter().all(|g| tried.contains(g.id.as_str())),
        "a retry keeps its webhook-id"
    );
    let shown = delivered(&server, &cookie, &hook.hook.id, 2).await;
    assert!(
        shown
            .iter()
            .all(|d| d.state == DeliveryState::Delivered && d.attempts >= 2)
    );
}

#[tokio::test]
async fn events_pending_at_a_restart_are_delivered_after_it() {
    let receiver = Receiver::start().await;
    receiver.answer(500);
    let (server, cookie) = operator_server(&[]).await;
    create_hook(
        &server,
        &cookie,
        &receiver,
        json!({ "url": receiver.url("/hook") }),
    )
    .await;
    let link = create_link(&server, &cookie, json!({})).await;
    let keys = send_through(
        &server,
        &json!({ "secret": link.secret }),
        &[file("a.txt", 10, None)],
    )
    .await;
    for _ in 0..200 {
        if !receiver.got().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let first_try = receiver.got().first().cloned().expect("tried once");

    let server = server
        .restart(&["--access-password", PASSWORD, "--hook-retry-first", "1"])
        .await;
    let tries = receiver.got().len();
    receiver.answer(204);
    let got = receiver
        .wait_for("the pending event", |got| {
            count(got, "upload.completed") == 1
        })
        .await;
    assert_eq!(got[0].data()["key"], json!(keys[0]));
    assert_eq!(got[0].id, first_try.id);
    assert!(receiver.got().len() > tries, "the new server sent it");
    drop(server);
}

#[tokio::test]
async fn two_servers_on_one_database_lose_no_event_and_duplicates_share_their_id() {
    let receiver = Receiver::start().await;
    let (first, cookie) = operator_server(&[]).await;
    let second = first
        .start_beside(&["--access-password", PASSWORD, "--hook-retry-first", "1"])
        .await;
    create_hook(
        &first,
        &cookie,
        &receiver,
        json!({ "url": receiver.url("/hook"), "events": ["upload.completed"] }),
    )
    .await;
    let link = create_link(&first, &cookie, json!({})).await;
    let pass = json!({ "secret": link.secret });
    let mut keys = HashSet::new();
    for n in 0..12 {
        let server = if n % 2 == 0 { &first } else { &second };
        let files = [
            file(&format!("{n}-a.txt"), 10 + n, None),
            file(&format!("{n}-b.txt"), 30 + n, None),
        ];
        keys.extend(send_through(server, &pass, &files).await);
    }
    let got = receiver
        .wait_for("every file", |got| {
            got.iter()
                .filter_map(|g| g.data()["key"].as_str())
                .collect::<HashSet<_>>()
                .len()
                == 24
        })
        .await;
    let told: HashSet<String> = got
        .iter()
        .filter_map(|g| g.data()["key"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(told, keys);
    let mut id_of: HashMap<String, String> = HashMap::new();
    for g in &got {
        let key = g.data()["key"].as_str().expect("a key").to_owned();
        let id = id_of.entry(key).or_insert_with(|| g.id.clone());
        assert_eq!(*id, g.id, "a file told twice is told under one webhook-id");
    }
}

#[tokio::test]
async fn a_link_that_expires_is_told_once_and_a_quiet_drop_is_finished() {
    use s3drop::server::record::drops::finish_quiet;
    use s3drop::server::system::now_secs;
    use s3drop::server::upload::abort::end_abandoned;

    let receiver = Receiver::start().await;
    let (server, cookie) = operator_server(&[]).await;
    create_hook(
        &server,
        &cookie,
        &receiver,
        json!({ "url": receiver.url("/hook") }),
    )
    .await;
    let link = create_link(
        &server,
        &cookie,
        json!({ "label": "Soon gone", "expires": "3s" }),
    )
    .await;
    // A drop of three files of which one is sent: it waits for the others, then, quiet
    // for long enough, is finished as it is.
    let drop = Some(("quiet-drop-0123456789", 3));
    send_through(
        &server,
        &json!({ "secret": link.secret }),
        &[file("only.txt", 10, drop)],
    )
    .await;
    receiver
        .wait_for("the file", |got| count(got, "upload.completed") == 1)
        .await;
    assert_eq!(
        count(&receiver.delivered(), "batch.completed"),
        0,
        "the drop is not finished"
    );
    // As if an hour had passed: quiet for no time at all.
    finish_quiet(&server.state.database, 0, now_secs())
        .await
        .expect("swept");
    let got = receiver
        .wait_for("the quiet drop", |got| count(got, "batch.completed") == 1)
        .await;
    let batch = event(&got, "batch.completed");
    assert_eq!(
        (
            batch.data()["files"].clone(),
            batch.data()["stored"].clone()
        ),
        (json!(3), json!(1))
    );
    assert_eq!(batch.data()["whole"], json!(false));

    tokio::time::sleep(std::time::Duration::from_millis(3_100)).await;
    end_abandoned(&server.state, now_secs())
        .await
        .expect("swept");
    end_abandoned(&server.state, now_secs())
        .await
        .expect("swept again");
    let got = receiver
        .wait_for("the expiry", |got| count(got, "link.expired") == 1)
        .await;
    let expired = event(&got, "link.expired");
    assert_eq!(expired.data()["link"]["label"], json!("Soon gone"));
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(count(&receiver.delivered(), "link.expired"), 1, "told once");
}
