//! The gateway's HTTP edge, bound to 127.0.0.1 only.
//!
//! | path | who | auth |
//! |---|---|---|
//! | `GET /healthz` | anyone local | none |
//! | `GET /login?code=…` | a browser | one-time code → HttpOnly, SameSite=Strict session cookie |
//! | `/api/control/v1/…` | the UI and the CLI | control token (bearer) or session cookie |
//! | `GET /api/control/v1/providers` | the UI and the CLI | as above; the provider catalog (`Catalog`) |
//! | `GET, POST /api/control/v1/agents`, `DELETE /api/control/v1/agents/{name}` | the UI and the CLI | as above; list, add (`{name}` → `{name, token}`), revoke |
//! | `GET /api/control/v1/live` | the UI | as above; Server-Sent Events: one `event: <kind>` per [`switchboard_api::live::LiveEvent`] (JSON data), `ready` first, keep-alive comments |
//! | `GET, POST /api/control/v1/pause`, `POST /api/control/v1/resume` | the UI and the CLI | as above; the switch that stops every agent |
//! | `POST, GET, DELETE /mcp` | MCP clients (Streamable HTTP) | agent token (bearer) only; sessions bound to the agent (see `switchboard_mcp`) |
//! | `/api/agent/v1/…` (`GET whoami`, `GET tools`, `POST tools/{tool}`, `GET approvals/{id}`, `GET events`) | agents | agent token (bearer) only; `paused` (503) while paused |
//! | `GET /api/agent/v1/openapi.json` | anyone local | none; the agent API's OpenAPI 3.1 document |
//! | `POST /hooks/{connection_id}` | provider webhooks | the provider's signature over the raw body only (no token, cookie or `Origin` rule; loopback `Host` still checked); body ≤ 1 MiB |
//! | `/mcp-conformance` | the MCP conformance suite | none; only with `serve --mcp-conformance` (test-only fixtures, see `switchboard_mcp::conformance`) |
//! | `/` and assets | the UI in a browser | none (the data behind it needs the session) |
//!
//! Every request's `Host` must be a loopback name with our port, and a request carrying an
//! `Origin` that is not our own gets 403 (DNS rebinding and cross-site requests; `/hooks/…` is
//! exempt from the `Origin` rule only). A request
//! authenticated by cookie that changes state must carry our `Origin`. Errors are
//! `{code, message}` with the status [`ErrorCode::http_status`] gives. Agent tokens and the
//! control token are different kinds: each API refuses the other's with 401.
//!
//! Must not contain business logic: each handler parses input, calls one `switchboard_api::App`
//! method and maps the result. Must not depend on Tauri.
//!
//! How to add a route: add the handler in the module for its audience (`control`, `agent`,
//! `hooks`; MCP lives in the `switchboard_mcp` crate), register it in [`router`], and document it in the table above.

mod agent;
mod control;
mod guard;
mod hooks;
mod openapi;
mod static_ui;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use axum::Router;
use axum::routing::get;
use switchboard_api::App;
use switchboard_core::{ApiError, ErrorCode};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use guard::Allowed;
pub use openapi::{agent_api_document, agent_api_routes};
pub use static_ui::default_ui_dir;

/// Binds 127.0.0.1:`port` (`0` picks a free port). A port in use is an error naming the port.
pub async fn bind(port: u16) -> Result<TcpListener, ApiError> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpListener::bind(addr).await.map_err(|e| {
        let what = if e.kind() == std::io::ErrorKind::AddrInUse {
            format!("port {port} on 127.0.0.1 is already in use; pick another with --port, or --port 0 for any free port")
        } else {
            format!("cannot listen on 127.0.0.1:{port}: {e}")
        };
        ApiError::new(ErrorCode::Conflict, what)
    })
}

/// Turns `true` when the server starts shutting down: long-lived responses (the live event
/// stream) end so the graceful shutdown does not wait on them.
#[derive(Clone)]
pub(crate) struct Closing(pub(crate) tokio::sync::watch::Receiver<bool>);

/// What a gateway serves beyond the standard routes (test-only profiles).
#[derive(Debug, Clone, Copy, Default)]
pub struct Extras {
    /// Mount the MCP conformance fixtures at `/mcp-conformance` (`serve --mcp-conformance`).
    pub mcp_conformance: bool,
}

/// The routes, for a gateway listening on `port`, plus the test-only [`Extras`] asked for.
/// `closing` ends the live event stream and cancelling `shutdown` closes MCP sessions and
/// streams, so a graceful stop never waits on them.
fn router(app: App, port: u16, ui_dir: Option<PathBuf>, closing: Closing, shutdown: switchboard_mcp::CancellationToken, extras: Extras) -> Router {
    let allowed = Allowed::for_port(port);
    let base = if extras.mcp_conformance {
        Router::new().nest_service(switchboard_mcp::conformance::PATH, switchboard_mcp::conformance::router(shutdown.clone()))
    } else {
        Router::new()
    };
    base
        .route("/healthz", get(control::healthz))
        .route("/login", get(control::login))
        .nest("/api/control/v1", control::routes(app.clone(), allowed.clone()))
        .nest("/api/agent/v1", agent::routes(app.clone()))
        .nest_service("/mcp", switchboard_mcp::router(app.clone(), shutdown))
        .route("/hooks/{connection_id}", axum::routing::post(hooks::receive))
        .fallback_service(static_ui::service(ui_dir))
        .layer(axum::Extension(closing))
        .layer(axum::middleware::from_fn_with_state(allowed, guard::host_and_origin))
        .layer(static_ui::header("content-security-policy", static_ui::CSP))
        .layer(static_ui::header("x-frame-options", "DENY"))
        .layer(static_ui::header("x-content-type-options", "nosniff"))
        .layer(static_ui::header("referrer-policy", "no-referrer"))
        .with_state(app)
}

/// A running HTTP server.
pub struct ServerHandle {
    app: App,
    port: u16,
    stop: oneshot::Sender<()>,
    closing: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl ServerHandle {
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    /// Stops accepting, finishes in-flight requests, then shuts the gateway down (audited).
    pub async fn shutdown(self, reason: &str) {
        self.closing.send_replace(true);
        let _ = self.stop.send(());
        let _ = self.task.await;
        self.app.shutdown(reason).await;
    }
}

/// Serves `app` on `listener` and records the start (`gateway.start`, `gateway.json`).
pub async fn serve(app: App, listener: TcpListener, ui_dir: Option<PathBuf>) -> Result<ServerHandle, ApiError> {
    serve_with(app, listener, ui_dir, Extras::default()).await
}

/// [`serve`] with test-only [`Extras`].
pub async fn serve_with(app: App, listener: TcpListener, ui_dir: Option<PathBuf>, extras: Extras) -> Result<ServerHandle, ApiError> {
    let port = listener.local_addr().map_err(|e| ApiError::internal(format!("listener has no address: {e}")))?.port();
    app.mark_listening(port).await?;
    let (closing, closing_rx) = tokio::sync::watch::channel(false);
    let mcp_shutdown = switchboard_mcp::CancellationToken::new();
    let router = router(app.clone(), port, ui_dir, Closing(closing_rx), mcp_shutdown.clone(), extras);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        // Replies go out as soon as they are written: without TCP_NODELAY a reply written in two
        // parts waits for the client's delayed ACK (40 ms on Linux) on a kept-alive connection.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY on a connection");
            }
        });
        let server = axum::serve(listener, router).with_graceful_shutdown(async move {
            let _ = stopped.await;
            // Open MCP streams would otherwise hold the graceful shutdown forever.
            mcp_shutdown.cancel();
        });
        if let Err(e) = server.await {
            tracing::error!(error = %e, "HTTP server failed");
        }
    });
    Ok(ServerHandle { app, port, stop, closing, task })
}
