//! Provider rate-limit signals: a pure parse of a response's status and headers into typed
//! [`Signal`]s that [`crate::AccountLimiter::on_response`] applies.

use std::time::{Duration, UNIX_EPOCH};

/// One thing a provider told us about its budget in a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// The response was a 429: the provider throttled this account.
    Throttled,
    /// `Retry-After`: send nothing on this account before this much time has passed.
    PauseFor(Duration),
    /// The provider's own count of calls left in its current window, and (when it says so)
    /// how long until that window resets.
    Remaining {
        remaining: u32,
        resets_in: Option<Duration>,
    },
    /// The limit the provider says it enforces; `per` is `None` when it does not name the window
    /// (plain `X-RateLimit-Limit`), in which case the catalog's window applies.
    ObservedLimit {
        requests: u32,
        per: Option<Duration>,
    },
    /// A daily quota (`X-HubSpot-RateLimit-Daily[-Remaining]`).
    Daily { max: Option<u64>, remaining: u64 },
}

/// Reads `status` and `headers` (names case-insensitive) into signals. `wall_now_ms` is the
/// current wall-clock time (UTC ms since the epoch, from `switchboard_core::Clock`), needed only
/// to turn an HTTP-date `Retry-After` or an epoch `X-RateLimit-Reset` into a delay.
/// Malformed values are ignored: a provider's typo must not stop or speed up the limiter.
pub fn parse_signals<N: AsRef<str>, V: AsRef<str>>(
    status: u16,
    headers: &[(N, V)],
    wall_now_ms: i64,
) -> Vec<Signal> {
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.as_ref().trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref().trim())
    };
    let mut out = Vec::new();
    if status == 429 {
        out.push(Signal::Throttled);
    }
    if let Some(d) = get("retry-after").and_then(|v| parse_retry_after(v, wall_now_ms)) {
        out.push(Signal::PauseFor(d));
    }

    // HubSpot first: it names its window, so it is the more precise source.
    let hs_max = get("x-hubspot-ratelimit-max").and_then(leading_u32);
    let hs_interval =
        get("x-hubspot-ratelimit-interval-milliseconds").and_then(|v| v.parse::<u64>().ok());
    if let Some(requests) = hs_max.filter(|n| *n > 0) {
        out.push(Signal::ObservedLimit {
            requests,
            per: hs_interval.filter(|ms| *ms > 0).map(Duration::from_millis),
        });
    }
    if let Some(remaining) = get("x-hubspot-ratelimit-remaining").and_then(leading_u32) {
        out.push(Signal::Remaining {
            remaining,
            resets_in: None,
        });
    }
    if let Some(remaining) =
        get("x-hubspot-ratelimit-daily-remaining").and_then(|v| v.parse::<u64>().ok())
    {
        let max = get("x-hubspot-ratelimit-daily").and_then(|v| v.parse::<u64>().ok());
        out.push(Signal::Daily { max, remaining });
    }

    // Generic X-RateLimit-* (GitHub, many others). `Limit` may carry an IETF-draft window: "100;w=60".
    if let Some(v) = get("x-ratelimit-limit")
        && let Some(requests) = leading_u32(v).filter(|n| *n > 0)
    {
        out.push(Signal::ObservedLimit {
            requests,
            per: window_param(v),
        });
    }
    if let Some(remaining) = get("x-ratelimit-remaining").and_then(leading_u32) {
        let resets_in = get("x-ratelimit-reset").and_then(|v| parse_reset(v, wall_now_ms));
        out.push(Signal::Remaining {
            remaining,
            resets_in,
        });
    }
    out
}

/// [`parse_signals`] with the wall clock read from a [`switchboard_core::Clock`].
pub fn parse_signals_at<N: AsRef<str>, V: AsRef<str>>(
    status: u16,
    headers: &[(N, V)],
    clock: &dyn switchboard_core::Clock,
) -> Vec<Signal> {
    parse_signals(status, headers, clock.now_ms())
}

/// `Retry-After: 120` or `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`. A date in the past means
/// "now" (zero), not "ignore".
pub fn parse_retry_after(value: &str, wall_now_ms: i64) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Some(Duration::from_secs_f64(secs.min(86_400.0 * 365.0)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let at_ms = i64::try_from(at.duration_since(UNIX_EPOCH).ok()?.as_millis()).ok()?;
    Some(Duration::from_millis(
        u64::try_from(at_ms.saturating_sub(wall_now_ms)).unwrap_or(0),
    ))
}

/// `X-RateLimit-Reset` is either seconds until reset or (GitHub) epoch seconds of the reset.
/// Values above 10⁹ can only be epoch seconds (that many seconds is 31 years).
fn parse_reset(value: &str, wall_now_ms: i64) -> Option<Duration> {
    let n = value.trim().parse::<u64>().ok()?;
    if n > 1_000_000_000 {
        let at_ms = i64::try_from(n).ok()?.saturating_mul(1000);
        Some(Duration::from_millis(
            u64::try_from(at_ms.saturating_sub(wall_now_ms)).unwrap_or(0),
        ))
    } else {
        Some(Duration::from_secs(n))
    }
}

fn leading_u32(value: &str) -> Option<u32> {
    let digits: &str = value.trim().split([',', ';', ' ']).next()?;
    digits.trim().parse().ok()
}

fn window_param(value: &str) -> Option<Duration> {
    value.split([',', ';']).find_map(|part| {
        let secs = part.trim().strip_prefix("w=")?.trim().parse::<u64>().ok()?;
        (secs > 0).then(|| Duration::from_secs(secs))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW_MS: i64 = 1_445_412_480_000; // Wed, 21 Oct 2015 07:28:00 GMT

    #[test]
    fn retry_after_in_seconds_and_as_http_date() {
        let s = parse_signals(429, &[("Retry-After", "7")], NOW_MS);
        assert_eq!(
            s,
            vec![Signal::Throttled, Signal::PauseFor(Duration::from_secs(7))]
        );
        let s = parse_signals(
            429,
            &[("retry-after", "Wed, 21 Oct 2015 07:28:30 GMT")],
            NOW_MS,
        );
        assert_eq!(
            s,
            vec![Signal::Throttled, Signal::PauseFor(Duration::from_secs(30))]
        );
        let past = parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", NOW_MS);
        assert_eq!(
            past,
            Some(Duration::ZERO),
            "a Retry-After date in the past means retry now"
        );
    }

    #[test]
    fn hubspot_headers_give_limit_window_remaining_and_daily() {
        let h = [
            ("X-HubSpot-RateLimit-Max", "100"),
            ("X-HubSpot-RateLimit-Remaining", "42"),
            ("X-HubSpot-RateLimit-Interval-Milliseconds", "10000"),
            ("X-HubSpot-RateLimit-Daily", "250000"),
            ("X-HubSpot-RateLimit-Daily-Remaining", "249000"),
        ];
        let s = parse_signals(200, &h, NOW_MS);
        assert_eq!(
            s,
            vec![
                Signal::ObservedLimit {
                    requests: 100,
                    per: Some(Duration::from_secs(10))
                },
                Signal::Remaining {
                    remaining: 42,
                    resets_in: None
                },
                Signal::Daily {
                    max: Some(250_000),
                    remaining: 249_000
                },
            ]
        );
    }

    #[test]
    fn generic_ratelimit_headers_with_delta_and_epoch_reset() {
        let s = parse_signals(
            200,
            &[
                ("X-RateLimit-Limit", "60"),
                ("X-RateLimit-Remaining", "3"),
                ("X-RateLimit-Reset", "12"),
            ],
            NOW_MS,
        );
        assert_eq!(
            s,
            vec![
                Signal::ObservedLimit {
                    requests: 60,
                    per: None
                },
                Signal::Remaining {
                    remaining: 3,
                    resets_in: Some(Duration::from_secs(12))
                },
            ]
        );
        let epoch = (NOW_MS / 1000 + 90).to_string();
        let s = parse_signals(
            200,
            &[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", epoch.as_str()),
            ],
            NOW_MS,
        );
        assert_eq!(
            s,
            vec![Signal::Remaining {
                remaining: 0,
                resets_in: Some(Duration::from_secs(90))
            }]
        );
        let s = parse_signals(200, &[("X-RateLimit-Limit", "100;w=60")], NOW_MS);
        assert_eq!(
            s,
            vec![Signal::ObservedLimit {
                requests: 100,
                per: Some(Duration::from_secs(60))
            }]
        );
    }

    #[test]
    fn malformed_values_are_ignored() {
        let h = [
            ("Retry-After", "soon"),
            ("X-RateLimit-Remaining", "-1"),
            ("X-HubSpot-RateLimit-Max", "0"),
            ("X-RateLimit-Limit", "lots"),
        ];
        assert_eq!(
            parse_signals(200, &h, NOW_MS),
            vec![],
            "garbage headers must produce no signal"
        );
    }
}
