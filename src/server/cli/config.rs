//! Configuration from command-line flags, environment variables and an optional TOML
//! file (flags over environment over file over defaults), checked once at start-up so
//! a bad value stops the server with a message naming the setting and the fix.

use std::ffi::OsString;
use std::fmt::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};

use crate::core::limits::{
    GIB, MAX_OBJECT_SIZE, MAX_PART_SIZE, MAX_PRESIGN_SECS, MIB, MIN_PART_SIZE, parse_size,
};
use crate::core::policy::{UploadPolicy, normalise_type, normalise_types};
use crate::core::token::DEFAULT_LIFETIME_SECS;
use crate::core::webhook::{Secret as WebhookSecret, check_url};
use crate::server::hooks::deliver::Settings;
use crate::server::hooks::pre_start::{OnTimeout, PreStart};

/// Upload files from the browser straight to S3.
///
/// With no bucket configured, s3drop serves its own S3-compatible store from the data
/// directory, on the app's own address. With `--bucket`, it uses that bucket on AWS S3
/// or any S3-compatible store, configured through the standard `AWS_*` variables.
#[derive(Debug, Clone, Parser)]
#[command(name = "s3drop", version, about, long_about)]
pub struct Config {
    /// TOML file with settings (keys as the flags' names, e.g. `max-file-size = "10GiB"`);
    /// flags and environment variables override it
    #[arg(long, env = "S3DROP_CONFIG")]
    pub config: Option<PathBuf>,

    /// Print the effective settings and where each came from, then exit
    #[arg(long, group = "mode")]
    pub check_config: bool,

    /// Check the external bucket as s3drop and browsers will use it (endpoint,
    /// credentials, bucket, CORS for --public-url, lifecycle), then exit
    #[arg(long, group = "mode")]
    pub check_store: bool,

    /// Add the CORS rule (for --public-url's origin) and the lifecycle rule s3drop needs
    /// to the external bucket, keeping its other rules; then check it and exit
    #[arg(long, group = "mode")]
    pub setup_store: bool,

    /// Log format: `human` lines, or `json` objects for log collectors
    #[arg(long, env = "S3DROP_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,

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

    /// Access key id for the external store, over the AWS credential chain [default: the
    /// chain: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; a profile
    /// (AWS_PROFILE), SSO included; web identity; container or instance credentials]
    #[arg(long)]
    pub access_key_id: Option<String>,

    /// Secret access key for the external store (with --access-key-id)
    #[arg(long, value_parser = parse_secret)]
    pub secret_access_key: Option<Secret>,

    /// Endpoint written into presigned URLs, when browsers reach the store at another
    /// address than the server does [default: the endpoint]
    #[arg(long, env = "S3DROP_STORE_PUBLIC_URL")]
    pub store_public_url: Option<String>,

    /// Address path-style (`endpoint/bucket/key`) rather than virtual-hosted
    #[arg(long, env = "S3DROP_PATH_STYLE", default_value_t = false)]
    pub path_style: bool,

    /// Region of the external store [default: the AWS region chain: AWS_REGION,
    /// AWS_DEFAULT_REGION, the profile's, the instance's; else us-east-1]
    #[arg(long)]
    pub region: Option<String>,

    /// Prefix of every object key s3drop creates
    #[arg(long, env = "S3DROP_KEY_PREFIX", default_value = "uploads/")]
    pub key_prefix: String,

    /// Largest file accepted (bytes, or with a unit: 500MB, 10GiB)
    #[arg(long, env = "S3DROP_MAX_FILE_SIZE", default_value = "5TiB", value_parser = parse_size)]
    pub max_file_size: u64,

    /// Accepted files, comma-separated: types (`image/*`, `application/pdf`) or extensions
    /// (`.pdf`); a file matching any is accepted; empty accepts all
    #[arg(long, env = "S3DROP_ALLOWED_TYPES", value_delimiter = ',')]
    pub allowed_types: Vec<String>,

    /// How many files the page takes at a time (until finished ones are cleared)
    #[arg(long, env = "S3DROP_MAX_FILES")]
    pub max_files: Option<u32>,

    /// Preferred part size for multipart uploads; files up to this size go in one PUT
    #[arg(long, env = "S3DROP_PART_SIZE", default_value = "8MiB", value_parser = parse_size)]
    pub part_size: u64,

    /// Lifetime of presigned URLs, in seconds
    #[arg(long = "url-ttl", env = "S3DROP_URL_TTL", default_value_t = 900)]
    pub url_ttl_secs: u64,

    /// Lifetime of an upload token, in seconds (how long an upload may take)
    #[arg(long = "token-ttl", env = "S3DROP_TOKEN_TTL", default_value_t = DEFAULT_LIFETIME_SECS)]
    pub token_ttl_secs: u64,

    /// Secret for upload tokens; share it between instances behind a load balancer
    /// [default: generated once and kept in the data directory]
    #[arg(long, env = "S3DROP_SECRET", hide_env_values = true, value_parser = parse_secret)]
    pub secret: Option<Secret>,

    /// Server-function calls per second a client may make, sustained (bursts of 10×)
    #[arg(long, env = "S3DROP_RATE_LIMIT", default_value_t = 20.0)]
    pub rate_limit: f64,

    /// Reverse proxies whose `X-Forwarded-For` names the client, comma-separated
    /// (`127.0.0.1` for a Caddy or nginx on the same machine); without it every client
    /// behind a proxy shares one rate limit
    #[arg(long, env = "S3DROP_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxy: Vec<std::net::IpAddr>,

    /// Make the drop private: the page and uploads require this password
    /// (a session cookie keeps people logged in for a week)
    #[arg(long, env = "S3DROP_ACCESS_PASSWORD", hide_env_values = true, value_parser = parse_secret)]
    pub access_password: Option<Secret>,

    /// Let Prometheus read /metrics with this bearer token (16 characters or more);
    /// without one, /metrics is off
    #[arg(long, env = "S3DROP_METRICS_TOKEN", hide_env_values = true, value_parser = parse_secret)]
    pub metrics_token: Option<Secret>,

    /// List the store's files on the page, with download links (everyone who can open
    /// the page sees them: meant for private drops)
    #[arg(long, env = "S3DROP_LIST_FILES", default_value_t = false)]
    pub list_files: bool,

    /// Let the operator delete stored files from the record (and, with --list-files, from
    /// the list; without an operator's password, anyone who opens the page)
    #[arg(long, env = "S3DROP_ALLOW_DELETE", default_value_t = false)]
    pub allow_delete: bool,

    /// Abort multipart uploads left unfinished this many hours (hourly sweep)
    #[arg(long, env = "S3DROP_STALE_UPLOAD_HOURS", default_value_t = 24)]
    pub stale_upload_hours: u64,

    /// Database for upload links and the record of uploads: `postgres://…` to share one
    /// between several s3drop servers [default: SQLite in the data directory]
    #[arg(long, env = "S3DROP_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// With --access-password, keep an open drop beside the upload links: anyone who
    /// can reach the page may upload (without it, people upload through links)
    #[arg(long, env = "S3DROP_OPEN_DROP", default_value_t = false)]
    pub open_drop: bool,

    /// Ask this URL before files start whether each may (a signed POST; the answer may
    /// refuse a file with a reason the page shows): see docs/hooks.md
    #[arg(long, env = "S3DROP_PRE_START_HOOK")]
    pub pre_start_hook: Option<String>,

    /// The `whsec_` secret the pre-start hook's requests are signed with (`whsec_`
    /// followed by base64 of 24 to 64 random bytes)
    #[arg(long, env = "S3DROP_PRE_START_SECRET", hide_env_values = true, value_parser = parse_secret)]
    pub pre_start_secret: Option<Secret>,

    /// How long the pre-start hook has to answer, in seconds
    #[arg(
        long = "pre-start-timeout",
        env = "S3DROP_PRE_START_TIMEOUT",
        default_value_t = 5
    )]
    pub pre_start_timeout_secs: u64,

    /// What a pre-start hook that does not answer in time (or cannot be reached) means
    #[arg(long, env = "S3DROP_PRE_START_ON_TIMEOUT", value_enum, default_value_t = OnTimeoutArg::Refuse)]
    pub pre_start_on_timeout: OnTimeoutArg,

    /// How long a webhook receiver has to answer a delivery, in seconds
    #[arg(
        long = "hook-timeout",
        env = "S3DROP_HOOK_TIMEOUT",
        default_value_t = 10
    )]
    pub hook_timeout_secs: u64,

    /// How long a webhook delivery that fails is tried again, in hours
    #[arg(long, env = "S3DROP_HOOK_RETRY_HOURS", default_value_t = 24)]
    pub hook_retry_hours: u64,

    /// The wait before a failed delivery's second try, in seconds (it doubles with each
    /// try, up to an hour)
    #[arg(
        long = "hook-retry-first",
        env = "S3DROP_HOOK_RETRY_FIRST",
        default_value_t = 5
    )]
    pub hook_retry_first_secs: u64,

    /// How many webhook deliveries this server sends at once
    #[arg(long, env = "S3DROP_HOOK_DELIVERIES_AT_ONCE", default_value_t = 32)]
    pub hook_deliveries_at_once: usize,

    /// What to do instead of serving: manage upload links
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Each setting as given and where it came from, in `--help`'s order, for
    /// `--check-config`.
    #[arg(skip)]
    pub settings: Vec<Setting>,
}

/// What a pre-start hook that does not answer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnTimeoutArg {
    /// The files start
    Accept,
    /// The files are refused, and the person is asked to try again later
    Refuse,
}

/// Commands beside serving.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Create, list, extend and revoke upload links (in the database the server uses)
    #[command(subcommand)]
    Links(super::links::LinksCommand),
    /// Add, list and remove webhooks, and see and resend their deliveries (in the
    /// database the server uses)
    #[command(subcommand)]
    Hooks(super::hooks::HooksCommand),
    /// Make, list and revoke API tokens for scripts (in the database the server uses)
    #[command(subcommand)]
    Tokens(super::tokens::TokensCommand),
    /// Upload files and folders through the API, as the page does (an upload link, or a
    /// server and an API token); run again after an interruption, it goes on
    Upload(crate::client::upload::UploadArgs),
}

/// What the command line asks s3drop to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Serve the page (the default).
    Serve,
    /// `--check-config`: print the settings, check them, exit.
    CheckConfig,
    /// `--check-store`: check the external bucket, exit.
    CheckStore,
    /// `--setup-store`: add the bucket's rules, check it, exit.
    SetUpStore,
}

/// One setting as `--check-config` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The setting's id (its flag with `_` for `-`).
    pub id: String,
    /// The value as given (secrets only say whether they are set).
    pub value: String,
    /// `flag`, `env`, `file` or `default`.
    pub source: &'static str,
}

/// Flags that choose what to do rather than set something.
const NOT_SETTINGS: [&str; 6] = [
    "config",
    "check_config",
    "check_store",
    "setup_store",
    "help",
    "version",
];

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

/// A secret setting: never printed, not even by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

fn parse_secret(text: &str) -> Result<Secret, String> {
    Ok(Secret(text.to_owned()))
}

impl Config {
    /// Reads the settings from `args` (the first is the program's name), the environment
    /// and, when `--config` names one, a TOML file for whatever neither of those set.
    pub fn load<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let mut args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let matches = Self::command().try_get_matches_from(&args)?;
        let mut from_file = Vec::new();
        // Settings from the file, placed before any subcommand's own arguments.
        let mut extra: Vec<OsString> = Vec::new();
        if let Some(path) = matches.get_one::<PathBuf>("config") {
            let invalid = |message: String| {
                Self::command().error(clap::error::ErrorKind::InvalidValue, message)
            };
            let text = std::fs::read_to_string(path)
                .map_err(|e| invalid(format!("cannot read --config {}: {e}", path.display())))?;
            let table: toml::Table = text.parse().map_err(|e| {
                invalid(format!(
                    "--config {} is not valid TOML: {e}",
                    path.display()
                ))
            })?;
            for (key, value) in table {
                let name = key.replace('_', "-");
                let arg = Self::command()
                    .get_arguments()
                    .find(|a| {
                        a.get_long() == Some(&name) && !NOT_SETTINGS.contains(&a.get_id().as_str())
                    })
                    .map(|a| a.get_id().to_string())
                    .ok_or_else(|| {
                        invalid(format!("--config: `{key}` is not a setting (see --help)"))
                    })?;
                if matches.value_source(&arg) != Some(ValueSource::DefaultValue)
                    && matches.value_source(&arg).is_some()
                {
                    continue;
                }
                let text = match value {
                    toml::Value::String(s) => s,
                    toml::Value::Boolean(false) => continue,
                    toml::Value::Boolean(true) => {
                        extra.push(format!("--{name}").into());
                        from_file.push(arg);
                        continue;
                    }
                    toml::Value::Array(items) => items
                        .iter()
                        .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(","),
                    other => other.to_string(),
                };
                extra.push(format!("--{name}={text}").into());
                from_file.push(arg);
            }
        }
        let program = args.len().min(1);
        args.splice(program..program, extra);
        let matches = Self::command().try_get_matches_from(&args)?;
        let mut config = Self::from_arg_matches(&matches)?;
        for arg in Self::command().get_arguments() {
            let id = arg.get_id().as_str();
            if NOT_SETTINGS.contains(&id) {
                continue;
            }
            let source = match matches.value_source(id) {
                _ if from_file.iter().any(|f| f == id) => "file",
                Some(ValueSource::CommandLine) => "flag",
                Some(ValueSource::EnvVariable) => "env",
                _ => "default",
            };
            let given: Option<Vec<String>> = matches
                .get_raw(id)
                .map(|values| values.map(|v| v.to_string_lossy().into_owned()).collect());
            let value = match given {
                Some(_) if arg.is_hide_env_values_set() => "(set)".to_owned(),
                None if arg.is_hide_env_values_set() => "(unset)".to_owned(),
                Some(values) if !values.is_empty() => values.join(","),
                _ => "(unset)".to_owned(),
            };
            config.settings.push(Setting {
                id: id.to_owned(),
                value,
                source,
            });
        }
        Ok(config)
    }

    /// What the command line asks for (clap lets at most one of the modes through).
    pub fn mode(&self) -> Mode {
        match (self.check_config, self.check_store, self.setup_store) {
            (true, _, _) => Mode::CheckConfig,
            (_, true, _) => Mode::CheckStore,
            (_, _, true) => Mode::SetUpStore,
            _ => Mode::Serve,
        }
    }

    /// Where a setting came from.
    pub fn source(&self, id: &str) -> &'static str {
        self.settings
            .iter()
            .find(|s| s.id == id)
            .map_or("default", |s| s.source)
    }

    /// The effective settings, one a line with where it came from; secrets are hidden.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for Setting { id, value, source } in &self.settings {
            let _ = writeln!(out, "{id:<20} {value:<40} ({source})");
        }
        out
    }

    /// Checks combinations a parser cannot; the message names the setting and the fix.
    pub fn validate(&self) -> Result<(), String> {
        if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&self.part_size) {
            return Err(format!(
                "--part-size must be between {} MiB and {} GiB (S3's limits), not {} bytes",
                MIN_PART_SIZE / MIB,
                MAX_PART_SIZE / GIB,
                self.part_size
            ));
        }
        if self.max_file_size > MAX_OBJECT_SIZE {
            return Err(format!(
                "--max-file-size cannot exceed {} TiB, the largest S3 object",
                MAX_OBJECT_SIZE / (1024 * GIB)
            ));
        }
        if self.url_ttl_secs == 0 || self.url_ttl_secs > MAX_PRESIGN_SECS {
            return Err(format!(
                "--url-ttl must be between 1 second and {} days ({MAX_PRESIGN_SECS})",
                MAX_PRESIGN_SECS / 86_400
            ));
        }
        if !(self.rate_limit > 0.0 && self.rate_limit.is_finite()) {
            return Err("--rate-limit must be a positive number of calls per second".into());
        }
        if self.stale_upload_hours == 0 {
            return Err(
                "--stale-upload-hours must be at least 1 (0 would abort uploads still \
                        running)"
                    .into(),
            );
        }
        if self.token_ttl_secs == 0 {
            return Err("--token-ttl must be at least 1 second".into());
        }
        if let Some(Secret(secret)) = &self.secret
            && secret.len() < 32
        {
            return Err("--secret (S3DROP_SECRET) must be at least 32 characters".into());
        }
        for pattern in &self.allowed_types {
            if let Some(extension) = pattern.strip_prefix('.') {
                if extension.is_empty() || !extension.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(format!(
                        "--allowed-types: \"{pattern}\" is not an extension like .pdf"
                    ));
                }
                continue;
            }
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
        if let Some(Secret(token)) = &self.metrics_token
            && token.chars().count() < 16
        {
            return Err(
                "--metrics-token (S3DROP_METRICS_TOKEN) must be at least 16 characters".into(),
            );
        }
        if let Some(Secret(password)) = &self.access_password
            && password.chars().count() < 8
        {
            return Err(
                "--access-password (S3DROP_ACCESS_PASSWORD) must be at least 8 characters".into(),
            );
        }
        if self.access_key_id.is_some() != self.secret_access_key.is_some() {
            return Err(
                "--access-key-id and --secret-access-key go together (or neither: then the AWS credential chain is used)".into(),
            );
        }
        if let Some(url) = &self.database_url
            && !["sqlite:", "postgres://", "postgresql://"]
                .iter()
                .any(|scheme| url.starts_with(scheme))
        {
            return Err(
                "--database-url (S3DROP_DATABASE_URL) must start with postgres:// or sqlite:"
                    .into(),
            );
        }
        if self.open_drop && self.access_password.is_none() {
            return Err(
                "--open-drop applies to a private drop: without --access-password the drop is open already".into(),
            );
        }
        if let Some(url) = &self.pre_start_hook {
            check_url(url).map_err(|e| format!("--pre-start-hook: {e}"))?;
            let secret = self.pre_start_secret.as_ref().ok_or(
                "--pre-start-hook needs --pre-start-secret (S3DROP_PRE_START_SECRET): \
                 `whsec_` followed by base64 of random bytes, which the hook checks \
                 signatures with",
            )?;
            WebhookSecret::parse(&secret.0)
                .map_err(|e| format!("--pre-start-secret (S3DROP_PRE_START_SECRET): {e}"))?;
        }
        if self.pre_start_timeout_secs == 0 || self.hook_timeout_secs == 0 {
            return Err("--pre-start-timeout and --hook-timeout must be at least 1 second".into());
        }
        if self.hook_retry_hours == 0 || self.hook_deliveries_at_once == 0 {
            return Err(
                "--hook-retry-hours and --hook-deliveries-at-once must be at least 1".into(),
            );
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
            allowed_types: normalise_types(self.allowed_types.iter().map(String::as_str)),
            max_files: self.max_files,
            part_size: self.part_size,
        }
    }

    /// Where links and the record are kept: `--database-url`, or SQLite in the data
    /// directory.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| crate::server::database::Database::sqlite_url(&self.data_dir))
    }

    /// Whether anyone who reaches the page may upload without a link: always without an
    /// operator's password, with one only when `--open-drop` says so.
    pub fn is_open_drop(&self) -> bool {
        self.access_password.is_none() || self.open_drop
    }

    /// The address people reach s3drop at, for the links it prints.
    pub fn public_base(&self, site_addr: SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.bind.unwrap_or(site_addr)),
        }
    }

    /// The pre-start hook, when one is set (checked by `validate`).
    pub fn pre_start(&self) -> Option<PreStart> {
        let url = self.pre_start_hook.clone()?;
        let secret = WebhookSecret::parse(&self.pre_start_secret.as_ref()?.0).ok()?;
        let on_timeout = match self.pre_start_on_timeout {
            OnTimeoutArg::Accept => OnTimeout::Accept,
            OnTimeoutArg::Refuse => OnTimeout::Refuse,
        };
        let timeout = Duration::from_secs(self.pre_start_timeout_secs);
        Some(PreStart::new(url, secret, timeout, on_timeout))
    }

    /// How webhook deliveries are sent.
    pub fn deliveries(&self) -> Settings {
        Settings {
            timeout: Duration::from_secs(self.hook_timeout_secs),
            retry_first: Duration::from_secs(self.hook_retry_first_secs),
            retry_for: Duration::from_secs(self.hook_retry_hours.saturating_mul(60 * 60)),
            at_once: self.hook_deliveries_at_once,
            ..Settings::default()
        }
    }

    /// How long presigned URLs live.
    pub fn url_ttl(&self) -> Duration {
        Duration::from_secs(self.url_ttl_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::limits::DEFAULT_PART_SIZE;

    fn config(args: &[&str]) -> Config {
        let mut all = vec!["s3drop"];
        all.extend_from_slice(args);
        Config::load(all).expect("parses")
    }

    #[test]
    fn a_file_fills_what_flags_leave_unset() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("s3drop.toml");
        std::fs::write(
            &file,
            "part-size = \"16MiB\"\nkey_prefix = \"from-file/\"\nurl-ttl = 60\npath-style = true\nallowed-types = [\"image/*\", \"text/plain\"]\n",
        )
        .expect("written");
        let path = file.to_str().expect("utf-8");
        let c = config(&["--config", path, "--key-prefix", "from-flag/"]);
        assert_eq!(c.part_size, 16 << 20);
        assert_eq!(c.key_prefix, "from-flag/", "a flag beats the file");
        assert_eq!(c.url_ttl_secs, 60);
        assert!(c.path_style);
        assert_eq!(c.allowed_types, ["image/*", "text/plain"]);
        assert_eq!(c.source("part_size"), "file");
        assert_eq!(c.source("key_prefix"), "flag");
        assert_eq!(c.source("region"), "default");
        assert!(c.describe().contains("from-flag/"));
    }

    #[test]
    fn one_mode_at_a_time() {
        assert_eq!(config(&[]).mode(), Mode::Serve);
        assert_eq!(config(&["--check-config"]).mode(), Mode::CheckConfig);
        assert_eq!(config(&["--check-store"]).mode(), Mode::CheckStore);
        assert_eq!(config(&["--setup-store"]).mode(), Mode::SetUpStore);
        let both = Config::load(["s3drop", "--check-store", "--setup-store"]);
        assert!(both.is_err(), "two modes are refused");
    }

    #[test]
    fn a_bad_file_names_the_problem() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("bad.toml");
        for (text, expected) in [
            ("no-such-setting = 1\n", "no-such-setting"),
            ("part-size = \"lots\"\n", "lots"),
            ("this is not toml", "not valid TOML"),
        ] {
            std::fs::write(&file, text).expect("written");
            let err = Config::load(["s3drop", "--config", file.to_str().expect("utf-8")])
                .expect_err("refused")
                .to_string();
            assert!(err.contains(expected), "{text}: {err}");
        }
        let missing = Config::load(["s3drop", "--config", "/no/such/file.toml"]);
        assert!(
            missing
                .expect_err("refused")
                .to_string()
                .contains("cannot read")
        );
    }

    #[test]
    fn secrets_never_print() {
        let c = config(&["--secret", "0123456789abcdef0123456789abcdef-very-secret"]);
        assert!(!format!("{c:?}").contains("very-secret"));
        assert!(!c.describe().contains("very-secret"));
    }

    #[test]
    fn defaults_are_valid() {
        let c = config(&[]);
        assert_eq!(c.validate(), Ok(()));
        // The defaults clap spells as text are the limits' own values.
        assert_eq!(c.part_size, DEFAULT_PART_SIZE);
        assert_eq!(c.max_file_size, MAX_OBJECT_SIZE);
        assert_eq!(c.policy(), UploadPolicy::default());
    }

    #[test]
    fn bad_values_name_the_setting() {
        let cases: [(&[&str], &str); 8] = [
            (&["--part-size", "1MiB"], "--part-size"),
            (&["--metrics-token", "short"], "--metrics-token"),
            (&["--access-password", "short"], "--access-password"),
            (&["--url-ttl", "0"], "--url-ttl"),
            (&["--secret", "short"], "--secret"),
            (&["--allowed-types", "image"], "--allowed-types"),
            (&["--store-public-url", "http://x"], "--store-public-url"),
            (&["--stale-upload-hours", "0"], "--stale-upload-hours"),
        ];
        for (args, setting) in cases {
            let err = config(args).validate().expect_err("refused");
            assert!(err.contains(setting), "{args:?}: {err}");
        }
        assert!(Config::load(["s3drop", "--max-file-size", "lots"]).is_err());
    }
}
