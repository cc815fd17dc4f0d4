//! `gavel-swarm`'s scenarios: the chair opens a vote, the tablets log in and
//! run one scenario, each tablet in one loop that reads every frame and
//! times what it measures.

use crate::download::{Fetches, peak_rss};
use crate::measure::{Cpu, arrival, ms_between, now_ms, now_us, rss_kib, unix_ms, unix_us};
use crate::report::{Report, Seen, Spread};
use anyhow::Context as _;
use futures_util::{StreamExt, stream};
use gavel_client::client::{Client, ClientError, Session};
use gavel_client::tls::Trust;
use gavel_client::view::ViewCache;
use gavel_protocol::messages::{ChairCommand, RoundStatus};
use gavel_protocol::{Choice, ClientMsg, RoundId, ServerMsg, Sha, Signature};
use gavel_tests::roster::Roster;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;

/// How many tablets log in at once: enough to connect 10,000 in seconds,
/// few enough not to overflow the server's accept queue.
pub(crate) const LOGINS_IN_FLIGHT: usize = 64;
/// The server coalesces tally updates at most this often while ballots come
/// in slowly: the baseline broadcaster's pace unless told another.
pub const TALLY_TICK: Duration = Duration::from_millis(25);
/// How long tablets keep reading after a load's measured span, before they
/// close: longer than a tally takes to reach 10,000 tablets.
pub(crate) const DRAIN: Duration = Duration::from_secs(1);
/// How long a run may wait for the last acknowledgement or result.
pub(crate) const GIVE_UP: Duration = Duration::from_secs(60);
pub(crate) const CHOICES: [Choice; 3] = [Choice::Yes, Choice::No, Choice::Abstain];
/// Where the swarm goes: a server with the roster's keys registered.
pub struct Target<'a> {
    pub url: &'a str,
    pub roster: &'a Roster,
    /// If the chair's key still has to be enrolled.
    pub chair_code: Option<&'a str>,
    /// The server's process, to read its memory and CPU time (absent for an
    /// in-process server).
    pub server_pid: Option<u32>,
    /// Each tablet checks the server's signature on one receipt in this many
    /// (0: none). A real tablet checks every one; a benchmark checks fewer,
    /// so that the swarm, on the server's cores, takes less of them.
    pub verify_receipts: u32,
}

#[derive(Debug, Clone, Copy)]
pub enum Scenario {
    /// Hold `tablets` connections, doing nothing, for `settle`.
    Idle { tablets: u32, settle: Duration },
    /// Every tablet votes once at a random moment `within` the same span;
    /// once all are acknowledged the chair closes the round.
    Burst { tablets: u32, within: Duration },
    /// An offered load of `rate` ballots per second, spread over `voters` of
    /// the tablets, for `duration`; every tablet times every tally update.
    /// `slow_reader` adds one tablet that logs in and never reads again.
    Load {
        tablets: u32,
        voters: u32,
        rate: f64,
        duration: Duration,
        slow_reader: bool,
    },
    /// Check-in: every tablet casts ballots at `rate` per second together
    /// while, with `downloads`, each fetches the first item's documents
    /// (the measured span ends with the last byte); without, for `duration`.
    Checkin {
        tablets: u32,
        rate: f64,
        duration: Duration,
        downloads: bool,
    },
}

impl Scenario {
    /// The seats the roster needs.
    pub fn seats(&self) -> u32 {
        match *self {
            Scenario::Idle { tablets, .. }
            | Scenario::Burst { tablets, .. }
            | Scenario::Checkin { tablets, .. } => tablets,
            Scenario::Load {
                tablets,
                slow_reader,
                ..
            } => tablets + u32::from(slow_reader),
        }
    }
}

/// The chair's session, kept reading in its own task; commands go through it.
pub(crate) struct Chair {
    commands: mpsc::Sender<(ChairCommand, oneshot::Sender<Result<(), ClientError>>)>,
}

impl Chair {
    pub(crate) async fn start(
        target: &Target<'_>,
        views: &Arc<ViewCache>,
    ) -> anyhow::Result<Chair> {
        let mut client =
            Client::connect_with_views(target.url, &Trust::default(), views.clone()).await?;
        if let Some(code) = target.chair_code {
            client.enroll(code, &target.roster.chair).await?;
        }
        let mut session = client
            .login(&target.roster.meeting, &target.roster.chair)
            .await?;
        let (commands, mut rx) =
            mpsc::channel::<(ChairCommand, oneshot::Sender<Result<(), ClientError>>)>(4);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    command = rx.recv() => match command {
                        Some((command, reply)) => {
                            let _ = reply.send(session.chair(command).await);
                        }
                        None => return session.close().await,
                    },
                    read = session.next() => if read.is_err() { return },
                }
            }
        });
        Ok(Chair { commands })
    }

    pub(crate) async fn command(&self, command: ChairCommand) -> anyhow::Result<()> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send((command, reply))
            .await
            .map_err(|_| anyhow::anyhow!("the chair's connection is gone"))?;
        Ok(answer.await??)
    }
}

/// When tablet `i` casts its ballots, counted from the start of the run.
type Schedule = Box<dyn Fn(usize) -> Vec<Duration>>;

/// A ballot signed before the run, to be cast `due` after its start: the
/// swarm shares the server's cores, and signing during the run would take
/// from the server the time it is measured by.
pub(crate) struct Presigned {
    due: Duration,
    round: RoundId,
    /// The round's documents digest, which the signature covers.
    documents: Sha,
    choice: Choice,
    seq: u64,
    signature: Signature,
}

/// Signs every tablet's ballots for the planned moments, spread over the
/// machine's cores (a saturating load is some 200,000 signatures).
pub(crate) fn presign(
    sessions: &mut [Session],
    plans: Vec<Vec<Duration>>,
) -> anyhow::Result<Vec<Vec<Presigned>>> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let per_thread = sessions.len().div_ceil(threads).max(1);
    let mut plans = plans.into_iter();
    std::thread::scope(|scope| {
        let workers: Vec<_> = sessions
            .chunks_mut(per_thread)
            .map(|chunk| {
                let plans: Vec<_> = plans.by_ref().take(chunk.len()).collect();
                scope.spawn(move || {
                    chunk
                        .iter_mut()
                        .zip(plans)
                        .map(|(session, plan)| presign_one(session, plan))
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        let mut all = Vec::new();
        for worker in workers {
            all.extend(worker.join().expect("a signing thread")?);
        }
        Ok(all)
    })
}

pub(crate) fn presign_one(
    session: &mut Session,
    plan: Vec<Duration>,
) -> Result<Vec<Presigned>, ClientError> {
    let round = session
        .state
        .open_round()
        .ok_or(ClientError::NoOpenRound)?
        .id;
    plan.into_iter()
        .enumerate()
        .map(|(n, due)| {
            let choice = CHOICES[n % CHOICES.len()];
            let seq = session.next_seq();
            let signature = session.sign_ballot(round, choice, seq)?;
            Ok(Presigned {
                due,
                round,
                documents: session.state.documents_digest(round),
                choice,
                seq,
                signature,
            })
        })
        .collect()
}

/// What a tablet does, and what it saw.
pub(crate) struct Plan {
    pub(crate) casts: Vec<Presigned>,
    /// The moment the casts' `due` counts from.
    pub(crate) begin: Instant,
    /// The same moment on the wall clock, which the kernel stamps arrivals with.
    pub(crate) wall_begin: SystemTime,
    /// Check the server's signature on one receipt in this many (0: none).
    pub(crate) verify_receipts: u32,
    /// Cast no more: the measured span is over.
    pub(crate) stop: CancellationToken,
    /// Stop reading and close. Under a load this comes a while after
    /// `stop` ([`DRAIN`]), so that the tally still on its way at the end
    /// of the span reaches every tablet before 10,000 tablets say goodbye
    /// at once and the server's cores go to their closing handshakes.
    pub(crate) hang_up: CancellationToken,
    pub(crate) answered: Arc<Progress>,
    /// Counts the tablets that have the round's result. A tablet that has it
    /// keeps reading until the run stops, rather than closing its connection
    /// while the result is still on its way to the others: the swarm's own
    /// goodbyes would compete with the delivery it is timing.
    pub(crate) results: Arc<Progress>,
}

#[derive(Default)]
pub(crate) struct Progress {
    count: AtomicUsize,
    notify: Notify,
}

impl Progress {
    pub(crate) fn add(&self) {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.notify.notify_one();
    }

    pub(crate) async fn wait_for(&self, n: usize) {
        while self.count.load(Ordering::Relaxed) < n {
            self.notify.notified().await;
        }
    }
}

#[derive(Default)]
pub(crate) struct Outcome {
    /// Every tally update, in the order it arrived.
    pub(crate) tallies: Vec<Seen>,
    /// Milliseconds from due to the ack at the socket, and read.
    acks: Vec<f64>,
    acks_read: Vec<f64>,
    /// Acknowledgements that arrived before the run was told to stop.
    acked_in_span: u64,
    /// Receipts checked that do not verify under the server's key.
    bad_receipts: u64,
    sent: u64,
    refused: u64,
    result_at_ms: Option<u64>,
    pub(crate) error: Option<String>,
}

/// One tablet: reads every frame, casts its presigned ballots at the planned
/// moments, one at a time as a person does (a ballot that falls due while
/// the previous one is unanswered waits for it, and its time to
/// acknowledgement counts from when it fell due), and times tallies, acks
/// and the result.
pub(crate) async fn tablet(mut session: Session, plan: Plan) -> Outcome {
    let mut out = Outcome::default();
    // The request in flight: its id and when it fell due (on the wall
    // clock, which the kernel stamps arrivals with).
    let mut in_flight: Option<(u64, SystemTime)> = None;
    let mut casts = plan.casts.into_iter().peekable();
    let first = casts.peek().map(|c| plan.begin + c.due);
    let give_up_at = Instant::now() + GIVE_UP + plan_span(first);
    let server_key = session.server_key();
    let mut receipts = 0u32;
    // Made once, not on every pass: the loop runs for every frame, and a
    // timer made anew each time would cost this measuring end a timer-wheel
    // insertion and removal per frame that the broadcaster's readers do not pay.
    let stopped = plan.stop.cancelled();
    let hung_up = plan.hang_up.cancelled();
    let give_up = sleep_until(give_up_at);
    let next_cast = sleep_until(give_up_at);
    tokio::pin!(stopped, hung_up, give_up, next_cast);
    let mut armed_for = None;
    loop {
        let done = plan.stop.is_cancelled();
        let ending = plan.hang_up.is_cancelled();
        if ending && in_flight.is_none() {
            break;
        }
        let due = casts
            .peek()
            .map(|c| plan.begin + c.due)
            .filter(|_| !done && in_flight.is_none());
        if let Some(at) = due
            && armed_for != Some(at)
        {
            next_cast.as_mut().reset(at);
            armed_for = Some(at);
        }
        tokio::select! {
            () = &mut stopped, if !done => {}
            () = &mut hung_up, if !ending => {}
            // Only a ballot in flight can leave a tablet waiting forever; a
            // tablet that only listens stops with the run.
            () = &mut give_up, if in_flight.is_some() => {
                out.error = Some("a ballot went unanswered".to_owned());
                break;
            }
            () = &mut next_cast, if due.is_some() => {
                armed_for = None;
                let ballot = casts.next().expect("a ballot is due");
                let sent = session
                    .send(|id| ClientMsg::Cast {
                        id,
                        round: ballot.round,
                        documents: ballot.documents,
                        choice: ballot.choice,
                        seq: ballot.seq,
                        signature: ballot.signature,
                    })
                    .await;
                match sent {
                    Ok(id) => {
                        in_flight = Some((id, plan.wall_begin + ballot.due));
                        out.sent += 1;
                    }
                    Err(e) => {
                        out.error = Some(e.to_string());
                        break;
                    }
                }
            }
            read = session.next() => match read {
                Ok(ServerMsg::Tally { version, server_time_us, .. }) => {
                    let arrived = unix_us(arrival(session.arrived()));
                    out.tallies.push(Seen { version, server_time_us, arrived, read: now_us() });
                }
                Ok(ServerMsg::Ack { id, receipt }) => {
                    if let Some((_, due)) = in_flight.take_if(|(sent, _)| *sent == id) {
                        out.acks.push(ms_between(due, arrival(session.arrived())));
                        out.acks_read.push(ms_between(due, SystemTime::now()));
                        if !plan.stop.is_cancelled() {
                            out.acked_in_span += 1;
                        }
                        if plan.verify_receipts > 0 && receipts % plan.verify_receipts == 0
                            && receipt.verify(&server_key).is_err()
                        {
                            out.bad_receipts += 1;
                            out.error.get_or_insert_with(|| "a receipt does not verify under the server's key".to_owned());
                        }
                        receipts += 1;
                        plan.answered.add();
                    }
                }
                Ok(ServerMsg::Refused { id: Some(id), message, .. }) => {
                    if in_flight.take_if(|(sent, _)| *sent == id).is_some() {
                        out.refused += 1;
                        out.error.get_or_insert(message);
                        plan.answered.add();
                    }
                }
                Ok(ServerMsg::Snapshot(_)) => {
                    if out.result_at_ms.is_none()
                        && session.state.round().is_some_and(|r| r.status == RoundStatus::Closed)
                    {
                        out.result_at_ms = Some(unix_ms(arrival(session.arrived())));
                        plan.results.add();
                    }
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

/// How far ahead the first cast is, so that the give-up deadline counts from it.
pub(crate) fn plan_span(first: Option<Instant>) -> Duration {
    first.map_or(Duration::ZERO, |t| {
        t.saturating_duration_since(Instant::now())
    })
}

/// Logs in the roster's seats `from..to`, a few at a time. They share one
/// meeting view, fetched once, as the tablets of a hall share its server.
pub(crate) async fn log_in(
    target: &Target<'_>,
    views: &Arc<ViewCache>,
    seats: std::ops::Range<usize>,
) -> anyhow::Result<Vec<Session>> {
    let roster = target.roster;
    stream::iter(seats)
        .map(|i| async move {
            let session = Client::connect_with_views(target.url, &Trust::default(), views.clone())
                .await?
                .login(&roster.meeting, &roster.seats[i])
                .await?;
            Ok::<_, ClientError>(session)
        })
        .buffered(LOGINS_IN_FLIGHT)
        .map(|r| r.context("a tablet logging in"))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// A steady load: voter `i` of `voters` casts at (i + k × voters) / rate
/// seconds, for `duration`; the other tablets listen.
fn steady(voters: usize, rate: f64, duration: Duration) -> Schedule {
    Box::new(move |i| {
        if i >= voters {
            return Vec::new();
        }
        (0..)
            .map(|k| (i + k * voters) as f64 / rate)
            .take_while(|&t| t < duration.as_secs_f64())
            .map(Duration::from_secs_f64)
            .collect()
    })
}

/// Runs `scenario` against `target`: the chair opens a vote on the first
/// item, the tablets log in, and the scenario runs once.
pub async fn run(target: &Target<'_>, scenario: Scenario) -> anyhow::Result<Report> {
    let views = Arc::new(ViewCache::new(&Trust::default())?);
    let chair = Chair::start(target, &views).await?;
    chair.command(ChairCommand::SetItem { item: 0 }).await?;
    chair
        .command(ChairCommand::Open {
            window_seconds: Some(3600),
        })
        .await?;
    let rss = || target.server_pid.and_then(rss_kib);
    let tablets = match scenario {
        Scenario::Idle { tablets, .. }
        | Scenario::Burst { tablets, .. }
        | Scenario::Load { tablets, .. }
        | Scenario::Checkin { tablets, .. } => tablets as usize,
    };
    let rss_before = rss();
    let started = Instant::now();
    let sessions = log_in(target, &views, 0..tablets).await?;
    let login_seconds = started.elapsed().as_secs_f64();

    let answered = Arc::new(Progress::default());
    let results = Arc::new(Progress::default());
    let stop = CancellationToken::new();
    let hang_up = CancellationToken::new();
    let (name, schedule): (&str, Schedule) = match scenario {
        Scenario::Idle { .. } => ("idle", Box::new(|_| Vec::new())),
        Scenario::Burst { within, .. } => (
            "burst",
            Box::new(move |_| vec![within.mul_f64(rand::random::<f64>())]),
        ),
        Scenario::Load {
            voters,
            rate,
            duration,
            slow_reader,
            ..
        } => {
            let voters = (voters as usize).min(tablets);
            let name = match (slow_reader, voters == tablets) {
                (true, _) => "slow-reader",
                (false, true) => "sustained",
                (false, false) => "fanout",
            };
            (name, steady(voters, rate, duration))
        }
        Scenario::Checkin {
            rate,
            duration,
            downloads,
            ..
        } => (
            if downloads {
                "checkin-downloads"
            } else {
                "checkin-vote"
            },
            // With downloads the span lasts as long as they do: ballots are
            // planned for as long as a run may take.
            steady(tablets, rate, if downloads { GIVE_UP } else { duration }),
        ),
    };
    // The documents, with each tablet's capability, read before the
    // sessions go to their tasks.
    let fetches = match scenario {
        Scenario::Checkin {
            downloads: true, ..
        } => Some(Fetches::of(target.url, &sessions).await?),
        _ => None,
    };
    // The tablet that stops reading: logged in, then never read again.
    let slow = match scenario {
        Scenario::Load {
            slow_reader: true, ..
        } => Some(log_in(target, &views, tablets..tablets + 1).await?),
        _ => None,
    };
    let mut report = Report::new(name, tablets as u32);
    report.login_seconds = Some(login_seconds);
    report.server_rss_before_kib = rss_before;
    let mut sessions = sessions;
    let casts = presign(&mut sessions, (0..tablets).map(schedule).collect())?;
    let expected: usize = casts.iter().map(Vec::len).sum();
    for session in &mut sessions {
        session
            .stamp_arrivals()
            .context("asking the kernel to timestamp arrivals (Linux)")?;
    }
    let begin = Instant::now() + Duration::from_millis(200);
    let wall_begin = SystemTime::now() + Duration::from_millis(200);
    let runs: Vec<_> = sessions
        .into_iter()
        .zip(casts)
        .map(|(session, casts)| {
            tokio::spawn(tablet(
                session,
                Plan {
                    casts,
                    begin,
                    wall_begin,
                    verify_receipts: target.verify_receipts,
                    stop: stop.clone(),
                    hang_up: hang_up.clone(),
                    answered: answered.clone(),
                    results: results.clone(),
                },
            ))
        })
        .collect();
    sleep_until(begin).await;
    let cpu_before = Cpu::read(target.server_pid);

    let mut close_sent_ms = None;
    match scenario {
        Scenario::Idle { settle, .. } => {
            sleep(settle).await;
            report.server_rss_after_kib = rss();
            stop.cancel();
        }
        Scenario::Burst { .. } => {
            tokio::time::timeout(GIVE_UP, answered.wait_for(expected))
                .await
                .context("waiting for every ballot of the burst to be answered")?;
            close_sent_ms = Some(now_ms());
            chair.command(ChairCommand::Close).await?;
            // A tablet that never sees the result is reported, not waited for.
            let _ = tokio::time::timeout(GIVE_UP, results.wait_for(tablets)).await;
            stop.cancel();
        }
        Scenario::Load { rate, duration, .. } => {
            report.offered_per_second = Some(rate);
            sleep_until(begin + duration).await;
            report.server_rss_after_kib = rss();
            stop.cancel();
        }
        Scenario::Checkin { rate, duration, .. } => {
            report.offered_per_second = Some(rate);
            let peak = CancellationToken::new();
            let sampler = target
                .server_pid
                .map(|pid| tokio::spawn(peak_rss(pid, peak.clone())));
            match fetches {
                Some(fetches) => fetches.run(&mut report).await?,
                None => sleep_until(begin + duration).await,
            }
            peak.cancel();
            if let Some(sampler) = sampler {
                report.server_rss_peak_kib = Some(sampler.await?);
            }
            report.server_rss_after_kib = rss();
            stop.cancel();
        }
    }
    let cpu_after = Cpu::read(target.server_pid);
    if let Scenario::Load { .. } | Scenario::Checkin { .. } = scenario {
        sleep(DRAIN).await;
    }
    hang_up.cancel();
    let mut outcomes = Vec::with_capacity(runs.len());
    for run in runs {
        outcomes.push(run.await?);
    }
    drop(slow);

    report.ballots_sent = outcomes.iter().map(|o| o.sent).sum();
    report.ballots_refused = outcomes.iter().map(|o| o.refused).sum();
    let acks: Vec<f64> = outcomes
        .iter()
        .flat_map(|o| o.acks.iter().copied())
        .collect();
    report.ballots_acked = acks.len() as u64;
    report.ack_ms = Spread::of(acks);
    report.ack_read_ms = Spread::of(
        outcomes
            .iter()
            .flat_map(|o| o.acks_read.iter().copied())
            .collect(),
    );
    report.bad_receipts = outcomes.iter().map(|o| o.bad_receipts).sum();
    // What the run cost: acknowledged within the measured span, against the
    // CPU time both processes spent in it.
    let acked_in_span: u64 = outcomes.iter().map(|o| o.acked_in_span).sum();
    report.cpu_per_ack(cpu_before, cpu_after, acked_in_span);
    for e in outcomes.iter().filter_map(|o| o.error.clone()) {
        report.error(e);
    }
    match scenario {
        Scenario::Idle { .. } => {
            if let (Some(before), Some(after)) = (rss_before, report.server_rss_after_kib) {
                report.rss_per_tablet_bytes =
                    Some(after.saturating_sub(before) as f64 * 1024.0 / tablets as f64);
            }
        }
        Scenario::Burst { .. } => {
            let seen: Vec<u64> = outcomes.iter().filter_map(|o| o.result_at_ms).collect();
            report.tablets_with_result = Some(seen.len() as u32);
            if let (Some(sent), Some(last)) = (close_sent_ms, seen.iter().max()) {
                report.close_to_last_tablet_ms = Some(last.saturating_sub(sent));
            }
        }
        Scenario::Load { duration, .. } => {
            report.acks_per_second = Some(acked_in_span as f64 / duration.as_secs_f64());
            let seen: Vec<Vec<Seen>> = outcomes
                .iter_mut()
                .map(|o| std::mem::take(&mut o.tallies))
                .collect();
            report.fanout(&seen);
            report.cpu_per_update(cpu_before, cpu_after);
        }
        Scenario::Checkin { .. } => {}
    }
    drop(chair);
    Ok(report)
}
