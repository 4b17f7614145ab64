//! `switchboard connections list | add PROVIDER (--oauth [--no-browser] | --api-key-stdin)
//! [--label L] [--scope S]... | test ID | remove ID | scopes ID [--scope S]... | rotation ID
//! --every-days N|--none | webhook-secret ID --stdin`, through the running gateway's control API.
//!
//! `add --oauth` starts the sign-in at the gateway (`POST /connections/oauth`): the gateway opens
//! the provider's consent page in the system browser, or with `--no-browser` this command prints
//! the URL to open (on this machine: the provider sends the browser back to a loopback address).
//! It then long-polls the flow (`GET /connections/oauth/{flow}?wait=25`) and exits 0 once
//! connected, 1 when the sign-in failed or expired, saying why.
//!
//! `add --api-key-stdin` reads the key from stdin (trimmed) and sends it only to the gateway,
//! which checks it with the provider and keeps it in the OS keychain. `add` with neither flag is
//! a usage error (exit 2). `test` exits 1 when the check fails (after printing the recorded
//! result).

use std::io::Read;
use std::path::Path;

use switchboard_api::connections::{ConnectionInfo, ConnectionStatus, ConnectionTest};
use switchboard_api::events::WebhookSetup;
use switchboard_api::oauth::{OAuthFlowStatus, OAuthStart};
use switchboard_core::ApiError;

use crate::cli::ConnectionsCommand;
use crate::client;
use crate::output;

pub async fn run(data_dir: &Path, cmd: ConnectionsCommand, json: bool) -> Result<(), ApiError> {
    match cmd {
        ConnectionsCommand::List => {
            let list: Vec<ConnectionInfo> = client::control_get(data_dir, "/connections").await?;
            if json {
                return output::json(&list);
            }
            output::text(&table(&list))
        }
        ConnectionsCommand::Add { provider, oauth, no_browser, api_key_stdin, label, scopes } => {
            if oauth {
                return add_oauth(data_dir, &provider, label, scopes, no_browser, json).await;
            }
            if !api_key_stdin {
                eprintln!(
                    "error: say how to connect: --oauth (sign in with the provider in the browser) or --api-key-stdin, e.g.\n  \
                     switchboard connections add {provider} --oauth\n  \
                     printf '%s' \"$KEY\" | switchboard connections add {provider} --api-key-stdin"
                );
                std::process::exit(2);
            }
            let key = read_key()?;
            let scopes = (!scopes.is_empty()).then_some(scopes);
            let body = serde_json::json!({ "provider": provider, "label": label, "api_key": key, "scopes": scopes });
            drop(key);
            let added: ConnectionInfo = client::control_post_json(data_dir, "/connections", body).await?;
            if json {
                return output::json(&added);
            }
            output::text(&format!(
                "Connected {} as '{}' ({}): the key was checked with {} and is kept only in the OS keychain.\n",
                added.provider, added.id, added.label, added.provider
            ))
        }
        ConnectionsCommand::Test { id } => {
            let t: ConnectionTest = client::control_post(data_dir, &format!("/connections/{}/test", client::encode_segment(&id))).await?;
            if json {
                output::json(&t)?;
            } else if t.ok {
                output::text(&format!("Connection '{}' works: the provider accepted its key.\n", t.connection.id))?;
            }
            if !t.ok {
                let why = t.connection.last_error.as_ref().map_or_else(|| "unknown error".to_string(), |e| e.message.clone());
                eprintln!("error: connection '{}' failed its check: {why}", t.connection.id);
                std::process::exit(1);
            }
            Ok(())
        }
        ConnectionsCommand::Remove { id } => {
            let removed: ConnectionInfo = client::control_delete(data_dir, &format!("/connections/{}", client::encode_segment(&id))).await?;
            if json {
                return output::json(&removed);
            }
            let oauth = removed.auth_mode.is_oauth();
            output::text(&format!(
                "Removed connection '{}': its credential is deleted from the keychain. {}\n",
                removed.id,
                if oauth {
                    format!("Switchboard asked {} to revoke the grant (`switchboard audit search connection.removed` shows whether it did).", removed.provider)
                } else {
                    format!("A pasted key stays valid at {} until you revoke it there.", removed.provider)
                }
            ))
        }
        ConnectionsCommand::Scopes { id, scopes } => {
            let c: ConnectionInfo =
                client::control_put_json(data_dir, &format!("/connections/{}/scopes", client::encode_segment(&id)), serde_json::json!({ "scopes": scopes })).await?;
            if json {
                return output::json(&c);
            }
            let held = if c.granted_scopes.is_empty() { "no scopes: agents can do nothing through it".to_string() } else { c.granted_scopes.join(", ") };
            output::text(&format!("Connection '{}' now holds {held}.\n", c.id))
        }
        ConnectionsCommand::WebhookSecret { id, stdin: _ } => {
            let secret = read_secret()?;
            let body = serde_json::json!({ "secret": secret });
            drop(secret);
            let setup: WebhookSetup = client::control_put_json(data_dir, &format!("/connections/{}/webhook-secret", client::encode_segment(&id)), body).await?;
            if json {
                return output::json(&setup);
            }
            output::text(&format!(
                "Connection '{}': its webhook secret is kept only in the OS keychain; deliveries to {} are verified ({}).\n",
                setup.connection, setup.url, setup.scheme
            ))
        }
        ConnectionsCommand::Rotation { id, every_days, none } => {
            let days = if none { None } else { every_days };
            let c: ConnectionInfo =
                client::control_put_json(data_dir, &format!("/connections/{}/rotation", client::encode_segment(&id)), serde_json::json!({ "every_days": days })).await?;
            if json {
                return output::json(&c);
            }
            match c.rotate_every_days {
                None => output::text(&format!("Connection '{}' has no rotation schedule.\n", c.id)),
                Some(d) if c.rotation_due => output::text(&format!(
                    "Connection '{}': rotate every {d} days. Its key is {} days old, so a rotation is due now.\n",
                    c.id, c.key_age_days
                )),
                Some(d) => output::text(&format!("Connection '{}': rotate every {d} days (key is {} days old).\n", c.id, c.key_age_days)),
            }
        }
    }
}

/// Starts an OAuth sign-in at the gateway and waits until it is connected, failed or expired.
async fn add_oauth(data_dir: &Path, provider: &str, label: Option<String>, scopes: Vec<String>, no_browser: bool, json: bool) -> Result<(), ApiError> {
    let scopes = (!scopes.is_empty()).then_some(scopes);
    let body = serde_json::json!({ "provider": provider, "label": label, "scopes": scopes, "open_browser": !no_browser });
    let started: OAuthStart = client::control_post_json(data_dir, "/connections/oauth", body).await?;
    if no_browser || !started.browser_opened {
        if !no_browser {
            eprintln!("Could not open a browser here.");
        }
        eprintln!("Open this address in a browser on this machine to connect {provider} (it returns to {}):", started.redirect_uri);
        if json {
            eprintln!("{}", started.authorize_url);
        } else {
            output::text(&format!("{}\n", started.authorize_url))?;
        }
    } else {
        eprintln!("Opened the browser to connect {provider}: approve Switchboard there.");
    }
    eprintln!("Waiting for the sign-in (until {})…", output::time(started.expires_at_ms));
    let path = format!("/connections/oauth/{}?wait=25", client::encode_segment(&started.flow_id));
    loop {
        let status: OAuthFlowStatus = client::control_get(data_dir, &path).await?;
        if json && !matches!(status, OAuthFlowStatus::Pending { .. }) {
            output::json(&status)?;
        }
        match status {
            OAuthFlowStatus::Pending { .. } => continue,
            OAuthFlowStatus::Connected { connection } => {
                if !json {
                    output::text(&format!(
                        "Connected {} as '{}' ({}): its tokens are kept only in the OS keychain and refreshed when they expire.\n",
                        connection.provider, connection.id, connection.label
                    ))?;
                }
                return Ok(());
            }
            OAuthFlowStatus::Failed { code, message } => {
                eprintln!("error: {provider} was not connected: {message} ({code})");
                std::process::exit(1);
            }
            OAuthFlowStatus::Expired => {
                eprintln!("error: {provider} was not connected: nobody came back from the browser within 5 minutes; run the command again");
                std::process::exit(1);
            }
        }
    }
}

/// The webhook secret from stdin, trimmed; an empty one is refused.
fn read_secret() -> Result<String, ApiError> {
    let mut raw = String::new();
    std::io::stdin().read_to_string(&mut raw).map_err(|e| ApiError::bad_request(format!("cannot read the webhook secret from stdin: {e}")))?;
    let secret = raw.trim().to_string();
    if secret.is_empty() {
        return Err(ApiError::bad_request(
            "no webhook secret on stdin: pipe it in, e.g. `printf '%s' \"$SECRET\" | switchboard connections webhook-secret ID --stdin`",
        ));
    }
    Ok(secret)
}

/// The whole of stdin, trimmed; an empty key is refused.
fn read_key() -> Result<String, ApiError> {
    let mut raw = String::new();
    std::io::stdin()
        .read_to_string(&mut raw)
        .map_err(|e| ApiError::bad_request(format!("cannot read the API key from stdin: {e}")))?;
    let key = raw.trim().to_string();
    if key.is_empty() {
        return Err(ApiError::bad_request(
            "no API key on stdin: pipe the key in, e.g. `printf '%s' \"$KEY\" | switchboard connections add PROVIDER --api-key-stdin`",
        ));
    }
    Ok(key)
}


fn status_text(c: &ConnectionInfo) -> String {
    match c.status {
        ConnectionStatus::Healthy => "healthy".into(),
        ConnectionStatus::Error => "error".into(),
        ConnectionStatus::ReconnectNeeded => "reconnect needed".into(),
        ConnectionStatus::Removed => "removed".into(),
    }
}

fn table(list: &[ConnectionInfo]) -> String {
    if list.is_empty() {
        return "No connections yet. `switchboard connections add PROVIDER --oauth` (or `--api-key-stdin`) connects one.\n".into();
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|c| {
            vec![
                c.id.clone(),
                c.label.clone(),
                status_text(c),
                if c.rotation_due { format!("{} d (rotate!)", c.key_age_days) } else { format!("{} d", c.key_age_days) },
                c.last_success_ms.map_or_else(|| "never".into(), output::time),
                c.last_error.as_ref().map_or_else(|| "-".into(), |e| format!("{} {}", output::time(e.at_ms), e.code)),
            ]
        })
        .collect();
    output::table(&["ID", "LABEL", "STATUS", "KEY AGE", "LAST SUCCESS", "LAST ERROR"], &rows)
}
