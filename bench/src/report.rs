//! What a run measured, as a human summary and as JSON.

use crate::measure::Cpu;
use serde::Serialize;

/// A tally update as one tablet received it; times in Unix microseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seen {
    pub(crate) version: u64,
    /// When the server made it (its `server_time_us`).
    pub(crate) server_time_us: u64,
    /// When it reached the tablet's socket.
    pub(crate) arrived: u64,
    /// When the tablet's task read it.
    pub(crate) read: u64,
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
    /// tablet's socket (the kernel's receive time, [`gavel_client::arrival`]).
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
    /// Floor: from a tablet sending its request for the floor to the
    /// request's arrival in the chair's queue, at the console's socket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_to_chair_ms: Option<Spread>,
    /// Tally updates (or changes of the floor) seen, and how many reached
    /// every tablet.
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
    /// CPU time of one `verify_strict`, in microseconds: this process's CPU
    /// time over the checks made. The unit the benchmark states the
    /// server's CPU per ballot in; unlike the rate, it does not grow when
    /// other programs take a share of the cores.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_us_per_verify: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_per_second: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<usize>,
    /// Downloads: the documents every tablet fetched whole and byte for
    /// byte as imported, those that came back otherwise (or not at
    /// all), and the bytes received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documents_fetched: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documents_wrong: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_bytes: Option<u64>,
    /// From the first request to the last document's last byte, over all tablets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_seconds: Option<f64>,
    /// The most the server's resident memory reached during the run,
    /// sampled every few milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_rss_peak_kib: Option<u64>,
    /// Failover: from killing the node that hosts the meeting to the first
    /// ballot acknowledged by the node that took it over, one per kill.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failover_ms: Option<Spread>,
    /// Failover: acknowledged ballots the closed round counts less often
    /// than acknowledged, and more often.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ballots_lost: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ballots_counted_twice: Option<u64>,
    /// Papers: each secret round of the run, the yes/no baseline first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rounds: Vec<BallotRound>,
    /// The first few errors tablets met (a dropped connection, a refusal).
    pub errors: Vec<String>,
}

/// One secret round of a papers run: every tablet casts one ballot. Times
/// in milliseconds, read by the tablets' tasks (and the chair's, for its
/// own answer).
#[derive(Debug, Clone, Serialize)]
pub struct BallotRound {
    /// "yes/no", or "rating of 30 officials".
    pub ballot: String,
    /// Marks on each ballot: 1 for a yes/no ballot, one per official.
    pub marks: u32,
    /// The counting board's members (0: the meeting has none).
    pub board: u32,
    pub sent: u64,
    pub acked: u64,
    pub refused: u64,
    /// From the chair's `open` to the last tablet's acknowledgement.
    pub open_to_last_ack_ms: Option<f64>,
    /// From a tablet sending its ballot to reading the acknowledgement.
    pub ack_ms: Option<Spread>,
    /// From the chair's `close` to its answer: the result computed and
    /// committed (with the round's shuffled secret record) at the hub.
    pub close_answered_ms: f64,
    /// From the chair's `close` to the closed round at the last tablet:
    /// with a board, the provisional result (the turnout alone); without
    /// one, the result.
    pub close_to_closed_at_last_tablet_ms: Option<f64>,
    /// From the chair's `close` to the result at the last tablet: with a
    /// board, once its members confirmed it and the chair announced it.
    pub close_to_result_at_last_tablet_ms: Option<f64>,
    /// Whether the board confirmed and the chair announced the result.
    pub announced: bool,
    pub tablets_with_result: u32,
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
    pub(crate) fn of(mut values: Vec<f64>) -> Option<Spread> {
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
    pub(crate) fn new(scenario: &str, tablets: u32) -> Report {
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
        if let Some(s) = &self.request_to_chair_ms {
            line("request to chair's queue", spread(s));
        }
        if let (Some(all), Some(complete)) = (self.updates, self.updates_to_every_tablet) {
            line(
                "updates",
                format!(
                    "{all}, {complete} reached every tablet ({} times as a newer one)",
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
        if let Some(v) = self.cpu_us_per_verify {
            line("CPU per verify_strict", format!("{v:.1} µs"));
        }
        if let Some(v) = self.rows_per_second {
            line(
                "rows committed",
                format!("{v:.0} /s in batches of {}", self.batch.unwrap_or(0)),
            );
        }
        if let (Some(fetched), Some(wrong), Some(bytes)) = (
            self.documents_fetched,
            self.documents_wrong,
            self.download_bytes,
        ) {
            line(
                "documents",
                format!(
                    "{fetched} fetched intact, {wrong} wrong or missing, {:.0} MiB",
                    bytes as f64 / 1048576.0
                ),
            );
        }
        if let Some(v) = self.download_seconds {
            line("downloads took", format!("{v:.2} s"));
        }
        if let (Some(before), Some(peak)) = (self.server_rss_before_kib, self.server_rss_peak_kib) {
            line("server RSS peak", format!("{before} KiB -> {peak} KiB"));
        }
        if let Some(s) = &self.failover_ms {
            line("kill to new owner's ack", spread(s));
        }
        if let (Some(lost), Some(twice)) = (self.ballots_lost, self.ballots_counted_twice) {
            line(
                "acknowledged ballots",
                format!("{lost} lost, {twice} counted twice"),
            );
        }
        let ms = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), |v| format!("{v:.0} ms"));
        for r in &self.rounds {
            line(
                &r.ballot,
                format!(
                    "{} sent, {} acknowledged, {} refused; open to last ack {}",
                    r.sent,
                    r.acked,
                    r.refused,
                    ms(r.open_to_last_ack_ms)
                ),
            );
            if let Some(s) = &r.ack_ms {
                line("  send to ack read", spread(s));
            }
            let closed = if r.announced {
                "provisional at last"
            } else {
                "result at last"
            };
            line(
                "  close",
                format!(
                    "answered {:.0} ms; {closed} {}",
                    r.close_answered_ms,
                    ms(r.close_to_closed_at_last_tablet_ms)
                ),
            );
            if r.announced {
                line(
                    "  close to announced",
                    format!(
                        "{} at last (board of {} confirming, chair announcing)",
                        ms(r.close_to_result_at_last_tablet_ms),
                        r.board
                    ),
                );
            }
            line(
                "  tablets with result",
                format!("{} of {}", r.tablets_with_result, self.tablets),
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
    pub(crate) fn fanout(&mut self, seen: &[Vec<Seen>]) {
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
    pub(crate) fn to_last_tablet(
        seen: &[Vec<Seen>],
        at: impl Fn(&Seen) -> u64,
    ) -> (u64, Vec<f64>, u64) {
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
    pub(crate) fn cpu_per_ack(&mut self, before: Cpu, after: Cpu, acked: u64) {
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
    pub(crate) fn cpu_per_update(&mut self, before: Cpu, after: Cpu) {
        let Some(updates) = self.updates.filter(|n| *n > 0) else {
            return;
        };
        let per_update = |a: Option<f64>, b: Option<f64>| Some((b? - a?) * 1e3 / updates as f64);
        self.server_cpu_ms_per_update = per_update(before.server, after.server);
        self.swarm_cpu_ms_per_update = per_update(before.swarm, after.swarm);
    }

    pub(crate) fn error(&mut self, e: String) {
        if self.errors.len() < 5 {
            self.errors.push(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tally sent at `sent_ms` that arrived at `arrived_ms`, and that the
    /// tablet's task read 10 ms later (25 ms when it arrived at an odd 5 ms).
    pub(crate) fn seen(version: u64, sent_ms: u64, arrived_ms: u64) -> Seen {
        let read_ms = arrived_ms + if arrived_ms % 10 == 0 { 10 } else { 25 };
        Seen {
            version,
            server_time_us: sent_ms * 1000,
            arrived: arrived_ms * 1000,
            read: read_ms * 1000,
        }
    }

    #[test]
    pub(crate) fn an_update_reaches_a_tablet_with_it_or_with_a_newer_one() {
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
    pub(crate) fn fan_out_is_timed_to_the_microsecond() {
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
