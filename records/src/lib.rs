//! A meeting's record after the session, in a form that needs neither the
//! database nor the server to be read or checked.
//!
//! Everything here depends only on `gavel-protocol` (the signed layouts and
//! the tally rules), so that whoever checks a record runs the same rules the
//! hub ran, and nothing else.
//!
//! Map of the crate:
//! - [`minutes`]: the published results of a session: the results table
//!   (CSV) and the printable minutes (HTML for A4), made from a plain
//!   [`minutes::Session`].

pub mod minutes;
