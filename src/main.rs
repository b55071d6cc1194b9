//! The s3drop server: read the configuration, start, serve until told to stop.

use std::process::ExitCode;

use clap::Parser;
use leptos::config::get_configuration;
use s3drop::server::config::Config;
use s3drop::server::startup;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,aws_config=warn".into()),
        )
        .init();
    let config = Config::parse();
    let leptos_options = match get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(err) => {
            eprintln!("s3drop: cannot read the Leptos configuration: {err}");
            return ExitCode::FAILURE;
        }
    };
    match startup::run(config, leptos_options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("s3drop: {err}");
            ExitCode::FAILURE
        }
    }
}
