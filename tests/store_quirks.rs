//! How s3drop copes with stores that answer otherwise than the embedded one: one that
//! lacks a feature s3drop uses, one that completes with a cut try of a part (Garage),
//! and AWS itself (its permissions' answers, its credential
//! and region chains). Each is a real store (s3drop's embedded one, as an external
//! store) behind an HTTP relay that answers as such a store would, or notes what it is
//! sent, and passes everything else on untouched.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use common::{MIB, TestServer, bytes, put_part, send_parts, single_put, start};
use s3drop::api::{ApiError, CreatedApiToken, SignedPart, StoredObject};
use s3drop::client::upload::{UploadArgs, run};
use s3drop::core::checksum::{composite_crc32c, crc32c, is_composite};
use s3drop::server::cli::secrets;
use serde_json::json;
use tokio::net::TcpListener;

/// A request as the relay sees it, before passing it on.
struct Asked<'a> {
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
}

impl Asked<'_> {
    /// The value of query parameter `name`, decoded.
    fn query(&self, name: &str) -> Option<String> {
        let url = reqwest::Url::parse(&format!("http://relay{}", self.uri)).ok()?;
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// Whether the request names an object (`/bucket/key`, path style) rather than the
    /// bucket.
    fn names_object(&self) -> bool {
        self.uri
            .path()
            .trim_start_matches('/')
            .split_once('/')
            .is_some_and(|(_, key)| !key.is_empty())
    }
}

/// How a relay answers otherwise than the store behind it: `before` may answer a
/// request itself; `after` may replace the store's answer (by its status).
struct Quirk {
    before: Box<Before>,
    after: Box<After>,
}

type Before = dyn Fn(&Asked) -> Option<Response> + Send + Sync;
type After = dyn Fn(&Asked, StatusCode) -> Option<Response> + Send + Sync;

/// An S3 error answer.
fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    (status, body).into_response()
}

/// A relay to `target` that answers as `quirk` says and passes everything else on
/// untouched; answers its URL.
async fn relay(target: String, quirk: Quirk) -> String {
    let quirk = Arc::new(quirk);
    let http = reqwest::Client::new();
    let relay = move |method: Method, uri: Uri, headers: HeaderMap, body: Body| {
        let (http, target, quirk) = (http.clone(), target.clone(), quirk.clone());
        async move {
            let asked = Asked {
                method: &method,
                uri: &uri,
                headers: &headers,
            };
            if let Some(answer) = (quirk.before)(&asked) {
                return answer;
            }
            let path = uri.path_and_query().map_or("/", |p| p.as_str());
            let body = axum::body::to_bytes(body, usize::MAX)
                .await
                .expect("a body");
            // The Host header goes on as it came: SigV4 signs it.
            let answer = http
                .request(method.clone(), format!("{target}{path}"))
                .headers(headers.clone())
                .body(body)
                .send()
                .await
                .expect("the store answers");
            let status = StatusCode::from_u16(answer.status().as_u16()).expect("a status");
            if let Some(replaced) = (quirk.after)(&asked, status) {
                return replaced;
            }
            let mut response = Response::builder().status(status);
            for (name, value) in answer.headers() {
                response = response.header(name, value);
            }
            let body = answer.bytes().await.expect("a body");
            response.body(Body::from(body)).expect("a response")
        }
    };
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, request: Request<Body>| {
            relay(method, uri, headers, request.into_body())
        },
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let url = format!("http://{}", listener.local_addr().expect("bound"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// A server whose external store is `store`'s embedded one, reached through `relay`.
async fn server_through(store: &TestServer, relay: &str) -> TestServer {
    server_through_with(store, relay, &[]).await
}

/// The same, with more of the server's own `args`.
async fn server_through_with(store: &TestServer, relay: &str, args: &[&str]) -> TestServer {
    let keys = secrets::load_or_create(store.data.path()).expect("the store's keys");
    let mut all = vec![
        "--bucket",
        &store.bucket,
        "--endpoint-url",
        relay,
        "--path-style",
        "--region",
        "us-east-1",
        "--access-key-id",
        &keys.store_access_key,
        "--secret-access-key",
        &keys.store_secret_key,
    ];
    all.extend_from_slice(args);
    TestServer::start(&all).await
}

/// A store that refuses a CreateMultipartUpload asking for S3's full-object checksum
/// type, as stores without it do (400 InvalidRequest), counting the refusals.
fn without_full_object_checksums(refused: Arc<AtomicUsize>) -> Quirk {
    Quirk {
        before: Box::new(move |asked| {
            let creates = asked.method == Method::POST && asked.query("uploads").is_some();
            let full_object = asked
                .headers
                .get("x-amz-checksum-type")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"FULL_OBJECT"));
            (creates && full_object).then(|| {
                refused.fetch_add(1, Ordering::SeqCst);
                let message = "The FULL_OBJECT checksum type is not supported.";
                s3_error(StatusCode::BAD_REQUEST, "InvalidRequest", message)
            })
        }),
        after: Box::new(|_, _| None),
    }
}

/// AWS S3 under docs/stores.md's least-privilege policy, which grants `s3:ListBucket` only
/// with an `s3:prefix` under `uploads/`:
/// - a listing of any other prefix is refused (403 AccessDenied);
/// - "If the object you request doesn't exist, the error that Amazon S3 returns depends
///   on whether you also have the s3:ListBucket permission. [...] If you don't have the
///   s3:ListBucket permission, Amazon S3 returns an HTTP status code 403 Forbidden
///   error." (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html>, and
///   the same for GetObject): the condition never holds for a call with no prefix, so
///   every missing key is answered 403.
///
/// Counts the answers it changed.
fn aws_least_privilege(changed: Arc<AtomicUsize>) -> Quirk {
    let counted = changed.clone();
    Quirk {
        before: Box::new(move |asked| {
            let lists = asked.method == Method::GET
                && !asked.names_object()
                && asked.query("uploads").is_none()
                && asked.query("lifecycle").is_none();
            let granted = asked
                .query("prefix")
                .is_some_and(|p| p.starts_with("uploads/"));
            (lists && !granted).then(|| {
                counted.fetch_add(1, Ordering::SeqCst);
                s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied")
            })
        }),
        after: Box::new(move |asked, status| {
            let reads = matches!(*asked.method, Method::HEAD | Method::GET) && asked.names_object();
            (reads && status == StatusCode::NOT_FOUND).then(|| {
                changed.fetch_add(1, Ordering::SeqCst);
                match *asked.method {
                    // A HEAD's answer has no body.
                    Method::HEAD => StatusCode::FORBIDDEN.into_response(),
                    _ => s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied"),
                }
            })
        }),
    }
}

/// A store that completes with a cut try of a part it does not list, as Garage does
/// (`tests/upload_api` makes that happen on Garage itself): its first
/// CompleteMultipartUpload is refused `InvalidPart`. Counts the part PUTs and the
/// completions.
fn completes_with_a_cut_try(puts: Arc<AtomicUsize>, completions: Arc<AtomicUsize>) -> Quirk {
    Quirk {
        before: Box::new(move |asked| {
            if asked.method == Method::PUT && asked.query("partNumber").is_some() {
                puts.fetch_add(1, Ordering::SeqCst);
            }
            let completes = asked.method == Method::POST && asked.query("uploadId").is_some();
            (completes && completions.fetch_add(1, Ordering::SeqCst) == 0).then(|| {
                let message = "Parts given to CompleteMultipartUpload do not match uploaded parts";
                s3_error(StatusCode::BAD_REQUEST, "InvalidPart", message)
            })
        }),
        after: Box::new(|_, _| None),
    }
}

#[tokio::test]
async fn s3drop_upload_sends_the_parts_again_where_the_store_completes_with_a_cut_try() {
    let store = TestServer::start(&[]).await;
    let (puts, completions) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let quirk = completes_with_a_cut_try(puts.clone(), completions.clone());
    let relay = relay(store.url(""), quirk).await;
    let password = "operator password 1";
    let args = ["--access-password", password, "--part-size", "5MiB"];
    let server = server_through_with(&store, &relay, &args).await;
    let cookie = server.log_in(password).await;
    let token: CreatedApiToken = server
        .call_as(Some(&cookie), "tokens/create", &json!({ "name": "quirk" }))
        .await
        .expect("a token");
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("cut.bin");
    let data = bytes(12 * MIB, 77);
    std::fs::write(&path, &data).expect("written");

    let summary = run(&UploadArgs {
        paths: vec![path],
        link: None,
        link_password: None,
        name: None,
        server: Some(server.url("")),
        token: Some(token.secret),
        parallel: 4,
        journal: Some(dir.path().join("journal.json")),
        quiet: true,
    })
    .await
    .expect("ran");
    assert!(summary.failed.is_empty(), "{:?}", summary.failed);
    assert_eq!(summary.stored, 1);
    // Refused once as `PartToSendAgain`; then its three parts went again, and it completed.
    assert_eq!(completions.load(Ordering::SeqCst), 2);
    assert_eq!(puts.load(Ordering::SeqCst), 2 * 3);
    let listed = store
        .s3()
        .list_objects_v2()
        .bucket(&store.bucket)
        .send()
        .await;
    let keys: Vec<String> = (listed.expect("listed").contents().iter())
        .filter_map(|o| o.key().map(str::to_owned))
        .filter(|k| k.ends_with("/cut.bin"))
        .collect();
    let [key] = keys.as_slice() else {
        panic!("one cut.bin in the store: {keys:?}")
    };
    let object = store
        .s3()
        .get_object()
        .bucket(&store.bucket)
        .key(key)
        .send()
        .await;
    let body = object
        .expect("stored")
        .body
        .collect()
        .await
        .expect("a body");
    assert_eq!(body.into_bytes(), data);
}

#[tokio::test]
async fn a_store_without_full_object_checksums_gets_the_composite_kind() {
    let store = TestServer::start(&[]).await;
    let refused = Arc::new(AtomicUsize::new(0));
    let relay = relay(
        store.url(""),
        without_full_object_checksums(refused.clone()),
    )
    .await;
    let server = server_through(&store, &relay).await;

    for (i, name) in ["first.bin", "second.bin"].into_iter().enumerate() {
        let data = bytes(9 * MIB, 40 + i as u64);
        let started = start(&server, name, data.len(), "").await.expect("started");
        let parts = send_parts(&server, &started, &data).await;
        let stored: StoredObject = server
            .call(
                "uploads/complete",
                &json!({ "token": started.token, "parts": parts }),
            )
            .await
            .expect("completed");
        // S3's composite of the parts' CRC32Cs, not the whole file's (which the store
        // cannot record), and the object is the file.
        let composite = composite_crc32c(parts.iter().map(|p| p.crc32c.as_deref()));
        let crc = stored.crc32c.clone().expect("a checksum");
        assert!(is_composite(&crc), "{crc}");
        assert_eq!(Some(crc), composite);
        assert_ne!(stored.crc32c, Some(crc32c(&data)));
        assert_eq!(server.fetch(&stored.download_url).await, data, "{name}");
    }
    // The store was asked for the full-object kind once; after its refusal, not again.
    assert_eq!(refused.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn on_aws_under_the_least_privilege_policy_a_small_files_upload_can_be_cancelled_signed_again_and_completed()
 {
    let store = TestServer::start(&[]).await;
    let changed = Arc::new(AtomicUsize::new(0));
    let relay = relay(store.url(""), aws_least_privilege(changed.clone())).await;
    let server = server_through(&store, &relay).await;
    let ready = server.http.get(server.url("/readyz")).send().await;
    assert_eq!(
        ready.expect("answers").status().as_u16(),
        200,
        "the check lists only its prefix"
    );

    // Signed again and cancelled before its PUT landed (both ask whether the file is
    // stored, which AWS answers 403 here).
    let data = bytes(3_000, 11);
    let first = start(&server, "again.txt", data.len(), "text/plain").await;
    let first = first.expect("started");
    let signed: Vec<SignedPart> = server
        .call(
            "uploads/sign",
            &json!({ "token": first.token, "parts": [{ "part_number": 1 }] }),
        )
        .await
        .expect("signed again");
    let () = server
        .call("uploads/abort", &json!({ "token": first.token }))
        .await
        .expect("cancelled");
    assert_eq!(store.object_keys().await, Vec::<String>::new());
    assert!(
        changed.load(Ordering::SeqCst) >= 2,
        "the store answered 403"
    );

    // Completed before its PUT: not uploaded, as on any store.
    let second = start(&server, "second.txt", data.len(), "text/plain").await;
    let second = second.expect("started");
    let early: Result<StoredObject, _> = server
        .call(
            "uploads/complete",
            &json!({ "token": second.token, "parts": [] }),
        )
        .await;
    assert!(
        matches!(early, Err((404, ApiError::NotFound(_)))),
        "{early:?}"
    );

    // Once stored, the token may neither cancel nor sign again.
    let put = signed.into_iter().next().expect("one URL");
    let late = put_part(&server, &put, data.clone()).await.0;
    assert_eq!(
        late, 200,
        "a URL signed before the cancel still works until it expires"
    );
    let aborted: Result<(), _> = server
        .call("uploads/abort", &json!({ "token": first.token }))
        .await;
    assert!(
        matches!(aborted, Err((409, ApiError::Finished))),
        "{aborted:?}"
    );
    let put = single_put(&server, &second).await;
    assert_eq!(put_part(&server, &put, data.clone()).await.0, 200);
    let stored: StoredObject = server
        .call(
            "uploads/complete",
            &json!({ "token": second.token, "parts": [] }),
        )
        .await
        .expect("completed");
    assert_eq!(server.fetch(&stored.download_url).await, data);
}

/// What a request was signed with: the region of its credential scope and its session
/// token, from the headers or (a presigned URL) the query.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Signed {
    region: String,
    token: Option<String>,
}

/// Notes what every request was signed with.
fn noting(seen: Arc<Mutex<Vec<Signed>>>) -> Quirk {
    Quirk {
        before: Box::new(move |asked| {
            let header = |name: &str| {
                let value = asked.headers.get(name)?.to_str().ok()?;
                Some(value.to_owned())
            };
            let credential = header("authorization")
                .and_then(|a| Some(a.split_once("Credential=")?.1.to_owned()))
                .or_else(|| asked.query("X-Amz-Credential"))
                .expect("a signed request");
            // <key id>/<date>/<region>/s3/aws4_request
            let region = credential.split('/').nth(2).expect("a scope").to_owned();
            let token =
                header("x-amz-security-token").or_else(|| asked.query("X-Amz-Security-Token"));
            seen.lock()
                .expect("not poisoned")
                .push(Signed { region, token });
            None
        }),
        after: Box::new(|_, _| None),
    }
}

/// `s3drop --check-store` on `store`'s bucket through `relay`, with `args` and only the
/// environment `env` (and a home of its own): answers whether the store passed, and
/// what it printed.
async fn check_store(
    store: &TestServer,
    relay: &str,
    home: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> (bool, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_s3drop"))
        .args(["--check-store", "--bucket", &store.bucket, "--path-style"])
        .args(["--endpoint-url", relay])
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied())
        .output()
        .await
        .expect("runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test]
async fn credentials_and_region_come_from_the_aws_chains_unless_flags_name_them() {
    let store = TestServer::start(&[]).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let relay = relay(store.url(""), noting(seen.clone())).await;
    let keys = secrets::load_or_create(store.data.path()).expect("the store's keys");
    let (id, secret) = (
        keys.store_access_key.as_str(),
        keys.store_secret_key.as_str(),
    );
    let home = tempfile::tempdir().expect("a home");
    // Every request the check sent (its presigned PUT too), signed as expected.
    let all_signed = |expected: Signed| {
        let seen = std::mem::take(&mut *seen.lock().expect("not poisoned"));
        assert!(seen.len() >= 3, "{seen:?}");
        assert!(seen.iter().all(|s| *s == expected), "{seen:?}");
    };

    // Temporary credentials in the environment (assume-role, CI OIDC, SSO exports): the
    // session token is sent, and AWS_DEFAULT_REGION is a region too.
    let env = [
        ("AWS_ACCESS_KEY_ID", id),
        ("AWS_SECRET_ACCESS_KEY", secret),
        ("AWS_SESSION_TOKEN", "token-from-the-environment"),
        ("AWS_DEFAULT_REGION", "eu-north-1"),
    ];
    let (passed, text) = check_store(&store, &relay, home.path(), &[], &env).await;
    assert!(passed, "{text}");
    all_signed(Signed {
        region: "eu-north-1".into(),
        token: Some("token-from-the-environment".into()),
    });

    // A named profile, from the shared files in the home: its keys, token and region.
    let aws = home.path().join(".aws");
    std::fs::create_dir(&aws).expect("made");
    std::fs::write(aws.join("config"), "[profile drop]\nregion = ap-south-2\n").expect("written");
    let credentials = format!(
        "[drop]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\naws_session_token = token-from-the-profile\n"
    );
    std::fs::write(aws.join("credentials"), credentials).expect("written");
    let env = [("AWS_PROFILE", "drop")];
    let (passed, text) = check_store(&store, &relay, home.path(), &[], &env).await;
    assert!(passed, "{text}");
    all_signed(Signed {
        region: "ap-south-2".into(),
        token: Some("token-from-the-profile".into()),
    });

    // Flags win over both chains.
    let flags = [
        "--access-key-id",
        id,
        "--secret-access-key",
        secret,
        "--region",
        "us-west-2",
    ];
    let (passed, text) = check_store(&store, &relay, home.path(), &flags, &env).await;
    assert!(passed, "{text}");
    all_signed(Signed {
        region: "us-west-2".into(),
        token: None,
    });

    // Nothing anywhere: said plainly.
    let (passed, text) = check_store(&store, &relay, home.path(), &[], &[]).await;
    assert!(!passed, "{text}");
    assert!(text.contains("credentials"), "{text}");
}
