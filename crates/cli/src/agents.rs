//! `switchboard agents list | add NAME | revoke NAME` and `switchboard pause | resume`, through
//! the running gateway's control API.

use std::path::Path;

use switchboard_api::agents::{AgentInfo, NewAgent, PauseState};
use switchboard_core::ApiError;

use crate::cli::AgentsCommand;
use crate::client;
use crate::output;

pub async fn run(data_dir: &Path, cmd: AgentsCommand, json: bool) -> Result<(), ApiError> {
    match cmd {
        AgentsCommand::List => {
            let agents: Vec<AgentInfo> = client::control_get(data_dir, "/agents").await?;
            if json {
                return output::json(&agents);
            }
            output::text(&table(&agents))
        }
        AgentsCommand::Add { name } => {
            let added: NewAgent = client::control_post_json(data_dir, "/agents", serde_json::json!({ "name": name })).await?;
            if json {
                return output::json(&serde_json::json!({ "name": added.name, "token": added.token }));
            }
            output::text(&format!(
                "Added agent '{}'. Its token is shown only this once; store it now (e.g. in the agent's secret settings):\n{}\n",
                added.name, added.token
            ))
        }
        AgentsCommand::Revoke { name } => {
            let path = format!("/agents/{}", client::encode_segment(&name));
            let _: serde_json::Value = client::control_delete(data_dir, &path).await?;
            if json {
                return output::json(&serde_json::json!({ "name": name, "revoked": true }));
            }
            output::text(&format!("Revoked agent '{name}': its token no longer works.\n"))
        }
    }
}

/// `pause` (true) or `resume` (false).
pub async fn pause(data_dir: &Path, paused: bool, json: bool) -> Result<(), ApiError> {
    let state: PauseState = client::control_post(data_dir, if paused { "/pause" } else { "/resume" }).await?;
    if json {
        return output::json(&state);
    }
    output::text(if state.paused {
        "Every agent is paused: their requests are refused with `paused` until `switchboard resume`.\n"
    } else {
        "Agents are running again.\n"
    })
}

fn table(agents: &[AgentInfo]) -> String {
    if agents.is_empty() {
        return "No agents yet. `switchboard agents add NAME` adds one and prints its token.\n".into();
    }
    let rows: Vec<Vec<String>> = agents
        .iter()
        .map(|a| {
            vec![
                a.name.clone(),
                output::time(a.created_at_ms),
                a.last_seen_ms.map_or_else(|| "never".into(), output::time),
                a.revoked_at_ms.map_or_else(|| "active".into(), |t| format!("revoked {}", output::time(t))),
            ]
        })
        .collect();
    output::table(&["NAME", "CREATED", "LAST SEEN", "STATUS"], &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_names_are_escaped_in_the_path() {
        assert_eq!(client::encode_segment("inbox-bot.v2_x"), "inbox-bot.v2_x");
        assert_eq!(client::encode_segment("a/b c"), "a%2Fb%20c");
    }
}
