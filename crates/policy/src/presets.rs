//! Presets: the auto-send policies the UI offers ready-made, for the narrow workflows people
//! most often let go without approval. Each returns an ordinary [`Policy`] for one agent that
//! passes [`validate`](crate::validate); a person can edit it before saving.
//!
//! How to add a preset: write a function returning the policy (at least one condition, at least
//! one cap, only outbound non-destructive tools), add it to [`presets`], and extend the test
//! that validates every preset against the tools it names.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::facts::{Money, TemplateTag};
use crate::policy::{ActiveWindow, Caps, Conditions, Policy, TimeOfDay, Weekday};

/// A ready-made policy the UI can offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Preset {
    /// Stable key, e.g. `appointment-confirmations`.
    pub key: String,
    pub title: String,
    /// What it lets go alone, in one or two sentences.
    pub description: String,
    pub policy: Policy,
}

pub const APPOINTMENT_CONFIRMATIONS: &str = "appointment-confirmations";
pub const INVOICE_DELIVERY: &str = "invoice-delivery";
pub const SURVEY_REQUESTS: &str = "survey-requests";

/// The invoice ceiling [`presets`] offers until a person sets their own: USD 500.00.
pub fn default_invoice_limit() -> Money {
    Money {
        minor_units: 50_000,
        currency: crate::facts::Currency::parse("USD").expect("USD is a currency code"),
    }
}

fn tag(t: &str) -> TemplateTag {
    TemplateTag::parse(t).expect("preset tags are well-formed")
}

fn hm(h: u16, m: u16) -> TimeOfDay {
    TimeOfDay::new(h, m).expect("preset times are times of day")
}

/// Ids are `<preset>.<agent>`, so each agent can hold each preset once.
fn id(key: &str, agent: &str) -> String {
    format!("{key}.{agent}")
}

/// Gmail confirmations of a booked appointment: sent from the `appointment-confirmation`
/// template to recipients who all have a booked meeting; 20 an hour, 100 a day.
pub fn appointment_confirmations(agent: &str) -> Policy {
    Policy {
        id: id(APPOINTMENT_CONFIRMATIONS, agent),
        name: "Appointment confirmations".into(),
        agent: agent.into(),
        actions: vec!["gmail_send_message".into()],
        conditions: Conditions {
            recipient_has_booked_meeting: Some(true),
            template_tag: Some(tag("appointment-confirmation")),
            ..Conditions::default()
        },
        caps: Caps {
            per_hour: Some(20),
            per_day: Some(100),
        },
        window: None,
        enabled: true,
    }
}

/// Stripe sends a finalized invoice to the customer's billing email when it is at most `max`;
/// 10 an hour, 50 a day.
pub fn invoice_delivery(agent: &str, max: Money) -> Policy {
    Policy {
        id: id(INVOICE_DELIVERY, agent),
        name: "Invoice delivery".into(),
        agent: agent.into(),
        actions: vec!["stripe_send_invoice".into()],
        conditions: Conditions {
            amount_at_most: Some(max),
            ..Conditions::default()
        },
        caps: Caps {
            per_hour: Some(10),
            per_day: Some(50),
        },
        window: None,
        enabled: true,
    }
}

/// Survey requests by email or Slack direct message from the `survey` template, on weekdays
/// 09:00–17:00 local time; 100 a day, 25 an hour.
pub fn survey_requests(agent: &str) -> Policy {
    Policy {
        id: id(SURVEY_REQUESTS, agent),
        name: "Survey requests".into(),
        agent: agent.into(),
        actions: vec![
            "gmail_send_message".into(),
            "slack_send_direct_message".into(),
        ],
        conditions: Conditions {
            template_tag: Some(tag("survey")),
            ..Conditions::default()
        },
        caps: Caps {
            per_hour: Some(25),
            per_day: Some(100),
        },
        window: Some(ActiveWindow {
            days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            start: hm(9, 0),
            end: hm(17, 0),
        }),
        enabled: true,
    }
}

/// Every preset, filled in for `agent` (invoice delivery with [`default_invoice_limit`]).
pub fn presets(agent: &str) -> Vec<Preset> {
    vec![
        Preset {
            key: APPOINTMENT_CONFIRMATIONS.into(),
            title: "Appointment confirmations".into(),
            description: "Send confirmation emails written from the appointment-confirmation template, only to people who have a booked meeting.".into(),
            policy: appointment_confirmations(agent),
        },
        Preset {
            key: INVOICE_DELIVERY.into(),
            title: "Invoice delivery".into(),
            description: "Let Stripe email finalized invoices up to an amount you choose to the customer's billing address; larger invoices wait for you.".into(),
            policy: invoice_delivery(agent, default_invoice_limit()),
        },
        Preset {
            key: SURVEY_REQUESTS.into(),
            title: "Survey requests".into(),
            description: "Send survey requests by email or Slack DM from the survey template, on weekdays during office hours.".into(),
            policy: survey_requests(agent),
        },
    ]
}

#[cfg(test)]
mod tests {
    use switchboard_core::Tier;

    use super::*;
    use crate::decide::{Verdict, decide};
    use crate::facts::{EmailAddress, Facts};
    use crate::file::{ActionKind, validate};
    use crate::policy::{PolicyUsage, Usage};
    use crate::request::{Grant, Now, Request};

    /// The tools presets name, with the tier and effects the connector actions declare.
    fn catalog(tool: &str) -> Option<ActionKind> {
        matches!(
            tool,
            "gmail_send_message" | "stripe_send_invoice" | "slack_send_direct_message"
        )
        .then_some(ActionKind {
            tier: Tier::Write,
            outbound: true,
            destructive: false,
        })
    }

    // Tuesday 2024-01-02 10:00 UTC.
    const TUE_10_00: i64 = 1_704_189_600_000;

    fn call(agent: &str, tool: &str, facts: Facts) -> Request {
        Request {
            agent: agent.into(),
            connection_id: "c1".into(),
            provider: "x".into(),
            tool: tool.into(),
            tier: Tier::Write,
            outbound: true,
            destructive: false,
            paused: false,
            now: Now::utc(TUE_10_00),
            facts,
        }
    }

    fn run(p: &Policy, req: &Request) -> Verdict {
        let grant = Grant {
            agent: req.agent.clone(),
            connection_id: "c1".into(),
            tier: Tier::Write,
            actions: None,
            expires_at_ms: None,
        };
        let mut usage = Usage::default();
        usage.set(p.id.clone(), PolicyUsage::default());
        decide(req, &[grant], std::slice::from_ref(p), &usage).verdict
    }

    #[test]
    fn every_preset_passes_validation() {
        for preset in presets("sales-bot") {
            assert_eq!(
                validate(&preset.policy, &catalog),
                Ok(()),
                "preset '{}' must be a policy Switchboard accepts",
                preset.key
            );
            assert_eq!(preset.policy.agent, "sales-bot");
        }
        let ids: Vec<String> = presets("a.b").into_iter().map(|p| p.policy.id).collect();
        assert_eq!(
            ids,
            [
                "appointment-confirmations.a.b",
                "invoice-delivery.a.b",
                "survey-requests.a.b"
            ]
        );
        assert!(
            validate(&appointment_confirmations(""), &catalog).is_err(),
            "a preset without an agent must not be saved"
        );
    }

    #[test]
    fn appointment_confirmations_send_only_to_booked_recipients_from_the_template() {
        let p = appointment_confirmations("bot");
        let facts = |booked, t: &str| Facts {
            recipients: Some(vec![
                EmailAddress::parse("ann@example.com").expect("address"),
            ]),
            recipient_has_booked_meeting: booked,
            template_tag: Some(tag(t)),
            ..Facts::default()
        };
        assert_eq!(
            run(
                &p,
                &call(
                    "bot",
                    "gmail_send_message",
                    facts(Some(true), "appointment-confirmation")
                )
            ),
            Verdict::Allow
        );
        assert_eq!(
            run(
                &p,
                &call(
                    "bot",
                    "gmail_send_message",
                    facts(Some(false), "appointment-confirmation")
                )
            ),
            Verdict::Queue,
            "no booked meeting must queue"
        );
        assert_eq!(
            run(
                &p,
                &call(
                    "bot",
                    "gmail_send_message",
                    facts(None, "appointment-confirmation")
                )
            ),
            Verdict::Queue,
            "an unknown meeting must queue"
        );
        assert_eq!(
            run(
                &p,
                &call("bot", "gmail_send_message", facts(Some(true), "newsletter"))
            ),
            Verdict::Queue,
            "another template must queue"
        );
    }

    #[test]
    fn invoice_delivery_allows_up_to_the_limit() {
        let p = invoice_delivery("bot", Money::new(10_000, "usd").expect("money"));
        let with = |minor| {
            call(
                "bot",
                "stripe_send_invoice",
                Facts {
                    amount: Some(Money::new(minor, "USD").expect("money")),
                    ..Facts::default()
                },
            )
        };
        assert_eq!(run(&p, &with(10_000)), Verdict::Allow);
        assert_eq!(
            run(&p, &with(10_001)),
            Verdict::Queue,
            "an invoice over the limit must queue"
        );
    }

    #[test]
    fn survey_requests_go_by_email_or_dm_on_weekday_office_hours() {
        let p = survey_requests("bot");
        let survey = || Facts {
            template_tag: Some(tag("survey")),
            ..Facts::default()
        };
        assert_eq!(
            run(&p, &call("bot", "gmail_send_message", survey())),
            Verdict::Allow
        );
        assert_eq!(
            run(&p, &call("bot", "slack_send_direct_message", survey())),
            Verdict::Allow
        );
        let mut evening = call("bot", "gmail_send_message", survey());
        evening.now.utc_offset_minutes = 9 * 60;
        assert_eq!(
            run(&p, &evening),
            Verdict::Queue,
            "19:00 local is outside office hours"
        );
        let mut saturday = call("bot", "gmail_send_message", survey());
        saturday.now.utc_ms += 4 * 24 * 3_600_000;
        assert_eq!(
            run(&p, &saturday),
            Verdict::Queue,
            "Saturday is outside the window"
        );
    }
}
