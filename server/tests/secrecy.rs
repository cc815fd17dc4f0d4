//! A secret vote leaves no link between a seat and its choice anywhere, at
//! any moment: not in the store (every table, the SQLite file and its
//! write-ahead log, PostgreSQL's WAL), not in the server's log, while the
//! round is open as after it closed; not in the exported record, not in the
//! frames the chair's console and the hall screen were sent. And a hub that
//! restarts while a secret round is open counts each acknowledged ballot
//! once, answers a resent one with its receipt, and refuses a change it can
//! no longer make (`change_lost_in_restart`).
//!
//! The real binary serves a real vote on each store. What would betray a
//! link: a delegate's ballot signature (it signs seat and choice together),
//! the chain's form of a ballot with its choice, a row of a table that has
//! both a seat and a choice (or signature) column, or any object of a frame,
//! log line or export that holds both a seat and a choice.
//!
//! What this does not look for: that a participation row and a choice row
//! were written by the same transaction (PostgreSQL's `xmin`, the WAL's
//! order), which SECURITY.md states plainly.

use gavel_client::Session;
use gavel_protocol::messages::{ChairCommand, RoundStatus};
use gavel_protocol::results::RoundResult;
use gavel_protocol::rules::Secrecy;
use gavel_protocol::signing::BallotContent;
use gavel_protocol::{ClientMsg, RefusalReason, RoundId, ServerMsg, Signature};
use gavel_server::store::{Pool, Store};
use gavel_tests::databases;
use gavel_tests::process::{self, Gavel, Prepared, prepare_example};
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

/// The round's rows in every table that has a seat column beside a choice
/// or signature column: a row there links a seat to what it chose.
async fn linking_rows(store: &Store, round: RoundId) -> anyhow::Result<Vec<String>> {
    const TABLES: &str = "SELECT table_name::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND column_name = 'seat'
         INTERSECT
         SELECT table_name::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND column_name IN ('choice', 'signature', 'marks')";
    const SQLITE_TABLES: &str = "SELECT m.name FROM sqlite_schema m
         WHERE m.type = 'table'
           AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) WHERE name = 'seat')
           AND EXISTS (SELECT 1 FROM pragma_table_info(m.name)
                       WHERE name IN ('choice', 'signature', 'marks'))";
    let count =
        |table: &str| format!("SELECT count(*) FROM \"{table}\" WHERE round_id = '{round}'");
    let mut found = Vec::new();
    match store.pool() {
        Pool::Postgres(pool) => {
            let tables: Vec<String> = sqlx::query_scalar(TABLES).fetch_all(pool).await?;
            anyhow::ensure!(tables.contains(&"ballots".to_owned()), "{tables:?}");
            for table in tables {
                let n: i64 = sqlx::query_scalar(&count(&table)).fetch_one(pool).await?;
                if n > 0 {
                    found.push(format!("{table}: {n} rows"));
                }
            }
        }
        Pool::Sqlite(pool) => {
            let tables: Vec<String> = sqlx::query_scalar(SQLITE_TABLES).fetch_all(pool).await?;
            anyhow::ensure!(tables.contains(&"ballots".to_owned()), "{tables:?}");
            for table in tables {
                let n: i64 = sqlx::query_scalar(&count(&table)).fetch_one(pool).await?;
                if n > 0 {
                    found.push(format!("{table}: {n} rows"));
                }
            }
        }
    }
    Ok(found)
}

/// PostgreSQL's WAL segments written since `since` (Unix seconds), read
/// through the server (a superuser may read its data directory); `None`
/// where the role may not.
async fn postgres_wal(store: &Store, since: i64) -> anyhow::Result<Option<Vec<Vec<u8>>>> {
    let Pool::Postgres(pool) = store.pool() else {
        unreachable!("a PostgreSQL store")
    };
    let segments: Result<Vec<Vec<u8>>, sqlx::Error> = sqlx::query_scalar(
        "SELECT pg_read_binary_file('pg_wal/' || name) FROM pg_ls_waldir()
         WHERE modification >= to_timestamp($1) AND name ~ '^[0-9A-F]{24}$'",
    )
    .bind(since as f64)
    .fetch_all(pool)
    .await;
    match segments {
        Ok(segments) => Ok(Some(segments)),
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42501") => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Searches the store's files (SQLite: the database and its write-ahead
/// log; PostgreSQL: every table's rows, and the WAL written since
/// `since`) for any of `signatures` and `chained` (a ballot's chain form).
async fn search_store(
    db: &gavel_tests::TestDatabase,
    round: RoundId,
    since: i64,
    signatures: &[Signature],
    chained: &[String],
) -> anyhow::Result<()> {
    let mut blobs: Vec<(String, Vec<u8>)> = Vec::new();
    if db.name == "sqlite" {
        let file = db.url.trim_start_matches("sqlite://");
        for path in [file.to_owned(), format!("{file}-wal")] {
            if let Ok(bytes) = std::fs::read(&path) {
                blobs.push((path, bytes));
            }
        }
        anyhow::ensure!(!blobs.is_empty(), "the SQLite file was read");
    } else {
        let store = Store::connect(&db.url).await?;
        for row in postgres_rows(&store).await? {
            // bytea prints as hex, so a signature would show as its hex.
            for s in signatures {
                anyhow::ensure!(!row.contains(&s.to_hex()), "{row}");
            }
            for c in chained {
                anyhow::ensure!(!row.contains(c.as_str()), "{row}");
            }
        }
        match postgres_wal(&store, since).await? {
            Some(segments) => {
                anyhow::ensure!(!segments.is_empty(), "the WAL written during the vote");
                blobs.extend(segments.into_iter().map(|s| ("pg_wal".to_owned(), s)));
            }
            None if std::env::var("CI").is_ok_and(|v| v == "true") => {
                anyhow::bail!("the test's role may not read PostgreSQL's WAL")
            }
            None => eprintln!("note: the test's role may not read PostgreSQL's WAL; not searched"),
        }
        store.close().await;
    }
    // What is searched holds the round's rows: the right files were read.
    let id = round.to_hex();
    anyhow::ensure!(
        blobs
            .iter()
            .any(|(_, bytes)| contains(bytes, id.as_bytes())),
        "{}: no file searched holds round {id}",
        db.name
    );
    for (what, bytes) in &blobs {
        for s in signatures {
            anyhow::ensure!(
                !contains(bytes, &s.to_bytes()),
                "{}: {what} holds a secret ballot's signature",
                db.name
            );
        }
        for c in chained {
            anyhow::ensure!(
                !contains(bytes, c.as_bytes()),
                "{}: {what} holds {c}",
                db.name
            );
        }
    }
    Ok(())
}

/// Checks every log line for a seat beside its choice.
fn search_log(log: &[String], betrays: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
    for line in log {
        anyhow::ensure!(betrays(line).is_none(), "{line}");
        let event: Value = serde_json::from_str(line)?;
        anyhow::ensure!(seat_with_choice(&event).is_none(), "{line}");
        anyhow::ensure!(event.get("choice").is_none(), "{line}");
    }
    Ok(())
}

/// Seats 1 to `count`, logged in on the server at `url` and checked in.
async fn delegates(prepared: &Prepared, url: &str, count: u32) -> anyhow::Result<Vec<Session>> {
    let mut seats = Vec::new();
    for seat in 1..=count {
        let mut session = prepared.seat(url, seat).await?;
        session.check_in().await?;
        seats.push(session);
    }
    Ok(seats)
}

fn unix_seconds() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map_or(0, |d| d.as_secs() as i64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_secret_vote_nothing_links_a_seat_to_its_choice() -> anyhow::Result<()> {
    for db in databases().await {
        let dir = tempfile::tempdir()?;
        let prepared = prepare_example(&db.url, 6).await?;
        // A second's margin: the WAL's modification times are in seconds.
        let since = unix_seconds() - 1;
        let mut gavel = Gavel::start(serve(dir.path(), &db.url))?;
        let url = gavel.url();

        let mut screen = gavel_client::Client::connect(&url)
            .await?
            .watch(&prepared.meeting)
            .await?;
        let mut console = prepared.chair(&url).await?;
        let mut chair_frames = Vec::new();
        let mut seats = delegates(&prepared, &url, 6).await?;
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
        let round_id = round;

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

        // While the round is open, every ballot acknowledged: the store
        // holds who took part and what was chosen, and nothing that links
        // the two, in its tables or its files; nor does the log.
        let store = Store::connect(&db.url).await?;
        let open = store.secret_ballots(round).await?;
        assert_eq!(open.seats(), vec![1, 2, 3, 4, 5, 6], "{}", db.name);
        let mut chosen = open.votes();
        chosen.sort();
        assert_eq!(
            chosen,
            [Yes, Yes, Yes, Yes, No, Abstain].map(gavel_protocol::paper::Vote::Choice),
            "{}: seat 2's change replaced its choice",
            db.name
        );
        assert_eq!(
            linking_rows(&store, round).await?,
            Vec::<String>::new(),
            "{}",
            db.name
        );
        store.close().await;
        search_store(&db, round, since, &signatures, &chained).await?;
        let log_while_open = gavel.log();
        assert!(
            log_while_open
                .iter()
                .any(|l| l.contains("ballot accepted") && l.contains(&round.to_string())),
            "the log tells of the ballots"
        );
        search_log(&log_while_open, betrays)?;

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

        // The store, once the round has closed.
        search_store(&db, round, since, &signatures, &chained).await?;
        let store = Store::connect(&db.url).await?;
        assert!(store.ballots(round).await?.is_empty(), "{}", db.name);
        assert_eq!(
            linking_rows(&store, round).await?,
            Vec::<String>::new(),
            "{}",
            db.name
        );
        for entry in store.audit_log(&prepared.meeting).await? {
            let json = serde_json::to_value(&entry.event)?;
            assert_eq!(seat_with_choice(&json), None, "{}: {json}", db.name);
        }
        store.close().await;

        // The whole log.
        let log = gavel.log();
        assert!(log.iter().any(|l| l.contains(&round.to_string())));
        search_log(&log, betrays)?;

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
                trackers_are_found(&path, round_of(&text, round_id)?, &receipts, &signatures)?;
            }
        }
    }
    Ok(())
}

fn round_of(text: &str, id: RoundId) -> anyhow::Result<gavel_records::bundle::Round> {
    let bundle = gavel_records::bundle::Bundle::from_json(text)?;
    let round = bundle.rounds.into_iter().find(|r| r.id == id);
    round.ok_or_else(|| anyhow::anyhow!("round {id} is in the record"))
}

/// Each delegate finds their last ballot in the record's published list
/// by the tracker of its signature, counted as cast, with `gavel verify
/// --tracker` too; a ballot a later one replaced is not there.
fn trackers_are_found(
    bundle: &Path,
    round: gavel_records::bundle::Round,
    receipts: &[gavel_protocol::messages::Receipt],
    signatures: &[Signature],
) -> anyhow::Result<()> {
    let record = round.secret.expect("a secret record");
    for (i, (receipt, signature)) in receipts.iter().zip(signatures).enumerate() {
        let tracker = gavel_protocol::Tracker::of(signature);
        let replaced = receipts[i + 1..].iter().any(|r| r.seat == receipt.seat);
        let found = record.find(&tracker);
        if replaced {
            anyhow::ensure!(found.is_none(), "seat {}'s replaced ballot", receipt.seat);
            continue;
        }
        let cast = gavel_protocol::paper::Vote::Choice(receipt.choice);
        anyhow::ensure!(found == Some(cast), "seat {}: {found:?}", receipt.seat);
    }
    let last = signatures.last().expect("ballots").clone();
    for (tracker, expect_found) in [
        (gavel_protocol::Tracker::of(&last), true),
        (gavel_protocol::Tracker([7; 16]), false),
    ] {
        let verify = Command::new(env!("CARGO_BIN_EXE_gavel"))
            .arg("verify")
            .arg(bundle)
            .args(["--tracker", &tracker.to_hex()])
            .output()?;
        let stdout = String::from_utf8_lossy(&verify.stdout);
        anyhow::ensure!(
            verify.status.success() == expect_found
                && stdout.contains(if expect_found { "found: " } else { "not found" }),
            "{stdout}"
        );
    }
    Ok(())
}

/// A hub killed while a secret round is open comes back counting every
/// acknowledged ballot once, though it no longer knows whose each choice
/// is: the identical ballot sent again gets the same receipt, a changed one
/// is refused with `change_lost_in_restart`, and a seat that votes after
/// the restart can change its vote as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_during_a_secret_round_keeps_each_ballot_once() -> anyhow::Result<()> {
    use gavel_protocol::Choice::{Abstain, No, Yes};
    for db in databases().await {
        let dir = tempfile::tempdir()?;
        let prepared = prepare_example(&db.url, 4).await?;
        let mut gavel = Gavel::start(serve(dir.path(), &db.url))?;
        let url = gavel.url();
        let mut console = prepared.chair(&url).await?;
        let mut seats = delegates(&prepared, &url, 4).await?;
        let item = prepared.item(Secrecy::Secret);
        console.chair(ChairCommand::SetItem { item }).await?;
        let open = ChairCommand::Open {
            window_seconds: Some(300),
        };
        console.chair(open).await?;
        let round: RoundId = console.state.open_round().expect("open").id;
        for seat in &mut seats {
            seat.wait_until(|s| s.open_round().is_some_and(|r| r.id == round))
                .await?;
        }
        let first_seq = seats[0].next_seq();
        let first_signature = seats[0].sign_ballot(round, Yes, first_seq)?;
        let first = seats[0]
            .send_ballot(round, Yes, first_seq, first_signature.clone())
            .await?;
        seats[1].cast(No).await?;
        seats[2].cast(Yes).await?;
        seats[2].cast(No).await?;
        drop((console, seats));
        gavel.kill()?;

        let mut gavel = Gavel::start(serve(dir.path(), &db.url))?;
        let url = gavel.url();
        let mut console = prepared.chair(&url).await?;
        let mut seats = delegates(&prepared, &url, 4).await?;
        assert_eq!(
            console.state.open_round().map(|r| r.id),
            Some(round),
            "{}: the round is open again",
            db.name
        );
        // Sent again, seat 1's ballot gets the receipt it was given.
        let again = seats[0]
            .send_ballot(round, Yes, first_seq, first_signature)
            .await?;
        assert_eq!(again, first, "{}", db.name);
        // Another ballot under the same sequence number is not that ballot.
        let other = seats[0].sign_ballot(round, No, first_seq)?;
        let refused = seats[0].send_ballot(round, No, first_seq, other).await;
        assert_eq!(
            refused.err().and_then(|e| e.reason()),
            Some(RefusalReason::StaleSequence),
            "{}",
            db.name
        );
        // Seat 2's change is refused, naming why; its ballot still counts.
        let change = seats[1].cast(Yes).await;
        assert_eq!(
            change.err().and_then(|e| e.reason()),
            Some(RefusalReason::ChangeLostInRestart),
            "{}",
            db.name
        );
        // Seat 4 votes now, and changes its vote as before.
        seats[3].cast(Abstain).await?;
        seats[3].cast(Yes).await?;
        console.chair(ChairCommand::Close).await?;
        let closed = console.state.round().expect("the round").clone();
        let Some(RoundResult::Tally(tally)) = closed.result else {
            panic!("{}: a tally, got {:?}", db.name, closed.result)
        };
        assert_eq!(
            (tally.counts.yes, tally.counts.no, tally.counts.abstain),
            (2, 2, 0),
            "{}: seat 1 yes, seat 2 no, seat 3 no (changed before), seat 4 yes",
            db.name
        );
        drop((console, seats));
        assert!(gavel.terminate()?.success());

        let store = Store::connect(&db.url).await?;
        let kept = store.secret_ballots(round).await?;
        assert_eq!(kept.seats(), vec![1, 2, 3, 4], "{}", db.name);
        assert_eq!(
            kept.choices.len(),
            4,
            "{}: no choice lost or doubled",
            db.name
        );
        store.close().await;
    }
    Ok(())
}
