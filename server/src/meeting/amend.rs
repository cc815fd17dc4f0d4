//! What an amendment of a stored meeting may change, given what its record
//! already holds: the one set of rules for every change of a stored
//! definition (the secretariat's form, a document uploaded, the chair's
//! edit of a paper's list), applied by the store in the transaction that
//! writes the change ([`crate::store::Store::amend_meeting`]), so that
//! nothing recorded meanwhile escapes them.
//!
//! The record names agenda items by their index, so the rules keep every
//! item it points at where it is:
//!
//! - **An item with a round** (open, closed, voided, or a result by hand)
//!   was voted on as it stands: its title, kind, vote, list, documents and
//!   questions never change, and it neither moves nor goes (`item_voted`).
//! - **An item the record points at otherwise** (a stored document version,
//!   a request or turn at the floor) keeps its place and its kind; the
//!   agenda may grow after it, not shrink under it (`item_recorded`).
//! - **Once a round was held** the seats' count, the quorum, the labels and
//!   the counting board are what it was held under (`meeting_started`);
//!   names, groups and offices may be corrected. Once the floor was used,
//!   its registered questions (numbered across the meeting) and its
//!   respondents (by position) stay, though respondents may be added.
//! - **Seats' keys** are bound by enrollment or an import, never by an
//!   edit: an amendment that changes one is refused (`invalid`).
//!
//! Before any of this, anything the meeting file can say may change.

use super::{DocumentSource, MeetingDefinition, RegisteredQuestion};
use gavel_protocol::messages::ItemView;
use std::collections::BTreeSet;

/// What the record holds of a meeting, by agenda item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Items with any round.
    pub voted: BTreeSet<u32>,
    /// Items with a stored document version.
    pub documents: BTreeSet<u32>,
    /// Items a request or turn at the floor was for.
    pub floor_items: BTreeSet<u32>,
    /// Whether anything happened at the floor.
    pub floor_used: bool,
}

/// Why an amendment is refused: each names the item or the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmendRefusal {
    #[error(
        "agenda item {} ({title:?}) has been voted on: it can no longer change, move or be removed",
        item + 1
    )]
    ItemVoted { item: u32, title: String },
    #[error(
        "agenda item {} ({title:?}) has {what} in the record: it keeps its place and its kind; add new items after it",
        item + 1
    )]
    ItemRecorded {
        item: u32,
        title: String,
        what: &'static str,
    },
    #[error("{field} can no longer change: {why}")]
    MeetingStarted {
        field: &'static str,
        why: &'static str,
    },
    #[error("{message}")]
    Invalid { field: String, message: String },
}

/// Checks `new` as an amendment of `old` against what is `recorded`; the
/// items it changes (see [`changed_items`]), or why it is refused.
pub fn check(
    old: &MeetingDefinition,
    new: &MeetingDefinition,
    recorded: &Recorded,
) -> Result<Vec<u32>, AmendRefusal> {
    if old.id != new.id {
        return Err(AmendRefusal::Invalid {
            field: "id".to_owned(),
            message: format!(
                "a meeting's id does not change (it is {}); copy the meeting under a new id instead",
                old.id
            ),
        });
    }
    for (i, seat) in new.seats.iter().enumerate() {
        if let Some(before) = old.seat(seat.number)
            && before.public_key != seat.public_key
        {
            return Err(AmendRefusal::Invalid {
                field: format!("seats[{i}].public_key"),
                message: format!(
                    "seat {}'s device key is bound by enrollment or an import, not by an edit",
                    seat.number
                ),
            });
        }
    }
    for &item in &recorded.voted {
        if !same_item(old, new, item) {
            return Err(AmendRefusal::ItemVoted {
                item,
                title: title_of(old, item),
            });
        }
    }
    let pointed = recorded
        .documents
        .iter()
        .map(|&i| (i, "stored documents"))
        .chain(
            recorded
                .floor_items
                .iter()
                .map(|&i| (i, "its floor history")),
        );
    for (item, what) in pointed {
        let kept = match (old.item(item), new.item(item)) {
            (Some(before), Some(after)) => before.kind == after.kind,
            (None, _) => true,
            (Some(_), None) => false,
        };
        if !kept {
            return Err(AmendRefusal::ItemRecorded {
                item,
                title: title_of(old, item),
                what,
            });
        }
    }
    if !recorded.voted.is_empty() {
        let why = "a round has been held under it";
        let fixed: [(&'static str, bool); 4] = [
            ("total_seats", old.total_seats == new.total_seats),
            ("quorum", old.quorum == new.quorum),
            ("labels", old.labels == new.labels),
            (
                "counting_board",
                old.counting_board == new.counting_board
                    && old.confirmations_required == new.confirmations_required,
            ),
        ];
        if let Some((field, _)) = fixed.iter().find(|(_, same)| !same) {
            return Err(AmendRefusal::MeetingStarted { field, why });
        }
    }
    if recorded.floor_used {
        let why = "the floor has been used, and its record numbers them";
        if old.questions != new.questions {
            return Err(AmendRefusal::MeetingStarted {
                field: "questions",
                why,
            });
        }
        if !new.respondents.starts_with(&old.respondents) {
            return Err(AmendRefusal::MeetingStarted {
                field: "respondents",
                why,
            });
        }
    }
    Ok(changed_items(old, new))
}

/// The items whose content differs between `old` and `new` (title, kind,
/// topic, vote, list, documents, questions), those added, and those
/// removed (by their old index), in order.
pub fn changed_items(old: &MeetingDefinition, new: &MeetingDefinition) -> Vec<u32> {
    let count = old.agenda.len().max(new.agenda.len());
    (0..u32::try_from(count).expect("fewer than 2^32 items"))
        .filter(|&i| !same_item(old, new, i))
        .collect()
}

/// Whether item `index` is the same in both, documents and questions too.
fn same_item(old: &MeetingDefinition, new: &MeetingDefinition, index: u32) -> bool {
    let of = |d: &MeetingDefinition| -> Option<(ItemView, Vec<DocumentSource>, Vec<RegisteredQuestion>)> {
        Some((
            d.item(index)?.clone(),
            d.documents.iter().filter(|x| x.item == index).cloned().collect(),
            d.questions.iter().filter(|x| x.item == index).cloned().collect(),
        ))
    };
    of(old) == of(new)
}

fn title_of(definition: &MeetingDefinition, item: u32) -> String {
    definition
        .item(item)
        .map_or_else(String::new, |i| i.title.clone())
}
