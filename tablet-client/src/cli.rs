//! The `gavel-tablet` command line: a delegate's tablet and the chair's
//! console in a terminal, over the same protocol as the web tablet.
//!
//! Each command is one function here: it loads the device's credentials,
//! logs in, does one thing and prints the outcome. Every word it prints comes
//! from `text`, in Vietnamese or English; the followers (`watch` and the
//! interactive `tablet`) print what changed through `feed` and reconnect by
//! themselves after a lost connection. Errors keep their [`ClientError`] up
//! to `main`, which prints them in the user's language with [`explain`].

mod feed;
mod text;

pub use text::Lang;

use anyhow::{Context as _, anyhow, bail, ensure};
use ed25519_dalek::SigningKey;
use feed::Feed;
use gavel_client::client::{Client, ClientError, Session};
use gavel_client::credentials::Credentials;
use gavel_client::published;
use gavel_client::reconnect::{Backoff, is_lost};
use gavel_client::tls::Trust;
use gavel_protocol::floor::{FloorKind, Guest, Speaker};
use gavel_protocol::messages::{ChairCommand, Receipt, Snapshot};
use gavel_protocol::paper::Vote;
use gavel_protocol::paper::{
    APPROVE, CONFIDENCE, HIGH_CONFIDENCE, KEEP_CONFIDENCE, LOW_CONFIDENCE, Mark, NO_CONFIDENCE,
    PaperKind,
};
use gavel_protocol::rules::Secrecy;
use gavel_protocol::{Choice, MeetingId, Principal, RoundId, Tracker};
use std::ops::ControlFlow;
use std::path::PathBuf;
use text::Text;
use tokio::io::AsyncBufReadExt as _;

/// Where to find a server when neither the command line nor the credentials say.
pub const DEFAULT_SERVER: &str = "ws://127.0.0.1:8080/ws";

/// What every command needs to know.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the device's key and enrollment are kept.
    pub credentials: PathBuf,
    /// The server's WebSocket address, when not the one enrolled with.
    pub server: Option<String>,
    /// Which certificates prove the server over `wss://`, when not those
    /// saved at enrollment (public authorities for a device not enrolled).
    pub trust: Option<Trust>,
    pub lang: Lang,
}

/// A chair's action. Items are counted from 1, as printed on the agenda;
/// the wire counts from 0.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum ChairAction {
    /// Put item N of the agenda on the floor (counted from 1)
    Item {
        #[arg(value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        number: u32,
    },
    /// Put the next agenda item on the floor
    Next,
    /// Open a vote on the item on the floor
    Open {
        /// How long the vote stays open, instead of the item's own setting
        #[arg(long, value_name = "SECONDS")]
        window: Option<u32>,
    },
    /// Give the open vote more time
    Extend { seconds: u32 },
    /// Close the open vote now; its result is committed and announced
    Close,
    /// Cancel the open vote: nothing is decided and the item may be voted on again
    Void,
    /// Hold the open vote: the clock stops and ballots are refused until it resumes
    Pause,
    /// Resume the held vote with the time it had left
    Resume,
    /// Announce the last secret vote's result once the counting board has confirmed it
    Announce,
    /// Print the agenda with each item's status and result
    Agenda,
    /// Give the floor to the next waiting request, or to request ID
    FloorGive {
        #[arg(value_name = "ID")]
        request: Option<u64>,
        /// A time limit for this turn instead of its kind's
        #[arg(long, value_name = "SECONDS")]
        limit: Option<u32>,
    },
    /// Move waiting request ID to place P of the queue (counted from 1)
    FloorMove {
        #[arg(value_name = "ID")]
        request: u64,
        #[arg(value_name = "P", value_parser = clap::value_parser!(u32).range(1..))]
        place: u32,
    },
    /// Add a speaker without a tablet to the queue
    FloorGuest { name: String, post: String },
    /// Hold the speaker's clock
    FloorPause,
    /// Start the speaker's clock again
    FloorResume,
    /// Give the speaker more time
    FloorTime { seconds: u32 },
    /// End the turn (a question is followed by its answer)
    FloorEnd,
    /// Put page P of a document (named by its SHA-256) before the hall
    Present {
        #[arg(value_name = "SHA256")]
        document: String,
        #[arg(value_name = "P", value_parser = clap::value_parser!(u32).range(1..))]
        page: u32,
    },
    /// Take the presented page down
    StopPresenting,
}

impl ChairAction {
    /// The wire command, or `None` for `agenda`, which only reads. Item
    /// numbers are checked here, against an agenda of `items` items, because
    /// the server's refusal would count from 0; the error is the missing number.
    fn command(&self, current: Option<u32>, items: usize) -> Result<Option<ChairCommand>, u32> {
        let set_item = |number: u32| match number.checked_sub(1) {
            Some(item) if (item as usize) < items => Ok(Some(ChairCommand::SetItem { item })),
            _ => Err(number),
        };
        match *self {
            ChairAction::Item { number } => set_item(number),
            ChairAction::Next => set_item(current.map_or(1, |item| item + 2)),
            ChairAction::Open { window } => Ok(Some(ChairCommand::Open {
                window_seconds: window,
            })),
            ChairAction::Extend { seconds } => Ok(Some(ChairCommand::Extend { seconds })),
            ChairAction::Close => Ok(Some(ChairCommand::Close)),
            ChairAction::Void => Ok(Some(ChairCommand::Void)),
            ChairAction::Pause => Ok(Some(ChairCommand::Pause)),
            ChairAction::Resume => Ok(Some(ChairCommand::Resume)),
            ChairAction::Announce => Ok(Some(ChairCommand::Announce)),
            ChairAction::Agenda => Ok(None),
            ChairAction::FloorGive { request, limit } => Ok(Some(ChairCommand::FloorGive {
                request,
                limit_seconds: limit,
            })),
            ChairAction::FloorMove { request, place } => Ok(Some(ChairCommand::FloorMove {
                request,
                place: place - 1,
            })),
            ChairAction::FloorGuest { ref name, ref post } => Ok(Some(ChairCommand::FloorAdd {
                kind: FloorKind::Speak,
                speaker: Speaker::Guest(Guest {
                    name: name.clone(),
                    post: post.clone(),
                }),
                respondent: None,
                topic: None,
            })),
            ChairAction::FloorPause => Ok(Some(ChairCommand::FloorPause)),
            ChairAction::FloorResume => Ok(Some(ChairCommand::FloorResume)),
            ChairAction::FloorTime { seconds } => Ok(Some(ChairCommand::FloorAddTime { seconds })),
            ChairAction::FloorEnd => Ok(Some(ChairCommand::FloorEnd)),
            ChairAction::Present { ref document, page } => Ok(Some(ChairCommand::Present {
                document: document.clone(),
                page,
            })),
            ChairAction::StopPresenting => Ok(Some(ChairCommand::StopPresenting)),
        }
    }
}

/// What a member of the counting board (Ban kiểm phiếu) does from the command line.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum BoardAction {
    /// Print the provisional count of the last secret vote, then sign it as
    /// confirmed, as the tablet does, once you say it matches the board's count
    Confirm {
        /// Confirm without asking (the count is still printed first)
        #[arg(long)]
        yes: bool,
    },
}

/// A delegate's request about the floor on the item under discussion.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum FloorAsk {
    /// Ask to speak in the debate (phát biểu)
    Speak {
        /// One line on what you will speak about
        #[arg(long)]
        topic: Option<String>,
    },
    /// Ask to reply to a speaker (tranh luận)
    Reply {
        #[arg(long)]
        topic: Option<String>,
    },
    /// In a question session, ask to question respondent N of the meeting's
    /// list (counted from 1)
    Question {
        #[arg(value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        respondent: u32,
        #[arg(long)]
        topic: Option<String>,
    },
    /// Withdraw your waiting request
    Withdraw,
}

/// Asks for the floor (or withdraws) on the item under discussion and
/// prints the place in the queue.
pub async fn floor(opts: &Options, ask: FloorAsk) -> anyhow::Result<()> {
    let lang = opts.lang;
    let device = Device::load(opts)?;
    device.require_delegate(lang)?;
    let mut session = device.log_in(lang).await?;
    let item = snapshot(&session)
        .current_item
        .ok_or_else(|| anyhow!(text::nothing_under_discussion(lang)))?;
    let (kind, respondent, topic) = match ask {
        FloorAsk::Speak { topic } => (FloorKind::Speak, None, topic),
        FloorAsk::Reply { topic } => (FloorKind::Reply, None, topic),
        FloorAsk::Question { respondent, topic } => {
            (FloorKind::Question, Some(respondent - 1), topic)
        }
        FloorAsk::Withdraw => {
            session.withdraw_floor(item).await?;
            println!("{}", text::withdrawn(lang));
            session.close().await;
            return Ok(());
        }
    };
    session.request_floor(item, kind, respondent, topic).await?;
    let Some(Principal::Seat(seat)) = session.principal else {
        unreachable!("a delegate's device, checked above")
    };
    // The queue reaches tablets a moment after the answer.
    let place = |s: &gavel_client::MeetingState| {
        let floor = s.floor.as_ref()?;
        let place = floor.places.iter().find(|p| p.seat == seat)?;
        Some((place.place, floor.waiting))
    };
    session.wait_until(|s| place(s).is_some()).await?;
    let (place, waiting) = place(&session.state).expect("waited for it");
    println!("{}", text::floor_place(place, waiting, lang));
    session.close().await;
    Ok(())
}

/// A counting board member confirms the provisional count of the last
/// secret round: the count the server asks this seat to confirm is printed
/// first, in the meeting's words, and signed only once the member says it
/// is the board's own count (or with `--yes`). The device signs the same
/// `count_confirmation` the tablet signs; a refusal is the server's, in the
/// user's language.
pub async fn board(opts: &Options, action: BoardAction) -> anyhow::Result<()> {
    let BoardAction::Confirm { yes } = action;
    let lang = opts.lang;
    let device = Device::load(opts)?;
    device.require_delegate(lang)?;
    let Principal::Seat(seat) = device.credentials.principal else {
        unreachable!("a delegate's device, checked above")
    };
    let mut session = device.log_in(lang).await?;
    let Some(asked) = session.state.to_confirm.clone() else {
        let members = session
            .state
            .round()
            .and_then(|r| r.board.as_ref())
            .map(|b| b.members.clone());
        session.close().await;
        bail!(text::nothing_to_confirm(seat, members.as_deref(), lang));
    };
    let item = session
        .state
        .round()
        .filter(|r| r.id == asked.round)
        .map(|r| r.item);
    println!(
        "{}",
        Text::new(&session.meeting, lang).count(item, &asked.count)
    );
    if !yes && !agrees(text::confirm_prompt(lang)).await? {
        session.close().await;
        bail!(text::not_confirmed(lang));
    }
    session.confirm_count(asked.round, asked.count).await?;
    // The board's state reaches this device with the next snapshot.
    let confirmed = |s: &gavel_client::MeetingState| {
        s.round()
            .and_then(|r| r.board.as_ref())
            .filter(|b| b.confirmed.iter().any(|c| c.seat == seat))
            .cloned()
    };
    session.wait_until(|s| confirmed(s).is_some()).await?;
    let board = confirmed(&session.state).expect("waited for it");
    println!("{}", text::count_confirmed(seat, &board, lang));
    session.close().await;
    Ok(())
}

/// Asks `question` on standard output and reads the answer from standard
/// input: yes ("c", "có", "y", "yes") or anything else, the end of the
/// input included, for no.
async fn agrees(question: &str) -> anyhow::Result<bool> {
    use std::io::Write as _;
    print!("{question} ");
    std::io::stdout()
        .flush()
        .context("writing to standard output")?;
    let line = tokio::io::BufReader::new(tokio::io::stdin())
        .lines()
        .next_line()
        .await
        .context("reading standard input")?
        .unwrap_or_default();
    Ok(matches!(
        line.trim().to_lowercase().as_str(),
        "c" | "có" | "co" | "y" | "yes"
    ))
}

/// Enrolls this device with a one-time code and saves its credentials.
pub async fn enroll(opts: &Options, code: &str, force: bool) -> anyhow::Result<()> {
    let (lang, path) = (opts.lang, &opts.credentials);
    // Checked before the code is spent: it works only once.
    ensure!(force || !path.exists(), text::would_overwrite(path, lang));
    let url = opts.server.as_deref().unwrap_or(DEFAULT_SERVER);
    // The private key is made here and never leaves this device.
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let trust = opts.trust.clone().unwrap_or_default();
    let mut client = connect(url, &trust, lang).await?;
    let (meeting, principal) = client.enroll(code, &key).await?;
    Credentials::new(
        url,
        meeting.clone(),
        principal,
        client.server_key(),
        trust,
        &key,
    )
    .save(path)?;
    // Logging in is how a device learns the meeting's title and its seat's name.
    let session = client.login(&meeting, &key).await?;
    println!("{}", Text::new(&session.meeting, lang).enrolled(principal));
    println!("{}", text::saved(path, lang));
    session.close().await;
    Ok(())
}

/// Prints the meeting's state once.
pub async fn status(opts: &Options) -> anyhow::Result<()> {
    let session = Device::load(opts)?.log_in(opts.lang).await?;
    print_status(&session, opts.lang);
    session.close().await;
    Ok(())
}

/// Follows the meeting until stopped, one line per change: as this device
/// when `meeting` is `None`, otherwise read-only without credentials.
pub async fn watch(opts: &Options, meeting: Option<MeetingId>) -> anyhow::Result<()> {
    let lang = opts.lang;
    let login = match meeting {
        Some(meeting) => Login::Watcher {
            url: opts
                .server
                .clone()
                .unwrap_or_else(|| DEFAULT_SERVER.to_owned()),
            trust: opts.trust.clone().unwrap_or_default(),
            meeting,
        },
        None => Login::Device(Box::new(Device::load(opts)?)),
    };
    let mut session = login.open(lang).await?;
    let mut feed = Feed::default();
    loop {
        print_lines(feed.update(&session, lang));
        if let Err(lost) = session.next().await {
            session = login.reopen(lost, lang).await?;
        }
    }
}

/// Reports this delegate present.
pub async fn check_in(opts: &Options) -> anyhow::Result<()> {
    let lang = opts.lang;
    let mut session = Device::load(opts)?.log_in(lang).await?;
    session.check_in().await?;
    println!(
        "{}",
        Text::new(&session.meeting, lang).checked_in(session.principal)
    );
    session.close().await;
    Ok(())
}

/// Casts `choice` in the open vote and prints the receipt.
pub async fn vote(opts: &Options, choice: Choice) -> anyhow::Result<()> {
    let lang = opts.lang;
    let device = Device::load(opts)?;
    device.require_delegate(lang)?;
    let mut session = device.log_in(lang).await?;
    let secret = open_round_is_secret(&session);
    let receipt = cast(&mut session, choice).await?;
    println!("{}", Text::new(&session.meeting, lang).receipt(&receipt));
    if secret {
        // Ed25519 is deterministic: signing the acknowledged ballot again
        // gives the signature the tracker is drawn from.
        let signature = session.sign_ballot(receipt.round, receipt.choice, receipt.seq)?;
        println!(
            "{}",
            text::tracker(&Tracker::of(&signature), receipt.round, lang)
        );
    }
    session.close().await;
    Ok(())
}

/// Whether the open round, if any, is secret: its ballots get a tracker.
fn open_round_is_secret(session: &Session) -> bool {
    session
        .state
        .open_round()
        .is_some_and(|r| r.settings.secrecy == Secrecy::Secret)
}

/// Looks a secret ballot's tracker up in its round's published list
/// (PROTOCOL.md §6.4), from the server this device enrolled with; with
/// `choice`, checks that it was counted as that. Fails when the list does
/// not hold it, or holds another choice, so that a script notices.
pub async fn check_ballot(
    opts: &Options,
    round: RoundId,
    tracker: Tracker,
    choice: Option<Choice>,
) -> anyhow::Result<()> {
    let lang = opts.lang;
    let device = Device::load(opts)?;
    let meeting = &device.credentials.meeting;
    let list = published::fetch(&device.trust, &device.url, meeting, round)
        .await?
        .map_err(|refused| anyhow!(text::list_refused(refused.reason, lang)))?;
    let cast = choice.map(Vote::Choice);
    let check = match &cast {
        Some(cast) => published::check(&list, &tracker, cast),
        None => match list.find(&tracker).and_then(|b| b.vote()) {
            Some(vote) => published::Check::CountedOtherwise(vote),
            None => published::Check::Missing,
        },
    };
    // The meeting's labels name the choices: they come with a login.
    let session = device.log_in(lang).await?;
    let said = Text::new(&session.meeting, lang).ballot_check(&check, cast.as_ref());
    session.close().await;
    match (&check, &cast) {
        (published::Check::Counted, _) | (published::Check::CountedOtherwise(_), None) => {
            println!("{said}");
            Ok(())
        }
        _ => bail!(said),
    }
}

/// Casts a paper in the open round, whose item must be on a list; each of
/// `marks` is `ENTRY=MARK` (see `gavel-tablet paper --help`).
pub async fn paper(opts: &Options, marks: &[String]) -> anyhow::Result<()> {
    let lang = opts.lang;
    let device = Device::load(opts)?;
    device.require_delegate(lang)?;
    let mut session = device.log_in(lang).await?;
    let list = session
        .state
        .open_round()
        .and_then(|r| session.meeting.agenda.get(r.item as usize)?.paper.clone())
        .ok_or_else(|| anyhow!(text::no_list(lang)))?;
    let marks = marks
        .iter()
        .map(|m| parse_mark(list.kind, m).ok_or_else(|| anyhow!(text::bad_mark(m, lang))))
        .collect::<anyhow::Result<Vec<Mark>>>()?;
    if !session.state.checked_in {
        session.check_in().await?;
    }
    let receipt = session.cast_paper(list.kind, marks).await?;
    println!(
        "{}",
        Text::new(&session.meeting, lang).paper_receipt(&receipt)
    );
    session.close().await;
    Ok(())
}

/// One `ENTRY=MARK` of the command line as a mark on a paper of `kind`:
/// the entry is 1-based as printed, the mark a word of the kind or its code.
fn parse_mark(kind: PaperKind, text: &str) -> Option<Mark> {
    let (entry, mark) = text.split_once('=')?;
    let entry = entry.trim().parse::<u16>().ok()?.checked_sub(1)?;
    let mark = match (kind, mark.trim().to_lowercase().as_str()) {
        (PaperKind::Election, "x" | "yes") => APPROVE,
        (PaperKind::Rating, "high" | "cao") => HIGH_CONFIDENCE,
        (PaperKind::Rating, "confidence" | "tin") => CONFIDENCE,
        (PaperKind::Rating, "low" | "thap") => LOW_CONFIDENCE,
        (PaperKind::NoConfidence, "keep" | "tin") => KEEP_CONFIDENCE,
        (PaperKind::NoConfidence, "no" | "khong") => NO_CONFIDENCE,
        (_, code) => code.parse().ok()?,
    };
    Some(Mark { entry, mark })
}

/// An interactive tablet on the terminal: live updates, and one-letter
/// commands read from standard input until `q` or its end.
pub async fn tablet(opts: &Options) -> anyhow::Result<()> {
    let lang = opts.lang;
    let device = Device::load(opts)?;
    device.require_delegate(lang)?;
    let login = Login::Device(Box::new(device));
    let mut session = login.open(lang).await?;
    let mut feed = Feed::default();
    print_lines(feed.update(&session, lang));
    println!("{}", Text::new(&session.meeting, lang).keys());
    let mut input = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    loop {
        // Both branches are cancel-safe: a frame or a line is either taken
        // whole or left for the next turn.
        let outcome = tokio::select! {
            frame = session.next() => frame.map(|_| ControlFlow::Continue(())),
            line = input.next_line() => match line.context("reading standard input")? {
                Some(line) => press(&mut session, &feed, &line, lang).await,
                None => Ok(ControlFlow::Break(())),
            },
        };
        match outcome {
            Ok(ControlFlow::Continue(())) => {}
            Ok(ControlFlow::Break(())) => break,
            Err(lost) => session = login.reopen(lost, lang).await?,
        }
        print_lines(feed.update(&session, lang));
    }
    session.close().await;
    Ok(())
}

/// Carries out a chair's action and prints the state it leaves (or the agenda).
pub async fn chair(opts: &Options, action: ChairAction) -> anyhow::Result<()> {
    let lang = opts.lang;
    let mut session = Device::load(opts)?.log_in(lang).await?;
    let items = session.meeting.agenda.len();
    let command = action
        .command(snapshot(&session).current_item, items)
        .map_err(|number| anyhow!(text::no_such_item(number, items, lang)))?;
    if let Some(command) = command {
        session.chair(command).await?;
        // Asked for, not awaited: the broadcast of the new state may trail the answer.
        session.sync().await?;
    }
    if action == ChairAction::Agenda {
        println!(
            "{}",
            Text::new(&session.meeting, lang).agenda(snapshot(&session))
        );
    } else {
        print_status(&session, lang);
    }
    session.close().await;
    Ok(())
}

/// An error in the user's language, with its causes. A client error's
/// message already includes its source, so the chain stops there.
pub fn explain(error: &anyhow::Error, lang: Lang) -> String {
    let mut parts = Vec::new();
    for cause in error.chain() {
        if let Some(e) = cause.downcast_ref::<ClientError>() {
            parts.push(text::client_error(e, lang));
            break;
        }
        parts.push(cause.to_string());
    }
    parts.join(": ")
}

/// An enrolled device: a delegate's tablet or the chair's console.
struct Device {
    url: String,
    trust: Trust,
    credentials: Credentials,
    key: SigningKey,
}

impl Device {
    fn load(opts: &Options) -> anyhow::Result<Device> {
        let credentials = Credentials::load(&opts.credentials)?;
        let key = credentials.key()?;
        let url = opts
            .server
            .clone()
            .unwrap_or_else(|| credentials.server.clone());
        let trust = opts
            .trust
            .clone()
            .unwrap_or_else(|| credentials.trust.clone());
        Ok(Device {
            url,
            trust,
            credentials,
            key,
        })
    }

    /// Fails before connecting when the credentials are the chair's: the
    /// chair has no seat and so no ballot.
    fn require_delegate(&self, lang: Lang) -> anyhow::Result<()> {
        match self.credentials.principal {
            Principal::Seat(_) => Ok(()),
            Principal::Chair => bail!(text::chair_cannot_vote(lang)),
        }
    }

    /// Logs in, first checking that the server holds the key seen at
    /// enrollment, since receipts are only worth something under that key.
    /// The sync that follows makes sure a delegate's own state (checked in,
    /// ballot) has arrived before anything is printed or decided.
    async fn log_in(&self, lang: Lang) -> anyhow::Result<Session> {
        let client = connect(&self.url, &self.trust, lang).await?;
        ensure!(
            client.server_key() == self.credentials.server_key,
            text::server_key_changed(lang)
        );
        let mut session = client.login(&self.credentials.meeting, &self.key).await?;
        session.sync().await?;
        Ok(session)
    }
}

/// How a follower gets its session, again after every lost connection.
enum Login {
    /// Boxed: a signing key makes a device ten times larger than a watcher.
    Device(Box<Device>),
    /// Read-only, as the hall screen and the public follow a meeting.
    Watcher {
        url: String,
        trust: Trust,
        meeting: MeetingId,
    },
}

impl Login {
    async fn open(&self, lang: Lang) -> anyhow::Result<Session> {
        match self {
            Login::Device(device) => device.log_in(lang).await,
            Login::Watcher {
                url,
                trust,
                meeting,
            } => Ok(connect(url, trust, lang).await?.watch(meeting).await?),
        }
    }

    /// Opens a new session after `error` ended the last one, if it was a lost
    /// connection, waiting a growing, jittered delay before each attempt. Any
    /// other error, and any refusal of a new login, is final.
    async fn reopen(&self, error: ClientError, lang: Lang) -> anyhow::Result<Session> {
        if !is_lost(&error) {
            return Err(error.into());
        }
        let mut backoff = Backoff::default();
        let mut reason = text::client_error(&error, lang);
        let mut attempt = 0;
        loop {
            let delay = backoff.next_delay();
            eprintln!("{}", text::connection_lost(&reason, attempt, delay, lang));
            tokio::time::sleep(delay).await;
            match self.open(lang).await {
                Ok(session) => {
                    eprintln!("{}", text::reconnected(lang));
                    return Ok(session);
                }
                Err(e) if e.downcast_ref::<ClientError>().is_some_and(is_lost) => {
                    reason = explain(&e, lang);
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// A line typed on the interactive tablet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Vote(Choice),
    CheckIn,
    Status,
    Help,
    Quit,
}

impl std::str::FromStr for Key {
    type Err = ();

    fn from_str(line: &str) -> Result<Key, ()> {
        match line.trim().to_lowercase().as_str() {
            "c" => Ok(Key::CheckIn),
            "s" => Ok(Key::Status),
            "?" => Ok(Key::Help),
            "q" => Ok(Key::Quit),
            other => other.parse().map(Key::Vote).map_err(|_| ()),
        }
    }
}

/// Acts on one line typed on the tablet. Refusals are printed and the
/// tablet carries on; only a lost connection (or a broken server) is an error.
async fn press(
    session: &mut Session,
    feed: &Feed,
    line: &str,
    lang: Lang,
) -> Result<ControlFlow<()>, ClientError> {
    if line.trim().is_empty() {
        return Ok(ControlFlow::Continue(()));
    }
    let said = match line.parse::<Key>() {
        Err(()) => text::unknown_key(line.trim(), lang),
        Ok(Key::Quit) => return Ok(ControlFlow::Break(())),
        Ok(Key::Help) => Text::new(&session.meeting, lang).keys(),
        Ok(Key::Status) => Text::new(&session.meeting, lang).status(
            &session.state,
            session.principal,
            feed.server_now(),
        ),
        Ok(Key::CheckIn) => match session.check_in().await {
            Ok(()) => Text::new(&session.meeting, lang).checked_in(session.principal),
            Err(e) => unless_lost(e, lang)?,
        },
        Ok(Key::Vote(choice)) => match cast(session, choice).await {
            Ok(receipt) => Text::new(&session.meeting, lang).receipt(&receipt),
            Err(e) => unless_lost(e, lang)?,
        },
    };
    println!("{said}");
    Ok(ControlFlow::Continue(()))
}

/// The words for an error the tablet can carry on after; the error itself
/// when it ended the connection.
fn unless_lost(error: ClientError, lang: Lang) -> Result<String, ClientError> {
    if is_lost(&error) {
        Err(error)
    } else {
        Ok(text::client_error(&error, lang))
    }
}

/// Casts a ballot, checking in first where needed: a delegate pressing a
/// button is evidently in the hall, and the vote may require it.
async fn cast(session: &mut Session, choice: Choice) -> Result<Receipt, ClientError> {
    if !session.state.checked_in {
        session.check_in().await?;
    }
    session.cast(choice).await
}

async fn connect(url: &str, trust: &Trust, lang: Lang) -> anyhow::Result<Client> {
    Client::connect_trusting(url, trust)
        .await
        .with_context(|| text::cannot_connect(url, lang))
}

/// The meeting's live state; every session starts with one.
fn snapshot(session: &Session) -> &Snapshot {
    session
        .state
        .snapshot
        .as_ref()
        .expect("a session opens with a snapshot")
}

/// The status block, timed by the snapshot just received.
fn print_status(session: &Session, lang: Lang) {
    let now = snapshot(session).server_time;
    println!(
        "{}",
        Text::new(&session.meeting, lang).status(&session.state, session.principal, now)
    );
}

fn print_lines(lines: Vec<String>) {
    for line in lines {
        println!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gavel_protocol::RefusalReason;

    #[test]
    fn chair_items_count_from_one_for_people_and_from_zero_on_the_wire() {
        let item = |number| ChairAction::Item { number }.command(None, 7);
        assert_eq!(item(1), Ok(Some(ChairCommand::SetItem { item: 0 })));
        assert_eq!(item(7), Ok(Some(ChairCommand::SetItem { item: 6 })));
        assert_eq!(item(8), Err(8));
        assert_eq!(item(0), Err(0));
    }

    #[test]
    fn floor_places_count_from_one_for_people_and_from_zero_on_the_wire() {
        let moved = ChairAction::FloorMove {
            request: 7,
            place: 1,
        };
        assert_eq!(
            moved.command(None, 7),
            Ok(Some(ChairCommand::FloorMove {
                request: 7,
                place: 0
            }))
        );
        let guest = ChairAction::FloorGuest {
            name: "Hoàng Văn Nam".into(),
            post: "Chánh án".into(),
        };
        let Ok(Some(ChairCommand::FloorAdd { kind, speaker, .. })) = guest.command(None, 7) else {
            panic!("a guest is added to the queue");
        };
        assert_eq!(kind, FloorKind::Speak);
        assert_eq!(
            speaker,
            Speaker::Guest(Guest {
                name: "Hoàng Văn Nam".into(),
                post: "Chánh án".into()
            })
        );
        let give = ChairAction::FloorGive {
            request: None,
            limit: Some(90),
        };
        assert_eq!(
            give.command(None, 7),
            Ok(Some(ChairCommand::FloorGive {
                request: None,
                limit_seconds: Some(90)
            }))
        );
    }

    #[test]
    fn next_starts_at_the_first_item_and_stops_after_the_last() {
        assert_eq!(
            ChairAction::Next.command(None, 7),
            Ok(Some(ChairCommand::SetItem { item: 0 }))
        );
        assert_eq!(
            ChairAction::Next.command(Some(2), 7),
            Ok(Some(ChairCommand::SetItem { item: 3 }))
        );
        assert_eq!(ChairAction::Next.command(Some(6), 7), Err(8));
        assert_eq!(ChairAction::Agenda.command(Some(6), 7), Ok(None));
        assert_eq!(
            ChairAction::Open { window: Some(90) }.command(Some(6), 7),
            Ok(Some(ChairCommand::Open {
                window_seconds: Some(90)
            }))
        );
    }

    #[test]
    fn the_chair_presents_a_page_counted_from_one() {
        #[derive(clap::Parser)]
        struct Chair {
            #[command(subcommand)]
            action: ChairAction,
        }
        let hash = "3f".repeat(32);
        let parsed = <Chair as clap::Parser>::try_parse_from(["chair", "present", &hash, "3"]);
        assert_eq!(
            parsed.unwrap().action.command(None, 7),
            Ok(Some(ChairCommand::Present {
                document: hash.clone(),
                page: 3
            }))
        );
        assert!(<Chair as clap::Parser>::try_parse_from(["chair", "present", &hash, "0"]).is_err());
        let stop = <Chair as clap::Parser>::try_parse_from(["chair", "stop-presenting"]);
        assert_eq!(
            stop.unwrap().action.command(None, 7),
            Ok(Some(ChairCommand::StopPresenting))
        );
    }

    #[test]
    fn tablet_keys() {
        assert_eq!("y".parse(), Ok(Key::Vote(Choice::Yes)));
    }

    #[test]
    fn marks_on_the_command_line_are_one_based_and_worded_by_kind() {
        let m = |entry, mark| Some(Mark { entry, mark });
        assert_eq!(
            parse_mark(PaperKind::Rating, "1=thap"),
            m(0, LOW_CONFIDENCE)
        );
        assert_eq!(
            parse_mark(PaperKind::Rating, "30=High"),
            m(29, HIGH_CONFIDENCE)
        );
        assert_eq!(parse_mark(PaperKind::Election, "2=x"), m(1, APPROVE));
        assert_eq!(
            parse_mark(PaperKind::NoConfidence, "3=khong"),
            m(2, NO_CONFIDENCE)
        );
        // A code is sent as it is, for the server to refuse if it must.
        assert_eq!(parse_mark(PaperKind::Rating, "2=4"), m(1, 4));
        assert_eq!(parse_mark(PaperKind::Election, "0=x"), None);
        assert_eq!(parse_mark(PaperKind::Election, "1=low"), None);
        assert_eq!(" N \n".parse(), Ok(Key::Vote(Choice::No)));
        assert_eq!("abstain".parse(), Ok(Key::Vote(Choice::Abstain)));
        assert_eq!("c".parse(), Ok(Key::CheckIn));
        assert_eq!("?".parse(), Ok(Key::Help));
        assert_eq!("Q".parse(), Ok(Key::Quit));
        assert_eq!("x".parse::<Key>(), Err(()));
    }

    #[test]
    fn explain_translates_the_client_error_at_the_root() {
        let error = anyhow::Error::from(ClientError::Refused {
            reason: RefusalReason::NotCheckedIn,
            message: "check in before voting".into(),
        })
        .context("vote");
        assert_eq!(
            explain(&error, Lang::Vi),
            "vote: Bị từ chối: cần điểm danh trước khi biểu quyết"
        );
    }
}
