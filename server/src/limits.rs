//! Per-address limits, so that one misbehaving device (or someone on the
//! hall's Wi-Fi) cannot crowd out the others: how many connections an
//! address may hold at once, and how many failed enrollment or login attempts
//! it may make in a minute (enrollment codes are short enough to type; this
//! is what makes guessing them hopeless). Also how long any connection may
//! take to accept a frame, so that a tablet that stops reading cannot hold
//! the server's memory or time.

use dashmap::DashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The window in which failed attempts are counted.
const FAILURE_WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy)]
pub struct LimitSettings {
    /// Connections one address may hold at once. Behind a reverse proxy every
    /// tablet shares the proxy's address: raise it there.
    pub connections_per_address: usize,
    /// Failed enrollment or login attempts one address may make per minute.
    pub failures_per_minute: u32,
    /// A client that does not take a frame within this time is dropped.
    /// Short enough that a stuck tablet is let go within a vote; long
    /// enough for a tablet on poor Wi-Fi.
    pub send_timeout: Duration,
    /// How often a logged-in connection is pinged. A connection that sends
    /// nothing, not even the pong every WebSocket client answers by itself,
    /// for [`SILENT_PINGS`] intervals is given up: a tablet whose Wi-Fi
    /// vanished without closing would otherwise hold its connection until
    /// TCP gives up, hours later, while nothing is broadcast.
    pub ping_interval: Duration,
    /// How long a session's `document_access` token still opens documents
    /// after the session ended: a download started just before a tablet
    /// reconnects completes, while a token copied out of a closed session
    /// soon opens nothing.
    pub document_access_grace: Duration,
}

/// Unanswered pings after which a connection is given up as gone.
pub const SILENT_PINGS: u32 = 3;

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            connections_per_address: 64,
            failures_per_minute: 20,
            send_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(20),
            document_access_grace: Duration::from_secs(5 * 60),
        }
    }
}

pub struct AddressLimits {
    settings: LimitSettings,
    connections: DashMap<IpAddr, usize>,
    failures: DashMap<IpAddr, (Instant, u32)>,
}

/// Held by a connection for as long as it lives; gives its slot back on drop.
pub struct ConnectionPermit {
    limits: Arc<AddressLimits>,
    ip: IpAddr,
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let emptied = self
            .limits
            .connections
            .get_mut(&self.ip)
            .is_some_and(|mut n| {
                *n -= 1;
                *n == 0
            });
        if emptied {
            self.limits.connections.remove_if(&self.ip, |_, n| *n == 0);
        }
    }
}

impl AddressLimits {
    pub fn new(settings: LimitSettings) -> Arc<AddressLimits> {
        Arc::new(AddressLimits {
            settings,
            connections: DashMap::new(),
            failures: DashMap::new(),
        })
    }

    /// A slot for one more connection from `ip`, or `None` when it holds too many.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<ConnectionPermit> {
        let mut held = self.connections.entry(ip).or_insert(0);
        if *held >= self.settings.connections_per_address {
            return None;
        }
        *held += 1;
        drop(held);
        Some(ConnectionPermit {
            limits: self.clone(),
            ip,
        })
    }

    pub fn send_timeout(&self) -> Duration {
        self.settings.send_timeout
    }

    pub fn ping_interval(&self) -> Duration {
        self.settings.ping_interval
    }

    pub fn document_access_grace(&self) -> Duration {
        self.settings.document_access_grace
    }

    /// Counts a failed attempt from `ip`.
    pub fn record_failure(&self, ip: IpAddr) {
        let now = Instant::now();
        let mut entry = self.failures.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) > FAILURE_WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }

    /// Whether `ip` has used up its failed attempts for this minute.
    pub fn blocked(&self, ip: IpAddr) -> bool {
        self.failures.get(&ip).is_some_and(|entry| {
            entry.1 >= self.settings.failures_per_minute
                && Instant::now().duration_since(entry.0) <= FAILURE_WINDOW
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_counted_per_address_and_given_back() {
        let limits = AddressLimits::new(LimitSettings {
            connections_per_address: 2,
            failures_per_minute: 1,
            ..LimitSettings::default()
        });
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = limits.admit(a).expect("first");
        let _second = limits.admit(a).expect("second");
        assert!(
            limits.admit(a).is_none(),
            "a third from the same address is refused"
        );
        assert!(limits.admit(b).is_some(), "another address is not affected");
        drop(first);
        assert!(
            limits.admit(a).is_some(),
            "a closed connection frees its slot"
        );
    }

    #[test]
    fn failures_block_an_address_for_the_rest_of_the_minute() {
        let limits = AddressLimits::new(LimitSettings {
            connections_per_address: 1,
            failures_per_minute: 3,
            ..LimitSettings::default()
        });
        let ip: IpAddr = "10.0.0.9".parse().unwrap();
        for _ in 0..2 {
            limits.record_failure(ip);
        }
        assert!(!limits.blocked(ip));
        limits.record_failure(ip);
        assert!(limits.blocked(ip));
        assert!(!limits.blocked("10.0.0.10".parse().unwrap()));
    }
}
