//! A webhook receiver for the tests: a real HTTP server on a port of its own that checks
//! each delivery's signature with the Standard Webhooks algorithm, written here from the
//! specification (not s3drop's code), records what it got, and answers as told. It also
//! plays the pre-start hook: it refuses files named `*.exe`, and answers late or badly
//! on the paths that say so.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// One request as the receiver got it.
#[derive(Debug, Clone)]
pub struct Got {
    pub id: String,
    pub timestamp: u64,
    pub signature: String,
    pub body: Vec<u8>,
    pub json: Value,
    /// Whether its signature is the secret's.
    pub verified: bool,
    /// What the receiver answered.
    pub answered: u16,
}

impl Got {
    pub fn event(&self) -> &str {
        self.json["type"].as_str().unwrap_or_default()
    }

    pub fn data(&self) -> &Value {
        &self.json["data"]
    }
}

#[derive(Default)]
struct Inner {
    secret: Mutex<Vec<u8>>,
    status: AtomicU16,
    delay_ms: AtomicU64,
    got: Mutex<Vec<Got>>,
}

/// The receiver, serving until dropped.
pub struct Receiver {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    /// A receiver answering 204 at once.
    pub async fn start() -> Self {
        let inner = Arc::new(Inner::default());
        inner.status.store(204, Ordering::SeqCst);
        let app = axum::Router::new()
            .route("/hook", post(hook))
            .route("/pre-start", post(pre_start))
            .route("/pre-start-slow", post(pre_start_slow))
            .route("/pre-start-bad", post(pre_start_bad))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let addr = listener.local_addr().expect("bound");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, inner, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The `whsec_` secret deliveries are checked with.
    pub fn expect_secret(&self, secret: &str) {
        let bytes = STANDARD
            .decode(secret.strip_prefix("whsec_").expect("a whsec_ secret"))
            .expect("base64");
        *self.inner.secret.lock().expect("lock") = bytes;
    }

    /// What `/hook` answers from now on.
    pub fn answer(&self, status: u16) {
        self.inner.status.store(status, Ordering::SeqCst);
    }

    /// How long `/hook` waits before it answers.
    pub fn delay(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.inner.delay_ms.store(ms, Ordering::SeqCst);
    }

    /// Every request so far.
    pub fn got(&self) -> Vec<Got> {
        self.inner.got.lock().expect("lock").clone()
    }

    /// The requests answered 2xx.
    pub fn delivered(&self) -> Vec<Got> {
        let mut got = self.got();
        got.retain(|g| (200..300).contains(&g.answered));
        got
    }

    /// Waits (up to a minute) until `done` holds of what was delivered; answers it.
    pub async fn wait_for(&self, what: &str, done: impl Fn(&[Got]) -> bool) -> Vec<Got> {
        for _ in 0..1_200 {
            let delivered = self.delivered();
            if done(&delivered) {
                return delivered;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let events: Vec<String> = self
            .got()
            .iter()
            .map(|g| format!("{} ({})", g.event(), g.answered))
            .collect();
        panic!("{what}: never happened; the receiver got {events:?}");
    }
}

/// Whether `signature` (a `webhook-signature` header) holds a `v1` signature of
/// `id.timestamp.body` under `secret`, as the specification defines it.
pub fn verify(secret: &[u8], id: &str, timestamp: u64, body: &[u8], signature: &str) -> bool {
    let signed = [
        id.as_bytes(),
        b".",
        timestamp.to_string().as_bytes(),
        b".",
        body,
    ]
    .concat();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(&signed);
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    signature
        .split(' ')
        .any(|entry| entry.strip_prefix("v1,") == Some(expected.as_str()))
}

fn record(inner: &Inner, headers: &HeaderMap, body: &[u8], answered: u16) -> Got {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let id = header("webhook-id");
    let timestamp = header("webhook-timestamp").parse().unwrap_or_default();
    let signature = header("webhook-signature");
    let secret = inner.secret.lock().expect("lock").clone();
    let got = Got {
        verified: verify(&secret, &id, timestamp, body, &signature),
        json: serde_json::from_slice(body).unwrap_or(Value::Null),
        body: body.to_vec(),
        id,
        timestamp,
        signature,
        answered,
    };
    inner.got.lock().expect("lock").push(got.clone());
    got
}

async fn hook(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let delay = inner.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let status = inner.status.load(Ordering::SeqCst);
    let got = record(&inner, &headers, &body, status);
    // A delivery that does not verify is refused, as a receiver would.
    if !got.verified {
        return StatusCode::UNAUTHORIZED;
    }
    StatusCode::from_u16(status).expect("a status")
}

async fn pre_start(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let got = record(&inner, &headers, &body, 200);
    if !got.verified {
        return (StatusCode::UNAUTHORIZED, String::new());
    }
    let files: Vec<Value> = got.data()["files"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(
            |file| match file["name"].as_str().unwrap_or_default().ends_with(".exe") {
                true => json!({ "accept": false, "reason": "no programs, please" }),
                false => json!({ "accept": true }),
            },
        )
        .collect();
    (StatusCode::OK, json!({ "files": files }).to_string())
}

async fn pre_start_slow(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    tokio::time::sleep(Duration::from_secs(3)).await;
    pre_start(State(inner), headers, body).await
}

async fn pre_start_bad(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    record(&inner, &headers, &body, 200);
    (StatusCode::OK, "<html>all good</html>".into())
}
