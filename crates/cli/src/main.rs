//! The `jiazheng` binary: parse the command line and hand over to a command.

mod claims_demo;
mod cli;
mod commands;
mod community_demo;
mod demo;
mod evaluation_demo;
mod history;
mod market_demo;
mod oversight_demo;
mod payments_demo;
mod subsidy_demo;
mod survey_demo;
mod tasks_demo;

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match commands::run(cli::Cli::parse()).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::from(2)
        }
    }
}
