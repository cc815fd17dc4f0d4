//! PostgreSQL goes away in the middle of a vote and comes back: a real
//! server whose database connection runs through a TCP proxy that the test
//! cuts (every connection dropped, new ones refused) and restores.

use futures_util::future::try_join_all;
use gavel_client::Session;
use gavel_protocol::messages::{ChairCommand, RoundStatus, RoundView, StoreHealth};
use gavel_protocol::rules::Secrecy;
use gavel_protocol::{Choice, Counts, Principal, RefusalReason};
use gavel_server::store::Store;
use gavel_tests::databases;
use gavel_tests::proxy::Proxy;
use gavel_tests::server::TestServer;

fn store_health(session: &Session) -> Option<StoreHealth> {
    session.state.snapshot.as_ref().map(|s| s.store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vote_survives_the_database_going_away_and_nothing_is_lost() -> anyhow::Result<()> {
    let Some(db) = databases()
        .await
        .into_iter()
        .find(|db| db.name == "postgres")
    else {
        eprintln!("note: no PostgreSQL (TEST_DATABASE_URL); the store outage test is skipped");
        return Ok(());
    };
    let (proxy, proxied) = Proxy::in_front_of(&db.url).await?;
    let server = TestServer::with_example(&proxied).await?;

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
