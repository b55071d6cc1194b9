//! Who sent a request behind reverse proxies: the address rule for `X-Forwarded-For`,
//! apart from any HTTP type so the rate limits' notion of a client is tested (and
//! fuzzed, `fuzz/`) on its own.

use std::net::IpAddr;

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

#[cfg(test)]
mod tests {
    use super::*;

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
