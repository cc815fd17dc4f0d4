//! The server's metrics, for Prometheus: what an IT department watches.
//!
//! | metric | what it counts |
//! |---|---|
//! | `gavel_connections{role}` | logged-in connections now, by role: `delegate`, `chair`, `watcher` |
//! | `gavel_ballots_accepted_total` | ballots committed and acknowledged |
//! | `gavel_ballots_refused_total{reason}` | ballots refused, by the protocol's refusal reason (`late`, `stale_sequence`, ...) |
//! | `gavel_ballot_batch_size` | ballots per group commit (histogram) |
//! | `gavel_ballot_commit_seconds` | time to commit a batch, retries included (histogram) |
//! | `gavel_ballot_ack_seconds` | time from a ballot's frame being read to its acknowledgement being ready to send: signature checked, ballot committed, receipt signed (histogram; one observation per acknowledgement, a resent ballot's too) |
//! | `gavel_broadcast_seconds` | time from the meeting's actor sending a tally or snapshot to one connection's socket taking it (histogram; one observation per frame and connection) |
//! | `gavel_rounds_open` | vote rounds open now |
//! | `gavel_audience_writes_total` | writes of a hosted meeting's public frames to the store, for the other nodes to relay (PostgreSQL only) |
//! | `gavel_audience_write_bytes_total` | the frames' bytes in those writes |
//! | `gavel_audience_write_seconds` | time of one such write, the wait for a connection of the pool included (histogram) |
//!
//! One set per process, in a static, so that the hot paths record with an
//! atomic add (counters, gauges) or a short lock (histograms) and nothing is
//! passed through constructors. Labels come from two fixed, small sets, a
//! connection's role and a refusal's reason: nothing is labelled by seat,
//! device or choice, so the metrics of a secret round tell only how many
//! ballots were recorded, which the hall sees anyway.
//!
//! Rendered in the OpenMetrics text format, which Prometheus reads.

use gavel_protocol::RefusalReason;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::fmt::Write as _;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

/// The content type of what [`render`] returns.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Who a logged-in connection speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Delegate,
    Chair,
    Watcher,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Delegate => "delegate",
            Role::Chair => "chair",
            Role::Watcher => "watcher",
        }
    }
}

impl EncodeLabelValue for Role {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

/// A refusal reason as a label value: its name on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Reason(RefusalReason);

impl EncodeLabelValue for Reason {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        let name = serde_json::to_value(self.0).map_err(|_| std::fmt::Error)?;
        encoder.write_str(name.as_str().ok_or(std::fmt::Error)?)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RoleLabel {
    role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ReasonLabel {
    reason: Reason,
}

struct Metrics {
    registry: Registry,
    connections: Family<RoleLabel, Gauge>,
    ballots_accepted: Counter,
    ballots_refused: Family<ReasonLabel, Counter>,
    batch_size: Histogram,
    commit_seconds: Histogram,
    ack_seconds: Histogram,
    broadcast_seconds: Histogram,
    rounds_open: Gauge,
    audience_writes: Counter,
    audience_write_bytes: Counter,
    audience_write_seconds: Histogram,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::default();
    let connections = Family::<RoleLabel, Gauge>::default();
    // Every role from the start, so that a dashboard shows 0, not nothing.
    for role in [Role::Delegate, Role::Chair, Role::Watcher] {
        let _ = connections.get_or_create(&RoleLabel { role });
    }
    registry.register(
        "gavel_connections",
        "Logged-in WebSocket connections, by role",
        connections.clone(),
    );
    let ballots_accepted = Counter::default();
    registry.register(
        "gavel_ballots_accepted",
        "Ballots committed to the store and acknowledged",
        ballots_accepted.clone(),
    );
    let ballots_refused = Family::<ReasonLabel, Counter>::default();
    registry.register(
        "gavel_ballots_refused",
        "Ballots refused, by the protocol's refusal reason",
        ballots_refused.clone(),
    );
    // 1 to 1024 ballots: the writer's largest batch is 1024.
    let batch_size = Histogram::new(exponential_buckets(1.0, 2.0, 11));
    registry.register(
        "gavel_ballot_batch_size",
        "Ballots per group commit",
        batch_size.clone(),
    );
    // 0.5 ms to 4 s.
    let commit_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 14));
    registry.register(
        "gavel_ballot_commit_seconds",
        "Time to commit a batch of ballots, retries included",
        commit_seconds.clone(),
    );
    let ack_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 14));
    registry.register(
        "gavel_ballot_ack_seconds",
        "Time from a ballot's frame being read to its acknowledgement being ready to send",
        ack_seconds.clone(),
    );
    let broadcast_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 14));
    registry.register(
        "gavel_broadcast_seconds",
        "Time from a meeting broadcasting a tally or snapshot to a connection's socket taking it",
        broadcast_seconds.clone(),
    );
    let rounds_open = Gauge::default();
    registry.register("gavel_rounds_open", "Vote rounds open", rounds_open.clone());
    let audience_writes = Counter::default();
    registry.register(
        "gavel_audience_writes",
        "Writes of a hosted meeting's public frames to the store, for the other nodes to relay",
        audience_writes.clone(),
    );
    let audience_write_bytes = Counter::default();
    registry.register(
        "gavel_audience_write_bytes",
        "Bytes of the public frames written to the store for the other nodes to relay",
        audience_write_bytes.clone(),
    );
    let audience_write_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 14));
    registry.register(
        "gavel_audience_write_seconds",
        "Time to write a hosted meeting's public frames to the store",
        audience_write_seconds.clone(),
    );
    Metrics {
        registry,
        connections,
        ballots_accepted,
        ballots_refused,
        batch_size,
        commit_seconds,
        ack_seconds,
        broadcast_seconds,
        rounds_open,
        audience_writes,
        audience_write_bytes,
        audience_write_seconds,
    }
});

/// Every metric in the OpenMetrics text format ([`CONTENT_TYPE`]).
pub fn render() -> String {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &METRICS.registry)
        .expect("writing to a String does not fail");
    text
}

/// A batch of `size` ballots committed after `took`.
pub fn ballots_committed(size: usize, took: Duration) {
    let m = &*METRICS;
    m.ballots_accepted.inc_by(size as u64);
    m.batch_size.observe(size as f64);
    m.commit_seconds.observe(took.as_secs_f64());
}

/// A ballot whose frame was read at `read_at` has its acknowledgement ready.
/// The server's share of a tablet's wait; the rest is the network and the
/// tablet itself.
pub fn ballot_acknowledged(read_at: Instant) {
    METRICS.ack_seconds.observe(read_at.elapsed().as_secs_f64());
}

/// A ballot refused, for `reason`.
pub fn ballot_refused(reason: RefusalReason) {
    METRICS
        .ballots_refused
        .get_or_create(&ReasonLabel {
            reason: Reason(reason),
        })
        .inc();
}

/// A broadcast frame sent at `sent_at` was taken by one connection's socket.
pub fn broadcast_written(sent_at: Instant) {
    METRICS
        .broadcast_seconds
        .observe(sent_at.elapsed().as_secs_f64());
}

/// A hosted meeting's public frames, `bytes` long, were written to the
/// store after `took`: what relaying the audience through the store costs
/// the node that hosts the meeting, and the database.
pub fn audience_written(bytes: usize, took: Duration) {
    let m = &*METRICS;
    m.audience_writes.inc();
    m.audience_write_bytes.inc_by(bytes as u64);
    m.audience_write_seconds.observe(took.as_secs_f64());
}

/// Counts a logged-in connection for as long as it is held.
pub struct Connected(Gauge);

impl Connected {
    pub fn new(role: Role) -> Connected {
        let gauge = METRICS
            .connections
            .get_or_create(&RoleLabel { role })
            .clone();
        gauge.inc();
        Connected(gauge)
    }
}

impl Drop for Connected {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Counts an open vote round for as long as it is held: dropped when the
/// round ends, or with its meeting's actor.
pub struct OpenRound(());

impl OpenRound {
    pub fn begin() -> OpenRound {
        METRICS.rounds_open.inc();
        OpenRound(())
    }
}

impl Drop for OpenRound {
    fn drop(&mut self) {
        METRICS.rounds_open.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The labels of every sample: only `role`, `reason` and the
    /// histograms' `le`, never anything that could name a seat or a choice.
    #[test]
    fn metrics_carry_no_label_but_role_reason_and_le() {
        ballot_refused(RefusalReason::StaleSequence);
        ballots_committed(3, Duration::from_millis(2));
        let _connected = Connected::new(Role::Delegate);
        let text = render();
        assert!(
            text.contains("gavel_ballots_refused_total{reason=\"stale_sequence\"}"),
            "{text}"
        );
        assert!(
            text.contains("gavel_connections{role=\"chair\"} 0"),
            "{text}"
        );
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let Some((_, labels)) = line.split_once('{') else {
                continue;
            };
            let labels = &labels[..labels.find('}').expect("labels end")];
            for pair in labels.split(',') {
                let name = pair.split_once('=').expect("name=value").0;
                assert!(matches!(name, "role" | "reason" | "le"), "{line}");
            }
        }
    }
}
