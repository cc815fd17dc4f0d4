//! PostgreSQL goes away in the middle of a vote and comes back: a real
//! server whose database connection runs through a TCP proxy that the test
//! cuts (every connection dropped, new ones refused) and restores, or that
//! loses the answer to a commit that went through. And PostgreSQL stalls:
//! a statement that waits past the statement timeout is an outage the
//! chair's console shows; and its host goes silent (a black hole, which
//! no statement timeout sees): so is a ballot batch that waits past
//! `SILENT_AFTER`.

use futures_util::future::try_join_all;
use gavel_client::{MeetingState, Session};
use gavel_protocol::messages::{ChairCommand, RoundStatus, RoundView, StoreHealth};
use gavel_protocol::rules::Secrecy;
use gavel_protocol::{Choice, Counts, Principal, RefusalReason};
use gavel_server::app;
use gavel_server::store::{SILENT_AFTER, STATEMENT_TIMEOUT, Store};
use gavel_tests::proxy::Proxy;
use gavel_tests::server::{TestServer as Server, example_meeting};
use gavel_tests::{TestDatabase, databases};
use std::time::{Duration, Instant};

fn store_health(session: &Session) -> Option<StoreHealth> {
    session.state.snapshot.as_ref().map(|s| s.store)
}

/// The PostgreSQL database of this run, if it has one.
async fn postgres() -> Option<TestDatabase> {
    let found = databases()
        .await
        .into_iter()
        .find(|db| db.name == "postgres");
    if found.is_none() {
        eprintln!("note: no PostgreSQL (TEST_DATABASE_URL); the store outage test is skipped");
    }
    found
}

/// Whether the state's snapshot says the store is in `health`.
fn store_is(state: &MeetingState, health: StoreHealth) -> bool {
    state.snapshot.as_ref().is_some_and(|s| s.store == health)
}

/// The index of the example's named vote.
fn named_item(chair: &Session) -> u32 {
    chair
        .meeting
        .agenda
        .iter()
        .find(|i| i.vote.is_some_and(|v| v.secrecy == Secrecy::Named))
        .expect("the example has a named vote")
        .index
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vote_survives_the_database_going_away_and_nothing_is_lost() -> anyhow::Result<()> {
    let Some(db) = postgres().await else {
        return Ok(());
    };
    let (proxy, proxied) = Proxy::in_front_of(&db.url).await?;
    let server = Server::with_example(&proxied).await?;

    let (_, mut chair) = server.enroll(Principal::Chair).await?;
    let mut delegates = Vec::new();
    for seat in 1..=6 {
        let (_, mut session) = server.enroll(Principal::Seat(seat)).await?;
        session.check_in().await?;
        delegates.push(session);
    }
    let item = chair
        .meeting
        .agenda
        .iter()
        .find(|i| i.vote.is_some_and(|v| v.secrecy == Secrecy::Named))
        .expect("the example has a named vote")
        .index;
    chair.chair(ChairCommand::SetItem { item }).await?;
    chair
        .chair(ChairCommand::Open {
            window_seconds: Some(120),
        })
        .await?;
    let round = chair.state.open_round().expect("open").id;
    for d in &mut delegates {
        d.wait_until(|s| s.open_round().is_some_and(|r| r.id == round))
            .await?;
    }
    assert_eq!(store_health(&chair), Some(StoreHealth::Ok));
    let choices = [
        Choice::Yes,
        Choice::No,
        Choice::Yes,
        Choice::Abstain,
        Choice::Yes,
        Choice::No,
    ];
    let mut receipts = Vec::new();
    for (d, &choice) in delegates[..2].iter_mut().zip(&choices) {
        receipts.push(d.cast(choice).await?);
    }

    proxy.cut();
    // Every ballot sent during the outage is refused, never acknowledged.
    let refused: Vec<(u64, Choice)> = try_join_all(
        delegates[2..]
            .iter_mut()
            .zip(&choices[2..])
            .map(|(d, &choice)| async move {
                let seq = d.next_seq();
                let refusal = d
                    .cast_in(round, choice, seq)
                    .await
                    .expect_err("no ballot is acknowledged while the store is away");
                assert_eq!(refusal.reason(), Some(RefusalReason::StoreUnavailable));
                anyhow::Ok((seq, choice))
            }),
    )
    .await?;
    chair
        .wait_until(|s| {
            s.snapshot
                .as_ref()
                .is_some_and(|s| s.store == StoreHealth::Unavailable)
        })
        .await?;
    let extend = chair.chair(ChairCommand::Extend { seconds: 30 }).await;
    assert_eq!(
        extend
            .expect_err("nothing is changed while the store is away")
            .reason(),
        Some(RefusalReason::StoreUnavailable)
    );

    proxy.restore();
    // The hub notices by itself that the store is back.
    chair
        .wait_until(|s| {
            s.snapshot
                .as_ref()
                .is_some_and(|s| s.store == StoreHealth::Ok)
        })
        .await?;
    // The tablets send the refused ballots again, unchanged, and one that
    // was acknowledged before the outage is sent again too: it counts once.
    for (d, (seq, choice)) in delegates[2..].iter_mut().zip(refused) {
        let receipt = d.cast_in(round, choice, seq).await?;
        assert_eq!((receipt.seq, receipt.choice), (seq, choice));
        receipts.push(receipt);
    }
    let again = delegates[0]
        .cast_in(round, receipts[0].choice, receipts[0].seq)
        .await?;
    assert_eq!(again, receipts[0], "a resent ballot gets the same receipt");

    chair.chair(ChairCommand::Close).await?;
    let shown = chair
        .state
        .round()
        .filter(|r| r.id == round && r.status == RoundStatus::Closed)
        .and_then(RoundView::tally)
        .expect("the result is shown when `done` arrives");
    let store = Store::connect(&db.url).await?;
    let rows = store.ballots(round).await?;
    assert_eq!(
        rows.len(),
        receipts.len(),
        "one row per acknowledged ballot"
    );
    for receipt in &receipts {
        let row = rows
            .iter()
            .find(|b| b.seat == receipt.seat)
            .expect("stored");
        assert_eq!(
            (row.vote.choice(), row.seq),
            (Some(receipt.choice), receipt.seq)
        );
    }
    let stored = Counts::tally(
        shown.counts.total_seats,
        shown.counts.present,
        rows.iter().filter_map(|b| b.vote.choice()),
    );
    assert_eq!(shown.counts, stored, "the tally is the store's rows");
    assert_eq!((stored.yes, stored.no, stored.abstain), (3, 2, 1));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_opened_or_closed_by_a_commit_whose_answer_was_lost_is_read_back()
-> anyhow::Result<()> {
    let Some(db) = postgres().await else {
        return Ok(());
    };
    let (proxy, proxied) = Proxy::in_front_of(&db.url).await?;
    let server = Server::with_example(&proxied).await?;
    let store = Store::connect(&db.url).await?;
    let (_, mut chair) = server.enroll(Principal::Chair).await?;
    let mut delegates = Vec::new();
    for seat in 1..=3 {
        let (_, mut session) = server.enroll(Principal::Seat(seat)).await?;
        session.check_in().await?;
        delegates.push(session);
    }
    let item = named_item(&chair);
    chair.chair(ChairCommand::SetItem { item }).await?;

    // The round's opening commits, and the hub never hears so: the chair
    // is told the store is unavailable, then sees the round open once the
    // hub has read the store back.
    proxy.lose_next_commit_answer();
    let open = chair
        .chair(ChairCommand::Open {
            window_seconds: Some(120),
        })
        .await;
    assert_eq!(
        open.expect_err("the opening's answer was lost").reason(),
        Some(RefusalReason::StoreUnavailable)
    );
    proxy.lost_at_least(1).await;
    chair
        .wait_until(|s| s.open_round().is_some() && store_is(s, StoreHealth::Ok))
        .await?;
    let round = chair.state.open_round().expect("open").id;
    let stored = store.rounds(&example_meeting()).await?;
    assert_eq!(
        stored.last().map(|r| (r.id, r.status)),
        Some((round, RoundStatus::Open)),
        "the round shown is the one the store opened"
    );
    for d in &mut delegates {
        d.wait_until(|s| s.open_round().is_some_and(|r| r.id == round))
            .await?;
        d.cast(Choice::Yes).await?;
    }

    // Its close commits, and the answer is lost again: the chair sees the
    // result the store holds, and the hub does not try to close it again.
    proxy.lose_next_commit_answer();
    let close = chair.chair(ChairCommand::Close).await;
    assert_eq!(
        close.expect_err("the close's answer was lost").reason(),
        Some(RefusalReason::StoreUnavailable)
    );
    proxy.lost_at_least(2).await;
    chair
        .wait_until(|s| {
            s.round()
                .is_some_and(|r| r.id == round && r.status == RoundStatus::Closed)
                && store_is(s, StoreHealth::Ok)
        })
        .await?;
    let shown = chair
        .state
        .round()
        .and_then(|r| r.result.clone())
        .expect("a result");
    let stored = store.rounds(&example_meeting()).await?;
    let last = stored.last().expect("the round");
    assert_eq!((last.id, last.status), (round, RoundStatus::Closed));
    assert_eq!(
        last.result.as_ref(),
        Some(&shown),
        "the result shown is the stored one"
    );
    let tally = shown.tally().expect("a tally of yes, no and abstain");
    assert_eq!((tally.counts.yes, tally.counts.present), (3, 3));

    // The meeting goes on: the next item is chosen and recorded.
    chair
        .chair(ChairCommand::SetItem { item: item + 1 })
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_database_is_an_outage_the_chair_sees() -> anyhow::Result<()> {
    let Some(db) = postgres().await else {
        return Ok(());
    };
    let server = Server::with_example(&db.url).await?;
    let (_, mut chair) = server.enroll(Principal::Chair).await?;
    let (_, mut delegate) = server.enroll(Principal::Seat(1)).await?;

    // Another session holds the meeting's row: every write for the meeting
    // waits for it, as behind a database that has stopped answering.
    let pool = sqlx::PgPool::connect(&db.url).await?;
    let mut holder = pool.begin().await?;
    sqlx::query("SELECT id FROM meetings WHERE id = $1 FOR UPDATE")
        .bind(example_meeting().as_str())
        .execute(&mut *holder)
        .await?;
    let started = Instant::now();
    let refused = delegate
        .check_in()
        .await
        .expect_err("a check-in behind the stalled database is refused");
    let waited = started.elapsed();
    assert_eq!(refused.reason(), Some(RefusalReason::StoreUnavailable));
    assert!(
        waited >= STATEMENT_TIMEOUT && waited < STATEMENT_TIMEOUT * 3,
        "refused once the statement timed out, after {waited:?}"
    );
    chair
        .wait_until(|s| store_is(s, StoreHealth::Unavailable))
        .await?;

    // The database goes on: the hub finds the store back by itself.
    holder.rollback().await?;
    chair.wait_until(|s| store_is(s, StoreHealth::Ok)).await?;
    delegate.check_in().await?;
    Ok(())
}

/// PostgreSQL's host goes silent in the middle of a vote, as a ballot's
/// `COMMIT` is on its way: every packet dropped, nothing reset (a dead
/// host, a black-holed route), so no statement timeout can fire and the
/// transaction would wait for TCP to give up. The ballot is refused within
/// a bounded time, and the chair's console shows the outage. Once the host
/// is heard again (the held `COMMIT` goes through, as a retransmission
/// would), the hub finds the store back by itself, the refused ballot sent
/// again is acknowledged with the one stored, and the result counts every
/// acknowledged ballot once, as the store holds them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_database_host_is_an_outage_the_chair_sees_and_nothing_is_lost()
-> anyhow::Result<()> {
    let Some(db) = postgres().await else {
        return Ok(());
    };
    let (proxy, proxied) = Proxy::in_front_of(&db.url).await?;
    // A lease longer than the silence: the meeting stays on its node, as
    // it would with a lease renewed through another route; this test is
    // about the outage, the nodes' tests about a meeting that moves.
    let options = app::Options {
        lease_term: Some(Duration::from_secs(120)),
        ..app::Options::default()
    };
    let server = Server::with_example_and(&proxied, options).await?;
    let (_, mut chair) = server.enroll(Principal::Chair).await?;
    let mut delegates = Vec::new();
    for seat in 1..=3 {
        let (_, mut session) = server.enroll(Principal::Seat(seat)).await?;
        session.check_in().await?;
        delegates.push(session);
    }
    let item = named_item(&chair);
    chair.chair(ChairCommand::SetItem { item }).await?;
    chair
        .chair(ChairCommand::Open {
            window_seconds: Some(600),
        })
        .await?;
    let round = chair.state.open_round().expect("open").id;
    for d in &mut delegates {
        d.wait_until(|s| s.open_round().is_some_and(|r| r.id == round))
            .await?;
    }
    let mut receipts = vec![delegates[0].cast(Choice::Yes).await?];

    proxy.silence_at_next_commit();
    let silenced = Instant::now();
    let seq = delegates[1].next_seq();
    let refused = delegates[1]
        .cast_in(round, Choice::No, seq)
        .await
        .expect_err("a ballot is not acknowledged while the database is silent");
    assert_eq!(refused.reason(), Some(RefusalReason::StoreUnavailable));
    assert!(proxy.is_silent(), "the ballot's COMMIT was held");
    let waited = silenced.elapsed();
    chair
        .wait_until(|s| store_is(s, StoreHealth::Unavailable))
        .await?;
    let shown = silenced.elapsed();
    eprintln!(
        "a silent database: the ballot refused after {waited:?}, the outage shown after {shown:?}"
    );
    assert!(
        waited >= SILENT_AFTER && shown < SILENT_AFTER + Duration::from_secs(3),
        "refused once the database counts as silent, and shown at once: {waited:?}, {shown:?}"
    );

    proxy.restore();
    chair.wait_until(|s| store_is(s, StoreHealth::Ok)).await?;
    let receipt = delegates[1].cast_in(round, Choice::No, seq).await?;
    assert_eq!((receipt.seq, receipt.choice), (seq, Choice::No));
    receipts.push(receipt);
    receipts.push(delegates[2].cast(Choice::Abstain).await?);

    chair.chair(ChairCommand::Close).await?;
    let result = chair
        .state
        .round()
        .filter(|r| r.id == round && r.status == RoundStatus::Closed)
        .and_then(RoundView::tally)
        .expect("the result is shown when `done` arrives");
    assert_eq!(
        (result.counts.yes, result.counts.no, result.counts.abstain),
        (1, 1, 1)
    );
    let store = Store::connect(&db.url).await?;
    let mut stored: Vec<_> = store
        .ballots(round)
        .await?
        .into_iter()
        .map(|b| (b.seat, b.seq, b.vote.choice()))
        .collect();
    stored.sort();
    let acknowledged: Vec<_> = receipts
        .iter()
        .map(|r| (r.seat, r.seq, Some(r.choice)))
        .collect();
    assert_eq!(stored, acknowledged, "each acknowledged ballot stored once");
    Ok(())
}

/// A secret ballot whose commit went through while its answer was lost is
/// written again by the hub's retry, and counted once: its choice row is
/// keyed by its tracker, so the retry adds no second one. The seat can
/// still change its vote, which replaces that one row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_ballot_whose_commit_answer_was_lost_counts_once() -> anyhow::Result<()> {
    let Some(db) = postgres().await else {
        return Ok(());
    };
    let (proxy, proxied) = Proxy::in_front_of(&db.url).await?;
    let server = Server::with_example(&proxied).await?;
    let store = Store::connect(&db.url).await?;
    let (_, mut chair) = server.enroll(Principal::Chair).await?;
    let mut delegates = Vec::new();
    for seat in 1..=2 {
        let (_, mut session) = server.enroll(Principal::Seat(seat)).await?;
        session.check_in().await?;
        delegates.push(session);
    }
    let item = chair
        .meeting
        .agenda
        .iter()
        .find(|i| {
            i.vote
                .is_some_and(|v| v.secrecy == Secrecy::Secret && v.allow_change)
        })
        .expect("the example has a secret vote that allows a change")
        .index;
    chair.chair(ChairCommand::SetItem { item }).await?;
    chair
        .chair(ChairCommand::Open {
            window_seconds: Some(120),
        })
        .await?;
    let round = chair.state.open_round().expect("open").id;
    for d in &mut delegates {
        d.wait_until(|s| s.open_round().is_some_and(|r| r.id == round))
            .await?;
    }
    delegates[0].cast(Choice::Yes).await?;

    proxy.lose_next_commit_answer();
    let receipt = delegates[1].cast(Choice::No).await?;
    proxy.lost_at_least(1).await;
    assert_eq!(receipt.choice, Choice::No);
    let kept = store.secret_ballots(round).await?;
    assert_eq!(kept.seats(), vec![1, 2]);
    assert_eq!(
        kept.choices.len(),
        2,
        "the retried ballot is one choice row"
    );

    delegates[1].cast(Choice::Yes).await?;
    chair.chair(ChairCommand::Close).await?;
    let shown = chair
        .state
        .round()
        .filter(|r| r.id == round && r.status == RoundStatus::Closed)
        .and_then(RoundView::tally)
        .expect("the result is shown when `done` arrives");
    assert_eq!(
        (shown.counts.yes, shown.counts.no, shown.counts.abstain),
        (2, 0, 0)
    );
    let kept = store.secret_ballots(round).await?;
    assert_eq!((kept.participants.len(), kept.choices.len()), (2, 2));
    Ok(())
}
