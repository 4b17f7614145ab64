//! The inputs of a decision besides policies: the call being asked for ([`Request`]), the time
//! it is asked at ([`Now`]) and the grants the agent holds ([`Grant`]).

use serde::{Deserialize, Serialize};
use switchboard_core::Tier;

use crate::facts::Facts;
use crate::policy::Weekday;

/// The moment of a call: UTC milliseconds since the Unix epoch and the user's UTC offset at that
/// moment (the caller resolves the time zone, daylight saving included). Active windows are read
/// in the user's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Now {
    pub utc_ms: i64,
    /// Minutes east of UTC (`120` for UTC+2, `-300` for UTC-5); within ±25:59.
    pub utc_offset_minutes: i32,
}

/// A local day of the week and minute of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    pub weekday: Weekday,
    /// 0 (00:00) to 1439 (23:59).
    pub minute_of_day: u16,
}

impl Now {
    /// UTC, for callers (and tests) that have no time zone.
    pub fn utc(utc_ms: i64) -> Self {
        Self {
            utc_ms,
            utc_offset_minutes: 0,
        }
    }

    /// The user's local weekday and time, or `None` when the instant or the offset is out of
    /// range (then every active window fails closed).
    pub fn local(&self) -> Option<LocalTime> {
        let offset =
            time::UtcOffset::from_whole_seconds(self.utc_offset_minutes.checked_mul(60)?).ok()?;
        let at =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.utc_ms) * 1_000_000)
                .ok()?;
        let local = at.checked_to_offset(offset)?;
        let weekday = match local.weekday() {
            time::Weekday::Monday => Weekday::Mon,
            time::Weekday::Tuesday => Weekday::Tue,
            time::Weekday::Wednesday => Weekday::Wed,
            time::Weekday::Thursday => Weekday::Thu,
            time::Weekday::Friday => Weekday::Fri,
            time::Weekday::Saturday => Weekday::Sat,
            time::Weekday::Sunday => Weekday::Sun,
        };
        Some(LocalTime {
            weekday,
            minute_of_day: u16::from(local.hour()) * 60 + u16::from(local.minute()),
        })
    }
}

/// One call an agent asks for, as the gateway resolved it: who, on which connection, which
/// tool with which tier and effects, in which gateway state, and the typed [`Facts`] code
/// extracted from its input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub agent: String,
    pub connection_id: String,
    /// Catalog id of the connection's provider (`gmail`, `stripe-sandbox`); used in messages.
    pub provider: String,
    /// The tool name, `{provider}_{action}` (e.g. `gmail_send_message`).
    pub tool: String,
    pub tier: Tier,
    /// The action changes something people outside see (an email, a message, an invoice).
    pub outbound: bool,
    /// The action destroys or takes back something (a delete, a refund). A delete-tier action
    /// is destructive whatever this flag says.
    pub destructive: bool,
    /// A person paused every agent.
    pub paused: bool,
    pub now: Now,
    pub facts: Facts,
}

impl Request {
    /// Delete-tier actions are always destructive; others when the caller marks them so.
    pub fn is_destructive(&self) -> bool {
        self.destructive || self.tier == Tier::Delete
    }

    /// Outbound and destructive actions wait for a person unless a policy allows them.
    pub fn needs_approval(&self) -> bool {
        self.outbound || self.is_destructive()
    }
}

/// A grant the agent holds: one tier on one connection, optionally narrowed to named tools and
/// given an expiry. Mirrors the stored grant; no tier implies another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    pub agent: String,
    pub connection_id: String,
    pub tier: Tier,
    /// Tool names this grant is narrowed to; `None` = every action of the tier. An empty list
    /// allows nothing.
    pub actions: Option<Vec<String>>,
    /// The grant allows nothing from this instant on (UTC ms).
    pub expires_at_ms: Option<i64>,
}

impl Grant {
    /// Whether this grant is for the request's agent, connection and exact tier.
    pub fn covers(&self, req: &Request) -> bool {
        self.agent == req.agent && self.connection_id == req.connection_id && self.tier == req.tier
    }

    /// Expired at `now_ms`: the expiry instant itself is already expired.
    pub fn expired(&self, now_ms: i64) -> bool {
        self.expires_at_ms.is_some_and(|e| e <= now_ms)
    }

    /// Whether the grant names `tool` (or is not narrowed).
    pub fn names(&self, tool: &str) -> bool {
        self.actions
            .as_ref()
            .is_none_or(|a| a.iter().any(|t| t == tool))
    }

    /// Whether this grant lets the request run.
    pub fn allows(&self, req: &Request) -> bool {
        self.covers(req) && !self.expired(req.now.utc_ms) && self.names(&req.tool)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_time_applies_the_offset_across_day_boundaries() {
        // 2024-01-01T00:30:00Z was a Monday.
        let ms = 1_704_069_000_000;
        let utc = Now::utc(ms).local().expect("in range");
        assert_eq!(
            (utc.weekday, utc.minute_of_day),
            (Weekday::Mon, 30),
            "00:30 UTC on Monday"
        );
        let ny = Now {
            utc_ms: ms,
            utc_offset_minutes: -300,
        }
        .local()
        .expect("in range");
        assert_eq!(
            (ny.weekday, ny.minute_of_day),
            (Weekday::Sun, 19 * 60 + 30),
            "UTC-5 is still Sunday evening"
        );
        let tokyo = Now {
            utc_ms: ms,
            utc_offset_minutes: 540,
        }
        .local()
        .expect("in range");
        assert_eq!(
            (tokyo.weekday, tokyo.minute_of_day),
            (Weekday::Mon, 9 * 60 + 30)
        );
    }

    #[test]
    fn local_time_is_unknown_for_impossible_offsets_and_instants() {
        assert!(
            Now {
                utc_ms: 0,
                utc_offset_minutes: 26 * 60
            }
            .local()
            .is_none(),
            "an offset beyond ±25:59 has no local time"
        );
        assert!(
            Now {
                utc_ms: i64::MAX,
                utc_offset_minutes: 0
            }
            .local()
            .is_none(),
            "an instant past year 9999 has no local time"
        );
        assert!(
            Now {
                utc_ms: 0,
                utc_offset_minutes: i32::MAX
            }
            .local()
            .is_none(),
            "an offset that overflows has no local time"
        );
    }
}
