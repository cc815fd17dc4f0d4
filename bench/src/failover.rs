//! Failover: two `gavel serve` nodes on one PostgreSQL database behind a
//! balancing proxy, a meeting's tablets voting in bursts, and in each burst
//! the node that hosts the meeting killed (SIGKILL) at a random receipt,
//! then started again on its data directory. Each failover is timed from
//! the kill to the first ballot acknowledged by the new owner. After each,
//! every seat's last acknowledged ballot is what the store holds, once
//! (the run stops otherwise); at the end the chair closes the round and the
//! result is compared with what was acknowledged: ballots lost (counted
//! less often than acknowledged) and counted twice. The machinery is the
//! chaos test's (`gavel_tests::failover`).

use crate::report::{Report, Spread};
use anyhow::Context as _;
use ed25519_dalek::SigningKey;
use gavel_protocol::Choice;
use gavel_protocol::messages::{ChairCommand, RoundStatus, RoundView};
use gavel_protocol::rules::Secrecy;
use gavel_tests::chair;
use gavel_tests::failover::{self, Failure, Votes, burst_with_failure, log_in, owner};
use gavel_tests::process::{Gavel, prepare_example};
use gavel_tests::proxy::Proxy;
use std::path::Path;

/// One run: `kills` bursts of `votes` ballots from each of `tablets`
/// seats, on nodes whose leases last `lease_term_ms`.
#[derive(Debug, Clone, Copy)]
pub struct FailoverRun {
    pub kills: usize,
    pub tablets: u32,
    pub votes: u64,
    pub lease_term_ms: u64,
}

/// Runs `run` against two nodes of `gavel` on PostgreSQL `database_url`.
pub async fn run(gavel: &Path, database_url: &str, run: FailoverRun) -> anyhow::Result<Report> {
    let prepared = prepare_example(database_url, run.tablets).await?;
    let meeting = prepared.meeting.clone();
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let dirs = [tempfile::tempdir()?, tempfile::tempdir()?];
    let start = |dir: &Path| -> anyhow::Result<Gavel> {
        let mut command = failover::node_command(gavel, dir, database_url, &key)?;
        command.env("GAVEL_LEASE_TERM_MS", run.lease_term_ms.to_string());
        Gavel::start(command)
    };
    let mut nodes = Vec::new();
    for dir in &dirs {
        nodes.push(tokio::task::block_in_place(|| start(dir.path()))?);
    }
    let balance = |nodes: &[Gavel]| Proxy::balance(nodes.iter().map(|n| n.addr.clone()).collect());
    let mut proxy = balance(&nodes).await?;
    owner(&nodes, &meeting).await?;
    let mut chair_session = log_in(&proxy.ws_url(), &meeting, &prepared.chair).await?;
    let item = chair::changeable_item(&chair_session, Secrecy::Named);
    let round = chair::open_round(&mut chair_session, item, 3600).await?;
    chair_session.close().await;
    for key in &prepared.seats {
        let mut seat = log_in(&proxy.ws_url(), &meeting, key).await?;
        seat.check_in().await?;
        seat.close().await;
    }

    let mut report = Report::new("failover", run.tablets);
    let mut failovers = Vec::new();
    let mut last = Default::default();
    for n in 0..run.kills {
        let votes = Votes {
            url: proxy.ws_url(),
            meeting: &meeting,
            round,
            seats: &prepared.seats,
            base: n as u64 * run.votes,
            votes: run.votes,
        };
        let failed = burst_with_failure(&mut nodes, votes, Failure::Kill, database_url)
            .await
            .with_context(|| format!("kill {n}"))?;
        eprintln!(
            "kill {n} after {} receipts: the new owner's first receipt {:?} later",
            failed.after_receipts, failed.failover
        );
        failovers.push(failed.failover.as_secs_f64() * 1000.0);
        report.ballots_sent += run.tablets as u64 * run.votes;
        report.ballots_acked += failed.acked.at.len() as u64;
        last = failed.acked.last;
        let dir = dirs[failed.node].path();
        nodes[failed.node] = tokio::task::block_in_place(|| start(dir))?;
        proxy = balance(&nodes).await?;
    }

    let mut chair_session = log_in(&proxy.ws_url(), &meeting, &prepared.chair).await?;
    chair_session.chair(ChairCommand::Close).await?;
    let result = chair_session
        .state
        .round()
        .filter(|r| r.id == round && r.status == RoundStatus::Closed)
        .and_then(RoundView::tally)
        .context("the round closed with a result")?;
    let (mut lost, mut twice) = (0, 0);
    for choice in Choice::ALL {
        let acknowledged = last.values().filter(|(_, c)| *c == choice).count() as u64;
        let counted = u64::from(result.counts.of(choice));
        lost += acknowledged.saturating_sub(counted);
        twice += counted.saturating_sub(acknowledged);
    }
    report.failover_ms = Spread::of(failovers);
    report.ballots_lost = Some(lost);
    report.ballots_counted_twice = Some(twice);
    Ok(report)
}
