//! A secret round's published list (PROTOCOL.md §6.4), fetched over
//! HTTP(S) beside the WebSocket, so that a delegate checks that the ballot
//! it was given a receipt for was counted as cast: its tracker is
//! [`Tracker::of`] the ballot's signature, and the list holds it with its
//! choice.

use crate::tls::Trust;
use crate::view::{ViewError, api_url, http_client};
use gavel_protocol::published::{ListRefused, PublishedList};
use gavel_protocol::{MeetingId, RoundId, Tracker};

/// What a delegate learns by looking their tracker up in the list.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// The list holds the tracker with the vote that was cast.
    Counted,
    /// The list holds the tracker with another vote.
    CountedOtherwise(gavel_protocol::paper::Vote),
    /// The list does not hold the tracker.
    Missing,
}

/// Looks `tracker` up in `list`, expecting `cast`.
pub fn check(list: &PublishedList, tracker: &Tracker, cast: &gavel_protocol::paper::Vote) -> Check {
    match list.find(tracker).and_then(|b| b.vote()) {
        None => Check::Missing,
        Some(vote) if &vote == cast => Check::Counted,
        Some(vote) => Check::CountedOtherwise(vote),
    }
}

/// The published list of `round` of `meeting`, from the server at the
/// WebSocket address `ws_url`, or the server's typed refusal (the result
/// not out yet, an unknown round).
pub async fn fetch(
    trust: &Trust,
    ws_url: &str,
    meeting: &MeetingId,
    round: RoundId,
) -> Result<Result<PublishedList, ListRefused>, ViewError> {
    let http = http_client(trust)?;
    let url = api_url(
        ws_url,
        &format!("api/meetings/{meeting}/rounds/{round}/trackers"),
    )?;
    let response = http.get(url).send().await?;
    let status = response.status();
    let bytes = response.bytes().await?;
    if status.is_success() {
        Ok(Ok(serde_json::from_slice(&bytes)?))
    } else if let Ok(refused) = serde_json::from_slice::<ListRefused>(&bytes) {
        Ok(Err(refused))
    } else {
        Err(ViewError::Status(status.as_u16()))
    }
}
