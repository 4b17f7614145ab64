//! Pure shaping between Switchboard's agent API and MCP: the tool list an agent sees, how a
//! tool's arguments become a [`CallRequest`], and how an outcome becomes a tool result.

use std::sync::Arc;

use rmcp::model::{CallToolResult, ContentBlock, Tool, ToolAnnotations};
use serde_json::{Map, Value, json};
use switchboard_api::ApiError;
use switchboard_api::calls::{AgentTool, CallRequest, CallResult, CallState};
use switchboard_core::Tier;

/// Arguments every provider tool takes besides its action's own input.
pub const CONNECTION_ARG: &str = "connection";
pub const CLIENT_REQUEST_ID_ARG: &str = "client_request_id";
pub const TEMPLATE_TAG_ARG: &str = "template_tag";

/// Whether `tool` is one of the built-ins every agent holds (their arguments are their input).
fn is_builtin(provider: &str) -> bool {
    provider == "switchboard"
}

/// The MCP tool for one of the agent's tools: its action's input schema (field descriptions
/// kept), plus `connection` (required only when the agent holds more than one connection that
/// serves it), `client_request_id`, and `template_tag` for outbound messages; annotations from
/// the action's tier.
pub fn mcp_tool(t: &AgentTool) -> Tool {
    let a = &t.action;
    let mut schema = match &a.input_schema {
        Value::Object(o) => o.clone(),
        _ => Map::from_iter([("type".to_string(), json!("object"))]),
    };
    if !is_builtin(&a.provider) {
        let props = schema.entry("properties").or_insert_with(|| json!({}));
        if let Value::Object(props) = props {
            let mut conn = json!({ "type": "string", "enum": t.connections, "description": "Which connection to use." });
            if t.connections.len() > 1 {
                conn["description"] = json!(format!(
                    "Which connection to use; you hold several: {}.",
                    t.connections.join(", ")
                ));
            }
            props.insert(CONNECTION_ARG.into(), conn);
            props.insert(
                CLIENT_REQUEST_ID_ARG.into(),
                json!({ "type": "string", "maxLength": 200, "description": "Your own id for this request. Sending the same request again with the same id returns the first answer (or the same pending approval) instead of acting twice." }),
            );
            if a.outbound {
                props.insert(
                    TEMPLATE_TAG_ARG.into(),
                    json!({ "type": "string", "description": "The template the message was written from (e.g. \"appointment-confirmation\"), for send policies that name one." }),
                );
            }
        }
        if t.connections.len() > 1 {
            let required = schema.entry("required").or_insert_with(|| json!([]));
            if let Value::Array(r) = required {
                r.push(json!(CONNECTION_ARG));
            }
        }
    }
    let annotations = ToolAnnotations::new()
        .read_only(a.tier == Tier::Read)
        .destructive(a.tier == Tier::Delete)
        .idempotent(a.idempotent)
        .open_world(!is_builtin(&a.provider));
    let mut tool = Tool::new(a.tool.clone(), a.description.clone(), Arc::new(schema));
    tool.annotations = Some(annotations);
    tool
}

/// Turns a tool's MCP arguments into the agent API's request: for provider tools,
/// `connection`, `client_request_id` and `template_tag` are lifted out and the rest is the
/// input; a built-in's arguments are its input.
pub fn call_request(
    tool: &AgentToolKind,
    arguments: Option<Map<String, Value>>,
) -> Result<CallRequest, ApiError> {
    let mut args = arguments.unwrap_or_default();
    if *tool == AgentToolKind::Builtin {
        return Ok(CallRequest {
            connection: None,
            input: Value::Object(args),
            client_request_id: None,
            template_tag: None,
        });
    }
    let mut text = |name: &str| -> Result<Option<String>, ApiError> {
        match args.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ApiError::bad_request(format!("'{name}' must be a string"))),
        }
    };
    let connection = text(CONNECTION_ARG)?;
    let client_request_id = text(CLIENT_REQUEST_ID_ARG)?;
    let template_tag = text(TEMPLATE_TAG_ARG)?;
    Ok(CallRequest {
        connection,
        input: Value::Object(args),
        client_request_id,
        template_tag,
    })
}

/// Whether a tool name is a built-in (its arguments are passed through whole).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentToolKind {
    Builtin,
    Provider,
}

impl AgentToolKind {
    pub fn of(tool: &str) -> Self {
        if tool == switchboard_api::access::REQUEST_ACCESS
            || tool == switchboard_api::access::APPROVAL_STATUS
        {
            Self::Builtin
        } else {
            Self::Provider
        }
    }
}

fn as_object(v: Value) -> Value {
    match v {
        Value::Object(_) => v,
        other => json!({ "result": other }),
    }
}

/// An outcome as a tool result, never a protocol error: the provider's JSON when done; the
/// approval id and status when queued; `isError` with `{code, message}` when refused or failed.
pub fn tool_result(outcome: Result<CallResult, ApiError>) -> CallToolResult {
    match outcome {
        Ok(r) if r.state == CallState::PendingApproval => {
            let approval_id = r.approval_id.clone().unwrap_or_default();
            let status = r
                .result
                .get("status")
                .cloned()
                .unwrap_or_else(|| json!("pending"));
            let body = json!({
                "state": "pending_approval",
                "approval_id": approval_id,
                "status": status,
                "call_id": r.call_id,
                "connection": r.connection,
                "approval": r.result,
            });
            let mut result = CallToolResult::structured(body.clone());
            result.content = vec![
                ContentBlock::text(format!(
                    "A person must approve this before it runs; nothing was sent yet. Approval id {approval_id}: follow it with the approval_status tool."
                )),
                ContentBlock::text(body.to_string()),
            ];
            result
        }
        Ok(r) => CallToolResult::structured(as_object(r.result)),
        Err(e) => {
            let body = json!({ "code": e.code, "message": e.message });
            CallToolResult::structured_error(body)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_api::ErrorCode;

    fn tool(name: &str, connections: &[&str]) -> AgentTool {
        let action = switchboard_api::calls::all_actions()
            .into_iter()
            .chain(switchboard_api::access::builtin_tools())
            .find(|a| a.tool == name)
            .unwrap_or_else(|| panic!("{name} is in the catalog"));
        AgentTool {
            action,
            connections: connections.iter().map(|c| c.to_string()).collect(),
        }
    }

    fn required(t: &Tool) -> Vec<String> {
        t.input_schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn connection_is_required_only_with_several_connections() {
        let one = mcp_tool(&tool("hubspot_list_contacts", &["hubspot-1"]));
        assert!(
            !required(&one).contains(&"connection".to_string()),
            "one connection must not make the agent name it"
        );
        let two = mcp_tool(&tool("hubspot_list_contacts", &["hubspot-1", "hubspot-2"]));
        assert!(
            required(&two).contains(&"connection".to_string()),
            "with two connections the agent must say which"
        );
        assert_eq!(
            two.input_schema["properties"]["connection"]["enum"],
            json!(["hubspot-1", "hubspot-2"])
        );
    }

    #[test]
    fn no_action_input_uses_a_name_the_mcp_tools_reserve() {
        for a in switchboard_api::calls::all_actions() {
            for reserved in [CONNECTION_ARG, CLIENT_REQUEST_ID_ARG, TEMPLATE_TAG_ARG] {
                assert!(
                    a.input_schema["properties"].get(reserved).is_none(),
                    "{} has an input field '{reserved}', which MCP arguments use for routing",
                    a.tool
                );
            }
        }
    }

    #[test]
    fn annotations_follow_the_tier() {
        let read = mcp_tool(&tool("hubspot_list_contacts", &["h"]))
            .annotations
            .expect("annotations");
        assert_eq!(
            (
                read.read_only_hint,
                read.destructive_hint,
                read.open_world_hint
            ),
            (Some(true), Some(false), Some(true))
        );
        let delete = switchboard_api::calls::all_actions()
            .into_iter()
            .find(|a| a.tier == Tier::Delete)
            .expect("a delete action");
        let del = mcp_tool(&AgentTool {
            action: delete,
            connections: vec!["c".into()],
        })
        .annotations
        .expect("annotations");
        assert_eq!(
            (del.read_only_hint, del.destructive_hint),
            (Some(false), Some(true))
        );
        let builtin = mcp_tool(&tool("request_access", &[]));
        assert_eq!(
            builtin
                .annotations
                .as_ref()
                .expect("annotations")
                .open_world_hint,
            Some(false),
            "asking a person reaches no provider"
        );
        assert!(
            builtin.input_schema["properties"]
                .get("connection")
                .is_some(),
            "request_access keeps its own connection field"
        );
        assert_eq!(
            required(&builtin),
            vec!["connection", "tier", "reason"],
            "a built-in's schema is unchanged"
        );
    }

    #[test]
    fn routing_arguments_are_lifted_out_of_the_input() {
        let args = json!({ "connection": "slack-1", "client_request_id": "r1", "channel": "C1", "text": "hi" });
        let req = call_request(&AgentToolKind::Provider, args.as_object().cloned())
            .expect("valid arguments");
        assert_eq!(
            (req.connection.as_deref(), req.client_request_id.as_deref()),
            (Some("slack-1"), Some("r1"))
        );
        assert_eq!(req.input, json!({ "channel": "C1", "text": "hi" }));
        let bad = call_request(
            &AgentToolKind::Provider,
            json!({ "connection": 3 }).as_object().cloned(),
        );
        assert_eq!(
            bad.map_err(|e| e.code),
            Err(ErrorCode::BadRequest),
            "a non-string connection is refused, not ignored"
        );
        let builtin = call_request(
            &AgentToolKind::Builtin,
            json!({ "connection": "c", "tier": "write", "reason": "r" })
                .as_object()
                .cloned(),
        )
        .expect("built-in");
        assert_eq!(
            (builtin.connection, builtin.input["connection"].clone()),
            (None, json!("c")),
            "a built-in gets its arguments whole"
        );
    }

    #[test]
    fn refusals_are_tool_results_with_a_code() {
        let r = tool_result(Err(ApiError::new(
            ErrorCode::NotGranted,
            "grant it with `switchboard grants set a c write`",
        )));
        assert_eq!(r.is_error, Some(true));
        assert_eq!(
            r.structured_content.expect("structured")["code"],
            "not_granted"
        );
    }
}
