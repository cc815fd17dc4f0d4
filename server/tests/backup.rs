//! Backing up a meeting and restoring it, as docs/operations.md tells an
//! operator to: SQLite with `gavel backup` while the server runs, then stop,
//! replace the file, start; PostgreSQL with `pg_dump -Fc` while the server
//! runs and `pg_restore` into a fresh database. In both, the restored
//! server holds exactly what was committed when the backup was taken (not
//! what came after), and a tablet that reconnects is shown its receipt.

use gavel_client::Session;
use gavel_protocol::messages::Receipt;
use gavel_protocol::rules::Secrecy;
use gavel_protocol::{Choice, MeetingId, SeatNo};
use gavel_server::store::{BallotRecord, RoundRecord, SecretBallots, Store};
use gavel_tests::process::{self, Gavel, Prepared, prepare_example, vote};
use gavel_tests::{TestDatabase, databases, require_tool};
use std::path::Path;
use std::process::Command;

/// Everything the store holds of a meeting's votes and attendance.
#[derive(Debug, PartialEq)]
struct Record {
    present: Vec<SeatNo>,
    rounds: Vec<RoundRecord>,
    ballots: Vec<Vec<BallotRecord>>,
    /// What each ended secret round kept.
    secret: Vec<SecretBallots>,
}

impl Record {
    async fn of(database_url: &str, meeting: &MeetingId) -> anyhow::Result<Record> {
        let store = Store::connect(database_url).await?;
        let rounds = store.rounds(meeting).await?;
        let mut ballots = Vec::new();
        let mut secret = Vec::new();
        for round in &rounds {
            ballots.push(store.ballots(round.id).await?);
            if round.settings.secrecy == Secrecy::Secret && round.closed_at.is_some() {
                secret.push(store.secret_ballots(round.id).await?);
            }
        }
        let record = Record {
            present: store.present(meeting).await?,
            rounds,
            ballots,
            secret,
        };
        store.close().await;
        Ok(record)
    }
}

/// `gavel serve` on a port of its own, its key in `data_dir`; on SQLite in
/// `data_dir` without `database_url`, as a first installation runs.
fn serve(data_dir: &Path, database_url: Option<&str>) -> Command {
    process::serve(env!("CARGO_BIN_EXE_gavel"), data_dir, database_url)
}

/// Keys for seats 1 to 23: the example's counting board (seats 7, 15 and
/// 23) confirms the secret vote's count before the next vote opens.
const BOARD_SEATS: u32 = 23;

/// A session worth keeping: a named vote and a secret vote closed, and a
/// named vote still open with the ballots of seats 1 to 3. Returns seat 1's
/// receipt in the open round (which names the round), and the delegates' sessions.
async fn hold_a_session(prepared: &Prepared, url: &str) -> anyhow::Result<(Receipt, Vec<Session>)> {
    let mut chair = prepared.chair(url).await?;
    let mut seats = Vec::new();
    for seat in 1..=5 {
        let mut session = prepared.seat(url, seat).await?;
        session.check_in().await?;
        seats.push(session);
    }
    let choices = [
        Choice::Yes,
        Choice::No,
        Choice::Yes,
        Choice::Abstain,
        Choice::Yes,
    ];
    vote(
        &mut chair,
        &mut seats,
        prepared.item(Secrecy::Named),
        &choices,
        true,
    )
    .await?;
    vote(
        &mut chair,
        &mut seats,
        prepared.item(Secrecy::Secret),
        &choices,
        true,
    )
    .await?;
    prepared.announce(url, &mut chair).await?;
    let open_item = prepared
        .definition
        .agenda
        .iter()
        .filter(|i| i.vote.is_some_and(|v| v.secrecy == Secrecy::Named))
        .nth(1)
        .expect("the example has two named votes")
        .index;
    let (_, receipts) = vote(&mut chair, &mut seats[..3], open_item, &choices, false).await?;
    Ok((receipts[0].clone(), seats))
}

/// After the backup: seat 4 votes in the open round. The restored store
/// must not have this ballot.
async fn vote_after_the_backup(seats: &mut [Session], open: &Receipt) -> anyhow::Result<()> {
    let seq = seats[3].next_seq();
    seats[3].cast_in(open.round, Choice::No, seq).await?;
    Ok(())
}

/// The restored server shows seat 1 the receipt it was given before.
async fn reconnecting_tablet_sees_its_receipt(
    prepared: &Prepared,
    gavel: &Gavel,
    receipt: &Receipt,
) -> anyhow::Result<()> {
    let tablet = prepared.seat(&gavel.url(), 1).await?;
    assert!(tablet.state.checked_in);
    assert_eq!(tablet.state.my_ballot.as_ref(), Some(receipt));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sqlite_store_backed_up_while_serving_is_restored_as_it_was() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let file = data.path().join("gavel.sqlite3");
    let url = format!("sqlite://{}", file.display());
    let prepared = prepare_example(&url, BOARD_SEATS).await?;
    let mut server = Gavel::start(serve(data.path(), None))?;
    let (receipt, mut seats) = hold_a_session(&prepared, &server.url()).await?;

    let backups = tempfile::tempdir()?;
    let backup = backups.path().join("gavel-backup.sqlite3");
    let out = process::command(env!("CARGO_BIN_EXE_gavel"), data.path(), None)
        .args(["backup", "--out"])
        .arg(&backup)
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("Backed up 1 meeting(s) to {}.", backup.display())
    );
    let backed_up =
        Record::of(&format!("sqlite://{}", backup.display()), &prepared.meeting).await?;
    vote_after_the_backup(&mut seats, &receipt).await?;
    drop(seats);
    // Each open round ballot is in the copy, the one cast after it is not.
    assert_eq!(backed_up.ballots.last().map(Vec::len), Some(3));
    assert_ne!(Record::of(&url, &prepared.meeting).await?, backed_up);

    // Restore: stop, replace the file (and drop its write-ahead log), start.
    assert!(server.terminate()?.success());
    for suffix in ["", "-wal", "-shm"] {
        let path = data.path().join(format!("gavel.sqlite3{suffix}"));
        if path.exists() {
            std::fs::remove_file(path)?;
        }
    }
    std::fs::copy(&backup, &file)?;
    let restored = Gavel::start(serve(data.path(), None))?;
    reconnecting_tablet_sees_its_receipt(&prepared, &restored, &receipt).await?;
    assert_eq!(Record::of(&url, &prepared.meeting).await?, backed_up);
    // Two closed rounds and the open one, their ballots and the secret record.
    assert_eq!(backed_up.rounds.len(), 3);
    assert_eq!(backed_up.secret.len(), 1);
    Ok(())
}

/// A fresh PostgreSQL database, or None when this run has no PostgreSQL.
async fn fresh_postgres() -> Option<TestDatabase> {
    databases()
        .await
        .into_iter()
        .find(|db| db.name == "postgres")
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let out = command.output()?;
    anyhow::ensure!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_dump_taken_while_serving_restores_into_a_fresh_database() -> anyhow::Result<()>
{
    let (Some(original), Some(fresh)) = (fresh_postgres().await, fresh_postgres().await) else {
        eprintln!("note: no PostgreSQL (TEST_DATABASE_URL); the PostgreSQL backup test is skipped");
        return Ok(());
    };
    if !require_tool("pg_dump") || !require_tool("pg_restore") {
        return Ok(());
    }
    let data = tempfile::tempdir()?;
    let prepared = prepare_example(&original.url, BOARD_SEATS).await?;
    let mut server = Gavel::start(serve(data.path(), Some(&original.url)))?;
    let (receipt, mut seats) = hold_a_session(&prepared, &server.url()).await?;

    let backups = tempfile::tempdir()?;
    let dump = backups.path().join("gavel.dump");
    run(Command::new("pg_dump")
        .args(["--format=custom", "--dbname", &original.url, "--file"])
        .arg(&dump))?;
    let backed_up = Record::of(&original.url, &prepared.meeting).await?;
    vote_after_the_backup(&mut seats, &receipt).await?;
    drop(seats);
    assert!(server.terminate()?.success());

    run(Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname", &fresh.url])
        .arg(&dump))?;
    // The same key (the data directory) on the restored database.
    let restored = Gavel::start(serve(data.path(), Some(&fresh.url)))?;
    reconnecting_tablet_sees_its_receipt(&prepared, &restored, &receipt).await?;
    let record = Record::of(&fresh.url, &prepared.meeting).await?;
    assert_eq!(
        record.ballots.last().map(Vec::len),
        Some(3),
        "not seat 4's later ballot"
    );
    assert_eq!(record.rounds.len(), 3);
    assert_eq!(record.secret.len(), 1);
    assert_eq!(record, backed_up);
    Ok(())
}
