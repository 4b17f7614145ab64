//! The rollout planner: five common workflows a business starts with (lead follow-up, inbox
//! triage, support triage, collections, customer-feedback routing), each as data — the two or
//! three integrations it needs, the tools it uses in each, and from those the smallest set of
//! scopes — and, from the gateway's real state, how far each one is: connected (a healthy
//! connection of the provider or its `-sandbox` twin), scopes held, an agent holding the grants
//! the tools need, and tried (an agent's call of one of its tools succeeded, per the audit log).
//!
//! An integration whose provider has no connector yet (no actions in `switchboard-connectors`,
//! e.g. a support desk) is reported as "cannot be connected yet"; its scopes come from the data.
//!
//! The pure part ([`plan_workflow`]) takes the state as plain values so it is unit-tested
//! without a database; [`App::planner`] reads the state and calls it. To add a workflow, add a
//! [`Workflow`] to [`WORKFLOWS`]; the tests check that every provider and tool it names exists.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use switchboard_core::{ApiError, Tier};
use ts_rs::TS;

use crate::App;
use crate::agents::AgentInfo;
use crate::connections::{ConnectionInfo, ConnectionStatus};
use crate::gateway::blocking;
use crate::grants::GrantInfo;

/// One integration a workflow needs, as data.
#[derive(Debug, Clone, Copy)]
pub struct Need {
    /// Catalog id of the real provider (`hubspot`); its `-sandbox` twin counts too.
    pub provider: &'static str,
    /// What the workflow uses it for, in plain words.
    pub role: &'static str,
    /// Action names (without the provider prefix) the workflow calls.
    pub tools: &'static [&'static str],
    /// The smallest scopes, for a provider without a connector (with one, they are derived
    /// from `tools`).
    pub scopes_without_connector: &'static [&'static str],
}

/// One workflow, as data.
#[derive(Debug, Clone, Copy)]
pub struct Workflow {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub needs: &'static [Need],
}

const fn need(provider: &'static str, role: &'static str, tools: &'static [&'static str]) -> Need {
    Need {
        provider,
        role,
        tools,
        scopes_without_connector: &[],
    }
}

/// The workflows the planner offers, most common first.
pub const WORKFLOWS: &[Workflow] = &[
    Workflow {
        id: "lead-follow-up",
        name: "Lead follow-up",
        description: "Answer new leads quickly: find the lead, offer a free meeting time by email, and note the follow-up on their record.",
        needs: &[
            need(
                "hubspot",
                "Finds the lead and records the follow-up on their record.",
                &[
                    "search_contacts",
                    "get_contact",
                    "create_note",
                    "create_task",
                ],
            ),
            need(
                "gmail",
                "Sends the follow-up email (each one waits for your approval).",
                &["send_message"],
            ),
            need(
                "google-calendar",
                "Finds free times to offer.",
                &["free_busy"],
            ),
        ],
    },
    Workflow {
        id: "inbox-triage",
        name: "Inbox triage",
        description: "Sort incoming email: label what matters, tell customers from the rest, and draft replies for you to review.",
        needs: &[
            need(
                "gmail",
                "Reads new email, labels it and drafts replies (drafts are never sent by the agent).",
                &[
                    "search_messages",
                    "get_message",
                    "modify_labels",
                    "create_draft",
                ],
            ),
            need(
                "hubspot",
                "Tells a customer's email from everything else.",
                &["search_contacts"],
            ),
        ],
    },
    Workflow {
        id: "support-triage",
        name: "Support triage",
        description: "Read new support tickets, spot the urgent ones, and tell the team in chat with who the customer is.",
        needs: &[
            Need {
                provider: "zendesk",
                role: "Holds the support tickets to read and tag.",
                tools: &[],
                scopes_without_connector: &["tickets:read", "tickets:write"],
            },
            need(
                "slack",
                "Alerts the team about urgent tickets (each message waits for your approval).",
                &["post_message"],
            ),
            need(
                "hubspot",
                "Looks up who the customer is.",
                &["search_contacts"],
            ),
        ],
    },
    Workflow {
        id: "collections",
        name: "Collections",
        description: "Find unpaid invoices and send polite reminders, with the invoice attached, to the right person.",
        needs: &[
            need(
                "stripe",
                "Finds unpaid invoices and re-sends them.",
                &["list_invoices", "find_customer_by_email", "send_invoice"],
            ),
            need(
                "gmail",
                "Sends the reminder email (each one waits for your approval).",
                &["send_message"],
            ),
        ],
    },
    Workflow {
        id: "feedback-routing",
        name: "Customer-feedback routing",
        description: "Collect what customers say in the feedback channel and file it on their record, thanking them in the thread.",
        needs: &[
            need(
                "slack",
                "Reads the feedback channel and replies in the thread.",
                &["channel_history", "reply_in_thread"],
            ),
            need(
                "hubspot",
                "Files the feedback as a note on the customer's record.",
                &["search_contacts", "create_note"],
            ),
        ],
    },
];

/// One scope a workflow needs on an integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PlannedScope {
    pub scope: String,
    pub tier: Tier,
    /// What it lets an agent do, in one plain sentence (from the catalog).
    pub description: String,
    /// The chosen connection holds it.
    pub held: bool,
}

/// One tool a workflow calls on an integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PlannedTool {
    /// The name agents call, e.g. `hubspot_search_contacts`.
    pub tool: String,
    pub tier: Tier,
    pub description: String,
}

/// How far one integration of a workflow is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct IntegrationPlan {
    /// Catalog id of the real provider, e.g. `hubspot`.
    pub provider: String,
    /// The product name, e.g. "HubSpot".
    pub name: String,
    /// What the workflow uses it for.
    pub role: String,
    /// Switchboard has a connector for it; when false nothing below can be done yet.
    pub can_connect: bool,
    /// Catalog ids a person can connect for it in this gateway (the real one, and its
    /// `-sandbox` twin when the gateway runs with `--sandbox`).
    pub connect_ids: Vec<String>,
    /// The smallest set of scopes the tools need.
    pub scopes: Vec<PlannedScope>,
    pub tools: Vec<PlannedTool>,
    /// The grant tiers the tools need.
    pub tiers: Vec<Tier>,
    /// The connection the steps below are about (the one furthest along); `null` when none
    /// is healthy.
    pub connection: Option<String>,
    /// Active agents holding every needed tier on that connection, covering every tool.
    pub agents: Vec<String>,
    /// Step 1: a healthy connection exists.
    pub connected: bool,
    /// Step 2: it holds every needed scope.
    pub scopes_held: bool,
    /// Step 3: an agent holds the grants.
    pub granted: bool,
    /// Step 4: an agent's call of one of the tools succeeded there.
    pub tried: bool,
}

/// One workflow and how far it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct WorkflowPlan {
    pub id: String,
    pub name: String,
    pub description: String,
    pub integrations: Vec<IntegrationPlan>,
    /// Every integration has a connector.
    pub can_connect: bool,
    /// Every integration is connected, scoped, granted and tried.
    pub done: bool,
}

/// What `GET /planner` answers: every workflow, in [`WORKFLOWS`] order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PlannerReport {
    pub workflows: Vec<WorkflowPlan>,
}

/// The state the planner reads, as plain values.
pub struct PlannerState<'a> {
    /// Catalog entries present in this gateway: `(id, name, scopes as (scope, tier, description))`.
    pub catalog: &'a [CatalogEntry],
    pub connections: &'a [ConnectionInfo],
    pub grants: &'a [GrantInfo],
    pub agents: &'a [AgentInfo],
    /// Per connection id, the audit action names (`hubspot.search_contacts`) an agent ran with
    /// outcome `ok`.
    pub used: &'a BTreeMap<String, BTreeSet<String>>,
}

/// The part of a catalog entry the planner needs.
#[derive(Debug, Clone)]
pub struct CatalogEntry {
    pub id: String,
    pub name: String,
    pub scopes: Vec<(String, Tier, String)>,
}

/// Whether catalog id `id` is `provider` or its `-sandbox` twin.
fn is_provider(id: &str, provider: &str) -> bool {
    id == provider || id.strip_suffix("-sandbox") == Some(provider)
}

/// The workflow with this id, or a clear error naming the known ones.
pub fn find_workflow(id: &str) -> Result<&'static Workflow, ApiError> {
    WORKFLOWS.iter().find(|w| w.id == id).ok_or_else(|| {
        let known: Vec<&str> = WORKFLOWS.iter().map(|w| w.id).collect();
        ApiError::new(
            switchboard_core::ErrorCode::NotFound,
            format!("no workflow '{id}'; the planner knows {}", known.join(", ")),
        )
    })
}

/// How far `workflow` is, given the state.
pub fn plan_workflow(workflow: &Workflow, state: &PlannerState<'_>) -> WorkflowPlan {
    let integrations: Vec<IntegrationPlan> = workflow
        .needs
        .iter()
        .map(|n| plan_integration(n, state))
        .collect();
    let can_connect = integrations.iter().all(|i| i.can_connect);
    let done = can_connect
        && integrations
            .iter()
            .all(|i| i.connected && i.scopes_held && i.granted && i.tried);
    WorkflowPlan {
        id: workflow.id.into(),
        name: workflow.name.into(),
        description: workflow.description.into(),
        integrations,
        can_connect,
        done,
    }
}

fn plan_integration(need: &Need, state: &PlannerState<'_>) -> IntegrationPlan {
    let specs: Vec<&switchboard_connectors::ActionSpec> = need
        .tools
        .iter()
        .filter_map(|t| {
            switchboard_connectors::actions()
                .iter()
                .find(|a| a.provider == need.provider && a.name == *t)
        })
        .collect();
    let can_connect = switchboard_connectors::actions()
        .iter()
        .any(|a| a.provider == need.provider);
    let entry = state.catalog.iter().find(|e| e.id == need.provider);
    let name = entry.map_or_else(|| need.provider.to_string(), |e| e.name.clone());
    let connect_ids: Vec<String> = if can_connect {
        state
            .catalog
            .iter()
            .filter(|e| is_provider(&e.id, need.provider))
            .map(|e| e.id.clone())
            .collect()
    } else {
        Vec::new()
    };

    // The smallest scope set: what the tools need (or the data's list without a connector).
    let mut wanted: Vec<String> = Vec::new();
    if can_connect {
        for s in specs.iter().flat_map(|a| a.scopes.iter()) {
            if !wanted.iter().any(|w| w == s) {
                wanted.push((*s).to_string());
            }
        }
    } else {
        wanted = need
            .scopes_without_connector
            .iter()
            .map(|s| (*s).to_string())
            .collect();
    }
    let tools: Vec<PlannedTool> = specs
        .iter()
        .map(|a| PlannedTool {
            tool: a.tool_name(),
            tier: a.tier,
            description: a.description.into(),
        })
        .collect();
    let tiers: Vec<Tier> = [Tier::Read, Tier::Write, Tier::Delete]
        .into_iter()
        .filter(|t| specs.iter().any(|a| a.tier == *t))
        .collect();

    let active: BTreeSet<&str> = state
        .agents
        .iter()
        .filter(|a| a.revoked_at_ms.is_none())
        .map(|a| a.name.as_str())
        .collect();
    let audit_names: BTreeSet<String> = specs
        .iter()
        .map(|a| format!("{}.{}", a.provider, a.name))
        .collect();

    // Every healthy connection of the provider, each with how far it is; the furthest wins.
    let mut best: Option<(usize, Progress)> = None;
    if can_connect {
        for c in state.connections.iter().filter(|c| {
            c.status == ConnectionStatus::Healthy && is_provider(&c.provider, need.provider)
        }) {
            let scopes_held = wanted.iter().all(|s| c.granted_scopes.contains(s));
            let agents: Vec<String> = active
                .iter()
                .filter(|agent| {
                    tiers.iter().all(|tier| {
                        state.grants.iter().any(|g| {
                            g.agent == **agent
                                && g.connection == c.id
                                && g.tier == *tier
                                && !g.expired
                                && g.actions.as_ref().is_none_or(|acts| {
                                    specs
                                        .iter()
                                        .filter(|a| a.tier == *tier)
                                        .all(|a| acts.contains(&a.tool_name()))
                                })
                        })
                    })
                })
                .map(|a| (*a).to_string())
                .collect();
            let tried = state
                .used
                .get(&c.id)
                .is_some_and(|used| used.iter().any(|u| audit_names.contains(u)));
            let p = Progress {
                connection: c.id.clone(),
                scopes_held,
                agents,
                tried,
            };
            let score = p.score();
            if best
                .as_ref()
                .is_none_or(|(s, b)| score > *s || (score == *s && p.connection < b.connection))
            {
                best = Some((score, p));
            }
        }
    }
    let held: BTreeSet<&str> = best
        .as_ref()
        .map(|(_, p)| state.connections.iter().find(|c| c.id == p.connection))
        .into_iter()
        .flatten()
        .flat_map(|c| c.granted_scopes.iter().map(String::as_str))
        .collect();
    let scopes = wanted
        .iter()
        .map(|s| {
            let (tier, description) = entry
                .and_then(|e| e.scopes.iter().find(|(name, _, _)| name == s))
                .map_or_else(
                    || {
                        (
                            specs
                                .iter()
                                .find(|a| a.scopes.contains(&s.as_str()))
                                .map_or(Tier::Read, |a| a.tier),
                            String::new(),
                        )
                    },
                    |(_, t, d)| (*t, d.clone()),
                );
            PlannedScope {
                scope: s.clone(),
                tier,
                description,
                held: held.contains(s.as_str()),
            }
        })
        .collect();
    let (connection, agents, connected, scopes_held, tried) = match best {
        Some((_, p)) => (Some(p.connection), p.agents, true, p.scopes_held, p.tried),
        None => (None, Vec::new(), false, false, false),
    };
    IntegrationPlan {
        provider: need.provider.into(),
        name,
        role: need.role.into(),
        can_connect,
        connect_ids,
        scopes,
        tools,
        tiers,
        connection,
        granted: !agents.is_empty(),
        agents,
        connected,
        scopes_held,
        tried,
    }
}

struct Progress {
    connection: String,
    scopes_held: bool,
    agents: Vec<String>,
    tried: bool,
}

impl Progress {
    fn score(&self) -> usize {
        usize::from(self.scopes_held)
            + usize::from(!self.agents.is_empty())
            + usize::from(self.tried)
    }
}

impl App {
    /// Every workflow and how far it is, from the live connections, grants, agents and audit
    /// log. Reading changes nothing, so it is not audited.
    pub async fn planner(&self) -> Result<PlannerReport, ApiError> {
        let catalog: Vec<CatalogEntry> = self
            .provider_catalog()
            .providers
            .iter()
            .cloned()
            .map(|p| CatalogEntry {
                id: p.id,
                name: p.name,
                scopes: p
                    .scopes
                    .into_iter()
                    .map(|s| (s.scope, s.tier, s.description))
                    .collect(),
            })
            .collect();
        let connections = self.connections_list().await?;
        let grants = self.grants_list(None).await?;
        let agents = self.agents_list().await?;
        let ids: Vec<String> = connections
            .iter()
            .filter(|c| c.status == ConnectionStatus::Healthy)
            .map(|c| c.id.clone())
            .collect();
        let db = self.db().clone();
        let used = blocking(move || {
            let conn = db.reader()?;
            let mut used: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for id in ids {
                let rows = switchboard_store::audit::agent_actions_used_since(&conn, &id, 0)?;
                used.insert(id, rows.into_iter().map(|(_, action)| action).collect());
            }
            Ok(used)
        })
        .await?;
        let state = PlannerState {
            catalog: &catalog,
            connections: &connections,
            grants: &grants,
            agents: &agents,
            used: &used,
        };
        Ok(PlannerReport {
            workflows: WORKFLOWS.iter().map(|w| plan_workflow(w, &state)).collect(),
        })
    }

    /// One workflow and how far it is (`switchboard plan WORKFLOW`).
    pub async fn planner_workflow(&self, id: &str) -> Result<WorkflowPlan, ApiError> {
        find_workflow(id)?;
        let report = self.planner().await?;
        report
            .workflows
            .into_iter()
            .find(|w| w.id == id)
            .ok_or_else(|| ApiError::internal(format!("workflow '{id}' missing from the plan")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connections::ConnectionError;
    use switchboard_connectors::AuthMode;

    fn catalog() -> Vec<CatalogEntry> {
        switchboard_connectors::catalog()
            .providers
            .iter()
            .map(|p| CatalogEntry {
                id: p.id.clone(),
                name: p.name.clone(),
                scopes: p
                    .scopes
                    .iter()
                    .map(|s| (s.scope.clone(), s.tier, s.description.clone()))
                    .collect(),
            })
            .collect()
    }

    fn connection(
        id: &str,
        provider: &str,
        status: ConnectionStatus,
        scopes: &[&str],
    ) -> ConnectionInfo {
        ConnectionInfo {
            id: id.into(),
            provider: provider.into(),
            label: id.into(),
            auth_mode: AuthMode::ApiKey,
            status,
            created_at_ms: 0,
            key_set_at_ms: 0,
            key_age_days: 0,
            rotate_every_days: None,
            last_success_ms: None,
            last_error: None::<ConnectionError>,
            removed_at_ms: None,
            granted_scopes: scopes.iter().map(|s| (*s).to_string()).collect(),
            token_expires_at_ms: None,
            rotation_due: false,
        }
    }

    fn grant(
        agent: &str,
        connection: &str,
        tier: Tier,
        actions: Option<&[&str]>,
        expired: bool,
    ) -> GrantInfo {
        GrantInfo {
            agent: agent.into(),
            connection: connection.into(),
            tier,
            actions: actions.map(|a| a.iter().map(|s| (*s).to_string()).collect()),
            expires_at_ms: None,
            expired,
            granted_at_ms: 0,
            granted_by: "cli".into(),
        }
    }

    fn agent(name: &str, revoked: bool) -> AgentInfo {
        AgentInfo {
            name: name.into(),
            created_at_ms: 0,
            revoked_at_ms: revoked.then_some(1),
            last_seen_ms: None,
        }
    }

    fn collections() -> &'static Workflow {
        find_workflow("collections").expect("the collections workflow exists")
    }

    fn stripe_scopes() -> Vec<&'static str> {
        vec!["invoice_read", "customer_read", "invoice_write"]
    }

    #[test]
    fn every_workflow_names_real_providers_and_tools() {
        let cat = catalog();
        assert_eq!(WORKFLOWS.len(), 5, "the planner offers the five workflows");
        for w in WORKFLOWS {
            assert!(
                (2..=3).contains(&w.needs.len()),
                "workflow {} needs {} integrations, not two or three",
                w.id,
                w.needs.len()
            );
            for n in w.needs {
                assert!(
                    cat.iter().any(|e| e.id == n.provider),
                    "workflow {} names provider {} which is not in the catalog",
                    w.id,
                    n.provider
                );
                for t in n.tools {
                    assert!(
                        switchboard_connectors::actions()
                            .iter()
                            .any(|a| a.provider == n.provider && a.name == *t),
                        "workflow {} uses {}_{} which is no action",
                        w.id,
                        n.provider,
                        t
                    );
                }
                let connector = switchboard_connectors::actions()
                    .iter()
                    .any(|a| a.provider == n.provider);
                assert_eq!(
                    connector,
                    !n.tools.is_empty(),
                    "workflow {}: {} must list tools exactly when it has a connector",
                    w.id,
                    n.provider
                );
                assert_eq!(
                    connector,
                    n.scopes_without_connector.is_empty(),
                    "workflow {}: {} lists its own scopes only without a connector",
                    w.id,
                    n.provider
                );
            }
        }
    }

    #[test]
    fn nothing_connected_means_nothing_ticked_and_minimal_scopes_come_from_the_tools() {
        let cat = catalog();
        let used = BTreeMap::new();
        let state = PlannerState {
            catalog: &cat,
            connections: &[],
            grants: &[],
            agents: &[],
            used: &used,
        };
        let plan = plan_workflow(collections(), &state);
        assert!(plan.can_connect && !plan.done);
        let stripe = &plan.integrations[0];
        assert_eq!(stripe.provider, "stripe");
        assert_eq!(
            stripe
                .scopes
                .iter()
                .map(|s| s.scope.as_str())
                .collect::<Vec<_>>(),
            stripe_scopes(),
            "Stripe's minimal scopes are those its tools need"
        );
        assert_eq!(stripe.tiers, vec![Tier::Read, Tier::Write]);
        assert!(
            !stripe.connected && !stripe.scopes_held && !stripe.granted && !stripe.tried,
            "no step is done with nothing connected"
        );
        assert!(
            stripe
                .scopes
                .iter()
                .all(|s| !s.held && !s.description.is_empty())
        );
        assert_eq!(
            stripe.connect_ids,
            vec!["stripe".to_string()],
            "without --sandbox only the real Stripe can be connected"
        );
    }

    #[test]
    fn a_support_desk_cannot_be_connected_yet() {
        let cat = catalog();
        let used = BTreeMap::new();
        let state = PlannerState {
            catalog: &cat,
            connections: &[],
            grants: &[],
            agents: &[],
            used: &used,
        };
        let plan = plan_workflow(find_workflow("support-triage").expect("the support triage workflow exists"), &state);
        assert!(
            !plan.can_connect,
            "support triage needs a support desk Switchboard cannot connect yet"
        );
        let desk = &plan.integrations[0];
        assert!(!desk.can_connect && desk.connect_ids.is_empty() && desk.tools.is_empty());
        assert_eq!(
            desk.scopes
                .iter()
                .map(|s| s.scope.as_str())
                .collect::<Vec<_>>(),
            vec!["tickets:read", "tickets:write"]
        );
        assert!(plan.integrations[1].can_connect, "Slack can be connected");
    }

    #[test]
    fn each_step_ticks_from_the_state_and_a_sandbox_twin_counts() {
        let mut cat = catalog();
        let mut twin = cat.iter().find(|e| e.id == "stripe").expect("Stripe is in the catalog").clone();
        twin.id = "stripe-sandbox".into();
        cat.push(twin);
        let mut used = BTreeMap::new();
        let conns = vec![
            connection(
                "stripe-1",
                "stripe",
                ConnectionStatus::ReconnectNeeded,
                &stripe_scopes(),
            ),
            connection(
                "stripe-sandbox-1",
                "stripe-sandbox",
                ConnectionStatus::Healthy,
                &["invoice_read"],
            ),
        ];
        let agents = vec![agent("billing-bot", false), agent("old-bot", true)];
        let state = PlannerState {
            catalog: &cat,
            connections: &conns,
            grants: &[],
            agents: &agents,
            used: &used,
        };
        let s = plan_workflow(collections(), &state).integrations.remove(0);
        assert_eq!(
            s.connect_ids,
            vec!["stripe".to_string(), "stripe-sandbox".to_string()]
        );
        assert!(
            s.connected,
            "a healthy sandbox connection counts as connected"
        );
        assert_eq!(
            s.connection.as_deref(),
            Some("stripe-sandbox-1"),
            "a connection needing reconnection is not used"
        );
        assert!(!s.scopes_held, "it holds only invoice_read");
        assert_eq!(s.scopes.iter().filter(|x| x.held).count(), 1);

        let conns = vec![connection(
            "stripe-sandbox-1",
            "stripe-sandbox",
            ConnectionStatus::Healthy,
            &stripe_scopes(),
        )];
        // A read grant alone, a write grant narrowed to the wrong tool, and a revoked agent's
        // full grants: none is enough.
        let grants = vec![
            grant("billing-bot", "stripe-sandbox-1", Tier::Read, None, false),
            grant(
                "billing-bot",
                "stripe-sandbox-1",
                Tier::Write,
                Some(&["stripe_create_invoice"]),
                false,
            ),
            grant("old-bot", "stripe-sandbox-1", Tier::Read, None, false),
            grant("old-bot", "stripe-sandbox-1", Tier::Write, None, false),
        ];
        let state = PlannerState {
            catalog: &cat,
            connections: &conns,
            grants: &grants,
            agents: &agents,
            used: &used,
        };
        let s = plan_workflow(collections(), &state).integrations.remove(0);
        assert!(
            s.scopes_held && !s.granted,
            "no active agent holds read and write covering the tools: {:?}",
            s.agents
        );

        let mut grants = grants;
        grants[1] = grant(
            "billing-bot",
            "stripe-sandbox-1",
            Tier::Write,
            Some(&["stripe_send_invoice"]),
            false,
        );
        let state = PlannerState {
            catalog: &cat,
            connections: &conns,
            grants: &grants,
            agents: &agents,
            used: &used,
        };
        let s = plan_workflow(collections(), &state).integrations.remove(0);
        assert!(s.granted && !s.tried);
        assert_eq!(s.agents, vec!["billing-bot".to_string()]);

        grants[1].expired = true;
        let state = PlannerState {
            catalog: &cat,
            connections: &conns,
            grants: &grants,
            agents: &agents,
            used: &used,
        };
        assert!(
            !plan_workflow(collections(), &state).integrations[0].granted,
            "an expired grant allows nothing"
        );
        grants[1].expired = false;

        used.insert(
            "stripe-sandbox-1".to_string(),
            BTreeSet::from(["stripe.list_charges".to_string()]),
        );
        let state = PlannerState {
            catalog: &cat,
            connections: &conns,
            grants: &grants,
            agents: &agents,
            used: &used,
        };
        assert!(
            !plan_workflow(collections(), &state).integrations[0].tried,
            "a tool the workflow does not use is not a try"
        );
        used.insert(
            "stripe-sandbox-1".to_string(),
            BTreeSet::from(["stripe.list_invoices".to_string()]),
        );
        let state = PlannerState {
            catalog: &cat,
            connections: &conns,
            grants: &grants,
            agents: &agents,
            used: &used,
        };
        let plan = plan_workflow(collections(), &state);
        assert!(
            plan.integrations[0].tried,
            "a successful call of list_invoices counts as tried"
        );
        assert!(!plan.done, "Gmail is not connected yet");
    }

    #[test]
    fn the_connection_furthest_along_is_chosen() {
        let cat = catalog();
        let used = BTreeMap::new();
        let conns = vec![
            connection("stripe-1", "stripe", ConnectionStatus::Healthy, &[]),
            connection(
                "stripe-2",
                "stripe",
                ConnectionStatus::Healthy,
                &stripe_scopes(),
            ),
        ];
        let state = PlannerState {
            catalog: &cat,
            connections: &conns,
            grants: &[],
            agents: &[],
            used: &used,
        };
        let s = plan_workflow(collections(), &state).integrations.remove(0);
        assert_eq!(s.connection.as_deref(), Some("stripe-2"));
        assert!(s.scopes_held && s.scopes.iter().all(|x| x.held));
    }

    #[test]
    fn an_unknown_workflow_is_a_clear_not_found() {
        let e = find_workflow("payroll").expect_err("there is no payroll workflow");
        assert_eq!(e.code, switchboard_core::ErrorCode::NotFound);
        assert!(
            e.message.contains("lead-follow-up"),
            "the error names the known workflows: {}",
            e.message
        );
    }
}
