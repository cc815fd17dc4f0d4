//! `gavel-swarm`: many simulated tablets over real WebSockets, each with its
//! own key, signing real ballots, to measure a Gavel server against the
//! machine's own limits.
//!
//! Map of the module:
//! - [`Roster`]: a generated meeting of N seats, with a fresh key per seat
//!   and for the chair, written as a meeting definition file whose seats
//!   carry their public keys (the roster import path of `gavel meeting import`).
//! - [`GavelProcess`]: a `gavel serve` started for one run, on a scratch data
//!   directory (SQLite) or a given PostgreSQL database, after importing the
//!   roster and issuing the chair's enrollment code with `gavel` itself, so
//!   that the swarm needs no access to the server's internals.
//! - [`run`] and [`Scenario`]: the chair opens a vote, the tablets log in and
//!   run one scenario (idle connections, a burst, a sustained load, fan-out
//!   latency, fan-out with a tablet that stops reading); [`tablet`] is the
//!   one loop every tablet runs, reading every frame and timing what it
//!   measures. Ballots are signed before the run ([`presign`]), so that the
//!   swarm's CPU during it goes to talking to the server; the report gives
//!   the CPU time of server and swarm per acknowledged ballot.
//! - Baselines, measured by the same binary on the same machine:
//!   [`baseline_broadcast`] (a minimal tokio-tungstenite broadcaster, the
//!   floor for fan-out), [`baseline_verify`] (`verify_strict` on every core,
//!   the floor for signature checks), [`baseline_store`] (batched inserts
//!   through sqlx, the ceiling for durable commits).
//! - [`Report`]: what a run measured, as a human summary and as JSON.
//!
//! Times are wall-clock Unix time where they cross the server (the
//! `server_time_us` of a `tally` frame, in microseconds, against the
//! kernel's receive stamp), so swarm and server must share a clock (the
//! same machine).

use crate::client::{Client, ClientError, READ_BUFFER, Session, Socket, arrivals, open_socket};
use crate::tls::Trust;
use crate::view::ViewCache;
use anyhow::Context as _;
use ed25519_dalek::{Signer, SigningKey};
use futures_util::{SinkExt, StreamExt, stream};
use gavel_protocol::messages::{ChairCommand, LiveTally, RoundStatus};
use gavel_protocol::{
    Choice, ClientMsg, Counts, MeetingId, PublicKey, RoundId, ServerMsg, Signature,
};
use serde::Serialize;
use std::io::{BufRead, BufReader, Write as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};
use tokio::io::AsyncBufReadExt as _;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::{Instant, sleep, sleep_until};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;

/// Names a file that keeps the log of the `gavel serve` a run starts (at the
/// level `RUST_LOG` gives, `info` by default), to see where a run's time
/// went; without it the log is read only for the listening address.
pub const SERVER_LOG_ENV: &str = "GAVEL_SWARM_SERVER_LOG";
/// How many tablets log in at once: enough to connect 10,000 in seconds,
/// few enough not to overflow the server's accept queue.
const LOGINS_IN_FLIGHT: usize = 64;
/// The server coalesces tally updates at most this often while ballots come
/// in slowly: the baseline broadcaster's pace unless told another.
pub const TALLY_TICK: Duration = Duration::from_millis(25);
/// How long tablets keep reading after a load's measured span, before they
/// close: longer than a tally takes to reach 10,000 tablets.
const DRAIN: Duration = Duration::from_secs(1);
/// How long a run may wait for the last acknowledgement or result.
const GIVE_UP: Duration = Duration::from_secs(60);
const CHOICES: [Choice; 3] = [Choice::Yes, Choice::No, Choice::Abstain];

/// Now, in Unix milliseconds.
fn now_ms() -> u64 {
    unix_ms(SystemTime::now())
}

fn unix_ms(at: SystemTime) -> u64 {
    unix_us(at) / 1000
}

/// Now, in Unix microseconds (the clock a tally's `server_time_us` is read
/// from).
fn now_us() -> u64 {
    unix_us(SystemTime::now())
}

fn unix_us(at: SystemTime) -> u64 {
    at.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// When a frame reached its socket (`arrived`, from the kernel); now, if
/// the kernel did not stamp it (its timestamping turns on a moment after
/// the first socket asks), which is later, never earlier, than the truth.
fn arrival(arrived: Option<SystemTime>) -> SystemTime {
    arrived.unwrap_or_else(SystemTime::now)
}

/// Milliseconds from `from` to `to` (none if `to` is earlier).
fn ms_between(from: SystemTime, to: SystemTime) -> f64 {
    to.duration_since(from).unwrap_or_default().as_secs_f64() * 1000.0
}

/// Raises this process's soft limit on open files to its hard limit (10,000
/// tablets are 10,000 sockets); a `gavel serve` started from here inherits it.
/// Returns the limit now in force.
pub fn raise_fd_limit() -> std::io::Result<libc::rlim_t> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        limit.rlim_cur = limit.rlim_max;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(limit.rlim_cur)
}

/// CPU time (user and system) of this process and of the server's, from
/// /proc (Linux), in seconds.
#[derive(Debug, Clone, Copy)]
struct Cpu {
    swarm: Option<f64>,
    server: Option<f64>,
}

impl Cpu {
    fn read(server: Option<u32>) -> Cpu {
        Cpu {
            swarm: cpu_seconds("self"),
            server: server.and_then(|pid| cpu_seconds(&pid.to_string())),
        }
    }
}

/// utime + stime of `/proc/<pid>/stat`, in seconds.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after it do not.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf only reads a system setting.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (per_second > 0).then(|| ticks as f64 / per_second as f64)
}

/// A process's resident memory, from /proc (Linux), in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A generated meeting with a key for every seat and for the chair.
pub struct Roster {
    pub meeting: MeetingId,
    pub seats: Vec<SigningKey>,
    pub chair: SigningKey,
}

impl Roster {
    pub fn generate(seats: u32) -> Roster {
        let mut rng = rand::rngs::OsRng;
        let meeting = MeetingId::parse(&format!("swarm-{:016x}", rand::random::<u64>()))
            .expect("a valid meeting id");
        Roster {
            meeting,
            seats: (0..seats).map(|_| SigningKey::generate(&mut rng)).collect(),
            chair: SigningKey::generate(&mut rng),
        }
    }

    /// The meeting definition file: one named vote with interim totals that
    /// allows changing a vote (a sustained load re-votes) and needs no check-in.
    pub fn definition(&self) -> String {
        let mut toml = format!(
            "id = \"{}\"\ntitle = \"Swarm of {n} tablets\"\nbody = \"Gavel benchmark\"\n\
             total_seats = {n}\n\n[vote_defaults]\n\
             rule = {{ base = \"all_seats\", threshold = \"more_than_half\" }}\n\
             secrecy = \"named\"\ninterim = \"totals\"\nallow_change = true\n\
             require_check_in = false\nwindow_seconds = 3600\n",
            self.meeting,
            n = self.seats.len()
        );
        for (i, key) in self.seats.iter().enumerate() {
            toml.push_str(&format!(
                "\n[[seats]]\nnumber = {}\nname = \"Tablet {}\"\npublic_key = \"{}\"\n",
                i + 1,
                i + 1,
                PublicKey::of(key).to_hex()
            ));
        }
        toml.push_str(
            "\n[[topics]]\ntitle = \"Benchmark\"\n\n[[topics.items]]\n\
             kind = \"proposal\"\ntitle = \"Swarm vote\"\n",
        );
        toml
    }
}

/// A `gavel serve` started for one run; killed when dropped.
pub struct GavelProcess {
    child: Child,
    pub url: String,
    /// The one-time code the chair's key enrolls with.
    pub chair_code: String,
    _data_dir: tempfile::TempDir,
}

impl GavelProcess {
    /// Imports `roster` with `gavel meeting import`, issues the chair's code
    /// with `gavel codes`, and starts `gavel serve` on a free port with no
    /// per-address connection limit (every tablet comes from 127.0.0.1).
    /// Without `database_url` the store is SQLite in a scratch directory.
    pub fn start(
        gavel: &Path,
        roster: &Roster,
        database_url: Option<&str>,
    ) -> anyhow::Result<GavelProcess> {
        let dir = tempfile::tempdir()?;
        let log_file = std::env::var_os(SERVER_LOG_ENV).map(std::path::PathBuf::from);
        // Quiet unless the log is kept: only the line with the address is read.
        let log_filter = match &log_file {
            Some(_) => std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned()),
            None => "gavel_server::app=info,warn".to_owned(),
        };
        let file = dir.path().join("meeting.toml");
        std::fs::write(&file, roster.definition())?;
        let command = |args: &[&str]| {
            let mut command = Command::new(gavel);
            command
                .args(args)
                .env("GAVEL_DATA_DIR", dir.path())
                .env("RUST_LOG", log_filter.as_str());
            match database_url {
                Some(url) => command.env("DATABASE_URL", url),
                None => command.env_remove("DATABASE_URL"),
            };
            command
        };
        let output = |args: &[&str]| -> anyhow::Result<String> {
            let out = command(args)
                .output()
                .with_context(|| format!("running {}", gavel.display()))?;
            anyhow::ensure!(
                out.status.success(),
                "gavel {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        };
        output(&["meeting", "import", &file.to_string_lossy()])?;
        let codes = output(&[
            "codes",
            "--meeting",
            roster.meeting.as_str(),
            "--chair",
            "--seats",
            "",
        ])?;
        let chair_code = codes
            .lines()
            .find(|l| l.contains("chair"))
            .and_then(|l| l.split_whitespace().next())
            .context("gavel codes printed no chair's code")?
            .to_owned();
        let mut child = command(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--connections-per-address",
            "1000000",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting gavel serve")?;
        let mut lines = BufReader::new(child.stderr.take().expect("piped")).lines();
        let addr = loop {
            let line = lines
                .next()
                .context("gavel serve exited before listening")??;
            if let Some((_, addr)) = line.split_once("gavel listening addr=") {
                break addr.trim().to_owned();
            }
        };
        // Keep draining the log so that the server never blocks on a full pipe.
        let mut keep = log_file
            .map(|path| {
                std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))
            })
            .transpose()?;
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Some(file) = keep.as_mut() {
                    let _ = writeln!(file, "{line}");
                }
            }
        });
        Ok(GavelProcess {
            url: format!("ws://{addr}/ws"),
            chair_code,
            child,
            _data_dir: dir,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for GavelProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the swarm goes: a server with the roster's keys registered.
pub struct Target<'a> {
    pub url: &'a str,
    pub roster: &'a Roster,
    /// If the chair's key still has to be enrolled.
    pub chair_code: Option<&'a str>,
    /// The server's process, to read its memory and CPU time (absent for an
    /// in-process server).
    pub server_pid: Option<u32>,
    /// Each tablet checks the server's signature on one receipt in this many
    /// (0: none). A real tablet checks every one; a benchmark checks fewer,
    /// so that the swarm, on the server's cores, takes less of them.
    pub verify_receipts: u32,
}

#[derive(Debug, Clone, Copy)]
pub enum Scenario {
    /// Hold `tablets` connections, doing nothing, for `settle`.
    Idle { tablets: u32, settle: Duration },
    /// Every tablet votes once at a random moment `within` the same span;
    /// once all are acknowledged the chair closes the round.
    Burst { tablets: u32, within: Duration },
    /// An offered load of `rate` ballots per second, spread over `voters` of
    /// the tablets, for `duration`; every tablet times every tally update.
    /// `slow_reader` adds one tablet that logs in and never reads again.
    Load {
        tablets: u32,
        voters: u32,
        rate: f64,
        duration: Duration,
        slow_reader: bool,
    },
}

impl Scenario {
    /// The seats the roster needs.
    pub fn seats(&self) -> u32 {
        match *self {
            Scenario::Idle { tablets, .. } | Scenario::Burst { tablets, .. } => tablets,
            Scenario::Load {
                tablets,
                slow_reader,
                ..
            } => tablets + u32::from(slow_reader),
        }
    }
}

/// What one run measured; fields a scenario does not measure are absent.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub scenario: String,
    pub tablets: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_rss_before_kib: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_rss_after_kib: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rss_per_tablet_bytes: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offered_per_second: Option<f64>,
    pub ballots_sent: u64,
    pub ballots_acked: u64,
    pub ballots_refused: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acks_per_second: Option<f64>,
    /// From a ballot falling due to its acknowledgement reaching the
    /// tablet's socket (the kernel's receive time, [`crate::arrival`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack_ms: Option<Spread>,
    /// The same, up to the tablet's task reading it: adds the swarm's own
    /// queueing, thousands of tablets sharing the server's cores.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack_read_ms: Option<Spread>,
    /// Receipts the tablets checked that did not verify.
    pub bad_receipts: u64,
    /// CPU time per ballot acknowledged within the measured span, in
    /// microseconds, of the server and of the swarm: on a machine they
    /// share, the two together bound the rate (see `cpu_ceiling_per_second`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_cpu_us_per_ack: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub swarm_cpu_us_per_ack: Option<f64>,
    /// The machine's cores divided by the CPU time of one acknowledged
    /// ballot (server and swarm): the most ballots a second this machine
    /// could acknowledge if nothing but those two ran on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_ceiling_per_second: Option<f64>,
    /// Burst: from the chair's close to the committed result at the last tablet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_to_last_tablet_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tablets_with_result: Option<u32>,
    /// Tally updates seen, and how many reached every tablet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updates: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updates_to_every_tablet: Option<u64>,
    /// Updates that reached a tablet as a newer tally (summed over tablets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updates_superseded: Option<u64>,
    /// Per update: from its emission until the last tablet holds it or a
    /// newer one in its socket (the kernel's receive time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_last_tablet_ms: Option<Spread>,
    /// The same, until the last tablet's task has read it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_last_tablet_read_ms: Option<Spread>,
    /// CPU time per tally update, in milliseconds, of the server (Gavel or
    /// the broadcaster) and of the swarm, over the measured span: the two
    /// share the cores, so what the measuring end spends slows the delivery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_cpu_ms_per_update: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub swarm_cpu_ms_per_update: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verifies_per_second: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_per_second: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<usize>,
    /// The first few errors tablets met (a dropped connection, a refusal).
    pub errors: Vec<String>,
}

/// Percentiles of a set of durations, in milliseconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Spread {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
    pub count: usize,
}

impl Spread {
    fn of(mut values: Vec<f64>) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
        Some(Spread {
            p50: at(0.5),
            p99: at(0.99),
            max: values[values.len() - 1],
            count: values.len(),
        })
    }
}

impl Report {
    fn new(scenario: &str, tablets: u32) -> Report {
        Report {
            scenario: scenario.to_owned(),
            tablets,
            ..Report::default()
        }
    }

    /// One line per measured figure, for a person.
    pub fn summary(&self) -> String {
        let mut out = match self.tablets {
            0 => format!("{}\n", self.scenario),
            n => format!("{} with {n} tablets\n", self.scenario),
        };
        let mut line =
            |label: &str, value: String| out.push_str(&format!("  {label:<28} {value}\n"));
        let spread = |s: &Spread| {
            format!(
                "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} samples)",
                s.p50, s.p99, s.max, s.count
            )
        };
        if let Some(v) = self.login_seconds {
            line("logged in", format!("{v:.2} s"));
        }
        if let (Some(before), Some(after)) = (self.server_rss_before_kib, self.server_rss_after_kib)
        {
            line("server RSS", format!("{before} KiB -> {after} KiB"));
        }
        if let Some(v) = self.rss_per_tablet_bytes {
            line("server RSS per tablet", format!("{:.1} KiB", v / 1024.0));
        }
        if let Some(v) = self.offered_per_second {
            line("offered", format!("{v:.0} /s"));
        }
        if self.ballots_sent > 0 {
            line(
                "ballots",
                format!(
                    "{} sent, {} acknowledged, {} refused",
                    self.ballots_sent, self.ballots_acked, self.ballots_refused
                ),
            );
        }
        if let Some(v) = self.acks_per_second {
            line("acknowledged", format!("{v:.0} /s"));
        }
        if let Some(s) = &self.ack_ms {
            line("sign to ack at socket", spread(s));
        }
        if let Some(s) = &self.ack_read_ms {
            line("sign to ack read", spread(s));
        }
        if let (Some(server), Some(swarm)) = (self.server_cpu_us_per_ack, self.swarm_cpu_us_per_ack)
        {
            line(
                "CPU per ack",
                format!(
                    "server {server:.0} µs, swarm {swarm:.0} µs (ceiling {:.0} /s on this machine)",
                    self.cpu_ceiling_per_second.unwrap_or(0.0)
                ),
            );
        }
        if self.bad_receipts > 0 {
            line("bad receipts", self.bad_receipts.to_string());
        }
        if let Some(v) = self.close_to_last_tablet_ms {
            line(
                "close to result at last",
                format!(
                    "{v} ms ({} tablets saw it)",
                    self.tablets_with_result.unwrap_or(0)
                ),
            );
        }
        if let (Some(all), Some(complete)) = (self.updates, self.updates_to_every_tablet) {
            line(
                "tally updates",
                format!(
                    "{all}, {complete} reached every tablet ({} times as a newer tally)",
                    self.updates_superseded.unwrap_or(0)
                ),
            );
        }
        if let Some(s) = &self.time_to_last_tablet_ms {
            line("time to last tablet", spread(s));
        }
        if let Some(s) = &self.time_to_last_tablet_read_ms {
            line("  read by its task", spread(s));
        }
        if let (Some(server), Some(swarm)) =
            (self.server_cpu_ms_per_update, self.swarm_cpu_ms_per_update)
        {
            line(
                "CPU per update",
                format!("server {server:.1} ms, swarm {swarm:.1} ms"),
            );
        }
        if let Some(v) = self.verifies_per_second {
            line(
                "verify_strict",
                format!("{v:.0} /s on {} threads", self.threads.unwrap_or(0)),
            );
        }
        if let Some(v) = self.rows_per_second {
            line(
                "rows committed",
                format!("{v:.0} /s in batches of {}", self.batch.unwrap_or(0)),
            );
        }
        for e in &self.errors {
            line("error", e.clone());
        }
        out
    }

    /// Times each tally update from its emission until every tablet holds it
    /// or a newer one: a server may send a tablet that is behind the newest
    /// tally instead of every stale one, and the update has reached that
    /// tablet when the newer frame arrives. `seen` has each tablet's tallies
    /// in the order they arrived. Timed twice: to the frames' arrival at the
    /// tablets' sockets, and to their tasks reading them.
    fn fanout(&mut self, seen: &[Vec<Seen>]) {
        let (updates, at_socket, superseded) = Self::to_last_tablet(seen, |s| s.arrived);
        let (_, read, _) = Self::to_last_tablet(seen, |s| s.read);
        self.updates = Some(updates);
        self.updates_to_every_tablet = Some(at_socket.len() as u64);
        self.updates_superseded = Some(superseded);
        self.time_to_last_tablet_ms = Spread::of(at_socket);
        self.time_to_last_tablet_read_ms = Spread::of(read);
    }

    /// For [`Report::fanout`], with a tablet's time of a frame given by
    /// `at`: how many updates, the time to the last tablet of each that
    /// reached every tablet, and how many arrived as a newer tally.
    fn to_last_tablet(seen: &[Vec<Seen>], at: impl Fn(&Seen) -> u64) -> (u64, Vec<f64>, u64) {
        let mut emitted: Vec<(u64, u64)> = seen
            .iter()
            .flatten()
            .map(|s| (s.version, s.server_time_us))
            .collect();
        emitted.sort_unstable();
        emitted.dedup_by_key(|(version, _)| *version);
        // Per update: the latest arrival so far, and at how many tablets.
        let mut last = vec![(0u64, 0usize); emitted.len()];
        let mut superseded = 0u64;
        for tablet in seen {
            let mut next = tablet.iter().peekable();
            for (slot, (version, _)) in last.iter_mut().zip(&emitted) {
                while next.next_if(|s| s.version < *version).is_some() {}
                let Some(holds) = next.peek() else { break };
                if holds.version > *version {
                    superseded += 1;
                }
                slot.0 = slot.0.max(at(holds));
                slot.1 += 1;
            }
        }
        let complete: Vec<f64> = last
            .iter()
            .zip(&emitted)
            .filter(|((_, tablets), _)| *tablets == seen.len())
            .map(|((arrived, _), (_, sent))| arrived.saturating_sub(*sent) as f64 / 1000.0)
            .collect();
        (emitted.len() as u64, complete, superseded)
    }

    /// Sets the CPU figures from the readings around the measured span.
    fn cpu_per_ack(&mut self, before: Cpu, after: Cpu, acked: u64) {
        if acked == 0 {
            return;
        }
        let per_ack = |a: Option<f64>, b: Option<f64>| {
            Some((b? - a?) * 1e6 / acked as f64).filter(|v| *v >= 0.0)
        };
        self.server_cpu_us_per_ack = per_ack(before.server, after.server);
        self.swarm_cpu_us_per_ack = per_ack(before.swarm, after.swarm);
        if let (Some(server), Some(swarm)) = (self.server_cpu_us_per_ack, self.swarm_cpu_us_per_ack)
            && server + swarm > 0.0
        {
            let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
            self.cpu_ceiling_per_second = Some(cores as f64 * 1e6 / (server + swarm));
        }
    }

    /// Sets the CPU per tally update from the readings around the measured
    /// span; after [`Report::fanout`].
    fn cpu_per_update(&mut self, before: Cpu, after: Cpu) {
        let Some(updates) = self.updates.filter(|n| *n > 0) else {
            return;
        };
        let per_update = |a: Option<f64>, b: Option<f64>| Some((b? - a?) * 1e3 / updates as f64);
        self.server_cpu_ms_per_update = per_update(before.server, after.server);
        self.swarm_cpu_ms_per_update = per_update(before.swarm, after.swarm);
    }

    fn error(&mut self, e: String) {
        if self.errors.len() < 5 {
            self.errors.push(e);
        }
    }
}

/// The chair's session, kept reading in its own task; commands go through it.
struct Chair {
    commands: mpsc::Sender<(ChairCommand, oneshot::Sender<Result<(), ClientError>>)>,
}

impl Chair {
    async fn start(target: &Target<'_>, views: &Arc<ViewCache>) -> anyhow::Result<Chair> {
        let mut client =
            Client::connect_with_views(target.url, &Trust::default(), views.clone()).await?;
        if let Some(code) = target.chair_code {
            client.enroll(code, &target.roster.chair).await?;
        }
        let mut session = client
            .login(&target.roster.meeting, &target.roster.chair)
            .await?;
        let (commands, mut rx) =
            mpsc::channel::<(ChairCommand, oneshot::Sender<Result<(), ClientError>>)>(4);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    command = rx.recv() => match command {
                        Some((command, reply)) => {
                            let _ = reply.send(session.chair(command).await);
                        }
                        None => return session.close().await,
                    },
                    read = session.next() => if read.is_err() { return },
                }
            }
        });
        Ok(Chair { commands })
    }

    async fn command(&self, command: ChairCommand) -> anyhow::Result<()> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send((command, reply))
            .await
            .map_err(|_| anyhow::anyhow!("the chair's connection is gone"))?;
        Ok(answer.await??)
    }
}

/// When tablet `i` casts its ballots, counted from the start of the run.
type Schedule = Box<dyn Fn(usize) -> Vec<Duration>>;

/// A ballot signed before the run, to be cast `due` after its start: the
/// swarm shares the server's cores, and signing during the run would take
/// from the server the time it is measured by.
struct Presigned {
    due: Duration,
    round: RoundId,
    choice: Choice,
    seq: u64,
    signature: Signature,
}

/// Signs every tablet's ballots for the planned moments, spread over the
/// machine's cores (a saturating load is some 200,000 signatures).
fn presign(
    sessions: &mut [Session],
    plans: Vec<Vec<Duration>>,
) -> anyhow::Result<Vec<Vec<Presigned>>> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let per_thread = sessions.len().div_ceil(threads).max(1);
    let mut plans = plans.into_iter();
    std::thread::scope(|scope| {
        let workers: Vec<_> = sessions
            .chunks_mut(per_thread)
            .map(|chunk| {
                let plans: Vec<_> = plans.by_ref().take(chunk.len()).collect();
                scope.spawn(move || {
                    chunk
                        .iter_mut()
                        .zip(plans)
                        .map(|(session, plan)| presign_one(session, plan))
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        let mut all = Vec::new();
        for worker in workers {
            all.extend(worker.join().expect("a signing thread")?);
        }
        Ok(all)
    })
}

fn presign_one(session: &mut Session, plan: Vec<Duration>) -> Result<Vec<Presigned>, ClientError> {
    let round = session
        .state
        .open_round()
        .ok_or(ClientError::NoOpenRound)?
        .id;
    plan.into_iter()
        .enumerate()
        .map(|(n, due)| {
            let choice = CHOICES[n % CHOICES.len()];
            let seq = session.next_seq();
            let signature = session.sign_ballot(round, choice, seq)?;
            Ok(Presigned {
                due,
                round,
                choice,
                seq,
                signature,
            })
        })
        .collect()
}

/// What a tablet does, and what it saw.
struct Plan {
    casts: Vec<Presigned>,
    /// The moment the casts' `due` counts from.
    begin: Instant,
    /// The same moment on the wall clock, which the kernel stamps arrivals with.
    wall_begin: SystemTime,
    /// Check the server's signature on one receipt in this many (0: none).
    verify_receipts: u32,
    /// Cast no more: the measured span is over.
    stop: CancellationToken,
    /// Stop reading and close. Under a load this comes a while after
    /// `stop` ([`DRAIN`]), so that the tally still on its way at the end
    /// of the span reaches every tablet before 10,000 tablets say goodbye
    /// at once and the server's cores go to their closing handshakes.
    hang_up: CancellationToken,
    answered: Arc<Progress>,
    /// Counts the tablets that have the round's result. A tablet that has it
    /// keeps reading until the run stops, rather than closing its connection
    /// while the result is still on its way to the others: the swarm's own
    /// goodbyes would compete with the delivery it is timing.
    results: Arc<Progress>,
}

#[derive(Default)]
struct Progress {
    count: AtomicUsize,
    notify: Notify,
}

impl Progress {
    fn add(&self) {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.notify.notify_one();
    }

    async fn wait_for(&self, n: usize) {
        while self.count.load(Ordering::Relaxed) < n {
            self.notify.notified().await;
        }
    }
}

/// A tally update as one tablet received it; times in Unix microseconds.
#[derive(Debug, Clone, Copy)]
struct Seen {
    version: u64,
    /// When the server made it (its `server_time_us`).
    server_time_us: u64,
    /// When it reached the tablet's socket.
    arrived: u64,
    /// When the tablet's task read it.
    read: u64,
}

#[derive(Default)]
struct Outcome {
    /// Every tally update, in the order it arrived.
    tallies: Vec<Seen>,
    /// Milliseconds from due to the ack at the socket, and read.
    acks: Vec<f64>,
    acks_read: Vec<f64>,
    /// Acknowledgements that arrived before the run was told to stop.
    acked_in_span: u64,
    /// Receipts checked that do not verify under the server's key.
    bad_receipts: u64,
    sent: u64,
    refused: u64,
    result_at_ms: Option<u64>,
    error: Option<String>,
}

/// One tablet: reads every frame, casts its presigned ballots at the planned
/// moments, one at a time as a person does (a ballot that falls due while
/// the previous one is unanswered waits for it, and its time to
/// acknowledgement counts from when it fell due), and times tallies, acks
/// and the result.
async fn tablet(mut session: Session, plan: Plan) -> Outcome {
    let mut out = Outcome::default();
    // The request in flight: its id and when it fell due (on the wall
    // clock, which the kernel stamps arrivals with).
    let mut in_flight: Option<(u64, SystemTime)> = None;
    let mut casts = plan.casts.into_iter().peekable();
    let first = casts.peek().map(|c| plan.begin + c.due);
    let give_up_at = Instant::now() + GIVE_UP + plan_span(first);
    let server_key = session.server_key();
    let mut receipts = 0u32;
    // Made once, not on every pass: the loop runs for every frame, and a
    // timer made anew each time would cost this measuring end a timer-wheel
    // insertion and removal per frame that the broadcaster's readers do not pay.
    let stopped = plan.stop.cancelled();
    let hung_up = plan.hang_up.cancelled();
    let give_up = sleep_until(give_up_at);
    let next_cast = sleep_until(give_up_at);
    tokio::pin!(stopped, hung_up, give_up, next_cast);
    let mut armed_for = None;
    loop {
        let done = plan.stop.is_cancelled();
        let ending = plan.hang_up.is_cancelled();
        if ending && in_flight.is_none() {
            break;
        }
        let due = casts
            .peek()
            .map(|c| plan.begin + c.due)
            .filter(|_| !done && in_flight.is_none());
        if let Some(at) = due
            && armed_for != Some(at)
        {
            next_cast.as_mut().reset(at);
            armed_for = Some(at);
        }
        tokio::select! {
            () = &mut stopped, if !done => {}
            () = &mut hung_up, if !ending => {}
            // Only a ballot in flight can leave a tablet waiting forever; a
            // tablet that only listens stops with the run.
            () = &mut give_up, if in_flight.is_some() => {
                out.error = Some("a ballot went unanswered".to_owned());
                break;
            }
            () = &mut next_cast, if due.is_some() => {
                armed_for = None;
                let ballot = casts.next().expect("a ballot is due");
                let sent = session
                    .send(|id| ClientMsg::Cast {
                        id,
                        round: ballot.round,
                        choice: ballot.choice,
                        seq: ballot.seq,
                        signature: ballot.signature,
                    })
                    .await;
                match sent {
                    Ok(id) => {
                        in_flight = Some((id, plan.wall_begin + ballot.due));
                        out.sent += 1;
                    }
                    Err(e) => {
                        out.error = Some(e.to_string());
                        break;
                    }
                }
            }
            read = session.next() => match read {
                Ok(ServerMsg::Tally { version, server_time_us, .. }) => {
                    let arrived = unix_us(arrival(session.arrived()));
                    out.tallies.push(Seen { version, server_time_us, arrived, read: now_us() });
                }
                Ok(ServerMsg::Ack { id, receipt }) => {
                    if let Some((_, due)) = in_flight.take_if(|(sent, _)| *sent == id) {
                        out.acks.push(ms_between(due, arrival(session.arrived())));
                        out.acks_read.push(ms_between(due, SystemTime::now()));
                        if !plan.stop.is_cancelled() {
                            out.acked_in_span += 1;
                        }
                        if plan.verify_receipts > 0 && receipts % plan.verify_receipts == 0
                            && receipt.verify(&server_key).is_err()
                        {
                            out.bad_receipts += 1;
                            out.error.get_or_insert_with(|| "a receipt does not verify under the server's key".to_owned());
                        }
                        receipts += 1;
                        plan.answered.add();
                    }
                }
                Ok(ServerMsg::Refused { id: Some(id), message, .. }) => {
                    if in_flight.take_if(|(sent, _)| *sent == id).is_some() {
                        out.refused += 1;
                        out.error.get_or_insert(message);
                        plan.answered.add();
                    }
                }
                Ok(ServerMsg::Snapshot(_)) => {
                    if out.result_at_ms.is_none()
                        && session.state.round().is_some_and(|r| r.status == RoundStatus::Closed)
                    {
                        out.result_at_ms = Some(unix_ms(arrival(session.arrived())));
                        plan.results.add();
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    out.error = Some(e.to_string());
                    break;
                }
            },
        }
    }
    session.close().await;
    out
}

/// How far ahead the first cast is, so that the give-up deadline counts from it.
fn plan_span(first: Option<Instant>) -> Duration {
    first.map_or(Duration::ZERO, |t| {
        t.saturating_duration_since(Instant::now())
    })
}

/// Logs in the roster's seats `from..to`, a few at a time. They share one
/// meeting view, fetched once, as the tablets of a hall share its server.
async fn log_in(
    target: &Target<'_>,
    views: &Arc<ViewCache>,
    seats: std::ops::Range<usize>,
) -> anyhow::Result<Vec<Session>> {
    let roster = target.roster;
    stream::iter(seats)
        .map(|i| async move {
            let session = Client::connect_with_views(target.url, &Trust::default(), views.clone())
                .await?
                .login(&roster.meeting, &roster.seats[i])
                .await?;
            Ok::<_, ClientError>(session)
        })
        .buffered(LOGINS_IN_FLIGHT)
        .map(|r| r.context("a tablet logging in"))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// Runs `scenario` against `target`: the chair opens a vote on the first
/// item, the tablets log in, and the scenario runs once.
pub async fn run(target: &Target<'_>, scenario: Scenario) -> anyhow::Result<Report> {
    let views = Arc::new(ViewCache::new(&Trust::default())?);
    let chair = Chair::start(target, &views).await?;
    chair.command(ChairCommand::SetItem { item: 0 }).await?;
    chair
        .command(ChairCommand::Open {
            window_seconds: Some(3600),
        })
        .await?;
    let rss = || target.server_pid.and_then(rss_kib);
    let tablets = match scenario {
        Scenario::Idle { tablets, .. }
        | Scenario::Burst { tablets, .. }
        | Scenario::Load { tablets, .. } => tablets as usize,
    };
    let rss_before = rss();
    let started = Instant::now();
    let sessions = log_in(target, &views, 0..tablets).await?;
    let login_seconds = started.elapsed().as_secs_f64();

    let answered = Arc::new(Progress::default());
    let results = Arc::new(Progress::default());
    let stop = CancellationToken::new();
    let hang_up = CancellationToken::new();
    let (name, schedule): (&str, Schedule) = match scenario {
        Scenario::Idle { .. } => ("idle", Box::new(|_| Vec::new())),
        Scenario::Burst { within, .. } => (
            "burst",
            Box::new(move |_| vec![within.mul_f64(rand::random::<f64>())]),
        ),
        Scenario::Load {
            voters,
            rate,
            duration,
            slow_reader,
            ..
        } => {
            let voters = (voters as usize).min(tablets);
            let name = match (slow_reader, voters == tablets) {
                (true, _) => "slow-reader",
                (false, true) => "sustained",
                (false, false) => "fanout",
            };
            (
                name,
                Box::new(move |i| {
                    if i >= voters {
                        return Vec::new();
                    }
                    // Voter i casts at (i + k × voters) / rate seconds.
                    (0..)
                        .map(|k| (i + k * voters) as f64 / rate)
                        .take_while(|&t| t < duration.as_secs_f64())
                        .map(Duration::from_secs_f64)
                        .collect()
                }),
            )
        }
    };
    // The tablet that stops reading: logged in, then never read again.
    let slow = match scenario {
        Scenario::Load {
            slow_reader: true, ..
        } => Some(log_in(target, &views, tablets..tablets + 1).await?),
        _ => None,
    };
    let mut report = Report::new(name, tablets as u32);
    report.login_seconds = Some(login_seconds);
    report.server_rss_before_kib = rss_before;
    let mut sessions = sessions;
    let casts = presign(&mut sessions, (0..tablets).map(schedule).collect())?;
    let expected: usize = casts.iter().map(Vec::len).sum();
    for session in &mut sessions {
        session
            .stamp_arrivals()
            .context("asking the kernel to timestamp arrivals (Linux)")?;
    }
    let begin = Instant::now() + Duration::from_millis(200);
    let wall_begin = SystemTime::now() + Duration::from_millis(200);
    let runs: Vec<_> = sessions
        .into_iter()
        .zip(casts)
        .map(|(session, casts)| {
            tokio::spawn(tablet(
                session,
                Plan {
                    casts,
                    begin,
                    wall_begin,
                    verify_receipts: target.verify_receipts,
                    stop: stop.clone(),
                    hang_up: hang_up.clone(),
                    answered: answered.clone(),
                    results: results.clone(),
                },
            ))
        })
        .collect();
    sleep_until(begin).await;
    let cpu_before = Cpu::read(target.server_pid);

    let mut close_sent_ms = None;
    match scenario {
        Scenario::Idle { settle, .. } => {
            sleep(settle).await;
            report.server_rss_after_kib = rss();
            stop.cancel();
        }
        Scenario::Burst { .. } => {
            tokio::time::timeout(GIVE_UP, answered.wait_for(expected))
                .await
                .context("waiting for every ballot of the burst to be answered")?;
            close_sent_ms = Some(now_ms());
            chair.command(ChairCommand::Close).await?;
            // A tablet that never sees the result is reported, not waited for.
            let _ = tokio::time::timeout(GIVE_UP, results.wait_for(tablets)).await;
            stop.cancel();
        }
        Scenario::Load { rate, duration, .. } => {
            report.offered_per_second = Some(rate);
            sleep_until(begin + duration).await;
            report.server_rss_after_kib = rss();
            stop.cancel();
        }
    }
    let cpu_after = Cpu::read(target.server_pid);
    if let Scenario::Load { .. } = scenario {
        sleep(DRAIN).await;
    }
    hang_up.cancel();
    let mut outcomes = Vec::with_capacity(runs.len());
    for run in runs {
        outcomes.push(run.await?);
    }
    drop(slow);

    report.ballots_sent = outcomes.iter().map(|o| o.sent).sum();
    report.ballots_refused = outcomes.iter().map(|o| o.refused).sum();
    let acks: Vec<f64> = outcomes
        .iter()
        .flat_map(|o| o.acks.iter().copied())
        .collect();
    report.ballots_acked = acks.len() as u64;
    report.ack_ms = Spread::of(acks);
    report.ack_read_ms = Spread::of(
        outcomes
            .iter()
            .flat_map(|o| o.acks_read.iter().copied())
            .collect(),
    );
    report.bad_receipts = outcomes.iter().map(|o| o.bad_receipts).sum();
    // What the run cost: acknowledged within the measured span, against the
    // CPU time both processes spent in it.
    let acked_in_span: u64 = outcomes.iter().map(|o| o.acked_in_span).sum();
    report.cpu_per_ack(cpu_before, cpu_after, acked_in_span);
    for e in outcomes.iter().filter_map(|o| o.error.clone()) {
        report.error(e);
    }
    match scenario {
        Scenario::Idle { .. } => {
            if let (Some(before), Some(after)) = (rss_before, report.server_rss_after_kib) {
                report.rss_per_tablet_bytes =
                    Some(after.saturating_sub(before) as f64 * 1024.0 / tablets as f64);
            }
        }
        Scenario::Burst { .. } => {
            let seen: Vec<u64> = outcomes.iter().filter_map(|o| o.result_at_ms).collect();
            report.tablets_with_result = Some(seen.len() as u32);
            if let (Some(sent), Some(last)) = (close_sent_ms, seen.iter().max()) {
                report.close_to_last_tablet_ms = Some(last.saturating_sub(sent));
            }
        }
        Scenario::Load { duration, .. } => {
            report.acks_per_second = Some(acked_in_span as f64 / duration.as_secs_f64());
            let seen: Vec<Vec<Seen>> = outcomes
                .iter_mut()
                .map(|o| std::mem::take(&mut o.tallies))
                .collect();
            report.fanout(&seen);
            report.cpu_per_update(cpu_before, cpu_after);
        }
    }
    drop(chair);
    Ok(report)
}

/// A tally frame as Gavel sends a delegate in a round of `seats` with interim totals.
fn tally_frame(version: u64, seats: u32) -> ServerMsg {
    ServerMsg::Tally {
        version,
        round: RoundId([7; 16]),
        live: LiveTally {
            taking_part: seats / 2,
            counts: Some(Counts {
                total_seats: seats,
                present: seats,
                yes: seats / 4,
                no: seats / 8,
                abstain: seats / 8,
            }),
            voted: None,
            choices: None,
        },
        server_time_us: now_us(),
    }
}

/// The broadcaster's listen queue, as long as the Gavel server's: 10,000
/// clients connecting at once overrun tokio's default of 1,024.
const LISTEN_BACKLOG: u32 = 8192;
/// What the broadcaster prints on stdout once it listens, before its address.
const BROADCASTER_LISTENING: &str = "broadcaster listening on ";

/// The floor for fan-out: a minimal tokio-tungstenite server sends a
/// tally-sized frame (serialized once, shared by every connection) every
/// `interval` to `clients` clients for `duration`; measured as the swarm
/// measures Gavel. For a fair floor, `interval` is the pace at which Gavel
/// sent updates in the fan-out run it is compared with: at a faster pace,
/// 10,000 clients on two cores fall behind and the baseline measures its own
/// growing queue rather than the time one update takes to reach everyone. The broadcaster is its own process (`program broadcaster`, see
/// [`broadcaster`]), as a server is: the two ends of 10,000 connections in
/// one process would need 20,000 open files.
pub async fn baseline_broadcast(
    program: &Path,
    clients: u32,
    duration: Duration,
    interval: Duration,
) -> anyhow::Result<Report> {
    let mut child = tokio::process::Command::new(program)
        .args([
            "broadcaster",
            "--clients",
            &clients.to_string(),
            "--seconds",
            &duration.as_secs_f64().to_string(),
            "--interval-ms",
            &interval.as_millis().to_string(),
        ])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {} broadcaster", program.display()))?;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("piped")).lines();
    let addr = loop {
        let line = lines
            .next_line()
            .await?
            .context("the broadcaster exited before listening")?;
        if let Some(addr) = line.strip_prefix(BROADCASTER_LISTENING) {
            break addr.trim().to_owned();
        }
    };
    let url = format!("ws://{addr}");
    let started = Instant::now();
    // The same read buffer as the swarm's tablets have when they measure
    // Gavel: the measuring end must be the same for both.
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
    let connected: Vec<Socket> = stream::iter(0..clients)
        .map(|_| open_socket(&url, config, None))
        .buffered(LOGINS_IN_FLIGHT)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let mut report = Report::new("baseline-broadcast", clients);
    report.login_seconds = Some(started.elapsed().as_secs_f64());
    let pid = child.id();
    let cpu_before = Cpu::read(pid);
    // Each reader stops when the broadcaster, done, closes its connection.
    let readers: Vec<_> = connected
        .into_iter()
        .map(|mut ws| {
            tokio::spawn(async move {
                arrivals(&mut ws)
                    .context("a broadcaster client's TCP stream")?
                    .stamp()
                    .context("asking the kernel to timestamp arrivals (Linux)")?;
                let mut seen = Vec::new();
                while let Some(Ok(Message::Text(text))) = ws.next().await {
                    if let Ok(ServerMsg::Tally {
                        version,
                        server_time_us,
                        ..
                    }) = serde_json::from_str(&text)
                    {
                        seen.push(Seen {
                            version,
                            server_time_us,
                            arrived: unix_us(arrival(arrivals(&mut ws).and_then(|tcp| tcp.last()))),
                            read: now_us(),
                        });
                    }
                }
                anyhow::Ok(seen)
            })
        })
        .collect();
    let mut seen = Vec::with_capacity(readers.len());
    for reader in readers {
        seen.push(reader.await??);
    }
    // Read before the wait: until it is reaped, an exited broadcaster's
    // CPU times stay readable.
    let cpu_after = Cpu::read(pid);
    let status = child.wait().await?;
    anyhow::ensure!(status.success(), "the broadcaster failed: {status}");
    report.fanout(&seen);
    report.cpu_per_update(cpu_before, cpu_after);
    Ok(report)
}

/// The broadcaster of [`baseline_broadcast`], in its own process: listens on
/// a free loopback port (announced on stdout), waits until `clients`
/// connections are subscribed, sends a frame every `interval` for `duration`, then
/// closes every connection with a close handshake and returns once each
/// client has read to its end. Exiting with 10,000 sockets' frames still
/// unread would leave them to the kernel, which resets orphaned sockets
/// beyond its limit, and the clients would lose their last frames.
pub async fn broadcaster(
    clients: u32,
    duration: Duration,
    interval: Duration,
) -> anyhow::Result<()> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let listener = socket.listen(LISTEN_BACKLOG)?;
    println!("{BROADCASTER_LISTENING}{}", listener.local_addr()?);
    let (frames, _) = tokio::sync::broadcast::channel::<Message>(1024);
    let connections = tokio_util::task::TaskTracker::new();
    let accepting = {
        let frames = frames.clone();
        let connections = connections.clone();
        tokio::spawn(async move {
            loop {
                let stream = match listener.accept().await {
                    Ok((stream, _)) => stream,
                    Err(e) => return e,
                };
                // As the hub does, so that both are measured alike.
                let _ = stream.set_nodelay(true);
                let mut frames = frames.subscribe();
                connections.spawn(async move {
                    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                        return;
                    };
                    // Until the channel closes: every frame has been sent.
                    while let Ok(frame) = frames.recv().await {
                        if ws.send(frame).await.is_err() {
                            return;
                        }
                    }
                    if ws.close(None).await.is_ok() {
                        while let Some(Ok(_)) = ws.next().await {}
                    }
                });
            }
        })
    };
    // Wait until every connection is subscribed before the first frame.
    while frames.receiver_count() < clients as usize {
        if accepting.is_finished() {
            let error = accepting.await?;
            return Err(anyhow::Error::from(error).context("the broadcaster stopped accepting"));
        }
        sleep(Duration::from_millis(10)).await;
    }
    let mut tick = tokio::time::interval(interval);
    let end = Instant::now() + duration;
    let mut version = 0;
    while Instant::now() < end {
        tick.tick().await;
        version += 1;
        let text = serde_json::to_string(&tally_frame(version, clients))?;
        let _ = frames.send(Message::text(text));
    }
    // Closing the channel (the accepting task holds a sender too) ends each
    // connection once its frames are sent.
    accepting.abort();
    let _ = accepting.await;
    drop(frames);
    connections.close();
    tokio::time::timeout(GIVE_UP, connections.wait())
        .await
        .context("the clients did not read their frames to the end")?;
    Ok(())
}

/// The floor for signature checks: `verify_strict` of ballot-sized messages
/// on `threads` threads for `duration`.
pub fn baseline_verify(threads: usize, duration: Duration) -> Report {
    let mut rng = rand::rngs::OsRng;
    let samples: Arc<Vec<_>> = Arc::new(
        (0..256u32)
            .map(|i| {
                let key = SigningKey::generate(&mut rng);
                // About the size of a ballot's signed bytes.
                let message = format!("gavel-ballot-v1 swarm-meeting {i:0>90}").into_bytes();
                let signature = key.sign(&message);
                (key.verifying_key(), message, signature)
            })
            .collect(),
    );
    let started = std::time::Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let samples = samples.clone();
            std::thread::spawn(move || {
                let mut done = 0u64;
                while started.elapsed() < duration {
                    for (key, message, signature) in samples.iter() {
                        key.verify_strict(message, signature)
                            .expect("a valid signature");
                    }
                    done += samples.len() as u64;
                }
                done
            })
        })
        .collect();
    let total: u64 = workers
        .into_iter()
        .map(|w| w.join().expect("verify thread"))
        .sum();
    let mut report = Report::new("baseline-verify", 0);
    report.threads = Some(threads);
    report.verifies_per_second = Some(total as f64 / started.elapsed().as_secs_f64());
    report
}

/// The ceiling for durable commits: batches of `batch` ballot-shaped rows
/// into a scratch table, one transaction each, as fast as one writer can
/// (PostgreSQL: one `UNNEST` insert per batch; SQLite: multi-row inserts),
/// with the durability settings the server uses. The table is dropped after.
pub async fn baseline_store(url: &str, batch: usize, duration: Duration) -> anyhow::Result<Report> {
    use sqlx::Connection as _;
    let table = format!("swarm_baseline_{:016x}", rand::random::<u64>());
    let signature = vec![7u8; 64];
    let mut report = Report::new("baseline-store", 0);
    report.batch = Some(batch);
    let mut rows = 0usize;
    let elapsed = if url.starts_with("postgres") {
        use std::str::FromStr as _;
        let options = sqlx::postgres::PgConnectOptions::from_str(url)?
            .options([("synchronous_commit", "on")]);
        let mut db = sqlx::PgConnection::connect_with(&options).await?;
        sqlx::query(&format!(
            "CREATE TABLE {table} (round_id TEXT NOT NULL, seat BIGINT NOT NULL, \
             choice TEXT NOT NULL, seq BIGINT NOT NULL, signature BYTEA NOT NULL, \
             recorded_at BIGINT NOT NULL, PRIMARY KEY (round_id, seat))"
        ))
        .execute(&mut db)
        .await?;
        let started = Instant::now();
        let insert = format!(
            "INSERT INTO {table} (round_id, seat, choice, seq, signature, recorded_at) \
             SELECT * FROM UNNEST($1::TEXT[], $2::BIGINT[], $3::TEXT[], $4::BIGINT[], \
             $5::BYTEA[], $6::BIGINT[])"
        );
        while started.elapsed() < duration {
            let seats: Vec<i64> = (rows..rows + batch).map(|s| s as i64).collect();
            let mut tx = db.begin().await?;
            sqlx::query(&insert)
                .bind(vec!["r"; batch])
                .bind(&seats)
                .bind(vec!["yes"; batch])
                .bind(&seats)
                .bind(vec![signature.clone(); batch])
                .bind(vec![now_ms() as i64; batch])
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            rows += batch;
        }
        let elapsed = started.elapsed();
        sqlx::query(&format!("DROP TABLE {table}"))
            .execute(&mut db)
            .await?;
        elapsed
    } else {
        use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
        use std::str::FromStr as _;
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full);
        let mut db = sqlx::SqliteConnection::connect_with(&options).await?;
        sqlx::query(&format!(
            "CREATE TABLE {table} (round_id TEXT NOT NULL, seat INTEGER NOT NULL, \
             choice TEXT NOT NULL, seq INTEGER NOT NULL, signature BLOB NOT NULL, \
             recorded_at INTEGER NOT NULL, PRIMARY KEY (round_id, seat))"
        ))
        .execute(&mut db)
        .await?;
        let started = Instant::now();
        while started.elapsed() < duration {
            let mut tx = db.begin().await?;
            let mut insert = sqlx::QueryBuilder::new(format!(
                "INSERT INTO {table} (round_id, seat, choice, seq, signature, recorded_at) "
            ));
            insert.push_values(rows..rows + batch, |mut row, seat| {
                row.push_bind("r")
                    .push_bind(seat as i64)
                    .push_bind("yes")
                    .push_bind(seat as i64)
                    .push_bind(&signature[..])
                    .push_bind(now_ms() as i64);
            });
            insert.build().execute(&mut *tx).await?;
            tx.commit().await?;
            rows += batch;
        }
        let elapsed = started.elapsed();
        sqlx::query(&format!("DROP TABLE {table}"))
            .execute(&mut db)
            .await?;
        elapsed
    };
    report.rows_per_second = Some(rows as f64 / elapsed.as_secs_f64());
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tally sent at `sent_ms` that arrived at `arrived_ms`, and that the
    /// tablet's task read 10 ms later (25 ms when it arrived at an odd 5 ms).
    fn seen(version: u64, sent_ms: u64, arrived_ms: u64) -> Seen {
        let read_ms = arrived_ms + if arrived_ms % 10 == 0 { 10 } else { 25 };
        Seen {
            version,
            server_time_us: sent_ms * 1000,
            arrived: arrived_ms * 1000,
            read: read_ms * 1000,
        }
    }

    #[test]
    fn an_update_reaches_a_tablet_with_it_or_with_a_newer_one() {
        let mut report = Report::new("fanout", 3);
        report.fanout(&[
            vec![seen(1, 100, 110), seen(2, 200, 205), seen(3, 300, 302)],
            // Behind: got 3 in place of 2.
            vec![seen(1, 100, 130), seen(3, 300, 340)],
            // Never got 3 (the run ended): 3 did not reach every tablet.
            vec![seen(1, 100, 120), seen(2, 200, 260)],
        ]);
        assert_eq!(report.updates, Some(3));
        assert_eq!(report.updates_to_every_tablet, Some(2));
        assert_eq!(report.updates_superseded, Some(1));
        let times = report.time_to_last_tablet_ms.expect("two complete updates");
        // Update 1: last at 130. Update 2: last held at 340 (as 3), so 140.
        assert_eq!(times.count, 2);
        assert_eq!(times.max, 140.0);
        // Read by the tasks: update 1 last read at 140, update 2 at 350.
        let read = report
            .time_to_last_tablet_read_ms
            .expect("two complete updates");
        assert_eq!((read.count, read.max), (2, 150.0));
    }

    #[test]
    fn fan_out_is_timed_to_the_microsecond() {
        let tablet = |arrived: u64| Seen {
            version: 1,
            server_time_us: 1_000_000_250,
            arrived,
            read: arrived + 100,
        };
        let mut report = Report::new("fanout", 2);
        report.fanout(&[vec![tablet(1_000_004_900)], vec![tablet(1_000_005_750)]]);
        let times = report.time_to_last_tablet_ms.expect("one complete update");
        assert_eq!(times.max, 5.5);
    }
}
