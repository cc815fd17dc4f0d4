//! The `gavel` command: serve a hub, import meetings, issue enrollment codes,
//! back up the store, export and verify a meeting's record, run the demo.
//! Parsing and setup only; the work is in the libraries.

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use gavel_protocol::{MeetingId, Principal, PublicKey, SeatNo};
use gavel_server::config::{FileSettings, LogFormat, Overrides, Settings};
use gavel_server::demo::{self, DemoOptions};
use gavel_server::export::{self, MinutesOptions};
use gavel_server::meeting::MeetingDefinition;
use gavel_server::store::Store;
use gavel_server::tls::ServerTls;
use gavel_server::{app, enrollment};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "gavel",
    version,
    about = "Gavel: real-time voting for councils and assemblies"
)]
struct Cli {
    /// A settings file (TOML; deploy/gavel.toml shows every setting).
    #[arg(long, env = "GAVEL_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Where the SQLite database and the server's key live.
    #[arg(long, env = "GAVEL_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// PostgreSQL URL (postgres://...); without it, SQLite in the data directory.
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// "text" for people, "json" for a log collector (one object per line).
    #[arg(long, env = "GAVEL_LOG_FORMAT", global = true, value_enum)]
    log_format: Option<LogFormat>,
    /// Connections one address may hold at once (default 64); raise it behind a reverse proxy.
    #[arg(long, env = "GAVEL_CONNECTIONS_PER_ADDRESS", global = true)]
    connections_per_address: Option<usize>,
    /// A browser origin, besides the server's own, whose pages may connect (repeatable).
    #[arg(
        long = "allowed-origin",
        env = "GAVEL_ALLOWED_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    allowed_origins: Vec<String>,
    /// A site whose pages may embed the public page in a frame, e.g.
    /// https://hdnd.example.gov.vn (repeatable; the apps are never framed).
    #[arg(
        long = "public-frame-ancestor",
        env = "GAVEL_PUBLIC_FRAME_ANCESTORS",
        value_delimiter = ',',
        global = true
    )]
    public_frame_ancestors: Vec<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the hub.
    Serve {
        #[arg(long, env = "GAVEL_LISTEN")]
        listen: Option<SocketAddr>,
        /// Where to serve /metrics for Prometheus (plain HTTP, apart from the
        /// hall's listener), e.g. 127.0.0.1:9464.
        #[arg(long, env = "GAVEL_METRICS_LISTEN")]
        metrics_listen: Option<SocketAddr>,
        /// On PostgreSQL, how long this node's leases last unless renewed,
        /// in milliseconds: how long its meetings wait for another node if
        /// it dies (default 4000, at least 500).
        #[arg(long, env = "GAVEL_LEASE_TERM_MS")]
        lease_term_ms: Option<u64>,
        #[command(flatten)]
        tls: TlsArgs,
        #[command(flatten)]
        ready: ReadyArgs,
    },
    /// Manages meetings in the store.
    Meeting {
        #[command(subcommand)]
        command: MeetingCommand,
    },
    /// Prints one-time enrollment codes for seats and the chair's console,
    /// or with --admin for the secretariat's devices (the /admin/ app).
    Codes {
        #[arg(long, required_unless_present = "admin")]
        meeting: Option<MeetingId>,
        /// Codes for the secretariat, which prepares every meeting: not tied
        /// to one, so no --meeting.
        #[arg(long, conflicts_with_all = ["meeting", "seats", "chair"])]
        admin: bool,
        /// How many secretariat codes to issue (with --admin).
        #[arg(long, default_value_t = 1, requires = "admin")]
        count: u32,
        /// Seats to issue codes for, e.g. "1-40" or "3,7,12" (default: every seat).
        #[arg(long)]
        seats: Option<String>,
        /// Also issue a code for the chair's console.
        #[arg(long)]
        chair: bool,
        /// How long the codes stay valid.
        #[arg(long, default_value_t = 24)]
        ttl_hours: u32,
    },
    /// Writes a consistent copy of the SQLite store, also while the server runs.
    ///
    /// A PostgreSQL store is backed up with pg_dump instead (docs/operations.md).
    Backup {
        /// The copy to write; it must not exist yet.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Writes a meeting's record: the bundle `gavel verify` checks
    /// (MEETING.record.json), the results table (MEETING.results.csv) and
    /// the printable minutes (MEETING.minutes.vi.html, MEETING.minutes.en.html).
    Export {
        #[arg(long)]
        meeting: MeetingId,
        /// The directory to write into (created if missing).
        #[arg(long, value_name = "DIR", default_value = ".")]
        out: PathBuf,
        /// The meeting's offset from UTC in minutes, for the times in the minutes.
        #[arg(long, default_value_t = 420, allow_negative_numbers = true)]
        utc_offset_minutes: i32,
        /// Where the minutes are signed, printed before their date.
        #[arg(long)]
        place: Option<String>,
        /// Leave out the national heading (for bodies that are not state bodies).
        #[arg(long)]
        no_national_heading: bool,
        /// The chair's name under the signature line.
        #[arg(long)]
        chair_name: Option<String>,
        /// The secretary's name under the signature line.
        #[arg(long)]
        secretary_name: Option<String>,
        /// Also copy every version of the agenda items' documents into
        /// DIR/documents/, each named by its SHA-256, for `gavel verify` to check.
        #[arg(long)]
        documents: bool,
    },
    /// Checks an exported record with nothing but the file: exit 0 if every
    /// signature, tally and chain link holds, 1 with each mismatch printed,
    /// 2 if the file is not a readable record. With `--tracker`, also looks
    /// a secret ballot up in the published lists: exit 1 if it is not there.
    Verify {
        bundle: PathBuf,
        /// A secret ballot's tracker (32 hex digits), as the delegate's
        /// device shows it.
        #[arg(long)]
        tracker: Option<String>,
    },
    /// Runs a live demo session: the example meeting with simulated tablets.
    Demo {
        #[arg(long, env = "GAVEL_LISTEN")]
        listen: Option<SocketAddr>,
        /// How many seats get a simulated tablet (default: all).
        #[arg(long)]
        tablets: Option<u32>,
        /// Leave the chair to you: prints the chair's enrollment code.
        #[arg(long)]
        manual_chair: bool,
        /// The voting window the simulated chair opens with, in seconds.
        #[arg(long, default_value_t = 30)]
        window: u32,
        #[command(flatten)]
        ready: ReadyArgs,
    },
}

/// Telling the program that started the server where it listens.
#[derive(clap::Args)]
struct ReadyArgs {
    /// Once listening, write the bound addresses to this file as JSON, e.g.
    /// {"listen":"127.0.0.1:41234","metrics":"127.0.0.1:41235"} ("metrics"
    /// only with --metrics-listen). Written whole (a temporary file renamed
    /// into place) and not removed at exit. For a script or test that starts
    /// the server on port 0 (docs/operations.md).
    #[arg(long, value_name = "PATH")]
    ready_file: Option<PathBuf>,
}

/// HTTPS and WSS, served by Gavel itself.
#[derive(clap::Args)]
struct TlsArgs {
    /// The TLS certificate chain (PEM), for HTTPS and WSS; needs --tls-key.
    #[arg(long, env = "GAVEL_TLS_CERT", value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, env = "GAVEL_TLS_KEY", value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// HTTPS and WSS with a self-signed certificate, made once in the data
    /// directory; its fingerprint is printed at every start for the devices to pin.
    #[arg(long, env = "GAVEL_TLS_SELF_SIGNED", conflicts_with = "tls_cert")]
    tls_self_signed: bool,
    /// A name or address the self-signed certificate also covers (repeatable).
    #[arg(
        long = "tls-name",
        env = "GAVEL_TLS_NAMES",
        value_delimiter = ',',
        value_name = "NAME"
    )]
    tls_names: Vec<String>,
}

#[derive(Subcommand)]
enum MeetingCommand {
    /// Checks a meeting definition file and stores it; nothing is stored if it has a mistake.
    Import { file: PathBuf },
    /// Lists the meetings in the store.
    List,
}

fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    if let Command::Verify { bundle, tracker } = &cli.command {
        return Ok(verify(bundle, tracker.as_deref()));
    }
    let file = match &cli.config {
        Some(path) => FileSettings::load(path)?,
        None => FileSettings::default(),
    };
    let (listen, default_listen, data_dir, ready_file) = match &cli.command {
        Command::Serve { listen, ready, .. } => (
            *listen,
            "0.0.0.0:8080",
            cli.data_dir.clone(),
            ready.ready_file.clone(),
        ),
        Command::Demo { listen, ready, .. } => (
            *listen,
            "127.0.0.1:8080",
            cli.data_dir
                .clone()
                .or_else(|| Some(PathBuf::from("gavel-demo-data"))),
            ready.ready_file.clone(),
        ),
        _ => (None, "0.0.0.0:8080", cli.data_dir.clone(), None),
    };
    let mut flags = Overrides {
        listen,
        data_dir,
        database_url: cli.database_url.clone(),
        log_format: cli.log_format,
        connections_per_address: cli.connections_per_address,
        allowed_origins: cli.allowed_origins.clone(),
        public_frame_ancestors: cli.public_frame_ancestors.clone(),
        ready_file,
        ..Overrides::default()
    };
    if let Command::Serve {
        tls,
        metrics_listen,
        lease_term_ms,
        ..
    } = &cli.command
    {
        flags.metrics_listen = *metrics_listen;
        flags.lease_term_ms = *lease_term_ms;
        flags.tls_cert = tls.tls_cert.clone();
        flags.tls_key = tls.tls_key.clone();
        flags.tls_self_signed = tls.tls_self_signed;
        flags.tls_names = tls.tls_names.clone();
    }
    let settings = Settings::resolve(
        file,
        flags,
        default_listen.parse().expect("default address"),
    );
    init_tracing(settings.log_format);
    let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
    runtime.block_on(run(cli.command, settings))?;
    Ok(ExitCode::SUCCESS)
}

/// `gavel verify`: needs no settings, no store and no server.
fn verify(path: &Path, tracker: Option<&str>) -> ExitCode {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("cannot read {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let bundle = match gavel_records::bundle::Bundle::from_json(&text) {
        Ok(bundle) => bundle,
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let mut mismatches = gavel_records::verify::verify(&bundle);
    // The copies `gavel export --documents` put beside the bundle, if any.
    let folder = path
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join("documents");
    let (copies, changed) = gavel_records::verify::verify_documents(&bundle, &folder);
    mismatches.extend(changed);
    if mismatches.is_empty() {
        let ballots: usize = bundle.rounds.iter().map(|r| r.ballots.len()).sum();
        let by_hand = bundle.rounds.iter().filter(|r| r.by_hand.is_some()).count();
        println!(
            "ok: {} verifies: {} rounds ({by_hand} recorded by hand), {ballots} signed ballots, \
             {} document versions ({copies} copies checked), {} audit entries, head signed by \
             server key {}",
            bundle.meeting,
            bundle.rounds.len(),
            bundle.documents.len(),
            bundle.chain.len(),
            bundle.server_key.to_hex()
        );
        return match tracker {
            Some(tracker) => find_tracker(&bundle, tracker),
            None => ExitCode::SUCCESS,
        };
    }
    for m in &mismatches {
        println!("mismatch: {m}");
    }
    println!(
        "{}: {} mismatch(es); this record is not the one the server signed",
        path.display(),
        mismatches.len()
    );
    ExitCode::from(1)
}

/// `gavel verify --tracker`: the secret round whose published list holds
/// the tracker, and the choice (or paper) under it.
fn find_tracker(bundle: &gavel_records::bundle::Bundle, tracker: &str) -> ExitCode {
    let Ok(tracker) = gavel_protocol::Tracker::from_hex(tracker) else {
        eprintln!("{tracker:?} is not a tracker: 32 hex digits");
        return ExitCode::from(2);
    };
    let found = bundle.rounds.iter().find_map(|round| {
        let vote = round.secret.as_ref()?.find(&tracker)?;
        Some((round, vote))
    });
    match found {
        Some((round, vote)) => {
            println!(
                "found: tracker {tracker} is in round {} (item {}), counted as {}",
                round.id,
                round.item,
                gavel_records::verify::describe(&vote)
            );
            ExitCode::SUCCESS
        }
        None => {
            println!("not found: no secret round of this record lists tracker {tracker}");
            ExitCode::from(1)
        }
    }
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    // Colours only on a terminal: a log file or a journal gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        // One object per line, the event's fields beside `message` (not
        // nested), so that a collector indexes `meeting`, `round` and `seat`
        // as they are.
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve { .. } => {
            let (_lock, mut options) = settings.serving()?;
            if let Some(tls) = settings.server_tls()? {
                announce_fingerprint(&tls, &settings);
                options.tls = Some(tls.config);
            }
            let store = Store::connect(&settings.database_url)
                .await
                .context("opening the store")?;
            let listener = app::listen(settings.listen)
                .with_context(|| format!("listening on {}", settings.listen))?;
            app::run(
                listener,
                store,
                settings.server_key()?,
                options,
                shutdown_on_signal(),
            )
            .await
        }
        Command::Demo {
            tablets,
            manual_chair,
            window,
            ..
        } => {
            let options = DemoOptions {
                tablets,
                manual_chair,
                window_seconds: window,
            };
            demo::run(settings, options, shutdown_on_signal()).await
        }
        Command::Meeting {
            command: MeetingCommand::Import { file },
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let definition = MeetingDefinition::parse(&text)
                .with_context(|| format!("in {}", file.display()))?;
            settings.prepare_data_dir()?;
            let store = Store::connect(&settings.database_url).await?;
            let keys: Vec<(Principal, PublicKey)> = definition
                .seats
                .iter()
                .filter_map(|seat| Some((Principal::Seat(seat.number), seat.public_key?)))
                .collect();
            let base = file.parent().unwrap_or(Path::new("."));
            let documents = gavel_server::documents::read(&definition, base)
                .with_context(|| format!("importing {}: a document is refused", file.display()))?;
            store
                .import_meeting(&definition.id, &text, &keys, &documents)
                .await
                .with_context(|| format!("importing {}", file.display()))?;
            println!(
                "Imported {} ({}): {} seats, {} agenda items, {} documents.",
                definition.id,
                definition.title,
                definition.seats.len(),
                definition.agenda.len(),
                documents.len()
            );
            Ok(())
        }
        Command::Export {
            meeting,
            out,
            utc_offset_minutes,
            place,
            no_national_heading,
            chair_name,
            secretary_name,
            documents,
        } => {
            // The server's own key, never a new one: a bundle signed by
            // another key would not match the receipts the tablets hold.
            let key_file = settings.data_dir.join("server.key");
            anyhow::ensure!(
                key_file.exists(),
                "no server key at {}; export with the --data-dir of the server that ran the meeting",
                key_file.display()
            );
            let store = Store::connect(&settings.database_url).await?;
            let options = MinutesOptions {
                utc_offset_minutes,
                place,
                national_heading: !no_national_heading,
                signatories: gavel_records::minutes::Signatories {
                    chair: chair_name,
                    secretary: secretary_name,
                },
            };
            let written = export::write(
                &store,
                &settings.server_key()?,
                &meeting,
                &out,
                &options,
                documents,
            )
            .await?;
            store.close().await;
            for path in [
                &written.bundle,
                &written.results,
                &written.minutes_vi,
                &written.minutes_en,
            ]
            .into_iter()
            .chain(&written.documents)
            {
                println!("{}", path.display());
            }
            Ok(())
        }
        Command::Verify { .. } => unreachable!("verify runs before the settings are read"),
        Command::Backup { out } => {
            let store = Store::connect(&settings.database_url).await?;
            store
                .backup_into(&out)
                .await
                .with_context(|| format!("backing up to {}", out.display()))?;
            // Read back, so that a copy that cannot be opened is noticed now.
            let copy = Store::connect(&format!("sqlite://{}", out.display()))
                .await
                .with_context(|| format!("reading the copy {}", out.display()))?;
            let meetings = copy.meetings().await?;
            copy.close().await;
            store.close().await;
            println!(
                "Backed up {} meeting(s) to {}.",
                meetings.len(),
                out.display()
            );
            if meetings.is_empty() {
                eprintln!(
                    "warning: the store at {} holds no meeting; is this the right data directory?",
                    settings.database_url
                );
            }
            Ok(())
        }
        Command::Meeting {
            command: MeetingCommand::List,
        } => {
            let store = Store::connect(&settings.database_url).await?;
            for meeting in store.meetings().await? {
                let title = MeetingDefinition::parse(&meeting.definition)
                    .map(|d| d.title)
                    .unwrap_or_default();
                println!("{}\t{title}", meeting.id);
            }
            Ok(())
        }
        Command::Codes {
            meeting,
            admin,
            count,
            seats,
            chair,
            ttl_hours,
        } => {
            let store = Store::connect(&settings.database_url).await?;
            let Some(meeting) = meeting.filter(|_| !admin) else {
                let codes = enrollment::issue_secretariat(&store, count, ttl_hours).await?;
                println!("Secretariat codes, valid {ttl_hours} h, one use each:");
                for code in codes {
                    println!("{code}  secretariat (/admin/)");
                }
                return Ok(());
            };
            let stored = store
                .meetings()
                .await?
                .into_iter()
                .find(|m| m.id == meeting)
                .with_context(|| format!("no meeting {meeting} in the store; import it first"))?;
            let definition = MeetingDefinition::parse(&stored.definition)?;
            let mut principals = Vec::new();
            if chair {
                principals.push(Principal::Chair);
            }
            let numbers: Vec<SeatNo> = match seats {
                Some(list) => parse_seat_list(&list)?,
                None => definition.seats.iter().map(|s| s.number).collect(),
            };
            for n in numbers {
                definition
                    .seat(n)
                    .with_context(|| format!("meeting {meeting} has no seat {n}"))?;
                principals.push(Principal::Seat(n));
            }
            let codes = enrollment::issue(&store, &meeting, &principals, ttl_hours).await?;
            println!("Enrollment codes for {meeting}, valid {ttl_hours} h, one use each:");
            for (principal, code) in codes {
                let who = match principal {
                    Principal::Chair => "chair's console".to_owned(),
                    Principal::Seat(n) => {
                        format!(
                            "seat {n:>3}  {}",
                            definition.seat(n).map_or("", |s| s.name.as_str())
                        )
                    }
                };
                println!("{code}  {who}");
            }
            Ok(())
        }
    }
}

/// Prints the certificate's fingerprint where the secretary sees it, and
/// logs it: devices that pin it accept no other server.
fn announce_fingerprint(tls: &ServerTls, settings: &Settings) {
    tracing::info!(fingerprint = %tls.fingerprint, "TLS certificate (SHA-256)");
    println!("TLS certificate fingerprint (SHA-256), to check on each device:");
    println!("  {}", tls.fingerprint);
    println!(
        "Enroll a device with: gavel-tablet enroll --server wss://HOST:{}/ws --fingerprint {} --code CODE",
        settings.listen.port(),
        tls.fingerprint
    );
}

/// Seat lists as a secretary writes them: "1-5,8,10-12".
fn parse_seat_list(list: &str) -> anyhow::Result<Vec<SeatNo>> {
    let mut seats = Vec::new();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let parse = |s: &str| {
            s.trim()
                .parse::<SeatNo>()
                .with_context(|| format!("{s:?} is not a seat number"))
        };
        match part.split_once('-') {
            Some((from, to)) => seats.extend(parse(from)?..=parse(to)?),
            None => seats.push(parse(part)?),
        }
    }
    Ok(seats)
}

/// A token cancelled on Ctrl-C or SIGTERM, for a graceful stop.
fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("installing the SIGTERM handler");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("stopping: finishing commits and closing connections");
        cancel.cancel();
    });
    token
}
