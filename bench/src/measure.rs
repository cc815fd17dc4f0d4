//! Clocks, and the CPU time and memory of this process and the server's, read
//! from /proc (Linux).

use std::time::SystemTime;

/// Now, in Unix milliseconds.
pub(crate) fn now_ms() -> u64 {
    unix_ms(SystemTime::now())
}

pub(crate) fn unix_ms(at: SystemTime) -> u64 {
    unix_us(at) / 1000
}

/// Now, in Unix microseconds (the clock a tally's `server_time_us` is read
/// from).
pub(crate) fn now_us() -> u64 {
    unix_us(SystemTime::now())
}

pub(crate) fn unix_us(at: SystemTime) -> u64 {
    at.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// When a frame reached its socket (`arrived`, from the kernel); now, if
/// the kernel did not stamp it (its timestamping turns on a moment after
/// the first socket asks), which is later, never earlier, than the truth.
pub(crate) fn arrival(arrived: Option<SystemTime>) -> SystemTime {
    arrived.unwrap_or_else(SystemTime::now)
}

/// Milliseconds from `from` to `to` (none if `to` is earlier).
pub(crate) fn ms_between(from: SystemTime, to: SystemTime) -> f64 {
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
pub(crate) struct Cpu {
    pub(crate) swarm: Option<f64>,
    pub(crate) server: Option<f64>,
}

impl Cpu {
    pub(crate) fn read(server: Option<u32>) -> Cpu {
        Cpu {
            swarm: cpu_seconds("self"),
            server: server.and_then(|pid| cpu_seconds(&pid.to_string())),
        }
    }
}

/// utime + stime of `/proc/<pid>/stat`, in seconds.
pub(crate) fn cpu_seconds(pid: &str) -> Option<f64> {
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
