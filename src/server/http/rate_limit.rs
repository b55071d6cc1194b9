//! Per-client rate limits: a token bucket per client on the server functions, so one
//! client cannot flood the server, and a much slower one on wrong passwords (with a cap
//! on everyone's together), so a password cannot be guessed fast from one address or
//! many.
//!
//! A client is an IPv4 address or an IPv6 /64: one home line or server has a whole /64,
//! so keying by its full addresses would give it unlimited buckets. Behind a reverse
//! proxy every request comes from the proxy's address; with `--trusted-proxy` the client
//! is the address the proxy forwarded (`X-Forwarded-For`, read by
//! [`crate::core::forwarded`]). The bucket arithmetic takes its clock as an argument
//! and is tested on its own.
//!
//! Written here rather than taken from `governor`: the login limit counts only wrong
//! passwords, so it must ask how long a client waits without spending a token, which
//! governor's GCRA cells cannot (every check spends one); the one bucket serves both.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::error::ApiError;
use crate::core::forwarded::client_address;

/// The most clients tracked at once; past it, new clients share one bucket until the
/// next pruning forgets the idle (so a flood of addresses is limited as one).
const MAX_TRACKED: usize = 100_000;
/// How often idle clients (whose buckets have refilled) are forgotten, off the request
/// path.
const PRUNE_EVERY: Duration = Duration::from_secs(10);
/// Where clients past [`MAX_TRACKED`] are counted together.
const OVERFLOW: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

/// The client a limit counts `address` as: an IPv4 address, or the /64 an IPv6 one is
/// in (an IPv4 address mapped into IPv6 counts as itself).
pub fn client_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX))),
        },
    }
}

/// One client's bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets by client.
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

    /// A limiter (as [`Self::new`]) whose idle clients a task on the current tokio
    /// runtime forgets every [`PRUNE_EVERY`], for as long as the limiter lives (off a
    /// runtime, as in unit tests, nothing prunes it).
    pub fn pruned(per_second: f64, burst: f64) -> Arc<Self> {
        let limiter = Arc::new(Self::new(per_second, burst));
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return limiter;
        };
        let weak: Weak<Self> = Arc::downgrade(&limiter);
        runtime.spawn(async move {
            let mut every = tokio::time::interval(PRUNE_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                match weak.upgrade() {
                    Some(limiter) => limiter.prune(Instant::now()),
                    None => break,
                }
            }
        });
        limiter
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

    /// Forgets the clients whose buckets are full again at `now`: a client it does not
    /// know starts full, so forgetting them changes no answer.
    pub fn prune(&self, now: Instant) {
        let (per_second, burst) = (self.per_second, self.burst);
        self.buckets().retain(|_, b| {
            b.tokens + now.saturating_duration_since(b.updated).as_secs_f64() * per_second < burst
        });
    }

    /// How many clients are tracked.
    pub fn tracked(&self) -> usize {
        self.buckets().len()
    }

    fn buckets(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Bucket>> {
        self.buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn with_bucket<T>(
        &self,
        client: IpAddr,
        now: Instant,
        act: impl FnOnce(&mut Bucket) -> T,
    ) -> T {
        let mut buckets = self.buckets();
        let mut key = client_key(client);
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&key) {
            key = OVERFLOW;
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.burst);
        bucket.updated = now;
        act(bucket)
    }
}

/// Wrong passwords: a few in a row per client, then one every `seconds_per_guess`; and
/// at most `everyone_per_minute` from all clients together, so that many addresses
/// cannot guess faster between them than a few could.
#[derive(Debug)]
pub struct Guesses {
    per_client: Arc<RateLimiter>,
    everyone: RateLimiter,
}

impl Guesses {
    pub fn new(at_once: f64, seconds_per_guess: f64, everyone_per_minute: f64) -> Self {
        Self {
            per_client: RateLimiter::pruned(1.0 / seconds_per_guess, at_once),
            everyone: RateLimiter::new(everyone_per_minute / 60.0, everyone_per_minute),
        }
    }

    /// How long `client` must wait at `now` before its next guess; zero when it may
    /// guess now.
    pub fn wait(&self, client: IpAddr, now: Instant) -> Duration {
        let everyone = self.everyone.wait(OVERFLOW, now);
        self.per_client.wait(client, now).max(everyone)
    }

    /// Counts a wrong guess by `client`.
    pub fn wrong(&self, client: IpAddr, now: Instant) {
        self.per_client.take(client, now);
        self.everyone.take(OVERFLOW, now);
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
    fn a_client_is_an_ipv4_address_or_an_ipv6_slash_64() {
        let cases = [
            ("192.0.2.7", "192.0.2.7"),
            ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::"),
            ("2001:db8:1:2::1", "2001:db8:1:2::"),
            ("2001:db8:1:3::1", "2001:db8:1:3::"),
            ("::ffff:192.0.2.7", "192.0.2.7"),
            ("::1", "::"),
        ];
        for (address, key) in cases {
            let address: IpAddr = address.parse().expect("an address");
            assert_eq!(client_key(address).to_string(), key, "{address}");
        }
    }

    #[test]
    fn one_ipv6_line_is_one_client_whatever_address_it_uses() {
        let limiter = RateLimiter::new(1.0, 3.0);
        let t0 = Instant::now();
        let from = |n: u16| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 7, 7, n, n, n, n));
        assert!((1..=3).all(|n| limiter.allow(from(n), t0)));
        assert!(
            !limiter.allow(from(4), t0),
            "the /64's fourth address waits"
        );
        let next_line = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 7, 8, 0, 0, 0, 1));
        assert!(
            limiter.allow(next_line, t0),
            "another /64 is another client"
        );
        assert_eq!(limiter.tracked(), 2);
    }

    #[test]
    fn idle_clients_are_forgotten_by_pruning_and_a_flood_shares_one_bucket() {
        let limiter = RateLimiter::new(1.0, 2.0);
        let t0 = Instant::now();
        let client = |n: u32| IpAddr::V4(n.into());
        for n in 0..MAX_TRACKED as u32 {
            limiter.take(client(n), t0);
        }
        assert_eq!(limiter.tracked(), MAX_TRACKED);
        // Past the cap, new clients are counted together: the map grows no more.
        let (late, later) = (client(u32::MAX), client(u32::MAX - 1));
        assert!(limiter.allow(late, t0) && limiter.allow(later, t0));
        assert!(
            !limiter.allow(client(u32::MAX - 2), t0),
            "the shared bucket is spent"
        );
        assert_eq!(limiter.tracked(), MAX_TRACKED + 1);
        // Pruning forgets only full buckets: none yet, then (a second on) all of them.
        limiter.prune(t0);
        assert_eq!(limiter.tracked(), MAX_TRACKED + 1);
        limiter.prune(t0 + Duration::from_secs(3));
        assert_eq!(limiter.tracked(), 0);
        assert!(limiter.allow(late, t0 + Duration::from_secs(3)));
    }

    #[test]
    fn guesses_from_many_addresses_meet_a_cap_on_everyones() {
        // Two at once per client, then one a minute; ten a minute from everyone.
        let guesses = Guesses::new(2.0, 60.0, 10.0);
        let t0 = Instant::now();
        let client = |n: u8| IpAddr::V4([10, 0, 0, n].into());
        for n in 0..5 {
            for _ in 0..2 {
                assert_eq!(guesses.wait(client(n), t0), Duration::ZERO, "client {n}");
                guesses.wrong(client(n), t0);
            }
        }
        // Ten wrong guesses from five clients: a sixth client, fresh, waits too.
        assert_eq!(guesses.wait(client(6), t0), Duration::from_secs(6));
        assert_eq!(guesses.wait(client(0), t0), Duration::from_secs(60));
        let later = t0 + Duration::from_secs(6);
        assert_eq!(guesses.wait(client(6), later), Duration::ZERO);
    }

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
