//! The real `gavel` binary, started as an operator starts it (settings from
//! flags, environment or a file), and the example meeting prepared for it
//! with a key registered for every seat and the chair, as a roster import
//! with public keys does.
//!
//! Every test and benchmark that starts a `gavel serve` or `gavel demo`
//! does it with [`Gavel::start`]: it passes `--ready-file` and waits for
//! that file (or for the process to exit), never for a line of the log.
//!
//! The binary's path comes from the caller (`env!("CARGO_BIN_EXE_gavel")`,
//! which only the server crate's own tests have).

use crate::roster::public_keys;
use anyhow::Context as _;
use ed25519_dalek::SigningKey;
use gavel_client::{Client, Session};
use gavel_protocol::messages::{ChairCommand, Receipt};
use gavel_protocol::rules::Secrecy;
use gavel_protocol::{Choice, MeetingId, RoundId, SeatNo};
use gavel_server::meeting::{EXAMPLE, MeetingDefinition};
use gavel_server::ready_file::ReadyFile;
use gavel_server::store::{NewDocument, Store};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write as _};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a started `gavel` may take to bind its listeners: generous, for
/// a 2-core machine compiling and testing at once.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How often the ready file is looked for while the process starts.
const POLL: Duration = Duration::from_millis(10);

/// A `gavel` command on `data_dir` (its key, and the SQLite store when
/// `database_url` is `None`), with none of the `GAVEL_*` settings,
/// `DATABASE_URL` or `RUST_LOG` of the environment the test runs in: what
/// is on the developer's machine must not point the test elsewhere.
pub fn command(binary: impl AsRef<Path>, data_dir: &Path, database_url: Option<&str>) -> Command {
    let mut command = Command::new(binary.as_ref());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("GAVEL_") {
            command.env_remove(name);
        }
    }
    command
        .env("GAVEL_DATA_DIR", data_dir)
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG");
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    command
}

/// `gavel serve` on a port of its own: [`command`] with `serve --listen 127.0.0.1:0`.
pub fn serve(binary: impl AsRef<Path>, data_dir: &Path, database_url: Option<&str>) -> Command {
    let mut serve = command(binary, data_dir, database_url);
    serve.args(["serve", "--listen", "127.0.0.1:0"]);
    serve
}

/// `gavel demo` on a port of its own, on SQLite in `data_dir`: `tablets`
/// simulated tablets, and a simulated chair opening `window_seconds` windows.
pub fn demo(
    binary: impl AsRef<Path>,
    data_dir: &Path,
    tablets: u32,
    window_seconds: u32,
) -> Command {
    let mut demo = command(binary, data_dir, None);
    demo.args(["demo", "--listen", "127.0.0.1:0", "--tablets"])
        .arg(tablets.to_string())
        .arg("--window")
        .arg(window_seconds.to_string());
    demo
}

/// A running `gavel serve` (or `gavel demo`); killed when dropped.
pub struct Gavel {
    child: Child,
    /// `host:port` of the hall's listener.
    pub addr: String,
    /// `host:port` of the metrics listener, if it has one.
    pub metrics_addr: Option<String>,
    /// Its standard error (the log), line by line.
    log: Lines,
    /// Its standard output (what `gavel demo` tells a person), line by line.
    stdout: Lines,
    readers: Vec<JoinHandle<()>>,
    _ready_dir: tempfile::TempDir,
}

impl Gavel {
    /// Starts `command` (a `gavel serve` or `gavel demo`) with
    /// `--ready-file`, and returns once the file says where it listens.
    /// Its output is read all along, so that it never blocks on a full pipe.
    pub fn start(command: Command) -> anyhow::Result<Gavel> {
        Gavel::launch(command, None)
    }

    /// As [`Gavel::start`], also writing each line of its log and output to
    /// `file` as it comes, to read after a long run (or a crash).
    pub fn start_logging_to(command: Command, file: File) -> anyhow::Result<Gavel> {
        Gavel::launch(command, Some(file))
    }

    fn launch(mut command: Command, file: Option<File>) -> anyhow::Result<Gavel> {
        let ready_dir = tempfile::tempdir()?;
        let ready_path = ready_dir.path().join("ready.json");
        let mut child = command
            .arg("--ready-file")
            .arg(&ready_path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {:?}", command.get_program()))?;
        let (log, stdout) = (Lines::default(), Lines::default());
        let file = file.map(|f| Arc::new(Mutex::new(f)));
        let readers = vec![
            read(child.stderr.take().expect("piped"), &log, &file),
            read(child.stdout.take().expect("piped"), &stdout, &file),
        ];
        let mut gavel = Gavel {
            child,
            addr: String::new(),
            metrics_addr: None,
            log,
            stdout,
            readers,
            _ready_dir: ready_dir,
        };
        let started = Instant::now();
        let ready = loop {
            if let Some(ready) = ReadyFile::read(&ready_path)? {
                break ready;
            }
            if let Some(status) = gavel.child.try_wait()? {
                gavel.join_readers();
                anyhow::bail!(
                    "gavel exited ({status}) before listening:\n{}",
                    gavel.log().join("\n")
                );
            }
            anyhow::ensure!(
                started.elapsed() < START_TIMEOUT,
                "gavel did not listen within {START_TIMEOUT:?}:\n{}",
                gavel.log().join("\n")
            );
            std::thread::sleep(POLL);
        };
        gavel.addr = ready.listen.to_string();
        gavel.metrics_addr = ready.metrics.map(|a| a.to_string());
        Ok(gavel)
    }

    /// The WebSocket URL of the hall's listener.
    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Every line logged so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Every line printed on its standard output so far.
    pub fn stdout(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// Stops it with SIGTERM, as systemd does, and waits for it; the log is
    /// then complete.
    pub fn terminate(&mut self) -> anyhow::Result<ExitStatus> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        anyhow::ensure!(status.success(), "kill -TERM failed");
        let exit = self.child.wait()?;
        self.join_readers();
        Ok(exit)
    }

    /// Pulls the plug: SIGKILL, and waits for it.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        self.join_readers();
        Ok(())
    }

    /// Waits until the exited process's output has all been read.
    fn join_readers(&mut self) {
        for reader in self.readers.drain(..) {
            reader.join().expect("log reader");
        }
    }
}

/// Lines read from a pipe, shared with the thread that reads them.
type Lines = Arc<Mutex<Vec<String>>>;

/// Reads `pipe` to its end on a thread of its own, into `lines` and `file`.
fn read(
    pipe: impl Read + Send + 'static,
    lines: &Lines,
    file: &Option<Arc<Mutex<File>>>,
) -> JoinHandle<()> {
    let (lines, file) = (lines.clone(), file.clone());
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if let Some(file) = &file {
                let _ = writeln!(file.lock().unwrap(), "{line}");
            }
            lines.lock().unwrap().push(line);
        }
    })
}

impl Drop for Gavel {
    /// Does nothing to a process already waited for: `Child` knows.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The example meeting in a store, with the keys of its chair and seats.
pub struct Prepared {
    pub meeting: MeetingId,
    pub definition: MeetingDefinition,
    pub chair: SigningKey,
    /// The key of seat `n` at index `n - 1`.
    pub seats: Vec<SigningKey>,
}

impl Prepared {
    /// Logs the chair in on the server at `url`.
    pub async fn chair(&self, url: &str) -> anyhow::Result<Session> {
        Ok(Client::connect(url)
            .await?
            .login(&self.meeting, &self.chair)
            .await?)
    }

    /// The index of the first agenda item voted on with `secrecy`.
    pub fn item(&self, secrecy: Secrecy) -> u32 {
        self.definition
            .agenda
            .iter()
            .find(|i| i.vote.is_some_and(|v| v.secrecy == secrecy))
            .expect("the example has both kinds of vote")
            .index
    }

    /// Logs seat `seat` in on the server at `url`.
    pub async fn seat(&self, url: &str, seat: u32) -> anyhow::Result<Session> {
        let key = &self.seats[seat as usize - 1];
        Ok(Client::connect(url)
            .await?
            .login(&self.meeting, key)
            .await?)
    }

    /// The example's counting board confirms the count of the secret round
    /// the chair just closed, each member from its own tablet, and the
    /// chair announces it, so that the next vote can open. The board's
    /// seats must be among the prepared ones.
    pub async fn announce(&self, url: &str, chair: &mut Session) -> anyhow::Result<()> {
        for &seat in &self.definition.counting_board {
            let mut member = self.seat(url, seat).await?;
            member.sync().await?;
            let asked = member
                .state
                .to_confirm
                .clone()
                .context("the board member is asked to confirm the count")?;
            member.confirm_count(asked.round, asked.count).await?;
            member.close().await;
        }
        chair.chair(ChairCommand::Announce).await?;
        Ok(())
    }
}

/// From the chair's console, opens a vote on `item`; each of `delegates`
/// votes the choice at its index in `choices` once it sees the round; the
/// chair closes it if `close`. Returns the round and the receipts.
pub async fn vote(
    chair: &mut Session,
    delegates: &mut [Session],
    item: u32,
    choices: &[Choice],
    close: bool,
) -> anyhow::Result<(RoundId, Vec<Receipt>)> {
    chair.chair(ChairCommand::SetItem { item }).await?;
    chair
        .chair(ChairCommand::Open {
            window_seconds: Some(300),
        })
        .await?;
    let round = chair.state.open_round().context("the round is open")?.id;
    let mut receipts = Vec::new();
    for (delegate, &choice) in delegates.iter_mut().zip(choices) {
        delegate
            .wait_until(|s| s.open_round().is_some_and(|r| r.id == round))
            .await?;
        receipts.push(delegate.cast(choice).await?);
    }
    if close {
        chair.chair(ChairCommand::Close).await?;
    }
    Ok((round, receipts))
}

/// Each seat's stored ballot in `round` (its sequence number and choice), as
/// the store at `database_url` holds it: what a test compares with the
/// receipts its tablets were given.
pub async fn stored_ballots(
    database_url: &str,
    round: RoundId,
) -> anyhow::Result<HashMap<SeatNo, (u64, Choice)>> {
    let store = Store::connect(database_url).await?;
    Ok(store
        .ballots(round)
        .await?
        .into_iter()
        .map(|b| (b.seat, (b.seq, b.vote.choice().expect("a choice"))))
        .collect())
}

/// Imports the example meeting into the store at `database_url` and
/// registers a fresh key for the chair and for each of its first `seats` seats.
pub async fn prepare_example(database_url: &str, seats: u32) -> anyhow::Result<Prepared> {
    prepare(database_url, EXAMPLE, &[], seats).await
}

/// Imports the meeting file `text` with its `documents` into the store at
/// `database_url` and registers a fresh key for the chair and for each of
/// its first `seats` seats.
pub async fn prepare(
    database_url: &str,
    text: &str,
    documents: &[NewDocument],
    seats: u32,
) -> anyhow::Result<Prepared> {
    let store = Store::connect(database_url).await?;
    let definition = MeetingDefinition::parse(text)?;
    let meeting = definition.id.clone();
    let seat_keys: Vec<SigningKey> = (1..=seats)
        .map(|_| SigningKey::generate(&mut rand::rngs::OsRng))
        .collect();
    let chair = SigningKey::generate(&mut rand::rngs::OsRng);
    store
        .import_meeting(&meeting, text, &public_keys(&seat_keys, &chair), documents)
        .await?;
    Ok(Prepared {
        meeting,
        definition,
        chair,
        seats: seat_keys,
    })
}

/// Cuts every connection that listens for the audience's published frames
/// (one per node that relays a meeting) on the PostgreSQL at
/// `database_url`, as a network fault or a restarted pooler would; how many.
pub async fn terminate_listeners(database_url: &str) -> anyhow::Result<i64> {
    let pool = sqlx::PgPool::connect(database_url).await?;
    let cut = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity
         WHERE query LIKE 'LISTEN %gavel_audience%' AND pg_terminate_backend(pid)",
    )
    .fetch_one(&pool)
    .await?;
    pool.close().await;
    Ok(cut)
}
