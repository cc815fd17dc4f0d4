//! Leases and fencing in the store (PostgreSQL): a node that lost a
//! meeting's lease can never commit for it again, and nothing of its
//! refused writes is left behind. The nodes here are two fenced stores on
//! one database, as two `gavel serve` processes hold them; and two servers
//! on one database, where a device enrolled through the node that does not
//! host its meeting logs in on the one that does.

use anyhow::{Context, Result, ensure};
use ed25519_dalek::SigningKey;
use gavel_client::Client;
use gavel_protocol::floor::FloorChange;
use gavel_protocol::messages::RoundStatus;
use gavel_protocol::paper::Vote;
use gavel_protocol::{Choice, Principal, RoundId, Signature, VoteSettings};
use gavel_server::meeting::EXAMPLE;
use gavel_server::store::{BallotRecord, Lease, RoundRecord, Store, StoreError};
use gavel_server::{app, enrollment};
use gavel_tests::databases;
use gavel_tests::server::{TestServer, example_meeting};
use std::time::Duration;

/// Short, so that the test waits little for a lease to run out.
const TERM: Duration = Duration::from_millis(300);

/// The PostgreSQL store with the example meeting, if this run has PostgreSQL.
async fn postgres() -> Result<Option<(gavel_tests::TestDatabase, Store)>> {
    for db in databases().await {
        if db.name == "postgres" {
            let store = Store::connect(&db.url).await?;
            store
                .import_meeting(&example_meeting(), EXAMPLE, &[], &[])
                .await?;
            return Ok(Some((db, store)));
        }
    }
    eprintln!("note: no PostgreSQL (TEST_DATABASE_URL); leases are not tested");
    Ok(None)
}

/// Takes the meeting for `node` once nobody else holds it.
async fn take_when_free(store: &Store, node: &str) -> Result<Lease> {
    loop {
        if let Some(lease) = store.take_lease(&example_meeting(), node, TERM).await? {
            return Ok(lease);
        }
        tokio::time::sleep(TERM / 4).await;
    }
}

fn round(opened_at: u64) -> RoundRecord {
    RoundRecord {
        id: RoundId(rand::random()),
        meeting: example_meeting(),
        item: 0,
        settings: VoteSettings::default(),
        opened_at,
        deadline: opened_at + 60_000,
        paused_at: None,
        status: RoundStatus::Open,
        closed_at: None,
        result: None,
        announced_at: None,
        documents: None,
        by_hand: None,
    }
}

fn ballot(round: RoundId, seat: u32, seq: u64) -> BallotRecord {
    BallotRecord {
        round,
        documents: None,
        seat,
        vote: Vote::Choice(Choice::Yes),
        seq,
        signature: Signature::from_bytes(&[seat as u8; 64]),
        recorded_at: 2_000 + seq,
        secret: None,
    }
}

fn lost(result: Result<(), StoreError>, what: &str) -> Result<()> {
    match result {
        Err(StoreError::LeaseLost(meeting)) if meeting == example_meeting() => Ok(()),
        other => anyhow::bail!("{what}: expected the lease to be lost, got {other:?}"),
    }
}

#[tokio::test]
async fn a_stale_owner_commits_nothing() -> Result<()> {
    let Some((_db, store)) = postgres().await? else {
        return Ok(());
    };
    let meeting = example_meeting();
    let first = store
        .take_lease(&meeting, "node-a", TERM)
        .await?
        .context("nobody held the meeting")?;
    ensure!(
        store.take_lease(&meeting, "node-b", TERM).await?.is_none(),
        "a running lease is not taken"
    );
    let a = store.fenced(first.clone());
    let r = round(1_000);
    a.open_round(&r).await?;
    a.record_ballots(&[ballot(r.id, 1, 1)]).await?;

    // Node A stalls past its term; node B takes the meeting over.
    let second = take_when_free(&store, "node-b").await?;
    ensure!(
        second.fence == first.fence + 1,
        "the fencing number grows at a takeover: {first:?} then {second:?}"
    );
    let b = store.fenced(second.clone());
    let chain = store.audit_log(&meeting).await?.len();

    // A comes back: every kind of write it tries is refused, and none of it is stored.
    lost(
        a.record_ballots(&[ballot(r.id, 2, 1), ballot(r.id, 1, 2)])
            .await,
        "a ballot batch",
    )?;
    lost(a.check_in(&meeting, 3, 3_000).await, "a check-in")?;
    lost(
        a.set_current_item(&meeting, Some(1)).await,
        "the current item",
    )?;
    lost(a.set_deadline(r.id, 90_000).await, "an extension")?;
    lost(a.void_round(r.id, 4_000).await, "a void")?;
    lost(
        a.record_floor(&meeting, &[FloorChange::TurnEnded { at: 4_000 }])
            .await,
        "a change of the floor",
    )?;
    let ballots = store.ballots(r.id).await?;
    ensure!(
        ballots.len() == 1 && ballots[0].seq == 1,
        "only A's ballot from before the takeover is stored: {ballots:?}"
    );
    ensure!(
        store.present(&meeting).await?.is_empty(),
        "no check-in stored"
    );
    ensure!(
        store.floor_changes(&meeting).await?.is_empty(),
        "no change of the floor stored"
    );
    ensure!(
        store.audit_log(&meeting).await?.len() == chain,
        "the audit chain did not grow"
    );
    let stored = store.rounds(&meeting).await?;
    ensure!(
        stored.len() == 1
            && stored[0].status == RoundStatus::Open
            && stored[0].deadline == r.deadline,
        "the round is as A left it before the takeover: {stored:?}"
    );
    ensure!(
        store.renew_leases("node-a", TERM).await?.is_empty(),
        "A's renewal finds that it holds nothing"
    );

    // B, the owner now, writes as before.
    b.record_ballots(&[ballot(r.id, 2, 1)]).await?;
    ensure!(
        store.ballots(r.id).await?.len() == 2,
        "B's ballot is stored"
    );
    b.record_floor(&meeting, &[FloorChange::TurnEnded { at: 4_500 }])
        .await?;
    ensure!(
        store.floor_changes(&meeting).await?.len() == 1,
        "B's change of the floor is stored"
    );
    ensure!(
        store.renew_leases("node-b", TERM).await? == vec![second.clone()],
        "B renews the lease it took"
    );

    // A lease given back is not renewed, is taken at once, and fences its giver out.
    store.release_lease(&second).await?;
    ensure!(
        store.renew_leases("node-b", TERM).await?.is_empty(),
        "a lease given back stays given back"
    );
    let third = store
        .take_lease(&meeting, "node-a", TERM)
        .await?
        .context("a given-back lease is free")?;
    ensure!(third.fence == second.fence + 1, "{third:?}");
    lost(b.check_in(&meeting, 4, 5_000).await, "B after giving back")?;
    store.fenced(third).check_in(&meeting, 4, 5_000).await?;
    ensure!(
        store.present(&meeting).await? == vec![4],
        "the new owner's check-in"
    );
    Ok(())
}

#[tokio::test]
async fn a_store_fenced_for_one_meeting_writes_no_other() -> Result<()> {
    let Some((_db, store)) = postgres().await? else {
        return Ok(());
    };
    let other = gavel_protocol::MeetingId::parse("other-meeting").unwrap();
    let definition = EXAMPLE.replacen(example_meeting().as_str(), other.as_str(), 1);
    store.import_meeting(&other, &definition, &[], &[]).await?;
    let lease = store
        .take_lease(&example_meeting(), "node-a", TERM)
        .await?
        .context("nobody held the meeting")?;
    let refused = store.fenced(lease).check_in(&other, 1, 1_000).await;
    ensure!(
        matches!(&refused, Err(StoreError::LeaseLost(m)) if *m == other),
        "a write for a meeting the lease is not for: {refused:?}"
    );
    ensure!(store.present(&other).await?.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_enrolled_through_another_node_logs_in_on_the_meetings_node() -> Result<()> {
    let Some((db, store)) = postgres().await? else {
        return Ok(());
    };
    let meeting = example_meeting();
    let server_key = SigningKey::generate(&mut rand::rngs::OsRng);
    let on = |node: &str| app::Options {
        node: Some(node.to_owned()),
        ..app::Options::default()
    };
    let owner = TestServer::start_with(&db.url, server_key.clone(), on("node-a"));
    loop {
        let holdings = store.holdings().await?;
        if holdings.meetings == vec![(meeting.clone(), Some("node-a".to_owned()))] {
            break;
        }
        tokio::time::sleep(TERM / 4).await;
    }
    let other = TestServer::start_with(&db.url, server_key, on("node-b"));

    let codes = enrollment::issue(&store, &meeting, &[Principal::Seat(1)], 1).await?;
    let device = SigningKey::generate(&mut rand::rngs::OsRng);
    let enrolled = Client::connect(&other.url)
        .await?
        .enroll(&codes[0].1, &device)
        .await?;
    ensure!(enrolled == (meeting.clone(), Principal::Seat(1)));
    let session = Client::connect(&owner.url)
        .await?
        .login(&meeting, &device)
        .await
        .context("the owner knows the key enrolled through the other node")?;
    ensure!(session.principal == Some(Principal::Seat(1)));
    Ok(())
}
