//! The record: every state an upload passes through, read newest first, filtered and
//! paged; and kept across a restart.

use s3drop::server::upload::abort::end_abandoned;

use super::*;

#[tokio::test]
async fn the_record_holds_every_state_and_a_restart_keeps_it() {
    let (server, cookie) = operator_server(&["--token-ttl", "3600"]).await;
    let created = create_link(&server, &cookie, json!({"limits": {"max_files": 10}})).await;
    let pass = json!({ "secret": created.secret });
    let files = [
        file("stored.bin", 20),
        file("cancelled.bin", 30),
        file("expired.bin", 40),
        file("flying.txt", 50),
    ];
    let started = start_all(&server, pass, &files).await;
    let stored = send_and_complete(&server, &started[0])
        .await
        .expect("stored");
    let _: () = server
        .call("uploads/abort", &json!({ "token": started[1].token }))
        .await
        .expect("aborted");
    // The operator's own upload, on the drop without a link.
    let own: Vec<Result<UploadStart, ApiError>> = server
        .call_as(
            Some(&cookie),
            "uploads/start-batch",
            &json!({ "files": [file("own.bin", 60)] }),
        )
        .await
        .expect("started");
    assert!(own[0].is_ok());

    // An hour on (and the grace past it), every token has run out: the sweep ends what
    // is still started.
    let later = s3drop::server::system::now_secs() + 3_600 + 301;
    end_abandoned(&server.state, later).await.expect("swept");

    let all = record(&server, &cookie, json!({})).await.uploads;
    let states: Vec<(&str, UploadState)> = all.iter().map(|u| (u.name.as_str(), u.state)).collect();
    assert_eq!(states.len(), 5);
    for (name, state) in [
        ("stored.bin", UploadState::Stored),
        ("cancelled.bin", UploadState::Cancelled),
        ("expired.bin", UploadState::Expired),
        ("flying.txt", UploadState::Expired),
        ("own.bin", UploadState::Expired),
    ] {
        assert!(states.contains(&(name, state)), "{name}: {states:?}");
    }
    let row = all
        .iter()
        .find(|u| u.name == "stored.bin")
        .expect("recorded");
    assert_eq!(row.crc32c, stored.crc32c);
    assert_eq!(row.link_id.as_deref(), Some(created.link.id.as_str()));
    assert!(row.finished_at.is_some() && row.download_url.is_some());
    let own_row = all.iter().find(|u| u.name == "own.bin").expect("recorded");
    assert_eq!(own_row.link_id, None);

    // Filters: by state, by link, by name (any case, LIKE's own characters taken as text).
    let only = |page: RecordPage| page.uploads.into_iter().map(|u| u.name).collect::<Vec<_>>();
    assert_eq!(
        only(record(&server, &cookie, json!({"state": "stored"})).await),
        ["stored.bin"]
    );
    assert_eq!(
        only(record(&server, &cookie, json!({"name": "CANCEL"})).await),
        ["cancelled.bin"]
    );
    assert!(only(record(&server, &cookie, json!({"name": "%"})).await).is_empty());
    assert_eq!(
        record(&server, &cookie, json!({"link_id": created.link.id}))
            .await
            .uploads
            .len(),
        4
    );

    // Pages of two, following the cursor, cover every upload once, newest first.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page: RecordPage = server
            .call_as(
                Some(&cookie),
                "record/list",
                &json!({"filter": {}, "after": after, "limit": 2}),
            )
            .await
            .expect("a page");
        assert!(page.uploads.len() <= 2);
        seen.extend(page.uploads.into_iter().map(|u| (u.started_at, u.key)));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    // Newest first: by start, then (within a second) by key, whose id counts down.
    let newer = |a: &(u64, String), b: &(u64, String)| a.0 > b.0 || (a.0 == b.0 && a.1 < b.1);
    assert!(
        seen.windows(2).all(|w| newer(&w[0], &w[1])),
        "newest first, each once"
    );
    let junk = server
        .call_as::<RecordPage>(
            Some(&cookie),
            "record/list",
            &json!({"filter": {}, "after": "junk", "limit": 2}),
        )
        .await
        .expect_err("refused");
    assert_eq!(junk.0, 400);

    // A restart keeps the links and the record.
    let links_before: Vec<LinkInfo> = server
        .call_as(Some(&cookie), "links/list", &json!({}))
        .await
        .expect("listed");
    let server = server.restart(&["--access-password", PASSWORD]).await;
    let cookie = server.log_in(PASSWORD).await;
    let links_after: Vec<LinkInfo> = server
        .call_as(Some(&cookie), "links/list", &json!({}))
        .await
        .expect("listed");
    assert_eq!(links_after, links_before);
    let again = record(&server, &cookie, json!({})).await.uploads;
    assert_eq!(again.len(), 5);
}

#[tokio::test]
async fn the_operator_deletes_a_stored_file_from_the_record_where_allowed() {
    let (server, cookie) = operator_server(&["--allow-delete"]).await;
    let created = create_link(&server, &cookie, json!({"limits": {"max_files": 2}})).await;
    let pass = json!({ "secret": created.secret });
    let files = [file("kept.bin", 10), file("flying.bin", 20)];
    let started = start_all(&server, pass.clone(), &files).await;
    let stored = send_and_complete(&server, &started[0])
        .await
        .expect("stored");
    let delete = |key: &str, cookie: Option<&str>| {
        let body = json!({ "key": key });
        let cookie = cookie.map(str::to_owned);
        let server = &server;
        async move {
            server
                .call_as::<()>(cookie.as_deref(), "record/delete", &body)
                .await
        }
    };
    // Only the operator; only a stored file the record holds.
    assert_eq!(
        delete(&stored.key, None).await,
        Err((401, ApiError::OperatorOnly))
    );
    for key in [started[1].key.as_str(), "uploads/not/in/the/record", ""] {
        assert_eq!(
            delete(key, Some(&cookie)).await.expect_err("refused").0,
            404,
            "{key}"
        );
    }
    assert!(server.object_keys().await.contains(&stored.key));

    delete(&stored.key, Some(&cookie)).await.expect("deleted");
    assert!(!server.object_keys().await.contains(&stored.key));
    let row = record(&server, &cookie, json!({"state": "deleted"}))
        .await
        .uploads;
    assert_eq!(row.len(), 1);
    assert_eq!(row[0].key, stored.key);
    assert_eq!(
        delete(&stored.key, Some(&cookie))
            .await
            .expect_err("once")
            .0,
        404
    );
    // What it held of its link is given back: the link takes another file.
    let link = link_info(&server, &cookie, &created.link.id).await;
    assert_eq!(
        link.held.files, 1,
        "the file in flight still holds its place"
    );
    let again = start_through(&server, pass, &[file("another.bin", 5)])
        .await
        .expect("answered");
    assert!(again[0].is_ok(), "{again:?}");

    // Without --allow-delete, nothing is deleted.
    let (strict, strict_cookie) = operator_server(&[]).await;
    let refused = strict
        .call_as::<()>(
            Some(&strict_cookie),
            "record/delete",
            &json!({ "key": stored.key }),
        )
        .await
        .expect_err("refused");
    assert_eq!(refused.0, 422);
}

#[tokio::test]
async fn a_links_page_lists_what_this_browser_sent_through_it_and_nothing_else() {
    let (server, cookie) = operator_server(&[]).await;
    let mine = create_link(&server, &cookie, json!({})).await;
    let theirs = create_link(&server, &cookie, json!({})).await;
    let send = |secret: &str, name: &str| {
        let pass = json!({ "secret": secret });
        let file = file(name, 10);
        let server = &server;
        async move {
            let started = start_through(server, pass, &[file])
                .await
                .expect("answered");
            send_and_complete(server, started[0].as_ref().expect("started"))
                .await
                .expect("stored")
        }
    };
    let a = send(&mine.secret, "a.txt").await;
    let b = send(&mine.secret, "b.txt").await;
    let other = send(&theirs.secret, "theirs.txt").await;
    let flying = start_through(
        &server,
        json!({"secret": mine.secret}),
        &[file("flying.txt", 10)],
    )
    .await
    .expect("answered");
    let flying = flying[0].as_ref().expect("started").key.clone();

    // The keys this browser kept, plus another link's, one in flight and junk: only the
    // files stored through this link come back, newest first, each with a working link.
    let keys = json!([a.key, other.key, flying, b.key, "uploads/junk", ""]);
    let sent: Vec<s3drop::api::SentFile> = server
        .call(
            "links/sent",
            &json!({ "secret": mine.secret, "keys": keys }),
        )
        .await
        .expect("listed");
    let paths: Vec<&str> = sent.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["b.txt", "a.txt"]);
    assert_eq!(server.fetch(&sent[1].download_url).await, bytes(10, 10));
    // Another link's secret with these keys answers nothing of them.
    let none: Vec<s3drop::api::SentFile> = server
        .call(
            "links/sent",
            &json!({ "secret": theirs.secret, "keys": [a.key, b.key] }),
        )
        .await
        .expect("listed");
    assert!(none.is_empty());
    let refused = server
        .call::<Vec<s3drop::api::SentFile>>(
            "links/sent",
            &json!({"secret": "A".repeat(32), "keys": [a.key]}),
        )
        .await
        .expect_err("no such link");
    assert_eq!(refused.0, 404);
    let too_many: Vec<String> = (0..501).map(|n| n.to_string()).collect();
    let refused = server
        .call::<Vec<s3drop::api::SentFile>>(
            "links/sent",
            &json!({"secret": mine.secret, "keys": too_many}),
        )
        .await
        .expect_err("too many");
    assert_eq!(refused.0, 400);
}
