//! Generates Tauri's context and the permission set of our own commands: each command listed
//! here gets an `allow-<name>` permission that `capabilities/main.json` must grant, so a command
//! added to `commands/` but not here (or not granted) is refused at the IPC boundary.

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(&[
        "gateway_status",
        "audit_list",
        "audit_verify",
        "providers_list",
        "connections_list",
        "connection_add_key",
        "connection_test",
        "connection_remove",
        "connection_set_scopes",
        "connection_set_rotation",
        "oauth_start",
        "oauth_status",
        "oauth_clients_list",
        "oauth_client_set",
        "rate_limits",
        "approvals_list",
        "approvals_count",
        "approval_get",
        "approval_approve",
        "approval_reject",
        "approval_confirm",
        "approvals_approve_bulk",
        "pause_state",
        "pause_agents",
        "resume_agents",
        "session_get",
        "session_set_name",
    ]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("tauri-build failed (see the message above)");
}
