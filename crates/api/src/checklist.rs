//! The scope checklist of one connection: each provider scope in plain words with its tier, the
//! actions that need it, whether the connection holds it and whether any agent used it in the
//! last 30 days; and each agent's grant tiers on the connection with the same "used" flag.
//! Granted-but-unused scopes and tiers are flagged so a person can drop them in one click (the
//! existing scope and grant endpoints do the dropping).
//!
//! "Used" is read from the audit log: an agent call's outcome row (`outcome = ok`) on this
//! connection in the window names the action (`provider.action`) and the agent.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use switchboard_core::{ApiError, ErrorCode, Tier};
use switchboard_store::grants as stored_grants;
use ts_rs::TS;

use crate::App;
use crate::gateway::blocking;

/// How far back "used" looks.
pub const USAGE_WINDOW_MS: i64 = 30 * 24 * 3600 * 1000;

/// One provider scope on the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ScopeItem {
    pub scope: String,
    pub tier: Tier,
    /// What it lets an agent do, in one plain sentence.
    pub description: String,
    /// Tool names that need it.
    pub actions: Vec<String>,
    /// The connection holds it.
    pub granted: bool,
    /// An agent call that needs it succeeded in the last 30 days.
    pub used_last_30_days: bool,
    /// Held but not used in 30 days: a candidate to drop.
    pub unused: bool,
}

/// One agent's grant of one tier on the connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TierItem {
    pub agent: String,
    pub tier: Tier,
    /// The agent ran a call of this tier here in the last 30 days.
    pub used_last_30_days: bool,
    /// Granted but not used in 30 days: a candidate to revoke.
    pub unused: bool,
}

/// The checklist the Scopes screen shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ScopeChecklist {
    pub connection: String,
    pub provider: String,
    pub scopes: Vec<ScopeItem>,
    pub grants: Vec<TierItem>,
}

impl App {
    pub async fn connection_scope_checklist(&self, id: &str) -> Result<ScopeChecklist, ApiError> {
        let record = self.live_connection(id).await?;
        let catalog = self.provider_catalog();
        let entry = catalog
            .providers
            .iter()
            .find(|p| p.id == record.provider)
            .cloned()
            .ok_or_else(|| ApiError::new(ErrorCode::ProviderUnreachable, format!("provider '{}' is not in this gateway's catalog", record.provider)))?;
        let since = self.clock().now_ms() - USAGE_WINDOW_MS;
        let db = self.db().clone();
        let cid = record.id.clone();
        let (used, grants) = blocking(move || {
            let conn = db.reader()?;
            Ok((switchboard_store::audit::agent_actions_used_since(&conn, &cid, since)?, stored_grants::list(&conn, None)?))
        })
        .await?;
        let actions: Vec<&switchboard_connectors::ActionSpec> = switchboard_connectors::actions().iter().filter(|a| a.serves(&record.provider)).collect();
        // "provider.action" as the audit row names it → tool.
        let audit_name = |a: &switchboard_connectors::ActionSpec| format!("{}.{}", a.provider, a.name);
        let used_tools: BTreeSet<String> = actions.iter().filter(|a| used.iter().any(|(_, act)| *act == audit_name(a))).map(|a| a.tool_name()).collect();
        let mut by_agent_tier: BTreeSet<(String, &'static str)> = BTreeSet::new();
        for (agent, act) in &used {
            if let Some(a) = actions.iter().find(|a| audit_name(a) == *act) {
                by_agent_tier.insert((agent.clone(), a.tier.as_str()));
            }
        }
        let scopes = entry
            .scopes
            .iter()
            .map(|s| {
                let needing: Vec<String> = actions.iter().filter(|a| a.scopes.contains(&s.scope.as_str())).map(|a| a.tool_name()).collect();
                let granted = record.granted_scopes.contains(&s.scope);
                let used_recently = needing.iter().any(|t| used_tools.contains(t));
                ScopeItem {
                    scope: s.scope.clone(),
                    tier: s.tier,
                    description: s.description.clone(),
                    actions: needing,
                    granted,
                    used_last_30_days: used_recently,
                    unused: granted && !used_recently,
                }
            })
            .collect();
        let grants = grants
            .into_iter()
            .filter(|g| g.connection_id == record.id)
            .filter_map(|g| {
                let tier = Tier::parse(&g.tier)?;
                let used_recently = by_agent_tier.contains(&(g.agent.clone(), tier.as_str()));
                Some(TierItem { agent: g.agent, tier, used_last_30_days: used_recently, unused: !used_recently })
            })
            .collect();
        Ok(ScopeChecklist { connection: record.id, provider: record.provider, scopes, grants })
    }
}
