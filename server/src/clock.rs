//! The server's clock. The voting window is the server's: every deadline and
//! every receipt time is read from here, never from a tablet.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, in Unix milliseconds.
pub fn now_ms() -> u64 {
    now_us() / 1000
}

/// Now, in Unix microseconds: for timing what takes less than a millisecond
/// to tell apart, such as a tally's fan-out.
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// The tokio instant at which the Unix-millisecond `deadline` falls, so that
/// a deadline stored in the database can drive a timer after a restart.
pub fn instant_of(deadline: u64) -> tokio::time::Instant {
    let now_ms = now_ms();
    let now = tokio::time::Instant::now();
    if deadline > now_ms {
        now + std::time::Duration::from_millis(deadline - now_ms)
    } else {
        now
    }
}
