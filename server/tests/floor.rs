//! A question session run from the Rust client against the real `gavel`
//! binary, on each store: three delegates register questions to the two
//! respondents of the example meeting, the chair reorders the queue, gives
//! the floor and holds the clock; the process is killed (SIGKILL) and
//! started again, and the queue and the held clock are as they were; the
//! answers follow the questions, and the exported minutes list every turn
//! with whom each question was put to.
//!
//! The refusals and limits of the floor are in `tests/tests/floor.rs`; this
//! file has the binary, which only the server crate's tests can start.

use gavel_client::Session;
use gavel_protocol::floor::{FloorChange, FloorKind, FloorView, Speaker, TurnView};
use gavel_protocol::messages::{ChairCommand, ItemKind};
use gavel_records::bundle::Bundle;
use gavel_records::chain::Event;
use gavel_server::export;
use gavel_server::meeting::MeetingDefinition;
use gavel_server::store::Store;
use gavel_tests::databases;
use gavel_tests::process::{self, Gavel, Prepared, prepare_example};
use std::path::Path;

/// `gavel serve` on `database_url`, its key in `data_dir`.
fn start(data_dir: &Path, database_url: &str) -> anyhow::Result<Gavel> {
    Gavel::start(process::serve(
        env!("CARGO_BIN_EXE_gavel"),
        data_dir,
        Some(database_url),
    ))
}

fn floor(session: &Session) -> &FloorView {
    session.state.floor.as_ref().expect("the floor was sent")
}

fn turn(session: &Session) -> &TurnView {
    floor(session).turn.as_ref().expect("someone has the floor")
}

/// The chair's queue: each waiting request's id and speaker.
fn queue(chair: &Session) -> Vec<(u64, Speaker)> {
    floor(chair)
        .queue
        .iter()
        .map(|r| (r.id, r.speaker.clone()))
        .collect()
}

async fn login_all(url: &str, prepared: &Prepared) -> anyhow::Result<(Session, Vec<Session>)> {
    let chair = prepared.chair(url).await?;
    let mut seats = Vec::new();
    for seat in 1..=3 {
        seats.push(prepared.seat(url, seat).await?);
    }
    Ok((chair, seats))
}

/// When the chain says the clock was last resumed.
async fn resumed_at(store: &Store, prepared: &Prepared) -> anyhow::Result<u64> {
    let chain = store.audit_log(&prepared.meeting).await?;
    Ok(chain
        .iter()
        .rev()
        .find_map(|e| match &e.event {
            Event::Floor {
                change: FloorChange::TurnResumed { at },
            } => Some(*at),
            _ => None,
        })
        .expect("the chain records the resumption"))
}

#[tokio::test]
async fn a_question_session_survives_a_restart_and_its_minutes_list_every_turn()
-> anyhow::Result<()> {
    for db in databases().await {
        let data = tempfile::tempdir()?;
        let prepared = prepare_example(&db.url, 3).await?;
        let definition = &prepared.definition;
        let session_item = definition
            .agenda
            .iter()
            .find(|i| i.kind == ItemKind::QuestionSession)
            .expect("the example has a question session")
            .index;
        // Seat 12's question, registered in the meeting file, waits first.
        let registered = definition.questions[0].clone();
        assert_eq!(registered.item, session_item);

        let mut gavel = start(data.path(), &db.url)?;
        let (mut chair, mut seats) = login_all(&gavel.url(), &prepared).await?;
        for seat in &mut seats {
            seat.check_in().await?;
        }
        chair
            .chair(ChairCommand::SetItem { item: session_item })
            .await?;
        for (seat, respondent) in seats.iter_mut().zip([0, 1, 0]) {
            seat.wait_until(|s| {
                s.floor
                    .as_ref()
                    .is_some_and(|f| f.item == Some(session_item))
            })
            .await?;
            let topic = format!("Câu hỏi gửi người trả lời số {respondent}");
            seat.request_floor(
                session_item,
                FloorKind::Question,
                Some(respondent),
                Some(topic),
            )
            .await?;
        }
        chair
            .wait_until(|s| s.floor.as_ref().is_some_and(|f| f.waiting == 4))
            .await?;
        let ids: Vec<u64> = queue(&chair).iter().map(|(id, _)| *id).collect();
        assert_eq!(
            queue(&chair)[0].1,
            Speaker::Seat(registered.seat),
            "{}: the registered question waits first",
            db.name
        );

        // The chair puts seat 3's question first; seat 3 sees its place.
        let seat_3 = ids[3];
        chair
            .chair(ChairCommand::FloorMove {
                request: seat_3,
                place: 0,
            })
            .await?;
        assert_eq!(queue(&chair)[0], (seat_3, Speaker::Seat(3)));
        seats[2]
            .wait_until(|s| {
                s.floor
                    .as_ref()
                    .is_some_and(|f| f.places.iter().any(|p| p.seat == 3 && p.place == 1))
            })
            .await?;

        chair
            .chair(ChairCommand::FloorGive {
                request: None,
                limit_seconds: None,
            })
            .await?;
        let question = turn(&chair).clone();
        assert_eq!(question.request.speaker, Speaker::Seat(3));
        assert_eq!(question.request.respondent, Some(0));
        assert_eq!(
            question.ends_at,
            question.started_at + u64::from(definition.floor.question_seconds) * 1000
        );
        chair.chair(ChairCommand::FloorPause).await?;
        let held = turn(&chair).clone();
        let paused_at = held.paused_at.expect("the clock is held");
        let waiting = queue(&chair);

        // Pull the plug and start again on the same store.
        gavel.kill()?;
        let gavel = start(data.path(), &db.url)?;
        let (mut chair, mut seats) = login_all(&gavel.url(), &prepared).await?;
        assert_eq!(turn(&chair), &held, "{}: the held turn survives", db.name);
        assert_eq!(queue(&chair), waiting, "{}: the queue survives", db.name);
        assert_eq!(
            floor(&seats[0]).places.first().map(|p| p.seat),
            Some(registered.seat)
        );

        chair.chair(ChairCommand::FloorResume).await?;
        let store = Store::connect(&db.url).await?;
        let resumed = resumed_at(&store, &prepared).await?;
        assert_eq!(
            turn(&chair).ends_at,
            held.ends_at + (resumed - paused_at),
            "{}: the time left is given back",
            db.name
        );

        // The question's end starts the respondent's answer at once.
        chair.chair(ChairCommand::FloorEnd).await?;
        let answer = turn(&chair).clone();
        assert_eq!(answer.request.kind, FloorKind::Answer);
        assert_eq!(answer.request.speaker, Speaker::Respondent(0));
        // The answer's end offers seat 3 a follow-up, which it declines.
        chair.chair(ChairCommand::FloorEnd).await?;
        assert!(floor(&chair).turn.is_none());
        assert_eq!(queue(&chair)[0].1, Speaker::Seat(3));
        seats[2]
            .wait_until(|s| {
                s.floor
                    .as_ref()
                    .is_some_and(|f| f.places.iter().any(|p| p.seat == 3))
            })
            .await?;
        seats[2].withdraw_floor(session_item).await?;
        chair
            .wait_until(|s| s.floor.as_ref().is_some_and(|f| f.waiting == 3))
            .await?;
        assert_eq!(queue(&chair), waiting);

        // Seat 1's question to respondent 0, with a limit of its own.
        let seat_1 = waiting[1].0;
        chair
            .chair(ChairCommand::FloorGive {
                request: Some(seat_1),
                limit_seconds: Some(90),
            })
            .await?;
        let second = turn(&chair).clone();
        assert_eq!(second.ends_at, second.started_at + 90_000);
        chair
            .chair(ChairCommand::FloorAddTime { seconds: 30 })
            .await?;
        assert_eq!(turn(&chair).ends_at, second.ends_at + 30_000);
        seats[0]
            .wait_until(|s| {
                s.floor
                    .as_ref()
                    .and_then(|f| f.turn.as_ref())
                    .is_some_and(|t| t.ends_at == second.ends_at + 30_000)
            })
            .await?;
        chair.chair(ChairCommand::FloorEnd).await?;
        chair.chair(ChairCommand::FloorEnd).await?;
        assert!(floor(&chair).turn.is_none());

        // `gavel export`: the record verifies, and the minutes list each turn.
        let out = data.path().join("out");
        let exported = process::command(env!("CARGO_BIN_EXE_gavel"), data.path(), Some(&db.url))
            .args(["export", "--meeting", prepared.meeting.as_str(), "--out"])
            .arg(&out)
            .output()?;
        assert!(
            exported.status.success(),
            "{}",
            String::from_utf8_lossy(&exported.stderr)
        );
        let file = |suffix: &str| out.join(format!("{}.{suffix}", prepared.meeting));
        let bundle = Bundle::from_json(&std::fs::read_to_string(file("record.json"))?)?;
        let mismatches = gavel_records::verify::verify(&bundle);
        assert!(mismatches.is_empty(), "{}: {mismatches:?}", db.name);
        let definition = MeetingDefinition::parse(&bundle.definition)?;
        let session = export::session(&bundle, &definition, &Default::default());
        session.check()?;
        let turns = &session.items[session_item as usize].turns;
        let kinds: Vec<(FloorKind, Option<u32>)> = turns.iter().map(|t| (t.kind, t.seat)).collect();
        assert_eq!(
            kinds,
            vec![
                (FloorKind::Question, Some(3)),
                (FloorKind::Answer, None),
                (FloorKind::Question, Some(1)),
                (FloorKind::Answer, None),
            ],
            "{}",
            db.name
        );
        let respondent = &definition.respondents[0];
        let put_to = format!("{}, {}", respondent.name, respondent.post);
        assert_eq!(turns[0].put_to.as_deref(), Some(put_to.as_str()));
        assert_eq!(turns[1].speaker, respondent.name);
        let first_end = turns[0].ended_at.expect("ended");
        assert_eq!(
            turns[0].spoken_ms,
            first_end - turns[0].started_at - (resumed - paused_at),
            "the pause is not counted as speaking"
        );
        let html = std::fs::read_to_string(file("minutes.vi.html"))?;
        assert!(html.contains("Câu hỏi gửi người trả lời số 0"));
        assert!(html.contains(&respondent.name));
        assert!(html.contains("Trả lời chất vấn"));
        drop(gavel);
    }
    Ok(())
}
