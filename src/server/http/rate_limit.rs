//! Per-client rate limits: a token bucket per client address on the server functions,
//! so one client cannot flood the server, and a much slower one on wrong passwords, so
//! a private drop's password cannot be guessed fast.
//!
//! Behind a reverse proxy every request comes from the proxy's address; with
//! `--trusted-proxy` the client is the address the proxy forwarded (`X-Forwarded-For`,
//! read by [`crate::core::forwarded`]). The bucket arithmetic takes its clock as an
//! argument and is tested on its own.
//!
//! Written here rather than taken from `governor`: the login limit counts only wrong
//! passwords, so it must ask how long a client waits without spending a token, which
//! governor's GCRA cells cannot (every check spends one); the one bucket serves both.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::error::ApiError;
use crate::core::forwarded::client_address;

/// Beyond this many clients tracked, buckets that have refilled are forgotten.
const MAX_TRACKED: usize = 10_000;

/// One client's bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets by client address.
#[derive(Debug)]
pub struct RateLimiter {
    /// Requests per second a client may make, sustained.
    per_second: f64,
    /// Requests a client may make at once after a quiet spell.
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl RateLimiter {
    /// A limiter allowing `per_second` sustained and `burst` at once.
    pub fn new(per_second: f64, burst: f64) -> Self {
        Self {
            per_second,
            burst: burst.max(1.0),
            buckets: Mutex::default(),
        }
    }

    /// Whether `client` may make a request at `now`; takes a token if so.
    pub fn allow(&self, client: IpAddr, now: Instant) -> bool {
        self.with_bucket(client, now, |bucket| {
            let allowed = bucket.tokens >= 1.0;
            if allowed {
                bucket.tokens -= 1.0;
            }
            allowed
        })
    }

    /// How long `client` must wait at `now` before its next request; zero when it may
    /// go now. Takes nothing: [`Self::take`] does, for requests that count (a wrong
    /// password, not a right one).
    pub fn wait(&self, client: IpAddr, now: Instant) -> Duration {
        let per_second = self.per_second;
        self.with_bucket(client, now, |bucket| {
            let missing = (1.0 - bucket.tokens).max(0.0);
            Duration::from_secs_f64(missing / per_second)
        })
    }

    /// Takes a token from `client`'s bucket (it may go below one; it refills in time).
    pub fn take(&self, client: IpAddr, now: Instant) {
        self.with_bucket(client, now, |bucket| bucket.tokens -= 1.0);
    }

    fn with_bucket<T>(
        &self,
        client: IpAddr,
        now: Instant,
        act: impl FnOnce(&mut Bucket) -> T,
    ) -> T {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > MAX_TRACKED {
            let (per_second, burst) = (self.per_second, self.burst);
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.updated).as_secs_f64() * per_second
                    < burst
            });
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.burst);
        bucket.updated = now;
        act(bucket)
    }
}

/// Who the client of a request is: the peer, or, when the peer is a trusted proxy, the
/// address it forwarded.
#[derive(Debug, Clone, Default)]
pub struct Clients {
    /// The reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Clients {
    /// The client of a request from `peer` with these headers.
    pub fn of(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok());
        client_address(peer, forwarded, &self.trusted_proxies)
    }
}

/// The API's limit and who its clients are.
#[derive(Debug, Clone)]
pub struct ApiLimit {
    pub limiter: Arc<RateLimiter>,
    pub clients: Clients,
}

/// Applies the limit to server functions; 429 with `Retry-After`.
pub async fn limit(
    State(limit): State<ApiLimit>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let client = limit.clients.of(peer.ip(), request.headers());
    if !limit.limiter.allow(client, Instant::now()) {
        tracing::warn!(%client, path = request.uri().path(), "rate limited");
        return ([(header::RETRY_AFTER, "1")], ApiError::RateLimited).into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_sustained_rate_per_client() {
        let limiter = RateLimiter::new(2.0, 3.0);
        let t0 = Instant::now();
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        assert!((0..3).all(|_| limiter.allow(a, t0)), "a burst of three");
        assert!(!limiter.allow(a, t0), "then no more");
        assert!(limiter.allow(b, t0), "other clients are not affected");
        assert!(!limiter.allow(a, t0 + Duration::from_millis(400)));
        assert!(
            limiter.allow(a, t0 + Duration::from_millis(500)),
            "two a second"
        );
        // A long quiet spell refills to the burst, not beyond.
        let later = t0 + Duration::from_secs(60);
        assert!((0..3).all(|_| limiter.allow(a, later)));
        assert!(!limiter.allow(a, later));
    }

    #[test]
    fn waiting_is_told_and_only_taking_drains() {
        // Five guesses, then one every ten seconds.
        let limiter = RateLimiter::new(0.1, 5.0);
        let t0 = Instant::now();
        let a: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..5 {
            assert_eq!(limiter.wait(a, t0), Duration::ZERO);
            limiter.take(a, t0);
        }
        assert_eq!(limiter.wait(a, t0), Duration::from_secs(10));
        assert_eq!(
            limiter.wait(a, t0),
            Duration::from_secs(10),
            "asking takes nothing"
        );
        let wait = limiter.wait(a, t0 + Duration::from_secs(4));
        assert!((wait.as_secs_f64() - 6.0).abs() < 1e-6, "{wait:?}");
        assert_eq!(
            limiter.wait(a, t0 + Duration::from_secs(10)),
            Duration::ZERO
        );
    }
}
