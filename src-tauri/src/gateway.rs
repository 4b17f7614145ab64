//! Starts the gateway in-process: exactly what `switchboard serve` does, on a free port, without
//! serving the UI over HTTP (the window uses the bundled front end through IPC).

use std::path::PathBuf;

use switchboard_api::{App, AppOptions};
use switchboard_core::ApiError;
use switchboard_server::ServerHandle;

/// Binds 127.0.0.1 on a free port, opens the data dir (lock, keychain, database) and serves;
/// with `sandbox` also starts the simulated providers and lists them in the catalog.
/// On failure nothing stays running and the data dir is released.
pub async fn start(data_dir: PathBuf, sandbox: bool) -> Result<ServerHandle, ApiError> {
    let listener = switchboard_server::bind(0).await?;
    let app = App::start(AppOptions {
        sandbox,
        ..AppOptions::new(data_dir)
    })
    .await?;
    match switchboard_server::serve(app.clone(), listener, None).await {
        Ok(server) => {
            tracing::info!(url = %server.url(), data_dir = %app.data_dir().display(), sandbox = ?app.sandbox_urls(), "gateway started");
            Ok(server)
        }
        Err(e) => {
            app.shutdown("desktop start failed").await;
            Err(e)
        }
    }
}
