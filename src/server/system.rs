//! What the server reads from the operating system: the clock and randomness. Kept
//! apart so pure code receives time and ids as arguments.

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

/// A random 128-bit identifier in hex, safe in keys, file names and URLs.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    // Without the OS random source no id, key or secret can be trusted: stop loudly.
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    hex::encode(bytes)
}

/// Installs the process-wide TLS crypto provider (aws-lc-rs, the AWS SDK's own) that
/// reqwest's rustls needs; later calls do nothing.
pub fn install_tls_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
