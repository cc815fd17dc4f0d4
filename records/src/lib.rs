//! A meeting's record after the session, in a form that needs neither the
//! database nor the server to be read or checked.
//!
//! Everything here depends only on `gavel-protocol` (the signed layouts and
//! the tally rules), so that whoever checks a record runs the same rules the
//! hub ran, and nothing else.
