//! `switchboard grants list [AGENT] | set AGENT CONNECTION read|write|delete [--action TOOL]…
//! [--expires-in-hours H] | revoke AGENT CONNECTION TIER`, through the running gateway.

use std::path::Path;

use switchboard_api::grants::GrantInfo;
use switchboard_core::ApiError;

use crate::cli::GrantsCommand;
use crate::client;
use crate::output;

pub async fn run(data_dir: &Path, cmd: GrantsCommand, json: bool) -> Result<(), ApiError> {
    match cmd {
        GrantsCommand::List { agent } => {
            let path = match &agent {
                Some(a) => format!("/grants?agent={}", client::encode_segment(a)),
                None => "/grants".into(),
            };
            let grants: Vec<GrantInfo> = client::control_get(data_dir, &path).await?;
            if json {
                return output::json(&grants);
            }
            output::text(&table(&grants, agent.as_deref()))
        }
        GrantsCommand::Set { agent, connection, tier, actions, expires_in_hours } => {
            let expires_at_ms = expires_in_hours.map(|h| now_ms() + i64::from(h) * 3_600_000);
            let body = serde_json::json!({
                "agent": agent, "connection": connection, "tier": tier.as_str(),
                "actions": (!actions.is_empty()).then_some(actions), "expires_at_ms": expires_at_ms,
            });
            let g: GrantInfo = client::control_post_json(data_dir, "/grants", body).await?;
            if json {
                return output::json(&g);
            }
            let only = g.actions.as_ref().map_or_else(String::new, |a| format!(" (only {})", a.join(", ")));
            let until = g.expires_at_ms.map_or_else(String::new, |t| format!(" until {}", output::time(t)));
            output::text(&format!("Agent '{}' may now {} through '{}'{only}{until}.\n", g.agent, g.tier.as_str(), g.connection))
        }
        GrantsCommand::Revoke { agent, connection, tier } => {
            let path = format!("/grants/{}/{}/{}", client::encode_segment(&agent), client::encode_segment(&connection), tier.as_str());
            let _: serde_json::Value = client::control_delete(data_dir, &path).await?;
            if json {
                return output::json(&serde_json::json!({ "agent": agent, "connection": connection, "tier": tier.as_str(), "revoked": true }));
            }
            output::text(&format!("Agent '{agent}' may no longer {} through '{connection}'.\n", tier.as_str()))
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}


fn table(grants: &[GrantInfo], agent: Option<&str>) -> String {
    if grants.is_empty() {
        return match agent {
            Some(a) => format!("Agent '{a}' holds no grants: it can do nothing. `switchboard grants set {a} CONNECTION read` lets it read.\n"),
            None => "No grants yet: agents can do nothing. `switchboard grants set AGENT CONNECTION read` lets one read.\n".into(),
        };
    }
    let rows: Vec<Vec<String>> = grants
        .iter()
        .map(|g| {
            vec![
                g.agent.clone(),
                g.connection.clone(),
                g.tier.as_str().into(),
                g.actions.as_ref().map_or_else(|| "all".into(), |a| a.join(",")),
                match g.expires_at_ms {
                    None => "never".into(),
                    Some(t) if g.expired => format!("expired {}", output::time(t)),
                    Some(t) => output::time(t),
                },
                output::time(g.granted_at_ms),
            ]
        })
        .collect();
    output::table(&["AGENT", "CONNECTION", "TIER", "ACTIONS", "EXPIRES", "GRANTED"], &rows)
}
