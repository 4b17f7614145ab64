//! `/healthz`, `/login` and the control API (`/api/control/v1/…`).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use switchboard_api::App;
use switchboard_api::auth::{SESSION_COOKIE, SESSION_TTL_MS};
use switchboard_core::{ActorKind, ApiError, AuditQuery, ErrorCode, Tier, VERSION};

use crate::guard::Allowed;

/// `{code, message}` with the code's HTTP status, never cached.
pub fn error_response(e: ApiError) -> Response {
    let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CACHE_CONTROL, "no-store")], Json(e)).into_response()
}

pub(crate) fn ok<T: serde::Serialize>(v: T) -> Response {
    ([(header::CACHE_CONTROL, "no-store")], Json(v)).into_response()
}

pub(crate) fn reply<T: serde::Serialize>(r: Result<T, ApiError>) -> Response {
    match r {
        Ok(v) => ok(v),
        Err(e) => error_response(e),
    }
}

pub async fn healthz() -> Response {
    ok(serde_json::json!({ "status": "ok", "version": VERSION }))
}

/// Redeems a one-time login code: sets the session cookie and sends the browser to `/`.
pub async fn login(State(app): State<App>, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    let code = query
        .as_deref()
        .and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()))
        .unwrap_or_default();
    let ua = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    match app.login(&code, ua).await {
        Ok(session) => {
            let cookie = format!(
                "{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
                session.expose(),
                SESSION_TTL_MS / 1000
            );
            let mut resp = Redirect::to("/").into_response();
            if let Ok(v) = header::HeaderValue::from_str(&cookie) {
                resp.headers_mut().insert(header::SET_COOKIE, v);
            }
            resp.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => {
            let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::UNAUTHORIZED);
            let body = format!(
                "<!doctype html><title>Switchboard: login failed</title><h1>Login link not accepted</h1><p>{}</p>",
                html_escape(&e.message)
            );
            (status, [(header::CACHE_CONTROL, "no-store")], Html(body)).into_response()
        }
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// How the caller authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Caller {
    /// The CLI (control token).
    Cli,
    /// A logged-in browser (session cookie), with the name it gave for the audit log, if any.
    Browser { name: Option<String> },
}

/// The session cookie of a browser caller (for the routes that read or name the session).
#[derive(Clone)]
struct SessionToken(String);

#[derive(Clone)]
struct ControlState {
    app: App,
    allowed: Allowed,
}

pub fn routes(app: App, allowed: Allowed) -> Router<App> {
    Router::new()
        .route("/status", get(status))
        .route("/providers", get(providers))
        .route("/audit", get(audit_list))
        .route("/audit/verify", post(audit_verify))
        .route("/audit/chain/{id}", get(audit_chain))
        .route("/audit/export", get(audit_export))
        .route("/live", get(live))
        .route("/login-url", post(login_url))
        .route("/session", get(session_get))
        .route("/session/name", axum::routing::put(session_name))
        .route("/window/focus", post(focus))
        .route("/agents", get(agents_list).post(agent_add))
        .route("/agents/{name}", delete(agent_revoke))
        .route("/connections", get(connections_list).post(connection_add))
        .route("/connections/oauth", post(oauth_start))
        .route("/connections/oauth/{flow_id}", get(oauth_status))
        .route("/oauth-clients", get(oauth_clients_list))
        .route("/oauth-clients/{provider}", axum::routing::put(oauth_client_set))
        .route("/connections/{id}/test", post(connection_test))
        .route("/connections/{id}", delete(connection_remove))
        .route("/connections/{id}/scopes", get(connection_checklist).put(connection_scopes))
        .route("/connections/{id}/rotation", axum::routing::put(connection_rotation))
        .route("/connections/{id}/webhook-secret", axum::routing::put(webhook_secret))
        .route("/connections/{id}/events", get(connection_events))
        .route("/connections/{id}/events/pull", post(events_pull))
        .route("/connections/{id}/events/pull-schedule", get(pull_schedule).put(pull_schedule_set))
        .route("/events", get(events_list))
        .route("/actions", get(actions))
        .route("/rate-limits", get(rate_limits))
        .route("/rate-limits/{id}", get(rate_limit))
        .route("/grants", get(grants_list).post(grant_set))
        .route("/grants/{agent}/{connection}/{tier}", delete(grant_revoke))
        .route("/approvals", get(approvals_list))
        .route("/approvals/count", get(approvals_count))
        .route("/approvals/approve-bulk", post(approvals_bulk))
        .route("/approvals/{id}", get(approval_get))
        .route("/approvals/{id}/approve", post(approval_approve))
        .route("/approvals/{id}/reject", post(approval_reject))
        .route("/approvals/{id}/confirm", post(approval_confirm))
        .route("/policies", get(policies_list).post(policy_add))
        .route("/policies/presets", get(policy_presets))
        .route("/policies/{id}", delete(policy_remove))
        .route("/requests", get(requests_list))
        .route("/requests/{id}/grant", post(request_grant))
        .route("/requests/{id}/dismiss", post(request_dismiss))
        .route("/planner", get(planner))
        .route("/planner/{workflow}", get(planner_workflow))
        .route("/preferences", get(preferences).put(preferences_set))
        .route("/pause", get(pause_state).post(pause))
        .route("/resume", post(resume))
        .layer(axum::middleware::from_fn_with_state(ControlState { app, allowed }, require_control))
}

/// Every control request needs the control token or a session cookie; a cookie-authenticated
/// request that changes state must also carry our own `Origin` (CSRF).
async fn require_control(State(st): State<ControlState>, mut req: Request, next: Next) -> Response {
    let headers = req.headers();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let mut session_token = None;
    let caller = if let Some(token) = bearer {
        let token = token.trim();
        if !st.app.check_control_token(token) {
            // A live agent token is a real credential of the wrong kind: forbidden here.
            if token.starts_with(switchboard_api::agents::TOKEN_PREFIX) && st.app.authenticate_agent(token).is_ok() {
                return error_response(ApiError::new(
                    ErrorCode::Forbidden,
                    "an agent token cannot be used on the control API (approve, grant, connect, export are for people); it needs the control token",
                ));
            }
            return error_response(ApiError::new(ErrorCode::Unauthorized, "the control token is not valid for this gateway"));
        }
        Caller::Cli
    } else if let Some(session) = session_cookie(headers) {
        let name = match st.app.browser_session(&session) {
            Ok(info) => info.name,
            Err(e) => return error_response(e),
        };
        let safe = matches!(*req.method(), http::Method::GET | http::Method::HEAD);
        let origin_ok = headers
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
            .is_some_and(|o| st.allowed.origin_ok(o));
        if !safe && !origin_ok {
            return error_response(ApiError::new(ErrorCode::Forbidden, "a browser request that changes state must come from the Switchboard page"));
        }
        session_token = Some(SessionToken(session));
        Caller::Browser { name }
    } else {
        return error_response(ApiError::new(
            ErrorCode::Unauthorized,
            "this endpoint needs the control token (the CLI) or a browser session (open the URL from `switchboard login-url`)",
        ));
    };
    req.extensions_mut().insert(caller);
    if let Some(t) = session_token {
        req.extensions_mut().insert(t);
    }
    next.run(req).await
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_string())
}

async fn status(State(app): State<App>) -> Response {
    ok(app.status())
}

async fn providers(State(app): State<App>) -> Response {
    ok(app.provider_catalog())
}

async fn audit_list(State(app): State<App>, RawQuery(query): RawQuery) -> Response {
    match parse_audit_query(query.as_deref().unwrap_or("")) {
        Ok(q) => reply(app.audit_list(q).await),
        Err(e) => error_response(e),
    }
}

/// `text`, `actor_kind`, `decision`, `agent`, `connection`, `tier`, `outcome`, `since_ms`,
/// `until_ms`, `before_id`, `limit`; empty values are ignored, unknown
/// parameters and bad values are a `bad_request`.
pub fn parse_audit_query(query: &str) -> Result<AuditQuery, ApiError> {
    let mut q = AuditQuery::default();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        if v.is_empty() {
            continue;
        }
        match k.as_ref() {
            "text" => q.text = Some(v.into_owned()),
            "actor_kind" => {
                q.actor_kind = Some(ActorKind::parse(&v).ok_or_else(|| {
                    ApiError::bad_request(format!("actor_kind must be user, agent, webhook or system (got '{v}')"))
                })?)
            }
            "decision" => q.decision = Some(v.into_owned()),
            "agent" => q.agent = Some(v.into_owned()),
            "connection" => q.connection = Some(v.into_owned()),
            "outcome" => q.outcome = Some(v.into_owned()),
            "tier" => {
                q.tier = Some(Tier::parse(&v).ok_or_else(|| ApiError::bad_request(format!("tier must be read, write or delete (got '{v}')")))?)
            }
            "since_ms" | "until_ms" => {
                let t: i64 = v.parse().map_err(|_| ApiError::bad_request(format!("{k} must be a time in milliseconds since 1970 (got '{v}')")))?;
                if k == "since_ms" { q.since_ms = Some(t) } else { q.until_ms = Some(t) }
            }
            "before_id" => {
                q.before_id = Some(v.parse().map_err(|_| ApiError::bad_request(format!("before_id must be a row id (got '{v}')")))?)
            }
            "limit" => {
                let n: u32 = v.parse().map_err(|_| ApiError::bad_request(format!("limit must be a number from 1 to 500 (got '{v}')")))?;
                if !(1..=500).contains(&n) {
                    return Err(ApiError::bad_request(format!("limit must be from 1 to 500 (got {n})")));
                }
                q.limit = Some(n);
            }
            other => return Err(ApiError::bad_request(format!("unknown parameter '{other}'"))),
        }
    }
    Ok(q)
}

async fn audit_verify(State(app): State<App>) -> Response {
    reply(app.audit_verify().await)
}

async fn login_url(State(app): State<App>, axum::Extension(caller): axum::Extension<Caller>) -> Response {
    reply(app.issue_login_url(ActorKind::User, &actor_id(&caller)).await)
}

/// Who did a non-decision action: `cli`, `browser:<name>` once the login gave a name, else `browser`.
fn actor_id(caller: &Caller) -> String {
    match caller {
        Caller::Cli => "cli".into(),
        Caller::Browser { name: Some(n) } => switchboard_api::session::browser_actor(n),
        Caller::Browser { name: None } => "browser".into(),
    }
}

async fn agents_list(State(app): State<App>) -> Response {
    reply(app.agents_list().await)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AddAgent {
    name: String,
}

/// `{"name": …}` → `{name, token}`. The body is parsed here (not by axum's `Json`) so a bad
/// body is a `{code, message}` like every other error.
async fn agent_add(State(app): State<App>, axum::Extension(caller): axum::Extension<Caller>, body: Bytes) -> Response {
    let req: AddAgent = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error_response(ApiError::bad_request(format!(
                "the body must be JSON like {{\"name\": \"inbox-bot\"}} ({e})"
            )));
        }
    };
    reply(app.agent_add(&actor_id(&caller), &req.name).await)
}

async fn agent_revoke(State(app): State<App>, axum::Extension(caller): axum::Extension<Caller>, Path(name): Path<String>) -> Response {
    match app.agent_revoke(&actor_id(&caller), &name).await {
        Ok(()) => ok(serde_json::json!({ "name": name, "revoked": true })),
        Err(e) => error_response(e),
    }
}

async fn connections_list(State(app): State<App>) -> Response {
    reply(app.connections_list().await)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AddConnection {
    provider: String,
    #[serde(default)]
    label: Option<String>,
    api_key: String,
    /// Scopes ticked as given to this key; absent = the provider's recommended read-only set.
    #[serde(default)]
    scopes: Option<Vec<String>>,
}

/// `{"provider", "label"?, "api_key"}` → the new connection (never the key). A bad body is a
/// `bad_request` whose message does not quote the body (it may hold the key).
async fn connection_add(State(app): State<App>, axum::Extension(caller): axum::Extension<Caller>, body: Bytes) -> Response {
    let req: AddConnection = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error_response(ApiError::bad_request(format!(
                "the body must be JSON like {{\"provider\": \"hubspot\", \"label\": \"Sales\", \"api_key\": \"…\"}} (line {}, column {})",
                e.line(),
                e.column()
            )));
        }
    };
    let key = switchboard_core::Sensitive::new(req.api_key);
    reply(app.connection_add_key(&actor_id(&caller), &req.provider, req.label.as_deref(), req.scopes.as_deref(), key).await)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StartOAuth {
    provider: String,
    #[serde(default)]
    label: Option<String>,
    /// Absent = the provider's recommended read-only set.
    #[serde(default)]
    scopes: Option<Vec<String>>,
    /// Open the system browser on the gateway's machine (default true); false = the caller
    /// shows `authorize_url` itself (`--no-browser`).
    #[serde(default)]
    open_browser: Option<bool>,
}

/// `{"provider", "label"?, "scopes"?, "open_browser"?}` → `{flow_id, authorize_url, redirect_uri, expires_at_ms, …}`.
async fn oauth_start(State(app): State<App>, axum::Extension(caller): axum::Extension<Caller>, body: Bytes) -> Response {
    let req: StartOAuth = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error_response(ApiError::bad_request(format!(
                "the body must be JSON like {{\"provider\": \"hubspot-sandbox\", \"label\": \"Sales\", \"open_browser\": false}} ({e})"
            )));
        }
    };
    let open = req.open_browser.unwrap_or(true);
    reply(app.oauth_start(&actor_id(&caller), &req.provider, req.label.as_deref(), req.scopes.as_deref(), open).await)
}

/// `?wait=SECONDS` (0-30) long-polls while the flow is pending.
async fn oauth_status(State(app): State<App>, Path(flow_id): Path<String>, RawQuery(query): RawQuery) -> Response {
    let mut wait = 0u64;
    for (k, v) in form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "wait" => match v.parse::<u64>() {
                Ok(n) if n <= 30 => wait = n,
                _ => return error_response(ApiError::bad_request(format!("wait must be a number of seconds from 0 to 30 (got '{v}')"))),
            },
            other => return error_response(ApiError::bad_request(format!("unknown parameter '{other}'"))),
        }
    }
    if wait == 0 {
        return reply(app.oauth_status(&flow_id));
    }
    reply(app.oauth_wait(&flow_id, std::time::Duration::from_secs(wait)).await)
}

async fn oauth_clients_list(State(app): State<App>) -> Response {
    reply(app.oauth_clients_list().await)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SetOAuthClient {
    client_id: String,
    #[serde(default)]
    client_secret: Option<String>,
}

/// `{"client_id", "client_secret"?}`: the user's own OAuth app for a provider, kept in the
/// keychain. A bad body's message does not quote it (it may hold the secret).
async fn oauth_client_set(
    State(app): State<App>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(provider): Path<String>,
    body: Bytes,
) -> Response {
    let req: SetOAuthClient = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error_response(ApiError::bad_request(format!(
                "the body must be JSON like {{\"client_id\": \"…\", \"client_secret\": \"…\"}} (line {}, column {})",
                e.line(),
                e.column()
            )));
        }
    };
    let secret = req.client_secret.map(switchboard_core::Sensitive::new);
    reply(app.oauth_client_set(&actor_id(&caller), &provider, &req.client_id, secret).await)
}

async fn connection_test(State(app): State<App>, axum::Extension(caller): axum::Extension<Caller>, Path(id): Path<String>) -> Response {
    reply(app.connection_test(&actor_id(&caller), &id).await)
}

async fn connection_remove(State(app): State<App>, axum::Extension(caller): axum::Extension<Caller>, Path(id): Path<String>) -> Response {
    reply(app.connection_remove(&actor_id(&caller), &id).await)
}

async fn pause_state(State(app): State<App>) -> Response {
    ok(switchboard_api::agents::PauseState { paused: app.agents_paused() })
}

async fn pause(State(app): State<App>, axum::Extension(caller): axum::Extension<Caller>) -> Response {
    reply(app.pause_agents(&actor_id(&caller)).await)
}

async fn resume(State(app): State<App>, axum::Extension(caller): axum::Extension<Caller>) -> Response {
    reply(app.resume_agents(&actor_id(&caller)).await)
}

async fn preferences(State(app): State<App>) -> Response {
    reply(app.preferences().await)
}

async fn preferences_set(State(app): State<App>, axum::Extension(caller): axum::Extension<Caller>, body: Bytes) -> Response {
    match parse_body::<switchboard_api::preferences::Preferences>(&body, r#"{"notifications": true}"#) {
        Ok(prefs) => reply(app.set_preferences(&actor_id(&caller), prefs).await),
        Err(r) => *r,
    }
}

async fn focus(State(app): State<App>) -> Response {
    let focused = app.request_focus();
    ok(serde_json::json!({ "focused": focused }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_query_parsing_rejects_bad_values_clearly() {
        let q = parse_audit_query("text=refund+stripe&actor_kind=agent&before_id=10&limit=20&decision=").expect("valid query");
        assert_eq!(q.text.as_deref(), Some("refund stripe"));
        assert_eq!(q.actor_kind, Some(ActorKind::Agent));
        assert_eq!((q.before_id, q.limit, q.decision), (Some(10), Some(20), None));
        let q = parse_audit_query("agent=inbox-bot&connection=conn_1&tier=write&outcome=ok&since_ms=1000&until_ms=2000").expect("valid filters");
        assert_eq!((q.agent.as_deref(), q.connection.as_deref(), q.tier, q.outcome.as_deref()), (Some("inbox-bot"), Some("conn_1"), Some(Tier::Write), Some("ok")));
        assert_eq!((q.since_ms, q.until_ms), (Some(1000), Some(2000)), "the time range should be read as milliseconds");
        for (bad, needle) in [("tier=admin", "tier"), ("since_ms=yesterday", "since_ms"), ("until_ms=1.5", "until_ms"), ("actor_kind=robot", "actor_kind"), ("before_id=x", "before_id"), ("limit=0", "limit"), ("limit=9999", "limit"), ("foo=1", "unknown")] {
            let e = parse_audit_query(bad).expect_err(bad);
            assert_eq!(e.code, ErrorCode::BadRequest, "{bad} should be a bad_request");
            assert!(e.message.contains(needle), "message for {bad} should name the problem: {}", e.message);
        }
    }
}

/// Parses a JSON body into `T`; a bad body is a `bad_request` naming the line and column and
/// what a good body looks like (never quoting the body).
fn parse_body<T: serde::de::DeserializeOwned>(body: &Bytes, example: &str) -> Result<T, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(error_response(ApiError::bad_request(format!("the body must be JSON like {example} ({} at line {}, column {})", category(&e), e.line(), e.column()))))
    })
}

fn category(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Data => "a field is missing or has the wrong type",
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => "not valid JSON",
        serde_json::error::Category::Io => "unreadable",
    }
}

async fn actions() -> Response {
    ok(switchboard_api::calls::all_actions())
}

async fn grants_list(State(app): State<App>, RawQuery(query): RawQuery) -> Response {
    let mut agent = None;
    for (k, v) in form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "agent" if !v.is_empty() => agent = Some(v.into_owned()),
            "agent" => {}
            other => return error_response(ApiError::bad_request(format!("unknown parameter '{other}'; only 'agent' is accepted"))),
        }
    }
    reply(app.grants_list(agent.as_deref()).await)
}

async fn grant_set(State(app): State<App>, axum::Extension(caller): axum::Extension<Caller>, body: Bytes) -> Response {
    let who = match approver(&caller) {
        Ok(w) => w,
        Err(e) => return error_response(e),
    };
    match parse_body::<switchboard_api::grants::GrantRequest>(&body, r#"{"agent": "sales-bot", "connection": "hubspot-1", "tier": "read"}"#) {
        Ok(req) => reply(app.grant_set(&who, req).await),
        Err(r) => *r,
    }
}

async fn grant_revoke(
    State(app): State<App>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path((agent, connection, tier)): Path<(String, String, String)>,
) -> Response {
    let who = match approver(&caller) {
        Ok(w) => w,
        Err(e) => return error_response(e),
    };
    let Some(tier) = switchboard_core::Tier::parse(&tier) else {
        return error_response(ApiError::bad_request(format!("the tier must be read, write or delete (got '{tier}')")));
    };
    reply(app.grant_revoke(&who, &agent, &connection, tier).await.map(|()| serde_json::json!({ "revoked": true })))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopesBody {
    scopes: Vec<String>,
}

async fn connection_scopes(State(app): State<App>, axum::Extension(caller): axum::Extension<Caller>, Path(id): Path<String>, body: Bytes) -> Response {
    match parse_body::<ScopesBody>(&body, r#"{"scopes": ["crm.objects.contacts.read"]}"#) {
        Ok(b) => reply(app.connection_set_scopes(&actor_id(&caller), &id, &b.scopes).await),
        Err(r) => *r,
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RotationBody {
    every_days: Option<i64>,
}

async fn connection_rotation(State(app): State<App>, axum::Extension(caller): axum::Extension<Caller>, Path(id): Path<String>, body: Bytes) -> Response {
    match parse_body::<RotationBody>(&body, r#"{"every_days": 90} (or null for no schedule)"#) {
        Ok(b) => reply(app.connection_set_rotation(&actor_id(&caller), &id, b.every_days).await),
        Err(r) => *r,
    }
}

async fn rate_limits(State(app): State<App>) -> Response {
    reply(app.rate_limits().await)
}

async fn rate_limit(State(app): State<App>, Path(id): Path<String>) -> Response {
    reply(app.rate_limit(&id).await)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretBody {
    secret: String,
}

/// `{"secret"}`: the connection's webhook signing secret, kept only in the keychain. A bad body's
/// message does not quote it (it may hold the secret).
async fn webhook_secret(State(app): State<App>, axum::Extension(caller): axum::Extension<Caller>, Path(id): Path<String>, body: Bytes) -> Response {
    match parse_body::<SecretBody>(&body, r#"{"secret": "whsec_…"}"#) {
        Ok(b) => reply(app.webhook_secret_set(&actor_id(&caller), &id, switchboard_core::Sensitive::new(b.secret)).await),
        Err(r) => *r,
    }
}

async fn connection_events(State(app): State<App>, Path(id): Path<String>, RawQuery(query): RawQuery) -> Response {
    match crate::hooks::parse_event_query(query.as_deref().unwrap_or(""), false) {
        Ok(q) => reply(app.events_list(Some(&id), q.after, q.limit).await),
        Err(e) => error_response(e),
    }
}

async fn events_list(State(app): State<App>, RawQuery(query): RawQuery) -> Response {
    match crate::hooks::parse_event_query(query.as_deref().unwrap_or(""), true) {
        Ok(q) => reply(app.events_list(q.connection.as_deref(), q.after, q.limit).await),
        Err(e) => error_response(e),
    }
}

async fn events_pull(State(app): State<App>, axum::Extension(caller): axum::Extension<Caller>, Path(id): Path<String>) -> Response {
    reply(app.events_pull(&switchboard_api::pull::PullActor::user(&actor_id(&caller)), &id).await)
}

async fn pull_schedule(State(app): State<App>, Path(id): Path<String>) -> Response {
    reply(app.events_pull_schedule(&id).await)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleBody {
    enabled: bool,
    #[serde(default)]
    every_seconds: Option<i64>,
}

async fn pull_schedule_set(State(app): State<App>, axum::Extension(caller): axum::Extension<Caller>, Path(id): Path<String>, body: Bytes) -> Response {
    match parse_body::<ScheduleBody>(&body, r#"{"enabled": true, "every_seconds": 60}"#) {
        Ok(b) => reply(app.events_pull_schedule_set(&actor_id(&caller), &id, b.enabled, b.every_seconds).await),
        Err(r) => *r,
    }
}

/// Who decided, as approvals, grants and policies record it: the OS user behind the CLI, or
/// the name the browser login gave (`approver_name_required` until it gives one).
fn approver(caller: &Caller) -> Result<String, ApiError> {
    match caller {
        Caller::Cli => Ok(switchboard_api::auth::os_actor("cli")),
        Caller::Browser { name: Some(n) } => Ok(switchboard_api::session::browser_actor(n)),
        Caller::Browser { name: None } => Err(switchboard_api::session::name_required()),
    }
}

/// `GET /session`: `{name, kind}` of this browser login.
async fn session_get(State(app): State<App>, session: Option<axum::Extension<SessionToken>>) -> Response {
    match session {
        Some(axum::Extension(SessionToken(t))) => reply(app.browser_session(&t)),
        None => error_response(ApiError::bad_request("only a browser login has a session; the CLI decides as its OS user")),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NameBody {
    name: String,
}

/// `PUT /session/name {name}`: the name this browser login's decisions are recorded under.
async fn session_name(State(app): State<App>, session: Option<axum::Extension<SessionToken>>, body: Bytes) -> Response {
    let Some(axum::Extension(SessionToken(t))) = session else {
        return error_response(ApiError::bad_request("only a browser login gives a name; the CLI decides as its OS user"));
    };
    match parse_body::<NameBody>(&body, r#"{"name": "Robin Ortiz"}"#) {
        Ok(b) => reply(app.browser_session_set_name(&t, &b.name).await),
        Err(r) => *r,
    }
}

async fn approvals_list(State(app): State<App>, RawQuery(query): RawQuery) -> Response {
    let (mut status, mut limit) = (None, 200u32);
    for (k, v) in form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()) {
        match (k.as_ref(), v.as_ref()) {
            (_, "") => {}
            ("status", s) => match serde_json::from_value::<switchboard_api::approvals::ApprovalStatus>(serde_json::Value::String(s.into())) {
                Ok(st) => status = Some(st),
                Err(_) => {
                    return error_response(ApiError::bad_request(format!(
                        "unknown status '{s}'; use pending, approved, rejected, expired, executed, failed or needs_confirmation"
                    )));
                }
            },
            ("limit", n) => match n.parse() {
                Ok(n) => limit = n,
                Err(_) => return error_response(ApiError::bad_request("limit must be a whole number")),
            },
            (other, _) => return error_response(ApiError::bad_request(format!("unknown query parameter '{other}'; use status and limit"))),
        }
    }
    reply(app.approvals_list(status, limit).await)
}

async fn approvals_count(State(app): State<App>) -> Response {
    reply(app.approvals_pending_count().await.map(|n| serde_json::json!({ "pending": n })))
}

async fn approval_get(State(app): State<App>, Path(id): Path<String>) -> Response {
    reply(app.approval_get(&id).await)
}

async fn approval_approve(State(app): State<App>, axum::Extension(caller): axum::Extension<Caller>, Path(id): Path<String>, body: Bytes) -> Response {
    let who = match approver(&caller) {
        Ok(w) => w,
        Err(e) => return error_response(e),
    };
    let req = if body.iter().all(u8::is_ascii_whitespace) {
        switchboard_api::approvals::ApproveRequest::default()
    } else {
        match parse_body(&body, r#"{"edit": {…the whole edited input…}}"#) {
            Ok(r) => r,
            Err(r) => return *r,
        }
    };
    reply(app.approval_approve(&who, &id, req).await)
}

async fn approval_reject(State(app): State<App>, axum::Extension(caller): axum::Extension<Caller>, Path(id): Path<String>, body: Bytes) -> Response {
    let who = match approver(&caller) {
        Ok(w) => w,
        Err(e) => return error_response(e),
    };
    match parse_body::<switchboard_api::approvals::RejectRequest>(&body, r#"{"reason": "wrong recipient"}"#) {
        Ok(req) => reply(app.approval_reject(&who, &id, req).await),
        Err(r) => *r,
    }
}

async fn approval_confirm(State(app): State<App>, axum::Extension(caller): axum::Extension<Caller>, Path(id): Path<String>, body: Bytes) -> Response {
    let who = match approver(&caller) {
        Ok(w) => w,
        Err(e) => return error_response(e),
    };
    match parse_body::<switchboard_api::approvals::ConfirmRequest>(&body, r#"{"sent": true}"#) {
        Ok(req) => reply(app.approval_confirm(&who, &id, req).await),
        Err(r) => *r,
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkRequest {
    ids: Vec<String>,
}

async fn approvals_bulk(State(app): State<App>, axum::Extension(caller): axum::Extension<Caller>, body: Bytes) -> Response {
    let who = match approver(&caller) {
        Ok(w) => w,
        Err(e) => return error_response(e),
    };
    match parse_body::<BulkRequest>(&body, r#"{"ids": ["apr_…", "apr_…"]}"#) {
        Ok(req) => reply(app.approvals_approve_bulk(&who, &req.ids).await),
        Err(r) => *r,
    }
}

async fn policies_list(State(app): State<App>) -> Response {
    reply(app.policies_list().await)
}

async fn policy_add(State(app): State<App>, axum::Extension(caller): axum::Extension<Caller>, body: Bytes) -> Response {
    let who = match approver(&caller) {
        Ok(w) => w,
        Err(e) => return error_response(e),
    };
    match parse_body::<switchboard_api::policies::PolicyFile>(&body, r#"{"format": "toml", "text": "id = \"…\"\n…"}"#) {
        Ok(file) => reply(app.policy_add(&who, file).await),
        Err(r) => *r,
    }
}

async fn policy_remove(State(app): State<App>, axum::Extension(caller): axum::Extension<Caller>, Path(id): Path<String>) -> Response {
    let who = match approver(&caller) {
        Ok(w) => w,
        Err(e) => return error_response(e),
    };
    reply(app.policy_remove(&who, &id).await.map(|()| serde_json::json!({ "removed": id })))
}

async fn policy_presets(State(app): State<App>, RawQuery(query): RawQuery) -> Response {
    let agent = form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()).find(|(k, _)| k == "agent").map(|(_, v)| v.into_owned());
    match agent {
        Some(a) if !a.is_empty() => reply(app.policy_presets(&a)),
        _ => error_response(ApiError::bad_request("name the agent the presets are for: /policies/presets?agent=NAME")),
    }
}

async fn requests_list(State(app): State<App>, RawQuery(query): RawQuery) -> Response {
    let status = form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()).find(|(k, _)| k == "status").map(|(_, v)| v.into_owned());
    reply(app.access_requests_list(status.as_deref()).await)
}

async fn request_grant(State(app): State<App>, axum::Extension(caller): axum::Extension<Caller>, Path(id): Path<String>) -> Response {
    let who = match approver(&caller) {
        Ok(w) => w,
        Err(e) => return error_response(e),
    };
    reply(app.access_request_grant(&who, &id).await)
}

async fn request_dismiss(State(app): State<App>, axum::Extension(caller): axum::Extension<Caller>, Path(id): Path<String>) -> Response {
    let who = match approver(&caller) {
        Ok(w) => w,
        Err(e) => return error_response(e),
    };
    reply(app.access_request_dismiss(&who, &id).await)
}

async fn planner(State(app): State<App>) -> Response {
    reply(app.planner().await)
}

async fn planner_workflow(State(app): State<App>, Path(workflow): Path<String>) -> Response {
    reply(app.planner_workflow(&workflow).await)
}

async fn audit_chain(State(app): State<App>, Path(id): Path<String>) -> Response {
    reply(app.audit_chain(&id).await)
}

/// Every audit row, oldest first, as JSON Lines or CSV (`?format=jsonl|csv`), for download.
async fn audit_export(State(app): State<App>, RawQuery(query): RawQuery) -> Response {
    let format = form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()).find(|(k, _)| k == "format").map(|(_, v)| v.into_owned());
    let (format, mime, ext) = match format.as_deref() {
        Some("jsonl") | None => (false, "application/jsonl", "jsonl"),
        Some("csv") => (true, "text/csv; charset=utf-8", "csv"),
        Some(other) => return error_response(ApiError::bad_request(format!("unknown export format '{other}'; use jsonl or csv"))),
    };
    // Ids are contiguous from 1, so the head id is how many rows the export holds (at least:
    // rows committed while it streams are included too).
    let rows = app.status().audit_rows;
    let mut rx = app.audit_export_stream(format);
    // The first chunk decides the status: an error before any byte is a `{code, message}`.
    let first = match rx.recv().await {
        Some(Ok(chunk)) => chunk,
        Some(Err(e)) => return error_response(e),
        None => Vec::new(),
    };
    let rest = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|r| (r.map(Bytes::from), rx)) });
    let body = futures_util::StreamExt::chain(futures_util::stream::once(async move { Ok::<_, ApiError>(Bytes::from(first)) }), rest);
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"switchboard-audit.{ext}\"")),
            (header::HeaderName::from_static("x-audit-rows"), rows.to_string()),
        ],
        axum::body::Body::from_stream(body),
    )
        .into_response()
}

/// Live change events as Server-Sent Events: `ready` at once, then one event per change, named
/// by its kind, with the event as JSON data; `lagged` when this stream fell behind (re-read);
/// keep-alive comments in between. Ends when the gateway stops.
async fn live(State(app): State<App>, axum::Extension(closing): axum::Extension<crate::Closing>) -> Response {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use tokio::sync::broadcast::error::RecvError;
    let rx = app.live();
    let ready = futures_util::stream::once(async { Ok::<_, std::convert::Infallible>(Event::default().event("ready").data(r#"{"kind":"ready"}"#)) });
    let events = futures_util::stream::unfold((rx, closing.0), |(mut rx, mut closing)| async move {
        loop {
            if *closing.borrow() {
                return None;
            }
            let got = tokio::select! {
                got = rx.recv() => got,
                _ = closing.changed() => return None,
            };
            let event = match got {
                Ok(e) => match serde_json::to_string(&e) {
                    Ok(json) => Event::default().event(e.kind()).data(json),
                    Err(_) => continue,
                },
                Err(RecvError::Lagged(missed)) => Event::default().event("lagged").data(format!(r#"{{"kind":"lagged","missed":{missed}}}"#)),
                Err(RecvError::Closed) => return None,
            };
            return Some((Ok(event), (rx, closing)));
        }
    });
    let mut resp = Sse::new(futures_util::StreamExt::chain(ready, events)).keep_alive(KeepAlive::default()).into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    resp
}

async fn connection_checklist(State(app): State<App>, Path(id): Path<String>) -> Response {
    reply(app.connection_scope_checklist(&id).await)
}
