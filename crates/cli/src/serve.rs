//! `switchboard serve`.

use std::io::Write;
use std::path::PathBuf;

use switchboard_api::{App, AppOptions};
use switchboard_core::{ActorKind, ApiError};

use crate::cli::ServeArgs;

pub async fn run(data_dir: PathBuf, args: ServeArgs, json: bool) -> Result<(), ApiError> {
    // Bind first: a port in use fails before anything is created on disk or in the keychain.
    let listener = switchboard_server::bind(args.port).await?;
    let app = App::start(AppOptions { sandbox: args.sandbox, ..AppOptions::new(data_dir) }).await?;
    let ui_dir = args.ui_dir.or_else(switchboard_server::default_ui_dir);
    let extras = switchboard_server::Extras { mcp_conformance: args.mcp_conformance };
    let handle = match switchboard_server::serve_with(app.clone(), listener, ui_dir, extras).await {
        Ok(h) => h,
        Err(e) => {
            app.shutdown("start failed").await;
            return Err(e);
        }
    };
    let login = match app.issue_login_url(ActorKind::User, "serve").await {
        Ok(l) => l,
        Err(e) => {
            handle.shutdown("start failed").await;
            return Err(e);
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "switchboard listening on {}", handle.url());
        let _ = writeln!(out, "{}", login.url);
        let _ = out.flush();
    }
    if json {
        crate::output::json(&serde_json::json!({ "url": handle.url(), "data_dir": app.data_dir() }))?;
    }
    let reason = wait_for_signal().await;
    handle.shutdown(reason).await;
    Ok(())
}

async fn wait_for_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
            let _ = tokio::signal::ctrl_c().await;
            return "interrupt";
        };
        tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "interrupt"
    }
}
