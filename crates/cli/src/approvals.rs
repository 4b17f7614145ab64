//! `switchboard approvals list [--status S] | show ID | approve ID [--edit FILE] | reject ID
//! --reason TEXT | confirm ID --sent|--not-sent`, through the running gateway.

use std::path::Path;

use switchboard_api::approvals::ApprovalInfo;
use switchboard_core::ApiError;

use crate::cli::ApprovalsCommand;
use crate::client;
use crate::output;

pub async fn run(data_dir: &Path, cmd: ApprovalsCommand, json: bool) -> Result<(), ApiError> {
    match cmd {
        ApprovalsCommand::List { status } => {
            let path = if status == "all" { "/approvals".to_string() } else { format!("/approvals?status={}", client::encode_segment(&status)) };
            let drafts: Vec<ApprovalInfo> = client::control_get(data_dir, &path).await?;
            if json {
                return output::json(&drafts);
            }
            if drafts.is_empty() {
                return output::text(&format!("No {} drafts.\n", if status == "all" { "" } else { status.as_str() }).replace("  ", " "));
            }
            let rows: Vec<Vec<String>> = drafts
                .iter()
                .map(|d| vec![d.id.clone(), d.status.as_str().into(), d.agent.clone(), d.connection.clone(), d.preview.title.clone(), output::time(d.created_at_ms)])
                .collect();
            output::text(&output::table(&["ID", "STATUS", "AGENT", "CONNECTION", "WHAT", "ASKED"], &rows))
        }
        ApprovalsCommand::Show { id } => {
            let d: ApprovalInfo = client::control_get(data_dir, &format!("/approvals/{}", client::encode_segment(&id))).await?;
            if json {
                return output::json(&d);
            }
            output::text(&describe(&d))
        }
        ApprovalsCommand::Approve { id, edit } => {
            let body = match edit {
                None => serde_json::json!({}),
                Some(file) => {
                    let text = std::fs::read_to_string(&file).map_err(|e| ApiError::bad_request(format!("cannot read {}: {e}", file.display())))?;
                    let input: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                        ApiError::bad_request(format!("{} is not JSON (line {}, column {}); it must hold the whole edited input", file.display(), e.line(), e.column()))
                    })?;
                    serde_json::json!({ "edit": input })
                }
            };
            let d: ApprovalInfo = client::control_post_json(data_dir, &format!("/approvals/{}/approve", client::encode_segment(&id)), body).await?;
            if json {
                return output::json(&d);
            }
            output::text(&format!("Approved {}: {}. It is being sent; `switchboard approvals show {}` tells how it went.\n", d.id, d.preview.title, d.id))
        }
        ApprovalsCommand::Reject { id, reason } => {
            let body = serde_json::json!({ "reason": reason });
            let d: ApprovalInfo = client::control_post_json(data_dir, &format!("/approvals/{}/reject", client::encode_segment(&id)), body).await?;
            if json {
                return output::json(&d);
            }
            output::text(&format!("Rejected {}; agent '{}' sees the reason.\n", d.id, d.agent))
        }
        ApprovalsCommand::Confirm { id, sent, not_sent: _ } => {
            let d: ApprovalInfo =
                client::control_post_json(data_dir, &format!("/approvals/{}/confirm", client::encode_segment(&id)), serde_json::json!({ "sent": sent })).await?;
            if json {
                return output::json(&d);
            }
            let what = if sent { "recorded as sent" } else { "being sent now" };
            output::text(&format!("{} is {what}.\n", d.id))
        }
    }
}

/// A change to an existing record as `property: old → new`, one a line; an old value that could
/// not be read says so, and why.
fn changes(p: &switchboard_api::approvals::Preview) -> String {
    if p.changes.is_empty() {
        return String::new();
    }
    let mut out = String::from("  changes (now → after approval):\n");
    for c in &p.changes {
        let old = match (&c.old, c.old_known) {
            (Some(v), true) => v.clone(),
            (None, true) => "(not set)".into(),
            (_, false) => "(unknown)".into(),
        };
        out.push_str(&format!("    {}: {old} → {}\n", c.property, c.new));
    }
    if let Some(why) = &p.old_unknown {
        out.push_str(&format!("  current values unknown: {why}\n"));
    }
    out
}

fn describe(d: &ApprovalInfo) -> String {
    let mut out = format!(
        "{}  {}\n  {}\n  agent {} via {} ({}, {} tier), asked {}, expires {}\n  rule: {}\n",
        d.id,
        d.status.as_str(),
        d.preview.title,
        d.agent,
        d.connection,
        d.tool,
        d.tier.as_str(),
        output::time(d.created_at_ms),
        output::time(d.expires_at_ms),
        d.rule
    );
    for f in &d.preview.fields {
        out.push_str(&format!("  {}: {}\n", f.label, f.value));
    }
    out.push_str(&changes(&d.preview));
    if let Some(text) = &d.preview.text {
        out.push_str(&format!("\n{text}\n\n"));
    }
    if d.preview.html.is_some() {
        out.push_str("  (has an HTML body; open the Approvals screen to see it rendered safely)\n");
    }
    if let Some(by) = &d.decided_by {
        let when = d.decided_at_ms.map(output::time).unwrap_or_default();
        out.push_str(&format!("  decided by {by} at {when}{}\n", if d.edited_input.is_some() { " (edited)" } else { "" }));
    }
    if let Some(reason) = &d.reason {
        out.push_str(&format!("  reason: {reason}\n"));
    }
    if let Some(result) = &d.result {
        out.push_str(&format!("  result: {result}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use switchboard_api::approvals::{Preview, PropertyChange};

    use super::changes;

    #[test]
    fn record_changes_read_as_old_to_new_and_unknowns_say_so() {
        let change = |property: &str, old: Option<&str>, old_known: bool, new: &str| PropertyChange {
            property: property.into(),
            old: old.map(str::to_string),
            old_known,
            new: new.into(),
        };
        let mut p = Preview {
            kind: "crm_change".into(),
            title: "Update contact 101".into(),
            fields: vec![],
            text: None,
            html: None,
            changes: vec![change("lifecyclestage", Some("lead"), true, "customer"), change("phone", None, true, "+1 555 0100")],
            old_unknown: None,
        };
        assert_eq!(changes(&p), "  changes (now → after approval):\n    lifecyclestage: lead → customer\n    phone: (not set) → +1 555 0100\n");
        p.changes = vec![change("dealstage", None, false, "closedwon")];
        p.old_unknown = Some("HubSpot answered HTTP 404 when the record was read".into());
        let shown = changes(&p);
        assert!(shown.contains("dealstage: (unknown) → closedwon"), "an unread old value must say unknown: {shown}");
        assert!(shown.contains("current values unknown: HubSpot answered HTTP 404"), "the reason must be shown: {shown}");
        p.changes.clear();
        assert_eq!(changes(&p), "", "a draft that changes no record shows no change list");
    }
}
