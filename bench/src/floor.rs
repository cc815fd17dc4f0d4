//! `gavel-swarm floor`: the floor under a full hall. Some of the tablets ask
//! for the floor, one after another, and the chair's console times each
//! request's arrival in its queue; then the chair gives and ends turns at a
//! steady pace, and every tablet times each change of the floor from the
//! server's clock to its socket, as the tallies are timed.
//!
//! A `floor` frame carries the server's clock in milliseconds (its
//! `server_time`, which the tablets count the speaker's time from), not in
//! microseconds as a `tally` does: a change is timed from the start of the
//! millisecond it was sent in, so up to 1 ms longer than it took.
//!
//! A delegate's `floor` frame is larger than a `tally` (the next requests,
//! every waiting seat's place), and reading it costs the tablets more. So
//! that the broadcaster it is compared with sends the same bytes, a run can
//! keep one delegate's frame from the middle of the turns
//! ([`FloorRun::sample`]) for `baseline-broadcast --frame`.

use crate::measure::{Cpu, arrival, now_ms, now_us, unix_us};
use crate::report::{Report, Seen, Spread};
use crate::swarm::{DRAIN, GIVE_UP, Progress, Target, log_in};
use anyhow::Context as _;
use gavel_client::client::{Client, Session};
use gavel_client::tls::Trust;
use gavel_client::view::ViewCache;
use gavel_protocol::floor::{FloorKind, FloorView, Speaker};
use gavel_protocol::messages::ChairCommand;
use gavel_protocol::{ClientMsg, Principal, SeatNo, ServerMsg};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;

/// The item the floor is run on: the first, which the chair makes current.
const ITEM: u32 = 0;

/// What one run does.
#[derive(Debug, Clone)]
pub struct FloorRun {
    /// Tablets logged in, each of which times every change of the floor.
    pub tablets: u32,
    /// How many of them ask for the floor, `request_every` apart.
    pub requests: u32,
    pub request_every: Duration,
    /// Turns given and ended, a change every `change_every`.
    pub turns: u32,
    pub change_every: Duration,
    /// Where to write the frame of the middle change as the last tablet
    /// (one that asks for nothing) read it.
    pub sample: Option<PathBuf>,
}

/// What a tablet does, and the clocks it shares with the run.
struct Plan {
    /// When it asks for the floor, if it does.
    request_at: Option<Instant>,
    /// How many requests the queue holds once every tablet has asked.
    requests: u32,
    /// Counts the tablets whose floor shows the whole queue.
    queued: Arc<Progress>,
    /// The server's millisecond from which changes are timed (0: not yet).
    timed_from_ms: Arc<AtomicU64>,
    /// Whether this tablet keeps the frames it times.
    samples: bool,
    hang_up: CancellationToken,
}

#[derive(Default)]
struct Outcome {
    /// This tablet's seat and when (Unix µs) it sent its request.
    requested: Option<(SeatNo, u64)>,
    /// Every timed change of the floor, in the order it arrived.
    changes: Vec<Seen>,
    /// The frame of every timed change, kept by the tablet that samples.
    frames: Vec<FloorView>,
    error: Option<String>,
}

/// One tablet: asks for the floor when its plan says, reads every frame, and
/// times each `floor` frame sent once the turns began.
async fn tablet(mut session: Session, plan: Plan) -> Outcome {
    let mut out = Outcome::default();
    let seat = match session.principal {
        Some(Principal::Seat(seat)) => seat,
        _ => {
            out.error = Some("a tablet logged in without a seat".to_owned());
            return out;
        }
    };
    let mut asking = plan.request_at;
    let mut counted = false;
    let hung_up = plan.hang_up.cancelled();
    let request = sleep_until(plan.request_at.unwrap_or_else(Instant::now));
    tokio::pin!(hung_up, request);
    loop {
        tokio::select! {
            () = &mut hung_up => break,
            () = &mut request, if asking.is_some() => {
                asking = None;
                let at = now_us();
                let sent = session
                    .send(|id| ClientMsg::FloorRequest {
                        id,
                        item: ITEM,
                        kind: FloorKind::Speak,
                        respondent: None,
                        topic: None,
                    })
                    .await;
                match sent {
                    Ok(_) => out.requested = Some((seat, at)),
                    Err(e) => {
                        out.error = Some(e.to_string());
                        break;
                    }
                }
            }
            read = session.next() => match read {
                Ok(ServerMsg::Floor(view)) => {
                    let from = plan.timed_from_ms.load(Ordering::Relaxed);
                    if from > 0 && view.server_time >= from {
                        out.changes.push(Seen {
                            version: view.version,
                            server_time_us: view.server_time * 1000,
                            arrived: unix_us(arrival(session.arrived())),
                            read: now_us(),
                        });
                        if plan.samples {
                            out.frames.push(view);
                        }
                    } else if !counted && view.waiting >= plan.requests {
                        counted = true;
                        plan.queued.add();
                    }
                }
                Ok(ServerMsg::Refused { message, .. }) => {
                    out.error.get_or_insert(message);
                }
                Ok(_) => {}
                Err(e) => {
                    out.error = Some(e.to_string());
                    break;
                }
            },
        }
    }
    session.close().await;
    out
}

/// Reads the chair's frames until its queue has held `requests` requests
/// from seats, and returns when (Unix µs, at its socket) each seat's first
/// appeared.
async fn chair_sees_requests(
    chair: &mut Session,
    requests: u32,
) -> anyhow::Result<HashMap<SeatNo, u64>> {
    let mut seen = HashMap::new();
    while seen.len() < requests as usize {
        if let ServerMsg::Floor(view) = chair.next().await? {
            let arrived = unix_us(arrival(chair.arrived()));
            for request in &view.queue {
                if let Speaker::Seat(seat) = request.speaker {
                    seen.entry(seat).or_insert(arrived);
                }
            }
        }
    }
    Ok(seen)
}

/// Runs the floor against `target`: the chair makes the first item current,
/// the tablets log in, `requests` of them ask for the floor, then the chair
/// gives and ends `turns` turns.
pub async fn run(target: &Target<'_>, run: FloorRun) -> anyhow::Result<Report> {
    let views = Arc::new(ViewCache::new(&Trust::default())?);
    let mut client =
        Client::connect_with_views(target.url, &Trust::default(), views.clone()).await?;
    if let Some(code) = target.chair_code {
        client.enroll(code, &target.roster.chair).await?;
    }
    let mut chair = client
        .login(&target.roster.meeting, &target.roster.chair)
        .await?;
    chair.chair(ChairCommand::SetItem { item: ITEM }).await?;
    chair
        .stamp_arrivals()
        .context("asking the kernel to timestamp arrivals (Linux)")?;

    let tablets = run.tablets as usize;
    let requests = run.requests.min(run.tablets);
    // Each turn goes to the next request in the queue.
    let turns = run.turns.min(requests);
    let started = Instant::now();
    let mut sessions = log_in(target, &views, 0..tablets).await?;
    let mut report = Report::new("floor", run.tablets);
    report.login_seconds = Some(started.elapsed().as_secs_f64());
    // Only a checked-in delegate may ask for the floor.
    for session in &mut sessions[..requests as usize] {
        session.check_in().await.context("a tablet checking in")?;
    }
    for session in &mut sessions {
        session
            .stamp_arrivals()
            .context("asking the kernel to timestamp arrivals (Linux)")?;
    }

    let queued = Arc::new(Progress::default());
    let timed_from_ms = Arc::new(AtomicU64::new(0));
    let hang_up = CancellationToken::new();
    let begin = Instant::now() + Duration::from_millis(200);
    let runs: Vec<_> = sessions
        .into_iter()
        .enumerate()
        .map(|(i, session)| {
            let request_at = (i < requests as usize).then(|| begin + run.request_every * i as u32);
            tokio::spawn(tablet(
                session,
                Plan {
                    request_at,
                    requests,
                    queued: queued.clone(),
                    timed_from_ms: timed_from_ms.clone(),
                    samples: run.sample.is_some() && i + 1 == tablets,
                    hang_up: hang_up.clone(),
                },
            ))
        })
        .collect();

    let at_chair = tokio::time::timeout(GIVE_UP, chair_sees_requests(&mut chair, requests))
        .await
        .context("waiting for every request to reach the chair's queue")??;
    // Every tablet holds the whole queue before the turns begin, so that
    // the queue's paced updates are not timed as turns.
    tokio::time::timeout(GIVE_UP, queued.wait_for(tablets))
        .await
        .context("waiting for every tablet to see the whole queue")?;

    timed_from_ms.store(now_ms(), Ordering::Relaxed);
    let cpu_before = Cpu::read(target.server_pid);
    let turns_begin = Instant::now();
    for turn in 0..turns {
        let at = turns_begin + run.change_every * (2 * turn);
        sleep_until(at).await;
        chair
            .chair(ChairCommand::FloorGive {
                request: None,
                limit_seconds: None,
            })
            .await
            .context("the chair giving the floor")?;
        sleep_until(at + run.change_every).await;
        chair
            .chair(ChairCommand::FloorEnd)
            .await
            .context("the chair ending a turn")?;
    }
    let cpu_after = Cpu::read(target.server_pid);
    sleep(DRAIN).await;
    hang_up.cancel();
    let mut outcomes = Vec::with_capacity(runs.len());
    for run in runs {
        outcomes.push(run.await?);
    }
    chair.close().await;

    report.request_to_chair_ms = Spread::of(
        outcomes
            .iter()
            .filter_map(|o| o.requested)
            .filter_map(|(seat, sent)| {
                let seen = at_chair.get(&seat)?;
                Some(seen.saturating_sub(sent) as f64 / 1000.0)
            })
            .collect(),
    );
    for e in outcomes.iter().filter_map(|o| o.error.clone()) {
        report.error(e);
    }
    let changes: Vec<Vec<Seen>> = outcomes
        .iter_mut()
        .map(|o| std::mem::take(&mut o.changes))
        .collect();
    report.fanout(&changes);
    report.cpu_per_update(cpu_before, cpu_after);
    if let Some(path) = &run.sample {
        let frames = outcomes.last_mut().map(|o| std::mem::take(&mut o.frames));
        let middle = frames
            .and_then(|mut frames| {
                (!frames.is_empty()).then(|| frames.swap_remove(frames.len() / 2))
            })
            .context("the sampling tablet timed no change of the floor")?;
        std::fs::write(path, serde_json::to_string(&ServerMsg::Floor(middle))?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(report)
}
