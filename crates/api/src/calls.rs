//! The agent call path: an agent asks a connection to run one action.
//!
//! In order, for `POST /api/agent/v1/tools/{tool}` (and later the MCP tools):
//! 1. the action is looked up by tool name (`hubspot_list_contacts`);
//! 2. the connection is resolved: the one the agent names, or the only connection of that
//!    provider the agent holds the action's tier on;
//! 3. the agent's grant for that tier is checked (no tier implies another; expiry and
//!    narrowing to named actions apply) → `not_granted`, naming the grant that would allow it;
//! 4. the connection must hold every provider scope the action needs → `scope_not_granted`;
//!    a connection the provider refused → `reconnect_needed`;
//! 5. the input is checked and turned into the provider's request → `bad_request`; where the
//!    action asks for it, the input is also checked against the account's own definitions
//!    ([`preflight`]) → `bad_request` naming every offending field;
//! 6. the decision row (`decision=allow`) commits to the audit log *before* the call leaves
//!    (FULL durability for writes and deletes); every refusal above is audited too
//!    (`decision=deny`, outcome = the code);
//! 7. the credential comes from the keychain (an OAuth token refreshed first when it is about to
//!    expire) and goes only into the provider request, paced by the connection's shared budget
//!    (per API method, and per channel for posts, where the provider limits methods on their
//!    own: Slack; see [`pacing_account`]);
//! 8. the provider's answer is mapped (2xx → result, unless the provider reports a failure inside
//!    it, as Slack's `{"ok": false, "error": …}` → `provider_error` with the provider's code, or
//!    `reconnect_needed` for a refused token; 401 → `reconnect_needed` and the connection
//!    marked so; a refusal of the input the connector recognises (HubSpot `VALIDATION_ERROR`)
//!    → `bad_request` with the fields named; other errors → `provider_error` with the
//!    provider's words, network →
//!    `provider_unreachable`), and the outcome row (same correlation id as the decision row)
//!    commits with the connection's health.
//!
//! Between 5 and 6 the policy engine decides (`switchboard_policy::decide`, see
//! [`crate::policies`]): an outbound or destructive action (an email, a message, a CRM change, an
//! invoice, a refund, any delete) does not run but becomes a draft in the approval queue
//! (`decision=queue`, see [`crate::approvals`]) and the agent gets its approval id — unless an
//! auto-send policy covers it, and then it runs through the outbox (exactly once) at once.
//! Other writes run directly. The decision's rule is in the audit row. A write that carries a `client_request_id` the agent used before gets the
//! original answer (or the same pending approval), never a second effect.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchboard_connectors::{ActionInfo, ActionSpec, HttpCall, ProviderEntry};
use switchboard_core::{ActorKind, ApiError, ErrorCode, NewAuditRow, Tier};
use switchboard_store::connections::{self as stored_connections, ConnectionRecord};
use switchboard_store::grants::{self as stored_grants, GrantRecord};
use switchboard_store::{Durability, approvals as stored_approvals};
use ts_rs::TS;

use crate::App;
use crate::agents::AgentId;
use crate::approvals::DecidedCall;

mod preflight;
pub(crate) use preflight::DefinitionCache;
use crate::gateway::blocking;
use crate::grants::allows;

/// How long a call may wait for its connection's rate-limit budget before it fails
/// `rate_limited` (it is then never sent).
const QUEUE_DEADLINE: Duration = Duration::from_secs(120);
/// Pacing for a provider whose catalog entry documents no request limit: 5 per second.
const UNDOCUMENTED_BUDGET: (u32, u64) = (5, 1);
/// Largest provider response body passed back to an agent.
const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;
/// Longest input kept in an audit row (longer ones are cut and marked).
const AUDIT_INPUT_MAX: usize = 4096;

/// Every action Switchboard offers, as agents and the UI see them.
pub fn all_actions() -> Vec<ActionInfo> {
    switchboard_connectors::actions().iter().map(ActionSpec::info).collect()
}

/// What an agent sends to call a tool.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct CallRequest {
    /// Which connection; needed only when the agent holds more than one for the provider.
    #[serde(default)]
    pub connection: Option<String>,
    /// The action's input (see its `input_schema`).
    #[serde(default = "empty_object")]
    #[ts(type = "Record<string, unknown>")]
    pub input: Value,
    /// The agent's own id for this request (up to 200 printable characters). Sending the same
    /// request again with the same id returns the first answer (or the same pending approval)
    /// instead of acting twice; the same id with a different tool or input is refused.
    #[serde(default)]
    pub client_request_id: Option<String>,
    /// The template the message was written from (e.g. `appointment-confirmation`), for
    /// auto-send policies that name one.
    #[serde(default)]
    pub template_tag: Option<String>,
    /// The provider event (its `id` in `GET /api/agent/v1/events`) this call responds to, e.g.
    /// the webhook that told the agent a deal moved. It must be a stored event of a connection
    /// the agent may read; the call's audit rows then carry `event:<id>` as their trigger, and
    /// the call's causal chain starts with the event's arrival.
    #[serde(default)]
    pub trigger_event_id: Option<String>,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

/// Where a call stands when the agent gets its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    /// The provider answered; `result` is its body.
    Done,
    /// A person must approve it first; `approval_id` names the draft (`approval_status`).
    PendingApproval,
}

/// A call's answer: the provider's result, or the draft it became.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CallResult {
    /// Correlates the audit rows of this call.
    pub call_id: String,
    pub tool: String,
    pub connection: String,
    pub state: CallState,
    /// The provider's HTTP status (202 while the draft waits for approval).
    pub status: u16,
    /// The provider's JSON body (`null` when it sent none); for a pending approval its id,
    /// status and expiry.
    #[ts(type = "unknown")]
    pub result: Value,
    /// The draft this call became, when it waits for a person.
    pub approval_id: Option<String>,
}

/// A tool an agent may call, and the connections it may call it on.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct AgentTool {
    #[serde(flatten)]
    pub action: ActionInfo,
    pub connections: Vec<String>,
}

/// How a sent call ended: audit outcome, the agent's answer, and `(code, message, status)` to
/// record on the connection when its health changed.
type Settled = (&'static str, Result<CallResult, ApiError>, Option<(&'static str, String, &'static str)>);

/// A refusal before anything was sent: audited, then returned.
pub(crate) struct Refusal {
    pub(crate) code: ErrorCode,
    pub(crate) message: String,
    connection: Option<String>,
}

fn refuse(code: ErrorCode, connection: Option<&str>, message: impl Into<String>) -> Refusal {
    Refusal { code, message: message.into(), connection: connection.map(str::to_string) }
}

pub(crate) fn new_id(prefix: &str) -> String {
    let b: [u8; 12] = rand::random();
    format!("{prefix}_{}", hex::encode(b))
}

fn new_call_id() -> String {
    new_id("call")
}

/// SHA-256 of the tool and its input (serde_json writes object keys sorted), so a reused
/// `client_request_id` can be matched to the request it first named.
pub(crate) fn request_hash(tool: &str, input: &Value) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(format!("{tool}\n{input}").as_bytes()))
}

/// Checks an agent's `client_request_id`.
fn check_client_request_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.chars().count() > 200 || id.chars().any(char::is_control) {
        return Err("client_request_id must be 1 to 200 printable characters".into());
    }
    Ok(())
}

/// The input as it goes into the audit row: never longer than [`AUDIT_INPUT_MAX`].
pub(crate) fn audited_input(input: &Value) -> Value {
    let text = input.to_string();
    if text.len() <= AUDIT_INPUT_MAX {
        input.clone()
    } else {
        let cut: String = text.chars().take(AUDIT_INPUT_MAX).collect();
        serde_json::json!({ "truncated": true, "text": cut })
    }
}

/// Replaces the credential wherever it appears in provider-supplied text, then shortens it.
fn scrub(text: &str, secret: &str) -> String {
    let cleaned = if secret.is_empty() { text.to_string() } else { text.replace(secret, "[credential]") };
    let mut short: String = cleaned.chars().take(300).collect();
    if short.len() < cleaned.len() {
        short.push('…');
    }
    short
}

/// The provider's own words from an error body (HubSpot `message`, OAuth `error_description`,
/// Slack `error`, Stripe `error.message`, Google `error.message`), led by the provider's code
/// when it gives one (Stripe `error.code`, Google `error.errors[0].reason`), which agents branch on.
fn provider_words(body: &[u8]) -> String {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return String::from_utf8_lossy(body).chars().take(200).collect();
    };
    let code = ["/error/code", "/error/errors/0/reason"].iter().find_map(|p| v.pointer(p).and_then(Value::as_str));
    for pointer in ["/message", "/error/message", "/error_description", "/error"] {
        if let Some(s) = v.pointer(pointer).and_then(Value::as_str) {
            return match code {
                Some(c) if !s.starts_with(c) => format!("{c}: {s}"),
                _ => s.to_string(),
            };
        }
    }
    String::new()
}

/// Which of the agent's connections a call goes to.
fn choose_connection<'a>(
    action: &ActionSpec,
    agent: &str,
    named: Option<&str>,
    connections: &'a [ConnectionRecord],
    grants: &[GrantRecord],
    now_ms: i64,
) -> Result<&'a ConnectionRecord, Refusal> {
    let tier = action.tier.as_str();
    let tool = action.tool_name();
    let candidates: Vec<&ConnectionRecord> =
        connections.iter().filter(|c| c.removed_at_ms.is_none() && action.serves(&c.provider)).collect();
    let granted = |c: &ConnectionRecord| grants.iter().any(|g| g.connection_id == c.id && g.tier == tier && allows(g, &tool, now_ms));
    let chosen = match named {
        Some(id) => match connections.iter().find(|c| c.id == id) {
            None => return Err(refuse(ErrorCode::NotFound, None, format!("there is no connection '{id}'"))),
            Some(c) if c.removed_at_ms.is_some() => {
                return Err(refuse(ErrorCode::NotFound, Some(id), format!("connection '{id}' was removed")));
            }
            Some(c) if !action.serves(&c.provider) => {
                return Err(refuse(
                    ErrorCode::BadRequest,
                    Some(id),
                    format!("connection '{id}' is a {} account; '{tool}' works on {} connections", c.provider, action.provider),
                ));
            }
            Some(c) => c,
        },
        None => {
            let held: Vec<&ConnectionRecord> = candidates.iter().copied().filter(|c| granted(c)).collect();
            match held.as_slice() {
                [one] => *one,
                [] => {
                    let msg = match candidates.first() {
                        Some(c) => format!(
                            "agent '{agent}' holds no {tier} grant for '{tool}' on any {} connection; a person can allow it with `switchboard grants set {agent} {} {tier}`",
                            action.provider, c.id
                        ),
                        None => format!("there is no {} connection yet; a person connects one first, then grants '{agent}' {tier} on it", action.provider),
                    };
                    return Err(refuse(ErrorCode::NotGranted, None, msg));
                }
                many => {
                    let ids: Vec<&str> = many.iter().map(|c| c.id.as_str()).collect();
                    return Err(refuse(
                        ErrorCode::BadRequest,
                        None,
                        format!("agent '{agent}' may use several {} connections; name one in `connection`: {}", action.provider, ids.join(", ")),
                    ));
                }
            }
        }
    };
    let grant = grants.iter().find(|g| g.connection_id == chosen.id && g.tier == tier);
    match grant {
        Some(g) if allows(g, &tool, now_ms) => Ok(chosen),
        Some(g) if g.expires_at_ms.is_some_and(|e| e <= now_ms) => Err(refuse(
            ErrorCode::NotGranted,
            Some(&chosen.id),
            format!("agent '{agent}''s {tier} grant on '{}' has expired; a person can renew it with `switchboard grants set {agent} {} {tier}`", chosen.id, chosen.id),
        )),
        Some(_) => Err(refuse(
            ErrorCode::NotGranted,
            Some(&chosen.id),
            format!("agent '{agent}''s {tier} grant on '{}' does not include '{tool}'; a person can widen it on the grants screen", chosen.id),
        )),
        None => Err(refuse(
            ErrorCode::NotGranted,
            Some(&chosen.id),
            format!("agent '{agent}' holds no {tier} grant on '{}'; a person can allow it with `switchboard grants set {agent} {} {tier}`", chosen.id, chosen.id),
        )),
    }
}

/// Checks the connection can run the action: scopes held, credential not refused.
pub(crate) fn check_connection(action: &ActionSpec, c: &ConnectionRecord) -> Result<(), Refusal> {
    let missing: Vec<&str> = action.scopes.iter().copied().filter(|s| !c.granted_scopes.iter().any(|g| g == s)).collect();
    if !missing.is_empty() {
        return Err(refuse(
            ErrorCode::ScopeNotGranted,
            Some(&c.id),
            format!(
                "connection '{}' does not hold the scope{} {} that '{}' needs; a person ticks it on the connection's scope checklist (or reconnects with it)",
                c.id,
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", "),
                action.tool_name()
            ),
        ));
    }
    if c.status == stored_connections::RECONNECT_NEEDED {
        return Err(refuse(
            ErrorCode::ReconnectNeeded,
            Some(&c.id),
            format!("the provider refused connection '{}''s credential; a person must reconnect it before agents can use it", c.id),
        ));
    }
    Ok(())
}

/// One audit row of an agent's call (decision or outcome), correlated by the call id.
#[allow(clippy::too_many_arguments)]
pub(crate) fn agent_row(
    agent: &str,
    action: &ActionSpec,
    trigger: &str,
    call_id: &str,
    decision: &str,
    outcome: &str,
    connection: Option<&str>,
    summary: Value,
) -> NewAuditRow {
    let mut r = NewAuditRow::system(format!("{}.{}", action.provider, action.name), summary);
    r.actor_kind = ActorKind::Agent;
    r.actor_id = agent.to_string();
    r.trigger = Some(trigger.chars().take(200).collect());
    r.correlation_id = Some(call_id.to_string());
    r.connection_id = connection.map(str::to_string);
    r.tier = Some(action.tier);
    r.decision = decision.into();
    r.outcome = outcome.into();
    r
}

/// What a retry under the same client_request_id gets: the result, or `{"error": …}`.
pub(crate) fn remembered_answer(result: &Result<CallResult, ApiError>) -> String {
    match result {
        Ok(r) => serde_json::to_string(r).unwrap_or_default(),
        Err(e) => serde_json::json!({ "error": e }).to_string(),
    }
}

/// Maps the provider's answer (or the failure to get one) to the audit outcome, the agent's
/// answer and the connection's new health.
pub(crate) fn settle(entry: &ProviderEntry, connection: &ConnectionRecord, tool: &str, call_id: &str, sent: Result<(u16, Vec<u8>), ApiError>) -> Settled {
    match sent {
        Ok((status, body)) if (200..300).contains(&status) => {
            let parsed = if body.is_empty() { Ok(Value::Null) } else { serde_json::from_slice::<Value>(&body) };
            match parsed {
                // Some providers (Slack) report failures inside a 2xx answer.
                Ok(_) if let Some(f) = switchboard_connectors::failure_in_success(&connection.provider, &body) => {
                    if f.credential_refused {
                        let msg = format!("{} refused connection '{}''s credential ({}); a person must reconnect it", entry.name, connection.id, f.message);
                        ("reconnect_needed", Err(ApiError::new(ErrorCode::ReconnectNeeded, msg.clone())), Some(("reconnect_needed", msg, stored_connections::RECONNECT_NEEDED)))
                    } else {
                        // Like a 4xx: about this request, the connection stays healthy.
                        let msg = format!("{} answered {}", entry.name, f.message);
                        ("provider_error", Err(ApiError::new(ErrorCode::ProviderError, msg)), None)
                    }
                }
                Ok(result) => (
                    "ok",
                    Ok(CallResult {
                        call_id: call_id.to_string(),
                        tool: tool.into(),
                        connection: connection.id.clone(),
                        state: CallState::Done,
                        status,
                        result,
                        approval_id: None,
                    }),
                    None,
                ),
                Err(_) => {
                    let msg = format!("{} answered HTTP {status} with a body that is not JSON", entry.name);
                    ("provider_error", Err(ApiError::new(ErrorCode::ProviderError, msg.clone())), Some(("provider_error", msg, stored_connections::ERROR)))
                }
            }
        }
        Ok((status, body)) => {
            let words = provider_words(&body);
            let said = if words.is_empty() { String::new() } else { format!(": {words}") };
            if status == 401 {
                let msg = format!("{} refused connection '{}''s credential (HTTP 401{said}); a person must reconnect it", entry.name, connection.id);
                ("reconnect_needed", Err(ApiError::new(ErrorCode::ReconnectNeeded, msg.clone())), Some(("reconnect_needed", msg, stored_connections::RECONNECT_NEEDED)))
            } else if let Some(fields) = switchboard_connectors::refused_input(&connection.provider, status, &body) {
                // About this input, not the connection: it stays healthy.
                let msg = format!("{tool}: {} refused the input (HTTP {status}): {fields}", entry.name);
                ("bad_request", Err(ApiError::new(ErrorCode::BadRequest, msg)), None)
            } else {
                let msg = format!("{} answered HTTP {status}{said}", entry.name);
                // A 4xx about the request leaves the connection healthy; 429/5xx are the provider's trouble.
                let health = (status == 429 || status >= 500).then(|| ("provider_error", msg.clone(), stored_connections::ERROR));
                ("provider_error", Err(ApiError::new(ErrorCode::ProviderError, msg)), health)
            }
        }
        Err(e) => {
            let msg = e.message.clone();
            (e.code.as_str(), Err(e), Some(("provider_unreachable", msg, stored_connections::ERROR)))
        }
    }
}

impl App {
    /// The tools `agent` may call now, each with the connections it may call it on.
    pub async fn agent_tools(&self, agent: &AgentId) -> Result<Vec<AgentTool>, ApiError> {
        let (connections, grants) = self.connections_and_grants(&agent.name).await?;
        let now = self.clock().now_ms();
        let mut tools = Vec::new();
        for action in switchboard_connectors::actions() {
            let tool = action.tool_name();
            let on: Vec<String> = connections
                .iter()
                .filter(|c| c.removed_at_ms.is_none() && action.serves(&c.provider))
                .filter(|c| grants.iter().any(|g| g.connection_id == c.id && g.tier == action.tier.as_str() && allows(g, &tool, now)))
                .map(|c| c.id.clone())
                .collect();
            if !on.is_empty() {
                tools.push(AgentTool { action: action.info(), connections: on });
            }
        }
        // Every agent may ask for access and follow its drafts, whatever it holds.
        tools.extend(crate::access::builtin_tools().into_iter().map(|action| AgentTool { action, connections: Vec::new() }));
        Ok(tools)
    }

    async fn connections_and_grants(&self, agent: &str) -> Result<(Vec<ConnectionRecord>, Vec<GrantRecord>), ApiError> {
        let db = self.db().clone();
        let agent = agent.to_string();
        blocking(move || {
            let conn = db.reader()?;
            Ok((stored_connections::list(&conn)?, stored_grants::list(&conn, Some(&agent))?))
        })
        .await
    }

    /// Whether `event_id` names a stored provider event of a connection `agent` holds a live read
    /// grant on: `Ok(Err(why))` when it does not (the call is refused as `bad_request`).
    async fn check_trigger_event(&self, agent: &str, event_id: &str, grants: &[GrantRecord], now: i64) -> Result<Result<(), String>, ApiError> {
        if event_id.is_empty() || event_id.len() > 200 || event_id.chars().any(char::is_control) {
            return Ok(Err("trigger_event_id must be 1–200 printable characters: the `id` of an event from GET /api/agent/v1/events".into()));
        }
        let db = self.db().clone();
        let id = event_id.to_string();
        let holders = blocking(move || Ok(switchboard_store::events::connections_with_event(&*db.reader()?, &id)?)).await?;
        let readable = holders.iter().any(|c| {
            grants.iter().any(|g| g.agent == agent && &g.connection_id == c && g.tier == "read" && g.expires_at_ms.is_none_or(|e| e > now))
        });
        if readable {
            Ok(Ok(()))
        } else {
            Ok(Err(format!(
                "trigger_event_id '{event_id}' is not a stored event of a connection agent '{agent}' may read; pass the `id` of an event from GET /api/agent/v1/events"
            )))
        }
    }

    /// Runs one tool for an agent. See the module docs for the order of checks.
    pub async fn agent_call(&self, agent: &AgentId, tool: &str, req: CallRequest, trigger: &str) -> Result<CallResult, ApiError> {
        if let Some(answer) = self.builtin_call(agent, tool, &req.input).await {
            return answer;
        }
        let call_id = new_call_id();
        let Some(action) = switchboard_connectors::action(tool) else {
            return Err(ApiError::new(ErrorCode::NotFound, format!("there is no tool '{tool}'; `GET /api/agent/v1/tools` lists the ones this agent may call")));
        };
        let (connections, grants) = self.connections_and_grants(&agent.name).await?;
        let now = self.clock().now_ms();
        let event_trigger;
        let trigger = match req.trigger_event_id.as_deref() {
            None => trigger,
            Some(event_id) => match self.check_trigger_event(&agent.name, event_id, &grants, now).await? {
                Ok(()) => {
                    event_trigger = format!("event:{event_id}");
                    event_trigger.as_str()
                }
                Err(message) => {
                    let summary = serde_json::json!({ "tool": tool, "call_id": call_id, "reason": message });
                    self.writer()
                        .append(agent_row(&agent.name, action, trigger, &call_id, "deny", ErrorCode::BadRequest.as_str(), None, summary), Durability::Normal)
                        .await?;
                    return Err(ApiError::bad_request(message));
                }
            },
        };
        let row = |decision: &str, outcome: &str, connection: Option<&str>, summary: Value| {
            agent_row(&agent.name, action, trigger, &call_id, decision, outcome, connection, summary)
        };
        let checked = choose_connection(action, &agent.name, req.connection.as_deref(), &connections, &grants, now).and_then(|c| {
            check_connection(action, c)?;
            let call = (action.build)(&req.input).map_err(|m| refuse(ErrorCode::BadRequest, Some(&c.id), format!("{tool}: {m}")))?;
            if let Some(id) = &req.client_request_id {
                check_client_request_id(id).map_err(|m| refuse(ErrorCode::BadRequest, Some(&c.id), m))?;
            }
            Ok((c.clone(), call))
        });
        let (connection, call) = match checked {
            Ok(v) => v,
            Err(r) => {
                let summary = serde_json::json!({ "tool": tool, "call_id": call_id, "reason": r.message });
                self.writer().append(row("deny", r.code.as_str(), r.connection.as_deref(), summary), Durability::Normal).await?;
                return Err(ApiError::new(r.code, r.message));
            }
        };
        let catalog = self.provider_catalog();
        let Some(entry) = catalog.providers.iter().find(|p| p.id == connection.provider).cloned() else {
            let msg = format!("provider '{}' of connection '{}' is not in this gateway's catalog (sandbox providers need `serve --sandbox`)", connection.provider, connection.id);
            self.writer()
                .append(row("deny", "provider_unavailable", Some(&connection.id), serde_json::json!({ "tool": tool, "call_id": call_id })), Durability::Normal)
                .await?;
            return Err(ApiError::new(ErrorCode::ProviderUnreachable, msg));
        };

        // A retry under a client_request_id gets the first answer, never a second effect.
        let client_request = match &req.client_request_id {
            Some(id) => {
                if let Some(prev) = self.client_request(&agent.name, id).await? {
                    return self.replay_client_request(&prev, tool, &req.input).await;
                }
                Some(stored_approvals::ClientRequestRecord {
                    agent: agent.name.clone(),
                    client_request_id: id.clone(),
                    tool: tool.to_string(),
                    input_hash: request_hash(tool, &req.input),
                    call_id: call_id.clone(),
                    approval_id: None,
                    result: None,
                    created_at_ms: now,
                })
            }
            None => None,
        };

        let checked_against = match self.preflight(&entry, &connection, &agent.name, action, &req.input, &call_id).await {
            Ok(path) => path,
            Err(m) => {
                let message = format!("{tool}: {m}");
                let summary = serde_json::json!({ "tool": tool, "call_id": call_id, "reason": message });
                self.writer().append(row("deny", ErrorCode::BadRequest.as_str(), Some(&connection.id), summary), Durability::Normal).await?;
                return Err(ApiError::new(ErrorCode::BadRequest, message));
            }
        };

        let decision = self.decide_call(&agent.name, action, &connection, &entry, &grants, &req.input, req.template_tag.as_deref(), &call_id).await?;
        match decision.verdict {
            switchboard_policy::Verdict::Deny => {
                let code = decision.error_code.unwrap_or(ErrorCode::NotGranted);
                let summary = serde_json::json!({ "tool": tool, "call_id": call_id, "rule": decision.rule, "reason": decision.reason });
                self.writer().append(row("deny", code.as_str(), Some(&connection.id), summary), Durability::Normal).await?;
                return Err(ApiError::new(code, decision.reason));
            }
            switchboard_policy::Verdict::Queue => {
                let held = DecidedCall { agent, action, connection: &connection, input: req.input, call_id, trigger, rule: &decision.rule, client_request, checked_against };
                return self.queue_for_approval(held).await;
            }
            switchboard_policy::Verdict::Allow if decision.rule.starts_with("policy:") => {
                let held = DecidedCall { agent, action, connection: &connection, input: req.input, call_id, trigger, rule: &decision.rule, client_request, checked_against };
                return self.auto_send(held, &entry).await;
            }
            switchboard_policy::Verdict::Allow => {}
        }

        // The decision commits before anything leaves the machine.
        let durability = if action.tier == Tier::Read { Durability::Normal } else { Durability::Full };
        let mut summary = serde_json::json!({
            "tool": tool, "call_id": call_id, "rule": decision.rule, "method": call.method, "path": call.path, "input": audited_input(&req.input),
        });
        if let Some(path) = checked_against {
            summary["checked_against"] = Value::String(path.into());
        }
        let decision = row("allow", "started", Some(&connection.id), summary);
        let first = client_request.clone();
        self.writer()
            .transact(durability, move |conn, audit| {
                audit.append(&decision)?;
                if let Some(c) = &first
                    && !stored_approvals::insert_client_request(conn, c)?
                {
                    return Err(switchboard_store::StoreError::Conflict("this client_request_id was just used by another request".into()));
                }
                Ok(())
            })
            .await?;

        let started = Instant::now();
        let sent = self.send_to_provider(&entry, &connection, &agent.name, action, &call, &call_id).await;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let (outcome, result, health) = settle(&entry, &connection, tool, &call_id, sent);
        let status = result.as_ref().map(|r| r.status).ok();
        let mut summary = serde_json::json!({ "tool": tool, "call_id": call_id, "status": status, "elapsed_ms": elapsed_ms });
        if let Err(e) = &result {
            summary["error"] = Value::String(e.message.clone());
        }
        let remembered = client_request.map(|c| (c.agent, c.client_request_id, remembered_answer(&result)));
        self.record_outcome(row("none", outcome, Some(&connection.id), summary), &connection.id, result.is_ok(), health, durability, remembered).await;
        result
    }

    /// Commits a sent call's outcome row with the connection's health (and the answer a retry
    /// under the agent's client_request_id will get). The call already happened: a failure
    /// to record is logged, not hidden behind an error that would invite a retry.
    pub(crate) async fn record_outcome(
        &self,
        outcome_row: NewAuditRow,
        connection_id: &str,
        is_ok: bool,
        health: Option<(&'static str, String, &'static str)>,
        durability: Durability,
        remembered: Option<(String, String, String)>,
    ) {
        let at = self.clock().now_ms();
        let id = connection_id.to_string();
        let call_id = outcome_row.correlation_id.clone().unwrap_or_default();
        let recorded = self
            .writer()
            .transact(durability, move |conn, audit| {
                audit.append(&outcome_row)?;
                if let Some((agent, crid, answer)) = &remembered {
                    stored_approvals::set_client_request_result(conn, agent, crid, answer)?;
                }
                match &health {
                    None if is_ok => stored_connections::record_call_success(conn, &id, at),
                    None => Ok(()),
                    Some((code, message, status)) => stored_connections::record_error(conn, &id, code, message, at, status),
                }
            })
            .await;
        if let Err(e) = recorded {
            tracing::error!(call_id = %call_id, error = %e, "a provider call completed but its outcome row could not be written");
        }
    }

    async fn client_request(&self, agent: &str, id: &str) -> Result<Option<stored_approvals::ClientRequestRecord>, ApiError> {
        let db = self.db().clone();
        let (agent, id) = (agent.to_string(), id.to_string());
        blocking(move || Ok(stored_approvals::get_client_request(&*db.reader()?, &agent, &id)?)).await
    }

    /// The answer to a request repeated under its client_request_id.
    async fn replay_client_request(&self, prev: &stored_approvals::ClientRequestRecord, tool: &str, input: &Value) -> Result<CallResult, ApiError> {
        if prev.tool != tool || prev.input_hash != request_hash(tool, input) {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!("client_request_id '{}' was used for a different request; use a new id for a new request", prev.client_request_id),
            ));
        }
        if let Some(approval) = &prev.approval_id {
            return self.pending_answer(approval).await;
        }
        match prev.result.as_deref().map(serde_json::from_str::<Value>) {
            Some(Ok(v)) if v.get("error").is_some() => {
                let e: ApiError = serde_json::from_value(v["error"].clone()).map_err(|e| ApiError::internal(format!("a remembered answer is unreadable: {e}")))?;
                Err(e)
            }
            Some(Ok(v)) => serde_json::from_value(v).map_err(|e| ApiError::internal(format!("a remembered answer is unreadable: {e}"))),
            Some(Err(e)) => Err(ApiError::internal(format!("a remembered answer is unreadable: {e}"))),
            None => Err(ApiError::new(
                ErrorCode::Conflict,
                format!("the first request with client_request_id '{}' (call {}) has not finished; ask again shortly", prev.client_request_id, prev.call_id),
            )),
        }
    }

    /// Sends one request with the connection's credential through the connection's rate-limit
    /// budget (a form body and an `Idempotency-Key` when the action asks for them); `(status, body)` or a `rate_limited` / `provider_unreachable` / keychain error.
    /// The credential never appears in the error. Pulls ([`crate::pull`]) send through here too.
    pub(crate) async fn send_to_provider(
        &self,
        entry: &ProviderEntry,
        connection: &ConnectionRecord,
        agent: &str,
        action: &ActionSpec,
        call: &HttpCall,
        call_id: &str,
    ) -> Result<(u16, Vec<u8>), ApiError> {
        let credential = self.credential_of(connection).await?;
        if entry.api_base_url.contains('{') {
            return Err(ApiError::new(ErrorCode::ProviderUnreachable, format!("{}'s API address depends on the account and is not set for this connection", entry.name)));
        }
        let base = format!("{}{}", entry.api_base_url.trim_end_matches('/'), call.path);
        let url = if call.query.is_empty() {
            reqwest::Url::parse(&base)
        } else {
            reqwest::Url::parse_with_params(&base, &call.query)
        }
        .map_err(|e| ApiError::internal(format!("the request address for {} is not valid: {e}", entry.name)))?;
        let method = switchboard_http::Method::from_bytes(call.method.as_bytes()).map_err(|_| ApiError::internal(format!("unknown HTTP method {}", call.method)))?;
        // A write the provider de-duplicates by its Idempotency-Key may be re-sent after a
        // timeout, 429 or 5xx: the retry carries the same key, so it is applied once.
        let retry_safe = action.idempotent || call.idempotency_key;
        let mut req = switchboard_http::OutboundRequest::new(method, url.to_string(), retry_safe)
            .units(call_units(entry, action))
            .auth(switchboard_http::AuthHeader::bearer(credential.expose()))
            .header("accept", "application/json");
        if let Some(body) = &call.json {
            req = req.json_body(serde_json::to_vec(body).unwrap_or_default());
        } else if let Some(form) = &call.form {
            req = req.header("content-type", "application/x-www-form-urlencoded");
            req.body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish().into_bytes();
        }
        if call.idempotency_key {
            // The call id: one per agent call, kept by the request on every retry, and in the
            // audit rows, so the provider's request log and the audit log can be matched.
            req = req.header("idempotency-key", call_id);
        }
        let (account, budget) = pacing_account(entry, &connection.id, call);
        self.paced().register(&account, budget);
        let deadline = Instant::now() + QUEUE_DEADLINE;
        let resp = self.paced().send(&account, agent, req, deadline).await.map_err(|e| {
            let code = e.code();
            let message = match code {
                ErrorCode::RateLimited => format!(
                    "the call waited {} s for {}'s rate-limit budget on '{}' and was not sent; retry later",
                    QUEUE_DEADLINE.as_secs(),
                    entry.name,
                    connection.id
                ),
                ErrorCode::ProviderUnreachable => format!("could not reach {} at {}: {e}", entry.name, entry.api_base_url),
                _ => format!("the call to {} could not be sent: {e}", entry.name),
            };
            ApiError::new(code, scrub(&message, credential.expose()))
        })?;
        if resp.body.len() > MAX_RESPONSE_BYTES {
            return Err(ApiError::new(ErrorCode::ProviderError, format!("{} answered with more than {} MB; ask for a smaller page", entry.name, MAX_RESPONSE_BYTES >> 20)));
        }
        Ok((resp.status, scrub_bytes(&resp.body, credential.expose())))
    }

    /// Registers the connection's budget with the paced client (idempotent).
    pub(crate) fn ensure_budget(&self, connection_id: &str, entry: &ProviderEntry) {
        self.paced().register(connection_id, pacing_budget(entry));
    }
}

/// The budget a call waits in, and its key in the paced client. Most providers limit the whole
/// account: the connection's one budget ([`pacing_budget`]), keyed by the connection id; a call
/// a documented per-endpoint bucket covers ([`endpoint_budget`], HubSpot search: 4 per second)
/// waits in that bucket's (`{connection}/POST /crm/v3/objects/{type}/search`). A provider that
/// limits each API method on its own (Slack's tiers, in the catalog's `methods`) gets one budget
/// per connection and method (`{connection}/{method}`), and one per connection, method and
/// resource where the bucket counts per resource (`chat.postMessage` per channel:
/// `{connection}/chat.postMessage/{channel}`).
pub(crate) fn pacing_account(entry: &ProviderEntry, connection_id: &str, call: &HttpCall) -> (String, switchboard_http::Budget) {
    let method = call.path.trim_start_matches('/');
    let Some(limit) = entry.method_limit(method) else {
        return match endpoint_budget(entry, call) {
            Some((bucket, budget)) => (format!("{connection_id}/{bucket}"), budget),
            None => (connection_id.to_string(), pacing_budget(entry)),
        };
    };
    let Some(budget) = switchboard_http::Budget::new(u32::try_from(limit.requests).unwrap_or(u32::MAX), Duration::from_secs(limit.per_seconds)) else {
        return (connection_id.to_string(), pacing_budget(entry));
    };
    let resource = match (limit.scope, limit.per_argument.as_deref()) {
        (switchboard_connectors::LimitScope::Resource, Some(arg)) => call_argument(call, arg),
        _ => None,
    };
    match resource {
        Some(r) => (format!("{connection_id}/{method}/{r}"), budget),
        None => (format!("{connection_id}/{method}"), budget),
    }
}

/// A request argument by name, from the query, the JSON body or the form body.
fn call_argument(call: &HttpCall, name: &str) -> Option<String> {
    let pair = |pairs: &[(String, String)]| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    pair(&call.query)
        .or_else(|| call.json.as_ref().and_then(|j| j.get(name)).and_then(Value::as_str).map(str::to_string))
        .or_else(|| call.form.as_deref().and_then(pair))
}

/// A body with the credential removed, should a provider ever echo it back.
fn scrub_bytes(body: &[u8], secret: &str) -> Vec<u8> {
    if secret.is_empty() || !body.windows(secret.len()).any(|w| w == secret.as_bytes()) {
        return body.to_vec();
    }
    String::from_utf8_lossy(body).replace(secret, "[credential]").into_bytes()
}

/// The budget a connection is paced by: the catalog's first bucket for the whole account (or
/// the signed-in user, which a connection is) counted in requests or quota units (the catalog
/// lists the bucket that paces ordinary calls first; longer caps such as a daily quota are
/// watched through the provider's headers rather than spread over the day).
pub(crate) fn pacing_budget(entry: &ProviderEntry) -> switchboard_http::Budget {
    use switchboard_connectors::{LimitScope, LimitUnit};
    let buckets: Vec<&switchboard_connectors::RateLimit> = entry
        .rate_limits
        .iter()
        .filter(|l| matches!(l.unit, LimitUnit::Requests | LimitUnit::QuotaUnits) && matches!(l.scope, LimitScope::Account | LimitScope::User))
        .collect();
    // A simulated provider runs in the provider's test mode (Stripe: 25/s, not live mode's
    // 100/s), so its entry is paced by the bucket documented for test or sandbox mode if any.
    let test_mode = |l: &&&switchboard_connectors::RateLimit| {
        l.condition.as_deref().is_some_and(|c| c.contains("test") || c.contains("sandbox"))
    };
    let chosen = if entry.id.ends_with(ProviderEntry::SANDBOX_SUFFIX) {
        buckets.iter().find(test_mode).or(buckets.first())
    } else {
        buckets.iter().find(|l| !test_mode(l)).or(buckets.first())
    };
    let documented = chosen.and_then(|l| switchboard_http::Budget::new(u32::try_from(l.requests).ok()?, Duration::from_secs(l.per_seconds)));
    documented.unwrap_or_else(|| {
        // `Budget::new` refuses only zero values, and the constant is not zero.
        #[allow(clippy::expect_used)]
        switchboard_http::Budget::new(UNDOCUMENTED_BUDGET.0, Duration::from_secs(UNDOCUMENTED_BUDGET.1)).expect("a non-zero budget")
    })
}

/// The documented bucket that paces only calls like `call`, as `(its "METHOD /path" pattern,
/// budget)`: a catalog rate limit counted in requests whose `applies_to` is a method and a path
/// template (`POST /crm/v3/objects/{type}/search`, `{…}` standing for one path segment).
pub(crate) fn endpoint_budget(entry: &ProviderEntry, call: &HttpCall) -> Option<(String, switchboard_http::Budget)> {
    use switchboard_connectors::LimitUnit;
    entry.rate_limits.iter().filter(|l| l.unit == LimitUnit::Requests).find_map(|l| {
        let pattern = l.applies_to.as_deref()?;
        let (method, template) = pattern.split_once(' ')?;
        let (want, got): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), call.path.split('/').collect());
        let same_path = want.len() == got.len()
            && want.iter().zip(&got).all(|(w, g)| if w.starts_with('{') && w.ends_with('}') { !g.is_empty() } else { w == g });
        if method != call.method || !same_path {
            return None;
        }
        let budget = switchboard_http::Budget::new(u32::try_from(l.requests).ok()?, Duration::from_secs(l.per_seconds))?;
        Some((pattern.to_string(), budget))
    })
}

/// What one call of `action` costs in the connection's budget: the method's quota units where
/// the provider is paced in quota units (Gmail), otherwise one request.
pub(crate) fn call_units(entry: &ProviderEntry, action: &ActionSpec) -> u32 {
    use switchboard_connectors::{LimitScope, LimitUnit};
    let paced_in_units = entry
        .rate_limits
        .iter()
        .find(|l| matches!(l.unit, LimitUnit::Requests | LimitUnit::QuotaUnits) && matches!(l.scope, LimitScope::Account | LimitScope::User))
        .is_some_and(|l| l.unit == LimitUnit::QuotaUnits);
    if !paced_in_units {
        return 1;
    }
    switchboard_connectors::quota_method(action)
        .and_then(|m| entry.quota_costs.iter().find(|q| q.method == m))
        .map_or(1, |q| q.units.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection(id: &str, provider: &str, scopes: &[&str]) -> ConnectionRecord {
        ConnectionRecord {
            id: id.into(),
            provider: provider.into(),
            label: id.into(),
            auth_mode: "private_app_token".into(),
            created_at_ms: 0,
            key_set_at_ms: 0,
            rotate_every_days: None,
            last_success_ms: None,
            last_error_code: None,
            last_error_message: None,
            last_error_ms: None,
            status: stored_connections::HEALTHY.into(),
            removed_at_ms: None,
            granted_scopes: scopes.iter().map(|s| (*s).to_string()).collect(),
            token_expires_at_ms: None,
            rotation_due_notified_ms: None,
        }
    }

    fn grant(conn: &str, tier: &str) -> GrantRecord {
        GrantRecord { agent: "bot".into(), connection_id: conn.into(), tier: tier.into(), actions: None, expires_at_ms: None, granted_at_ms: 0, granted_by: "u".into() }
    }

    fn list() -> &'static ActionSpec {
        switchboard_connectors::action("hubspot_list_contacts").expect("list action")
    }

    #[test]
    fn no_grant_means_no_call_and_the_message_names_the_grant() {
        let conns = [connection("hubspot-sandbox-1", "hubspot-sandbox", &["crm.objects.contacts.read"])];
        let e = choose_connection(list(), "bot", None, &conns, &[], 0).expect_err("a new agent holds nothing");
        assert_eq!(e.code, ErrorCode::NotGranted);
        assert!(e.message.contains("switchboard grants set bot hubspot-sandbox-1 read"), "the denial should say which grant allows it: {}", e.message);
        let e = choose_connection(list(), "bot", None, &conns, &[grant("hubspot-sandbox-1", "write")], 0).expect_err("write does not imply read");
        assert_eq!(e.code, ErrorCode::NotGranted);
        assert!(choose_connection(list(), "bot", None, &conns, &[grant("hubspot-sandbox-1", "read")], 0).is_ok());
    }

    #[test]
    fn expiry_narrowing_and_several_connections_are_respected() {
        let conns = [connection("hubspot-1", "hubspot", &[]), connection("hubspot-2", "hubspot", &[])];
        let mut expired = grant("hubspot-1", "read");
        expired.expires_at_ms = Some(100);
        let e = choose_connection(list(), "bot", Some("hubspot-1"), &conns, &[expired], 100).expect_err("expired");
        assert!(e.message.contains("expired"), "{}", e.message);
        let mut narrow = grant("hubspot-1", "read");
        narrow.actions = Some(vec!["hubspot_get_contact".into()]);
        let e = choose_connection(list(), "bot", Some("hubspot-1"), &conns, &[narrow], 0).expect_err("narrowed away");
        assert_eq!(e.code, ErrorCode::NotGranted);
        let both = [grant("hubspot-1", "read"), grant("hubspot-2", "read")];
        let e = choose_connection(list(), "bot", None, &conns, &both, 0).expect_err("ambiguous");
        assert_eq!(e.code, ErrorCode::BadRequest, "with two usable connections the agent must name one");
        assert_eq!(choose_connection(list(), "bot", Some("hubspot-2"), &conns, &both, 0).ok().map(|c| c.id.as_str()), Some("hubspot-2"));
        let other = [connection("stripe-1", "stripe", &[])];
        assert_eq!(choose_connection(list(), "bot", Some("stripe-1"), &other, &[], 0).err().map(|e| e.code), Some(ErrorCode::BadRequest));
    }

    #[test]
    fn missing_scopes_and_refused_credentials_stop_the_call() {
        let c = connection("hubspot-1", "hubspot", &["crm.objects.contacts.read"]);
        assert!(check_connection(list(), &c).is_ok());
        let create = switchboard_connectors::action("hubspot_create_contact").expect("create");
        let e = check_connection(create, &c).expect_err("no write scope");
        assert_eq!(e.code, ErrorCode::ScopeNotGranted);
        assert!(e.message.contains("crm.objects.contacts.write"), "{}", e.message);
        let mut refused = c.clone();
        refused.status = stored_connections::RECONNECT_NEEDED.into();
        assert_eq!(check_connection(list(), &refused).err().map(|e| e.code), Some(ErrorCode::ReconnectNeeded));
    }

    #[test]
    fn connections_are_paced_by_the_catalogs_first_account_bucket() {
        let hubspot = switchboard_connectors::catalog().get("hubspot").expect("hubspot");
        let b = pacing_budget(hubspot);
        assert_eq!((b.requests, b.per), (100, Duration::from_secs(10)), "HubSpot should be paced by its 100 per 10 s burst bucket, not its daily cap");
        let gmail = switchboard_connectors::catalog().get("gmail").expect("gmail");
        let b = pacing_budget(gmail);
        assert_eq!((b.requests, b.per), (6_000, Duration::from_secs(60)), "Gmail should be paced by its per-user quota units per minute");
        assert_eq!(call_units(hubspot, list()), 1, "a HubSpot call costs one request");
        let stripe = switchboard_connectors::catalog().get("stripe").expect("stripe");
        assert_eq!(pacing_budget(stripe).requests, 100, "live Stripe is paced by the live-mode bucket");
        let sandbox = stripe.sandboxed("http://127.0.0.1:9");
        assert_eq!(pacing_budget(&sandbox).requests, 25, "the Stripe sandbox runs in test mode: 25 per second");
    }

    #[test]
    fn slack_calls_wait_in_a_budget_per_method_and_posts_in_one_per_channel() {
        let slack = switchboard_connectors::catalog().get("slack").expect("slack").sandboxed("http://127.0.0.1:9");
        let build = |tool: &str, input: Value| (switchboard_connectors::action(tool).expect("action").build)(&input).expect("valid input");
        let channels = build("slack_list_channels", serde_json::json!({}));
        let (key, budget) = pacing_account(&slack, "slack-sandbox-1", &channels);
        assert_eq!((key.as_str(), budget.requests, budget.per), ("slack-sandbox-1/conversations.list", 20, Duration::from_secs(60)), "conversations.list is Tier 2");
        let history = build("slack_channel_history", serde_json::json!({ "channel": "C05SBXFDB1" }));
        let (key, budget) = pacing_account(&slack, "slack-sandbox-1", &history);
        assert_eq!((key.as_str(), budget.requests), ("slack-sandbox-1/conversations.history", 50), "history is Tier 3, in a budget of its own");
        let post = |channel: &str| build("slack_post_message", serde_json::json!({ "channel": channel, "text": "hi" }));
        let (a, budget) = pacing_account(&slack, "slack-sandbox-1", &post("C05SBXGEN1"));
        let (b, _) = pacing_account(&slack, "slack-sandbox-1", &post("C05SBXFDB1"));
        assert_eq!((a.as_str(), budget.requests, budget.per), ("slack-sandbox-1/chat.postMessage/C05SBXGEN1", 1, Duration::from_secs(1)), "one message a second per channel");
        assert_ne!(a, b, "each channel has its own posting budget");
        let hubspot = switchboard_connectors::catalog().get("hubspot").expect("hubspot");
        let (key, budget) = pacing_account(hubspot, "hubspot-1", &(list().build)(&serde_json::json!({})).expect("valid"));
        assert_eq!((key.as_str(), budget), ("hubspot-1", pacing_budget(hubspot)), "HubSpot calls share the connection's one budget");
        let search = HttpCall { method: "POST", path: "/crm/v3/objects/deals/search".into(), ..HttpCall::default() };
        let (key, budget) = pacing_account(hubspot, "hubspot-1", &search);
        assert_eq!((key.as_str(), budget.requests), ("hubspot-1/POST /crm/v3/objects/{type}/search", 4), "HubSpot search waits in its own bucket");
    }

    #[test]
    fn hubspot_search_is_paced_by_its_own_bucket() {
        let hubspot = switchboard_connectors::catalog().get("hubspot").expect("hubspot");
        let search = HttpCall { method: "POST", path: "/crm/v3/objects/notes/search".into(), ..HttpCall::default() };
        let (bucket, budget) = endpoint_budget(hubspot, &search).expect("search has its own bucket");
        assert_eq!(bucket, "POST /crm/v3/objects/{type}/search");
        assert_eq!((budget.requests, budget.per), (4, Duration::from_secs(1)), "HubSpot search: 4 per second");
        let list = HttpCall { method: "GET", path: "/crm/v3/objects/contacts".into(), ..HttpCall::default() };
        assert!(endpoint_budget(hubspot, &list).is_none(), "other calls use the connection's shared budget");
        let create = HttpCall { method: "POST", path: "/crm/v3/objects/notes".into(), ..HttpCall::default() };
        assert!(endpoint_budget(hubspot, &create).is_none());
        let stripe = switchboard_connectors::catalog().get("stripe").expect("stripe");
        assert!(endpoint_budget(stripe, &search).is_none());
    }

    #[test]
    fn provider_text_is_scrubbed_and_summarised() {
        assert_eq!(scrub("token pat-1 bad", "pat-1"), "token [credential] bad");
        assert_eq!(scrub_bytes(b"{\"echo\":\"pat-1\"}", "pat-1"), b"{\"echo\":\"[credential]\"}".to_vec());
        assert_eq!(provider_words(br#"{"status":"error","message":"Contact already exists"}"#), "Contact already exists");
        assert_eq!(provider_words(br#"{"error":{"message":"No such customer"}}"#), "No such customer");
        assert_eq!(provider_words(br#"{"error":{"code":"resource_missing","message":"No such customer"}}"#), "resource_missing: No such customer", "Stripe's code leads");
        assert_eq!(
            provider_words(br#"{"error":{"code":404,"message":"Requested entity was not found.","errors":[{"reason":"notFound"}]}}"#),
            "notFound: Requested entity was not found.",
            "Google's reason leads (its numeric code is the HTTP status)"
        );
        let big = Value::String("x".repeat(10_000));
        assert_eq!(audited_input(&big)["truncated"], true);
    }
}
