//! Typed provider actions: what an agent can ask a connection to do.
//!
//! Each [`ActionSpec`] says its tier (read, write or delete — no tier implies another), the
//! provider scopes it needs, whether it is outbound (it changes something people outside see:
//! an email, a message, a CRM record, an invoice) and whether retrying it is safe, gives a JSON
//! Schema for its input, and turns a checked input into one provider request ([`HttpCall`]) with
//! the provider's real path, query and body. Building is pure: no I/O, no credentials. The api
//! crate checks grants and scopes, paces and sends the call.
//!
//! Agents name an action by its tool name, `{provider}_{action}` (e.g. `hubspot_list_contacts`);
//! the same action serves the provider's `-sandbox` entry.
//!
//! How to add an action: add an [`ActionSpec`] to the provider's module (`actions/<provider>.rs`,
//! listed in [`actions()`]) with the scopes from
//! the catalog (`catalog/providers.toml`), a schema whose fields have descriptions, and a `build`
//! function that refuses bad input with a sentence naming the field; cover `build` with a unit
//! test, and add a representative valid input to `samples()` in `tests/contract.rs`, which checks
//! the request against the provider's published API description (an action without a sample
//! fails that test).

use serde::Serialize;
use serde_json::{Map, Value};
use switchboard_core::Tier;
use ts_rs::TS;

/// One provider request an action turned into.
///
/// Build literals with `..HttpCall::default()` so new optional parts do not touch every action.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HttpCall {
    /// `GET`, `POST`, `PATCH`, `PUT` or `DELETE`.
    pub method: &'static str,
    /// Path below the provider's API base URL, starting with `/`; dynamic segments are
    /// validated by `build` so they never contain `/`, `?` or `#`.
    pub path: String,
    pub query: Vec<(String, String)>,
    /// JSON body, if any.
    pub json: Option<Value>,
    /// `application/x-www-form-urlencoded` body, if any (Stripe): pairs in order, nested
    /// fields already in the provider's bracket syntax (`metadata[order]`). Never set together
    /// with `json`.
    pub form: Option<Vec<(String, String)>>,
    /// The provider honours an `Idempotency-Key` header (Stripe): the gateway sends one key per
    /// call, the same on every retry of that call, so the provider applies the write at most
    /// once and the call may be retried after a timeout, 429 or 5xx.
    pub idempotency_key: bool,
}

/// What an agent can ask a connection to do.
#[derive(Clone, Copy)]
pub struct ActionSpec {
    /// Catalog id of the real provider, e.g. `hubspot` (also used for `hubspot-sandbox`).
    pub provider: &'static str,
    /// e.g. `list_contacts`.
    pub name: &'static str,
    /// One sentence an agent and a person can read.
    pub description: &'static str,
    pub tier: Tier,
    /// Provider scopes the connection must hold (all of them).
    pub scopes: &'static [&'static str],
    /// Changes something outside (email, message, CRM record, invoice, refund).
    pub outbound: bool,
    /// Sending it twice has the same effect as once (safe to retry after a network error).
    pub idempotent: bool,
    /// How a person approving it sees it.
    pub preview: PreviewKind,
    pub input_schema: fn() -> Value,
    pub build: fn(&Value) -> Result<HttpCall, String>,
}

/// How a queued call is shown to the person approving it: what kind of thing it sends or changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviewKind {
    /// An email with its headers and body.
    Email,
    /// A chat message in its channel.
    ChatMessage,
    /// A new CRM record or activity (no earlier values to compare with).
    CrmChange,
    /// Changes properties of an existing CRM record: the properties are the `properties` of the
    /// request body the action builds, and their current values are read with `read_tool`
    /// (given `id_field` from the input and `properties`), so the draft shows old → new.
    CrmUpdate { read_tool: &'static str, id_field: &'static str },
    CalendarEvent,
    Invoice,
    Refund,
    Credit,
    /// Anything else: shown as its fields.
    Action,
}

impl PreviewKind {
    /// The name drafts carry (`Preview.kind`); both CRM kinds are `crm_change`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::ChatMessage => "chat_message",
            Self::CrmChange | Self::CrmUpdate { .. } => "crm_change",
            Self::CalendarEvent => "calendar_event",
            Self::Invoice => "invoice",
            Self::Refund => "refund",
            Self::Credit => "credit",
            Self::Action => "action",
        }
    }
}

impl ActionSpec {
    /// `{provider}_{name}`, the name agents call.
    pub fn tool_name(&self) -> String {
        format!("{}_{}", self.provider, self.name)
    }

    /// Whether this action serves catalog entry `provider_id` (the real one or its sandbox).
    pub fn serves(&self, provider_id: &str) -> bool {
        provider_id == self.provider || provider_id.strip_suffix("-sandbox") == Some(self.provider)
    }

    pub fn info(&self) -> ActionInfo {
        ActionInfo {
            tool: self.tool_name(),
            provider: self.provider.into(),
            name: self.name.into(),
            description: self.description.into(),
            tier: self.tier,
            scopes: self.scopes.iter().map(|s| (*s).to_string()).collect(),
            outbound: self.outbound,
            idempotent: self.idempotent,
            input_schema: (self.input_schema)(),
        }
    }
}

impl std::fmt::Debug for ActionSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionSpec").field("tool", &self.tool_name()).field("tier", &self.tier).finish_non_exhaustive()
    }
}

/// An action as agents and the UI see it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ActionInfo {
    /// `{provider}_{name}`.
    pub tool: String,
    pub provider: String,
    pub name: String,
    pub description: String,
    pub tier: Tier,
    pub scopes: Vec<String>,
    pub outbound: bool,
    pub idempotent: bool,
    /// JSON Schema of the `input` object.
    #[ts(type = "Record<string, unknown>")]
    pub input_schema: Value,
}

mod gcal;
mod gmail;
mod hubspot;
mod slack;
mod stripe;

/// Every action Switchboard offers, provider by provider.
pub fn actions() -> &'static [ActionSpec] {
    static ALL: std::sync::OnceLock<Vec<ActionSpec>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        // One list per provider module; add a provider's list here.
        [hubspot::ACTIONS, stripe::ACTIONS, slack::ACTIONS, gcal::ACTIONS, gmail::ACTIONS].into_iter().flat_map(|list| list.iter().copied()).collect()
    })
}

/// The provider's method name in its quota table (`quota_costs` in the catalog) for providers
/// that count quota units per method rather than requests (Gmail: `messages.send` costs 100);
/// `None` means the call costs one unit. Each such provider's module lists its own mapping.
pub fn quota_method(action: &ActionSpec) -> Option<&'static str> {
    match action.provider {
        "gmail" => gmail::quota_method(action.name),
        _ => None,
    }
}

/// A failure a provider reports inside a 2xx answer (Slack answers HTTP 200 with
/// `{"ok": false, "error": "channel_not_found"}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderFailure {
    /// The provider's own error code, e.g. `channel_not_found`.
    pub code: String,
    /// The code with whatever detail the provider gave (e.g. Slack's `needed` scope).
    pub message: String,
    /// The provider refused the credential itself (the connection must be reconnected).
    pub credential_refused: bool,
}

/// The failure inside a 2xx `body` from catalog entry `provider_id` (the real one or its
/// sandbox), for providers that report failures that way; `None` means the answer is a success.
pub fn failure_in_success(provider_id: &str, body: &[u8]) -> Option<ProviderFailure> {
    match provider_id.strip_suffix("-sandbox").unwrap_or(provider_id) {
        "slack" => slack::failure(body),
        "gmail" => gmail::failure(body),
        _ => None,
    }
}

/// A check of an action's input against the connected account's own definitions, made by the
/// gateway before the call is sent (HubSpot: a new contact's properties against the account's
/// contact property definitions, custom properties and enumeration options included). The
/// definitions are read with `GET {path}` on the connection; building stays pure.
#[derive(Debug, Clone, Copy)]
pub struct Preflight {
    /// Path below the provider's API base URL whose answer `check` reads.
    pub path: &'static str,
    /// Whether this input needs the check at all (so an input using only properties every
    /// account has costs no extra request).
    pub needed: fn(&Value) -> bool,
    /// `Err` is one sentence naming every offending input field.
    pub check: fn(&Value, &Value) -> Result<(), String>,
}

/// The pre-flight check `action` asks for, if any. Each provider's module lists its own.
pub fn preflight(action: &ActionSpec) -> Option<Preflight> {
    match action.provider {
        "hubspot" => hubspot::preflight(action.name),
        _ => None,
    }
}

/// The fields a provider refused in a 4xx answer from catalog entry `provider_id`, as one
/// sentence, when the refusal is about the input (HubSpot's `VALIDATION_ERROR`): the gateway
/// answers the agent `bad_request` with it rather than a provider error. `None` for any other
/// answer.
pub fn refused_input(provider_id: &str, status: u16, body: &[u8]) -> Option<String> {
    match provider_id.strip_suffix("-sandbox").unwrap_or(provider_id) {
        "hubspot" => hubspot::refused_input(status, body),
        _ => None,
    }
}

/// The action an agent names by tool name, e.g. `hubspot_list_contacts`.
pub fn action(tool: &str) -> Option<&'static ActionSpec> {
    actions().iter().find(|a| a.tool_name() == tool)
}

// ---- input helpers (hand-written: a full JSON Schema validator is more than these flat inputs need)

pub(crate) fn object(input: &Value) -> Result<&Map<String, Value>, String> {
    input.as_object().ok_or_else(|| "the input must be a JSON object".to_string())
}

pub(crate) fn refuse_unknown(o: &Map<String, Value>, known: &[&str]) -> Result<(), String> {
    match o.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(format!("unknown input field '{k}'; this action takes: {}", known.join(", "))),
        None => Ok(()),
    }
}

/// A numeric record id (HubSpot ids are digits), safe as a path segment.
pub(crate) fn record_id(o: &Map<String, Value>, field: &str) -> Result<String, String> {
    let id = match o.get(field) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) if n.is_u64() => n.to_string(),
        Some(_) => return Err(format!("'{field}' must be a record id such as \"101\"")),
        None => return Err(format!("'{field}' is required")),
    };
    if id.is_empty() || id.len() > 30 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("'{field}' must be a numeric record id such as \"101\""));
    }
    Ok(id)
}

pub(crate) fn opt_limit(o: &Map<String, Value>, max: u64) -> Result<Option<u64>, String> {
    match o.get("limit") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.as_u64().is_some_and(|n| (1..=max).contains(&n)) => Ok(n.as_u64()),
        Some(_) => Err(format!("'limit' must be a whole number from 1 to {max}")),
    }
}

pub(crate) fn opt_string(o: &Map<String, Value>, field: &str) -> Result<Option<String>, String> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(format!("'{field}' must be a non-empty string")),
    }
}

pub(crate) fn opt_string_list(o: &Map<String, Value>, field: &str) -> Result<Option<Vec<String>>, String> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().filter(|s| !s.is_empty() && !s.contains(',')).map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| format!("'{field}' must be a list of property names")),
        Some(_) => Err(format!("'{field}' must be a list of property names")),
    }
}

/// A `properties` object of scalar values (the provider checks the names).
pub(crate) fn properties(o: &Map<String, Value>) -> Result<Value, String> {
    let Some(p) = o.get("properties").and_then(Value::as_object) else {
        return Err("'properties' is required: an object such as {\"email\": \"ada@example.com\"}".into());
    };
    if p.is_empty() {
        return Err("'properties' must name at least one property".into());
    }
    if let Some((k, _)) = p.iter().find(|(_, v)| !(v.is_string() || v.is_number() || v.is_boolean())) {
        return Err(format!("property '{k}' must be a string, number or true/false"));
    }
    Ok(Value::Object(p.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use crate::catalog;

    #[test]
    fn every_action_names_catalog_scopes_of_its_tier_or_one_that_unlocks_it() {
        for a in actions() {
            let entry = catalog().get(a.provider).unwrap_or_else(|| panic!("{}: provider is not in the catalog", a.tool_name()));
            assert!(!a.scopes.is_empty(), "{}: an action must need at least one scope", a.tool_name());
            for s in a.scopes {
                let scope = entry.scope(s).unwrap_or_else(|| panic!("{}: scope {s} is not in the catalog", a.tool_name()));
                assert!(
                    scope.tier == a.tier || scope.also_unlocks.contains(&a.tier),
                    "{}: scope {s} is {:?} and does not unlock {:?}",
                    a.tool_name(),
                    scope.tier,
                    a.tier
                );
            }
            let schema = (a.input_schema)();
            assert_eq!(schema["type"], "object", "{}: the input schema must describe an object", a.tool_name());
            for (field, def) in schema["properties"].as_object().expect("schema properties") {
                assert!(def["description"].is_string(), "{}: field {field} has no description", a.tool_name());
            }
        }
        let mut names: Vec<String> = actions().iter().map(ActionSpec::tool_name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), actions().len(), "tool names must be unique");
    }

    #[test]
    fn inputs_become_the_providers_real_requests() {
        let list = action("hubspot_list_contacts").expect("list action");
        let call = (list.build)(&json!({ "limit": 5, "after": "10", "properties": ["email", "firstname"] })).expect("valid input");
        assert_eq!(call.path, "/crm/v3/objects/contacts");
        assert_eq!(call.query, vec![("limit".into(), "5".into()), ("after".into(), "10".into()), ("properties".into(), "email,firstname".into())]);
        let create = action("hubspot_create_contact").expect("create action");
        let call = (create.build)(&json!({ "properties": { "email": "a@example.com", "firstname": "Ada" } })).expect("valid input");
        assert_eq!((call.method, call.json), ("POST", Some(json!({ "properties": { "email": "a@example.com", "firstname": "Ada" } }))));
        let archive = action("hubspot_archive_contact").expect("archive");
        assert_eq!((archive.build)(&json!({ "contact_id": 101 })).expect("numeric id").path, "/crm/v3/objects/contacts/101");
    }

    #[test]
    fn bad_input_is_refused_with_the_field_named() {
        let get = action("hubspot_get_contact").expect("get action");
        assert!((get.build)(&json!({})).expect_err("missing id").contains("contact_id"));
        assert!((get.build)(&json!({ "contact_id": "../../oauth" })).expect_err("path escape").contains("numeric"), "an id must not be able to change the path");
        assert!((get.build)(&json!({ "contact_id": "1", "extra": true })).expect_err("unknown").contains("extra"));
        let by_email = (get.build)(&json!({ "email": "ada@example.com" })).expect("lookup by email");
        assert_eq!(by_email.path, "/crm/v3/objects/contacts/ada@example.com");
        assert!(by_email.query.contains(&("idProperty".to_string(), "email".to_string())), "HubSpot is told the key is the email: {by_email:?}");
        assert!((get.build)(&json!({ "email": "ada@example.com/../x" })).expect_err("path escape").contains("email"), "an email must not be able to change the path");
        assert!((get.build)(&json!({ "email": "a@b.co", "contact_id": "1" })).expect_err("both").contains("either"));
        let list = action("hubspot_list_contacts").expect("list");
        assert!((list.build)(&json!({ "limit": 500 })).expect_err("limit").contains("limit"));
        assert!((list.build)(&json!("x")).is_err(), "a non-object input must be refused");
        let create = action("hubspot_create_contact").expect("create");
        assert!((create.build)(&json!({ "properties": { "email": { "nested": 1 } } })).expect_err("nested").contains("email"));
        assert!(action("hubspot_send_everything").is_none());
        assert!(action("hubspot_list_contacts").expect("list").serves("hubspot-sandbox"));
        assert!(!action("hubspot_list_contacts").expect("list").serves("hubspot-sandboxes"));
    }
}
