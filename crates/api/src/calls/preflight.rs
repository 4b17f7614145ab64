//! Pre-flight: an action's input checked against the connected account's own definitions
//! before the call is sent (HubSpot: a contact's properties against the account's contact
//! property definitions), so an agent hears `bad_request` naming every offending field instead
//! of a provider error, and nothing is written.
//!
//! The definitions are read with the connection's credential through its rate-limit budget, and
//! kept per connection for [`DEFINITIONS_TTL`]; an input that needs no check (only properties
//! every account has) costs no request. When the definitions cannot be read (a missing scope,
//! the provider down), the call goes ahead and the provider judges the input itself; its
//! refusal is still reported as `bad_request` where the connector recognises it
//! (`switchboard_connectors::refused_input`). The read is named in the call's audit rows
//! (`checked_against`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;
use switchboard_connectors::{ActionSpec, HttpCall, ProviderEntry};
use switchboard_store::connections::ConnectionRecord;

use crate::App;

/// How long an account's definitions are trusted before they are read again. A definition
/// changed in the meantime is still caught by the provider's own check.
pub(crate) const DEFINITIONS_TTL: Duration = Duration::from_secs(300);

/// `(connection id, definitions path)`.
type Key = (String, &'static str);

/// Definitions read per connection and path, with when they were read.
#[derive(Default)]
pub(crate) struct DefinitionCache {
    entries: Mutex<HashMap<Key, (Instant, Value)>>,
}

impl DefinitionCache {
    fn get(&self, connection: &str, path: &'static str) -> Option<Value> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(&(connection.to_string(), path))
            .filter(|(at, _)| at.elapsed() < DEFINITIONS_TTL)
            .map(|(_, v)| v.clone())
    }

    fn put(&self, connection: &str, path: &'static str, value: Value) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|_, (at, _)| at.elapsed() < DEFINITIONS_TTL);
        entries.insert((connection.to_string(), path), (Instant::now(), value));
    }
}

impl App {
    /// Runs `action`'s pre-flight on `input`: `Ok(Some(path))` when it was checked against the
    /// definitions at `path`, `Ok(None)` when no check was needed or the definitions could not be
    /// read, `Err(sentence)` when the account would refuse the input.
    pub(super) async fn preflight(
        &self,
        entry: &ProviderEntry,
        connection: &ConnectionRecord,
        agent: &str,
        action: &ActionSpec,
        input: &Value,
        call_id: &str,
    ) -> Result<Option<&'static str>, String> {
        let Some(pf) = switchboard_connectors::preflight(action) else {
            return Ok(None);
        };
        if !(pf.needed)(input) {
            return Ok(None);
        }
        let cache = self.definition_cache();
        let definitions = match cache.get(&connection.id, pf.path) {
            Some(d) => d,
            None => {
                let read = HttpCall {
                    method: "GET",
                    path: pf.path.into(),
                    ..HttpCall::default()
                };
                let answer = self
                    .send_to_provider(entry, connection, agent, action, &read, call_id)
                    .await;
                let parsed = match answer {
                    Ok((status, body)) if (200..300).contains(&status) => {
                        serde_json::from_slice::<Value>(&body).ok()
                    }
                    Ok((status, _)) => {
                        tracing::warn!(call_id, connection = %connection.id, status, "the account's definitions could not be read; the provider will check the input");
                        None
                    }
                    Err(e) => {
                        tracing::warn!(call_id, connection = %connection.id, code = e.code.as_str(), "the account's definitions could not be read; the provider will check the input");
                        None
                    }
                };
                let Some(d) = parsed else { return Ok(None) };
                cache.put(&connection.id, pf.path, d.clone());
                d
            }
        };
        (pf.check)(&definitions, input).map(|()| Some(pf.path))
    }
}
