//! `s3drop upload` against a real server and store: a folder and a large file read back
//! byte for byte, a run interrupted part-way that the next run finishes sending only
//! what the store lacks, an upload link with a password and a name, and clear answers
//! when it cannot start.

mod common;

use std::path::{Path, PathBuf};

use common::{MIB, TestServer, bytes};
use s3drop::api::{CreatedApiToken, CreatedLink, RecordPage};
use s3drop::client::upload::{UploadArgs, run};
use serde_json::json;
use sha2::{Digest, Sha256};

const PASSWORD: &str = "operator password 1";

fn args(paths: Vec<PathBuf>, journal: &Path) -> UploadArgs {
    UploadArgs {
        paths,
        link: None,
        link_password: None,
        name: None,
        server: None,
        token: None,
        parallel: 4,
        journal: Some(journal.to_path_buf()),
        quiet: true,
    }
}

async fn server_and_token() -> (TestServer, String, String) {
    let server = TestServer::start(&["--access-password", PASSWORD, "--part-size", "5MiB"]).await;
    let cookie = server.log_in(PASSWORD).await;
    let created: CreatedApiToken = server
        .call_as(
            Some(&cookie),
            "tokens/create",
            &json!({ "name": "cli test" }),
        )
        .await
        .expect("a token");
    (server, cookie, created.secret)
}

fn write(path: &Path, data: &[u8]) {
    std::fs::create_dir_all(path.parent().expect("a folder")).expect("folders");
    std::fs::write(path, data).expect("written");
}

/// The record's stored uploads: (folder/name, key, size).
async fn stored(server: &TestServer, cookie: &str) -> Vec<(String, String, u64)> {
    let page: RecordPage = server
        .call_as(
            Some(cookie),
            "record/list",
            &json!({ "filter": { "state": "stored" }, "after": null, "limit": 500 }),
        )
        .await
        .expect("the record");
    page.uploads
        .into_iter()
        .map(|u| (format!("{}/{}", u.folder, u.name), u.key, u.size))
        .collect()
}

async fn sha_in_store(server: &TestServer, key: &str) -> String {
    let object = server
        .s3()
        .get_object()
        .bucket(&server.bucket)
        .key(key)
        .send()
        .await
        .expect("stored");
    let body = object.body.collect().await.expect("a body").into_bytes();
    hex::encode(Sha256::digest(&body))
}

#[tokio::test]
async fn a_folder_and_a_large_file_are_stored_byte_for_byte() {
    let (server, cookie, token) = server_and_token().await;
    let dir = tempfile::tempdir().expect("a folder");
    let root = dir.path().join("shoot");
    let mut sent = Vec::new();
    for n in 0..30 {
        let path = root
            .join(format!("day {}", n % 3))
            .join(format!("photo-{n}.jpg"));
        let data = bytes(1_000 + n * 37, n as u64);
        write(&path, &data);
        sent.push((
            format!("shoot/day {}/photo-{n}.jpg", n % 3),
            hex::encode(Sha256::digest(&data)),
        ));
    }
    let big = bytes(23 * MIB + 5, 7);
    write(&root.join("video.bin"), &big);
    sent.push(("shoot/video.bin".into(), hex::encode(Sha256::digest(&big))));

    let mut given = args(vec![root.clone()], &dir.path().join("journal.json"));
    given.server = Some(server.url(""));
    given.token = Some(token);
    let summary = run(&given).await.expect("ran");
    assert!(summary.failed.is_empty(), "{:?}", summary.failed);
    assert_eq!(summary.stored, 31);
    assert_eq!(
        summary.parts_sent,
        30 + 5,
        "30 PUTs and the large file's five parts"
    );
    assert!(
        !dir.path().join("journal.json").exists(),
        "a finished run leaves no journal"
    );

    let record = stored(&server, &cookie).await;
    assert_eq!(record.len(), 31);
    for (path, digest) in sent {
        let (_, key, _) = record
            .iter()
            .find(|(p, _, _)| *p == path)
            .expect("recorded");
        assert_eq!(sha_in_store(&server, key).await, digest, "{path}");
    }
    let (_, key, _) = record
        .iter()
        .find(|(p, _, _)| p.ends_with("photo-1.jpg"))
        .expect("there");
    let head = server
        .s3()
        .head_object()
        .bucket(&server.bucket)
        .key(key)
        .send()
        .await
        .expect("head");
    assert_eq!(
        head.content_type(),
        Some("image/jpeg"),
        "its type from its name"
    );
}

#[tokio::test]
async fn an_interrupted_run_is_finished_by_the_next_sending_only_what_the_store_lacks() {
    let (server, cookie, token) = server_and_token().await;
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("archive.tar");
    let data = bytes(60 * MIB, 3);
    write(&path, &data);
    let journal = dir.path().join("journal.json");
    let mut given = args(vec![path.clone()], &journal);
    given.server = Some(server.url(""));
    given.token = Some(token);
    given.parallel = 1;

    // Stopped once the store holds two of its twelve parts.
    let s3 = server.s3();
    let (bucket, ns) = (server.bucket.clone(), server.ns.clone());
    let parts_in_store = || async {
        let uploads = s3
            .list_multipart_uploads()
            .bucket(&bucket)
            .prefix(&ns)
            .send()
            .await
            .expect("listed");
        let Some(upload) = uploads.uploads().first() else {
            return 0;
        };
        let parts = s3
            .list_parts()
            .bucket(&bucket)
            .key(upload.key().unwrap_or_default())
            .upload_id(upload.upload_id().unwrap_or_default())
            .send()
            .await
            .expect("listed");
        parts.parts().len()
    };
    let first_args = given.clone();
    let mut first = Box::pin(run(&first_args));
    loop {
        tokio::select! {
            done = &mut first => panic!("the first run finished before it was stopped: {done:?}"),
            () = tokio::time::sleep(std::time::Duration::from_millis(20)) => {}
        }
        if parts_in_store().await >= 2 {
            break;
        }
    }
    drop(first);
    assert!(journal.exists(), "the stopped run left its journal");

    given.parallel = 4;
    let second = run(&given).await.expect("ran");
    assert!(second.failed.is_empty(), "{:?}", second.failed);
    assert_eq!(second.stored, 1);
    assert!(second.parts_skipped >= 2, "{second:?}");
    assert_eq!(second.parts_sent + second.parts_skipped, 12, "{second:?}");
    let record = stored(&server, &cookie).await;
    assert_eq!(record.len(), 1);
    assert_eq!(
        sha_in_store(&server, &record[0].1).await,
        hex::encode(Sha256::digest(&data))
    );
}

#[tokio::test]
async fn through_a_link_with_a_password_and_a_name() {
    let (server, cookie, _) = server_and_token().await;
    let created: CreatedLink = server
        .call_as(
            Some(&cookie),
            "links/create",
            &json!({ "link": { "label": "Acme", "expires": "1d", "password": "link password", "ask_name": true } }),
        )
        .await
        .expect("made");
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("report.pdf");
    write(&path, &bytes(4_000, 1));
    let mut given = args(vec![path], &dir.path().join("journal.json"));
    given.link = Some(server.url(&format!("/l/{}", created.secret)));

    let err = run(&given).await.expect_err("no password");
    assert!(err.contains("password"), "{err}");
    given.link_password = Some("wrong".into());
    let err = run(&given).await.expect_err("a wrong password");
    assert!(err.contains("password"), "{err}");
    given.link_password = Some("link password".into());
    let err = run(&given).await.expect_err("no name");
    assert!(err.contains("--name"), "{err}");
    given.name = Some("Ada".into());
    let summary = run(&given).await.expect("ran");
    assert_eq!(
        (summary.stored, summary.failed.len()),
        (1, 0),
        "{summary:?}"
    );
    let page: RecordPage = server
        .call_as(
            Some(&cookie),
            "record/list",
            &json!({ "filter": {}, "after": null, "limit": 10 }),
        )
        .await
        .expect("the record");
    assert_eq!(page.uploads[0].uploader.as_deref(), Some("Ada"));
    assert_eq!(
        page.uploads[0].link_id.as_deref(),
        Some(created.link.id.as_str())
    );
}

#[tokio::test]
async fn what_cannot_start_is_said_clearly() {
    let (server, _, token) = server_and_token().await;
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("a.txt");
    write(&path, b"hello");
    let journal = dir.path().join("journal.json");

    let err = run(&args(vec![path.clone()], &journal))
        .await
        .expect_err("nowhere to go");
    assert!(err.contains("--link") && err.contains("--server"), "{err}");
    let mut given = args(vec![path.clone()], &journal);
    given.link = Some(server.url("/not-a-link"));
    let err = run(&given).await.expect_err("not a link");
    assert!(err.contains("not an upload link"), "{err}");
    let mut given = args(vec![path.clone()], &journal);
    given.server = Some(server.url(""));
    given.token = Some(format!("{}x", &token[..token.len() - 1]));
    let err = run(&given).await.expect_err("a mistyped token");
    assert!(err.contains("API token is not valid"), "{err}");
    let mut given = args(vec![dir.path().join("missing.txt")], &journal);
    given.server = Some(server.url(""));
    given.token = Some(token);
    let err = run(&given).await.expect_err("no such file");
    assert!(err.contains("missing.txt"), "{err}");
}
