//! Auto-send policies: narrow rules that let one agent's outbound calls of named tools go
//! without a person, when every condition on the call's facts holds, the policy is under its
//! caps and inside its active window.
//!
//! [`Policy::check`] is the whole matching rule. It fails closed: a fact a condition needs but
//! the call does not carry, a usage count the caller did not supply, a local time that cannot be
//! computed, a policy with no condition or no cap — each is a miss, never a match.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::facts::{Channel, Domain, Money, TemplateTag};
use crate::request::{LocalTime, Request};

/// One auto-send policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Stable id (`switchboard policies remove ID`): 1–100 of `A-Z a-z 0-9 . _ -`.
    pub id: String,
    /// What a person calls it.
    pub name: String,
    /// The one agent it lets act.
    pub agent: String,
    /// Tool names it covers (`gmail_send_message`); each must be outbound and not destructive.
    pub actions: Vec<String>,
    /// Every condition set here must hold; at least one must be set.
    #[serde(default)]
    pub conditions: Conditions,
    /// At least one cap must be set.
    #[serde(default)]
    pub caps: Caps,
    /// When it is active; `null` = at any time.
    #[serde(default)]
    pub window: Option<ActiveWindow>,
    /// A disabled policy allows nothing. Defaults to `true`.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// Conditions on a call's [`Facts`](crate::Facts). `null` = not a condition.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    /// Every recipient's domain is one of these (exact match, no subdomains); a call with no
    /// recipients does not match.
    pub recipient_domains: Option<Vec<Domain>>,
    /// Must be `true` when set: every recipient has a booked meeting.
    pub recipient_has_booked_meeting: Option<bool>,
    /// The message was written from this template.
    pub template_tag: Option<TemplateTag>,
    /// The amount is in this currency and at most this many minor units.
    pub amount_at_most: Option<Money>,
    /// The chat message goes to one of these channels.
    pub channels: Option<Vec<Channel>>,
}

impl Conditions {
    /// No condition is set.
    pub fn is_empty(&self) -> bool {
        self.recipient_domains.is_none()
            && self.recipient_has_booked_meeting.is_none()
            && self.template_tag.is_none()
            && self.amount_at_most.is_none()
            && self.channels.is_none()
    }
}

/// How many calls a policy may auto-send, counted over the hour and the day before now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct Caps {
    pub per_hour: Option<u32>,
    pub per_day: Option<u32>,
}

impl Caps {
    pub fn is_empty(&self) -> bool {
        self.per_hour.is_none() && self.per_day.is_none()
    }
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    /// The day before.
    pub fn previous(self) -> Self {
        match self {
            Self::Mon => Self::Sun,
            Self::Tue => Self::Mon,
            Self::Wed => Self::Tue,
            Self::Thu => Self::Wed,
            Self::Fri => Self::Thu,
            Self::Sat => Self::Fri,
            Self::Sun => Self::Sat,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mon => "mon",
            Self::Tue => "tue",
            Self::Wed => "wed",
            Self::Thu => "thu",
            Self::Fri => "fri",
            Self::Sat => "sat",
            Self::Sun => "sun",
        }
    }
}

/// A local time of day, written `HH:MM` (24-hour clock, `00:00` to `23:59`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(try_from = "String", into = "String")]
#[ts(type = "string")]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    /// `hour` 0–23, `minute` 0–59.
    pub fn new(hour: u16, minute: u16) -> Option<Self> {
        (hour < 24 && minute < 60).then_some(Self(hour * 60 + minute))
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "'{s}' is not a time of day: write HH:MM on a 24-hour clock, e.g. 08:30 or 17:00"
            )
        };
        let b = s.as_bytes();
        if b.len() != 5 || b[2] != b':' || ![b[0], b[1], b[3], b[4]].iter().all(u8::is_ascii_digit)
        {
            return Err(bad());
        }
        let digit = |i: usize| u16::from(b[i] - b'0');
        Self::new(digit(0) * 10 + digit(1), digit(3) * 10 + digit(4)).ok_or_else(bad)
    }

    /// Minutes since midnight.
    pub fn minute_of_day(self) -> u16 {
        self.0
    }
}

impl TryFrom<String> for TimeOfDay {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<TimeOfDay> for String {
    fn from(t: TimeOfDay) -> String {
        t.to_string()
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// When a policy is active, in the user's local time: on the listed days from `start`
/// (inclusive) to `end` (exclusive). When `end` is not after `start` the window runs past
/// midnight into the next day, and belongs to the day it starts on: `days = ["fri"]`,
/// `22:00`–`06:00` is Friday 22:00 to Saturday 06:00; `09:00`–`00:00` runs to midnight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ActiveWindow {
    pub days: Vec<Weekday>,
    pub start: TimeOfDay,
    pub end: TimeOfDay,
}

impl ActiveWindow {
    /// Whether the window is open at `at`. A window whose start equals its end is never open.
    pub fn contains(&self, at: LocalTime) -> bool {
        let (start, end, t) = (self.start.0, self.end.0, at.minute_of_day);
        if start < end {
            self.days.contains(&at.weekday) && start <= t && t < end
        } else if start > end {
            (self.days.contains(&at.weekday) && t >= start)
                || (self.days.contains(&at.weekday.previous()) && t < end)
        } else {
            false
        }
    }
}

/// How often one policy auto-sent recently, counted by the caller from its records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct PolicyUsage {
    /// Calls it allowed in the 60 minutes before now.
    pub last_hour: u32,
    /// Calls it allowed in the 24 hours before now.
    pub last_day: u32,
}

/// Recent use of each policy, by policy id. A policy missing here has unknown usage and does not
/// match: the caller supplies a zero count for a policy that has not sent yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Usage(pub BTreeMap<String, PolicyUsage>);

impl Usage {
    pub fn get(&self, policy_id: &str) -> Option<PolicyUsage> {
        self.0.get(policy_id).copied()
    }

    pub fn set(&mut self, policy_id: impl Into<String>, usage: PolicyUsage) {
        self.0.insert(policy_id.into(), usage);
    }
}

/// Why a policy did not allow a call, in words a person reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Miss(pub String);

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn miss<T>(msg: impl Into<String>) -> Result<T, Miss> {
    Err(Miss(msg.into()))
}

impl Policy {
    /// Whether this policy is for the request's agent and names its tool.
    pub fn applies_to(&self, req: &Request) -> bool {
        self.agent == req.agent && self.actions.contains(&req.tool)
    }

    /// Whether this policy lets `req` go without a person. Grants and the pause switch are
    /// checked before this; this only says whether the policy itself matches.
    pub fn check(&self, req: &Request, usage: &Usage) -> Result<(), Miss> {
        if !self.enabled {
            return miss("it is disabled");
        }
        if !self.applies_to(req) {
            return miss(format!(
                "it does not cover '{}' for agent '{}'",
                req.tool, req.agent
            ));
        }
        if req.is_destructive() {
            return miss("destructive actions always wait for a person");
        }
        if self.conditions.is_empty() {
            return miss("it has no condition, so it allows nothing");
        }
        if self.caps.is_empty() {
            return miss("it has no cap, so it allows nothing");
        }
        self.check_conditions(req)?;
        self.check_window(req)?;
        self.check_caps(usage)
    }

    fn check_conditions(&self, req: &Request) -> Result<(), Miss> {
        let c = &self.conditions;
        let f = &req.facts;
        if let Some(domains) = &c.recipient_domains {
            let Some(recipients) = &f.recipients else {
                return miss("the recipients are not known");
            };
            if recipients.is_empty() {
                return miss("the call has no recipients");
            }
            if let Some(outside) = recipients.iter().find(|r| !domains.contains(r.domain())) {
                return miss(format!("recipient {outside} is not in an allowed domain"));
            }
        }
        if let Some(required) = c.recipient_has_booked_meeting {
            if !required {
                return miss(
                    "recipient_has_booked_meeting = false is not a condition Switchboard accepts",
                );
            }
            match f.recipient_has_booked_meeting {
                Some(true) => {}
                Some(false) => return miss("a recipient has no booked meeting"),
                None => return miss("whether the recipients have a booked meeting is not known"),
            }
        }
        if let Some(tag) = &c.template_tag {
            match &f.template_tag {
                Some(t) if t == tag => {}
                Some(t) => return miss(format!("the message uses template '{t}', not '{tag}'")),
                None => return miss("the message's template is not known"),
            }
        }
        if let Some(max) = &c.amount_at_most {
            match &f.amount {
                None => return miss("the amount is not known"),
                Some(a) if a.currency != max.currency => {
                    return miss(format!(
                        "the amount is in {}, the policy's limit in {}",
                        a.currency, max.currency
                    ));
                }
                Some(a) if a.minor_units < 0 => return miss("the amount is negative"),
                Some(a) if a.minor_units > max.minor_units => {
                    return miss(format!(
                        "the amount {} is over the limit {}",
                        a.minor_units, max.minor_units
                    ));
                }
                Some(_) => {}
            }
        }
        if let Some(channels) = &c.channels {
            match &f.channel {
                Some(ch) if channels.contains(ch) => {}
                Some(ch) => return miss(format!("channel {ch} is not an allowed channel")),
                None => return miss("the channel is not known"),
            }
        }
        Ok(())
    }

    fn check_window(&self, req: &Request) -> Result<(), Miss> {
        let Some(w) = &self.window else { return Ok(()) };
        match req.now.local() {
            None => miss("the local time is not known"),
            Some(t) if w.contains(t) => Ok(()),
            Some(_) => miss(format!(
                "it is active {}–{} on {} only",
                w.start,
                w.end,
                days_list(&w.days)
            )),
        }
    }

    fn check_caps(&self, usage: &Usage) -> Result<(), Miss> {
        let Some(u) = usage.get(&self.id) else {
            return miss("its recent use is not known");
        };
        if let Some(cap) = self.caps.per_hour
            && u.last_hour >= cap
        {
            return miss(format!("it reached its cap of {cap} per hour"));
        }
        if let Some(cap) = self.caps.per_day
            && u.last_day >= cap
        {
            return miss(format!("it reached its cap of {cap} per day"));
        }
        Ok(())
    }
}

fn days_list(days: &[Weekday]) -> String {
    if days.is_empty() {
        return "no day".into();
    }
    days.iter()
        .map(|d| d.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use switchboard_core::Tier;

    use super::*;
    use crate::facts::{EmailAddress, Facts};
    use crate::request::Now;

    // 2024-01-01 was a Monday; this is 10:00 UTC that day.
    const MON_10_00: i64 = 1_704_103_200_000;
    const MINUTE: i64 = 60_000;
    const DAY: i64 = 24 * 60 * MINUTE;

    fn send(facts: Facts) -> Request {
        Request {
            agent: "bot".into(),
            connection_id: "gmail-1".into(),
            provider: "gmail".into(),
            tool: "gmail_send_message".into(),
            tier: Tier::Write,
            outbound: true,
            destructive: false,
            paused: false,
            now: Now::utc(MON_10_00),
            facts,
        }
    }

    fn policy(conditions: Conditions) -> Policy {
        Policy {
            id: "p1".into(),
            name: "test".into(),
            agent: "bot".into(),
            actions: vec!["gmail_send_message".into()],
            conditions,
            caps: Caps {
                per_hour: Some(5),
                per_day: Some(20),
            },
            window: None,
            enabled: true,
        }
    }

    fn unused() -> Usage {
        let mut u = Usage::default();
        u.set("p1", PolicyUsage::default());
        u
    }

    fn emails(list: &[&str]) -> Option<Vec<EmailAddress>> {
        Some(
            list.iter()
                .map(|e| EmailAddress::parse(e).expect("test address"))
                .collect(),
        )
    }

    fn domains(list: &[&str]) -> Option<Vec<Domain>> {
        Some(
            list.iter()
                .map(|d| Domain::parse(d).expect("test domain"))
                .collect(),
        )
    }

    fn tag(t: &str) -> Option<TemplateTag> {
        Some(TemplateTag::parse(t).expect("test tag"))
    }

    fn at(t: i64, offset: i32) -> LocalTime {
        Now {
            utc_ms: t,
            utc_offset_minutes: offset,
        }
        .local()
        .expect("local time")
    }

    fn hm(h: u16, m: u16) -> TimeOfDay {
        TimeOfDay::new(h, m).expect("test time")
    }

    #[test]
    fn recipient_domain_allowlist_needs_every_recipient_inside_and_fails_closed() {
        let p = policy(Conditions {
            recipient_domains: domains(&["clinic.example"]),
            ..Conditions::default()
        });
        let ok = send(Facts {
            recipients: emails(&["ann@clinic.example", "bob@CLINIC.example"]),
            ..Facts::default()
        });
        assert_eq!(
            p.check(&ok, &unused()),
            Ok(()),
            "all recipients in the allowed domain should match"
        );
        let mixed = send(Facts {
            recipients: emails(&["ann@clinic.example", "eve@evil.example"]),
            ..Facts::default()
        });
        assert!(
            p.check(&mixed, &unused()).is_err(),
            "one recipient outside the allowlist must stop the auto-send"
        );
        let sub = send(Facts {
            recipients: emails(&["ann@mail.clinic.example"]),
            ..Facts::default()
        });
        assert!(
            p.check(&sub, &unused()).is_err(),
            "subdomains are not in the allowlist unless listed"
        );
        assert!(
            p.check(
                &send(Facts {
                    recipients: Some(vec![]),
                    ..Facts::default()
                }),
                &unused()
            )
            .is_err(),
            "no recipients is no match"
        );
        let unknown = p.check(&send(Facts::default()), &unused());
        assert_eq!(
            unknown,
            Err(Miss("the recipients are not known".into())),
            "unknown recipients must fail closed"
        );
        let empty_list = policy(Conditions {
            recipient_domains: Some(vec![]),
            ..Conditions::default()
        });
        assert!(
            empty_list.check(&ok, &unused()).is_err(),
            "an empty allowlist allows no one"
        );
    }

    #[test]
    fn booked_meeting_condition_needs_a_known_true() {
        let p = policy(Conditions {
            recipient_has_booked_meeting: Some(true),
            ..Conditions::default()
        });
        let with = |v| {
            send(Facts {
                recipient_has_booked_meeting: v,
                ..Facts::default()
            })
        };
        assert_eq!(p.check(&with(Some(true)), &unused()), Ok(()));
        assert!(
            p.check(&with(Some(false)), &unused()).is_err(),
            "no booked meeting must not auto-send"
        );
        assert!(
            p.check(&with(None), &unused()).is_err(),
            "an unknown meeting must fail closed"
        );
        let inverted = policy(Conditions {
            recipient_has_booked_meeting: Some(false),
            ..Conditions::default()
        });
        assert!(
            inverted.check(&with(Some(false)), &unused()).is_err(),
            "'no booked meeting' is not a rule that can allow anything"
        );
    }

    #[test]
    fn template_tag_must_be_the_named_one() {
        let p = policy(Conditions {
            template_tag: tag("survey"),
            ..Conditions::default()
        });
        let with = |t| {
            send(Facts {
                template_tag: t,
                ..Facts::default()
            })
        };
        assert_eq!(p.check(&with(tag("survey")), &unused()), Ok(()));
        assert!(
            p.check(&with(tag("promo")), &unused()).is_err(),
            "another template must not match"
        );
        assert!(
            p.check(&with(None), &unused()).is_err(),
            "an untagged message must fail closed"
        );
    }

    #[test]
    fn amount_at_most_compares_in_one_currency_and_fails_closed() {
        let p = policy(Conditions {
            amount_at_most: Some(Money::new(50_000, "USD").expect("money")),
            ..Conditions::default()
        });
        let with = |minor, cur: &str| {
            send(Facts {
                amount: Some(Money::new(minor, cur).expect("money")),
                ..Facts::default()
            })
        };
        assert_eq!(
            p.check(&with(50_000, "usd"), &unused()),
            Ok(()),
            "the limit itself is allowed"
        );
        assert_eq!(p.check(&with(0, "USD"), &unused()), Ok(()));
        assert!(
            p.check(&with(50_001, "USD"), &unused()).is_err(),
            "one cent over the limit must queue"
        );
        assert!(
            p.check(&with(100, "EUR"), &unused()).is_err(),
            "another currency is not comparable and must queue"
        );
        assert!(
            p.check(&with(-1, "USD"), &unused()).is_err(),
            "a negative amount is not an invoice and must queue"
        );
        assert!(
            p.check(&send(Facts::default()), &unused()).is_err(),
            "an unknown amount must fail closed"
        );
    }

    #[test]
    fn channel_allowlist_needs_a_known_listed_channel() {
        let p = policy(Conditions {
            channels: Some(vec![Channel::parse("C01").expect("channel")]),
            ..Conditions::default()
        });
        let with = |c: Option<&str>| {
            send(Facts {
                channel: c.map(|c| Channel::parse(c).expect("channel")),
                ..Facts::default()
            })
        };
        assert_eq!(p.check(&with(Some("C01")), &unused()), Ok(()));
        assert!(
            p.check(&with(Some("C02")), &unused()).is_err(),
            "another channel must not match"
        );
        assert!(
            p.check(&with(Some("c01")), &unused()).is_err(),
            "channel ids compare exactly"
        );
        assert!(
            p.check(&with(None), &unused()).is_err(),
            "an unknown channel must fail closed"
        );
    }

    #[test]
    fn every_set_condition_must_hold() {
        let p = policy(Conditions {
            template_tag: tag("appointment-confirmation"),
            recipient_has_booked_meeting: Some(true),
            ..Conditions::default()
        });
        let both = send(Facts {
            template_tag: tag("appointment-confirmation"),
            recipient_has_booked_meeting: Some(true),
            ..Facts::default()
        });
        assert_eq!(p.check(&both, &unused()), Ok(()));
        let one = send(Facts {
            template_tag: tag("appointment-confirmation"),
            ..Facts::default()
        });
        assert!(
            p.check(&one, &unused()).is_err(),
            "one condition holding is not enough"
        );
    }

    #[test]
    fn policies_without_conditions_or_caps_allow_nothing() {
        let facts = Facts {
            template_tag: tag("survey"),
            ..Facts::default()
        };
        let bare = policy(Conditions::default());
        assert!(
            bare.check(&send(facts.clone()), &unused()).is_err(),
            "a policy with no condition must not act as a blanket allow"
        );
        let mut uncapped = policy(Conditions {
            template_tag: tag("survey"),
            ..Conditions::default()
        });
        uncapped.caps = Caps::default();
        assert!(
            uncapped.check(&send(facts), &unused()).is_err(),
            "a policy with no cap must not allow unbounded sends"
        );
    }

    #[test]
    fn disabled_other_agent_other_tool_and_destructive_do_not_match() {
        let p = policy(Conditions {
            template_tag: tag("survey"),
            ..Conditions::default()
        });
        let req = send(Facts {
            template_tag: tag("survey"),
            ..Facts::default()
        });
        assert_eq!(p.check(&req, &unused()), Ok(()));
        let mut off = p.clone();
        off.enabled = false;
        assert!(
            off.check(&req, &unused()).is_err(),
            "a disabled policy must allow nothing"
        );
        assert!(
            p.check(
                &Request {
                    agent: "other".into(),
                    ..req.clone()
                },
                &unused()
            )
            .is_err(),
            "a policy is for one agent"
        );
        assert!(
            p.check(
                &Request {
                    tool: "gmail_send_draft".into(),
                    ..req.clone()
                },
                &unused()
            )
            .is_err(),
            "a policy covers only its tools"
        );
        assert!(
            p.check(
                &Request {
                    destructive: true,
                    ..req.clone()
                },
                &unused()
            )
            .is_err(),
            "destructive calls never auto-send"
        );
        assert!(
            p.check(
                &Request {
                    tier: Tier::Delete,
                    ..req
                },
                &unused()
            )
            .is_err(),
            "delete-tier calls never auto-send"
        );
    }

    #[test]
    fn caps_count_the_last_hour_and_day_and_unknown_usage_fails_closed() {
        let p = policy(Conditions {
            template_tag: tag("survey"),
            ..Conditions::default()
        });
        let req = send(Facts {
            template_tag: tag("survey"),
            ..Facts::default()
        });
        let used = |h, d| {
            let mut u = Usage::default();
            u.set(
                "p1",
                PolicyUsage {
                    last_hour: h,
                    last_day: d,
                },
            );
            u
        };
        assert_eq!(
            p.check(&req, &used(4, 19)),
            Ok(()),
            "one below each cap is allowed"
        );
        assert_eq!(
            p.check(&req, &used(5, 5)),
            Err(Miss("it reached its cap of 5 per hour".into()))
        );
        assert_eq!(
            p.check(&req, &used(0, 20)),
            Err(Miss("it reached its cap of 20 per day".into()))
        );
        assert!(
            p.check(&req, &Usage::default()).is_err(),
            "usage the caller did not supply must fail closed"
        );
        let mut zero = p.clone();
        zero.caps = Caps {
            per_hour: Some(0),
            per_day: None,
        };
        assert!(
            zero.check(&req, &used(0, 0)).is_err(),
            "a cap of zero allows nothing"
        );
    }

    #[test]
    fn window_on_one_day_is_start_inclusive_end_exclusive() {
        let w = ActiveWindow {
            days: vec![Weekday::Mon],
            start: hm(9, 0),
            end: hm(17, 0),
        };
        assert!(
            !w.contains(at(MON_10_00 - 61 * MINUTE, 0)),
            "08:59 is before the window"
        );
        assert!(
            w.contains(at(MON_10_00 - 60 * MINUTE, 0)),
            "09:00 opens the window"
        );
        assert!(
            w.contains(at(MON_10_00 + 7 * 60 * MINUTE - MINUTE, 0)),
            "16:59 is inside"
        );
        assert!(
            !w.contains(at(MON_10_00 + 7 * 60 * MINUTE, 0)),
            "17:00 closes the window"
        );
        assert!(
            !w.contains(at(MON_10_00 + DAY, 0)),
            "Tuesday is not a listed day"
        );
        assert!(
            !w.contains(at(MON_10_00, 600)),
            "10:00 UTC is 20:00 at UTC+10, after the window"
        );
        assert!(
            w.contains(at(MON_10_00, -60)),
            "10:00 UTC is 09:00 at UTC-1, inside"
        );
    }

    #[test]
    fn window_across_midnight_belongs_to_its_start_day() {
        let w = ActiveWindow {
            days: vec![Weekday::Fri],
            start: hm(22, 0),
            end: hm(6, 0),
        };
        let fri_00_00 = MON_10_00 - 10 * 60 * MINUTE + 4 * DAY;
        assert!(
            !w.contains(at(fri_00_00 + 21 * 60 * MINUTE, 0)),
            "Friday 21:00 is before the window"
        );
        assert!(
            w.contains(at(fri_00_00 + 22 * 60 * MINUTE, 0)),
            "Friday 22:00 opens it"
        );
        assert!(
            w.contains(at(fri_00_00 + DAY + 5 * 60 * MINUTE + 59 * MINUTE, 0)),
            "Saturday 05:59 is still inside"
        );
        assert!(
            !w.contains(at(fri_00_00 + DAY + 6 * 60 * MINUTE, 0)),
            "Saturday 06:00 closes it"
        );
        assert!(
            !w.contains(at(fri_00_00 + 3 * 60 * MINUTE, 0)),
            "Friday 03:00 belongs to Thursday's night, which is not listed"
        );
        assert!(
            !w.contains(at(fri_00_00 + DAY + 22 * 60 * MINUTE, 0)),
            "Saturday 22:00 is not listed"
        );
        let to_midnight = ActiveWindow {
            days: vec![Weekday::Mon],
            start: hm(9, 0),
            end: hm(0, 0),
        };
        assert!(
            to_midnight.contains(at(MON_10_00 + 13 * 60 * MINUTE + 59 * MINUTE, 0)),
            "23:59 is inside a window ending at midnight"
        );
        assert!(
            !to_midnight.contains(at(MON_10_00 + 14 * 60 * MINUTE, 0)),
            "midnight ends it"
        );
        let sunday_night = ActiveWindow {
            days: vec![Weekday::Sun],
            start: hm(23, 0),
            end: hm(1, 0),
        };
        assert!(
            sunday_night.contains(at(MON_10_00 - 10 * 60 * MINUTE + 30 * MINUTE, 0)),
            "Monday 00:30 belongs to Sunday's night"
        );
        let empty = ActiveWindow {
            days: vec![Weekday::Mon],
            start: hm(9, 0),
            end: hm(9, 0),
        };
        assert!(
            !empty.contains(at(MON_10_00 - 60 * MINUTE, 0)),
            "a window with equal ends is never open"
        );
    }

    #[test]
    fn window_check_on_a_policy_fails_closed_without_local_time() {
        let mut p = policy(Conditions {
            template_tag: tag("survey"),
            ..Conditions::default()
        });
        p.window = Some(ActiveWindow {
            days: vec![Weekday::Mon],
            start: hm(9, 0),
            end: hm(17, 0),
        });
        let req = send(Facts {
            template_tag: tag("survey"),
            ..Facts::default()
        });
        assert_eq!(
            p.check(&req, &unused()),
            Ok(()),
            "Monday 10:00 UTC is inside"
        );
        let unknown = Request {
            now: Now {
                utc_ms: MON_10_00,
                utc_offset_minutes: 100_000,
            },
            ..req.clone()
        };
        assert!(
            p.check(&unknown, &unused()).is_err(),
            "an impossible offset must fail closed"
        );
        let late = Request {
            now: Now::utc(MON_10_00 + 8 * 60 * MINUTE),
            ..req
        };
        assert!(
            p.check(&late, &unused()).is_err(),
            "18:00 is outside the window"
        );
    }

    #[test]
    fn time_of_day_parses_hh_mm_only() {
        assert_eq!(
            TimeOfDay::parse("07:05").map(TimeOfDay::minute_of_day),
            Ok(425)
        );
        assert_eq!(
            TimeOfDay::parse("23:59").map(|t| t.to_string()),
            Ok("23:59".to_string())
        );
        for bad in ["24:00", "7:05", "07:60", "0705", "07:05:00", "ab:cd", ""] {
            assert!(
                TimeOfDay::parse(bad).is_err(),
                "'{bad}' must be refused as a time of day"
            );
        }
    }
}
