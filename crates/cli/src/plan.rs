//! `switchboard plan [WORKFLOW]`: the rollout planner from the running gateway
//! (`GET /planner`, `GET /planner/{workflow}`). Without WORKFLOW, one line per workflow with
//! how many of its integrations are ready; with it, each integration's scopes, tools and steps.

use std::path::Path;

use switchboard_api::planner::{IntegrationPlan, PlannerReport, WorkflowPlan};
use switchboard_core::ApiError;

use crate::{client, output};

pub async fn run(data_dir: &Path, workflow: Option<String>, json: bool) -> Result<(), ApiError> {
    match workflow {
        None => {
            let report: PlannerReport = client::control_get(data_dir, "/planner").await?;
            if json {
                return output::json(&report);
            }
            let rows: Vec<Vec<String>> = report
                .workflows
                .iter()
                .map(|w| {
                    let ready = w.integrations.iter().filter(|i| ready(i)).count();
                    let needs: Vec<&str> = w.integrations.iter().map(|i| i.name.as_str()).collect();
                    let state = if !w.can_connect {
                        "cannot be connected yet".to_string()
                    } else if w.done {
                        "done".to_string()
                    } else {
                        format!("{ready} of {} ready", w.integrations.len())
                    };
                    vec![w.id.clone(), w.name.clone(), needs.join(", "), state]
                })
                .collect();
            output::text(&output::table(&["ID", "WORKFLOW", "NEEDS", "STATE"], &rows))
        }
        Some(id) => {
            let plan: WorkflowPlan = client::control_get(
                data_dir,
                &format!("/planner/{}", client::encode_segment(&id)),
            )
            .await?;
            if json {
                return output::json(&plan);
            }
            output::text(&describe(&plan))
        }
    }
}

fn ready(i: &IntegrationPlan) -> bool {
    i.can_connect && i.connected && i.scopes_held && i.granted && i.tried
}

fn tick(done: bool) -> &'static str {
    if done { "[x]" } else { "[ ]" }
}

fn describe(plan: &WorkflowPlan) -> String {
    let mut out = format!("{}: {}\n", plan.name, plan.description);
    for i in &plan.integrations {
        out.push_str(&format!("\n{} ({}): {}\n", i.name, i.provider, i.role));
        if !i.can_connect {
            out.push_str("  Switchboard cannot connect this tool yet.\n");
        }
        let scopes: Vec<String> = i
            .scopes
            .iter()
            .map(|s| format!("{} ({})", s.scope, s.tier.as_str()))
            .collect();
        out.push_str(&format!("  minimal scopes: {}\n", scopes.join(", ")));
        if !i.tools.is_empty() {
            let tools: Vec<&str> = i.tools.iter().map(|t| t.tool.as_str()).collect();
            out.push_str(&format!("  tools: {}\n", tools.join(", ")));
        }
        if i.can_connect {
            let on = i
                .connection
                .as_deref()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default();
            out.push_str(&format!("  {} connected{on}\n", tick(i.connected)));
            out.push_str(&format!("  {} scopes held\n", tick(i.scopes_held)));
            let who = if i.agents.is_empty() {
                String::new()
            } else {
                format!(" ({})", i.agents.join(", "))
            };
            let tiers: Vec<&str> = i.tiers.iter().map(|t| t.as_str()).collect();
            out.push_str(&format!(
                "  {} an agent may {}{who}\n",
                tick(i.granted),
                tiers.join(" and ")
            ));
            out.push_str(&format!("  {} tried\n", tick(i.tried)));
        }
    }
    out
}
