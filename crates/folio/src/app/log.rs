//! Log lines that repeat under load (accept errors, refused connections, an unreachable
//! store) written at most once per interval, with a count of what was left out.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A log line that is written at most once per interval; the lines left out in between are
/// counted and reported with the next one.
pub struct RateLimitedLog {
    interval_ms: u64,
    last_ms: AtomicU64,
    suppressed: AtomicU64,
    epoch: Instant,
}

impl RateLimitedLog {
    /// At most one line per `interval`.
    pub fn new(interval: Duration) -> Self {
        RateLimitedLog {
            interval_ms: interval.as_millis() as u64,
            last_ms: AtomicU64::new(u64::MAX),
            suppressed: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    /// Calls `emit` with the number of lines suppressed since the last one, or counts this
    /// one as suppressed.
    pub fn log(&self, emit: impl FnOnce(u64)) {
        let now = self.epoch.elapsed().as_millis() as u64;
        let last = self.last_ms.load(Ordering::Relaxed);
        let due = last == u64::MAX || now.saturating_sub(last) >= self.interval_ms;
        if due
            && self
                .last_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            emit(self.suppressed.swap(0, Ordering::Relaxed));
        } else {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limited_log_counts_what_it_leaves_out() {
        let log = RateLimitedLog::new(Duration::from_secs(3600));
        let mut lines = Vec::new();
        for _ in 0..1000 {
            log.log(|skipped| lines.push(skipped));
        }
        assert_eq!(lines, vec![0], "one line per interval");
        assert_eq!(log.suppressed.load(Ordering::Relaxed), 999);
        let fast = RateLimitedLog::new(Duration::ZERO);
        let mut n = 0;
        for _ in 0..5 {
            fast.log(|_| n += 1);
        }
        assert_eq!(n, 5);
    }
}
