//! `switchboard`: the headless command line. Thin adapters over `switchboard_api`: parse the
//! arguments, call one use case, print the result (or `--json`), exit 0 / 1 (failure) /
//! 2 (usage error).
//!
//! `serve` runs the gateway; `audit verify|export|search` work on the data dir directly; every
//! other command talks (`demo` starts a sandbox gateway first when none runs) to the gateway running for the data dir (found through its
//! `gateway.json`) with the control token from the OS keychain.
//!
//! Must not contain business logic and must not depend on Tauri.
//!
//! How to add a command: add a variant to [`cli::Command`], a module under `src/` that calls
//! the api (or the gateway's control API through [`client`]), and a line in the README table.

mod agents;
mod approvals;
mod audit;
mod cli;
mod client;
mod connections;
mod demo;
mod events;
mod grants;
mod mcp;
mod output;
mod plan;
mod policies;
mod providers;
mod serve;

use clap::Parser;
use switchboard_core::ApiError;

use crate::cli::{Cli, Command};

fn main() {
    let cli = Cli::parse();
    init_logging();
    let json = cli.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let result: Result<(), ApiError> = runtime.block_on(async move {
        let data_dir = switchboard_api::datadir::resolve(cli.data_dir.clone())?;
        match cli.command {
            Command::Serve(args) => serve::run(data_dir, args, json).await,
            Command::Status => client::status(&data_dir, json).await,
            Command::LoginUrl => client::login_url(&data_dir, json).await,
            Command::Providers => providers::run(&data_dir, json).await,
            Command::Agents(cmd) => agents::run(&data_dir, cmd, json).await,
            Command::Connections(cmd) => connections::run(&data_dir, cmd, json).await,
            Command::Grants(cmd) => grants::run(&data_dir, cmd, json).await,
            Command::Events(cmd) => events::run(&data_dir, cmd, json).await,
            Command::Approvals(cmd) => approvals::run(&data_dir, cmd, json).await,
            Command::Policies(cmd) => policies::run(&data_dir, cmd, json).await,
            Command::Requests(cmd) => policies::requests(&data_dir, cmd, json).await,
            Command::Plan { workflow } => plan::run(&data_dir, workflow, json).await,
            Command::Pause => agents::pause(&data_dir, true, json).await,
            Command::Resume => agents::pause(&data_dir, false, json).await,
            Command::Audit(cmd) => audit::run(&data_dir, cmd, json),
            Command::Mcp(args) => mcp::run(&data_dir, args).await,
            Command::Demo(cli::DemoCommand::LeadFollowUp { auto_approve }) => demo::lead_follow_up(&data_dir, auto_approve).await,
        }
    });
    if let Err(e) = result {
        output::error(&e, json);
        std::process::exit(1);
    }
}

/// Logs go to stderr (stdout is for results); `SWITCHBOARD_LOG` sets the filter.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWITCHBOARD_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
