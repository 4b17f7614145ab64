//! The MCP conformance profile: the fixture tools, resources and prompts that the official suite
//! (`@modelcontextprotocol/conformance`, server mode) calls, served on `/mcp-conformance`.
//!
//! It exists only when `switchboard serve --mcp-conformance` asks for it (tests), never in the
//! desktop app or a normal `serve`: no agent sees it, and it touches no connection, grant or
//! provider. It is mounted in the same router as `/mcp`, behind the same Host/Origin guard, and
//! uses rmcp's Streamable HTTP transport with the same session handling ([`crate::http_config`]), so
//! the suite exercises the gateway's real MCP stack. The suite sends no credentials, so this path
//! needs no agent token; it answers nothing but fixtures.
//!
//! The fixtures' names and contents are what `conformance list --server` and the suite's checks
//! expect (e.g. `test_simple_text`, `test://static-text`, `test_prompt_with_arguments`). To add
//! one, add it to the list it belongs to below and handle it in the matching method.

// The suite checks logging (`logging/setLevel`, log messages during a tool call), which rmcp
// marks deprecated for the protocol revision after 2025-11-25; the revisions the suite tests
// still have it.
#![allow(deprecated)]

use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestParams, CompleteResult,
    ErrorData, GetPromptRequestParams, GetPromptResponse, GetPromptResult, Implementation,
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult,
    LoggingLevel, LoggingMessageNotificationParam, PaginatedRequestParams,
    ProgressNotificationParam, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult,
    ServerCapabilities, ServerConfig, ServerRequest, SetLevelRequestParams, SubscribeRequestParams,
    UnsubscribeRequestParams,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::StreamableHttpService;
use rmcp::{RoleServer, ServerHandler};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// Where the profile is mounted when enabled.
pub const PATH: &str = "/mcp-conformance";

/// A 1×1 red PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/// A minimal WAV file.
const WAV: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

/// The profile's router, to nest at [`PATH`] behind the HTTP edge's Host/Origin guard: rmcp's
/// Streamable HTTP service with the same settings as `/mcp` ([`crate::http_config`]).
pub fn router(shutdown: CancellationToken) -> axum::Router {
    let service = StreamableHttpService::new(|| Ok(Fixtures), Arc::new(LocalSessionManager::default()), crate::http_config(shutdown));
    axum::Router::new().fallback_service(service)
}

/// The fixture server (stateless: subscriptions are acknowledged, nothing changes).
#[derive(Debug, Clone, Copy)]
pub struct Fixtures;

fn typed<T: DeserializeOwned>(v: Value) -> Result<T, ErrorData> {
    serde_json::from_value(v).map_err(|e| {
        ErrorData::internal_error(
            format!("conformance fixture does not fit the MCP schema: {e}"),
            None,
        )
    })
}

fn empty_object() -> Value {
    json!({ "type": "object", "properties": {} })
}

fn tools() -> Value {
    let no_input = |name: &str, description: &str| json!({ "name": name, "description": description, "inputSchema": empty_object() });
    json!([
        no_input("test_simple_text", "Answers with one text block"),
        no_input("test_image_content", "Answers with one PNG image"),
        no_input("test_audio_content", "Answers with one WAV clip"),
        no_input("test_embedded_resource", "Answers with an embedded text resource"),
        no_input("test_multiple_content_types", "Answers with text, an image and an embedded resource"),
        no_input("test_tool_with_logging", "Sends three log messages while it runs"),
        no_input("test_tool_with_progress", "Reports progress 0, 50 and 100 of 100"),
        no_input("test_error_handling", "Always fails, as a tool result with isError"),
        {
            "name": "test_sampling",
            "description": "Asks the client's model to complete a prompt",
            "inputSchema": { "type": "object", "properties": { "prompt": { "type": "string", "description": "The prompt to send to the model" } }, "required": ["prompt"] }
        },
        {
            "name": "test_elicitation",
            "description": "Asks the client's user for input",
            "inputSchema": { "type": "object", "properties": { "message": { "type": "string", "description": "The message to show the user" } }, "required": ["message"] }
        },
        no_input("test_elicitation_sep1034_defaults", "Asks for input with defaults for every primitive type"),
        no_input("test_elicitation_sep1330_enums", "Asks for input with each enum schema variant"),
        {
            "name": "json_schema_2020_12_tool",
            "description": "Has an input schema using JSON Schema 2020-12 features",
            "inputSchema": {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "$defs": { "address": { "type": "object", "properties": { "street": { "type": "string" }, "city": { "type": "string" } } } },
                "properties": { "name": { "type": "string" }, "address": { "$ref": "#/$defs/address" } },
                "additionalProperties": false
            }
        }
    ])
}

fn text(t: &str) -> Value {
    json!({ "type": "text", "text": t })
}

fn log(level: LoggingLevel, data: &str) -> LoggingMessageNotificationParam {
    let mut p = LoggingMessageNotificationParam::new(level, json!(data));
    p.logger = Some("switchboard-conformance".into());
    p
}

/// A request from the server to the client (sampling, elicitation), answered as JSON.
async fn ask_client(
    context: &RequestContext<RoleServer>,
    method: &str,
    params: Value,
) -> Result<Value, String> {
    let request =
        ServerRequest::CustomRequest(rmcp::model::CustomRequest::new(method, Some(params)));
    let answer = context
        .peer
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    serde_json::to_value(answer).map_err(|e| e.to_string())
}

async fn elicit(context: &RequestContext<RoleServer>, message: &str, schema: Value) -> Value {
    match ask_client(
        context,
        "elicitation/create",
        json!({ "mode": "form", "message": message, "requestedSchema": schema }),
    )
    .await
    {
        Ok(r) => text(&format!(
            "Elicitation completed: action={}, content={}",
            r["action"].as_str().unwrap_or("unknown"),
            r.get("content").cloned().unwrap_or_else(|| json!({}))
        )),
        Err(e) => text(&format!("Elicitation not supported or error: {e}")),
    }
}

impl Fixtures {
    async fn call(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<Value, ErrorData> {
        let args = Value::Object(request.arguments.clone().unwrap_or_default());
        let content = match request.name.as_ref() {
            "test_simple_text" => json!([text("This is a simple text response for testing.")]),
            "test_image_content" => {
                json!([{ "type": "image", "data": PNG, "mimeType": "image/png" }])
            }
            "test_audio_content" => {
                json!([{ "type": "audio", "data": WAV, "mimeType": "audio/wav" }])
            }
            "test_embedded_resource" => json!([{
                "type": "resource",
                "resource": { "uri": "test://embedded-resource", "mimeType": "text/plain", "text": "This is an embedded resource content." }
            }]),
            "test_multiple_content_types" => json!([
                text("Multiple content types test:"),
                { "type": "image", "data": PNG, "mimeType": "image/png" },
                { "type": "resource", "resource": { "uri": "test://mixed-content-resource", "mimeType": "application/json", "text": json!({ "test": "data", "value": 123 }).to_string() } }
            ]),
            "test_tool_with_logging" => {
                for step in [
                    "Tool execution started",
                    "Tool processing data",
                    "Tool execution completed",
                ] {
                    context
                        .peer
                        .notify_logging_message(log(LoggingLevel::Info, step))
                        .await
                        .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                json!([text("Tool with logging executed successfully")])
            }
            "test_tool_with_progress" => {
                let token = context.meta.get_progress_token();
                if let Some(token) = &token {
                    for progress in [0.0, 50.0, 100.0] {
                        let mut p = ProgressNotificationParam::new(token.clone(), progress);
                        p.total = Some(100.0);
                        p.message = Some(format!("Completed step {progress} of 100"));
                        context
                            .peer
                            .notify_progress(p)
                            .await
                            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
                let shown = token
                    .map(|t| {
                        serde_json::to_value(t)
                            .map(|v| v.to_string())
                            .unwrap_or_default()
                    })
                    .unwrap_or_else(|| "no progress token".into());
                json!([text(&shown)])
            }
            "test_error_handling" => {
                return Ok(
                    json!({ "content": [text("This tool intentionally returns an error for testing")], "isError": true }),
                );
            }
            "test_sampling" => {
                let prompt = args["prompt"].as_str().unwrap_or("");
                let params = json!({ "messages": [{ "role": "user", "content": text(prompt) }], "maxTokens": 100 });
                match ask_client(&context, "sampling/createMessage", params).await {
                    Ok(r) => {
                        let said = r["content"]["text"].as_str().unwrap_or("No response");
                        json!([text(&format!("LLM response: {said}"))])
                    }
                    Err(e) => json!([text(&format!("Sampling not supported or error: {e}"))]),
                }
            }
            "test_elicitation" => {
                let message = args["message"].as_str().unwrap_or("Please respond");
                let schema = json!({ "type": "object", "properties": { "response": { "type": "string", "description": "User's response" } }, "required": ["response"] });
                json!([elicit(&context, message, schema).await])
            }
            "test_elicitation_sep1034_defaults" => {
                let schema = json!({
                    "type": "object",
                    "properties": {
                        "name": { "type": "string", "description": "User name", "default": "John Doe" },
                        "age": { "type": "integer", "description": "User age", "default": 30 },
                        "score": { "type": "number", "description": "User score", "default": 95.5 },
                        "status": { "type": "string", "description": "User status", "enum": ["active", "inactive", "pending"], "default": "active" },
                        "verified": { "type": "boolean", "description": "Verification status", "default": true }
                    },
                    "required": []
                });
                json!([elicit(
                    &context,
                    "Please review and update the form fields with defaults",
                    schema
                )
                .await])
            }
            "test_elicitation_sep1330_enums" => {
                let schema = json!({
                    "type": "object",
                    "properties": {
                        "untitledSingle": { "type": "string", "description": "Select one option", "enum": ["option1", "option2", "option3"] },
                        "titledSingle": { "type": "string", "description": "Select one option with titles", "oneOf": [
                            { "const": "value1", "title": "First Option" }, { "const": "value2", "title": "Second Option" }, { "const": "value3", "title": "Third Option" }
                        ] },
                        "legacyEnum": { "type": "string", "description": "Select one option (legacy)", "enum": ["opt1", "opt2", "opt3"], "enumNames": ["Option One", "Option Two", "Option Three"] },
                        "untitledMulti": { "type": "array", "description": "Select multiple options", "minItems": 1, "maxItems": 3, "items": { "type": "string", "enum": ["option1", "option2", "option3"] } },
                        "titledMulti": { "type": "array", "description": "Select multiple options with titles", "minItems": 1, "maxItems": 3, "items": { "anyOf": [
                            { "const": "value1", "title": "First Choice" }, { "const": "value2", "title": "Second Choice" }, { "const": "value3", "title": "Third Choice" }
                        ] } }
                    },
                    "required": []
                });
                json!([elicit(
                    &context,
                    "Please select options from the enum fields",
                    schema
                )
                .await])
            }
            "json_schema_2020_12_tool" => json!([text(&format!(
                "JSON Schema 2020-12 tool called with: {args}"
            ))]),
            other => {
                return Err(ErrorData::invalid_params(
                    format!("no conformance tool named {other}"),
                    None,
                ));
            }
        };
        Ok(json!({ "content": content }))
    }
}

fn resources() -> Value {
    json!([
        { "uri": "test://static-text", "name": "static-text", "title": "Static Text Resource", "description": "A static text resource", "mimeType": "text/plain" },
        { "uri": "test://static-binary", "name": "static-binary", "title": "Static Binary Resource", "description": "A static PNG image", "mimeType": "image/png" },
        { "uri": "test://watched-resource", "name": "watched-resource", "title": "Watched Resource", "description": "A resource clients may subscribe to", "mimeType": "text/plain" }
    ])
}

fn read(uri: &str) -> Option<Value> {
    let one = |content: Value| Some(json!({ "contents": [content] }));
    match uri {
        "test://static-text" => one(
            json!({ "uri": uri, "mimeType": "text/plain", "text": "This is the content of the static text resource." }),
        ),
        "test://static-binary" => one(json!({ "uri": uri, "mimeType": "image/png", "blob": PNG })),
        "test://watched-resource" => {
            one(json!({ "uri": uri, "mimeType": "text/plain", "text": "Watched resource content" }))
        }
        _ => {
            let id = uri
                .strip_prefix("test://template/")?
                .strip_suffix("/data")?;
            if id.is_empty() || id.contains('/') {
                return None;
            }
            let body =
                json!({ "id": id, "templateTest": true, "data": format!("Data for ID: {id}") });
            one(json!({ "uri": uri, "mimeType": "application/json", "text": body.to_string() }))
        }
    }
}

fn prompts() -> Value {
    json!([
        { "name": "test_simple_prompt", "title": "Simple Test Prompt", "description": "A prompt without arguments" },
        { "name": "test_prompt_with_arguments", "title": "Prompt With Arguments", "description": "A prompt with two required arguments", "arguments": [
            { "name": "arg1", "description": "First test argument", "required": true },
            { "name": "arg2", "description": "Second test argument", "required": true }
        ] },
        { "name": "test_prompt_with_embedded_resource", "title": "Prompt With Embedded Resource", "description": "A prompt that embeds a resource", "arguments": [
            { "name": "resourceUri", "description": "URI of the resource to embed", "required": true }
        ] },
        { "name": "test_prompt_with_image", "title": "Prompt With Image", "description": "A prompt that includes an image" }
    ])
}

fn prompt(name: &str, args: &serde_json::Map<String, Value>) -> Result<Value, ErrorData> {
    let arg = |k: &str| -> Result<String, ErrorData> {
        args.get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| {
                ErrorData::invalid_params(format!("prompt {name} needs the argument {k}"), None)
            })
    };
    let user = |content: Value| json!({ "role": "user", "content": content });
    let messages = match name {
        "test_simple_prompt" => json!([user(text("This is a simple prompt for testing."))]),
        "test_prompt_with_arguments" => {
            json!([user(text(&format!(
                "Prompt with arguments: arg1='{}', arg2='{}'",
                arg("arg1")?,
                arg("arg2")?
            )))])
        }
        "test_prompt_with_embedded_resource" => json!([
            user(
                json!({ "type": "resource", "resource": { "uri": arg("resourceUri")?, "mimeType": "text/plain", "text": "Embedded resource content for testing." } })
            ),
            user(text("Please process the embedded resource above."))
        ]),
        "test_prompt_with_image" => json!([
            user(json!({ "type": "image", "data": PNG, "mimeType": "image/png" })),
            user(text("Please analyze the image above."))
        ]),
        other => {
            return Err(ErrorData::invalid_params(
                format!("no conformance prompt named {other}"),
                None,
            ));
        }
    };
    Ok(json!({ "messages": messages }))
}

impl ServerHandler for Fixtures {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::default();
        info.capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_tool_list_changed()
            .enable_resources()
            .enable_resources_subscribe()
            .enable_resources_list_changed()
            .enable_prompts()
            .enable_prompts_list_changed()
            .enable_logging()
            .enable_completions()
            .build();
        info.server_info =
            Implementation::new("switchboard-conformance", switchboard_core::VERSION);
        info.instructions = Some(
            "Switchboard's MCP conformance fixtures (test-only; no providers behind them).".into(),
        );
        info
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        typed(json!({ "tools": tools() }))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let result: CallToolResult = typed(self.call(request, context).await?)?;
        Ok(result.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        typed(json!({ "resources": resources() }))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        typed(json!({ "resourceTemplates": [{
            "uriTemplate": "test://template/{id}/data", "name": "template", "title": "Resource Template",
            "description": "A resource template with parameter substitution", "mimeType": "application/json"
        }] }))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let Some(found) = read(&request.uri) else {
            return Err(ErrorData::resource_not_found(
                format!("no conformance resource {}", request.uri),
                None,
            ));
        };
        let result: ReadResourceResult = typed(found)?;
        Ok(result.into())
    }

    #[allow(deprecated)]
    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let _ = context
            .peer
            .notify_logging_message(log(
                LoggingLevel::Info,
                &format!("Subscribed to resource: {}", request.uri),
            ))
            .await;
        Ok(())
    }

    #[allow(deprecated)]
    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let _ = context
            .peer
            .notify_logging_message(log(
                LoggingLevel::Info,
                &format!("Unsubscribed from resource: {}", request.uri),
            ))
            .await;
        Ok(())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        typed(json!({ "prompts": prompts() }))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let result: GetPromptResult = typed(prompt(
            &request.name,
            &request.arguments.clone().unwrap_or_default(),
        )?)?;
        Ok(result.into())
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let level = serde_json::to_value(request.level)
            .map(|v| v.to_string())
            .unwrap_or_default();
        let _ = context
            .peer
            .notify_logging_message(log(
                LoggingLevel::Info,
                &format!("Log level set to: {level}"),
            ))
            .await;
        Ok(())
    }

    async fn complete(
        &self,
        _request: CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        typed(json!({ "completion": { "values": [], "total": 0, "hasMore": false } }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixture_fits_the_mcp_schema() {
        let tools: Result<ListToolsResult, _> = typed(json!({ "tools": tools() }));
        assert!(
            tools.is_ok(),
            "the tool list does not parse as MCP: {:?}",
            tools.err()
        );
        let resources: Result<ListResourcesResult, _> = typed(json!({ "resources": resources() }));
        assert!(
            resources.is_ok(),
            "the resource list does not parse as MCP: {:?}",
            resources.err()
        );
        for uri in [
            "test://static-text",
            "test://static-binary",
            "test://watched-resource",
            "test://template/42/data",
        ] {
            let found = read(uri).unwrap_or_else(|| panic!("{uri} is not served"));
            let parsed: Result<ReadResourceResult, _> = typed(found);
            assert!(
                parsed.is_ok(),
                "{uri} does not parse as MCP: {:?}",
                parsed.err()
            );
        }
        assert!(
            read("test://template//data").is_none() && read("test://nope").is_none(),
            "an unknown resource was served"
        );
        let args = serde_json::Map::from_iter([
            ("arg1".to_string(), json!("a")),
            ("arg2".to_string(), json!("b")),
            ("resourceUri".to_string(), json!("test://x")),
        ]);
        for p in prompts().as_array().expect("prompts are a list") {
            let name = p["name"].as_str().expect("a prompt has a name");
            let parsed: Result<GetPromptResult, _> = prompt(name, &args).and_then(typed);
            assert!(
                parsed.is_ok(),
                "prompt {name} does not parse as MCP: {:?}",
                parsed.err()
            );
        }
        assert!(
            prompt("test_prompt_with_arguments", &serde_json::Map::new()).is_err(),
            "a prompt without its arguments was answered"
        );
    }
}
