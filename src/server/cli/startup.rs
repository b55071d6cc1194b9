//! Start-up: from a checked configuration to a listening server. Kept apart from `main`
//! so the integration tests start the same server on a port of their own.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use leptos::config::LeptosOptions;
use tokio::net::TcpListener;

use crate::server::api_tokens::Verifier;
use crate::server::cli::config::{Config, Mode};
use crate::server::cli::secrets;
use crate::server::database::Database;
use crate::server::embedded_store::EmbeddedStore;
use crate::server::hooks::deliver::{Deliverer, Wake};
use crate::server::http::access::{Access, Gate};
use crate::server::http::health::MetricsToken;
use crate::server::http::rate_limit::{ApiLimit, Clients, RateLimiter};
use crate::server::http::router::{Guards, StoreRoute, router};
use crate::server::http::security_headers::Policy;
use crate::server::s3::bucket_check;
use crate::server::s3::bucket_check::Target;
use crate::server::s3::client::{PresignEndpoint, Storage, fixed_config, origin_of, sdk_client};
use crate::server::s3::error::StoreError;
use crate::server::signing::Signer;
use crate::server::state::AppState;
use crate::server::system;
use crate::server::token::TokenSigner;
use crate::server::upload::abort::end_abandoned;

/// The bucket the embedded store keeps uploads in.
pub const EMBEDDED_BUCKET: &str = "s3drop";
/// The region an external store is signed for when neither `--region` nor the AWS
/// region chain names one.
const DEFAULT_REGION: &str = "us-east-1";
/// How often the server looks for stale multipart uploads.
const SWEEP_EVERY: Duration = Duration::from_secs(60 * 60);
/// How often the server ends what the record finds abandoned (expired tokens, uploads
/// through links since revoked): a link revoked from the command line stops its uploads
/// in flight within this.
const ABANDONED_EVERY: Duration = Duration::from_secs(60);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(String),
    #[error("cannot use the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Database(#[from] crate::server::database::DatabaseError),
    #[error("the store cannot be used:\n{0}")]
    Store(bucket_check::Report),
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
}

/// A built server, ready to serve on its listener.
pub struct App {
    pub router: axum::Router,
    /// The state the server functions share (tests reach the storage through it).
    pub state: AppState,
    /// The embedded store, when no external one is configured.
    pub store: Option<EmbeddedStore>,
    /// What [`serve`] sweeps of stale multipart uploads, every hour.
    pub sweeper: Sweeper,
    /// What sends the webhooks' outbox while [`serve`] serves.
    pub deliverer: Deliverer,
}

/// Builds the app for a server listening at `local_addr`: the store (checked, or the
/// embedded one opened), the state the server functions share, the guards every
/// request passes, and the sweeper.
pub async fn build(
    config: &Config,
    leptos_options: LeptosOptions,
    local_addr: SocketAddr,
) -> Result<App, StartError> {
    config.validate().map_err(StartError::Config)?;
    crate::server::system::install_tls_provider();
    let (storage, embedded) = match &config.bucket {
        Some(bucket) => (checked_external_storage(config, bucket).await?, None),
        None => {
            let (storage, embedded) = embedded_storage(config, local_addr).await?;
            (storage, Some(embedded))
        }
    };
    let token_key = token_key(config)?;
    let database = database(config).await?;
    tracing::info!(database = database.place(), "database ready");
    let state = app_state(config, storage, database, &token_key);
    let guards = guards(config, &state, &token_key).await;
    let sweeper = sweeper(config, &state, embedded.is_some());
    let deliverer = Deliverer::new(
        state.database.clone(),
        state.storage.clone(),
        config.deliveries(),
        state.deliveries.clone(),
    );
    let (store, route) = embedded.unzip();
    Ok(App {
        router: router(leptos_options, state.clone(), route, guards),
        state,
        store,
        sweeper,
        deliverer,
    })
}

/// Why the data directory cannot be used.
fn data_error(config: &Config) -> impl Fn(std::io::Error) -> StartError + '_ {
    |source| StartError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    }
}

/// The configured bucket, once the store check finds nothing that stops uploads (its
/// warnings logged).
async fn checked_external_storage(config: &Config, bucket: &str) -> Result<Storage, StartError> {
    let storage = external_storage(config, bucket).await;
    let report = bucket_check::check(&storage, &store_target(config, &storage)).await;
    if report.is_fatal() {
        return Err(StartError::Store(report));
    }
    for warning in report.of(bucket_check::Severity::Warning) {
        tracing::warn!(check = warning.check, "{}", warning.message);
    }
    Ok(storage)
}

/// The embedded store opened in the data directory, its bucket made, and the client
/// that reaches it on this server's own port; with the route that serves it.
async fn embedded_storage(
    config: &Config,
    local_addr: SocketAddr,
) -> Result<(Storage, (EmbeddedStore, StoreRoute)), StartError> {
    let secrets = secrets::load_or_create(&config.data_dir).map_err(data_error(config))?;
    let store = EmbeddedStore::open(&config.data_dir.join("store"))
        .await
        .map_err(data_error(config))?;
    store
        .ensure_bucket(EMBEDDED_BUCKET)
        .await
        .map_err(data_error(config))?;
    let client = embedded_client(&format!("http://{}", own_address(local_addr)), &secrets);
    let presign = match &config.public_url {
        Some(url) => PresignEndpoint::Fixed(embedded_client(url, &secrets)),
        None => PresignEndpoint::RequestHost { scheme: "http" },
    };
    let storage = Storage::new(client, presign, EMBEDDED_BUCKET.into(), config.url_ttl());
    let route = StoreRoute {
        bucket: EMBEDDED_BUCKET.into(),
        service: store.service(&secrets.store_access_key, &secrets.store_secret_key),
    };
    Ok((storage, (store, route)))
}

/// Where the server reaches its own embedded store: where it listens, or, listening on
/// every address, the loopback address of that family.
fn own_address(listening: SocketAddr) -> SocketAddr {
    let ip: IpAddr = match listening.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => Ipv4Addr::LOCALHOST.into(),
        IpAddr::V6(ip) if ip.is_unspecified() => Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    SocketAddr::new(ip, listening.port())
}

/// The secret tokens and sessions are tagged with: `--secret`, or the one generated
/// into the data directory.
fn token_key(config: &Config) -> Result<Vec<u8>, StartError> {
    Ok(match &config.secret {
        Some(secret) => secret.0.as_bytes().to_vec(),
        None => secrets::load_or_create(&config.data_dir)
            .map_err(data_error(config))?
            .token_key
            .into_bytes(),
    })
}

/// The database of links and the record, brought up to date (SQLite's file made in the
/// data directory on first start).
pub async fn database(config: &Config) -> Result<Database, StartError> {
    if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir).map_err(data_error(config))?;
    }
    Ok(Database::open(&config.database_url()).await?)
}

/// What every server function shares.
fn app_state(config: &Config, storage: Storage, database: Database, token_key: &[u8]) -> AppState {
    AppState {
        api_tokens: Verifier::new(database.clone()),
        database,
        has_operator: config.access_password.is_some(),
        open_drop: config.is_open_drop(),
        metrics: Default::default(),
        policy: config.policy(),
        key_prefix: config.key_prefix.clone(),
        token_ttl: Duration::from_secs(config.token_ttl_secs),
        files: crate::server::state::FileAccess {
            list: config.list_files,
            delete: config.allow_delete,
        },
        tokens: TokenSigner::new(token_key),
        grants: Signer::new(b"s3drop link grant\0", token_key),
        pre_start: config.pre_start(),
        deliveries: Wake::default(),
        storage,
    }
}

/// What every request passes: the security headers (naming the store's origin), the
/// login of a private drop, the rate limit and the metrics token.
async fn guards(config: &Config, state: &AppState, token_key: &[u8]) -> Guards {
    let security = Policy {
        store_origins: state.storage.browser_origin().await.into_iter().collect(),
    };
    let clients = Clients {
        trusted_proxies: config.trusted_proxy.clone(),
    };
    let access = config.access_password.as_ref().map(|password| {
        let secure = config
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"));
        Access::new(password.0.clone(), token_key, secure, clients.clone())
    });
    let limit = ApiLimit {
        limiter: RateLimiter::pruned(config.rate_limit, config.rate_limit * 10.0),
        clients,
    };
    Guards {
        security,
        gate: Gate {
            access,
            tokens: state.api_tokens.clone(),
            clients: limit.clients.clone(),
            open_drop: config.is_open_drop(),
        },
        limit,
        metrics: MetricsToken::new(config.metrics_token.as_ref().map(|t| t.0.as_str())),
    }
}

/// The sweeper of stale multipart uploads. The embedded store is s3drop's alone: every
/// stale upload in it goes. In an external bucket, only those under s3drop's prefix.
fn sweeper(config: &Config, state: &AppState, embedded: bool) -> Sweeper {
    Sweeper {
        state: state.clone(),
        prefix: match embedded {
            true => String::new(),
            false => state.key_prefix.clone(),
        },
        max_age: Duration::from_secs(config.stale_upload_hours * 60 * 60),
    }
}

/// Binds, builds and serves until SIGINT or SIGTERM.
pub async fn run(config: Config, leptos_options: LeptosOptions) -> Result<(), StartError> {
    let addr = config.bind.unwrap_or(leptos_options.site_addr);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let local_addr = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    let site = Path::new(leptos_options.site_root.as_ref());
    if let Some(problem) = site_problem(site, &leptos_options.output_name) {
        tracing::warn!("{problem}");
    }
    let app = build(&config, leptos_options, local_addr).await?;
    if app.store.is_some() {
        tracing::info!(data_dir = %config.data_dir.display(), "embedded store ready");
    }
    tracing::info!("s3drop listening on http://{local_addr}");
    serve(listener, app, shutdown_signal()).await
}

/// The loader of the page's split-out WASM chunks (the operator's rooms), as
/// `cargo leptos build --split` names it beside the page's script.
const SPLIT_LOADER: &str = "__wasm_split.______________________.js";

/// Why the page served from `site_root` (its script `{output_name}.js`) would never
/// become interactive, if it would not: its script missing (the wrong
/// `LEPTOS_SITE_ROOT`), or built without `--split` (the script imports a chunk loader
/// that is not there). Said at start, where an operator looks, rather than only in a
/// browser's console.
fn site_problem(site_root: &Path, output_name: &str) -> Option<String> {
    let pkg = site_root.join("pkg");
    let Ok(script) = std::fs::read_to_string(pkg.join(format!("{output_name}.js"))) else {
        return Some(format!(
            "the page's files are not in {}: the page will not work; set LEPTOS_SITE_ROOT \
             to the release's site folder",
            site_root.display()
        ));
    };
    (script.contains(SPLIT_LOADER) && !pkg.join(SPLIT_LOADER).exists()).then(|| {
        format!(
            "{} has no {SPLIT_LOADER}: the page was built without --split and will not work; \
             build it with `cargo leptos build --split` (scripts/run.sh and scripts/release.sh do)",
            pkg.display()
        )
    })
}

/// Serves until `shutdown` resolves, then lets the requests in flight finish; sweeps
/// stale uploads and sends webhooks meanwhile (the sender stops with the server: what
/// it had not sent waits in the outbox for the next start, or another server).
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let sweeping = tokio::spawn(app.sweeper.every(SWEEP_EVERY));
    let ending = tokio::spawn(end_abandoned_every(app.state.clone(), ABANDONED_EVERY));
    let service = app
        .router
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let serving = axum::serve(listener, service).with_graceful_shutdown(shutdown);
    tokio::select! {
        served = serving => served.map_err(StartError::Serve)?,
        () = app.deliverer.run() => {}
    }
    sweeping.abort();
    ending.abort();
    tracing::info!("stopped; every request in flight finished");
    Ok(())
}

/// Aborts multipart uploads left unfinished longer than `max_age`, through the S3 API
/// (ListMultipartUploads), the same for every store, in s3drop's part of it only.
#[derive(Clone)]
pub struct Sweeper {
    state: AppState,
    /// Where the uploads swept are: all of the embedded store, s3drop's key prefix in
    /// an external bucket (other people's uploads are theirs).
    prefix: String,
    max_age: Duration,
}

impl Sweeper {
    /// One sweep of the uploads older than `max_age` (tests give their own), logged
    /// and counted; answers how many it aborted.
    pub async fn sweep(&self, max_age: Duration) -> Result<usize, StoreError> {
        let swept = self
            .state
            .storage
            .sweep_stale_uploads(&self.prefix, max_age)
            .await?;
        if swept > 0 {
            self.state.metrics.stale_swept.inc_by(swept as u64);
            tracing::info!(swept, prefix = %self.prefix, "aborted stale multipart uploads");
        }
        Ok(swept)
    }

    /// Sweeps at once, then every `period`, for ever.
    async fn every(self, period: Duration) {
        let sweeper = &self;
        on_schedule(period, || async move {
            if let Err(err) = sweeper.sweep(sweeper.max_age).await {
                tracing::warn!(%err, "could not sweep stale multipart uploads");
            }
        })
        .await
    }
}

/// Ends the uploads the record finds abandoned, at once and then every `period`.
async fn end_abandoned_every(state: AppState, period: Duration) {
    let state = &state;
    on_schedule(period, || async move {
        match end_abandoned(state, system::now_secs()).await {
            Ok(0) => {}
            Ok(ended) => tracing::info!(ended, "ended abandoned uploads"),
            Err(err) => tracing::warn!(%err, "could not end abandoned uploads"),
        }
    })
    .await
}

/// Runs `job` at once, then every `period`, for ever; a run that overruns its period
/// delays the next instead of bunching the missed ones up behind it.
async fn on_schedule<F: Future<Output = ()>>(period: Duration, mut job: impl FnMut() -> F) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        job().await;
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing the requests in flight");
}

/// A client for the embedded store at `endpoint`, path-style, with its own credentials.
fn embedded_client(endpoint: &str, secrets: &secrets::Secrets) -> aws_sdk_s3::Client {
    let shared = fixed_config(
        "us-east-1",
        &secrets.store_access_key,
        &secrets.store_secret_key,
    );
    sdk_client(&shared, Some(endpoint), true)
}

/// `--check-store` and `--setup-store` (`Mode::SetUpStore` sets up first): answers the
/// report to print and whether the store can be used.
pub async fn store_command(config: &Config, mode: Mode) -> (String, bool) {
    let Some(bucket) = &config.bucket else {
        return (
            "the embedded store needs no setup (it is s3drop's own; no --bucket is set)\n".into(),
            true,
        );
    };
    let storage = external_storage(config, bucket).await;
    let target = store_target(config, &storage);
    let mut out = String::new();
    if mode == Mode::SetUpStore {
        match bucket_check::set_up(&storage, &target).await {
            Ok(done) => {
                for change in done {
                    out.push_str(&format!("set  {change}\n"));
                }
            }
            Err(err) => return (format!("{out}FAIL setup      {err}\n"), false),
        }
    }
    let report = bucket_check::check(&storage, &target).await;
    out.push_str(&report.to_string());
    (out, !report.is_fatal())
}

/// What the store check looks at: s3drop's prefix, the page's origin (from
/// `--public-url`), and the stale-upload age in whole days (at least one).
fn store_target(config: &Config, storage: &Storage) -> Target {
    let days = config.stale_upload_hours.div_ceil(24).max(1);
    let region = storage.client().config().region().map(ToString::to_string);
    Target {
        endpoint: config
            .endpoint_url
            .clone()
            .unwrap_or_else(|| format!("AWS S3 ({})", region.as_deref().unwrap_or(DEFAULT_REGION))),
        prefix: config.key_prefix.clone(),
        origin: config.public_url.as_deref().and_then(origin_of),
        abort_after_days: i32::try_from(days).unwrap_or(i32::MAX),
    }
}

/// A client for an external store: credentials and region from `aws-config`'s own
/// chains (environment with session token, profiles and SSO, web identity, container
/// and instance), unless the flags name them.
async fn external_storage(config: &Config, bucket: &str) -> Storage {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = &config.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let (Some(id), Some(secret)) = (&config.access_key_id, &config.secret_access_key) {
        loader = loader.credentials_provider(Credentials::new(
            id,
            &secret.0,
            None,
            None,
            "s3drop-config",
        ));
    }
    let mut shared = loader.load().await;
    if shared.region().is_none() {
        // S3 needs a region to sign for; most S3-compatible stores take this one.
        shared = shared
            .into_builder()
            .region(Region::from_static(DEFAULT_REGION))
            .build();
    }
    let client = sdk_client(&shared, config.endpoint_url.as_deref(), config.path_style);
    let presigner = match &config.store_public_url {
        Some(url) => sdk_client(&shared, Some(url), config.path_style),
        None => client.clone(),
    };
    Storage::new(
        client,
        PresignEndpoint::Fixed(presigner),
        bucket.to_owned(),
        config.url_ttl(),
    )
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[test]
    fn the_server_reaches_its_own_store_where_it_listens() {
        let cases = [
            ("127.0.0.1:3000", "127.0.0.1:3000"),
            ("192.168.1.5:3000", "192.168.1.5:3000"),
            ("127.0.0.2:80", "127.0.0.2:80"),
            ("[::1]:3000", "[::1]:3000"),
            ("[fd00::5]:3000", "[fd00::5]:3000"),
            ("0.0.0.0:3000", "127.0.0.1:3000"),
            ("[::]:3000", "[::1]:3000"),
        ];
        for (listening, reached) in cases {
            let listening: SocketAddr = listening.parse().expect("an address");
            assert_eq!(own_address(listening).to_string(), reached, "{listening}");
        }
    }

    #[test]
    fn a_site_that_would_not_work_is_said_at_start() {
        let loader = format!("import {{ x }} from './{SPLIT_LOADER}';");
        // The files in pkg/ (name, text), and words of what is wrong.
        type Files<'a> = &'a [(&'a str, &'a str)];
        let cases: [(Files, Option<&str>); 4] = [
            (&[], Some("are not in")),
            (&[("s3drop.js", "import x;")], None),
            (&[("s3drop.js", &loader)], Some("without --split")),
            (&[("s3drop.js", &loader), (SPLIT_LOADER, "")], None),
        ];
        for (files, problem) in cases {
            let site = tempfile::tempdir().expect("a temporary directory");
            std::fs::create_dir(site.path().join("pkg")).expect("pkg/");
            for (name, text) in files {
                std::fs::write(site.path().join("pkg").join(name), text).expect("a file");
            }
            let said = site_problem(site.path(), "s3drop");
            match problem {
                None => assert_eq!(said, None, "{files:?}"),
                Some(words) => assert!(said.is_some_and(|s| s.contains(words)), "{files:?}"),
            }
        }
    }

    #[tokio::test]
    async fn the_schedule_runs_at_once_then_once_a_period() {
        let period = Duration::from_millis(1_500);
        let started = Instant::now();
        let (ran, mut runs) = tokio::sync::mpsc::unbounded_channel();
        let schedule = tokio::spawn(on_schedule(period, move || {
            let _ = ran.send(Instant::now());
            async {}
        }));
        let mut times = Vec::new();
        for _ in 0..3 {
            times.push(runs.recv().await.expect("the schedule runs"));
        }
        schedule.abort();
        assert!(times[0] < started + period, "the first run is at once");
        for (n, at) in (0u32..).zip(&times) {
            assert!(*at >= started + period * n, "run {n} waited its period");
        }
    }
}
