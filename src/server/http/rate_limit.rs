//! Per-client rate limits: a token bucket per client address on the server functions,
//! so one client cannot flood the server, and a much slower one on wrong passwords, so
//! a private drop's password cannot be guessed fast.
//!
//! Behind a reverse proxy every request comes from the proxy's address; with
//! `--trusted-proxy` the client is the address the proxy forwarded (`X-Forwarded-For`).
//! The bucket arithmetic and the address rule take their inputs as arguments and are
//! tested on their own.
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

/// The client's address: walking the forwarded chain from the nearest hop back, the
/// first address that is not a trusted proxy (a client can put anything at the start
/// of `X-Forwarded-For`, but not past the proxies it went through).
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded_for: impl Iterator<Item = &'a str>,
    trusted: &[IpAddr],
) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded_for.flat_map(|v| v.split(',')).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(address) => {
                client = address;
                if !trusted.contains(&address) {
                    break;
                }
            }
            // A hop that is not an address ends what can be believed.
            Err(_) => break,
        }
    }
    client
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

    #[test]
    fn forwarded_addresses_count_only_through_trusted_proxies() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("an address");
        let proxy = ip("127.0.0.1");
        let trusted = [proxy, ip("10.0.0.2")];
        let cases: &[(&str, &[&str], &str)] = &[
            // Not through a trusted proxy: the peer, whatever it claims.
            ("203.0.113.9", &["1.2.3.4"], "203.0.113.9"),
            // Through the proxy: the address it saw.
            ("127.0.0.1", &["198.51.100.7"], "198.51.100.7"),
            // A client's own X-Forwarded-For is not believed past the proxy.
            ("127.0.0.1", &["6.6.6.6, 198.51.100.7"], "198.51.100.7"),
            ("127.0.0.1", &["6.6.6.6", "198.51.100.7"], "198.51.100.7"),
            // Two trusted proxies in a row.
            ("127.0.0.1", &["198.51.100.7, 10.0.0.2"], "198.51.100.7"),
            // Nothing forwarded, or junk: the proxy itself, or the last good hop.
            ("127.0.0.1", &[], "127.0.0.1"),
            ("127.0.0.1", &["not an address"], "127.0.0.1"),
            ("127.0.0.1", &["1.1.1.1, junk, 10.0.0.2"], "10.0.0.2"),
            ("127.0.0.1", &[" 2001:db8::1 "], "2001:db8::1"),
        ];
        for &(peer, forwarded, expected) in cases {
            assert_eq!(
                client_address(ip(peer), forwarded.iter().copied(), &trusted),
                ip(expected),
                "{peer} {forwarded:?}"
            );
        }
    }
}

/// Any `X-Forwarded-For` a client can send: the client found is the peer, or an
/// address the header names past the trusted proxies, never one of them unless all are.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn hop() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<std::net::Ipv4Addr>().prop_map(|a| a.to_string()),
            any::<std::net::Ipv6Addr>().prop_map(|a| a.to_string()),
            Just("10.0.0.1".to_owned()),
            Just("unknown".to_owned()),
            ".{0,12}",
        ]
    }

    proptest! {
        #[test]
        fn the_client_is_the_peer_or_a_forwarded_hop(
            headers in prop::collection::vec(prop::collection::vec(hop(), 0..5).prop_map(|h| h.join(",")), 0..3),
            peer_trusted: bool,
        ) {
            let proxy: IpAddr = "10.0.0.1".parse().expect("an address");
            let peer: IpAddr = if peer_trusted { proxy } else { "192.0.2.7".parse().expect("an address") };
            let client = client_address(peer, headers.iter().map(String::as_str), &[proxy]);
            if !peer_trusted {
                prop_assert_eq!(client, peer);
            } else if client != peer {
                let named = headers
                    .iter()
                    .flat_map(|h| h.split(','))
                    .filter_map(|h| h.trim().parse::<IpAddr>().ok())
                    .any(|a| a == client);
                prop_assert!(named, "{client} is in {headers:?}");
            }
        }
    }
}
