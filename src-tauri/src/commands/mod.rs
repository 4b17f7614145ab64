//! The IPC commands the window calls: thin adapters, arguments → `switchboard_api::App` →
//! result or `{code, message}` ([`ApiError`](switchboard_core::ApiError) is `Serialize`). Each
//! has the same name as its UI call in `ui/src/api/calls.ts` and does what the matching
//! control-API route does. No logic here; see the crate docs for how to add one.

mod agents;
pub(crate) mod approvals;
mod audit;
mod connections;
mod gateway;
mod planner;
mod settings;
mod session;

/// Every command the window may invoke (each also needs its `allow-<name>` permission).
pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        gateway::gateway_status,
        audit::audit_list,
        audit::audit_verify,
        audit::audit_chain,
        audit::audit_export_save,
        connections::providers_list,
        connections::connections_list,
        connections::connection_add_key,
        connections::connection_test,
        connections::connection_remove,
        connections::connection_set_scopes,
        connections::connection_set_rotation,
        connections::oauth_start,
        connections::oauth_status,
        connections::oauth_clients_list,
        connections::oauth_client_set,
        connections::rate_limits,
        approvals::approvals_list,
        approvals::approvals_count,
        approvals::approval_get,
        approvals::approval_approve,
        approvals::approval_reject,
        approvals::approval_confirm,
        approvals::approvals_approve_bulk,
        agents::pause_state,
        agents::pause_agents,
        agents::resume_agents,
        agents::agents_list,
        agents::agent_add,
        agents::agent_revoke,
        agents::grants_list,
        agents::grant_set,
        agents::grant_revoke,
        agents::requests_list,
        agents::request_grant,
        agents::request_dismiss,
        planner::planner,
        settings::connection_checklist,
        settings::policies_list,
        settings::policy_add,
        settings::policy_remove,
        settings::policy_presets,
        settings::preferences_get,
        settings::preferences_set,
        session::session_get,
        session::session_set_name
    ]
}
