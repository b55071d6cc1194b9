//! What operators rely on: health and readiness, metrics that count real uploads,
//! `--check-config`, and a shutdown that lets requests in flight finish.

mod common;

use std::process::Command;
use std::time::Duration;

use clap::Parser as _;
use common::{TestServer, bytes, send_parts};
use s3drop::api::{SignedPart, StartRequest, StoredObject, UploadStart};
use s3drop::server::cli::config::Config;
use s3drop::server::cli::{secrets, startup};
use serde_json::json;
use tokio::net::TcpListener;

async fn get(server: &TestServer, path: &str) -> (u16, String) {
    let response = server
        .http
        .get(server.url(path))
        .send()
        .await
        .expect("answers");
    let status = response.status().as_u16();
    (status, response.text().await.expect("text"))
}

/// A TCP relay to `target` that can be cut: a store that goes away after start-up.
async fn relay(target: std::net::SocketAddr) -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("port");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        // Connections live in this set, so cutting the relay cuts them too.
        let mut connections = tokio::task::JoinSet::new();
        while let Ok((mut inbound, _)) = listener.accept().await {
            connections.spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (url, task)
}

#[tokio::test]
async fn health_and_readiness() {
    let store = TestServer::start(&[]).await;
    assert_eq!(get(&store, "/healthz").await, (200, "ok\n".into()));
    assert_eq!(get(&store, "/readyz").await.0, 200);

    // Another s3drop using the first one's store as its external store is ready too…
    let keys = secrets::load_or_create(store.data.path()).expect("secrets");
    let (endpoint, cut) = relay(store.addr).await;
    let external = [
        "--bucket",
        "s3drop",
        "--path-style",
        "--endpoint-url",
        endpoint.as_str(),
        "--access-key-id",
        keys.store_access_key.as_str(),
        "--secret-access-key",
        keys.store_secret_key.as_str(),
    ];
    let client = TestServer::start(&external).await;
    assert_eq!(get(&client, "/readyz").await.0, 200);

    // …and not once its store goes away: it says why, and stays alive.
    cut.abort();
    let _ = cut.await;
    let (status, body) = get(&client, "/readyz").await;
    assert_eq!(status, 503);
    assert!(body.contains("cannot be reached"), "{body}");
    // What it tried is what a prefix-scoped policy grants: a listing of the prefix.
    assert!(body.contains("ListObjectsV2 failed"), "{body}");
    assert_eq!(
        get(&client, "/healthz").await.0,
        200,
        "alive while not ready"
    );

    // A store that cannot work at start-up stops the server before it listens.
    let direct = store.url("");
    let mut missing = external;
    missing[1] = "no-such-bucket";
    missing[4] = direct.as_str();
    let config = Config::load(std::iter::once("s3drop").chain(missing)).expect("flags");
    let options = leptos::config::LeptosOptions::builder()
        .output_name("s3drop")
        .build();
    let addr = "127.0.0.1:0".parse().expect("addr");
    match startup::build(&config, options, addr).await {
        Err(startup::StartError::Store(report)) => {
            assert!(report.to_string().contains("no-such-bucket"), "{report}")
        }
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("started on a missing bucket"),
    }
}

#[tokio::test]
async fn metrics_count_a_real_upload_for_the_holder_of_the_token() {
    let token = "prometheus-reads-this-token";
    let server = TestServer::start(&["--metrics-token", token]).await;
    let data = bytes(10_000, 21);
    let start = common::start(&server, "counted.bin", data.len(), "")
        .await
        .expect("started");
    let _ = send_parts(&server, &start, &data).await;
    let _: StoredObject = server
        .call(
            "uploads/complete",
            &json!({ "token": start.token, "parts": [] }),
        )
        .await
        .expect("completed");

    // Without the token, or with another, nothing is shown.
    assert_eq!(get(&server, "/metrics").await.0, 401);
    let wrong = server
        .http
        .get(server.url("/metrics"))
        .bearer_auth("prometheus-reads-this-tokeN")
        .send()
        .await
        .expect("answers");
    assert_eq!(wrong.status().as_u16(), 401);

    let response = server
        .http
        .get(server.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.expect("text");
    for line in [
        "s3drop_uploads_started_total{method=\"single\"} 1",
        "s3drop_uploads_completed_total 1",
        "s3drop_bytes_completed_total 10000",
        "s3drop_server_fn_duration_seconds_count{fn=\"uploads/start\"} 1",
        "s3drop_server_fn_duration_seconds_count{fn=\"uploads/complete\"} 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
}

#[tokio::test]
async fn the_embedded_store_works_on_whatever_address_the_server_listens() {
    // A second loopback address, as a LAN or VPN address would be, and IPv6.
    for bind in ["127.0.0.2:0", "[::1]:0"] {
        let server = TestServer::start(&["--bind", bind, "--part-size", "5MiB"]).await;
        // A multipart upload: the server starts, lists and completes it on its own store.
        let data = bytes(6 * common::MIB, 23);
        let start = common::start(&server, "far.bin", data.len(), "").await;
        let start = start.unwrap_or_else(|e| panic!("started on {bind}: {e:?}"));
        let parts = send_parts(&server, &start, &data).await;
        let stored: StoredObject = server
            .call(
                "uploads/complete",
                &json!({ "token": start.token, "parts": parts }),
            )
            .await
            .expect("completed");
        assert_eq!(server.fetch(&stored.download_url).await, data, "{bind}");
        assert_eq!(get(&server, "/readyz").await.0, 200, "{bind}");
    }
}

#[tokio::test]
async fn metrics_are_off_without_a_token() {
    let server = TestServer::start(&[]).await;
    let (status, text) = get(&server, "/metrics").await;
    assert_eq!(status, 404);
    assert!(text.contains("--metrics-token"), "{text}");
    assert!(!text.contains("s3drop_"), "{text}");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let server = TestServer::start(&[]).await;
    let mine = server
        .http
        .get(server.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .expect("answers");
    assert_eq!(mine.headers()["x-request-id"], "abc-123");
    let made = server
        .http
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("answers");
    assert_eq!(made.headers()["x-request-id"].len(), 16);
}

#[test]
fn check_config_shows_precedence_flags_env_file_defaults() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("s3drop.toml");
    std::fs::write(
        &file,
        "key-prefix = \"file/\"\nbucket = \"file-bucket\"\nregion = \"file-region\"\npart-size = \"16MiB\"\nsecret = \"from-the-file-0123456789abcdef-0123456789\"\n",
    )
    .expect("written");
    let output = Command::new(env!("CARGO_BIN_EXE_s3drop"))
        .args(["--check-config", "--config"])
        .arg(&file)
        .args(["--key-prefix", "flag/"])
        .env("S3DROP_KEY_PREFIX", "env/")
        .env("S3DROP_BUCKET", "env-bucket")
        // The AWS chain's own variable, not a setting of s3drop's: the file's wins.
        .env("AWS_REGION", "env-region")
        .env_remove("S3DROP_PART_SIZE")
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = |id: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("no {id} in {text}"))
            .to_owned()
    };
    assert!(line("key_prefix").contains("flag/") && line("key_prefix").ends_with("(flag)"));
    assert!(line("bucket").contains("env-bucket") && line("bucket").ends_with("(env)"));
    assert!(line("region").contains("file-region") && line("region").ends_with("(file)"));
    assert!(line("part_size").contains("16MiB") && line("part_size").ends_with("(file)"));
    assert!(line("url_ttl_secs").ends_with("(default)"));
    assert!(!text.contains("from-the-file"), "secrets are never printed");
    assert!(line("secret").contains("(set)") && line("secret").ends_with("(file)"));
    assert!(line("access_password").contains("(unset)"));

    // An invalid combination is refused with the setting named, and exit status 2.
    let output = Command::new(env!("CARGO_BIN_EXE_s3drop"))
        .args(["--check-config", "--part-size", "1MiB"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--part-size"));
}

/// A server built and served as `main` does (not as `TestServer` does), on data
/// directory `data` and with the site in `site` (the build's, by default), until `stop`.
async fn serve_built(
    data: &tempfile::TempDir,
    site: Option<&std::path::Path>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> (
    std::net::SocketAddr,
    tokio::task::JoinHandle<Result<(), startup::StartError>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("port");
    let addr = listener.local_addr().expect("addr");
    let dir = data.path().to_str().expect("utf-8");
    let config = Config::try_parse_from(["s3drop", "--data-dir", dir]).expect("flags");
    let mut options = leptos::config::LeptosOptions::builder()
        .output_name("s3drop")
        .site_addr(addr)
        .build();
    if let Some(site) = site {
        options.site_root = site.to_str().expect("utf-8").into();
    }
    let app = startup::build(&config, options, addr).await.expect("built");
    (addr, tokio::spawn(startup::serve(listener, app, stop)))
}

#[tokio::test]
async fn shutdown_lets_a_request_in_flight_finish() {
    let data = tempfile::tempdir().expect("tempdir");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (addr, server) = serve_built(&data, None, async {
        let _ = stopped.await;
    })
    .await;

    // Start an upload whose body arrives slowly, over about a second.
    let http = reqwest::Client::new();
    let body: Vec<u8> = (0..10).flat_map(|i| bytes(64 * 1024, i)).collect();
    let request = StartRequest {
        name: "slow.bin".into(),
        size: 10 * 64 * 1024,
        content_type: String::new(),
        folder: String::new(),
        crc32c: Some(s3drop::core::checksum::crc32c(&body)),
        drop: None,
    };
    let start: UploadStart = http
        .post(format!("http://{addr}/api/uploads/start"))
        .json(&json!({ "request": request }))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("started");
    let SignedPart { url, headers, .. } = start.put.expect("signed with its checksum");
    // The first chunk goes at once; the rest only once the server is shutting down.
    let (first_sent, in_progress) = tokio::sync::oneshot::channel::<()>();
    let (shutting_down, go_on) = tokio::sync::oneshot::channel::<()>();
    let chunks = futures::stream::iter([Ok::<_, std::io::Error>(bytes(64 * 1024, 0))]).chain(
        futures::stream::once(async move {
            let _ = first_sent.send(());
            let _ = go_on.await;
            Ok((1..10)
                .flat_map(|i| bytes(64 * 1024, i))
                .collect::<Vec<u8>>())
        }),
    );
    let mut put = http
        .put(url)
        .header("content-length", 10 * 64 * 1024)
        .body(reqwest::Body::wrap_stream(chunks));
    for (name, value) in headers {
        put = put.header(name, value);
    }
    let in_flight = tokio::spawn(put.send());

    in_progress.await.expect("the upload is under way");
    stop.send(()).expect("server running");
    // Shutting down: the server takes no new connections (asked until it says so).
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("a client");
    while fresh
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .is_ok()
    {
        tokio::task::yield_now().await;
    }
    let _ = shutting_down.send(());
    let response = in_flight.await.expect("joined").expect("answered");
    assert_eq!(
        response.status().as_u16(),
        200,
        "the request in flight finished"
    );
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stopped")
        .expect("joined")
        .expect("cleanly");
    assert!(
        http.get(format!("http://{addr}/healthz"))
            .send()
            .await
            .is_err(),
        "no new requests after shutdown"
    );
}

use futures::StreamExt as _;

#[tokio::test]
async fn pages_carry_a_content_security_policy_with_the_scripts_nonce() {
    let server = TestServer::start(&[]).await;
    let page = server.http.get(server.url("/")).send().await.expect("page");
    let headers = page.headers().clone();
    let html = page.text().await.expect("html");
    let csp = headers["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the policy");
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the loader script carries the policy's nonce: {html}"
    );
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"));
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");

    // Each page gets its own nonce.
    let again = server.http.get(server.url("/")).send().await.expect("page");
    assert_ne!(
        again.headers()["content-security-policy"]
            .to_str()
            .expect("ascii"),
        csp
    );
}

#[tokio::test]
async fn the_page_is_at_the_root_and_other_paths_are_not_found() {
    let server = TestServer::start(&[]).await;
    let (status, page) = get(&server, "/").await;
    assert_eq!(status, 200);
    assert!(page.contains("file-picker"), "the drop page");
    for path in ["/nope", "/upload/else"] {
        let (status, page) = get(&server, path).await;
        assert_eq!(status, 404, "{path}");
        assert!(page.contains("Page not found."), "{path}: {page}");
        assert!(!page.contains("file-picker"), "{path}");
    }
}

#[tokio::test]
async fn the_sites_files_are_served_precompressed_and_revalidated() {
    // A site as the release build leaves it: each file with its .br and .gz beside it.
    let site = tempfile::tempdir().expect("tempdir");
    let pkg = site.path().join("pkg");
    std::fs::create_dir(&pkg).expect("made");
    std::fs::write(pkg.join("app.js"), "console.log('plain');").expect("written");
    std::fs::write(pkg.join("app.js.br"), "brotli bytes").expect("written");
    std::fs::write(pkg.join("app.js.gz"), "gzip bytes").expect("written");
    let data = tempfile::tempdir().expect("tempdir");
    let (addr, _) = serve_built(&data, Some(site.path()), std::future::pending()).await;
    let http = reqwest::Client::new();
    let fetch = |encoding: &'static str, since: Option<String>| {
        let mut request = http
            .get(format!("http://{addr}/pkg/app.js"))
            .header("accept-encoding", encoding);
        if let Some(since) = since {
            request = request.header("if-modified-since", since);
        }
        async move { request.send().await.expect("answers") }
    };

    for (encoding, body, sent_as) in [
        ("br, gzip", "brotli bytes", Some("br")),
        ("gzip", "gzip bytes", Some("gzip")),
        ("identity", "console.log('plain');", None),
    ] {
        let answer = fetch(encoding, None).await;
        assert_eq!(answer.status().as_u16(), 200, "{encoding}");
        let header = |name: &str| {
            let value = answer.headers().get(name)?.to_str().ok()?;
            Some(value.to_owned())
        };
        assert_eq!(header("content-encoding").as_deref(), sent_as, "{encoding}");
        assert_eq!(header("cache-control").as_deref(), Some("no-cache"));
        assert!(header("content-type").is_some_and(|t| t.contains("javascript")));
        let modified = header("last-modified").expect("a date to revalidate with");
        assert_eq!(answer.text().await.expect("a body"), body, "{encoding}");
        // Asked again with that date: unchanged, so no body.
        let again = fetch(encoding, Some(modified)).await;
        assert_eq!(again.status().as_u16(), 304, "{encoding}");
    }

    // Any other path gets the small not-found page, whatever the method.
    for method in [reqwest::Method::GET, reqwest::Method::POST] {
        let answer = http
            .request(method.clone(), format!("http://{addr}/pkg/missing.js"))
            .send()
            .await
            .expect("answers");
        assert_eq!(answer.status().as_u16(), 404, "{method}");
        let page = answer.text().await.expect("html");
        assert!(page.contains("Page not found."), "{method}: {page}");
    }
}
