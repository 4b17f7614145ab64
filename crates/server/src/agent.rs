//! The agents' REST API (`/api/agent/v1/…`), behind its own middleware: an agent bearer token is
//! required (no cookies, and the control token is refused), and while every agent is paused each
//! route answers 503 `paused` after the token is checked.
//!
//! - `GET /whoami` — the agent's name and whether agents are paused;
//! - `GET /tools` — the tools this agent may call now (its grants), each with its input schema
//!   and the connections it may use;
//! - `POST /tools/{tool}` with `{"connection"?, "input", "client_request_id"?}` — runs one
//!   action (see `switchboard_api::calls` for the checks and the error codes); 200 with the
//!   provider's answer, or 202 with `state: "pending_approval"` and the approval id when a
//!   person must approve it first;
//! - `GET /approvals/{id}` — where one of this agent's drafts stands (pending, approved,
//!   rejected with the reason, expired, executed with the provider's result, failed).
//! - `GET /events?connection=ID&after=SEQ&limit=N` — the connection's provider events (webhooks
//!   and pulls alike), oldest first, for an agent holding a read grant on it.
//! - `GET /openapi.json` — the OpenAPI 3.1 document of the routes above (no token needed; see
//!   `crate::openapi`).
//!
//! How to add a route: add it to [`mounted`] (which is what [`routes`] mounts) and describe it in
//! `crate::openapi`; the OpenAPI test fails until both agree.

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, RawQuery, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::http::Method;
use axum::routing::{MethodRouter, get, post};
use axum::{Extension, Router};
use switchboard_api::App;
use switchboard_api::agents::AgentId;
use switchboard_api::calls::{CallRequest, CallState};
use switchboard_core::ApiError;

use crate::control::{error_response, ok, reply};

/// Every route behind the agent token, as (method, path under `/api/agent/v1`, handler): the one
/// list [`routes`] mounts and the OpenAPI document is checked against.
pub(crate) fn mounted() -> Vec<(Method, &'static str, MethodRouter<App>)> {
    vec![
        (Method::GET, "/whoami", get(whoami)),
        (Method::GET, "/tools", get(tools)),
        (Method::POST, "/tools/{tool}", post(call_tool)),
        (Method::GET, "/events", get(events)),
        (Method::GET, "/approvals/{id}", get(approval_status)),
    ]
}

/// Routes that need no agent token (still Host/Origin-guarded like every route).
pub(crate) fn public() -> Vec<(Method, &'static str, MethodRouter<App>)> {
    vec![(Method::GET, "/openapi.json", get(crate::openapi::serve))]
}

pub fn routes(app: App) -> Router<App> {
    let guarded = mounted().into_iter().fold(Router::new(), |r, (_, path, handler)| r.route(path, handler));
    let guarded = guarded.layer(axum::middleware::from_fn_with_state(app, require_agent));
    public().into_iter().fold(guarded, |r, (_, path, handler)| r.route(path, handler))
}

/// Authenticates the agent token, then refuses every request while agents are paused.
async fn require_agent(State(app): State<App>, mut req: Request, next: Next) -> Response {
    let authorization = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let agent = match app.authenticate_agent_header(authorization) {
        Ok(a) => a,
        Err(e) => return error_response(e),
    };
    let path = req.extensions().get::<OriginalUri>().map_or_else(|| req.uri().path().to_string(), |u| u.path().to_string());
    let trigger = format!("http:{} {path}", req.method());
    if let Err(e) = app.admit_agent(&agent, &trigger).await {
        return error_response(e);
    }
    req.extensions_mut().insert(agent);
    next.run(req).await
}

/// Which agent this token belongs to: agents call it to check their token.
async fn whoami(State(app): State<App>, Extension(agent): Extension<AgentId>) -> Response {
    ok(app.agent_whoami(&agent))
}

async fn tools(State(app): State<App>, Extension(agent): Extension<AgentId>) -> Response {
    reply(app.agent_tools(&agent).await)
}

async fn call_tool(
    State(app): State<App>,
    Extension(agent): Extension<AgentId>,
    Path(tool): Path<String>,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> Response {
    let req: CallRequest = if body.iter().all(u8::is_ascii_whitespace) {
        CallRequest { input: serde_json::json!({}), ..CallRequest::default() }
    } else {
        match serde_json::from_slice(&body) {
            Ok(r) => r,
            Err(e) => {
                return error_response(ApiError::bad_request(format!(
                    "the body must be JSON like {{\"connection\": \"hubspot-1\", \"input\": {{…}}}} (line {}, column {})",
                    e.line(),
                    e.column()
                )));
            }
        }
    };
    match app.agent_call(&agent, &tool, req, &format!("http:POST {}", uri.path())).await {
        Ok(r) if r.state == CallState::PendingApproval => (axum::http::StatusCode::ACCEPTED, [(header::CACHE_CONTROL, "no-store")], axum::Json(r)).into_response(),
        other => reply(other),
    }
}

async fn approval_status(State(app): State<App>, Extension(agent): Extension<AgentId>, Path(id): Path<String>) -> Response {
    reply(app.approval_status_for_agent(&agent, &id).await)
}

async fn events(State(app): State<App>, Extension(agent): Extension<AgentId>, RawQuery(query): RawQuery) -> Response {
    let q = match crate::hooks::parse_event_query(query.as_deref().unwrap_or(""), true) {
        Ok(q) => q,
        Err(e) => return error_response(e),
    };
    let Some(connection) = q.connection else {
        return error_response(ApiError::bad_request("name the connection: `GET /api/agent/v1/events?connection=ID` (its events need a read grant on it)"));
    };
    reply(app.agent_events(&agent, &connection, q.after, q.limit).await)
}
