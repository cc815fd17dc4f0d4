//! The Gavel hub: the `gavel` binary's library.
//!
//! # Where a ballot goes
//!
//! 1. [`app`] accepts the WebSocket on `/ws` and hands it to
//!    [`connection`], one task per socket, which logs the device in
//!    (challenge and signature) and parses each frame.
//! 2. [`connection`] checks the ballot's signature on the [`signatures`]
//!    pool and sends a [`hub::Command::Cast`] to the meeting's actor.
//! 3. [`hub::actor`] asks [`hub::round`] whether the ballot may enter
//!    (`admit`: the open round, the server's deadline, check-in, sequence,
//!    change allowed) and queues it for [`hub::writer`].
//! 4. [`hub::writer`] commits ballots in groups through [`store`] (SQLite or
//!    PostgreSQL, one transaction with its audit entry), then signs their
//!    receipts on the [`signatures`] pool
//!    (`gavel_protocol::messages::Receipt::issue`).
//! 5. Back in [`hub::actor`], the ballot counts and its receipt goes back
//!    to the connection; [`hub::pacing`] decides when the running tally
//!    reaches the hall screen, the chair's console and the tablets. If the
//!    store fails, [`hub::outage`] reads it back until it answers.
//! 6. When the round closes, the actor commits the tally with
//!    `gavel_protocol::rules` and [`store`] in one transaction, and
//!    broadcasts the result; [`export`] later turns the store into a record
//!    that `gavel verify` checks offline.
//!
//! Why the hub is built this way, step by step and with what it measured:
//! `docs/architecture.md`.
//!
//! # Map of the crate
//!
//! - [`meeting`]: the secretary's meeting definition file (TOML), parsed and checked.
//! - [`store`]: durable state in SQLite (embedded default) or PostgreSQL.
//! - [`hub`]: one actor per meeting, its round, pacing and outage rules, and
//!   the group-commit ballot writer.
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
//! - [`data_lock`]: one `gavel` process per data directory.
//! - [`keyfile`]: private key files, readable by the server's user alone.
//! - [`export`]: `gavel export`, a meeting's record as a verifiable bundle,
//!   with its results table and minutes.
//! - [`documents`]: the agenda items' documents, checked at import or upload
//!   (`secretariat`'s documents calls) and served by hash.
//! - [`demo`]: `gavel demo`, a live session with simulated tablets.
//! - [`clock`]: the server's clock, which alone decides the voting window.
//! - [`ready_file`]: `--ready-file`, where a started server says it listens.
//! - [`tokens`]: the document access and record download tokens every node honours.

pub mod app;
pub mod clock;
pub mod config;
pub mod connection;
pub mod data_lock;
pub mod demo;
pub mod documents;
pub mod enrollment;
pub mod export;
pub mod health;
pub mod hub;
pub mod keyfile;
pub mod limits;
pub mod meeting;
pub mod metrics;
pub mod ready_file;
pub mod roster;
pub mod secretariat;
pub mod signatures;
pub mod store;
pub mod tls;
pub mod tokens;
pub mod web;

pub use app::run;
