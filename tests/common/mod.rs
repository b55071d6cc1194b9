//! A real s3drop server for integration tests: the same start-up as `main`, on a port
//! of its own, with the embedded store in a fresh temporary directory, or, when the
//! environment names an external bucket (`S3DROP_BUCKET` and the `AWS_*` variables, as
//! `scripts/stores.sh` writes them), with that store under a key prefix of its own.

#![allow(dead_code)]

use std::net::SocketAddr;

use leptos::config::LeptosOptions;
use s3drop::api::{ApiError, CompletedPart, SignedPart, StartRequest, UploadStart};
use s3drop::core::checksum::crc32c;
use s3drop::core::plan::PartPlan;
use s3drop::server::cli::config::Config;
use s3drop::server::cli::{secrets, startup};
use s3drop::server::s3::client::{fixed_config, sdk_client};
use s3drop::server::state::AppState;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tempfile::TempDir;
use tokio::net::TcpListener;

pub const MIB: usize = 1024 * 1024;

/// A running server and its data directory (removed when dropped).
pub struct TestServer {
    pub addr: SocketAddr,
    /// The bucket it uploads into.
    pub bucket: String,
    /// The start of every key this server writes: empty for the embedded store (a bucket
    /// per test), a random folder in a shared external bucket.
    pub ns: String,
    /// The server functions' state (its storage reaches the store as the server does).
    pub state: AppState,
    /// Its sweep of stale uploads, as it runs every hour.
    pub sweeper: startup::Sweeper,
    /// Its database of links and the record: SQLite in its data directory, or a fresh
    /// database in the PostgreSQL that `S3DROP_TEST_POSTGRES` names (as
    /// `scripts/postgres.sh` writes it); shared with the servers started beside it.
    pub database_url: String,
    pub data: TempDir,
    pub http: reqwest::Client,
    /// The task serving it (and sending its webhooks).
    serving: tokio::task::JoinHandle<Result<(), startup::StartError>>,
}

impl TestServer {
    /// Starts a server with extra command-line `args`.
    pub async fn start(args: &[&str]) -> Self {
        let ns = match external_store() {
            true => format!("test-{}/", s3drop::server::system::random_id()),
            false => String::new(),
        };
        let data = tempfile::tempdir().expect("temporary directory");
        let database_url = match std::env::var("S3DROP_TEST_POSTGRES") {
            Ok(server) => fresh_postgres_database(&server).await,
            Err(_) => s3drop::server::database::Database::sqlite_url(data.path()),
        };
        Self::start_in(data, ns, args, database_url).await
    }

    /// Starts another server on the same store, keys and database as this one, with a
    /// data directory of its own: an instance beside it behind a load balancer.
    pub async fn start_beside(&self, args: &[&str]) -> Self {
        let data = tempfile::tempdir().expect("temporary directory");
        Self::start_in(data, self.ns.clone(), args, self.database_url.clone()).await
    }

    /// Stops this server (it serves nothing and sends no webhook more) and starts another
    /// on its data directory and keys, with other command-line `args`.
    pub async fn restart(self, args: &[&str]) -> Self {
        self.serving.abort();
        let _ = self.serving.await;
        Self::start_in(self.data, self.ns, args, self.database_url).await
    }

    async fn start_in(data: TempDir, ns: String, args: &[&str], database_url: String) -> Self {
        // The server's warnings and errors, shown with a failing test's output.
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter("warn")
            .try_init();
        // Where `--bind` says (port 0: any free one), else on loopback.
        let bind = args
            .iter()
            .position(|a| *a == "--bind")
            .map(|at| args[at + 1]);
        let listener = TcpListener::bind(bind.unwrap_or("127.0.0.1:0"))
            .await
            .expect("a free port");
        let addr = listener.local_addr().expect("bound");
        let data_dir = data.path().to_str().expect("utf-8 path").to_owned();
        let mut all: Vec<String> = vec!["s3drop".into(), "--data-dir".into(), data_dir];
        all.extend(args.iter().map(|a| a.to_string()));
        if !args.contains(&"--database-url") {
            all.extend(["--database-url".into(), database_url.clone()]);
        }
        // Every key under `ns`, whatever prefix the test asked for.
        match all.iter().position(|a| a == "--key-prefix") {
            Some(at) => all[at + 1] = format!("{ns}{}", all[at + 1]),
            None => all.extend(["--key-prefix".into(), format!("{ns}uploads/")]),
        }
        let config = Config::load(all).expect("valid flags");
        let bucket = config
            .bucket
            .clone()
            .unwrap_or_else(|| startup::EMBEDDED_BUCKET.into());
        let options = LeptosOptions::builder()
            .output_name("s3drop")
            .site_addr(addr)
            .build();
        let app = startup::build(&config, options, addr)
            .await
            .expect("the server starts");
        let (state, sweeper) = (app.state.clone(), app.sweeper.clone());
        // Served as `main` serves it, stale-upload sweep included.
        let serving = tokio::spawn(startup::serve(listener, app, std::future::pending()));
        Self {
            addr,
            bucket,
            ns,
            state,
            sweeper,
            database_url,
            data,
            http: reqwest::Client::new(),
            serving,
        }
    }

    /// The body of a GET of `url` (a presigned download), expecting 200.
    pub async fn fetch(&self, url: &str) -> Vec<u8> {
        let response = self.http.get(url).send().await.expect("answers");
        assert_eq!(response.status().as_u16(), 200, "GET {url}");
        response.bytes().await.expect("a body").to_vec()
    }

    /// `http://127.0.0.1:port` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Calls a server function with a JSON body; answers its value or (status, error).
    pub async fn call<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        body: &impl Serialize,
    ) -> Result<T, (u16, ApiError)> {
        self.call_as(None, endpoint, body).await
    }

    /// Calls a server function with a session `cookie` (the operator's), or none.
    pub async fn call_as<T: DeserializeOwned>(
        &self,
        cookie: Option<&str>,
        endpoint: &str,
        body: &impl Serialize,
    ) -> Result<T, (u16, ApiError)> {
        let header = cookie.map(|c| ("cookie", c.to_owned()));
        self.call_with(header, endpoint, body).await
    }

    /// Calls a server function as a script does, with an API `token`.
    pub async fn call_with_token<T: DeserializeOwned>(
        &self,
        token: &str,
        endpoint: &str,
        body: &impl Serialize,
    ) -> Result<T, (u16, ApiError)> {
        let header = Some(("authorization", format!("Bearer {token}")));
        self.call_with(header, endpoint, body).await
    }

    async fn call_with<T: DeserializeOwned>(
        &self,
        header: Option<(&str, String)>,
        endpoint: &str,
        body: &impl Serialize,
    ) -> Result<T, (u16, ApiError)> {
        let mut request = self
            .http
            .post(self.url(&format!("/api/{endpoint}")))
            .json(body);
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        if (200..300).contains(&status) {
            Ok(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")))
        } else {
            let error = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
            Err((status, error))
        }
    }

    /// Logs in with the operator's `password`; answers the session cookie to send.
    pub async fn log_in(&self, password: &str) -> String {
        let response = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
            .post(self.url("/login"))
            .form(&[("password", password)])
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status().as_u16(), 303, "logged in");
        let cookie = response.headers()["set-cookie"].to_str().expect("ascii");
        cookie.split(';').next().expect("name=value").to_owned()
    }

    /// An aws-sdk-s3 client for the store, with the server's own credentials.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        if external_store() {
            let var = |name| std::env::var(name).unwrap_or_default();
            let shared = fixed_config(
                &var("AWS_REGION"),
                &var("AWS_ACCESS_KEY_ID"),
                &var("AWS_SECRET_ACCESS_KEY"),
            );
            let path_style = var("S3DROP_PATH_STYLE") == "true";
            return sdk_client(&shared, Some(&var("AWS_ENDPOINT_URL")), path_style);
        }
        let secrets = secrets::load_or_create(self.data.path()).expect("secrets exist");
        self.s3_with(&secrets.store_access_key, &secrets.store_secret_key)
    }

    /// The keys of the objects this server's store holds under `ns`.
    pub async fn object_keys(&self) -> Vec<String> {
        let listed = self
            .s3()
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&self.ns)
            .send()
            .await
            .expect("listed");
        let keys = listed.contents().iter().filter_map(|o| o.key());
        keys.map(str::to_owned).collect()
    }

    /// The keys of the multipart uploads in progress under `ns`.
    pub async fn upload_keys(&self) -> Vec<String> {
        let listed = self
            .s3()
            .list_multipart_uploads()
            .bucket(&self.bucket)
            .prefix(&self.ns)
            .send()
            .await
            .expect("listed");
        let keys = listed.uploads().iter().filter_map(|u| u.key());
        keys.map(str::to_owned).collect()
    }

    /// An aws-sdk-s3 client for the embedded store with any credentials.
    pub fn s3_with(&self, access_key: &str, secret_key: &str) -> aws_sdk_s3::Client {
        let shared = fixed_config("us-east-1", access_key, secret_key);
        sdk_client(&shared, Some(&self.url("")), true)
    }
}

/// A new, empty database in the PostgreSQL whose `postgres` database `server` names;
/// answers its URL. (Each server its own, so tests running at once never see each
/// other's links or records.)
async fn fresh_postgres_database(server: &str) -> String {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let name = format!("test_{}", s3drop::server::system::random_hex(8));
    let mut admin = sqlx::AnyConnection::connect(server)
        .await
        .expect("the test PostgreSQL answers");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("a database is made");
    let _ = admin.close().await;
    let base = server.rsplit_once('/').expect("a URL with a database").0;
    format!("{base}/{name}")
}

/// Whether the tests run against an external store (see the module's comment).
pub fn external_store() -> bool {
    std::env::var_os("S3DROP_BUCKET").is_some()
}

/// Deterministic pseudo-random bytes (xorshift), so failures are reproducible.
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The `parts` argument of `uploads/sign` for these part numbers, without checksums
/// (enough for a single PUT; multipart parts must carry theirs).
pub fn to_sign(numbers: &[u32]) -> serde_json::Value {
    numbers
        .iter()
        .map(|n| serde_json::json!({ "part_number": n }))
        .collect()
}

/// The plan of an upload: its parts, or one part for a single PUT.
pub fn plan_of(start: &UploadStart, size: usize) -> PartPlan {
    assert_eq!(start.plan.size, size as u64, "the plan is of the file");
    start.plan
}

/// A single-PUT upload's URL: the one its start carried, or part 1 signed now.
pub async fn single_put(server: &TestServer, start: &UploadStart) -> SignedPart {
    assert!(!start.is_multipart(), "expected a single PUT: {start:?}");
    if let Some(put) = &start.put {
        return put.clone();
    }
    let signed: Vec<SignedPart> = server
        .call(
            "uploads/sign",
            &serde_json::json!({ "token": start.token, "parts": to_sign(&[1]) }),
        )
        .await
        .expect("signed");
    signed.into_iter().next().expect("one part")
}

/// Signs every part of an upload with its CRC32C, PUTs `data` as the plan cuts it, last
/// part first (order does not matter), each expecting 200, and answers the parts to
/// complete with.
pub async fn send_parts(
    server: &TestServer,
    start: &UploadStart,
    data: &[u8],
) -> Vec<CompletedPart> {
    let plan = plan_of(start, data.len());
    let slice = |n: u32| {
        let (from, to) = plan.range(n).expect("in plan");
        &data[from as usize..to as usize]
    };
    let request: Vec<serde_json::Value> = (1..=plan.part_count)
        .map(|n| serde_json::json!({ "part_number": n, "crc32c": crc32c(slice(n)) }))
        .collect();
    let signed: Vec<SignedPart> = server
        .call(
            "uploads/sign",
            &serde_json::json!({ "token": start.token, "parts": request }),
        )
        .await
        .expect("signed");
    assert_eq!(signed.len(), plan.part_count as usize);
    let mut parts = Vec::new();
    for part in signed.iter().rev() {
        let (status, etag) = put_part(server, part, slice(part.part_number).to_vec()).await;
        assert_eq!(status, 200, "part {}", part.part_number);
        parts.push(CompletedPart {
            part_number: part.part_number,
            etag: etag.expect("an etag"),
            crc32c: Some(crc32c(slice(part.part_number))),
        });
    }
    parts.sort_by_key(|p| p.part_number);
    parts
}

/// PUTs `body` to a signed part's URL with the headers signed with it; answers the
/// status and the `ETag`.
pub async fn put_part(
    server: &TestServer,
    part: &SignedPart,
    body: Vec<u8>,
) -> (u16, Option<String>) {
    let mut put = server.http.put(&part.url).body(body);
    for (name, value) in &part.headers {
        put = put.header(name, value);
    }
    let response = put.send().await.expect("answers");
    let etag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (response.status().as_u16(), etag)
}

/// A small text file's start (sent in one PUT, its CRC32C given: the bytes [`bytes`]
/// makes for its size), in `drop` when given.
pub fn small_file(name: &str, size: usize, drop: Option<s3drop::api::DropTag>) -> StartRequest {
    StartRequest {
        name: name.into(),
        size: size as u64,
        content_type: "text/plain".into(),
        folder: String::new(),
        crc32c: Some(crc32c(&bytes(size, size as u64))),
        drop,
    }
}

/// Starts an upload of a file with this name, size and type.
pub async fn start(
    server: &TestServer,
    name: &str,
    size: usize,
    content_type: &str,
) -> Result<UploadStart, (u16, ApiError)> {
    let request = StartRequest {
        name: name.into(),
        size: size as u64,
        content_type: content_type.into(),
        folder: String::new(),
        crc32c: None,
        drop: None,
    };
    server
        .call("uploads/start", &serde_json::json!({ "request": request }))
        .await
}

/// What the run's store does, as `tests/store-facts.json` records it for each store the
/// suite runs (`S3DROP_TEST_STORE`, set by `scripts/test.sh`; the embedded store when
/// unset). Tests assert these as fact: a store that changes fails them loudly.
#[derive(Debug, serde::Deserialize)]
pub struct StoreFacts {
    /// `If-None-Match: *` onto an object that exists is refused with 412.
    pub if_none_match: bool,
    /// The status a presigned URL past its expiry is answered with.
    pub expired_status: u16,
    /// The status of a presigned request that leaves out a header it was signed with
    /// (Garage: 400 "signed header … is not present"; a changed one is 403 everywhere).
    pub missing_signed_header_status: u16,
    /// A part sent once more and cut after its first bytes arrived is what the store
    /// completes with, refusing (`InvalidPart`) until the part is sent again whole
    /// (Garage 2.5: the try whose first bytes arrived last wins, finished or not).
    pub completes_with_a_cut_try: bool,
}

pub fn store_facts() -> StoreFacts {
    let store = std::env::var("S3DROP_TEST_STORE").unwrap_or_else(|_| "embedded".into());
    assert_eq!(
        store == "embedded",
        !external_store(),
        "S3DROP_TEST_STORE={store} does not match the store the environment names"
    );
    let facts: serde_json::Value =
        serde_json::from_str(include_str!("../store-facts.json")).expect("store-facts.json");
    let Some(these) = facts.get(&store) else {
        panic!("tests/store-facts.json says nothing of the store {store}")
    };
    serde_json::from_value(these.clone()).expect("the store's facts")
}
