//! Links made, listed, extended and revoked, from the page's calls and from the command
//! line; bad input refused with a clear answer and nothing changed.

use clap::Parser;
use s3drop::server::cli::links::{LinksCommand, run};

use super::*;

#[tokio::test]
async fn the_operator_makes_lists_extends_and_revokes_links() {
    let (server, cookie) = operator_server(&[]).await;
    let created = create_link(
        &server,
        &cookie,
        json!({"label": "Acme photos", "message": "Thanks!", "folder": "clients/acme",
               "expires": "2d", "limits": {"max_bytes": 1000, "max_files": 3,
               "max_file_size": 600, "allowed_types": ["image/*"]}, "ask_name": true}),
    )
    .await;
    assert_eq!(created.secret.len(), 32, "192 random bits");
    let link = link_info(&server, &cookie, &created.link.id).await;
    assert_eq!(link, created.link);
    assert_eq!(
        (link.label.as_str(), link.folder.as_str()),
        ("Acme photos", "clients/acme")
    );
    assert_eq!(link.limits.max_bytes, Some(1000));
    assert!(link.ask_name && !link.has_password && link.revoked_at.is_none());

    // The uploader's view: the label and the terms, before anything is sent.
    let view: LinkView = server
        .call("links/open", &json!({ "secret": created.secret }))
        .await
        .expect("opened");
    assert_eq!(view.label, "Acme photos");
    let details = view.details.expect("an open link shows its terms");
    assert_eq!(
        (details.bytes_left, details.files_left),
        (Some(1000), Some(3))
    );
    assert_eq!(details.message.as_deref(), Some("Thanks!"));

    let later: LinkInfo = server
        .call_as(
            Some(&cookie),
            "links/extend",
            &json!({"id": link.id, "expires": "30d"}),
        )
        .await
        .expect("extended");
    assert!(later.expires_at > link.expires_at + 20 * 86_400);
    let revoked: LinkInfo = server
        .call_as(Some(&cookie), "links/revoke", &json!({ "id": link.id }))
        .await
        .expect("revoked");
    assert!(revoked.revoked_at.is_some());
    let refused = server
        .call::<LinkView>("links/open", &json!({ "secret": created.secret }))
        .await
        .expect_err("a revoked link opens no more");
    assert_eq!(
        refused,
        (
            422,
            ApiError::Refused("this upload link has been revoked".into())
        )
    );
}

#[tokio::test]
async fn bad_links_are_refused_and_change_nothing() {
    let (server, cookie) = operator_server(&[]).await;
    let cases = [
        json!({"folder": "../etc"}),
        json!({"folder": "/clients"}),
        json!({"folder": "clients/"}),
        json!({"folder": "a/../b"}),
        json!({"label": "  "}),
        json!({"expires": "2000-01-01"}),
        json!({"expires": "soon"}),
        json!({"limits": {"max_bytes": 0}}),
        json!({"limits": {"max_files": 0}}),
        json!({"limits": {"max_file_size": 6_000_000_000_000u64}}),
        json!({"limits": {"max_files": 1_000_000_000u64}}),
    ];
    for mut case in cases {
        let fields = case.as_object_mut().expect("an object");
        fields.entry("label").or_insert(json!("x"));
        fields.entry("expires").or_insert(json!("1d"));
        let refused = server
            .call_as::<CreatedLink>(Some(&cookie), "links/create", &json!({ "link": case }))
            .await
            .expect_err("refused");
        assert_eq!(refused.0, 400, "{case}: {refused:?}");
    }
    // Negative numbers do not even parse as limits.
    let negative = json!({"link": {"label": "x", "expires": "1d", "limits": {"max_bytes": -1}}});
    let refused = server
        .call_as::<CreatedLink>(Some(&cookie), "links/create", &negative)
        .await
        .expect_err("refused");
    assert_eq!(refused.0, 400);
    let none: Vec<LinkInfo> = server
        .call_as(Some(&cookie), "links/list", &json!({}))
        .await
        .expect("listed");
    assert!(none.is_empty(), "nothing was made: {none:?}");

    // A link id from elsewhere, extended or revoked: not found.
    for (call, args) in [
        ("links/revoke", json!({"id": "0123456789abcdef"})),
        (
            "links/extend",
            json!({"id": "0123456789abcdef", "expires": "1d"}),
        ),
    ] {
        let refused = server
            .call_as::<LinkInfo>(Some(&cookie), call, &args)
            .await
            .expect_err("not found");
        assert_eq!(refused.0, 404, "{call}");
    }
}

#[tokio::test]
async fn only_the_operator_manages_links_and_reads_the_record() {
    let (server, cookie) = operator_server(&[]).await;
    let link = create_link(&server, &cookie, json!({})).await.link;
    let forged = "s3drop_session=9999999999.AAAA";
    let calls = [
        ("links/list", json!({})),
        (
            "links/create",
            json!({"link": {"label": "x", "expires": "1d"}}),
        ),
        ("links/extend", json!({"id": link.id, "expires": "9d"})),
        ("links/revoke", json!({"id": link.id})),
        (
            "record/list",
            json!({"filter": {}, "after": null, "limit": 10}),
        ),
    ];
    for (call, body) in calls {
        for cookie in [None, Some(forged)] {
            let refused = server
                .call_as::<serde_json::Value>(cookie, call, &body)
                .await
                .expect_err("refused");
            assert_eq!(refused, (401, ApiError::OperatorOnly), "{call}");
        }
    }
    assert_eq!(
        link_info(&server, &cookie, &link.id).await,
        link,
        "unchanged"
    );

    // Without an operator's password there is no operator on the page at all.
    let open = TestServer::start(&[]).await;
    let refused = open
        .call::<Vec<LinkInfo>>("links/list", &json!({}))
        .await
        .expect_err("refused");
    assert_eq!(refused.0, 401);
}

#[tokio::test]
async fn links_made_on_the_command_line_work_at_once() {
    let server = TestServer::start(&[]).await;
    let command = |args: &[&str]| {
        #[derive(Parser)]
        struct Cli {
            #[command(subcommand)]
            links: LinksCommand,
        }
        let mut all = vec!["links"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).expect("parses").links
    };
    let db = &server.state.database;
    let base = server.url("");
    let out = run(
        db,
        &base,
        &command(&[
            "create",
            "--label",
            "From the shell",
            "--max-files",
            "1",
            "--folder",
            "cli",
        ]),
    )
    .await
    .expect("made");
    let url = out.lines().next().expect("the URL first");
    let secret = url
        .strip_prefix(&format!("{base}/l/"))
        .expect("a link on this server");
    let started = start_through(&server, json!({ "secret": secret }), &[file("a.bin", 10)])
        .await
        .expect("answered");
    let key = started[0].as_ref().expect("started").key.clone();
    assert!(
        key.starts_with(&format!("{}uploads/cli/", server.ns)),
        "{key}"
    );

    let listed = run(db, &base, &command(&["list"])).await.expect("listed");
    assert!(
        listed.contains("From the shell") && listed.contains("in flight or stored: 1 files"),
        "{listed}"
    );
    let id = listed.split_whitespace().next().expect("an id").to_owned();
    run(
        db,
        &base,
        &command(&["extend", &id, "--expires", "2099-12-31"]),
    )
    .await
    .expect("extended");
    let revoked = run(db, &base, &command(&["revoke", &id]))
        .await
        .expect("revoked");
    assert!(revoked.contains("revoked"), "{revoked}");
    let refused = run(db, &base, &command(&["revoke", "nosuchlink"]))
        .await
        .expect_err("refused");
    assert!(refused.contains("no upload link nosuchlink"), "{refused}");
    let refused = run(
        db,
        &base,
        &command(&["create", "--label", "x", "--folder", "../up"]),
    )
    .await
    .expect_err("refused");
    assert!(refused.contains("folder"), "{refused}");
}
