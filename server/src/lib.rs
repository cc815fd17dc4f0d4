//! The Gavel hub.
//!
//! Map of the crate:
//! - [`meeting`]: the secretary's meeting definition file (TOML), parsed and checked.
//! - [`store`]: durable state in SQLite (embedded default) or PostgreSQL.

pub mod meeting;
pub mod store;
