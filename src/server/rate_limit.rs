//! Per-client rate limits on the server functions and the login form: a token bucket
//! per client address, so one client cannot flood the server or guess passwords fast.
//!
//! The bucket arithmetic takes the time as an argument and is tested on its own.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::ApiError;

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
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Applies the limit to server functions and login attempts; 429 with `Retry-After`.
pub async fn limit(
    State(limiter): State<Arc<RateLimiter>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let limited = path.starts_with("/api/") || path == "/login";
    if limited && !limiter.allow(peer.ip(), Instant::now()) {
        tracing::warn!(client = %peer.ip(), %path, "rate limited");
        let body = serde_json::to_string(&ApiError::RateLimited).unwrap_or_default();
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [
                (header::RETRY_AFTER, "1"),
                (header::CONTENT_TYPE, "application/json"),
            ],
            body,
        )
            .into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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
}
