//! One limiter per provider account: governor's GCRA for pacing, plus what governor cannot do.

use std::collections::VecDeque;
use std::time::Duration;

use governor::clock::{Clock as _, FakeRelativeClock};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use serde::Serialize;
use ts_rs::TS;

use crate::budget::{Budget, Pacing};
use crate::signal::Signal;

type Gcra = RateLimiter<NotKeyed, InMemoryState, FakeRelativeClock, NoOpMiddleware<Nanos>>;

/// How long 429s count as "recent" in [`LimiterStatus::recent_429s`].
pub const RECENT_429_WINDOW: Duration = Duration::from_secs(5 * 60);
/// The sliding log holds each call for its window plus this share of it (per mille): our send
/// time and the provider's count differ by network jitter, so a call sent exactly `per` after
/// the N-th-last one could still land inside the provider's window.
pub const LOG_MARGIN_PER_MILLE: u32 = 30;
/// How long a rolling window's reported remaining count (no reset time) is trusted.
pub const ROLLING_REPORT_TTL: Duration = Duration::from_secs(1);
/// Pause after a 429 that carried no `Retry-After` (capped at the budget window).
pub const PAUSE_AFTER_BARE_429: Duration = Duration::from_secs(1);

/// Whether a call may go now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Send it; the limiter counted it as in flight.
    Go,
    /// Ask again after this long.
    Wait(Duration),
}

/// The provider's own report of budget left, made usable locally.
#[derive(Debug, Clone, Copy)]
struct Report {
    left: u32,
    valid_until: Duration,
}

/// Paces one provider account. Every method takes `now`: monotonic time since an origin the
/// caller picks (the async driver uses `tokio::time::Instant - origin`), so tests move time by hand.
///
/// Admission is the AND of:
/// * no `Retry-After` pause in force;
/// * GCRA pacing at 95 % of the effective budget with a small burst ([`Pacing::for_budget`]) —
///   governor with a [`FakeRelativeClock`] advanced to `now`, **unless** a fresh provider
///   report of remaining budget exists, in which case that count (less calls still in flight)
///   decides, so the account may go right up to the limit;
/// * a sliding log of admissions: never more than `N` in any window of length `per` (each call
///   held [`LOG_MARGIN_PER_MILLE`] longer, for network jitter). Written by
///   hand because governor has no notion of a window; it makes the guarantee independent of GCRA
///   rounding and bounds the header-driven mode too.
///
/// Also by hand, because governor's quota is fixed at construction and has no pause or
/// external count: pausing, adopting a lower observed limit (rebuilding the GCRA), 429 history.
pub struct AccountLimiter {
    catalog: Budget,
    effective: Budget,
    pacing: Pacing,
    clock: FakeRelativeClock,
    clock_at: Duration,
    gcra: Gcra,
    log: VecDeque<Entry>,
    /// The units of every entry in `log`, kept as entries come and go, so an admission does
    /// not sum the log (which holds thousands of entries under a high limit).
    log_units: u64,
    paused_until: Option<Duration>,
    report: Option<Report>,
    in_flight: u32,
    throttles: VecDeque<Duration>,
    daily: Option<(Option<u64>, u64)>,
}

/// One admitted call in the sliding log: when it (last) counted, its cost in the budget's unit
/// (1 for request limits; a method's quota units for providers like Gmail), and whether it is
/// still in flight.
#[derive(Debug, Clone, Copy)]
struct Entry {
    at: Duration,
    units: u32,
    in_flight: bool,
}

impl AccountLimiter {
    /// A limiter for an account whose catalog entry documents `budget`; time starts at `now`.
    pub fn new(budget: Budget, now: Duration) -> Self {
        let pacing = Pacing::for_budget(budget);
        let (clock, gcra) = build_gcra(pacing, now);
        Self {
            catalog: budget,
            effective: budget,
            pacing,
            clock,
            clock_at: now,
            gcra,
            log: VecDeque::new(),
            log_units: 0,
            paused_until: None,
            report: None,
            in_flight: 0,
            throttles: VecDeque::new(),
            daily: None,
        }
    }

    /// The budget in force: the catalog's, or a lower one the provider reported.
    pub fn budget(&self) -> Budget {
        self.effective
    }

    pub fn pacing(&self) -> Pacing {
        self.pacing
    }

    /// Asks to send one call at `now`. On [`Admission::Go`] the call counts as in flight until
    /// [`on_response`](Self::on_response) (or [`on_no_response`](Self::on_no_response)).
    pub fn try_admit(&mut self, now: Duration) -> Admission {
        self.try_admit_units(now, 1)
    }

    /// Like [`try_admit`](Self::try_admit) for a call that costs `units` of the budget (a
    /// provider that counts quota units per method, e.g. Gmail's `messages.send` = 100). A cost
    /// above the whole budget is treated as the whole budget.
    pub fn try_admit_units(&mut self, now: Duration, units: u32) -> Admission {
        let units = units.clamp(1, self.effective.requests.max(1));
        self.advance_to(now);
        let now = self.clock_at; // time never runs backwards inside the limiter
        let mut wait = Duration::ZERO;
        if let Some(until) = self.paused_until {
            if now < until {
                wait = wait.max(until - now);
            } else {
                self.paused_until = None;
            }
        }
        // Sliding log: the oldest admission in the window must leave it first.
        let per = self.effective.per + self.effective.per * LOG_MARGIN_PER_MILLE / 1000;
        while self.log.front().is_some_and(|e| e.at + per <= now) {
            if let Some(e) = self.log.pop_front() {
                self.log_units -= u64::from(e.units);
            }
        }
        let used = self.log_units;
        let over = (used + u64::from(units)).saturating_sub(u64::from(self.effective.requests));
        if over > 0 {
            // Wait until enough of the oldest entries leave the window.
            let mut freed = 0u64;
            for e in &self.log {
                freed += u64::from(e.units);
                if freed >= over {
                    wait = wait.max((e.at + per).saturating_sub(now));
                    break;
                }
            }
        }
        if self.report.is_some_and(|r| now >= r.valid_until) {
            self.report = None;
        }
        match self.report {
            Some(r) if r.left == 0 => wait = wait.max(r.valid_until - now),
            Some(_) => {}
            // Only consult (and so consume) GCRA cells when nothing else holds the call back.
            None if wait.is_zero() => wait = self.gcra_wait(units),
            None => {}
        }
        if !wait.is_zero() {
            return Admission::Wait(wait);
        }
        if let Some(r) = self.report.as_mut() {
            r.left -= 1;
            // Keep the GCRA's state moving so pacing resumes smoothly when the report lapses.
            let _ = self.gcra_wait(units);
        }
        self.log.push_back(Entry { at: now, units, in_flight: true });
        self.log_units += u64::from(units);
        self.in_flight += 1;
        Admission::Go
    }

    /// Takes `units` GCRA cells (at most the GCRA's burst: a costlier call is held to the
    /// exact budget by the sliding log, the GCRA only smooths), or says how long until they are
    /// there.
    fn gcra_wait(&mut self, units: u32) -> Duration {
        let n = units.min(self.pacing.burst.max(1));
        let n = std::num::NonZeroU32::new(n).unwrap_or(std::num::NonZeroU32::MIN);
        match self.gcra.check_n(n) {
            Ok(Ok(())) => Duration::ZERO,
            Ok(Err(not_until)) => not_until.wait_time_from(self.clock.now()).max(Duration::from_nanos(1)),
            // Cannot happen with n ≤ burst; fall back to a single cell rather than wedge.
            Err(_) => match self.gcra.check() {
                Ok(()) => Duration::ZERO,
                Err(not_until) => not_until.wait_time_from(self.clock.now()).max(Duration::from_nanos(1)),
            },
        }
    }

    /// A call admitted earlier got a response; apply what the provider said about the budget.
    pub fn on_response(&mut self, signals: &[Signal], now: Duration) {
        self.on_response_units(signals, now, 1);
    }

    /// [`on_response`](Self::on_response) for a call admitted with
    /// [`try_admit_units`](Self::try_admit_units).
    pub fn on_response_units(&mut self, signals: &[Signal], now: Duration, units: u32) {
        self.advance_to(now);
        let now = self.clock_at;
        self.settle_one(now, units);
        let mut throttled = false;
        let mut paused = false;
        for s in signals {
            match *s {
                Signal::Throttled => throttled = true,
                Signal::PauseFor(d) => {
                    paused = true;
                    self.pause_until(now + d);
                }
                Signal::Remaining {
                    remaining,
                    resets_in,
                } => {
                    // Calls still in flight were sent before the provider counted: assume they
                    // were not yet counted and will use budget.
                    let mut left = remaining.saturating_sub(self.in_flight);
                    // Responses on parallel connections arrive out of order: an older, higher
                    // count must not raise a fresher one while it is still in force.
                    if let Some(prev) = self.report.filter(|r| now < r.valid_until) {
                        left = left.min(prev.left);
                    }
                    // A count with a reset time holds until then. A rolling window's count (HubSpot
                    // sends no reset) changes continuously as old calls age out, so the snapshot
                    // holds only briefly; holding it for the whole window would keep the lowest
                    // count seen and starve the account far below its limit.
                    let valid_until = now
                        + resets_in
                            .unwrap_or(ROLLING_REPORT_TTL)
                            .min(self.effective.per);
                    self.report = Some(Report { left, valid_until });
                    if remaining == 0
                        && let Some(r) = resets_in
                    {
                        paused = true;
                        self.pause_until(now + r);
                    }
                }
                Signal::ObservedLimit { requests, per } => {
                    if let Some(observed) = Budget::new(requests, per.unwrap_or(self.catalog.per))
                        && observed.is_slower_than(&self.effective)
                    {
                        self.adopt(observed, now);
                    }
                }
                Signal::Daily { max, remaining } => self.daily = Some((max, remaining)),
            }
        }
        if throttled {
            self.throttles.push_back(now);
            // A 429 means the provider's view disagrees with ours: drop any optimistic report.
            self.report = None;
            if !paused {
                self.pause_until(now + PAUSE_AFTER_BARE_429.min(self.effective.per));
            }
        }
    }

    /// A call admitted earlier ended without a response (timeout, connection error).
    pub fn on_no_response(&mut self, now: Duration) {
        self.on_no_response_units(now, 1);
    }

    /// [`on_no_response`](Self::on_no_response) for a call admitted with a cost.
    pub fn on_no_response_units(&mut self, now: Duration, units: u32) {
        self.advance_to(now);
        let now = self.clock_at;
        self.settle_one(now, units);
    }

    /// One call in flight ended. The provider counted it somewhere between our send and now,
    /// so from here on it occupies the sliding log from `now`: the oldest entry still in flight
    /// moves to the back with this time. Counts per window stay the same; a call whose trip
    /// took longer than the log's margin can no longer make the provider see N+1 in its window.
    fn settle_one(&mut self, now: Duration, units: u32) {
        let units = units.clamp(1, self.effective.requests.max(1));
        // The oldest call in flight with this cost (calls of equal cost are interchangeable).
        // Calls in flight sit near the back (a call moves to the back when it settles), and the
        // log never holds more of them than `in_flight`: search from the back and stop once
        // all of them were seen.
        let mut oldest = None;
        let mut seen = 0;
        for (idx, e) in self.log.iter().enumerate().rev() {
            if e.in_flight {
                seen += 1;
                if e.units == units {
                    oldest = Some(idx);
                }
                if seen >= self.in_flight {
                    break;
                }
            }
        }
        if let Some(idx) = oldest
            && let Some(e) = self.log.remove(idx)
        {
            self.log.push_back(Entry { at: e.at.max(now), units, in_flight: false });
        }
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// Live status for the control API; `calls_queued` comes from the account's queue.
    pub fn status(&mut self, now: Duration, calls_queued: usize) -> LimiterStatus {
        self.advance_to(now);
        let now = self.clock_at;
        let per = self.effective.per;
        let in_window: u64 = self.log.iter().filter(|e| e.at + per > now).map(|e| u64::from(e.units)).sum();
        let mut left = u64::from(self.effective.requests).saturating_sub(in_window);
        let report = self.report.filter(|r| now < r.valid_until);
        if let Some(r) = report {
            left = left.min(u64::from(r.left));
        }
        while self
            .throttles
            .front()
            .is_some_and(|t| *t + RECENT_429_WINDOW <= now)
        {
            self.throttles.pop_front();
        }
        LimiterStatus {
            budget_requests: self.effective.requests,
            budget_per_ms: millis(self.effective.per),
            catalog_requests: self.catalog.requests,
            catalog_per_ms: millis(self.catalog.per),
            budget_left: left,
            provider_reported_left: report.map(|r| r.left),
            calls_queued,
            calls_in_flight: self.in_flight,
            recent_429s: self.throttles.len(),
            recent_429s_window_secs: RECENT_429_WINDOW.as_secs(),
            paused_for_ms: self
                .paused_until
                .filter(|u| *u > now)
                .map(|u| millis(u - now)),
            daily_max: self.daily.and_then(|d| d.0),
            daily_remaining: self.daily.map(|d| d.1),
        }
    }

    fn pause_until(&mut self, until: Duration) {
        self.paused_until = Some(self.paused_until.map_or(until, |p| p.max(until)));
    }

    fn adopt(&mut self, budget: Budget, now: Duration) {
        self.effective = budget;
        self.pacing = Pacing::for_budget(budget);
        let (clock, gcra) = build_gcra(self.pacing, now);
        self.clock = clock;
        self.gcra = gcra;
        // The fresh GCRA would allow a full burst at once; start it as if it had just spent
        // what the log shows was sent recently.
        let recent: u64 = self.log.iter().filter(|e| e.at + budget.per > now).map(|e| u64::from(e.units)).sum();
        for _ in 0..recent.min(u64::from(self.pacing.burst)) {
            let _ = self.gcra.check();
        }
    }

    fn advance_to(&mut self, now: Duration) {
        if now > self.clock_at {
            self.clock.advance(now - self.clock_at);
            self.clock_at = now;
        }
    }
}

fn build_gcra(pacing: Pacing, now: Duration) -> (FakeRelativeClock, Gcra) {
    let clock = FakeRelativeClock::default();
    clock.advance(now);
    let burst = std::num::NonZeroU32::new(pacing.burst.max(1)).unwrap_or(std::num::NonZeroU32::MIN);
    let quota = Quota::with_period(pacing.period.max(Duration::from_nanos(1)))
        .unwrap_or_else(|| Quota::per_second(std::num::NonZeroU32::MIN))
        .allow_burst(burst);
    let gcra = RateLimiter::direct_with_clock(quota, clock.clone());
    (clock, gcra)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Live status of one account, for the control API and the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct LimiterStatus {
    /// The budget in force (the catalog's, or lower if the provider reported lower).
    pub budget_requests: u32,
    #[ts(type = "number")]
    pub budget_per_ms: u64,
    pub catalog_requests: u32,
    #[ts(type = "number")]
    pub catalog_per_ms: u64,
    /// Calls that may still go in the current window.
    #[ts(type = "number")]
    pub budget_left: u64,
    /// The provider's own count, when a fresh one was reported.
    pub provider_reported_left: Option<u32>,
    pub calls_queued: usize,
    pub calls_in_flight: u32,
    /// 429s in the last [`recent_429s_window_secs`](Self::recent_429s_window_secs).
    pub recent_429s: usize,
    #[ts(type = "number")]
    pub recent_429s_window_secs: u64,
    /// Time left on a `Retry-After` pause.
    #[ts(type = "number | null")]
    pub paused_for_ms: Option<u64>,
    #[ts(type = "number | null")]
    pub daily_max: Option<u64>,
    #[ts(type = "number | null")]
    pub daily_remaining: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn budget(n: u32, per_ms: u64) -> Budget {
        Budget::new(n, ms(per_ms)).expect("valid budget")
    }

    #[test]
    fn quota_units_count_by_cost_not_by_call() {
        // Gmail-like: 250 units per second; a send costs 100, a read 5.
        let mut l = AccountLimiter::new(budget(250, 1_000), ms(0));
        let mut sent_units = 0u32;
        let mut t = 0u64;
        // Over a long run, what was admitted in any one-second window never exceeds 250 units.
        let mut admitted: Vec<(u64, u32)> = Vec::new();
        while t < 10_000 {
            let cost = if admitted.len() % 3 == 0 { 100 } else { 5 };
            match l.try_admit_units(ms(t), cost) {
                Admission::Go => {
                    l.on_response_units(&[], ms(t), cost);
                    admitted.push((t, cost));
                    sent_units += cost;
                }
                Admission::Wait(d) => t += u64::try_from(d.as_millis()).unwrap_or(1).max(1),
            }
        }
        for &(start, _) in &admitted {
            let in_window: u32 = admitted.iter().filter(|(at, _)| *at >= start && *at < start + 1_000).map(|(_, c)| *c).sum();
            assert!(in_window <= 250, "{in_window} units went out in the second from {start} ms; the budget is 250");
        }
        assert!(sent_units >= 2_000, "pacing by units should still use most of the budget over 10 s (sent {sent_units} units)");
        assert!(matches!(l.try_admit_units(ms(t), 10_000), Admission::Go | Admission::Wait(_)), "a cost above the budget must not wedge the limiter");
    }

    #[test]
    fn a_rolling_windows_remaining_count_is_trusted_only_briefly() {
        let mut l = AccountLimiter::new(budget(100, 10_000), ms(0));
        assert!(matches!(l.try_admit(ms(0)), Admission::Go));
        l.on_response(&[Signal::Remaining { remaining: 0, resets_in: None }], ms(10));
        assert!(matches!(l.try_admit(ms(20)), Admission::Wait(_)), "a fresh 'none left' must hold calls back");
        assert!(
            matches!(l.try_admit(ms(10 + 1_000 + 200)), Admission::Go),
            "a rolling window's count must not hold the account back for the whole window"
        );
    }

    #[test]
    fn a_slow_call_occupies_the_window_from_its_response() {
        let mut l = AccountLimiter::new(budget(1, 1_000), ms(0));
        assert!(matches!(l.try_admit(ms(0)), Admission::Go));
        // The provider may have counted it as late as the response.
        l.on_response(&[], ms(500));
        assert!(matches!(l.try_admit(ms(1_100)), Admission::Wait(_)), "the next call must wait a full window after the slow call's response");
        assert!(matches!(l.try_admit(ms(1_540)), Admission::Go), "a window and the margin after the response the next call may go");
    }

    #[test]
    fn retry_after_pauses_the_whole_account() {
        let mut l = AccountLimiter::new(budget(10, 1000), ms(0));
        assert_eq!(l.try_admit(ms(0)), Admission::Go);
        l.on_response(&[Signal::Throttled, Signal::PauseFor(ms(5000))], ms(10));
        assert_eq!(
            l.try_admit(ms(10)),
            Admission::Wait(ms(5000)),
            "must wait the full Retry-After"
        );
        assert!(
            matches!(l.try_admit(ms(5009)), Admission::Wait(_)),
            "1 ms before Retry-After ends is still too early"
        );
        assert_eq!(l.try_admit(ms(5010)), Admission::Go);
        let st = l.status(ms(5010), 0);
        assert_eq!(st.recent_429s, 1);
        assert_eq!(
            l.status(ms(5010) + RECENT_429_WINDOW, 0).recent_429s,
            0,
            "old 429s age out"
        );
    }

    #[test]
    fn lower_observed_limit_is_adopted_and_higher_ignored() {
        let mut l = AccountLimiter::new(budget(190, 10_000), ms(0));
        l.try_admit(ms(0));
        l.on_response(
            &[Signal::ObservedLimit {
                requests: 250,
                per: Some(ms(10_000)),
            }],
            ms(1),
        );
        assert_eq!(
            l.budget().requests,
            190,
            "a higher reported limit must not raise the catalog's"
        );
        l.try_admit(ms(2));
        l.on_response(
            &[Signal::ObservedLimit {
                requests: 100,
                per: Some(ms(10_000)),
            }],
            ms(3),
        );
        assert_eq!(
            l.budget(),
            budget(100, 10_000),
            "a lower reported limit must be adopted"
        );
    }

    #[test]
    fn provider_reported_remaining_allows_going_up_to_the_limit_but_not_past_it() {
        let mut l = AccountLimiter::new(budget(10, 1000), ms(0));
        assert_eq!(l.try_admit(ms(0)), Admission::Go);
        l.on_response(
            &[Signal::Remaining {
                remaining: 9,
                resets_in: Some(ms(1000)),
            }],
            ms(1),
        );
        let mut sent = 1;
        while l.try_admit(ms(1)) == Admission::Go {
            sent += 1;
            assert!(sent <= 10, "sent more than the 10-per-second limit");
        }
        assert_eq!(
            sent, 10,
            "with the provider reporting 9 left, all 9 should go at once"
        );
        assert_eq!(l.status(ms(1), 0).budget_left, 0);
    }

    #[test]
    fn remaining_zero_with_reset_pauses_until_reset() {
        let mut l = AccountLimiter::new(budget(10, 60_000), ms(0));
        l.try_admit(ms(0));
        l.on_response(
            &[Signal::Remaining {
                remaining: 0,
                resets_in: Some(ms(20_000)),
            }],
            ms(5),
        );
        assert_eq!(l.try_admit(ms(5)), Admission::Wait(ms(20_000)));
    }

    #[test]
    fn status_serializes_for_the_control_api() {
        let mut l = AccountLimiter::new(budget(100, 10_000), ms(0));
        l.try_admit(ms(0));
        let json = serde_json::to_value(l.status(ms(0), 3)).expect("serializes");
        assert_eq!(json["budget_left"], 99);
        assert_eq!(json["calls_queued"], 3);
        assert_eq!(json["calls_in_flight"], 1);
        assert_eq!(json["recent_429s"], 0);
    }
}
