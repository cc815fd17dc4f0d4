//! Pausing a vote: the chair holds an open round, ballots are refused with
//! their reason while it is held, the clock stands still (also across a
//! restart), and resuming gives back the time that was left. The record
//! verifies and the minutes say when the round was held.

use gavel_client::Session;
use gavel_protocol::messages::{ChairCommand, RoundStatus, RoundView};
use gavel_protocol::rules::Secrecy;
use gavel_protocol::{Choice, Principal, RefusalReason, RoundId};
use gavel_records::chain::Event;
use gavel_records::minutes::{self, Pause};
use gavel_server::export;
use gavel_server::meeting::{EXAMPLE, MeetingDefinition};
use gavel_tests::chair::{changeable_item, item_where, open_round};
use gavel_tests::databases;
use gavel_tests::server::{TestServer, example_meeting};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The round `round` as `session` last saw it.
fn shown(session: &Session, round: RoundId) -> RoundView {
    session
        .state
        .round()
        .filter(|r| r.id == round)
        .cloned()
        .expect("the session shows the round")
}

/// Waits, by the wall clock, until the server's time is past `at` (Unix ms):
/// the test server runs on this machine's clock.
async fn wait_past(at: u64) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let at = Duration::from_millis(at + 200);
    if let Some(left) = at.checked_sub(now) {
        tokio::time::sleep(left).await;
    }
}

/// Exports the meeting's record, checks that it verifies and that its
/// minutes pass their own checks, and returns `round` as the minutes print it.
async fn recorded(server: &TestServer, round: RoundId, db: &str) -> anyhow::Result<minutes::Round> {
    let store = server.store().await?;
    let bundle = export::bundle(&store, &server.server_key, &example_meeting()).await?;
    let mismatches = gavel_records::verify::verify(&bundle);
    assert!(mismatches.is_empty(), "{db}: {mismatches:?}");
    let definition = MeetingDefinition::parse(EXAMPLE)?;
    let session = export::session(&bundle, &definition, &Default::default());
    session.check()?;
    Ok(session
        .items
        .into_iter()
        .flat_map(|i| i.rounds)
        .find(|r| r.id == round)
        .expect("the round is in the minutes"))
}

async fn refused(session: &mut Session, round: RoundId, choice: Choice) -> Option<RefusalReason> {
    let seq = session.next_seq();
    session
        .cast_in(round, choice, seq)
        .await
        .expect_err("the ballot is refused")
        .reason()
}

#[tokio::test]
async fn a_paused_round_refuses_ballots_outlives_its_deadline_and_a_restart() -> anyhow::Result<()>
{
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let (chair_key, mut chair) = server.enroll(Principal::Chair).await?;
        let (delegate_key, mut delegate) = server.enroll(Principal::Seat(1)).await?;
        delegate.check_in().await?;
        let item = changeable_item(&chair, Secrecy::Named);

        // Nothing to pause or resume before a round is open.
        for command in [ChairCommand::Pause, ChairCommand::Resume] {
            let err = chair.chair(command).await.expect_err("no round is open");
            assert_eq!(
                err.reason(),
                Some(RefusalReason::NoOpenRound),
                "{}",
                db.name
            );
        }

        let round = open_round(&mut chair, item, 2).await?;
        delegate
            .wait_until(|s| s.open_round().is_some_and(|r| r.id == round))
            .await?;
        delegate.cast(Choice::Yes).await?;
        let err = chair
            .chair(ChairCommand::Resume)
            .await
            .expect_err("not paused");
        assert_eq!(err.reason(), Some(RefusalReason::InvalidCommand));

        chair.chair(ChairCommand::Pause).await?;
        let held = shown(&chair, round);
        let paused_at = held.paused_at.expect("the chair's console shows the pause");
        let left = held.deadline - paused_at;
        let err = chair
            .chair(ChairCommand::Pause)
            .await
            .expect_err("already paused");
        assert_eq!(err.reason(), Some(RefusalReason::InvalidCommand));
        delegate
            .wait_until(|s| s.round().is_some_and(|r| r.paused_at == Some(paused_at)))
            .await?;
        assert_eq!(
            refused(&mut delegate, round, Choice::No).await,
            Some(RefusalReason::RoundPaused),
            "{}",
            db.name
        );

        // The old deadline passes: the round is held, not closed, and a
        // ballot is refused as paused, not as late.
        wait_past(held.deadline).await;
        assert_eq!(
            refused(&mut delegate, round, Choice::No).await,
            Some(RefusalReason::RoundPaused)
        );

        // A restart keeps the round held with its time left.
        let server = server.crash_and_restart()?;
        let mut chair = server.login(&chair_key).await?;
        let mut delegate = server.login(&delegate_key).await?;
        let after = shown(&chair, round);
        assert_eq!(after.status, RoundStatus::Open);
        assert_eq!(
            (after.paused_at, after.deadline),
            (Some(paused_at), held.deadline)
        );
        assert_eq!(
            refused(&mut delegate, round, Choice::No).await,
            Some(RefusalReason::RoundPaused)
        );

        chair.chair(ChairCommand::Resume).await?;
        let resumed = shown(&chair, round);
        assert_eq!(resumed.paused_at, None);
        let store = server.store().await?;
        let resumed_at = store
            .audit_log(&example_meeting())
            .await?
            .iter()
            .find_map(|e| match e.event {
                Event::RoundResumed { resumed_at, .. } => Some(resumed_at),
                _ => None,
            })
            .expect("the chain records the resumption");
        assert_eq!(
            resumed.deadline,
            resumed_at + left,
            "the time left is given back"
        );
        delegate
            .wait_until(|s| {
                s.round()
                    .is_some_and(|r| r.id == round && r.paused_at.is_none())
            })
            .await?;
        delegate.cast(Choice::No).await?;
        chair.chair(ChairCommand::Close).await?;
        let result = shown(&chair, round).tally().expect("closed with a result");
        assert_eq!(
            (result.counts.yes, result.counts.no),
            (0, 1),
            "the last ballot counts"
        );

        // The record verifies, and the minutes say when the round was held.
        let minutes_round = recorded(&server, round, db.name).await?;
        assert_eq!(
            minutes_round.pauses,
            vec![Pause {
                from: paused_at,
                to: resumed_at
            }]
        );
        server.stop()?;
    }
    Ok(())
}

#[tokio::test]
async fn a_paused_round_can_be_closed_and_its_pause_lasts_until_the_close() -> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let (_, mut chair) = server.enroll(Principal::Chair).await?;
        let item = item_where(&chair, |v| v.secrecy == Secrecy::Secret);
        let round = open_round(&mut chair, item, 120).await?;
        chair.chair(ChairCommand::Pause).await?;
        let paused_at = shown(&chair, round).paused_at.expect("paused");
        chair.chair(ChairCommand::Extend { seconds: 30 }).await?;
        chair.chair(ChairCommand::Close).await?;
        let closed = shown(&chair, round);
        assert_eq!(closed.status, RoundStatus::Closed);
        let minutes_round = recorded(&server, round, db.name).await?;
        assert_eq!(
            minutes_round.pauses,
            vec![Pause {
                from: paused_at,
                to: minutes_round.ended_at
            }]
        );
        server.stop()?;
    }
    Ok(())
}
