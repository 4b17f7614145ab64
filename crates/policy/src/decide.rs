//! [`decide`]: one call in, one [`Decision`] out, with the rule that produced it.
//!
//! The order is the contract, and deny overrides everything after it:
//!
//! 1. the pause switch is on → **Deny** (`deny:paused`, code `paused`);
//! 2. no unexpired grant of exactly the call's tier on its connection (naming its tool, if the
//!    grant is narrowed) → **Deny** (`deny:no-grant`, `deny:grant-expired` or
//!    `deny:grant-narrowed`, code `not_granted`), naming the grant that would allow it;
//! 3. neither outbound nor destructive → **Allow** by the grant (`grant:<tier>:<connection>`);
//! 4. destructive (a delete-tier action, or one the caller marks destructive such as a refund) →
//!    **Queue** (`default:destructive-queues`): no policy can let it go alone;
//! 5. outbound → **Allow** by the first enabled policy, in id order, that covers the agent and
//!    tool, whose conditions all hold, inside its window and under its caps (`policy:<id>`);
//!    otherwise **Queue** (`default:outbound-queues`), saying why each candidate policy missed.

use serde::{Deserialize, Serialize};
use switchboard_core::{ErrorCode, Tier};
use ts_rs::TS;

use crate::policy::{Policy, Usage};
use crate::request::{Grant, Request};

/// What happens to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Run it now.
    Allow,
    /// Hold it as a draft for a person to approve.
    Queue,
    /// Refuse it.
    Deny,
}

impl Verdict {
    /// The word written to the audit row's `decision` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Queue => "queue",
            Self::Deny => "deny",
        }
    }
}

/// The grant that would allow a denied call: `tier` on `connection_id` for `agent`, including
/// `tool` if it is narrowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NeededGrant {
    pub agent: String,
    pub connection_id: String,
    pub tier: Tier,
    pub tool: String,
}

/// One decision, carried into the audit row: the verdict, the rule that produced it, a sentence
/// for people and agents, and for a denial the error code and the grant that would allow it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Decision {
    pub verdict: Verdict,
    /// The rule: `deny:paused`, `deny:no-grant`, `deny:grant-expired`, `deny:grant-narrowed`,
    /// `grant:<tier>:<connection>`, `default:destructive-queues`, `default:outbound-queues` or
    /// `policy:<id>`.
    pub rule: String,
    pub reason: String,
    /// For a denial: `paused` or `not_granted`.
    pub error_code: Option<ErrorCode>,
    pub needed_grant: Option<NeededGrant>,
}

/// Rule names as written into audit rows.
pub mod rules {
    pub const PAUSED: &str = "deny:paused";
    pub const NO_GRANT: &str = "deny:no-grant";
    pub const GRANT_EXPIRED: &str = "deny:grant-expired";
    pub const GRANT_NARROWED: &str = "deny:grant-narrowed";
    pub const DESTRUCTIVE_QUEUES: &str = "default:destructive-queues";
    pub const OUTBOUND_QUEUES: &str = "default:outbound-queues";

    /// `grant:<tier>:<connection>`.
    pub fn grant(tier: switchboard_core::Tier, connection_id: &str) -> String {
        format!("grant:{}:{connection_id}", tier.as_str())
    }

    /// `policy:<id>`.
    pub fn policy(id: &str) -> String {
        format!("policy:{id}")
    }
}

impl Decision {
    fn allow(rule: String, reason: String) -> Self {
        Self {
            verdict: Verdict::Allow,
            rule,
            reason,
            error_code: None,
            needed_grant: None,
        }
    }

    fn queue(rule: &str, reason: String) -> Self {
        Self {
            verdict: Verdict::Queue,
            rule: rule.into(),
            reason,
            error_code: None,
            needed_grant: None,
        }
    }

    fn deny(
        rule: &str,
        code: ErrorCode,
        reason: String,
        needed_grant: Option<NeededGrant>,
    ) -> Self {
        Self {
            verdict: Verdict::Deny,
            rule: rule.into(),
            reason,
            error_code: Some(code),
            needed_grant,
        }
    }

    /// The id of the policy that allowed the call, if one did.
    pub fn policy_id(&self) -> Option<&str> {
        self.rule.strip_prefix("policy:")
    }
}

/// Decides one call. Pure: the same inputs always give the same decision, and nothing is
/// changed — grants and policies are only read.
pub fn decide(req: &Request, grants: &[Grant], policies: &[Policy], usage: &Usage) -> Decision {
    if req.paused {
        return Decision::deny(
            rules::PAUSED,
            ErrorCode::Paused,
            "a person paused every agent; nothing ran. Retry after they resume (`switchboard resume`)".into(),
            None,
        );
    }
    if let Some(denied) = grant_denial(req, grants) {
        return denied;
    }
    let tier = req.tier.as_str();
    if !req.needs_approval() {
        return Decision::allow(
            rules::grant(req.tier, &req.connection_id),
            format!(
                "agent '{}' holds {tier} on '{}'",
                req.agent, req.connection_id
            ),
        );
    }
    if req.is_destructive() {
        return Decision::queue(
            rules::DESTRUCTIVE_QUEUES,
            format!(
                "'{}' is destructive, so it waits for a person's approval; no policy can send it alone",
                req.tool
            ),
        );
    }
    let mut candidates: Vec<&Policy> = policies.iter().filter(|p| p.applies_to(req)).collect();
    candidates.sort_by(|a, b| a.id.cmp(&b.id));
    let mut misses = Vec::new();
    for p in candidates {
        match p.check(req, usage) {
            Ok(()) => {
                return Decision::allow(
                    rules::policy(&p.id),
                    format!(
                        "auto-send policy '{}' ({}) allows '{}' without approval",
                        p.id, p.name, req.tool
                    ),
                );
            }
            Err(m) => misses.push(format!("policy '{}' did not match: {m}", p.id)),
        }
    }
    let mut reason = format!(
        "'{}' is outbound, so it waits for a person's approval",
        req.tool
    );
    if misses.is_empty() {
        reason.push_str("; no auto-send policy covers it");
    } else {
        reason.push_str("; ");
        reason.push_str(&misses.join("; "));
    }
    Decision::queue(rules::OUTBOUND_QUEUES, reason)
}

/// `None` when an unexpired grant of exactly the call's tier names its tool; otherwise the denial,
/// most helpful first: a narrowed grant that lacks the tool, then an expired one, then none.
fn grant_denial(req: &Request, grants: &[Grant]) -> Option<Decision> {
    let held: Vec<&Grant> = grants.iter().filter(|g| g.covers(req)).collect();
    if held.iter().any(|g| g.allows(req)) {
        return None;
    }
    let (agent, conn, tool, tier) = (&req.agent, &req.connection_id, &req.tool, req.tier.as_str());
    let needed = Some(NeededGrant {
        agent: agent.clone(),
        connection_id: conn.clone(),
        tier: req.tier,
        tool: tool.clone(),
    });
    let live = |g: &&&Grant| !g.expired(req.now.utc_ms);
    let (rule, reason) = if held.iter().any(|g| live(&g) && !g.names(tool)) {
        (
            rules::GRANT_NARROWED,
            format!(
                "agent '{agent}''s {tier} grant on '{conn}' does not include '{tool}'; a person can add it on the grants screen"
            ),
        )
    } else if !held.is_empty() {
        (
            rules::GRANT_EXPIRED,
            format!(
                "agent '{agent}''s {tier} grant on '{conn}' has expired; a person can renew it with `switchboard grants set {agent} {conn} {tier}`"
            ),
        )
    } else {
        (
            rules::NO_GRANT,
            format!(
                "agent '{agent}' holds no {tier} grant on '{conn}'; a person can allow it with `switchboard grants set {agent} {conn} {tier}`"
            ),
        )
    };
    Some(Decision::deny(rule, ErrorCode::NotGranted, reason, needed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Facts, TemplateTag};
    use crate::policy::{Caps, Conditions, PolicyUsage};
    use crate::request::Now;

    const NOW: i64 = 1_704_103_200_000;

    fn req(tool: &str, tier: Tier, outbound: bool) -> Request {
        Request {
            agent: "bot".into(),
            connection_id: "conn_x".into(),
            provider: "gmail".into(),
            tool: tool.into(),
            tier,
            outbound,
            destructive: false,
            paused: false,
            now: Now::utc(NOW),
            facts: Facts::default(),
        }
    }

    fn grant(tier: Tier) -> Grant {
        Grant {
            agent: "bot".into(),
            connection_id: "conn_x".into(),
            tier,
            actions: None,
            expires_at_ms: None,
        }
    }

    fn survey_policy(id: &str) -> Policy {
        Policy {
            id: id.into(),
            name: "Surveys".into(),
            agent: "bot".into(),
            actions: vec!["gmail_send_message".into()],
            conditions: Conditions {
                template_tag: Some(TemplateTag::parse("survey").expect("tag")),
                ..Conditions::default()
            },
            caps: Caps {
                per_hour: Some(3),
                per_day: None,
            },
            window: None,
            enabled: true,
        }
    }

    fn usage(ids: &[&str]) -> Usage {
        let mut u = Usage::default();
        for id in ids {
            u.set(*id, PolicyUsage::default());
        }
        u
    }

    fn tagged(mut r: Request, t: &str) -> Request {
        r.facts.template_tag = Some(TemplateTag::parse(t).expect("tag"));
        r
    }

    #[test]
    fn paused_denies_before_anything_else() {
        let mut r = tagged(req("gmail_send_message", Tier::Write, true), "survey");
        r.paused = true;
        let d = decide(
            &r,
            &[grant(Tier::Write)],
            &[survey_policy("p")],
            &usage(&["p"]),
        );
        assert_eq!(
            (d.verdict, d.rule.as_str(), d.error_code),
            (Verdict::Deny, rules::PAUSED, Some(ErrorCode::Paused)),
            "the pause switch must refuse even a call a policy would send: {d:?}"
        );
    }

    #[test]
    fn no_grant_denies_and_names_the_grant_that_would_allow() {
        let d = decide(
            &req("gmail_search_messages", Tier::Read, false),
            &[],
            &[],
            &Usage::default(),
        );
        assert_eq!(
            (d.verdict, d.rule.as_str(), d.error_code),
            (Verdict::Deny, rules::NO_GRANT, Some(ErrorCode::NotGranted))
        );
        assert_eq!(
            d.needed_grant,
            Some(NeededGrant {
                agent: "bot".into(),
                connection_id: "conn_x".into(),
                tier: Tier::Read,
                tool: "gmail_search_messages".into()
            }),
            "the denial must say which grant would allow the call"
        );
        assert!(
            d.reason.contains("switchboard grants set bot conn_x read"),
            "the reason should tell a person how to grant it: {}",
            d.reason
        );
    }

    #[test]
    fn grants_are_per_agent_connection_and_exact_tier() {
        let r = req("gmail_modify_labels", Tier::Write, false);
        let other_agent = Grant {
            agent: "other".into(),
            ..grant(Tier::Write)
        };
        let other_conn = Grant {
            connection_id: "conn_y".into(),
            ..grant(Tier::Write)
        };
        for (grants, what) in [
            (vec![other_agent], "another agent's grant"),
            (vec![other_conn], "a grant on another connection"),
            (
                vec![grant(Tier::Read), grant(Tier::Delete)],
                "read and delete grants",
            ),
        ] {
            let d = decide(&r, &grants, &[], &Usage::default());
            assert_eq!(
                d.verdict,
                Verdict::Deny,
                "{what} must not allow a write: {d:?}"
            );
        }
        let d = decide(&r, &[grant(Tier::Write)], &[], &Usage::default());
        assert_eq!(
            (d.verdict, d.rule.as_str()),
            (Verdict::Allow, "grant:write:conn_x"),
            "a non-outbound write runs on its grant"
        );
    }

    #[test]
    fn expiry_boundary_is_exclusive() {
        let r = req("gmail_search_messages", Tier::Read, false);
        let expiring = |at| Grant {
            expires_at_ms: Some(at),
            ..grant(Tier::Read)
        };
        assert_eq!(
            decide(&r, &[expiring(NOW + 1)], &[], &Usage::default()).verdict,
            Verdict::Allow,
            "a grant expiring 1 ms from now still allows"
        );
        let d = decide(&r, &[expiring(NOW)], &[], &Usage::default());
        assert_eq!(
            (d.verdict, d.rule.as_str()),
            (Verdict::Deny, rules::GRANT_EXPIRED),
            "a grant expiring at this very instant must not allow"
        );
        assert!(
            d.reason.contains("expired"),
            "the reason should say the grant expired: {}",
            d.reason
        );
    }

    #[test]
    fn narrowed_grants_allow_only_the_named_tools() {
        let r = req("gmail_get_message", Tier::Read, false);
        let narrowed = |tools: &[&str]| Grant {
            actions: Some(tools.iter().map(|t| (*t).to_string()).collect()),
            ..grant(Tier::Read)
        };
        assert_eq!(
            decide(
                &r,
                &[narrowed(&["gmail_get_message"])],
                &[],
                &Usage::default()
            )
            .verdict,
            Verdict::Allow
        );
        let d = decide(
            &r,
            &[narrowed(&["gmail_search_messages"])],
            &[],
            &Usage::default(),
        );
        assert_eq!(
            (d.verdict, d.rule.as_str()),
            (Verdict::Deny, rules::GRANT_NARROWED),
            "a grant narrowed to other tools must not allow this one"
        );
        assert_eq!(
            d.needed_grant.map(|n| n.tool),
            Some("gmail_get_message".to_string())
        );
        assert_eq!(
            decide(&r, &[narrowed(&[])], &[], &Usage::default()).verdict,
            Verdict::Deny,
            "a grant narrowed to nothing allows nothing"
        );
    }

    #[test]
    fn reads_and_quiet_writes_run_on_their_grant() {
        let d = decide(
            &req("gmail_search_messages", Tier::Read, false),
            &[grant(Tier::Read)],
            &[],
            &Usage::default(),
        );
        assert_eq!(
            (d.verdict, d.rule.as_str()),
            (Verdict::Allow, "grant:read:conn_x")
        );
        assert_eq!(d.error_code, None);
    }

    #[test]
    fn outbound_queues_by_default_and_says_why_policies_missed() {
        let r = req("gmail_send_message", Tier::Write, true);
        let d = decide(&r, &[grant(Tier::Write)], &[], &Usage::default());
        assert_eq!(
            (d.verdict, d.rule.as_str()),
            (Verdict::Queue, rules::OUTBOUND_QUEUES),
            "an outbound call with no policy must queue"
        );
        let d = decide(
            &r,
            &[grant(Tier::Write)],
            &[survey_policy("surveys")],
            &usage(&["surveys"]),
        );
        assert_eq!(
            d.verdict,
            Verdict::Queue,
            "an untagged message must not match the survey policy"
        );
        assert!(
            d.reason
                .contains("policy 'surveys' did not match: the message's template is not known"),
            "the reason should name the policy that missed and why: {}",
            d.reason
        );
    }

    #[test]
    fn a_matching_policy_allows_outbound_and_is_named_as_the_rule() {
        let r = tagged(req("gmail_send_message", Tier::Write, true), "survey");
        let d = decide(
            &r,
            &[grant(Tier::Write)],
            &[survey_policy("b"), survey_policy("a")],
            &usage(&["a", "b"]),
        );
        assert_eq!(
            (d.verdict, d.rule.as_str()),
            (Verdict::Allow, "policy:a"),
            "the first matching policy by id decides"
        );
        assert_eq!(d.policy_id(), Some("a"));
        let mut capped = Usage::default();
        capped.set(
            "a",
            PolicyUsage {
                last_hour: 3,
                last_day: 3,
            },
        );
        capped.set("b", PolicyUsage::default());
        assert_eq!(
            decide(
                &r,
                &[grant(Tier::Write)],
                &[survey_policy("b"), survey_policy("a")],
                &capped
            )
            .rule,
            "policy:b",
            "a capped policy gives way to the next"
        );
    }

    #[test]
    fn a_policy_never_stands_in_for_a_grant() {
        let r = tagged(req("gmail_send_message", Tier::Write, true), "survey");
        let d = decide(
            &r,
            &[grant(Tier::Read)],
            &[survey_policy("p")],
            &usage(&["p"]),
        );
        assert_eq!(
            (d.verdict, d.rule.as_str()),
            (Verdict::Deny, rules::NO_GRANT),
            "a policy must not allow a call the agent holds no grant for"
        );
    }

    #[test]
    fn destructive_calls_always_queue() {
        let mut policy = survey_policy("p");
        policy.actions.push("gmail_trash_message".into());
        let trash = tagged(req("gmail_trash_message", Tier::Delete, false), "survey");
        let d = decide(
            &trash,
            &[grant(Tier::Delete)],
            std::slice::from_ref(&policy),
            &usage(&["p"]),
        );
        assert_eq!(
            (d.verdict, d.rule.as_str()),
            (Verdict::Queue, rules::DESTRUCTIVE_QUEUES),
            "a delete-tier call must wait for a person even when a policy names it"
        );
        let mut refund = tagged(req("gmail_send_message", Tier::Write, true), "survey");
        refund.destructive = true;
        let d = decide(&refund, &[grant(Tier::Write)], &[policy], &usage(&["p"]));
        assert_eq!(
            d.verdict,
            Verdict::Queue,
            "a call marked destructive must wait for a person"
        );
    }

    #[test]
    fn deciding_is_deterministic_and_leaves_inputs_untouched() {
        let r = tagged(req("gmail_send_message", Tier::Write, true), "survey");
        let grants = vec![grant(Tier::Write)];
        let policies = vec![survey_policy("p")];
        let u = usage(&["p"]);
        let first = decide(&r, &grants, &policies, &u);
        assert_eq!(
            first,
            decide(&r, &grants, &policies, &u),
            "the same call must get the same decision"
        );
        assert_eq!(
            serde_json::to_value(&first).expect("decision serializes")["verdict"],
            "allow"
        );
    }
}
