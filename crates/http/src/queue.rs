//! Fair queueing between agents sharing one account, and the per-account pacer that drains it
//! through the [`AccountLimiter`].

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::Duration;

use crate::budget::Budget;
use crate::limiter::{AccountLimiter, Admission, LimiterStatus};

/// Why a queued call did not go. Public code: `rate_limited`
/// (`switchboard_core::ErrorCode::RateLimited`, HTTP 429).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PacingError {
    #[error(
        "the call waited {waited_ms} ms for this connection's rate-limit budget and passed its deadline without being sent; the provider was not called — try again later or allow a longer deadline"
    )]
    DeadlineExceeded { waited_ms: u64 },
    #[error(
        "{queued} calls are already waiting for this connection's rate-limit budget; the call was not queued — try again later"
    )]
    QueueFull { queued: usize },
}

impl PacingError {
    /// The public error code this maps to (`ApiError` code `rate_limited`).
    pub fn code(&self) -> &'static str {
        "rate_limited"
    }

    /// The HTTP status an edge should answer with.
    pub fn http_status(&self) -> u16 {
        429
    }
}

struct Queued<T> {
    item: T,
    enqueued_at: Duration,
    deadline: Duration,
}

/// Per-agent FIFO lanes served round-robin: each turn takes one call from the next agent that has
/// any, so an agent that queues 1,000 calls cannot starve one that queues 1.
pub struct FairQueue<A, T> {
    lanes: HashMap<A, VecDeque<Queued<T>>>,
    ring: VecDeque<A>,
    len: usize,
    capacity: usize,
}

impl<A: Eq + Hash + Clone, T> FairQueue<A, T> {
    pub fn new(capacity: usize) -> Self {
        Self {
            lanes: HashMap::new(),
            ring: VecDeque::new(),
            len: 0,
            capacity,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Queues `item` for `agent`; it must be sent by `deadline` (same timeline as `now`).
    pub fn push(
        &mut self,
        agent: A,
        item: T,
        now: Duration,
        deadline: Duration,
    ) -> Result<(), (T, PacingError)> {
        if self.len >= self.capacity {
            return Err((item, PacingError::QueueFull { queued: self.len }));
        }
        let lane = self.lanes.entry(agent.clone()).or_default();
        if lane.is_empty() {
            self.ring.push_back(agent);
        }
        lane.push_back(Queued {
            item,
            enqueued_at: now,
            deadline,
        });
        self.len += 1;
        Ok(())
    }

    /// Removes every call whose deadline is before `now`, each with its error.
    pub fn expire(&mut self, now: Duration) -> Vec<(A, T, PacingError)> {
        let mut out = Vec::new();
        for (agent, lane) in &mut self.lanes {
            let mut kept = VecDeque::with_capacity(lane.len());
            for q in lane.drain(..) {
                if now > q.deadline {
                    let waited_ms = u64::try_from(now.saturating_sub(q.enqueued_at).as_millis())
                        .unwrap_or(u64::MAX);
                    out.push((
                        agent.clone(),
                        q.item,
                        PacingError::DeadlineExceeded { waited_ms },
                    ));
                } else {
                    kept.push_back(q);
                }
            }
            *lane = kept;
        }
        self.len -= out.len();
        self.lanes.retain(|_, lane| !lane.is_empty());
        let lanes = &self.lanes;
        self.ring.retain(|a| lanes.contains_key(a));
        out
    }

    /// The call [`pop`](Self::pop) would return next, without taking it.
    pub fn peek(&self) -> Option<&T> {
        let agent = self.ring.front()?;
        self.lanes.get(agent)?.front().map(|q| &q.item)
    }

    /// The next call in round-robin order. Call [`expire`](Self::expire) first at the same `now`.
    pub fn pop(&mut self) -> Option<(A, T)> {
        let agent = self.ring.pop_front()?;
        let lane = self.lanes.get_mut(&agent)?;
        let q = lane.pop_front()?;
        if lane.is_empty() {
            self.lanes.remove(&agent);
        } else {
            self.ring.push_back(agent.clone());
        }
        self.len -= 1;
        Some((agent, q.item))
    }

    /// The earliest deadline among queued calls.
    pub fn next_deadline(&self) -> Option<Duration> {
        self.lanes
            .values()
            .flat_map(|l| l.iter().map(|q| q.deadline))
            .min()
    }
}

/// What [`AccountPacer::poll`] decided at one instant.
pub struct Poll<A, T> {
    /// Send these now, in this order (each already counted by the limiter).
    pub ready: Vec<(A, T)>,
    /// Fail these now: they passed their deadline or could not be queued.
    pub failed: Vec<(A, T, PacingError)>,
    /// Poll again at this time (a budget frees up or a deadline passes); `None` when idle.
    pub wake_at: Option<Duration>,
}

/// One provider account: its limiter and its fair queue. [`crate::PacedClient`]'s driver pushes
/// calls, sleeps until `wake_at`, polls, and releases what is ready.
pub struct AccountPacer<A, T> {
    pub limiter: AccountLimiter,
    queue: FairQueue<A, T>,
}

impl<A: Eq + Hash + Clone, T> AccountPacer<A, T> {
    pub fn new(budget: Budget, queue_capacity: usize, now: Duration) -> Self {
        Self {
            limiter: AccountLimiter::new(budget, now),
            queue: FairQueue::new(queue_capacity),
        }
    }

    pub fn enqueue(
        &mut self,
        agent: A,
        item: T,
        now: Duration,
        deadline: Duration,
    ) -> Result<(), (T, PacingError)> {
        self.queue.push(agent, item, now, deadline)
    }

    /// Calls waiting for budget.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    pub fn poll(&mut self, now: Duration) -> Poll<A, T> {
        self.poll_by(now, |_| 1)
    }

    /// [`poll`](Self::poll) where each call costs `units_of(call)` of the budget (quota units).
    pub fn poll_by(&mut self, now: Duration, units_of: impl Fn(&T) -> u32) -> Poll<A, T> {
        let failed = self.queue.expire(now);
        let mut ready = Vec::new();
        let mut wake_at = None;
        while let Some(next) = self.queue.peek() {
            match self.limiter.try_admit_units(now, units_of(next)) {
                Admission::Go => ready.extend(self.queue.pop()),
                Admission::Wait(d) => {
                    wake_at = Some(now + d);
                    break;
                }
            }
        }
        if let Some(deadline) = self.queue.next_deadline() {
            // Wake just past the deadline so the call fails then, not at the next budget slot.
            let fail_at = deadline + Duration::from_nanos(1);
            wake_at = Some(wake_at.map_or(fail_at, |w: Duration| w.min(fail_at)));
        }
        Poll {
            ready,
            failed,
            wake_at,
        }
    }

    pub fn status(&mut self, now: Duration) -> LimiterStatus {
        let queued = self.queue.len();
        self.limiter.status(now, queued)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_serves_a_light_agent_between_a_heavy_agents_calls() {
        let mut q = FairQueue::new(100);
        let far = Duration::from_secs(60);
        for i in 0..5 {
            q.push("heavy", i, Duration::ZERO, far).expect("room");
        }
        q.push("light", 100, Duration::ZERO, far).expect("room");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(order[0], ("heavy", 0));
        assert_eq!(
            order[1],
            ("light", 100),
            "the light agent must be served second, not after the heavy backlog"
        );
        assert_eq!(order.len(), 6);
    }

    #[test]
    fn a_full_queue_refuses_with_rate_limited() {
        let mut q = FairQueue::new(1);
        q.push("a", 1, Duration::ZERO, Duration::from_secs(1))
            .expect("room");
        let (item, err) = q
            .push("b", 2, Duration::ZERO, Duration::from_secs(1))
            .expect_err("queue is full");
        assert_eq!(item, 2);
        assert_eq!(err.code(), "rate_limited");
    }
}
