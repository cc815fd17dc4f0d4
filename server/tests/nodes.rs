//! Two `gavel serve` nodes on one PostgreSQL database, as an operator runs
//! them behind the hall's reverse proxy: they share the meetings and never
//! host one twice, and when the node that hosts a meeting is killed
//! (SIGKILL) or stalls (SIGSTOP) in the middle of a burst of ballots, the
//! other takes the meeting over with its open round, the tablets reconnect
//! and resend by themselves, no acknowledged ballot is lost or counted
//! twice, and the record verifies. The stalled node, once it goes on
//! (SIGCONT), commits nothing and lets go of the meeting. The chaos test
//! does this twenty times, and prints the failover time
//! (from the kill or stop to the first ballot acknowledged by the new
//! owner), median and worst. And PostgreSQL itself crashing and restarting
//! mid-vote under two nodes loses nothing. At scale, a hundred meetings of
//! forty tablets each vote at once on two nodes, every result exact.

use anyhow::{Context, Result, bail, ensure};
use ed25519_dalek::SigningKey;
use gavel_client::{Client, Session};
use gavel_protocol::messages::{ChairCommand, Receipt, RoundStatus, RoundView};
use gavel_protocol::paper::PaperKind;
use gavel_protocol::rules::Secrecy;
use gavel_protocol::{Choice, MeetingId, RoundId, SeatNo};
use gavel_server::meeting::EXAMPLE;
use gavel_server::store::Store;
use gavel_tests::cluster::Cluster;
use gavel_tests::failover::{
    self, ATTEMPT, Burst, Failure, POLL, SETTLE, Votes, burst_with_failure, hosted, listed, log_in,
    median_and_worst, owner, signal, until_hosted,
};
use gavel_tests::http::{Scrape, delta};
use gavel_tests::process::{self, Gavel, prepare_example};
use gavel_tests::proxy::Proxy;
use gavel_tests::roster::{Roster, public_keys};
use gavel_tests::{TestDatabase, chair, databases, documents, http};
use rand::Rng;
use sha2::Digest as _;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;

/// The nodes' lease term: shorter than the default four seconds, so that
/// the twenty failovers of the chaos test take little time.
const LEASE_TERM_MS: u64 = 1500;

/// The PostgreSQL database of this run, if it has one.
async fn postgres() -> Option<TestDatabase> {
    let found = databases()
        .await
        .into_iter()
        .find(|db| db.name == "postgres");
    if found.is_none() {
        eprintln!("note: no PostgreSQL (TEST_DATABASE_URL); several nodes are not tested");
    }
    found
}

/// A node: `gavel serve` on `database_url` with its own data directory,
/// holding the deployment's `key`, with the tests' short lease term.
fn node(data_dir: &Path, database_url: &str, key: &SigningKey) -> Result<Gavel> {
    let mut command = node_command(data_dir, database_url, key)?;
    command.env("GAVEL_LEASE_TERM_MS", LEASE_TERM_MS.to_string());
    Gavel::start(command)
}

/// The `gavel serve` of a node ([`failover::node_command`]).
fn node_command(data_dir: &Path, database_url: &str, key: &SigningKey) -> Result<Command> {
    failover::node_command(
        Path::new(env!("CARGO_BIN_EXE_gavel")),
        data_dir,
        database_url,
        key,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_the_meetings_and_never_host_one_twice() -> Result<()> {
    let Some(db) = postgres().await else {
        return Ok(());
    };
    const MEETINGS: usize = 8;
    let store = Store::connect(&db.url).await?;
    let example = gavel_tests::server::example_meeting();
    for i in 0..MEETINGS {
        let id = MeetingId::parse(&format!("council-{i:02}")).unwrap();
        let definition = EXAMPLE.replacen(example.as_str(), id.as_str(), 1);
        store.import_meeting(&id, &definition, &[], &[]).await?;
    }
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let (dir_a, dir_b) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let mut a = node(dir_a.path(), &db.url, &key)?;
    until_hosted(&[&a], |h| h[0].len() == MEETINGS).await?;

    // A second node gets half of them, given back by the first.
    let b = node(dir_b.path(), &db.url, &key)?;
    let shared = until_hosted(&[&a, &b], |h| {
        h[0].len() == MEETINGS / 2 && h[1].len() == MEETINGS / 2
    })
    .await?;
    eprintln!("shared: {shared:?}");
    // Each lists every meeting, whichever node hosts it.
    for node in [&a, &b] {
        let all = listed(node).await?;
        ensure!(
            all.len() == MEETINGS
                && all.iter().map(|(id, _)| id).collect::<BTreeSet<_>>().len() == MEETINGS,
            "every meeting listed once on each node: {all:?}"
        );
    }

    // The first dies: the second takes all of them once the leases run out.
    a.kill()?;
    let killed = Instant::now();
    until_hosted(&[&b], |h| h[0].len() == MEETINGS).await?;
    eprintln!(
        "all {MEETINGS} meetings on the other node {:?} after the kill",
        killed.elapsed()
    );
    let status = hosted(&b).await?;
    ensure!(status.len() == MEETINGS);
    Ok(())
}

/// How many meetings the large test spreads over two nodes, and how many
/// tablets each has: the size of a province's councils in session at once.
const MEETINGS: usize = 100;
const TABLETS: u32 = 40;
/// How many tablets log in at the same moment in the large test: a hall's
/// tablets come in over minutes, not in one instant.
const LOGINS_AT_ONCE: usize = 64;

/// One meeting of the large test: its chair opens a round, each of its
/// tablets (logged in first) votes once, the chair closes the round once
/// the live tally counts every tablet. Returns the round and the receipts,
/// after checking that the result counts each choice as often as it was cast.
async fn a_meeting_votes(
    url: String,
    roster: Roster,
    logins: Arc<Semaphore>,
) -> Result<(RoundId, Vec<Receipt>)> {
    let log_in = |key: SigningKey| {
        let (url, meeting, logins) = (url.clone(), roster.meeting.clone(), logins.clone());
        async move {
            let _turn = logins.acquire().await?;
            Ok::<_, anyhow::Error>(Client::connect(&url).await?.login(&meeting, &key).await?)
        }
    };
    let mut tablets = Vec::new();
    for key in &roster.seats {
        tablets.push(log_in(key.clone()).await?);
    }
    let mut chair_session = log_in(roster.chair.clone()).await?;
    let item = chair::item_where(&chair_session, |_| true);
    let round = chair::open_round(&mut chair_session, item, 600).await?;
    let casts: Vec<_> = tablets
        .into_iter()
        .enumerate()
        .map(|(i, mut tablet)| {
            tokio::spawn(async move {
                tablet
                    .wait_until(|s| s.open_round().is_some_and(|r| r.id == round))
                    .await?;
                let receipt = tablet.cast(Choice::ALL[i % 3]).await?;
                tablet.close().await;
                Ok::<_, anyhow::Error>(receipt)
            })
        })
        .collect();
    let mut receipts = Vec::new();
    for cast in casts {
        receipts.push(cast.await??);
    }
    chair_session
        .wait_until(|s| {
            s.open_round()
                .and_then(|r| r.live.as_ref())
                .is_some_and(|l| l.taking_part == TABLETS)
        })
        .await?;
    chair_session.chair(ChairCommand::Close).await?;
    let result = chair_session
        .state
        .round()
        .filter(|r| r.id == round && r.status == RoundStatus::Closed)
        .and_then(RoundView::tally)
        .context("closed with a result")?;
    for choice in Choice::ALL {
        let cast = receipts.iter().filter(|r| r.choice == choice).count();
        ensure!(
            result.counts.of(choice) as usize == cast,
            "{}: {choice} counted {} times, cast {cast} times",
            roster.meeting,
            result.counts.of(choice)
        );
    }
    chair_session.close().await;
    Ok((round, receipts))
}

/// A hundred meetings of forty tablets on two nodes sharing one PostgreSQL
/// database: the nodes share the meetings, each meeting opens a round,
/// every tablet votes through the node that hosts its meeting, and every
/// result counts each choice as often as it was cast; each ballot is
/// stored once and acknowledged once (each node's metrics count every
/// commit and acknowledgement), and both nodes hosted and counted some.
/// Nobody follows these meetings on the other node, so neither node writes
/// any audience frame to the store meanwhile; what the run cost the
/// database (its write-ahead log) is printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_meetings_of_forty_tablets_vote_on_two_nodes() -> Result<()> {
    let Some(db) = postgres().await else {
        return Ok(());
    };
    let started = Instant::now();
    let store = Store::connect(&db.url).await?;
    let rosters: Vec<Roster> = (0..MEETINGS).map(|_| Roster::generate(TABLETS)).collect();
    // A few at a time: the store's pool waits only so long for a connection.
    let importing = Arc::new(Semaphore::new(4));
    let mut imports = tokio::task::JoinSet::new();
    for roster in &rosters {
        let (store, importing) = (store.clone(), importing.clone());
        let (meeting, text) = (roster.meeting.clone(), roster.definition());
        let keys = public_keys(&roster.seats, &roster.chair);
        imports.spawn(async move {
            let _turn = importing.acquire().await?;
            Ok::<_, anyhow::Error>(store.import_meeting(&meeting, &text, &keys, &[]).await?)
        });
    }
    while let Some(imported) = imports.join_next().await {
        imported??;
    }
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let dirs = [tempfile::tempdir()?, tempfile::tempdir()?];
    let mut nodes = Vec::new();
    for dir in &dirs {
        let mut command = node_command(dir.path(), &db.url, &key)?;
        // Every tablet of the test comes from 127.0.0.1, as behind a proxy.
        command.args(["--connections-per-address", "8192"]);
        nodes.push(Gavel::start(command)?);
    }
    let hosts = until_hosted(&[&nodes[0], &nodes[1]], |h| {
        h.iter().all(|m| m.len() == MEETINGS / 2)
    })
    .await?;
    eprintln!(
        "{MEETINGS} meetings imported and shared by two nodes in {:?}",
        started.elapsed()
    );
    let metrics: Vec<String> = nodes
        .iter()
        .map(|n| n.metrics_addr.clone().context("a metrics listener"))
        .collect::<Result<_>>()?;
    let mut before = Vec::new();
    for addr in &metrics {
        before.push(Scrape::of(addr).await?);
    }
    let wal_before = wal_position(&db.url).await?;

    let voting = Instant::now();
    let logins = Arc::new(Semaphore::new(LOGINS_AT_ONCE));
    let meetings: Vec<_> = rosters
        .into_iter()
        .map(|roster| {
            let host = hosts
                .iter()
                .position(|h| h.contains(roster.meeting.as_str()))
                .expect("every meeting is hosted");
            let meeting = roster.meeting.clone();
            let voted = tokio::spawn(a_meeting_votes(nodes[host].url(), roster, logins.clone()));
            (meeting, voted)
        })
        .collect();
    let mut ballots = 0;
    for (meeting, voted) in meetings {
        let (round, receipts) = voted.await?.with_context(|| format!("meeting {meeting}"))?;
        let acknowledged: HashMap<SeatNo, (u64, Choice)> = receipts
            .iter()
            .map(|r| (r.seat, (r.seq, r.choice)))
            .collect();
        ensure!(
            acknowledged.len() == TABLETS as usize,
            "{meeting}: a receipt per tablet"
        );
        let stored: HashMap<SeatNo, (u64, Choice)> = store
            .ballots(round)
            .await?
            .into_iter()
            .map(|b| Ok((b.seat, (b.seq, b.vote.choice().context("a choice")?))))
            .collect::<Result<_>>()?;
        ensure!(
            stored == acknowledged,
            "{meeting}: stored {stored:?}, acknowledged {acknowledged:?}"
        );
        ballots += receipts.len();
    }
    let voted_in = voting.elapsed();
    let wal = wal_position(&db.url).await? - wal_before;

    let mut after = Vec::new();
    for addr in &metrics {
        after.push(Scrape::of(addr).await?);
    }
    let moved = |sample: &str| -> Vec<f64> {
        before
            .iter()
            .zip(&after)
            .map(|(b, a)| delta(b, a, sample))
            .collect()
    };
    let accepted = moved("gavel_ballots_accepted_total");
    let acks = moved("gavel_ballot_ack_seconds_count");
    ensure!(
        accepted.iter().sum::<f64>() == ballots as f64
            && acks.iter().sum::<f64>() == ballots as f64,
        "each of {ballots} ballots committed and acknowledged once: committed {accepted:?}, acknowledged {acks:?}"
    );
    ensure!(
        accepted.iter().all(|&n| n > 0.0),
        "both nodes counted ballots: {accepted:?}"
    );
    let writes: f64 = moved("gavel_audience_writes_total").iter().sum();
    ensure!(
        writes == 0.0,
        "nobody relays these meetings, yet the hosts wrote their audience {writes} times"
    );
    let bytes: f64 = moved("gavel_audience_write_bytes_total").iter().sum();
    let seconds: f64 = moved("gavel_audience_write_seconds_sum").iter().sum();
    eprintln!(
        "{ballots} ballots in {MEETINGS} meetings voted in {voted_in:?} (test {:?}); \
         audience_state meanwhile: {writes} writes ({:.2} per ballot), {:.1} MB of frames, \
         {seconds:.2} s of the nodes' time writing; all the database's WAL: {:.1} MB",
        started.elapsed(),
        writes / ballots as f64,
        bytes / 1e6,
        wal as f64 / 1e6,
    );
    store.close().await;
    Ok(())
}

/// Where PostgreSQL's write-ahead log is now, in bytes since its start.
async fn wal_position(database_url: &str) -> Result<i64> {
    let pool = sqlx::PgPool::connect(database_url).await?;
    let at = sqlx::query_scalar("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint")
        .fetch_one(&pool)
        .await?;
    pool.close().await;
    Ok(at)
}

/// How many times the chaos test fails the meeting's node.
const FAILURES: usize = 20;

/// Whether the `n`th failure stops the node rather than killing it: one in
/// four. A stopped node holds what it had open for up to five seconds
/// (until PostgreSQL ends its idle transaction), so stops are the slow ones.
fn failure(n: usize) -> Failure {
    if n % 4 == 3 {
        Failure::Stop
    } else {
        Failure::Kill
    }
}

/// The chaos test: two nodes behind a balancing proxy, and a burst of
/// ballots from 20 tablets in which the node hosting the meeting is killed
/// (SIGKILL) or stopped (SIGSTOP) at a random point, twenty times over.
/// After each failure every acknowledged ballot is stored once, and the
/// record verifies; a killed node is started again, a stopped one goes on
/// (SIGCONT), commits nothing and lets go. The failover times (failure to
/// the first receipt of the new owner) are printed, median and worst.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vote_survives_its_node_being_killed_or_stopped_at_twenty_points() -> Result<()> {
    let Some(db) = postgres().await else {
        return Ok(());
    };
    const SEATS: u32 = 20;
    const VOTES: u64 = 3;
    let started = Instant::now();
    let prepared = prepare_example(&db.url, SEATS).await?;
    let meeting = prepared.meeting.clone();
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let dirs = [tempfile::tempdir()?, tempfile::tempdir()?];
    let mut nodes = Vec::new();
    for dir in &dirs {
        nodes.push(node(dir.path(), &db.url, &key)?);
    }
    let mut proxy = Proxy::balance(nodes.iter().map(|n| n.addr.clone()).collect()).await?;
    owner(&nodes, &meeting).await?;
    let mut chair_session = log_in(&proxy.ws_url(), &meeting, &prepared.chair).await?;
    let item = chair::changeable_item(&chair_session, Secrecy::Named);
    let round = chair::open_round(&mut chair_session, item, 3600).await?;
    let deadline = chair_session.state.open_round().context("open")?.deadline;
    chair_session.close().await;
    for key in &prepared.seats {
        let mut seat = log_in(&proxy.ws_url(), &meeting, key).await?;
        seat.check_in().await?;
        seat.close().await;
    }

    let mut acked_all: HashMap<SeatNo, (u64, Choice)> = HashMap::new();
    let mut failovers = Vec::new();
    for n in 0..FAILURES {
        let failure = failure(n);
        let votes = Votes {
            url: proxy.ws_url(),
            meeting: &meeting,
            round,
            seats: &prepared.seats,
            base: n as u64 * VOTES,
            votes: VOTES,
        };
        let failed = burst_with_failure(&mut nodes, votes, failure, &db.url)
            .await
            .with_context(|| format!("failure {n}"))?;
        let (owner, took) = (failed.node, failed.failover);
        eprintln!(
            "failure {n}: {failure:?} after {} receipts, failover {took:?}",
            failed.after_receipts
        );
        failovers.push(took);
        acked_all = failed.acked.last;

        match failure {
            Failure::Kill => {
                // Started again on its data directory (on a port of its own),
                // a node like the other, behind a proxy to both.
                nodes[owner] = node(dirs[owner].path(), &db.url, &key)?;
                proxy = Proxy::balance(nodes.iter().map(|n| n.addr.clone()).collect()).await?;
            }
            Failure::Stop => {
                // The stalled node goes on: it finds its lease taken, commits
                // nothing and lets go of the meeting. Until its next renewal
                // it still believes it hosts the meeting (what it tries to
                // write meanwhile is refused).
                signal(&nodes[owner], "-CONT")?;
                let resumed = Instant::now();
                while hosted(&nodes[owner]).await?.contains(meeting.as_str()) {
                    ensure!(resumed.elapsed() < SETTLE, "the stalled node lets go");
                    tokio::time::sleep(POLL).await;
                }
                let log = nodes[owner].log().join("\n");
                ensure!(
                    log.contains("taken over; letting go"),
                    "the stalled node says it let go: {log}"
                );
                let stored = process::stored_ballots(&db.url, round).await?;
                ensure!(stored == acked_all, "the stalled node wrote nothing");
            }
        }

        // Whichever node signed which receipt, the record verifies.
        let store = Store::connect(&db.url).await?;
        let bundle = gavel_server::export::bundle(&store, &key, &meeting).await?;
        let problems = gavel_records::verify::verify(&bundle);
        ensure!(problems.is_empty(), "failure {n}: the record: {problems:?}");
        store.close().await;
    }
    let (median, worst) = median_and_worst(&failovers);
    eprintln!(
        "failover over {FAILURES} failures ({} SIGKILL, {} SIGSTOP): median {median:?}, worst {worst:?}; test took {:?}",
        (0..FAILURES)
            .filter(|&n| matches!(failure(n), Failure::Kill))
            .count(),
        (0..FAILURES)
            .filter(|&n| matches!(failure(n), Failure::Stop))
            .count(),
        started.elapsed()
    );

    // The round outlived every failure with its deadline, and closes with
    // every seat counted once.
    let mut chair_session = log_in(&proxy.ws_url(), &meeting, &prepared.chair).await?;
    let open = chair_session.state.open_round().context("still open")?;
    ensure!(open.id == round && open.deadline == deadline, "{open:?}");
    chair_session.chair(ChairCommand::Close).await?;
    let result = chair_session
        .state
        .round()
        .filter(|r| r.status == RoundStatus::Closed)
        .and_then(RoundView::tally)
        .context("closed with a result")?;
    ensure!(result.counts.taking_part() == SEATS, "{result:?}");
    for choice in Choice::ALL {
        let voted = acked_all.values().filter(|(_, c)| *c == choice).count();
        ensure!(
            result.counts.of(choice) as usize == voted,
            "{choice}: {result:?}"
        );
    }
    let store = Store::connect(&db.url).await?;
    let bundle = gavel_server::export::bundle(&store, &key, &meeting).await?;
    ensure!(
        gavel_records::verify::verify(&bundle).is_empty(),
        "the closed round's record verifies"
    );
    Ok(())
}

/// PostgreSQL crashes and restarts (a cluster of the test's own, stopped
/// with `-m immediate`) in the middle of a burst of ballots to a meeting
/// on one of two nodes: every write fails meanwhile, the leases may run out,
/// and once the database is back the meeting is hosted again, the tablets
/// resend, and every acknowledged ballot is stored once; the record
/// verifies and the round closes with every seat counted once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_restart_mid_vote_with_two_nodes_loses_nothing() -> Result<()> {
    let Some(cluster) = Cluster::start()? else {
        return Ok(());
    };
    const SEATS: u32 = 20;
    const VOTES: u64 = 3;
    let prepared = prepare_example(&cluster.url, SEATS).await?;
    let meeting = prepared.meeting.clone();
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let dirs = [tempfile::tempdir()?, tempfile::tempdir()?];
    let nodes = [
        node(dirs[0].path(), &cluster.url, &key)?,
        node(dirs[1].path(), &cluster.url, &key)?,
    ];
    let proxy = Proxy::balance(nodes.iter().map(|n| n.addr.clone()).collect()).await?;
    owner(&nodes, &meeting).await?;
    let mut chair_session = log_in(&proxy.ws_url(), &meeting, &prepared.chair).await?;
    let item = chair::changeable_item(&chair_session, Secrecy::Named);
    let round = chair::open_round(&mut chair_session, item, 600).await?;
    chair_session.close().await;
    for key in &prepared.seats {
        let mut seat = log_in(&proxy.ws_url(), &meeting, key).await?;
        seat.check_in().await?;
        seat.close().await;
    }

    let burst = Burst::start(Votes {
        url: proxy.ws_url(),
        meeting: &meeting,
        round,
        seats: &prepared.seats,
        base: 0,
        votes: VOTES,
    })?;
    let wanted = rand::thread_rng().gen_range(1..burst.before_last);
    burst.until_acknowledged(wanted).await;
    let crashed_at = Instant::now();
    cluster.crash_and_restart()?;
    let down_for = crashed_at.elapsed();
    burst.failed();
    let acked = burst.finish().await?;
    let back_at = crashed_at + down_for;
    let back = acked
        .at
        .iter()
        .filter(|at| **at > back_at)
        .min()
        .map(|at| *at - back_at)
        .context("ballots were acknowledged once PostgreSQL was back")?;
    eprintln!(
        "PostgreSQL crashed after {wanted} receipts and was back {down_for:?} later; the first receipt came {back:?} after that"
    );
    let stored = process::stored_ballots(&cluster.url, round).await?;
    ensure!(
        stored == acked.last,
        "the store holds {stored:?}, the tablets were given receipts for {:?}",
        acked.last
    );

    let mut chair_session = log_in(&proxy.ws_url(), &meeting, &prepared.chair).await?;
    ensure!(
        chair_session
            .state
            .open_round()
            .is_some_and(|r| r.id == round)
    );
    chair_session.chair(ChairCommand::Close).await?;
    let result = chair_session
        .state
        .round()
        .filter(|r| r.status == RoundStatus::Closed)
        .and_then(RoundView::tally)
        .context("closed with a result")?;
    ensure!(result.counts.taking_part() == SEATS, "{result:?}");
    let store = Store::connect(&cluster.url).await?;
    let bundle = gavel_server::export::bundle(&store, &key, &meeting).await?;
    let problems = gavel_records::verify::verify(&bundle);
    ensure!(problems.is_empty(), "the record: {problems:?}");
    Ok(())
}

/// Follows `meeting` read-only, as the hall screen does, through `url`,
/// trying again while the meeting's host has published nothing yet.
async fn watch(url: &str, meeting: &MeetingId) -> Result<Session> {
    let started = Instant::now();
    loop {
        let attempt = async { Client::connect(url).await?.watch(meeting).await };
        match tokio::time::timeout(ATTEMPT, attempt).await {
            Ok(Ok(session)) => return Ok(session),
            Ok(Err(e)) if started.elapsed() > SETTLE => bail!("cannot watch: {e}"),
            _ => tokio::time::sleep(POLL).await,
        }
    }
}

/// Reads `screen`'s frames until `done` holds of what it shows, for at
/// most [`SETTLE`].
async fn until_shown(
    screen: &mut Session,
    what: &str,
    done: impl Fn(&gavel_client::MeetingState) -> bool,
) -> Result<()> {
    tokio::time::timeout(SETTLE, screen.wait_until(done))
        .await
        .with_context(|| format!("the hall screen shows {what}"))??;
    Ok(())
}

/// Every `delegates` votes `choice` in the open round, through `url`.
async fn all_vote(
    prepared: &process::Prepared,
    url: &str,
    delegates: usize,
    choice: Choice,
) -> Result<()> {
    for seat in 1..=delegates as u32 {
        let mut tablet = prepared.seat(url, seat).await?;
        tablet.check_in().await?;
        tablet.cast(choice).await?;
        tablet.close().await;
    }
    Ok(())
}

/// A hall screen connected to the node that does not host its meeting is
/// served there, from what the host publishes through PostgreSQL: it sees
/// the round open, the running tally and the result. When the host is
/// killed it stays connected, and once the other node has taken the
/// meeting it sees the next round, its tally and its result; and when its
/// node's listening connection is cut, it catches up. What is published of
/// a secret round names no seat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hall_screen_on_the_other_node_follows_the_meeting_through_a_failover() -> Result<()> {
    let Some(db) = postgres().await else {
        return Ok(());
    };
    const SEATS: u32 = 4;
    let prepared = prepare_example(&db.url, SEATS).await?;
    let meeting = prepared.meeting.clone();
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let dirs = [tempfile::tempdir()?, tempfile::tempdir()?];
    let mut nodes = Vec::new();
    for dir in &dirs {
        nodes.push(node(dir.path(), &db.url, &key)?);
    }
    let host = owner(&nodes, &meeting).await?;
    let relay = 1 - host;
    let (host_url, relay_url) = (nodes[host].url(), nodes[relay].url());

    let mut screen = watch(&relay_url, &meeting).await?;
    ensure!(screen.principal.is_none());
    let mut chair_session = log_in(&host_url, &meeting, &prepared.chair).await?;
    let item = chair::changeable_item(&chair_session, Secrecy::Named);
    let round = chair::open_round(&mut chair_session, item, 600).await?;
    until_shown(&mut screen, "the round open", |s| {
        s.open_round().is_some_and(|r| r.id == round)
    })
    .await?;
    all_vote(&prepared, &host_url, SEATS as usize, Choice::Yes).await?;
    until_shown(&mut screen, "the running tally", |s| {
        s.live_counts().is_some_and(|c| c.of(Choice::Yes) == SEATS)
    })
    .await?;
    chair_session.chair(ChairCommand::Close).await?;
    until_shown(&mut screen, "the result", |s| {
        s.round()
            .filter(|r| r.id == round && r.status == RoundStatus::Closed)
            .and_then(RoundView::tally)
            .is_some_and(|t| t.counts.of(Choice::Yes) == SEATS)
    })
    .await?;
    chair_session.close().await;

    // The host dies; the screen's node takes the meeting over, and the
    // screen, still connected, follows what the new host publishes.
    nodes[host].kill()?;
    let killed = Instant::now();
    ensure!(owner(&nodes[relay..=relay], &meeting).await? == 0);
    let mut chair_session = log_in(&relay_url, &meeting, &prepared.chair).await?;
    let next = chair::open_round(&mut chair_session, item, 600).await?;
    until_shown(&mut screen, "the next round open", |s| {
        s.open_round().is_some_and(|r| r.id == next)
    })
    .await?;
    eprintln!(
        "the hall screen saw the next round {:?} after its host was killed",
        killed.elapsed()
    );

    // Its node's listening connection is cut: it listens again and catches up.
    let cut = process::terminate_listeners(&db.url).await?;
    ensure!(cut >= 1, "a listening connection was cut");
    all_vote(&prepared, &relay_url, SEATS as usize, Choice::No).await?;
    until_shown(&mut screen, "the next round's tally", |s| {
        s.live_counts().is_some_and(|c| c.of(Choice::No) == SEATS)
    })
    .await?;
    chair_session.chair(ChairCommand::Close).await?;
    until_shown(&mut screen, "the next round's result", |s| {
        s.round()
            .filter(|r| r.id == next && r.status == RoundStatus::Closed)
            .and_then(RoundView::tally)
            .is_some_and(|t| t.counts.of(Choice::No) == SEATS)
    })
    .await?;

    // A secret round publishes what the hall screen shows: how many took
    // part, never which seats, nor a seat beside a choice.
    let secret = chair::open_round(&mut chair_session, prepared.item(Secrecy::Secret), 600).await?;
    all_vote(&prepared, &relay_url, SEATS as usize, Choice::Yes).await?;
    until_shown(&mut screen, "the secret round's tally", |s| {
        s.open_round().is_some_and(|r| {
            r.id == secret && r.live.as_ref().is_some_and(|l| l.taking_part == SEATS)
        })
    })
    .await?;
    let store = Store::connect(&db.url).await?;
    let published = store
        .audience_frames(&meeting)
        .await?
        .context("the audience's frames are published")?;
    let tally: serde_json::Value =
        serde_json::from_str(&published.tally.context("a running tally")?.1)?;
    ensure!(
        tally["round"] == serde_json::json!(secret.to_string())
            && tally["live"]["taking_part"] == SEATS
            && tally["live"]["voted"].is_null()
            && tally["live"]["choices"].is_null(),
        "the published tally of a secret round: {tally}"
    );
    let snapshot: serde_json::Value =
        serde_json::from_str(&published.snapshot.context("a snapshot")?.1)?;
    ensure!(
        snapshot["round"]["id"] == serde_json::json!(secret.to_string())
            && snapshot["present_seats"].is_null()
            && snapshot["round"]["live"]["voted"].is_null()
            && snapshot["round"]["live"]["choices"].is_null(),
        "the published snapshot of a secret round names no seat: {snapshot}"
    );
    store.close().await;
    Ok(())
}

/// Whether what `meeting`'s audience was published to see is withdrawn
/// (or was never published).
async fn withdrawn(store: &Store, meeting: &MeetingId) -> Result<bool> {
    Ok(store
        .audience_frames(meeting)
        .await?
        .is_none_or(|f| f.is_empty()))
}

/// Waits until what `meeting`'s audience was published to see is withdrawn.
async fn until_withdrawn(store: &Store, meeting: &MeetingId, why: &str) -> Result<()> {
    let started = Instant::now();
    while !withdrawn(store, meeting).await? {
        ensure!(started.elapsed() < SETTLE, "the audience withdrawn: {why}");
        tokio::time::sleep(POLL).await;
    }
    eprintln!("the audience withdrawn {:?} after {why}", started.elapsed());
    Ok(())
}

/// The audience's frames written to the store so far by the node at `metrics`.
async fn audience_writes(metrics: &str) -> Result<f64> {
    Ok(Scrape::of(metrics)
        .await?
        .value("gavel_audience_writes_total"))
}

/// A meeting's host writes what its audience sees to the store only while
/// another node relays the meeting: nothing through a vote that nobody
/// watches on the other node (a hall screen on the host is served by the
/// host alone); from the moment a hall screen connects to the other node,
/// which follows the vote; nothing again once that screen has left (the
/// relay is torn down, and what was published withdrawn, so that a relay
/// started later shows nothing stale), through a whole round; then, with a
/// screen back on the other node, it follows again from the round it
/// finds; and when that node dies, its registration runs out and the host
/// withdraws again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audience_is_published_only_while_another_node_relays_it() -> Result<()> {
    let Some(db) = postgres().await else {
        return Ok(());
    };
    const SEATS: u32 = 4;
    let prepared = prepare_example(&db.url, SEATS).await?;
    let meeting = prepared.meeting.clone();
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let dirs = [tempfile::tempdir()?, tempfile::tempdir()?];
    let mut nodes = Vec::new();
    for dir in &dirs {
        nodes.push(node(dir.path(), &db.url, &key)?);
    }
    let host = owner(&nodes, &meeting).await?;
    let relay = 1 - host;
    let (host_url, relay_url) = (nodes[host].url(), nodes[relay].url());
    let metrics = nodes[host].metrics_addr.clone().context("metrics")?;
    let store = Store::connect(&db.url).await?;

    let mut local_screen = watch(&host_url, &meeting).await?;
    let mut chair_session = log_in(&host_url, &meeting, &prepared.chair).await?;
    let item = chair::changeable_item(&chair_session, Secrecy::Named);
    let round = chair::open_round(&mut chair_session, item, 600).await?;
    all_vote(&prepared, &host_url, SEATS as usize, Choice::Yes).await?;
    until_shown(&mut local_screen, "the tally on the host", |s| {
        s.live_counts().is_some_and(|c| c.of(Choice::Yes) == SEATS)
    })
    .await?;
    ensure!(
        audience_writes(&metrics).await? == 0.0 && withdrawn(&store, &meeting).await?,
        "nobody watches on the other node: nothing is published"
    );

    let mut screen = watch(&relay_url, &meeting).await?;
    until_shown(&mut screen, "the tally on the other node", |s| {
        s.open_round().is_some_and(|r| r.id == round)
            && s.live_counts().is_some_and(|c| c.of(Choice::Yes) == SEATS)
    })
    .await?;
    ensure!(
        audience_writes(&metrics).await? > 0.0,
        "published once relayed"
    );

    screen.close().await;
    until_withdrawn(&store, &meeting, "the other node's last viewer left").await?;
    ensure!(
        nodes[relay]
            .log()
            .iter()
            .any(|l| l.contains("its last viewer left")),
        "the other node tore its relay down"
    );
    let written = audience_writes(&metrics).await?;
    chair_session.chair(ChairCommand::Close).await?;
    let next = chair::open_round(&mut chair_session, item, 600).await?;
    all_vote(&prepared, &host_url, SEATS as usize, Choice::No).await?;
    until_shown(
        &mut local_screen,
        "the next round's tally on the host",
        |s| {
            s.open_round().is_some_and(|r| r.id == next)
                && s.live_counts().is_some_and(|c| c.of(Choice::No) == SEATS)
        },
    )
    .await?;
    ensure!(
        audience_writes(&metrics).await? == written && withdrawn(&store, &meeting).await?,
        "nothing published for a round nobody watches on the other node"
    );

    let mut screen = watch(&relay_url, &meeting).await?;
    until_shown(&mut screen, "the next round on the other node", |s| {
        s.open_round().is_some_and(|r| r.id == next)
            && s.live_counts().is_some_and(|c| c.of(Choice::No) == SEATS)
    })
    .await?;
    ensure!(
        audience_writes(&metrics).await? > written,
        "published again"
    );

    nodes[relay].kill()?;
    until_withdrawn(&store, &meeting, "the relaying node died").await?;
    store.close().await;
    Ok(())
}

/// The tokens a session is given work on every node: behind a proxy that
/// spreads requests, a delegate's `document_access` token opens a
/// delegates-only document through the node that does not host the
/// meeting, and the chair's one-time download link is served there, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_issued_by_the_meetings_node_are_honoured_by_the_other() -> Result<()> {
    let Some(db) = postgres().await else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let draft = documents::pdf("Du thao Nghi quyet");
    documents::write(dir.path(), documents::DRAFT.file, &draft)?;
    let path = documents::example_with_documents(dir.path(), &[documents::DRAFT])?;
    let text = std::fs::read_to_string(&path)?;
    let definition = gavel_server::meeting::MeetingDefinition::parse(&text)?;
    let stored = gavel_server::documents::read(&definition, dir.path())?;
    let prepared = process::prepare(&db.url, &text, &stored, 1).await?;
    let meeting = prepared.meeting.clone();
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let dirs = [tempfile::tempdir()?, tempfile::tempdir()?];
    let mut nodes = Vec::new();
    for dir in &dirs {
        nodes.push(node(dir.path(), &db.url, &key)?);
    }
    let host = owner(&nodes, &meeting).await?;
    let (host, other) = (&nodes[host], &nodes[1 - host]);

    let tablet = log_in(&host.url(), &meeting, &prepared.seats[0]).await?;
    let token = tablet
        .state
        .document_access
        .clone()
        .context("a delegate is given a document_access token")?;
    let sha = hex::encode(sha2::Sha256::digest(&draft));
    let path = format!("/api/meetings/{meeting}/documents/{sha}");
    let (status, _, _) = http::get_bytes(&other.addr, &path, &[]).await?;
    ensure!(status == 401, "without a token: {status}");
    let (status, _, body) = http::get_bytes(
        &other.addr,
        &path,
        &[("X-Gavel-Document-Access", token.as_str())],
    )
    .await?;
    ensure!(
        status == 200 && body == draft,
        "the other node serves the document for the token: {status}"
    );
    let forged = format!("{}.{}", u64::MAX, "0".repeat(128));
    let (status, _, _) = http::get_bytes(
        &other.addr,
        &path,
        &[("X-Gavel-Document-Access", forged.as_str())],
    )
    .await?;
    ensure!(
        status == 403,
        "a token not signed by the nodes' key: {status}"
    );

    let mut chair_session = log_in(&host.url(), &meeting, &prepared.chair).await?;
    let ready = chair_session
        .request(|id| gavel_protocol::ClientMsg::Export { id })
        .await?;
    let gavel_protocol::ServerMsg::ExportReady { url, .. } = ready else {
        bail!("export answered {ready:?}");
    };
    let first = http::get(&other.addr, &url).await?;
    ensure!(
        first.status == 200,
        "the other node serves the download: {first:?}"
    );
    let bundle = gavel_records::bundle::Bundle::from_json(&first.body)?;
    ensure!(gavel_records::verify::verify(&bundle).is_empty());
    for node in [host, other] {
        let again = http::get(&node.addr, &url).await?;
        ensure!(again.status == 403, "the link works once: {again:?}");
    }
    Ok(())
}

/// An item of the example meeting voted on yes/no by name, other than
/// `but`: one whose result a show of hands can give.
fn by_name(agenda: &[gavel_protocol::messages::ItemView], but: Option<u32>) -> Result<u32> {
    agenda
        .iter()
        .find(|i| {
            i.paper.is_none()
                && i.vote.is_some_and(|v| v.secrecy == Secrecy::Named)
                && Some(i.index) != but
        })
        .map(|i| i.index)
        .context("the example meeting has items voted on by name")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secretariat_on_the_other_node_acts_through_the_meetings_node() -> Result<()> {
    let Some(db) = postgres().await else {
        return Ok(());
    };
    let prepared = prepare_example(&db.url, 2).await?;
    let meeting = prepared.meeting.clone();
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let dirs = [tempfile::tempdir()?, tempfile::tempdir()?];
    let mut nodes = Vec::new();
    for dir in &dirs {
        nodes.push(node(dir.path(), &db.url, &key)?);
    }
    let host = owner(&nodes, &meeting).await?;
    let (host, other) = (&nodes[host], &nodes[1 - host]);
    let store = Store::connect(&db.url).await?;
    let (bearer, device) = gavel_tests::secretariat::log_in_at(&other.addr, &store).await?;
    let auth = [("Authorization", bearer.as_str())];
    let api = format!("/api/secretariat/meetings/{meeting}");
    let mut tablet = log_in(&host.url(), &meeting, &prepared.seats[0]).await?;
    let mut lost = log_in(&host.url(), &meeting, &prepared.seats[1]).await?;
    let item = by_name(&tablet.meeting.agenda, None)?;

    // A show of hands recorded through the other node is decided by the
    // host's actor: the tablet on the host has it at once.
    let counts =
        serde_json::json!({ "present": 2, "yes": 2, "no": 0, "abstain": 0, "by": "Lê Thị Thu" });
    let by_hand = format!("{api}/items/{item}/by-hand");
    let recorded = http::post_json(&other.addr, &by_hand, &auth, Some(&counts)).await?;
    ensure!(recorded.status == 200, "recorded: {recorded:?}");
    let line: serde_json::Value = serde_json::from_str(&recorded.body)?;
    ensure!(
        line["status"] == "closed" && line["by_hand"]["device"] == serde_json::json!(device),
        "the recorded round: {line}"
    );
    tablet
        .wait_until(|s| {
            s.round()
                .is_some_and(|r| r.item == item && r.by_hand.is_some())
        })
        .await?;
    // The actor's refusal comes back as it is: the item's result stands.
    let again = http::post_json(&other.addr, &by_hand, &auth, Some(&counts)).await?;
    let refusal: serde_json::Value = serde_json::from_str(&again.body)?;
    ensure!(
        again.status == 409 && refusal["reason"] == "item_decided",
        "recorded again: {again:?}"
    );

    // The counting board's figures of an election, recorded through the
    // other node, reach the host's actor as they were entered: the ballots
    // and each candidate's approvals decide the result it answers with.
    let election = tablet
        .meeting
        .agenda
        .iter()
        .find_map(|i| {
            let paper = i.paper.as_ref()?;
            (paper.kind == PaperKind::Election).then_some((i.index, paper.entries.len()))
        })
        .context("the example meeting has an election")?;
    let mut approvals = vec![vec![0]; election.1];
    approvals[0] = vec![24];
    let figures = serde_json::json!({
        "present": 40,
        "ballots": { "issued": 40, "returned": 39, "invalid": 1 },
        "marks": approvals,
        "by": "Lê Thị Thu",
    });
    let counted = format!("{api}/items/{}/by-hand", election.0);
    let recorded = http::post_json(&other.addr, &counted, &auth, Some(&figures)).await?;
    ensure!(
        recorded.status == 200,
        "the election recorded: {recorded:?}"
    );
    let line: serde_json::Value = serde_json::from_str(&recorded.body)?;
    ensure!(
        line["by_hand"]["ballots"] == figures["ballots"]
            && line["result"]["kind"] == "election"
            && line["result"]["approvals"][0] == 24
            && line["result"]["elected"] == serde_json::json!([0]),
        "the recorded election: {line}"
    );

    // Both nodes read the results, with the session the other node opened.
    for node in [other, host] {
        let (results, _) = http::get_with(&node.addr, &format!("{api}/results"), &auth).await?;
        ensure!(results.status == 200, "results: {results:?}");
        let results: serde_json::Value = serde_json::from_str(&results.body)?;
        ensure!(
            results["items"][item as usize]["rounds"][0]["by_hand"]["by"] == "Lê Thị Thu",
            "the results: {results}"
        );
    }
    // The devices, as the host sees them.
    let (devices, _) = http::get_with(&other.addr, &format!("{api}/devices"), &auth).await?;
    let devices: serde_json::Value = serde_json::from_str(&devices.body)?;
    ensure!(
        devices["devices"][1]["online"] == true && devices["devices"][2]["online"] == true,
        "the tablets connected to the host: {devices}"
    );

    // A key revoked through the other node is refused by the host before
    // the call is answered: its session is told why, and it cannot log in.
    let card = serde_json::json!({ "tablet_url": format!("http://{}/tablet/", other.addr) });
    let revoke = format!("{api}/devices/2/revoke");
    let revoked = http::post_json(&other.addr, &revoke, &auth, Some(&card)).await?;
    ensure!(revoked.status == 200, "revoked: {revoked:?}");
    let Err(refused) = Client::connect(&host.url())
        .await?
        .login(&meeting, &prepared.seats[1])
        .await
    else {
        bail!("the revoked key logged in on the host");
    };
    ensure!(
        refused.reason() == Some(gavel_protocol::RefusalReason::KeyRevoked),
        "{refused}"
    );
    let told = loop {
        match lost.next().await {
            Ok(gavel_protocol::ServerMsg::Refused { reason, .. }) => break reason,
            Ok(_) => continue,
            Err(e) => bail!("the revoked tablet was closed without the reason: {e}"),
        }
    };
    ensure!(told == gavel_protocol::RefusalReason::KeyRevoked);

    // A document uploaded through the other node is in the host's view as
    // soon as the upload is answered, not at the host's next look at the store.
    let draft = documents::pdf("Du thao Nghi quyet");
    let last = tablet.meeting.agenda.len() - 1;
    let attach =
        format!("{api}/items/{last}/documents?title=Du%20thao&kind=draft_resolution&public=true");
    let attached = http::post_bytes(&other.addr, &attach, &auth, "application/pdf", &draft).await?;
    ensure!(attached.status == 200, "attached: {attached:?}");
    let sha = hex::encode(sha2::Sha256::digest(&draft));
    let view = http::get(&host.addr, &format!("/api/meetings/{meeting}/view")).await?;
    ensure!(
        view.status == 200 && view.body.contains(&sha),
        "the host's view lists the new document at once ({})",
        view.status
    );

    // An edit of the form through the other node is made by the host's
    // actor: the host's view has the new title as soon as it is answered.
    let (form, _) = http::get_with(&other.addr, &format!("{api}/form"), &auth).await?;
    ensure!(form.status == 200, "the form: {}", form.status);
    let mut edit: serde_json::Value = serde_json::from_str(&form.body)?;
    let title = "Kỳ họp thứ mười hai (chuyên đề)";
    edit["form"]["title"] = serde_json::json!(title);
    let edit = serde_json::json!({ "previous": edit["previous"], "form": edit["form"] });
    let amended = http::put_json(&other.addr, &format!("{api}/form"), &auth, &edit).await?;
    ensure!(amended.status == 200, "amended: {amended:?}");
    let view = http::get(&host.addr, &format!("/api/meetings/{meeting}/view")).await?;
    ensure!(
        view.status == 200 && view.body.contains(title),
        "the host's view has the new title at once ({})",
        view.status
    );

    // While the host answers nothing, a call that needs its actor is
    // refused, and nothing is done on a copy of the meeting.
    let next = by_name(&tablet.meeting.agenda, Some(item))?;
    signal(host, "-STOP")?;
    let unreached = http::post_json(
        &other.addr,
        &format!("{api}/items/{next}/by-hand"),
        &auth,
        Some(&counts),
    )
    .await;
    signal(host, "-CONT")?;
    let unreached = unreached?;
    let refusal: serde_json::Value = serde_json::from_str(&unreached.body)?;
    ensure!(
        unreached.status == 503 && refusal["reason"] == "owner_unreachable",
        "with the host stopped: {unreached:?}"
    );
    let rounds = store.rounds(&meeting).await?;
    ensure!(
        rounds.iter().all(|r| r.item != next),
        "nothing recorded for item {next}: {rounds:?}"
    );
    Ok(())
}

#[test]
fn a_second_process_on_one_data_directory_refuses_to_start_and_names_the_first() -> Result<()> {
    let data = tempfile::tempdir()?;
    let gavel = env!("CARGO_BIN_EXE_gavel");
    let first = Gavel::start(process::serve(gavel, data.path(), None))?;
    let refused = match Gavel::start(process::serve(gavel, data.path(), None)) {
        Ok(_) => bail!("a second gavel served the same SQLite data directory"),
        Err(e) => e.to_string(),
    };
    ensure!(
        refused.contains("held by another gavel process")
            && refused.contains(&format!("pid {}", first.pid())),
        "the refusal names the holder: {refused}"
    );
    drop(first);
    Gavel::start(process::serve(gavel, data.path(), None))
        .context("started once the first is gone")?;
    Ok(())
}
