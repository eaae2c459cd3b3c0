//! The only source of "now" in the simulated cloud.
//!
//! Tests and scenario runs pin the clock, so every `iat`, `exp`, reply timestamp and error
//! timestamp is the same from run to run; `mailscope serve` uses the system clock. The clock can be
//! advanced (a refresh token left unused for 90 days, an expired access token) without waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

/// The instant a pinned clock starts at: 2025-04-26T18:08:13Z, the moment of the catalog's
/// canonical SMTP greeting (fidelity: smtp-greeting-ehlo-prestarttls).
pub const DEFAULT_PINNED_UNIX: i64 = 1_745_690_893;

/// A shareable clock: pinned (tests, scenarios) or the system's (`serve`), plus an offset that
/// [`Clock::advance`] moves forward.
///
/// ```
/// use mailscope_mocks::Clock;
///
/// let clock = Clock::pinned(1_000);
/// clock.clone().advance(90);
/// assert_eq!(clock.now_unix(), 1_090);
/// assert!(Clock::system().now_unix() > 1_700_000_000);
/// ```
#[derive(Debug, Clone)]
pub struct Clock {
    pinned_millis: Option<i64>,
    offset_millis: Arc<AtomicI64>,
}

impl Clock {
    /// Returns a clock that stands still at `unix_seconds` until advanced.
    pub fn pinned(unix_seconds: i64) -> Self {
        Self {
            pinned_millis: Some(unix_seconds * 1000),
            offset_millis: Arc::default(),
        }
    }

    /// Returns a clock that follows the system's time.
    pub fn system() -> Self {
        Self {
            pinned_millis: None,
            offset_millis: Arc::default(),
        }
    }

    /// Moves this clock, and every clone of it, forward by `seconds`.
    pub fn advance(&self, seconds: i64) {
        self.offset_millis.fetch_add(seconds * 1000, Ordering::Relaxed);
    }

    /// Returns the current time in milliseconds since the Unix epoch.
    pub fn now_millis(&self) -> i64 {
        let base = match self.pinned_millis {
            Some(millis) => millis,
            None => system_now_millis(),
        };
        base + self.offset_millis.load(Ordering::Relaxed)
    }

    /// Returns the current time in whole seconds since the Unix epoch.
    pub fn now_unix(&self) -> i64 {
        self.now_millis().div_euclid(1000)
    }

    /// Returns the current time as a date.
    pub fn now(&self) -> OffsetDateTime {
        let nanos = i128::from(self.now_millis()) * 1_000_000;
        OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::pinned(DEFAULT_PINNED_UNIX)
    }
}

#[expect(clippy::disallowed_methods, reason = "the one place the system clock is read")]
fn system_now_millis() -> i64 {
    let elapsed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_clock_stands_still_until_advanced() {
        let clock = Clock::pinned(1_000);
        let clone = clock.clone();

        clock.advance(90);

        assert_eq!(clock.now_unix(), 1_090);
        assert_eq!(clone.now_unix(), 1_090);
    }

    #[test]
    fn default_clock_is_the_catalog_greeting_instant() {
        let now = Clock::default().now();
        assert_eq!(now.to_string(), "2025-04-26 18:08:13.0 +00:00:00");
    }
}
