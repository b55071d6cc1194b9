//! The stored files list: paged, newest first, across days, and deleting when allowed.

use super::*;

/// Uploads a small file in one PUT and completes it.
async fn upload_small(server: &TestServer, name: &str, data: &[u8]) -> StoredObject {
    let started = start(server, name, data.len(), "text/plain")
        .await
        .expect("started");
    let parts = send_parts(server, &started, data).await;
    assert_eq!(parts.len(), 1);
    server
        .call(
            "uploads/complete",
            &json!({ "token": started.token, "parts": [] }),
        )
        .await
        .expect("completed")
}

/// A page of `files/list`.
async fn list(
    server: &TestServer,
    after: Option<String>,
    limit: u32,
) -> Option<s3drop::api::FilePage> {
    let body = json!({ "after": after, "limit": limit });
    server.call("files/list", &body).await.expect("listed")
}

#[tokio::test]
async fn the_file_list_pages_through_uploads_and_deletes_when_allowed() {
    // Off unless the operator turns it on; the page learns which from its visit (and
    // fetches the list's code only when on).
    let closed = TestServer::start(&[]).await;
    assert_eq!(list(&closed, None, 10).await, None);
    let visit: s3drop::api::Visit = closed.call("visit", &json!({})).await.expect("visit");
    assert!(!visit.stored_files);

    let server = TestServer::start(&["--list-files"]).await;
    let visit: s3drop::api::Visit = server.call("visit", &json!({})).await.expect("visit");
    assert!(visit.stored_files);
    let mut stored = Vec::new();
    for (i, name) in ["one.txt", "two.txt", "three.txt"].iter().enumerate() {
        stored.push(upload_small(&server, name, &bytes(50 + i, 70 + i as u64)).await);
    }
    let first = list(&server, None, 2).await.expect("on");
    assert_eq!(first.files.len(), 2);
    assert!(!first.can_delete);
    let second = list(&server, first.next.clone(), 2).await.expect("on");
    assert_eq!(second.files.len(), 1);
    assert_eq!(second.next, None);
    let paths: Vec<_> = first
        .files
        .iter()
        .chain(&second.files)
        .map(|f| f.path.clone())
        .collect();
    assert_eq!(paths, ["three.txt", "two.txt", "one.txt"], "newest first");
    let listed = first.files.iter().chain(&second.files);
    for file in listed {
        let original = stored.iter().find(|s| s.key == file.key).expect("uploaded");
        assert_eq!(file.size, original.size);
        let body = server.fetch(&file.download_url).await;
        assert_eq!(body.len() as u64, original.size);
    }

    // Deleting needs --allow-delete, and only ever touches s3drop's own uploads.
    let key = stored[0].key.clone();
    let refused: Result<(), _> = server.call("files/delete", &json!({ "key": key })).await;
    assert!(matches!(refused, Err((422, _))), "{refused:?}");
    let deleting = server.restart(&["--list-files", "--allow-delete"]).await;
    let foreign = format!("{}uploads/not-an-upload", deleting.ns);
    let refused: Result<(), _> = deleting
        .call("files/delete", &json!({ "key": foreign }))
        .await;
    assert!(matches!(refused, Err((400, _))), "{refused:?}");
    let () = deleting
        .call("files/delete", &json!({ "key": key }))
        .await
        .expect("deleted");
    let left = list(&deleting, None, 10).await.expect("on");
    assert!(left.can_delete);
    assert_eq!(left.files.len(), 2);
    assert!(left.files.iter().all(|f| f.key != key));
}

#[tokio::test]
async fn the_file_list_walks_back_through_the_days() {
    let server = TestServer::start(&["--list-files"]).await;
    let today = upload_small(&server, "today.txt", &bytes(10, 1)).await;
    // Files of earlier days, as s3drop would have named them then, and an object of
    // someone else's under the prefix, which is never listed.
    let s3 = server.s3();
    let id = "0123456789abcdef0123456789abcdef";
    let prefix = format!("{}uploads/", server.ns);
    for key in [
        format!("{prefix}2025/01/02/{id}/january.txt"),
        format!("{prefix}2025/01/01/{id}/new year.txt"),
        format!("{prefix}2024/12/31/{id}/trip/december.txt"),
        format!("{prefix}2025/01/02/not-an-upload"),
    ] {
        s3.put_object()
            .bucket(&server.bucket)
            .key(key)
            .body(b"old".to_vec().into())
            .send()
            .await
            .expect("stored");
    }
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let page = list(&server, after, 2).await.expect("on");
        pages.push(
            page.files
                .iter()
                .map(|f| f.path.clone())
                .collect::<Vec<_>>(),
        );
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(
        pages,
        [
            vec!["today.txt".to_owned(), "january.txt".into()],
            vec!["new year.txt".into(), "trip/december.txt".into()],
        ]
    );
    assert_eq!(today.name, "today.txt");
    let junk: Result<Option<s3drop::api::FilePage>, _> = server
        .call("files/list", &json!({ "after": "elsewhere/x", "limit": 2 }))
        .await;
    assert!(
        matches!(junk, Err((400, ApiError::BadRequest(_)))),
        "{junk:?}"
    );
}
