//! A meeting's node failing in the middle of a burst of ballots, as the
//! chaos test (`server/tests/nodes.rs`) and the failover benchmark
//! (`gavel-swarm failover`) make it fail: `gavel serve` nodes on one
//! PostgreSQL database behind a balancing proxy ([`crate::proxy::Proxy`]),
//! tablets that vote through the proxy and send each ballot again until it
//! is recorded, and the node that hosts the meeting killed (SIGKILL) or
//! stopped (SIGSTOP) at a random receipt ([`burst_with_failure`]). What it
//! measures: the time from the failure to the first receipt of the new
//! owner; what it checks: every acknowledged ballot is stored, once.

use crate::process::{self, Gavel};
use anyhow::{Context as _, Result, bail, ensure};
use ed25519_dalek::SigningKey;
use gavel_client::reconnect::{Backoff, cast_until_recorded};
use gavel_client::{Client, Session};
use gavel_protocol::{Choice, MeetingId, RoundId, SeatNo};
use rand::Rng as _;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long the nodes get to settle who hosts what, or to fail over.
pub const SETTLE: Duration = Duration::from_secs(30);
/// How long one attempt to reach a node may take: a stopped node accepts
/// TCP connections (the kernel does) and never answers them.
pub const ATTEMPT: Duration = Duration::from_secs(3);
/// How often what the nodes host is asked again while waiting.
pub const POLL: Duration = Duration::from_millis(50);
/// How long two nodes may both list a meeting as hosted. The nodes are asked
/// one after the other, so a meeting that moves between the two questions
/// is listed by both; and a node that lost a lease stops listing the meeting
/// at its next lease round (the fencing number keeps it from committing
/// meanwhile). Listed by two for longer than this, it is hosted twice.
pub const STEP_DOWN: Duration = Duration::from_secs(10);
/// How long receipts that the failed node had already sent may take to
/// reach their tablets (through the kernel's buffers and the proxy): any
/// receipt later than this after the failure is the new owner's.
pub const IN_FLIGHT: Duration = Duration::from_millis(250);

/// The `gavel serve` (at `binary`) of a node on `database_url`, with the
/// deployment's `key` written to its data directory, its hub logging at
/// `info` and its metrics served; its lease term left at the default.
pub fn node_command(
    binary: &Path,
    data_dir: &Path,
    database_url: &str,
    key: &SigningKey,
) -> Result<Command> {
    std::fs::write(data_dir.join("server.key"), hex::encode(key.to_bytes()))?;
    let mut command = process::serve(binary, data_dir, Some(database_url));
    command.env("RUST_LOG", "gavel_server::hub=info,warn");
    command.args(["--metrics-listen", "127.0.0.1:0"]);
    Ok(command)
}

/// The meetings `node` hosts now, as its list of every meeting marks them.
pub async fn hosted(node: &Gavel) -> Result<BTreeSet<String>> {
    Ok(listed(node)
        .await?
        .into_iter()
        .filter(|(_, hosted)| *hosted)
        .map(|(id, _)| id)
        .collect())
}

/// Every meeting `node` lists (`/api/meetings`), with whether it hosts it.
pub async fn listed(node: &Gavel) -> Result<Vec<(String, bool)>> {
    let response = crate::http::get(&node.addr, "/api/meetings").await?;
    ensure!(response.status == 200, "{response:?}");
    let list: Vec<serde_json::Value> = serde_json::from_str(&response.body)?;
    list.iter()
        .map(|m| {
            let id = m["id"].as_str().context("an id")?.to_owned();
            let hosted = m["hosted"].as_bool().context("whether it is hosted")?;
            ensure!(
                m["title"].as_str().is_some_and(|t| !t.is_empty()),
                "a title: {m}"
            );
            Ok((id, hosted))
        })
        .collect()
}

/// Waits until `done` holds of what `nodes` host, checking at every look
/// that no meeting stays hosted by two of them ([`STEP_DOWN`]).
pub async fn until_hosted(
    nodes: &[&Gavel],
    done: impl Fn(&[BTreeSet<String>]) -> bool,
) -> Result<Vec<BTreeSet<String>>> {
    let started = Instant::now();
    // Each meeting listed by two nodes, since when it has been.
    let mut twice: BTreeMap<String, Instant> = BTreeMap::new();
    loop {
        let mut all = Vec::new();
        for node in nodes {
            all.push(hosted(node).await?);
        }
        let mut now_twice = BTreeSet::new();
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                now_twice.extend(a.intersection(b).cloned());
            }
        }
        twice.retain(|meeting, _| now_twice.contains(meeting));
        for meeting in now_twice {
            let since = *twice.entry(meeting.clone()).or_insert_with(Instant::now);
            ensure!(
                since.elapsed() <= STEP_DOWN,
                "meeting {meeting} is hosted twice for {:?}: {all:?}",
                since.elapsed()
            );
        }
        if twice.is_empty() && done(&all) {
            return Ok(all);
        }
        if started.elapsed() > SETTLE {
            bail!("the nodes did not settle: {all:?}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The node that hosts `meeting` now, once one does.
pub async fn owner(nodes: &[Gavel], meeting: &MeetingId) -> Result<usize> {
    let refs: Vec<&Gavel> = nodes.iter().collect();
    let hosts = until_hosted(&refs, |h| h.iter().any(|m| m.contains(meeting.as_str()))).await?;
    hosts
        .iter()
        .position(|m| m.contains(meeting.as_str()))
        .context("a node hosts the meeting")
}

/// Sends `signal` (`-STOP`, `-CONT`) to `node`.
pub fn signal(node: &Gavel, signal: &str) -> Result<()> {
    let status = Command::new("kill")
        .args([signal, &node.pid().to_string()])
        .status()?;
    ensure!(status.success(), "kill {signal}");
    Ok(())
}

/// Logs `key` in through `url`, trying again while the meeting is moving.
pub async fn log_in(url: &str, meeting: &MeetingId, key: &SigningKey) -> Result<Session> {
    let started = Instant::now();
    loop {
        let attempt = async { Client::connect(url).await?.login(meeting, key).await };
        match tokio::time::timeout(ATTEMPT, attempt).await {
            Ok(Ok(session)) => return Ok(session),
            Ok(Err(e)) if started.elapsed() > SETTLE => bail!("cannot log in: {e}"),
            _ => tokio::time::sleep(POLL).await,
        }
    }
}

/// How the node that hosts the meeting fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// SIGKILL: the process is gone, its sockets closed by the kernel.
    Kill,
    /// SIGSTOP: the process stays, holding its sockets, answering nothing.
    Stop,
}

/// The highest acknowledged ballot of each seat, and when each receipt came.
#[derive(Default)]
pub struct Acked {
    pub last: HashMap<SeatNo, (u64, Choice)>,
    pub at: Vec<Instant>,
}

/// The voting of a [`Burst`].
pub struct Votes<'a> {
    /// The WebSocket URL the tablets vote through: the balancing proxy's.
    pub url: String,
    pub meeting: &'a MeetingId,
    pub round: RoundId,
    /// The key of seat `n` at index `n - 1`; each seat checked in.
    pub seats: &'a [SigningKey],
    /// Each seat's ballots are numbered from `base + 1`, above its earlier ones.
    pub base: u64,
    /// Ballots each seat casts: at least two, the last after the failure.
    pub votes: u64,
}

/// A burst of ballots under way: each tablet votes `votes` times in
/// `round` through `url`, whatever node answers, each ballot until it is
/// recorded; its last ballot once [`Burst::failed`] is called, so that
/// every seat votes after the failure.
pub struct Burst {
    state: Arc<BurstState>,
    tablets: Vec<tokio::task::JoinHandle<Result<()>>>,
    /// Receipts the tablets may get before the failure must come.
    pub before_last: usize,
}

struct BurstState {
    url: String,
    meeting: MeetingId,
    round: RoundId,
    base: u64,
    votes: u64,
    acked: Mutex<Acked>,
    failed: watch::Sender<bool>,
}

impl Burst {
    /// Starts every seat's tablet.
    pub fn start(votes: Votes<'_>) -> Result<Burst> {
        ensure!(
            votes.votes >= 2,
            "a ballot before the failure and one after"
        );
        let state = Arc::new(BurstState {
            url: votes.url,
            meeting: votes.meeting.clone(),
            round: votes.round,
            base: votes.base,
            votes: votes.votes,
            acked: Mutex::default(),
            failed: watch::Sender::new(false),
        });
        let tablets = votes
            .seats
            .iter()
            .enumerate()
            .map(|(i, key)| tokio::spawn(tablet(state.clone(), key.clone(), i as SeatNo + 1)))
            .collect();
        Ok(Burst {
            state,
            tablets,
            before_last: votes.seats.len() * (votes.votes as usize - 1),
        })
    }

    /// Waits until the tablets have `receipts` receipts.
    pub async fn until_acknowledged(&self, receipts: usize) {
        while self.state.acked.lock().unwrap().at.len() < receipts {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The failure happened: the seats' last ballots go.
    pub fn failed(&self) {
        self.state.failed.send_replace(true);
    }

    /// Waits for every tablet to have every ballot recorded.
    pub async fn finish(self) -> Result<Acked> {
        for t in self.tablets {
            t.await??;
        }
        Ok(std::mem::take(&mut *self.state.acked.lock().unwrap()))
    }
}

/// Seat `seat`'s part of the burst, each ballot until it is recorded.
async fn tablet(burst: Arc<BurstState>, key: SigningKey, seat: SeatNo) -> Result<()> {
    let BurstState {
        url,
        meeting,
        round,
        base,
        votes,
        acked,
        failed,
    } = &*burst;
    for seq in base + 1..=base + votes {
        if seq == base + votes {
            failed.subscribe().wait_for(|failed| *failed).await?;
        }
        let choice = Choice::ALL[rand::thread_rng().gen_range(0..3)];
        let mut backoff = Backoff::default();
        let receipt = loop {
            let attempt =
                cast_until_recorded(url, meeting, &key, *round, choice, seq, &mut backoff);
            match tokio::time::timeout(ATTEMPT, attempt).await {
                Ok(done) => break done.with_context(|| format!("seat {seat}, ballot {seq}"))?,
                // The same ballot again: it counts once however often it arrives.
                Err(_) => continue,
            }
        };
        ensure!(receipt.seq == seq && receipt.choice == choice);
        let mut acked = acked.lock().unwrap();
        acked.last.insert(seat, (seq, choice));
        acked.at.push(Instant::now());
    }
    Ok(())
}

/// What one failure in a burst showed.
pub struct Failed {
    /// The index, in the nodes given, of the node that failed.
    pub node: usize,
    /// Receipts the tablets had when it failed.
    pub after_receipts: usize,
    /// From the failure to the first receipt of the new owner.
    pub failover: Duration,
    pub acked: Acked,
}

/// One [`Burst`] of `votes` in which the node of `nodes` that hosts the
/// meeting fails with `failure` at a random receipt before the seats' last
/// ballots. Returns once every tablet has every ballot recorded, having
/// checked that the store at `database_url` holds each seat's last
/// acknowledged ballot, once. A stopped node is left stopped, a killed one
/// dead: what follows is the caller's.
pub async fn burst_with_failure(
    nodes: &mut [Gavel],
    votes: Votes<'_>,
    failure: Failure,
    database_url: &str,
) -> Result<Failed> {
    let (meeting, round) = (votes.meeting.clone(), votes.round);
    let burst = Burst::start(votes)?;
    let wanted = rand::thread_rng().gen_range(0..burst.before_last.max(1));
    burst.until_acknowledged(wanted).await;
    let failing = owner(nodes, &meeting).await?;
    let failed_at = Instant::now();
    match failure {
        Failure::Kill => nodes[failing].kill()?,
        Failure::Stop => signal(&nodes[failing], "-STOP")?,
    }
    burst.failed();
    let acked = burst.finish().await?;
    // A failed node sends nothing after the failure: the first receipt
    // after the ones in flight is the new owner's.
    let took = acked
        .at
        .iter()
        .filter(|at| **at > failed_at + IN_FLIGHT)
        .min()
        .map(|at| *at - failed_at)
        .context("ballots were acknowledged after the failure")?;
    ensure!(took < SETTLE, "failover took {took:?}");
    let stored = process::stored_ballots(database_url, round).await?;
    ensure!(
        stored == acked.last,
        "{failure:?}: the store holds {stored:?}, the tablets were given receipts for {:?}",
        acked.last
    );
    Ok(Failed {
        node: failing,
        after_receipts: wanted,
        failover: took,
        acked,
    })
}

/// The median and the worst of `times`.
pub fn median_and_worst(times: &[Duration]) -> (Duration, Duration) {
    let mut sorted = times.to_vec();
    sorted.sort();
    (sorted[sorted.len() / 2], sorted[sorted.len() - 1])
}
