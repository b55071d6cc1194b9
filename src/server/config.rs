//! Configuration from command-line flags and environment variables, checked once at
//! start-up so a bad value stops the server with a message naming the setting.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::core::limits::{MAX_OBJECT_SIZE, MAX_PART_SIZE, MAX_PRESIGN_SECS, MIN_PART_SIZE};
use crate::core::policy::{UploadPolicy, normalise_type};

/// Upload files from the browser straight to S3.
///
/// With no bucket configured, s3drop serves its own S3-compatible store from the data
/// directory, on the app's own address. With `--bucket`, it uses that bucket on AWS S3
/// or any S3-compatible store, configured through the standard `AWS_*` variables.
#[derive(Debug, Clone, Parser)]
#[command(name = "s3drop", version, about, long_about)]
pub struct Config {
    /// Address to listen on [default: the Leptos site address, 127.0.0.1:3000]
    #[arg(long, env = "S3DROP_BIND")]
    pub bind: Option<SocketAddr>,

    /// URL browsers use to reach s3drop; the embedded store's presigned URLs point here
    /// [default: http:// and the Host each request arrived at]
    #[arg(long, env = "S3DROP_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Directory for the embedded store's objects and the server's generated secrets
    #[arg(long, env = "S3DROP_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// External bucket to upload into; without it, the embedded store is used
    #[arg(long, env = "S3DROP_BUCKET")]
    pub bucket: Option<String>,

    /// S3 endpoint the server calls (AWS S3 when unset)
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,

    /// Endpoint written into presigned URLs, when browsers reach the store at another
    /// address than the server does [default: the endpoint]
    #[arg(long, env = "S3DROP_STORE_PUBLIC_URL")]
    pub store_public_url: Option<String>,

    /// Address path-style (`endpoint/bucket/key`) rather than virtual-hosted
    #[arg(long, env = "S3DROP_PATH_STYLE", default_value_t = false)]
    pub path_style: bool,

    /// Region of the external store
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub region: String,

    /// Prefix of every object key s3drop creates
    #[arg(long, env = "S3DROP_KEY_PREFIX", default_value = "uploads/")]
    pub key_prefix: String,

    /// Largest file accepted (bytes, or with a unit: 500MB, 10GiB)
    #[arg(long, env = "S3DROP_MAX_FILE_SIZE", default_value = "5TiB", value_parser = parse_size)]
    pub max_file_size: u64,

    /// Accepted content types, comma-separated (`image/*,application/pdf`); empty accepts all
    #[arg(long, env = "S3DROP_ALLOWED_TYPES", value_delimiter = ',')]
    pub allowed_types: Vec<String>,

    /// Preferred part size for multipart uploads; files up to this size go in one PUT
    #[arg(long, env = "S3DROP_PART_SIZE", default_value = "8MiB", value_parser = parse_size)]
    pub part_size: u64,

    /// Lifetime of presigned URLs, in seconds
    #[arg(long = "url-ttl", env = "S3DROP_URL_TTL", default_value_t = 900)]
    pub url_ttl_secs: u64,

    /// Lifetime of an upload token, in seconds (how long an upload may take)
    #[arg(long = "token-ttl", env = "S3DROP_TOKEN_TTL", default_value_t = 24 * 60 * 60)]
    pub token_ttl_secs: u64,

    /// Secret for upload tokens; share it between instances behind a load balancer
    /// [default: generated once and kept in the data directory]
    #[arg(long, env = "S3DROP_SECRET", hide_env_values = true)]
    pub secret: Option<String>,

    /// Embedded store: abort multipart uploads left unfinished this many hours
    #[arg(long, env = "S3DROP_STALE_UPLOAD_HOURS", default_value_t = 24)]
    pub stale_upload_hours: u64,
}

impl Config {
    /// Checks combinations a parser cannot; the message names the setting and the fix.
    pub fn validate(&self) -> Result<(), String> {
        if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&self.part_size) {
            return Err(format!(
                "--part-size must be between 5 MiB and 5 GiB (S3's limits), not {} bytes",
                self.part_size
            ));
        }
        if self.max_file_size > MAX_OBJECT_SIZE {
            return Err("--max-file-size cannot exceed 5 TiB, the largest S3 object".into());
        }
        if self.url_ttl_secs == 0 || self.url_ttl_secs > MAX_PRESIGN_SECS {
            return Err("--url-ttl must be between 1 second and 7 days (604800)".into());
        }
        if self.token_ttl_secs == 0 {
            return Err("--token-ttl must be at least 1 second".into());
        }
        if let Some(secret) = &self.secret
            && secret.len() < 32
        {
            return Err("--secret (S3DROP_SECRET) must be at least 32 characters".into());
        }
        for pattern in &self.allowed_types {
            let essence = pattern.strip_suffix("/*").map(|f| format!("{f}/x"));
            normalise_type(essence.as_deref().unwrap_or(pattern)).map_err(|_| {
                format!("--allowed-types: \"{pattern}\" is not a type like image/png or image/*")
            })?;
        }
        for url in [&self.endpoint_url, &self.store_public_url, &self.public_url]
            .into_iter()
            .flatten()
        {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!(
                    "endpoint \"{url}\" must start with http:// or https://"
                ));
            }
        }
        if self.bucket.is_none() && self.store_public_url.is_some() {
            return Err("--store-public-url applies to an external store: set --bucket too".into());
        }
        Ok(())
    }

    /// The upload policy these settings describe.
    pub fn policy(&self) -> UploadPolicy {
        UploadPolicy {
            max_file_size: self.max_file_size,
            allowed_types: self
                .allowed_types
                .iter()
                .map(|t| t.trim().to_ascii_lowercase())
                .filter(|t| !t.is_empty())
                .collect(),
        }
    }

    /// How long presigned URLs live.
    pub fn url_ttl(&self) -> Duration {
        Duration::from_secs(self.url_ttl_secs)
    }
}

/// Parses a byte size: a number with an optional unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("\"{text}\" is not a size like 500MB or 10GiB"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => return Err(format!("\"{unit}\" is not a size unit (use B, MB, GiB, …)")),
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("\"{text}\" is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::limits::DEFAULT_PART_SIZE;

    fn config(args: &[&str]) -> Config {
        let mut all = vec!["s3drop"];
        all.extend_from_slice(args);
        Config::try_parse_from(all).expect("parses")
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("8MiB"), Ok(8 << 20));
        assert_eq!(parse_size("500 MB"), Ok(500_000_000));
        assert_eq!(parse_size("5TiB"), Ok(5 << 40));
        assert!(parse_size("").is_err());
        assert!(parse_size("12XB").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("99999999999999TiB").is_err());
    }

    #[test]
    fn defaults_are_valid() {
        let c = config(&[]);
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.part_size, DEFAULT_PART_SIZE);
        assert_eq!(c.policy(), UploadPolicy::default());
    }

    #[test]
    fn bad_values_name_the_setting() {
        let cases: [(&[&str], &str); 5] = [
            (&["--part-size", "1MiB"], "--part-size"),
            (&["--url-ttl", "0"], "--url-ttl"),
            (&["--secret", "short"], "--secret"),
            (&["--allowed-types", "image"], "--allowed-types"),
            (&["--store-public-url", "http://x"], "--store-public-url"),
        ];
        for (args, setting) in cases {
            let err = config(args).validate().expect_err("refused");
            assert!(err.contains(setting), "{args:?}: {err}");
        }
        assert!(Config::try_parse_from(["s3drop", "--max-file-size", "lots"]).is_err());
    }
}
