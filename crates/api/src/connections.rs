//! Connected provider accounts by a pasted API key / private-app token / restricted key / bot
//! token. OAuth connections are made in [`crate::oauth`] and listed, tested and removed here.
//!
//! - **Add**: the provider must be in the catalog (including `-sandbox` entries) and offer a
//!   pasted-key auth mode. The key is checked with one cheap read call
//!   ([`switchboard_connectors::key_check`]) *before* anything is saved; a refused key or an
//!   unreachable provider stores nothing. On success the key goes to the keychain
//!   (`connection:<id>`) first, then the row and its `connection.added` audit row commit together
//!   (FULL durability); if that commit fails the keychain entry is deleted again.
//! - **Test**: the same cheap call; records last success / last error in the row (audited
//!   `connection.tested`, NORMAL durability).
//! - **Remove**: revokes an OAuth grant at the provider first ([`crate::oauth`]), then audited
//!   `connection.removed` (FULL, with `revoked_at_provider` and why not), marks the row removed
//!   and always deletes the keychain entry. Pasted keys cannot be revoked by Switchboard (the user
//!   revokes a key in the provider's settings).
//!
//! The key never reaches SQLite, logs, audit summaries, error messages or API responses.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use switchboard_connectors::{AuthMode, KeyHeader, ProviderEntry, key_check};
use switchboard_core::{ApiError, ErrorCode, NewAuditRow, Sensitive};
use switchboard_store::connections::{self as stored, ConnectionRecord, NewConnection};
use switchboard_store::Durability;
use ts_rs::TS;

use crate::App;
use crate::gateway::blocking;

/// Longest connection label.
pub const LABEL_MAX: usize = 100;
/// How long the key check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);
const MS_PER_DAY: i64 = 86_400_000;

/// The keychain key that holds a connection's credential.
pub fn secret_key(connection_id: &str) -> String {
    format!("connection:{connection_id}")
}

/// Whether a connection can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    Healthy,
    /// The last call failed for a reason other than the credential (network, 5xx, …).
    Error,
    /// The provider refused the credential: paste a new key (or reconnect).
    ReconnectNeeded,
    /// Disconnected; the credential is gone from the keychain.
    Removed,
}

/// The last failed call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConnectionError {
    /// `provider_refused_key`, `provider_unreachable`, `provider_error`, `keychain_missing`.
    pub code: String,
    pub message: String,
    #[ts(type = "number")]
    pub at_ms: i64,
}

/// A connection as the UI and `switchboard connections list` show it. Never carries the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConnectionInfo {
    /// e.g. `hubspot-sandbox-1`.
    pub id: String,
    /// Catalog id, e.g. `hubspot` or `hubspot-sandbox`.
    pub provider: String,
    pub label: String,
    pub auth_mode: AuthMode,
    pub status: ConnectionStatus,
    #[ts(type = "number")]
    pub created_at_ms: i64,
    /// When the current key was stored.
    #[ts(type = "number")]
    pub key_set_at_ms: i64,
    /// Whole days since `key_set_at_ms`.
    #[ts(type = "number")]
    pub key_age_days: i64,
    /// The rotation schedule the user set; `null` for none.
    #[ts(type = "number | null")]
    pub rotate_every_days: Option<i64>,
    #[ts(type = "number | null")]
    pub last_success_ms: Option<i64>,
    pub last_error: Option<ConnectionError>,
    #[ts(type = "number | null")]
    pub removed_at_ms: Option<i64>,
    /// The provider scopes this connection holds: granted by the provider (OAuth) or ticked by
    /// the user as given to the key. Calls needing any other scope are refused.
    pub granted_scopes: Vec<String>,
    /// When the OAuth access token expires (it is refreshed before); `null` for keys.
    #[ts(type = "number | null")]
    pub token_expires_at_ms: Option<i64>,
    /// The key is older than its rotation schedule: make a new key and paste it.
    pub rotation_due: bool,
}

/// Answer to `connections test`: whether the check call succeeded, and the updated connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConnectionTest {
    pub ok: bool,
    pub connection: ConnectionInfo,
}

/// A failed key check, in words that never include the key.
struct CheckFailure {
    code: &'static str,
    message: String,
    /// The provider refused the credential (401/403).
    refused: bool,
}

pub(crate) fn info(r: ConnectionRecord, now_ms: i64) -> ConnectionInfo {
    let auth_mode = serde_json::from_value(serde_json::Value::String(r.auth_mode.clone())).unwrap_or(AuthMode::ApiKey);
    let status = if r.removed_at_ms.is_some() {
        ConnectionStatus::Removed
    } else {
        match r.status.as_str() {
            stored::HEALTHY => ConnectionStatus::Healthy,
            stored::RECONNECT_NEEDED => ConnectionStatus::ReconnectNeeded,
            _ => ConnectionStatus::Error,
        }
    };
    let last_error = match (r.last_error_code, r.last_error_message, r.last_error_ms) {
        (Some(code), Some(message), Some(at_ms)) => Some(ConnectionError { code, message, at_ms }),
        _ => None,
    };
    ConnectionInfo {
        id: r.id,
        provider: r.provider,
        label: r.label,
        auth_mode,
        status,
        created_at_ms: r.created_at_ms,
        key_set_at_ms: r.key_set_at_ms,
        key_age_days: (now_ms - r.key_set_at_ms).max(0) / MS_PER_DAY,
        rotate_every_days: r.rotate_every_days,
        last_success_ms: r.last_success_ms,
        last_error,
        removed_at_ms: r.removed_at_ms,
        rotation_due: rotation_due(r.rotate_every_days, r.key_set_at_ms, now_ms) && r.removed_at_ms.is_none(),
        granted_scopes: r.granted_scopes,
        token_expires_at_ms: r.token_expires_at_ms,
    }
}

/// Whether a key set at `key_set_at_ms` is due for rotation on a schedule of `every_days`.
pub(crate) fn rotation_due(every_days: Option<i64>, key_set_at_ms: i64, now_ms: i64) -> bool {
    every_days.is_some_and(|d| now_ms - key_set_at_ms >= d.saturating_mul(MS_PER_DAY))
}

/// Checks `requested` against the catalog entry's scopes; `None` means the provider's
/// recommended read-only set. Keeps the catalog's order, without duplicates.
pub(crate) fn choose_scopes(entry: &ProviderEntry, requested: Option<&[String]>) -> Result<Vec<String>, ApiError> {
    let Some(requested) = requested else {
        return Ok(entry.read_only_scopes.clone());
    };
    let unknown: Vec<&str> = requested.iter().map(String::as_str).filter(|s| entry.scope(s).is_none()).collect();
    if !unknown.is_empty() {
        return Err(ApiError::bad_request(format!(
            "{} has no scope named {}; `switchboard providers --json` lists its scopes (nothing was saved)",
            entry.name,
            unknown.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(entry.scopes.iter().map(|s| s.scope.clone()).filter(|s| requested.contains(s)).collect())
}

/// Replaces every occurrence of the key in provider-supplied text, then shortens it.
fn scrub(text: &str, key: &str) -> String {
    let cleaned = if key.is_empty() { text.to_string() } else { text.replace(key, "[key]") };
    let mut short: String = cleaned.chars().take(200).collect();
    if short.len() < cleaned.len() {
        short.push('…');
    }
    short
}

/// Makes the provider's cheap read call with `key` (code `unsupported` when there is none yet).
/// Makes the provider's cheap read call with `key` through the connection's rate-limit budget
/// (`account`), so a check never pushes the account over its limit (code `unsupported` when the
/// provider has no check yet).
async fn check_key(app: &App, account: &str, entry: &ProviderEntry, key: &Sensitive<String>) -> Result<(), CheckFailure> {
    let unsupported = || CheckFailure {
        code: "unsupported",
        message: format!("checking keys for {} is not supported yet, so Switchboard cannot connect it by key; nothing was saved", entry.name),
        refused: false,
    };
    let check = key_check(&entry.id).ok_or_else(unsupported)?;
    if entry.api_base_url.contains('{') {
        return Err(unsupported());
    }
    let url = format!("{}{}", entry.api_base_url.trim_end_matches('/'), check.path);
    let method = switchboard_http::Method::from_bytes(check.method.as_bytes()).unwrap_or(switchboard_http::Method::GET);
    let mut req = switchboard_http::OutboundRequest::new(method, url, true).header("accept", "application/json");
    match check.header {
        KeyHeader::Bearer => req = req.auth(switchboard_http::AuthHeader::bearer(key.expose())),
    }
    app.ensure_budget(account, entry);
    let deadline = std::time::Instant::now() + CHECK_TIMEOUT;
    let resp = app.paced().send(account, "switchboard", req, deadline).await.map_err(|e| CheckFailure {
        code: "provider_unreachable",
        message: scrub(&format!("could not reach {} to check the key: {e}", entry.name), key.expose()) + &format!(" (at {})", entry.api_base_url),
        refused: false,
    })?;
    let status = resp.status;
    if resp.is_success() {
        // Slack answers a bad token with HTTP 200 and `{"ok": false, "error": "invalid_auth"}`.
        return match switchboard_connectors::failure_in_success(&entry.id, &resp.body) {
            None => Ok(()),
            Some(f) if f.credential_refused => Err(CheckFailure {
                code: "provider_refused_key",
                message: format!("the provider refused this key: {} answered {}", entry.name, scrub(&f.message, key.expose())),
                refused: true,
            }),
            Some(f) => Err(CheckFailure {
                code: "provider_error",
                message: format!("{} answered {} to the key check", entry.name, scrub(&f.message, key.expose())),
                refused: false,
            }),
        };
    }
    let body = String::from_utf8_lossy(&resp.body).into_owned();
    let said = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string))
        .unwrap_or_default();
    let said = if said.is_empty() { String::new() } else { format!(": {}", scrub(&said, key.expose())) };
    if status == 401 || status == 403 {
        Err(CheckFailure {
            code: "provider_refused_key",
            message: format!("the provider refused this key: {} answered HTTP {}{said}", entry.name, status),
            refused: true,
        })
    } else {
        Err(CheckFailure {
            code: "provider_error",
            message: format!("{} answered HTTP {} to the key check{said}", entry.name, status),
            refused: false,
        })
    }
}

/// Trims the key and refuses an empty one or one that cannot travel in a header, without
/// echoing it.
fn clean_key(key: Sensitive<String>) -> Result<Sensitive<String>, ApiError> {
    let trimmed = key.expose().trim();
    if trimmed.is_empty() {
        return Err(ApiError::bad_request("the API key is empty; paste the key the provider shows (nothing was saved)"));
    }
    if trimmed.chars().any(|c| c.is_control() || c.is_whitespace() || !c.is_ascii()) {
        return Err(ApiError::bad_request(
            "the API key contains spaces, line breaks or non-ASCII characters; paste just the key (nothing was saved)",
        ));
    }
    Ok(Sensitive::new(trimmed.to_string()))
}

/// One add at a time, so two adds for the same provider never pick the same id (and keychain
/// entry).
pub(crate) static ADD_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl App {
    /// Every connection, removed ones included, oldest first. Never the key.
    pub async fn connections_list(&self) -> Result<Vec<ConnectionInfo>, ApiError> {
        let db = self.db().clone();
        let records = blocking(move || Ok(stored::list(&*db.reader()?)?)).await?;
        let now = self.clock().now_ms();
        Ok(records.into_iter().map(|r| info(r, now)).collect())
    }

    /// Connects `provider_id` with a pasted key, checked first. See the module docs.
    pub async fn connection_add_key(
        &self,
        actor_id: &str,
        provider_id: &str,
        label: Option<&str>,
        scopes: Option<&[String]>,
        key: Sensitive<String>,
    ) -> Result<ConnectionInfo, ApiError> {
        let catalog = self.provider_catalog();
        let Some(entry) = catalog.providers.iter().find(|p| p.id == provider_id).cloned() else {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!("there is no provider '{provider_id}' in the catalog; `switchboard providers` lists them (sandbox entries need `serve --sandbox`)"),
            ));
        };
        let Some(mode) = entry.auth_modes.iter().copied().find(|m| m.is_pasted_key()) else {
            let offered: Vec<&str> = entry.auth_modes.iter().map(|m| m.as_str()).collect();
            return Err(ApiError::bad_request(format!(
                "{} does not take an API key; it offers: {}",
                entry.name,
                offered.join(", ")
            )));
        };
        let label = label.map(str::trim).filter(|l| !l.is_empty()).unwrap_or(&entry.name).to_string();
        if label.chars().count() > LABEL_MAX || label.chars().any(char::is_control) {
            return Err(ApiError::bad_request(format!("a label must be at most {LABEL_MAX} characters on one line")));
        }
        let granted_scopes = choose_scopes(&entry, scopes)?;
        let key = clean_key(key)?;
        // The id is chosen first (one add at a time) so the check already counts against the new
        // connection's rate-limit budget.
        let _guard = ADD_LOCK.lock().await;
        let db = self.db().clone();
        let provider = entry.id.clone();
        let id = blocking(move || Ok(stored::next_id(&*db.reader()?, &provider)?)).await?;
        if let Err(f) = check_key(self, &id, &entry, &key).await {
            self.paced().forget(&id);
            let code = if f.code == "provider_unreachable" || f.code == "provider_error" { ErrorCode::Internal } else { ErrorCode::BadRequest };
            let suffix = if f.code == "unsupported" { "" } else { "; nothing was saved" };
            return Err(ApiError::new(code, format!("{}{suffix}", f.message)));
        }
        {
            let secrets = self.secrets().clone();
            let secret = secret_key(&id);
            blocking(move || Ok(secrets.set(&secret, &key)?)).await?;
        }
        let now = self.clock().now_ms();
        let new = NewConnection { id: id.clone(), provider: entry.id.clone(), label: label.clone(), auth_mode: mode.as_str().into(), granted_scopes: granted_scopes.clone(), token_expires_at_ms: None, now_ms: now };
        let row = NewAuditRow::user(
            "connection.added",
            actor_id,
            serde_json::json!({ "connection": id, "provider": entry.id, "label": label, "auth_mode": mode.as_str(), "scopes": granted_scopes, "stored_in": self.secrets().describe() }),
        )
        .on_connection(&id)
        .with_outcome("ok");
        self.commit_new_connection(new, row).await
    }

    /// Runs the cheap check call for a connection and records the result in its row.
    pub async fn connection_test(&self, actor_id: &str, id: &str) -> Result<ConnectionTest, ApiError> {
        let record = self.connection_record(id).await?;
        if record.removed_at_ms.is_some() {
            return Err(ApiError::new(ErrorCode::Conflict, format!("connection '{id}' was removed; add it again to use it")));
        }
        let catalog = self.provider_catalog();
        let entry = catalog.providers.iter().find(|p| p.id == record.provider).cloned();
        // A person testing the connection is told what the keychain holds now, not what this
        // process remembered: an item deleted in a keychain manager shows up here.
        let secrets = self.secrets().clone();
        let item = secret_key(id);
        blocking(move || Ok(secrets.reload(&item)?)).await?;
        // The pasted key, or the OAuth access token (refreshed first when it is about to expire).
        let key = match self.connection_credential(id).await {
            Ok(k) => Some(k),
            Err(e) if e.code == ErrorCode::ReconnectNeeded && e.message.contains("keychain") => None,
            Err(e) if e.code == ErrorCode::ReconnectNeeded => {
                // The refresh was refused and the row already says so.
                let record = self.connection_record(id).await?;
                return Ok(ConnectionTest { ok: false, connection: info(record, self.clock().now_ms()) });
            }
            Err(e) => return Err(e),
        };
        let result = match (entry, key) {
            (None, _) => Err(CheckFailure {
                code: "provider_unavailable",
                message: format!("provider '{}' is not in this gateway's catalog (sandbox providers need `serve --sandbox`)", record.provider),
                refused: false,
            }),
            (_, None) => Err(CheckFailure {
                code: "keychain_missing",
                message: "the credential is no longer in the keychain; remove this connection and add it again".into(),
                refused: true,
            }),
            (Some(entry), Some(key)) => check_key(self, id, &entry, &key).await,
        };
        let now = self.clock().now_ms();
        let owned = id.to_string();
        let (outcome, summary) = match &result {
            Ok(()) => ("ok", serde_json::json!({ "connection": id, "provider": record.provider })),
            Err(f) => ("error", serde_json::json!({ "connection": id, "provider": record.provider, "error_code": f.code })),
        };
        let row = NewAuditRow::user("connection.tested", actor_id, summary).on_connection(id).with_outcome(outcome);
        let failure = result.err().map(|f| (f.code, f.message, if f.refused { stored::RECONNECT_NEEDED } else { stored::ERROR }));
        let record = self
            .writer()
            .transact(Durability::Normal, move |conn, audit| {
                audit.append(&row)?;
                match &failure {
                    None => stored::record_success(conn, &owned, now)?,
                    Some((code, message, status)) => stored::record_error(conn, &owned, code, message, now, status)?,
                }
                stored::get(conn, &owned)
            })
            .await?
            .ok_or_else(|| ApiError::internal("the connection vanished while it was tested"))?;
        let connection = info(record, now);
        Ok(ConnectionTest { ok: connection.status == ConnectionStatus::Healthy && connection.last_success_ms == Some(now), connection })
    }

    /// Disconnects: an OAuth grant is first revoked at the provider (RFC 7009, where the catalog
    /// has a revocation endpoint); then audited (`revoked_at_provider` true or false, and why
    /// not), the row marked removed, and the keychain entry always deleted (removing a removed
    /// connection deletes it again). A pasted key cannot be revoked by Switchboard; the user
    /// revokes keys in the provider's settings.
    pub async fn connection_remove(&self, actor_id: &str, id: &str) -> Result<ConnectionInfo, ApiError> {
        let record = self.connection_record(id).await?;
        if record.removed_at_ms.is_none() {
            let is_oauth = serde_json::from_value::<AuthMode>(serde_json::Value::String(record.auth_mode.clone())).is_ok_and(AuthMode::is_oauth);
            let revoked: Result<(), String> = if is_oauth {
                let secrets = self.secrets().clone();
                let secret = secret_key(id);
                match blocking(move || Ok(secrets.get(&secret)?)).await {
                    Ok(Some(raw)) => match crate::oauth::StoredTokens::from_secret(&raw) {
                        Ok(tokens) => self.revoke_at_provider(&record.provider, &tokens).await,
                        Err(_) => Err("the tokens in the keychain are unreadable, so there was nothing to revoke with".into()),
                    },
                    Ok(None) => Err("the tokens were no longer in the keychain, so there was nothing to revoke with".into()),
                    Err(e) => Err(format!("the keychain could not be read ({})", e.message)),
                }
            } else {
                Err("a pasted key cannot be revoked by Switchboard; revoke it in the provider's settings".into())
            };
            let mut summary = serde_json::json!({ "connection": id, "provider": record.provider, "revoked_at_provider": revoked.is_ok() });
            if let Err(why) = &revoked {
                summary["not_revoked_because"] = serde_json::Value::String(why.clone());
            }
            let now = self.clock().now_ms();
            let row = NewAuditRow::user("connection.removed", actor_id, summary).on_connection(id).with_outcome("ok");
            let owned = id.to_string();
            self.writer()
                .transact(Durability::Full, move |conn, audit| {
                    audit.append(&row)?;
                    stored::mark_removed(conn, &owned, now)
                })
                .await?;
            // Agents holding grants on it lose its tools.
            let (db, owned) = (self.db().clone(), id.to_string());
            let holders = blocking(move || Ok(switchboard_store::grants::list(&*db.reader()?, None)?)).await.unwrap_or_default();
            let mut names: Vec<String> = holders.into_iter().filter(|g| g.connection_id == owned).map(|g| g.agent).collect();
            names.sort();
            names.dedup();
            for name in names {
                self.grants_changed(&name);
            }
        }
        let secrets = self.secrets().clone();
        let secret = secret_key(id);
        blocking(move || Ok(secrets.delete(&secret)?)).await.map_err(|e| {
            ApiError::new(
                e.code,
                format!("connection '{id}' is removed, but its key could not be deleted from the keychain ({}); run remove again", e.message),
            )
        })?;
        let record = self.connection_record(id).await?;
        Ok(info(record, self.clock().now_ms()))
    }

    /// Commits a new connection's row with its `connection.added` audit row (FULL durability),
    /// its credential already in the keychain; if the commit fails, the keychain entry is
    /// deleted again so nothing is left half-saved.
    pub(crate) async fn commit_new_connection(&self, new: NewConnection, row: NewAuditRow) -> Result<ConnectionInfo, ApiError> {
        let (id, now) = (new.id.clone(), new.now_ms);
        let committed = self
            .writer()
            .transact(Durability::Full, move |conn, audit| {
                audit.append(&row)?;
                stored::insert(conn, &new)?;
                stored::get(conn, &new.id)
            })
            .await;
        match committed {
            Ok(Some(record)) => Ok(info(record, now)),
            Ok(None) => Err(ApiError::internal("the new connection was not found after saving it")),
            Err(e) => {
                let secrets = self.secrets().clone();
                let secret = secret_key(&id);
                if let Err(u) = blocking(move || Ok(secrets.delete(&secret)?)).await {
                    tracing::warn!(connection = %id, error = %u, "could not delete the keychain entry of a connection that failed to save");
                }
                Err(e.into())
            }
        }
    }

    pub(crate) async fn connection_record(&self, id: &str) -> Result<ConnectionRecord, ApiError> {
        let db = self.db().clone();
        let owned = id.to_string();
        blocking(move || Ok(stored::get(&*db.reader()?, &owned)?)).await?.ok_or_else(|| {
            ApiError::new(ErrorCode::NotFound, format!("there is no connection '{id}'; `switchboard connections list` shows them"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_trimmed_and_odd_ones_refused_without_echo() {
        assert_eq!(clean_key(Sensitive::new("  pat-abc\n".into())).expect("clean").expose(), "pat-abc");
        let e = clean_key(Sensitive::new(" \n".into())).expect_err("empty");
        assert_eq!(e.code, ErrorCode::BadRequest);
        let e = clean_key(Sensitive::new("pat secret-part".into())).expect_err("space");
        assert!(!e.message.contains("secret-part"), "the error must not echo the key");
    }

    #[test]
    fn provider_text_never_carries_the_key() {
        assert_eq!(scrub("bad token pat-123 here", "pat-123"), "bad token [key] here");
        assert!(scrub(&"x".repeat(500), "k").chars().count() <= 201);
    }
}
