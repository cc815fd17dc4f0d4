//! The vote path end to end: a real server on each store, real tablets with
//! real keys over real WebSockets, and the committed rows checked in the store.

use gavel_client::{ClientError, Session};
use gavel_protocol::messages::{ChairCommand, RoundStatus, RoundView};
use gavel_protocol::paper::Vote;
use gavel_protocol::results::RoundResult;
use gavel_protocol::rules::Secrecy;
use gavel_protocol::{Choice, Principal, RefusalReason, RoundId, Signature};
use gavel_tests::chair::{changeable_item, item_where, open_round};
use gavel_tests::databases;
use gavel_tests::server::{TestServer, example_meeting};

/// A chair and `seats` delegates, enrolled with one-time codes and logged in.
struct Hall {
    chair: Session,
    delegates: Vec<Session>,
    keys: Vec<ed25519_dalek::SigningKey>,
}

async fn hall(server: &TestServer, seats: u32) -> anyhow::Result<Hall> {
    let (_, chair) = server.enroll(Principal::Chair).await?;
    let mut delegates = Vec::new();
    let mut keys = Vec::new();
    for seat in 1..=seats {
        let (key, session) = server.enroll(Principal::Seat(seat)).await?;
        delegates.push(session);
        keys.push(key);
    }
    Ok(Hall {
        chair,
        delegates,
        keys,
    })
}

/// Waits until every delegate's session has seen `round` open.
async fn see_open(delegates: &mut [Session], round: RoundId) -> anyhow::Result<()> {
    for d in delegates {
        d.wait_until(|s| s.open_round().is_some_and(|r| r.id == round))
            .await?;
    }
    Ok(())
}

async fn check_in_all(delegates: &mut [Session]) -> anyhow::Result<()> {
    for d in delegates {
        d.check_in().await?;
    }
    Ok(())
}

/// The chair closes the round; returns the committed result as the chair's
/// screen shows it. The closing snapshot arrives before the chair's `done`,
/// so the result is there as soon as the command returns.
async fn close(chair: &mut Session, round: RoundId) -> anyhow::Result<gavel_protocol::TallyResult> {
    chair.chair(ChairCommand::Close).await?;
    let shown = chair
        .state
        .round()
        .filter(|r| r.id == round && r.status == RoundStatus::Closed);
    Ok(shown
        .and_then(RoundView::tally)
        .expect("the closed round and its result are shown when `done` arrives"))
}

#[tokio::test]
async fn forty_tablets_vote_and_the_committed_tally_matches() -> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let mut hall = hall(&server, 40).await?;
        check_in_all(&mut hall.delegates).await?;
        let item = changeable_item(&hall.chair, Secrecy::Named);
        let round = open_round(&mut hall.chair, item, 120).await?;
        see_open(&mut hall.delegates, round).await?;
        let mut receipts = Vec::new();
        for (i, d) in hall.delegates.iter_mut().enumerate() {
            let choice = match i % 10 {
                0..=6 => Choice::Yes,
                7 | 8 => Choice::No,
                _ => Choice::Abstain,
            };
            let receipt = d.cast(choice).await?;
            assert_eq!(
                (receipt.round, receipt.choice),
                (round, choice),
                "{}",
                db.name
            );
            receipts.push(receipt);
        }
        let result = close(&mut hall.chair, round).await?;
        assert_eq!(
            (result.counts.yes, result.counts.no, result.counts.abstain),
            (28, 8, 4),
            "{}",
            db.name
        );
        assert_eq!((result.counts.total_seats, result.counts.present), (40, 40));
        assert!(result.passed);

        let store = server.store().await?;
        let rounds = store.rounds(&example_meeting()).await?;
        let stored = rounds
            .iter()
            .find(|r| r.id == round)
            .expect("the round is stored");
        assert_eq!(stored.status, RoundStatus::Closed);
        assert_eq!(
            stored.result,
            Some(RoundResult::Tally(result)),
            "{}: the committed tally row",
            db.name
        );
        let ballots = store.ballots(round).await?;
        assert_eq!(ballots.len(), 40);
        for receipt in &receipts {
            let row = ballots
                .iter()
                .find(|b| b.seat == receipt.seat)
                .expect("every acked ballot is stored");
            assert_eq!(
                (row.vote.choice(), row.seq),
                (Some(receipt.choice), receipt.seq)
            );
        }
        // Everyone else sees the same committed result.
        for d in &mut hall.delegates {
            d.wait_until(|s| s.round().is_some_and(|r| r.result.is_some()))
                .await?;
            assert_eq!(d.state.round().and_then(RoundView::tally), Some(result));
        }
        server.stop()?;
    }
    Ok(())
}

/// Forty tablets enrolling at the same moment can each log in afterwards:
/// the server reads the meeting's keys again after every enrollment, and a
/// read that missed another device's key must never be the one that stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_tablets_enrolling_at_once_can_each_log_in() -> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let enrolled = futures_util::future::try_join_all(
            (1..=40).map(|seat| server.enroll(Principal::Seat(seat))),
        )
        .await?;
        for (seat, (key, _)) in (1..).zip(&enrolled) {
            let session = server.login(key).await;
            assert!(
                session.is_ok(),
                "seat {seat}, enrolled, cannot log in: {:?}",
                session.err()
            );
        }
    }
    Ok(())
}

#[tokio::test]
async fn more_than_half_of_all_seats_needs_twenty_one_of_forty() -> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let mut hall = hall(&server, 40).await?;
        check_in_all(&mut hall.delegates).await?;
        let item = changeable_item(&hall.chair, Secrecy::Named);
        for (yes, passes) in [(21, true), (20, false)] {
            let round = open_round(&mut hall.chair, item, 120).await?;
            see_open(&mut hall.delegates, round).await?;
            for (i, d) in hall.delegates.iter_mut().enumerate() {
                // The rest split between no and abstain; abstaining counts as taking part.
                let choice = if i < yes {
                    Choice::Yes
                } else if i % 2 == 0 {
                    Choice::No
                } else {
                    Choice::Abstain
                };
                d.cast(choice).await?;
            }
            let result = close(&mut hall.chair, round).await?;
            assert_eq!(result.counts.yes, yes as u32);
            assert_eq!(result.yes_needed, 21);
            assert_eq!(result.passed, passes, "{}: {yes} of 40", db.name);
            let stored = server.store().await?.rounds(&example_meeting()).await?;
            assert_eq!(
                stored
                    .iter()
                    .find(|r| r.id == round)
                    .and_then(|r| r.result.clone()),
                Some(RoundResult::Tally(result))
            );
        }
        server.stop()?;
    }
    Ok(())
}

#[tokio::test]
async fn a_ballot_after_the_deadline_is_refused_as_late() -> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let mut hall = hall(&server, 2).await?;
        check_in_all(&mut hall.delegates).await?;
        let item = changeable_item(&hall.chair, Secrecy::Named);
        let round = open_round(&mut hall.chair, item, 1).await?;
        hall.delegates[0]
            .wait_until(|s| s.open_round().is_some_and(|r| r.id == round))
            .await?;
        hall.delegates[0].cast(Choice::Yes).await?;
        // The server closes the round at its deadline by itself.
        let late = &mut hall.delegates[1];
        late.wait_until(|s| {
            s.round()
                .is_some_and(|r| r.id == round && r.status == RoundStatus::Closed)
        })
        .await?;
        let seq = late.next_seq();
        let err = late
            .cast_in(round, Choice::No, seq)
            .await
            .expect_err("late ballots are refused");
        assert_eq!(
            err.reason(),
            Some(RefusalReason::Late),
            "{}: {err}",
            db.name
        );
        let result = late
            .state
            .round()
            .and_then(RoundView::tally)
            .expect("closed with a result");
        assert_eq!((result.counts.yes, result.counts.no), (1, 0));
        assert_eq!(server.store().await?.ballots(round).await?.len(), 1);
        server.stop()?;
    }
    Ok(())
}

#[tokio::test]
async fn forged_foreign_and_replayed_ballots_are_refused() -> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let mut hall = hall(&server, 2).await?;
        check_in_all(&mut hall.delegates).await?;
        let item = changeable_item(&hall.chair, Secrecy::Named);
        let first = open_round(&mut hall.chair, item, 120).await?;
        see_open(&mut hall.delegates, first).await?;

        let me = &mut hall.delegates[0];
        // A signature that is not a signature of this ballot at all.
        let seq = me.next_seq();
        let forged = Signature::from_bytes(&[7u8; 64]);
        let err = me
            .send_ballot(first, Choice::Yes, seq, forged)
            .await
            .expect_err("forged");
        assert_eq!(
            err.reason(),
            Some(RefusalReason::BadSignature),
            "{}",
            db.name
        );
        // A valid signature by another seat's key over this seat's ballot.
        let content = gavel_protocol::signing::BallotContent {
            meeting: &example_meeting(),
            round: first,
            documents: Some(me.state.documents_digest(first)),
            seat: 1,
            choice: Choice::Yes,
            seq,
        };
        let foreign = Signature::sign(&hall.keys[1], &content.signed_bytes());
        let err = me
            .send_ballot(first, Choice::Yes, seq, foreign)
            .await
            .expect_err("foreign key");
        assert_eq!(err.reason(), Some(RefusalReason::BadSignature));

        // The seat's own signature over this ballot on other documents than
        // the round recorded: a vote on another text, refused for that.
        let recorded = me.state.documents_digest(first);
        let other_text =
            gavel_protocol::documents::digest(&[gavel_protocol::Sha::of(b"another text")]);
        assert_ne!(recorded, other_text);
        let on_other_text = gavel_protocol::signing::BallotContent {
            documents: Some(other_text),
            ..content.clone()
        };
        let signature = Signature::sign(&hall.keys[0], &on_other_text.signed_bytes());
        let err = me
            .request(|id| gavel_protocol::ClientMsg::Cast {
                id,
                round: first,
                documents: other_text,
                choice: Choice::Yes,
                seq,
                signature,
            })
            .await
            .expect_err("another text");
        assert_eq!(
            err.reason(),
            Some(RefusalReason::DocumentsChanged),
            "{}: {err}",
            db.name
        );
        assert!(
            server.store().await?.ballots(first).await?.is_empty(),
            "{}: nothing recorded",
            db.name
        );

        // A genuine ballot in the first round, then replayed into the second.
        let genuine = me.sign_ballot(first, Choice::No, seq)?;
        me.send_ballot(first, Choice::No, seq, genuine.clone())
            .await?;
        let result = close(&mut hall.chair, first).await?;
        assert_eq!(result.counts.taking_part(), 1);
        let second = open_round(&mut hall.chair, item, 120).await?;
        let me = &mut hall.delegates[0];
        me.wait_until(|s| s.open_round().is_some_and(|r| r.id == second))
            .await?;
        let err = me
            .send_ballot(second, Choice::No, seq, genuine.clone())
            .await
            .expect_err("replay");
        assert_eq!(err.reason(), Some(RefusalReason::BadSignature));
        let err = me
            .send_ballot(first, Choice::No, seq, genuine)
            .await
            .expect_err("old round");
        assert_eq!(err.reason(), Some(RefusalReason::WrongRound));
        assert!(
            server.store().await?.ballots(second).await?.is_empty(),
            "{}",
            db.name
        );
        server.stop()?;
    }
    Ok(())
}

#[tokio::test]
async fn a_changed_vote_counts_once_and_a_resent_ballot_is_harmless() -> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let mut hall = hall(&server, 1).await?;
        check_in_all(&mut hall.delegates).await?;
        let item = changeable_item(&hall.chair, Secrecy::Named);
        let round = open_round(&mut hall.chair, item, 120).await?;
        let me = &mut hall.delegates[0];
        me.wait_until(|s| s.open_round().is_some_and(|r| r.id == round))
            .await?;
        let first = me.cast(Choice::Yes).await?;
        let second = me.cast(Choice::No).await?;
        assert!(second.seq > first.seq);
        // The same ballot again (its ack was lost): the same receipt, counted once.
        let again = me.cast_in(round, Choice::No, second.seq).await?;
        assert_eq!(again, second);
        // An older ballot cannot come back.
        let err = me
            .cast_in(round, Choice::Yes, first.seq)
            .await
            .expect_err("stale");
        assert_eq!(
            err.reason(),
            Some(RefusalReason::StaleSequence),
            "{}",
            db.name
        );
        hall.chair
            .wait_until(|s| s.live_counts().is_some_and(|c| c.no == 1))
            .await?;
        let result = close(&mut hall.chair, round).await?;
        assert_eq!(
            (
                result.counts.yes,
                result.counts.no,
                result.counts.taking_part()
            ),
            (0, 1, 1)
        );
        let ballots = server.store().await?.ballots(round).await?;
        assert_eq!(ballots.len(), 1);
        assert_eq!(
            (ballots[0].vote.choice(), ballots[0].seq),
            (Some(Choice::No), second.seq)
        );
        server.stop()?;
    }
    Ok(())
}

#[tokio::test]
async fn a_restarted_server_keeps_every_acknowledged_ballot_of_the_open_round() -> anyhow::Result<()>
{
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let mut hall = hall(&server, 40).await?;
        check_in_all(&mut hall.delegates).await?;
        let item = changeable_item(&hall.chair, Secrecy::Named);
        let round = open_round(&mut hall.chair, item, 300).await?;
        see_open(&mut hall.delegates, round).await?;
        let mut acked = Vec::new();
        for d in hall.delegates.iter_mut().take(25) {
            acked.push(d.cast(Choice::Yes).await?);
        }
        drop(hall.delegates);
        drop(hall.chair);
        let server = server.crash_and_restart()?;

        // Tablets come back: each sees its own recorded ballot in the still-open round.
        let mut delegates = Vec::new();
        for (i, key) in hall.keys.iter().enumerate() {
            let session = server.login(key).await?;
            assert_eq!(
                session.state.open_round().map(|r| r.id),
                Some(round),
                "{}",
                db.name
            );
            let mine = session.state.my_ballot.clone();
            assert_eq!(mine.as_ref(), acked.get(i), "{}: seat {}", db.name, i + 1);
            assert!(session.state.checked_in);
            delegates.push(session);
        }
        for d in delegates.iter_mut().skip(25) {
            d.cast(Choice::No).await?;
        }
        let (_, mut chair) = server.enroll(Principal::Chair).await?;
        let result = close(&mut chair, round).await?;
        assert_eq!(
            (result.counts.yes, result.counts.no),
            (25, 15),
            "{}",
            db.name
        );
        assert_eq!(server.store().await?.ballots(round).await?.len(), 40);
        server.stop()?;
    }
    Ok(())
}

#[tokio::test]
async fn a_secret_round_keeps_who_took_part_but_not_who_chose_what() -> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let mut hall = hall(&server, 3).await?;
        check_in_all(&mut hall.delegates).await?;
        let item = item_where(&hall.chair, |v| v.secrecy == Secrecy::Secret);
        let round = open_round(&mut hall.chair, item, 120).await?;
        see_open(&mut hall.delegates, round).await?;
        for (d, choice) in hall
            .delegates
            .iter_mut()
            .zip([Choice::Yes, Choice::No, Choice::Yes])
        {
            d.cast(choice).await?;
        }
        // The chair sees who has voted, never what they chose.
        hall.chair
            .wait_until(|s| {
                s.open_round()
                    .and_then(|r| r.live.as_ref())
                    .is_some_and(|l| l.taking_part == 3)
            })
            .await?;
        let live = hall
            .chair
            .state
            .open_round()
            .and_then(|r| r.live.clone())
            .expect("live");
        assert_eq!(live.voted, Some(vec![1, 2, 3]));
        assert_eq!(live.choices, None, "{}", db.name);
        let result = close(&mut hall.chair, round).await?;
        assert_eq!((result.counts.yes, result.counts.no), (2, 1));
        let store = server.store().await?;
        assert!(
            store.ballots(round).await?.is_empty(),
            "{}: no seat-to-choice rows remain",
            db.name
        );
        let record = store.secret_ballots(round).await?;
        assert_eq!(record.seats(), vec![1, 2, 3]);
        let mut choices = record.votes();
        choices.sort();
        assert_eq!(
            choices,
            [Choice::Yes, Choice::Yes, Choice::No].map(Vote::Choice)
        );
        server.stop()?;
    }
    Ok(())
}

#[tokio::test]
async fn refusals_name_their_reason_and_the_connection_keeps_working() -> anyhow::Result<()> {
    for db in databases().await {
        let server = TestServer::with_example(&db.url).await?;
        let mut hall = hall(&server, 2).await?;
        let item = changeable_item(&hall.chair, Secrecy::Named);
        let round = open_round(&mut hall.chair, item, 120).await?;
        let me = &mut hall.delegates[0];
        me.wait_until(|s| s.open_round().is_some_and(|r| r.id == round))
            .await?;
        let err = me.cast(Choice::Yes).await.expect_err("not checked in");
        assert_eq!(
            err.reason(),
            Some(RefusalReason::NotCheckedIn),
            "{}",
            db.name
        );
        let err = me
            .chair(ChairCommand::Close)
            .await
            .expect_err("a delegate is not the chair");
        assert_eq!(err.reason(), Some(RefusalReason::NotChair));
        let answer = me
            .send_text(r#"{"type":"check_in","id":77,"extra":true}"#)
            .await?;
        assert!(
            matches!(
                answer,
                gavel_protocol::ServerMsg::Refused {
                    id: Some(77),
                    reason: RefusalReason::MalformedFrame,
                    ..
                }
            ),
            "a readable id is echoed: {answer:?}"
        );
        let answer = me.send_text("{not json").await?;
        assert!(matches!(
            answer,
            gavel_protocol::ServerMsg::Refused {
                reason: RefusalReason::MalformedFrame,
                ..
            }
        ));
        let answer = me.send_text(r#"{"type":"launch_rockets","id":1}"#).await?;
        assert!(matches!(
            answer,
            gavel_protocol::ServerMsg::Refused {
                reason: RefusalReason::MalformedFrame,
                ..
            }
        ));
        me.check_in().await?;
        me.cast(Choice::Yes).await?;
        let err = hall
            .chair
            .chair(ChairCommand::SetItem { item: 999 })
            .await
            .expect_err("no such item");
        assert_eq!(err.reason(), Some(RefusalReason::InvalidCommand));

        // A used code, and an unsupported protocol version.
        let store = server.store().await?;
        let codes =
            gavel_server::enrollment::issue(&store, &example_meeting(), &[Principal::Seat(5)], 1)
                .await?;
        let mut client = gavel_client::Client::connect(&server.url).await?;
        let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        client.enroll(&codes[0].1, &key).await?;
        let other = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        let err = client.enroll(&codes[0].1, &other).await.expect_err("burnt");
        assert_eq!(err.reason(), Some(RefusalReason::CodeUsed));
        let err = client
            .enroll("AAAAA-AAAAA", &other)
            .await
            .expect_err("unknown");
        assert_eq!(err.reason(), Some(RefusalReason::UnknownCode));
        let answer = client.send_text(r#"{"type":"sync","id":5}"#).await?;
        assert!(matches!(
            answer,
            gavel_protocol::ServerMsg::Refused {
                id: Some(5),
                reason: RefusalReason::NotAuthenticated,
                ..
            }
        ));
        let answer = client
            .send_text(r#"{"type":"watch","v":99,"meeting":"x"}"#)
            .await?;
        assert!(matches!(
            answer,
            gavel_protocol::ServerMsg::Refused {
                reason: RefusalReason::UnsupportedVersion,
                ..
            }
        ));
        let err = gavel_client::Client::connect(&server.url)
            .await?
            .watch(&gavel_protocol::MeetingId::parse("no-such-meeting").unwrap())
            .await
            .err()
            .expect("unknown meeting");
        assert!(matches!(
            err,
            ClientError::Refused {
                reason: RefusalReason::UnknownMeeting,
                ..
            }
        ));
        server.stop()?;
    }
    Ok(())
}
