//! Switchboard's MCP server: each agent reaches exactly the tools its grants allow over
//! Streamable HTTP (rmcp), with the same checks, approval queue and audit as the agent REST API.
//!
//! - [`router`] is the whole `/mcp` endpoint as an axum router, to be nested by the HTTP edge
//!   behind its Host/Origin guard: agent bearer-token authentication (missing, unknown, revoked
//!   and control tokens → 401 `{code, message}`), session ids bound to the agent that opened
//!   them (another agent's token with that session id → 404, as for an unknown session), then
//!   rmcp's Streamable HTTP service. Protocol 2025-11-25 clients get sessions; 2026-07-28
//!   clients are served without them.
//! - [`AgentServer`] is the rmcp `ServerHandler`: `tools/list` from `App::agent_tools` (see
//!   [`tools::mcp_tool`]), `tools/call` through `App::agent_call` with every outcome a tool
//!   result ([`tools::tool_result`]), resources `switchboard://connections/{id}/events` for
//!   each connection the agent may read, and `notifications/tools/list_changed` whenever the
//!   agent's grants change or one lapses (`App::grant_changes`).
//! - The agent's token is used only to find the agent: it is never forwarded or logged.
//! - [`bridge`] is the stdio bridge of `switchboard mcp`: an rmcp stdio server relaying to
//!   `/mcp` through an rmcp Streamable HTTP client, notifications included.
//! - [`conformance`] is the test-only fixture server for the official MCP conformance suite,
//!   mounted at `/mcp-conformance` only by `switchboard serve --mcp-conformance`, with the same
//!   Streamable HTTP settings ([`http_config`]).
//!
//! Must not contain business logic (that is `switchboard_api`'s) and must not depend on the
//! server crate, Tauri or clap. How to add an MCP capability: implement the `ServerHandler`
//! method in [`handler`], keep shaping that is pure in [`tools`] with unit tests, and cover it
//! with a journey in `tests/tests/mcp.rs`.

pub mod bridge;
pub mod conformance;
pub mod handler;
pub mod tools;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use switchboard_api::App;
use switchboard_api::agents::AgentId;
use switchboard_core::{ApiError, ErrorCode};
pub use tokio_util::sync::CancellationToken;

pub use handler::{AgentServer, events_uri};

const SESSION_HEADER: &str = "mcp-session-id";

/// The `/mcp` endpoint for `app`: nest it at `/mcp` behind the Host/Origin guard. Cancelling
/// `shutdown` ends every session and open stream, so a graceful server shutdown does not wait
/// on clients that keep a stream open.
pub fn router(app: App, shutdown: CancellationToken) -> Router {
    let sessions = Arc::new(LocalSessionManager::default());
    let factory_app = app.clone();
    let config = http_config(shutdown);
    let service = StreamableHttpService::new(
        move || Ok(AgentServer::new(factory_app.clone())),
        sessions.clone(),
        config,
    );
    let state = Edge {
        app,
        sessions,
        bindings: Arc::new(Mutex::new(HashMap::new())),
    };
    Router::new()
        .fallback_service(service)
        .layer(axum::middleware::from_fn_with_state(state, authenticate))
}

/// The Streamable HTTP settings of every MCP endpoint the gateway mounts (`/mcp`, and the
/// test-only `/mcp-conformance`), so both have the same session handling.
pub fn http_config(shutdown: CancellationToken) -> StreamableHttpServerConfig {
    StreamableHttpServerConfig::default()
        // The HTTP edge checks Host and Origin against the gateway's own port before this.
        .disable_allowed_hosts()
        .with_json_response(true)
        .with_cancellation_token(shutdown)
}

#[derive(Clone)]
struct Edge {
    app: App,
    sessions: Arc<LocalSessionManager>,
    /// Which agent opened each live session.
    bindings: Arc<Mutex<HashMap<String, i64>>>,
}

/// `{code, message}` with the code's status; 401s also name the scheme.
fn refuse(e: ApiError) -> Response {
    let status =
        StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let unauthorized = e.code == ErrorCode::Unauthorized;
    let mut resp = (status, [(header::CACHE_CONTROL, "no-store")], axum::Json(e)).into_response();
    if unauthorized {
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    resp
}

/// Authenticates the agent token, binds sessions to the agent that opened them, and hands the
/// agent to the handler through the request's extensions.
async fn authenticate(State(edge): State<Edge>, mut req: Request, next: Next) -> Response {
    let authorization = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let agent = match edge.app.authenticate_agent_header(authorization) {
        Ok(a) => a,
        Err(e) => return refuse(e),
    };
    // The token has done its job: nothing below sees it.
    req.headers_mut().remove(header::AUTHORIZATION);
    let session = req
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if let Some(id) = &session {
        let owner = edge
            .bindings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .copied();
        if owner.is_some_and(|o| o != agent.id) {
            tracing::warn!(agent = %agent.name, "an MCP session id of another agent was presented");
            return refuse(ApiError::new(
                ErrorCode::NotFound,
                "there is no such MCP session for this agent; start a new one (initialize)",
            ));
        }
    }
    let deleting = req.method() == Method::DELETE;
    req.extensions_mut().insert::<AgentId>(agent.clone());
    let resp = next.run(req).await;
    match (
        &session,
        resp.headers()
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok()),
    ) {
        (None, Some(new)) if resp.status().is_success() => {
            edge.bind(new.to_string(), agent.id).await
        }
        (Some(id), _) if deleting && resp.status().is_success() => {
            edge.bindings
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(id);
        }
        _ => {}
    }
    resp
}

impl Edge {
    /// Records the session's agent and forgets sessions that have ended since.
    async fn bind(&self, session: String, agent: i64) {
        let live: std::collections::HashSet<String> = self
            .sessions
            .sessions
            .read()
            .await
            .keys()
            .map(|k| k.to_string())
            .collect();
        let mut bindings = self.bindings.lock().unwrap_or_else(|p| p.into_inner());
        bindings.retain(|id, _| live.contains(id));
        bindings.insert(session, agent);
    }
}
