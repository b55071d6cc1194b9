//! The s3drop server: read the configuration, start, serve until told to stop.

use std::process::ExitCode;

use leptos::config::get_configuration;
use s3drop::server::cli::config::{Command, Config, LogFormat, Mode};
use s3drop::server::cli::{hooks, links, startup, tokens};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::load(std::env::args_os()) {
        Ok(config) => config,
        Err(err) => err.exit(),
    };
    let filter = EnvFilter::try_from_default_env()
        // aws-config warns of each credential source it tries and finds empty (the
        // instance's, off AWS); what matters reaches the store check as an error.
        .unwrap_or_else(|_| "info,aws_config=error,aws_smithy_runtime=warn".into());
    // A command's output is what it prints: its logs go to standard error.
    let writer = match config.command {
        Some(_) => BoxMakeWriter::new(std::io::stderr),
        None => BoxMakeWriter::new(std::io::stdout),
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match config.log_format {
        LogFormat::Human => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    let mode = config.mode();
    if mode == Mode::CheckConfig {
        print!("{}", config.describe());
    }
    if let Err(err) = config.validate() {
        eprintln!("s3drop: {err}");
        return ExitCode::from(2);
    }
    let leptos_options = match get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(err) => {
            eprintln!("s3drop: cannot read the Leptos configuration: {err}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(Command::Upload(args)) = &config.command {
        return upload(args).await;
    }
    if let Some(command) = &config.command {
        let base = config.public_base(leptos_options.site_addr);
        let done = match (startup::database(&config).await, command) {
            (Ok(db), Command::Links(command)) => links::run(&db, &base, command).await,
            (Ok(db), Command::Hooks(command)) => hooks::run(&db, command).await,
            (Ok(db), Command::Tokens(command)) => tokens::run(&db, command).await,
            (Ok(_), Command::Upload(_)) => Err("`upload` runs above".into()),
            (Err(err), _) => Err(err.to_string()),
        };
        return match done {
            Ok(out) => {
                print!("{out}");
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("s3drop: {err}");
                ExitCode::FAILURE
            }
        };
    }
    match mode {
        Mode::Serve => {}
        Mode::CheckConfig => return ExitCode::SUCCESS,
        Mode::CheckStore | Mode::SetUpStore => {
            let (report, usable) = startup::store_command(&config, mode).await;
            print!("{report}");
            return if usable {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            };
        }
    }
    match startup::run(config, leptos_options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(startup::StartError::Config(err)) => {
            eprintln!("s3drop: {err}");
            ExitCode::from(2)
        }
        Err(err) => {
            eprintln!("s3drop: {err}");
            ExitCode::FAILURE
        }
    }
}

/// `s3drop upload`: 0 when every file is stored, 1 when some failed (the summary says
/// which; running the same command again goes on), 2 when nothing could start.
async fn upload(args: &s3drop::client::upload::UploadArgs) -> ExitCode {
    let began = std::time::Instant::now();
    match s3drop::client::upload::run(args).await {
        Ok(summary) => {
            print!("{}", s3drop::client::upload::report(&summary, began));
            match summary.failed.is_empty() {
                true => ExitCode::SUCCESS,
                false => ExitCode::FAILURE,
            }
        }
        Err(err) => {
            eprintln!("s3drop upload: {err}");
            ExitCode::from(2)
        }
    }
}
