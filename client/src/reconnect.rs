//! Getting a ballot recorded over a connection that comes and goes (issue 5,
//! "Wi-Fi drops"), as PROTOCOL.md §11 asks of a tablet: reconnect after a
//! growing, jittered delay, log in again (which brings a fresh snapshot and
//! `you`), and if `you.ballot` is not the ballot that was being sent, send
//! the same ballot again. The same round, choice and seq make the same
//! signature, and the server answers an identical ballot with the receipt it
//! already gave, so a ballot whose acknowledgement was lost counts once.

use crate::client::{Client, ClientError};
use ed25519_dalek::SigningKey;
use gavel_protocol::messages::Receipt;
use gavel_protocol::{Choice, MeetingId, RefusalReason, RoundId};
use rand::Rng;
use std::time::Duration;

/// Growing waits between reconnection attempts: a step that starts at
/// 0.25 s and doubles up to 5 s, each wait drawn uniformly between zero and
/// the step ("full jitter"), so that a hall full of tablets that lost the
/// same access point does not come back in the same instant.
#[derive(Debug, Clone)]
pub struct Backoff {
    step: Duration,
}

impl Backoff {
    pub const FIRST: Duration = Duration::from_millis(250);
    pub const LONGEST: Duration = Duration::from_secs(5);

    /// The wait before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let delay = rand::thread_rng().gen_range(Duration::ZERO..=self.step);
        self.step = (self.step * 2).min(Self::LONGEST);
        delay
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { step: Self::FIRST }
    }
}

/// Whether an error means the connection is gone (rather than a refusal or a
/// broken server), so that reconnecting may help.
pub fn is_lost(error: &ClientError) -> bool {
    match error {
        ClientError::Connection(_) | ClientError::Closed => true,
        ClientError::View(e) => e.is_lost(),
        ClientError::Refused { reason, .. } => *reason == RefusalReason::ShuttingDown,
        ClientError::Protocol(_)
        | ClientError::Tls(_)
        | ClientError::NoOpenRound
        | ClientError::NotADelegate
        | ClientError::BadReceipt => false,
    }
}

/// Logs `key` in to `meeting` at `url` and makes sure the ballot (`round`,
/// `choice`, `seq`) is recorded, reconnecting after `backoff`'s delays for
/// as long as the connection is lost or the store is unavailable (the
/// server did not record the ballot then and asks for it again). Returns the
/// verified receipt; any other error, a refusal of the ballot included, is
/// final.
pub async fn cast_until_recorded(
    url: &str,
    meeting: &MeetingId,
    key: &SigningKey,
    round: RoundId,
    choice: Choice,
    seq: u64,
    backoff: &mut Backoff,
) -> Result<Receipt, ClientError> {
    loop {
        match cast_once(url, meeting, key, round, choice, seq).await {
            Err(e) if is_lost(&e) || e.reason() == Some(RefusalReason::StoreUnavailable) => {
                tracing::debug!(error = %e, "reconnecting to resend a ballot");
                tokio::time::sleep(backoff.next_delay()).await;
            }
            done => return done,
        }
    }
}

async fn cast_once(
    url: &str,
    meeting: &MeetingId,
    key: &SigningKey,
    round: RoundId,
    choice: Choice,
    seq: u64,
) -> Result<Receipt, ClientError> {
    let client = Client::connect(url).await?;
    let server_key = client.server_key();
    let mut session = client.login(meeting, key).await?;
    let receipt = match session.state.my_ballot.clone() {
        // Recorded before the acknowledgement was lost.
        Some(mine) if mine.round == round && mine.choice == choice && mine.seq == seq => {
            mine.verify(&server_key)
                .map_err(|_| ClientError::BadReceipt)?;
            mine
        }
        _ => session.cast_in(round, choice, seq).await?,
    };
    session.close().await;
    Ok(receipt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_a_cap_with_full_jitter() {
        let mut backoff = Backoff::default();
        let delays: Vec<Duration> = (0..8).map(|_| backoff.next_delay()).collect();
        assert!(delays[0] <= Backoff::FIRST);
        assert!(delays.iter().all(|&d| d <= Backoff::LONGEST));
        assert_eq!(backoff.step, Backoff::LONGEST);
    }

    #[test]
    fn only_a_lost_connection_is_worth_a_reconnection() {
        assert!(is_lost(&ClientError::Closed));
        assert!(is_lost(&ClientError::Refused {
            reason: RefusalReason::ShuttingDown,
            message: String::new()
        }));
        assert!(!is_lost(&ClientError::Refused {
            reason: RefusalReason::UnknownKey,
            message: String::new()
        }));
    }
}
