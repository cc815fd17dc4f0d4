//! A secret vote leaves no link between a seat and its choice anywhere: not
//! in the store (every PostgreSQL table, the SQLite file's raw bytes), not
//! in the server's log, not in the exported record, not in the frames the
//! chair's console and the hall screen were sent.
//!
//! The real binary serves a real vote on each store. What would betray a
//! link: a delegate's ballot signature (it signs seat and choice together),
//! the chain's form of a ballot with its choice, or any object of a frame,
//! log line or export that holds both a seat and a choice.

use gavel_client::Session;
use gavel_protocol::messages::{ChairCommand, RoundStatus};
use gavel_protocol::rules::Secrecy;
use gavel_protocol::signing::BallotContent;
use gavel_protocol::{ClientMsg, RoundId, ServerMsg, Signature};
use gavel_server::store::{Pool, Store};
use gavel_tests::databases;
use gavel_tests::process::{self, Gavel, prepare_example};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn serve(data_dir: &Path, database_url: &str) -> Command {
    let mut command = process::serve(env!("CARGO_BIN_EXE_gavel"), data_dir, Some(database_url));
    command
        .env("GAVEL_LOG_FORMAT", "json")
        // The hub's own debug lines too: the most it ever says.
        .env("RUST_LOG", "info,gavel_server=debug,sqlx=warn");
    command
}

/// Sends a chair command and keeps every frame read until its answer.
async fn chair(
    session: &mut Session,
    command: ChairCommand,
    frames: &mut Vec<Value>,
) -> anyhow::Result<()> {
    let id = session.send(|id| ClientMsg::Chair { id, command }).await?;
    loop {
        let msg = session.next().await?;
        frames.push(serde_json::to_value(&msg)?);
        match msg {
            ServerMsg::Done { id: got } if got == id => return Ok(()),
            ServerMsg::Refused { .. } => anyhow::bail!("chair command refused: {msg:?}"),
            _ => {}
        }
    }
}

/// The first object inside `value` that holds both a seat and a choice.
fn seat_with_choice(value: &Value) -> Option<&Value> {
    match value {
        Value::Object(map) => {
            let seat = map.keys().any(|k| k == "seat" || k == "seats");
            let choice = map.keys().any(|k| k == "choice" || k == "choices");
            if seat && choice {
                return Some(value);
            }
            map.values().find_map(seat_with_choice)
        }
        Value::Array(items) => items.iter().find_map(seat_with_choice),
        _ => None,
    }
}

/// Every row of every table, as PostgreSQL prints it.
async fn postgres_rows(store: &Store) -> anyhow::Result<Vec<String>> {
    let Pool::Postgres(pool) = store.pool() else {
        unreachable!("a PostgreSQL store")
    };
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    )
    .fetch_all(pool)
    .await?;
    let mut rows = Vec::new();
    for table in tables {
        let text: Vec<String> = sqlx::query_scalar(&format!("SELECT t::text FROM \"{table}\" t"))
            .fetch_all(pool)
            .await?;
        rows.extend(text.into_iter().map(|row| format!("{table}: {row}")));
    }
    Ok(rows)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_secret_vote_nothing_links_a_seat_to_its_choice() -> anyhow::Result<()> {
    for db in databases().await {
        let dir = tempfile::tempdir()?;
        let prepared = prepare_example(&db.url, 6).await?;
        let mut gavel = Gavel::start(serve(dir.path(), &db.url))?;
        let url = gavel.url();

        let mut screen = gavel_client::Client::connect(&url)
            .await?
            .watch(&prepared.meeting)
            .await?;
        let mut console = prepared.chair(&url).await?;
        let mut chair_frames = Vec::new();
        let mut seats = Vec::new();
        for seat in 1..=6 {
            let mut session = prepared.seat(&url, seat).await?;
            session.check_in().await?;
            seats.push(session);
        }
        let item = prepared.item(Secrecy::Secret);
        chair(
            &mut console,
            ChairCommand::SetItem { item },
            &mut chair_frames,
        )
        .await?;
        let open = ChairCommand::Open {
            window_seconds: Some(300),
        };
        chair(&mut console, open, &mut chair_frames).await?;
        let round: RoundId = console.state.open_round().expect("open").id;

        use gavel_protocol::Choice::{Abstain, No, Yes};
        let mut signatures = Vec::new();
        let mut receipts = Vec::new();
        for (seat, choice) in seats.iter_mut().zip([Yes, No, Yes, Abstain, Yes, No]) {
            seat.wait_until(|s| s.open_round().is_some_and(|r| r.id == round))
                .await?;
            receipts.push(seat.cast(choice).await?);
        }
        // Seat 2 changes its mind: its first ballot must vanish too.
        receipts.push(seats[1].cast(Yes).await?);

        // What would betray a link: each ballot's signature (seat and choice
        // signed together, deterministic) and the chain's form of a ballot.
        for r in &receipts {
            let content = BallotContent {
                meeting: &prepared.meeting,
                round,
                documents: Some(seats[0].state.documents_digest(round)),
                seat: r.seat,
                choice: r.choice,
                seq: r.seq,
            };
            let key = &prepared.seats[r.seat as usize - 1];
            signatures.push(Signature::sign(key, &content.signed_bytes()));
        }
        // While the round is open the store holds exactly these signatures:
        // the search below looks for something that was there.
        let store = Store::connect(&db.url).await?;
        let open_ballots = store.ballots(round).await?;
        assert_eq!(open_ballots.len(), 6);
        for b in &open_ballots {
            assert!(signatures.contains(&b.signature), "{}: {b:?}", db.name);
        }
        store.close().await;

        chair(&mut console, ChairCommand::Close, &mut chair_frames).await?;
        let mut screen_frames = Vec::new();
        while !screen
            .state
            .round()
            .is_some_and(|r| r.id == round && r.status == RoundStatus::Closed)
        {
            screen_frames.push(serde_json::to_value(&screen.next().await?)?);
        }
        drop((console, screen, seats));
        assert!(gavel.terminate()?.success());

        let chained: Vec<String> = receipts
            .iter()
            .map(|r| format!("{{\"seat\":{},\"seq\":{},\"choice\"", r.seat, r.seq))
            .collect();
        let betrays = |text: &str| -> Option<String> {
            signatures
                .iter()
                .map(Signature::to_hex)
                .chain(chained.iter().cloned())
                .find(|needle| text.contains(needle.as_str()))
        };

        // The store.
        match db.name {
            "sqlite" => {
                let file = db.url.trim_start_matches("sqlite://");
                for path in [file.to_owned(), format!("{file}-wal")] {
                    let Ok(bytes) = std::fs::read(&path) else {
                        continue;
                    };
                    for s in &signatures {
                        assert!(
                            !contains(&bytes, &s.to_bytes()),
                            "{path} still holds a secret ballot's signature"
                        );
                    }
                    for c in &chained {
                        assert!(!contains(&bytes, c.as_bytes()), "{path} holds {c}");
                    }
                }
            }
            _ => {
                let store = Store::connect(&db.url).await?;
                for row in postgres_rows(&store).await? {
                    // bytea prints as hex, so a signature would show as its hex.
                    assert_eq!(betrays(&row), None, "{row}");
                }
                store.close().await;
            }
        }
        let store = Store::connect(&db.url).await?;
        assert!(store.ballots(round).await?.is_empty(), "{}", db.name);
        for entry in store.audit_log(&prepared.meeting).await? {
            let json = serde_json::to_value(&entry.event)?;
            assert_eq!(seat_with_choice(&json), None, "{}: {json}", db.name);
        }
        store.close().await;

        // The log.
        let log = gavel.log();
        assert!(log.iter().any(|l| l.contains(&round.to_string())));
        for line in &log {
            assert_eq!(betrays(line), None, "{line}");
            let event: Value = serde_json::from_str(line)?;
            assert_eq!(seat_with_choice(&event), None, "{line}");
            assert!(event.get("choice").is_none(), "{line}");
        }

        // The frames sent to the chair's console and the hall screen.
        assert!(chair_frames.len() >= 3 && !screen_frames.is_empty());
        for frame in chair_frames.iter().chain(&screen_frames) {
            assert_eq!(seat_with_choice(frame), None, "{frame}");
            assert_eq!(betrays(&frame.to_string()), None, "{frame}");
        }

        // The export.
        let out = dir.path().join("out");
        let export = process::command(env!("CARGO_BIN_EXE_gavel"), dir.path(), Some(&db.url))
            .args(["export", "--meeting", prepared.meeting.as_str(), "--out"])
            .arg(&out)
            .output()?;
        assert!(
            export.status.success(),
            "{}",
            String::from_utf8_lossy(&export.stderr)
        );
        for entry in std::fs::read_dir(&out)? {
            let path = entry?.path();
            let text = std::fs::read_to_string(&path)?;
            assert_eq!(betrays(&text), None, "{}", path.display());
            if path.extension().is_some_and(|e| e == "json") {
                let bundle: Value = serde_json::from_str(&text)?;
                assert_eq!(seat_with_choice(&bundle), None, "{}", path.display());
                let round = &bundle["rounds"][0];
                assert_eq!(round["ballots"], Value::Array(vec![]));
                assert_eq!(
                    round["secret"]["participants"],
                    serde_json::json!([1, 2, 3, 4, 5, 6])
                );
            }
        }
    }
    Ok(())
}
