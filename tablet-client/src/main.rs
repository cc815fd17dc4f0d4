//! `gavel-tablet`: a delegate's tablet and the chair's console on the
//! command line. This file only reads the arguments, sets up logging and
//! hands over to [`cli`], which is built on the client library
//! (`gavel-client`).

mod cli;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use cli::{BoardAction, ChairAction, Lang, Options};
use gavel_client::Trust;
use gavel_protocol::{Choice, Fingerprint, MeetingId, RoundId, Tracker};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "gavel-tablet",
    version,
    about = "Gavel's tablet and chair console on the command line"
)]
struct Args {
    /// The file holding this device's key and enrollment
    #[arg(
        long,
        global = true,
        env = "GAVEL_TABLET_CREDENTIALS",
        default_value = "gavel-tablet.json"
    )]
    credentials: PathBuf,
    /// The server's WebSocket address [default: the one enrolled with, else ws://127.0.0.1:8080/ws]
    #[arg(long, global = true, env = "GAVEL_SERVER", value_name = "URL")]
    server: Option<String>,
    /// Over wss://, accept only the server certificate with this SHA-256
    /// fingerprint (the one `gavel serve` prints); saved at enrollment
    #[arg(
        long,
        global = true,
        env = "GAVEL_FINGERPRINT",
        value_name = "HEX",
        conflicts_with = "ca"
    )]
    fingerprint: Option<Fingerprint>,
    /// Over wss://, accept server certificates signed by the CA in this PEM
    /// file; saved at enrollment
    #[arg(long, global = true, env = "GAVEL_CA", value_name = "FILE")]
    ca: Option<PathBuf>,
    /// The language of the messages
    #[arg(long, global = true, value_enum, default_value = "vi")]
    lang: Lang,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Enroll this device with a one-time code from the secretary
    Enroll {
        #[arg(long)]
        code: String,
        /// Replace existing credentials
        #[arg(long)]
        force: bool,
    },
    /// Print the meeting's state once
    Status,
    /// Follow the meeting live, one line per change, until Ctrl-C
    Watch {
        /// Follow this meeting read-only, without credentials
        #[arg(long, value_parser = MeetingId::parse)]
        meeting: Option<MeetingId>,
    },
    /// Check in as present
    CheckIn,
    /// Vote in the open round: yes, no or abstain (or y, n, a)
    Vote { choice: Choice },
    /// Cast a paper in the open round on a list, one mark per candidate or
    /// official as ENTRY=MARK, entries numbered from 1 as the list shows
    /// them: an election's mark is `x`; a rating's `high`, `confidence` or
    /// `low` (`cao`, `tin`, `thap`); a no-confidence vote's `keep` or `no`
    /// (`tin`, `khong`). Entries left out are blank.
    Paper { marks: Vec<String> },
    /// Check a secret ballot in its round's published list, once the result
    /// is out, by the tracker `vote` printed with the receipt
    CheckBallot {
        #[arg(long, value_parser = RoundId::from_hex)]
        round: RoundId,
        #[arg(long, value_parser = Tracker::from_hex)]
        tracker: Tracker,
        /// The choice cast, to check that it was counted as such
        #[arg(long)]
        choice: Option<Choice>,
    },
    /// Ask for the floor on the item under discussion, or withdraw
    Floor {
        #[command(subcommand)]
        ask: cli::FloorAsk,
    },
    /// An interactive tablet: live updates, and one-letter commands on standard input
    Tablet,
    /// The counting board's business (a member's credentials only)
    Board {
        #[command(subcommand)]
        action: BoardAction,
    },
    /// Run the meeting (the chair's credentials only)
    Chair {
        #[command(subcommand)]
        action: ChairAction,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    // A CA file is saved with the credentials, so it is kept as an
    // absolute path: later commands may run from another directory.
    let trust = match (args.fingerprint, args.ca) {
        (Some(fingerprint), _) => Some(Trust::Fingerprint(fingerprint)),
        (None, Some(ca)) => Some(Trust::CaFile(std::path::absolute(&ca).unwrap_or(ca))),
        (None, None) => None,
    };
    let opts = Options {
        credentials: args.credentials,
        server: args.server,
        trust,
        lang: args.lang,
    };
    let result = match args.command {
        Command::Enroll { code, force } => cli::enroll(&opts, &code, force).await,
        Command::Status => cli::status(&opts).await,
        Command::Watch { meeting } => until_ctrl_c(cli::watch(&opts, meeting)).await,
        Command::CheckIn => cli::check_in(&opts).await,
        Command::Vote { choice } => cli::vote(&opts, choice).await,
        Command::Paper { marks } => cli::paper(&opts, &marks).await,
        Command::CheckBallot {
            round,
            tracker,
            choice,
        } => cli::check_ballot(&opts, round, tracker, choice).await,
        Command::Floor { ask } => cli::floor(&opts, ask).await,
        Command::Tablet => until_ctrl_c(cli::tablet(&opts)).await,
        Command::Board { action } => cli::board(&opts, action).await,
        Command::Chair { action } => cli::chair(&opts, action).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("gavel-tablet: {}", cli::explain(&error, opts.lang));
            ExitCode::FAILURE
        }
    }
}

/// Ctrl-C is how a follower is meant to stop, so it ends the command successfully.
async fn until_ctrl_c(follow: impl Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    tokio::select! {
        result = follow => result,
        signal = tokio::signal::ctrl_c() => signal.context("listening for Ctrl-C"),
    }
}
