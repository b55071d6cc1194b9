//! A link's limits, enforced by the server at start: each refusal says why, before a
//! byte is sent; concurrent starts from two servers never pass a limit together; a
//! link's password and the uploader's name.

use super::*;

#[tokio::test]
async fn files_over_a_links_limits_are_refused_before_they_are_sent() {
    let (server, cookie) = operator_server(&[]).await;
    let created = create_link(
        &server,
        &cookie,
        json!({"limits": {"max_bytes": 1000, "max_files": 3, "max_file_size": 600,
               "allowed_types": [".bin", "text/*"]}}),
    )
    .await;
    let pass = json!({ "secret": created.secret });
    let mut text = file("notes.md", 10);
    text.content_type = "text/markdown".into();
    let mut exe = file("tool.exe", 10);
    exe.content_type = "application/x-msdownload".into();
    let answers = start_through(
        &server,
        pass.clone(),
        &[
            file("a.bin", 601),
            exe,
            file("b.bin", 600),
            text,
            file("c.bin", 400),
            file("d.bin", 1),
        ],
    )
    .await
    .expect("answered");
    let reasons: Vec<String> = answers
        .iter()
        .map(|a| match a {
            Ok(_) => "ok".into(),
            Err(err) => err.to_string(),
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "the file is 601 bytes; this link takes files up to 600 bytes",
            "files of type application/x-msdownload are not accepted by this link",
            "ok",
            "ok",
            // 610 held: 400 more would pass the 1,000 bytes.
            "the file is 400 bytes; this link has 390 bytes left",
            // The third file: exactly at the limit of files.
            "ok",
        ]
    );
    let over = start_through(&server, pass.clone(), &[file("e.bin", 1)])
        .await
        .expect("answered");
    assert_eq!(
        over[0].as_ref().expect_err("no files left").to_string(),
        "this link takes 3 files, and has taken them all"
    );
    // Nothing refused reached the store or the record.
    let link = link_info(&server, &cookie, &created.link.id).await;
    assert_eq!((link.held.files, link.held.bytes), (3, 611));
    assert_eq!(record(&server, &cookie, json!({})).await.uploads.len(), 3);
    assert!(server.upload_keys().await.is_empty());
}

#[tokio::test]
async fn fifty_concurrent_starts_from_two_servers_never_pass_a_links_limits() {
    let (server, cookie) = operator_server(&[]).await;
    let beside = server.start_beside(&["--access-password", PASSWORD]).await;
    for (limits, expected) in [
        (json!({"max_bytes": 10_000}), 10),
        (json!({"max_files": 7}), 7),
    ] {
        let created = create_link(&server, &cookie, json!({ "limits": limits })).await;
        let pass = json!({ "secret": created.secret });
        let starts = (0..50).map(|n| {
            let on = if n % 2 == 0 { &server } else { &beside };
            let pass = pass.clone();
            async move { start_through(on, pass, &[file(&format!("{n}.bin"), 1_000)]).await }
        });
        let answers = futures::future::join_all(starts).await;
        let started = answers
            .iter()
            .filter(|a| a.as_ref().expect("answered")[0].is_ok())
            .count();
        assert_eq!(started, expected, "{limits}");
        let link = link_info(&server, &cookie, &created.link.id).await;
        assert_eq!(link.held.files, expected as u64);
        assert_eq!(link.held.bytes, expected as u64 * 1_000);
    }
}

#[tokio::test]
async fn a_links_password_is_asked_once_and_guesses_are_slowed() {
    let (server, cookie) = operator_server(&[]).await;
    let created = create_link(
        &server,
        &cookie,
        json!({"password": "letmein", "ask_name": true}),
    )
    .await;
    let secret = created.secret.clone();
    let locked: LinkView = server
        .call("links/open", &json!({ "secret": secret }))
        .await
        .expect("opened");
    assert!(locked.needs_password && locked.details.is_none() && locked.grant.is_none());

    // Without the password given, nothing starts.
    let refused = start_through(
        &server,
        json!({"secret": secret, "uploader": "Ada"}),
        &[file("a.bin", 5)],
    )
    .await
    .expect_err("refused");
    assert_eq!(refused, (401, ApiError::PasswordRequired));
    let forged = json!({"secret": secret, "uploader": "Ada", "grant": "99999999999.AAAA"});
    let refused = start_through(&server, forged, &[file("a.bin", 5)])
        .await
        .expect_err("refused");
    assert_eq!(refused, (401, ApiError::PasswordRequired));

    let wrong = server
        .call::<LinkView>(
            "links/open",
            &json!({"secret": secret, "password": "guess"}),
        )
        .await
        .expect_err("wrong");
    assert_eq!(wrong, (401, ApiError::WrongPassword));
    let opened: LinkView = server
        .call(
            "links/open",
            &json!({"secret": secret, "password": "letmein"}),
        )
        .await
        .expect("opened");
    let grant = opened.grant.expect("a grant");
    assert!(opened.details.expect("terms").ask_name);

    // The name is asked; with it the file starts, and the record keeps it.
    let nameless = start_through(
        &server,
        json!({"secret": secret, "grant": grant}),
        &[file("a.bin", 5)],
    )
    .await
    .expect_err("refused");
    assert_eq!(nameless.0, 400);
    let pass = json!({"secret": secret, "grant": grant, "uploader": "  Ada Lovelace "});
    let started = start_through(&server, pass, &[file("a.bin", 5)])
        .await
        .expect("answered");
    assert!(started[0].is_ok(), "{started:?}");
    let recorded = record(&server, &cookie, json!({})).await.uploads;
    assert_eq!(recorded[0].uploader.as_deref(), Some("Ada Lovelace"));
    assert_eq!(recorded[0].client.as_deref(), Some("127.0.0.1"));

    // A few wrong guesses in a row, then the client waits, even for the right one.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let answer = server
            .call::<LinkView>(
                "links/open",
                &json!({"secret": secret, "password": "guess"}),
            )
            .await;
        statuses.push(answer.expect_err("wrong").0);
    }
    assert_eq!(statuses, [401, 401, 401, 401, 429, 429]);
    let waiting = server
        .call::<LinkView>(
            "links/open",
            &json!({"secret": secret, "password": "letmein"}),
        )
        .await
        .expect_err("slowed");
    assert_eq!(waiting, (429, ApiError::RateLimited));
}

#[tokio::test]
async fn guessed_and_malformed_secrets_open_nothing() {
    let (server, cookie) = operator_server(&[]).await;
    let real = create_link(&server, &cookie, json!({})).await.secret;
    let mut near = real.clone().into_bytes();
    near[0] = if near[0] == b'A' { b'B' } else { b'A' };
    let near = String::from_utf8(near).expect("ascii");
    for secret in [
        near.as_str(),
        "",
        "short",
        "../../../../../../../../etc/passwd",
        &"A".repeat(32),
    ] {
        let refused = server
            .call::<LinkView>("links/open", &json!({ "secret": secret }))
            .await
            .expect_err("no such link");
        assert_eq!(refused.0, 404, "{secret:?}");
        let refused = start_through(&server, json!({ "secret": secret }), &[file("a.bin", 5)])
            .await
            .expect_err("no such link");
        assert_eq!(refused.0, 404, "{secret:?}");
    }
    // Starting without a link on a drop with an operator needs the operator…
    let refused = server
        .call::<Vec<serde_json::Value>>(
            "uploads/start-batch",
            &json!({ "files": [file("a.bin", 5)] }),
        )
        .await
        .expect_err("refused");
    assert_eq!(refused, (401, ApiError::LoginRequired));
    // …unless the drop is kept open beside the links.
    let open = TestServer::start(&["--access-password", PASSWORD, "--open-drop"]).await;
    let started: Vec<Result<UploadStart, ApiError>> = open
        .call(
            "uploads/start-batch",
            &json!({ "files": [file("a.bin", 5)] }),
        )
        .await
        .expect("started");
    assert!(started[0].is_ok());
}
