//! Property tests of `decide`: for any request, grants, policies and usage drawn from small
//! vocabularies (so that names collide often), the safety rules hold. The oracles below are
//! written independently of the crate's own matching code: grants, conditions, caps and the
//! local-time window (plain epoch arithmetic instead of the `time` crate).

use proptest::prelude::*;
use switchboard_core::{ErrorCode, Tier};
use switchboard_policy::{
    ActiveWindow, Caps, Channel, Conditions, Domain, EmailAddress, Facts, Grant, Money, Now,
    Policy, PolicyUsage, Request, TemplateTag, TimeOfDay, Usage, Verdict, Weekday, decide,
};

const AGENTS: &[&str] = &["ann", "bot"];
const CONNECTIONS: &[&str] = &["c1", "c2"];
const TOOLS: &[&str] = &[
    "gmail_send_message",
    "gmail_search_messages",
    "slack_delete_message",
    "stripe_refund",
];
const POLICY_IDS: &[&str] = &["p1", "p2", "p3"];
const DOMAINS: &[&str] = &["a.example", "b.example"];
const TAGS: &[&str] = &["survey", "appointment-confirmation", "promo"];
const CHANNELS: &[&str] = &["C1", "C2"];
const CURRENCIES: &[&str] = &["USD", "EUR"];
const DAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// 2024-01-01T00:00:00Z, a Monday.
const BASE_MS: i64 = 1_704_067_200_000;
const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;

fn pick(list: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(list).prop_map(str::to_string)
}

fn tier() -> impl Strategy<Value = Tier> {
    prop_oneof![Just(Tier::Read), Just(Tier::Write), Just(Tier::Delete)]
}

fn now() -> impl Strategy<Value = Now> {
    // Two weeks of minutes (and some sub-minute jitter), offsets including impossible ones.
    (0..14 * DAY_MS, prop_oneof![4 => -14 * 60..=14 * 60i32, 1 => prop_oneof![Just(-1600), Just(1600), Just(i32::MAX)]])
        .prop_map(|(t, off)| Now { utc_ms: BASE_MS + t, utc_offset_minutes: off })
}

fn email() -> impl Strategy<Value = EmailAddress> {
    (
        prop::sample::select(&["x", "y"][..]),
        prop::sample::select(DOMAINS),
    )
        .prop_map(|(l, d)| EmailAddress::parse(&format!("{l}@{d}")).expect("generated address"))
}

fn money() -> impl Strategy<Value = Money> {
    (-10..1_000i64, prop::sample::select(CURRENCIES))
        .prop_map(|(m, c)| Money::new(m, c).expect("generated money"))
}

fn tag() -> impl Strategy<Value = TemplateTag> {
    prop::sample::select(TAGS).prop_map(|t| TemplateTag::parse(t).expect("generated tag"))
}

fn channel() -> impl Strategy<Value = Channel> {
    prop::sample::select(CHANNELS).prop_map(|c| Channel::parse(c).expect("generated channel"))
}

fn facts() -> impl Strategy<Value = Facts> {
    (
        prop::option::of(prop::collection::vec(email(), 0..3)),
        prop::option::of(any::<bool>()),
        prop::option::of(channel()),
        prop::option::of(money()),
        prop::option::of(tag()),
    )
        .prop_map(
            |(recipients, booked, channel, amount, template_tag)| Facts {
                recipients,
                recipient_has_booked_meeting: booked,
                channel,
                amount,
                template_tag,
            },
        )
}

fn request() -> impl Strategy<Value = Request> {
    (
        pick(AGENTS),
        pick(CONNECTIONS),
        pick(TOOLS),
        tier(),
        any::<bool>(),
        any::<bool>(),
        prop::bool::weighted(0.15),
        now(),
        facts(),
    )
        .prop_map(
            |(agent, connection_id, tool, tier, outbound, destructive, paused, now, facts)| {
                Request {
                    agent,
                    connection_id,
                    provider: "gmail".into(),
                    tool,
                    tier,
                    outbound,
                    destructive,
                    paused,
                    now,
                    facts,
                }
            },
        )
}

/// A grant whose expiry is given relative to the request's `now` (so the boundary is hit).
fn grant_parts() -> impl Strategy<Value = (Grant, Option<i64>)> {
    (
        pick(AGENTS),
        pick(CONNECTIONS),
        tier(),
        prop::option::of(prop::collection::vec(pick(TOOLS), 0..3)),
        prop::option::of(-2..=2i64),
    )
        .prop_map(|(agent, connection_id, tier, actions, delta)| {
            (
                Grant {
                    agent,
                    connection_id,
                    tier,
                    actions,
                    expires_at_ms: None,
                },
                delta,
            )
        })
}

fn with_expiries(parts: Vec<(Grant, Option<i64>)>, now_ms: i64) -> Vec<Grant> {
    parts
        .into_iter()
        .map(|(g, d)| Grant {
            expires_at_ms: d.map(|d| now_ms + d),
            ..g
        })
        .collect()
}

fn time_of_day() -> impl Strategy<Value = TimeOfDay> {
    (0..24u16, prop_oneof![Just(0u16), Just(30), 0..60u16])
        .prop_map(|(h, m)| TimeOfDay::new(h, m).expect("generated time"))
}

fn window() -> impl Strategy<Value = ActiveWindow> {
    (
        prop::sample::subsequence(DAYS.to_vec(), 0..=7),
        time_of_day(),
        time_of_day(),
    )
        .prop_map(|(days, start, end)| ActiveWindow { days, start, end })
}

fn conditions() -> impl Strategy<Value = Conditions> {
    (
        prop::option::of(prop::collection::vec(
            prop::sample::select(DOMAINS).prop_map(|d| Domain::parse(d).expect("domain")),
            0..3,
        )),
        prop::option::of(any::<bool>()),
        prop::option::of(tag()),
        prop::option::of(money()),
        prop::option::of(prop::collection::vec(channel(), 0..3)),
    )
        .prop_map(
            |(recipient_domains, booked, template_tag, amount_at_most, channels)| Conditions {
                recipient_domains,
                recipient_has_booked_meeting: booked,
                template_tag,
                amount_at_most,
                channels,
            },
        )
}

/// Any policy, valid or not: `decide` must be safe even with rules that bypassed validation.
fn policy() -> impl Strategy<Value = Policy> {
    (
        pick(POLICY_IDS),
        pick(AGENTS),
        prop::collection::vec(pick(TOOLS), 0..3),
        conditions(),
        (prop::option::of(0..4u32), prop::option::of(0..6u32)),
        prop::option::of(window()),
        prop::bool::weighted(0.8),
    )
        .prop_map(
            |(id, agent, actions, conditions, (per_hour, per_day), window, enabled)| Policy {
                name: format!("policy {id}"),
                id,
                agent,
                actions,
                conditions,
                caps: Caps { per_hour, per_day },
                window,
                enabled,
            },
        )
}

fn usage() -> impl Strategy<Value = Usage> {
    prop::collection::vec(prop::option::of((0..5u32, 0..7u32)), POLICY_IDS.len()).prop_map(
        |counts| {
            let mut u = Usage::default();
            for (id, c) in POLICY_IDS.iter().zip(counts) {
                if let Some((h, d)) = c {
                    u.set(
                        *id,
                        PolicyUsage {
                            last_hour: h,
                            last_day: d.max(h),
                        },
                    );
                }
            }
            u
        },
    )
}

/// Everything `decide` reads, with grants' expiries resolved against the request's `now`.
fn case() -> impl Strategy<Value = (Request, Vec<Grant>, Vec<Policy>, Usage)> {
    (
        request(),
        prop::collection::vec(grant_parts(), 0..5),
        prop::collection::vec(policy(), 0..4),
        usage(),
    )
        .prop_map(|(r, g, p, u)| {
            let grants = with_expiries(g, r.now.utc_ms);
            (r, grants, p, u)
        })
}

/// A policy built to match `r` except where chance says otherwise: for its agent and tool, its
/// conditions mostly taken from facts the call carries (sometimes set blind, so they miss), an
/// amount limit a little above or below the amount, caps of at least one, sometimes a window.
fn aimed_at(r: &Request) -> impl Strategy<Value = Policy> + use<> {
    let (agent, tool, f) = (r.agent.clone(), r.tool.clone(), r.facts.clone());
    (
        pick(POLICY_IDS),
        any::<[bool; 5]>(),
        prop::bool::weighted(0.15),
        prop_oneof![3 => 0..3i64, 1 => -2..0i64],
        (prop::option::of(1..4u32), prop::option::of(1..6u32)),
        prop::option::weighted(0.3, window()),
        prop::bool::weighted(0.9),
    )
        .prop_map(
            move |(id, want, blind, slack, (per_hour, per_day), window, enabled)| {
                let known = [
                    f.recipients.as_ref().is_some_and(|r| !r.is_empty()),
                    f.recipient_has_booked_meeting == Some(true),
                    f.template_tag.is_some(),
                    f.amount.is_some(),
                    f.channel.is_some(),
                ];
                let set = |i: usize| want[i] && (known[i] || blind);
                let conditions = Conditions {
                    recipient_domains: set(0).then(|| match &f.recipients {
                        Some(rs) if !rs.is_empty() => {
                            rs.iter().map(|e| e.domain().clone()).collect()
                        }
                        _ => vec![Domain::parse(DOMAINS[0]).expect("domain")],
                    }),
                    recipient_has_booked_meeting: set(1).then_some(true),
                    template_tag: set(2).then(|| {
                        f.template_tag
                            .clone()
                            .unwrap_or_else(|| TemplateTag::parse(TAGS[0]).expect("tag"))
                    }),
                    amount_at_most: set(3).then(|| match &f.amount {
                        Some(a) => Money {
                            minor_units: a.minor_units + slack,
                            ..a.clone()
                        },
                        None => Money::new(100, "USD").expect("money"),
                    }),
                    channels: set(4).then(|| {
                        vec![
                            f.channel
                                .clone()
                                .unwrap_or_else(|| Channel::parse(CHANNELS[0]).expect("channel")),
                        ]
                    }),
                };
                Policy {
                    name: format!("aimed {id}"),
                    id,
                    agent: agent.clone(),
                    actions: vec![tool.clone()],
                    conditions,
                    caps: Caps { per_hour, per_day },
                    window,
                    enabled,
                }
            },
        )
}

/// Cases where some policies are aimed at the request, and their usage is mostly known and
/// low, so that auto-sends happen often.
fn aimed_case() -> impl Strategy<Value = (Request, Vec<Grant>, Vec<Policy>, Usage)> {
    request().prop_flat_map(|r| {
        let policies = (
            prop::collection::vec(aimed_at(&r), 1..3),
            prop::collection::vec(policy(), 0..2),
        )
            .prop_map(|(a, b)| [a, b].concat());
        let fresh = prop::collection::vec(prop::bool::weighted(0.8), POLICY_IDS.len());
        (
            Just(r),
            prop::collection::vec(grant_parts(), 0..5),
            policies,
            usage(),
            fresh,
        )
            .prop_map(|(r, g, p, mut u, fresh)| {
                for (id, f) in POLICY_IDS.iter().zip(fresh) {
                    if f {
                        u.set(*id, PolicyUsage::default());
                    }
                }
                let grants = with_expiries(g, r.now.utc_ms);
                (r, grants, p, u)
            })
    })
}

/// Random and aimed cases, half each.
fn any_case() -> impl Strategy<Value = (Request, Vec<Grant>, Vec<Policy>, Usage)> {
    prop_oneof![case(), aimed_case()]
}

/// Cases with the pause switch off.
fn granted(
    cases: impl Strategy<Value = (Request, Vec<Grant>, Vec<Policy>, Usage)>,
) -> impl Strategy<Value = (Request, Vec<Grant>, Vec<Policy>, Usage)> {
    cases.prop_map(|(r, g, p, u)| (Request { paused: false, ..r }, g, p, u))
}

/// A grant that allows exactly `r`: its tier on its connection, narrowed to its tool, expiring
/// one millisecond from now.
fn exact_grant(r: &Request) -> Grant {
    Grant {
        agent: r.agent.clone(),
        connection_id: r.connection_id.clone(),
        tier: r.tier,
        actions: Some(vec![r.tool.clone()]),
        expires_at_ms: Some(r.now.utc_ms + 1),
    }
}

// ---- independent oracles ----

fn holds_grant(r: &Request, grants: &[Grant]) -> bool {
    grants.iter().any(|g| {
        g.agent == r.agent
            && g.connection_id == r.connection_id
            && g.tier == r.tier
            && g.expires_at_ms.is_none_or(|e| r.now.utc_ms < e)
            && g.actions.as_ref().is_none_or(|a| a.contains(&r.tool))
    })
}

/// (weekday index, Monday = 0; minute of day) by epoch arithmetic; `None` past ±25:59.
fn local(now: Now) -> Option<(usize, i64)> {
    if now.utc_offset_minutes.abs() > 25 * 60 + 59 {
        return None;
    }
    let t = now.utc_ms + i64::from(now.utc_offset_minutes) * MINUTE_MS;
    // 1970-01-01 was a Thursday (index 3).
    let weekday = usize::try_from((t.div_euclid(DAY_MS) + 3).rem_euclid(7)).expect("0..7");
    Some((weekday, t.rem_euclid(DAY_MS) / MINUTE_MS))
}

fn window_open(w: &ActiveWindow, now: Now) -> bool {
    let Some((day, minute)) = local(now) else {
        return false;
    };
    let listed = |d: usize| w.days.contains(&DAYS[d]);
    let (s, e) = (
        i64::from(w.start.minute_of_day()),
        i64::from(w.end.minute_of_day()),
    );
    let yesterday = (day + 6) % 7;
    if s < e {
        listed(day) && s <= minute && minute < e
    } else if s > e {
        (listed(day) && minute >= s) || (listed(yesterday) && minute < e)
    } else {
        false
    }
}

fn conditions_hold(c: &Conditions, f: &Facts) -> bool {
    let domains = c.recipient_domains.as_ref().is_none_or(|allowed| {
        f.recipients.as_ref().is_some_and(|rs| {
            !rs.is_empty() && rs.iter().all(|r| allowed.iter().any(|d| d == r.domain()))
        })
    });
    let booked = c
        .recipient_has_booked_meeting
        .is_none_or(|want| want && f.recipient_has_booked_meeting == Some(true));
    let tag = c
        .template_tag
        .as_ref()
        .is_none_or(|t| f.template_tag.as_ref() == Some(t));
    let amount = c.amount_at_most.as_ref().is_none_or(|max| {
        f.amount.as_ref().is_some_and(|a| {
            a.currency == max.currency && 0 <= a.minor_units && a.minor_units <= max.minor_units
        })
    });
    let channel = c
        .channels
        .as_ref()
        .is_none_or(|cs| f.channel.as_ref().is_some_and(|ch| cs.contains(ch)));
    domains && booked && tag && amount && channel
}

fn has_condition(c: &Conditions) -> bool {
    c.recipient_domains.is_some()
        || c.recipient_has_booked_meeting.is_some()
        || c.template_tag.is_some()
        || c.amount_at_most.is_some()
        || c.channels.is_some()
}

/// Whether `p` may let `r` go without a person, by the rules as a person states them.
fn policy_may_send(p: &Policy, r: &Request, usage: &Usage) -> bool {
    let under_caps = usage.get(&p.id).is_some_and(|u| {
        (p.caps.per_hour.is_some() || p.caps.per_day.is_some())
            && p.caps.per_hour.is_none_or(|c| u.last_hour < c)
            && p.caps.per_day.is_none_or(|c| u.last_day < c)
    });
    p.enabled
        && p.agent == r.agent
        && p.actions.contains(&r.tool)
        && has_condition(&p.conditions)
        && conditions_hold(&p.conditions, &r.facts)
        && p.window.as_ref().is_none_or(|w| window_open(w, r.now))
        && under_caps
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    /// Deny overrides: paused or without a grant, no policy can make a call run or queue.
    #[test]
    fn paused_or_ungranted_calls_are_always_denied((r, grants, policies, usage) in any_case()) {
        let d = decide(&r, &grants, &policies, &usage);
        if r.paused {
            prop_assert_eq!(d.verdict, Verdict::Deny, "a paused gateway must refuse every call: {:?}", d);
            prop_assert_eq!(d.rule.as_str(), "deny:paused");
            prop_assert_eq!(d.error_code, Some(ErrorCode::Paused));
        } else if !holds_grant(&r, &grants) {
            prop_assert_eq!(d.verdict, Verdict::Deny, "a call without an unexpired grant of its tier must be refused: {:?}", d);
            prop_assert_eq!(d.error_code, Some(ErrorCode::NotGranted));
            let needed = d.needed_grant.expect("a denial for lack of a grant names the grant that would allow it");
            prop_assert_eq!((needed.agent, needed.connection_id, needed.tier, needed.tool), (r.agent.clone(), r.connection_id.clone(), r.tier, r.tool.clone()));
        } else {
            prop_assert_ne!(d.verdict, Verdict::Deny, "a granted call while running must not be refused: {:?}", d);
        }
    }

    /// No tier implies another: grants of other tiers allow nothing, whatever the policies say.
    #[test]
    fn no_tier_implies_another((r, grants, policies, usage) in any_case(), shift in 1..=2usize) {
        let tiers = [Tier::Read, Tier::Write, Tier::Delete];
        let own = tiers.iter().position(|t| *t == r.tier).expect("a tier");
        let held = tiers[(own + shift) % 3];
        let grants: Vec<Grant> = grants.into_iter().map(|g| Grant { tier: held, ..g }).collect();
        let d = decide(&r, &grants, &policies, &usage);
        prop_assert_eq!(d.verdict, Verdict::Deny, "{} grants must not allow a {} call: {:?}", held.as_str(), r.tier.as_str(), d);
    }

    /// An outbound or destructive call runs only by an enabled policy that covers it, inside its
    /// window, under its caps, with every (and at least one) condition holding; destructive
    /// calls never run without a person.
    #[test]
    fn outbound_runs_only_by_a_matching_policy((r, grants, policies, usage) in any_case()) {
        let d = decide(&r, &grants, &policies, &usage);
        let destructive = r.destructive || r.tier == Tier::Delete;
        if d.verdict != Verdict::Allow || !(r.outbound || destructive) {
            return Ok(());
        }
        prop_assert!(!destructive, "a destructive call must never run without a person: {:?}", d);
        let id = d.policy_id().expect("an allowed outbound call names the policy that allowed it");
        let p = policies.iter().find(|p| p.id == id && policy_may_send(p, &r, &usage));
        prop_assert!(p.is_some(), "policy '{}' allowed an outbound call it does not match: {:?} {:?}", id, r, policies);
    }

    /// The converse: when a policy may send a granted outbound call, the call is not queued.
    #[test]
    fn a_matching_policy_is_not_ignored((r, grants, policies, usage) in granted(any_case())) {
        let r = Request { outbound: true, destructive: false, tier: Tier::Write, ..r };
        let grants = [grants, vec![exact_grant(&r)]].concat();
        let d = decide(&r, &grants, &policies, &usage);
        let expected = if policies.iter().any(|p| policy_may_send(p, &r, &usage)) { Verdict::Allow } else { Verdict::Queue };
        prop_assert_eq!(d.verdict, expected, "{:?}", d);
    }

    /// Reads and quiet writes run on their grant alone, named as the rule.
    #[test]
    fn quiet_granted_calls_run_on_the_grant((r, grants, policies, usage) in granted(any_case()), write in any::<bool>()) {
        let r = Request { outbound: false, destructive: false, tier: if write { Tier::Write } else { Tier::Read }, ..r };
        let grants = [grants, vec![exact_grant(&r)]].concat();
        let d = decide(&r, &grants, &policies, &usage);
        prop_assert_eq!(d.verdict, Verdict::Allow, "{:?}", d);
        prop_assert_eq!(d.rule, format!("grant:{}:{}", r.tier.as_str(), r.connection_id));
    }

    /// With no facts known, every condition fails closed, so nothing outbound runs alone.
    #[test]
    fn unknown_facts_never_auto_send((r, grants, policies, usage) in any_case()) {
        let r = Request { facts: Facts::default(), ..r };
        let d = decide(&r, &grants, &policies, &usage);
        if r.outbound || r.destructive || r.tier == Tier::Delete {
            prop_assert_ne!(d.verdict, Verdict::Allow, "an outbound call with no known facts must not auto-send: {:?}", d);
        }
    }

    /// Disabled policies change nothing.
    #[test]
    fn disabled_policies_change_nothing((r, grants, policies, usage) in any_case()) {
        let enabled: Vec<Policy> = policies.iter().filter(|p| p.enabled).cloned().collect();
        let (all, only_enabled) = (decide(&r, &grants, &policies, &usage), decide(&r, &grants, &enabled, &usage));
        prop_assert_eq!((all.verdict, all.rule), (only_enabled.verdict, only_enabled.rule), "a disabled policy must not change a decision");
    }
}
