//! API tokens: what a script may do with one, and what it is told once it is revoked.

use super::*;

#[tokio::test]
async fn a_script_calls_as_the_operator_with_a_token_until_it_is_revoked() {
    let server = TestServer::start(&["--access-password", PASSWORD]).await;
    let cookie = server.log_in(PASSWORD).await;
    let created: CreatedApiToken = server
        .call_as(
            Some(&cookie),
            "tokens/create",
            &json!({ "name": "  nightly backup " }),
        )
        .await
        .expect("made");
    assert_eq!(created.token.name, "nightly backup");
    assert!(
        created.secret.starts_with("s3d_") && created.secret.len() == 47,
        "{}",
        created.secret
    );
    let token = created.secret.as_str();

    // The operator's calls, an upload, and the record's export.
    let links: serde_json::Value = server
        .call_with_token(token, "links/list", &json!({}))
        .await
        .expect("the operator's call");
    assert_eq!(links, json!([]));
    let key = upload_with(&server, token, "report.txt", 100).await;
    let export = server
        .http
        .get(server.url("/record.json"))
        .bearer_auth(token)
        .send()
        .await
        .expect("answers");
    assert_eq!(export.status().as_u16(), 200);
    assert!(export.text().await.expect("a body").contains(&key));

    // Without it, or with a mistyped one: refused, and told why.
    let (status, _) = server
        .call::<serde_json::Value>("links/list", &json!({}))
        .await
        .expect_err("refused");
    assert_eq!(status, 401);
    let mistyped = format!("{}x", &token[..token.len() - 1]);
    let (status, err) = server
        .call_with_token::<serde_json::Value>(&mistyped, "links/list", &json!({}))
        .await
        .expect_err("refused");
    assert_eq!((status, err), (401, ApiError::BadApiToken));

    // Revoked mid-run: the next call is refused, saying so.
    let listed: Vec<ApiTokenInfo> = server
        .call_as(Some(&cookie), "tokens/list", &json!({}))
        .await
        .expect("listed");
    assert!(listed[0].last_used_at.is_some(), "its use is noted");
    let revoked: ApiTokenInfo = server
        .call_as(
            Some(&cookie),
            "tokens/revoke",
            &json!({ "id": created.token.id }),
        )
        .await
        .expect("revoked");
    assert!(revoked.revoked_at.is_some());
    let (status, err) = server
        .call_with_token::<Vec<serde_json::Value>>(
            token,
            "uploads/start-batch",
            &json!({ "files": [file("late.txt", 10)] }),
        )
        .await
        .expect_err("refused");
    assert_eq!(status, 401);
    assert!(err.to_string().contains("revoked"), "{err}");
    let export = server
        .http
        .get(server.url("/record.csv"))
        .bearer_auth(token)
        .send()
        .await
        .expect("answers");
    assert_eq!(export.status().as_u16(), 401);
}

#[tokio::test]
async fn tokens_need_a_name_and_only_the_operator_makes_them() {
    let server = TestServer::start(&["--access-password", PASSWORD]).await;
    let cookie = server.log_in(PASSWORD).await;
    let (status, err) = server
        .call_as::<CreatedApiToken>(Some(&cookie), "tokens/create", &json!({ "name": " " }))
        .await
        .expect_err("refused");
    assert_eq!(status, 400);
    assert!(err.to_string().contains("name"), "{err}");
    let (status, _) = server
        .call::<CreatedApiToken>("tokens/create", &json!({ "name": "sneaky" }))
        .await
        .expect_err("refused");
    assert_eq!(status, 401);
    let (status, _) = server
        .call_as::<ApiTokenInfo>(Some(&cookie), "tokens/revoke", &json!({ "id": "tok_nope" }))
        .await
        .expect_err("no such token");
    assert_eq!(status, 404);
}

#[tokio::test]
async fn tokens_made_on_the_command_line_open_the_operators_calls_without_a_password() {
    use clap::Parser;
    use s3drop::server::cli::tokens::{TokensCommand, run};

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        tokens: TokensCommand,
    }
    let command = |args: &[&str]| {
        let mut all = vec!["tokens"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).expect("parses").tokens
    };
    // No operator's password: without a token nobody reads the record; with one, a script does.
    let server = TestServer::start(&[]).await;
    let db = &server.state.database;
    let (status, _) = server
        .call::<serde_json::Value>(
            "record/list",
            &json!({ "filter": {}, "after": null, "limit": 10 }),
        )
        .await
        .expect_err("refused");
    assert_eq!(status, 401);
    let out = run(db, &command(&["create", "--name", "ci"]))
        .await
        .expect("made");
    let token = out.lines().next().expect("the token first").to_owned();
    let page: serde_json::Value = server
        .call_with_token(
            &token,
            "record/list",
            &json!({ "filter": {}, "after": null, "limit": 10 }),
        )
        .await
        .expect("the record");
    assert_eq!(page["uploads"], json!([]));
    let listed = run(db, &command(&["list"])).await.expect("listed");
    assert!(
        listed.contains("ci") && listed.contains("last used"),
        "{listed}"
    );
    let id = listed.split_whitespace().next().expect("an id").to_owned();
    run(db, &command(&["revoke", &id])).await.expect("revoked");
    // Another server's memory of the token lasts a few seconds; this one forgets it
    // only when it revokes it itself, so wait them out.
    tokio::time::sleep(s3drop::server::api_tokens::REMEMBER).await;
    let (status, err) = server
        .call_with_token::<serde_json::Value>(
            &token,
            "record/list",
            &json!({ "filter": {}, "after": null, "limit": 10 }),
        )
        .await
        .expect_err("refused");
    assert_eq!((status, err), (401, ApiError::BadApiToken));
}
