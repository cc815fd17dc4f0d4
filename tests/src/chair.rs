//! What a test's chair does with the example meeting: pick an item by how
//! it is voted, and open a round on it, as the console would.

use gavel_client::Session;
use gavel_protocol::RoundId;
use gavel_protocol::messages::ChairCommand;
use gavel_protocol::rules::{Secrecy, VoteSettings};

/// The first agenda item whose vote settings are `wanted`.
pub fn item_where(session: &Session, wanted: impl Fn(&VoteSettings) -> bool) -> u32 {
    session
        .meeting
        .agenda
        .iter()
        .find(|i| i.vote.as_ref().is_some_and(&wanted))
        .expect("the example meeting has an item voted that way")
        .index
}

/// The first item voted with `secrecy` that allows a change of vote: the
/// tests' usual subject.
pub fn changeable_item(session: &Session, secrecy: Secrecy) -> u32 {
    item_where(session, |v| v.secrecy == secrecy && v.allow_change)
}

/// Moves to `item` and opens a vote of `window_seconds`; returns the new round's id.
pub async fn open_round(
    chair: &mut Session,
    item: u32,
    window_seconds: u32,
) -> anyhow::Result<RoundId> {
    chair.chair(ChairCommand::SetItem { item }).await?;
    chair
        .chair(ChairCommand::Open {
            window_seconds: Some(window_seconds),
        })
        .await?;
    Ok(chair.state.open_round().expect("the round is open").id)
}
