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
        crc32c: None,
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
    // Operators' endpoints stay reachable.
    let health = http
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("answers");
    assert_eq!(health.status().as_u16(), 200);

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
    let s3drop::api::UploadMethod::Single { url, headers, .. } = start.method else {
        panic!("a single PUT");
    };
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
