//! The TypeScript contract: every Rust type the UI reads, generated with ts-rs into
//! `ui/src/api/generated/`. The files are committed; the test below fails when they drift.
//! Regenerate with `UPDATE_TS_TYPES=1 cargo test -p switchboard-api ts_types`.

use std::path::{Path, PathBuf};

use ts_rs::{Config, TS};

/// `(file name, file content)` for every exported type.
pub fn generated() -> Vec<(String, String)> {
    fn one<T: TS + 'static>(cfg: &Config) -> (String, String) {
        let content =
            T::export_to_string(cfg).unwrap_or_else(|e| format!("// export failed: {e}\n"));
        (format!("{}.ts", T::ident(cfg)), content)
    }
    let cfg = Config::new();
    vec![
        one::<switchboard_core::ErrorCode>(&cfg),
        one::<switchboard_core::ApiError>(&cfg),
        one::<switchboard_core::ActorKind>(&cfg),
        one::<switchboard_core::Tier>(&cfg),
        one::<switchboard_core::AuditRow>(&cfg),
        one::<switchboard_core::AuditQuery>(&cfg),
        one::<switchboard_core::AuditPage>(&cfg),
        one::<switchboard_core::BadRow>(&cfg),
        one::<switchboard_core::VerifyReport>(&cfg),
        one::<crate::types::GatewayStatus>(&cfg),
        one::<crate::types::LoginUrl>(&cfg),
        one::<crate::session::SessionInfo>(&cfg),
        one::<crate::session::SessionKind>(&cfg),
        one::<crate::session::SessionNameRequest>(&cfg),
        one::<crate::agents::AgentInfo>(&cfg),
        one::<crate::agents::NewAgent>(&cfg),
        one::<crate::agents::AgentWhoami>(&cfg),
        one::<crate::agents::PauseState>(&cfg),
        one::<crate::connections::ConnectionInfo>(&cfg),
        one::<crate::connections::ConnectionStatus>(&cfg),
        one::<crate::connections::ConnectionError>(&cfg),
        one::<crate::connections::ConnectionTest>(&cfg),
        one::<crate::types::Notice>(&cfg),
        one::<crate::types::ExportSaved>(&cfg),
        one::<crate::live::LiveEvent>(&cfg),
        one::<crate::grants::GrantInfo>(&cfg),
        one::<crate::grants::GrantRequest>(&cfg),
        one::<crate::calls::CallRequest>(&cfg),
        one::<crate::calls::CallResult>(&cfg),
        one::<crate::calls::CallState>(&cfg),
        one::<crate::approvals::ApprovalStatus>(&cfg),
        one::<crate::approvals::ApprovalInfo>(&cfg),
        one::<crate::approvals::Preview>(&cfg),
        one::<crate::approvals::PreviewField>(&cfg),
        one::<crate::approvals::PropertyChange>(&cfg),
        one::<crate::approvals::ApproveRequest>(&cfg),
        one::<crate::approvals::RejectRequest>(&cfg),
        one::<crate::approvals::ConfirmRequest>(&cfg),
        one::<crate::approvals::AgentApprovalStatus>(&cfg),
        one::<crate::policies::PolicyInfo>(&cfg),
        one::<crate::checklist::ScopeChecklist>(&cfg),
        one::<crate::checklist::ScopeItem>(&cfg),
        one::<crate::checklist::TierItem>(&cfg),
        one::<crate::policies::PolicyFile>(&cfg),
        one::<crate::policies::PolicyPreset>(&cfg),
        one::<crate::preferences::Preferences>(&cfg),
        one::<crate::access::AccessRequestInfo>(&cfg),
        one::<crate::planner::PlannerReport>(&cfg),
        one::<crate::planner::WorkflowPlan>(&cfg),
        one::<crate::planner::IntegrationPlan>(&cfg),
        one::<crate::planner::PlannedScope>(&cfg),
        one::<crate::planner::PlannedTool>(&cfg),
        one::<switchboard_policy::Policy>(&cfg),
        one::<switchboard_policy::Conditions>(&cfg),
        one::<switchboard_policy::Caps>(&cfg),
        one::<switchboard_policy::ActiveWindow>(&cfg),
        one::<switchboard_policy::Weekday>(&cfg),
        one::<switchboard_policy::TimeOfDay>(&cfg),
        one::<switchboard_policy::PolicyUsage>(&cfg),
        one::<switchboard_policy::Preset>(&cfg),
        one::<switchboard_policy::Money>(&cfg),
        one::<switchboard_policy::Domain>(&cfg),
        one::<switchboard_policy::Channel>(&cfg),
        one::<switchboard_policy::TemplateTag>(&cfg),
        one::<switchboard_policy::Currency>(&cfg),
        one::<switchboard_policy::EmailAddress>(&cfg),
        one::<crate::calls::AgentTool>(&cfg),
        one::<crate::events::EventInfo>(&cfg),
        one::<crate::events::EventSource>(&cfg),
        one::<crate::events::EventPage>(&cfg),
        one::<crate::events::WebhookSetup>(&cfg),
        one::<crate::pull::PullReport>(&cfg),
        one::<crate::pull::StreamReport>(&cfg),
        one::<crate::pull::PullSchedule>(&cfg),
        one::<switchboard_connectors::ActionInfo>(&cfg),
        one::<crate::rate_limits::ConnectionLimits>(&cfg),
        one::<switchboard_http::LimiterStatus>(&cfg),
        one::<switchboard_http::Bucket>(&cfg),
        one::<crate::oauth::OAuthStart>(&cfg),
        one::<crate::oauth::OAuthFlowStatus>(&cfg),
        one::<crate::oauth::OAuthClientInfo>(&cfg),
        one::<crate::catalog::Catalog>(&cfg),
        one::<crate::catalog::CategoryInfo>(&cfg),
        one::<crate::catalog::Category>(&cfg),
        one::<crate::catalog::ProviderEntry>(&cfg),
        one::<crate::catalog::AuthMode>(&cfg),
        one::<crate::catalog::OAuthConfig>(&cfg),
        one::<crate::catalog::AuthorizeParam>(&cfg),
        one::<crate::catalog::PkceSupport>(&cfg),
        one::<crate::catalog::TokenAuth>(&cfg),
        one::<crate::catalog::LoopbackRedirect>(&cfg),
        one::<crate::catalog::TenantParam>(&cfg),
        one::<crate::catalog::ParamSource>(&cfg),
        one::<crate::catalog::ProviderScope>(&cfg),
        one::<crate::catalog::RateLimit>(&cfg),
        one::<crate::catalog::LimitUnit>(&cfg),
        one::<crate::catalog::LimitScope>(&cfg),
        one::<crate::catalog::ConcurrencyLimit>(&cfg),
        one::<crate::catalog::QuotaCost>(&cfg),
        one::<crate::catalog::Pagination>(&cfg),
        one::<crate::catalog::PaginationStyle>(&cfg),
        one::<crate::catalog::WebhookSpec>(&cfg),
        one::<crate::catalog::WebhookScheme>(&cfg),
    ]
}

/// Where the UI keeps the generated files.
pub fn ui_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/api/generated")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ts_types_match_the_committed_ui_files() {
        let dir = ui_dir();
        let update = std::env::var_os("UPDATE_TS_TYPES").is_some();
        let mut drift = Vec::new();
        for (name, content) in generated() {
            let path = dir.join(&name);
            if update {
                std::fs::create_dir_all(&dir).expect("create generated dir");
                std::fs::write(&path, &content).expect("write generated type");
                continue;
            }
            match std::fs::read_to_string(&path) {
                Ok(existing) if existing == content => {}
                Ok(_) => drift.push(format!("{name} differs from the Rust type")),
                Err(_) => drift.push(format!("{name} is missing")),
            }
        }
        assert!(
            drift.is_empty(),
            "The UI's TypeScript types have drifted from the Rust types: {drift:?}. \
             Run `UPDATE_TS_TYPES=1 cargo test -p switchboard-api ts_types` and commit ui/src/api/generated/."
        );
    }
}
