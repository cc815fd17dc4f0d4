//! The Gavel protocol: everything a tablet, the hub and the audit tool must
//! agree on, and nothing that needs a runtime (no tokio, no database).
//!
//! Map of the crate:
//! - [`ids`]: meeting ids, round ids, seats, principals (who a device speaks
//!   for) and SHA-256 hashes.
//! - [`documents`]: which versions of its item's documents a round is
//!   about, and their digest, which every ballot signs.
//! - [`board`]: the counting board's confirmation of a secret round's
//!   count (what a member signs, what the screens see meanwhile).
//! - [`choice`]: the three choices of a ballot and their wire codes.
//! - [`paper`]: ballot papers on a list (election, confidence rating,
//!   no-confidence vote): their kinds, marks and the check against the item.
//! - [`fingerprint`]: a TLS certificate's SHA-256 fingerprint, which a
//!   device pins when the hall's server has a self-signed certificate.
//! - [`signing`]: the fixed binary layouts that are signed (auth challenge,
//!   enrollment, ballot, paper, receipts, a count's confirmation) and Ed25519
//!   keys, signatures and checks.
//! - [`rules`]: vote settings, pass rules and tallies as pure functions;
//!   percentages are of the total seats, as councils report them.
//! - [`results`]: an election's, a rating's or a no-confidence vote's
//!   result from its papers, as pure functions.
//! - [`hand`]: a result counted by hand (a show of hands, or the counting
//!   board's record of a paper vote): its figures checked, and the result
//!   decided from them by the same rules.
//! - [`wording`]: a result in the official words, Vietnamese or English (the
//!   sentence of the minutes, the rule, the verdict), as the web apps word it.
//! - [`floor`]: requests for the floor, turns and their clock, and the
//!   changes the audit chain records.
//! - [`messages`]: the JSON frames exchanged over the WebSocket, and the
//!   typed reasons for every refusal.
//!
//! `PROTOCOL.md` beside this crate describes the same wire format for people
//! who write a tablet in another language; `vectors/` holds hex test vectors
//! for every signed layout.

pub mod board;
pub mod choice;
pub mod documents;
pub mod fingerprint;
pub mod floor;
pub mod hand;
pub mod ids;
pub mod messages;
pub mod paper;
pub mod published;
pub mod results;
pub mod rules;
pub mod signing;
pub mod wording;

pub use choice::Choice;
pub use fingerprint::Fingerprint;
pub use ids::{MeetingId, Principal, RoundId, SeatNo, Sha};
pub use messages::{ClientMsg, RefusalReason, ServerMsg};
pub use rules::{Base, Counts, Rule, TallyResult, Threshold, VoteSettings};
pub use signing::{PublicKey, Signature, Tracker};

/// The protocol version spoken by this crate. Every client frame that opens a
/// session carries it; a mismatch is refused with `unsupported_version`.
///
/// Version 3 added ballot papers on a list (`cast_paper`); version 4 signs
/// the digest of the round's documents in every ballot and paper.
pub const PROTOCOL_VERSION: u32 = 4;

/// The largest frame, in bytes, a server accepts from a client. A ballot frame
/// is about 400 bytes; anything near this limit is a mistake or an attack.
pub const MAX_CLIENT_FRAME_BYTES: usize = 16 * 1024;
