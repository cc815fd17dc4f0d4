//! The Gavel hub.
//!
//! Map of the crate:
//! - [`meeting`]: the secretary's meeting definition file (TOML), parsed and checked.
//! - [`store`]: durable state in SQLite (embedded default) or PostgreSQL.
//! - [`hub`]: one actor per meeting, and the group-commit ballot writer.
//! - [`connection`]: one task per WebSocket connection: login, signature
//!   checks, requests and broadcasts.
//! - [`signatures`]: one thread per core that checks ballots' signatures and
//!   signs receipts.
//! - [`app`]: the HTTP router and the server's lifecycle (start, graceful stop).
//! - [`tls`]: HTTPS and WSS: certificate files or a generated self-signed
//!   certificate, and the listener that does the handshakes.
//! - [`web`]: the tablet, chair console and hall screen web apps, embedded.
//! - [`enrollment`]: one-time enrollment codes.
//! - [`health`]: `/healthz`, `/readyz` and `/metrics`, for the operator's tools.
//! - [`metrics`]: the counters and histograms behind `/metrics`.
//! - [`limits`]: connections and failed attempts per address.
//! - [`config`]: settings from file, environment and flags; the server's key.
//! - [`export`]: `gavel export`, a meeting's record as a verifiable bundle,
//!   with its results table and minutes.
//! - [`demo`]: `gavel demo`, a live session with simulated tablets.
//! - [`clock`]: the server's clock, which alone decides the voting window.
//! - [`ready_file`]: `--ready-file`, where a started server says it listens.

pub mod app;
pub mod clock;
pub mod config;
pub mod connection;
pub mod demo;
pub mod enrollment;
pub mod export;
pub mod health;
pub mod hub;
pub mod limits;
pub mod meeting;
pub mod metrics;
pub mod ready_file;
pub mod signatures;
pub mod store;
pub mod tls;
pub mod web;

pub use app::run;
