//! Per-minute history of one account over the last hour, for the rate-limit chart. Pure: every
//! method takes the wall-clock time (UTC ms) it is recording or reading at.

use std::collections::VecDeque;

use serde::Serialize;
use ts_rs::TS;

/// One minute of an account's traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub struct Bucket {
    /// Start of the minute, UTC ms since the epoch (a multiple of 60,000).
    #[ts(type = "number")]
    pub minute_start_ms: i64,
    /// Calls sent to the provider in this minute (every attempt, retries included).
    pub calls_sent: u32,
    /// 429 responses received in this minute.
    pub throttled: u32,
    /// The most calls waiting for budget at once during this minute.
    pub max_queue_depth: u32,
}

/// The last [`History::MINUTES`] minutes, oldest first.
#[derive(Debug, Clone, Default)]
pub struct History {
    buckets: VecDeque<Bucket>,
}

impl History {
    /// How many minutes are kept and returned.
    pub const MINUTES: usize = 60;
    const MINUTE_MS: i64 = 60_000;

    pub fn new() -> Self {
        Self::default()
    }

    /// One call sent at `wall_ms`.
    pub fn record_sent(&mut self, wall_ms: i64) {
        let b = self.bucket(wall_ms);
        b.calls_sent = b.calls_sent.saturating_add(1);
    }

    /// One 429 received at `wall_ms`.
    pub fn record_throttled(&mut self, wall_ms: i64) {
        let b = self.bucket(wall_ms);
        b.throttled = b.throttled.saturating_add(1);
    }

    /// `depth` calls were waiting at `wall_ms`.
    pub fn record_queue_depth(&mut self, wall_ms: i64, depth: usize) {
        let depth = u32::try_from(depth).unwrap_or(u32::MAX);
        let b = self.bucket(wall_ms);
        b.max_queue_depth = b.max_queue_depth.max(depth);
    }

    /// Exactly [`Self::MINUTES`] buckets ending with the minute of `wall_ms`, oldest first;
    /// minutes without traffic are zero, so a chart can plot them as they come.
    pub fn buckets(&self, wall_ms: i64) -> Vec<Bucket> {
        let current = minute_of(wall_ms);
        (0..Self::MINUTES as i64)
            .rev()
            .map(|back| {
                let start = current - back * Self::MINUTE_MS;
                self.buckets
                    .iter()
                    .find(|b| b.minute_start_ms == start)
                    .copied()
                    .unwrap_or(Bucket {
                        minute_start_ms: start,
                        calls_sent: 0,
                        throttled: 0,
                        max_queue_depth: 0,
                    })
            })
            .collect()
    }

    fn bucket(&mut self, wall_ms: i64) -> &mut Bucket {
        let start = minute_of(wall_ms);
        let oldest_kept = start - (Self::MINUTES as i64 - 1) * Self::MINUTE_MS;
        while self
            .buckets
            .front()
            .is_some_and(|b| b.minute_start_ms < oldest_kept)
        {
            self.buckets.pop_front();
        }
        // The wall clock can step backwards (NTP); record into the newest bucket then rather
        // than reorder the history.
        let newest = self.buckets.back().map(|b| b.minute_start_ms);
        if newest.is_none_or(|n| n < start) {
            self.buckets.push_back(Bucket {
                minute_start_ms: start,
                calls_sent: 0,
                throttled: 0,
                max_queue_depth: 0,
            });
        }
        let last = self.buckets.len() - 1;
        &mut self.buckets[last]
    }
}

fn minute_of(wall_ms: i64) -> i64 {
    wall_ms.div_euclid(History::MINUTE_MS) * History::MINUTE_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_040_000; // a minute boundary

    #[test]
    fn counts_land_in_their_minute_and_the_hour_is_zero_filled() {
        let mut h = History::new();
        h.record_sent(T0 + 1);
        h.record_sent(T0 + 59_999);
        h.record_throttled(T0 + 30_000);
        h.record_queue_depth(T0 + 10, 4);
        h.record_queue_depth(T0 + 20, 2);
        h.record_sent(T0 + 60_000);
        let b = h.buckets(T0 + 60_500);
        assert_eq!(b.len(), History::MINUTES);
        assert_eq!(
            b[58],
            Bucket {
                minute_start_ms: T0,
                calls_sent: 2,
                throttled: 1,
                max_queue_depth: 4
            }
        );
        assert_eq!(b[59].calls_sent, 1);
        assert_eq!(b[59].minute_start_ms, T0 + 60_000);
        assert_eq!(b[0].calls_sent, 0, "minutes without traffic read as zero");
        assert!(
            b.windows(2)
                .all(|w| w[1].minute_start_ms - w[0].minute_start_ms == 60_000)
        );
    }

    #[test]
    fn minutes_older_than_an_hour_are_dropped() {
        let mut h = History::new();
        h.record_sent(T0);
        let later = T0 + 60 * 60_000;
        h.record_sent(later);
        assert_eq!(
            h.buckets.len(),
            1,
            "the minute an hour ago left the history"
        );
        assert_eq!(
            h.buckets(later).iter().map(|b| b.calls_sent).sum::<u32>(),
            1
        );
    }

    #[test]
    fn typescript_twins_use_plain_numbers() {
        use ts_rs::TS;
        let cfg = ts_rs::Config::new();
        let bucket = Bucket::decl(&cfg);
        assert!(bucket.contains("minute_start_ms: number"), "{bucket}");
        let status = crate::LimiterStatus::decl(&cfg);
        assert!(
            !status.contains("bigint"),
            "the UI reads these as numbers: {status}"
        );
    }

    #[test]
    fn a_clock_stepping_back_does_not_reorder_the_history() {
        let mut h = History::new();
        h.record_sent(T0 + 120_000);
        h.record_sent(T0);
        assert_eq!(h.buckets.len(), 1);
        assert_eq!(h.buckets[0].calls_sent, 2);
    }
}
