//! `switchboard policies list | add FILE | remove ID | presets AGENT` and
//! `switchboard requests list [--all] | grant ID | dismiss ID`, through the running gateway.

use std::path::Path;

use switchboard_api::access::AccessRequestInfo;
use switchboard_api::policies::PolicyInfo;
use switchboard_core::ApiError;

use crate::cli::{PoliciesCommand, RequestsCommand};
use crate::client;
use crate::output;

pub async fn run(data_dir: &Path, cmd: PoliciesCommand, json: bool) -> Result<(), ApiError> {
    match cmd {
        PoliciesCommand::List => {
            let policies: Vec<PolicyInfo> = client::control_get(data_dir, "/policies").await?;
            if json {
                return output::json(&policies);
            }
            if policies.is_empty() {
                return output::text("No auto-send policies: every outbound action waits for a person. `switchboard policies presets AGENT` shows ready-made ones.\n");
            }
            let rows: Vec<Vec<String>> = policies
                .iter()
                .map(|p| {
                    vec![
                        p.policy.id.clone(),
                        p.policy.agent.clone(),
                        p.policy.actions.join(","),
                        if p.policy.enabled { "on".into() } else { "off".into() },
                        format!("{}/h {}/d", p.usage.last_hour, p.usage.last_day),
                    ]
                })
                .collect();
            output::text(&output::table(&["ID", "AGENT", "TOOLS", "ENABLED", "SENT"], &rows))
        }
        PoliciesCommand::Add { file } => {
            let text = std::fs::read_to_string(&file).map_err(|e| ApiError::bad_request(format!("cannot read {}: {e}", file.display())))?;
            let format = if file.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) { "json" } else { "toml" };
            let p: PolicyInfo = client::control_post_json(data_dir, "/policies", serde_json::json!({ "format": format, "text": text })).await?;
            if json {
                return output::json(&p);
            }
            output::text(&format!("Policy '{}' lets agent '{}' send {} without approval when its conditions hold.\n", p.policy.id, p.policy.agent, p.policy.actions.join(", ")))
        }
        PoliciesCommand::Remove { id } => {
            let _: serde_json::Value = client::control_delete(data_dir, &format!("/policies/{}", client::encode_segment(&id))).await?;
            if json {
                return output::json(&serde_json::json!({ "removed": id }));
            }
            output::text(&format!("Policy '{id}' removed; what it covered waits for approval again.\n"))
        }
        PoliciesCommand::Presets { agent } => {
            let presets: Vec<switchboard_policy::Preset> = client::control_get(data_dir, &format!("/policies/presets?agent={}", client::encode_segment(&agent))).await?;
            if json {
                return output::json(&presets);
            }
            let mut out = String::new();
            for p in presets {
                let body = toml::to_string_pretty(&p.policy).map_err(|e| ApiError::internal(format!("cannot print the preset as TOML: {e}")))?;
                out.push_str(&format!("# {} — {}\n# Save as a file, edit, then `switchboard policies add FILE`.\n{body}\n", p.title, p.description));
            }
            output::text(&out)
        }
    }
}

pub async fn requests(data_dir: &Path, cmd: RequestsCommand, json: bool) -> Result<(), ApiError> {
    match cmd {
        RequestsCommand::List { all } => {
            let path = if all { "/requests?status=all" } else { "/requests?status=pending" };
            let list: Vec<AccessRequestInfo> = client::control_get(data_dir, path).await?;
            if json {
                return output::json(&list);
            }
            if list.is_empty() {
                return output::text("No access requests waiting.\n");
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|r| {
                    let what = match &r.actions {
                        Some(a) => format!("{} ({})", r.tier.as_str(), a.join(", ")),
                        None => r.tier.as_str().into(),
                    };
                    vec![r.id.clone(), r.status.clone(), r.agent.clone(), r.connection.clone(), what, r.reason.replace('\n', " ")]
                })
                .collect();
            output::text(&output::table(&["ID", "STATUS", "AGENT", "CONNECTION", "ASKS FOR", "REASON"], &rows))
        }
        RequestsCommand::Grant { id } => {
            let r: AccessRequestInfo = client::control_post(data_dir, &format!("/requests/{}/grant", client::encode_segment(&id))).await?;
            if json {
                return output::json(&r);
            }
            output::text(&format!("Granted: agent '{}' may now {} through '{}'.\n", r.agent, r.tier.as_str(), r.connection))
        }
        RequestsCommand::Dismiss { id } => {
            let r: AccessRequestInfo = client::control_post(data_dir, &format!("/requests/{}/dismiss", client::encode_segment(&id))).await?;
            if json {
                return output::json(&r);
            }
            output::text(&format!("Dismissed {}; nothing was granted.\n", r.id))
        }
    }
}
