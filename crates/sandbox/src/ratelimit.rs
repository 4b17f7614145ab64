//! Sliding-window rate limiting, as HubSpot enforces it ("N requests per rolling interval").

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The outcome of one admission check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request is admitted.
    pub allowed: bool,
    /// Window size (requests).
    pub max: u32,
    /// Requests still allowed in the current window after this one.
    pub remaining: u32,
    /// Window length.
    pub interval: Duration,
    /// When refused: how long until the oldest request leaves the window.
    pub retry_after: Duration,
}

/// At most `max` admitted requests in any rolling `interval`.
#[derive(Debug)]
pub struct SlidingWindow {
    max: u32,
    interval: Duration,
    log: Mutex<VecDeque<Instant>>,
}

impl SlidingWindow {
    /// A window admitting `max` requests per rolling `interval`.
    pub fn new(max: u32, interval: Duration) -> Self {
        Self {
            max,
            interval,
            log: Mutex::new(VecDeque::new()),
        }
    }

    /// Admit or refuse one request now.
    pub fn check(&self) -> Decision {
        let now = Instant::now();
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(&t) = log.front() {
            if now.duration_since(t) >= self.interval {
                log.pop_front();
            } else {
                break;
            }
        }
        let used = u32::try_from(log.len()).unwrap_or(u32::MAX);
        if used >= self.max {
            let retry_after = log
                .front()
                .map(|&t| self.interval.saturating_sub(now.duration_since(t)))
                .unwrap_or_default();
            return Decision {
                allowed: false,
                max: self.max,
                remaining: 0,
                interval: self.interval,
                retry_after,
            };
        }
        log.push_back(now);
        Decision {
            allowed: true,
            max: self.max,
            remaining: self.max - used - 1,
            interval: self.interval,
            retry_after: Duration::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_max_then_refuses_with_retry_after_within_the_window() {
        let w = SlidingWindow::new(3, Duration::from_secs(60));
        let remaining: Vec<u32> = (0..3).map(|_| w.check().remaining).collect();
        assert_eq!(remaining, vec![2, 1, 0]);
        let d = w.check();
        assert!(!d.allowed, "the 4th request in the window is refused");
        assert!(d.retry_after > Duration::ZERO && d.retry_after <= Duration::from_secs(60));
    }

    #[test]
    fn window_slides() {
        let w = SlidingWindow::new(1, Duration::from_millis(50));
        assert!(w.check().allowed);
        assert!(!w.check().allowed);
        std::thread::sleep(Duration::from_millis(60));
        assert!(
            w.check().allowed,
            "after the interval the oldest request leaves the window"
        );
    }
}
