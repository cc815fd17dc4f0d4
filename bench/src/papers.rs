//! A confidence paper under a full hall: every enrolled tablet casts one
//! signed rating paper of a list of officials (lấy phiếu tín nhiệm, thirty
//! at a People's Council) in a secret round, and, in the same run and from
//! the same tablets, one yes/no ballot in a secret round: the baseline the
//! paper is measured against.
//!
//! Each round is timed as the hall lives it: from the chair's `open` to
//! the last tablet's acknowledgement (each tablet casts once it sees the
//! round, at a random moment within a span, as people press at different
//! times), then from the chair's `close` to the closed round at the last
//! tablet, and, in a meeting with a counting board, on to the announced
//! result at the last tablet: the board's members confirm the count on
//! their tablets as soon as they are asked, and the chair announces it as
//! soon as enough have. Times are read by the tablets' tasks, so they
//! include the swarm's own queueing.

use crate::report::{BallotRound, Report, Spread};
use crate::swarm::{Chair, GIVE_UP, Progress, Target, log_in};
use gavel_client::client::{ClientError, Session};
use gavel_client::tls::Trust;
use gavel_client::view::ViewCache;
use gavel_protocol::messages::{ChairCommand, RoundStatus};
use gavel_protocol::paper::{CONFIDENCE, HIGH_CONFIDENCE, LOW_CONFIDENCE, Mark, Paper, PaperKind};
use gavel_protocol::{Choice, Principal};
use gavel_tests::roster::Roster;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The agenda items the run votes on, after the roster's own named item.
const YES_NO_ITEM: u32 = 1;
const RATING_ITEM: u32 = 2;

/// One run: `tablets` enrolled tablets, a list of `officials`, a counting
/// board of the first `board` seats (none when 0), and each tablet casting
/// at a random moment `within` this span of seeing the round.
#[derive(Debug, Clone, Copy)]
pub struct PapersRun {
    pub tablets: u32,
    pub officials: u16,
    pub board: u32,
    pub within: Duration,
}

/// The roster's meeting with the run's two secret items (a yes/no vote, and
/// a rating of `officials` officials) and its counting board.
pub fn definition(roster: &Roster, run: &PapersRun) -> String {
    let mut toml = roster.definition();
    let secret = "vote = { secrecy = \"secret\", interim = \"none\" }";
    toml.push_str(&format!(
        "\n[[topics.items]]\nkind = \"proposal\"\ntitle = \"Secret yes/no\"\n{secret}\n"
    ));
    let officials: Vec<String> = (1..=run.officials)
        .map(|i| format!("  {{ name = \"Official {i}\", post = \"Post {i}\" }},"))
        .collect();
    toml.push_str(&format!(
        "\n[[topics.items]]\nkind = \"other\"\ntitle = \"Confidence in {n} officials\"\n\
         {secret}\nballot = \"rating\"\nofficials = [\n{list}\n]\n",
        n = run.officials,
        list = officials.join("\n"),
    ));
    if run.board > 0 {
        let seats: Vec<String> = (1..=run.board).map(|s| s.to_string()).collect();
        toml.push_str(&format!(
            "\n[counting_board]\nseats = [{}]\n",
            seats.join(", ")
        ));
    }
    toml
}

/// Runs the yes/no round, then the rating, against `target`, whose meeting
/// is [`definition`]'s.
pub async fn run(target: &Target<'_>, run: PapersRun) -> anyhow::Result<Report> {
    let views = Arc::new(ViewCache::new(&Trust::default())?);
    let chair = Chair::start(target, &views).await?;
    let started = Instant::now();
    let mut sessions = log_in(target, &views, 0..run.tablets as usize).await?;
    let mut report = Report::new("papers", run.tablets);
    report.login_seconds = Some(started.elapsed().as_secs_f64());
    for item in [YES_NO_ITEM, RATING_ITEM] {
        let (back, round) = one_round(&chair, sessions, item, &run).await?;
        sessions = back;
        for e in &round.errors {
            report.error(e.clone());
        }
        report.ballots_sent += round.figures.sent;
        report.ballots_acked += round.figures.acked;
        report.ballots_refused += round.figures.refused;
        report.rounds.push(round.figures);
    }
    for session in sessions {
        session.close().await;
    }
    Ok(report)
}

/// What a tablet casts.
#[derive(Clone)]
enum Ballot {
    Choice(Choice),
    Rating(Vec<Mark>),
}

/// One tablet's part in a round, and the hall's counters it adds to.
struct Part {
    item: u32,
    ballot: Ballot,
    /// After seeing the round, before casting.
    delay: Duration,
    on_board: bool,
    answered: Arc<Progress>,
    closed: Arc<Progress>,
    confirmed: Arc<Progress>,
    results: Arc<Progress>,
}

/// What one tablet saw of a round; instants on the run's clock.
#[derive(Default)]
struct Seen {
    acked_at: Option<Instant>,
    /// From sending the ballot to reading its acknowledgement.
    ack_ms: Option<f64>,
    refused: bool,
    closed_at: Option<Instant>,
    result_at: Option<Instant>,
    error: Option<String>,
}

/// A round's figures and the first errors.
struct RoundOutcome {
    figures: BallotRound,
    errors: Vec<String>,
}

/// One secret round on `item`, every tablet of `sessions` casting once;
/// returns the sessions that are still up and the round's figures.
async fn one_round(
    chair: &Chair,
    sessions: Vec<Session>,
    item: u32,
    run: &PapersRun,
) -> anyhow::Result<(Vec<Session>, RoundOutcome)> {
    let n = sessions.len();
    let answered = Arc::new(Progress::default());
    let closed = Arc::new(Progress::default());
    let confirmed = Arc::new(Progress::default());
    let results = Arc::new(Progress::default());
    let tasks: Vec<_> = sessions
        .into_iter()
        .enumerate()
        .map(|(i, session)| {
            let ballot = if item == RATING_ITEM {
                Ballot::Rating(rating(run.officials))
            } else {
                Ballot::Choice(crate::swarm::CHOICES[i % crate::swarm::CHOICES.len()])
            };
            // The board is the roster's first seats.
            let on_board =
                matches!(session.principal, Some(Principal::Seat(seat)) if seat <= run.board);
            tokio::spawn(tablet(
                session,
                Part {
                    item,
                    ballot,
                    delay: run.within.mul_f64(rand::random::<f64>()),
                    on_board,
                    answered: answered.clone(),
                    closed: closed.clone(),
                    confirmed: confirmed.clone(),
                    results: results.clone(),
                },
            ))
        })
        .collect();

    chair.command(ChairCommand::SetItem { item }).await?;
    let opened = Instant::now();
    chair
        .command(ChairCommand::Open {
            window_seconds: Some(3600),
        })
        .await?;
    let waited = |what: &'static str| move |_| anyhow::anyhow!("waiting for {what}");
    tokio::time::timeout(GIVE_UP, answered.wait_for(n))
        .await
        .map_err(waited("every ballot to be answered"))?;
    let closing = Instant::now();
    chair.command(ChairCommand::Close).await?;
    let close_answered = closing.elapsed();
    tokio::time::timeout(GIVE_UP, closed.wait_for(n))
        .await
        .map_err(waited("every tablet to see the round closed"))?;
    let announced = run.board > 0;
    if announced {
        tokio::time::timeout(GIVE_UP, confirmed.wait_for(run.board as usize))
            .await
            .map_err(waited("the counting board's confirmations"))?;
        chair.command(ChairCommand::Announce).await?;
    }
    tokio::time::timeout(GIVE_UP, results.wait_for(n))
        .await
        .map_err(waited("every tablet to see the result"))?;

    let mut sessions = Vec::with_capacity(n);
    let mut seen = Vec::with_capacity(n);
    for task in tasks {
        let (session, s) = task.await?;
        sessions.extend(session);
        seen.push(s);
    }
    let ms = |from: Instant, to: Instant| to.saturating_duration_since(from).as_secs_f64() * 1e3;
    let last = |at: fn(&Seen) -> Option<Instant>| seen.iter().filter_map(at).max();
    let tablets_with_result = seen.iter().filter(|s| s.result_at.is_some()).count() as u32;
    let figures = BallotRound {
        ballot: match item {
            RATING_ITEM => format!("rating of {} officials", run.officials),
            _ => "yes/no".to_owned(),
        },
        marks: if item == RATING_ITEM {
            u32::from(run.officials)
        } else {
            1
        },
        board: run.board,
        sent: seen
            .iter()
            .filter(|s| s.ack_ms.is_some() || s.refused)
            .count() as u64,
        acked: seen.iter().filter(|s| s.acked_at.is_some()).count() as u64,
        refused: seen.iter().filter(|s| s.refused).count() as u64,
        open_to_last_ack_ms: last(|s| s.acked_at).map(|t| ms(opened, t)),
        ack_ms: Spread::of(seen.iter().filter_map(|s| s.ack_ms).collect()),
        close_answered_ms: close_answered.as_secs_f64() * 1e3,
        close_to_closed_at_last_tablet_ms: last(|s| s.closed_at).map(|t| ms(closing, t)),
        close_to_result_at_last_tablet_ms: last(|s| s.result_at).map(|t| ms(closing, t)),
        announced,
        tablets_with_result,
    };
    let errors = seen.into_iter().filter_map(|s| s.error).take(5).collect();
    Ok((sessions, RoundOutcome { figures, errors }))
}

/// A rating paper with a mark for every official, each level drawn at random.
fn rating(officials: u16) -> Vec<Mark> {
    const LEVELS: [u8; 3] = [HIGH_CONFIDENCE, CONFIDENCE, LOW_CONFIDENCE];
    (0..officials)
        .map(|entry| Mark {
            entry,
            mark: LEVELS[rand::random::<usize>() % LEVELS.len()],
        })
        .collect()
}

/// One tablet through a round: it waits for the round on `part.item`,
/// casts its ballot after `part.delay` (signed then, as a tablet signs when
/// its delegate presses), and follows the round to its close and its
/// result, confirming the count on the way if it is on the board. Every
/// counter it has not added to when it stops early is added to then, so
/// that the hall is not left waiting for it; its session is kept unless it
/// failed.
async fn tablet(mut session: Session, part: Part) -> (Option<Session>, Seen) {
    let mut seen = Seen::default();
    let result = tokio::time::timeout(GIVE_UP * 3, follow(&mut session, &part, &mut seen)).await;
    let failed = match result {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some("the round did not end in time".to_owned()),
    };
    if seen.acked_at.is_none() && !seen.refused {
        part.answered.add();
    }
    if seen.closed_at.is_none() {
        part.closed.add();
    }
    if seen.result_at.is_none() {
        part.results.add();
    }
    match failed {
        None => (Some(session), seen),
        Some(e) => {
            seen.error.get_or_insert(e);
            session.close().await;
            (None, seen)
        }
    }
}

async fn follow(session: &mut Session, part: &Part, seen: &mut Seen) -> Result<(), ClientError> {
    session
        .wait_until(|s| s.open_round().is_some_and(|r| r.item == part.item))
        .await?;
    let round = session.state.open_round().expect("waited for it").id;
    tokio::time::sleep(part.delay).await;
    let seq = session.next_seq();
    let sent = Instant::now();
    let cast = match &part.ballot {
        Ballot::Choice(choice) => {
            let signature = session.sign_ballot(round, *choice, seq)?;
            session
                .send_ballot(round, *choice, seq, signature)
                .await
                .map(drop)
        }
        Ballot::Rating(marks) => {
            let paper = Paper {
                kind: PaperKind::Rating,
                marks: marks.clone(),
            };
            let signature = session.sign_paper(round, &paper, seq)?;
            session
                .send_paper(round, paper, seq, signature)
                .await
                .map(drop)
        }
    };
    match cast {
        Ok(()) => {
            let at = Instant::now();
            seen.acked_at = Some(at);
            seen.ack_ms = Some(at.duration_since(sent).as_secs_f64() * 1e3);
        }
        Err(e @ ClientError::Refused { .. }) => {
            seen.refused = true;
            seen.error = Some(e.to_string());
        }
        Err(e) => return Err(e),
    }
    part.answered.add();

    let this = |s: &gavel_client::MeetingState| s.round().filter(|r| r.id == round).cloned();
    session
        .wait_until(|s| this(s).is_some_and(|r| r.status == RoundStatus::Closed))
        .await?;
    seen.closed_at = Some(Instant::now());
    part.closed.add();
    if part.on_board {
        // A member's count to confirm comes in its own `you` frame, which
        // a sync brings, as the tablet asks for it on seeing the close.
        session.sync().await?;
        let asked = session
            .state
            .to_confirm
            .clone()
            .filter(|t| t.round == round)
            .ok_or_else(|| ClientError::Protocol("no count to confirm after the close".into()))?;
        session.confirm_count(round, asked.count).await?;
        part.confirmed.add();
    }
    session
        .wait_until(|s| this(s).is_some_and(|r| r.result.is_some()))
        .await?;
    seen.result_at = Some(Instant::now());
    part.results.add();
    Ok(())
}
