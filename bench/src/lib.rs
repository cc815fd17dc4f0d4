//! Gavel's benchmark: thousands of simulated tablets over real WebSockets,
//! each with its own key, signing real ballots, to measure a Gavel server
//! against the machine's own limits. Nothing shipped depends on this crate;
//! `scripts/bench` runs its `gavel-swarm` binary and writes BENCHMARKS.md.
//!
//! Map of the crate:
//! - [`process`]: a `gavel serve` started for one run, on a scratch data
//!   directory (SQLite) or a given PostgreSQL database, after importing the
//!   roster (`gavel_tests::roster::Roster`, a generated meeting whose seats
//!   carry their public keys) and issuing the chair's enrollment code with
//!   `gavel` itself, so that the swarm needs no access to the server's
//!   internals.
//! - [`swarm`]: the chair opens a vote, the tablets log in and run one
//!   [`swarm::Scenario`] (idle connections, a burst, a sustained load,
//!   fan-out latency, fan-out with a tablet that stops reading); every
//!   tablet runs one loop, reading every frame and timing what it
//!   measures. Ballots are signed before the run, so that the swarm's CPU
//!   during it goes to talking to the server.
//! - [`download`]: the documents at check-in: every tablet fetches the
//!   meeting's document set while a vote runs (a [`swarm::Scenario`]), and
//!   the same bytes from a plain static-file server, its baseline.
//! - [`floor`]: the floor under a full hall: requests timed to the chair's
//!   queue, and each change of turn timed to every tablet as tallies are.
//! - [`papers`]: a confidence paper of thirty officials from every tablet
//!   in a secret round, against a secret yes/no round from the same
//!   tablets: all acknowledged, open to the last acknowledgement, close
//!   to the result (provisional, and announced with a counting board).
//! - [`relay`]: the audience on a relay node: two nodes on PostgreSQL,
//!   public viewers on the one that does not host the meeting, each tally
//!   timed from the host to the last viewer.
//! - [`failover`]: two nodes on PostgreSQL, the meeting's node killed in
//!   each of twenty bursts of ballots and started again: the time from the
//!   kill to the new owner's first acknowledgement, and no acknowledged
//!   ballot lost or counted twice (the chaos test's machinery,
//!   `gavel_tests::failover`).
//! - [`baseline`]: measured by the same binary on the same machine: a
//!   minimal tokio-tungstenite broadcaster (the floor for fan-out),
//!   `verify_strict` on every core (the floor for signature checks), and
//!   batched inserts through sqlx (the ceiling for durable commits).
//! - [`report`]: what a run measured, as a human summary and as JSON, with
//!   the CPU time of server and swarm per acknowledged ballot.
//! - [`measure`]: clocks, CPU time and memory of processes, from /proc.
//!
//! Times are wall-clock Unix time where they cross the server (the
//! `server_time_us` of a `tally` frame, in microseconds, against the
//! kernel's receive stamp), so swarm and server must share a clock (the
//! same machine).

pub mod baseline;
pub mod download;
pub mod failover;
pub mod floor;
pub mod measure;
pub mod papers;
pub mod process;
pub mod relay;
pub mod report;
pub mod swarm;
