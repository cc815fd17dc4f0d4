//! The real `gavel` binary, started as an operator starts it (settings from
//! flags, environment or a file), and the example meeting prepared for it
//! with a key registered for every seat and the chair, as a roster import
//! with public keys does.
//!
//! The binary's path comes from the test (`env!("CARGO_BIN_EXE_gavel")`,
//! which only the server crate's own tests have).

use anyhow::Context as _;
use ed25519_dalek::SigningKey;
use gavel_client::{Client, Session};
use gavel_protocol::messages::{ChairCommand, Receipt};
use gavel_protocol::rules::Secrecy;
use gavel_protocol::{Choice, MeetingId, Principal, PublicKey, RoundId};
use gavel_server::meeting::{EXAMPLE, MeetingDefinition};
use gavel_server::store::Store;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// A running `gavel serve`.
pub struct Gavel {
    child: Child,
    /// `host:port` of the hall's listener.
    pub addr: String,
    /// `host:port` of the metrics listener, if it has one.
    pub metrics_addr: Option<String>,
    log: Arc<Mutex<Vec<String>>>,
    reader: Option<JoinHandle<()>>,
}

impl Gavel {
    /// Starts `command` (a `gavel serve`), with its log on a pipe, and waits
    /// until it says where it listens (and, with `metrics`, where its metrics
    /// listener is). Its stdout is dropped.
    pub fn start(mut command: Command, metrics: bool) -> anyhow::Result<Gavel> {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting gavel")?;
        let mut lines = BufReader::new(child.stderr.take().expect("piped")).lines();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (mut addr, mut metrics_addr) = (None, None);
        while addr.is_none() || (metrics && metrics_addr.is_none()) {
            let Some(line) = lines.next() else {
                let status = child.wait()?;
                anyhow::bail!(
                    "gavel exited ({status}) before listening:\n{}",
                    log.lock().unwrap().join("\n")
                );
            };
            let line = line?;
            if let Some(a) = listening_address(&line, "gavel listening") {
                addr = Some(a);
            } else if let Some(a) = listening_address(&line, "metrics listening") {
                metrics_addr = Some(a);
            }
            log.lock().unwrap().push(line);
        }
        // Keep reading, so that the server never blocks on a full pipe.
        let reader = std::thread::spawn({
            let log = log.clone();
            move || {
                for line in lines.map_while(Result::ok) {
                    log.lock().unwrap().push(line);
                }
            }
        });
        Ok(Gavel {
            child,
            addr: addr.expect("read above"),
            metrics_addr,
            log,
            reader: Some(reader),
        })
    }

    /// The WebSocket URL of the hall's listener.
    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Every line logged so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Stops the server with SIGTERM, as systemd does, and waits for it; the
    /// log is then complete.
    pub fn terminate(&mut self) -> anyhow::Result<ExitStatus> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        anyhow::ensure!(status.success(), "kill -TERM failed");
        let exit = self.child.wait()?;
        if let Some(reader) = self.reader.take() {
            reader.join().expect("log reader");
        }
        Ok(exit)
    }
}

impl Drop for Gavel {
    fn drop(&mut self) {
        if self.reader.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The address in a "gavel listening" (or "metrics listening") line, logged
/// as text (`... gavel listening addr=127.0.0.1:8080`) or as JSON
/// (`{"message":"gavel listening","addr":"127.0.0.1:8080",...}`).
fn listening_address(line: &str, message: &str) -> Option<String> {
    if let Ok(serde_json::Value::Object(event)) = serde_json::from_str(line) {
        return (event.get("message")?.as_str()? == message)
            .then(|| event.get("addr")?.as_str().map(str::to_owned))
            .flatten();
    }
    let (_, addr) = line.split_once(&format!("{message} addr="))?;
    Some(addr.trim().to_owned())
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

/// Imports the example meeting into the store at `database_url` and
/// registers a fresh key for the chair and for each of its first `seats` seats.
pub async fn prepare_example(database_url: &str, seats: u32) -> anyhow::Result<Prepared> {
    let store = Store::connect(database_url).await?;
    let definition = MeetingDefinition::parse(EXAMPLE)?;
    let meeting = definition.id.clone();
    store.put_meeting(&meeting, EXAMPLE).await?;
    let mut keys = Vec::new();
    for seat in 1..=seats {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        store
            .put_key(&meeting, Principal::Seat(seat), &PublicKey::of(&key))
            .await?;
        keys.push(key);
    }
    let chair = SigningKey::generate(&mut rand::rngs::OsRng);
    store
        .put_key(&meeting, Principal::Chair, &PublicKey::of(&chair))
        .await?;
    Ok(Prepared {
        meeting,
        definition,
        chair,
        seats: keys,
    })
}
