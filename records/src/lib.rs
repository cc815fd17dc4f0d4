//! A meeting's record after the session, in a form that needs neither the
//! database nor the server to be read or checked.
//!
//! Everything here depends only on `gavel-protocol` (the signed layouts and
//! the tally rules), so that whoever checks a record runs the same rules the
//! hub ran, and nothing else.
//!
//! Map of the crate:
//! - [`chain`]: the audit chain's entries, their hashes and the check of
//!   its links;
//! - [`bundle`]: the export bundle, one meeting's whole record as JSON;
//! - [`verify`]: the independent check of a bundle, every mismatch named;
//! - [`minutes`]: the published results of a session: the results table
//!   (CSV) and the printable minutes (HTML for A4), made from a plain
//!   [`minutes::Session`].

pub mod bundle;
pub mod chain;
pub mod minutes;
pub mod verify;
