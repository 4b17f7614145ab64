//! What a person sets on a connection after connecting it: the scopes a pasted key was given
//! (the scope checklist) and the key's rotation schedule, plus the background check that tells
//! them when a rotation is due.
//!
//! - **Scopes**: for pasted keys the user ticks which of the provider's scopes the key holds;
//!   calls needing any other scope are refused before they leave the machine. OAuth connections
//!   hold what the provider granted: changing them means reconnecting (`conflict`).
//! - **Rotation**: every N days (1–3650) or none. A key older than its schedule shows
//!   `rotation_due` in the connection; the check (at start, then hourly) audits
//!   `connection.rotation_due` and raises a [`Notice`] once per due period (a new key, or a new
//!   schedule, starts a new period).

use std::time::Duration;

use switchboard_core::{ApiError, ErrorCode, NewAuditRow};
use switchboard_store::Durability;
use switchboard_store::connections as stored;

use crate::App;
use crate::connections::{ConnectionInfo, choose_scopes, info, rotation_due};
use crate::gateway::blocking;
use crate::types::Notice;

/// Longest rotation schedule, in days (ten years).
pub const ROTATION_MAX_DAYS: i64 = 3650;
/// How often due rotations are looked for.
const ROTATION_CHECK_EVERY: Duration = Duration::from_secs(3600);

impl App {
    /// Replaces the scopes a connection lets agents use (the ticked checklist).
    ///
    /// A pasted key holds what the person says it was given, so any catalog scope may be ticked.
    /// An OAuth sign-in holds what the provider granted: it can only be narrowed here (agents may
    /// no longer use a dropped scope; the grant at the provider keeps it until the account is
    /// disconnected), and widening it needs a new sign-in, so that is refused with `conflict`.
    pub async fn connection_set_scopes(&self, actor_id: &str, id: &str, scopes: &[String]) -> Result<ConnectionInfo, ApiError> {
        let record = self.live_connection(id).await?;
        let auth_mode: switchboard_connectors::AuthMode = serde_json::from_value(serde_json::Value::String(record.auth_mode.clone()))
            .map_err(|_| ApiError::internal(format!("connection '{id}' has an unknown auth mode")))?;
        let signed_in = !auth_mode.is_pasted_key();
        if signed_in {
            let added: Vec<&str> = scopes.iter().map(String::as_str).filter(|s| !record.granted_scopes.iter().any(|g| g == s)).collect();
            if !added.is_empty() {
                return Err(ApiError::new(
                    ErrorCode::Conflict,
                    format!(
                        "connection '{id}' holds only the scopes its provider granted at sign-in; to add {} connect the account again (nothing was changed)",
                        added.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
        let catalog = self.provider_catalog();
        let entry = catalog
            .providers
            .iter()
            .find(|p| p.id == record.provider)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("provider '{}' is not in this gateway's catalog", record.provider)))?;
        let chosen = choose_scopes(entry, Some(scopes))?;
        let row = NewAuditRow::user(
            "connection.scopes_set",
            actor_id,
            serde_json::json!({
                "connection": id,
                "before": record.granted_scopes,
                "after": chosen,
                // What the change did not do: an OAuth grant at the provider is unchanged.
                "at_provider": if signed_in { "unchanged: the sign-in keeps its scopes until disconnected" } else { "not applicable: a pasted key" },
            }),
        )
        .on_connection(id);
        let owned = id.to_string();
        self.writer()
            .transact(Durability::Full, move |conn, audit| {
                audit.append(&row)?;
                stored::set_granted_scopes(conn, &owned, &chosen)
            })
            .await?;
        self.connection_info(id).await
    }

    /// Sets (or clears, with `None`) the key's rotation schedule.
    pub async fn connection_set_rotation(&self, actor_id: &str, id: &str, every_days: Option<i64>) -> Result<ConnectionInfo, ApiError> {
        if every_days.is_some_and(|d| !(1..=ROTATION_MAX_DAYS).contains(&d)) {
            return Err(ApiError::bad_request(format!("a rotation schedule is from 1 to {ROTATION_MAX_DAYS} days, or none")));
        }
        let record = self.live_connection(id).await?;
        let row = NewAuditRow::user(
            "connection.rotation_set",
            actor_id,
            serde_json::json!({ "connection": id, "before_days": record.rotate_every_days, "every_days": every_days }),
        )
        .on_connection(id);
        let owned = id.to_string();
        self.writer()
            .transact(Durability::Full, move |conn, audit| {
                audit.append(&row)?;
                stored::set_rotation(conn, &owned, every_days)
            })
            .await?;
        let info = self.connection_info(id).await?;
        if info.rotation_due {
            self.check_rotations().await?;
        }
        self.connection_info(id).await
    }

    /// Audits and announces every rotation that became due and was not announced yet; returns
    /// the connections announced now.
    pub async fn check_rotations(&self) -> Result<Vec<String>, ApiError> {
        let db = self.db().clone();
        let records = blocking(move || Ok(stored::list(&*db.reader()?)?)).await?;
        let now = self.clock().now_ms();
        let mut announced = Vec::new();
        for r in records {
            let due = r.removed_at_ms.is_none() && rotation_due(r.rotate_every_days, r.key_set_at_ms, now);
            if !due || r.rotation_due_notified_ms.is_some() {
                continue;
            }
            let age_days = (now - r.key_set_at_ms) / 86_400_000;
            let mut row = NewAuditRow::system(
                "connection.rotation_due",
                serde_json::json!({ "connection": r.id, "provider": r.provider, "key_age_days": age_days, "every_days": r.rotate_every_days }),
            );
            row.connection_id = Some(r.id.clone());
            let id = r.id.clone();
            self.writer()
                .transact(Durability::Normal, move |conn, audit| {
                    audit.append(&row)?;
                    stored::mark_rotation_notified(conn, &id, now)
                })
                .await?;
            self.notify(Notice {
                kind: "rotation_due".into(),
                title: format!("Time to rotate the key for {}", r.label),
                body: format!(
                    "The key of connection '{}' is {age_days} days old (schedule: every {} days). Make a new key at the provider and paste it in Switchboard.",
                    r.id,
                    r.rotate_every_days.unwrap_or_default()
                ),
                connection: Some(r.id.clone()),
            });
            announced.push(r.id);
        }
        Ok(announced)
    }

    /// Runs [`App::check_rotations`] now and then hourly until shutdown.
    pub(crate) fn spawn_rotation_checks(&self) {
        let app = self.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(ROTATION_CHECK_EVERY);
            loop {
                tick.tick().await;
                if let Err(e) = app.check_rotations().await {
                    tracing::warn!(code = %e.code, error = %e.message, "could not check key rotation schedules");
                }
            }
        });
        self.set_rotation_task(task);
    }

    pub(crate) async fn live_connection(&self, id: &str) -> Result<stored::ConnectionRecord, ApiError> {
        let record = self.connection_record(id).await?;
        if record.removed_at_ms.is_some() {
            return Err(ApiError::new(ErrorCode::Conflict, format!("connection '{id}' was removed; connect the account again")));
        }
        Ok(record)
    }

    async fn connection_info(&self, id: &str) -> Result<ConnectionInfo, ApiError> {
        Ok(info(self.connection_record(id).await?, self.clock().now_ms()))
    }
}
