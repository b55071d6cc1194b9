//! Any `X-Forwarded-For` headers through a trusted proxy or not: the client found is the
//! peer, or an address the headers name, never a panic.
#![no_main]

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use s3drop::core::forwarded::client_address;

fuzz_target!(|input: (bool, Vec<&str>)| {
    let (through_proxy, headers) = input;
    let proxy: IpAddr = [10, 0, 0, 1].into();
    let peer = if through_proxy {
        proxy
    } else {
        [192, 0, 2, 7].into()
    };
    let client = client_address(peer, headers.iter().copied(), &[proxy]);
    if !through_proxy {
        assert_eq!(client, peer);
    } else if client != peer {
        let named = headers
            .iter()
            .flat_map(|h| h.split(','))
            .filter_map(|h| h.trim().parse::<IpAddr>().ok())
            .any(|a| a == client);
        assert!(named, "{client} is in {headers:?}");
    }
});
