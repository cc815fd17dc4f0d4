//! The meeting as the server last described it.
//!
//! The server sends whole snapshots when the meeting's structure changes and
//! coalesced tally updates in between, all carrying one growing `version`.
//! Applying them here, in order and ignoring anything older than what is
//! already shown, is all a client needs to do to stay in sync.

use gavel_protocol::board::ToConfirm;
use gavel_protocol::documents;
use gavel_protocol::floor::FloorView;
use gavel_protocol::messages::{
    AnyReceipt, PaperReceipt, Receipt, RoundStatus, RoundView, Snapshot,
};
use gavel_protocol::{RoundId, ServerMsg, Sha, rules::Counts};

#[derive(Debug, Clone, Default)]
pub struct MeetingState {
    /// The last snapshot, with any later tally updates folded in.
    pub snapshot: Option<Snapshot>,
    /// The highest version applied.
    pub version: u64,
    /// This delegate's own state (absent for watchers and the chair).
    pub checked_in: bool,
    pub my_ballot: Option<Receipt>,
    /// This delegate's recorded paper, in a round on a list.
    pub my_paper: Option<PaperReceipt>,
    /// The session's token for the meeting's delegates-only documents
    /// (`document_access`); absent for watchers.
    pub document_access: Option<String>,
    /// The floor on the item under discussion, as last sent.
    pub floor: Option<FloorView>,
    /// For a counting board member: the count the server asks it to
    /// confirm, as the last `you` said.
    pub to_confirm: Option<ToConfirm>,
}

impl MeetingState {
    /// Folds a server frame into the state; returns whether anything changed.
    pub fn apply(&mut self, msg: &ServerMsg) -> bool {
        match msg {
            ServerMsg::Snapshot(snapshot) => {
                if snapshot.version < self.version {
                    return false;
                }
                // A new round makes the previous round's receipt stale.
                if let Some(round) = &snapshot.round {
                    if self.my_ballot.as_ref().is_some_and(|b| b.round != round.id) {
                        self.my_ballot = None;
                    }
                    if self.my_paper.as_ref().is_some_and(|p| p.round != round.id) {
                        self.my_paper = None;
                    }
                }
                self.version = snapshot.version;
                self.snapshot = Some(Snapshot::clone(snapshot));
                true
            }
            ServerMsg::Tally {
                version,
                round,
                live,
                ..
            } => {
                if *version <= self.version {
                    return false;
                }
                let Some(view) = self.round_mut().filter(|r| r.id == *round) else {
                    return false;
                };
                view.live = Some(live.clone());
                self.version = *version;
                true
            }
            ServerMsg::You {
                checked_in,
                ballot,
                to_confirm,
                ..
            } => {
                self.checked_in = *checked_in;
                self.to_confirm = to_confirm.clone();
                (self.my_ballot, self.my_paper) = match ballot.clone() {
                    None => (None, None),
                    Some(AnyReceipt::Choice(r)) => (Some(r), None),
                    Some(AnyReceipt::Paper(p)) => (None, Some(p)),
                };
                true
            }
            ServerMsg::Ack { receipt, .. } => {
                self.my_ballot = Some(receipt.clone());
                true
            }
            ServerMsg::PaperAck { paper_receipt, .. } => {
                self.my_paper = Some(paper_receipt.clone());
                true
            }
            ServerMsg::Floor(floor) => {
                if self
                    .floor
                    .as_ref()
                    .is_some_and(|f| f.version > floor.version)
                {
                    return false;
                }
                self.floor = Some(floor.clone());
                true
            }
            ServerMsg::DocumentAccess { token } => {
                self.document_access = Some(token.clone());
                true
            }
            _ => false,
        }
    }

    pub fn round(&self) -> Option<&RoundView> {
        self.snapshot.as_ref()?.round.as_ref()
    }

    fn round_mut(&mut self) -> Option<&mut RoundView> {
        self.snapshot.as_mut()?.round.as_mut()
    }

    /// The documents digest a ballot for `round` signs: the one the round
    /// recorded, when it is the round this client knows. A ballot for
    /// another round is refused for its round whatever it signs, so it gets
    /// the digest of no documents.
    pub fn documents_digest(&self, round: RoundId) -> Sha {
        self.round()
            .filter(|r| r.id == round)
            .and_then(|r| r.versions.as_ref())
            .map_or_else(|| documents::digest(&[]), |v| v.digest)
    }

    /// The round that is open for voting now, if any.
    pub fn open_round(&self) -> Option<&RoundView> {
        self.round().filter(|r| r.status == RoundStatus::Open)
    }

    /// The running totals, where this client may see them.
    pub fn live_counts(&self) -> Option<Counts> {
        self.open_round()?.live.as_ref()?.counts
    }
}
