//! `switchboard mcp --token-env VAR`: the stdio bridge to the running gateway's `/mcp`
//! (`switchboard_mcp::bridge`). The agent token comes only from the named environment variable,
//! so it never shows in a process list or shell history.

use std::path::Path;

use switchboard_core::{ApiError, ErrorCode};

use crate::cli::McpArgs;

pub async fn run(data_dir: &Path, args: McpArgs) -> Result<(), ApiError> {
    let token = match std::env::var(&args.token_env) {
        Ok(t) if !t.trim().is_empty() => t.trim().to_string(),
        Ok(_) => {
            return Err(ApiError::bad_request(format!(
                "the environment variable {} is empty; put the agent token in it",
                args.token_env
            )));
        }
        Err(_) => {
            return Err(ApiError::bad_request(format!(
                "the environment variable {} is not set; put the agent token (`switchboard agents add NAME` prints one) in it",
                args.token_env
            )));
        }
    };
    let rt = crate::client::running_url(data_dir).map_err(|e| {
        ApiError::new(
            ErrorCode::NotFound,
            format!("{}; `switchboard mcp` bridges to a running gateway: start `switchboard serve` or the desktop app first", e.message),
        )
    })?;
    let bridge =
        switchboard_mcp::bridge::Bridge::connect(&format!("{}/mcp", rt.url), &token).await?;
    bridge.run_stdio().await
}
