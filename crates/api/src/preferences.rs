//! The person's preferences for this gateway that are not about one connection: today whether
//! the desktop app raises notifications (a new draft to approve, a key due for rotation, an
//! agent asking for access). Persisted in the `settings` table, so they survive a restart; each
//! change commits with its audit row (`preferences.changed`).
//!
//! The gateway keeps sending its notices on [`App::notices`](crate::App::notices) whatever the
//! preference says (the window's badges and lists still need them); the desktop shell asks
//! [`App::notifications_enabled`] before it shows one.

use serde::{Deserialize, Serialize};
use switchboard_core::{ActorKind, ApiError, NewAuditRow};
use switchboard_store::Durability;
use switchboard_store::settings;
use ts_rs::TS;

use crate::App;
use crate::gateway::blocking;

/// What `GET /preferences` answers and `PUT /preferences` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct Preferences {
    /// The desktop app raises a notification for each new draft, rotation reminder and access
    /// request. On unless a person turned it off.
    pub notifications: bool,
}

/// The stored text of `notifications` → its value; anything else is refused, not guessed.
fn parse_switch(key: &str, value: Option<&str>, default: bool) -> Result<bool, ApiError> {
    match value {
        None => Ok(default),
        Some("1") => Ok(true),
        Some("0") => Ok(false),
        Some(other) => Err(ApiError::internal(format!(
            "the stored setting '{key}' is unreadable ('{other}'); set it again in Settings"
        ))),
    }
}

impl App {
    /// The stored preferences (defaults for what was never set).
    pub async fn preferences(&self) -> Result<Preferences, ApiError> {
        let db = self.db().clone();
        blocking(move || {
            let conn = db.reader()?;
            let stored = settings::get(&conn, settings::NOTIFICATIONS)?;
            Ok(Preferences {
                notifications: parse_switch(settings::NOTIFICATIONS, stored.as_deref(), true)?,
            })
        })
        .await
    }

    /// Stores the preferences, audited with who changed them and what they were.
    pub async fn set_preferences(
        &self,
        actor_id: &str,
        prefs: Preferences,
    ) -> Result<Preferences, ApiError> {
        let before = self.preferences().await.ok();
        let mut row = NewAuditRow::system(
            "preferences.changed",
            serde_json::json!({ "before": before, "after": prefs }),
        );
        row.actor_kind = ActorKind::User;
        row.actor_id = actor_id.into();
        self.writer()
            .transact(Durability::Full, move |conn, audit| {
                audit.append(&row)?;
                settings::set(
                    conn,
                    settings::NOTIFICATIONS,
                    if prefs.notifications { "1" } else { "0" },
                )
            })
            .await?;
        Ok(prefs)
    }

    /// Whether the desktop app should show a notice now. An unreadable setting shows it (a
    /// missed rotation or draft is worse than an unwanted notification) and says why in the log.
    pub async fn notifications_enabled(&self) -> bool {
        match self.preferences().await {
            Ok(p) => p.notifications,
            Err(e) => {
                tracing::warn!(error = %e.message, "cannot read the notifications preference; showing the notification");
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_switch_is_read_exactly_and_garbage_is_refused() {
        assert!(parse_switch("k", None, true).expect("absent → default"));
        assert!(!parse_switch("k", None, false).expect("absent → default"));
        assert!(parse_switch("k", Some("1"), false).expect("1 → on"));
        assert!(!parse_switch("k", Some("0"), true).expect("0 → off"));
        let e = parse_switch("k", Some("yes"), true)
            .expect_err("an unknown value must be refused, not guessed");
        assert!(
            e.message.contains("unreadable"),
            "the error should say the setting is unreadable: {}",
            e.message
        );
    }
}
