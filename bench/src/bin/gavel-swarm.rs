//! `gavel-swarm`: runs one benchmark scenario or baseline and reports it.
//! Parsing only; the work is in the `gavel_bench` library.

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use gavel_bench::failover::{self, FailoverRun};
use gavel_bench::floor::FloorRun;
use gavel_bench::papers::{self, PapersRun};
use gavel_bench::process::{DocumentFile, GavelProcess};
use gavel_bench::relay::{self, RelayRun};
use gavel_bench::report::Report;
use gavel_bench::swarm::{self, Scenario, Target};
use gavel_bench::{baseline, download, floor, measure};
use gavel_tests::roster::Roster;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "gavel-swarm",
    about = "Simulated tablets against a Gavel server, and the baselines they are measured against"
)]
struct Cli {
    /// Also write the report as JSON to this file.
    #[arg(long, global = true)]
    json: Option<PathBuf>,
    /// The `gavel` binary to start (default: next to this one).
    #[arg(long, global = true)]
    gavel: Option<PathBuf>,
    /// PostgreSQL URL for the server's store (and for `baseline-store`);
    /// without it the server uses SQLite in a scratch directory.
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Each tablet checks the server's signature on one receipt in N (0:
    /// none). A real tablet checks every one; the benchmark checks 1 in 10,
    /// so that the swarm takes less of the cores it shares with the server.
    #[arg(long, value_name = "N", default_value_t = 1, global = true)]
    verify_receipts: u32,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Holds N idle connections; reports the server's memory per connection.
    Idle {
        #[arg(long)]
        tablets: u32,
        /// How long the connections are held before memory is read.
        #[arg(long, default_value_t = 2.0)]
        settle: f64,
    },
    /// All tablets vote within one span; then the chair closes the round.
    Burst {
        #[arg(long)]
        tablets: u32,
        #[arg(long, default_value_t = 1000)]
        within_ms: u64,
    },
    /// An offered load of R ballots/s from every tablet for D seconds.
    Sustained {
        #[arg(long)]
        tablets: u32,
        #[arg(long)]
        rate: f64,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
    },
    /// Tally updates timed from emission to the last tablet, driven by a few voters.
    Fanout {
        #[command(flatten)]
        fanout: FanoutArgs,
    },
    /// Public viewers on a second node that does not host the meeting (two
    /// nodes on PostgreSQL: needs --database-url), tally updates timed from
    /// the host to the last viewer; driven by a few voters on the host.
    Relay {
        #[arg(long)]
        viewers: u32,
        #[arg(long, default_value_t = 20)]
        voters: u32,
        /// Ballots per second the voters cast together.
        #[arg(long, default_value_t = 200.0)]
        rate: f64,
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
    },
    /// The meeting's node killed in each of KILLS bursts of ballots and
    /// started again (two nodes on PostgreSQL: needs --database-url): kill
    /// to the new owner's first acknowledgement, and no acknowledged ballot
    /// lost or counted twice.
    Failover {
        #[arg(long, default_value_t = 20)]
        kills: usize,
        /// Seats voting, at most the example meeting's 40.
        #[arg(long, default_value_t = 20)]
        tablets: u32,
        /// Ballots each tablet casts per burst, the last after the kill.
        #[arg(long, default_value_t = 3)]
        votes: u64,
        /// The nodes' lease term: how long a dead node's meeting waits.
        #[arg(long, default_value_t = 4000)]
        lease_term_ms: u64,
    },
    /// Fan-out with one extra tablet that stops reading.
    SlowReader {
        #[command(flatten)]
        fanout: FanoutArgs,
    },
    /// Requests for the floor timed to the chair's queue, then turns given
    /// and ended at a steady pace, each change timed to every tablet.
    Floor {
        #[arg(long)]
        tablets: u32,
        /// How many tablets ask for the floor, one after another.
        #[arg(long, default_value_t = 50)]
        requests: u32,
        #[arg(long, default_value_t = 20)]
        request_every_ms: u64,
        /// Turns given and ended (at most one per request).
        #[arg(long, default_value_t = 25)]
        turns: u32,
        /// Milliseconds between changes of the floor (a turn given, then ended).
        #[arg(long, default_value_t = 100)]
        change_every_ms: u64,
        /// Writes a delegate's frame of the middle change here, for
        /// `baseline-broadcast --frame`.
        #[arg(long)]
        frame_sample: Option<PathBuf>,
    },
    /// Check-in: every tablet fetches the meeting's documents while the
    /// tablets vote together; with `--no-downloads`, the same vote alone.
    Checkin {
        #[arg(long)]
        tablets: u32,
        #[command(flatten)]
        documents: DocumentArgs,
        /// Ballots per second the tablets cast together.
        #[arg(long, default_value_t = 100.0)]
        rate: f64,
        /// The vote alone, for this long: the baseline of its acknowledgements.
        #[arg(long)]
        no_downloads: bool,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
    },
    /// The same documents fetched by as many clients from a plain
    /// static-file server: the floor for downloads.
    BaselineStatic {
        #[arg(long)]
        tablets: u32,
        #[command(flatten)]
        documents: DocumentArgs,
    },
    /// The static-file server that `baseline-static` starts and measures.
    #[command(hide = true)]
    StaticServer {
        #[arg(long)]
        dir: PathBuf,
    },
    /// Every tablet casts one signed confidence paper of N officials in a
    /// secret round, after a secret yes/no round from the same tablets as
    /// its baseline; each timed from open to the last acknowledgement and
    /// from close to the result at the last tablet.
    Papers {
        #[arg(long)]
        tablets: u32,
        #[arg(long, default_value_t = 30)]
        officials: u16,
        /// A counting board of the first N seats, which confirms each count
        /// before the chair announces it (0: no board).
        #[arg(long, default_value_t = 3)]
        board: u32,
        /// Each tablet casts at a random moment within this span of seeing the round.
        #[arg(long, default_value_t = 1000)]
        within_ms: u64,
    },
    /// A minimal tokio-tungstenite broadcaster: the floor for fan-out.
    BaselineBroadcast {
        #[arg(long)]
        clients: u32,
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Milliseconds between frames: give the pace of the Gavel fan-out
        /// run it is compared with (scripts/bench does). Default: Gavel's
        /// shortest tally tick.
        #[arg(long, default_value_t = swarm::TALLY_TICK.as_millis() as u64)]
        interval_ms: u64,
        /// Sends this frame (a `floor` frame that `floor --frame-sample`
        /// wrote), its version and clock renewed each time, instead of a tally.
        #[arg(long)]
        frame: Option<PathBuf>,
    },
    /// The broadcaster process that `baseline-broadcast` starts and measures.
    #[command(hide = true)]
    Broadcaster {
        #[arg(long)]
        clients: u32,
        #[arg(long)]
        seconds: f64,
        #[arg(long)]
        interval_ms: u64,
        #[arg(long)]
        frame: Option<PathBuf>,
    },
    /// `verify_strict` throughput on as many threads as the machine has cores.
    BaselineVerify {
        /// Default: the machine's cores, which the server also uses.
        #[arg(long)]
        threads: Option<usize>,
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
    },
    /// Batched inserts into a scratch table: the ceiling for durable commits.
    /// Takes `--database-url` (postgres://... or sqlite://...).
    BaselineStore {
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
    },
}

#[derive(clap::Args)]
struct FanoutArgs {
    #[arg(long)]
    tablets: u32,
    /// How many of the tablets vote to cause the updates.
    #[arg(long, default_value_t = 20)]
    voters: u32,
    /// Ballots per second the voters cast together.
    #[arg(long, default_value_t = 200.0)]
    rate: f64,
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
}

/// The meeting's document set, made for the run: random bytes in PDFs, so
/// that nothing on the way compresses them.
#[derive(clap::Args)]
struct DocumentArgs {
    #[arg(long, default_value_t = 12)]
    documents: u32,
    /// Mebibytes per document.
    #[arg(long, default_value_t = 5.0)]
    document_mib: f64,
}

impl DocumentArgs {
    fn files(&self) -> Vec<DocumentFile> {
        download::document_set(self.documents, (self.document_mib * 1048576.0) as usize)
    }
}

impl FanoutArgs {
    fn scenario(&self, slow_reader: bool) -> Scenario {
        Scenario::Load {
            tablets: self.tablets,
            voters: self.voters,
            rate: self.rate,
            duration: Duration::from_secs_f64(self.seconds),
            slow_reader,
        }
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let limit = measure::raise_fd_limit().context("raising the open-file limit")?;
    let runtime = tokio::runtime::Runtime::new()?;
    // The broadcaster process of `baseline-broadcast` measures nothing itself.
    let Some(report) = runtime.block_on(run(&cli, limit))? else {
        return Ok(());
    };
    print!("{}", report.summary());
    if let Some(path) = &cli.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// What runs against a `gavel` server started for it.
enum Job {
    Swarm(Scenario),
    Floor(FloorRun),
    /// A scenario on a meeting whose first item carries these documents.
    Documents(Scenario, Vec<DocumentFile>),
    Papers(PapersRun),
}

impl Job {
    fn seats(&self) -> u32 {
        match self {
            Job::Swarm(scenario) | Job::Documents(scenario, _) => scenario.seats(),
            Job::Floor(run) => run.tablets,
            Job::Papers(run) => run.tablets,
        }
    }

    /// The meeting the server is given, with `roster`'s keys.
    fn definition(&self, roster: &Roster) -> String {
        match self {
            Job::Papers(run) => papers::definition(roster, run),
            Job::Swarm(_) | Job::Floor(_) | Job::Documents(..) => roster.definition(),
        }
    }
}

async fn run(cli: &Cli, fd_limit: libc::rlim_t) -> anyhow::Result<Option<Report>> {
    let job = Job::Swarm(match &cli.command {
        Command::Idle { tablets, settle } => Scenario::Idle {
            tablets: *tablets,
            settle: Duration::from_secs_f64(*settle),
        },
        Command::Burst { tablets, within_ms } => Scenario::Burst {
            tablets: *tablets,
            within: Duration::from_millis(*within_ms),
        },
        Command::Sustained {
            tablets,
            rate,
            seconds,
        } => Scenario::Load {
            tablets: *tablets,
            voters: *tablets,
            rate: *rate,
            duration: Duration::from_secs_f64(*seconds),
            slow_reader: false,
        },
        Command::Floor {
            tablets,
            requests,
            request_every_ms,
            turns,
            change_every_ms,
            frame_sample,
        } => {
            return on_server(
                cli,
                fd_limit,
                Job::Floor(FloorRun {
                    tablets: *tablets,
                    requests: *requests,
                    request_every: Duration::from_millis(*request_every_ms),
                    turns: *turns,
                    change_every: Duration::from_millis(*change_every_ms),
                    sample: frame_sample.clone(),
                }),
            )
            .await
            .map(Some);
        }
        Command::Checkin {
            tablets,
            documents,
            rate,
            no_downloads,
            seconds,
        } => {
            let scenario = Scenario::Checkin {
                tablets: *tablets,
                rate: *rate,
                duration: Duration::from_secs_f64(*seconds),
                downloads: !no_downloads,
            };
            return on_server(cli, fd_limit, Job::Documents(scenario, documents.files()))
                .await
                .map(Some);
        }
        Command::BaselineStatic { tablets, documents } => {
            let program = std::env::current_exe()?;
            return download::baseline_static(&program, *tablets, &documents.files())
                .await
                .map(Some);
        }
        Command::StaticServer { dir } => {
            download::static_server(dir).await?;
            return Ok(None);
        }
        Command::Papers {
            tablets,
            officials,
            board,
            within_ms,
        } => {
            let run = PapersRun {
                tablets: *tablets,
                officials: *officials,
                board: (*board).min(*tablets),
                within: Duration::from_millis(*within_ms),
            };
            return on_server(cli, fd_limit, Job::Papers(run)).await.map(Some);
        }
        Command::Relay {
            viewers,
            voters,
            rate,
            seconds,
        } => {
            let url = cli
                .database_url
                .as_deref()
                .context("relay runs two nodes on PostgreSQL: give --database-url")?;
            anyhow::ensure!(
                u64::from(*viewers) + 64 < fd_limit,
                "{viewers} viewers need more open files than the limit of {fd_limit}"
            );
            let run = RelayRun {
                viewers: *viewers,
                voters: *voters,
                rate: *rate,
                duration: Duration::from_secs_f64(*seconds),
            };
            return relay::run(&gavel_binary(cli)?, url, run).await.map(Some);
        }
        Command::Failover {
            kills,
            tablets,
            votes,
            lease_term_ms,
        } => {
            let url = cli
                .database_url
                .as_deref()
                .context("failover runs two nodes on PostgreSQL: give --database-url")?;
            let run = FailoverRun {
                kills: *kills,
                tablets: *tablets,
                votes: *votes,
                lease_term_ms: *lease_term_ms,
            };
            return failover::run(&gavel_binary(cli)?, url, run).await.map(Some);
        }
        Command::Fanout { fanout } => fanout.scenario(false),
        Command::SlowReader { fanout } => fanout.scenario(true),
        Command::BaselineBroadcast {
            clients,
            seconds,
            interval_ms,
            frame,
        } => {
            let program = std::env::current_exe()?;
            return baseline::baseline_broadcast(
                &program,
                *clients,
                Duration::from_secs_f64(*seconds),
                Duration::from_millis((*interval_ms).max(1)),
                frame.as_deref(),
            )
            .await
            .map(Some);
        }
        Command::Broadcaster {
            clients,
            seconds,
            interval_ms,
            frame,
        } => {
            baseline::broadcaster(
                *clients,
                Duration::from_secs_f64(*seconds),
                Duration::from_millis((*interval_ms).max(1)),
                frame.as_deref(),
            )
            .await?;
            return Ok(None);
        }
        Command::BaselineVerify { threads, seconds } => {
            let threads = threads.unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
            });
            let seconds = Duration::from_secs_f64(*seconds);
            return Ok(Some(
                tokio::task::spawn_blocking(move || baseline::baseline_verify(threads, seconds))
                    .await?,
            ));
        }
        Command::BaselineStore { batch, seconds } => {
            let url = cli
                .database_url
                .as_deref()
                .context("baseline-store needs --database-url")?;
            return baseline::baseline_store(url, *batch, Duration::from_secs_f64(*seconds))
                .await
                .map(Some);
        }
    });
    on_server(cli, fd_limit, job).await.map(Some)
}

/// The `gavel` binary to start: `--gavel`, or the one next to this binary.
fn gavel_binary(cli: &Cli) -> anyhow::Result<PathBuf> {
    Ok(match &cli.gavel {
        Some(path) => path.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("the swarm's directory")?
            .join("gavel"),
    })
}

/// Starts a `gavel` server with a roster for `job`, and runs it there.
async fn on_server(cli: &Cli, fd_limit: libc::rlim_t, job: Job) -> anyhow::Result<Report> {
    // Each tablet is a socket here and one in the server.
    anyhow::ensure!(
        u64::from(job.seats()) + 64 < fd_limit,
        "{} tablets need more open files than the limit of {fd_limit}",
        job.seats()
    );
    let gavel = gavel_binary(cli)?;
    let roster = Roster::generate(job.seats());
    let definition = job.definition(&roster);
    let documents = match &job {
        Job::Documents(_, documents) => documents.as_slice(),
        _ => &[],
    };
    let server = tokio::task::block_in_place(|| {
        GavelProcess::start(
            &gavel,
            &roster,
            &definition,
            documents,
            cli.database_url.as_deref(),
        )
    })?;
    let target = Target {
        url: &server.url,
        roster: &roster,
        chair_code: Some(&server.chair_code),
        server_pid: Some(server.pid()),
        verify_receipts: cli.verify_receipts,
    };
    match job {
        Job::Swarm(scenario) | Job::Documents(scenario, _) => swarm::run(&target, scenario).await,
        Job::Floor(run) => floor::run(&target, run).await,
        Job::Papers(run) => papers::run(&target, run).await,
    }
}
