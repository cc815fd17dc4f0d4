//! The audience on a relay node: two `gavel serve` nodes on one PostgreSQL
//! database; public viewers watch the meeting through the node that does
//! not host it, while a few voters on the meeting's node cause tally
//! updates. Each update is timed from its emission by the host (the
//! frame's `server_time_us`) to the last viewer, as fan-out times it to the
//! last tablet: the time includes the host publishing it, PostgreSQL's
//! notification, the relay reading it and its fan-out.

use crate::measure::Cpu;
use crate::process::GavelProcess;
use crate::report::Report;
use crate::swarm::{
    self, Chair, DRAIN, GIVE_UP, LOGINS_IN_FLIGHT, Plan, Progress, Target, presign,
};
use anyhow::Context as _;
use futures_util::{StreamExt, stream};
use gavel_client::client::{Client, Session};
use gavel_client::tls::Trust;
use gavel_client::view::ViewCache;
use gavel_protocol::MeetingId;
use gavel_protocol::messages::ChairCommand;
use gavel_tests::roster::Roster;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;

/// How often a node's readiness is asked for, and a viewer tries again
/// while the host has published nothing yet.
const POLL: Duration = Duration::from_millis(50);

/// One run: `viewers` on the relay node; `voters` on the host casting
/// `rate` ballots a second together for `duration`.
#[derive(Debug, Clone, Copy)]
pub struct RelayRun {
    pub viewers: u32,
    pub voters: u32,
    pub rate: f64,
    pub duration: Duration,
}

/// Runs `run` against two nodes of `gavel` on PostgreSQL `database_url`.
pub async fn run(gavel: &Path, database_url: &str, run: RelayRun) -> anyhow::Result<Report> {
    let roster = Roster::generate(run.voters);
    let host = tokio::task::block_in_place(|| {
        GavelProcess::start(
            gavel,
            &roster,
            &roster.definition(),
            &[],
            Some(database_url),
        )
    })?;
    // Ready once it has taken its meetings: then the second node finds the
    // one meeting taken, and stays its relay.
    ready(host.addr()).await?;
    let relay = tokio::task::block_in_place(|| host.second_node(gavel, database_url))?;
    ready(relay.addr()).await?;
    let target = Target {
        url: &host.url,
        roster: &roster,
        chair_code: Some(&host.chair_code),
        server_pid: Some(relay.pid()),
        verify_receipts: 0,
    };
    let views = Arc::new(ViewCache::new(&Trust::default())?);
    let chair = Chair::start(&target, &views).await?;
    chair.command(ChairCommand::SetItem { item: 0 }).await?;
    chair
        .command(ChairCommand::Open {
            window_seconds: Some(3600),
        })
        .await?;

    let started = Instant::now();
    let mut viewers: Vec<Session> = stream::iter(0..run.viewers)
        .map(|_| watch(&relay.url, &roster.meeting, &views))
        .buffered(LOGINS_IN_FLIGHT)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let login_seconds = started.elapsed().as_secs_f64();
    let mut voters = swarm::log_in(&target, &views, 0..run.voters as usize).await?;
    let voter_count = voters.len();
    let plans = (0..voter_count)
        .map(|i| {
            (0..)
                .map(|k| (i + k * voter_count) as f64 / run.rate)
                .take_while(|&t| t < run.duration.as_secs_f64())
                .map(Duration::from_secs_f64)
                .collect()
        })
        .collect();
    let casts = presign(&mut voters, plans)?;
    for viewer in &mut viewers {
        viewer
            .stamp_arrivals()
            .context("asking the kernel to timestamp arrivals (Linux)")?;
    }

    let stop = CancellationToken::new();
    let hang_up = CancellationToken::new();
    let begin = Instant::now() + Duration::from_millis(200);
    let wall_begin = SystemTime::now() + Duration::from_millis(200);
    let plan = |casts| Plan {
        casts,
        begin,
        wall_begin,
        verify_receipts: 0,
        stop: stop.clone(),
        hang_up: hang_up.clone(),
        answered: Arc::new(Progress::default()),
        results: Arc::new(Progress::default()),
    };
    let watching: Vec<_> = viewers
        .into_iter()
        .map(|viewer| tokio::spawn(swarm::tablet(viewer, plan(Vec::new()))))
        .collect();
    let voting: Vec<_> = voters
        .into_iter()
        .zip(casts)
        .map(|(voter, casts)| tokio::spawn(swarm::tablet(voter, plan(casts))))
        .collect();
    sleep_until(begin).await;
    let cpu_before = Cpu::read(Some(relay.pid()));
    sleep_until(begin + run.duration).await;
    stop.cancel();
    let cpu_after = Cpu::read(Some(relay.pid()));
    sleep(DRAIN).await;
    hang_up.cancel();

    let mut report = Report::new("relay", run.viewers);
    report.login_seconds = Some(login_seconds);
    report.offered_per_second = Some(run.rate);
    let mut seen = Vec::with_capacity(watching.len());
    for viewer in watching {
        let mut outcome = viewer.await?;
        if let Some(e) = outcome.error.take() {
            report.error(e);
        }
        seen.push(std::mem::take(&mut outcome.tallies));
    }
    for voter in voting {
        if let Some(e) = voter.await?.error {
            report.error(e);
        }
    }
    report.fanout(&seen);
    report.cpu_per_update(cpu_before, cpu_after);
    drop(chair);
    Ok(report)
}

/// Waits until the node at `addr` says it is ready (`/readyz`).
async fn ready(addr: &str) -> anyhow::Result<()> {
    let give_up = Instant::now() + GIVE_UP;
    loop {
        if let Ok(response) = gavel_tests::http::get(addr, "/readyz").await
            && response.status == 200
        {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < give_up, "the node at {addr} is not ready");
        sleep(POLL).await;
    }
}

/// A viewer of `meeting` through `url`, trying again while the host has
/// published nothing yet (the node closes it with 1013 meanwhile).
async fn watch(url: &str, meeting: &MeetingId, views: &Arc<ViewCache>) -> anyhow::Result<Session> {
    let give_up = Instant::now() + GIVE_UP;
    loop {
        let attempt = async {
            Client::connect_with_views(url, &Trust::default(), views.clone())
                .await?
                .watch(meeting)
                .await
        };
        match attempt.await {
            Ok(session) => return Ok(session),
            Err(e) if Instant::now() > give_up => {
                return Err(e).context("a viewer watching the meeting");
            }
            Err(_) => sleep(POLL).await,
        }
    }
}
