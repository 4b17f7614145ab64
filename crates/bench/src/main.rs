//! `switchboard-bench`: programs that measure Switchboard and print figures for people, ending
//! with one line of JSON for scripts. Performance is measured here, never by timed tests.
//!
//! Must not be depended on by product code. How to add a benchmark: add a subcommand and a
//! module; print medians and ratios (machines are noisy) and end with
//! `{"bench":"NAME",…}` on its own line; document it in the README.

mod audit;
mod batch;
mod gateway;
mod workday;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "switchboard-bench", about = "Switchboard's benchmark programs")]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// Audit log: rows/s through the gateway's writer (one fsync per row, and grouped) and
    /// newest-first search latency over a large log.
    Audit(audit::Args),
    /// Read calls by several agents through the gateway against a provider enforcing 100
    /// requests per sliding 10 s: wall time vs the documented rate, and 429s.
    Batch(batch::Args),
    /// Inbox triage through the gateway: read 500 Gmail messages, look each sender up in
    /// HubSpot and label it, against Gmail's quota units per minute and HubSpot's per-10-second
    /// limit: wall time vs the slower provider's documented rate, and 429s.
    Workday(workday::Args),
    /// What the gateway adds to one sandbox read: direct, through the agent REST API, through
    /// /mcp and through the stdio bridge, at 1 and 8 concurrent agents.
    Gateway(gateway::Args),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.bench {
        Bench::Audit(args) => audit::run(&args),
        Bench::Batch(args) => batch::run(&args),
        Bench::Workday(args) => workday::run(&args),
        Bench::Gateway(args) => gateway::run(&args),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
