//! Private mode: without a login the page sends people to the login form and the server
//! functions refuse; with the right password a session cookie lets them in.

mod common;

use common::TestServer;
use s3drop::api::{ApiError, StartRequest, UploadStart};
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn start_with(server: &TestServer, cookie: Option<&str>) -> (u16, String) {
    let request = StartRequest {
        name: "a.txt".into(),
        size: 10,
        content_type: "text/plain".into(),
        folder: String::new(),
        // Of the ten bytes the test PUTs, so the start carries the signed PUT.
        crc32c: Some(s3drop::core::checksum::crc32c(&[7u8; 10])),
        drop: None,
    };
    let mut call = server
        .http
        .post(server.url("/api/uploads/start"))
        .json(&json!({ "request": request }));
    if let Some(cookie) = cookie {
        call = call.header("cookie", cookie);
    }
    let response = call.send().await.expect("answers");
    (
        response.status().as_u16(),
        response.text().await.expect("body"),
    )
}

#[tokio::test]
async fn a_private_drop_needs_a_login() {
    let server = TestServer::start(&["--access-password", PASSWORD]).await;
    let http = no_redirects();

    // The page sends people to the login form; the server functions refuse.
    let page = http.get(server.url("/")).send().await.expect("answers");
    assert_eq!(page.status().as_u16(), 303);
    assert_eq!(page.headers()["location"], "/login");
    let form = http
        .get(server.url("/login"))
        .send()
        .await
        .expect("answers");
    assert!(
        form.text()
            .await
            .expect("html")
            .contains("type=\"password\"")
    );
    let (status, body) = start_with(&server, None).await;
    assert_eq!(status, 401);
    assert_eq!(
        serde_json::from_str::<ApiError>(&body).ok(),
        Some(ApiError::LoginRequired)
    );
    // Starting without a link, and the operator's calls, need the login; the calls
    // after a start need the upload's token (which only a start gives).
    let call = |path: &str, body: serde_json::Value| {
        http.post(server.url(&format!("/api/{path}")))
            .json(&body)
            .send()
    };
    let file = serde_json::json!({"name": "a.txt", "size": 1, "content_type": "text/plain"});
    for (path, body) in [
        ("uploads/start-batch", serde_json::json!({"files": [file]})),
        ("uploads/start", serde_json::json!({"request": file})),
        ("links/list", serde_json::json!({})),
        ("files/delete", serde_json::json!({"key": "uploads/x"})),
    ] {
        let refused = call(path, body).await.expect("answers");
        assert_eq!(refused.status().as_u16(), 401, "{path}");
    }
    let forged = serde_json::json!({"token": "forged.token", "parts": []});
    let forged_alone = serde_json::json!({"token": "forged.token"});
    for (path, body) in [
        ("uploads/sign", &forged),
        ("uploads/complete", &forged),
        ("uploads/abort", &forged_alone),
        ("uploads/parts", &forged_alone),
    ] {
        let refused = call(path, body.clone()).await.expect("answers");
        assert_eq!(refused.status().as_u16(), 403, "{path}");
    }
    // Nobody but the operator sees the files others sent.
    let listed = call(
        "files/list",
        serde_json::json!({"after": null, "limit": 10}),
    )
    .await
    .expect("answers");
    assert_eq!(listed.text().await.expect("json"), "null");
    // Operators' endpoints stay reachable.
    let health = http
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("answers");
    assert_eq!(health.status().as_u16(), 200);
    // So does the embedded store: presigned requests authorise themselves, and an
    // unsigned one gets S3's refusal, not the login form.
    if !common::external_store() {
        let store = http
            .get(server.url(&format!("/{}/some/key", server.bucket)))
            .send()
            .await
            .expect("answers");
        assert_eq!(store.status().as_u16(), 403);
        assert!(store.text().await.expect("xml").contains("<Code>"));
    }

    // A wrong password earns nothing; a forged cookie is refused.
    let wrong = http
        .post(server.url("/login"))
        .form(&[("password", "guess")])
        .send()
        .await
        .expect("answers");
    assert_eq!(wrong.status().as_u16(), 401);
    assert!(wrong.headers().get("set-cookie").is_none());
    assert_eq!(
        start_with(&server, Some("s3drop_session=9999999999.AAAA"))
            .await
            .0,
        401
    );

    // The right password sets an HttpOnly, SameSite=Strict session cookie that works.
    let right = http
        .post(server.url("/login"))
        .form(&[("password", PASSWORD)])
        .send()
        .await
        .expect("answers");
    assert_eq!(right.status().as_u16(), 303);
    let set_cookie = right.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"));
    let cookie = set_cookie.split(';').next().expect("name=value").to_owned();
    let (status, body) = start_with(&server, Some(&cookie)).await;
    assert_eq!(status, 200, "{body}");
    let start: UploadStart = serde_json::from_str(&body).expect("an upload");
    let page = http
        .get(server.url("/"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("answers");
    assert_eq!(page.status().as_u16(), 200);

    // Presigned URLs need no login: they authorise themselves.
    let s3drop::api::SignedPart { url, headers, .. } = start.put.expect("signed with the start");
    let mut put = http.put(url).body(vec![7u8; 10]);
    for (name, value) in headers {
        put = put.header(name, value);
    }
    assert_eq!(put.send().await.expect("answers").status().as_u16(), 200);
}

#[tokio::test]
async fn open_mode_needs_no_login() {
    let server = TestServer::start(&[]).await;
    assert_eq!(start_with(&server, None).await.0, 200);
    let page = no_redirects()
        .get(server.url("/"))
        .send()
        .await
        .expect("answers");
    assert_eq!(page.status().as_u16(), 200);
}

/// A login attempt with `password`, from `client` as a trusted proxy forwards it.
async fn login_as(server: &TestServer, client: &str, password: &str) -> reqwest::Response {
    no_redirects()
        .post(server.url("/login"))
        .header("x-forwarded-for", client)
        .form(&[("password", password)])
        .send()
        .await
        .expect("answers")
}

/// A private drop behind a proxy it trusts on loopback, so each login names its client.
async fn private_behind_a_proxy() -> TestServer {
    TestServer::start(&[
        "--access-password",
        PASSWORD,
        "--trusted-proxy",
        "127.0.0.1",
    ])
    .await
}

#[tokio::test]
async fn wrong_passwords_are_slowed_per_client_and_a_right_one_still_gets_in() {
    let server = private_behind_a_proxy().await;
    // Four wrong, then the right one: a person who mistyped is not locked out.
    for _ in 0..4 {
        assert_eq!(
            login_as(&server, "198.51.100.1", "guess")
                .await
                .status()
                .as_u16(),
            401
        );
    }
    assert_eq!(
        login_as(&server, "198.51.100.1", PASSWORD)
            .await
            .status()
            .as_u16(),
        303
    );

    // A guesser gets five tries, then waits, told how long.
    for _ in 0..5 {
        assert_eq!(
            login_as(&server, "198.51.100.2", "guess")
                .await
                .status()
                .as_u16(),
            401
        );
    }
    for password in ["guess", PASSWORD] {
        let refused = login_as(&server, "198.51.100.2", password).await;
        assert_eq!(refused.status().as_u16(), 429);
        let seconds: u64 = refused.headers()["retry-after"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert!((1..=12).contains(&seconds), "{seconds}");
        assert!(refused.headers().get("set-cookie").is_none());
        let page = refused.text().await.expect("html");
        assert!(page.contains("Try again in"), "{page}");
    }
    // Other visitors behind the same proxy are not affected.
    assert_eq!(
        login_as(&server, "198.51.100.3", PASSWORD)
            .await
            .status()
            .as_u16(),
        303
    );
}

#[tokio::test]
async fn guessing_from_many_addresses_is_no_faster() {
    let server = private_behind_a_proxy().await;
    let server = &server;
    // One IPv6 line is one client, whichever of its /64's addresses it guesses from.
    let statuses =
        futures::future::join_all((1..=6).map(|n| async move {
            login_as(server, &format!("2001:db8:7:7::{n}"), "guess").await
        }))
        .await;
    let mut statuses: Vec<u16> = statuses.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
    let other_line = login_as(server, "2001:db8:7:8::1", PASSWORD).await;
    assert_eq!(other_line.status().as_u16(), 303, "another /64 may log in");

    // Thirty wrong passwords a minute from everyone together, however many addresses:
    // of 40 more, each from an address of its own, about 25 are tried (the cap's room
    // left, and what refilled meanwhile, half a guess a second); the rest wait.
    let started = std::time::Instant::now();
    let answers = futures::future::join_all(
        (1..=40)
            .map(|n| async move { login_as(server, &format!("198.51.100.{n}"), "guess").await }),
    )
    .await;
    let refilled = (started.elapsed().as_secs_f64() / 2.0).ceil() as usize;
    let tried = answers
        .iter()
        .filter(|r| r.status().as_u16() == 401)
        .count();
    assert!(tried <= 25 + refilled, "{tried} tried, {refilled} refilled");
    let waiting: Vec<_> = answers
        .iter()
        .filter(|r| r.status().as_u16() == 429)
        .collect();
    assert_eq!(tried + waiting.len(), 40);
    for answer in waiting {
        let seconds = answer.headers()["retry-after"].to_str().expect("ascii");
        assert!(
            ["1", "2"].contains(&seconds),
            "a guess's share of a minute: {seconds}"
        );
    }
}

#[tokio::test]
async fn forwarded_addresses_are_believed_only_from_a_trusted_proxy() {
    let flood = |server: &TestServer, client: &'static str| {
        let request = server
            .http
            .post(server.url("/api/policy"))
            .header("content-type", "application/json")
            .body("{}")
            .header("x-forwarded-for", client);
        async move { request.send().await.expect("answers").status().as_u16() }
    };
    for (trusted, other_client_limited) in [(true, false), (false, true)] {
        let mut args = vec!["--rate-limit", "1"];
        if trusted {
            args.extend(["--trusted-proxy", "127.0.0.1"]);
        }
        let server = TestServer::start(&args).await;
        let mut statuses = Vec::new();
        for _ in 0..15 {
            statuses.push(flood(&server, "203.0.113.1").await);
        }
        assert!(statuses.contains(&429), "{statuses:?}");
        let other = flood(&server, "203.0.113.2").await;
        assert_eq!(
            other == 429,
            other_client_limited,
            "trusted: {trusted}, {other}"
        );
    }
}
