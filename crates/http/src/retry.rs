//! Retry policy: a pure decision after each failed attempt.

use std::time::Duration;

use rand::Rng;

/// What happened to one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The provider answered with this status; `retry_after` from its `Retry-After` header.
    Status {
        code: u16,
        retry_after: Option<Duration>,
    },
    /// No answer in time: the request may or may not have been applied.
    Timeout,
    /// The connection broke (reset, DNS, TLS); for a write, treated like a timeout.
    Network,
}

/// The call being retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// 1 for the first attempt, 2 for the first retry, …
    pub number: u32,
    /// When the first attempt was sent (same timeline as `now`).
    pub first_sent_at: Duration,
    /// The call changes provider state (POST/PATCH/PUT/DELETE that is not a search).
    pub is_write: bool,
    /// The call carries an idempotency key **that this provider honours** (e.g. Stripe's
    /// `Idempotency-Key`). A key the provider ignores does not count.
    pub idempotency_key_present: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Retry { after: Duration },
    GiveUp(GiveUpReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GiveUpReason {
    #[error("the call succeeded or was redirected (status {0}); there is nothing to retry")]
    NotAFailure(u16),
    #[error("the provider refused the call (status {0}); retrying would get the same answer")]
    ClientError(u16),
    #[error(
        "the write may already have been applied and carries no idempotency key the provider honours, so it is not retried"
    )]
    UnsafeWrite,
    #[error("gave up after {0} attempts")]
    AttemptsExhausted(u32),
    #[error("the provider asked to wait {retry_after_ms} ms, longer than this call may still wait")]
    RetryAfterTooLong { retry_after_ms: u64 },
    #[error("retrying would take longer than the {budget_ms} ms this call may spend waiting")]
    DelayBudgetExhausted { budget_ms: u64 },
}

/// Bounded, jittered exponential backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts including the first.
    pub max_attempts: u32,
    /// Backoff before the first retry (before jitter).
    pub base_delay: Duration,
    /// Largest single backoff (before honouring a longer `Retry-After`).
    pub max_delay: Duration,
    /// Longest time from the first attempt to the last retry being sent.
    pub max_total_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_total_delay: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// Decides what to do after attempt `attempt.number` ended with `outcome` at `now`.
    ///
    /// * 2xx/3xx: nothing to retry. 4xx other than 429 (and 408): never retried.
    /// * 429: retried with backoff, writes included — a provider's rate limiter refuses the
    ///   request before acting on it (Stripe, Slack, HubSpot and Google document a 429 as "not
    ///   processed"), so sending it again cannot apply it twice.
    /// * 408, 5xx, timeouts and network errors: retried with backoff — except a write without
    ///   an honoured idempotency key, which is never retried (the provider may have applied it).
    /// * Backoff for retry `k` is "equal jitter": uniform in `[e/2, e]` with
    ///   `e = min(max_delay, base · 2^(k−1))`. A `Retry-After` is a floor: the delay is at least
    ///   it plus a jitter of up to `base/4`, so a fleet does not return in lock-step.
    /// * At most `max_attempts` attempts, and the retry must be sent within `max_total_delay`
    ///   of the first attempt; otherwise give up rather than retry early.
    pub fn decide<R: Rng + ?Sized>(
        &self,
        attempt: &Attempt,
        outcome: &Outcome,
        now: Duration,
        rng: &mut R,
    ) -> Decision {
        let refused_unprocessed = matches!(*outcome, Outcome::Status { code: 429, .. });
        let retry_after = match *outcome {
            Outcome::Status { code, .. } if code < 400 => {
                return Decision::GiveUp(GiveUpReason::NotAFailure(code));
            }
            Outcome::Status { code, .. } if code < 500 && code != 429 && code != 408 => {
                return Decision::GiveUp(GiveUpReason::ClientError(code));
            }
            Outcome::Status { retry_after, .. } => retry_after,
            Outcome::Timeout | Outcome::Network => None,
        };
        if attempt.is_write && !attempt.idempotency_key_present && !refused_unprocessed {
            return Decision::GiveUp(GiveUpReason::UnsafeWrite);
        }
        if attempt.number >= self.max_attempts {
            return Decision::GiveUp(GiveUpReason::AttemptsExhausted(attempt.number));
        }
        let exp = self
            .base_delay
            .saturating_mul(
                1u32.checked_shl(attempt.number.saturating_sub(1))
                    .unwrap_or(u32::MAX),
            )
            .min(self.max_delay);
        let half = exp / 2;
        let mut after = half + jitter(rng, exp - half);
        if let Some(ra) = retry_after {
            after = after.max(ra + jitter(rng, self.base_delay / 4));
        }
        let elapsed = now.saturating_sub(attempt.first_sent_at);
        if elapsed + after > self.max_total_delay {
            let budget_ms = u64::try_from(self.max_total_delay.as_millis()).unwrap_or(u64::MAX);
            return Decision::GiveUp(match retry_after {
                Some(ra) if elapsed + ra > self.max_total_delay => {
                    GiveUpReason::RetryAfterTooLong {
                        retry_after_ms: u64::try_from(ra.as_millis()).unwrap_or(u64::MAX),
                    }
                }
                _ => GiveUpReason::DelayBudgetExhausted { budget_ms },
            });
        }
        Decision::Retry { after }
    }
}

/// Uniform in `[0, max]` at microsecond resolution.
fn jitter<R: Rng + ?Sized>(rng: &mut R, max: Duration) -> Duration {
    let us = u64::try_from(max.as_micros()).unwrap_or(u64::MAX);
    Duration::from_micros(if us == 0 { 0 } else { rng.random_range(0..=us) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn read(number: u32) -> Attempt {
        Attempt {
            number,
            first_sent_at: Duration::ZERO,
            is_write: false,
            idempotency_key_present: false,
        }
    }

    #[test]
    fn client_errors_are_never_retried() {
        let p = RetryPolicy::default();
        let mut rng = StdRng::seed_from_u64(1);
        for code in [400, 401, 403, 404, 409, 422] {
            let d = p.decide(
                &read(1),
                &Outcome::Status {
                    code,
                    retry_after: None,
                },
                Duration::ZERO,
                &mut rng,
            );
            assert_eq!(
                d,
                Decision::GiveUp(GiveUpReason::ClientError(code)),
                "a {code} must not be retried"
            );
        }
    }

    #[test]
    fn backoff_grows_is_jittered_and_capped() {
        let p = RetryPolicy {
            max_attempts: 20,
            max_total_delay: Duration::from_secs(3600),
            ..RetryPolicy::default()
        };
        let mut rng = StdRng::seed_from_u64(7);
        for n in 1..20 {
            let Decision::Retry { after } =
                p.decide(&read(n), &Outcome::Timeout, Duration::ZERO, &mut rng)
            else {
                panic!("a timed-out read should be retried at attempt {n}");
            };
            let e = (p.base_delay * 2u32.pow(n.min(16) - 1)).min(p.max_delay);
            assert!(
                after >= e / 2 && after <= e,
                "retry {n} waited {after:?}, expected between {:?} and {e:?}",
                e / 2
            );
        }
    }

    #[test]
    fn same_seed_same_delays() {
        let p = RetryPolicy::default();
        let d = |seed| {
            p.decide(
                &read(2),
                &Outcome::Status {
                    code: 503,
                    retry_after: None,
                },
                Duration::ZERO,
                &mut StdRng::seed_from_u64(seed),
            )
        };
        assert_eq!(d(3), d(3));
    }

    #[test]
    fn a_write_is_retried_after_a_429_but_not_after_a_5xx_or_timeout() {
        let p = RetryPolicy::default();
        let a = Attempt { is_write: true, idempotency_key_present: false, ..read(1) };
        let decide = |o: Outcome| p.decide(&a, &o, Duration::ZERO, &mut StdRng::seed_from_u64(1));
        assert!(
            matches!(decide(Outcome::Status { code: 429, retry_after: Some(Duration::from_secs(1)) }), Decision::Retry { .. }),
            "a 429 means the provider did not act on the write, so it is sent again after the wait"
        );
        for o in [Outcome::Status { code: 503, retry_after: None }, Outcome::Timeout, Outcome::Network] {
            assert!(matches!(decide(o), Decision::GiveUp(GiveUpReason::UnsafeWrite)), "a write that may have been applied is never re-sent");
        }
    }

    #[test]
    fn idempotent_write_is_retried() {
        let p = RetryPolicy::default();
        let a = Attempt {
            is_write: true,
            idempotency_key_present: true,
            ..read(1)
        };
        let d = p.decide(
            &a,
            &Outcome::Timeout,
            Duration::ZERO,
            &mut StdRng::seed_from_u64(1),
        );
        assert!(
            matches!(d, Decision::Retry { .. }),
            "a write with an honoured idempotency key may be retried"
        );
    }
}
