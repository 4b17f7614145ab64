//! A gateway process for the crash-injection journey (`tests/crash.rs`): it serves the real
//! gateway on a loopback port with the simulated Slack and Stripe that the *test* process runs,
//! so the providers (and the effects they counted) outlive every kill of the gateway.
//!
//! Usage: `crash_gateway DATA_DIR SLACK_URL STRIPE_URL`; prints `listening URL` on stdout, then
//! serves until stdin closes or SIGTERM. `SWITCHBOARD_FAILPOINT` names the step at which the
//! process kills itself with SIGKILL (see `switchboard_api`'s failpoints). Not part of the
//! product.

use std::io::Write;
use std::path::PathBuf;

use switchboard_api::{App, AppOptions};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, data_dir, slack, stripe] = args.as_slice() else {
        eprintln!("usage: crash_gateway DATA_DIR SLACK_URL STRIPE_URL");
        std::process::exit(2);
    };
    let catalog = switchboard_connectors::catalog();
    let entry = |id: &str, url: &str| catalog.providers.iter().find(|p| p.id == id).map(|p| p.sandboxed(url));
    let (Some(slack), Some(stripe)) = (entry("slack", slack), entry("stripe", stripe)) else {
        eprintln!("the catalog lacks slack or stripe");
        std::process::exit(1);
    };
    let mut opts = AppOptions::new(PathBuf::from(data_dir));
    opts.extra_providers = vec![slack, stripe];
    let app = match App::start(opts).await {
        Ok(a) => a,
        Err(e) => {
            eprintln!("the gateway did not start: {e}");
            std::process::exit(1);
        }
    };
    let listener = match switchboard_server::bind(0).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("bind: {e}");
            std::process::exit(1);
        }
    };
    let handle = match switchboard_server::serve(app, listener, None).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("serve: {e}");
            std::process::exit(1);
        }
    };
    println!("listening {}", handle.url());
    let _ = std::io::stdout().flush();
    let stdin_closed = tokio::task::spawn_blocking(|| {
        let mut sink = String::new();
        while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {
            sink.clear();
        }
    });
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = stdin_closed => {}
        _ = async { if let Some(t) = term.as_mut() { t.recv().await; } else { std::future::pending::<()>().await } } => {}
    }
    handle.shutdown("crash journey: clean stop").await;
}
