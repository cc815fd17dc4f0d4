//! Gavel's client library: everything a delegate's device or the chair's
//! console does, over the real WebSocket protocol. The `gavel-tablet`
//! command line, the demo's simulated delegates and the benchmark swarm
//! (`gavel-bench`) are built on it; it knows nothing of either.
//!
//! Map of the crate:
//! - [`arrival`]: the kernel's arrival time of a socket's bytes, so that the
//!   benchmark swarm times a frame's arrival at a tablet rather than when
//!   its task, one of thousands on shared cores, got round to reading it.
//! - [`client`]: connect, enroll, log in or watch, then a [`client::Session`]
//!   that checks in, casts signed ballots, sends chair commands and keeps
//!   the meeting's live [`state::MeetingState`] up to date.
//! - [`state`]: the meeting as the server last described it, rebuilt from
//!   snapshots and versioned tally updates.
//! - [`credentials`]: a device's key and enrollment, saved in a file.
//! - [`tls`]: which server certificates a device accepts over `wss://`
//!   (a pinned fingerprint, an organisation's CA, or public authorities).
//! - [`view`]: the meeting view (roster, agenda), fetched over HTTP(S) once
//!   per hash named in `welcome`, checked, and shared between sessions.
//! - [`reconnect`]: getting a ballot recorded over a connection that comes
//!   and goes: jittered backoff, a fresh login and the same ballot resent
//!   until its receipt arrives (issue 5, "Wi-Fi drops").
//! - [`sim`]: simulated delegates that check in and vote on their own, for
//!   `gavel demo` and load tests.

pub mod arrival;
pub mod client;
pub mod credentials;
pub mod published;
pub mod reconnect;
pub mod sim;
pub mod state;
pub mod tls;
pub mod view;

pub use client::{Client, ClientError, Session};
pub use credentials::Credentials;
pub use state::MeetingState;
pub use tls::Trust;
pub use view::ViewCache;
