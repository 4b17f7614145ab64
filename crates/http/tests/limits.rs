//! Cross-policy properties of the pacing layer, on simulated time (no sleeping).

use std::time::Duration;

use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use switchboard_http::{
    AccountLimiter, AccountPacer, Admission, Attempt, Budget, Decision, GiveUpReason, Outcome,
    PacingError, RetryPolicy, Signal,
};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Asserts no window `[t, t + per)` holds more than `n` of the (sorted) admission times.
fn assert_never_more_than(n: u32, per: Duration, admitted: &[Duration]) {
    let n = n as usize;
    for i in n..admitted.len() {
        let span = admitted[i] - admitted[i - n];
        assert!(
            span >= per,
            "{} calls were sent within {span:?} (from {:?} to {:?}), but the provider allows only {n} per {per:?}",
            n + 1,
            admitted[i - n],
            admitted[i]
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Random budgets, random bursty arrivals, random provider "remaining" reports: never more
    /// than N in any sliding window of length `per`.
    #[test]
    fn never_more_than_the_budget_in_any_window(
        n in 1u32..60,
        per_ms in 50u64..20_000,
        gaps in prop::collection::vec(0u64..3_000, 1..400),
        reports in prop::collection::vec(prop::option::weighted(0.2, 0u32..80), 1..400),
    ) {
        let budget = Budget::new(n, ms(per_ms)).expect("valid budget");
        let mut limiter = AccountLimiter::new(budget, Duration::ZERO);
        let mut arrivals = Vec::new();
        let mut t = Duration::ZERO;
        for g in &gaps {
            // Half the gaps are zero-ish to create bursts well above the budget.
            t += if g % 2 == 0 { Duration::ZERO } else { ms(g * per_ms / 3_000 / u64::from(n).max(1)) };
            arrivals.push(t);
        }
        let mut admitted = Vec::new();
        let mut now = Duration::ZERO;
        let mut next = 0;
        let mut pending = 0usize;
        while next < arrivals.len() || pending > 0 {
            while next < arrivals.len() && arrivals[next] <= now {
                pending += 1;
                next += 1;
            }
            let mut wait = None;
            while pending > 0 {
                match limiter.try_admit(now) {
                    Admission::Go => {
                        pending -= 1;
                        admitted.push(now);
                        let report = reports[admitted.len() % reports.len()];
                        let signals: Vec<Signal> = report.map(|r| vec![Signal::Remaining { remaining: r, resets_in: None }]).unwrap_or_default();
                        limiter.on_response(&signals, now);
                    }
                    Admission::Wait(d) => { wait = Some(d); break; }
                }
            }
            let next_arrival = arrivals.get(next).copied();
            now = match (wait.map(|d| now + d), next_arrival) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) => a,
                (None, Some(b)) => b,
                (None, None) => break,
            };
        }
        prop_assert_eq!(admitted.len(), arrivals.len(), "every call should eventually be sent");
        assert_never_more_than(n, budget.per, &admitted);
    }
}

/// Saturating demand for `run` of simulated time; returns calls admitted per second.
fn sustained_rate(budget: Budget, run: Duration) -> f64 {
    let mut limiter = AccountLimiter::new(budget, Duration::ZERO);
    let mut now = Duration::ZERO;
    let mut admitted = Vec::new();
    while now < run {
        match limiter.try_admit(now) {
            Admission::Go => {
                admitted.push(now);
                limiter.on_response(&[], now);
            }
            Admission::Wait(d) => now += d,
        }
    }
    assert_never_more_than(budget.requests, budget.per, &admitted);
    admitted.len() as f64 / run.as_secs_f64()
}

#[test]
fn sustained_demand_gets_at_least_92_percent_of_the_documented_rate() {
    for (name, n, per) in [
        ("HubSpot private app", 190, Duration::from_secs(10)),
        ("HubSpot OAuth app", 100, Duration::from_secs(10)),
        ("Stripe live", 100, Duration::from_secs(1)),
        ("Slack tier 3", 50, Duration::from_secs(60)),
        ("Gmail sends (new project)", 60, Duration::from_secs(60)),
    ] {
        let budget = Budget::new(n, per).expect("valid budget");
        let run = per * 60;
        let achieved = sustained_rate(budget, run);
        let ratio = achieved / budget.rate_per_sec();
        println!(
            "{name}: documented {:.3}/s, achieved {achieved:.3}/s over {run:?} = {:.1} %",
            budget.rate_per_sec(),
            ratio * 100.0
        );
        assert!(
            ratio >= 0.92,
            "{name}: only {:.1} % of the documented rate was used under sustained demand",
            ratio * 100.0
        );
        assert!(
            ratio <= 1.0,
            "{name}: sent faster than the documented rate ({:.1} %)",
            ratio * 100.0
        );
    }
}

#[test]
fn a_429_storm_gets_bounded_retries_that_never_come_before_retry_after() {
    let policy = RetryPolicy::default();
    let retry_after = Duration::from_secs(3);
    let budget = Budget::new(100, Duration::from_secs(10)).expect("valid budget");
    let mut limiter = AccountLimiter::new(budget, Duration::ZERO);
    let mut rng = StdRng::seed_from_u64(42);
    let mut now = Duration::ZERO;
    let mut attempt = Attempt {
        number: 1,
        first_sent_at: now,
        is_write: false,
        idempotency_key_present: false,
    };
    let mut sent_at = Vec::new();
    let reason = loop {
        assert_eq!(
            limiter.try_admit(now),
            Admission::Go,
            "the retry was due at {now:?} but the account was still paused"
        );
        sent_at.push(now);
        // The provider answers every call with 429 + Retry-After: 3.
        let signals = switchboard_http::parse_signals(429, &[("Retry-After", "3")], 0);
        limiter.on_response(&signals, now);
        assert!(
            matches!(
                limiter.try_admit(now + retry_after - ms(1)),
                Admission::Wait(_)
            ),
            "the account must stay paused until Retry-After has passed"
        );
        let outcome = Outcome::Status {
            code: 429,
            retry_after: Some(retry_after),
        };
        match policy.decide(&attempt, &outcome, now, &mut rng) {
            Decision::Retry { after } => {
                assert!(
                    after >= retry_after,
                    "retry {} scheduled after {after:?}, sooner than Retry-After {retry_after:?}",
                    attempt.number
                );
                now += after;
                attempt.number += 1;
            }
            Decision::GiveUp(reason) => break reason,
        }
    };
    assert!(
        sent_at.len() as u32 <= policy.max_attempts,
        "sent {} attempts, more than the cap of {}",
        sent_at.len(),
        policy.max_attempts
    );
    assert!(
        sent_at.len() >= 2,
        "a 429 on a read should be retried at least once"
    );
    assert!(
        matches!(
            reason,
            GiveUpReason::AttemptsExhausted(_) | GiveUpReason::DelayBudgetExhausted { .. }
        ),
        "gave up for {reason}"
    );
    assert!(
        now <= policy.max_total_delay,
        "retrying went on for {now:?}, past the {:?} cap",
        policy.max_total_delay
    );
    assert_eq!(
        limiter.status(now, 0).recent_429s,
        sent_at.len(),
        "each 429 should show in the live status"
    );

    // A Retry-After longer than the call may wait: give up rather than retry early.
    let long = Outcome::Status {
        code: 429,
        retry_after: Some(Duration::from_secs(600)),
    };
    let first = Attempt {
        number: 1,
        first_sent_at: Duration::ZERO,
        is_write: false,
        idempotency_key_present: false,
    };
    assert_eq!(
        policy.decide(&first, &long, Duration::ZERO, &mut rng),
        Decision::GiveUp(GiveUpReason::RetryAfterTooLong {
            retry_after_ms: 600_000
        })
    );
}

/// Outcomes after which a write may have been applied: it is never sent again. (A 429 is not
/// among them: the provider refused it unprocessed, so it is retried.)
#[test]
fn a_write_without_an_idempotency_key_is_never_retried() {
    let policy = RetryPolicy {
        max_attempts: 100,
        max_total_delay: Duration::from_secs(86_400),
        ..RetryPolicy::default()
    };
    let mut rng = StdRng::seed_from_u64(9);
    let outcomes = [
        Outcome::Status {
            code: 500,
            retry_after: None,
        },
        Outcome::Status {
            code: 502,
            retry_after: None,
        },
        Outcome::Status {
            code: 503,
            retry_after: Some(Duration::ZERO),
        },
        Outcome::Status {
            code: 504,
            retry_after: None,
        },
        Outcome::Timeout,
        Outcome::Network,
    ];
    for outcome in outcomes {
        for number in 1..10 {
            let write = Attempt {
                number,
                first_sent_at: Duration::ZERO,
                is_write: true,
                idempotency_key_present: false,
            };
            assert_eq!(
                policy.decide(&write, &outcome, Duration::ZERO, &mut rng),
                Decision::GiveUp(GiveUpReason::UnsafeWrite),
                "a write without an idempotency key was going to be retried after {outcome:?}"
            );
        }
    }
}

#[test]
fn two_agents_hammering_one_account_get_equal_shares() {
    let budget = Budget::new(10, Duration::from_secs(1)).expect("valid budget");
    let mut pacer: AccountPacer<&str, u32> = AccountPacer::new(budget, 10_000, Duration::ZERO);
    let far = Duration::from_secs(3600);
    // "greedy" queues 3 calls for every 1 of "polite", and queues first.
    for i in 0..600 {
        pacer
            .enqueue("greedy", i, Duration::ZERO, far)
            .expect("room in queue");
        if i % 3 == 0 {
            pacer
                .enqueue("polite", i, Duration::ZERO, far)
                .expect("room in queue");
        }
    }
    let (mut greedy, mut polite) = (0i64, 0i64);
    let mut now = Duration::ZERO;
    while polite < 200 {
        let poll = pacer.poll(now);
        assert!(
            poll.failed.is_empty(),
            "no call should miss a one-hour deadline"
        );
        for (agent, _) in poll.ready {
            if agent == "greedy" {
                greedy += 1
            } else {
                polite += 1
            }
            assert!(
                (greedy - polite).abs() <= 1,
                "shares drifted apart while both agents had calls queued: greedy {greedy}, polite {polite}"
            );
        }
        now = poll
            .wake_at
            .expect("calls are queued, so the pacer must say when to poll again");
    }
    assert_eq!(
        pacer.status(now).calls_queued,
        600 + 200 - (greedy + polite) as usize
    );
}

#[test]
fn a_queued_call_past_its_deadline_fails_with_rate_limited() {
    let budget = Budget::new(1, Duration::from_secs(10)).expect("valid budget");
    let mut pacer: AccountPacer<&str, &str> = AccountPacer::new(budget, 100, Duration::ZERO);
    let deadline = Duration::from_secs(2);
    pacer
        .enqueue("agent-a", "first", Duration::ZERO, deadline)
        .expect("room");
    pacer
        .enqueue("agent-b", "second", Duration::ZERO, deadline)
        .expect("room");
    let poll = pacer.poll(Duration::ZERO);
    assert_eq!(poll.ready, vec![("agent-a", "first")]);
    let wake = poll.wake_at.expect("a call is still queued");
    assert!(
        wake <= deadline + ms(1),
        "the pacer must wake by the deadline ({deadline:?}) to fail the call, not at {wake:?}"
    );
    assert_eq!(pacer.status(Duration::from_secs(1)).calls_queued, 1);
    let poll = pacer.poll(wake);
    assert!(
        poll.ready.is_empty(),
        "no budget is free yet, so nothing may be sent"
    );
    assert_eq!(
        poll.failed.len(),
        1,
        "the queued call past its deadline must fail"
    );
    let (agent, item, err) = &poll.failed[0];
    assert_eq!((*agent, *item), ("agent-b", "second"));
    assert!(
        matches!(err, PacingError::DeadlineExceeded { waited_ms: 2000 }),
        "got {err:?}"
    );
    assert_eq!(err.code(), "rate_limited");
    assert_eq!(err.http_status(), 429);
    assert!(
        err.to_string().contains("deadline"),
        "the message should say the deadline passed: {err}"
    );
    assert_eq!(pacer.status(wake).calls_queued, 0);
}
